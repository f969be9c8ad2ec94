/**
 * Engine-backed: the first vertical slice end to end as the people who do it — a teacher reports,
 * the worker opens the case, the teacher visits the family, the school confirms and the case goes on
 * to the town — through our API, the real engine and PostgreSQL, each person seeing only their own
 * jurisdiction.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hashPassword } from '../../api/auth/password.js';
import { createEngineClient } from '../../infra/camunda/client.js';
import { createEngineRecords } from '../../infra/camunda/records.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { DEMO_PASSWORD } from '../../infra/seed/demo.js';
import { api, as, demoPeople, eventually, pupilWithoutCase } from './helpers.js';
import { testConfig } from './test-env.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
const engine = createEngineClient(testConfig());
const records = createEngineRecords(inject('engineDatabaseUrl'));
afterAll(async () => {
  await prisma.$disconnect();
  await engine.close();
  await records.close();
});

type Task = {
  userTaskKey: string;
  processInstanceKey: string;
  elementId: string;
  candidateGroups: string[];
  state: string;
  dueDate: string;
  createdAt: string;
};
let people: Awaited<ReturnType<typeof demoPeople>>;
let teacher: Awaited<ReturnType<typeof as>>;
let school: Awaited<ReturnType<typeof as>>;

beforeAll(async () => {
  people = await demoPeople(prisma);
  teacher = await as(people.teacher.username);
  school = await as(people.school.username);
});

/** The child of the last report: a pupil of the class without an open case (one per child at a time). */
let reportedChild: string;

async function report(reason = '连续旷课三天'): Promise<string> {
  reportedChild = (await pupilWithoutCase(prisma, people.teacher.classId)).id;
  const res = await teacher<{ processInstanceKey: string }>('POST', '/api/dropout-reports', {
    child: reportedChild,
    lastAttendance: '2026-11-16',
    reason,
  });
  expect(res.status).toBe(201);
  return res.body.processInstanceKey;
}

async function teacherTaskOf(processInstanceKey: string): Promise<Task> {
  return eventually(async () => {
    const res = await teacher<{ data: Task[] }>('GET', `/api/tasks?processInstanceKey=${processInstanceKey}`);
    return res.body.data[0];
  }, 'the teacher’s home-visit task');
}

async function schoolTaskOf(processInstanceKey: string): Promise<Task> {
  return eventually(async () => {
    const res = await school<{ data: Task[] }>('GET', `/api/tasks?processInstanceKey=${processInstanceKey}`);
    return res.body.data[0];
  }, 'the school confirmation task');
}

const visitFailed = { visitedOn: '2026-11-18', visitors: '班主任 王老师', outcome: 'PERSUASION_FAILED' };
const confirmed = {
  decision: 'CONFIRMED',
  reasonCode: 'A2',
  plan: '厌学，班主任每周家访，学校安排学业帮扶',
  responsiblePerson: '李副校长',
};

/** The teacher's visit fails: the report moves on to the school's task. */
async function visitFails(processInstanceKey: string): Promise<Task> {
  const visit = await teacherTaskOf(processInstanceKey);
  expect((await teacher('POST', `/api/tasks/${visit.userTaskKey}/complete`, visitFailed)).status).toBe(204);
  return schoolTaskOf(processInstanceKey);
}

