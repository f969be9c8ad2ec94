/**
 * Engine-backed: the periodic duties. Their timer start events are scheduled by the engine for the
 * statutory dates (end of March and October, 1 September, each term's start); a round started by the
 * bureau for one county gives each school, town or class its return task, and the round closes once
 * all are in.
 */
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createEngineClient } from '../../infra/camunda/client.js';
import { createEngineRecords } from '../../infra/camunda/records.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { fixtureCounty } from './fixture-county.js';
import { as, eventually } from './helpers.js';
import { testConfig } from './test-env.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
const engine = createEngineClient(testConfig());
const records = createEngineRecords(inject('engineDatabaseUrl'));
const engineDb = new pg.Pool({ connectionString: inject('engineDatabaseUrl') });
afterAll(() => Promise.all([prisma.$disconnect(), engine.close(), records.close(), engineDb.end()]));

type Task = { userTaskKey: string; elementId: string; candidateGroups: string[]; dueDate: string; createdAt: string };

/** Next due instant of the timer start event the engine scheduled for the latest version of a process. */
async function scheduledStart(bpmnProcessId: string): Promise<Date> {
  const { rows } = await engineDb.query<{ due: string }>(
    `SELECT value->>'dueDate' AS due FROM zeebe_record
      WHERE value_type = 'TIMER' AND intent = 'CREATED' AND value->>'processInstanceKey' = '-1'
        AND value->>'targetElementId' = 'scheduled'
        AND value->>'processDefinitionKey' = (
          SELECT value->>'processDefinitionKey' FROM zeebe_record
           WHERE value_type = 'PROCESS' AND value->>'bpmnProcessId' = $1 ORDER BY position DESC LIMIT 1)
      ORDER BY position DESC LIMIT 1`,
    [bpmnProcessId],
  );
  expect(rows[0], `a scheduled start of ${bpmnProcessId}`).toBeDefined();
  return new Date(Number(rows[0]!.due));
}

/** Beijing wall-clock month, day and hour of an instant. */
const beijing = (d: Date) => {
  const b = new Date(d.getTime() + 8 * 3_600_000);
  return { month: b.getUTCMonth() + 1, day: b.getUTCDate(), hour: b.getUTCHours() };
};

