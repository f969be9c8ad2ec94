/**
 * Engine-backed: policy staff move running instances of an older process version to the newest one
 * (issue 18, "the engine's migration is offered where the elements map"), through the diagrams API
 * (api/routes/diagrams.ts, api/diagrams/migration.ts) against the real engine and database. The plan
 * says what maps; the migration moves every instance whose active elements all exist in the newest
 * version (they then follow its path), refuses the others with the engine's reason (they stay on
 * their version), is audited, and is refused to every role but POLICY. The process is a fixture of
 * its own (tests/fixtures/migration-probe-v*.bpmn, id with a random suffix), so no other test's flows
 * change.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { layoutProcess } from 'bpmn-auto-layout';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createEngineClient } from '../../infra/camunda/client.js';
import { createEngineRecords } from '../../infra/camunda/records.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { as, eventually } from './helpers.js';
import { testConfig } from './test-env.js';

const engine = createEngineClient(testConfig());
const records = createEngineRecords(inject('engineDatabaseUrl'));
const prisma = createPrisma(inject('appDatabaseUrl'));

afterAll(async () => {
  await Promise.all([engine.close(), records.close(), prisma.$disconnect()]);
});

const id = `test-migration-probe-${randomUUID().slice(0, 8)}`;

/** A fixture version with this file's process id, laid out so bpmnlint finds its DI. */
function fixture(version: 1 | 2): Promise<string> {
  const xml = fs.readFileSync(new URL(`../fixtures/migration-probe-v${version}.bpmn`, import.meta.url), 'utf8');
  return layoutProcess(xml.replace('id="test-migration-probe"', `id="${id}"`));
}

interface Plan {
  fromVersion: number;
  toVersion: number;
  instances: number;
  mappableInstances: number;
  elements: { elementId: string; instances: number; targetElementId: string | null; maps: boolean; reason: string }[];
}
interface Report {
  fromVersion: number;
  toVersion: number;
  targetDefinitionKey: string;
  migrated: string[];
  refused: { processInstanceKey: string; reason: string }[];
  notAttempted: string[];
}

async function instance(key: string) {
  const { rows } = await records.pool.query<{ definition: string; version: number; state: string }>(
    `SELECT process_definition_key::text AS definition, version, state FROM engine_process_instance WHERE key = $1`,
    [key],
  );
  return rows[0]!;
}

/** The open user task of an instance, once the engine has created it. */
function openTask(processInstanceKey: string) {
  return eventually(async () => {
    const { rows } = await records.pool.query<{ key: string; element_id: string; version: number }>(
      `SELECT key::text, element_id, version FROM engine_user_task WHERE process_instance_key = $1 AND state = 'CREATED'`,
      [processInstanceKey],
    );
    return rows[0];
  }, `open task of ${processInstanceKey}`);
}

async function passedThrough(processInstanceKey: string): Promise<string[]> {
  const { rows } = await records.pool.query<{ element_id: string }>(
    `SELECT element_id FROM engine_element_instance WHERE process_instance_key = $1 AND state = 'COMPLETED'
      AND element_type <> 'PROCESS' ORDER BY key`,
    [processInstanceKey],
  );
  return rows.map((r) => r.element_id);
}

