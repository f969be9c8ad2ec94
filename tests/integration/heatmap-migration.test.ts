/**
 * Engine-backed: what the supervisors' heatmap shows after policy staff migrate running instances to a
 * new version (POST /api/diagrams/process/:id/migrate). The process is tests/fixtures/heatmap-probe.bpmn
 * (version 1) and tests/fixtures/heatmap-probe-v2.bpmn (version 2: the same elements without `stuck`,
 * and a decision goes back to review), under a process id of this file's own, so no other file's heatmap
 * changes. On the pinned engine clock, in whole days:
 *
 *   day 0   A, B, C, D (path done), S (path stuck) and E (path decide) start on version 1 (review due day 10)
 *   day 1   E's review done → decide (due day 6)
 *   day 2   A's review done → done
 *   day 3   S's review done → waits at `stuck`
 *   day 4   B's review done → done; version 2 deployed
 *   day 5   migrate version 1: C, D (at review) and E (at decide) move to version 2; S (at stuck) is
 *           refused and stays
 *   day 7   D's review done → done (on version 2)
 *   day 8   E's decision done (late) → review again, now on version 2 (due day 18)
 *   day 12  C's review done (late) → done
 *   day 14  E's review done (path done) → done
 *
 * The engine moves only the active element instances (the process's own included); the ended ones keep
 * their version. The heatmap must say the same: every figure of each version is compared with what the
 * engine's tables say (engine_element_instance by process_definition_key, engine_user_task,
 * engine_incident), besides the exact figures written out.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createEngineClient } from '../../infra/camunda/client.js';
import { createHeatmaps } from '../../infra/camunda/heatmap.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { engineClock } from '../../infra/engine/engine.js';
import { as, type Caller, demoPeople, eventually } from './helpers.js';
import { testConfig } from './test-env.js';

const DAY = 86_400_000;
const PROCESS = `test-heatmap-migration-${randomUUID().slice(0, 8)}`;
const engine = createEngineClient(testConfig());
const prisma = createPrisma(inject('appDatabaseUrl'));
const clock = engineClock(inject('engineManagementUrl'));
const db = new pg.Pool({ connectionString: inject('engineDatabaseUrl'), max: 2 });

async function clockCall(method: string, suffix: string, body?: unknown) {
  const res = await fetch(`${inject('engineManagementUrl')}/actuator/clock${suffix}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : undefined,
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`clock ${method} ${suffix}: ${res.status} ${await res.text()}`);
}

/** A fixture version under this file's process id. */
const fixture = (file: string) =>
  Buffer.from(
    fs
      .readFileSync(new URL(`../fixtures/${file}`, import.meta.url), 'utf8')
      .replaceAll('"test-heatmap-probe"', `"${PROCESS}"`),
  );

interface Duration {
  count: number;
  avgMs: number | null;
  p90Ms: number | null;
  p90Estimated: boolean;
}
interface ElementFigures {
  elementId: string;
  elementType: string;
  instances: number;
  active: number;
  completed: number;
  terminated: number;
  incidents: number;
  duration: Duration;
}
interface SlaFigures {
  elementId: string;
  finished: number;
  finishedLate: number;
  lateShare: number | null;
  open: number;
  openOverdue: number;
  overdueShare: number | null;
  withoutDueDate: number;
}
interface Figures {
  instances: number;
  activeInstances: number;
  instanceDuration: { avgMs: number | null; p90Ms: number | null; p90Estimated: boolean };
  elements: ElementFigures[];
  sla: SlaFigures[];
}
interface Heat extends Figures {
  definition: { processDefinitionKey: string; version: number };
}
interface Waiting {
  total: number;
  data: { processInstanceKey: string; dueDate: string | null; overdue: boolean; child: { id: string } | null }[];
}

let t0: number;
let supervisor: Caller;
let policy: Caller;
const keys: Record<string, string> = {};
const childOf: Record<string, string> = {};
const definitionKey: Record<1 | 2, string> = { 1: '', 2: '' };

