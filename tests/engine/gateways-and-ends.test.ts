/**
 * Engine-backed: inclusive and event-based gateways, terminate end events, script, receive, manual and
 * undefined tasks (issue 17, palette part 1–2), each with Zeebe's documented semantics
 * (https://docs.camunda.io/docs/components/modeler/bpmn/…, page named per test), through @camunda8/sdk
 * against the real engine process.
 */
import { describe, expect, it } from 'vitest';
import {
  bpmn,
  chain,
  clock,
  completed,
  completedElements,
  deploy,
  engineDb,
  eventually,
  flow,
  instanceState,
  nextJob,
  serviceTask,
  states,
  uniqueId,
  work,
  zeebe,
} from './helpers.js';

const HOUR = 3600 * 1000;

async function activeElements(processInstanceKey: string): Promise<string[]> {
  const { rows } = await engineDb().query<{ element_id: string }>(
    `SELECT element_id FROM engine_element_instance WHERE process_instance_key = $1 AND state = 'ACTIVE'
      AND element_type <> 'PROCESS' ORDER BY element_id`,
    [processInstanceKey],
  );
  return rows.map((r) => r.element_id);
}

describe('inclusive gateway (bpmn/inclusive-gateways)', () => {
  /** fork: a, b, c by conditions, default d; join: the four paths merge before `after`. */
  function forkJoin(id: string) {
    return bpmn(
      id,
      `<bpmn:startEvent id="start" /><bpmn:inclusiveGateway id="fork" default="toD" />
       ${serviceTask('a', `${id}-a`)}${serviceTask('b', `${id}-b`)}${serviceTask('c', `${id}-c`)}${serviceTask('d', `${id}-d`)}
       <bpmn:inclusiveGateway id="join" />${serviceTask('after', `${id}-after`)}<bpmn:endEvent id="end" />
       ${flow('f0', 'start', 'fork')}
       ${flow('toA', 'fork', 'a', '=visit')}${flow('toB', 'fork', 'b', '=call')}${flow('toC', 'fork', 'c', '=letter')}
       ${flow('toD', 'fork', 'd')}
       ${flow('aJ', 'a', 'join')}${flow('bJ', 'b', 'join')}${flow('cJ', 'c', 'join')}${flow('dJ', 'd', 'join')}
       ${flow('f9', 'join', 'after')}${flow('f10', 'after', 'end')}`,
    );
  }

  it('forks to every flow whose condition holds, and the join waits only for the tokens that can still arrive', async () => {
    const id = uniqueId('or');
    await deploy(`${id}.bpmn`, forkJoin(id));
    const c = await zeebe().createProcessInstance({
      bpmnProcessId: id,
      variables: { visit: true, call: false, letter: true },
    });
    const key = c.processInstanceKey;
    expect(await activeElements(key)).toEqual(['a', 'c']);
    await work(`${id}-a`);
    // c can still reach the join: it waits.
    expect(await activeElements(key)).toEqual(['c']);
    expect(await completedElements(key)).not.toContain('join');
    await work(`${id}-c`);
    await work(`${id}-after`);
    await completed(key);
    const s = await states(key);
    expect(s.join).toEqual(['COMPLETED']);
    expect(s.after).toEqual(['COMPLETED']);
    expect(s.b).toBeUndefined();
    expect(s.d).toBeUndefined();
  });

  it('no condition true: the default flow alone; the join does not wait for flows that were not taken', async () => {
    const id = uniqueId('or-default');
    await deploy(`${id}.bpmn`, forkJoin(id));
    const c = await zeebe().createProcessInstance({
      bpmnProcessId: id,
      variables: { visit: false, call: false, letter: false },
    });
    expect(await activeElements(c.processInstanceKey)).toEqual(['d']);
    await work(`${id}-d`);
    await work(`${id}-after`);
    await completed(c.processInstanceKey);
    expect((await states(c.processInstanceKey)).join).toEqual(['COMPLETED']);
  });

  it('a waiting join fires when the other token takes a path that cannot reach it (here: an interrupting boundary timer)', async () => {
    const id = uniqueId('or-reach');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" /><bpmn:inclusiveGateway id="fork" />
         ${serviceTask('a', `${id}-a`)}${serviceTask('b', `${id}-b`)}
         <bpmn:boundaryEvent id="late" attachedToRef="b"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
         <bpmn:inclusiveGateway id="join" /><bpmn:endEvent id="end" /><bpmn:endEvent id="gaveUp" />
         ${flow('f0', 'start', 'fork')}${flow('toA', 'fork', 'a', '=true')}${flow('toB', 'fork', 'b', '=true')}
         ${flow('aJ', 'a', 'join')}${flow('bJ', 'b', 'join')}${flow('fj', 'join', 'end')}${flow('fl', 'late', 'gaveUp')}`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    await work(`${id}-a`);
    // b can still reach the join, through itself — the join waits.
    expect(await completedElements(c.processInstanceKey)).not.toContain('join');
    await clock.add(HOUR + 1000);
    await completed(c.processInstanceKey);
    const s = await states(c.processInstanceKey);
    expect(s.b).toEqual(['TERMINATED']);
    expect(s.gaveUp).toEqual(['COMPLETED']);
    expect(s.join).toEqual(['COMPLETED']);
    expect(s.end).toEqual(['COMPLETED']);
  });

  it('no condition true and no default flow: a CONDITION_ERROR incident at the gateway', async () => {
    const id = uniqueId('or-none');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" /><bpmn:inclusiveGateway id="fork" /><bpmn:endEvent id="a" /><bpmn:endEvent id="b" />
         ${flow('f0', 'start', 'fork')}${flow('toA', 'fork', 'a', '=x = 1')}${flow('toB', 'fork', 'b', '=x = 2')}`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { x: 3 } });
    const { rows } = await engineDb().query(
      `SELECT error_type, element_id FROM engine_incident WHERE process_instance_key = $1 AND state = 'ACTIVE'`,
      [c.processInstanceKey],
    );
    expect(rows).toEqual([{ error_type: 'CONDITION_ERROR', element_id: 'fork' }]);
  });
});

