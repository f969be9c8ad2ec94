/** Static checks of every diagram under processes/: workers, forms, Camunda 8 user tasks, names and ids. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { taskForms } from '../../api/tasks/forms.js';
import { REPO_ROOT } from '../../infra/config.js';
import { workers } from '../../workers/registry.js';

const PROCESSES_DIR = path.join(REPO_ROOT, 'processes');

const FLOW_NODE_TYPES = [
  'startEvent',
  'endEvent',
  'task',
  'serviceTask',
  'userTask',
  'sendTask',
  'receiveTask',
  'scriptTask',
  'businessRuleTask',
  'manualTask',
  'exclusiveGateway',
  'parallelGateway',
  'inclusiveGateway',
  'eventBasedGateway',
  'complexGateway',
  'intermediateCatchEvent',
  'intermediateThrowEvent',
  'boundaryEvent',
  'callActivity',
  'subProcess',
];

interface FlowNode {
  type: string;
  attrs: Record<string, string>;
}

function attributes(tagText: string): Record<string, string> {
  return Object.fromEntries([...tagText.matchAll(/([\w:.-]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

function flowNodes(xml: string): FlowNode[] {
  const tag = new RegExp(`<bpmn:(${FLOW_NODE_TYPES.join('|')})\\b([^>]*)>`, 'g');
  return [...xml.matchAll(tag)].map((m) => ({ type: m[1]!, attrs: attributes(m[2]!) }));
}

/** Each userTask's id and the XML between its opening and closing tags ('' when self-closing). */
function userTasks(xml: string): { id: string; body: string }[] {
  return [...xml.matchAll(/<bpmn:userTask\b([^>]*?)(\/>|>([\s\S]*?)<\/bpmn:userTask>)/g)].map((m) => ({
    id: attributes(m[1]!).id ?? '',
    body: m[3] ?? '',
  }));
}

const diagrams = (fs.readdirSync(PROCESSES_DIR, { recursive: true }) as string[])
  .filter((f) => f.endsWith('.bpmn'))
  .map((f) => ({ file: f, xml: fs.readFileSync(path.join(PROCESSES_DIR, f), 'utf8') }));

it('finds at least one diagram under processes/', () => {
  expect(diagrams.length).toBeGreaterThan(0);
});

describe.each(diagrams)('$file', ({ xml }) => {
  it('targets Camunda 8 (executionPlatform "Camunda Cloud")', () => {
    expect(xml).toMatch(/<bpmn:definitions\b[^>]*\bmodeler:executionPlatform="Camunda Cloud"/);
  });

  it('has a registered worker for every job type', () => {
    const jobTypes = [...xml.matchAll(/<zeebe:taskDefinition\b[^>]*\btype="([^"]*)"/g)].map((m) => m[1]!);
    const registered = new Set(workers.map((w) => w.type));
    expect(jobTypes.filter((t) => !registered.has(t))).toEqual([]);
  });

  it('has a form for every user task', () => {
    const missing = userTasks(xml)
      .map((t) => t.id)
      .filter((id) => !Object.hasOwn(taskForms, id));
    expect(missing).toEqual([]);
  });

  it('makes every user task a Camunda user task with candidate groups', () => {
    for (const task of userTasks(xml)) {
      expect(task.body, task.id).toMatch(/<zeebe:userTask\b/);
      expect(task.body, task.id).toMatch(/<zeebe:assignmentDefinition\b[^>]*\bcandidateGroups="[^"\s][^"]*"/);
    }
  });

  it('gives every flow node a Chinese name and an English id', () => {
    const nodes = flowNodes(xml);
    expect(nodes.length).toBeGreaterThan(0);
    for (const { type, attrs } of nodes) {
      const label = `${type} ${attrs.id ?? '(no id)'}`;
      expect(attrs.id ?? '', label).toMatch(/^[A-Za-z][A-Za-z0-9_-]*$/);
      expect(attrs.name ?? '', label).toMatch(/[\u4e00-\u9fff]/);
    }
  });
  it('cites the source clause of every task, sub-process and timer, message or error event', () => {
    // Elements that carry a rule: the steps people and workers do, and the deadlines and signals that move
    // the flow. Gateways, joins and plain start/end events only route.
    const ruleBearing =
      /<bpmn:(userTask|serviceTask|businessRuleTask|callActivity|subProcess|boundaryEvent|intermediateCatchEvent|intermediateThrowEvent)\b([^>]*)>\s*(?:<bpmn:documentation>([^<]*)<\/bpmn:documentation>)?/g;
    const uncited = [...xml.matchAll(ruleBearing)]
      .filter((m) => !/\[(T|Y|G|R|P)\]/.test(m[3] ?? ''))
      .map((m) => `${m[1]} ${attributes(m[2]!).id}`);
    expect(uncited).toEqual([]);
  });
});