describe('periodic duties (engine-backed)', () => {
  it('has the engine schedule each duty on its statutory date', async () => {
    const stats = beijing(await scheduledStart('dropout-statistics'));
    expect([3, 10]).toContain(stats.month);
    expect(stats.day).toBe(31);
    expect(stats.hour).toBe(9);
    expect(beijing(await scheduledStart('special-needs-census'))).toEqual({ month: 9, day: 1, hour: 9 });
    const visits = beijing(await scheduledStart('semester-home-visits'));
    expect([3, 9]).toContain(visits.month);
    expect(visits.day).toBe(1);
  });

  it('runs a statistics round for one county: every school returns its prefilled table, then the round closes', async () => {
    const fx = await fixtureCounty(prisma, '379904', 2027, 3);
    const { processInstanceKey } = await engine.startProcess('dropout-statistics', {
      county: fx.county,
      period: '2027-03',
    });
    const tasks = await eventually(async () => {
      const open = await records.openUserTasks({ processInstanceKey });
      return open.data.length === 2 ? (open.data as unknown as Task[]) : undefined;
    }, 'one task per school');
    expect(tasks.map((t) => t.candidateGroups[0]).sort()).toEqual(
      [`school:${fx.primary.id}`, `school:${fx.middle.id}`].sort(),
    );
    // Due in the parameter table's seven days.
    expect(Math.round((Date.parse(tasks[0]!.dueDate) - Date.parse(tasks[0]!.createdAt)) / 86_400_000)).toBe(7);

    const primary = await as(fx.users.primary);
    const middle = await as(fx.users.middle);
    const mine = tasks.find((t) => t.candidateGroups[0] === `school:${fx.primary.id}`)!;
    const theirs = tasks.find((t) => t.candidateGroups[0] === `school:${fx.middle.id}`)!;
    expect((await primary('POST', `/api/tasks/${theirs.userTaskKey}/complete`, { confirmed: true })).status).toBe(404);
    expect((await primary('POST', `/api/tasks/${mine.userTaskKey}/complete`, {})).status).toBe(422);
    expect((await primary('POST', `/api/tasks/${mine.userTaskKey}/complete`, { confirmed: true })).status).toBe(204);
    expect((await middle('POST', `/api/tasks/${theirs.userTaskKey}/complete`, { confirmed: true })).status).toBe(204);

    await eventually(
      async () => ((await records.processInstanceState(processInstanceKey)) === 'COMPLETED' ? true : undefined),
      'the round to close',
    );
    const returns = await prisma.dutyReturn.findMany({ where: { duty: 'DROPOUT_STATISTICS', period: '2027-03' } });
    expect(returns.map((r) => r.schoolId).sort()).toEqual([fx.primary.id, fx.middle.id].sort());
    // The prefilled table is the school's own: three pupils on the primary school's roll, no dropouts.
    const own = returns.find((r) => r.schoolId === fx.primary.id)!.figures as {
      report: { total: { enrolled: { total: number }; dropouts: { total: number } } };
    };
    expect(own.report.total.enrolled.total).toBe(3);
    expect(own.report.total.dropouts.total).toBe(0);
  });
  it('runs a census round for every town and a home-visit round for every class of the county', async () => {
    const fx = await fixtureCounty(prisma, '379908', 2027, 4);
    const town = await as(fx.users.town);
    const census = await engine.startProcess('special-needs-census', { county: fx.county, period: '2026-09' });
    const [censusTask] = await eventually(async () => {
      const open = await records.openUserTasks({ processInstanceKey: census.processInstanceKey });
      return open.data.length ? open.data : undefined;
    }, 'the town’s census task');
    expect(censusTask!.candidateGroups).toEqual([`town:${fx.town}`]);
    const negative = await town<{ error: { details: { path: string[] }[] } }>(
      'POST',
      `/api/tasks/${censusTask!.userTaskKey}/complete`,
      { surveyed: -1, newlyFound: 0, placed: 0 },
    );
    expect(negative.status).toBe(422);
    expect(negative.body.error.details.map((d) => d.path.join('.'))).toEqual(['surveyed']);
    expect(
      (
        await town('POST', `/api/tasks/${censusTask!.userTaskKey}/complete`, {
          surveyed: 12,
          newlyFound: 1,
          placed: 1,
          note: '新发现1名听障儿童，已安排送教上门',
        })
      ).status,
    ).toBe(204);

    // Home visits: one task per class with pupils on the roll that school year (the fixture's grade-6 class).
    const visits = await engine.startProcess('semester-home-visits', { county: fx.county, period: '2026-秋' });
    const [visitTask] = await eventually(async () => {
      const open = await records.openUserTasks({ processInstanceKey: visits.processInstanceKey });
      return open.data.length ? open.data : undefined;
    }, 'the class’s home-visit task');
    expect(visitTask!.candidateGroups).toEqual([`class:${fx.classId}`]);
    await prisma.user.create({
      data: {
        username: `teacher-${fx.classId}`,
        displayName: '六年级1班班主任',
        passwordHash: (await prisma.user.findUniqueOrThrow({ where: { username: fx.users.town } })).passwordHash,
        role: 'TEACHER',
        regionId: (await prisma.region.findUniqueOrThrow({ where: { code: fx.town } })).id,
        regionCode: fx.town,
        schoolId: fx.primary.id,
        classId: fx.classId,
      },
    });
    const teacher = await as(`teacher-${fx.classId}`);
    expect(
      (
        await teacher('POST', `/api/tasks/${visitTask!.userTaskKey}/complete`, {
          familiesVisited: 4,
          vulnerableVisited: 2,
        })
      ).status,
    ).toBe(204);

    for (const pik of [census.processInstanceKey, visits.processInstanceKey]) {
      await eventually(
        async () => ((await records.processInstanceState(pik)) === 'COMPLETED' ? true : undefined),
        'the round to close',
      );
    }
    const returns = await prisma.dutyReturn.findMany({ where: { regionCode: fx.town }, orderBy: { id: 'asc' } });
    expect(returns.map((r) => [r.duty, r.period, r.classId])).toEqual([
      ['SPECIAL_NEEDS_CENSUS', '2026-09', null],
      ['HOME_VISITS', '2026-秋', fx.classId],
    ]);
    expect(returns[1]!.figures).toMatchObject({ familiesVisited: 4, vulnerableVisited: 2 });
  });
});
