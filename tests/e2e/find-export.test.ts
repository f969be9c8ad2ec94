/**
 * Engine-backed, in the browser: finding and exporting, and Chinese throughout (issue 16). A town officer
 * finds a pupil by the last digits of the 身份证号 and not another town's; finds a case by its number;
 * the 学生 and 一人一案 导出 buttons download the whole filtered list; the bureau opens the inbox's other
 * filters with 增加检索, sees the child and the town on every row, and counts the county's tasks on the
 * 工作台; the timeline, the case file, the form preview and the reports show no code, no English and no
 * ISO date.
 */
import ExcelJS from 'exceljs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPrisma } from '../../infra/db/prisma.js';
import { formatCaseNumber } from '../../workers/open-dropout-case/handler.js';
import { fixtureCounty, listedChildren } from '../integration/fixture-county.js';
import { as, completeTask, demoPeople, eventually, openTasksOf, pupilWithoutCase } from '../integration/helpers.js';
import { launchBrowser, newPage as freshPage, screenshot, signIn } from './browser.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await prisma.$disconnect();
});

const textOf = (page: Page) => page.locator('body').innerText();

/**
 * A fresh page with the console loaded once: on this loaded 2-core machine the first load of the bundle
 * has taken longer than signIn's 15 s wait for the sign-in form.
 */
async function newPage(b: Browser): Promise<Page> {
  const page = await freshPage(b);
  await page.goto('/#/login');
  await page.waitForSelector('input[name=username]', { timeout: 60_000 });
  return page;
}

/** Rows of the first worksheet of an XLSX file on disk, as text. */
async function xlsxRows(file: string): Promise<string[][]> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.readFile(file);
  const rows: string[][] = [];
  workbook.worksheets[0]!.eachRow((row) =>
    rows.push((row.values as unknown[]).slice(1).map((v) => (v === null || v === undefined ? '' : String(v)))),
  );
  return rows;
}

/** Clicks 导出 and the format; resolves with the downloaded file's name and path. */
async function exportList(page: Page, resource: string, format: 'xlsx' | 'csv') {
  await page.click(`[data-testid=export-${resource}]`);
  const [file] = await Promise.all([
    page.waitForEvent('download', { timeout: 60_000 }),
    page.click(`[data-testid=export-${resource}-${format}]`),
  ]);
  return { name: file.suggestedFilename(), path: (await file.path())! };
}

