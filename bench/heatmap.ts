/**
 * node --import tsx bench/heatmap.ts — the supervisors' heatmap on a large history (issue 18): 100,000
 * process instances and 1,000,000 element instances (plus the instances' own PROCESS rows), ~300,000
 * user tasks and 1 % of the open instances with an incident, generated straight into the engine's tables
 * of a scratch embedded PostgreSQL (no engine process: only the read side is measured). Each query of
 * infra/camunda/heatmap.ts is timed (median of 5 after one warm-up) and EXPLAIN ANALYZEd; the target is
 * under 1 s per heatmap or dashboard answer. Writes bench/results-heatmap.json.
 *
 * KC_BENCH_HEATMAP_SLOT (default 6) picks the ports (infra/ports.ts); the data directory is
 * $TMPDIR/kc-bench-heatmap (wiped at start unless KC_BENCH_HEATMAP_REUSE=1).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { migrate } from '../engine/src/db/schema.js';
import { createHeatmaps, type HeatmapFilter, P90_MAX_RELATIVE_ERROR } from '../infra/camunda/heatmap.js';
import { loadConfig, REPO_ROOT } from '../infra/config.js';
import { startDatabases } from '../infra/db/postgres.js';
import { slotPorts } from '../infra/ports.js';

const INSTANCES = Number(process.env.KC_BENCH_HEATMAP_INSTANCES ?? 100_000);
const TOWNS = 10;
const SCHOOLS = 30;
const RUNS = 5;
/** New instances (and completions of older open element instances) before each timed catch-up. */
const NEW = 1000;
const DATA_DIR = path.join(os.tmpdir(), 'kc-bench-heatmap');
const say = (line: string) => process.stderr.write(`${line}\n`);

/** The escalation's tasks in diagram order: each instance walks 5–15 of them (10 on average). */
function pathOf(xml: string): { id: string; type: string }[] {
  const out: { id: string; type: string }[] = [];
  for (const m of xml.matchAll(/<bpmn:(userTask|serviceTask|exclusiveGateway|intermediateCatchEvent) id="([^"]+)"/g)) {
    const type = { userTask: 'USER_TASK', serviceTask: 'SERVICE_TASK', exclusiveGateway: 'EXCLUSIVE_GATEWAY' }[
      m[1] as 'userTask' | 'serviceTask' | 'exclusiveGateway'
    ];
    out.push({ id: m[2]!, type: type ?? 'INTERMEDIATE_CATCH_EVENT' });
  }
  return out;
}

