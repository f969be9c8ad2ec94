/**
 * Engine-backed: the whole-class handover end to end on a county of its own — plan, approval, the
 * 交接表's four signatures, registration against the roster, 人籍一致, and the report-back loop that
 * traces each no-show (one studying elsewhere, one dropout handed to the escalation flow, one whose
 * household is in another county and who is not found in the first round) until the list is cleared.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPrisma } from '../../infra/db/prisma.js';
import { fixtureCounty, type FixtureCounty } from './fixture-county.js';
import { as, type Caller, completeTask as complete, eventually, openTasksOf } from './helpers.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
afterAll(() => prisma.$disconnect());

type Task = {
  userTaskKey: string;
  elementId: string;
  processInstanceKey: string;
  candidateGroups: string[];
  dueDate: string;
};

const YEAR = 2027;
let fx: FixtureCounty;

beforeAll(async () => {
  fx = await fixtureCounty(prisma, '379901', YEAR, 40);
  // Two pupils who need a transition plan: one left behind (留守), one with learning difficulties (学困).
  await prisma.child.update({ where: { id: fx.children[0]!.id }, data: { flags: ['LEFT_BEHIND'] } });
  await prisma.child.update({ where: { id: fx.children[1]!.id }, data: { flags: ['LEARNING_DIFFICULTY', 'MIGRANT'] } });
});

const tasksOf = (caller: Caller, pik: string, elementId: string, n = 1) => openTasksOf<Task>(caller, pik, elementId, n);

describe('whole-class handover (engine-backed)', () => {
  it('hands a class of 40 over and traces its 3 no-shows until the graduate list is cleared', async () => {
    const bureau = await as(fx.users.bureau);
    const town = await as(fx.users.town);
    const primary = await as(fx.users.primary);
    const middle = await as(fx.users.middle);

    const started = await bureau<{ id: number; processInstanceKey: string }>('POST', '/api/handovers', {
      county: fx.county,
      year: YEAR,
    });
    expect(started.status).toBe(201);
    const pik = started.body.processInstanceKey;

    // Plan: the class goes whole to the town's middle school; approval is due by 30 June ([G] 一).
    const [approve] = await tasksOf(bureau, pik, 'approveHandoverPlan');
    expect(Date.parse(approve!.dueDate)).toBe(Date.parse(`${YEAR}-06-30T23:59:59+08:00`));
    const line = await prisma.handoverAssignment.findFirstOrThrow({
      where: { batchId: started.body.id },
      include: { pupils: true },
    });
    expect(line).toMatchObject({ fromClassId: fx.classId, toSchoolId: fx.middle.id });
    expect(line.pupils).toHaveLength(40);
    await complete(bureau, approve!, { approved: true, lettersSigned: true });

    // Four signatures, each by its own party; the receiving school cannot sign for the sender.
    const [send] = await tasksOf(primary, pik, 'handOverRoster');
    expect(send!.candidateGroups).toEqual([`school:${fx.primary.id}`]);
    expect(Date.parse(send!.dueDate)).toBe(Date.parse(`${YEAR}-07-31T23:59:59+08:00`));
    expect((await middle('POST', `/api/tasks/${send!.userTaskKey}/complete`, {})).status).toBe(404);
    await complete(primary, send!, { paperFilesHandedOver: true, signedBy: '张校长' });
    const [receive] = await tasksOf(middle, pik, 'receiveRoster');
    await complete(middle, receive!, { rosterChecked: true, signedBy: '李校长' });
    const [countersign] = await tasksOf(town, pik, 'countersignHandover');
    await complete(town, countersign!, { signedBy: '镇教育办 王主任' });

    // The receiving school's 一人一案 for the two vulnerable pupils, each with measures and a person.
    const [support] = await tasksOf(middle, pik, 'planTransitionSupport');
    const plan = (childId: string) => ({
      childId,
      measures: '结对帮扶，每月谈心一次',
      responsiblePerson: '七年级班主任',
    });
    const onlyOne = await middle('POST', `/api/tasks/${support!.userTaskKey}/complete`, {
      plans: [plan(fx.children[0]!.id)],
    });
    expect(onlyOne.status).toBe(422);
    await complete(middle, support!, { plans: [plan(fx.children[0]!.id), plan(fx.children[1]!.id)] });
    const planned = await prisma.handoverPupil.findMany({
      where: { supportPlan: { not: null }, assignment: { batchId: started.body.id } },
    });
    expect(planned.map((p) => p.childId).sort()).toEqual([fx.children[0]!.id, fx.children[1]!.id].sort());

    const [register] = await tasksOf(middle, pik, 'registerArrivals');
    expect(Date.parse(register!.dueDate)).toBe(Date.parse(`${YEAR}-09-01T23:59:59+08:00`));
    const filed = await prisma.handoverAssignment.findUniqueOrThrow({ where: { id: line.id } });
    for (const signed of [filed.sendingSignedAt, filed.receivingSignedAt, filed.townSignedAt, filed.bureauSignedAt]) {
      expect(signed).toBeInstanceOf(Date);
    }
    expect(filed.formHtml?.match(/<section class="copy">/g)).toHaveLength(4);
    expect(filed.formHtml).toContain(fx.children[0]!.idNumber);

    // Registration: a roster that leaves out a pupil is refused whole.
    const [transferred, dropout, elsewhere] = fx.children.slice(-3);
    const noShows = new Set([transferred!.id, dropout!.id, elsewhere!.id]);
    const pupils = fx.children.map((c) => ({ childId: c.id, arrived: !noShows.has(c.id) }));
    const partial = await middle<{ error: { code: string } }>('POST', `/api/tasks/${register!.userTaskKey}/complete`, {
      pupils: pupils.slice(1),
    });
    expect(partial.status).toBe(422);
    expect(await prisma.handoverPupil.count({ where: { assignmentId: line.id, status: 'PENDING' } })).toBe(40);
    await complete(middle, register!, { pupils });

    // 人籍一致: the 37 arrivals hold the middle school's registry record for the new year.
    const matched = await eventually(async () => {
      const n = await prisma.registryRecord.count({
        where: { schoolId: fx.middle.id, schoolYear: YEAR, grade: 7, status: 'ENROLLED' },
      });
      return n === 37 ? n : undefined;
    }, '37 registry records at the middle school');
    expect(matched).toBe(37);

    // Round 1 of tracing: three tasks for the town.
    const round1 = await tasksOf(town, pik, 'traceNoShowPupil', 3);
    expect(round1).toHaveLength(3);
    const vars = new Map<string, Task>();
    for (const t of round1) {
      const child = await traceChildOf(t);
      vars.set(child, t);
    }
    expect(new Set(vars.keys())).toEqual(noShows);
    await complete(town, vars.get(transferred!.id)!, { outcome: 'TRANSFER_FOUND', whereabouts: '枣庄市第十五中学' });
    await complete(town, vars.get(dropout!.id)!, { outcome: 'DROPOUT', note: '家长称外出务工' });
    const missingCounty = await town<{ error: { details: { path: string[] }[] } }>(
      'POST',
      `/api/tasks/${vars.get(elsewhere!.id)!.userTaskKey}/complete`,
      { outcome: 'OTHER_COUNTY', whereabouts: '随父母回户籍地' },
    );
    expect(missingCounty.status).toBe(422);
    expect(missingCounty.body.error.details.map((d) => d.path.join('.'))).toEqual(['householdCounty']);
    await complete(town, vars.get(elsewhere!.id)!, { outcome: 'NOT_FOUND', note: '电话无人接听' });

    // The dropout is handed to the escalation flow: a case at the receiving school, its school task.
    const referred = await eventually(
      () => prisma.dropoutCase.findFirst({ where: { childId: dropout!.id } }).then((c) => c ?? undefined),
      'the referred case',
    );
    expect(referred).toMatchObject({ schoolId: fx.middle.id, classId: null, regionCode: fx.town });
    const escalationTasks = await tasksOf(middle, referred.processInstanceKey, 'confirmDropoutBySchool');
    expect(escalationTasks).toHaveLength(1);

    // Round 2: only the pupil not found is traced again; now the household is found in another county.
    const round2 = await eventually(async () => {
      const open = await tasksOf(town, pik, 'traceNoShowPupil');
      const fresh = open.filter((t) => !round1.some((r) => r.userTaskKey === t.userTaskKey));
      return fresh.length ? fresh : undefined;
    }, 'the second tracing round');
    expect(round2).toHaveLength(1);
    expect(await traceChildOf(round2[0]!)).toBe(elsewhere!.id);
    await complete(town, round2[0]!, {
      outcome: 'OTHER_COUNTY',
      whereabouts: '随父母回户籍地',
      householdCounty: '370102',
    });

    // 清零: the instance ends and the batch is cleared, every pupil accounted for.
    await eventually(async () => {
      const b = await prisma.handoverBatch.findUniqueOrThrow({ where: { id: started.body.id } });
      return b.status === 'CLEARED' ? b : undefined;
    }, 'the batch to be cleared');
    const statuses = await prisma.handoverPupil.groupBy({
      by: ['status'],
      where: { assignmentId: line.id },
      _count: { _all: true },
    });
    expect(Object.fromEntries(statuses.map((s) => [s.status, s._count._all]))).toEqual({
      REGISTERED: 37,
      TRANSFER_FOUND: 1,
      DROPOUT: 1,
      OTHER_COUNTY: 1,
    });
    const other = await prisma.handoverPupil.findUniqueOrThrow({
      where: { assignmentId_childId: { assignmentId: line.id, childId: elsewhere!.id } },
    });
    expect(other.traceNote).toContain('已报县人民政府通报户籍所在县');
    const state = await eventually(async () => {
      const res = await bureau<{ state: string }>('GET', `/api/process-instances/${pik}`);
      return res.body.state === 'COMPLETED' ? res.body.state : undefined;
    }, 'the handover instance to complete');
    expect(state).toBe('COMPLETED');
  });

  it('asks the bureau for receiving schools when the county has no middle school, then drafts the plan', async () => {
    const fx2 = await fixtureCounty(prisma, '379907', YEAR, 2);
    // A county whose only middle school closed: its account goes with it.
    await prisma.user.deleteMany({ where: { schoolId: fx2.middle.id } });
    await prisma.school.delete({ where: { id: fx2.middle.id } });
    const bureau = await as(fx2.users.bureau);
    const started = await bureau<{ id: number; processInstanceKey: string }>('POST', '/api/handovers', {
      county: fx2.county,
      year: YEAR,
    });
    const pik = started.body.processInstanceKey;
    // The worker's business error NO_RECEIVING_SCHOOL: the bureau's task, no incident, no plan.
    const [assign] = await tasksOf(bureau, pik, 'assignReceivingSchools');
    expect(await prisma.handoverAssignment.count({ where: { batchId: started.body.id } })).toBe(0);
    const refused = await bureau('POST', `/api/tasks/${assign!.userTaskKey}/complete`, { note: '暂无' });
    expect(refused.status).toBe(422);
    const town = await prisma.region.findUniqueOrThrow({ where: { code: fx2.town } });
    const school = await prisma.school.create({
      data: {
        code: `9${fx2.county}09`,
        name: '测试镇新建初中',
        kind: 'MIDDLE',
        regionId: town.id,
        regionCode: fx2.town,
      },
    });
    await complete(bureau, assign!, { note: '新建初中承担接收任务' });
    await tasksOf(bureau, pik, 'approveHandoverPlan');
    const line = await prisma.handoverAssignment.findFirstOrThrow({ where: { batchId: started.body.id } });
    expect(line.toSchoolId).toBe(school.id);
  });
});

/** Which pupil a tracing task is about: the engine's `noShow` variable of its multi-instance element. */
async function traceChildOf(task: Task): Promise<string> {
  const { createEngineRecords } = await import('../../infra/camunda/records.js');
  const records = createEngineRecords(inject('engineDatabaseUrl'));
  try {
    const vars = await records.taskVariables(task);
    return (vars.noShow as { childId: string }).childId;
  } finally {
    await records.close();
  }
}