describe('event-based gateway (bpmn/event-based-gateways)', () => {
  function raceXml(id: string, name: string) {
    return bpmn(
      id,
      `<bpmn:startEvent id="start" /><bpmn:eventBasedGateway id="race" />
       <bpmn:intermediateCatchEvent id="answered"><bpmn:messageEventDefinition messageRef="m" /></bpmn:intermediateCatchEvent>
       <bpmn:intermediateCatchEvent id="noAnswer"><bpmn:timerEventDefinition><bpmn:timeDuration>P3D</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
       <bpmn:endEvent id="ok" /><bpmn:endEvent id="overdue" />
       ${flow('f0', 'start', 'race')}${flow('fa', 'race', 'answered')}${flow('fn', 'race', 'noAnswer')}
       ${flow('f1', 'answered', 'ok')}${flow('f2', 'noAnswer', 'overdue')}`,
      `<bpmn:message id="m" name="${name}"><bpmn:extensionElements><zeebe:subscription correlationKey="=childId" /></bpmn:extensionElements></bpmn:message>`,
    );
  }

  it('the message that comes first wins: its path is taken with its variables, the timer is canceled', async () => {
    const id = uniqueId('ebg');
    await deploy(`${id}.bpmn`, raceXml(id, `${id}-answer`));
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { childId: 'k1' } });
    expect(await activeElements(c.processInstanceKey)).toEqual(['race']);
    await zeebe().publishMessage({
      name: `${id}-answer`,
      correlationKey: 'k1',
      variables: { reply: 'yes' },
      timeToLive: 0,
    });
    await completed(c.processInstanceKey);
    const s = await states(c.processInstanceKey);
    expect(s.answered).toEqual(['COMPLETED']);
    expect(s.ok).toEqual(['COMPLETED']);
    expect(s.noAnswer).toBeUndefined();
    const { rows } = await engineDb().query(
      `SELECT (SELECT count(*)::int FROM engine_timer WHERE process_instance_key = $1) AS timers,
              (SELECT value FROM engine_variable WHERE scope_key = $1 AND name = 'reply') AS reply`,
      [c.processInstanceKey],
    );
    expect(rows[0]).toEqual({ timers: 0, reply: 'yes' });
  });

  it('the timer that comes first wins: the message subscription is closed and a later message correlates to nothing', async () => {
    const id = uniqueId('ebg-timer');
    await deploy(`${id}.bpmn`, raceXml(id, `${id}-answer`));
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { childId: 'k2' } });
    await clock.add(3 * 24 * HOUR + 1000);
    await completed(c.processInstanceKey);
    const s = await states(c.processInstanceKey);
    expect(s.overdue).toEqual(['COMPLETED']);
    expect(s.answered).toBeUndefined();
    const { rows } = await engineDb().query(
      `SELECT count(*)::int AS n FROM engine_message_subscription WHERE process_instance_key = $1`,
      [c.processInstanceKey],
    );
    expect(rows[0].n).toBe(0);
  });
});