const now = async () => new Date((await clock.now()).epochMilli).toISOString();
async function moveTo(day: number) {
  await clock.add(t0 + day * DAY - (await clock.now()).epochMilli);
}

/** The key of a deployed version of this file's process. */
async function deployed(version: number) {
  const { rows } = await db.query<{ key: string }>(
    `SELECT key::text FROM engine_process_definition WHERE bpmn_process_id = $1 AND version = $2`,
    [PROCESS, version],
  );
  expect(rows, `version ${version} deployed`).toHaveLength(1);
  return rows[0]!.key;
}

/** The open task of an instance at an element, once the engine has made it. */
const openTask = (processInstanceKey: string, elementId: string) =>
  eventually(async () => {
    const { rows } = await db.query<{ key: string }>(
      `SELECT key::text FROM engine_user_task WHERE process_instance_key = $1 AND element_id = $2 AND state = 'CREATED'`,
      [processInstanceKey, elementId],
    );
    return rows[0]?.key;
  }, `${elementId} of ${processInstanceKey}`);

/** Waits until the instance's element instance of `elementId` is active (or the instance has ended). */
const reaches = (processInstanceKey: string, elementId: string, state = 'ACTIVE') =>
  eventually(async () => {
    const { rows } = await db.query(
      `SELECT 1 FROM engine_element_instance WHERE process_instance_key = $1 AND element_id = $2 AND state = $3`,
      [processInstanceKey, elementId, state],
    );
    return rows.length ? true : undefined;
  }, `${processInstanceKey} ${state} at ${elementId}`);

/** Completes the instance's open task at `at` and waits until it is at `then` (or has ended at `done`). */
async function complete(name: string, then: string, at = 'review', variables: Record<string, unknown> = {}) {
  await engine.completeUserTask(await openTask(keys[name]!, at), variables);
  await reaches(keys[name]!, then, then === 'done' ? 'COMPLETED' : 'ACTIVE');
}

/**
 * The same figures straight from the engine's tables for one version: its element instances as they
 * are now (an element instance's version is its process_definition_key), their user tasks and
 * incidents. Whole milliseconds, P90 by linear interpolation — as the heatmap gives them.
 */
