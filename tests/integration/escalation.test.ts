/**
 * Engine-backed: every path of the dropout escalation (processes/dropout-escalation.bpmn) against the
 * real engine, with the engine clock moved to let each statutory deadline pass — teacher, school, town,
 * 敦促, justice, referral; the child's return at any stage; the exits; the referral start; the 乐清 rule
 * of the deadline table. Each test has its own pupils: the return message is correlated by the child,
 * so two open cases of one child would both receive it.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { chinaDay, chinaYear } from '../../api/domain/china-time.js';
import { createEngineClient } from '../../infra/camunda/client.js';
import { engineClock } from '../../infra/engine/engine.js';
import { createEngineRecords, type UserTask } from '../../infra/camunda/records.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { as, completeTask, demoPeople, eventually } from './helpers.js';
import { testConfig } from './test-env.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const COUNTY = '370481';
/** Timers fire on the engine's due-date checker; the exporter then flushes the records. */
const WAIT_MS = 30_000;

const engine = createEngineClient(testConfig());
const records = createEngineRecords(inject('engineDatabaseUrl'));
const clock = engineClock(inject('engineManagementUrl'));
const prisma = createPrisma(inject('appDatabaseUrl'));

afterAll(async () => {
  await Promise.all([engine.close(), records.close(), prisma.$disconnect()]);
});

interface Pupil {
  childId: string;
  schoolId: number;
  classId: number;
  townCode: string;
  recordId: number;
  /** Usernames of the class teacher, the school and the town. */
  teacher: string;
  school: string;
  town: string;
}

/** The roles the tests give pupils; each one a child of its own (and of its own class). */
const ROLES = [
  'timeouts',
  'chain',
  'returns',
  'transferFound',
  'DEFERRED',
  'HOME_TEACHING',
  'UNFOUNDED',
  'keepPersuading',
  'referred',
  'invalid',
] as const;
const pupils = {} as Record<(typeof ROLES)[number], Pupil>;