async function generate(db: pg.Pool, xml: string) {
  const steps = pathOf(xml);
  while (steps.length < 15) steps.push(...steps.slice(0, 15 - steps.length));
  const ids = steps.slice(0, 15).map((s) => s.id);
  const types = steps.slice(0, 15).map((s) => s.type);
  await db.query(
    `INSERT INTO engine_process_definition (key, bpmn_process_id, name, version, resource_name, resource, checksum,
       deployment_key, tenant_id, created_at)
     VALUES (1, 'dropout-escalation', '辍学劝返', 1, 'dropout-escalation.bpmn', $1, 'bench', 1, '<default>', now())`,
    [xml],
  );
  // Instance i: 30 % still open; started (i mod 365) days ago; walks 5 + (i mod 11) steps of ~1–49 h each.
  await db.query(
    `INSERT INTO engine_process_instance (key, process_definition_key, bpmn_process_id, version, state, start_date, end_date, tenant_id)
     SELECT i * 100, 1, 'dropout-escalation', 1, CASE WHEN i % 10 < 3 THEN 'ACTIVE' ELSE 'COMPLETED' END,
            now() - (i % 365) * interval '1 day',
            CASE WHEN i % 10 < 3 THEN NULL ELSE now() - (i % 365) * interval '1 day' + (5 + i % 11) * interval '1 day' END,
            '<default>'
       FROM generate_series(1, $1::int) i`,
    [INSTANCES],
  );
  await db.query(
    `INSERT INTO engine_element_instance (key, process_instance_key, process_definition_key, bpmn_process_id, element_id,
       element_type, flow_scope_key, state, start_date, end_date, tenant_id)
     SELECT i * 100, i * 100, 1, 'dropout-escalation', 'dropout-escalation', 'PROCESS', NULL, p.state, p.start_date,
            p.end_date, '<default>'
       FROM generate_series(1, $1::int) i JOIN engine_process_instance p ON p.key = i * 100`,
    [INSTANCES],
  );
  await db.query(
    `INSERT INTO engine_element_instance (key, process_instance_key, process_definition_key, bpmn_process_id, element_id,
       element_type, flow_scope_key, state, start_date, end_date, tenant_id)
     SELECT i * 100 + j, i * 100, 1, 'dropout-escalation', ($2::text[])[j], ($3::text[])[j], i * 100,
            CASE WHEN i % 10 < 3 AND j = 5 + i % 11 THEN 'ACTIVE' ELSE 'COMPLETED' END,
            now() - (i % 365) * interval '1 day' + (j - 1) * interval '1 day',
            CASE WHEN i % 10 < 3 AND j = 5 + i % 11 THEN NULL
                 ELSE now() - (i % 365) * interval '1 day' + (j - 1) * interval '1 day'
                      + (1 + (i * 7919 + j * 104729) % 48) * interval '1 hour' END,
            '<default>'
       FROM generate_series(1, $1::int) i CROSS JOIN LATERAL generate_series(1, 5 + i % 11) j`,
    [INSTANCES, ids, types],
  );
  // A user task per USER_TASK element instance, due ten days after it opened; the town's group.
  await db.query(
    `INSERT INTO engine_user_task (key, element_instance_key, process_instance_key, process_definition_key, bpmn_process_id,
       version, element_id, state, candidate_groups, due_date, creation_date, completion_date, tenant_id)
     SELECT e.key + 50, e.key, e.process_instance_key, 1, 'dropout-escalation', 1, e.element_id,
            CASE WHEN e.state = 'ACTIVE' THEN 'CREATED' ELSE 'COMPLETED' END,
            ARRAY['town:370481' || lpad(((e.process_instance_key / 100) % ${TOWNS} + 1)::text, 3, '0')],
            e.start_date + interval '10 days', e.start_date, e.end_date, '<default>'
       FROM engine_element_instance e WHERE e.element_type = 'USER_TASK'`,
  );
  await db.query(
    `INSERT INTO engine_incident (key, process_instance_key, process_definition_key, bpmn_process_id, element_instance_key,
       element_id, error_type, error_message, state, created_at, tenant_id)
     SELECT e.key + 60, e.process_instance_key, 1, 'dropout-escalation', e.key, e.element_id, 'JOB_NO_RETRIES', 'bench',
            'ACTIVE', e.start_date, '<default>'
       FROM engine_element_instance e
      WHERE e.state = 'ACTIVE' AND e.element_type <> 'PROCESS' AND (e.process_instance_key / 100) % 100 = 0`,
  );
}

/**
 * `n` new instances from instance number `first` on, as the engine writes them: started now, three steps
 * done and a fourth open (rows, root variables, PROCESS_INSTANCE records: each element instance's
 * ELEMENT_ACTIVATING, the ended ones' ELEMENT_COMPLETED); and `n` open steps of older instances completed
 * (rows and records).
 */