describe('find and export in the console (engine-backed, headless Chromium)', () => {
  let people: Awaited<ReturnType<typeof demoPeople>>;
  let townName: string;
  let reported: { caseId: string; caseNumber: string; child: { id: string; name: string } };

  beforeAll(async () => {
    people = await demoPeople(prisma);
    townName = (await prisma.region.findUniqueOrThrow({ where: { code: people.town.regionCode } })).name;
    // A case the school confirmed with a reason code after the teacher's home visit.
    const teacher = await as(people.teacher.username);
    const school = await as(people.school.username);
    const child = await pupilWithoutCase(prisma, people.teacher.classId);
    const res = await teacher<{ processInstanceKey: string }>('POST', '/api/dropout-reports', {
      child: child.id,
      lastAttendance: '2026-11-16',
      reason: '连续旷课三天',
    });
    expect(res.status).toBe(201);
    const pik = res.body.processInstanceKey;
    const [visit] = await openTasksOf(teacher, pik, 'visitFamily');
    await completeTask(teacher, visit!, {
      visitedOn: '2026-11-18',
      visitors: '班主任 王老师',
      outcome: 'PERSUASION_FAILED',
    });
    const [confirm] = await openTasksOf(school, pik, 'confirmDropoutBySchool');
    expect((await school('POST', `/api/tasks/${confirm!.userTaskKey}/claim`)).status).toBe(204);
    await completeTask(school, confirm!, {
      decision: 'CONFIRMED',
      reasonCode: 'A2',
      plan: '厌学，班主任每周家访',
      responsiblePerson: '李副校长',
    });
    const c = await eventually(
      async () =>
        (await prisma.dropoutCase.findFirst({ where: { processInstanceKey: pik, status: 'SCHOOL_CONFIRMED' } })) ??
        undefined,
      'the confirmed case',
    );
    reported = { caseId: c.id, caseNumber: formatCaseNumber(c.serial, c.openedAt), child };
  });

  it('finds a pupil by the last digits of the 身份证号, and not another town’s child by the whole number', async () => {
    const pupil = await prisma.child.findUniqueOrThrow({ where: { id: people.pupil.id } });
    const other = await prisma.child.findUniqueOrThrow({ where: { id: people.otherTownPupil.id } });
    const page = await newPage(browser);
    await signIn(page, people.town.username);
    await page.goto('/#/children');
    await page.waitForSelector('input[name=idNumber]');
    await page.fill('input[name=idNumber]', pupil.idNumber.slice(-6));
    await expect
      .poll(() => page.locator('tbody tr', { hasText: pupil.name }).count(), { timeout: 15_000 })
      .toBeGreaterThan(0);
    // Masked in the list as everywhere: the number typed is not shown whole.
    expect(await textOf(page)).not.toContain(pupil.idNumber);
    await screenshot(page, 'find-01-by-id');

    const answered = page.waitForResponse((r) => r.url().includes(`idNumber=${other.idNumber}`));
    await page.fill('input[name=idNumber]', other.idNumber);
    expect((await (await answered).json()).total).toBe(0);
    await expect.poll(() => page.locator('tbody tr', { hasText: other.name }).count()).toBe(0);
    // Too few digits: the field is marked invalid and nothing is asked of the API.
    const asked: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('idNumber=12&') || r.url().endsWith('idNumber=12')) asked.push(r.url());
    });
    await page.fill('input[name=idNumber]', '12');
    await expect.poll(() => page.locator('input[name=idNumber]').getAttribute('aria-invalid')).toBe('true');
    await page.waitForTimeout(1500); // longer than the filter's debounce
    expect(asked).toEqual([]);
    await page.context().close();
  });

  it('exports the whole 学生 list as XLSX (more rows than a page), and 一人一案 found by case number as CSV', async () => {
    const bureau = await as('bureau');
    const total = (await bureau<{ total: number }>('GET', '/api/children?perPage=1')).body.total;
    expect(total).toBeGreaterThan(500);
    const page = await newPage(browser);
    await signIn(page, 'bureau');
    await page.goto('/#/children');
    await page.waitForSelector('[data-testid=export-children]:not([disabled])');
    const file = await exportList(page, 'children', 'xlsx');
    expect(file.name).toMatch(/^学生名单-\d{4}-\d{2}-\d{2}\.xlsx$/);
    const rows = await xlsxRows(file.path);
    expect(rows[0]!.slice(0, 4)).toEqual(['姓名', '身份证号', '性别', '出生年月']);
    expect(rows.length - 1).toBe(total);
    expect(await textOf(page)).not.toContain('服务器通信出错');
    await page.context().close();

    const town = await newPage(browser);
    await signIn(town, people.town.username);
    await town.goto('/#/cases');
    await town.waitForSelector('input[name=q]');
    await town.fill('input[name=q]', reported.caseNumber);
    await expect.poll(() => town.locator('tbody tr').count()).toBe(1);
    expect(await town.locator('tbody tr').innerText()).toContain(reported.child.name);
    const csv = await exportList(town, 'cases', 'csv');
    const { readFile } = await import('node:fs/promises');
    const lines = (await readFile(csv.path, 'utf8'))
      .replace(/^\uFEFF/, '')
      .split('\r\n')
      .filter(Boolean);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(`${reported.caseNumber},${reported.child.name}`);
    expect(lines[1]).toContain('A2 厌学辍学');
    await town.context().close();
  });

  it('lets the bureau open the inbox’s other filters, names child and town on each row, and counts the county', async () => {
    const bureau = await as('bureau');
    const all = (await bureau<{ total: number }>('GET', '/api/tasks?view=all&perPage=1')).body.total;
    const own = (await bureau<{ total: number }>('GET', '/api/tasks?view=group&perPage=1')).body.total;
    expect(all).toBeGreaterThan(own);
    const page = await newPage(browser);
    await signIn(page, 'bureau');
    // 工作台: the county's tasks, not the bureau's unit's (nothing else runs on this system meanwhile).
    const count = async (label: string) => Number(await page.locator(`[data-testid="count-${label}"]`).innerText());
    await expect.poll(() => count('辖区待办'), { timeout: 15_000 }).toBe(all);
    const overdue = (await bureau<{ total: number }>('GET', '/api/tasks?view=all&overdue=true&perPage=1')).body.total;
    expect(await count('已逾期')).toBe(overdue);
    expect(await textOf(page)).not.toMatch(/辖区代码|\d{6,}/);
    await screenshot(page, 'find-02-bureau-dashboard');

    await page.click('[data-testid=menu-tasks]');
    await page.getByRole('tab', { name: '辖区全部' }).click();
    await page.waitForSelector('[data-testid=task-table] tbody tr');
    await page.getByRole('button', { name: '增加检索' }).click();
    for (const filter of ['任务类型', '镇街', '学校', '期限早于']) {
      await page.getByRole('menuitemcheckbox', { name: filter }).waitFor();
    }
    await page.getByRole('menuitemcheckbox', { name: '镇街' }).click();
    await page.getByRole('combobox', { name: '镇街' }).click();
    await page.getByRole('option', { name: townName }).click();
    // The column of each header, read from the table itself.
    const column = async (header: string) =>
      (await page.locator('[data-testid=task-table] thead th').allInnerTexts()).findIndex((h) => h.trim() === header) +
      1;
    const cells = async (header: string) =>
      page.locator(`[data-testid=task-table] tbody tr td:nth-child(${await column(header)})`).allInnerTexts();
    await expect
      .poll(async () => {
        const towns = await cells('镇街');
        return towns.length > 0 && towns.every((t) => t.trim() === townName);
      })
      .toBe(true);
    // Rows name their child (a dropout case's, a verification's), not "—" for all.
    expect((await cells('儿童 / 案号')).some((c) => c.trim() !== '—')).toBe(true);
    await screenshot(page, 'find-03-inbox-filters');
    await page.context().close();
  });

  it('counts the county’s overdue tasks on the bureau’s 工作台 and 已逾期 tab, not only its own unit’s', async () => {
    // A verification of 2026 in a county of its own: its towns' tasks were due on 20 September 2026.
    const YEAR = 2026;
    const fx = await fixtureCounty(prisma, '379942', YEAR, 0);
    const listed = await prisma.child.findMany({ where: { id: { in: await listedChildren(prisma, fx, YEAR, 3) } } });
    const bureau = await as(fx.users.bureau);
    const started = await bureau('POST', '/api/campaigns/enrollment', { county: fx.county, year: YEAR });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const dispatch = await eventually(
      async () =>
        (await bureau<{ data: { userTaskKey: string }[] }>('GET', '/api/tasks?type=dispatchSuspectList')).body.data[0],
      'the dispatch task',
    );
    await completeTask(bureau, dispatch, {});
    type Row = { overdue: boolean; childName: string | null; townName: string | null };
    const verifications = await eventually(
      async () => {
        const res = await bureau<{ data: Row[] }>('GET', '/api/tasks?view=all&type=verifyChild&perPage=100');
        return res.body.data.length >= 3 ? res.body.data : undefined;
      },
      '3 × verifyChild',
      30_000,
    );
    expect(verifications.every((t) => t.overdue)).toBe(true);
    const overdue = async (view: string) =>
      (await bureau<{ total: number }>('GET', `/api/tasks?view=${view}&overdue=true&perPage=1`)).body.total;
    const county = await overdue('all');
    expect(county).toBeGreaterThan(await overdue('group'));

    const page = await newPage(browser);
    await signIn(page, fx.users.bureau);
    await expect
      .poll(
        async () => {
          await page.reload();
          await page.waitForSelector('[data-testid="count-已逾期"]');
          await expect.poll(() => page.locator('[data-testid="count-已逾期"]').innerText()).not.toBe('…');
          return Number(await page.locator('[data-testid="count-已逾期"]').innerText()) === (await overdue('all'));
        },
        { timeout: 30_000 },
      )
      .toBe(true);
    await page.click('[data-testid=menu-tasks]');
    await page.getByRole('tab', { name: '已逾期' }).click();
    // Each overdue verification row names its child and town (they used to read "—").
    for (const child of listed) {
      await page.locator('[data-testid=task-table] tbody tr', { hasText: child.name }).first().waitFor();
    }
    expect(await page.locator('[data-testid=task-table]').innerText()).toContain(`测试镇${fx.county}`);
    await screenshot(page, 'find-06-county-overdue');
    await page.context().close();
  });

  it('shows the case timeline and file with labels, names and Chinese dates — no codes, no English', async () => {
    const page = await newPage(browser);
    await signIn(page, people.town.username);
    await page.goto(`/#/cases/${reported.caseId}/show`);
    await page.waitForSelector('[data-testid=case-timeline] >> text=学校确认辍学');
    const timeline = await page.locator('[data-testid=case-timeline]').innerText();
    expect(timeline).toContain('劝返未果');
    expect(timeline).toContain('确认辍学');
    expect(timeline).toContain('2026年11月18日');
    // The school's display name, not its user name.
    const school = await prisma.user.findUniqueOrThrow({ where: { username: people.school.username } });
    expect(timeline).toContain(school.displayName);
    expect(timeline).not.toMatch(/PERSUASION_FAILED|CONFIRMED|\bsystem\b|(town|school|teacher)-\d|\d{4}-\d{2}-\d{2}/);
    expect(await page.locator('[data-testid=case-file]').innerText()).toContain('A2 厌学辍学');
    await screenshot(page, 'find-04-case-timeline');
    await page.context().close();
  });

  it('lists the forms by their Chinese titles only, and the reports in the right units', async () => {
    const policy = await newPage(browser);
    await signIn(policy, 'policy');
    await policy.goto('/#/forms');
    await policy.waitForSelector('[data-testid=form-types]');
    expect(await policy.locator('[data-testid=form-types]').innerText()).not.toMatch(/[A-Za-z]{3,}/);
    await policy.context().close();

    const bureau = await as('bureau');
    const county = people.teacher.regionCode.slice(0, 6);
    const year = new Date().getFullYear();
    const retention = await bureau<{ total: { retention: { graduates: number } } }>(
      'GET',
      `/api/reports/retention?county=${county}&year=${year}`,
    );
    const page = await newPage(browser);
    await signIn(page, 'bureau');
    await page.goto('/#/reports');
    await page.waitForSelector('[data-testid=dropouts-table] tbody tr');
    const dropouts = await page.locator('[data-testid=report-dropouts]').innerText();
    expect(dropouts).not.toContain('‰');
    expect(dropouts).toContain('辍学率');
    const rates = await page.locator('[data-testid=dropouts-table] tbody tr td:nth-child(4)').allInnerTexts();
    expect(rates.every((r) => /^(\d+(\.\d+)?%|—)$/.test(r.trim()))).toBe(true);
    await page.waitForSelector('[data-testid=retention-table] tbody tr');
    if (retention.body.total.retention.graduates === 0) {
      // The cohort of this school year graduates next July: no 0 % for every town, but why.
      const cells = await page.locator('[data-testid=retention-table] tbody tr td:nth-child(5)').allInnerTexts();
      expect(cells.every((c) => c.trim() === '尚未毕业' || c.trim() === '—')).toBe(true);
      expect(await page.locator('[data-testid=retention-note]').innerText()).toContain('尚未毕业');
    }
    await screenshot(page, 'find-05-reports');
    await page.context().close();
  });
});