describe('terminate end event (bpmn/terminate-events)', () => {
  it('at the top level it ends every other element instance and completes the process', async () => {
    const id = uniqueId('term');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" /><bpmn:parallelGateway id="fork" />
         ${serviceTask('slow', `${id}-slow`)}${serviceTask('fast', `${id}-fast`)}
         <bpmn:endEvent id="stop"><bpmn:terminateEventDefinition /></bpmn:endEvent><bpmn:endEvent id="end" />
         ${flow('f0', 'start', 'fork')}${flow('f1', 'fork', 'slow')}${flow('f2', 'fork', 'fast')}
         ${flow('f3', 'fast', 'stop')}${flow('f4', 'slow', 'end')}`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    await work(`${id}-fast`);
    await completed(c.processInstanceKey);
    const s = await states(c.processInstanceKey);
    expect(s.slow).toEqual(['TERMINATED']);
    expect(s.stop).toEqual(['COMPLETED']);
    expect(s.end).toBeUndefined();
    const { rows } = await engineDb().query(
      `SELECT count(*)::int AS n FROM engine_job WHERE process_instance_key = $1`,
      [c.processInstanceKey],
    );
    expect(rows[0].n).toBe(0);
  });

  it('in a sub-process it ends only the sub-process, which completes and goes on', async () => {
    const id = uniqueId('term-sub');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />${serviceTask('outside', `${id}-outside`)}<bpmn:parallelGateway id="outerFork" />
         <bpmn:subProcess id="sub"><bpmn:startEvent id="s0" /><bpmn:parallelGateway id="fork" />
           ${serviceTask('slow', `${id}-slow`)}<bpmn:endEvent id="stop"><bpmn:terminateEventDefinition /></bpmn:endEvent>
           ${flow('s1', 's0', 'fork')}${flow('s2', 'fork', 'slow')}${flow('s3', 'fork', 'stop')}
         </bpmn:subProcess>
         ${serviceTask('after', `${id}-after`)}<bpmn:endEvent id="end" /><bpmn:endEvent id="end2" />
         ${flow('f0', 'start', 'outerFork')}${flow('f1', 'outerFork', 'sub')}${flow('f2', 'outerFork', 'outside')}
         ${flow('f3', 'sub', 'after')}${flow('f4', 'after', 'end')}${flow('f5', 'outside', 'end2')}`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    await eventually(async () => (await activeElements(c.processInstanceKey)).includes('after'), 5000, 'after');
    const s = await states(c.processInstanceKey);
    expect(s.slow).toEqual(['TERMINATED']);
    expect(s.sub).toEqual(['COMPLETED']);
    expect(s.outside).toEqual(['ACTIVE']);
    await work(`${id}-after`);
    await work(`${id}-outside`);
    await completed(c.processInstanceKey);
  });
});

