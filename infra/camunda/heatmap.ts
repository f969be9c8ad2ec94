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
import pg from 'pg';

/** Variables that say where an instance (or a multi-instance iteration) belongs. */
const REGION_VARIABLES = ['townCode', 'schoolId', 'childId', 'county', 'suspect', 'assignment', 'recipient'];

/** Serialises two API processes creating the projection tables (arbitrary, fixed). */
const DDL_LOCK = '7308900523498827117';
/** Serialises catch-ups (a session lock, held from before the transaction's snapshot to its commit). */
const CATCH_UP_LOCK = '7308900523498827118';

/**
 * The rollup keeps the exact durations of a row while it has at most this many completed element
 * instances, and a heatmap whose every row still has them (and at most EXACT_LIMIT in all) gives the
 * exact P90; otherwise the P90 is read off the duration histogram.
 */
const EXACT_PER_ROW = 16;
/** How long one statement of the rollup's first build may take (the pool's own timeout is for requests). */
const BUILD_STATEMENT_TIMEOUT_MS = 30 * 60_000;
/** The build's work_mem (its transaction only). */
const BUILD_WORK_MEM = '256MB';
const EXACT_LIMIT = 5000;
/**
 * Histogram buckets per doubling: bucket b holds durations in [2^(b/8), 2^((b+1)/8)) ms (b = −1: under
 * 1 ms). A P90 read off it lies in the same bucket as the true one: relative error under 2^(1/8) − 1 ≈ 9.1 %.
 */
const BUCKETS_PER_DOUBLING = 8;
export const P90_MAX_RELATIVE_ERROR = 2 ** (1 / BUCKETS_PER_DOUBLING) - 1;

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
-- The China day of the instance's start (what from/to filter on), so no filter needs the instance row.
ALTER TABLE supervision_instance_region ADD COLUMN IF NOT EXISTS start_day date;
CREATE INDEX IF NOT EXISTS supervision_instance_region_region
  ON supervision_instance_region (bpmn_process_id, region_code text_pattern_ops);

-- The rollup's place in the record log: every record at or below hwm is in it; those above it that are
-- in it are in supervision_heat_seen. cand_hwm becomes hwm once every transaction that could still
-- hold a position at or below it has ended (all xids below cand_xid).
CREATE TABLE IF NOT EXISTS supervision_heat_state (
  id int PRIMARY KEY CHECK (id = 1),
  hwm bigint NOT NULL,
  cand_hwm bigint,
  cand_xid xid8
);
-- Which shape of the rollup the state describes: a build of an older one is rebuilt (LAYOUT).
ALTER TABLE supervision_heat_state ADD COLUMN IF NOT EXISTS layout int NOT NULL DEFAULT 1;
CREATE TABLE IF NOT EXISTS supervision_heat_seen (position bigint PRIMARY KEY);
-- (instance, version, element) of running instances with an ended element instance in the rollup: an
-- instance counts once per element of a version however often it passes it (a migrated one counts again
-- at an element it passed on its old version). Dropped when the instance ends. A table of the older
-- shape, without the version, goes, and with it the rollup's state: the next catch-up builds it again.
DO $$ BEGIN
  IF to_regclass('supervision_heat_reached') IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('supervision_heat_reached')
          AND attname = 'process_definition_key' AND NOT attisdropped) THEN
    DROP TABLE supervision_heat_reached;
    DELETE FROM supervision_heat_state;
  END IF;
END $$;
CREATE TABLE IF NOT EXISTS supervision_heat_reached (
  process_instance_key bigint NOT NULL,
  process_definition_key bigint NOT NULL,
  element_id text NOT NULL,
  PRIMARY KEY (process_instance_key, process_definition_key, element_id)
);
-- Ended element instances per version, element, region, school and China day ('D') or month ('M') of
-- the instance's start. region_code '' and school_id 0: none.
CREATE TABLE IF NOT EXISTS supervision_heat (
  process_definition_key bigint NOT NULL,
  grain "char" NOT NULL,
  element_id text NOT NULL,
  region_code text NOT NULL,
  school_id int NOT NULL,
  period date NOT NULL,
  element_type text NOT NULL,
  reached int NOT NULL,
  completed int NOT NULL,
  terminated int NOT NULL,
  duration_sum float8 NOT NULL,
  -- The completed ones' durations while there are at most ${EXACT_PER_ROW} (else NULL).
  durations float8[],
  finished int NOT NULL,
  finished_late int NOT NULL,
  without_due int NOT NULL,
  PRIMARY KEY (process_definition_key, grain, element_id, region_code, school_id, period)
);
-- The completed ones' duration histogram, sparse: hist_n[i] durations in bucket hist_b[i] (ascending).
-- In the row rather than a row per bucket, so that a county's heatmap reads no more rows for its P90.
ALTER TABLE supervision_heat ADD COLUMN IF NOT EXISTS hist_b smallint[] NOT NULL DEFAULT '{}',
  ADD COLUMN IF NOT EXISTS hist_n int[] NOT NULL DEFAULT '{}';
-- The active element instances (not multi-instance bodies) with where their instance belongs, caught up
-- from the same records as the rollup: what the heatmap reads live, without the engine's wide table.
-- new_pair: this row stands for its (instance, version, element), which supervision_heat_reached does not
-- hold yet (one row per such triple, the lowest key; never a PROCESS row).
CREATE TABLE IF NOT EXISTS supervision_heat_live (
  key bigint PRIMARY KEY,
  process_instance_key bigint NOT NULL,
  process_definition_key bigint NOT NULL,
  element_id text NOT NULL,
  element_type text NOT NULL,
  region_code text,
  school_id int,
  start_day date,
  new_pair boolean NOT NULL
);
CREATE INDEX IF NOT EXISTS supervision_heat_live_definition
  ON supervision_heat_live (process_definition_key, region_code text_pattern_ops);
