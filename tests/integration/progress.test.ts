/**
 * Engine-backed: the bureau follows its county flows per town (GET /api/campaigns/:id/progress,
 * GET /api/handovers/:id/progress) — suspects still open, classes and pupils, open and overdue tasks
 * of the flow and of every instance it called. Last year's flows, so their statutory dates (20
 * September, 15 October, 30 June) have passed and their tasks are overdue by the calendar alone.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { chinaYear } from '../../api/domain/china-time.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { fixtureCounty, listedChildren } from './fixture-county.js';
import { as, completeTask, eventually, openTasksOf } from './helpers.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
afterAll(() => prisma.$disconnect());

const YEAR = chinaYear() - 1;
type Tasks = { open: number; overdue: number };
interface CampaignProgress {
  round: number;
  towns: { regionCode: string; name: string; suspects: number; pending: number; verified: number; tasks: Tasks }[];
  county: Tasks;
  total: { suspects: number; pending: number; verified: number; tasks: Tasks };
  byType: { elementId: string; title: string; open: number; overdue: number }[];
}

describe('progress of the county flows (engine-backed)', () => {
  it('counts a campaign’s suspects, who is still open and the overdue tasks per town, the called verifications too', async () => {
    const fx = await fixtureCounty(prisma, '379961', YEAR, 0);
    await listedChildren(prisma, fx, YEAR, 3);
    const bureau = await as(fx.users.bureau);
    const town = await as(fx.users.town);
    const started = await bureau<{ id: number; processInstanceKey: string }>('POST', '/api/campaigns/enrollment', {
      county: fx.county,
      year: YEAR,
    });
    expect(started.status).toBe(201);
    const [dispatch] = await openTasksOf(bureau, started.body.processInstanceKey, 'dispatchSuspectList');
    const url = `/api/campaigns/${started.body.id}/progress`;

    const before = await bureau<CampaignProgress>('GET', url);
    expect(before.status).toBe(200);
    expect(before.body.towns).toEqual([
      {
        regionCode: fx.town,
        name: `测试镇${fx.county}`,
        suspects: 3,
        pending: 3,
        verified: 0,
        tasks: { open: 0, overdue: 0 },
      },
    ]);
    // The dispatch is the bureau's own, due 20 September last year.
    expect(before.body.county).toEqual({ open: 1, overdue: 1 });
    expect(before.body.byType).toEqual([
      { elementId: 'dispatchSuspectList', title: expect.any(String), open: 1, overdue: 1 },
    ]);

    await completeTask(bureau, dispatch!, {});
    // Each suspect's verification runs in an instance the campaign called: the town's three tasks.
    const after = await eventually(async () => {
      const res = await bureau<CampaignProgress>('GET', url);
      return res.body.towns[0]?.tasks.open === 3 ? res.body : undefined;
    }, 'three verification tasks in the town');
    expect(after.towns[0]!.tasks).toEqual({ open: 3, overdue: 3 });
    expect(after.county).toEqual({ open: 0, overdue: 0 });
    expect(after.total).toEqual({ suspects: 3, pending: 3, verified: 0, tasks: { open: 3, overdue: 3 } });

    // One verified: no longer open, one task fewer.
    const verify = await eventually(async () => {
      const res = await town<{ data: { userTaskKey: string; processInstanceKey: string }[] }>(
        'GET',
        '/api/tasks?type=verifyChild&perPage=100',
      );
      return res.body.data[0];
    }, 'a verification task');
    await completeTask(town, verify, { outcomeCode: 'B', whereabouts: '在外省就读', evidence: '学校在读证明' });
    const done = await eventually(async () => {
      const res = await bureau<CampaignProgress>('GET', url);
      return res.body.towns[0]?.verified === 1 && res.body.towns[0].tasks.open === 2 ? res.body : undefined;
    }, 'one verified');
    expect(done.towns[0]).toMatchObject({ suspects: 3, pending: 2, verified: 1, tasks: { open: 2, overdue: 2 } });

    // The town sees its own row; a school has no such page; another county's bureau learns nothing.
    expect((await town<CampaignProgress>('GET', url)).body.towns.map((t) => t.regionCode)).toEqual([fx.town]);
    expect((await (await as(fx.users.primary))('GET', url)).status).toBe(403);
    expect((await (await as('bureau'))('GET', url)).status).toBe(404);
  });

  it('counts a handover’s classes, signed forms, pupils still open and overdue tasks per town', async () => {
    const fx = await fixtureCounty(prisma, '379962', YEAR, 4);
    const bureau = await as(fx.users.bureau);
    const started = await bureau<{ id: number; processInstanceKey: string }>('POST', '/api/handovers', {
      county: fx.county,
      year: YEAR,
    });
    expect(started.status).toBe(201);
    await openTasksOf(bureau, started.body.processInstanceKey, 'approveHandoverPlan');
    const res = await bureau<{
      towns: {
        regionCode: string;
        classes: number;
        signed: number;
        pupils: number;
        registered: number;
        open: number;
        tasks: Tasks;
      }[];
      county: Tasks;
      total: { tasks: Tasks };
    }>('GET', `/api/handovers/${started.body.id}/progress`);
    expect(res.status).toBe(200);
    expect(res.body.towns).toEqual([
      {
        regionCode: fx.town,
        name: `测试镇${fx.county}`,
        classes: 1,
        signed: 0,
        pupils: 4,
        registered: 0,
        open: 4,
        tasks: { open: 0, overdue: 0 },
      },
    ]);
    // The approval is the bureau's, due 30 June last year.
    expect(res.body.county).toEqual({ open: 1, overdue: 1 });
    expect(res.body.total.tasks).toEqual({ open: 1, overdue: 1 });
  });
});
