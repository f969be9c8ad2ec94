/**
 * Faults 1 and 5, the engine. Fault 1: the engine is SIGKILLed in the middle of ~200 running instances (dropout escalations and
 * whole-class handovers, worked through the API by their caseworkers) and started again on the same
 * database (all its state is in PostgreSQL: the commands it had in flight are rolled back, the ones it
 * committed stay). Every instance must go on to its end state; no user task, case action or notice
 * number may be lost or duplicated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FixtureCounty } from '../integration/fixture-county.js';
import { chinaDay } from '../../api/domain/china-time.js';
import { dockerContainer, type FaultSystem, killContainer, startContainer, startFaultSystem } from './environment.js';
import {
  driveEscalation,
  driveHandover,
  ESCALATION_STEPS,
  HANDOVER_STEPS,
  handoverCounties,
  newObservations,
  reportDropout,
  startHandover,
  VISIT_FAILED,
} from './flows.js';
import { apiClient, eventually, everyInstanceCompleted, pool, type Pupil, reportablePupils, sleep } from './helpers.js';

const ESCALATIONS = 170;
const HANDOVERS = 30;
const PUPILS_PER_CLASS = 4;
/** The kill comes after this share of the caseworkers' task completions. */
const KILL_AFTER_SHARE = 0.3;

let sys: FaultSystem;
const say = (l: string) => process.stderr.write(`[engine-faults] ${l}\n`);

beforeAll(async () => {
  sys = await startFaultSystem();
});
afterAll(async () => {
  await sys?.stop();
});

const daysAgo = (n: number) => chinaDay(new Date(Date.now() - n * 86_400_000));
const serialOf = (number: string) => Number(/第(\d+)号$/.exec(number)![1]);

