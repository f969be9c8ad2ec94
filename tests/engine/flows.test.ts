/**
 * Engine-backed: the BPMN elements our diagrams use, each with Zeebe's documented semantics
 * (https://docs.camunda.io/docs/components/modeler/bpmn/…, page named per test), driven through
 * @camunda8/sdk and the REST /v2 API against the real engine process.
 */
import { describe, expect, it } from 'vitest';
import {
  DAY,
  bpmn,
  chain,
  clock,
  completedElements,
  deploy,
  engineDb,
  eventually,
  flow,
  instanceState,
  restCall,
  serviceTask,
  uniqueId,
  zeebe,
  nextJob,
  work,
} from './helpers.js';

async function openTask(processInstanceKey: string, elementId?: string) {
  return eventually(
    async () => {
      const { rows } = await engineDb().query(
        `SELECT key::text, element_id, candidate_groups, due_date, assignee FROM engine_user_task
        WHERE process_instance_key = $1 AND state = 'CREATED' ${elementId ? 'AND element_id = $2' : ''}`,
        elementId ? [processInstanceKey, elementId] : [processInstanceKey],
      );
      return rows[0] as
        | {
            key: string;
            element_id: string;
            candidate_groups: string[];
            due_date: Date | null;
            assignee: string | null;
          }
        | undefined;
    },
    10_000,
    `user task ${elementId ?? ''}`,
  );
}

describe('exclusive gateway (bpmn/exclusive-gateways)', () => {
  const id = uniqueId('xor');
  const xml = bpmn(
    id,
    `<bpmn:startEvent id="start" />
     <bpmn:exclusiveGateway id="decide" default="toOther" />
     <bpmn:endEvent id="confirmed" /><bpmn:endEvent id="other" />
     ${flow('f1', 'start', 'decide')}
     ${flow('toConfirmed', 'decide', 'confirmed', '=decision = "CONFIRMED"')}
     ${flow('toOther', 'decide', 'other')}`,
  );
  const strict = uniqueId('xor-strict');
  const strictXml = bpmn(
    strict,
    `<bpmn:startEvent id="start" /><bpmn:exclusiveGateway id="decide" /><bpmn:endEvent id="a" />
     ${flow('f1', 'start', 'decide')}${flow('toA', 'decide', 'a', '=x > 1')}`,
  );

  it('takes the first flow whose condition is true, else the default', async () => {
    await deploy(`${id}.bpmn`, xml);
    const a = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { decision: 'CONFIRMED' } });
    const b = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { decision: 'UNFOUNDED' } });
    expect(await completedElements(a.processInstanceKey)).toContain('confirmed');
    expect(await completedElements(b.processInstanceKey)).toContain('other');
    expect(await completedElements(b.processInstanceKey)).not.toContain('confirmed');
  });

  it('no true condition and no default: an incident at the gateway, resolved after the variable is set', async () => {
    await deploy(`${strict}.bpmn`, strictXml);
    const c = await zeebe().createProcessInstance({ bpmnProcessId: strict, variables: { x: 0 } });
    const { rows } = await engineDb().query(
      `SELECT key::text, error_type, element_instance_key::text FROM engine_incident WHERE process_instance_key = $1 AND state = 'ACTIVE'`,
      [c.processInstanceKey],
    );
    expect(rows).toEqual([expect.objectContaining({ error_type: 'CONDITION_ERROR' })]);
    await zeebe().setVariables({ elementInstanceKey: c.processInstanceKey, variables: { x: 5 }, local: false });
    await zeebe().resolveIncident({ incidentKey: rows[0].key });
    await eventually(async () => (await instanceState(c.processInstanceKey)) === 'COMPLETED', 5000);
  });
});

