/**
 * Engine-backed: "overdue" on the heatmap and on the 督导看板 is measured by the engine's clock, which set
 * the due dates — not by the API server's. One review task (tests/fixtures/heatmap-probe.bpmn: due ten
 * days after it opens, at the town's group) in a county of its own; the engine clock moves eleven days
 * on, and without `asOf` both the heatmap's overdue share and the dashboard's overdue count show it. An
 * explicit `asOf` of the API server's now still shows it on time: the default is not the server's clock.
 *
 * And the dashboard's 巩固率/入学率 trend, kept in memory (api/routes/supervision.ts cachedTrend): a
 * register written after it was counted is in the figures once the background count has run.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createEngineClient } from '../../infra/camunda/client.js';
import { createEngineRecords } from '../../infra/camunda/records.js';
import { REPO_ROOT } from '../../infra/config.js';
import { createDashboard } from '../../api/routes/supervision.js';
import { groupsWithin } from '../../api/tasks/access.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { engineClock } from '../../infra/engine/engine.js';
import { as, type Caller, eventually } from './helpers.js';
import { type FixtureCounty, fixtureCounty } from './fixture-county.js';
import { testConfig } from './test-env.js';

const DAY = 86_400_000;
const PROCESS = 'test-heatmap-probe';
/** The API reads the engine's clock again after a second (api/routes/supervision.ts ENGINE_CLOCK_TTL_MS). */
const CLOCK_TTL_MS = 1000;
const engine = createEngineClient(testConfig());
const records = createEngineRecords(inject('engineDatabaseUrl'));
const prisma = createPrisma(inject('appDatabaseUrl'));
const clock = engineClock(inject('engineManagementUrl'));

interface Heat {
  asOf: string;
  sla: { elementId: string; open: number; openOverdue: number; overdueShare: number | null }[];
}
interface Dashboard {
  asOf: string;
  tasks: { townCode: string; open: number; overdue: number }[];
  verification: { daysLeft: number } | null;
}

let fx: FixtureCounty;
let bureau: Caller;

