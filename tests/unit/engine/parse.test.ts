/** The engine's BPMN parser: every project diagram becomes a model, and what the engine cannot run is refused by name. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JOB_WORKER_USER_TASK_TYPE, USER_TASK_HEADERS, parseBpmn } from '../../../engine/src/model/parse.js';
import type { ProcessModel } from '../../../engine/src/model/types.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const DIAGRAMS = [
  ...fs
    .readdirSync(path.join(ROOT, 'processes'))
    .filter((f) => f.endsWith('.bpmn'))
    .map((f) => path.join('processes', f)),
  ...fs
    .readdirSync(path.join(ROOT, 'tests/fixtures'))
    .filter((f) => f.endsWith('.bpmn'))
    .map((f) => path.join('tests/fixtures', f)),
];

async function parseFile(relative: string) {
  return parseBpmn(fs.readFileSync(path.join(ROOT, relative), 'utf8'));
}

async function model(relative: string): Promise<ProcessModel> {
  const { processes, problems } = await parseFile(relative);
  expect(problems).toEqual([]);
  return processes[0]!;
}

const NS =
  'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';

/** A document with one executable process `p` around `body`, plus root elements (messages, errors). */
function bpmn(body: string, roots = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions ${NS} id="defs" targetNamespace="http://example.org">
  <bpmn:process id="p" isExecutable="true">${body}</bpmn:process>${roots}
</bpmn:definitions>`;
}

const START = '<bpmn:startEvent id="start"/>';
const TASK_DEF = '<bpmn:extensionElements><zeebe:taskDefinition type="work"/></bpmn:extensionElements>';

describe('parseBpmn on the project diagrams', () => {
  it('finds the diagrams it is meant to check', () => {
    expect(DIAGRAMS.length).toBeGreaterThanOrEqual(8);
  });

  it.each(DIAGRAMS)('%s parses with zero problems', async (file) => {
    const { processes, problems } = await parseFile(file);
    expect(problems).toEqual([]);
    expect(processes).toHaveLength(1);
    expect(processes[0]!.elements.size).toBeGreaterThan(2);
  });

  it('translates child-verification: user tasks, the deferral timer on its task, the job-based message throw', async () => {
    const m = await model('processes/child-verification.bpmn');
    expect(m.bpmnProcessId).toBe('child-verification');
    expect(m.noneStartEventId).toBe('suspectAssigned');

    const verify = m.elements.get('verifyChild')!;
    expect(verify.type).toBe('USER_TASK');
    expect(verify.job).toBeUndefined(); // a Camunda user task, not a job
    expect(verify.userTask?.candidateGroups).toBe('=["town:" + suspect.townCode]');
    // Round 1 by the county table's date; later rounds from the round's start (issue 15).
    expect(verify.userTask?.dueDate).toMatch(/^=if round = 1 or roundStartedAt = null then string\(year\)/);
    expect(verify.outputs).toEqual([
      { source: '=outcomeCode', target: 'outcomeCode' },
      { source: '=responsibleSchoolId', target: 'responsibleSchoolId' },
    ]);

    const lapsed = m.elements.get('deferralLapsed')!;
    expect(lapsed).toMatchObject({ type: 'BOUNDARY_EVENT', attachedTo: 'fileDeferral', interrupting: true });
    expect(lapsed.event).toEqual({
      type: 'timer',
      timeDate: '=string(year) + "-" + deadlines.deferralApplicationBy + "T23:59:59+08:00"',
    });
    expect(m.elements.get('fileDeferral')!.boundaryEvents).toEqual(['deferralLapsed']);

    // An intermediate message throw event with a task definition is worked by a job.
    // https://docs.camunda.io/docs/components/modeler/bpmn/message-events/#message-throw-events
    const refer = m.elements.get('referDropout')!;
    expect(refer.type).toBe('INTERMEDIATE_THROW_EVENT');
    expect(refer.job).toEqual({ type: 'refer-to-dropout-escalation', retries: '3', headers: {} });
    expect(refer.event).toEqual({
      type: 'message',
      messageName: 'dropout-referred',
      correlationKey: '=suspect.childId',
    });

    const gateway = m.elements.get('outcomeBranch')!;
    expect(gateway.defaultFlow).toBe('flow_outcomeBranch_joinVerified');
    expect(gateway.outgoing).toEqual([
      'flow_outcomeBranch_fixHouseholdRegistration',
      'flow_outcomeBranch_fileDeferral',
      'flow_outcomeBranch_arrangeSpecialPlacement',
      'flow_outcomeBranch_referDropout',
      'flow_outcomeBranch_joinVerified',
    ]);
    expect(m.flows.get('flow_outcomeBranch_fileDeferral')).toEqual({
      id: 'flow_outcomeBranch_fileDeferral',
      sourceId: 'outcomeBranch',
      targetId: 'fileDeferral',
      condition: '=outcomeCode = "E"',
    });
    expect(m.elements.get('joinVerified')!.incoming).toHaveLength(6);
  });

  it('translates dropout-escalation: the embedded sub-process, its boundary events, the message start event', async () => {
    const m = await model('processes/dropout-escalation.bpmn');
    expect(m.noneStartEventId).toBe('dropoutReported');
    expect(m.messageStartEvents).toEqual([{ elementId: 'dropoutReferred', messageName: 'dropout-referred' }]);
    expect(m.children).toContain('escalation');
    expect(m.children).not.toContain('visitFamily');

    const escalation = m.elements.get('escalation')!;
    expect(escalation.type).toBe('SUB_PROCESS');
    expect(escalation.startEventId).toBe('escalationStarted');
    expect(escalation.children).toContain('visitFamily');
    expect(escalation.boundaryEvents).toEqual(['childReturned']);
    expect(m.elements.get('visitFamily')!.flowScopeId).toBe('escalation');
    expect(m.elements.get('escalation')!.flowScopeId).toBe('dropout-escalation');

    expect(m.elements.get('childReturned')).toMatchObject({
      attachedTo: 'escalation',
      interrupting: true,
      event: { type: 'message', messageName: 'child-returned', correlationKey: '=childId' },
    });
    // cancelActivity="false": a non-interrupting timer boundary event.
    expect(m.elements.get('justiceOverdue')).toMatchObject({ interrupting: false, flowScopeId: 'escalation' });
    expect(m.elements.get('caseAlreadyOpen')!.event).toEqual({ type: 'error', errorCode: 'CASE_ALREADY_OPEN' });
    expect(m.elements.get('loadDeadlines')!.decision).toEqual({
      decisionId: 'statutory-deadlines',
      resultVariable: 'deadlines',
    });
  });

  it('translates enrollment-verification: the multi-instance call activity and its variable propagation', async () => {
    const m = await model('processes/enrollment-verification.bpmn');
    const call = m.elements.get('verifyEachChild')!;
    expect(call.type).toBe('CALL_ACTIVITY');
    // Written false: each child gets only its input mappings, not the campaign's whole suspect list
    // (Zeebe's default, true, is read when the attribute is absent: tests/engine/flows.test.ts).
    // https://docs.camunda.io/docs/components/modeler/bpmn/call-activities/#variable-mappings
    expect(call.calledElement).toEqual({
      processId: 'child-verification',
      bindingType: 'latest',
      propagateAllChildVariables: false,
      propagateAllParentVariables: false,
    });
    expect(call.multiInstance).toEqual({ sequential: false, inputCollection: '=suspects', inputElement: 'suspect' });
  });

  it('translates the scheduled statistics: a cron timer start event beside the none start', async () => {
    const m = await model('processes/dropout-statistics.bpmn');
    expect(m.noneStartEventId).toBe('startedByBureau');
    expect(m.timerStartEvents).toEqual([
      { elementId: 'scheduled', timer: { type: 'timer', timeCycle: '0 0 1 L 3,10 *' } },
    ]);
  });
});

describe('parseBpmn element translation', () => {
  it('gives a user task without zeebe:userTask a job as Zeebe does (type io.camunda.zeebe:userTask, one retry)', async () => {
    // https://docs.camunda.io/docs/components/modeler/bpmn/user-tasks/#job-worker-implementation
    const { processes, problems } = await parseBpmn(
      bpmn(`${START}<bpmn:userTask id="review">
        <bpmn:extensionElements>
          <zeebe:assignmentDefinition assignee="=owner" candidateGroups="clerks, heads" />
          <zeebe:formDefinition formKey="camunda-forms:bpmn:reviewForm" />
          <zeebe:taskHeaders><zeebe:header key="kind" value="review" /></zeebe:taskHeaders>
        </bpmn:extensionElements></bpmn:userTask>`),
    );
    expect(problems).toEqual([]);
    const review = processes[0]!.elements.get('review')!;
    expect(JOB_WORKER_USER_TASK_TYPE).toBe('io.camunda.zeebe:userTask');
    expect(review.job).toEqual({
      type: 'io.camunda.zeebe:userTask',
      retries: '1',
      headers: { kind: 'review', [USER_TASK_HEADERS.formKey]: 'camunda-forms:bpmn:reviewForm' },
    });
    expect(review.userTask).toEqual({
      assignee: '=owner',
      candidateGroups: 'clerks, heads',
      formKey: 'camunda-forms:bpmn:reviewForm',
    });
  });

  it('defaults job retries to "3" and keeps task headers', async () => {
    const { processes } = await parseBpmn(
      bpmn(`${START}<bpmn:serviceTask id="s"><bpmn:extensionElements>
        <zeebe:taskDefinition type="=&quot;send-&quot; + channel" />
        <zeebe:taskHeaders><zeebe:header key="a" value="1" /><zeebe:header key="b" value="" /></zeebe:taskHeaders>
      </bpmn:extensionElements></bpmn:serviceTask>`),
    );
    expect(processes[0]!.elements.get('s')!.job).toEqual({
      type: '="send-" + channel',
      retries: '3',
      headers: { a: '1', b: '' },
    });
  });

  it('reads multi-instance details, job-based send tasks and message end events, error end events and catch-all boundaries', async () => {
    const { processes, problems } = await parseBpmn(
      bpmn(
        `${START}
        <bpmn:serviceTask id="each">${TASK_DEF}
          <bpmn:multiInstanceLoopCharacteristics isSequential="true">
            <bpmn:extensionElements><zeebe:loopCharacteristics inputCollection="=items" inputElement="item" outputCollection="results" outputElement="=result" /></bpmn:extensionElements>
            <bpmn:completionCondition xsi:type="bpmn:tFormalExpression">=numberOfCompletedInstances &gt;= 2</bpmn:completionCondition>
          </bpmn:multiInstanceLoopCharacteristics>
        </bpmn:serviceTask>
        <bpmn:boundaryEvent id="anyError" attachedToRef="each"><bpmn:errorEventDefinition /></bpmn:boundaryEvent>
        <bpmn:sendTask id="notify">${TASK_DEF}</bpmn:sendTask>
        <bpmn:endEvent id="told">${TASK_DEF}<bpmn:messageEventDefinition messageRef="m" /></bpmn:endEvent>
        <bpmn:endEvent id="failed"><bpmn:errorEventDefinition errorRef="e" /></bpmn:endEvent>`,
        '<bpmn:message id="m" name="told" /><bpmn:error id="e" errorCode="FAILED" />',
      ),
    );
    expect(problems).toEqual([]);
    const els = processes[0]!.elements;
    expect(els.get('each')!.multiInstance).toEqual({
      sequential: true,
      inputCollection: '=items',
      inputElement: 'item',
      outputCollection: 'results',
      outputElement: '=result',
      completionCondition: '=numberOfCompletedInstances >= 2',
    });
    // No errorRef: the boundary event catches every error.
    // https://docs.camunda.io/docs/components/modeler/bpmn/error-events/#catching-the-error
    expect(els.get('anyError')!.event).toEqual({ type: 'error' });
    expect(els.get('each')!.boundaryEvents).toEqual(['anyError']);
    expect(els.get('notify')!.job?.type).toBe('work');
    expect(els.get('told')!.job?.type).toBe('work');
    expect(els.get('failed')!.event).toEqual({ type: 'error', errorCode: 'FAILED' });
  });

  it('accepts manual tasks, undefined tasks, parallel gateways and none throw events as pass-through elements', async () => {
    const { processes, problems } = await parseBpmn(
      bpmn(
        `${START}<bpmn:manualTask id="m"/><bpmn:task id="t"/><bpmn:parallelGateway id="g"/><bpmn:intermediateThrowEvent id="n"/>`,
      ),
    );
    expect(problems).toEqual([]);
    expect([...processes[0]!.elements.values()].map((e) => e.type)).toEqual([
      'START_EVENT',
      'MANUAL_TASK',
      'TASK',
      'PARALLEL_GATEWAY',
      'INTERMEDIATE_THROW_EVENT',
    ]);
  });

  it('derives incoming and outgoing flows from sourceRef/targetRef when the diagram does not list them', async () => {
    const { processes, problems } = await parseBpmn(
      bpmn(`${START}<bpmn:endEvent id="end"/><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end"/>`),
    );
    expect(problems).toEqual([]);
    expect(processes[0]!.elements.get('start')!.outgoing).toEqual(['f1']);
    expect(processes[0]!.elements.get('end')!.incoming).toEqual(['f1']);
  });
});

