/**
 * Engine-backed: the county-wide flows started through the API — the enrollment verification's
 * comparison and the whole-class handover's draft plan run as real workers on the seeded county —
 * and bulk completion for roster-style work.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { hashPassword } from '../../api/auth/password.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { DEMO_PASSWORD } from '../../infra/seed/demo.js';
import { as, demoPeople, eventually, pupilWithoutCase } from './helpers.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
const engineDb = new pg.Pool({ connectionString: inject('engineDatabaseUrl') });
afterAll(() => Promise.all([prisma.$disconnect(), engineDb.end()]));

/** Job failures of an instance: a worker that ran before its record was committed would show here. */
async function failedJobs(processInstanceKey: string): Promise<number> {
  const { rows } = await engineDb.query<{ n: string }>(
    `SELECT count(*) AS n FROM zeebe_record WHERE value_type = 'JOB' AND intent = 'FAILED'
        AND value->>'processInstanceKey' = $1`,
    [processInstanceKey],
  );
  return Number(rows[0]!.n);
}

type Task = { userTaskKey: string; elementId: string; processInstanceKey: string };
const COUNTY = '370481';
let bureau: Awaited<ReturnType<typeof as>>;
let people: Awaited<ReturnType<typeof demoPeople>>;

beforeAll(async () => {
  bureau = await as('bureau');
  people = await demoPeople(prisma);
});

async function taskOf(caller: typeof bureau, processInstanceKey: string): Promise<Task> {
  return eventually(async () => {
    const res = await caller<{ data: Task[] }>('GET', `/api/tasks?processInstanceKey=${processInstanceKey}`);
    return res.body.data[0];
  }, 'the task');
}

