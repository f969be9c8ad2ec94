/**
 * Supervisors' heatmaps over the engine's own tables (what Operate and Optimize kept for Camunda):
 * per element of one deployed process version, how many instances reached it and how many are there
 * now (engine_element_instance, engine_incident), how long it took (average and 90th percentile of
 * the completed element instances), and per user task how often its statutory due date was missed
 * (engine_user_task.due_date, set by the diagram from statutory-deadlines.dmn).
 *
 * Where an instance belongs — its town, school and child — is in its variables (`townCode`,
 * `schoolId`, `childId` of the escalation; `suspect` of a child verification; `county` of the county
 * flows), which the engine drops when a scope ends. So `supervision_instance_region` keeps them once
 * per instance: an app-owned projection in the engine's database, caught up before each query from
 * the live variables of a running instance or the record log (`zeebe_record` VARIABLE rows) of an
 * ended one. The engine never reads it. Jurisdiction (county, or the town where there is one) and the
 * town and school filters are prefix matches on it.
 */
import type pg from 'pg';

/** Variables that say where an instance (or a multi-instance iteration) belongs. */
const REGION_VARIABLES = ['townCode', 'schoolId', 'childId', 'county', 'suspect', 'assignment', 'recipient'];

/** Serialises two API processes creating the projection table (arbitrary, fixed). */
const DDL_LOCK = '7308900523498827117';

const DDL = `
CREATE TABLE IF NOT EXISTS supervision_instance_region (
  process_instance_key bigint PRIMARY KEY,
  bpmn_process_id text NOT NULL,
  -- The town if the instance has one, else its county: what jurisdiction is matched on.
  region_code text,
  town_code text,
  school_id int,
  child_id text
);
CREATE INDEX IF NOT EXISTS supervision_instance_region_region
  ON supervision_instance_region (bpmn_process_id, region_code text_pattern_ops);
`;

/** Region fields out of a jsonb object of variables `v` (SQL expressions). */
const town = (v: string) =>
  `coalesce(${v}->>'townCode', ${v}->'suspect'->>'townCode', ${v}->'assignment'->>'townCode', ${v}->'recipient'->>'townCode')`;
const school = (v: string) =>
  `nullif(substring(coalesce(${v}->>'schoolId', ${v}->'suspect'->>'schoolId', ${v}->'assignment'->>'fromSchoolId',
     ${v}->'recipient'->>'schoolId') from '^[0-9]{1,9}$'), '')::int`;
const child = (v: string) => `coalesce(${v}->>'childId', ${v}->'suspect'->>'childId', ${v}->'noShow'->>'childId')`;
const county = (v: string) => `coalesce(${v}->>'county', left(${town(v)}, 6))`;

/**
 * Instances of the process without a projection row get one: a running instance's root-scope
 * variables from engine_variable, an ended one's from its VARIABLE records (later updates win).
 */
const CATCH_UP = `
INSERT INTO supervision_instance_region (process_instance_key, bpmn_process_id, region_code, town_code, school_id, child_id)
SELECT p.key, p.bpmn_process_id, coalesce(${town('x.v')}, ${county('x.v')}), ${town('x.v')}, ${school('x.v')}, ${child('x.v')}
  FROM engine_process_instance p
  LEFT JOIN supervision_instance_region r ON r.process_instance_key = p.key
  CROSS JOIN LATERAL (
    SELECT CASE WHEN p.state = 'ACTIVE' THEN
      (SELECT coalesce(jsonb_object_agg(name, value), '{}') FROM engine_variable
        WHERE scope_key = p.key AND name = ANY($2::text[]))
    ELSE
      (SELECT coalesce(jsonb_object_agg(z.value->>'name', (z.value->>'value')::jsonb ORDER BY z.position), '{}')
         FROM zeebe_record z
        WHERE z.value->>'processInstanceKey' = p.key::text AND z.value_type = 'VARIABLE'
          AND z.value->>'scopeKey' = p.key::text AND z.value->>'name' = ANY($2::text[]))
    END AS v) x
 WHERE p.bpmn_process_id = $1 AND r.process_instance_key IS NULL
ON CONFLICT (process_instance_key) DO NOTHING`;

export interface HeatmapFilter {
  processDefinitionKey: string;
  /** Jurisdiction: the caller's region code (prefix). */
  region: string;
  /** Instances started at or after / before (instance start date). */
  from?: Date;
  to?: Date;
  /** A town (9 digits) or any region prefix inside the caller's. */
  town?: string;
  school?: number;
}