describe('parallel gateway (bpmn/parallel-gateways)', () => {
  it('forks to every outgoing flow and the join waits for all of them', async () => {
    const id = uniqueId('and');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" /><bpmn:parallelGateway id="fork" />
         ${serviceTask('a', `${id}-a`)}${serviceTask('b', `${id}-b`)}
         <bpmn:parallelGateway id="join" /><bpmn:endEvent id="end" />
         ${flow('f0', 'start', 'fork')}${flow('f1', 'fork', 'a')}${flow('f2', 'fork', 'b')}
         ${flow('f3', 'a', 'join')}${flow('f4', 'b', 'join')}${flow('f5', 'join', 'end')}`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    await work(`${id}-a`);
    expect(await instanceState(c.processInstanceKey)).toBe('ACTIVE');
    expect(await completedElements(c.processInstanceKey)).not.toContain('join');
    await work(`${id}-b`);
    await eventually(async () => (await instanceState(c.processInstanceKey)) === 'COMPLETED', 5000);
    expect((await completedElements(c.processInstanceKey)).filter((e) => e === 'join')).toHaveLength(1);
  });
});

describe('Camunda user tasks (bpmn/user-tasks; REST user-tasks API)', () => {
  const id = uniqueId('ut');
  const xml = bpmn(
    id,
    `<bpmn:startEvent id="start" />
     <bpmn:userTask id="visit" name="班主任家访劝返"><bpmn:extensionElements><zeebe:userTask />
       <zeebe:assignmentDefinition candidateGroups="=[&quot;class:&quot; + string(classId)]" />
       <zeebe:taskSchedule dueDate="=now() + duration(&quot;P3D&quot;)" /></bpmn:extensionElements></bpmn:userTask>
     <bpmn:endEvent id="end" />${chain(['start', 'visit', 'end'])}`,
  );

  it('candidate groups and due date from FEEL; assignment refuses another user unless overridden; completion moves on with the variables', async () => {
    await deploy(`${id}.bpmn`, xml);
    const now = await clock.now();
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { classId: 12 } });
    const task = await openTask(c.processInstanceKey, 'visit');
    expect(task.candidate_groups).toEqual(['class:12']);
    expect(Math.abs(task.due_date!.getTime() - (now + 3 * DAY))).toBeLessThan(60_000);

    expect((await restCall('POST', `/v2/user-tasks/${task.key}/assignment`, { assignee: 'teacher-1' })).status).toBe(
      204,
    );
    expect(
      (await restCall('POST', `/v2/user-tasks/${task.key}/assignment`, { assignee: 'teacher-2', allowOverride: false }))
        .status,
    ).toBe(409);
    const search = await restCall('POST', '/v2/user-tasks/search', {
      filter: { processInstanceKey: c.processInstanceKey },
    });
    expect(search.status).toBe(200);
    const items = (search.body as { items: { assignee: string; candidateGroups: string[]; state: string }[] }).items;
    expect(items).toEqual([
      expect.objectContaining({ assignee: 'teacher-1', candidateGroups: ['class:12'], state: 'CREATED' }),
    ]);

    expect(
      (await restCall('POST', `/v2/user-tasks/${task.key}/completion`, { variables: { visitOutcome: 'RETURNED' } }))
        .status,
    ).toBe(204);
    await eventually(async () => (await instanceState(c.processInstanceKey)) === 'COMPLETED', 5000);
    const { rows } = await engineDb().query(
      `SELECT value FROM engine_variable WHERE scope_key = $1 AND name = 'visitOutcome'`,
      [c.processInstanceKey],
    );
    expect(rows[0].value).toBe('RETURNED');
    // A completed task cannot be completed again (REST: 409 for a task not in state CREATED… or 404 once gone).
    expect([404, 409]).toContain((await restCall('POST', `/v2/user-tasks/${task.key}/completion`, {})).status);
    expect((await restCall('POST', `/v2/user-tasks/999999999/completion`, {})).status).toBe(404);
  });
});

describe('timer events (bpmn/timer-events) on the controlled clock', () => {
  it('an interrupting boundary timer on a user task fires at its duration, not before, and cancels the task', async () => {
    const id = uniqueId('overdue');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />
         <bpmn:userTask id="act"><bpmn:extensionElements><zeebe:userTask /></bpmn:extensionElements></bpmn:userTask>
         <bpmn:boundaryEvent id="late" attachedToRef="act"><bpmn:timerEventDefinition>
           <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">=deadline</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
         <bpmn:endEvent id="done" /><bpmn:endEvent id="escalated" />
         ${chain(['start', 'act', 'done'])}${flow('fLate', 'late', 'escalated')}`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { deadline: 'P10D' } });
    const task = await openTask(c.processInstanceKey, 'act');
    await clock.add(9 * DAY);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await instanceState(c.processInstanceKey)).toBe('ACTIVE');
    await clock.add(1 * DAY + 60_000);
    await eventually(async () => (await instanceState(c.processInstanceKey)) === 'COMPLETED', 10_000, 'timer fired');
    expect(await completedElements(c.processInstanceKey)).toContain('escalated');
    const { rows } = await engineDb().query(`SELECT state FROM engine_user_task WHERE key = $1`, [task.key]);
    expect(rows[0].state).toBe('CANCELED');
  });

  it('a non-interrupting boundary timer leaves the task open and runs its own path', async () => {
    const id = uniqueId('remind');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />
         <bpmn:userTask id="act"><bpmn:extensionElements><zeebe:userTask /></bpmn:extensionElements></bpmn:userTask>
         <bpmn:boundaryEvent id="remind" attachedToRef="act" cancelActivity="false"><bpmn:timerEventDefinition>
           <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">P5D</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
         ${serviceTask('report', `${id}-report`)}<bpmn:endEvent id="reported" /><bpmn:endEvent id="done" />
         ${chain(['start', 'act', 'done'])}${flow('fR', 'remind', 'report')}${flow('fR2', 'report', 'reported')}`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    const task = await openTask(c.processInstanceKey, 'act');
    await clock.add(5 * DAY + 60_000);
    await work(`${id}-report`);
    await eventually(async () => (await completedElements(c.processInstanceKey)).includes('reported'), 5000);
    const { rows } = await engineDb().query(`SELECT state FROM engine_user_task WHERE key = $1`, [task.key]);
    expect(rows[0].state).toBe('CREATED');
    expect(await instanceState(c.processInstanceKey)).toBe('ACTIVE');
  });

  it('an intermediate timer catch event waits for its duration', async () => {
    const id = uniqueId('wait');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" /><bpmn:intermediateCatchEvent id="tenDays"><bpmn:timerEventDefinition>
           <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">P10D</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
         <bpmn:endEvent id="end" />${chain(['start', 'tenDays', 'end'])}`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    const { rows } = await engineDb().query(`SELECT due_date FROM engine_timer WHERE process_instance_key = $1`, [
      c.processInstanceKey,
    ]);
    expect(rows).toHaveLength(1);
    await clock.add(10 * DAY + 1000);
    await eventually(async () => (await instanceState(c.processInstanceKey)) === 'COMPLETED', 10_000);
  });
});

