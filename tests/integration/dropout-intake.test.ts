/**
 * Engine-backed: the first vertical slice end to end as the people who do it — a teacher reports,
 * the worker opens the case, the school confirms — through our API, the real engine and PostgreSQL,
 * each person seeing only their own jurisdiction.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hashPassword } from '../../api/auth/password.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { DEMO_PASSWORD } from '../../infra/seed/demo.js';
import { api, as, demoPeople, eventually } from './helpers.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
afterAll(() => prisma.$disconnect());

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

async function report(reason = '连续旷课三天'): Promise<string> {
  const res = await teacher<{ processInstanceKey: string }>('POST', '/api/dropout-reports', {
    child: people.pupil.id,
    lastAttendance: '2026-11-16',
    reason,
  });
  expect(res.status).toBe(201);
  return res.body.processInstanceKey;
}

async function schoolTaskOf(processInstanceKey: string): Promise<Task> {
  return eventually(async () => {
    const res = await school<{ data: Task[] }>('GET', `/api/tasks?processInstanceKey=${processInstanceKey}`);
    return res.body.data[0];
  }, 'the school confirmation task');
}

describe('dropout report intake (engine-backed)', () => {
  it('runs teacher report → case opened → the school’s task → completion → instance completed', async () => {
    const pik = await report();
    const task = await schoolTaskOf(pik);
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
      childId: people.pupil.id,
      schoolId: people.teacher.schoolId,
      classId: people.teacher.classId,
      regionCode: people.teacher.regionCode,
      reportedBy: people.teacher.id,
      status: 'OPEN',
    });
    expect(opened.actions.map((a) => a.kind)).toEqual(['CASE_OPENED']);

    // The teacher does not work on the school's task; another school cannot even see it.
    const asTeacher = await teacher<{ data: Task[] }>('GET', `/api/tasks?processInstanceKey=${pik}`);
    expect(asTeacher.body.data).toEqual([]);
    const otherSchool = await as(people.otherSchool.username);
    expect((await otherSchool('GET', `/api/tasks/${task.userTaskKey}`)).status).toBe(404);
    expect((await otherSchool('POST', `/api/tasks/${task.userTaskKey}/complete`, { confirmed: true })).status).toBe(
      404,
    );

    expect(
      (await school('POST', `/api/tasks/${task.userTaskKey}/complete`, { confirmed: true, note: '已家访核实' })).status,
    ).toBe(204);
    const bureau = await as('bureau');
    const state = await eventually(async () => {
      const res = await bureau<{ state: string }>('GET', `/api/process-instances/${pik}`);
      return res.body.state === 'COMPLETED' ? res.body.state : undefined;
    }, 'the instance to complete');
    expect(state).toBe('COMPLETED');
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

    const closed = await prisma.dropoutCase.findUniqueOrThrow({
      where: { processInstanceKey: pik },
      include: { actions: { orderBy: { createdAt: 'asc' } } },
    });
    expect(closed.status).toBe('SCHOOL_CONFIRMED');
    expect(closed.actions.map((a) => [a.kind, a.actorUserId])).toEqual([
      ['CASE_OPENED', null],
      ['SCHOOL_CONFIRMED_DROPOUT', people.school.id],
    ]);

    // The case file tells the story in order, and the completion is in the audit log.
    const timeline = await school<{ entries: { kind: string }[] }>('GET', `/api/cases/${closed.id}/timeline`);
    expect(timeline.status).toBe(200);
    const kinds = timeline.body.entries.map((e) => e.kind);
    expect([...kinds].sort()).toEqual(['CASE_OPENED', 'SCHOOL_CONFIRMED_DROPOUT', 'TASK_COMPLETED', 'TASK_CREATED']);
    // Actions carry the database's time and task events the engine's, which the tests move forward:
    // compare within each clock only.
    expect(kinds.indexOf('CASE_OPENED')).toBeLessThan(kinds.indexOf('SCHOOL_CONFIRMED_DROPOUT'));
    expect(kinds.indexOf('TASK_CREATED')).toBeLessThan(kinds.indexOf('TASK_COMPLETED'));
    expect(
      await prisma.auditEvent.count({
        where: { action: 'TASK_COMPLETE', entityId: task.userTaskKey, userId: people.school.id },
      }),
    ).toBe(1);
  });

  it('rejects an invalid form with the field errors and leaves the task open and the case unchanged', async () => {
    const pik = await report();
    const task = await schoolTaskOf(pik);
    const bad = await school<{ error: { code: string; details: { path: string[] }[] } }>(
      'POST',
      `/api/tasks/${task.userTaskKey}/complete`,
      { confirmed: 'yes' },
    );
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe('FORM_INVALID');
    expect(bad.body.error.details.map((d) => d.path.join('.'))).toEqual(['confirmed']);

    expect((await school<Task>('GET', `/api/tasks/${task.userTaskKey}`)).body.state).toBe('CREATED');
    const c = await prisma.dropoutCase.findUniqueOrThrow({
      where: { processInstanceKey: pik },
      include: { actions: true },
    });
    expect(c.status).toBe('OPEN');
    expect(c.actions).toHaveLength(1);
  });

  it('answers a second completion of the same task with 409 and writes nothing twice', async () => {
    const pik = await report();
    const task = await schoolTaskOf(pik);
    expect((await school('POST', `/api/tasks/${task.userTaskKey}/complete`, { confirmed: false })).status).toBe(204);
    await eventually(async () => {
      const t = await school<Task>('GET', `/api/tasks/${task.userTaskKey}`);
      return t.body.state === 'COMPLETED' ? true : undefined;
    }, 'the task to be completed');

    const again = await school<{ error: { code: string } }>('POST', `/api/tasks/${task.userTaskKey}/complete`, {
      confirmed: true,
    });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'TASK_NOT_OPEN' } } });
    const c = await prisma.dropoutCase.findUniqueOrThrow({
      where: { processInstanceKey: pik },
      include: { actions: true },
    });
    expect(c).toMatchObject({ status: 'CLOSED', outcome: 'UNFOUNDED' });
    expect(c.actions.map((a) => a.kind).sort()).toEqual(['CASE_OPENED', 'SCHOOL_REJECTED_REPORT']);
  });

  it('lets a school member claim the task, keeps colleagues out of it while claimed, and unclaim it', async () => {
    const pik = await report();
    const task = await schoolTaskOf(pik);
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
    const task = await schoolTaskOf(pik);
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
    expect(await keys('type=confirmDropoutBySchool')).toHaveLength(1);
    expect(await keys('type=approveHandoverPlan')).toHaveLength(0);
    expect(
      await keys(`dueBefore=${encodeURIComponent(new Date(Date.now() + 30 * 86_400_000).toISOString())}`),
    ).toHaveLength(1);
    expect(await keys('overdue=true')).toHaveLength(0);
    expect((await bureau('POST', `/api/tasks/${task.userTaskKey}/complete`, { confirmed: true })).status).toBe(403);
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
});