describe('parseBpmn refuses hostile and broken documents', () => {
  it('refuses a DOCTYPE with entities before parsing (no entity expansion)', async () => {
    const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>${bpmn(START).replace(/^<\?xml[^>]*>/, '')}`;
    const { processes, problems } = await parseBpmn(laughs);
    expect(processes).toEqual([]);
    expect(problems).toEqual([
      { elementId: '', message: expect.stringMatching(/<!DOCTYPE> declaration; DTDs are refused/) },
    ]);
  });

  it('refuses an ENTITY declaration in any letter case', async () => {
    const { problems } = await parseBpmn(`<!entity x "y">${bpmn(START)}`);
    expect(problems[0]).toEqual({ elementId: '', message: expect.stringMatching(/<!ENTITY>/) });
  });

  it('refuses a 5 MB document', async () => {
    const padding = `<!-- ${'x'.repeat(5 * 1024 * 1024)} -->`;
    const { problems } = await parseBpmn(bpmn(START) + padding);
    expect(problems).toEqual([
      { elementId: '', message: expect.stringMatching(/is 5\.0 MB; documents over 4 MB are refused/) },
    ]);
  });

  it('refuses XML that does not parse, with the parser message', async () => {
    const { problems } = await parseBpmn('<bpmn:definitions><bpmn:process id="p"></bpmn:definitions>');
    expect(problems).toHaveLength(1);
    expect(problems[0]!.elementId).toBe('');
    expect(problems[0]!.message).toMatch(
      /^the document is not a readable BPMN file: .*(closing tag mismatch|unparsable)/,
    );
  });

  it('refuses a document with only non-executable processes', async () => {
    const { problems } = await parseBpmn(bpmn(START).replace('isExecutable="true"', 'isExecutable="false"'));
    expect(problems).toEqual([
      { elementId: '', message: 'the document has no executable process (isExecutable="true")' },
    ]);
  });

  it('refuses duplicate ids', async () => {
    const { problems } = await parseBpmn(bpmn(`${START}<bpmn:task id="start"/>`));
    expect(problems).toContainEqual({ elementId: 'start', message: expect.stringMatching(/duplicate ID <start>/) });
  });

  it('refuses a misspelt zeebe extension element and an unresolved reference', async () => {
    const { problems } = await parseBpmn(
      bpmn(
        `${START}<bpmn:serviceTask id="s"><bpmn:extensionElements><zeebe:taskDefiniton type="x"/></bpmn:extensionElements></bpmn:serviceTask><bpmn:sequenceFlow id="f" sourceRef="start" targetRef="ghost"/>`,
      ),
    );
    const messages = problems.map((p) => p.message).join('\n');
    expect(messages).toMatch(/unknown type <zeebe:TaskDefiniton>/);
    expect(messages).toMatch(/unresolved reference <ghost>/);
    expect(messages).toMatch(/element 's' \(bpmn:serviceTask\): a service task needs a job type/);
  });
});

/** [what, process body, root elements, the element named, what the message says] */
const UNSUPPORTED: [string, string, string, string, RegExp][] = [
  ['complex gateway', '<bpmn:complexGateway id="x"/>', '', 'x', /complex gateways are not supported/],
  ['transaction', '<bpmn:transaction id="x"/>', '', 'x', /transaction sub-processes are not supported/],
  ['ad-hoc sub-process', '<bpmn:adHocSubProcess id="x"/>', '', 'x', /ad-hoc sub-processes are not supported/],
  [
    'compensation boundary event',
    '<bpmn:task id="t"/><bpmn:boundaryEvent id="x" attachedToRef="t"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>',
    '',
    'x',
    /compensation events are not supported/,
  ],
  [
    'conditional catch event',
    '<bpmn:intermediateCatchEvent id="x"><bpmn:conditionalEventDefinition><bpmn:condition xsi:type="bpmn:tFormalExpression">=a</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:intermediateCatchEvent>',
    '',
    'x',
    /conditional events are not supported/,
  ],
  [
    'link throw event',
    '<bpmn:intermediateThrowEvent id="x"><bpmn:linkEventDefinition name="l"/></bpmn:intermediateThrowEvent>',
    '',
    'x',
    /link events are not supported/,
  ],
  [
    'event-based gateway followed by a task',
    '<bpmn:eventBasedGateway id="g"/><bpmn:task id="t"/><bpmn:intermediateCatchEvent id="c"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent><bpmn:sequenceFlow id="x" sourceRef="g" targetRef="t"/><bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="c"/>',
    '',
    'x',
    /leaves event-based gateway 'g' for 't'; it must lead to a timer, message or signal intermediate catch event/,
  ],
  [
    'event-based gateway with one outgoing flow',
    '<bpmn:eventBasedGateway id="x"/><bpmn:intermediateCatchEvent id="c"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent><bpmn:sequenceFlow id="f" sourceRef="x" targetRef="c"/>',
    '',
    'x',
    /an event-based gateway needs at least two outgoing flows/,
  ],
  [
    'inclusive gateway flow without condition that is not the default',
    '<bpmn:inclusiveGateway id="x"/><bpmn:endEvent id="e"/><bpmn:sequenceFlow id="f1" sourceRef="x" targetRef="e"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">=a</bpmn:conditionExpression></bpmn:sequenceFlow><bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="e"/>',
    '',
    'x',
    /outgoing flow 'f2' has no condition and is not the default flow/,
  ],
  ['script task without a script', '<bpmn:scriptTask id="x"/>', '', 'x', /a script task needs zeebe:script expression/],
  [
    'script task without a result variable',
    '<bpmn:scriptTask id="x"><bpmn:extensionElements><zeebe:script expression="=1"/></bpmn:extensionElements></bpmn:scriptTask>',
    '',
    'x',
    /zeebe:script has no resultVariable/,
  ],
  [
    'receive task without a correlation key',
    '<bpmn:receiveTask id="x" messageRef="m"/>',
    '<bpmn:message id="m" name="m"/>',
    'x',
    /a message catch event needs a correlation key/,
  ],
  [
    'escalation end event without a code',
    '<bpmn:endEvent id="x"><bpmn:escalationEventDefinition/></bpmn:endEvent>',
    '',
    'x',
    /an escalation throw event needs an escalation with an escalationCode/,
  ],
  [
    'escalation boundary on a service task',
    '<bpmn:serviceTask id="t"><bpmn:extensionElements><zeebe:taskDefinition type="w"/></bpmn:extensionElements></bpmn:serviceTask><bpmn:boundaryEvent id="x" attachedToRef="t"><bpmn:escalationEventDefinition/></bpmn:boundaryEvent>',
    '',
    'x',
    /an escalation boundary event sits on a sub-process or a call activity/,
  ],
  [
    'signal catch event without a signal',
    '<bpmn:intermediateCatchEvent id="x"><bpmn:signalEventDefinition/></bpmn:intermediateCatchEvent>',
    '',
    'x',
    /a signal catch event needs a signal with a name/,
  ],
  [
    'event sub-process with a none start event',
    '<bpmn:subProcess id="x" triggeredByEvent="true"><bpmn:startEvent id="inner"/></bpmn:subProcess>',
    '',
    'x',
    /the start event of an event sub-process needs an event definition/,
  ],
  [
    'non-interrupting error start of an event sub-process',
    '<bpmn:subProcess id="esp" triggeredByEvent="true"><bpmn:startEvent id="x" isInterrupting="false"><bpmn:errorEventDefinition/></bpmn:startEvent></bpmn:subProcess>',
    '',
    'x',
    /an error start event of an event sub-process is always interrupting/,
  ],
  [
    'flow into an event sub-process',
    '<bpmn:subProcess id="esp" triggeredByEvent="true"><bpmn:startEvent id="inner"><bpmn:signalEventDefinition signalRef="sig"/></bpmn:startEvent></bpmn:subProcess><bpmn:sequenceFlow id="x" sourceRef="start" targetRef="esp"/>',
    '<bpmn:signal id="sig" name="s"/>',
    'x',
    /connects an event sub-process; event sub-processes have no sequence flows/,
  ],
  [
    'standard loop',
    '<bpmn:task id="x"><bpmn:standardLoopCharacteristics/></bpmn:task>',
    '',
    'x',
    /loop characteristics other than multi-instance are not supported/,
  ],
  ['service task without a job type', '<bpmn:serviceTask id="x"/>', '', 'x', /a service task needs a job type/],
  [
    'service task with an empty job type',
    '<bpmn:serviceTask id="x"><bpmn:extensionElements><zeebe:taskDefinition type=""/></bpmn:extensionElements></bpmn:serviceTask>',
    '',
    'x',
    /zeebe:taskDefinition has no job type/,
  ],
  ['send task without a job', '<bpmn:sendTask id="x"/>', '', 'x', /a send task needs a job type/],
  [
    'message throw event without a job',
    '<bpmn:intermediateThrowEvent id="x"><bpmn:messageEventDefinition messageRef="m"/></bpmn:intermediateThrowEvent>',
    '<bpmn:message id="m" name="m"/>',
    'x',
    /a message throw event needs a job type/,
  ],
  [
    'message catch without a correlation key',
    '<bpmn:intermediateCatchEvent id="x"><bpmn:messageEventDefinition messageRef="m"/></bpmn:intermediateCatchEvent>',
    '<bpmn:message id="m" name="m"/>',
    'x',
    /a message catch event needs a correlation key/,
  ],
  [
    'message catch without a message',
    '<bpmn:intermediateCatchEvent id="x"><bpmn:messageEventDefinition/></bpmn:intermediateCatchEvent>',
    '',
    'x',
    /needs a message with a name/,
  ],
  [
    'intermediate catch without a definition',
    '<bpmn:intermediateCatchEvent id="x"/>',
    '',
    'x',
    /none intermediate catch events are not supported/,
  ],
  [
    'timer without a definition',
    '<bpmn:intermediateCatchEvent id="x"><bpmn:timerEventDefinition/></bpmn:intermediateCatchEvent>',
    '',
    'x',
    /a timer needs a time date, a time duration or a time cycle/,
  ],
  [
    'timer start event with a duration',
    '<bpmn:startEvent id="x"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:startEvent>',
    '',
    'x',
    /a timer start event needs a time date or a time cycle/,
  ],
  [
    'interrupting timer boundary with a cycle',
    '<bpmn:task id="t"/><bpmn:boundaryEvent id="x" attachedToRef="t"><bpmn:timerEventDefinition><bpmn:timeCycle>R/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:boundaryEvent>',
    '',
    'x',
    /an interrupting timer boundary event needs a time duration or a time date/,
  ],
  [
    'intermediate timer with a cycle',
    '<bpmn:intermediateCatchEvent id="x"><bpmn:timerEventDefinition><bpmn:timeCycle>R/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>',
    '',
    'x',
    /needs a time duration or a time date, not a cycle/,
  ],
  [
    'static timer value that is no duration',
    '<bpmn:intermediateCatchEvent id="x"><bpmn:timerEventDefinition><bpmn:timeDuration>10 days</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>',
    '',
    'x',
    /'10 days' is not an ISO 8601 duration/,
  ],
  [
    'non-interrupting error boundary',
    '<bpmn:task id="t"/><bpmn:boundaryEvent id="x" attachedToRef="t" cancelActivity="false"><bpmn:errorEventDefinition/></bpmn:boundaryEvent>',
    '',
    'x',
    /non-interrupting error boundary events are not supported/,
  ],
  [
    'boundary event on a gateway',
    '<bpmn:exclusiveGateway id="g"/><bpmn:boundaryEvent id="x" attachedToRef="g"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>',
    '',
    'x',
    /attached to 'g', which is not an activity/,
  ],
  [
    'error end event without an error code',
    '<bpmn:endEvent id="x"><bpmn:errorEventDefinition/></bpmn:endEvent>',
    '',
    'x',
    /an error end event needs an error with an errorCode/,
  ],
  [
    'condition on a flow leaving a task',
    '<bpmn:task id="t"/><bpmn:endEvent id="e"/><bpmn:sequenceFlow id="x" sourceRef="t" targetRef="e"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">=a</bpmn:conditionExpression></bpmn:sequenceFlow>',
    '',
    'x',
    /sequence flow 'x' has a condition but leaves 't' \(TASK\)/,
  ],
  [
    'condition that is not FEEL',
    '<bpmn:exclusiveGateway id="g" default="d"/><bpmn:endEvent id="e"/><bpmn:sequenceFlow id="x" sourceRef="g" targetRef="e"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">a = 1</bpmn:conditionExpression></bpmn:sequenceFlow><bpmn:sequenceFlow id="d" sourceRef="g" targetRef="e"/>',
    '',
    'x',
    /the condition 'a = 1' must be a FEEL expression/,
  ],
  [
    'exclusive gateway flow without condition that is not the default',
    '<bpmn:exclusiveGateway id="x"/><bpmn:endEvent id="e"/><bpmn:sequenceFlow id="f1" sourceRef="x" targetRef="e"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">=a</bpmn:conditionExpression></bpmn:sequenceFlow><bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="e"/>',
    '',
    'x',
    /outgoing flow 'f2' has no condition and is not the default flow/,
  ],
  [
    'expression that does not parse as FEEL',
    '<bpmn:serviceTask id="x"><bpmn:extensionElements><zeebe:taskDefinition type="w"/><zeebe:ioMapping><zeebe:input source="=a +" target="b"/></zeebe:ioMapping></bpmn:extensionElements></bpmn:serviceTask>',
    '',
    'x',
    /element 'x': the input mapping source 'a \+' is not a valid FEEL expression: Incomplete/,
  ],
  [
    'sub-process with two start events',
    '<bpmn:subProcess id="x"><bpmn:startEvent id="s1"/><bpmn:startEvent id="s2"/></bpmn:subProcess>',
    '',
    'x',
    /a sub-process needs exactly one none start event \(it has 2 start events\)/,
  ],
  [
    'message start event in a sub-process',
    '<bpmn:subProcess id="sp"><bpmn:startEvent id="x"><bpmn:messageEventDefinition messageRef="m"/></bpmn:startEvent></bpmn:subProcess>',
    '<bpmn:message id="m" name="m"/>',
    'x',
    /a sub-process start event must be a none start event/,
  ],
  [
    'start execution listener on a start event',
    '<bpmn:subProcess id="sp"><bpmn:startEvent id="x"><bpmn:extensionElements><zeebe:executionListeners><zeebe:executionListener eventType="start" type="l"/></zeebe:executionListeners></bpmn:extensionElements></bpmn:startEvent></bpmn:subProcess>',
    '',
    'x',
    /start execution listeners are not supported on start and boundary events/,
  ],
  [
    'end execution listener on a gateway',
    '<bpmn:exclusiveGateway id="x"><bpmn:extensionElements><zeebe:executionListeners><zeebe:executionListener eventType="end" type="l"/></zeebe:executionListeners></bpmn:extensionElements></bpmn:exclusiveGateway>',
    '',
    'x',
    /end execution listeners are not supported on gateways and error end events/,
  ],
  [
    'two execution listeners of the same event and type',
    '<bpmn:task id="x"><bpmn:extensionElements><zeebe:executionListeners><zeebe:executionListener eventType="start" type="l"/><zeebe:executionListener eventType="start" type="l"/></zeebe:executionListeners></bpmn:extensionElements></bpmn:task>',
    '',
    'x',
    /two start execution listeners have the job type 'l'/,
  ],
  [
    'task listener on a job-worker user task',
    '<bpmn:userTask id="x"><bpmn:extensionElements><zeebe:taskListeners><zeebe:taskListener eventType="completing" type="l"/></zeebe:taskListeners></bpmn:extensionElements></bpmn:userTask>',
    '',
    'x',
    /task listeners are supported only on Camunda user tasks/,
  ],
  [
    'call activity bound to a version tag without the tag',
    '<bpmn:callActivity id="x"><bpmn:extensionElements><zeebe:calledElement processId="c" bindingType="versionTag"/></bpmn:extensionElements></bpmn:callActivity>',
    '',
    'x',
    /binding type 'versionTag' needs a versionTag/,
  ],
  [
    'called decision bound to its deployment',
    '<bpmn:businessRuleTask id="x"><bpmn:extensionElements><zeebe:calledDecision decisionId="d" resultVariable="r" bindingType="deployment"/></bpmn:extensionElements></bpmn:businessRuleTask>',
    '',
    'x',
    /zeebe:calledDecision binding type 'deployment' is not supported/,
  ],
  [
    'call activity without a process id',
    '<bpmn:callActivity id="x"/>',
    '',
    'x',
    /a call activity needs zeebe:calledElement processId/,
  ],
  [
    'business rule task with neither decision nor job',
    '<bpmn:businessRuleTask id="x"/>',
    '',
    'x',
    /needs zeebe:calledDecision or zeebe:taskDefinition/,
  ],
  [
    'multi-instance without input collection',
    '<bpmn:task id="x"><bpmn:multiInstanceLoopCharacteristics/></bpmn:task>',
    '',
    'x',
    /needs zeebe:loopCharacteristics inputCollection/,
  ],
];

describe('parseBpmn refuses what this engine does not execute, naming the element', () => {
  it('accepts the wrapper those cases share', async () => {
    expect((await parseBpmn(bpmn(START))).problems).toEqual([]);
  });

  it.each(UNSUPPORTED)('%s', async (_what, body, roots, elementId, message) => {
    const { problems } = await parseBpmn(bpmn(`${START}${body}`, roots));
    const named = problems.filter((p) => p.elementId === elementId);
    expect(named.map((p) => p.message)).toContainEqual(expect.stringMatching(message));
  });

  it('refuses a process without a start event the engine can start', async () => {
    const { problems } = await parseBpmn(bpmn('<bpmn:task id="t"/>'));
    expect(problems).toEqual([
      {
        elementId: 'p',
        message: "process 'p' has no start event this engine can start (a none, message, timer or signal start event)",
      },
    ]);
  });

  it('keeps refusing the rest of BPMN 2.0 by name (complex gateway, compensation, conditional, link, transaction)', async () => {
    for (const [body, id, what] of [
      ['<bpmn:complexGateway id="x"/>', 'x', /complex gateways are not supported/],
      ['<bpmn:transaction id="x"/>', 'x', /transaction sub-processes are not supported/],
      ['<bpmn:endEvent id="x"><bpmn:compensateEventDefinition/></bpmn:endEvent>', 'x', /compensation events/],
      ['<bpmn:endEvent id="x"><bpmn:cancelEventDefinition/></bpmn:endEvent>', 'x', /cancel events/],
    ] as const) {
      const { problems } = await parseBpmn(bpmn(`${START}${body}`));
      expect(problems.filter((p) => p.elementId === id).map((p) => p.message)).toContainEqual(
        expect.stringMatching(what),
      );
    }
  });

  it('refuses two none start events at the top level', async () => {
    const { problems } = await parseBpmn(bpmn(`${START}<bpmn:startEvent id="start2"/>`));
    expect(problems.map((p) => p.message)).toContainEqual(expect.stringMatching(/has 2 none start events/));
  });
});

describe('parseBpmn accepts the rest of the Camunda 8 palette (issue 17)', () => {
  const MSG =
    '<bpmn:message id="m" name="m"><bpmn:extensionElements><zeebe:subscription correlationKey="=k"/></bpmn:extensionElements></bpmn:message>';
  it.each([
    [
      'inclusive gateway with a default flow',
      '<bpmn:inclusiveGateway id="g" default="d"/><bpmn:endEvent id="e"/><bpmn:sequenceFlow id="c" sourceRef="g" targetRef="e"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">=a</bpmn:conditionExpression></bpmn:sequenceFlow><bpmn:sequenceFlow id="d" sourceRef="g" targetRef="e"/>',
      '',
      'g',
      { type: 'INCLUSIVE_GATEWAY', defaultFlow: 'd' },
    ],
    [
      'script task',
      '<bpmn:scriptTask id="s"><bpmn:extensionElements><zeebe:script expression="=a + 1" resultVariable="b"/></bpmn:extensionElements></bpmn:scriptTask>',
      '',
      's',
      { type: 'SCRIPT_TASK', script: { expression: '=a + 1', resultVariable: 'b' } },
    ],
    [
      'receive task',
      '<bpmn:receiveTask id="r" messageRef="m"/>',
      MSG,
      'r',
      { type: 'RECEIVE_TASK', event: { type: 'message', messageName: 'm', correlationKey: '=k' } },
    ],
    [
      'terminate end event',
      '<bpmn:endEvent id="t"><bpmn:terminateEventDefinition/></bpmn:endEvent>',
      '',
      't',
      { type: 'END_EVENT', event: { type: 'terminate' } },
    ],
    [
      'signal throw event',
      '<bpmn:intermediateThrowEvent id="t"><bpmn:signalEventDefinition signalRef="sig"/></bpmn:intermediateThrowEvent>',
      '<bpmn:signal id="sig" name="stop"/>',
      't',
      { type: 'INTERMEDIATE_THROW_EVENT', event: { type: 'signal', signalName: 'stop' } },
    ],
    [
      'escalation boundary on a sub-process, non-interrupting',
      '<bpmn:subProcess id="sp"><bpmn:startEvent id="ss"/></bpmn:subProcess><bpmn:boundaryEvent id="b" attachedToRef="sp" cancelActivity="false"><bpmn:escalationEventDefinition escalationRef="esc"/></bpmn:boundaryEvent>',
      '<bpmn:escalation id="esc" escalationCode="LATE"/>',
      'b',
      { type: 'BOUNDARY_EVENT', interrupting: false, event: { type: 'escalation', escalationCode: 'LATE' } },
    ],
    [
      'event sub-process with a non-interrupting message start',
      '<bpmn:subProcess id="esp" triggeredByEvent="true"><bpmn:startEvent id="es" isInterrupting="false"><bpmn:messageEventDefinition messageRef="m"/></bpmn:startEvent></bpmn:subProcess>',
      MSG,
      'esp',
      { type: 'EVENT_SUB_PROCESS', startEventId: 'es', interruptingStart: false },
    ],
  ])('%s', async (_what, body, roots, id, expected) => {
    const { processes, problems } = await parseBpmn(bpmn(`${START}${body}`, roots));
    expect(problems).toEqual([]);
    expect(processes[0]!.elements.get(id)).toMatchObject(expected);
  });

  it('reads execution listeners in document order with their retries and headers, and task listeners by event', async () => {
    const { processes, problems } = await parseBpmn(
      bpmn(
        `${START}<bpmn:userTask id="u"><bpmn:extensionElements><zeebe:userTask />
          <zeebe:executionListeners><zeebe:executionListener eventType="end" type="b"/><zeebe:executionListener eventType="start" type="=t" retries="5"><zeebe:headers><zeebe:header key="k" value="v"/></zeebe:headers></zeebe:executionListener></zeebe:executionListeners>
          <zeebe:taskListeners><zeebe:taskListener eventType="assigning" type="as"/><zeebe:taskListener eventType="completing" type="co"/></zeebe:taskListeners>
          </bpmn:extensionElements></bpmn:userTask>`,
      ),
    );
    expect(problems).toEqual([]);
    expect(processes[0]!.elements.get('u')).toMatchObject({
      listeners: {
        start: [{ type: '=t', retries: '5', headers: { k: 'v' } }],
        end: [{ type: 'b', retries: '3', headers: {} }],
      },
      taskListeners: {
        assigning: [{ type: 'as', retries: '3', headers: {} }],
        completing: [{ type: 'co', retries: '3', headers: {} }],
      },
    });
  });

  it('reads a call activity binding and the process version tag', async () => {
    const { processes, problems } = await parseBpmn(
      bpmn(
        `${START}<bpmn:callActivity id="c"><bpmn:extensionElements><zeebe:calledElement processId="child" bindingType="versionTag" versionTag="2026"/></bpmn:extensionElements></bpmn:callActivity>`,
      ).replace(
        '<bpmn:process id="p" isExecutable="true">',
        '<bpmn:process id="p" isExecutable="true"><bpmn:extensionElements><zeebe:versionTag value="v3"/></bpmn:extensionElements>',
      ),
    );
    expect(problems).toEqual([]);
    expect(processes[0]!.versionTag).toBe('v3');
    expect(processes[0]!.elements.get('c')!.calledElement).toMatchObject({
      bindingType: 'versionTag',
      versionTag: '2026',
    });
  });

  it('lists top-level event sub-processes and signal start events on the model', async () => {
    const { processes, problems } = await parseBpmn(
      bpmn(
        '<bpmn:startEvent id="s"><bpmn:signalEventDefinition signalRef="sig"/></bpmn:startEvent><bpmn:subProcess id="esp" triggeredByEvent="true"><bpmn:startEvent id="es"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:startEvent></bpmn:subProcess>',
        '<bpmn:signal id="sig" name="go"/>',
      ),
    );
    expect(problems).toEqual([]);
    expect(processes[0]!.signalStartEvents).toEqual([{ elementId: 's', signalName: 'go' }]);
    expect(processes[0]!.eventSubProcesses).toEqual(['esp']);
  });
});