async function newWork(db: pg.Pool, first: number, n: number) {
  const ids = (
    await db.query<{ id: string; type: string }>(
      `SELECT element_id AS id, min(element_type) AS type FROM engine_element_instance WHERE key % 100 BETWEEN 1 AND 4
      GROUP BY element_id, key % 100 ORDER BY min(key % 100) LIMIT 4`,
    )
  ).rows;
  await db.query(
    `WITH i AS (SELECT g AS i, g * 100 AS pi FROM generate_series($1::int, $1::int + $2::int - 1) g),
     p AS (INSERT INTO engine_process_instance (key, process_definition_key, bpmn_process_id, version, state, start_date, tenant_id)
           SELECT pi, 1, 'dropout-escalation', 1, 'ACTIVE', now() - interval '3 days', '<default>' FROM i),
     v AS (INSERT INTO engine_variable (scope_key, name, key, process_instance_key, value)
           SELECT pi, x.name, pi + 90 + x.n, pi, x.value FROM i, LATERAL (VALUES
             (0, 'townCode', to_jsonb('370481' || lpad((i % ${TOWNS} + 1)::text, 3, '0'))),
             (1, 'schoolId', to_jsonb(1 + i % ${SCHOOLS}))) x(n, name, value)),
     e AS (INSERT INTO engine_element_instance (key, process_instance_key, process_definition_key, bpmn_process_id, element_id,
             element_type, flow_scope_key, state, start_date, end_date, tenant_id)
           SELECT pi + j, pi, 1, 'dropout-escalation', CASE WHEN j = 0 THEN 'dropout-escalation' ELSE ($3::text[])[j] END,
                  CASE WHEN j = 0 THEN 'PROCESS' ELSE ($4::text[])[j] END, CASE WHEN j = 0 THEN NULL ELSE pi END,
                  CASE WHEN j IN (0, 4) THEN 'ACTIVE' ELSE 'COMPLETED' END, now() - (4 - j) * interval '18 hours',
                  CASE WHEN j IN (0, 4) THEN NULL ELSE now() - (3 - j) * interval '18 hours' END, '<default>'
             FROM i CROSS JOIN generate_series(0, 4) j
           RETURNING key, process_instance_key, element_id, element_type, state)
     INSERT INTO zeebe_record (partition_id, position, record_key, ts, value_type, intent, value)
     SELECT 1, nextval('engine_record_position'), key, now(), 'PROCESS_INSTANCE', x.intent,
            jsonb_build_object('bpmnElementType', element_type, 'elementId', element_id,
                               'processInstanceKey', process_instance_key::text)
       FROM e CROSS JOIN (VALUES (0, 'ELEMENT_ACTIVATING'), (1, 'ELEMENT_COMPLETED')) x(n, intent)
      WHERE x.n = 0 OR e.state = 'COMPLETED'`,
    [first, n, ids.map((r) => r.id), ids.map((r) => r.type)],
  );
  await db.query(
    `WITH done AS (
       UPDATE engine_element_instance e SET state = 'COMPLETED', end_date = now()
        WHERE e.key IN (SELECT key FROM engine_element_instance
                         WHERE state = 'ACTIVE' AND element_type NOT IN ('PROCESS', 'MULTI_INSTANCE_BODY')
                           AND process_instance_key < $1::bigint * 100 ORDER BY key LIMIT $2)
       RETURNING e.key, e.process_instance_key, e.element_id, e.element_type),
     t AS (UPDATE engine_user_task u SET state = 'COMPLETED', completion_date = now()
             FROM done WHERE u.element_instance_key = done.key)
     INSERT INTO zeebe_record (partition_id, position, record_key, ts, value_type, intent, value)
     SELECT 1, nextval('engine_record_position'), key, now(), 'PROCESS_INSTANCE', 'ELEMENT_COMPLETED',
            jsonb_build_object('bpmnElementType', element_type, 'elementId', element_id,
                               'processInstanceKey', process_instance_key::text)
       FROM done`,
    [first, n],
  );
}

/** The heatmap's element figures as they were computed before the rollup: straight from the raw rows. */
async function rawHeatmap(db: pg.Pool, region: string) {
  const { rows } = await db.query<{
    element_id: string;
    instances: number;
    incidents: number;
    active: number;
    completed: number;
    terminated: number;
    avg_ms: number | null;
    p90_ms: number | null;
  }>(
    `WITH inst AS MATERIALIZED (
       SELECT p.key FROM engine_process_instance p JOIN supervision_instance_region r ON r.process_instance_key = p.key
        WHERE p.process_definition_key = 1 AND starts_with(r.region_code, $1))
     SELECT e.element_id, count(DISTINCT e.process_instance_key)::int AS instances,
            (SELECT count(*) FROM engine_incident i JOIN inst ON inst.key = i.process_instance_key
              WHERE i.state = 'ACTIVE' AND i.element_id = e.element_id)::int AS incidents,
            (count(*) FILTER (WHERE e.state = 'ACTIVE'))::int AS active,
            (count(*) FILTER (WHERE e.state = 'COMPLETED'))::int AS completed,
            (count(*) FILTER (WHERE e.state = 'TERMINATED'))::int AS terminated,
            round(avg(${RAW_MS}) FILTER (WHERE e.state = 'COMPLETED'))::float8 AS avg_ms,
            round(percentile_cont(0.9) WITHIN GROUP (ORDER BY ${RAW_MS}) FILTER (WHERE e.state = 'COMPLETED'))::float8 AS p90_ms
       FROM engine_element_instance e JOIN inst ON inst.key = e.process_instance_key
      WHERE e.process_definition_key = 1 AND e.element_type NOT IN ('MULTI_INSTANCE_BODY', 'PROCESS')
      GROUP BY e.element_id`,
    [region],
  );
  return new Map(rows.map((r) => [r.element_id, r]));
}
const RAW_MS = `(extract(epoch FROM e.end_date - e.start_date) * 1000)::float8`;

