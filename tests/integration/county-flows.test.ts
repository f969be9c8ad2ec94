/**
 * Engine-backed: the county-wide flows started through the API — the enrollment verification's
 * comparison and the whole-class handover's draft plan run as real workers on the seeded county —
 * and bulk completion for roster-style work.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { createPrisma } from '../../infra/db/prisma.js';
import { as, demoPeople, eventually } from './helpers.js';

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
      where: { year, kind: { not: 'REGISTRY' } },
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

    expect((await bureau('POST', '/api/campaigns/enrollment', { county: COUNTY, year })).status).toBe(409);
    expect((await bureau('POST', '/api/campaigns/enrollment', { county: '370402', year })).status).toBe(403);
    const town = await as(people.town.username);
    expect((await town('POST', '/api/campaigns/enrollment', { county: COUNTY, year: year + 1 })).status).toBe(403);
    expect(await prisma.campaign.count({ where: { year: year + 1 } })).toBe(0);

    expect((await bureau('POST', `/api/tasks/${task.userTaskKey}/complete`, { note: '已下发各镇街' })).status).toBe(
      204,
    );
  });

  it('starts the whole-class handover: every grade-6 class goes whole to a middle school, then the plan is approved', async () => {
    const schoolYear = (await prisma.schoolClass.findFirstOrThrow({ where: { grade: 6 } })).schoolYear;
    const started = await bureau<{ id: number; processInstanceKey: string }>('POST', '/api/handovers', {
      county: COUNTY,
      year: schoolYear + 1,
    });
    expect(started.status).toBe(201);
    const task = await taskOf(bureau, started.body.processInstanceKey);
    expect(task.elementId).toBe('approveHandoverPlan');

    const grade6 = await prisma.schoolClass.findMany({
      where: { grade: 6, schoolYear },
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
    const keys: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await teacher<{ processInstanceKey: string }>('POST', '/api/dropout-reports', {
        child: people.pupil.id,
        lastAttendance: '2026-11-16',
        reason: `批量测试 ${i}`,
      });
      keys.push((await taskOf(school, res.body.processInstanceKey)).userTaskKey);
    }
    const invalid = await school<{ error: { details: { index: number }[] } }>('POST', '/api/tasks/bulk-complete', {
      tasks: [
        { key: keys[0], data: { confirmed: true } },
        { key: keys[1], data: { confirmed: 'maybe' } },
      ],
    });
    expect(invalid.status).toBe(422);
    expect(invalid.body.error.details.map((d) => d.index)).toEqual([1]);
    const stillOpen = await school<{ total: number }>('GET', `/api/tasks/${keys[0]}`);
    expect(stillOpen.status).toBe(200);
    expect(await prisma.caseAction.count({ where: { idempotencyKey: { in: keys.map((k) => `usertask:${k}`) } } })).toBe(
      0,
    );

    const done = await school<{ results: { key: string; ok: boolean }[] }>('POST', '/api/tasks/bulk-complete', {
      tasks: keys.map((key) => ({ key, data: { confirmed: true } })),
    });
    expect(done.status).toBe(200);
    expect(done.body.results).toEqual(keys.map((key) => ({ key, ok: true })));
    expect(await prisma.caseAction.count({ where: { idempotencyKey: { in: keys.map((k) => `usertask:${k}`) } } })).toBe(
      2,
    );
  });
});