CREATE INDEX IF NOT EXISTS supervision_heat_live_instance ON supervision_heat_live (process_instance_key);
CREATE INDEX IF NOT EXISTS supervision_heat_live_element ON supervision_heat_live (process_definition_key, element_id);
`;

/** Region fields out of a jsonb object of variables `v` (SQL expressions). */
const town = (v: string) =>
  `coalesce(${v}->>'townCode', ${v}->'suspect'->>'townCode', ${v}->'assignment'->>'townCode', ${v}->'recipient'->>'townCode')`;
const school = (v: string) =>
  `nullif(substring(coalesce(${v}->>'schoolId', ${v}->'suspect'->>'schoolId', ${v}->'assignment'->>'fromSchoolId',
     ${v}->'recipient'->>'schoolId') from '^[0-9]{1,9}$'), '')::int`;
const child = (v: string) => `coalesce(${v}->>'childId', ${v}->'suspect'->>'childId', ${v}->'noShow'->>'childId')`;
const county = (v: string) => `coalesce(${v}->>'county', left(${town(v)}, 6))`;

/** The China-time day of an instant (China keeps UTC+8 all year). */
const chinaDayOf = (ts: string) => `((${ts} AT TIME ZONE 'UTC') + interval '8 hours')::date`;

/**
 * Instances without a projection row (of those `WHERE` picks) get one: a running instance's root-scope
 * variables from engine_variable, an ended one's from its VARIABLE records (later updates win).
 */
const regionCatchUp = (where: string) => `
INSERT INTO supervision_instance_region (process_instance_key, bpmn_process_id, region_code, town_code, school_id, child_id,
  start_day)
SELECT p.key, p.bpmn_process_id, coalesce(${town('x.v')}, ${county('x.v')}), ${town('x.v')}, ${school('x.v')}, ${child('x.v')},
       ${chinaDayOf('p.start_date')}
  FROM engine_process_instance p
  LEFT JOIN supervision_instance_region r ON r.process_instance_key = p.key
  CROSS JOIN LATERAL (
    SELECT CASE WHEN p.state = 'ACTIVE' THEN
      (SELECT coalesce(jsonb_object_agg(name, value), '{}') FROM engine_variable
        WHERE scope_key = p.key AND name = ANY($1::text[]))
    ELSE
      (SELECT coalesce(jsonb_object_agg(z.value->>'name', (z.value->>'value')::jsonb ORDER BY z.position), '{}')
         FROM zeebe_record z
        WHERE z.value->>'processInstanceKey' = p.key::text AND z.value_type = 'VARIABLE'
          AND z.value->>'scopeKey' = p.key::text AND z.value->>'name' = ANY($1::text[]))
    END AS v) x
 WHERE ${where} AND r.process_instance_key IS NULL
