/**
 * Engine-backed: signal events and BroadcastSignal, escalation events, event sub-processes (issue 17,
 * palette part 4–5), each with Zeebe's documented semantics (https://docs.camunda.io/docs/components/
 * modeler/bpmn/…, page named per test), through @camunda8/sdk and REST against the real engine process.
 */
import { describe, expect, it } from 'vitest';
import {
  bpmn,
  chain,
  clock,
  completed,
  deploy,
  engineDb,
  eventually,
  flow,
  instanceState,
  nextJob,
  restCall,
  serviceTask,
  states,
  uniqueId,
  variable,
  work,
  zeebe,
} from './helpers.js';

const HOUR = 3600 * 1000;

async function instancesOf(bpmnProcessId: string) {
  const { rows } = await engineDb().query<{ key: string; version: number }>(
    `SELECT key::text, version FROM engine_process_instance WHERE bpmn_process_id = $1 ORDER BY key`,
    [bpmnProcessId],
  );
  return rows;
}

async function openIncidents(processInstanceKey: string) {
  const { rows } = await engineDb().query(
    `SELECT error_type FROM engine_incident WHERE process_instance_key = $1 AND state = 'ACTIVE'`,
    [processInstanceKey],
  );
  return rows;
}

const userTask = (id: string) =>
  `<bpmn:userTask id="${id}"><bpmn:extensionElements><zeebe:userTask /></bpmn:extensionElements></bpmn:userTask>`;