describe('messages (concepts/messages, bpmn/message-events)', () => {
  const id = uniqueId('msg');
  const name = `${id}-returned`;
  const xml = bpmn(
    id,
    `<bpmn:startEvent id="start" />
     <bpmn:userTask id="act"><bpmn:extensionElements><zeebe:userTask /></bpmn:extensionElements></bpmn:userTask>
     <bpmn:boundaryEvent id="back" attachedToRef="act"><bpmn:messageEventDefinition messageRef="m1" /></bpmn:boundaryEvent>
     <bpmn:endEvent id="done" /><bpmn:endEvent id="returned" />
     ${chain(['start', 'act', 'done'])}${flow('fB', 'back', 'returned')}`,
    `<bpmn:message id="m1" name="${name}"><bpmn:extensionElements><zeebe:subscription correlationKey="=childId" /></bpmn:extensionElements></bpmn:message>`,
  );

  it('a published message correlates by name and key to the boundary event, with its variables', async () => {
    await deploy(`${id}.bpmn`, xml);
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { childId: 'c-1' } });
    const other = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { childId: 'c-2' } });
    await openTask(c.processInstanceKey);
    await zeebe().publishMessage({
      name,
      correlationKey: 'c-1',
      variables: { returnedOn: '2026-11-23' },
      timeToLive: 0,
    });
    await eventually(async () => (await instanceState(c.processInstanceKey)) === 'COMPLETED', 5000);
    expect(await completedElements(c.processInstanceKey)).toContain('returned');
    expect(await instanceState(other.processInstanceKey)).toBe('ACTIVE');
    const { rows } = await engineDb().query(
      `SELECT value FROM engine_variable WHERE scope_key = $1 AND name = 'returnedOn'`,
      [c.processInstanceKey],
    );
    expect(rows[0].value).toBe('2026-11-23');
  });

  it('a message with a time to live waits in the buffer for a subscription; a second one with the same id is ALREADY_EXISTS', async () => {
    await deploy(`${id}.bpmn`, xml);
    await zeebe().publishMessage({
      name,
      correlationKey: 'c-3',
      messageId: `${id}-once`,
      variables: {},
      timeToLive: 60_000,
    });
    await expect(
      zeebe().publishMessage({
        name,
        correlationKey: 'c-3',
        messageId: `${id}-once`,
        variables: {},
        timeToLive: 60_000,
      }),
    ).rejects.toThrow(/ALREADY_EXISTS|already published/);
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { childId: 'c-3' } });
    await eventually(
      async () => (await instanceState(c.processInstanceKey)) === 'COMPLETED',
      5000,
      'buffered message correlated',
    );
    expect(await completedElements(c.processInstanceKey)).toContain('returned');
  });

  it('a message start event with a correlation key starts one instance per key at a time', async () => {
    const sid = uniqueId('msgstart');
    const sname = `${sid}-referred`;
    await deploy(
      `${sid}.bpmn`,
      bpmn(
        sid,
        `<bpmn:startEvent id="referred"><bpmn:messageEventDefinition messageRef="m2" /></bpmn:startEvent>
         <bpmn:userTask id="act"><bpmn:extensionElements><zeebe:userTask /></bpmn:extensionElements></bpmn:userTask>
         <bpmn:endEvent id="end" />${chain(['referred', 'act', 'end'])}`,
        `<bpmn:message id="m2" name="${sname}" />`,
      ),
    );
    await zeebe().publishMessage({
      name: sname,
      correlationKey: 'child-9',
      variables: { childId: 'child-9' },
      timeToLive: 0,
    });
    await zeebe().publishMessage({
      name: sname,
      correlationKey: 'child-9',
      variables: { childId: 'child-9' },
      timeToLive: 0,
    });
    await zeebe().publishMessage({
      name: sname,
      correlationKey: 'child-10',
      variables: { childId: 'child-10' },
      timeToLive: 0,
    });
    const { rows } = await engineDb().query(
      `SELECT start_correlation_key AS k, count(*)::int AS n FROM engine_process_instance WHERE bpmn_process_id = $1 GROUP BY 1 ORDER BY 1`,
      [sid],
    );
    expect(rows).toEqual([
      { k: 'child-10', n: 1 },
      { k: 'child-9', n: 1 },
    ]);
  });

  it('a buffered start message held back by an active instance with its key starts the next one when that ends', async () => {
    const sid = uniqueId('msgnext');
    const sname = `${sid}-referred`;
    await deploy(
      `${sid}.bpmn`,
      bpmn(
        sid,
        `<bpmn:startEvent id="referred"><bpmn:messageEventDefinition messageRef="m3" /></bpmn:startEvent>
         <bpmn:userTask id="act"><bpmn:extensionElements><zeebe:userTask /></bpmn:extensionElements></bpmn:userTask>
         <bpmn:endEvent id="end" />${chain(['referred', 'act', 'end'])}`,
        `<bpmn:message id="m3" name="${sname}" />`,
      ),
    );
    await zeebe().publishMessage({ name: sname, correlationKey: 'k', variables: { round: 1 }, timeToLive: 60_000 });
    await zeebe().publishMessage({ name: sname, correlationKey: 'k', variables: { round: 2 }, timeToLive: 60_000 });
    const instances = async () =>
      (
        await engineDb().query(
          `SELECT p.key::text, p.state, v.value AS round FROM engine_process_instance p
             JOIN engine_variable v ON v.scope_key = p.key AND v.name = 'round'
            WHERE p.bpmn_process_id = $1 ORDER BY p.key`,
          [sid],
        )
      ).rows as { key: string; state: string; round: number }[];
    expect((await instances()).map((i) => i.round)).toEqual([1]);
    const first = (await instances())[0]!;
    const task = await openTask(first.key, 'act');
    expect((await restCall('POST', `/v2/user-tasks/${task.key}/completion`, {})).status).toBe(204);
    await eventually(async () => (await instances()).length === 2, 5000, 'the held-back message started an instance');
    expect((await instances()).map((i) => [i.round, i.state])).toEqual([
      [1, 'COMPLETED'],
      [2, 'ACTIVE'],
    ]);
  });
});