describe('migrating running instances to the newest version', () => {
  it('plans, moves what maps (it follows the new path), refuses and keeps what does not, audited; POLICY only', async () => {
    const policy = await as('policy');
    const v1 = await policy<{ deployed: { version: number; definitionKey: string }[] }>(
      'POST',
      '/api/diagrams/deploy',
      { kind: 'process', xml: await fixture(1), comment: '迁移测试：第 1 版' },
    );
    expect(v1.status, JSON.stringify(v1.body)).toBe(201);
    const oldKey = v1.body.deployed[0]!.definitionKey;
    const visiting = [
      await engine.startProcess(id, { path: 'visit' }),
      await engine.startProcess(id, { path: 'visit' }),
    ];
    const confirming = await engine.startProcess(id, { path: 'confirm' });
    for (const i of visiting) expect((await openTask(i.processInstanceKey)).element_id).toBe('visitFamily');
    expect((await openTask(confirming.processInstanceKey)).element_id).toBe('confirmDropoutBySchool');

    // The newest version itself has nowhere to go.
    expect((await policy('GET', `/api/diagrams/process/${id}/versions/1/migration-plan`)).status).toBe(409);

    const v2 = await policy<{ deployed: { version: number; definitionKey: string }[] }>(
      'POST',
      '/api/diagrams/deploy',
      { kind: 'process', xml: await fixture(2), comment: '迁移测试：家访后增加责令改正' },
    );
    expect(v2.status, JSON.stringify(v2.body)).toBe(201);
    const newKey = v2.body.deployed[0]!.definitionKey;
    // Deploying moved nothing.
    for (const i of [...visiting, confirming]) expect((await instance(i.processInstanceKey)).definition).toBe(oldKey);

    const bureau = await as('bureau');
    const plan = await bureau<Plan>('GET', `/api/diagrams/process/${id}/versions/1/migration-plan`);
    expect(plan.status, JSON.stringify(plan.body)).toBe(200);
    expect(plan.body).toMatchObject({ fromVersion: 1, toVersion: 2, instances: 3, mappableInstances: 2 });
    expect(plan.body.elements.map((e) => [e.elementId, e.instances, e.targetElementId, e.maps])).toEqual([
      ['confirmDropoutBySchool', 1, null, false],
      ['visitFamily', 2, 'visitFamily', true],
    ]);
    expect(plan.body.elements[0]!.reason).toMatch(/新版本中没有此元素/);

    // Only policy staff migrate; a refused caller moves nothing and writes no audit row.
    for (const who of ['bureau', 'supervisor', 'admin']) {
      const caller = await as(who);
      const res = await caller('POST', `/api/diagrams/process/${id}/migrate`, {
        fromVersion: 1,
        comment: '越权迁移测试',
      });
      expect(res.status, who).toBe(403);
    }
    // The comment is required.
    expect((await policy('POST', `/api/diagrams/process/${id}/migrate`, { fromVersion: 1 })).status).toBe(400);
    for (const i of [...visiting, confirming]) expect((await instance(i.processInstanceKey)).definition).toBe(oldKey);
    expect(await prisma.auditEvent.count({ where: { action: 'MIGRATE', entityId: `${id}:1` } })).toBe(0);

    const res = await policy<Report>('POST', `/api/diagrams/process/${id}/migrate`, {
      fromVersion: 1,
      comment: '法规修订：在办案件改按新流程',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ fromVersion: 1, toVersion: 2, targetDefinitionKey: newKey, notAttempted: [] });
    expect([...res.body.migrated].sort()).toEqual(visiting.map((i) => i.processInstanceKey).sort());
    expect(res.body.refused).toEqual([
      { processInstanceKey: confirming.processInstanceKey, reason: expect.stringMatching(/confirmDropoutBySchool/) },
    ]);

    for (const i of visiting) {
      expect(await instance(i.processInstanceKey)).toMatchObject({ definition: newKey, version: 2, state: 'ACTIVE' });
    }
    // The refused one stays where it was, on version 1.
    expect(await instance(confirming.processInstanceKey)).toMatchObject({ definition: oldKey, version: 1 });

    // A migrated instance's task, completed, leads to version 2's new task, not to version 1's end.
    const [first] = visiting;
    const task = await openTask(first!.processInstanceKey);
    expect(task.element_id).toBe('visitFamily');
    await engine.completeUserTask(task.key, {});
    const next = await eventually(async () => {
      const t = await openTask(first!.processInstanceKey);
      return t.element_id === 'orderCorrectionByTown' ? t : undefined;
    }, 'the new version’s task');
    expect(next.version).toBe(2);
    await engine.completeUserTask(next.key, {});
    await eventually(
      async () => ((await instance(first!.processInstanceKey)).state === 'COMPLETED' ? true : undefined),
      'completed',
    );
    expect(await passedThrough(first!.processInstanceKey)).toEqual(
      expect.arrayContaining(['visitFamily', 'orderCorrectionByTown', 'visited']),
    );

    // The versions page now counts one running instance on version 1 and one on version 2.
    const versions = await policy<{ data: { version: number; activeInstances: number }[] }>(
      'GET',
      `/api/diagrams/process/${id}/versions`,
    );
    expect(versions.body.data.map((v) => [v.version, v.activeInstances])).toEqual([
      [2, 1],
      [1, 1],
    ]);

    const audits = await prisma.auditEvent.findMany({ where: { action: 'MIGRATE', entityId: `${id}:1` } });
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ username: 'policy', entity: 'Process' });
    expect(audits[0]!.details).toMatchObject({
      comment: '法规修订：在办案件改按新流程',
      fromVersion: 1,
      toVersion: 2,
      refused: [{ processInstanceKey: confirming.processInstanceKey }],
    });
    expect([...(audits[0]!.details as { migrated: string[] }).migrated].sort()).toEqual(
      visiting.map((i) => i.processInstanceKey).sort(),
    );

    // Migrating again: what was refused is refused again and stays; nothing else is left on version 1.
    const again = await policy<Report>('POST', `/api/diagrams/process/${id}/migrate`, {
      fromVersion: 1,
      comment: '再次迁移测试',
    });
    expect(again.status).toBe(200);
    expect(again.body.migrated).toEqual([]);
    expect(again.body.refused.map((r) => r.processInstanceKey)).toEqual([confirming.processInstanceKey]);
    expect(await instance(confirming.processInstanceKey)).toMatchObject({ definition: oldKey, state: 'ACTIVE' });
  });
});