export interface ElementHeat {
  elementId: string;
  elementType: string;
  /** Distinct instances that reached the element. */
  instances: number;
  /** Element instances by state (a loop or multi-instance element counts each pass). */
  active: number;
  completed: number;
  terminated: number;
  /** Open incidents at the element. */
  incidents: number;
  /** Of the completed element instances: milliseconds from activation to completion (rounded to whole ms). */
  duration: { count: number; avgMs: number | null; p90Ms: number | null };
}

export interface TaskSla {
  elementId: string;
  /** Completed tasks that had a due date, and those completed after it. */
  finished: number;
  finishedLate: number;
  /** finishedLate ÷ finished; null when none finished. */
  lateShare: number | null;
  /** Open tasks with a due date, and those whose due date passed (at `asOf`). */
  open: number;
  openOverdue: number;
  overdueShare: number | null;
  /** Tasks without any due date (not counted above). */
  withoutDueDate: number;
}

export interface WaitingRow {
  elementInstanceKey: string;
  processInstanceKey: string;
  since: string;
  userTaskKey: string | null;
  dueDate: string | null;
  regionCode: string | null;
  townCode: string | null;
  schoolId: number | null;
  childId: string | null;
}

/** An element instance's duration in milliseconds. */
const MS = `(extract(epoch FROM e.end_date - e.start_date) * 1000)::float8`;

const share = (part: number, whole: number) => (whole > 0 ? part / whole : null);

export type Heatmaps = ReturnType<typeof createHeatmaps>;