describe('error events (bpmn/error-events)', () => {
  it('ThrowError is caught by the error boundary event with its code; error variables reach the process through its output mapping', async () => {
    const id = uniqueId('err');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />${serviceTask('open', `${id}-open`)}
         <bpmn:boundaryEvent id="already" attachedToRef="open"><bpmn:extensionElements><zeebe:ioMapping>
           <zeebe:output source="=caseId" target="existingCase" /></zeebe:ioMapping></bpmn:extensionElements>
           <bpmn:errorEventDefinition errorRef="e1" /></bpmn:boundaryEvent>
         <bpmn:endEvent id="opened" /><bpmn:endEvent id="joined" />
         ${chain(['start', 'open', 'opened'])}${flow('fE', 'already', 'joined')}`,
        `<bpmn:error id="e1" name="open" errorCode="CASE_ALREADY_OPEN" />`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    const job = await nextJob(`${id}-open`);
    await zeebe().throwError({
      jobKey: job!.key,
      errorCode: 'CASE_ALREADY_OPEN',
      errorMessage: 'open',
      variables: { caseId: 'C-7', noise: 1 },
    });
    await eventually(async () => (await instanceState(c.processInstanceKey)) === 'COMPLETED', 5000);
    expect(await completedElements(c.processInstanceKey)).toContain('joined');
    const { rows } = await engineDb().query(
      `SELECT name, value FROM engine_variable WHERE scope_key = $1 ORDER BY name`,
      [c.processInstanceKey],
    );
    expect(rows).toEqual([{ name: 'existingCase', value: 'C-7' }]);
  });

  it('an error nobody catches raises an UNHANDLED_ERROR_EVENT incident naming the code', async () => {
    const id = uniqueId('uncaught');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />${serviceTask('t', `${id}-t`)}<bpmn:endEvent id="end" />${chain(['start', 't', 'end'])}`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    const job = await nextJob(`${id}-t`);
    await zeebe().throwError({ jobKey: job!.key, errorCode: 'NO_SUCH_CODE', errorMessage: '' });
    const { rows } = await engineDb().query(
      `SELECT error_type, error_message FROM engine_incident WHERE process_instance_key = $1`,
      [c.processInstanceKey],
    );
    expect(rows).toEqual([
      expect.objectContaining({
        error_type: 'UNHANDLED_ERROR_EVENT',
        error_message: expect.stringContaining('NO_SUCH_CODE'),
      }),
    ]);
  });
});