describe('script, receive, manual and undefined tasks', () => {
  it('a script task evaluates its FEEL expression into the result variable (bpmn/script-tasks)', async () => {
    const id = uniqueId('script');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />
         <bpmn:scriptTask id="total"><bpmn:extensionElements><zeebe:script expression="=sum(absences) + extra" resultVariable="days" /></bpmn:extensionElements></bpmn:scriptTask>
         <bpmn:manualTask id="manual" /><bpmn:task id="plain" /><bpmn:endEvent id="end" />${chain(['start', 'total', 'manual', 'plain', 'end'])}`,
      ),
    );
    const result = await zeebe().createProcessInstanceWithResult({
      bpmnProcessId: id,
      variables: { absences: [3, 4, 5], extra: 1 },
      requestTimeout: 10_000,
    });
    expect(result.variables).toMatchObject({ days: 13 });
    expect(await completedElements(result.processInstanceKey)).toEqual(
      expect.arrayContaining(['total', 'manual', 'plain', 'end']),
    );
  });

  it('with output mappings the result variable stays local to the script task; only the mapped value goes on (concepts/variables)', async () => {
    const id = uniqueId('script-out');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />
         <bpmn:scriptTask id="calc"><bpmn:extensionElements><zeebe:script expression="=count(children)" resultVariable="n" />
           <zeebe:ioMapping><zeebe:output source="=n * 2" target="doubled" /></zeebe:ioMapping></bpmn:extensionElements></bpmn:scriptTask>
         <bpmn:endEvent id="end" />${chain(['start', 'calc', 'end'])}`,
      ),
    );
    const result = await zeebe().createProcessInstanceWithResult({
      bpmnProcessId: id,
      variables: { children: ['a', 'b', 'c'] },
      requestTimeout: 10_000,
    });
    expect(result.variables).toEqual({ children: ['a', 'b', 'c'], doubled: 6 });
  });

  it('a receive task waits for its message like a catch event, and its boundary timer can interrupt it (bpmn/receive-tasks)', async () => {
    const id = uniqueId('receive');
    const name = `${id}-reply`;
    const xml = bpmn(
      id,
      `<bpmn:startEvent id="start" /><bpmn:receiveTask id="wait" messageRef="m" />
       <bpmn:boundaryEvent id="late" attachedToRef="wait"><bpmn:timerEventDefinition><bpmn:timeDuration>PT2H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
       <bpmn:endEvent id="end" /><bpmn:endEvent id="lateEnd" />${chain(['start', 'wait', 'end'])}${flow('fl', 'late', 'lateEnd')}`,
      `<bpmn:message id="m" name="${name}"><bpmn:extensionElements><zeebe:subscription correlationKey="=childId" /></bpmn:extensionElements></bpmn:message>`,
    );
    await deploy(`${id}.bpmn`, xml);
    const a = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { childId: 'r1' } });
    const b = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { childId: 'r2' } });
    await zeebe().publishMessage({ name, correlationKey: 'r1', variables: { answer: 42 }, timeToLive: 0 });
    await completed(a.processInstanceKey);
    expect((await states(a.processInstanceKey)).wait).toEqual(['COMPLETED']);
    const { rows } = await engineDb().query(
      `SELECT value FROM engine_variable WHERE scope_key = $1 AND name = 'answer'`,
      [a.processInstanceKey],
    );
    expect(rows[0].value).toBe(42);
    expect(await instanceState(b.processInstanceKey)).toBe('ACTIVE');
    await clock.add(2 * HOUR + 1000);
    await completed(b.processInstanceKey);
    expect((await states(b.processInstanceKey)).wait).toEqual(['TERMINATED']);
    expect((await states(b.processInstanceKey)).lateEnd).toEqual(['COMPLETED']);
  });

  it('a send task is worked by a job of its type (bpmn/send-tasks)', async () => {
    const id = uniqueId('send');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" /><bpmn:sendTask id="notify"><bpmn:extensionElements><zeebe:taskDefinition type="${id}-notify" /></bpmn:extensionElements></bpmn:sendTask>
         <bpmn:endEvent id="end" />${chain(['start', 'notify', 'end'])}`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    const job = await nextJob(`${id}-notify`);
    expect(job.elementId).toBe('notify');
    await zeebe().completeJob({ jobKey: job.key, variables: {} });
    await completed(c.processInstanceKey);
  });
});
