/**
 * Engine-backed: the supervisors' heatmap agrees with the engine. Instances of a test diagram
 * (tests/fixtures/heatmap-probe.bpmn) run through known paths while the engine clock is pinned and
 * moved by whole days, so every count, duration and SLA share below is exact:
 *
 *   day 0   A, B, C, D, E start (review due day 10); G starts in another county
 *   day 2   A's review done → done                          (review took 2 d, on time)
 *   day 4   D's review done → stuck (a job nobody works)     (4 d)
 *           E's review done → no path: incident at `route`   (4 d)
 *   day 12  B's review done → decide (due day 17)           (12 d: late)
 *   day 20  F starts (review due day 30); asOf = day 20
 *
 * C's review (due day 10) is still open: overdue; so is B's decision. A, B, D, E are pupils of one
 * town and school, C a pupil of another town of the county, G a child of another county — which its
 * own bureau sees, and the demo county's supervisor does not.
 */
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../api/app.js';
import { createEngineClient } from '../../infra/camunda/client.js';
import { createEngineRecords } from '../../infra/camunda/records.js';
import { REPO_ROOT } from '../../infra/config.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { engineClock } from '../../infra/engine/engine.js';
import { as, type Caller, demoPeople, eventually, loginAs } from './helpers.js';
import { fixtureCounty } from './fixture-county.js';
import { testConfig } from './test-env.js';

const DAY = 86_400_000;
const PROCESS = 'test-heatmap-probe';
const engine = createEngineClient(testConfig());
const records = createEngineRecords(inject('engineDatabaseUrl'));
const prisma = createPrisma(inject('appDatabaseUrl'));
const clock = engineClock(inject('engineManagementUrl'));

