/**
 * Engine-backed, in the browser: administering the platform from the console. The sign-in page names
 * the product; the bureau creates an account (the password policy answers on the field), deactivates and
 * reactivates it, unlocks it after failed sign-ins and sets a new password; it opens a school's classes
 * and adds one; a user changes her own password and signs in with it; a supervisor finds who read a
 * child's record in the audit log. A teacher has none of these pages.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPrisma } from '../../infra/db/prisma.js';
import { DEMO_PASSWORD } from '../../infra/seed/demo.js';
import { api, as, demoPeople, eventually } from '../integration/helpers.js';
import { launchBrowser, newPage, screenshot, signIn } from './browser.js';

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
const NEW_PASSWORD = 'Xin-Mima-2026';

/** Does this user name and password open a session now? */
async function canSignIn(username: string, password = DEMO_PASSWORD): Promise<boolean> {
  return (await api('POST', '/api/auth/login', { username, password })).status === 200;
}

/** Picks an option of a react-admin SelectInput by its label. */
async function choose(page: Page, label: string, option: string) {
  await page.getByRole('combobox', { name: label }).click();
  await page.getByRole('option', { name: option, exact: true }).click();
}

describe('administering from the console (engine-backed, headless Chromium)', () => {
  const username = `town-e2e-${randomUUID().slice(0, 8)}`;

  it('names the product on the sign-in page', async () => {
    const page = await newPage(browser);
    await page.goto('/#/login');
    await page.waitForSelector('[data-testid=product-name]');
    expect(await textOf(page, '[data-testid=product-name]')).toContain('控辍保学工作平台');
    await screenshot(page, '40-login');
    await page.context().close();
  });

  it('lets the bureau create an account, deactivate, unlock and reactivate it, and set a new password', async () => {
    const people = await demoPeople(prisma);
    const town = await prisma.region.findUniqueOrThrow({ where: { code: people.town.regionCode } });
    const page = await newPage(browser);
    await signIn(page, 'bureau');
    await page.click('text=账号管理');
    await page.waitForSelector('[data-testid=user-table]');
    await page.click('text=新建账号');
    await page.fill('input[name=username]', username);
    await page.fill('input[name=displayName]', '测试镇街账号');
    await page.fill('input[name=password]', 'short');
    await choose(page, '角色 *', '镇街');
    await choose(page, '镇街 *', town.name);
    await page.click('[data-testid=user-save]');
    // The API's password policy, on the field; nothing created.
    await page.waitForSelector('text=密码至少10位');
    expect(await prisma.user.count({ where: { username } })).toBe(0);
    await page.fill('input[name=password]', DEMO_PASSWORD);
    await page.click('[data-testid=user-save]');
    await page.waitForURL(/#\/users$/);
    const created = await prisma.user.findUniqueOrThrow({ where: { username } });
    expect(created).toMatchObject({ role: 'TOWN', regionCode: town.code, active: true });

    await page.fill('input[name=q]', username);
    const row = page.locator('[data-testid=user-table] tbody tr', { hasText: username });
    await expect.poll(() => row.count(), { timeout: 15_000 }).toBe(1);
    expect(await row.innerText()).toContain('镇街');
    expect(await row.innerText()).toContain('正常');
    await screenshot(page, '41-admin-users');

    // Deactivated: cannot sign in; reactivated: can.
    await row.locator(`[data-testid=toggle-active-${username}]`).click();
    await expect.poll(async () => (await prisma.user.findUniqueOrThrow({ where: { username } })).active).toBe(false);
    expect(await canSignIn(username)).toBe(false);
    await expect.poll(() => row.innerText(), { timeout: 15_000 }).toContain('已停用');
    await row.locator(`[data-testid=toggle-active-${username}]`).click();
    await expect.poll(async () => (await prisma.user.findUniqueOrThrow({ where: { username } })).active).toBe(true);

    // Locked after failed sign-ins: 解除锁定.
    await prisma.user.update({
      where: { username },
      data: { lockedUntil: new Date(Date.now() + 3600_000), failedLogins: 5 },
    });
    await page.reload();
    await expect.poll(() => row.innerText(), { timeout: 15_000 }).toContain('已锁定');
    await row.getByRole('button', { name: '解除锁定' }).click();
    await expect
      .poll(async () => (await prisma.user.findUniqueOrThrow({ where: { username } })).lockedUntil)
      .toBeNull();
    expect(await canSignIn(username)).toBe(true);

    // A new password set by the bureau.
    await row.locator(`[data-testid=reset-password-${username}]`).click();
    await page.fill('input[name=newPassword]', NEW_PASSWORD);
    await page.fill('input[name=newPasswordAgain]', 'Something-Else-1');
    await page.click('[role=dialog] [data-testid=password-save]');
    await page.waitForSelector('text=两次输入的密码不一致');
    await page.fill('input[name=newPasswordAgain]', NEW_PASSWORD);
    await page.click('[role=dialog] [data-testid=password-save]');
    await page.waitForSelector('text=已重置密码');
    expect(await canSignIn(username, NEW_PASSWORD)).toBe(true);
    expect(await canSignIn(username)).toBe(false);
    await page.context().close();
  });

  it('lets the bureau open a school’s classes and add a class', async () => {
    const people = await demoPeople(prisma);
    const school = await prisma.school.findUniqueOrThrow({ where: { id: people.teacher.schoolId! } });
    const page = await newPage(browser);
    await signIn(page, 'bureau');
    await page.goto(`/#/schools/${school.id}/show`);
    await page.waitForSelector('[data-testid=class-table] tbody tr');
    expect(await textOf(page)).toContain(school.name);
    const name = `测试班${randomUUID().slice(0, 4)}`;
    await page.fill('input[name=name]', name);
    await page.getByRole('button', { name: '新建班级' }).click();
    await page.waitForSelector(`[data-testid=class-table] >> text=${name}`);
    expect(await prisma.schoolClass.count({ where: { schoolId: school.id, name } })).toBe(1);
    await page.context().close();
  });

  it('lets a user change her own password and sign in with it', async () => {
    // The account the bureau made above, with the password it set.
    const page = await newPage(browser);
    await page.goto('/#/login');
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', NEW_PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=welcome]');
    await page.click('text=修改密码');
    await page.fill('input[name=newPassword]', 'abc');
    await page.fill('input[name=newPasswordAgain]', 'abc');
    await page.click('[data-testid=password-save]');
    await page.waitForSelector('text=密码至少10位');
    await page.fill('input[name=newPassword]', DEMO_PASSWORD);
    await page.fill('input[name=newPasswordAgain]', DEMO_PASSWORD);
    await page.click('[data-testid=password-save]');
    // Every session ends: back to the sign-in page, and the new password works.
    await page.waitForURL(/#\/login/);
    expect(await canSignIn(username)).toBe(true);
    await page.context().close();
  });

  it('lets a supervisor find who read a child’s record in the audit log, and gives a teacher none of these pages', async () => {
    const people = await demoPeople(prisma);
    const teacher = await as(people.teacher.username);
    expect((await teacher('GET', `/api/children/${people.pupil.id}`)).status).toBe(200);
    await eventually(
      () =>
        prisma.auditEvent
          .findFirst({
            where: { entity: 'Child', entityId: people.pupil.id, userId: people.teacher.id },
          })
          .then((e) => e ?? undefined),
      'the read audited',
    );
    const page = await newPage(browser);
    await signIn(page, 'supervisor');
    await page.click('text=审计日志');
    await page.waitForSelector('[data-testid=audit-table]');
    await page.goto(`/#/audit?filter=${encodeURIComponent(JSON.stringify({ child: people.pupil.id }))}`);
    const row = page.locator('[data-testid=audit-table] tbody tr', { hasText: people.teacher.username });
    await expect.poll(() => row.count(), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(await row.first().innerText()).toContain('查看个人信息');
    expect(await row.first().innerText()).toContain('学生档案');
    // Only events about this child.
    const entities = await page.locator('[data-testid=audit-table] tbody tr').allInnerTexts();
    expect(entities.every((t) => t.includes(people.pupil.id) || /任务|一人一案|附件|辍学报告/.test(t))).toBe(true);
    await screenshot(page, '42-admin-audit');
    await page.context().close();

    const teacherPage = await newPage(browser);
    await signIn(teacherPage, people.teacher.username);
    expect(await teacherPage.locator('a[href="#/users"], a[href="#/audit"], a[href="#/schools"]').count()).toBe(0);
    expect(await teacherPage.locator('a[href="#/password"]').count()).toBe(1);
    await teacherPage.context().close();
  });
});