describe('signal events (bpmn/signal-events; apis BroadcastSignal, REST signals/broadcast)', () => {
  it('a signal start event starts an instance of the latest version with the signal variables; a new version replaces the subscription', async () => {
    const id = uniqueId('sigstart');
    const signal = `${id}-statute`;
    const xml = (end: string) =>
      bpmn(
        id,
        `<bpmn:startEvent id="start"><bpmn:signalEventDefinition signalRef="s" /></bpmn:startEvent>
         <bpmn:endEvent id="${end}" />${chain(['start', end])}`,
        `<bpmn:signal id="s" name="${signal}" />`,
      );
    await deploy(`${id}.bpmn`, xml('end1'));
    const sent = await zeebe().broadcastSignal({ signalName: signal, variables: { year: 2026 } });
    expect(sent.key).toMatch(/^\d+$/);
    const first = await instancesOf(id);
    expect(first.map((r) => r.version)).toEqual([1]);
    expect(await variable(first[0]!.key, 'year')).toBe(2026);
    await completed(first[0]!.key);

    await deploy(`${id}.bpmn`, xml('end2'));
    await zeebe().broadcastSignal({ signalName: signal, variables: {} });
    expect((await instancesOf(id)).map((r) => r.version)).toEqual([1, 2]);
  });

  it('an intermediate signal catch event and a non-interrupting signal boundary event are triggered by a REST broadcast', async () => {
    const id = uniqueId('sigcatch');
    const signal = `${id}-recall`;
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" /><bpmn:parallelGateway id="fork" />
         <bpmn:intermediateCatchEvent id="wait"><bpmn:signalEventDefinition signalRef="s" /></bpmn:intermediateCatchEvent>
         ${userTask('review')}
         <bpmn:boundaryEvent id="notice" attachedToRef="review" cancelActivity="false"><bpmn:signalEventDefinition signalRef="s" /></bpmn:boundaryEvent>
         ${serviceTask('noted', `${id}-noted`)}<bpmn:endEvent id="e1" /><bpmn:endEvent id="e2" /><bpmn:endEvent id="e3" />
         ${flow('f0', 'start', 'fork')}${flow('f1', 'fork', 'wait')}${flow('f2', 'fork', 'review')}
         ${flow('f3', 'wait', 'e1')}${flow('f4', 'review', 'e2')}${flow('f5', 'notice', 'noted')}${flow('f6', 'noted', 'e3')}`,
        `<bpmn:signal id="s" name="${signal}" />`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    const res = await restCall('POST', '/v2/signals/broadcast', { signalName: signal, variables: { reason: 'law' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ signalKey: expect.stringMatching(/^\d+$/) });
    await work(`${id}-noted`);
    const s = await states(c.processInstanceKey);
    expect(s.wait).toEqual(['COMPLETED']);
    expect(s.notice).toEqual(['COMPLETED']);
    expect(s.review).toEqual(['ACTIVE']);
    expect(await variable(c.processInstanceKey, 'reason')).toBe('law');
  });

  it('a signal end event of one instance triggers the signal catch events of others', async () => {
    const id = uniqueId('sigthrow');
    const signal = `${id}-closed`;
    const roots = `<bpmn:signal id="s" name="${signal}" />`;
    await deploy(
      `${id}-wait.bpmn`,
      bpmn(
        `${id}-wait`,
        `<bpmn:startEvent id="start" /><bpmn:intermediateCatchEvent id="wait"><bpmn:signalEventDefinition signalRef="s" /></bpmn:intermediateCatchEvent>
         <bpmn:endEvent id="end" />${chain(['start', 'wait', 'end'])}`,
        roots,
      ),
    );
    await deploy(
      `${id}-send.bpmn`,
      bpmn(
        `${id}-send`,
        `<bpmn:startEvent id="start" /><bpmn:endEvent id="shout"><bpmn:signalEventDefinition signalRef="s" /></bpmn:endEvent>
         ${chain(['start', 'shout'])}`,
        roots,
      ),
    );
    const waiters = [
      await zeebe().createProcessInstance({ bpmnProcessId: `${id}-wait`, variables: {} }),
      await zeebe().createProcessInstance({ bpmnProcessId: `${id}-wait`, variables: {} }),
    ];
    expect(await instanceState(waiters[0]!.processInstanceKey)).toBe('ACTIVE');
    const sender = await zeebe().createProcessInstance({ bpmnProcessId: `${id}-send`, variables: {} });
    await completed(sender.processInstanceKey);
    for (const w of waiters) await completed(w.processInstanceKey);
  });
});

describe('signal after an event-based gateway (bpmn/event-based-gateways, bpmn/signal-events)', () => {
  it('a signal wins the race against the timer; the timer is canceled', async () => {
    const id = uniqueId('ebg-sig');
    const signal = `${id}-stop`;
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" /><bpmn:eventBasedGateway id="race" />
         <bpmn:intermediateCatchEvent id="stopped"><bpmn:signalEventDefinition signalRef="s" /></bpmn:intermediateCatchEvent>
         <bpmn:intermediateCatchEvent id="later"><bpmn:timerEventDefinition><bpmn:timeDuration>P1D</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
         <bpmn:endEvent id="e1" /><bpmn:endEvent id="e2" />
         ${flow('f0', 'start', 'race')}${flow('f1', 'race', 'stopped')}${flow('f2', 'race', 'later')}
         ${flow('f3', 'stopped', 'e1')}${flow('f4', 'later', 'e2')}`,
        `<bpmn:signal id="s" name="${signal}" />`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    await zeebe().broadcastSignal({ signalName: signal, variables: { why: 'recall' } });
    await completed(c.processInstanceKey);
    const s = await states(c.processInstanceKey);
    expect(s.stopped).toEqual(['COMPLETED']);
    expect(s.later).toBeUndefined();
    expect(await variable(c.processInstanceKey, 'why')).toBe('recall');
    const { rows } = await engineDb().query(
      `SELECT (SELECT count(*)::int FROM engine_timer WHERE process_instance_key = $1) AS timers,
              (SELECT count(*)::int FROM engine_signal_subscription WHERE process_instance_key = $1) AS subs`,
      [c.processInstanceKey],
    );
    expect(rows[0]).toEqual({ timers: 0, subs: 0 });
  });
});