async function engineFigures(version: 1 | 2, asOf: string): Promise<Figures> {
  const pdk = definitionKey[version];
  const { rows } = await db.query<{
    element_id: string;
    element_type: string;
    instances: number;
    active: number;
    completed: number;
    terminated: number;
    avg_ms: number | null;
    p90_ms: number | null;
    incidents: number;
  }>(
    `SELECT e.element_id, min(e.element_type) AS element_type, count(DISTINCT e.process_instance_key)::int AS instances,
            (count(*) FILTER (WHERE e.state = 'ACTIVE'))::int AS active,
            (count(*) FILTER (WHERE e.state = 'COMPLETED'))::int AS completed,
            (count(*) FILTER (WHERE e.state = 'TERMINATED'))::int AS terminated,
            round(avg(extract(epoch FROM e.end_date - e.start_date) * 1000) FILTER (WHERE e.state = 'COMPLETED'))::float8
              AS avg_ms,
            round(percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM e.end_date - e.start_date) * 1000)
              FILTER (WHERE e.state = 'COMPLETED'))::float8 AS p90_ms,
            (SELECT count(*) FROM engine_incident i
              WHERE i.state = 'ACTIVE' AND i.process_definition_key = $1 AND i.element_id = e.element_id)::int AS incidents
       FROM engine_element_instance e
      WHERE e.process_definition_key = $1 AND e.element_type <> 'MULTI_INSTANCE_BODY'
      GROUP BY e.element_id`,
    [pdk],
  );
  const { rows: tasks } = await db.query<{
    element_id: string;
    finished: number;
    finished_late: number;
    open: number;
    open_overdue: number;
    without_due: number;
  }>(
    `SELECT e.element_id,
            (count(*) FILTER (WHERE t.state = 'COMPLETED' AND t.due_date IS NOT NULL))::int AS finished,
            (count(*) FILTER (WHERE t.state = 'COMPLETED' AND t.completion_date > t.due_date))::int AS finished_late,
            (count(*) FILTER (WHERE t.state = 'CREATED' AND t.due_date IS NOT NULL))::int AS open,
            (count(*) FILTER (WHERE t.state = 'CREATED' AND t.due_date < $2::timestamptz))::int AS open_overdue,
            (count(*) FILTER (WHERE t.due_date IS NULL AND t.state <> 'CANCELED'))::int AS without_due
       FROM engine_element_instance e JOIN engine_user_task t ON t.element_instance_key = e.key
      WHERE e.process_definition_key = $1 GROUP BY e.element_id`,
    [pdk, asOf],
  );
  const share = (a: number, b: number) => (b > 0 ? a / b : null);
  const duration = (r: (typeof rows)[number]): Duration => ({
    count: r.completed,
    avgMs: r.avg_ms,
    p90Ms: r.p90_ms,
    p90Estimated: false,
  });
  const byId = (a: { elementId: string }, b: { elementId: string }) => (a.elementId < b.elementId ? -1 : 1);
  const process = rows.find((r) => r.element_type === 'PROCESS');
  return {
    instances: process ? process.active + process.completed + process.terminated : 0,
    activeInstances: process?.active ?? 0,
    instanceDuration: process
      ? { avgMs: process.avg_ms, p90Ms: process.p90_ms, p90Estimated: false }
      : { avgMs: null, p90Ms: null, p90Estimated: false },
    elements: rows
      .filter((r) => r.element_type !== 'PROCESS')
      .map((r) => ({
        elementId: r.element_id,
        elementType: r.element_type,
        instances: r.instances,
        active: r.active,
        completed: r.completed,
        terminated: r.terminated,
        incidents: r.incidents,
        duration: duration(r),
      }))
      .sort(byId),
    sla: rows
      .filter((r) => r.element_type === 'USER_TASK')
      .map((r) => {
        const t = tasks.find((x) => x.element_id === r.element_id)!;
        return {
          elementId: r.element_id,
          finished: t.finished,
          finishedLate: t.finished_late,
          lateShare: share(t.finished_late, t.finished),
          open: t.open,
          openOverdue: t.open_overdue,
          overdueShare: share(t.open_overdue, t.open),
          withoutDueDate: t.without_due,
        };
      })
      .sort(byId),
  };
}

const heatmap = async (version: 1 | 2, asOf: string): Promise<Heat> => {
  const res = await supervisor<Heat>(
    'GET',
    `/api/supervision/heatmap?process=${PROCESS}&version=${version}&asOf=${asOf}`,
  );
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.definition).toMatchObject({ processDefinitionKey: definitionKey[version], version });
  return res.body;
};
const figures = ({ instances, activeInstances, instanceDuration, elements, sla }: Figures): Figures => ({
  instances,
  activeInstances,
  instanceDuration,
  elements,
  sla,
});
const element = (h: Figures, id: string) => h.elements.find((e) => e.elementId === id);
const sla = (h: Figures, id: string) => h.sla.find((s) => s.elementId === id);
const waiting = async (version: 1 | 2, elementId: string, asOf: string) => {
  const res = await supervisor<Waiting>(
    'GET',
    `/api/supervision/heatmap/waiting?process=${PROCESS}&version=${version}&element=${elementId}&asOf=${asOf}`,
  );
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
};
/** Both versions' heatmaps, each checked against the engine's tables. */
async function bothVersions(asOf: string) {
  const [v1, v2] = [await heatmap(1, asOf), await heatmap(2, asOf)];
  expect(figures(v1), 'version 1 against the engine').toEqual(await engineFigures(1, asOf));
  expect(figures(v2), 'version 2 against the engine').toEqual(await engineFigures(2, asOf));
  return { v1, v2 };
}

