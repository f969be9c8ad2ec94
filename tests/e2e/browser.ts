/**
 * Headless Chromium for the console's end-to-end tests: Debian's `chromium` driven by playwright-core
 * (Playwright's own browser download is not reachable here). Screenshots land in
 * test-artifacts/screenshots/ (CI keeps them; the README shows a copy from docs/screenshots/).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { expect, inject } from 'vitest';
import { REPO_ROOT } from '../../infra/config.js';
import { DEMO_PASSWORD } from '../../infra/seed/demo.js';

export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'test-artifacts', 'screenshots');

/** Without these, Chromium keeps calling Google's hosts, which this network refuses. */
const QUIET_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  // Native date and file inputs follow the browser's language, as on a Chinese office PC.
  '--lang=zh-CN',
];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: QUIET_FLAGS });
}

/** A fresh page (own cookies) of the console, 1400×900, Chinese locale, Beijing time. */
export async function newPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: 1400, height: 900 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    baseURL: inject('apiUrl'),
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  // A console error is a bug the user would see as a blank or broken screen.
  page.on('pageerror', (err) => console.error(`[console page error] ${err.message}`));
  return page;
}

export async function signIn(page: Page, username: string): Promise<void> {
  await page.goto('/#/login');
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', DEMO_PASSWORD);
  await page.click('button[type=submit]');
  await expect.poll(() => page.locator('[data-testid=welcome]').count(), { timeout: 15_000 }).toBe(1);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.waitForTimeout(300); // let transitions settle
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
}

/** The smallest valid PNG (1×1, grey): a "photo" of a home visit. */
export const PHOTO_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNoAAAAggCBd81ytgAAAABJRU5ErkJggg==',
  'base64',
);
