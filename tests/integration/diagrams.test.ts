/**
 * Engine-backed: policy staff's diagram API (api/routes/diagrams.ts) against the real engine and
 * database. Hostile and broken uploads are refused with the list of problems and deploy nothing; only
 * POLICY validates, deploys and rolls back; a deploy makes a new version with who/when/why, audited,
 * while a running instance stays on its version; rollback redeploys an old version as the newest.
 * The diagrams deployed here are test processes of their own (ids with a random suffix), so the
 * statutory flows other files run on stay as processes/ has them.
 */
import { randomUUID } from 'node:crypto';
import { layoutProcess } from 'bpmn-auto-layout';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createEngineClient } from '../../infra/camunda/client.js';
import { createEngineRecords } from '../../infra/camunda/records.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { as } from './helpers.js';
import { testConfig } from './test-env.js';

const engine = createEngineClient(testConfig());
const records = createEngineRecords(inject('engineDatabaseUrl'));
const prisma = createPrisma(inject('appDatabaseUrl'));

afterAll(async () => {
  await Promise.all([engine.close(), records.close(), prisma.$disconnect()]);
});

const suffix = randomUUID().slice(0, 8);

/** A cited one-timer process (start → wait `duration` → end), laid out so bpmnlint finds its DI. */
function testProcess(id: string, duration: string, extra = ''): Promise<string> {
  return layoutProcess(`<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:modeler="http://camunda.org/schema/modeler/1.0" id="Definitions_${id}" targetNamespace="http://bpmn.io/schema/bpmn" modeler:executionPlatform="Camunda Cloud" modeler:executionPlatformVersion="8.6.0">
  <bpmn:process id="${id}" name="测试流程" isExecutable="true">
    <bpmn:startEvent id="start" name="开始"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait" name="等待期限">
      <bpmn:documentation>[P] 测试用期限</bpmn:documentation>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition id="waitTimer"><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">${duration}</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end" />
    <bpmn:endEvent id="end" name="结束"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>${extra}
  </bpmn:process>
</bpmn:definitions>`);
}

interface Problem {
  elementId: string;
  source: string;
  rule?: string;
  severity: string;
  message: string;
}
interface Refusal {
  error: { code: string; message: string; details: { problems: Problem[] } };
}
interface Version {
  version: number;
  definitionKey: string;
  deployedBy: string | null;
  comment: string | null;
  rollbackOf: number | null;
  activeInstances: number | null;
}

async function versionsOf(id: string): Promise<Version[]> {
  const policy = await as('policy');
  const res = await policy<{ data: Version[] }>('GET', `/api/diagrams/process/${id}/versions`);
  return res.status === 404 ? [] : res.body.data;
}

async function instanceDefinitionKey(processInstanceKey: string): Promise<string> {
  const { rows } = await records.pool.query<{ key: string }>(
    'SELECT process_definition_key::text AS key FROM engine_process_instance WHERE key = $1',
    [processInstanceKey],
  );
  return rows[0]!.key;
}