beforeAll(async () => {
  const people = await demoPeople(prisma);
  const town = people.pupil.regionCode.slice(0, 9);
  const school = people.teacher.schoolId!;
  const pupils = await prisma.child.findMany({
    where: { currentSchoolId: school, regionCode: { startsWith: town } },
    take: 6,
    orderBy: { id: 'asc' },
  });
  expect(pupils.length).toBe(6);
  supervisor = await as('supervisor');
  policy = await as('policy');

  await engine.grpc.deployResource({ name: `${PROCESS}.bpmn`, process: fixture('heatmap-probe.bpmn') });
  definitionKey[1] = await deployed(1);
  t0 = Math.ceil((await clock.now()).epochMilli / 1000) * 1000;
  await clockCall('POST', '/pin', { epochMilli: t0 });
  const paths: Record<string, string> = { A: 'done', B: 'done', C: 'done', D: 'done', S: 'stuck', E: 'decide' };
  for (const [i, [name, path]] of Object.entries(paths).entries()) {
    childOf[name] = pupils[i]!.id;
    const r = await engine.startProcess(PROCESS, { townCode: town, schoolId: school, childId: childOf[name], path });
    keys[name] = r.processInstanceKey;
  }
  for (const name of Object.keys(paths)) await openTask(keys[name]!, 'review');
  await moveTo(1);
  await complete('E', 'decide');
  await moveTo(2);
  await complete('A', 'done');
  await moveTo(3);
  await complete('S', 'stuck');
  await moveTo(4);
  await complete('B', 'done');
  await engine.grpc.deployResource({ name: `${PROCESS}.bpmn`, process: fixture('heatmap-probe-v2.bpmn') });
  definitionKey[2] = await deployed(2);
}, 180_000);

afterAll(async () => {
  // The clock runs again from where the test left it (never backwards for the files after this one).
  if (t0) {
    const pinned = (await clock.now()).epochMilli;
    await clockCall('DELETE', '');
    await clock.add(pinned - Date.now());
  }
  await Promise.all([engine.close(), prisma.$disconnect(), db.end()]);
});