describe('escalation events (bpmn/escalation-events)', () => {
  it('an escalation end event in a sub-process is caught by a non-interrupting boundary event: both paths go on', async () => {
    const id = uniqueId('esc');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />
         <bpmn:subProcess id="sub"><bpmn:startEvent id="s0" /><bpmn:parallelGateway id="fork" />
           <bpmn:endEvent id="raise"><bpmn:escalationEventDefinition escalationRef="late" /></bpmn:endEvent>
           ${serviceTask('work', `${id}-work`)}<bpmn:endEvent id="s9" />
           ${flow('s1', 's0', 'fork')}${flow('s2', 'fork', 'raise')}${flow('s3', 'fork', 'work')}${flow('s4', 'work', 's9')}
         </bpmn:subProcess>
         <bpmn:boundaryEvent id="caught" attachedToRef="sub" cancelActivity="false"><bpmn:escalationEventDefinition escalationRef="late" /></bpmn:boundaryEvent>
         ${serviceTask('tellCounty', `${id}-tell`)}<bpmn:endEvent id="end" /><bpmn:endEvent id="told" />
         ${chain(['start', 'sub', 'end'])}${flow('fc', 'caught', 'tellCounty')}${flow('ft', 'tellCounty', 'told')}`,
        `<bpmn:escalation id="late" escalationCode="TOWN_LATE" />`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    await work(`${id}-tell`);
    expect((await states(c.processInstanceKey)).sub).toEqual(['ACTIVE']);
    await work(`${id}-work`);
    await completed(c.processInstanceKey);
    const s = await states(c.processInstanceKey);
    expect(s.raise).toEqual(['COMPLETED']);
    expect(s.caught).toEqual(['COMPLETED']);
    expect(s.end).toEqual(['COMPLETED']);
  });

  it('an escalation thrown in a called process is caught by an interrupting boundary event on the call activity, by code', async () => {
    const id = uniqueId('esc-call');
    await deploy(
      `${id}-child.bpmn`,
      bpmn(
        `${id}-child`,
        `<bpmn:startEvent id="start" /><bpmn:intermediateThrowEvent id="raise"><bpmn:escalationEventDefinition escalationRef="e" /></bpmn:intermediateThrowEvent>
         ${serviceTask('never', `${id}-never`)}<bpmn:endEvent id="end" />${chain(['start', 'raise', 'never', 'end'])}`,
        `<bpmn:escalation id="e" escalationCode="NEEDS_COUNTY" />`,
      ),
    );
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" /><bpmn:callActivity id="call"><bpmn:extensionElements><zeebe:calledElement processId="${id}-child" /></bpmn:extensionElements></bpmn:callActivity>
         <bpmn:boundaryEvent id="other" attachedToRef="call"><bpmn:escalationEventDefinition escalationRef="o" /></bpmn:boundaryEvent>
         <bpmn:boundaryEvent id="county" attachedToRef="call"><bpmn:escalationEventDefinition escalationRef="e" /></bpmn:boundaryEvent>
         <bpmn:endEvent id="end" /><bpmn:endEvent id="toCounty" /><bpmn:endEvent id="toOther" />
         ${chain(['start', 'call', 'end'])}${flow('fc', 'county', 'toCounty')}${flow('fo', 'other', 'toOther')}`,
        `<bpmn:escalation id="e" escalationCode="NEEDS_COUNTY" /><bpmn:escalation id="o" escalationCode="OTHER" />`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    await completed(c.processInstanceKey);
    const s = await states(c.processInstanceKey);
    expect(s.call).toEqual(['TERMINATED']);
    expect(s.toCounty).toEqual(['COMPLETED']);
    expect(s.toOther).toBeUndefined();
    const { rows } = await engineDb().query(
      `SELECT state FROM engine_process_instance WHERE parent_process_instance_key = $1`,
      [c.processInstanceKey],
    );
    expect(rows).toEqual([{ state: 'TERMINATED' }]);
  });

  it('an escalation nobody catches raises no incident: the throw event completes and the process goes on', async () => {
    const id = uniqueId('esc-uncaught');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" /><bpmn:intermediateThrowEvent id="raise"><bpmn:escalationEventDefinition escalationRef="e" /></bpmn:intermediateThrowEvent>
         ${serviceTask('next', `${id}-next`)}<bpmn:endEvent id="end" />${chain(['start', 'raise', 'next', 'end'])}`,
        `<bpmn:escalation id="e" escalationCode="NOBODY" />`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    await work(`${id}-next`);
    await completed(c.processInstanceKey);
    expect(await openIncidents(c.processInstanceKey)).toEqual([]);
    const { rows } = await engineDb().query(
      `SELECT intent FROM zeebe_record WHERE value_type = 'ESCALATION' AND value->>'processInstanceKey' = $1`,
      [c.processInstanceKey],
    );
    expect(rows).toEqual([{ intent: 'NOT_ESCALATED' }]);
  });
});

describe('event sub-processes (bpmn/event-subprocesses)', () => {
  it('an interrupting timer event sub-process terminates the rest of the process and completes it', async () => {
    const id = uniqueId('esp-timer');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />${userTask('visit')}<bpmn:endEvent id="end" />${chain(['start', 'visit', 'end'])}
         <bpmn:subProcess id="deadline" triggeredByEvent="true">
           <bpmn:startEvent id="due"><bpmn:timerEventDefinition><bpmn:timeDuration>P15D</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:startEvent>
           ${serviceTask('report', `${id}-report`)}<bpmn:endEvent id="reported" />${chain(['due', 'report', 'reported'])}
         </bpmn:subProcess>`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    await clock.add(14 * 24 * HOUR);
    expect((await states(c.processInstanceKey)).deadline).toBeUndefined();
    await clock.add(24 * HOUR + 1000);
    await work(`${id}-report`);
    await completed(c.processInstanceKey);
    const s = await states(c.processInstanceKey);
    expect(s.visit).toEqual(['TERMINATED']);
    expect(s.deadline).toEqual(['COMPLETED']);
    expect(s.end).toBeUndefined();
    const { rows } = await engineDb().query(`SELECT state FROM engine_user_task WHERE process_instance_key = $1`, [
      c.processInstanceKey,
    ]);
    expect(rows).toEqual([{ state: 'CANCELED' }]);
  });

  it('a non-interrupting message event sub-process runs once per message beside the main flow; the process waits for both', async () => {
    const id = uniqueId('esp-msg');
    const name = `${id}-note`;
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />${serviceTask('main', `${id}-main`)}<bpmn:endEvent id="end" />${chain(['start', 'main', 'end'])}
         <bpmn:subProcess id="notes" triggeredByEvent="true">
           <bpmn:startEvent id="noteIn" isInterrupting="false"><bpmn:messageEventDefinition messageRef="m" /></bpmn:startEvent>
           ${serviceTask('file', `${id}-file`)}<bpmn:endEvent id="filed" />${chain(['noteIn', 'file', 'filed'])}
         </bpmn:subProcess>`,
        `<bpmn:message id="m" name="${name}"><bpmn:extensionElements><zeebe:subscription correlationKey="=childId" /></bpmn:extensionElements></bpmn:message>`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { childId: 'n1' } });
    await zeebe().publishMessage({ name, correlationKey: 'n1', variables: { note: 'first' }, timeToLive: 0 });
    await zeebe().publishMessage({ name, correlationKey: 'n1', variables: { note: 'second' }, timeToLive: 0 });
    expect((await states(c.processInstanceKey)).notes).toEqual(['ACTIVE', 'ACTIVE']);
    await work(`${id}-main`);
    expect(await instanceState(c.processInstanceKey)).toBe('ACTIVE');
    await work(`${id}-file`);
    await work(`${id}-file`);
    await completed(c.processInstanceKey);
    const s = await states(c.processInstanceKey);
    expect(s.main).toEqual(['COMPLETED']);
    expect(s.notes).toEqual(['COMPLETED', 'COMPLETED']);
    expect(await variable(c.processInstanceKey, 'note')).toBe('second');
  });

  it('an error event sub-process catches an error thrown by a job in its scope (by code), with the error variables local to its start event', async () => {
    const id = uniqueId('esp-err');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />
         <bpmn:subProcess id="sub"><bpmn:startEvent id="s0" />${serviceTask('open', `${id}-open`)}<bpmn:endEvent id="s9" />
           ${chain(['s0', 'open', 's9'])}
           <bpmn:subProcess id="onError" triggeredByEvent="true">
             <bpmn:startEvent id="err"><bpmn:extensionElements><zeebe:ioMapping><zeebe:output source="=reason" target="failure" /></zeebe:ioMapping></bpmn:extensionElements>
               <bpmn:errorEventDefinition errorRef="e" /></bpmn:startEvent>
             <bpmn:endEvent id="handled" />${chain(['err', 'handled'])}
           </bpmn:subProcess>
         </bpmn:subProcess>
         ${serviceTask('after', `${id}-after`)}<bpmn:endEvent id="end" />${chain(['start', 'sub', 'after', 'end'])}`,
        `<bpmn:error id="e" name="e" errorCode="NO_SCHOOL" />`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    const job = await nextJob(`${id}-open`);
    await zeebe().throwError({
      jobKey: job.key,
      errorCode: 'NO_SCHOOL',
      errorMessage: 'x',
      variables: { reason: 'closed' },
    });
    await work(`${id}-after`);
    await completed(c.processInstanceKey);
    const s = await states(c.processInstanceKey);
    expect(s.open).toEqual(['TERMINATED']);
    expect(s.onError).toEqual(['COMPLETED']);
    expect(s.sub).toEqual(['COMPLETED']);
    expect(await variable(c.processInstanceKey, 'failure')).toBe('closed');
    expect(await variable(c.processInstanceKey, 'reason')).toBeUndefined();
  });

  it('a non-interrupting timer cycle R3/PT1H starts the event sub-process three times, then no more (bpmn/timer-events, cycles)', async () => {
    const id = uniqueId('esp-cycle');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />${userTask('wait')}<bpmn:endEvent id="end" />${chain(['start', 'wait', 'end'])}
         <bpmn:subProcess id="remind" triggeredByEvent="true">
           <bpmn:startEvent id="tick" isInterrupting="false"><bpmn:timerEventDefinition><bpmn:timeCycle>R3/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:startEvent>
           <bpmn:endEvent id="reminded" />${chain(['tick', 'reminded'])}
         </bpmn:subProcess>`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    for (let i = 1; i <= 4; i++) {
      await clock.add(HOUR + 1000);
      await eventually(
        async () => ((await states(c.processInstanceKey)).remind?.length ?? 0) === Math.min(i, 3),
        5000,
        `reminder ${i}`,
      );
    }
    expect((await states(c.processInstanceKey)).remind).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    expect((await states(c.processInstanceKey)).wait).toEqual(['ACTIVE']);
    const { rows } = await engineDb().query(
      `SELECT count(*)::int AS n FROM engine_timer WHERE process_instance_key = $1`,
      [c.processInstanceKey],
    );
    expect(rows[0].n).toBe(0);
  });

  it('signal and escalation starts: a non-interrupting signal event sub-process and an interrupting escalation one', async () => {
    const id = uniqueId('esp-sig');
    const signal = `${id}-audit`;
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />${serviceTask('main', `${id}-main`)}
         <bpmn:intermediateThrowEvent id="raise"><bpmn:escalationEventDefinition escalationRef="e" /></bpmn:intermediateThrowEvent>
         <bpmn:endEvent id="end" />${chain(['start', 'main', 'raise', 'end'])}
         <bpmn:subProcess id="audit" triggeredByEvent="true">
           <bpmn:startEvent id="auditIn" isInterrupting="false"><bpmn:signalEventDefinition signalRef="s" /></bpmn:startEvent>
           <bpmn:endEvent id="audited" />${chain(['auditIn', 'audited'])}
         </bpmn:subProcess>
         <bpmn:subProcess id="escalated" triggeredByEvent="true">
           <bpmn:startEvent id="escIn"><bpmn:escalationEventDefinition escalationRef="e" /></bpmn:startEvent>
           <bpmn:endEvent id="escOut" />${chain(['escIn', 'escOut'])}
         </bpmn:subProcess>`,
        `<bpmn:signal id="s" name="${signal}" /><bpmn:escalation id="e" escalationCode="UP" />`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    await zeebe().broadcastSignal({ signalName: signal, variables: {} });
    expect((await states(c.processInstanceKey)).audit).toEqual(['COMPLETED']);
    expect((await states(c.processInstanceKey)).main).toEqual(['ACTIVE']);
    await work(`${id}-main`);
    await completed(c.processInstanceKey);
    const s = await states(c.processInstanceKey);
    expect(s.escalated).toEqual(['COMPLETED']);
    expect(s.raise).toEqual(['TERMINATED']);
    expect(s.end).toBeUndefined();
    const { rows } = await engineDb().query(
      `SELECT count(*)::int AS n FROM engine_signal_subscription WHERE process_instance_key = $1`,
      [c.processInstanceKey],
    );
    expect(rows[0].n).toBe(0);
  });
});
