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
import { createHeatmaps, type HeatmapFilter } from '../infra/camunda/heatmap.js';
import { loadConfig, REPO_ROOT } from '../infra/config.js';
import { startDatabases } from '../infra/db/postgres.js';
import { slotPorts } from '../infra/ports.js';

const INSTANCES = Number(process.env.KC_BENCH_HEATMAP_INSTANCES ?? 100_000);
const TOWNS = 10;
const SCHOOLS = 30;
const RUNS = 5;
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
    const heat0 = createHeatmaps(db);
    // The projection: one row per instance (town among TOWNS, school among SCHOOLS), as catch-up writes it.
    await heat0.catchUp('no-such-process'); // creates the table
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

    const { pool, seen } = recording(db);
    const heat = createHeatmaps(pool);
    const county: HeatmapFilter = { processDefinitionKey: '1', region: '370481' };
    const cases: [string, () => Promise<unknown>][] = [
      ['catch-up (nothing new)', () => heat.catchUp('dropout-escalation')],
      ['heatmap, whole county', () => heat.heatmap(county, new Date())],
      ['heatmap, one town', () => heat.heatmap({ ...county, town: '370481003' }, new Date())],
      ['heatmap, one school', () => heat.heatmap({ ...county, school: 7 }, new Date())],
      [
        'heatmap, last 30 days',
        () => heat.heatmap({ ...county, from: new Date(Date.now() - 30 * 86_400_000) }, new Date()),
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
