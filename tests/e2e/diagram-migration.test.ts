/**
 * Browser, engine-backed: on the console's 流程设计 page a policy officer opens 迁移到最新版本 on an
 * older version with running instances, sees in Chinese what maps and what does not, gives a comment
 * and sees the result; the instance at the kept element is on the new version, the one at the dropped
 * element stays. The bureau (read-only on this page) is not offered the action. The process is the
 * fixture of tests/fixtures/migration-probe-v*.bpmn under an id of its own.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { layoutProcess } from 'bpmn-auto-layout';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createEngineClient } from '../../infra/camunda/client.js';
import { createEngineRecords } from '../../infra/camunda/records.js';
import { as } from '../integration/helpers.js';
import { testConfig } from '../integration/test-env.js';
import { launchBrowser, newPage, screenshot, signIn } from './browser.js';

const engine = createEngineClient(testConfig());
const records = createEngineRecords(inject('engineDatabaseUrl'));
const id = `test-migration-e2e-${randomUUID().slice(0, 8)}`;
let browser: Browser;
let page: Page;
/** Waiting at visitFamily (kept in version 2) and at confirmDropoutBySchool (dropped). */
let visit = '';
let confirm = '';

function fixture(version: 1 | 2): Promise<string> {
  const xml = fs.readFileSync(new URL(`../fixtures/migration-probe-v${version}.bpmn`, import.meta.url), 'utf8');
  return layoutProcess(xml.replace('id="test-migration-probe"', `id="${id}"`));
}

async function versionOf(processInstanceKey: string): Promise<number> {
  const { rows } = await records.pool.query<{ version: number }>(
    'SELECT version FROM engine_process_instance WHERE key = $1',
    [processInstanceKey],
  );
  return rows[0]!.version;
}

beforeAll(async () => {
  browser = await launchBrowser();
  page = await newPage(browser);
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([engine.close(), records.close()]);
});

describe('流程设计: 迁移到最新版本', () => {
  it('shows the plan, migrates what maps with a comment and reports what was refused', async () => {
    const policy = await as('policy');
    for (const [version, comment] of [
      [1, '迁移端到端测试：第 1 版'],
      [2, '迁移端到端测试：第 2 版'],
    ] as const) {
      if (version === 2) {
        visit = (await engine.startProcess(id, { path: 'visit' })).processInstanceKey;
        confirm = (await engine.startProcess(id, { path: 'confirm' })).processInstanceKey;
      }
      const res = await policy('POST', '/api/diagrams/deploy', {
        kind: 'process',
        xml: await fixture(version),
        comment,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }

    const bureau = await newPage(browser);
    await signIn(bureau, 'bureau');
    await bureau.goto(`/#/modeler/process/${id}`);
    await bureau.click('[data-testid=tab-versions]', { timeout: 20_000 });
    await expect.poll(() => bureau.locator('[data-testid=version-1]').count(), { timeout: 20_000 }).toBe(1);
    expect(await bureau.locator('[data-testid=migrate-1]').count()).toBe(0);
    await bureau.context().close();

    await signIn(page, 'policy');
    await page.goto(`/#/modeler/process/${id}`);
    await page.click('[data-testid=tab-versions]', { timeout: 20_000 });
    await page.click('[data-testid=migrate-1]', { timeout: 20_000 });
    const dialog = page.locator('[data-testid=migrate-dialog]');
    await expect
      .poll(() => dialog.locator('[data-testid=plan-visitFamily]').textContent(), { timeout: 20_000 })
      .toContain('对应 visitFamily');
    expect(await dialog.locator('[data-testid=plan-confirmDropoutBySchool]').textContent()).toContain(
      '无法对应：新版本中没有此元素',
    );
    expect(await dialog.locator('[data-testid=migrate-summary]').textContent()).toContain('2 个运行中实例');
    expect(await dialog.locator('[data-testid=confirm-migrate]').isDisabled()).toBe(true);
    await dialog.locator('textarea[name=comment]').fill('法规修订：在办案件改按新流程');
    await screenshot(page, 'modeler-migrate-plan');
    await page.click('[data-testid=confirm-migrate]');
    const result = dialog.locator('[data-testid=migrate-result]');
    await expect.poll(() => result.textContent(), { timeout: 20_000 }).toContain('已迁移到 v2：1 个实例');
    expect(await result.textContent()).toContain(`实例 ${confirm}`);
    await screenshot(page, 'modeler-migrate-result');

    expect(await versionOf(visit)).toBe(2);
    expect(await versionOf(confirm)).toBe(1);
  });
});
