/**
 * Engine-backed, in the browser: the console in headless Chromium against the running system. A
 * teacher works her home-visit task with a photo and the case moves to the school; a receiving school
 * registers a whole class in one screen; a town officer cannot open another town's case by URL; the
 * screens are Chinese. Screenshots of the main screens are written as test artifacts.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPrisma } from '../../infra/db/prisma.js';
import { fixtureCounty, type FixtureCounty } from '../integration/fixture-county.js';
import {
  as,
  type Caller,
  completeTask,
  demoPeople,
  eventually,
  openTasksOf,
  pupilWithoutCase,
} from '../integration/helpers.js';
import { formatCaseNumber } from '../../workers/open-dropout-case/handler.js';
import { launchBrowser, newPage, PHOTO_PNG, screenshot, signIn } from './browser.js';
import { typeDate } from './dates.js';
import { taskSchemas } from '../../api/tasks/schemas/index.js';
import { formOf } from '../../admin-ui/src/tasks/schemaForm.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await prisma.$disconnect();
});

type Task = { userTaskKey: string; elementId: string; processInstanceKey: string };

const tasksOf = (caller: Caller, pik: string, elementId: string, n = 1) => openTasksOf<Task>(caller, pik, elementId, n);

/** Text of the page without the noise of whitespace. */
const textOf = (page: Page) => page.locator('body').innerText();

