/**
 * Engine-backed, in the browser at a phone's width (390 × 844, touch): a teacher on a home visit works
 * from her phone — the inbox, the task form with a photo from the camera, the case file — and nothing is
 * wider than the screen: no sideways scrolling of the page, titles that do not wrap a character per line,
 * 认领 on screen, and the submit button not lying over the attachments.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPrisma } from '../../infra/db/prisma.js';
import { as, demoPeople, openTasksOf, pupilWithoutCase } from '../integration/helpers.js';
import { DEMO_PASSWORD } from '../../infra/seed/demo.js';
import { launchBrowser, PHOTO_PNG, screenshot } from './browser.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
const WIDTH = 390;
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await prisma.$disconnect();
});

async function phonePage(): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: WIDTH, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    baseURL: inject('apiUrl'),
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (err) => console.error(`[console page error] ${err.message}`));
  return page;
}

async function signIn(page: Page, username: string) {
  await page.goto('/#/login');
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', DEMO_PASSWORD);
  await page.click('button[type=submit]');
  await expect.poll(() => page.locator('[data-testid=welcome]').count(), { timeout: 15_000 }).toBe(1);
}

/**
 * Browser-side code is passed as text: the tests' TypeScript program has no DOM library (node code must
 * not see browser globals).
 */
const OVERFLOW = (width: number) => `(() => {
  const width = ${width};
  const label = (el) => {
    const r = el.getBoundingClientRect();
    return el.tagName.toLowerCase() + '.' + [...el.classList].slice(0, 3).join('.') + ' ' + Math.round(r.left) + '–' +
      Math.round(r.right) + ' "' + (el.textContent || '').trim().slice(0, 20) + '"';
  };
  const wide = [...document.querySelectorAll('body *')]
    .filter((el) => {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) return false;
      // Inside a box that scrolls sideways on its own (a wide table): that box is what must fit.
      for (let p = el.parentElement; p; p = p.parentElement) {
        const x = getComputedStyle(p).overflowX;
        if (x === 'auto' || x === 'scroll') return false;
      }
      return r.right > width + 1 || r.left < -1;
    })
    // The innermost ones name the cause (their ancestors are only as wide as they are).
    .filter((el, _i, all) => !all.some((other) => other !== el && el.contains(other)))
    .slice(0, 8)
    .map(label);
  return { scrollWidth: document.documentElement.scrollWidth, bodyScrollWidth: document.body.scrollWidth, wide };
})()`;

/** Is the element, or one of its ancestors, fixed or sticky on the screen? */
const PINNED = (selector: string) => `(() => {
  for (let p = document.querySelector(${JSON.stringify(selector)}); p; p = p.parentElement) {
    const position = getComputedStyle(p).position;
    if (position === 'fixed' || position === 'sticky') return true;
  }
  return false;
})()`;

/** The element's top in the page (not the screen). */
const TOP_IN_PAGE = (selector: string) =>
  `document.querySelector(${JSON.stringify(selector)}).getBoundingClientRect().top + window.scrollY`;

async function expectFits(page: Page, what: string) {
  const o = await page.evaluate<{ scrollWidth: number; bodyScrollWidth: number; wide: string[] }>(OVERFLOW(WIDTH));
  expect(o.wide, `${what}: elements past the edge`).toEqual([]);
  expect(o.scrollWidth, what).toBeLessThanOrEqual(WIDTH);
  expect(o.bodyScrollWidth, what).toBeLessThanOrEqual(WIDTH);
}

describe('the console on a phone, 390 px wide (engine-backed, headless Chromium)', () => {
  it('fits the inbox, a home-visit task with a photo from the camera, and the case file on the screen', async () => {
    const people = await demoPeople(prisma);
    const teacher = await as(people.teacher.username);
    const pupil = await pupilWithoutCase(prisma, people.teacher.classId);
    const reported = await teacher<{ processInstanceKey: string }>('POST', '/api/dropout-reports', {
      child: pupil.id,
      lastAttendance: '2026-11-16',
      reason: '连续旷课三天',
    });
    const [visit] = await openTasksOf(teacher, reported.body.processInstanceKey, 'visitFamily');
    const c = await prisma.dropoutCase.findUniqueOrThrow({
      where: { processInstanceKey: reported.body.processInstanceKey },
    });

    const page = await phonePage();
    await signIn(page, people.teacher.username);
    await expectFits(page, 'dashboard');

    await page.goto('/#/tasks');
    await page.waitForSelector('[data-testid=task-table] tbody tr');
    await page.waitForTimeout(500);
    await expectFits(page, 'inbox');
    // Words whole: the task's title on one line (the table scrolls sideways inside its card instead).
    const cell = (await page
      .locator('[data-testid=task-table] tbody td', { hasText: '班主任家访劝返' })
      .first()
      .boundingBox())!;
    expect(cell.height).toBeLessThan(60);
    await screenshot(page, '30-phone-inbox');

    await page.goto(`/#/tasks/${visit!.userTaskKey}/show`);
    await page.waitForSelector('[data-testid=task-title]');
    await page.waitForSelector('[data-testid=attachment-list]');
    await expectFits(page, 'task page');
    // The title wraps as words do, not one character per line.
    const title = (await page.locator('[data-testid=task-title]').boundingBox())!;
    expect(title.width).toBeGreaterThan(150);
    expect(title.height).toBeLessThan(80);
    // 认领 is on screen.
    const claim = (await page.getByRole('button', { name: '认领' }).boundingBox())!;
    expect(claim.x).toBeGreaterThanOrEqual(0);
    expect(claim.x + claim.width).toBeLessThanOrEqual(WIDTH);

    // A photo straight from the camera: the input asks the phone for its camera.
    const camera = page.locator('[data-testid=camera-input]');
    expect(await camera.getAttribute('accept')).toBe('image/*');
    expect(await camera.getAttribute('capture')).toBe('environment');
    await camera.setInputFiles({ name: '家访现场.png', mimeType: 'image/png', buffer: PHOTO_PNG });
    await page.waitForSelector('[data-testid=attachment-list] >> text=家访现场.png');
    await page.fill('input[name=visitors]', '班主任 王老师');
    await expectFits(page, 'task page with a photo');

    // The submit button lies in the page's flow, under the form and above the attachments, not over them.
    expect(await page.evaluate<boolean>(PINNED('[data-testid=submit-task]'))).toBe(false);
    const top = (selector: string) => page.evaluate<number>(TOP_IN_PAGE(selector));
    expect(await top('[data-testid=submit-task]')).toBeLessThan(await top('[data-testid=attachment-list]'));
    await page.locator('[data-testid=attachment-list]').scrollIntoViewIfNeeded();
    const submit = (await page.locator('[data-testid=submit-task]').boundingBox())!;
    const attachments = (await page.locator('[data-testid=attachment-list]').boundingBox())!;
    const overlaps =
      submit.y < attachments.y + attachments.height &&
      attachments.y < submit.y + submit.height &&
      submit.x < attachments.x + attachments.width &&
      attachments.x < submit.x + submit.width;
    expect(overlaps).toBe(false);
    await screenshot(page, '31-phone-task');

    await page.goto(`/#/cases/${c.id}/show`);
    await page.waitForSelector('[data-testid=case-file]');
    await page.waitForSelector('[data-testid=case-timeline]');
    await expectFits(page, 'case file');
    await screenshot(page, '32-phone-case');
    await page.context().close();
  });
});
