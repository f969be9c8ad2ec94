/**
 * Engine-backed, in the browser: the flows started and ended from the console. A teacher reports a
 * dropout from her pupils list (a second report from the child's page meets the open case); the school's
 * task shows the teacher's home visit and the stage the case is in, and the school marks 复学; the bureau
 * starts an enrollment campaign and a whole-class handover and follows them per town, sees the suspects
 * per town on its dispatch task and is back in the inbox after submitting it.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { chinaYear } from '../../api/domain/china-time.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { fixtureCounty, listedChildren } from '../integration/fixture-county.js';
import { as, completeTask, demoPeople, eventually, openTasksOf, pupilWithoutCase } from '../integration/helpers.js';
import { launchBrowser, newPage, screenshot, signIn } from './browser.js';
import { typeDate } from './dates.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await prisma.$disconnect();
});

const textOf = (page: Page, selector = 'body') => page.locator(selector).first().innerText();
/** Last year: its statutory dates have passed, so its tasks are overdue by the calendar alone. */
const LAST_YEAR = chinaYear() - 1;

describe('starting and ending the flows from the console (engine-backed, headless Chromium)', () => {
  let people: Awaited<ReturnType<typeof demoPeople>>;
  beforeAll(async () => {
    people = await demoPeople(prisma);
  });

  it('lets a teacher report a dropout from her pupils list, and names the open case on a second report from the child’s page', async () => {
    const pupil = await pupilWithoutCase(prisma, people.teacher.classId);
    const page = await newPage(browser);
    await signIn(page, people.teacher.username);
    await page.goto('/#/children');
    await page.fill('input[name=q]', pupil.name);
    const row = page.locator('tbody tr', { hasText: pupil.name });
    await expect.poll(() => row.count(), { timeout: 15_000 }).toBe(1);
    await row.locator('[data-testid=report-dropout]').click();
    await page.waitForSelector('[data-testid=report-dropout-form]');
    // Nothing entered: the form says what is missing and sends nothing.
    await page.click('[data-testid=report-submit]');
    await page.waitForSelector('text=请填写最后到校日期');
    expect(await textOf(page, '[role=dialog]')).toContain('请填写辍学原因或情况');
    expect(await prisma.dropoutCase.count({ where: { childId: pupil.id } })).toBe(0);

    await typeDate(page, 'lastAttendance', '2026-11-16');
    // Shown the Chinese way.
    expect(await page.inputValue('input[name=lastAttendance]')).toBe('2026年11月16日');
    await page.fill('textarea[name=reason]', '连续旷课三天，电话联系不上家长');
    await screenshot(page, '20-report-dropout');
    await page.click('[data-testid=report-submit]');
    await page.waitForURL(/#\/tasks$/);
    const opened = await eventually(
      () => prisma.dropoutCase.findFirst({ where: { childId: pupil.id } }).then((c) => c ?? undefined),
      'the case opened by the report',
    );
    expect(opened.reason).toBe('连续旷课三天，电话联系不上家长');
    expect(opened.lastAttendance?.toISOString().slice(0, 10)).toBe('2026-11-16');

    // The child's page: the same button; the API's 409 names the open case and links to it.
    await page.goto(`/#/children/${pupil.id}/show`);
    await page.waitForSelector('[data-testid=child-record]');
    await page.click('[data-testid=child-record] [data-testid=report-dropout]');
    await typeDate(page, 'lastAttendance', '2026-11-17');
    await page.fill('textarea[name=reason]', '再次报告');
    await page.click('[data-testid=report-submit]');
    await page.waitForSelector('[data-testid=report-conflict]');
    expect(await textOf(page, '[data-testid=report-conflict]')).toContain('已有在办的辍学案件');
    await page.click('[data-testid=report-conflict] >> text=查看该案件');
    await page.waitForURL(new RegExp(`#/cases/${opened.id}/show`));
    expect(await prisma.dropoutCase.count({ where: { childId: pupil.id } })).toBe(1);
    await page.context().close();
  });

  it('shows the school the teacher’s home visit and the stage the case is in, and lets it mark 复学', async () => {
    const teacher = await as(people.teacher.username);
    const school = await as(people.school.username);
    const pupil = await pupilWithoutCase(prisma, people.teacher.classId);
    const reported = await teacher<{ processInstanceKey: string }>('POST', '/api/dropout-reports', {
      child: pupil.id,
      lastAttendance: '2026-11-16',
      reason: '连续旷课三天',
    });
    const pik = reported.body.processInstanceKey;
    const [visit] = await openTasksOf(teacher, pik, 'visitFamily');
    await completeTask(teacher, visit!, {
      visitedOn: '2026-11-18',
      visitors: '班主任 王老师、校长',
      outcome: 'PERSUASION_FAILED',
      note: '家长称孩子在外地亲戚家',
    });
    const [confirm] = await openTasksOf(school, pik, 'confirmDropoutBySchool');
    const c = await prisma.dropoutCase.findUniqueOrThrow({ where: { processInstanceKey: pik } });

    const page = await newPage(browser);
    await signIn(page, people.school.username);
    await page.goto(`/#/tasks/${confirm!.userTaskKey}/show`);
    await page.waitForSelector('[data-testid=prior-records] [data-testid=case-record]');
    const visitRecord = await textOf(page, '[data-testid=prior-records]');
    for (const shown of [
      '班主任家访劝返',
      '2026年11月18日',
      '班主任 王老师、校长',
      '劝返未果',
      '家长称孩子在外地亲戚家',
    ]) {
      expect(visitRecord).toContain(shown);
    }
    expect(visitRecord).not.toContain('PERSUASION_FAILED');
    // The case is at the school's step now, not still "班主任劝返中" alone.
    expect(await textOf(page, '[data-testid=case-stage]')).toBe('当前环节：学校确认辍学并制定一人一案');
    expect(await textOf(page, '[data-testid=attachments-title]')).toContain('书面报告');
    await screenshot(page, '21-school-task-with-visit');

    await page.goto(`/#/cases/${c.id}/show`);
    await page.waitForSelector('[data-testid=case-stage]');
    expect(await textOf(page, '[data-testid=case-stage]')).toBe('当前环节：学校确认辍学并制定一人一案');
    await page.click('[data-testid=mark-return]');
    await typeDate(page, 'returnedOn', '2026-11-23');
    await page.click('[data-testid=return-submit]');
    await page.waitForSelector('text=已登记复学');
    await eventually(
      () =>
        prisma.dropoutCase.findUnique({ where: { id: c.id } }).then((x) => (x?.status === 'RETURNED' ? x : undefined)),
      'the case returned',
    );
    await expect
      .poll(async () => (await textOf(page, '[data-testid=case-status]')).trim(), { timeout: 15_000 })
      .toBe('已复学');
    expect(await page.locator('[data-testid=mark-return]').count()).toBe(0);
    await page.context().close();
  });

  it('lets the bureau start an enrollment campaign, see the suspects per town on its dispatch task, and follow it per town', async () => {
    const fx = await fixtureCounty(prisma, '379963', LAST_YEAR, 0);
    await listedChildren(prisma, fx, LAST_YEAR, 2);
    const page = await newPage(browser);
    await signIn(page, fx.users.bureau);
    await page.click('text=入学核查');
    await page.waitForSelector('[data-testid=start-campaigns]');
    await page.click('[data-testid=start-campaigns]');
    await page.fill('input[name=year]', String(LAST_YEAR));
    await page.click('[data-testid=start-submit]');
    await page.waitForURL(/#\/campaigns\/\d+\/show/);
    await expect.poll(async () => textOf(page, '[data-testid=figure-suspects]'), { timeout: 20_000 }).toBe('2');
    const campaign = await prisma.campaign.findFirstOrThrow({ where: { regionCode: fx.county, year: LAST_YEAR } });

    // The dispatch task: how many suspects, per town.
    const bureau = await as(fx.users.bureau);
    const [dispatch] = await openTasksOf(bureau, campaign.processInstanceKey!, 'dispatchSuspectList');
    await page.goto(`/#/tasks/${dispatch!.userTaskKey}/show`);
    await page.waitForSelector('[data-testid=dispatch-summary]');
    expect(await textOf(page, '[data-testid=dispatch-total]')).toBe('共 2 名疑似未入学儿童，涉及 1 个镇街');
    expect(await textOf(page, '[data-testid=dispatch-town]')).toContain(`测试镇${fx.county}`);
    await page.click('[data-testid=submit-task]');
    // Back in the inbox once submitted.
    await page.waitForURL(/#\/tasks$/);

    await page.goto(`/#/campaigns/${campaign.id}/show`);
    const town = page.locator('[data-testid=town-row]', { hasText: `测试镇${fx.county}` });
    // Both verifications are the town's now, and overdue (15 October last year).
    await expect
      .poll(async () => (await town.innerText()).replace(/\s+/g, ' '), { timeout: 30_000 })
      .toMatch(/2 2 0 2 逾期 2$/);
    await town.click();
    await page.waitForSelector('[data-testid=pending-suspects] tbody tr');
    expect(await page.locator('[data-testid=pending-suspects] tbody tr').count()).toBe(2);
    // ID numbers masked in the list.
    expect(await textOf(page, '[data-testid=pending-suspects]')).toMatch(/\*{4}/);
    await screenshot(page, '22-campaign-progress');

    // A second start of the same year: the API's answer, in Chinese.
    await page.goto('/#/campaigns');
    await page.click('[data-testid=start-campaigns]');
    await page.fill('input[name=year]', String(LAST_YEAR));
    await page.click('[data-testid=start-submit]');
    await page.waitForSelector('[data-testid=start-refusal]');
    expect(await textOf(page, '[data-testid=start-refusal]')).toContain('已经启动');
    await page.context().close();
  });

  it('lets the bureau start a whole-class handover and follow its classes, pupils and overdue tasks', async () => {
    const fx = await fixtureCounty(prisma, '379964', LAST_YEAR, 3);
    const page = await newPage(browser);
    await signIn(page, fx.users.bureau);
    await page.goto('/#/handovers');
    await page.click('[data-testid=start-handovers]');
    await page.fill('input[name=year]', String(LAST_YEAR));
    await page.click('[data-testid=start-submit]');
    await page.waitForURL(/#\/handovers\/\d+\/show/);
    await expect.poll(async () => textOf(page, '[data-testid=figure-classes]'), { timeout: 20_000 }).toBe('1');
    expect(await textOf(page, '[data-testid=figure-pupils]')).toBe('3');
    expect(await textOf(page, '[data-testid=figure-open]')).toBe('3');
    // The plan's approval is the bureau's, due 30 June last year.
    await expect.poll(async () => textOf(page, '[data-testid=figure-overdue]'), { timeout: 20_000 }).toBe('1');
    expect(await textOf(page, '[data-testid=tasks-by-type]')).toContain('县政府审批移交计划并签订责任书');
    await page.context().close();
  });

  it('gives a teacher and a school neither the flows’ pages nor their menus', async () => {
    const page = await newPage(browser);
    await signIn(page, people.school.username);
    await page.waitForSelector('[data-testid=menu-tasks]');
    expect(await page.locator('a[href="#/campaigns"], a[href="#/handovers"]').count()).toBe(0);
    await page.goto('/#/campaigns');
    await page.waitForTimeout(1000);
    expect(await page.locator('[data-testid=start-campaigns]').count()).toBe(0);
    expect(await page.locator('[data-testid=campaign-table]').count()).toBe(0);
    await page.context().close();
  });
});
