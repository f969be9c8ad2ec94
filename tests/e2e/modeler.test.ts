/**
 * Browser, engine-backed: a policy officer changes the town's deadline (镇街办理期限, townActWithin) in the
 * deadline table on the console's 流程设计 page, deploys it with a comment, and the case reported after it
 * gets the new deadline while the case reported before keeps the old one (the escalation reads the table
 * once, when the case starts). A supervisor's 流程热力图 of the day the cases started shows the shift: six
 * days into the town's stage the old case has gone on to 司法局 and the new one still waits at the town;
 * the supervisor drills into both elements. The editor, its live validation, the version diff and the
 * shifted heatmap are photographed. The table is rolled back (through the same API) at the end, so later
 * files run on the deadlines of processes/.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createEngineRecords } from '../../infra/camunda/records.js';
import { engineClock } from '../../infra/engine/engine.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { as, demoPeople, eventually } from '../integration/helpers.js';
import { launchBrowser, newPage, screenshot, signIn } from './browser.js';

const TABLE = 'Definitions_statutoryDeadlines';
/** The county's own rule, drafted from the default one in the console (the default stays as it is). */
const CELL = 'rule_370481_townActWithin';
const PROCESS = 'dropout-escalation';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** China time is UTC+8 all year: the heatmap's day filters are China-time days. */
const CHINA = 8 * HOUR;
const TOWN_TASK = 'orderCorrectionByTown';
/** Where a case goes when the town's deadline passes (recordTownOverdue → 司法局). */
const JUSTICE_TASK = 'issueJudicialNotice';
/** Timers fire on the engine's due-date checker; the read model then shows the next task. */
const WAIT_MS = 30_000;

const prisma = createPrisma(inject('appDatabaseUrl'));
const records = createEngineRecords(inject('engineDatabaseUrl'));
let browser: Browser;
let page: Page;
let versionBefore: number;
let processVersionBefore: number;
const clock = engineClock(inject('engineManagementUrl'));