describe('refusals: nothing is parsed or deployed, and the problems are listed', () => {
  const id = `diagramsRefused_${suffix}`;

  it('refuses a DOCTYPE, entity declarations (a billion-laughs bomb) and an oversized file unread', async () => {
    const policy = await as('policy');
    const good = await testProcess(id, 'P30D');
    const bomb = good
      .replace(
        '<bpmn:definitions',
        '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>\n<bpmn:definitions',
      )
      .replace('测试流程', '&lol2;');
    const external = good.replace(
      '<bpmn:definitions',
      '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<bpmn:definitions',
    );
    // 1.1 MB: under the route's body limit, over the diagram limit.
    const oversize = good.replace('</bpmn:definitions>', `<!-- ${'x'.repeat(1_150_000)} -->\n</bpmn:definitions>`);
    for (const [what, xml, rules] of [
      ['bomb', bomb, ['doctype', 'entity']],
      ['external entity', external, ['doctype', 'entity']],
      ['oversize', oversize, ['size']],
    ] as const) {
      for (const path of ['/api/diagrams/validate', '/api/diagrams/deploy']) {
        const res = await policy<Refusal>('POST', path, { kind: 'process', xml, comment: '安全检查测试' });
        expect(res.status, `${what} ${path}`).toBe(400);
        expect(res.body.error.code).toBe('DIAGRAM_UNSAFE');
        expect(res.body.error.message).toMatch(/DOCTYPE|1 MB/);
        expect(res.body.error.details.problems.map((p) => p.rule).sort()).toEqual([...rules].sort());
      }
    }
    expect(await versionsOf(id)).toEqual([]);
  });

  it('names the elements the engine does not execute, and those without a clause or a form', async () => {
    const policy = await as('policy');
    const xml = await testProcess(
      id,
      'P30D',
      // A signal event (not executed by our engine), an uncited service task, a user task with no form.
      `
    <bpmn:intermediateThrowEvent id="shout" name="发信号"><bpmn:documentation>[P] 测试</bpmn:documentation><bpmn:signalEventDefinition id="sig" /></bpmn:intermediateThrowEvent>
    <bpmn:serviceTask id="uncited" name="无依据的任务"><bpmn:extensionElements><zeebe:taskDefinition type="x" /></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:userTask id="formless" name="没有表单的任务"><bpmn:documentation>[P] 测试</bpmn:documentation><bpmn:extensionElements><zeebe:userTask /></bpmn:extensionElements></bpmn:userTask>`,
    );
    const checked = await policy<{ ok: boolean; problems: Problem[]; svgs: { svg: string }[] }>(
      'POST',
      '/api/diagrams/validate',
      { kind: 'process', xml },
    );
    expect(checked.status).toBe(200);
    expect(checked.body.ok).toBe(false);
    const on = (elementId: string) =>
      checked.body.problems.filter((p) => p.elementId === elementId && p.severity === 'error');
    expect(on('shout').map((p) => p.source)).toContain('engine');
    expect(on('shout').find((p) => p.source === 'engine')!.message).toMatch(/signal/);
    expect(on('uncited').map((p) => p.rule)).toContain('cites-clause');
    expect(on('formless').map((p) => p.rule)).toContain('user-task-form');
    // The picture comes with the problems, so the console can mark the elements.
    expect(checked.body.svgs[0]!.svg).toContain('data-element-id="uncited"');

    const refused = await policy<Refusal>('POST', '/api/diagrams/deploy', {
      kind: 'process',
      xml,
      comment: '应被拒绝',
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('DIAGRAM_INVALID');
    expect(refused.body.error.details.problems.map((p) => p.elementId)).toEqual(
      expect.arrayContaining(['shout', 'uncited', 'formless']),
    );
    expect(await versionsOf(id)).toEqual([]);
  });

  it('refuses XML that is not well-formed, a deploy without a comment, and a decision cell without its source', async () => {
    const policy = await as('policy');
    const broken = await policy<Refusal>('POST', '/api/diagrams/deploy', {
      kind: 'process',
      xml: '<bpmn:definitions',
      comment: '坏文件测试',
    });
    expect(broken.status).toBe(422);
    expect(broken.body.error.details.problems[0]!.message).toMatch(/not a readable BPMN file/);

    const silent = await policy<{ error: { code: string } }>('POST', '/api/diagrams/deploy', {
      kind: 'process',
      xml: await testProcess(id, 'P30D'),
      comment: ' ',
    });
    expect(silent.status).toBe(400);
    expect(silent.body.error.code).toBe('VALIDATION_FAILED');

    const dmn = `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="Definitions_test_${suffix}" name="测试表" namespace="http://kongchuo.cn/dmn">
  <decision id="testTable_${suffix}" name="测试表">
    <decisionTable id="t" hitPolicy="FIRST">
      <input id="i" label="县"><inputExpression id="ie" typeRef="string"><text>county</text></inputExpression></input>
      <output id="o" name="within" label="期限" typeRef="string" />
      <rule id="r1"><inputEntry id="r1i"><text>-</text></inputEntry><outputEntry id="r1o"><text>"P3D"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>`;
    const uncited = await policy<Refusal>('POST', '/api/diagrams/deploy', {
      kind: 'decision',
      xml: dmn,
      comment: '无出处的测试',
    });
    expect(uncited.status).toBe(422);
    expect(uncited.body.error.details.problems).toEqual([
      expect.objectContaining({ elementId: 'r1o', rule: 'cites-clause' }),
    ]);
    const cited = dmn.replace('<outputEntry id="r1o">', '<outputEntry id="r1o"><description>[P] 默认3日</description>');
    const deployed = await policy<{ deployed: { resourceId: string; version: number }[] }>(
      'POST',
      '/api/diagrams/deploy',
      {
        kind: 'decision',
        xml: cited,
        comment: '测试决策表',
      },
    );
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(201);
    expect(deployed.body.deployed).toEqual([
      expect.objectContaining({ resourceId: `Definitions_test_${suffix}`, version: 1 }),
    ]);
  });
});

describe('county scope of the deadline table', () => {
  it('lets a county’s policy staff change only their county’s rule: another county’s and the default are refused', async () => {
    const policy = await as('policy');
    const versions = await policy<{ data: { version: number }[] }>(
      'GET',
      '/api/diagrams/decision/Definitions_statutoryDeadlines/versions',
    );
    const latest = versions.body.data[0]!.version;
    const current = await policy<{ xml: string }>(
      'GET',
      `/api/diagrams/decision/Definitions_statutoryDeadlines/versions/${latest}`,
    );
    const cell = (rule: string) =>
      new RegExp(`(<outputEntry id="${rule}_townActWithin"><description>[^<]*</description><text>)"P5D"`);
    for (const rule of ['rule_default', 'rule_yueqing']) {
      const xml = current.body.xml.replace(cell(rule), '$1"P6D"');
      expect(xml).not.toBe(current.body.xml);
      const checked = await policy<{ ok: boolean; problems: Problem[] }>('POST', '/api/diagrams/validate', {
        kind: 'decision',
        xml,
      });
      expect(checked.body.ok).toBe(false);
      expect(checked.body.problems).toEqual([expect.objectContaining({ elementId: rule, rule: 'county-scope' })]);
      const refused = await policy<Refusal>('POST', '/api/diagrams/deploy', {
        kind: 'decision',
        xml,
        comment: '越权修改他县期限',
      });
      expect(refused.status).toBe(422);
    }
    const after = await policy<{ data: { version: number }[] }>(
      'GET',
      '/api/diagrams/decision/Definitions_statutoryDeadlines/versions',
    );
    expect(after.body.data[0]!.version).toBe(latest);
  });
});

describe('who may', () => {
  it('lets only policy staff validate, deploy and roll back; the county’s education side reads', async () => {
    const xml = await testProcess(`diagramsForbidden_${suffix}`, 'P30D');
    for (const username of ['bureau', 'supervisor', 'admin', 'justice', 'police']) {
      const caller = await as(username);
      for (const [method, path, body] of [
        ['POST', '/api/diagrams/validate', { kind: 'process', xml }],
        ['POST', '/api/diagrams/deploy', { kind: 'process', xml, comment: '越权部署' }],
        ['POST', '/api/diagrams/process/dropout-escalation/versions/1/rollback', { comment: '越权回滚' }],
      ] as const) {
        const res = await caller<{ error: { code: string } }>(method, path, body);
        expect(res.status, `${username} ${path}`).toBe(403);
        expect(res.body.error.code).toBe('FORBIDDEN');
      }
    }
    const bureau = await as('bureau');
    const list = await bureau<{ data: { kind: string; id: string; latestVersion: number }[] }>('GET', '/api/diagrams');
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'process', id: 'dropout-escalation' }),
        expect.objectContaining({ kind: 'decision', id: 'Definitions_statutoryDeadlines' }),
      ]),
    );
    const police = await as('police');
    expect((await police('GET', '/api/diagrams')).status).toBe(403);
    expect(await versionsOf(`diagramsForbidden_${suffix}`)).toEqual([]);
  });
});