beforeAll(async () => {
  // Away from the pupils and classes the other test files use (demoPeople).
  const people = await demoPeople(prisma);
  const usedClasses = new Set([people.teacher.classId, people.otherTeacher.classId]);
  const usedChildren = new Set([people.pupil.id, people.otherPupil.id, people.otherTownPupil.id]);
  const candidates = await prisma.child.findMany({
    where: { currentClassId: { not: null }, regionCode: { startsWith: COUNTY }, cases: { none: {} } },
    include: { registry: { orderBy: { schoolYear: 'desc' }, take: 1, include: { school: true } } },
    orderBy: { id: 'desc' },
    take: 300,
  });
  const chosen: Pupil[] = [];
  for (const child of candidates) {
    const record = child.registry[0];
    if (!record || record.status !== 'ENROLLED' || record.classId === null) continue;
    if (record.classId !== child.currentClassId || usedClasses.has(record.classId) || usedChildren.has(child.id)) {
      continue;
    }
    const school = await prisma.user.findFirst({ where: { role: 'SCHOOL', schoolId: record.schoolId } });
    if (!school) continue;
    usedClasses.add(record.classId);
    chosen.push({
      childId: child.id,
      schoolId: record.schoolId,
      classId: record.classId,
      townCode: record.school.regionCode,
      recordId: record.id,
      teacher: `teacher-${record.classId}`,
      school: school.username,
      town: `town-${record.school.regionCode}`,
    });
    if (chosen.length === ROLES.length) break;
  }
  expect(chosen).toHaveLength(ROLES.length);
  ROLES.forEach((role, i) => (pupils[role] = chosen[i]!));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A date a few days back, as China counts days (the report refuses a last attendance in the future). */
const daysAgo = (n: number) => chinaDay(new Date(Date.now() - n * DAY));

/** The class teacher reports the pupil: starts the escalation, returns the instance key. */
async function report(p: Pupil): Promise<string> {
  const teacher = await as(p.teacher);
  const res = await teacher<{ processInstanceKey: string }>('POST', '/api/dropout-reports', {
    child: p.childId,
    lastAttendance: daysAgo(5),
    reason: '连续旷课三天，电话联系不上家长',
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.processInstanceKey;
}

/** The open task of this type in the instance, once the engine has created it. */
function openTask(processInstanceKey: string, elementId: string): Promise<UserTask> {
  return eventually(
    async () => (await records.openUserTasks({ processInstanceKey, elementId })).data[0],
    `the ${elementId} task`,
    WAIT_MS,
  );
}

async function openTaskTypes(processInstanceKey: string): Promise<string[]> {
  return (await records.openUserTasks({ processInstanceKey })).data.map((t) => t.elementId);
}

async function complete(username: string, task: UserTask, body: Record<string, unknown>) {
  await completeTask(await as(username), task, body);
}

function taskState(task: UserTask, state: UserTask['state']) {
  return eventually(
    async () => ((await records.userTask(task.userTaskKey))?.state === state ? true : undefined),
    `the ${task.elementId} task to be ${state}`,
    WAIT_MS,
  );
}

function instanceState(processInstanceKey: string, state: 'ACTIVE' | 'COMPLETED') {
  return eventually(
    async () => ((await records.processInstanceState(processInstanceKey)) === state ? true : undefined),
    `the instance to be ${state}`,
    WAIT_MS,
  );
}

function caseOf(processInstanceKey: string) {
  return eventually(
    async () => (await prisma.dropoutCase.findUnique({ where: { processInstanceKey } })) ?? undefined,
    'the case to be opened',
    WAIT_MS,
  );
}

/** The case once `ready` holds for it. */
function caseWhen(processInstanceKey: string, ready: (c: Awaited<ReturnType<typeof caseOf>>) => boolean, what: string) {
  return eventually(
    async () => {
      const c = await prisma.dropoutCase.findUnique({ where: { processInstanceKey } });
      return c && ready(c) ? c : undefined;
    },
    what,
    WAIT_MS,
  );
}

async function actionKinds(caseId: string): Promise<string[]> {
  const actions = await prisma.caseAction.findMany({ where: { caseId }, orderBy: { createdAt: 'asc' } });
  return actions.map((a) => a.kind);
}

function documentOf(
  caseId: string,
  kind: 'SCHOOL_REPORT' | 'CORRECTION_ORDER' | 'URGE_ENROLLMENT' | 'JUDICIAL_NOTICE',
) {
  return eventually(
    async () => (await prisma.caseDocument.findFirst({ where: { caseId, kind } })) ?? undefined,
    `the ${kind} document`,
    WAIT_MS,
  );
}

/** The engine's day `days` from now, as China counts days: what a document's deadline must say. */
async function engineDayIn(days: number): Promise<string> {
  const { epochMilli } = await clock.now();
  return chinaDay(new Date(epochMilli + days * DAY));
}

/**
 * Waits until the engine has started the timer of `elementId` (a deadline) in the instance, checks that
 * it is due `days` days from the engine's now, and moves the clock past it. Moving the clock before the
 * timer exists (the step before it still completing) would start it from the moved clock instead.
 */
async function passDeadline(processInstanceKey: string, elementId: string, days: number) {
  const due = await timerDue(processInstanceKey, elementId);
  const { epochMilli } = await clock.now();
  expect(Math.round((due - epochMilli) / HOUR), `${elementId} due in hours`).toBe(days * 24);
  await clock.add(due - epochMilli + HOUR);
}

/** Due time of the latest timer the engine created for `elementId` in the instance. */
function timerDue(processInstanceKey: string, elementId: string): Promise<number> {
  return eventually(
    async () => {
      const { rows } = await records.pool.query<{ due: string }>(
        `SELECT value->>'dueDate' AS due FROM zeebe_record
          WHERE value_type = 'TIMER' AND intent = 'CREATED'
            AND value->>'processInstanceKey' = $1 AND value->>'targetElementId' = $2
          ORDER BY position DESC LIMIT 1`,
        [processInstanceKey, elementId],
      );
      return rows[0] ? Number(rows[0].due) : undefined;
    },
    `the ${elementId} timer`,
    WAIT_MS,
  );
}

const serialOf = (number: string) => Number(/第(\d+)号$/.exec(number)![1]);

const visitFailed = () => ({ visitedOn: daysAgo(1), visitors: '班主任 王老师', outcome: 'PERSUASION_FAILED' });
const confirmed = {
  decision: 'CONFIRMED',
  reasonCode: 'A2',
  plan: '厌学，父母在外务工；班主任每周家访，学校安排学业帮扶',
  responsiblePerson: '李副校长',
};

/** Report → the teacher's visit fails → the school's task. */
async function toSchool(p: Pupil): Promise<{ pik: string; task: UserTask }> {
  const pik = await report(p);
  await complete(p.teacher, await openTask(pik, 'visitFamily'), visitFailed());
  return { pik, task: await openTask(pik, 'confirmDropoutBySchool') };
}

/** … → the school confirms → the town's task. */
async function toTown(p: Pupil): Promise<{ pik: string; task: UserTask }> {
  const { pik, task } = await toSchool(p);
  await complete(p.school, task, confirmed);
  return { pik, task: await openTask(pik, 'orderCorrectionByTown') };
}

describe('dropout escalation (engine-backed, engine clock moved)', () => {
  it('(a) escalates stage by stage when nobody acts: teacher 3 days, school 3, town 5, then the justice deadline is reported', async () => {
    const p = pupils.timeouts;
    const pik = await report(p);
    const visit = await openTask(pik, 'visitFamily');
    expect(visit.candidateGroups).toEqual([`class:${p.classId}`]);
    const visitDue = await timerDue(pik, 'visitOverdue');
    expect(Math.round((visitDue - (await clock.now()).epochMilli) / HOUR)).toBe(3 * 24);

    await clock.add(2 * DAY);
    // Give the engine's due-date checker a chance to (wrongly) fire before the deadline.
    await sleep(1500);
    expect((await records.userTask(visit.userTaskKey))?.state).toBe('CREATED');
    expect(await openTaskTypes(pik)).toEqual(['visitFamily']);

    await clock.add(DAY + HOUR);
    const school = await openTask(pik, 'confirmDropoutBySchool');
    await taskState(visit, 'CANCELED');
    expect(school.candidateGroups).toEqual([`school:${p.schoolId}`]);

    await passDeadline(pik, 'schoolOverdue', 3);
    const town = await openTask(pik, 'orderCorrectionByTown');
    await taskState(school, 'CANCELED');
    expect(town.candidateGroups).toEqual([`town:${p.townCode}`]);

    await passDeadline(pik, 'townOverdue', 5);
    const justice = await openTask(pik, 'issueJudicialNotice');
    await taskState(town, 'CANCELED');
    expect(justice.candidateGroups).toEqual([`justice:${COUNTY}`]);
    const c = await caseOf(pik);
    expect((await actionKinds(c.id)).filter((k) => k.startsWith('ESCALATED_'))).toEqual([
      'ESCALATED_SCHOOL_OVERDUE',
      'ESCALATED_TOWN_OVERDUE',
    ]);
    // The town never acted: no correction order was issued, and the justice bureau sees the task.
    expect(await prisma.caseDocument.count({ where: { caseId: c.id } })).toBe(0);
    const asJustice = await as('justice');
    const inbox = await asJustice<{ data: UserTask[] }>('GET', `/api/tasks?processInstanceKey=${pik}`);
    expect(inbox.body.data.map((t) => t.userTaskKey)).toEqual([justice.userTaskKey]);

    // The justice deadline does not take the task away: it is reported, and the task stays open.
    await passDeadline(pik, 'justiceOverdue', 5);
    await eventually(
      async () => ((await actionKinds(c.id)).includes('ESCALATED_JUSTICE_OVERDUE') ? true : undefined),
      'the justice deadline to be reported',
      WAIT_MS,
    );
    expect((await actionKinds(c.id)).filter((k) => k.startsWith('ESCALATED_'))).toEqual([
      'ESCALATED_SCHOOL_OVERDUE',
      'ESCALATED_TOWN_OVERDUE',
      'ESCALATED_JUSTICE_OVERDUE',
    ]);
    expect((await records.userTask(justice.userTaskKey))?.state).toBe('CREATED');
    expect(await openTaskTypes(pik)).toEqual(['issueJudicialNotice']);
    expect(await records.processInstanceState(pik)).toBe('ACTIVE');
  });

  it('(b) runs the whole chain with people acting: report, 责令改正, 敦促入学, 司法文书, referral', async () => {
    const p = pupils.chain;
    const pik = await report(p);
    const visit = await openTask(pik, 'visitFamily');
    await complete(p.teacher, visit, visitFailed());
    const confirm = await openTask(pik, 'confirmDropoutBySchool');
    await complete(p.school, confirm, confirmed);

    const town = await openTask(pik, 'orderCorrectionByTown');
    expect(town.candidateGroups).toEqual([`town:${p.townCode}`]);
    const opened = await caseOf(pik);
    expect(opened).toMatchObject({
      status: 'SCHOOL_CONFIRMED',
      reasonCode: 'A2',
      plan: confirmed.plan,
      responsiblePerson: confirmed.responsiblePerson,
    });
    const year = chinaYear();
    const schoolReport = await documentOf(opened.id, 'SCHOOL_REPORT');
    expect(schoolReport.number).toMatch(new RegExp(`^校报〔${year}〕第\\d{6}号$`));
    expect(schoolReport.body).toContain('班主任 王老师');
    expect(schoolReport.body).toContain(confirmed.plan);

    await complete(p.town, town, { educatedOn: daysAgo(0), officers: '镇教育办 张主任、村委会 刘主任' });
    const order = await documentOf(opened.id, 'CORRECTION_ORDER');
    expect(order.deadline?.toISOString().slice(0, 10)).toBe(await engineDayIn(10));
    expect(order.number).toMatch(new RegExp(`^责改〔${year}〕第\\d{6}号$`));
    await caseWhen(pik, (c) => c.status === 'TOWN_ORDERED', 'the case to be TOWN_ORDERED');

    // Not before the correction period is over …
    const correctionDue = await timerDue(pik, 'correctionDeadline');
    expect(Math.round((correctionDue - (await clock.now()).epochMilli) / HOUR)).toBe(10 * 24);
    await clock.add(9 * DAY);
    await sleep(1500);
    expect(await prisma.caseDocument.count({ where: { caseId: opened.id, kind: 'URGE_ENROLLMENT' } })).toBe(0);
    // … then the 敦促入学通知书.
    await clock.add(DAY + HOUR);
    const urge = await documentOf(opened.id, 'URGE_ENROLLMENT');
    expect(urge.deadline?.toISOString().slice(0, 10)).toBe(await engineDayIn(10));
    await caseWhen(pik, (c) => c.status === 'URGED', 'the case to be URGED');

    await passDeadline(pik, 'urgeDeadline', 10);
    const justice = await openTask(pik, 'issueJudicialNotice');
    expect(justice.candidateGroups).toEqual([`justice:${COUNTY}`]);
    await complete('justice', justice, { signedBy: '滕州市司法局 赵局长' });
    const notice = await documentOf(opened.id, 'JUDICIAL_NOTICE');
    expect(notice.deadline?.toISOString().slice(0, 10)).toBe(await engineDayIn(10));
    await caseWhen(pik, (c) => c.status === 'LEGAL_NOTICE', 'the case to be LEGAL_NOTICE');

    await passDeadline(pik, 'judicialDeadline', 10);
    const decide = await openTask(pik, 'decideLegalReferral');
    expect(decide.candidateGroups).toEqual([`justice:${COUNTY}`]);
    await complete('justice', decide, { decision: 'REFER', reason: '经司法文书敦促仍拒不送子女复学，情节严重' });
    await instanceState(pik, 'COMPLETED');

    const closed = await prisma.dropoutCase.findUniqueOrThrow({ where: { processInstanceKey: pik } });
    expect(closed).toMatchObject({ status: 'REFERRED', outcome: 'REFERRED' });
    expect(closed.closedAt).not.toBeNull();
    expect(await actionKinds(closed.id)).toEqual([
      'CASE_OPENED',
      'HOME_VISIT',
      'SCHOOL_CONFIRMED_DROPOUT',
      'SCHOOL_REPORTED',
      'TOWN_EDUCATED_PARENTS',
      'DOCUMENT_CORRECTION_ORDER',
      'DOCUMENT_URGE_ENROLLMENT',
      'JUSTICE_SIGNED',
      'DOCUMENT_JUDICIAL_NOTICE',
      'REFERRED_TO_LAW',
      'CASE_CLOSED',
    ]);

    // One document of each kind, all numbers distinct, each kind numbered 1…n without gaps in the
    // county and year, this case's one after every earlier one of its kind.
    const docs = await prisma.caseDocument.findMany({ where: { caseId: closed.id }, orderBy: { issuedAt: 'asc' } });
    expect(docs.map((d) => d.kind)).toEqual([
      'SCHOOL_REPORT',
      'CORRECTION_ORDER',
      'URGE_ENROLLMENT',
      'JUDICIAL_NOTICE',
    ]);
    expect(new Set(docs.map((d) => d.number)).size).toBe(4);
    for (const doc of docs) {
      const sameKind = await prisma.caseDocument.findMany({
        where: { kind: doc.kind, regionCode: COUNTY, number: { contains: `〔${year}〕` } },
      });
      const serials = sameKind.map((d) => serialOf(d.number)).sort((a, b) => a - b);
      expect(serials, doc.kind).toEqual(serials.map((_, i) => i + 1));
      expect(serialOf(doc.number), doc.kind).toBe(sameKind.filter((d) => d.issuedAt < doc.issuedAt).length + 1);
    }
  });

  it('(c) ends the escalation when the child returns during the town stage, restores the registry and closes after follow-up care', async () => {
    const p = pupils.returns;
    const { pik, task: town } = await toTown(p);
    const c = await caseOf(pik);
    await prisma.registryRecord.update({ where: { id: p.recordId }, data: { status: 'DROPPED_OUT' } });

    const school = await as(p.school);
    const tomorrow = chinaDay(new Date(Date.now() + DAY));
    expect((await school('POST', `/api/cases/${c.id}/return`, { returnedOn: tomorrow })).status).toBe(400);
    const today = chinaDay();
    const returned = await school('POST', `/api/cases/${c.id}/return`, { returnedOn: today });
    expect(returned.status, JSON.stringify(returned.body)).toBe(202);

    await taskState(town, 'CANCELED');
    const care = await openTask(pik, 'arrangeFollowUpCare');
    expect(care.candidateGroups).toEqual([`school:${p.schoolId}`]);
    expect(await openTaskTypes(pik)).toEqual(['arrangeFollowUpCare']);
    expect(await prisma.dropoutCase.findUniqueOrThrow({ where: { id: c.id } })).toMatchObject({
      status: 'RETURNED',
      outcome: 'RETURNED',
    });
    const record = await prisma.registryRecord.findUniqueOrThrow({
      where: { id: p.recordId },
      include: { changes: true },
    });
    expect(record.status).toBe('ENROLLED');
    expect(record.changes.filter((ch) => ch.kind === 'RESUME').map((ch) => ch.date.toISOString().slice(0, 10))).toEqual(
      [today],
    );
    // Registered once: a second report of the return is refused.
    expect((await school('POST', `/api/cases/${c.id}/return`, { returnedOn: today })).status).toBe(409);

    await complete(p.school, care, {
      academic: '班主任每日课后辅导',
      psychological: '心理老师每周谈心一次',
      family: '村委会每月走访家庭',
      responsiblePerson: '王老师',
    });
    await instanceState(pik, 'COMPLETED');
    const closed = await prisma.dropoutCase.findUniqueOrThrow({ where: { id: c.id } });
    expect(closed).toMatchObject({ status: 'CLOSED', outcome: 'RETURNED', responsiblePerson: '王老师' });
    expect(closed.closedAt).not.toBeNull();
    const kinds = await actionKinds(c.id);
    expect(kinds.slice(-3)).toEqual(['CHILD_RETURNED', 'FOLLOW_UP_PLAN', 'CASE_CLOSED']);
    expect(kinds).not.toContain('TOWN_EDUCATED_PARENTS');
    expect(await prisma.caseDocument.count({ where: { caseId: c.id, kind: { not: 'SCHOOL_REPORT' } } })).toBe(0);
  });

  describe('(d) exits', () => {
    it('closes the case as TRANSFER_FOUND when the teacher finds the child studying elsewhere', async () => {
      const p = pupils.transferFound;
      const pik = await report(p);
      await complete(p.teacher, await openTask(pik, 'visitFamily'), {
        visitedOn: daysAgo(1),
        visitors: '班主任 王老师',
        outcome: 'TRANSFER_FOUND',
        whereabouts: '浙江省乐清市柳市镇第一小学',
      });
      await instanceState(pik, 'COMPLETED');
      const c = await caseOf(pik);
      expect(c).toMatchObject({ status: 'CLOSED', outcome: 'TRANSFER_FOUND' });
      expect(await actionKinds(c.id)).toEqual(['CASE_OPENED', 'HOME_VISIT', 'CASE_CLOSED']);
      expect((await records.taskHistory(pik)).map((t) => t.elementId)).not.toContain('confirmDropoutBySchool');
    });

    it.each(['DEFERRED', 'HOME_TEACHING', 'UNFOUNDED'] as const)(
      'closes the case as %s when the school so decides',
      async (decision) => {
        const p = pupils[decision];
        const { pik, task } = await toSchool(p);
        await complete(p.school, task, { decision, note: '经学校核实' });
        await instanceState(pik, 'COMPLETED');
        const c = await caseOf(pik);
        expect(c).toMatchObject({ status: 'CLOSED', outcome: decision });
        expect(await actionKinds(c.id)).toEqual(['CASE_OPENED', 'HOME_VISIT', 'SCHOOL_CLOSED_REPORT', 'CASE_CLOSED']);
        expect(await prisma.caseDocument.count({ where: { caseId: c.id } })).toBe(0);
        expect((await records.taskHistory(pik)).map((t) => t.elementId)).not.toContain('orderCorrectionByTown');
      },
    );
  });

  it('(e) goes back to the town when the justice bureau decides to keep persuading', async () => {
    const p = pupils.keepPersuading;
    const { pik, task: firstTown } = await toTown(p);
    // The justice bureau reads a case (and its child) only while the case is at its stage.
    const asJustice = await as('justice');
    const c = await caseOf(pik);
    const justiceSees = async () => {
      const [kase, child] = [
        await asJustice('GET', `/api/cases/${c.id}`),
        await asJustice('GET', `/api/children/${p.childId}`),
      ];
      expect(child.status).toBe(kase.status);
      return kase.status;
    };
    expect(await justiceSees()).toBe(404);
    // The town lets its deadline pass: straight to the justice bureau.
    await passDeadline(pik, 'townOverdue', 5);
    const justice = await openTask(pik, 'issueJudicialNotice');
    await taskState(firstTown, 'CANCELED');
    expect(await justiceSees()).toBe(200);
    await complete('justice', justice, { signedBy: '滕州市司法局 赵局长' });
    await documentOf(c.id, 'JUDICIAL_NOTICE');
    await caseWhen(pik, (x) => x.status === 'LEGAL_NOTICE', 'the case to be LEGAL_NOTICE');
    // No task is open while its notice's period runs: the case is still the justice bureau's.
    expect(await openTaskTypes(pik)).toEqual([]);
    expect(await justiceSees()).toBe(200);
    await passDeadline(pik, 'judicialDeadline', 10);
    const decide = await openTask(pik, 'decideLegalReferral');
    await complete('justice', decide, { decision: 'KEEP_PERSUADING', reason: '家长已表示愿意配合，继续由镇街督促' });

    const again = await openTask(pik, 'orderCorrectionByTown');
    // Back with the town: out of the justice bureau's sight again.
    expect(await justiceSees()).toBe(404);
    expect(again.userTaskKey).not.toBe(firstTown.userTaskKey);
    expect(again.candidateGroups).toEqual([`town:${p.townCode}`]);
    expect(await openTaskTypes(pik)).toEqual(['orderCorrectionByTown']);
    expect(await records.processInstanceState(pik)).toBe('ACTIVE');
    const kinds = await actionKinds(c.id);
    expect(kinds.slice(-1)).toEqual(['BACK_TO_TOWN']);
    expect(kinds).not.toContain('CASE_CLOSED');
    expect((await prisma.dropoutCase.findUniqueOrThrow({ where: { id: c.id } })).closedAt).toBeNull();

    // The second round works like the first: the town orders correction, a new numbered order follows.
    await complete(p.town, again, { educatedOn: daysAgo(0), officers: '镇教育办 张主任' });
    await documentOf(c.id, 'CORRECTION_ORDER');
  });

  it('(f) starts at the school when another flow refers the child, once per message id', async () => {
    const p = pupils.referred;
    const publish = () =>
      engine.publishMessage({
        name: 'dropout-referred',
        correlationKey: p.childId,
        messageId: `test-referral:${p.childId}`,
        // As the referring flows' workers publish it: kept an hour for a subscription that opens later.
        timeToLiveMs: HOUR,
        variables: {
          childId: p.childId,
          schoolId: p.schoolId,
          classId: null,
          townCode: p.townCode,
          reportedBy: null,
          reporterName: '入学核查',
          lastAttendance: null,
          reason: '入学核查认定辍学',
        },
      });
    await publish();
    // The engine refuses the same message id while the first message lives.
    await expect(publish()).rejects.toThrow(/ALREADY_EXISTS/);

    const c = await eventually(
      async () => (await prisma.dropoutCase.findFirst({ where: { childId: p.childId } })) ?? undefined,
      'the referred case',
      WAIT_MS,
    );
    expect(c).toMatchObject({ classId: null, reportedBy: null, lastAttendance: null, status: 'OPEN' });
    const school = await openTask(c.processInstanceKey, 'confirmDropoutBySchool');
    expect(school.candidateGroups).toEqual([`school:${p.schoolId}`]);
    expect((await records.taskHistory(c.processInstanceKey)).map((t) => t.elementId)).toEqual([
      'confirmDropoutBySchool',
    ]);

    // Closing the first instance must not let the duplicate start a second one either.
    await complete(p.school, school, { decision: 'UNFOUNDED', note: '已在本校正常上学' });
    await instanceState(c.processInstanceKey, 'COMPLETED');
    await sleep(2000);
    expect(await prisma.dropoutCase.count({ where: { childId: p.childId } })).toBe(1);
  });

  it('(g) refuses an incomplete form with the field named and leaves the task open', async () => {
    const p = pupils.invalid;
    const pik = await report(p);
    const visit = await openTask(pik, 'visitFamily');
    const teacher = await as(p.teacher);
    const noWhereabouts = await teacher<{ error: { code: string; details: { path: string[] }[] } }>(
      'POST',
      `/api/tasks/${visit.userTaskKey}/complete`,
      { visitedOn: daysAgo(1), visitors: '班主任 王老师', outcome: 'TRANSFER_FOUND' },
    );
    expect(noWhereabouts.status).toBe(422);
    expect(noWhereabouts.body.error.details.map((d) => d.path.join('.'))).toEqual(['whereabouts']);
    await complete(p.teacher, visit, visitFailed());

    const task = await openTask(pik, 'confirmDropoutBySchool');
    const school = await as(p.school);
    const { responsiblePerson: _omitted, ...withoutResponsible } = confirmed;
    const bad = await school<{ error: { code: string; details: { path: string[] }[] } }>(
      'POST',
      `/api/tasks/${task.userTaskKey}/complete`,
      withoutResponsible,
    );
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe('FORM_INVALID');
    expect(bad.body.error.details.map((d) => d.path.join('.'))).toEqual(['responsiblePerson']);
    expect((await records.userTask(task.userTaskKey))?.state).toBe('CREATED');
    const c = await caseOf(pik);
    expect(c).toMatchObject({ status: 'OPEN', responsiblePerson: null, plan: null });
    expect(await actionKinds(c.id)).toEqual(['CASE_OPENED', 'HOME_VISIT']);

    // Corrected, it goes through.
    await complete(p.school, task, confirmed);
    await openTask(pik, 'orderCorrectionByTown');
  });

  it('(h) has no 敦促入学通知书 stage in 乐清 (330382) and has one elsewhere, per the deadline table', async () => {
    const evaluate = async (county: string) => {
      const res = await engine.grpc.evaluateDecision({ decisionId: 'statutory-deadlines', variables: { county } });
      expect(res.failureMessage ?? '').toBe('');
      return JSON.parse(res.decisionOutput) as Record<string, unknown>;
    };
    expect(await evaluate('330382')).toMatchObject({ issueUrgeNotice: false, correctionPeriod: 'P10D' });
    expect(await evaluate(COUNTY)).toMatchObject({
      teacherVisitWithin: 'P3D',
      schoolReportWithin: 'P3D',
      townActWithin: 'P5D',
      correctionPeriod: 'P10D',
      issueUrgeNotice: true,
      urgePeriod: 'P10D',
      justiceActWithin: 'P5D',
      judicialNoticePeriod: 'P10D',
      followUpCareWithin: 'P7D',
    });
  });
});