describe('the console (engine-backed, headless Chromium)', () => {
  let people: Awaited<ReturnType<typeof demoPeople>>;
  let caseId: string;
  let pupil: { id: string; name: string };

  beforeAll(async () => {
    people = await demoPeople(prisma);
  });

  it('shows the sign-in page and the menus in Chinese, with no English left', async () => {
    const page = await newPage(browser);
    await page.goto('/#/login');
    await page.waitForSelector('input[name=username]');
    await screenshot(page, '01-login');
    const login = await textOf(page);
    expect(login).toContain('登录');
    expect(login).not.toMatch(/Sign in|Username|Password/);
    await signIn(page, people.school.username);
    await page.click('[data-testid=menu-tasks]');
    await page.waitForSelector('text=本单位待办');
    const inbox = await textOf(page);
    for (const word of ['工作台', '待办任务', '一人一案', '学生', '统计报表']) expect(inbox).toContain(word);
    expect(inbox).not.toMatch(/\b(Dashboard|Filter|Export|Rows per page|No results)\b/);
    await page.context().close();
  });

  it('lets a teacher see only her class’s task, record the home visit with a photo, and moves the case to the school', async () => {
    const teacher = await as(people.teacher.username);
    pupil = await pupilWithoutCase(prisma, people.teacher.classId);
    const reported = await teacher<{ processInstanceKey: string; caseId: string }>('POST', '/api/dropout-reports', {
      child: pupil.id,
      lastAttendance: '2026-11-16',
      reason: '连续旷课三天，电话联系不上家长',
    });
    expect(reported.status).toBe(201);
    const pik = reported.body.processInstanceKey;
    const [visit] = await tasksOf(teacher, pik, 'visitFamily');
    const found = await prisma.dropoutCase.findUniqueOrThrow({ where: { processInstanceKey: pik } });
    caseId = found.id;
    const caseNumber = formatCaseNumber(found.serial, found.openedAt);

    const page = await newPage(browser);
    await signIn(page, people.teacher.username);
    await screenshot(page, '02-dashboard');
    await page.click('[data-testid=menu-tasks]');
    const rows = page.locator('[data-testid=task-table] tbody tr');
    await expect.poll(() => rows.count()).toBeGreaterThan(0);
    // Every row is hers: the API's own count of her class's tasks equals what the inbox shows.
    const mine = await teacher<{ total: number; data: Task[] }>('GET', '/api/tasks?perPage=100');
    expect(await rows.count()).toBe(Math.min(mine.body.total, 25));
    expect(mine.body.data.every((t) => t.elementId === 'visitFamily' || t.elementId === 'reportHomeVisits')).toBe(true);
    // The row names the child and the case, so the teacher knows which pupil it is about.
    await expect.poll(() => page.locator('[data-testid=task-table] tbody tr', { hasText: caseNumber }).count()).toBe(1);
    await screenshot(page, '03-inbox');

    await page.goto(`/#/tasks/${visit!.userTaskKey}/show`);
    await page.waitForSelector('[data-testid=task-title]');
    expect(await page.locator('[data-testid=task-subject]').innerText()).toContain(pupil.name);
    expect(await page.locator('[data-testid=task-clause]').innerText()).toContain('[T] 二(四)');

    // Submitting empty: the zod schema's own messages appear on the fields, nothing is sent.
    await page.click('[data-testid=submit-task]');
    await page.waitForSelector('text=请填写家访人员');
    expect(await prisma.caseAction.count({ where: { caseId, kind: 'HOME_VISIT' } })).toBe(0);

    await typeDate(page, 'visitedOn', '2026-11-18');
    await page.fill('input[name=visitors]', '班主任 王老师、校长');
    await page.click('text=劝返未果');
    await page.fill('textarea[name=note]', '家长称孩子在外地亲戚家，拒绝送回');
    await page.setInputFiles('[data-testid=attachment-input]', {
      name: '家访照片.png',
      mimeType: 'image/png',
      buffer: PHOTO_PNG,
    });
    await page.waitForSelector('text=家访照片.png');
    await screenshot(page, '04-task-form');
    await page.click('[data-testid=submit-task]');
    await page.waitForURL(/#\/tasks$/);

    // The engine moved on: the school now has the confirmation task; the photo sits in the case file.
    const school = await as(people.school.username);
    await tasksOf(school, pik, 'confirmDropoutBySchool');
    const visitAction = await prisma.caseAction.findFirstOrThrow({ where: { caseId, kind: 'HOME_VISIT' } });
    expect(visitAction.note).toContain('班主任 王老师、校长');
    const photo = await prisma.attachment.findFirstOrThrow({ where: { caseId } });
    expect(photo).toMatchObject({ fileName: '家访照片.png', contentType: 'image/png', size: PHOTO_PNG.length });
    expect(Buffer.from(photo.data).equals(PHOTO_PNG)).toBe(true);

    await page.goto(`/#/cases/${caseId}/show`);
    await page.waitForSelector('[data-testid=case-timeline] >> text=上传附件：家访照片.png');
    expect(await page.locator('[data-testid=case-timeline]').innerText()).toContain('家访劝返');
    await screenshot(page, '05-case-file');
    await page.context().close();
  });

  it('tells the teacher whether a submission whose answer was lost went through, and it happens once', async () => {
    const teacher = await as(people.teacher.username);
    const report = async () => {
      const child = await pupilWithoutCase(prisma, people.teacher.classId);
      const res = await teacher<{ processInstanceKey: string }>('POST', '/api/dropout-reports', {
        child: child.id,
        lastAttendance: '2026-11-16',
        reason: '连续旷课',
      });
      expect(res.status).toBe(201);
      const [visit] = await tasksOf(teacher, res.body.processInstanceKey, 'visitFamily');
      const found = await prisma.dropoutCase.findUniqueOrThrow({
        where: { processInstanceKey: res.body.processInstanceKey },
      });
      return { key: visit!.userTaskKey, caseId: found.id };
    };
    const visits = (id: string) => prisma.caseAction.count({ where: { caseId: id, kind: 'HOME_VISIT' } });
    const page = await newPage(browser);
    await signIn(page, people.teacher.username);
    const fillAndSubmit = async (key: string) => {
      await page.goto(`/#/tasks/${key}/show`);
      await page.waitForSelector('[data-testid=task-title]');
      await typeDate(page, 'visitedOn', '2026-11-18');
      await page.fill('input[name=visitors]', '班主任 王老师');
      await page.click('text=劝返未果');
      await page.click('[data-testid=submit-task]');
    };

    // The connection drops before the request reaches the server: not submitted, and the teacher is told.
    const lost = await report();
    await page.route(`**/api/tasks/${lost.key}/complete`, (route) => route.abort('connectionreset'));
    await fillAndSubmit(lost.key);
    await page.waitForSelector('text=本次提交未办理（服务器未收到），请重新提交。');
    expect(await visits(lost.caseId)).toBe(0);
    await page.unroute(`**/api/tasks/${lost.key}/complete`);
    await page.click('[data-testid=submit-task]');
    await page.waitForURL(/#\/tasks$/);
    expect(await visits(lost.caseId)).toBe(1);

    // The server completes it but the answer never arrives: the console finds out it went through.
    const unanswered = await report();
    await page.route(`**/api/tasks/${unanswered.key}/complete`, async (route) => {
      await route.fetch(); // reaches the server, which completes the task…
      await route.abort('connectionreset'); // …but the browser never hears back
    });
    await fillAndSubmit(unanswered.key);
    await page.waitForSelector('text=（连接中断前已提交成功）');
    await page.waitForURL(/#\/tasks$/);
    await screenshot(page, '09-submission-confirmed');
    expect(await visits(unanswered.caseId)).toBe(1);
    await page.context().close();
  });

  it('refuses a town officer another town’s case opened by URL', async () => {
    expect(caseId).toBeDefined();
    const page = await newPage(browser);
    await signIn(page, people.otherTown.username);
    await page.goto(`/#/cases/${caseId}/show`);
    await page.waitForTimeout(1500);
    const text = await textOf(page);
    expect(text).not.toContain(pupil.name);
    expect(await page.locator('[data-testid=case-file]').count()).toBe(0);
    const res = await page.request.get(`/api/cases/${caseId}`);
    expect(res.status()).toBe(404);
    await page.context().close();
  });

  describe('bulk registration of a handed-over class', () => {
    let fx: FixtureCounty;
    const YEAR = 2027;

    beforeAll(async () => {
      fx = await fixtureCounty(prisma, '379910', YEAR, 30);
    });

    it('lets the receiving school register a roster of 30 in one screen: 28 arrived, 2 not', async () => {
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
      await completeTask(bureau, (await tasksOf(bureau, pik, 'approveHandoverPlan'))[0]!, {
        approved: true,
        lettersSigned: true,
      });
      await completeTask(primary, (await tasksOf(primary, pik, 'handOverRoster'))[0]!, {
        paperFilesHandedOver: true,
        signedBy: '张校长',
      });
      await completeTask(middle, (await tasksOf(middle, pik, 'receiveRoster'))[0]!, {
        rosterChecked: true,
        signedBy: '李校长',
      });
      await completeTask(town, (await tasksOf(town, pik, 'countersignHandover'))[0]!, { signedBy: '王主任' });
      const [register] = await tasksOf(middle, pik, 'registerArrivals');

      const page = await newPage(browser);
      await signIn(page, fx.users.middle);
      await page.goto(`/#/tasks/${register!.userTaskKey}/show`);
      const lines = page.locator('[data-testid=roster-line]');
      await expect.poll(() => lines.count()).toBe(30);
      // Every pupil starts as arrived; the school unticks the two who did not come and notes why.
      const absent = await prisma.child.findMany({
        where: { id: { in: fx.children.slice(0, 2).map((c) => c.id) } },
      });
      for (const child of absent) {
        const row = page.locator(`[data-testid=roster-line][data-child="${child.name}"]`);
        await row.locator('input[type=checkbox]').uncheck();
        await row.locator('input[type=text]').fill('家长称已去外地上学，待核查');
      }
      await page.evaluate('window.scrollTo(0, 0)');
      await screenshot(page, '06-roster-registration');
      await page.click('[data-testid=submit-task]');
      await page.waitForURL(/#\/tasks$/);

      const statuses = await eventually(async () => {
        const rows = await prisma.handoverPupil.groupBy({
          by: ['status'],
          where: { assignment: { batchId: started.body.id } },
          _count: true,
        });
        const byStatus = Object.fromEntries(rows.map((r) => [r.status, r._count]));
        return byStatus.PENDING ? undefined : byStatus;
      }, 'the registration to be written');
      expect(statuses).toEqual({ REGISTERED: 28, NO_SHOW: 2 });
      const noShows = await prisma.handoverPupil.findMany({
        where: { assignment: { batchId: started.body.id }, status: 'NO_SHOW' },
      });
      expect(noShows.map((p) => p.childId).sort()).toEqual(absent.map((c) => c.id).sort());
      expect(noShows.every((p) => p.traceNote === '家长称已去外地上学，待核查')).toBe(true);
      await page.context().close();
    });
  });

  it('previews every task type’s form for policy staff with all its labels, and no page error', async () => {
    const page = await newPage(browser);
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await signIn(page, 'policy');
    for (const [elementId, { title }] of Object.entries(taskSchemas)) {
      await page.goto(`/#/forms/${elementId}`);
      await expect
        .poll(() => page.locator('[data-testid=preview-title]').innerText(), { message: elementId })
        .toBe(title);
      const text = await page.locator('form').innerText();
      for (const field of formOf(elementId)!.fields) expect(text, `${elementId}.${field.name}`).toContain(field.title);
    }
    // A checked preview shows the API's messages, as a real task would.
    await page.goto('/#/forms/fileDeferral');
    await page.getByRole('button', { name: '检查填写' }).click();
    await page.waitForSelector('text=请填写申请人（父母或监护人）');
    await screenshot(page, '09-form-preview');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('shows the bureau the reports and refuses a bad import row by row, importing nothing', async () => {
    const page = await newPage(browser);
    await signIn(page, 'bureau');
    await page.goto('/#/reports');
    await page.waitForSelector('[data-testid=retention-table] tbody tr');
    await screenshot(page, '07-reports');

    const before = await prisma.importBatch.count();
    await page.goto('/#/imports');
    await page.setInputFiles('[data-testid=import-file]', {
      name: '户籍名单.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(
        '姓名,身份证号,户籍所在镇街\n张三,370481201601010000,荆河街道\n李四,12345,荆河街道\n',
        'utf8',
      ),
    });
    await page.click('[data-testid=import-submit]');
    await page.waitForSelector('[data-testid=import-errors]');
    const errors = await page.locator('[data-testid=import-errors] tbody tr').allInnerTexts();
    expect(errors.length).toBe(2);
    expect(errors.join('\n')).toContain('身份证号');
    expect(await prisma.importBatch.count()).toBe(before);
    await screenshot(page, '08-import-errors');
    await page.context().close();
  });
});
