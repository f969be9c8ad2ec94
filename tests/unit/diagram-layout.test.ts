/** layoutDiagram: bpmn-auto-layout's DI spliced into the untouched process XML, with its gaps repaired. */
import { describe, expect, it } from 'vitest';
import { layoutDiagram } from '../../infra/diagrams/layout.js';
import { lintDiagram } from '../../infra/diagrams/lint.js';

const PROCESS_PART = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"
  xmlns:modeler="http://camunda.org/schema/modeler/1.0"
  id="Definitions_sample" targetNamespace="http://kongchuo.cn/bpmn"
  modeler:executionPlatform="Camunda Cloud" modeler:executionPlatformVersion="8.6.0">
  <bpmn:process id="sample" name="样例" isExecutable="true">
    <bpmn:startEvent id="start" name="开始"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="open" name="开立一人一案">
      <bpmn:extensionElements>
        <zeebe:taskDefinition type="open-dropout-case" retries="3" />
        <zeebe:ioMapping><zeebe:input source="=string(year) + &#34;-06-30&#34;" target="due" /></zeebe:ioMapping>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:boundaryEvent id="overdue" name="逾期" attachedToRef="open" cancelActivity="false">
      <bpmn:outgoing>f5</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>P3D</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:boundaryEvent id="failed" name="失败" attachedToRef="open">
      <bpmn:outgoing>f6</bpmn:outgoing>
      <bpmn:errorEventDefinition errorRef="err" />
    </bpmn:boundaryEvent>
    <bpmn:callActivity id="perSchool" name="逐校核实">
      <bpmn:extensionElements><zeebe:calledElement processId="other" propagateAllChildVariables="false" /></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:multiInstanceLoopCharacteristics>
        <bpmn:extensionElements><zeebe:loopCharacteristics inputCollection="=schools" inputElement="school" /></bpmn:extensionElements>
      </bpmn:multiInstanceLoopCharacteristics>
    </bpmn:callActivity>
    <bpmn:subProcess id="sub" name="子流程">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:startEvent id="subStart" name="子开始"><bpmn:outgoing>s1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:endEvent id="subEnd" name="子结束"><bpmn:incoming>s1</bpmn:incoming></bpmn:endEvent>
      <bpmn:sequenceFlow id="s1" sourceRef="subStart" targetRef="subEnd" />
    </bpmn:subProcess>
    <bpmn:endEvent id="end" name="结束"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="endOverdue" name="逾期结束"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="endFailed" name="失败结束"><bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="open" />
    <bpmn:sequenceFlow id="f2" sourceRef="open" targetRef="perSchool" />
    <bpmn:sequenceFlow id="f3" sourceRef="perSchool" targetRef="sub" />
    <bpmn:sequenceFlow id="f4" sourceRef="sub" targetRef="end" />
    <bpmn:sequenceFlow id="f5" sourceRef="overdue" targetRef="endOverdue" />
    <bpmn:sequenceFlow id="f6" sourceRef="failed" targetRef="endFailed" />
  </bpmn:process>
  <bpmn:error id="err" name="失败" errorCode="FAILED" />
`;
const WITHOUT_DI = `${PROCESS_PART}</bpmn:definitions>\n`;

async function laidOut(xml: string): Promise<string> {
  const outcome = await layoutDiagram(xml);
  if (outcome.status !== 'laid-out') throw new Error(`not laid out: ${outcome.status}`);
  return outcome.xml;
}

/** The plane a DI element for `id` sits in. */
function planeOf(xml: string, id: string): string | undefined {
  for (const [, owner, body] of xml.matchAll(
    /<bpmndi:BPMNPlane id="[^"]*" bpmnElement="([^"]*)">([\s\S]*?)<\/bpmndi:BPMNPlane>/g,
  )) {
    if (body!.includes(`bpmnElement="${id}"`)) return owner;
  }
  return undefined;
}

describe('layoutDiagram', () => {
  it('leaves the process XML as written, adding the DI and its namespaces', async () => {
    const xml = await laidOut(WITHOUT_DI);
    const [head, diagrams] = [
      xml.slice(0, xml.indexOf('  <bpmndi:BPMNDiagram')),
      xml.slice(xml.indexOf('  <bpmndi:BPMNDiagram')),
    ];
    expect(head.replace(/ xmlns:(bpmndi|dc|di)="[^"]*"/g, '')).toBe(PROCESS_PART);
    expect(head).toContain('xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"');
    expect(diagrams).toMatch(/<\/bpmndi:BPMNDiagram>\n<\/bpmn:definitions>\n$/);
  });

  it('gives the collapsed sub-process a plane of its own', async () => {
    const xml = await laidOut(WITHOUT_DI);
    expect(planeOf(xml, 'sub')).toBe('sample');
    expect(['subStart', 'subEnd', 's1'].map((id) => planeOf(xml, id))).toEqual(['sub', 'sub', 'sub']);
    expect(xml).not.toMatch(/isExpanded="true"/);
  });

  it('produces a diagram bpmnlint accepts (boundary events spread, every element drawn)', async () => {
    const reports = (await lintDiagram(await laidOut(WITHOUT_DI))).filter((r) => r.category !== 'info');
    expect(reports.map((r) => `${r.id}: ${r.rule}: ${r.message}`)).toEqual([]);
  });

  it('leaves a drawn diagram alone, and refuses one drawn in part', async () => {
    const xml = await laidOut(WITHOUT_DI);
    expect(await layoutDiagram(xml)).toEqual({ status: 'has-di' });
    const partial = xml.replace(/<bpmndi:BPMNShape id="end_di"[\s\S]*?<\/bpmndi:BPMNShape>/, '');
    expect(await layoutDiagram(partial)).toEqual({ status: 'partial-di', missing: ['end'] });
    expect((await layoutDiagram(partial, { force: true })).status).toBe('laid-out');
  });

  it('refuses a diagram with an element the Zeebe schema does not know', async () => {
    await expect(layoutDiagram(WITHOUT_DI.replace('zeebe:taskDefinition', 'zeebe:taskDefiniton'))).rejects.toThrow(
      /does not parse cleanly/,
    );
  });
});