describe('dropout report intake (engine-backed)', () => {
  it('runs teacher report → case opened → home visit → the school’s task → confirmed → on to the town', async () => {
    const pik = await report();
    const visit = await teacherTaskOf(pik);
    expect(visit).toMatchObject({
      elementId: 'visitFamily',
      candidateGroups: [`class:${people.teacher.classId}`],
      state: 'CREATED',
    });
    // [P] the teacher visits within three days.
    expect(Math.round((Date.parse(visit.dueDate) - Date.parse(visit.createdAt)) / 86_400_000)).toBe(3);
    // The school does not work on the teacher's task.
    expect((await school<{ data: Task[] }>('GET', `/api/tasks?processInstanceKey=${pik}`)).body.data).toEqual([]);

    const task = await visitFails(pik);
    expect(task).toMatchObject({
      elementId: 'confirmDropoutBySchool',
      candidateGroups: [`school:${people.teacher.schoolId}`],
      state: 'CREATED',
    });
    // The due date is the statute's three days after creation ([P] 学校 3 日内书面报告).
    expect(Math.round((Date.parse(task.dueDate) - Date.parse(task.createdAt)) / 86_400_000)).toBe(3);

    const opened = await prisma.dropoutCase.findUniqueOrThrow({
      where: { processInstanceKey: pik },
      include: { actions: true },
    });
    expect(opened).toMatchObject({
      childId: reportedChild,
      schoolId: people.teacher.schoolId,
      classId: people.teacher.classId,
      regionCode: people.teacher.regionCode,
      reportedBy: people.teacher.id,
      status: 'OPEN',
    });
    expect(opened.actions.map((a) => a.kind).sort()).toEqual(['CASE_OPENED', 'HOME_VISIT']);

    // The teacher does not work on the school's task; another school cannot even see it.
    const asTeacher = await teacher<{ data: Task[] }>('GET', `/api/tasks?processInstanceKey=${pik}`);
    expect(asTeacher.body.data).toEqual([]);
    const otherSchool = await as(people.otherSchool.username);
    expect((await otherSchool('GET', `/api/tasks/${task.userTaskKey}`)).status).toBe(404);
    expect((await otherSchool('POST', `/api/tasks/${task.userTaskKey}/complete`, confirmed)).status).toBe(404);

    expect(
      (await school('POST', `/api/tasks/${task.userTaskKey}/complete`, { ...confirmed, note: '已家访核实' })).status,
    ).toBe(204);
    // Confirmed: the school's written report goes out and the town's task opens; the instance runs on.
    const town = await as(people.town.username);
    const townTask = await eventually(async () => {
      const res = await town<{ data: Task[] }>('GET', `/api/tasks?processInstanceKey=${pik}`);
      return res.body.data[0];
    }, 'the town’s task');
    expect(townTask).toMatchObject({
      elementId: 'orderCorrectionByTown',
      candidateGroups: [`town:${people.teacher.regionCode}`],
    });
    const bureau = await as('bureau');
    const instance = await bureau<{ state: string; incidents: unknown[] }>('GET', `/api/process-instances/${pik}`);
    expect(instance.body).toMatchObject({ state: 'ACTIVE', incidents: [] });
    // Another county's bureau does not learn of the instance; an unknown key is just as unknown.
    const city = await prisma.region.findUniqueOrThrow({ where: { code: '3704' } });
    const elsewhere = await prisma.region.upsert({
      where: { code: '370499' },
      update: {},
      create: { code: '370499', name: '邻县', level: 'COUNTY', parentId: city.id },
    });
    await prisma.user.upsert({
      where: { username: 'bureau-370499' },
      update: {},
      create: {
        username: 'bureau-370499',
        displayName: '邻县教育局',
        passwordHash: await hashPassword(DEMO_PASSWORD),
        role: 'BUREAU',
        regionId: elsewhere.id,
        regionCode: elsewhere.code,
      },
    });
    const otherBureau = await as('bureau-370499');
    expect((await otherBureau('GET', `/api/process-instances/${pik}`)).status).toBe(404);
    expect((await bureau('GET', '/api/process-instances/123456789')).status).toBe(404);

    const confirmedCase = await prisma.dropoutCase.findUniqueOrThrow({
      where: { processInstanceKey: pik },
      include: { actions: { orderBy: { createdAt: 'asc' } } },
    });
    expect(confirmedCase).toMatchObject({
      status: 'SCHOOL_CONFIRMED',
      reasonCode: 'A2',
      plan: confirmed.plan,
      responsiblePerson: confirmed.responsiblePerson,
    });
    expect(confirmedCase.actions.map((a) => [a.kind, a.actorUserId])).toEqual([
      ['CASE_OPENED', null],
      ['HOME_VISIT', people.teacher.id],
      ['SCHOOL_CONFIRMED_DROPOUT', people.school.id],
      ['SCHOOL_REPORTED', null],
    ]);

    // The case file tells the story in order, and the completion is in the audit log.
    const timeline = await school<{ entries: { kind: string }[] }>('GET', `/api/cases/${confirmedCase.id}/timeline`);
    expect(timeline.status).toBe(200);
    const kinds = timeline.body.entries.map((e) => e.kind);
    expect([...kinds].sort()).toEqual([
      'CASE_OPENED',
      'DOCUMENT_SCHOOL_REPORT',
      'HOME_VISIT',
      'SCHOOL_CONFIRMED_DROPOUT',
      'SCHOOL_REPORTED',
      'TASK_COMPLETED',
      'TASK_COMPLETED',
      'TASK_CREATED',
      'TASK_CREATED',
      'TASK_CREATED',
    ]);
    // Actions carry the database's time and task events the engine's, which the tests move forward:
    // compare within each clock only.
    expect(kinds.indexOf('CASE_OPENED')).toBeLessThan(kinds.indexOf('HOME_VISIT'));
    expect(kinds.indexOf('HOME_VISIT')).toBeLessThan(kinds.indexOf('SCHOOL_CONFIRMED_DROPOUT'));
    expect(kinds.indexOf('TASK_CREATED')).toBeLessThan(kinds.indexOf('TASK_COMPLETED'));
    expect(
      await prisma.auditEvent.count({
        where: { action: 'TASK_COMPLETE', entityId: visit.userTaskKey, userId: people.teacher.id },
      }),
    ).toBe(1);
    expect(
      await prisma.auditEvent.count({
        where: { action: 'TASK_COMPLETE', entityId: task.userTaskKey, userId: people.school.id },
      }),
    ).toBe(1);
  });

  it('rejects an invalid form with the field errors and leaves the task open and the case unchanged', async () => {
    const pik = await report();
    const task = await teacherTaskOf(pik);
    const bad = await teacher<{ error: { code: string; details: { path: string[] }[] } }>(
      'POST',
      `/api/tasks/${task.userTaskKey}/complete`,
      { visitedOn: '2026-11-18', outcome: 'MAYBE' },
    );
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe('FORM_INVALID');
    expect(bad.body.error.details.map((d) => d.path.join('.'))).toEqual(['visitors', 'outcome']);

    expect((await teacher<Task>('GET', `/api/tasks/${task.userTaskKey}`)).body.state).toBe('CREATED');
    const c = await prisma.dropoutCase.findUniqueOrThrow({
      where: { processInstanceKey: pik },
      include: { actions: true },
    });
    expect(c.status).toBe('OPEN');
    expect(c.actions).toHaveLength(1);
  });

  it('answers a second completion of the same task with 409 and writes nothing twice', async () => {
    const pik = await report();
    const task = await visitFails(pik);
    expect(
      (await school('POST', `/api/tasks/${task.userTaskKey}/complete`, { decision: 'UNFOUNDED', note: '已在校' }))
        .status,
    ).toBe(204);
    await eventually(async () => {
      const t = await school<Task>('GET', `/api/tasks/${task.userTaskKey}`);
      return t.body.state === 'COMPLETED' ? true : undefined;
    }, 'the task to be completed');
    // The unfounded report closes the case (a worker, after the completion).
    await eventually(async () => {
      const c = await prisma.dropoutCase.findUniqueOrThrow({ where: { processInstanceKey: pik } });
      return c.closedAt ? true : undefined;
    }, 'the case to be closed');

    const again = await school<{ error: { code: string } }>(
      'POST',
      `/api/tasks/${task.userTaskKey}/complete`,
      confirmed,
    );
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'TASK_NOT_OPEN' } } });
    const c = await prisma.dropoutCase.findUniqueOrThrow({
      where: { processInstanceKey: pik },
      include: { actions: true },
    });
    expect(c).toMatchObject({ status: 'CLOSED', outcome: 'UNFOUNDED', plan: null, responsiblePerson: null });
    expect(c.actions.map((a) => a.kind).sort()).toEqual([
      'CASE_CLOSED',
      'CASE_OPENED',
      'HOME_VISIT',
      'SCHOOL_CLOSED_REPORT',
    ]);
  });

  it('lets a school member claim the task, keeps colleagues out of it while claimed, and unclaim it', async () => {
    const pik = await report();
    const task = await visitFails(pik);
    expect((await school('POST', `/api/tasks/${task.userTaskKey}/claim`)).status).toBe(204);
    const mine = await eventually(async () => {
      const res = await school<{ data: Task[] }>('GET', `/api/tasks?view=mine&processInstanceKey=${pik}`);
      return res.body.data[0];
    }, 'the claimed task in my view');
    expect(mine.userTaskKey).toBe(task.userTaskKey);
    expect((await school('POST', `/api/tasks/${task.userTaskKey}/unclaim`)).status).toBe(204);
    await eventually(async () => {
      const res = await school<{ data: Task[] }>('GET', `/api/tasks?view=mine&processInstanceKey=${pik}`);
      return res.body.data.length === 0 ? true : undefined;
    }, 'the task back in the group');
  });

  it('lets the bureau oversee the county’s tasks, narrowed by town, school, type and due date', async () => {
    const pik = await report();
    const task = await teacherTaskOf(pik);
    const bureau = await as('bureau');
    const keys = async (query: string) => {
      const res = await bureau<{ data: (Task & { actionable: boolean })[] }>(
        'GET',
        `/api/tasks?view=all&perPage=500&${query}`,
      );
      expect(res.status, query).toBe(200);
      return res.body.data.filter((t) => t.processInstanceKey === pik);
    };
    const seen = await keys('');
    expect(seen.map((t) => t.userTaskKey)).toEqual([task.userTaskKey]);
    expect(seen[0]!.actionable).toBe(false); // overseeing is not working on it
    expect(await keys(`town=${people.teacher.regionCode}`)).toHaveLength(1);
    expect(await keys(`town=${people.otherTown.regionCode}`)).toHaveLength(0);
    expect(await keys(`school=${people.teacher.schoolId}`)).toHaveLength(1);
    expect(await keys(`school=${people.otherSchool.schoolId}`)).toHaveLength(0);
    expect(await keys('type=visitFamily')).toHaveLength(1);
    expect(await keys('type=confirmDropoutBySchool')).toHaveLength(0);
    // Due dates are the engine's, whose clock other test files move ahead: compare with the task's own.
    const due = Date.parse(task.dueDate);
    expect(await keys(`dueBefore=${encodeURIComponent(new Date(due + 60_000).toISOString())}`)).toHaveLength(1);
    expect(await keys(`dueBefore=${encodeURIComponent(new Date(due).toISOString())}`)).toHaveLength(0);
    expect(await keys('overdue=true')).toHaveLength(0);
    expect((await bureau('POST', `/api/tasks/${task.userTaskKey}/complete`, visitFailed)).status).toBe(403);
    expect((await teacher('GET', '/api/tasks?view=all')).status).toBe(403);
  });

  it('answers unknown and malformed task keys with 404 and 400 in the error shape', async () => {
    const unknown = await school<{ error: { code: string } }>('GET', '/api/tasks/123456789');
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'TASK_NOT_FOUND' } } });
    const malformed = await school<{ error: { code: string } }>('POST', '/api/tasks/abc/complete', {});
    expect(malformed).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
  });

  it('refuses reports without a child, for a child of another class, and from anonymous callers', async () => {
    const noChild = await teacher<{ error: { code: string } }>('POST', '/api/dropout-reports', {
      lastAttendance: '2026-11-16',
      reason: '旷课',
    });
    expect(noChild).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    const otherClass = await teacher('POST', '/api/dropout-reports', {
      child: people.otherPupil.id,
      lastAttendance: '2026-11-16',
      reason: '旷课',
    });
    expect(otherClass.status).toBe(404);
    const anonymous = await api('POST', '/api/dropout-reports', {
      child: people.pupil.id,
      lastAttendance: '2026-11-16',
      reason: 'x',
    });
    expect(anonymous.status).toBe(401);
  });

  it('keeps one case per child: a second report names the open case and starts nothing', async () => {
    const pik = await report();
    const opened = await eventually(
      async () => (await prisma.dropoutCase.findUnique({ where: { processInstanceKey: pik } })) ?? undefined,
      'the case',
    );
    const again = await teacher<{ error: { code: string; message: string; details: { caseId: string } } }>(
      'POST',
      '/api/dropout-reports',
      { child: reportedChild, lastAttendance: '2026-11-17', reason: '又一次报告' },
    );
    expect(again.status).toBe(409);
    expect(again.body.error.details.caseId).toBe(opened.id);
    expect(again.body.error.message).toContain('辍-');
    expect(await prisma.dropoutCase.count({ where: { childId: reportedChild } })).toBe(1);
  });

  it('keeps one case per child when reports meet: simultaneous starts and a referral join the case that opened first', async () => {
    // What the API's 409 cannot see: two reports that both passed its check before either case existed,
    // and the verification flow's referral of the same child (the dropout-referred message start).
    const child = await pupilWithoutCase(prisma, people.teacher.classId);
    const reg = await prisma.registryRecord.findFirstOrThrow({
      where: { childId: child.id },
      orderBy: { schoolYear: 'desc' },
      include: { school: true },
    });
    const variables = {
      childId: child.id,
      schoolId: reg.schoolId,
      classId: reg.classId,
      townCode: reg.school.regionCode,
      reportedBy: people.teacher.id,
      reporterName: '班主任',
      lastAttendance: '2026-11-16',
      reason: '同时报告',
    };
    const [a, b] = await Promise.all([
      engine.startProcess('dropout-escalation', variables),
      engine.startProcess('dropout-escalation', variables),
      engine.publishMessage({
        name: 'dropout-referred',
        correlationKey: child.id,
        variables: { ...variables, reportedBy: null, reporterName: '入学核查' },
      }),
    ]);
    const joined = await eventually(async () => {
      const actions = await prisma.caseAction.findMany({
        where: { case: { childId: child.id }, kind: 'REPORT_JOINED' },
      });
      return actions.length === 2 ? actions : undefined;
    }, 'two reports joined to the open case');
    const cases = await prisma.dropoutCase.findMany({ where: { childId: child.id }, include: { actions: true } });
    expect(cases).toHaveLength(1);
    expect(cases[0]!.actions.filter((x) => x.kind === 'CASE_OPENED')).toHaveLength(1);
    expect(joined.every((x) => x.caseId === cases[0]!.id && x.note?.includes('并入本案'))).toBe(true);
    // Whichever of the three opened the case goes on; a started instance that joined ended at "joined".
    const expected = (pik: string) => (pik === cases[0]!.processInstanceKey ? 'ACTIVE' : 'COMPLETED');
    const keys = [a.processInstanceKey, b.processInstanceKey];
    await eventually(async () => {
      const s = await Promise.all(keys.map((k) => records.processInstanceState(k)));
      return s.every((st, i) => st === expected(keys[i]!)) ? true : undefined;
    }, 'the joined instances to end and the opening one to go on');
    expect(cases[0]!.status).toBe('OPEN');
  });
});