describe('deploy, history, running instances, diff and rollback', () => {
  const id = `diagramsVersions_${suffix}`;

  it('deploys new versions with who/when/why, audited; a running instance stays on its version; rollback redeploys the old one', async () => {
    const policy = await as('policy');
    const v1Xml = await testProcess(id, 'P30D');
    const first = await policy<{ deployed: { version: number; definitionKey: string }[] }>(
      'POST',
      '/api/diagrams/deploy',
      {
        kind: 'process',
        xml: v1Xml,
        comment: '首次部署：等待30日',
      },
    );
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body.deployed).toEqual([expect.objectContaining({ resourceId: id, version: 1 })]);
    const running = await engine.startProcess(id, {});
    expect(await instanceDefinitionKey(running.processInstanceKey)).toBe(first.body.deployed[0]!.definitionKey);

    // The same bytes again: no new version.
    const again = await policy<{ error: { code: string } }>('POST', '/api/diagrams/deploy', {
      kind: 'process',
      xml: v1Xml,
      comment: '重复部署',
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('DIAGRAM_UNCHANGED');

    const second = await policy<{ deployed: { version: number; definitionKey: string }[] }>(
      'POST',
      '/api/diagrams/deploy',
      {
        kind: 'process',
        xml: await testProcess(id, 'P7D'),
        comment: '期限改为7日（测试）',
      },
    );
    expect(second.status, JSON.stringify(second.body)).toBe(201);
    expect(second.body.deployed[0]!.version).toBe(2);
    const later = await engine.startProcess(id, {});
    expect(later.version).toBe(2);
    // The instance started on version 1 is still there, on version 1.
    expect(await instanceDefinitionKey(running.processInstanceKey)).toBe(first.body.deployed[0]!.definitionKey);

    const history = await versionsOf(id);
    expect(history.map((v) => [v.version, v.deployedBy, v.comment, v.rollbackOf, v.activeInstances])).toEqual([
      [2, 'policy', '期限改为7日（测试）', null, 1],
      [1, 'policy', '首次部署：等待30日', null, 1],
    ]);

    const diff = await policy<{
      changed: { id: string; attrs: { attr: string; oldValue: string; newValue: string }[] }[];
    }>('GET', `/api/diagrams/process/${id}/diff?from=1&to=2`);
    expect(diff.status).toBe(200);
    expect(diff.body.changed).toEqual([
      expect.objectContaining({
        id: 'wait',
        attrs: [{ attr: 'timer.timeDuration', oldValue: 'P30D', newValue: 'P7D' }],
      }),
    ]);

    const rollback = await policy<{ deployed: { version: number }[] }>(
      'POST',
      `/api/diagrams/process/${id}/versions/1/rollback`,
      { comment: '恢复30日期限' },
    );
    expect(rollback.status, JSON.stringify(rollback.body)).toBe(201);
    expect(rollback.body.deployed[0]!.version).toBe(3);
    const v3 = await policy<{ xml: string }>('GET', `/api/diagrams/process/${id}/versions/3`);
    expect(v3.body.xml).toBe(v1Xml);
    expect((await versionsOf(id))[0]).toMatchObject({
      version: 3,
      rollbackOf: 1,
      comment: '恢复30日期限',
      deployedBy: 'policy',
    });
    expect((await engine.startProcess(id, {})).version).toBe(3);

    const audits = await prisma.auditEvent.findMany({
      where: { action: 'DEPLOY', entity: 'Process', entityId: { startsWith: `${id}:` } },
      orderBy: { id: 'asc' },
    });
    expect(audits.map((a) => [a.entityId, a.username, (a.details as { comment: string }).comment])).toEqual([
      [`${id}:1`, 'policy', '首次部署：等待30日'],
      [`${id}:2`, 'policy', '期限改为7日（测试）'],
      [`${id}:3`, 'policy', '恢复30日期限'],
    ]);
  });
});