export function createHeatmaps(pool: pg.Pool) {
  let ready: Promise<void> | undefined;

  /** Creates the projection table once per process (idempotent across processes). */
  function ensureTable(): Promise<void> {
    ready ??= (async () => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK]);
        await client.query(DDL);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        ready = undefined;
        throw err;
      } finally {
        client.release();
      }
    })();
    return ready;
  }

  /** Brings the projection up to date for one process (new instances since the last query). */
  async function catchUp(bpmnProcessId: string): Promise<void> {
    await ensureTable();
    await pool.query(CATCH_UP, [bpmnProcessId, REGION_VARIABLES]);
  }

  /** The instances of the filter, as a CTE `inst(key)`; params appended to `params`. */
  function instancesCte(f: HeatmapFilter, params: unknown[]): string {
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    const where = [
      `p.process_definition_key = ${p(f.processDefinitionKey)}::bigint`,
      `starts_with(r.region_code, ${p(f.region)})`,
    ];
    if (f.from) where.push(`p.start_date >= ${p(f.from.toISOString())}::timestamptz`);
    if (f.to) where.push(`p.start_date < ${p(f.to.toISOString())}::timestamptz`);
    if (f.town) where.push(`starts_with(r.region_code, ${p(f.town)})`);
    if (f.school !== undefined) where.push(`r.school_id = ${p(f.school)}`);
    return `inst AS MATERIALIZED (
      SELECT p.key FROM engine_process_instance p
        JOIN supervision_instance_region r ON r.process_instance_key = p.key
       WHERE ${where.join(' AND ')})`;
  }

  return {
    catchUp,

    /** Versions of every deployed process, newest first. */
    async definitions() {
      const { rows } = await pool.query<{
        key: string;
        bpmn_process_id: string;
        name: string | null;
        version: number;
        created_at: Date;
      }>(
        `SELECT key::text, bpmn_process_id, name, version, created_at FROM engine_process_definition
          ORDER BY bpmn_process_id, version DESC`,
      );
      return rows.map((r) => ({
        processDefinitionKey: r.key,
        bpmnProcessId: r.bpmn_process_id,
        name: r.name,
        version: r.version,
        deployedAt: r.created_at.toISOString(),
      }));
    },

    /** One version of a process (the latest when `version` is not given), with its XML. */
    async definition(bpmnProcessId: string, version?: number) {
      const { rows } = await pool.query<{ key: string; name: string | null; version: number; resource: string }>(
        `SELECT key::text, name, version, resource FROM engine_process_definition
          WHERE bpmn_process_id = $1 AND ($2::int IS NULL OR version = $2::int)
          ORDER BY version DESC LIMIT 1`,
        [bpmnProcessId, version ?? null],
      );
      const r = rows[0];
      return r
        ? { processDefinitionKey: r.key, bpmnProcessId, name: r.name, version: r.version, xml: r.resource }
        : undefined;
    },

    /** Frequency and duration per element, SLA per user task, for the instances of the filter. */
    async heatmap(f: HeatmapFilter, asOf: Date) {
      const params: unknown[] = [];
      const cte = instancesCte(f, params);
      const elementsQuery = pool.query<{
        element_id: string;
        element_type: string;
        instances: number;
        active: number;
        completed: number;
        terminated: number;
        avg_ms: number | null;
        p90_ms: number | null;
      }>(
        `WITH ${cte}
         SELECT e.element_id, min(e.element_type) AS element_type,
                count(DISTINCT e.process_instance_key)::int AS instances,
                (count(*) FILTER (WHERE e.state = 'ACTIVE'))::int AS active,
                (count(*) FILTER (WHERE e.state = 'COMPLETED'))::int AS completed,
                (count(*) FILTER (WHERE e.state = 'TERMINATED'))::int AS terminated,
                round(avg(${MS}) FILTER (WHERE e.state = 'COMPLETED'))::float8 AS avg_ms,
                round(percentile_cont(0.9) WITHIN GROUP (ORDER BY ${MS}) FILTER (WHERE e.state = 'COMPLETED'))::float8
                  AS p90_ms
           FROM engine_element_instance e JOIN inst ON inst.key = e.process_instance_key
          WHERE e.process_definition_key = $1::bigint AND e.element_type <> 'MULTI_INSTANCE_BODY'
          GROUP BY e.element_id ORDER BY e.element_id`,
        params,
      );
      const incidentParams: unknown[] = [];
      const incidentsQuery = pool.query<{ element_id: string; n: number }>(
        `WITH ${instancesCte(f, incidentParams)}
         SELECT i.element_id, count(*)::int AS n FROM engine_incident i JOIN inst ON inst.key = i.process_instance_key
          WHERE i.state = 'ACTIVE' GROUP BY i.element_id`,
        incidentParams,
      );
      const slaParams: unknown[] = [];
      const slaCte = instancesCte(f, slaParams);
      slaParams.push(asOf.toISOString());
      const slaQuery = pool.query<{
        element_id: string;
        finished: number;
        finished_late: number;
        open: number;
        open_overdue: number;
        without_due: number;
      }>(
        `WITH ${slaCte}
         SELECT t.element_id,
                (count(*) FILTER (WHERE t.state = 'COMPLETED' AND t.due_date IS NOT NULL))::int AS finished,
                (count(*) FILTER (WHERE t.state = 'COMPLETED' AND t.completion_date > t.due_date))::int AS finished_late,
                (count(*) FILTER (WHERE t.state = 'CREATED' AND t.due_date IS NOT NULL))::int AS open,
                (count(*) FILTER (WHERE t.state = 'CREATED' AND t.due_date < $${slaParams.length}::timestamptz))::int
                  AS open_overdue,
                (count(*) FILTER (WHERE t.due_date IS NULL AND t.state <> 'CANCELED'))::int AS without_due
           FROM engine_user_task t JOIN inst ON inst.key = t.process_instance_key
          WHERE t.process_definition_key = $1::bigint
          GROUP BY t.element_id ORDER BY t.element_id`,
        slaParams,
      );
      const countParams: unknown[] = [];
      const totalsQuery = pool.query<{ n: number; active: number }>(
        `WITH ${instancesCte(f, countParams)}
         SELECT count(*)::int AS n, (count(*) FILTER (WHERE p.state = 'ACTIVE'))::int AS active
           FROM inst JOIN engine_process_instance p ON p.key = inst.key`,
        countParams,
      );
      // Four statements on four connections at once: the answer takes as long as the slowest.
      const [{ rows: elements }, { rows: incidents }, { rows: sla }, { rows: totals }] = await Promise.all([
        elementsQuery,
        incidentsQuery,
        slaQuery,
        totalsQuery,
      ]);
      const incidentsOf = new Map(incidents.map((r) => [r.element_id, r.n]));
      const process = elements.find((e) => e.element_type === 'PROCESS');
      return {
        instances: totals[0]?.n ?? 0,
        activeInstances: totals[0]?.active ?? 0,
        instanceDuration: process ? { avgMs: process.avg_ms, p90Ms: process.p90_ms } : { avgMs: null, p90Ms: null },
        elements: elements
          .filter((e) => e.element_type !== 'PROCESS')
          .map((e): ElementHeat => ({
            elementId: e.element_id,
            elementType: e.element_type,
            instances: e.instances,
            active: e.active,
            completed: e.completed,
            terminated: e.terminated,
            incidents: incidentsOf.get(e.element_id) ?? 0,
            duration: { count: e.completed, avgMs: e.avg_ms, p90Ms: e.p90_ms },
          })),
        sla: sla.map((s): TaskSla => ({
          elementId: s.element_id,
          finished: s.finished,
          finishedLate: s.finished_late,
          lateShare: share(s.finished_late, s.finished),
          open: s.open,
          openOverdue: s.open_overdue,
          overdueShare: share(s.open_overdue, s.open),
          withoutDueDate: s.without_due,
        })),
      };
    },

    /**
     * The element instances waiting at an element now (active), oldest first, with where each belongs:
     * the iteration's own variables (a multi-instance's `suspect` or `assignment`) before the instance's.
     * Rows outside `f.region` are not returned.
     */
    async waiting(f: HeatmapFilter, elementId: string, limit: number) {
      const params: unknown[] = [];
      const cte = instancesCte(f, params);
      params.push(elementId, REGION_VARIABLES, limit);
      const [el, names, lim] = [params.length - 2, params.length - 1, params.length];
      const { rows } = await pool.query<{
        key: string;
        process_instance_key: string;
        start_date: Date;
        task_key: string | null;
        due_date: Date | null;
        region_code: string | null;
        town_code: string | null;
        school_id: number | null;
        child_id: string | null;
        total: string;
      }>(
        `WITH ${cte}
         SELECT e.key::text, e.process_instance_key::text, e.start_date, t.key::text AS task_key, t.due_date,
                coalesce(${town('l.v')}, r.region_code) AS region_code, coalesce(${town('l.v')}, r.town_code) AS town_code,
                coalesce(${school('l.v')}, r.school_id) AS school_id, coalesce(${child('l.v')}, r.child_id) AS child_id,
                count(*) OVER () AS total
           FROM engine_element_instance e
           JOIN inst ON inst.key = e.process_instance_key
           JOIN supervision_instance_region r ON r.process_instance_key = e.process_instance_key
           LEFT JOIN engine_user_task t ON t.element_instance_key = e.key AND t.state = 'CREATED'
           CROSS JOIN LATERAL (
             SELECT coalesce(jsonb_object_agg(name, value), '{}') AS v FROM engine_variable
              WHERE scope_key = ANY(ARRAY[e.key, e.flow_scope_key]) AND scope_key <> e.process_instance_key
                AND name = ANY($${names}::text[])) l
          WHERE e.process_definition_key = $1::bigint AND e.element_id = $${el} AND e.state = 'ACTIVE'
            AND e.element_type NOT IN ('MULTI_INSTANCE_BODY', 'PROCESS')
            AND starts_with(coalesce(${town('l.v')}, r.region_code), $2)
          ORDER BY e.start_date, e.key
          LIMIT $${lim}`,
        params,
      );
      return {
        total: rows[0] ? Number(rows[0].total) : 0,
        rows: rows.map((r): WaitingRow => ({
          elementInstanceKey: r.key,
          processInstanceKey: r.process_instance_key,
          since: r.start_date.toISOString(),
          userTaskKey: r.task_key,
          dueDate: r.due_date ? r.due_date.toISOString() : null,
          regionCode: r.region_code,
          townCode: r.town_code,
          schoolId: r.school_id,
          childId: r.child_id,
        })),
      };
    },

    /**
     * Open user tasks overdue at `asOf`, counted per candidate group, for the given groups (the
     * dashboard maps groups to towns).
     */
    async overdueByGroup(groups: string[], asOf: Date) {
      const { rows } = await pool.query<{ grp: string; open: number; overdue: number }>(
        `SELECT g AS grp, count(*)::int AS open, (count(*) FILTER (WHERE t.due_date < $2::timestamptz))::int AS overdue
           FROM engine_user_task t CROSS JOIN LATERAL unnest(t.candidate_groups) g
          WHERE t.state = 'CREATED' AND t.candidate_groups && $1::text[] AND g = ANY($1::text[])
          GROUP BY g`,
        [groups, asOf.toISOString()],
      );
      return rows;
    },
  };
}
