/**
 * Engine-backed, in the browser: a supervisor (督导) opens the heatmap of the dropout escalation, sees on
 * the home-visit task the same counts the API gives, drills into it and finds the children just
 * reported waiting there; switches to the SLA view; and opens the 督导看板 with its charts. Screenshots
 * of the heatmap and the dashboard go to the test artifacts (README copies in docs/screenshots/).
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPrisma } from '../../infra/db/prisma.js';
import { as, demoPeople, openTasksOf } from '../integration/helpers.js';
import { launchBrowser, newPage, screenshot, signIn } from './browser.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
let browser: Browser;
/** Children reported today by the demo teacher: their cases wait at the home visit. */
const reported: { id: string; name: string }[] = [];

interface Heat {
  elements: { elementId: string; instances: number; active: number; incidents: number }[];
}

beforeAll(async () => {
  browser = await launchBrowser();
  const people = await demoPeople(prisma);
  const teacher = await as(people.teacher.username);
  const pupils = await prisma.child.findMany({
    where: { currentClassId: people.teacher.classId, cases: { none: {} } },
    orderBy: { id: 'asc' },
    take: 2,
  });
  expect(pupils.length).toBe(2);
  for (const pupil of pupils) {
    const res = await teacher<{ processInstanceKey: string }>('POST', '/api/dropout-reports', {
      child: pupil.id,
      lastAttendance: '2026-11-16',
      reason: '连续旷课，督导热力图测试',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    await openTasksOf(teacher, res.body.processInstanceKey, 'visitFamily');
    reported.push({ id: pupil.id, name: pupil.name });
  }
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await prisma.$disconnect();
});

describe('supervisors in the console (engine-backed, headless Chromium)', () => {
  it('shows the heatmap with the API’s counts and lists the children waiting at an element', async () => {
    const supervisor = await as('supervisor');
    const api = await supervisor<Heat>('GET', '/api/supervision/heatmap?process=dropout-escalation');
    expect(api.status).toBe(200);
    const visit = api.body.elements.find((e) => e.elementId === 'visitFamily')!;
    expect(visit.active).toBeGreaterThanOrEqual(reported.length);

    const page = await newPage(browser);
    await signIn(page, 'supervisor');
    await page.goto('/#/heatmaps');
    // The escalation's steps are a collapsed sub-process: its own figures on it, its steps on its plane below.
    const sub = api.body.elements.find((e) => e.elementId === 'escalation')!;
    const subOverlay = page.locator('[data-testid=heat-escalation]');
    await subOverlay.waitFor();
    expect(await subOverlay.textContent()).toBe(`在办 ${sub.active} · 到达 ${sub.instances}`);
    const overlay = page.locator('[data-testid=heat-visitFamily]');
    await overlay.waitFor();
    expect(await overlay.textContent()).toBe(`在办 ${visit.active} · 到达 ${visit.instances}`);
    expect(await page.locator('[data-testid=heatmap-legend]').innerText()).toContain('图例');
    await overlay.scrollIntoViewIfNeeded();
    await screenshot(page, '10-heatmap');

    // Drill into the home visit: the children just reported are among those waiting there.
    await page.locator('g[data-element-id=visitFamily]').first().click();
    const list = page.locator('[data-testid=waiting-list]');
    await list.waitFor();
    await expect.poll(() => page.locator('[data-testid=waiting-row]').count()).toBeGreaterThanOrEqual(reported.length);
    const text = await list.innerText();
    expect(text).toContain('停留在「班主任家访劝返」');
    for (const child of reported) expect(text).toContain(child.name);
    // ID numbers are masked in the list.
    expect(text).toMatch(/\d{6}\*{8,}/);
    await list.scrollIntoViewIfNeeded();
    await screenshot(page, '11-heatmap-waiting');

    // The SLA view paints the user tasks (green or red) with their shares.
    await page.click('[data-testid=mode-sla]');
    await expect.poll(async () => overlay.textContent()).toMatch(/^逾期办结 .+ · 在办超期 .+$/);
    await page.context().close();
  });

  it('shows the 督导看板 with its charts', async () => {
    const supervisor = await as('supervisor');
    const api = await supervisor<{ openCases: { count: number }[] }>('GET', '/api/supervision/dashboard');
    expect(api.status, JSON.stringify(api.body)).toBe(200);
    expect(api.body.openCases.reduce((n, c) => n + c.count, 0)).toBeGreaterThanOrEqual(reported.length);
    const page = await newPage(browser);
    await signIn(page, 'supervisor');
    await page.goto('/#/supervision');
    await page.locator('[data-testid=supervision-dashboard], [data-testid=dashboard-error]').first().waitFor();
    expect(await page.locator('[data-testid=dashboard-error]').count(), await page.locator('body').innerText()).toBe(0);
    for (const panel of ['cases', 'tasks', 'verification', 'handover', 'trend']) {
      await page.locator(`[data-testid=panel-${panel}]`).waitFor();
    }
    // Open cases are drawn (ECharts renders SVG): the cases just reported are open.
    await expect.poll(() => page.locator('[data-testid=panel-cases] svg').count()).toBeGreaterThan(0);
    const text = await page.locator('[data-testid=supervision-dashboard]').innerText();
    for (const word of ['在办案件', '超期任务', '入学核查进度', '整班移交清零', '巩固率']) expect(text).toContain(word);
    await screenshot(page, '12-supervision-dashboard');
    await page.context().close();
  });
});