/** Pins the engine clock (durations exact to the millisecond) or lets it run again from where it is. */
async function clockCall(method: string, suffix: string, body?: unknown) {
  const res = await fetch(`${inject('engineManagementUrl')}/actuator/clock${suffix}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : undefined,
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`clock ${method} ${suffix}: ${res.status} ${await res.text()}`);
}

interface Heat {
  instances: number;
  activeInstances: number;
  instanceDuration: { avgMs: number | null; p90Ms: number | null; p90Estimated: boolean };
  elements: {
    elementId: string;
    instances: number;
    active: number;
    completed: number;
    terminated: number;
    incidents: number;
    duration: { count: number; avgMs: number | null; p90Ms: number | null; p90Estimated: boolean };
  }[];
  sla: {
    elementId: string;
    finished: number;
    finishedLate: number;
    lateShare: number | null;
    open: number;
    openOverdue: number;
    overdueShare: number | null;
  }[];
}
interface Waiting {
  total: number;
  data: {
    processInstanceKey: string;
    overdue: boolean;
    dueDate: string | null;
    child: { id: string; name: string; idNumber: string | null } | null;
    townCode: string | null;
  }[];
}

let t0: number;
let asOf: string;
let supervisor: Caller;
let otherBureau: Caller;
const keys: Record<string, string> = {};
let children: Record<string, { id: string; idNumber: string }>;
let school: number;
let town: string;
let otherTown: string;
let teacherName: string;

/** The open review task of an instance (the read model has it at once; polled for the engine's commit). */
const openTask = (processInstanceKey: string, elementId: string) =>
  eventually(
    async () => (await records.openUserTasks({ processInstanceKey, elementId })).data[0],
    `${elementId} of ${processInstanceKey}`,
  );

async function moveTo(day: number) {
  const now = (await clock.now()).epochMilli;
  await clock.add(t0 + day * DAY - now);
}

beforeAll(async () => {
  const people = await demoPeople(prisma);
  const fx = await fixtureCounty(prisma, '379971', 2026, 1);
  town = people.pupil.regionCode.slice(0, 9);
  // C: a child of another town of the same county (demoPeople's otherTownPupil may be a child another
  // file created in a county of its own, whose id sorts first).
  const other = await prisma.child.findFirstOrThrow({
    where: {
      AND: [{ regionCode: { startsWith: town.slice(0, 6) } }, { NOT: { regionCode: { startsWith: town } } }],
      currentSchoolId: { not: null },
    },
    orderBy: { id: 'asc' },
  });
  otherTown = other.regionCode.slice(0, 9);
  school = people.teacher.schoolId!;
  teacherName = people.teacher.username;
  const pupils = await prisma.child.findMany({
    where: { currentSchoolId: school, regionCode: { startsWith: town } },
    take: 5,
    orderBy: { id: 'asc' },
  });
  expect(pupils.length).toBe(5);
  children = {
    A: pupils[0]!,
    B: pupils[1]!,
    D: pupils[2]!,
    E: pupils[3]!,
    F: pupils[4]!,
    C: other,
    G: fx.children[0]!,
  };
  supervisor = await as('supervisor');
  otherBureau = await as(fx.users.bureau);

  await engine.grpc.deployResource({ processFilename: path.join(REPO_ROOT, 'tests/fixtures/heatmap-probe.bpmn') });
  // Whole days from a pinned instant: nothing the test does between two moves takes time on this clock.
  t0 = Math.ceil((await clock.now()).epochMilli / 1000) * 1000;
  await clockCall('POST', '/pin', { epochMilli: t0 });

  const start = (name: string, townCode: string, schoolId: number, p: string) =>
    engine
      .startProcess(PROCESS, { townCode, schoolId, childId: children[name]!.id, path: p })
      .then((r) => (keys[name] = r.processInstanceKey));
  await start('A', town, school, 'done');
  await start('B', town, school, 'decide');
  await start('C', otherTown, other.currentSchoolId!, 'done');
  await start('D', town, school, 'stuck');
  await start('E', town, school, 'nowhere');
  await start('G', fx.town, fx.primary.id, 'done');
  const review = Object.fromEntries(
    await Promise.all(['A', 'B', 'C', 'D', 'E', 'G'].map(async (n) => [n, await openTask(keys[n]!, 'review')])),
  );

  await moveTo(2);
  await engine.completeUserTask(review.A.userTaskKey, {});
  await moveTo(4);
  await engine.completeUserTask(review.D.userTaskKey, {});
  await engine.completeUserTask(review.E.userTaskKey, {});
  await moveTo(12);
  await engine.completeUserTask(review.B.userTaskKey, {});
  await openTask(keys.B!, 'decide');
  await eventually(async () => ((await records.openIncidents(keys.E!)).length ? true : undefined), 'E’s incident');
  await moveTo(20);
  await start('F', town, school, 'done');
  await openTask(keys.F!, 'review');
  asOf = new Date(t0 + 20 * DAY).toISOString();
}, 180_000);

afterAll(async () => {
  // The clock runs again from where the test left it (never backwards for the files after this one).
  if (t0) {
    const pinned = (await clock.now()).epochMilli;
    await clockCall('DELETE', '');
    await clock.add(pinned - Date.now());
  }
  await Promise.all([engine.close(), records.close(), prisma.$disconnect()]);
});

const heatmap = async (caller: Caller, query = '') => {
  const res = await caller<Heat>('GET', `/api/supervision/heatmap?process=${PROCESS}&asOf=${asOf}${query}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
};
const element = (h: Heat, id: string) => h.elements.find((e) => e.elementId === id);
const sla = (h: Heat, id: string) => h.sla.find((s) => s.elementId === id);

describe('supervisors’ heatmap (engine-backed, controlled clock)', () => {
  it('counts the instances that reached each element, and the active, completed and incident ones', async () => {
    const h = await heatmap(supervisor);
    expect(h.instances).toBe(6); // A–F: G is another county's
    expect(h.activeInstances).toBe(5); // A ended
    expect(element(h, 'probeStarted')).toMatchObject({ instances: 6, active: 0, completed: 6, incidents: 0 });
    expect(element(h, 'review')).toMatchObject({ instances: 6, active: 2, completed: 4, terminated: 0, incidents: 0 });
    expect(element(h, 'route')).toMatchObject({ instances: 4, active: 1, completed: 3, incidents: 1 });
    expect(element(h, 'done')).toMatchObject({ instances: 1, active: 0, completed: 1 });
    expect(element(h, 'decide')).toMatchObject({ instances: 1, active: 1, completed: 0 });
    expect(element(h, 'stuck')).toMatchObject({ instances: 1, active: 1, completed: 0 });
    expect(element(h, 'decided')).toBeUndefined();
  });

  it('gives the average and the 90th percentile of the completed element instances’ durations', async () => {
    const h = await heatmap(supervisor);
    // review: 2, 4, 4, 12 days. p90 (linear interpolation) = 4 + 0.7 × (12 − 4) = 9.6 days.
    // Few durations: the exact percentile, not the rollup's histogram estimate.
    expect(element(h, 'review')!.duration).toEqual({
      count: 4,
      avgMs: 5.5 * DAY,
      p90Ms: 9.6 * DAY,
      p90Estimated: false,
    });
    expect(element(h, 'route')!.duration).toEqual({ count: 3, avgMs: 0, p90Ms: 0, p90Estimated: false });
    expect(element(h, 'decide')!.duration).toEqual({ count: 0, avgMs: null, p90Ms: null, p90Estimated: false });
    expect(h.instanceDuration).toEqual({ avgMs: 2 * DAY, p90Ms: 2 * DAY, p90Estimated: false });
  });

  it('gives per user task the share finished past its due date and the share of open ones overdue', async () => {
    const h = await heatmap(supervisor);
    // review: 4 finished, B's late; open C (due day 10: overdue) and F (due day 30).
    expect(sla(h, 'review')).toMatchObject({ finished: 4, finishedLate: 1, lateShare: 0.25, open: 2, openOverdue: 1 });
    expect(sla(h, 'review')!.overdueShare).toBe(0.5);
    // decide: B's, due day 17, open at day 20.
    expect(sla(h, 'decide')).toMatchObject({ finished: 0, lateShare: null, open: 1, openOverdue: 1, overdueShare: 1 });
    // As of day 15 nothing of the decision is overdue yet.
    const earlier = await supervisor<Heat>(
      'GET',
      `/api/supervision/heatmap?process=${PROCESS}&asOf=${new Date(t0 + 15 * DAY).toISOString()}`,
    );
    expect(sla(earlier.body, 'decide')).toMatchObject({ open: 1, openOverdue: 0, overdueShare: 0 });
  });

  it('filters by town, school, date range and version', async () => {
    const inTown = await heatmap(supervisor, `&town=${town}`);
    expect(inTown.instances).toBe(5);
    expect(element(inTown, 'review')).toMatchObject({ instances: 5, active: 1 });
    expect(sla(inTown, 'review')).toMatchObject({ open: 1, openOverdue: 0 });
    const other = await heatmap(supervisor, `&town=${otherTown}`);
    expect(other.instances).toBe(1);
    expect(element(other, 'review')).toMatchObject({ instances: 1, active: 1, completed: 0 });
    const bySchool = await heatmap(supervisor, `&school=${school}`);
    expect(bySchool.instances).toBe(5);
    // F started on day 20 (China time): the range of that day alone holds it only.
    const day20 = new Date(t0 + 20 * DAY + 8 * 3_600_000).toISOString().slice(0, 10);
    const late = await heatmap(supervisor, `&from=${day20}&to=${day20}`);
    expect(late.instances).toBe(1);
    expect(element(late, 'review')).toMatchObject({ instances: 1, active: 1 });
    const v1 = await heatmap(supervisor, '&version=1');
    expect(v1.instances).toBe(6);
    const none = await supervisor('GET', `/api/supervision/heatmap?process=${PROCESS}&version=99`);
    expect(none.status).toBe(404);
  });

  it('keeps every figure in the caller’s county', async () => {
    const theirs = await heatmap(otherBureau);
    expect(theirs.instances).toBe(1);
    expect(element(theirs, 'review')).toMatchObject({ instances: 1, active: 1 });
    // A town filter outside one's county finds nothing there.
    const outside = await heatmap(otherBureau, `&town=${town}`);
    expect(outside.instances).toBe(0);
  });

  it('lists the children waiting at an element, oldest first, in the caller’s jurisdiction only', async () => {
    const res = await supervisor<Waiting>(
      'GET',
      `/api/supervision/heatmap/waiting?process=${PROCESS}&element=review&asOf=${asOf}`,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.total).toBe(2);
    expect(res.body.data.map((r) => r.processInstanceKey)).toEqual([keys.C, keys.F]);
    expect(res.body.data.map((r) => r.child?.id)).toEqual([children.C!.id, children.F!.id]);
    expect(res.body.data.map((r) => r.overdue)).toEqual([true, false]);
    // Lists mask the ID number.
    expect(res.body.data[0]!.child!.idNumber).not.toBe(children.C!.idNumber);
    expect(res.body.data[0]!.child!.idNumber).toMatch(/\*{6,}/);

    const theirs = await otherBureau<Waiting>(
      'GET',
      `/api/supervision/heatmap/waiting?process=${PROCESS}&element=review`,
    );
    expect(theirs.body.total).toBe(1);
    expect(theirs.body.data.map((r) => [r.processInstanceKey, r.child?.id])).toEqual([[keys.G, children.G!.id]]);

    const stuck = await supervisor<Waiting>('GET', `/api/supervision/heatmap/waiting?process=${PROCESS}&element=stuck`);
    expect(stuck.body.data.map((r) => r.child?.id)).toEqual([children.D!.id]);
  });

  it('refuses bad filters with a clear error and the heatmap to caseworkers', async () => {
    const bad = await supervisor<{ error: { code: string; details: { path: string[] }[] } }>(
      'GET',
      `/api/supervision/heatmap?process=${PROCESS}&from=2026-13-01&town=abc`,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d) => d.path.join('.')).sort()).toEqual(['from', 'town']);
    const teacher = await as(teacherName);
    expect((await teacher('GET', `/api/supervision/heatmap?process=${PROCESS}`)).status).toBe(403);
  });

  // Last: it moves C and F on. Ended element instances reach the heatmap through the rollup's
  // catch-up of the record log, the active ones live; neither may be lost or counted twice across runs.
  it('keeps every figure exact across catch-ups as element instances complete between two queries', async () => {
    const before = await heatmap(supervisor);
    expect(element(before, 'review')).toMatchObject({ instances: 6, active: 2, completed: 4 });
    // C's review, open since day 0, is done on day 20 (late: due day 10); C then ends at `done`.
    const c = await openTask(keys.C!, 'review');
    await engine.completeUserTask(c.userTaskKey, {});
    await eventually(
      async () =>
        (await records.openUserTasks({ processInstanceKey: keys.C!, elementId: 'review' })).data[0] ? undefined : true,
      'C’s review done',
    );
    const after = await heatmap(supervisor);
    expect(after.instances).toBe(6);
    expect(after.activeInstances).toBe(4); // A and C ended
    expect(element(after, 'review')).toMatchObject({ instances: 6, active: 1, completed: 5, terminated: 0 });
    // 2, 4, 4, 12, 20 days: p90 = 12 + 0.6 × (20 − 12) = 16.8 days; average 8.4 days.
    expect(element(after, 'review')!.duration).toEqual({
      count: 5,
      avgMs: 8.4 * DAY,
      p90Ms: 16.8 * DAY,
      p90Estimated: false,
    });
    expect(element(after, 'route')).toMatchObject({ instances: 5, active: 1, completed: 4, incidents: 1 });
    expect(element(after, 'done')).toMatchObject({ instances: 2, active: 0, completed: 2 });
    // A took 2 days, C 20: p90 = 2 + 0.9 × 18 = 18.2 days.
    expect(after.instanceDuration).toEqual({ avgMs: 11 * DAY, p90Ms: 18.2 * DAY, p90Estimated: false });
    expect(sla(after, 'review')).toMatchObject({ finished: 5, finishedLate: 2, open: 1, openOverdue: 0 });
    // A query with nothing new in the log counts nothing twice.
    expect(await heatmap(supervisor)).toEqual(after);
    // The filters see the change too: C's town and school, and C's day of start.
    const cTown = await heatmap(supervisor, `&town=${otherTown}`);
    expect(element(cTown, 'review')).toMatchObject({ instances: 1, active: 0, completed: 1 });
    expect(element(cTown, 'done')).toMatchObject({ instances: 1, completed: 1 });
    expect(cTown.activeInstances).toBe(0);
    const inTown = await heatmap(supervisor, `&town=${town}&school=${school}`);
    expect(element(inTown, 'review')).toMatchObject({ instances: 5, active: 1, completed: 4 });
    const day0 = new Date(t0 + 8 * 3_600_000).toISOString().slice(0, 10);
    const first = await heatmap(supervisor, `&from=${day0}&to=${day0}`);
    expect(first.instances).toBe(5);
    expect(element(first, 'review')).toMatchObject({ instances: 5, active: 0, completed: 5 });
    expect(element(first, 'review')!.duration.p90Ms).toBe(16.8 * DAY);
    // The other county's bureau: its one instance, untouched by ours.
    const theirs = await heatmap(otherBureau);
    expect(theirs.instances).toBe(1);
    expect(element(theirs, 'review')).toMatchObject({ instances: 1, active: 1, completed: 0 });
  });

  // After the others: it throws the rollup away. The API builds it again when it starts, in the
  // background, before any heatmap request; a shutdown cancels a build in progress.
  it('builds the rollup at API start, and a shutdown cancels a build in progress', async () => {
    const expected = await heatmap(supervisor);
    const token = await loginAs('supervisor');
    const url = `/api/supervision/heatmap?process=${PROCESS}&asOf=${asOf}`;
    const db = new pg.Client({ connectionString: inject('engineDatabaseUrl') });
    const holder = new pg.Client({ connectionString: inject('engineDatabaseUrl') });
    await Promise.all([db.connect(), holder.connect()]);
    const state = async () =>
      (await db.query<{ hwm: string; layout: number }>(`SELECT hwm::text, layout FROM supervision_heat_state`)).rows[0];
    const apps: Awaited<ReturnType<typeof buildApp>>[] = [];
    const readModels: ReturnType<typeof createEngineRecords>[] = [];
    const startApi = async () => {
      const readModel = createEngineRecords(inject('engineDatabaseUrl'));
      readModels.push(readModel);
      const app = await buildApp({ prisma, engine, records: readModel, logger: pino({ level: 'silent' }) });
      apps.push(app);
      await app.ready();
      return app;
    };
    try {
      const { rows: last } = await db.query<{ v: string }>(
        `SELECT (CASE WHEN is_called THEN last_value ELSE 0 END)::text AS v FROM engine_record_position`,
      );
      // An open transaction with an xid: a build waits until it ends (it could still write records).
      await holder.query('BEGIN');
      await holder.query('SELECT pg_current_xact_id()');
      await db.query('DELETE FROM supervision_heat_state');

      // 1. A build in progress at shutdown: cancelled, rolled back, its lock let go; the request that
      //    waited for it fails rather than keeping the API from stopping.
      const first = await startApi();
      let settled = false;
      const waiting = first
        .inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } })
        .finally(() => (settled = true));
      await new Promise((r) => setTimeout(r, 500));
      expect(settled).toBe(false);
      expect(await state()).toBeUndefined();
      const t = Date.now();
      await first.close();
      expect(Date.now() - t).toBeLessThan(5000);
      expect((await waiting).statusCode).toBeGreaterThanOrEqual(500);
      expect(await state()).toBeUndefined();
      const { rows: lock } = await db.query<{ free: boolean }>(
        `SELECT pg_try_advisory_lock(7308900523498827118) AS free`,
      );
      expect(lock[0]!.free).toBe(true);
      await db.query(`SELECT pg_advisory_unlock(7308900523498827118)`);

      // 2. Started again: the rollup is built in the background once the open transaction ends — before
      //    any heatmap request — up to the log's position, and answers exactly as before.
      const second = await startApi();
      await new Promise((r) => setTimeout(r, 300));
      expect(await state()).toBeUndefined();
      await holder.query('COMMIT');
      const built = await eventually(state, 'the rollup built at start', 30_000);
      expect(built.layout).toBe(2);
      expect(BigInt(built.hwm)).toBeGreaterThanOrEqual(BigInt(last[0]!.v));
      const res = await second.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual(expected);
      expect(await heatmap(supervisor)).toEqual(expected);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      for (const app of apps) await app.close();
      await Promise.all(readModels.map((r) => r.close()));
      await Promise.all([db.end(), holder.end()]);
    }
  });
});