describe('variables and mappings (concepts/variables)', () => {
  it('input mappings make local variables; output mappings decide what reaches the flow scope; without them the job variables propagate', async () => {
    const id = uniqueId('io');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />
         ${serviceTask('mapped', `${id}-mapped`, '<zeebe:ioMapping><zeebe:input source="=&quot;TOWN_OVERDUE&quot;" target="stage" /><zeebe:input source="=order.total * 2" target="double" /><zeebe:output source="=result" target="outcome.value" /></zeebe:ioMapping>')}
         ${serviceTask('plain', `${id}-plain`)}<bpmn:endEvent id="end" />${chain(['start', 'mapped', 'plain', 'end'])}`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { order: { total: 21 } } });
    const job = await nextJob(`${id}-mapped`);
    expect(job!.variables).toMatchObject({ stage: 'TOWN_OVERDUE', double: 42, order: { total: 21 } });
    await zeebe().completeJob({ jobKey: job!.key, variables: { result: 'ok', scratch: 'not kept' } });
    await work(`${id}-plain`, { extra: true });
    await eventually(async () => (await instanceState(c.processInstanceKey)) === 'COMPLETED', 5000);
    const { rows } = await engineDb().query(
      `SELECT name, value FROM engine_variable WHERE scope_key = $1 ORDER BY name`,
      [c.processInstanceKey],
    );
    expect(rows).toEqual([
      { name: 'extra', value: true },
      { name: 'order', value: { total: 21 } },
      { name: 'outcome', value: { value: 'ok' } },
    ]);
  });
});

describe('embedded sub-process, call activity and multi-instance', () => {
  it('a parallel multi-instance call activity runs the called process per element and collects the output (bpmn/multi-instance, bpmn/call-activities)', async () => {
    const child = uniqueId('child');
    const parent = uniqueId('parent');
    await deploy(
      `${child}.bpmn`,
      bpmn(
        child,
        `<bpmn:startEvent id="s" />${serviceTask('verify', `${child}-verify`)}<bpmn:endEvent id="e" />${chain(['s', 'verify', 'e'])}`,
      ),
    );
    await deploy(
      `${parent}.bpmn`,
      bpmn(
        parent,
        `<bpmn:startEvent id="start" />
         <bpmn:callActivity id="each"><bpmn:extensionElements>
           <zeebe:calledElement processId="${child}" propagateAllChildVariables="false" />
           <zeebe:ioMapping><zeebe:input source="=suspect" target="suspect" /></zeebe:ioMapping></bpmn:extensionElements>
           <bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements>
             <zeebe:loopCharacteristics inputCollection="=suspects" inputElement="suspect" outputCollection="results" outputElement="=suspect * 10" />
           </bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics></bpmn:callActivity>
         <bpmn:subProcess id="sub"><bpmn:startEvent id="subStart" />${serviceTask('close', `${parent}-close`)}<bpmn:endEvent id="subEnd" />${chain(['subStart', 'close', 'subEnd'])}</bpmn:subProcess>
         <bpmn:endEvent id="end" />${chain(['start', 'each', 'sub', 'end'])}`,
      ),
    );
    const c = await zeebe().createProcessInstance({
      bpmnProcessId: parent,
      variables: { suspects: [1, 2, 3], county: '370481' },
    });
    const seen: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const job = await work(`${child}-verify`, { outcome: 'A' });
      seen.push(job.variables.suspect);
      // The child sees the parent's variables (propagateAllParentVariables defaults to true).
      expect(job.variables.county).toBe('370481');
    }
    expect(seen.sort()).toEqual([1, 2, 3]);
    const close = await work(`${parent}-close`);
    expect(close.variables.results).toEqual([10, 20, 30]);
    // propagateAllChildVariables=false: the children's 'outcome' never reached the parent.
    expect(close.variables.outcome).toBeUndefined();
    await eventually(async () => (await instanceState(c.processInstanceKey)) === 'COMPLETED', 5000);
    const { rows } = await engineDb().query(
      `SELECT count(*)::int AS n FROM engine_process_instance WHERE parent_process_instance_key = $1 AND state = 'COMPLETED'`,
      [c.processInstanceKey],
    );
    expect(rows[0].n).toBe(3);
  });

  it('a multi-instance over 300 elements (beyond one command’s step budget) creates each job once and collects every output', async () => {
    const id = uniqueId('mi-wide');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />
         <bpmn:serviceTask id="each"><bpmn:extensionElements><zeebe:taskDefinition type="${id}-x" /></bpmn:extensionElements>
           <bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements>
             <zeebe:loopCharacteristics inputCollection="=items" inputElement="item" outputCollection="out" outputElement="=item + 1" />
           </bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics></bpmn:serviceTask>
         ${serviceTask('after', `${id}-after`)}<bpmn:endEvent id="end" />${chain(['start', 'each', 'after', 'end'])}`,
      ),
    );
    const items = Array.from({ length: 300 }, (_, i) => i);
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { items } });
    const seen = new Set<number>();
    await eventually(
      async () => {
        const jobs = await zeebe().activateJobs({
          type: `${id}-x`,
          worker: 'w',
          maxJobsToActivate: 100,
          timeout: 60_000,
          requestTimeout: 1_000,
        });
        for (const job of jobs) {
          expect(seen.has(job.variables.item as number)).toBe(false);
          seen.add(job.variables.item as number);
          await zeebe().completeJob({ jobKey: job.key, variables: {} });
        }
        return seen.size === 300;
      },
      60_000,
      'every inner job',
    );
    const after = await work(`${id}-after`);
    expect(after.variables.out).toEqual(items.map((i) => i + 1));
    await eventually(async () => (await instanceState(c.processInstanceKey)) === 'COMPLETED', 10_000);
  });

  it('an empty input collection completes the multi-instance body at once', async () => {
    const id = uniqueId('mi-empty');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />
         <bpmn:serviceTask id="each"><bpmn:extensionElements><zeebe:taskDefinition type="${id}-x" /></bpmn:extensionElements>
           <bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements><zeebe:loopCharacteristics inputCollection="=items" inputElement="item" /></bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics></bpmn:serviceTask>
         <bpmn:endEvent id="end" />${chain(['start', 'each', 'end'])}`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { items: [] } });
    await eventually(async () => (await instanceState(c.processInstanceKey)) === 'COMPLETED', 5000);
  });

  it('CancelProcessInstance terminates the instance, its called children and their jobs', async () => {
    const child = uniqueId('cchild');
    const parent = uniqueId('cparent');
    await deploy(
      `${child}.bpmn`,
      bpmn(
        child,
        `<bpmn:startEvent id="s" />${serviceTask('t', `${child}-t`)}<bpmn:endEvent id="e" />${chain(['s', 't', 'e'])}`,
      ),
    );
    await deploy(
      `${parent}.bpmn`,
      bpmn(
        parent,
        `<bpmn:startEvent id="start" /><bpmn:callActivity id="call"><bpmn:extensionElements><zeebe:calledElement processId="${child}" /></bpmn:extensionElements></bpmn:callActivity><bpmn:endEvent id="end" />${chain(['start', 'call', 'end'])}`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: parent, variables: {} });
    const { rows: kids } = await engineDb().query(
      `SELECT key::text FROM engine_process_instance WHERE parent_process_instance_key = $1`,
      [c.processInstanceKey],
    );
    await expect(zeebe().cancelProcessInstance(kids[0].key)).rejects.toThrow(/FAILED_PRECONDITION|parent/);
    await zeebe().cancelProcessInstance(c.processInstanceKey);
    expect(await instanceState(c.processInstanceKey)).toBe('TERMINATED');
    expect(await instanceState(kids[0].key)).toBe('TERMINATED');
    const { rows: jobs } = await engineDb().query(
      `SELECT count(*)::int AS n FROM engine_job WHERE process_instance_key = $1`,
      [kids[0].key],
    );
    expect(jobs[0].n).toBe(0);
    await expect(zeebe().cancelProcessInstance(c.processInstanceKey)).rejects.toThrow(/NOT_FOUND/);
  });
});

describe('deployment (concepts/process-versioning)', () => {
  it('a changed diagram is a new version; the same one again is not', async () => {
    const id = uniqueId('ver');
    const v1 = bpmn(id, `<bpmn:startEvent id="start" /><bpmn:endEvent id="end" />${chain(['start', 'end'])}`);
    const v2 = bpmn(id, `<bpmn:startEvent id="start" /><bpmn:endEvent id="end2" />${chain(['start', 'end2'])}`);
    const d1 = await deploy(`${id}.bpmn`, v1);
    const again = await deploy(`${id}.bpmn`, v1);
    const d2 = await deploy(`${id}.bpmn`, v2);
    const versions = [d1, again, d2].map((d) => (d.deployments[0] as { process: { version: number } }).process.version);
    expect(versions).toEqual([1, 1, 2]);
  });

  it('an element the engine does not execute is refused at deploy with INVALID_ARGUMENT naming it', async () => {
    const id = uniqueId('refused');
    await expect(
      deploy(
        `${id}.bpmn`,
        bpmn(
          id,
          `<bpmn:startEvent id="start" /><bpmn:complexGateway id="either" /><bpmn:endEvent id="end" />${chain(['start', 'either', 'end'])}`,
        ),
      ),
    ).rejects.toThrow(/INVALID_ARGUMENT[\s\S]*either/);
    const { rows } = await engineDb().query(
      `SELECT count(*)::int AS n FROM engine_process_definition WHERE bpmn_process_id = $1`,
      [id],
    );
    expect(rows[0].n).toBe(0);
  });

  it('CreateProcessInstanceWithResult answers with the variables once the instance ends', async () => {
    const id = uniqueId('result');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />${serviceTask('t', `${id}-t`)}<bpmn:endEvent id="end" />${chain(['start', 't', 'end'])}`,
      ),
    );
    const pending = zeebe().createProcessInstanceWithResult({
      bpmnProcessId: id,
      variables: { a: 1 },
      requestTimeout: 10_000,
    });
    await work(`${id}-t`, { b: 2 });
    const result = await pending;
    expect(result.variables).toEqual({ a: 1, b: 2 });
  });
});