describe('engine SIGKILLed mid-flight', () => {
  it('every instance continues after the restart; nothing is lost or duplicated', async () => {
    const t0 = Date.now();
    const api = apiClient(sys.apiUrl);
    const obs = newObservations();
    const pupils: Pupil[] = await reportablePupils(sys.prisma, ESCALATIONS);
    const counties: FixtureCounty[] = await handoverCounties(sys.prisma, HANDOVERS, PUPILS_PER_CLASS);

    // Start all instances through the API.
    const escalations = await pool(pupils, 8, async (p) => ({ p, pik: await reportDropout(obs, api, p) }));
    const handovers = await pool(counties, 4, async (fx) => ({ fx, started: await startHandover(obs, api, fx) }));
    expect.soft(obs.unexpected).toEqual([]);
    const started = Date.now();
    say(`${escalations.length + handovers.length} instances started in ${((started - t0) / 1000).toFixed(1)} s`);

    // Work them through; after 30 % of the completions the engine dies and comes back on the same database.
    const completions = ESCALATIONS * ESCALATION_STEPS.length + HANDOVERS * HANDOVER_STEPS.length;
    const startsDone = obs.steps;
    let downAt = 0;
    let upAt = 0;
    const killer = (async () => {
      while (obs.steps - startsDone < completions * KILL_AFTER_SHARE) await sleep(50);
      say(`SIGKILL engine after ${obs.steps - startsDone} of ${completions} completions`);
      await killContainer(sys.engine);
      downAt = Date.now();
      await sleep(3_000);
      await startContainer(sys.engine);
      await sys.engineReady();
      upAt = Date.now();
      say(`engine back after ${((upAt - downAt) / 1000).toFixed(1)} s`);
    })();
    // A flow whose next task never appears is recorded (obs.stuck) and the others go on.
    const settle = (p: Promise<unknown>) => p.catch(() => undefined);
    await Promise.all([
      pool(escalations, 12, async ({ p, pik }) => settle(driveEscalation(obs, api, p, pik!))),
      pool(handovers, 4, async ({ fx, started: s }) => settle(driveHandover(obs, api, fx, s!.pik))),
      killer,
    ]);
    say(
      `flows driven in ${((Date.now() - started) / 1000).toFixed(1)} s; ${obs.transient} transient answers; ` +
        `observations ${JSON.stringify({ ...obs, steps: undefined, transient: undefined })}`,
    );
    expect(downAt, 'the engine was killed during the run').toBeGreaterThan(0);
    expect(obs.transient, 'requests met the dead engine').toBeGreaterThan(0);
    expect.soft(obs.unexpected).toEqual([]);
    expect.soft(obs.stuck, 'steps whose task never appeared').toEqual([]);
    expect.soft(obs.serverErrors, 'completions answered 500 instead of 503 while the engine was down').toEqual([]);

    // Every escalation reaches the town's notice; every handover is cleared and its instance completed.
    const escalationKeys = escalations.map((e) => e.pik!);
    const fetchCases = () =>
      sys.prisma.dropoutCase.findMany({
        where: { processInstanceKey: { in: escalationKeys } },
        include: { actions: true, documents: true },
      });
    let cases = await eventually(
      async () => {
        const docs = await sys.prisma.caseDocument.count({
          where: { kind: 'CORRECTION_ORDER', case: { processInstanceKey: { in: escalationKeys } } },
        });
        return docs >= ESCALATIONS ? fetchCases() : undefined;
      },
      'every escalation to reach its correction order',
      180_000,
    );
    expect(cases).toHaveLength(ESCALATIONS);
    // One case per reported child (a retried report must not open a second one).
    expect(new Set(cases.map((c) => c.childId)).size).toBe(ESCALATIONS);
    const kindsOf = (c: (typeof cases)[number]) =>
      c.actions
        .map((a) => a.kind)
        .sort()
        .join(',');
    // The actions of a fault-free case: what most cases have.
    const counts = new Map<string, number>();
    for (const c of cases) counts.set(kindsOf(c), (counts.get(kindsOf(c)) ?? 0) + 1);
    const reference = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
    for (const kind of ['CASE_OPENED', 'HOME_VISIT', 'DOCUMENT_CORRECTION_ORDER']) expect(reference).toContain(kind);
    const deviatingOf = (cs: typeof cases) =>
      cs.filter((c) => kindsOf(c) !== reference).map((c) => `${c.processInstanceKey}: ${kindsOf(c)}`);
    // A completion the API could not confirm is written from its journal a few seconds later (settled
    // every 5 s once its attempt is over).
    let deviating = deviatingOf(cases);
    for (const until = Date.now() + 90_000; deviating.length > 0 && Date.now() < until;) {
      await sleep(2_000);
      cases = await fetchCases();
      deviating = deviatingOf(cases);
    }
    expect.soft(deviating, `every case has exactly the actions ${reference}`).toEqual([]);
    expect(new Set(reference.split(',')).size, 'no action kind twice').toBe(reference.split(',').length);
    // Notice numbers: one per case and kind, a gapless sequence per kind (the fixtures' counties are apart).
    for (const kind of ['SCHOOL_REPORT', 'CORRECTION_ORDER'] as const) {
      const docs = cases.flatMap((c) => c.documents.filter((d) => d.kind === kind));
      expect.soft(docs, `${kind}: one per case`).toHaveLength(ESCALATIONS);
      const serials = docs.map((d) => serialOf(d.number)).sort((a, b) => a - b);
      expect.soft(serials, `${kind}: numbers 1..${ESCALATIONS}`).toEqual(serials.map((_, i) => i + 1));
    }

    for (const { fx, started: s } of handovers) {
      await eventually(
        async () => {
          const b = await sys.prisma.handoverBatch.findUniqueOrThrow({ where: { id: s!.batchId } });
          return b.status === 'CLEARED' ? b : undefined;
        },
        `handover ${fx.county} cleared`,
        180_000,
      );
      expect(
        await sys.prisma.registryRecord.count({
          where: { schoolId: fx.middle.id, schoolYear: 2027, grade: 7, status: 'ENROLLED' },
        }),
      ).toBe(PUPILS_PER_CLASS);
    }
    const handoverKeys = handovers.map((h) => h.started!.pik);
    await everyInstanceCompleted(sys.records, handoverKeys, 'every handover instance to complete', 120_000);

    // The engine's own record of user tasks: each expected task created exactly once and completed
    // (zeebe_record is written in each command's transaction; polled all the same, since a submission
    // settled from the journal completes its task a few seconds late).
    const wrongTasks = async () => {
      const { rows } = await sys.records.pool.query<{
        pik: string;
        element: string;
        created: string;
        completed: string;
      }>(
        `SELECT value->>'processInstanceKey' AS pik, value->>'elementId' AS element,
                count(DISTINCT record_key) FILTER (WHERE intent = 'CREATED') AS created,
                count(DISTINCT record_key) FILTER (WHERE intent = 'COMPLETED') AS completed
           FROM zeebe_record
          WHERE value_type = 'USER_TASK' AND value->>'processInstanceKey' = ANY($1)
          GROUP BY 1, 2`,
        [[...escalationKeys, ...handoverKeys]],
      );
      const tasks = new Map(rows.map((r) => [`${r.pik}/${r.element}`, r]));
      const wrong: string[] = [];
      for (const [keys, steps] of [
        [escalationKeys, ESCALATION_STEPS],
        [handoverKeys, HANDOVER_STEPS],
      ] as const) {
        for (const pik of keys) {
          for (const el of steps) {
            const r = tasks.get(`${pik}/${el}`);
            if (!r || Number(r.created) !== 1 || Number(r.completed) !== 1) {
              wrong.push(`${pik}/${el}: created ${r?.created ?? 0}, completed ${r?.completed ?? 0}`);
            }
          }
        }
      }
      return wrong;
    };
    let wrong = await wrongTasks();
    for (const until = Date.now() + 30_000; wrong.length > 0 && Date.now() < until;) {
      await sleep(1_000);
      wrong = await wrongTasks();
    }
    expect.soft(wrong, 'user tasks created and completed exactly once').toEqual([]);
    const { rows: incidents } = await sys.records.pool.query<{ n: string }>(
      `SELECT count(DISTINCT record_key) AS n FROM zeebe_record
        WHERE value_type = 'INCIDENT' AND intent = 'CREATED' AND value->>'processInstanceKey' = ANY($1)`,
      [[...escalationKeys, ...handoverKeys]],
    );
    expect(Number(incidents[0]!.n), 'no incidents').toBe(0);
    say(`scenario done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });
});

/**
 * Fault 5: the engine stops answering without going away (its container is paused: connections are
 * accepted by the kernel, nothing is processed). A caseworker's submission and a teacher's report get
 * 503 ENGINE_UNAVAILABLE within a bounded time instead of hanging, the inboxes still load, and once
 * the engine runs again every attempt counts once: one case per child, one home visit per task.
 */
describe('engine paused (unresponsive, not gone)', () => {
  it('answers 503 within 30 s, serves inboxes, and counts every attempt once afterwards', async () => {
    const t0 = Date.now();
    const api = apiClient(sys.apiUrl);
    const obs = newObservations();
    const [a, b] = await reportablePupils(sys.prisma, 2);
    const pikA = (await reportDropout(obs, api, a!))!;
    expect(pikA).toBeDefined();
    const teacherA = api.as(a!.teacher);
    const visit = await eventually(async () => {
      const r = await teacherA<{ data: { userTaskKey: string }[] }>(
        'GET',
        `/api/tasks?processInstanceKey=${pikA}&type=visitFamily`,
      );
      return r.body.data[0];
    }, 'the home-visit task');
    const visitBody = VISIT_FAILED();

    const engine = await dockerContainer(sys.engine);
    await engine.pause();
    try {
      const timed = async <T>(fn: () => Promise<T>) => {
        const s = Date.now();
        const r = await fn();
        return { r, ms: Date.now() - s };
      };
      // A caseworker gives up after 40 s (status 0 here); the API must have answered well before.
      const patient = (u: string) => api.as(u, { timeoutMs: 40_000 });
      const submit = await timed(() =>
        patient(a!.teacher)<{ error?: { code: string } }>(
          'POST',
          `/api/tasks/${visit.userTaskKey}/complete`,
          visitBody,
        ),
      );
      const report = await timed(() =>
        patient(b!.teacher)<{ error?: { code: string } }>('POST', '/api/dropout-reports', {
          child: b!.childId,
          lastAttendance: daysAgo(5),
          reason: '连续旷课三天',
        }),
      );
      const inbox = await timed(() => teacherA('GET', '/api/tasks?perPage=5'));
      say(
        `while paused: submission ${submit.r.status} ${submit.r.body?.error?.code ?? ''} after ${submit.ms} ms, ` +
          `report ${report.r.status} ${report.r.body?.error?.code ?? ''} after ${report.ms} ms, inbox ${inbox.r.status} after ${inbox.ms} ms`,
      );
      expect.soft(submit.r.status).toBe(503);
      // Engine unreachable, or reached without an answer (the API cannot know whether it took it).
      expect.soft(['ENGINE_UNAVAILABLE', 'SUBMISSION_UNCERTAIN']).toContain(submit.r.body?.error?.code);
      expect.soft(submit.ms).toBeLessThan(30_000);
      expect.soft(report.r.status).toBe(503);
      expect.soft(report.r.body?.error?.code).toBe('ENGINE_UNAVAILABLE');
      expect.soft(report.ms).toBeLessThan(30_000);
      expect.soft(inbox.r.status, 'the inbox reads the read model, not the engine').toBe(200);
    } finally {
      await engine.unpause();
    }
    const tResumed = Date.now();
    // Afterwards the teacher's console asks what became of the uncertain submission, as it does after
    // such an answer (the engine may also have processed the request that waited in its socket): the
    // journal delivers it — nobody has to submit again — and the flow goes on from there.
    const settled = await eventually(
      async () => {
        const r = await teacherA<{ state: string }>('GET', `/api/tasks/${visit.userTaskKey}/submission`);
        return r.status === 200 && r.body.state !== 'PENDING' ? r.body.state : undefined;
      },
      'the uncertain submission to settle',
      60_000,
    );
    say(`uncertain submission after resume: ${settled} in ${((Date.now() - tResumed) / 1000).toFixed(1)} s`);
    expect(settled).toBe('COMPLETED');
    await driveEscalation(obs, api, a!, pikA, { visitDone: true });
    // The report may have landed while the API gave up on it: then the retry is refused as a duplicate
    // (409 CONFLICT naming the open case) — either way the child must end with exactly one case.
    const again = await api.as(b!.teacher)<{ processInstanceKey?: string; error?: { code: string } }>(
      'POST',
      '/api/dropout-reports',
      { child: b!.childId, lastAttendance: daysAgo(5), reason: '连续旷课三天' },
    );
    say(`report retried after resume: ${again.status} ${again.body?.error?.code ?? ''}`);
    expect([201, 409]).toContain(again.status);
    if (again.status === 409) expect(again.body.error?.code).toBe('CONFLICT');
    expect(obs.unexpected).toEqual([]);
    expect(obs.stuck).toEqual([]);
    say(`after resume: both flows on in ${((Date.now() - tResumed) / 1000).toFixed(1)} s`);
    // A submission the API could not confirm is settled from its journal (api/tasks/completion.ts) once
    // its attempt is over: its records may come a few seconds late, but they must come, and once.
    const tSettle = Date.now();
    const visits = () =>
      sys.prisma.caseAction.count({ where: { kind: 'HOME_VISIT', case: { processInstanceKey: pikA } } });
    await eventually(
      async () => ((await visits()) >= 1 ? true : undefined),
      'the home visit to be recorded',
      120_000,
    ).catch(() => undefined);
    say(`home visit recorded ${((Date.now() - tSettle) / 1000).toFixed(1)} s after the flows went on`);
    await sleep(2_000); // a late duplicate, if any, would show now
    expect.soft(await visits(), 'one home visit recorded').toBe(1);
    const cases = await sys.prisma.dropoutCase.count({ where: { childId: b!.childId } });
    expect.soft(cases, `one case for child ${b!.childId}`).toBe(1);
    say(`scenario done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });
});