/** A pool that remembers every query it ran, so each can be EXPLAIN ANALYZEd afterwards. */
function recording(pool: pg.Pool) {
  const seen: { text: string; values: unknown[] }[] = [];
  const proxy = new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop === 'query') {
        return (text: string, values?: unknown[]) => {
          seen.push({ text, values: values ?? [] });
          return target.query(text, values);
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { pool: proxy, seen };
}

/**
 * A pool whose connections time every statement (the catch-ups run on a connection of their own):
 * `steps` gets each statement's first line and milliseconds.
 */
function timedConnections(pool: pg.Pool) {
  const steps: { statement: string; ms: number }[] = [];
  const proxy = new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop === 'connect') {
        return async () => {
          const client = await target.connect();
          return new Proxy(client, {
            get(c, p, r) {
              if (p === 'query') {
                return async (text: string | { text: string }, values?: unknown[]) => {
                  const t = performance.now();
                  try {
                    return await c.query(text as string, values);
                  } finally {
                    const sql = typeof text === 'string' ? text : text.text;
                    steps.push({
                      statement: sql.trim().split('\n')[0]!.slice(0, 120),
                      ms: Math.round(performance.now() - t),
                    });
                  }
                };
              }
              const v = Reflect.get(c, p, r) as unknown;
              return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(c) : v;
            },
          });
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { pool: proxy, steps };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  // KC_BENCH_HEATMAP_REUSE=1 keeps the generated rows of the last run (query changes measured again).
  const reuse = process.env.KC_BENCH_HEATMAP_REUSE === '1' && fs.existsSync(DATA_DIR);
  if (!reuse) fs.rmSync(DATA_DIR, { recursive: true, force: true });
  const slot = Number(process.env.KC_BENCH_HEATMAP_SLOT ?? 6);
  const cfg = loadConfig({ ...process.env, KC_MODE: 'local', KC_DATA_DIR: DATA_DIR, ...slotPorts(slot) });
  const dbs = await startDatabases(cfg, (m) => say(`  [db] ${m}`));
  const db = new pg.Pool({ connectionString: dbs.engineUrl, max: 4 });
  const results: Record<string, unknown> = { instances: INSTANCES, runs: RUNS, at: new Date().toISOString() };
  try {
    const client = await db.connect();
    await migrate(client);
    client.release();
    const xml = fs.readFileSync(path.join(REPO_ROOT, 'processes', 'dropout-escalation.bpmn'), 'utf8');
    let t = Date.now();
    const had = await db.query(`SELECT 1 FROM engine_process_definition WHERE key = 1`);
    if (!had.rowCount) await generate(db, xml);
    const timed = timedConnections(db);
    const heat0 = createHeatmaps(timed.pool);
    // The projection: one row per instance (town among TOWNS, school among SCHOOLS), as catch-up writes it.
    await heat0.ensureTables();
    if (!had.rowCount)
      await db.query(
        `INSERT INTO supervision_instance_region (process_instance_key, bpmn_process_id, region_code, town_code, school_id)
       SELECT i * 100, 'dropout-escalation', t, t, 1 + i % ${SCHOOLS}
         FROM generate_series(1, $1::int) i, LATERAL (SELECT '370481' || lpad((i % ${TOWNS} + 1)::text, 3, '0') AS t) x`,
        [INSTANCES],
      );
    await db.query('VACUUM ANALYZE');
    const counts = await db.query<{ pi: string; ei: string; ut: string; inc: string }>(
      `SELECT (SELECT count(*) FROM engine_process_instance) AS pi,
              (SELECT count(*) FROM engine_element_instance WHERE element_type <> 'PROCESS') AS ei,
              (SELECT count(*) FROM engine_user_task) AS ut, (SELECT count(*) FROM engine_incident) AS inc`,
    );
    results.rows = counts.rows[0];
    results.generateSeconds = (Date.now() - t) / 1000;
    say(`• generated ${JSON.stringify(counts.rows[0])} in ${results.generateSeconds} s`);

    // The rollup's first catch-up builds it from the tables (once, e.g. on upgrade).
    t = performance.now();
    await heat0.catchUp();
    results.rollupBuildSeconds = Math.round(performance.now() - t) / 1000;
    // The build's statements taking over 100 ms, in order.
    results.rollupBuildSteps = timed.steps.filter((s) => s.ms >= 100);
    await db.query('VACUUM ANALYZE');
    const rollupRows = await db.query<{ heat: string; histogramBuckets: string; live: string }>(
      `SELECT (SELECT count(*) FROM supervision_heat) AS heat,
              (SELECT sum(cardinality(hist_b)) FROM supervision_heat) AS "histogramBuckets",
              (SELECT count(*) FROM supervision_heat_live) AS live`,
    );
    results.rollupRows = rollupRows.rows[0];
    say(`• rollup built in ${results.rollupBuildSeconds} s: ${JSON.stringify(rollupRows.rows[0])} rows`);
    for (const step of results.rollupBuildSteps as { statement: string; ms: number }[])
      say(`    ${String(step.ms).padStart(6)} ms  ${step.statement}`);

    const { pool, seen } = recording(db);
    const timedCatchUp = timedConnections(pool);
    const heat = createHeatmaps(timedCatchUp.pool);
    const county: HeatmapFilter = { processDefinitionKey: '1', region: '370481' };
    const chinaDay = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 10);
    const cases: [string, () => Promise<unknown>][] = [
      ['reference: plain seq scan of the instances', () => db.query(`SELECT count(*) FROM engine_process_instance`)],
      ['catch-up (nothing new)', () => heat.catchUp()],
      ['heatmap, whole county', () => heat.heatmap(county, new Date())],
      ['heatmap, one town', () => heat.heatmap({ ...county, town: '370481003' }, new Date())],
      ['heatmap, one school', () => heat.heatmap({ ...county, school: 7 }, new Date())],
      [
        'heatmap, last 30 days',
        () => heat.heatmap({ ...county, from: chinaDay(Date.now() - 29 * 86_400_000) }, new Date()),
      ],
      [
        'heatmap, 1 Mar – 15 Sep (months and days)',
        () =>
          heat.heatmap(
            {
              ...county,
              from: chinaDay(Date.now() - 300 * 86_400_000).slice(0, 8) + '01',
              to: chinaDay(Date.now() - 80 * 86_400_000).slice(0, 8) + '15',
            },
            new Date(),
          ),
      ],
      ['waiting at visitFamily (500 oldest)', () => heat.waiting(county, 'visitFamily', 500)],
      [
        'dashboard: open/overdue tasks by group',
        () =>
          heat.overdueByGroup(
            Array.from({ length: TOWNS }, (_, i) => `town:370481${String(i + 1).padStart(3, '0')}`),
            new Date(),
          ),
      ],
    ];
    const timings: Record<string, { medianMs: number; minMs: number; maxMs: number; queries: number }> = {};
    const plans: Record<string, string[]> = {};
    for (const [name, run] of cases) {
      await run(); // warm-up
      const ms: number[] = [];
      for (let r = 0; r < RUNS; r++) {
        seen.length = 0;
        t = performance.now();
        await run();
        ms.push(performance.now() - t);
      }
      timings[name] = {
        medianMs: Math.round(median(ms)),
        minMs: Math.round(Math.min(...ms)),
        maxMs: Math.round(Math.max(...ms)),
        queries: seen.length,
      };
      plans[name] = [];
      for (const q of seen) {
        if (!/^\s*(WITH|SELECT)/i.test(q.text)) continue;
        const { rows } = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${q.text}`, q.values);
        plans[name].push(rows.map((r) => r['QUERY PLAN']).join('\n'));
      }
      say(
        `  ${name}: median ${timings[name].medianMs} ms (min ${timings[name].minMs}, max ${timings[name].maxMs}; ${seen.length} queries)`,
      );
    }
    // Catch-up after new work: NEW instances started (3 steps done, a 4th open) and NEW open element
    // instances of older instances completed, written as the engine does (rows and records).
    const catchUps: number[] = [];
    // After the last instance so far (a reused data directory has the last run's new ones).
    const { rows: top } = await db.query<{ n: number }>(
      `SELECT (max(key) / 100)::int AS n FROM engine_process_instance`,
    );
    for (let r = 0; r < RUNS; r++) {
      await newWork(db, top[0]!.n + 1 + r * NEW, NEW);
      timedCatchUp.steps.length = 0;
      t = performance.now();
      const took = await heat.catchUp();
      catchUps.push(performance.now() - t);
      say(
        `  catch-up after ${NEW} new instances + ${NEW} completions: ${Math.round(catchUps[r]!)} ms (${took} records)`,
      );
    }
    timings[`catch-up after ${NEW} new instances and ${NEW} completions`] = {
      medianMs: Math.round(median(catchUps)),
      minMs: Math.round(Math.min(...catchUps)),
      maxMs: Math.round(Math.max(...catchUps)),
      queries: 0,
    };
    // The last of those catch-ups, its statements taking 10 ms or more.
    results.catchUpSteps = timedCatchUp.steps.filter((s) => s.ms >= 10);
    for (const step of results.catchUpSteps as { statement: string; ms: number }[])
      say(`    ${String(step.ms).padStart(6)} ms  ${step.statement}`);
    // The same-run reference and the check: yesterday's query over the raw element instances.
    t = performance.now();
    const raw = await rawHeatmap(db, county.region);
    const rawMs = Math.round(performance.now() - t);
    const now = await heat.heatmap(county, new Date());
    let mismatches = 0;
    let maxP90Error = 0;
    for (const e of now.elements) {
      const want = raw.get(e.elementId);
      const same =
        want &&
        want.instances === e.instances &&
        want.incidents === e.incidents &&
        want.active === e.active &&
        want.completed === e.completed &&
        want.terminated === e.terminated &&
        want.avg_ms === e.duration.avgMs;
      if (!same) {
        mismatches++;
        say(`  MISMATCH ${e.elementId}: rollup ${JSON.stringify(e)} raw ${JSON.stringify(want)}`);
      }
      if (want?.p90_ms && e.duration.p90Ms !== null)
        maxP90Error = Math.max(maxP90Error, Math.abs(e.duration.p90Ms - want.p90_ms) / want.p90_ms);
    }
    results.reference = {
      rawCountyHeatmapMs: rawMs,
      elements: now.elements.length,
      countMismatches: mismatches,
      maxP90RelativeError: Math.round(maxP90Error * 10_000) / 10_000,
      p90ErrorBound: Math.round(P90_MAX_RELATIVE_ERROR * 10_000) / 10_000,
    };
    say(
      `• reference: the raw county heatmap ${rawMs} ms; rollup vs raw: ${mismatches} count mismatches, P90 off by at most ${(maxP90Error * 100).toFixed(2)} % (bound ${(P90_MAX_RELATIVE_ERROR * 100).toFixed(2)} %)`,
    );
    results.loadavg = fs.readFileSync('/proc/loadavg', 'utf8').trim();
    results.timings = timings;
    results.plans = plans;
    const out = path.join(REPO_ROOT, 'bench', 'results-heatmap.json');
    fs.writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    say(`Results: ${path.relative(process.cwd(), out)}`);
  } finally {
    await db.end();
    await dbs.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