ON CONFLICT (process_instance_key) DO NOTHING`;

/** An element instance's duration in milliseconds. */
const MS = `(extract(epoch FROM e.end_date - e.start_date) * 1000)::float8`;

/**
 * The ended element instances `source` names (a FROM clause giving `e`, an engine_element_instance row),
 * with where their instance belongs and their user task's SLA figures, as temp table heat_ended.
 * `first`: the (instance, version, element) is new to the rollup (set by the caller).
 */
const endedTable = (source: string) => `
CREATE TEMP TABLE heat_ended ON COMMIT DROP AS
SELECT e.key, e.process_instance_key AS pi, e.process_definition_key AS pdk, e.element_id, e.element_type, e.state,
       CASE WHEN e.state = 'COMPLETED' THEN ${MS} END AS duration,
       coalesce(r.region_code, '') AS region_code, coalesce(r.school_id, 0) AS school_id,
       coalesce(r.start_day, ${chinaDayOf('p.start_date')}) AS day,
       row_number() OVER (PARTITION BY e.process_instance_key, e.process_definition_key, e.element_id ORDER BY e.key) = 1
         AS first_of_pair,
       false AS first, coalesce(t.finished, 0) AS finished, coalesce(t.finished_late, 0) AS finished_late,
       coalesce(t.without_due, 0) AS without_due
  FROM ${source}
  JOIN engine_process_instance p ON p.key = e.process_instance_key
  LEFT JOIN supervision_instance_region r ON r.process_instance_key = e.process_instance_key
  LEFT JOIN LATERAL (
    SELECT (count(*) FILTER (WHERE t.state = 'COMPLETED' AND t.due_date IS NOT NULL))::int AS finished,
           (count(*) FILTER (WHERE t.state = 'COMPLETED' AND t.completion_date > t.due_date))::int AS finished_late,
           (count(*) FILTER (WHERE t.due_date IS NULL AND t.state <> 'CANCELED'))::int AS without_due
      FROM engine_user_task t WHERE e.element_type = 'USER_TASK' AND t.element_instance_key = e.key) t ON true
 WHERE e.state <> 'ACTIVE' AND e.element_type <> 'MULTI_INSTANCE_BODY'`;

const bucketOf = (d: string) =>
  `CASE WHEN ${d} < 1 THEN -1 ELSE floor(ln(${d}) / ln(2) * ${BUCKETS_PER_DOUBLING})::int END`;

/**
 * heat_ended into the rollup, at both grains: counted per day and duration bucket first (a few rows per
 * rollup row), the days' and months' rows and their histograms from those; the exact durations only of
 * the rows that keep them (at most EXACT_PER_ROW).
 */
const KEYS = 'pdk, grain, element_id, region_code, school_id, period';
const ROLL_UP = [
  `WITH d AS MATERIALIZED (
     SELECT pdk, element_id, region_code, school_id, day, ${bucketOf('duration')}::smallint AS bucket,
            min(element_type) AS element_type, (count(*) FILTER (WHERE first))::int AS reached,
            (count(*) FILTER (WHERE state = 'COMPLETED'))::int AS completed,
            (count(*) FILTER (WHERE state = 'TERMINATED'))::int AS terminated, coalesce(sum(duration), 0) AS duration_sum,
            count(duration)::int AS n, sum(finished)::int AS finished, sum(finished_late)::int AS finished_late,
            sum(without_due)::int AS without_due
       FROM heat_ended GROUP BY 1, 2, 3, 4, 5, 6),
   g AS (
     SELECT pdk, 'D'::"char" AS grain, element_id, region_code, school_id, day AS period, bucket, element_type, reached,
            completed, terminated, duration_sum, n, finished, finished_late, without_due
       FROM d
     UNION ALL
     SELECT pdk, 'M'::"char", element_id, region_code, school_id, date_trunc('month', day)::date, bucket, min(element_type),
            sum(reached)::int, sum(completed)::int, sum(terminated)::int, sum(duration_sum), sum(n)::int, sum(finished)::int,
            sum(finished_late)::int, sum(without_due)::int
       FROM d GROUP BY pdk, element_id, region_code, school_id, date_trunc('month', day)::date, bucket),
   a AS MATERIALIZED (
     SELECT ${KEYS}, min(element_type) AS element_type, sum(reached)::int AS reached, sum(completed)::int AS completed,
            sum(terminated)::int AS terminated, sum(duration_sum) AS duration_sum, sum(n)::int AS n,
            sum(finished)::int AS finished, sum(finished_late)::int AS finished_late, sum(without_due)::int AS without_due,
            coalesce(array_agg(bucket ORDER BY bucket) FILTER (WHERE bucket IS NOT NULL), '{}') AS hist_b,
            coalesce(array_agg(n ORDER BY bucket) FILTER (WHERE bucket IS NOT NULL), '{}') AS hist_n
       FROM g GROUP BY 1, 2, 3, 4, 5, 6),
   ex AS (
     SELECT a.pdk, a.grain, a.element_id, a.region_code, a.school_id, a.period, array_agg(x.duration) AS durations
       FROM a JOIN heat_ended x ON x.pdk = a.pdk AND x.element_id = a.element_id AND x.region_code = a.region_code
                               AND x.school_id = a.school_id AND x.day = a.period
      WHERE a.grain = 'D' AND a.n BETWEEN 1 AND ${EXACT_PER_ROW} AND x.duration IS NOT NULL
      GROUP BY 1, 2, 3, 4, 5, 6
     UNION ALL
     SELECT a.pdk, a.grain, a.element_id, a.region_code, a.school_id, a.period, array_agg(x.duration)
       FROM a JOIN heat_ended x ON x.pdk = a.pdk AND x.element_id = a.element_id AND x.region_code = a.region_code
                               AND x.school_id = a.school_id AND date_trunc('month', x.day)::date = a.period
      WHERE a.grain = 'M' AND a.n BETWEEN 1 AND ${EXACT_PER_ROW} AND x.duration IS NOT NULL
      GROUP BY 1, 2, 3, 4, 5, 6)
   INSERT INTO supervision_heat AS h (process_definition_key, grain, element_id, region_code, school_id, period,
     element_type, reached, completed, terminated, duration_sum, durations, finished, finished_late, without_due,
     hist_b, hist_n)
   SELECT a.pdk, a.grain, a.element_id, a.region_code, a.school_id, a.period, a.element_type, a.reached, a.completed,
          a.terminated, a.duration_sum, CASE WHEN a.n <= ${EXACT_PER_ROW} THEN coalesce(ex.durations, '{}') END,
          a.finished, a.finished_late, a.without_due, a.hist_b, a.hist_n
     FROM a LEFT JOIN ex USING (${KEYS})
   ON CONFLICT (process_definition_key, grain, element_id, region_code, school_id, period) DO UPDATE SET
     reached = h.reached + EXCLUDED.reached, completed = h.completed + EXCLUDED.completed,
     terminated = h.terminated + EXCLUDED.terminated, duration_sum = h.duration_sum + EXCLUDED.duration_sum,
     durations = CASE WHEN cardinality(h.durations) + cardinality(EXCLUDED.durations) <= ${EXACT_PER_ROW}
                      THEN h.durations || EXCLUDED.durations END,
     finished = h.finished + EXCLUDED.finished, finished_late = h.finished_late + EXCLUDED.finished_late,
     without_due = h.without_due + EXCLUDED.without_due,
     (hist_b, hist_n) = (SELECT coalesce(array_agg(s.b ORDER BY s.b), '{}'), coalesce(array_agg(s.n ORDER BY s.b), '{}')
                           FROM (SELECT u.b, sum(u.n)::int AS n
                                   FROM unnest(h.hist_b || EXCLUDED.hist_b, h.hist_n || EXCLUDED.hist_n) u(b, n)
                                  GROUP BY u.b) s)`,
];

/**
 * Records the rollup reads: every element instance's start (an instance's start: its projection row;
 * any: a live row), migration (its live row's version and element change) and end.
 */
const RELEVANT = `z.partition_id = 1 AND z.value_type = 'PROCESS_INSTANCE'
  AND z.intent IN ('ELEMENT_ACTIVATING', 'ELEMENT_MIGRATED', 'ELEMENT_COMPLETED', 'ELEMENT_TERMINATED')`;

/** The rollup's shape: a state row of another layout is rebuilt (2: supervision_heat_live, start_day). */
const LAYOUT = 2;

/**
 * The live rows of the element instances `keys` names (SQL giving a column `key`) from their engine rows
 * as they are now: deleted, and inserted again while still active (only those `started` names can be: an
 * element instance's key is never activated twice).
 */
const LIVE_REFRESH = (keys: string, started: string) => [
  `DELETE FROM supervision_heat_live WHERE key IN (${keys})`,
  liveInsert(`e.key IN (${started})`),
];

/** Live rows for the engine's active element instances that `where` picks (the build: all of them). */
function liveInsert(where: string): string {
  return `INSERT INTO supervision_heat_live (key, process_instance_key, process_definition_key, element_id, element_type,
     region_code, school_id, start_day, new_pair)
   SELECT e.key, e.process_instance_key, e.process_definition_key, e.element_id, e.element_type, r.region_code,
          r.school_id, r.start_day, false
     FROM engine_element_instance e
     LEFT JOIN supervision_instance_region r ON r.process_instance_key = e.process_instance_key
    WHERE ${where} AND e.state = 'ACTIVE' AND e.element_type <> 'MULTI_INSTANCE_BODY'`;
}

/** new_pair of the live rows of the instances `where` picks (over `l`), from the live rows and the pairs. */
const livePairs = (where: string) => `
UPDATE supervision_heat_live l SET new_pair = n.v
  FROM (SELECT l.key, l.element_type <> 'PROCESS'
                 AND l.key = min(l.key) OVER (PARTITION BY l.process_instance_key, l.process_definition_key, l.element_id)
                 AND NOT EXISTS (SELECT 1 FROM supervision_heat_reached x
                                  WHERE x.process_instance_key = l.process_instance_key
                                    AND x.process_definition_key = l.process_definition_key
                                    AND x.element_id = l.element_id) AS v
          FROM supervision_heat_live l WHERE ${where}) n
 WHERE l.key = n.key AND l.new_pair <> n.v`;

/** The last position the record log has handed out (0 before the first). */
const LAST_POSITION = `SELECT (CASE WHEN is_called THEN last_value ELSE 0 END)::text AS v FROM engine_record_position`;

export interface HeatmapFilter {
  processDefinitionKey: string;
  /** Jurisdiction: the caller's region code (prefix). */
  region: string;
  /** Instances started on or after / on or before these China-time days (YYYY-MM-DD). */
  from?: string;
  to?: string;
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
  duration: Duration;
}

export interface Duration {
  count: number;
  avgMs: number | null;
  /**
   * Exact (linear interpolation, whole ms) while few; else read off the histogram, then `p90Estimated`
   * and within P90_MAX_RELATIVE_ERROR of the exact value.
   */
  p90Ms: number | null;
  p90Estimated?: boolean;
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

const share = (part: number, whole: number) => (whole > 0 ? part / whole : null);

/** Days as YYYY-MM-DD strings, computed on UTC dates (a China day is just a calendar date here). */
const dayMs = (d: string) => Date.parse(`${d}T00:00:00Z`);
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const monthStart = (d: string) => `${d.slice(0, 7)}-01`;
const nextMonth = (d: string) => {
  const t = new Date(dayMs(monthStart(d)));
  t.setUTCMonth(t.getUTCMonth() + 1);
  return isoDay(t.getTime());
};

/**
 * Which rollup rows a day range reads: whole months from the monthly rows, the days of a month cut
 * by `from` or `to` from the daily ones. SQL over `h` (grain, period) with params appended.
 */
function periodsOf(f: HeatmapFilter, p: (v: unknown) => string): string {
  if (!f.from && !f.to) return `h.grain = 'M'`;
  const from = f.from ?? '0001-01-01';
  const to = f.to ?? '9999-12-31';
  const afterTo = isoDay(dayMs(to) + 86_400_000);
  // Whole months: [fullFrom, fullTo).
  const fullFrom = from === monthStart(from) ? from : nextMonth(from);
  const fullTo = afterTo === monthStart(afterTo) ? afterTo : monthStart(afterTo);
  const days = `(h.grain = 'D' AND h.period BETWEEN ${p(from)}::date AND ${p(to)}::date`;
  if (fullFrom >= fullTo) return `${days})`;
  const [ff, ft] = [p(fullFrom), p(fullTo)];
  return `((h.grain = 'M' AND h.period >= ${ff}::date AND h.period < ${ft}::date)
       OR ${days} AND NOT (h.period >= ${ff}::date AND h.period < ${ft}::date)))`;
}

/**
 * The P90 off a histogram [bucket, n][] (ascending): the bucket holding rank 0.9·(n−1), interpolated
 * geometrically by the rank's place in it.
 */
function histogramP90(hist: [number, number][]): number | null {
  const total = hist.reduce((n, [, c]) => n + c, 0);
  if (total === 0) return null;
  const rank = 0.9 * (total - 1);
  let below = 0;
  for (const [b, c] of hist) {
    if (rank < below + c) {
      if (b < 0) return 0;
      const within = c > 1 ? (rank - below) / (c - 1) : 0.5;
      return Math.round(2 ** ((b + Math.min(Math.max(within, 0), 1)) / BUCKETS_PER_DOUBLING));
    }
    below += c;
  }
  const last = hist[hist.length - 1]![0];
  return Math.round(2 ** ((last + 1) / BUCKETS_PER_DOUBLING));
}

export type Heatmaps = ReturnType<typeof createHeatmaps>;

/**
 * What the heatmaps made on one pool share (the API's start-up catch-up and its routes'): the tables
 * made once, one catch-up at a time, and the shutdown that cancels it.
 */
interface Shared {
  ready?: Promise<void>;
  running?: Promise<number>;
  next?: Promise<number>;
  stopping: AbortController;
}
const sharedOf = new WeakMap<pg.Pool, Shared>();

export function createHeatmaps(pool: pg.Pool) {
  let shared = sharedOf.get(pool);
  if (!shared) sharedOf.set(pool, (shared = { stopping: new AbortController() }));
  const my = shared;

  /** Creates the projection tables once per process (idempotent across processes). */
  function ensureTables(): Promise<void> {
    my.ready ??= (async () => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK]);
        await client.query(DDL);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        my.ready = undefined;
        throw err;
      } finally {
        client.release();
      }
    })();
    return my.ready;
  }

  /** heat_ended's new (instance, version, element) are marked `first`; those of ended instances go. */
  async function rollUp(query: (text: string) => Promise<unknown>, keepPairs: boolean) {
    if (keepPairs) {
      await query(
        `WITH ins AS (
           INSERT INTO supervision_heat_reached (process_instance_key, process_definition_key, element_id)
           SELECT pi, pdk, element_id FROM heat_ended WHERE first_of_pair AND element_type <> 'PROCESS'
           ON CONFLICT DO NOTHING RETURNING process_instance_key, process_definition_key, element_id)
         UPDATE heat_ended x SET first = true FROM ins
          WHERE x.pi = ins.process_instance_key AND x.pdk = ins.process_definition_key
            AND x.element_id = ins.element_id AND x.first_of_pair`,
      );
    } else {
      await query(`UPDATE heat_ended SET first = true WHERE first_of_pair AND element_type <> 'PROCESS'`);
    }
    for (const q of ROLL_UP) await query(q);
    await query(
      `DELETE FROM supervision_heat_reached
        WHERE process_instance_key IN (SELECT pi FROM heat_ended WHERE element_type = 'PROCESS')`,
    );
  }

  /**
   * First catch-up: the rollup from the tables as they are. It waits until every transaction that
   * could hold a record position up to the log's last one has ended, so that everything up to there
   * is in the snapshot the rollup is built from (the engine writes its state before its records, so
   * a command holds its xid before it takes positions).
   */
  async function build(client: pg.PoolClient, signal?: AbortSignal) {
    // A statement of the build may take longer than the pool's query timeout (a minute at 1,000,000
    // element instances): the build's own, per statement.
    const q = <R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]) =>
      client.query<R>({ text, values, query_timeout: BUILD_STATEMENT_TIMEOUT_MS } as pg.QueryConfig);
    const { rows: last } = await q<{ v: string }>(LAST_POSITION);
    const { rows: snap } = await q<{ x: string }>(`SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS x`);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { rows } = await q<{ done: boolean }>(
        `SELECT pg_snapshot_xmin(pg_current_snapshot()) >= $1::xid8 AS done`,
        [snap[0]!.x],
      );
      if (rows[0]!.done) break;
      signal?.throwIfAborted();
      if (Date.now() > deadline) throw new Error('heatmap rollup: a transaction has been open for over 30 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    await q('BEGIN ISOLATION LEVEL REPEATABLE READ');
    try {
      // Its aggregations over every ended element instance hashed in memory, not sorted on disk.
      await q(`SET LOCAL work_mem = '${BUILD_WORK_MEM}'`);
      await q(
        `TRUNCATE supervision_heat, supervision_heat_seen, supervision_heat_reached, supervision_heat_live,
                  supervision_heat_state`,
      );
      // LAYOUT 1 kept the histogram in a table of its own.
      await q(`DROP TABLE IF EXISTS supervision_heat_hist`);
      // Projection rows from before start_day (LAYOUT 1) get it.
      await q(
        `UPDATE supervision_instance_region r SET start_day = ${chinaDayOf('p.start_date')}
           FROM engine_process_instance p WHERE p.key = r.process_instance_key AND r.start_day IS NULL`,
      );
      await q(regionCatchUp('true'), [REGION_VARIABLES]);
      await q(endedTable('engine_element_instance e'));
      // Pairs of running instances only (an ended instance passes no element again).
      await q(
        `INSERT INTO supervision_heat_reached (process_instance_key, process_definition_key, element_id)
         SELECT DISTINCT x.pi, x.pdk, x.element_id FROM heat_ended x JOIN engine_process_instance p ON p.key = x.pi
          WHERE p.state = 'ACTIVE' AND x.element_type <> 'PROCESS'`,
      );
      await rollUp(q, false);
      await q(liveInsert('true'));
      await q(livePairs('true'));
      // Records above the last position that the snapshot already holds are in the rollup now.
      await q(
        `INSERT INTO supervision_heat_seen SELECT z.position FROM zeebe_record z WHERE ${RELEVANT} AND z.position > $1`,
        [last[0]!.v],
      );
      await q(`INSERT INTO supervision_heat_state (id, hwm, layout) VALUES (1, $1, ${LAYOUT})`, [last[0]!.v]);
      await q('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /**
   * Later catch-ups: the log's records above the high-water mark not yet in the rollup — instances
   * started (their projection row) and element instances ended (into the rollup).
   */
  async function increment(client: pg.PoolClient) {
    await client.query('BEGIN');
    try {
      const { rows: promoted } = await client.query<{ hwm: string }>(
        `UPDATE supervision_heat_state SET hwm = cand_hwm, cand_hwm = NULL, cand_xid = NULL
          WHERE id = 1 AND cand_xid IS NOT NULL AND pg_snapshot_xmin(pg_current_snapshot()) >= cand_xid
          RETURNING hwm::text`,
      );
      if (promoted[0]) await client.query(`DELETE FROM supervision_heat_seen WHERE position <= $1`, [promoted[0].hwm]);
      // A new candidate: the last position now, safe once every xid handed out before this statement ended.
      const { rows: last } = await client.query<{ v: string }>(LAST_POSITION);
      const { rows: state } = await client.query<{ hwm: string }>(
        `UPDATE supervision_heat_state
            SET cand_hwm = CASE WHEN cand_xid IS NULL THEN $1::bigint ELSE cand_hwm END,
                cand_xid = coalesce(cand_xid, pg_snapshot_xmax(pg_current_snapshot()))
          WHERE id = 1 RETURNING hwm::text`,
        [last[0]!.v],
      );
      await client.query(
        `CREATE TEMP TABLE heat_batch ON COMMIT DROP AS
         SELECT z.position, z.record_key AS key, z.intent, (z.value->>'processInstanceKey')::bigint AS pi
           FROM zeebe_record z
          WHERE ${RELEVANT} AND z.position > $1
            AND NOT EXISTS (SELECT 1 FROM supervision_heat_seen s WHERE s.position = z.position)`,
        [state[0]!.hwm],
      );
      const { rowCount } = await client.query(`INSERT INTO supervision_heat_seen SELECT position FROM heat_batch`);
      if (rowCount) {
        await client.query(regionCatchUp('p.key IN (SELECT pi FROM heat_batch)'), [REGION_VARIABLES]);
        await client.query(
          endedTable(`(SELECT DISTINCT key FROM heat_batch WHERE intent IN ('ELEMENT_COMPLETED', 'ELEMENT_TERMINATED')) b
             JOIN engine_element_instance e ON e.key = b.key`),
        );
        await rollUp((text) => client.query(text), true);
        const refresh = LIVE_REFRESH(
          `SELECT key FROM heat_batch`,
          `SELECT key FROM heat_batch WHERE intent IN ('ELEMENT_ACTIVATING', 'ELEMENT_MIGRATED')`,
        );
        for (const q of refresh) await client.query(q);
        await client.query(livePairs('l.process_instance_key IN (SELECT pi FROM heat_batch)'));
      }
      await client.query('COMMIT');
      return rowCount ?? 0;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /** One catch-up on a connection of its own; `signal` cancels it (its statement too) and rolls it back. */
  async function catchUpOnce(signal: AbortSignal): Promise<number> {
    signal.throwIfAborted();
    await ensureTables();
    const client = await pool.connect();
    // pg_cancel_backend from a connection of its own: the pool may have none free.
    const cancel = () => {
      const other = new pg.Client(pool.options);
      void other
        .connect()
        .then(() =>
          other.query('SELECT pg_cancel_backend($1)', [(client as unknown as { processID: number }).processID]),
        )
        .catch(() => undefined)
        .finally(() => void other.end().catch(() => undefined));
    };
    signal.addEventListener('abort', cancel, { once: true });
    try {
      await client.query('SELECT pg_advisory_lock($1)', [CATCH_UP_LOCK]);
      try {
        signal.throwIfAborted();
        const { rows } = await client.query<{ layout: number }>(
          `SELECT layout FROM supervision_heat_state WHERE id = 1`,
        );
        if (rows[0]?.layout !== LAYOUT) {
          await build(client, signal);
          return -1;
        }
        return await increment(client);
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [CATCH_UP_LOCK]);
      }
    } catch (err) {
      throw signal.aborted ? signal.reason : err;
    } finally {
      signal.removeEventListener('abort', cancel);
      // A cancelled connection may still hold the session lock: closed, not returned to the pool.
      client.release(signal.aborted);
    }
  }

  /**
   * Brings the projection and the rollup up to date with the record log (every process). Returns how
   * many records it took in (a build of the rollup from the tables: −1, the first time or after an
   * upgrade of its layout). Callers while one runs (on this pool) share the one after it, which sees
   * what they saw: a query during the first build waits for it, on no connection.
   */
  function catchUp(): Promise<number> {
    if (!my.running) {
      my.running = catchUpOnce(my.stopping.signal).finally(() => (my.running = undefined));
      return my.running;
    }
    my.next ??= my.running
      .catch(() => undefined)
      .then(() => {
        my.next = undefined;
        return catchUp();
      });
    return my.next;
  }

  /** Filters on rows `a` with where the instance belongs (the projection, or live rows), params appended. */
  function liveWhere(f: HeatmapFilter, params: unknown[], a = 'r'): string {
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    const where = [`starts_with(${a}.region_code, ${p(f.region)})`];
    if (f.from) where.push(`${a}.start_day >= ${p(f.from)}::date`);
    if (f.to) where.push(`${a}.start_day <= ${p(f.to)}::date`);
    if (f.town) where.push(`starts_with(${a}.region_code, ${p(f.town)})`);
    if (f.school !== undefined) where.push(`${a}.school_id = ${p(f.school)}`);
    return where.join(' AND ');
  }

  /** The same filters on rollup rows `h`. */
  function rollupWhere(f: HeatmapFilter, params: unknown[]): string {
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    const where = [`h.process_definition_key = ${p(f.processDefinitionKey)}::bigint`, periodsOf(f, p)];
    where.push(`starts_with(h.region_code, ${p(f.region)})`);
    if (f.town) where.push(`starts_with(h.region_code, ${p(f.town)})`);
    if (f.school !== undefined) where.push(`h.school_id = ${p(f.school)}`);
    return where.join(' AND ');
  }

  return {
    catchUp,
    ensureTables,
    /**
     * API shutdown: cancels the pool's running catch-up (a build is rolled back) and fails those
     * waiting for it; a later catch-up starts afresh.
     */
    async close() {
      my.stopping.abort(new Error('heatmap rollup: the API is stopping'));
      await Promise.allSettled([my.running, my.next]);
      my.stopping = new AbortController();
    },
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

    /**
     * Frequency and duration per element, SLA per user task, for the instances of the filter: ended
     * element instances from the rollup (call catchUp first), the active ones — and open tasks, their
     * due dates against `asOf`, open incidents — live from the engine's tables.
     */
    async heatmap(f: HeatmapFilter, asOf: Date) {
      const rp: unknown[] = [];
      const rw = rollupWhere(f, rp);
      const rolledQuery = pool.query<{
        element_id: string;
        element_type: string;
        reached: number;
        completed: number;
        terminated: number;
        avg_ms: number | null;
        exact: boolean;
        p90_exact: number | null;
        hist: [number, number][] | null;
        finished: number;
        finished_late: number;
        without_due: number;
      }>(
        `WITH h AS MATERIALIZED (SELECT * FROM supervision_heat h WHERE ${rw}),
              a AS (SELECT element_id, min(element_type) AS element_type, sum(reached)::int AS reached,
                           sum(completed)::int AS completed, sum(terminated)::int AS terminated,
                           round(sum(duration_sum) / nullif(sum(completed), 0))::float8 AS avg_ms,
                           bool_and(durations IS NOT NULL) AND sum(completed) <= ${EXACT_LIMIT} AS exact,
                           sum(finished)::int AS finished, sum(finished_late)::int AS finished_late,
                           sum(without_due)::int AS without_due
                      FROM h GROUP BY element_id),
              ex AS (SELECT h.element_id, round(percentile_cont(0.9) WITHIN GROUP (ORDER BY d))::float8 AS p90
                       FROM h JOIN a ON a.element_id = h.element_id AND a.exact CROSS JOIN unnest(h.durations) d
                      GROUP BY h.element_id),
              hs AS (SELECT element_id, json_agg(json_build_array(bucket, n) ORDER BY bucket) AS hist
                       FROM (SELECT h.element_id, u.bucket, sum(u.n)::int AS n
                               FROM h JOIN a ON a.element_id = h.element_id AND NOT a.exact
                              CROSS JOIN unnest(h.hist_b, h.hist_n) u(bucket, n)
                              GROUP BY 1, 2) b
                      GROUP BY element_id)
         SELECT a.*, ex.p90 AS p90_exact, hs.hist FROM a
           LEFT JOIN ex ON ex.element_id = a.element_id LEFT JOIN hs ON hs.element_id = a.element_id`,
        rp,
      );
      const lp: unknown[] = [f.processDefinitionKey, asOf.toISOString()];
      const lw = liveWhere(f, lp, 'l');
      const liveQuery = pool.query<{
        element_id: string;
        element_type: string;
        active: number;
        reached: number;
        open: number;
        open_overdue: number;
        finished: number;
        finished_late: number;
        without_due: number;
      }>(
        `WITH live AS MATERIALIZED (
           SELECT l.key, l.element_id, l.element_type, l.new_pair FROM supervision_heat_live l
            WHERE l.process_definition_key = $1::bigint AND ${lw}),
         -- reached: instances at an element now that the rollup has not counted there yet.
         els AS (SELECT element_id, min(element_type) AS element_type, count(*)::int AS active,
                        (count(*) FILTER (WHERE new_pair))::int AS reached
                   FROM live GROUP BY element_id),
         -- Each active task element's task by its index (a join would scan every task ever made).
         tasks AS (
           SELECT l.element_id, sum(t.open)::int AS open, sum(t.open_overdue)::int AS open_overdue,
                  sum(t.finished)::int AS finished, sum(t.finished_late)::int AS finished_late,
                  sum(t.without_due)::int AS without_due
             FROM live l CROSS JOIN LATERAL (
               SELECT count(*) FILTER (WHERE t.state = 'CREATED' AND t.due_date IS NOT NULL) AS open,
                      count(*) FILTER (WHERE t.state = 'CREATED' AND t.due_date < $2::timestamptz) AS open_overdue,
                      count(*) FILTER (WHERE t.state = 'COMPLETED' AND t.due_date IS NOT NULL) AS finished,
                      count(*) FILTER (WHERE t.state = 'COMPLETED' AND t.completion_date > t.due_date) AS finished_late,
                      count(*) FILTER (WHERE t.due_date IS NULL AND t.state <> 'CANCELED') AS without_due
                 FROM engine_user_task t WHERE t.element_instance_key = l.key) t
            WHERE l.element_type = 'USER_TASK' GROUP BY l.element_id)
         SELECT els.*, coalesce(tasks.open, 0) AS open, coalesce(tasks.open_overdue, 0) AS open_overdue,
                coalesce(tasks.finished, 0) AS finished, coalesce(tasks.finished_late, 0) AS finished_late,
                coalesce(tasks.without_due, 0) AS without_due
           FROM els LEFT JOIN tasks ON tasks.element_id = els.element_id`,
        lp,
      );
      const ip: unknown[] = [f.processDefinitionKey];
      const incidentsQuery = pool.query<{ element_id: string; n: number }>(
        // An open incident's instance is running (an element instance's end resolves its incidents): its
        // PROCESS live row (keyed by the instance's key) says where it belongs.
        `SELECT i.element_id, count(*)::int AS n FROM engine_incident i
           JOIN supervision_heat_live l ON l.key = i.process_instance_key
          WHERE i.state = 'ACTIVE' AND i.process_definition_key = $1::bigint AND ${liveWhere(f, ip, 'l')}
          GROUP BY i.element_id`,
        ip,
      );
      // Three statements on three connections at once: the answer takes as long as the slowest.
      const [{ rows: rolled }, { rows: live }, { rows: incidents }] = await Promise.all([
        rolledQuery,
        liveQuery,
        incidentsQuery,
      ]);
      const incidentsOf = new Map(incidents.map((r) => [r.element_id, r.n]));
      const liveOf = new Map(live.map((r) => [r.element_id, r]));
      const rolledOf = new Map(rolled.map((r) => [r.element_id, r]));
      const ids = [...new Set([...rolled.map((r) => r.element_id), ...live.map((r) => r.element_id)])].sort();
      const rows = ids.map((id) => {
        const r = rolledOf.get(id);
        const l = liveOf.get(id);
        const completed = r?.completed ?? 0;
        const duration: Required<Duration> = {
          count: completed,
          avgMs: r?.avg_ms ?? null,
          p90Ms: completed === 0 ? null : r!.exact ? r!.p90_exact : histogramP90(r!.hist ?? []),
          p90Estimated: completed > 0 && !r!.exact,
        };
        return {
          elementId: id,
          elementType: (r?.element_type ?? l?.element_type)!,
          instances: (r?.reached ?? 0) + (l?.reached ?? 0),
          active: l?.active ?? 0,
          completed,
          terminated: r?.terminated ?? 0,
          incidents: incidentsOf.get(id) ?? 0,
          duration,
          sla: {
            finished: (r?.finished ?? 0) + (l?.finished ?? 0),
            finishedLate: (r?.finished_late ?? 0) + (l?.finished_late ?? 0),
            open: l?.open ?? 0,
            openOverdue: l?.open_overdue ?? 0,
            withoutDueDate: (r?.without_due ?? 0) + (l?.without_due ?? 0),
          },
        };
      });
      const process = rows.find((e) => e.elementType === 'PROCESS');
      const activeInstances = process?.active ?? 0;
      return {
        instances: process ? process.active + process.completed + process.terminated : 0,
        activeInstances,
        instanceDuration: process
          ? {
              avgMs: process.duration.avgMs,
              p90Ms: process.duration.p90Ms,
              p90Estimated: process.duration.p90Estimated,
            }
          : { avgMs: null, p90Ms: null, p90Estimated: false },
        elements: rows
          .filter((e) => e.elementType !== 'PROCESS')
          .map(({ sla: _sla, ...e }): ElementHeat & { duration: Required<Duration> } => e),
        sla: rows
          .filter((e) => e.elementType === 'USER_TASK')
          .map(({ elementId, sla: s }): TaskSla => ({
            elementId,
            finished: s.finished,
            finishedLate: s.finishedLate,
            lateShare: share(s.finishedLate, s.finished),
            open: s.open,
            openOverdue: s.openOverdue,
            overdueShare: share(s.openOverdue, s.open),
            withoutDueDate: s.withoutDueDate,
          })),
      };
    },

    /**
     * The element instances waiting at an element now (active), oldest first, with where each belongs:
     * the iteration's own variables (a multi-instance's `suspect` or `assignment`) before the instance's.
     * Rows outside `f.region` are not returned.
     */
    async waiting(f: HeatmapFilter, elementId: string, limit: number) {
      // $1 the version, $2 the caller's region (liveWhere's first).
      const params: unknown[] = [f.processDefinitionKey];
      const lw = liveWhere(f, params, 'w');
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
        `SELECT e.key::text, e.process_instance_key::text, e.start_date, t.key::text AS task_key, t.due_date,
                coalesce(${town('l.v')}, r.region_code) AS region_code, coalesce(${town('l.v')}, r.town_code) AS town_code,
                coalesce(${school('l.v')}, r.school_id) AS school_id, coalesce(${child('l.v')}, r.child_id) AS child_id,
                count(*) OVER () AS total
           FROM supervision_heat_live w
           JOIN engine_element_instance e ON e.key = w.key
           JOIN supervision_instance_region r ON r.process_instance_key = w.process_instance_key
           LEFT JOIN engine_user_task t ON t.element_instance_key = e.key AND t.state = 'CREATED'
           CROSS JOIN LATERAL (
             SELECT coalesce(jsonb_object_agg(name, value), '{}') AS v FROM engine_variable
              WHERE scope_key = ANY(ARRAY[e.key, e.flow_scope_key]) AND scope_key <> e.process_instance_key
                AND name = ANY($${names}::text[])) l
          WHERE w.process_definition_key = $1::bigint AND w.element_id = $${el} AND w.element_type <> 'PROCESS' AND ${lw}
            AND e.process_definition_key = $1::bigint AND e.element_id = $${el} AND e.state = 'ACTIVE'
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