async function latestVersion(kind = 'decision', id = TABLE): Promise<number> {
  const policy = await as('policy');
  const res = await policy<{ data: { version: number }[] }>('GET', `/api/diagrams/${kind}/${id}/versions`);
  return res.body.data[0]!.version;
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

/** Moves the engine clock an hour past the later of the instances' `elementId` deadlines. */
async function passDeadline(instances: string[], elementId: string): Promise<void> {
  const due = Math.max(...(await Promise.all(instances.map((i) => timerDue(i, elementId)))));
  const { epochMilli } = await clock.now();
  await clock.add(due - epochMilli + HOUR);
}

function openTask(processInstanceKey: string, elementId: string) {
  return eventually(
    async () => (await records.openUserTasks({ processInstanceKey, elementId })).data[0],
    `the ${elementId} task`,
    WAIT_MS,
  );
}

/** The deadlines the escalation instance read from the table when it started. */
function deadlinesOf(processInstanceKey: string) {
  return eventually(async () => {
    const { rows } = await records.pool.query<{ value: { townActWithin: string } }>(
      `SELECT value FROM engine_variable WHERE process_instance_key = $1 AND name = 'deadlines' LIMIT 1`,
      [processInstanceKey],
    );
    return rows[0]?.value;
  }, `deadlines of ${processInstanceKey}`);
}

interface Heat {
  instances: number;
  activeInstances: number;
  elements: { elementId: string; active: number; instances: number }[];
  sla: { elementId: string; open: number; openOverdue: number }[];
}

interface Waiting {
  total: number;
  data: { processInstanceKey: string; dueDate: string | null; overdue: boolean; child: { name: string } | null }[];
}

/**
 * Moves the engine clock just past the next midnight, China time, and returns that day: the heatmap's
 * 发起日期自 that day then holds only the cases this test reports, whatever earlier files left running (their
 * instances move on with the clock too). Forward only, like every move of the shared clock.
 */
async function startFreshDay(): Promise<string> {
  const { epochMilli } = await clock.now();
  const midnight = Math.ceil((epochMilli + CHINA) / DAY) * DAY - CHINA;
  await clock.add(midnight - epochMilli + 60_000);
  return new Date(midnight + CHINA).toISOString().slice(0, 10);
}

/** The supervisor's heatmap of the escalation's latest version, instances started on or after `from`. */
async function heatmapOf(from: string, asOf?: number): Promise<Heat> {
  const supervisor = await as('supervisor');
  const at = asOf ? `&asOf=${new Date(asOf).toISOString()}` : '';
  const res = await supervisor<Heat>('GET', `/api/supervision/heatmap?process=${PROCESS}&from=${from}${at}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

async function waitingAt(from: string, elementId: string, asOf: number): Promise<Waiting> {
  const supervisor = await as('supervisor');
  const res = await supervisor<Waiting>(
    'GET',
    `/api/supervision/heatmap/waiting?process=${PROCESS}&from=${from}&element=${elementId}&asOf=${new Date(asOf).toISOString()}`,
  );
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** The figures the heatmap writes on an element in 频次 mode (heat.ts), or undefined when none reached it. */
function figures(heat: Heat, elementId: string): string | undefined {
  const e = heat.elements.find((x) => x.elementId === elementId);
  return e && `在办 ${e.active} · 到达 ${e.instances}`;
}

/**
 * Opens 流程热力图 (the escalation, latest version, 频次) filtered to instances started on or after `from`,
 * and expects on each of `elementIds` the figures of `heat` (the API's), or none where the API has none.
 */
async function expectHeatmap(page: Page, from: string, heat: Heat, elementIds: string[]): Promise<void> {
  // Opened afresh, as a supervisor coming back to it (going to the same #/heatmaps would not even remount it).
  if (page.url().endsWith('#/heatmaps')) await page.reload();
  else await page.goto('/#/heatmaps');
  await page.getByLabel('发起日期自').fill(from);
  await expect
    .poll(() => page.locator('[data-testid=heatmap-legend]').innerText(), { timeout: 20_000 })
    .toContain(`共 ${heat.instances} 个流程实例，在办 ${heat.activeInstances}`);
  const drawn = elementIds.filter((id) => figures(heat, id));
  for (const id of drawn) {
    await expect.poll(() => page.locator(`[data-testid=heat-${id}]`).textContent()).toBe(figures(heat, id));
  }
  for (const id of elementIds.filter((x) => !drawn.includes(x))) {
    expect(await page.locator(`[data-testid=heat-${id}]`).count(), id).toBe(0);
  }
}

/** Clicks an element of the heatmap and returns the rows of its waiting list once there are `rows` of them. */
async function drillInto(page: Page, elementId: string, name: string, rows: number): Promise<string[]> {
  await page.locator(`g[data-element-id=${elementId}]`).first().click();
  const list = page.locator('[data-testid=waiting-list]');
  await expect.poll(() => list.innerText()).toContain(`停留在「${name}」的儿童与案件（${rows}）`);
  await expect.poll(() => list.locator('[data-testid=waiting-row]').count()).toBe(rows);
  return list.locator('[data-testid=waiting-row]').allInnerTexts();
}

async function report(childId: string, teacher: string): Promise<string> {
  const caller = await as(teacher);
  const res = await caller<{ processInstanceKey: string }>('POST', '/api/dropout-reports', {
    child: childId,
    lastAttendance: new Date(Date.now() - 5 * 86_400_000).toISOString().slice(0, 10),
    reason: '连续旷课三天，电话联系不上家长',
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.processInstanceKey;
}

beforeAll(async () => {
  browser = await launchBrowser();
  page = await newPage(browser);
  versionBefore = await latestVersion();
  processVersionBefore = await latestVersion('process', PROCESS);
});

afterAll(async () => {
  // Back to the table of processes/ for the files that run after this one.
  if (versionBefore && (await latestVersion()) !== versionBefore) {
    const policy = await as('policy');
    const res = await policy('POST', `/api/diagrams/decision/${TABLE}/versions/${versionBefore}/rollback`, {
      comment: '端到端测试结束，恢复原期限',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
  if (processVersionBefore && (await latestVersion('process', PROCESS)) !== processVersionBefore) {
    const policy = await as('policy');
    const res = await policy('POST', `/api/diagrams/process/${PROCESS}/versions/${processVersionBefore}/rollback`, {
      comment: '端到端测试结束，恢复原流程',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
  await browser?.close();
  await Promise.all([prisma.$disconnect(), records.close()]);
});

describe('policy officer edits the deadline table', () => {
  // The time limit is a limit, not a timing: two browser sessions and three deadline moves (71 s seen at load 16).
  it('changes the town’s deadline, deploys with a comment; a new case follows it, an old one keeps its own, and the supervisor’s heatmap shows it', async () => {
    const { teacher } = await demoPeople(prisma);
    // Two pupils without a case, chosen before either is reported (the case row is the worker's, a moment later).
    const [oldPupil, newPupil] = await prisma.child.findMany({
      where: { currentClassId: teacher.classId, cases: { none: {} } },
      orderBy: { id: 'desc' },
      take: 2,
    });
    const day = await startFreshDay();
    const oldCase = await report(oldPupil!.id, teacher.username);
    expect((await deadlinesOf(oldCase)).townActWithin).toBe('P5D');
    await openTask(oldCase, 'visitFamily');

    // Before the deploy, the supervisor's heatmap of the day: the old case at the home visit, nobody at the town.
    const supervisor = await newPage(browser);
    await signIn(supervisor, 'supervisor');
    const before = await heatmapOf(day);
    expect(figures(before, 'visitFamily')).toBe('在办 1 · 到达 1');
    expect(figures(before, TOWN_TASK)).toBeUndefined();
    await expectHeatmap(supervisor, day, before, ['escalation', 'visitFamily', TOWN_TASK, JUSTICE_TASK]);

    await signIn(page, 'policy');
    await page.goto(`/#/modeler/decision/${TABLE}`);
    await page.click('[data-testid=add-county-rule]', { timeout: 20_000 });
    const cell = page.locator(`[data-testid="cell-${CELL}"]`);
    await expect.poll(() => cell.inputValue(), { timeout: 20_000 }).toBe('"P5D"');
    await cell.fill('"P7D"');
    await page.locator(`[data-testid="source-${CELL}"]`).fill('[P] 镇街办理期限由5日延长为7日（县政策调整）');
    // Live validation: the draft is checked as a deploy would check it.
    await expect.poll(() => page.locator('[data-testid=validation-ok]').count(), { timeout: 20_000 }).toBe(1);
    await screenshot(page, 'modeler-decision-table');
    await page.click('[data-testid=deploy]');
    await page.fill('[data-testid=comment-dialog] textarea[name=comment]', '县政策调整：镇街办理期限改为7日');
    await page.click('[data-testid=confirm-deploy]');
    await expect.poll(() => latestVersion(), { timeout: 20_000 }).toBe(versionBefore + 1);

    // The history says who, when and why.
    await page.click('[data-testid=tab-versions]');
    const row = page.locator(`[data-testid="version-${versionBefore + 1}"]`);
    await expect.poll(() => row.textContent(), { timeout: 20_000 }).toContain('县政策调整：镇街办理期限改为7日');
    expect(await row.textContent()).toContain('policy');

    const newCase = await report(newPupil!.id, teacher.username);
    expect((await deadlinesOf(newCase)).townActWithin).toBe('P7D');
    expect((await deadlinesOf(oldCase)).townActWithin).toBe('P5D');

    // Nobody acts: the teacher's and the school's deadlines pass for both cases, and each town task gets
    // the deadline its case read — 5 days for the old case, 7 for the new.
    await passDeadline([oldCase, newCase], 'visitOverdue');
    await passDeadline([oldCase, newCase], 'schoolOverdue');
    const [oldTown, newTown] = await Promise.all([
      openTask(oldCase, 'orderCorrectionByTown'),
      openTask(newCase, 'orderCorrectionByTown'),
    ]);
    const now = (await clock.now()).epochMilli;
    const hoursLeft = async (pik: string) => Math.round(((await timerDue(pik, 'townOverdue')) - now) / HOUR);
    expect(await hoursLeft(oldCase)).toBe(5 * 24);
    expect(await hoursLeft(newCase)).toBe(7 * 24);
    // Six days on: the old case's town deadline has passed and it moved on; the new case's town still has a day.
    await clock.add(6 * 24 * HOUR);
    await eventually(
      async () => ((await records.userTask(oldTown.userTaskKey))?.state === 'CANCELED' ? true : undefined),
      'the old case’s town task to be closed by its deadline',
      WAIT_MS,
    );
    expect((await records.userTask(newTown.userTaskKey))?.state).toBe('CREATED');
    await openTask(oldCase, JUSTICE_TASK);

    // The supervisor's heatmap of the same day has shifted: one instance waits at the town where none did
    // before the deploy — the new case, still inside its 7 days — and the old case, whose 5 days ran out,
    // waits at 司法局. Same figures on the diagram as from the API.
    const after = await heatmapOf(day);
    expect(after.instances).toBe(2);
    expect(figures(after, 'visitFamily')).toBe('在办 0 · 到达 2');
    expect(figures(after, TOWN_TASK)).toBe('在办 1 · 到达 2');
    expect(figures(after, JUSTICE_TASK)).toBe('在办 1 · 到达 1');
    await expectHeatmap(supervisor, day, after, ['escalation', 'visitFamily', TOWN_TASK, JUSTICE_TASK]);
    // The photo: the town's step and 司法局 (below right of it, on the escalation's plane) in view, with the legend.
    await supervisor.locator('[data-testid=heatmap-legend]').scrollIntoViewIfNeeded();
    const canvas = supervisor.locator('[data-testid=heatmap-canvas]');
    const [c, l] = await Promise.all([
      canvas.boundingBox(),
      supervisor.locator(`[data-testid=heat-${TOWN_TASK}]`).boundingBox(),
    ]);
    await canvas.evaluate(
      (el, { dx, dy }) => {
        // The canvas is the scrolling <div> around the drawing (the root tsconfig has no DOM types).
        const box = el as unknown as { scrollLeft: number; scrollTop: number };
        box.scrollLeft += dx;
        box.scrollTop += dy;
      },
      { dx: l!.x - c!.x - 250, dy: l!.y - c!.y - 200 },
    );
    await screenshot(supervisor, '13-heatmap-after-deploy');

    // At the engine's now the new case's town task is open and not overdue (the old one was closed by its deadline).
    const at = (await clock.now()).epochMilli;
    const sla = (await heatmapOf(day, at)).sla.find((s) => s.elementId === TOWN_TASK);
    expect(sla).toMatchObject({ open: 1, openOverdue: 0 });

    // Drill into the town's step: the new case's child waits there, due on its 7th day.
    const atTown = await waitingAt(day, TOWN_TASK, at);
    expect(atTown.data.map((r) => [r.processInstanceKey, r.overdue])).toEqual([[newCase, false]]);
    const due = Date.parse(atTown.data[0]!.dueDate!);
    expect(Math.abs(due - (await timerDue(newCase, 'townOverdue')))).toBeLessThan(60_000);
    const [townRow] = await drillInto(supervisor, TOWN_TASK, '镇街批评教育并责令限期改正', 1);
    expect(townRow).toContain(newPupil!.name);
    expect(townRow).toContain(new Date(due).toLocaleDateString('zh-CN', { timeZone: 'Asia/Shanghai' }));
    expect(townRow).not.toContain('已超期');
    // … and the old case's child at 司法局.
    const atJustice = await waitingAt(day, JUSTICE_TASK, at);
    expect(atJustice.data.map((r) => r.processInstanceKey)).toEqual([oldCase]);
    const [justiceRow] = await drillInto(supervisor, JUSTICE_TASK, '司法局签发司法文书', 1);
    expect(justiceRow).toContain(oldPupil!.name);
    await supervisor.context().close();
  }, 180_000);

  it('shows the escalation flow with the selected element’s properties and live problems on the elements', async () => {
    await page.goto('/#/modeler/process/dropout-escalation');
    const diagram = page.locator('[data-testid=diagram]');
    await expect
      .poll(() => diagram.locator('g[data-element-id="orderCorrectionByTown"]').count(), { timeout: 20_000 })
      .toBeGreaterThan(0);
    await diagram.locator('g[data-element-id="orderCorrectionByTown"]').first().click();
    const props = page.locator('[data-testid=properties]');
    await expect.poll(() => props.textContent(), { timeout: 20_000 }).toContain('orderCorrectionByTown');
    // Remove the clause: the element is marked and the problem listed.
    await props.locator('textarea').first().fill('镇街批评教育');
    await page.click('[data-testid=apply-properties]');
    await expect
      .poll(() => page.locator('[data-testid=problems]').textContent(), { timeout: 20_000 })
      .toContain('orderCorrectionByTown');
    expect(await diagram.locator('g[data-element-id="orderCorrectionByTown"][data-mark=selected]').count()).toBe(1);
    await expect.poll(() => page.locator('[data-testid=deploy]').isDisabled(), { timeout: 20_000 }).toBe(true);
    await screenshot(page, 'modeler-editor');

    // Put the clause back with a note: valid again, deployed with a comment, and the diff shows the change.
    await props
      .locator('textarea')
      .first()
      .fill('[Y] 三(一)2、[T] 二(十) 镇街对家长批评教育，责令限期改正；[P] 办理期限按县决策表');
    await page.click('[data-testid=apply-properties]');
    await expect.poll(() => page.locator('[data-testid=validation-ok]').count(), { timeout: 20_000 }).toBe(1);
    await page.click('[data-testid=deploy]');
    await page.fill('[data-testid=comment-dialog] textarea[name=comment]', '镇街环节说明：办理期限以县决策表为准');
    await page.click('[data-testid=confirm-deploy]');
    await expect.poll(() => latestVersion('process', PROCESS), { timeout: 20_000 }).toBe(processVersionBefore + 1);
    await page.click('[data-testid=tab-versions]');
    await page.click(`[data-testid=diff-${processVersionBefore}]`);
    const changes = page.locator('[data-testid=diff-changes]');
    await expect.poll(() => changes.textContent(), { timeout: 20_000 }).toContain('办理期限按县决策表');
    expect(
      await page
        .locator('[data-testid=diff-after] g[data-element-id="orderCorrectionByTown"][data-mark=changed]')
        .count(),
    ).toBe(1);
    await screenshot(page, 'modeler-diff');
  });
});
