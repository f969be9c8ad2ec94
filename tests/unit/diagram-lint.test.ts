/**
 * bpmnlint over every diagram under processes/, with the repository's .bpmnlintrc (bpmnlint's
 * recommended rules and Camunda 8.6 compatibility): no errors, no warnings, and nothing the
 * Zeebe-aware parser could not place.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/config.js';
import { lintDiagram } from '../../infra/diagrams/lint.js';
import { parseDiagram } from '../../infra/diagrams/moddle.js';

const PROCESSES_DIR = path.join(REPO_ROOT, 'processes');

const diagrams = (fs.readdirSync(PROCESSES_DIR, { recursive: true }) as string[])
  .filter((f) => f.endsWith('.bpmn'))
  .sort()
  .map((f) => ({ file: f, xml: fs.readFileSync(path.join(PROCESSES_DIR, f), 'utf8') }));

it('finds at least one diagram under processes/', () => {
  expect(diagrams.length).toBeGreaterThan(0);
});

describe.each(diagrams)('$file', ({ file, xml }) => {
  it('parses without unknown elements or attributes', async () => {
    const { warnings } = await parseDiagram(xml);
    expect(warnings.map((w) => `${file}: ${w.message.replace(/\s+/g, ' ')}`)).toEqual([]);
  });

  it('has no bpmnlint errors or warnings', async () => {
    const reports = (await lintDiagram(xml)).filter((r) => r.category !== 'info');
    expect(reports.map((r) => `${file}: ${r.id || '(document)'}: ${r.rule}: ${r.message}`)).toEqual([]);
  });

  it('is also valid for Camunda 8.9, the version the platform targets once it is served', async () => {
    const reports = (await lintDiagram(xml, { platform: '8-9' })).filter((r) => r.category !== 'info');
    expect(reports.map((r) => `${file}: ${r.id || '(document)'}: ${r.rule}: ${r.message}`)).toEqual([]);
  });
});

describe('lintDiagram', () => {
  const broken = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:modeler="http://camunda.org/schema/modeler/1.0"
  id="Definitions_broken" targetNamespace="http://kongchuo.cn/bpmn"
  modeler:executionPlatform="Camunda Cloud" modeler:executionPlatformVersion="8.6.0">
  <bpmn:process id="broken" name="坏图" isExecutable="true">
    <bpmn:startEvent id="start" name="开始" />
    <bpmn:serviceTask id="work" name="无作业类型">
      <bpmn:outgoing>toEnd</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:endEvent id="end" name="结束"><bpmn:incoming>toEnd</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="toEnd" sourceRef="work" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>`;

  it('reports a start event without outgoing flow, a service task without job type, a missing DI', async () => {
    const found = (await lintDiagram(broken)).map((r) => `${r.category} ${r.id} ${r.rule}`);
    expect(found).toEqual(
      expect.arrayContaining([
        'error start no-disconnected',
        'error work camunda-compat/implementation',
        'error work no-bpmndi',
      ]),
    );
  });

  it('reports a misspelt zeebe element as an error', async () => {
    const misspelt = broken.replace(
      '<bpmn:outgoing>toEnd',
      '<bpmn:extensionElements><zeebe:taskDefiniton type="x" /></bpmn:extensionElements><bpmn:outgoing>toEnd',
    );
    const reports = await lintDiagram(misspelt);
    expect(reports.filter((r) => r.rule === 'bpmn-moddle').map((r) => r.category)).toEqual(['error']);
  });

  it('judges each diagram on its own (bpmnlint rules keep state between runs of one linter)', async () => {
    const first = await lintDiagram(broken);
    const second = await lintDiagram(broken);
    expect(second).toEqual(first);
    expect(second.filter((r) => r.rule === 'no-duplicate-sequence-flows')).toEqual([]);
  });
});