describe('county flows (engine-backed)', () => {
  it('starts the enrollment verification: the worker lists every child of the base database missing from the registers', async () => {
    const year = (await prisma.importBatch.findFirstOrThrow({ where: { kind: 'HOUSEHOLD' } })).year;
    const started = await bureau<{ id: number; processInstanceKey: string }>('POST', '/api/campaigns/enrollment', {
      county: COUNTY,
      year,
    });
    expect(started.status).toBe(201);

    // Independently of the comparison's SQL: listed children without an in-school registry record that year.
    const listed = await prisma.departmentListEntry.findMany({
      // The demo county's lists only: flow tests add counties of their own.
      where: { year, kind: { not: 'REGISTRY' }, regionCode: { startsWith: COUNTY } },
      select: { childId: true },
      distinct: ['childId'],
    });
    const inSchool = await prisma.registryRecord.findMany({
      where: { schoolYear: year, status: { in: ['ENROLLED', 'SUSPENDED'] } },
      select: { childId: true },
    });
    const registered = new Set(inSchool.map((r) => r.childId));
    const missing = listed.filter((e) => !registered.has(e.childId)).map((e) => e.childId);
    expect(missing.length).toBeGreaterThan(0);

    const task = await taskOf(bureau, started.body.processInstanceKey);
    expect(task.elementId).toBe('dispatchSuspectList');
    const suspects = await prisma.suspectedChild.findMany({ where: { campaignId: started.body.id } });
    expect(suspects.map((s) => s.childId).sort()).toEqual([...missing].sort());
    const campaign = await bureau<{ status: string; suspects: number }>('GET', `/api/campaigns/${started.body.id}`);
    expect(campaign.body).toMatchObject({ status: 'VERIFYING', suspects: missing.length });
    expect(await failedJobs(started.body.processInstanceKey)).toBe(0);

    // Each town works through its own suspect list, masked; schools and teachers verify nobody.
    const someTown = suspects[0]!.regionCode;
    const townOfficer = await as(`town-${someTown}`);
    const list = await townOfficer<{ data: { regionCode: string; child: { idNumber: string } }[]; total: number }>(
      'GET',
      `/api/campaigns/${started.body.id}/suspects?perPage=500`,
    );
    expect(list.body.total).toBe(suspects.filter((x) => x.regionCode === someTown).length);
    expect(list.body.data.every((x) => x.regionCode === someTown && x.child.idNumber.includes('*'))).toBe(true);
    const school = await as(people.school.username);
    expect((await school<{ total: number }>('GET', `/api/campaigns/${started.body.id}/suspects`)).body.total).toBe(0);
    expect((await townOfficer('GET', '/api/campaigns/999999/suspects')).status).toBe(404);
    const codes = await townOfficer<{ data: { code: string }[] }>('GET', '/api/verification-codes');
    expect(codes.body.data.map((c) => c.code)).toEqual(expect.arrayContaining(['A', 'I', 'L', 'A2', 'B2']));

    expect((await bureau('POST', '/api/campaigns/enrollment', { county: COUNTY, year })).status).toBe(409);
    expect((await bureau('POST', '/api/campaigns/enrollment', { county: '370402', year })).status).toBe(403);
    const town = await as(people.town.username);
    expect((await town('POST', '/api/campaigns/enrollment', { county: COUNTY, year: year + 1 })).status).toBe(403);
    expect(await prisma.campaign.count({ where: { year: year + 1, regionCode: COUNTY } })).toBe(0);

    expect((await bureau('POST', `/api/tasks/${task.userTaskKey}/complete`, { note: '已下发各镇街' })).status).toBe(
      204,
    );
  });

  it('starts the whole-class handover: every grade-6 class goes whole to a middle school, then the plan is approved', async () => {
    const schoolYear = (
      await prisma.schoolClass.findFirstOrThrow({ where: { grade: 6, regionCode: { startsWith: COUNTY } } })
    ).schoolYear;
    const started = await bureau<{ id: number; processInstanceKey: string }>('POST', '/api/handovers', {
      county: COUNTY,
      year: schoolYear + 1,
    });
    expect(started.status).toBe(201);
    const task = await taskOf(bureau, started.body.processInstanceKey);
    expect(task.elementId).toBe('approveHandoverPlan');

    const grade6 = await prisma.schoolClass.findMany({
      where: { grade: 6, schoolYear, regionCode: { startsWith: COUNTY } },
      include: { registry: { where: { status: 'ENROLLED' } } },
    });
    const assignments = await prisma.handoverAssignment.findMany({
      where: { batchId: started.body.id },
      include: { pupils: true },
    });
    expect(assignments.map((a) => a.fromClassId).sort()).toEqual(grade6.map((c) => c.id).sort());
    for (const a of assignments) {
      const cls = grade6.find((c) => c.id === a.fromClassId)!;
      expect(a.pupils.map((p) => p.childId).sort()).toEqual(cls.registry.map((r) => r.childId).sort());
      const receiver = await prisma.school.findUniqueOrThrow({ where: { id: a.toSchoolId } });
      expect(['MIDDLE', 'NINE_YEAR']).toContain(receiver.kind);
    }
    const pending = grade6.reduce((n, c) => n + c.registry.length, 0);
    const listed = await bureau<{ classes: number; pupils: Record<string, number> }>(
      'GET',
      `/api/handovers/${started.body.id}`,
    );
    expect(listed.body).toMatchObject({ classes: grade6.length, pupils: { PENDING: pending } });
    expect(await failedJobs(started.body.processInstanceKey)).toBe(0);

    // A receiving school sees the classes it receives and their rosters, nothing else.
    const receiving = assignments[0]!;
    const receiver = await prisma.user.findFirstOrThrow({ where: { role: 'SCHOOL', schoolId: receiving.toSchoolId } });
    const asReceiver = await as(receiver.username);
    const seen = await asReceiver<{ data: { id: number; toSchoolId: number; fromSchoolId: number }[] }>(
      'GET',
      `/api/handovers/${started.body.id}/assignments?perPage=500`,
    );
    const receivedHere = assignments.filter((a) => a.toSchoolId === receiving.toSchoolId);
    const sentFromHere = await prisma.handoverAssignment.findMany({
      where: { batchId: started.body.id, fromClass: { schoolId: receiving.toSchoolId } },
    });
    expect(seen.body.data.map((a) => a.id).sort()).toEqual(
      [...new Set([...receivedHere, ...sentFromHere].map((a) => a.id))].sort(),
    );
    const roster = await asReceiver<{ data: { assignmentId: number; status: string }[]; total: number }>(
      'GET',
      `/api/handovers/${started.body.id}/pupils?assignment=${receiving.id}&perPage=500`,
    );
    expect(roster.body.total).toBe(receiving.pupils.length);
    expect(roster.body.data.every((p) => p.assignmentId === receiving.id && p.status === 'PENDING')).toBe(true);
    // A school with no part in the handover sees neither its plan lines nor its rosters.
    const town = await prisma.region.findFirstOrThrow({ where: { code: people.town.regionCode } });
    const bystander = await prisma.school.create({
      data: { code: '3137048888', name: '旁观小学', kind: 'PRIMARY', regionId: town.id, regionCode: town.code },
    });
    await prisma.user.create({
      data: {
        username: 'school-bystander',
        displayName: '旁观小学',
        passwordHash: await hashPassword(DEMO_PASSWORD),
        role: 'SCHOOL',
        regionId: town.id,
        regionCode: town.code,
        schoolId: bystander.id,
      },
    });
    const asBystander = await as('school-bystander');
    expect(
      (await asBystander<{ total: number }>('GET', `/api/handovers/${started.body.id}/assignments`)).body.total,
    ).toBe(0);
    expect((await asBystander<{ total: number }>('GET', `/api/handovers/${started.body.id}/pupils`)).body.total).toBe(
      0,
    );

    const refused = await bureau('POST', `/api/tasks/${task.userTaskKey}/complete`, { approved: false });
    expect(refused.status).toBe(422);
    expect((await bureau('POST', `/api/tasks/${task.userTaskKey}/complete`, { approved: true })).status).toBe(204);
    const batch = await prisma.handoverBatch.findUniqueOrThrow({ where: { id: started.body.id } });
    expect(batch.status).toBe('APPROVED');
    expect(batch.approvedAt).not.toBeNull();
  });

  it('bulk-completes a school’s tasks all at once, and none when one of them is invalid', async () => {
    const teacher = await as(people.teacher.username);
    const school = await as(people.school.username);
    const confirmed = { decision: 'CONFIRMED', reasonCode: 'A2', plan: '每周家访', responsiblePerson: '李副校长' };
    const keys: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await teacher<{ processInstanceKey: string }>('POST', '/api/dropout-reports', {
        child: (await pupilWithoutCase(prisma, people.teacher.classId)).id,
        lastAttendance: '2026-11-16',
        reason: `批量测试 ${i}`,
      });
      // The teacher's home visit fails first; then the school has the task.
      const visit = await taskOf(teacher, res.body.processInstanceKey);
      const visited = await teacher('POST', `/api/tasks/${visit.userTaskKey}/complete`, {
        visitedOn: '2026-11-18',
        visitors: '班主任 王老师',
        outcome: 'PERSUASION_FAILED',
      });
      expect(visited.status).toBe(204);
      keys.push((await taskOf(school, res.body.processInstanceKey)).userTaskKey);
    }
    const invalid = await school<{ error: { details: { index: number }[] } }>('POST', '/api/tasks/bulk-complete', {
      tasks: [
        { key: keys[0], data: confirmed },
        { key: keys[1], data: { decision: 'MAYBE' } },
      ],
    });
    expect(invalid.status).toBe(422);
    expect(invalid.body.error.details.map((d) => d.index)).toEqual([1]);
    const stillOpen = await school<{ state: string }>('GET', `/api/tasks/${keys[0]}`);
    expect(stillOpen).toMatchObject({ status: 200, body: { state: 'CREATED' } });
    expect(await prisma.caseAction.count({ where: { idempotencyKey: { in: keys.map((k) => `usertask:${k}`) } } })).toBe(
      0,
    );

    const done = await school<{ results: { key: string; ok: boolean }[] }>('POST', '/api/tasks/bulk-complete', {
      tasks: keys.map((key) => ({ key, data: confirmed })),
    });
    expect(done.status).toBe(200);
    expect(done.body.results).toEqual(keys.map((key) => ({ key, ok: true })));
    expect(await prisma.caseAction.count({ where: { idempotencyKey: { in: keys.map((k) => `usertask:${k}`) } } })).toBe(
      2,
    );
  });
});
