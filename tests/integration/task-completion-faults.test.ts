/**
 * Engine-backed: a caseworker's submission happens once or not at all — when the engine is down, and
 * when the same task is submitted twice at the same moment.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app.js';
import { createEngineClient } from '../../infra/camunda/client.js';
import { createEngineRecords, type UserTask } from '../../infra/camunda/records.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { SETTLE_AFTER_MS, settle, settleAll } from '../../api/tasks/completion.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { as, demoPeople, eventually, loginAs, pupilWithoutCase } from './helpers.js';
import { testConfig } from './test-env.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
const records = createEngineRecords(inject('engineDatabaseUrl'));
/** The same API, wired to an engine address where nothing listens. */
const deadEngine = createEngineClient(testConfig({ ENGINE_GRPC_PORT: '46599', ENGINE_REST_PORT: '28099' }));
let cutOff: FastifyInstance;
/** The same API, whose completion fails right after the engine accepted it (a crash at that moment). */
const liveEngine = createEngineClient(testConfig());
let crashing: FastifyInstance;
let people: Awaited<ReturnType<typeof demoPeople>>;
let school: Awaited<ReturnType<typeof as>>;
/** Sessions live in the database, so the cut-off API accepts the same tokens. */
let auth: { authorization: string };

beforeAll(async () => {
  cutOff = await buildApp({ prisma, engine: deadEngine, records, logger: pino({ level: 'silent' }) });
  crashing = await buildApp({
    prisma,
    engine: liveEngine,
    records,
    logger: pino({ level: 'silent' }),
    completionFaults: {
      afterEngineAccepted: () => {
        throw new Error('simulated: the process died after the engine accepted the completion');
      },
    },
  });
  people = await demoPeople(prisma);
  school = await as(people.school.username);
  auth = { authorization: `Bearer ${await loginAs(people.school.username)}` };
});
afterAll(async () => {
  await Promise.all([cutOff.close(), crashing.close()]);
  await Promise.all([deadEngine.close(), liveEngine.close(), records.close(), prisma.$disconnect()]);
});

/** A report of a pupil of the teacher's class without an open case (one case per child at a time). */
const report = async () => ({
  child: (await pupilWithoutCase(prisma, people.teacher.classId)).id,
  lastAttendance: '2026-11-16',
  reason: '连续旷课',
});
const confirmed = { decision: 'CONFIRMED', reasonCode: 'A2', plan: '每周家访', responsiblePerson: '李副校长' };

/** The school's confirmation of task `key`, submitted through `app` (a cut-off or crashing API). */
function submitThrough(app: FastifyInstance, key: string) {
  return app.inject({ method: 'POST', url: `/api/tasks/${key}/complete`, headers: auth, payload: confirmed });
}

/** The school's submission of `task`, journalled PENDING long enough ago to be settled now. */
function journalRowOldEnoughToSettle(task: UserTask) {
  return prisma.taskSubmission.create({
    data: {
      userTaskKey: task.userTaskKey,
      elementId: task.elementId,
      processInstanceKey: task.processInstanceKey,
      userId: people.school.id,
      input: confirmed,
      createdAt: new Date(Date.now() - SETTLE_AFTER_MS - 1000),
    },
  });
}

/** The engine shows the task completed, and the case holds the school's confirmation exactly once. */
async function expectCompletedOnce(task: UserTask) {
  await eventually(
    async () => ((await records.userTask(task.userTaskKey))?.state === 'COMPLETED' ? true : undefined),
    'completion',
  );
  const c = await prisma.dropoutCase.findUniqueOrThrow({
    where: { processInstanceKey: task.processInstanceKey },
    include: { actions: true },
  });
  expect(c.actions.filter((a) => a.kind === 'SCHOOL_CONFIRMED_DROPOUT')).toHaveLength(1);
}

const visited = { visitedOn: '2026-11-18', visitors: '班主任 王老师', outcome: 'PERSUASION_FAILED' };

/** A new report: the teacher's home-visit task. */
async function newVisitTask(): Promise<UserTask> {
  const teacher = await as(people.teacher.username);
  const { body } = await teacher<{ processInstanceKey: string }>('POST', '/api/dropout-reports', await report());
  const processInstanceKey = body.processInstanceKey;
  return eventually(
    async () => (await records.openUserTasks({ processInstanceKey, elementId: 'visitFamily' })).data[0],
    'the teacher task',
  );
}

/** The open school confirmation task of an instance. */
function schoolTaskOf(processInstanceKey: string): Promise<UserTask> {
  return eventually(
    async () => (await records.openUserTasks({ processInstanceKey, elementId: 'confirmDropoutBySchool' })).data[0],
    'the school task',
  );
}

