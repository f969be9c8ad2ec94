/** docs/diagrams/*.svg are renderings of processes/*.bpmn, and the renderer draws what the DI says. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderProcessesDir, renderSvgs, SVG_DIR, wrapText } from '../../infra/diagrams/svg.js';

describe('docs/diagrams', () => {
  it('holds the current rendering of every diagram under processes/ (run npm run diagrams:svg)', async () => {
    const { files } = await renderProcessesDir();
    const committed = fs.existsSync(SVG_DIR) ? fs.readdirSync(SVG_DIR).filter((f) => f.endsWith('.svg')) : [];
    expect(committed.sort(), 'run npm run diagrams:svg').toEqual([...files.keys()].sort());
    const stale = [...files].filter(([file, svg]) => fs.readFileSync(path.join(SVG_DIR, file), 'utf8') !== svg);
    expect(
      stale.map(([file]) => file),
      'run npm run diagrams:svg',
    ).toEqual([]);
  });
});

const SAMPLE = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"
  id="Definitions_sample" targetNamespace="http://kongchuo.cn/bpmn">
  <bpmn:process id="sample" name="样例" isExecutable="true">
    <bpmn:startEvent id="start" name="开始" />
    <bpmn:userTask id="review" name="学校确认辍学并书面报告镇街和教育局" />
    <bpmn:serviceTask id="open" name="&lt;开立&gt; &amp; 通知">
      <bpmn:extensionElements><zeebe:taskDefinition type="open-dropout-case" /></bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:boundaryEvent id="overdue" name="逾期" attachedToRef="review" cancelActivity="false">
      <bpmn:timerEventDefinition><bpmn:timeDuration>P3D</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:exclusiveGateway id="decision" name="结果" default="toEnd" />
    <bpmn:subProcess id="sub" name="子流程">
      <bpmn:startEvent id="subStart" />
      <bpmn:endEvent id="subEnd" />
      <bpmn:sequenceFlow id="subFlow" sourceRef="subStart" targetRef="subEnd" />
    </bpmn:subProcess>
    <bpmn:endEvent id="end" name="结束" />
    <bpmn:sequenceFlow id="toReview" sourceRef="start" targetRef="review" />
    <bpmn:sequenceFlow id="toOpen" sourceRef="review" targetRef="open" />
    <bpmn:sequenceFlow id="toDecision" sourceRef="open" targetRef="decision" />
    <bpmn:sequenceFlow id="toSub" name="需要" sourceRef="decision" targetRef="sub">
      <bpmn:conditionExpression>=true</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="toEnd" sourceRef="decision" targetRef="end" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_sample">
    <bpmndi:BPMNPlane id="BPMNPlane_sample" bpmnElement="sample">
      <bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="152" y="102" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="review_di" bpmnElement="review"><dc:Bounds x="250" y="80" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="open_di" bpmnElement="open"><dc:Bounds x="410" y="80" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="overdue_di" bpmnElement="overdue"><dc:Bounds x="282" y="142" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="decision_di" bpmnElement="decision" isMarkerVisible="true"><dc:Bounds x="565" y="95" width="50" height="50" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="sub_di" bpmnElement="sub"><dc:Bounds x="670" y="80" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="end_di" bpmnElement="end"><dc:Bounds x="572" y="222" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="toReview_di" bpmnElement="toReview"><di:waypoint x="188" y="120" /><di:waypoint x="250" y="120" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="toOpen_di" bpmnElement="toOpen"><di:waypoint x="350" y="120" /><di:waypoint x="410" y="120" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="toDecision_di" bpmnElement="toDecision"><di:waypoint x="510" y="120" /><di:waypoint x="565" y="120" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="toSub_di" bpmnElement="toSub"><di:waypoint x="615" y="120" /><di:waypoint x="670" y="120" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="toEnd_di" bpmnElement="toEnd"><di:waypoint x="590" y="145" /><di:waypoint x="590" y="222" /></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
  <bpmndi:BPMNDiagram id="BPMNDiagram_sub">
    <bpmndi:BPMNPlane id="BPMNPlane_sub" bpmnElement="sub">
      <bpmndi:BPMNShape id="subStart_di" bpmnElement="subStart"><dc:Bounds x="100" y="100" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="subEnd_di" bpmnElement="subEnd"><dc:Bounds x="200" y="100" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="subFlow_di" bpmnElement="subFlow"><di:waypoint x="136" y="118" /><di:waypoint x="200" y="118" /></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>`;

const count = (svg: string, pattern: RegExp) => svg.match(pattern)?.length ?? 0;

describe('renderSvgs', () => {
  it('draws one picture per plane: the process and its collapsed sub-process', async () => {
    expect((await renderSvgs(SAMPLE)).map((s) => s.name)).toEqual(['sample', 'sample.sub']);
  });

  it('draws one <rect> per activity and one <polyline> per flow', async () => {
    const [main, sub] = await renderSvgs(SAMPLE);
    expect(count(main!.svg, /<rect\b/g)).toBe(3);
    expect(count(main!.svg, /<polyline\b/g)).toBe(5);
    expect(count(sub!.svg, /<rect\b/g)).toBe(0);
    expect(count(sub!.svg, /<polyline\b/g)).toBe(1);
  });

  it('escapes names, wraps Chinese per character and labels flows', async () => {
    const [main] = await renderSvgs(SAMPLE);
    expect(main!.svg).toContain('&lt;开立&gt; &amp; 通知');
    expect(main!.svg).not.toContain('<开立>');
    expect(main!.svg).toMatch(/>学校确认辍学<\/tspan><tspan[^>]*>并书面报告镇<\/tspan><tspan[^>]*>街和教育局</);
    expect(main!.svg).toMatch(/<tspan[^>]*>需要<\/tspan>/);
    expect(main!.svg).toContain('stroke-dasharray="5,3"');
  });

  it('is deterministic and fits the view box around every shape', async () => {
    const [first] = await renderSvgs(SAMPLE);
    const [second] = await renderSvgs(SAMPLE);
    expect(second!.svg).toBe(first!.svg);
    const [x, y, width, height] = /viewBox="([-\d.]+) ([-\d.]+) ([\d.]+) ([\d.]+)"/
      .exec(first!.svg)!
      .slice(1)
      .map(Number);
    expect(x).toBeLessThanOrEqual(152);
    expect(y).toBeLessThanOrEqual(80);
    expect(x! + width!).toBeGreaterThanOrEqual(770);
    expect(y! + height!).toBeGreaterThanOrEqual(258);
  });
});

describe('wrapText', () => {
  it('breaks CJK anywhere, Latin between words, and balances the lines', () => {
    expect(wrapText('学校报告期限届满', 90)).toEqual(['学校报告', '期限届满']);
    expect(wrapText('send school report', 60)).toEqual(['send', 'school', 'report']);
    expect(wrapText('期限，届满', 48)).toEqual(['期限，', '届满']);
  });
});