describe('the heatmap after a migration to a new version (engine-backed, controlled clock)', () => {
  it('before the migration: everything on version 1, nothing on version 2', async () => {
    await moveTo(5);
    const asOf = await now();
    const { v1, v2 } = await bothVersions(asOf);
    expect(v1).toMatchObject({ instances: 6, activeInstances: 4 });
    expect(element(v1, 'review')).toMatchObject({ instances: 6, active: 2, completed: 4 });
    expect(element(v1, 'decide')).toMatchObject({ instances: 1, active: 1 });
    expect(v2).toMatchObject({ instances: 0, activeInstances: 0, elements: [], sla: [] });
  });

  it('moves the migrated instances’ active elements to version 2; what ended before stays on version 1', async () => {
    const res = await policy<{ migrated: string[]; refused: { processInstanceKey: string }[] }>(
      'POST',
      `/api/diagrams/process/${PROCESS}/migrate`,
      { fromVersion: 1, comment: '热力图迁移测试：在办实例改按第 2 版' },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect([...res.body.migrated].sort()).toEqual([keys.C, keys.D, keys.E].sort());
    expect(res.body.refused.map((r) => r.processInstanceKey)).toEqual([keys.S]);

    const asOf = await now();
    const { v1, v2 } = await bothVersions(asOf);
    // Version 1: A and B ended there, S waits there; C, D and E started there (their start events, and
    // E's review and route, ended on version 1), and are no longer at its review or decision.
    expect(v1).toMatchObject({ instances: 3, activeInstances: 1 });
    expect(element(v1, 'probeStarted')).toMatchObject({ instances: 6, active: 0, completed: 6 });
    // Reviews of 1 (E), 2 (A), 3 (S) and 4 (B) days: average 2.5 d, p90 = 3 + 0.7 × 1 = 3.7 d.
    expect(element(v1, 'review')).toMatchObject({ instances: 4, active: 0, completed: 4, terminated: 0 });
    expect(element(v1, 'review')!.duration).toEqual({
      count: 4,
      avgMs: 2.5 * DAY,
      p90Ms: 3.7 * DAY,
      p90Estimated: false,
    });
    expect(element(v1, 'route')).toMatchObject({ instances: 4, active: 0, completed: 4 });
    expect(element(v1, 'done')).toMatchObject({ instances: 2, completed: 2 });
    expect(element(v1, 'stuck')).toMatchObject({ instances: 1, active: 1, completed: 0 });
    expect(element(v1, 'decide')).toBeUndefined();
    expect(sla(v1, 'review')).toMatchObject({ finished: 4, finishedLate: 0, open: 0, openOverdue: 0 });
    // A took 2 days, B 4: p90 = 2 + 0.9 × 2 = 3.8 d.
    expect(v1.instanceDuration).toEqual({ avgMs: 3 * DAY, p90Ms: 3.8 * DAY, p90Estimated: false });
    // Version 2: C and D waiting at its review (their tasks keep version 1's due date, day 10), E at its
    // decision (due day 6).
    expect(v2).toMatchObject({ instances: 3, activeInstances: 3 });
    expect(v2.elements.map((e) => e.elementId)).toEqual(['decide', 'review']);
    expect(element(v2, 'review')).toMatchObject({ instances: 2, active: 2, completed: 0, terminated: 0 });
    expect(element(v2, 'review')!.duration).toEqual({ count: 0, avgMs: null, p90Ms: null, p90Estimated: false });
    expect(element(v2, 'decide')).toMatchObject({ instances: 1, active: 1, completed: 0 });
    expect(sla(v2, 'review')).toMatchObject({ finished: 0, open: 2, openOverdue: 0 });
    expect(sla(v2, 'decide')).toMatchObject({ finished: 0, open: 1, openOverdue: 0 });
    expect(v2.instanceDuration).toEqual({ avgMs: null, p90Ms: null, p90Estimated: false });

    // The waiting lists follow: C and D at version 2's review, E at its decision, none on version 1 but
    // S at stuck.
    expect(await waiting(1, 'review', asOf)).toMatchObject({ total: 0, data: [] });
    expect(await waiting(1, 'decide', asOf)).toMatchObject({ total: 0, data: [] });
    const w2 = await waiting(2, 'review', asOf);
    expect(w2.total).toBe(2);
    expect(w2.data.map((r) => r.processInstanceKey)).toEqual([keys.C, keys.D]);
    expect(w2.data.map((r) => r.child?.id)).toEqual([childOf.C, childOf.D]);
    expect(w2.data.map((r) => r.dueDate)).toEqual(Array(2).fill(new Date(t0 + 10 * DAY).toISOString()));
    const decide = await waiting(2, 'decide', asOf);
    expect(decide.data.map((r) => [r.processInstanceKey, r.child?.id, r.dueDate, r.overdue])).toEqual([
      [keys.E, childOf.E, new Date(t0 + 6 * DAY).toISOString(), false],
    ]);
    const stuck = await waiting(1, 'stuck', asOf);
    expect(stuck.data.map((r) => r.processInstanceKey)).toEqual([keys.S]);
    expect((await waiting(2, 'stuck', asOf)).total).toBe(0);
  });

  it('counts an instance again on version 2 at an element it passed on version 1', async () => {
    await moveTo(7);
    await complete('D', 'done');
    await moveTo(8);
    await complete('E', 'review', 'decide');
    const asOf = await now();
    const { v2 } = await bothVersions(asOf);
    // C, D and E reached version 2's review (E's first review was on version 1): C and E are there now.
    expect(element(v2, 'review')).toMatchObject({ instances: 3, active: 2, completed: 1 });
    expect(element(v2, 'decide')).toMatchObject({ instances: 1, active: 0, completed: 1 });
    const w2 = await waiting(2, 'review', asOf);
    expect(w2.data.map((r) => [r.processInstanceKey, r.dueDate])).toEqual([
      [keys.C, new Date(t0 + 10 * DAY).toISOString()],
      [keys.E, new Date(t0 + 18 * DAY).toISOString()],
    ]);
  });

  it('counts the migrated instances’ later work, with its whole duration, under version 2 only', async () => {
    const before = figures(await heatmap(1, await now()));
    await moveTo(12);
    await complete('C', 'done');
    await moveTo(14);
    await complete('E', 'done', 'review', { path: 'done' });
    const asOf = await now();
    const { v1, v2 } = await bothVersions(asOf);
    // Version 1 is as it was.
    expect(figures(v1)).toEqual(before);
    expect(v2).toMatchObject({ instances: 3, activeInstances: 0 });
    // Reviews on version 2: D 7 days (day 0–7, on time), C 12 (late: due day 10), E 6 (day 8–14, due day
    // 18). Average 25/3 d, p90 = 7 + 0.8 × 5 = 11 d.
    expect(element(v2, 'review')).toMatchObject({ instances: 3, active: 0, completed: 3, terminated: 0 });
    expect(element(v2, 'review')!.duration).toEqual({
      count: 3,
      avgMs: (25 / 3) * DAY,
      p90Ms: 11 * DAY,
      p90Estimated: false,
    });
    // E's decision, day 1–8 (due day 6: late).
    expect(element(v2, 'decide')).toMatchObject({ instances: 1, completed: 1 });
    expect(element(v2, 'decide')!.duration).toMatchObject({ count: 1, avgMs: 7 * DAY, p90Ms: 7 * DAY });
    expect(element(v2, 'route')).toMatchObject({ instances: 3, active: 0, completed: 3 });
    expect(element(v2, 'done')).toMatchObject({ instances: 3, completed: 3 });
    expect(element(v2, 'probeStarted')).toBeUndefined();
    expect(sla(v2, 'review')).toMatchObject({ finished: 3, finishedLate: 1, lateShare: 1 / 3, open: 0 });
    expect(sla(v2, 'decide')).toMatchObject({ finished: 1, finishedLate: 1, lateShare: 1, open: 0 });
    // The instances: D 7 days, C 12, E 14; p90 = 12 + 0.8 × 2 = 13.6 d.
    expect(v2.instanceDuration).toEqual({ avgMs: 11 * DAY, p90Ms: 13.6 * DAY, p90Estimated: false });
    expect((await waiting(2, 'review', asOf)).total).toBe(0);
    // A query with nothing new in the log counts nothing twice.
    expect(await heatmap(2, asOf)).toEqual(v2);
  });

  // Last: it throws the rollup away. Built again from the engine's tables, it says what the catch-ups said.
  it('gives the same figures when the rollup is built again from the tables', async () => {
    const asOf = await now();
    const [v1, v2] = [await heatmap(1, asOf), await heatmap(2, asOf)];
    await db.query('DELETE FROM supervision_heat_state');
    expect(await heatmap(1, asOf)).toEqual(v1);
    expect(await heatmap(2, asOf)).toEqual(v2);

    // A database of the older code (pairs without the version): a new API's tables replace the pairs and
    // drop the rollup's state, so its first catch-up builds the rollup again.
    await db.query(`DROP TABLE supervision_heat_reached`);
    await db.query(`CREATE TABLE supervision_heat_reached (process_instance_key bigint NOT NULL, element_id text NOT NULL,
                      PRIMARY KEY (process_instance_key, element_id))`);
    const pool = new pg.Pool({ connectionString: inject('engineDatabaseUrl'), max: 2 });
    try {
      expect(await createHeatmaps(pool).catchUp()).toBe(-1);
    } finally {
      await pool.end();
    }
    const { rows } = await db.query(
      `SELECT 1 FROM pg_attribute WHERE attrelid = 'supervision_heat_reached'::regclass
          AND attname = 'process_definition_key' AND NOT attisdropped`,
    );
    expect(rows).toHaveLength(1);
    expect(await heatmap(1, asOf)).toEqual(v1);
    expect(await heatmap(2, asOf)).toEqual(v2);
  });
});