/** A new report whose home visit failed: the school's confirmation task. */
async function newSchoolTask(): Promise<UserTask> {
  const visit = await newVisitTask();
  const teacher = await as(people.teacher.username);
  expect((await teacher('POST', `/api/tasks/${visit.userTaskKey}/complete`, visited)).status).toBe(204);
  return schoolTaskOf(visit.processInstanceKey);
}

/** The case's school reports (the send-school-report job's document). */
const schoolReportsOf = (processInstanceKey: string) =>
  prisma.caseDocument.findMany({ where: { kind: 'SCHOOL_REPORT', case: { processInstanceKey } } });

describe('task completion faults (engine-backed)', () => {
  it('answers 503 when the engine is unreachable and writes nothing; the task stays open', async () => {
    const task = await newSchoolTask();
    const res = await submitThrough(cutOff, task.userTaskKey);
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ error: { code: 'ENGINE_UNAVAILABLE' } });

    const c = await prisma.dropoutCase.findUniqueOrThrow({
      where: { processInstanceKey: task.processInstanceKey },
      include: { actions: true },
    });
    expect(c).toMatchObject({ status: 'OPEN', plan: null, responsiblePerson: null });
    expect(c.actions.map((a) => a.kind).sort()).toEqual(['CASE_OPENED', 'HOME_VISIT']);
    expect((await records.userTask(task.userTaskKey))?.state).toBe('CREATED');

    // The same submission through the live engine then goes through, once.
    expect((await school('POST', `/api/tasks/${task.userTaskKey}/complete`, confirmed)).status).toBe(204);
    const done = await prisma.dropoutCase.findUniqueOrThrow({
      where: { processInstanceKey: task.processInstanceKey },
      include: { actions: true },
    });
    expect(done.status).toBe('SCHOOL_CONFIRMED');
    expect(done.actions.filter((a) => a.kind === 'SCHOOL_CONFIRMED_DROPOUT')).toHaveLength(1);
  });

  it('answers 503 to a new report when the engine is unreachable', async () => {
    const teacherAuth = { authorization: `Bearer ${await loginAs(people.teacher.username)}` };
    const res = await cutOff.inject({
      method: 'POST',
      url: '/api/dropout-reports',
      headers: teacherAuth,
      payload: await report(),
    });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ error: { code: 'ENGINE_UNAVAILABLE' } });
  });

  it('answers 503 to a county flow start when the engine is unreachable and keeps no campaign or handover', async () => {
    const bureauAuth = { authorization: `Bearer ${await loginAs('bureau')}` };
    for (const url of ['/api/campaigns/enrollment', '/api/handovers']) {
      const res = await cutOff.inject({
        method: 'POST',
        url,
        headers: bureauAuth,
        // A year no flow uses, within the campaigns' limit (at most next year).
        payload: { county: '370481', year: 2001 },
      });
      expect(res.statusCode, url).toBe(503);
    }
    expect(await prisma.campaign.count({ where: { year: 2001 } })).toBe(0);
    expect(await prisma.handoverBatch.count({ where: { year: 2001 } })).toBe(0);
  });

  it('completes a task submitted twice at once exactly once: one 204, one 409, one action', async () => {
    const task = await newSchoolTask();
    const results = await Promise.all([
      school('POST', `/api/tasks/${task.userTaskKey}/complete`, confirmed),
      school('POST', `/api/tasks/${task.userTaskKey}/complete`, confirmed),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([204, 409]);
    const c = await prisma.dropoutCase.findUniqueOrThrow({
      where: { processInstanceKey: task.processInstanceKey },
      include: { actions: true },
    });
    // The school report the confirmation leads to is the worker's, and may or may not be written yet.
    expect(
      c.actions
        .map((a) => a.kind)
        .filter((k) => k !== 'SCHOOL_REPORTED')
        .sort(),
    ).toEqual(['CASE_OPENED', 'HOME_VISIT', 'SCHOOL_CONFIRMED_DROPOUT']);
  });

  it('finishes a submission the engine accepted when the commit was lost: the records appear once, from the journal', async () => {
    const task = await newSchoolTask();
    const key = task.userTaskKey;
    const res = await submitThrough(crashing, key);
    // The API cannot know whether the engine took it: it says so (and never "not submitted").
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('SUBMISSION_UNCERTAIN');
    const actionsOf = async () =>
      (
        await prisma.dropoutCase.findUniqueOrThrow({
          where: { processInstanceKey: task.processInstanceKey },
          include: { actions: true },
        })
      ).actions.filter((a) => a.kind === 'SCHOOL_CONFIRMED_DROPOUT');
    // The engine has it; our records do not (the transaction rolled back); the journal knows.
    await eventually(
      async () => ((await records.userTask(key))?.state === 'COMPLETED' ? true : undefined),
      'completion',
    );
    expect(await actionsOf()).toHaveLength(0);
    expect((await prisma.taskSubmission.findUniqueOrThrow({ where: { userTaskKey: key } })).status).toBe('PENDING');
    // A second submit is refused (the engine's task is closed), so the records cannot be written twice.
    const again = await school<{ error: { code: string } }>('POST', `/api/tasks/${key}/complete`, confirmed);
    expect([again.status, again.body.error.code]).toEqual([409, 'TASK_NOT_OPEN']);
    // A row younger than SETTLE_AFTER_MS is left to its own attempt, which may not hold the task's lock yet.
    const deps = { prisma, engine: liveEngine, records };
    const row = await prisma.taskSubmission.findUniqueOrThrow({ where: { userTaskKey: key } });
    expect(await settle(deps, key, new Date(row.createdAt.getTime() + SETTLE_AFTER_MS - 500))).toBe('PENDING');
    expect(await actionsOf()).toHaveLength(0);

    // Once older, with no attempt holding the lock, the caseworker's next look settles it: the records
    // are written from the journal, once.
    await sleep(Math.max(0, row.createdAt.getTime() + SETTLE_AFTER_MS + 100 - Date.now()));
    // Meanwhile the engine's next step, the school's written report (a job), has waited for these records
    // instead of reporting a case without its measures.
    expect(await schoolReportsOf(task.processInstanceKey)).toEqual([]);
    expect((await school('GET', `/api/tasks/${key}/submission`)).body).toEqual({ state: 'COMPLETED' });
    expect(await settle(deps, key)).toBe('COMPLETED');
    expect(await actionsOf()).toHaveLength(1);
    const c = await prisma.dropoutCase.findUniqueOrThrow({ where: { processInstanceKey: task.processInstanceKey } });
    expect(c).toMatchObject({ plan: confirmed.plan, responsiblePerson: confirmed.responsiblePerson });
    const audits = await prisma.auditEvent.findMany({ where: { action: 'TASK_COMPLETE', entityId: key } });
    expect(audits).toHaveLength(1);
    expect(audits[0]!.details).toMatchObject({ recovered: true });
    expect((await school('GET', `/api/tasks/${key}/submission`)).body).toEqual({ state: 'COMPLETED' });
    expect((await school('POST', `/api/tasks/${key}/complete`, confirmed)).status).toBe(409);
    const [schoolReport] = await eventually(async () => {
      const docs = await schoolReportsOf(task.processInstanceKey);
      return docs.length > 0 ? docs : undefined;
    }, 'the school report, once the records are written');
    expect(schoolReport!.body).toContain(`三、劝返措施：${confirmed.plan}（责任人：${confirmed.responsiblePerson}）`);
  });

  it('writes an earlier step from its journal before the next step of the case is taken', async () => {
    // The teacher's home visit: the engine accepts it, the commit is lost.
    const visit = await newVisitTask();
    const lost = await crashing.inject({
      method: 'POST',
      url: `/api/tasks/${visit.userTaskKey}/complete`,
      headers: { authorization: `Bearer ${await loginAs(people.teacher.username)}` },
      payload: visited,
    });
    expect(lost.json()).toMatchObject({ error: { code: 'SUBMISSION_UNCERTAIN' } });
    // The engine went on to the school's task while the home visit exists only in the journal.
    const schoolTask = await schoolTaskOf(visit.processInstanceKey);
    const kindsOf = async () =>
      (
        await prisma.dropoutCase.findUniqueOrThrow({
          where: { processInstanceKey: visit.processInstanceKey },
          include: { actions: { orderBy: { createdAt: 'asc' } } },
        })
      ).actions.map((a) => a.kind);
    expect(await kindsOf()).toEqual(['CASE_OPENED']);
    // The school's submission writes the home visit from the journal first, then its own records.
    expect((await school('POST', `/api/tasks/${schoolTask.userTaskKey}/complete`, confirmed)).status).toBe(204);
    expect((await kindsOf()).slice(0, 3)).toEqual(['CASE_OPENED', 'HOME_VISIT', 'SCHOOL_CONFIRMED_DROPOUT']);
    const audits = await prisma.auditEvent.findMany({
      where: { action: 'TASK_COMPLETE', entityId: visit.userTaskKey },
    });
    expect(audits.map((a) => a.details)).toEqual([expect.objectContaining({ recovered: true })]);
    // The school's report lists the visit the teacher recorded.
    const [schoolReport] = await eventually(async () => {
      const docs = await schoolReportsOf(visit.processInstanceKey);
      return docs.length > 0 ? docs : undefined;
    }, 'the school report');
    expect(schoolReport!.body).toContain('班主任 王老师');
  });

  it('drops a submission the engine never received, and delivers one whose outcome nobody saw', async () => {
    const task = await newSchoolTask();
    const key = task.userTaskKey;
    // Connection refused: certainly not sent, so no journal row is kept.
    const refused = await submitThrough(cutOff, key);
    expect(refused.statusCode).toBe(503);
    expect(await prisma.taskSubmission.count({ where: { userTaskKey: key } })).toBe(0);
    expect((await school('GET', `/api/tasks/${key}/submission`)).body).toEqual({ state: 'NOT_SUBMITTED' });

    // An outcome nobody saw (a timeout): the row stays PENDING while the engine still has the task
    // open. Settling delivers the journalled submission: records and engine completion, once.
    await journalRowOldEnoughToSettle(task);
    expect((await school('GET', `/api/tasks/${key}/submission`)).body).toEqual({ state: 'COMPLETED' });
    expect((await prisma.taskSubmission.findUniqueOrThrow({ where: { userTaskKey: key } })).status).toBe('DONE');
    await expectCompletedOnce(task);
    expect((await school('POST', `/api/tasks/${key}/complete`, confirmed)).status).toBe(409);
  });

  it('never drops a journalled submission because the read model has not seen the engine complete it yet', async () => {
    const task = await newSchoolTask();
    const key = task.userTaskKey;
    await journalRowOldEnoughToSettle(task);
    // The late request lands in the engine (as after a pause); settling follows at once, while the
    // read model may still show the task open: delivering again is refused, so the row is kept.
    await liveEngine.completeUserTask(key, { decision: confirmed.decision });
    const deps = { prisma, engine: liveEngine, records };
    const later = () => new Date(Date.now() + SETTLE_AFTER_MS + 1000);
    expect(['PENDING', 'COMPLETED']).toContain(await settle(deps, key, later()));
    expect(await prisma.taskSubmission.count({ where: { userTaskKey: key } })).toBe(1);
    // Once the read model has it, the records are written from the journal, once.
    await eventually(async () => ((await settle(deps, key, later())) === 'COMPLETED' ? true : undefined), 'settled');
    const c = await prisma.dropoutCase.findUniqueOrThrow({
      where: { processInstanceKey: task.processInstanceKey },
      include: { actions: true },
    });
    expect(c.actions.filter((a) => a.kind === 'SCHOOL_CONFIRMED_DROPOUT')).toHaveLength(1);
  });

  it('leaves a submission alone while its attempt holds the task, and settles it as soon as the attempt is over', async () => {
    const task = await newSchoolTask();
    const key = task.userTaskKey;
    await journalRowOldEnoughToSettle(task);
    const deps = { prisma, engine: liveEngine, records };
    // An attempt in flight (waiting for the engine, say) holds the task's advisory lock until it ends.
    await prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${BigInt(key)})`;
      expect(await settle(deps, key)).toBe('PENDING');
      expect((await school('GET', `/api/tasks/${key}/submission`)).body).toEqual({ state: 'PENDING' });
    });
    expect((await prisma.taskSubmission.findUniqueOrThrow({ where: { userTaskKey: key } })).status).toBe('PENDING');
    expect((await records.userTask(key))?.state).toBe('CREATED');
    // The attempt is over (its transaction ended, or its process died and PostgreSQL dropped the lock
    // with the connection): the next settling delivers the submission at once.
    expect(await settle(deps, key)).toBe('COMPLETED');
    await expectCompletedOnce(task);
  });

  it('settles the other submissions when one cannot be settled, and names that one', async () => {
    const broken = await newSchoolTask();
    const fine = await newSchoolTask();
    // A row whose user no longer exists cannot be settled; it is older, so it comes first.
    await prisma.taskSubmission.create({
      data: {
        userTaskKey: broken.userTaskKey,
        elementId: broken.elementId,
        processInstanceKey: broken.processInstanceKey,
        userId: 2_000_000_000,
        input: confirmed,
        createdAt: new Date(Date.now() - SETTLE_AFTER_MS - 5000),
      },
    });
    await journalRowOldEnoughToSettle(fine);
    const { counts, failed } = await settleAll({ prisma, engine: liveEngine, records });
    expect(failed.map((f) => f.userTaskKey)).toEqual([broken.userTaskKey]);
    expect(counts.COMPLETED).toBeGreaterThanOrEqual(1);
    await expectCompletedOnce(fine);
    await prisma.taskSubmission.delete({ where: { userTaskKey: broken.userTaskKey } });
  });
});