const heatmap = async (query = '') => {
  const res = await bureau<Heat>('GET', `/api/supervision/heatmap?process=${PROCESS}${query}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return { ...res.body, review: res.body.sla.find((s) => s.elementId === 'review') };
};
const dashboard = async () => {
  const res = await bureau<Dashboard>('GET', `/api/supervision/dashboard?county=${fx.county}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return { ...res.body, town: res.body.tasks.find((t) => t.townCode === fx.town) };
};
/**
 * The town's open and overdue tasks as the engine's own table has them at `asOf`: the review, and whatever
 * else reached the fixture county's town meanwhile (the periodic duties' timers start for every county, and
 * the files before this one have moved the engine clock to some date of the year).
 */
async function townTasks(asOf: string) {
  const { data } = await records.openUserTasks({ groupsAny: await groupsWithin(prisma, fx.town) });
  const overdue = data.filter((t) => t.dueDate !== null && Date.parse(t.dueDate) < Date.parse(asOf)).length;
  return { townCode: fx.town, open: data.length, overdue };
}
/** The answer's `asOf` is the engine's now (within the second the API may have read it before). */
async function expectEngineTime(asOf: string) {
  const engineNow = (await clock.now()).epochMilli;
  expect(Math.abs(Date.parse(asOf) - engineNow)).toBeLessThan(CLOCK_TTL_MS + 2000);
}

beforeAll(async () => {
  fx = await fixtureCounty(prisma, '379981', 2026, 1);
  bureau = await as(fx.users.bureau);
  await engine.grpc.deployResource({ processFilename: path.join(REPO_ROOT, 'tests/fixtures/heatmap-probe.bpmn') });
  const { processInstanceKey } = await engine.startProcess(PROCESS, {
    townCode: fx.town,
    schoolId: fx.primary.id,
    childId: fx.children[0]!.id,
    path: 'done',
  });
  await eventually(
    async () => (await records.openUserTasks({ processInstanceKey, elementId: 'review' })).data[0],
    'the review task',
  );
}, 60_000);

afterAll(async () => {
  // The clock stays where the test moved it (never backwards for the files after this one).
  await Promise.all([engine.close(), records.close(), prisma.$disconnect()]);
});

describe('overdue by the engine’s clock (heatmap and dashboard, no asOf given)', () => {
  it('shows the open review on time while the engine’s clock has not reached its due date', async () => {
    const h = await heatmap();
    expect(h.review).toMatchObject({ open: 1, openOverdue: 0, overdueShare: 0 });
    await expectEngineTime(h.asOf);
    const d = await dashboard();
    expect(d.town).toEqual(await townTasks(d.asOf));
  });

  it('shows it overdue once the engine’s clock passes the due date, though the server’s has not', async () => {
    await clock.add(11 * DAY);
    // The API may hold the engine's time of up to a second ago.
    await new Promise((r) => setTimeout(r, CLOCK_TTL_MS + 100));
    const h = await heatmap();
    expect(h.review).toMatchObject({ open: 1, openOverdue: 1, overdueShare: 1 });
    await expectEngineTime(h.asOf);
    expect(Date.parse(h.asOf) - Date.now()).toBeGreaterThan(10 * DAY);
    const d = await dashboard();
    expect(d.town).toEqual(await townTasks(d.asOf));
    expect(d.town!.overdue).toBeGreaterThanOrEqual(1); // the review, by the engine's clock
    await expectEngineTime(d.asOf);

    // The API server's own now, given explicitly, still finds the review on time.
    const byServer = await heatmap(`&asOf=${new Date().toISOString()}`);
    expect(byServer.review).toMatchObject({ open: 1, openOverdue: 0, overdueShare: 0 });
    const waiting = await bureau<{ data: { overdue: boolean }[] }>(
      'GET',
      `/api/supervision/heatmap/waiting?process=${PROCESS}&element=review`,
    );
    expect(waiting.body.data.map((w) => w.overdue)).toEqual([true]);
  });
});

describe('the dashboard’s 巩固率/入学率 trend from memory', () => {
  it('is counted for each county at the API’s start: a county’s first dashboard request finds it counted before it was sent', async () => {
    const demoBureau = await prisma.user.findFirstOrThrow({
      where: { role: 'BUREAU', username: { startsWith: 'bureau' } },
      orderBy: { id: 'asc' },
    });
    const caller = await as(demoBureau.username);
    const sent = Date.now();
    const res = await caller<{ county: string; trendComputedAt: string }>(
      'GET',
      `/api/supervision/dashboard?county=${demoBureau.regionCode}`,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(Date.parse(res.body.trendComputedAt)).toBeLessThan(sent);
  });

  it('serves the counted trend, and after a register is written counts it again in the background', async () => {
    const other = await fixtureCounty(prisma, '379982', 2026, 1);
    // No wait between a write and a recount here (60 s in the API).
    const dash = createDashboard(prisma, records.pool, { trendMinRefreshMs: 0 });
    const rate2024 = (t: { value: { year: number; retentionRate: number | null }[] }) =>
      t.value.find((y) => y.year === 2024)?.retentionRate;
    const first = await dash.cachedTrend(other.county, other.county, 2026);
    expect(first.value.map((y) => y.year)).toEqual([2022, 2023, 2024, 2025, 2026]);
    expect(rate2024(first)).toBeNull(); // no cohort of 2024 in the county
    // A graduate of 2024 on the county's register (the fixture's pupil is in grade 6 in 2025): the 2024
    // cohort is that one child, who joined in grade 9 — 1 ÷ (0 + 1 − 0) = 100 %.
    await prisma.registryRecord.create({
      data: {
        childId: other.children[0]!.id,
        schoolYear: 2024,
        schoolId: other.middle.id,
        grade: 9,
        status: 'GRADUATED',
        regionCode: other.town,
      },
    });
    // The request right after the write is answered from memory …
    expect(rate2024(await dash.cachedTrend(other.county, other.county, 2026))).toBeNull();
    // … and once PostgreSQL's statistics show the write, a later one gets the new count.
    const fresh = await eventually(async () => {
      const t = await dash.cachedTrend(other.county, other.county, 2026);
      return rate2024(t) === 100 ? t : undefined;
    }, 'the trend counted again');
    expect(fresh.at).toBeGreaterThan(first.at);
    // The statutory figure itself, counted now, agrees.
    expect(rate2024({ value: await dash.trend(other.county, other.county, 2026) })).toBe(100);
  });
});
