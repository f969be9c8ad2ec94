/**
 * Engine-backed: execution listeners (https://docs.camunda.io/docs/components/concepts/execution-listeners/)
 * and user task listeners (https://docs.camunda.io/docs/components/concepts/user-task-listeners/), both
 * jobs the element waits for (issue 17, palette part 6), through @camunda8/sdk and REST against the real
 * engine process.
 */
import { describe, expect, it } from 'vitest';
import {
  bpmn,
  chain,
  deploy,
  engineDb,
  eventually,
  instanceState,
  nextJob,
  restCall,
  uniqueId,
  variable,
  work,
  zeebe,
} from './helpers.js';

async function jobsOf(processInstanceKey: string) {
  const { rows } = await engineDb().query<{ type: string }>(
    `SELECT type FROM engine_job WHERE process_instance_key = $1 ORDER BY key`,
    [processInstanceKey],
  );
  return rows.map((r) => r.type);
}

describe('execution listeners (concepts/execution-listeners)', () => {
  it('start listeners run in order before the element (their variables local to it), end listeners after its output mappings (theirs to the flow scope)', async () => {
    const id = uniqueId('el');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />
         <bpmn:serviceTask id="notify"><bpmn:extensionElements>
           <zeebe:taskDefinition type="=&quot;${id}-notify-&quot; + channel" />
           <zeebe:taskHeaders><zeebe:header key="clause" value="art-14" /></zeebe:taskHeaders>
           <zeebe:ioMapping><zeebe:output source="=sent" target="notified" /></zeebe:ioMapping>
           <zeebe:executionListeners>
             <zeebe:executionListener eventType="start" type="${id}-pick" />
             <zeebe:executionListener eventType="start" type="${id}-check" retries="2" />
             <zeebe:executionListener eventType="end" type="${id}-audit" />
           </zeebe:executionListeners>
         </bpmn:extensionElements></bpmn:serviceTask>
         <bpmn:endEvent id="end" />${chain(['start', 'notify', 'end'])}`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    const key = c.processInstanceKey;
    const pick = await nextJob(`${id}-pick`);
    expect(pick.customHeaders).toMatchObject({ clause: 'art-14' });
    expect(await jobsOf(key)).toEqual([`${id}-pick`]);
    await zeebe().completeJob({ jobKey: pick.key, variables: { channel: 'sms' } });
    const check = await nextJob(`${id}-check`);
    expect(check.retries).toBe(2);
    expect(check.variables.channel).toBe('sms');
    // The element's own job only after the last start listener, its type from the listener's variable.
    expect(await jobsOf(key)).toEqual([`${id}-check`]);
    await zeebe().completeJob({ jobKey: check.key, variables: {} });
    await work(`${id}-notify-sms`, { sent: true });
    const audit = await nextJob(`${id}-audit`);
    expect(audit.variables.notified).toBe(true);
    expect(await instanceState(key)).toBe('ACTIVE');
    await zeebe().completeJob({ jobKey: audit.key, variables: { auditedBy: 'bureau' } });
    await eventually(async () => (await instanceState(key)) === 'COMPLETED', 5000);
    expect(await variable(key, 'auditedBy')).toBe('bureau');
    expect(await variable(key, 'channel')).toBeUndefined();
    const { rows } = await engineDb().query(
      `SELECT value->>'type' AS type, value->>'jobKind' AS kind, value->>'listenerEventType' AS event FROM zeebe_record
        WHERE value_type = 'JOB' AND intent = 'CREATED' AND value->>'processInstanceKey' = $1 ORDER BY position`,
      [key],
    );
    expect(rows.map((r) => [r.kind, r.event])).toEqual([
      ['EXECUTION_LISTENER', 'START'],
      ['EXECUTION_LISTENER', 'START'],
      ['BPMN_ELEMENT', 'UNSPECIFIED'],
      ['EXECUTION_LISTENER', 'END'],
    ]);
  });

  it('a process start listener runs before the start event; throwing a BPMN error from a listener job is refused', async () => {
    const id = uniqueId('el-proc');
    await deploy(
      `${id}.bpmn`,
      bpmn(id, `<bpmn:startEvent id="start" /><bpmn:endEvent id="end" />${chain(['start', 'end'])}`).replace(
        `<bpmn:process id="${id}" isExecutable="true">`,
        `<bpmn:process id="${id}" isExecutable="true"><bpmn:extensionElements><zeebe:executionListeners>
           <zeebe:executionListener eventType="start" type="${id}-open" /></zeebe:executionListeners></bpmn:extensionElements>`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    const job = await nextJob(`${id}-open`);
    const { rows } = await engineDb().query(
      `SELECT count(*)::int AS n FROM engine_element_instance WHERE process_instance_key = $1 AND element_id = 'start'`,
      [c.processInstanceKey],
    );
    expect(rows[0].n).toBe(0);
    await expect(zeebe().throwError({ jobKey: job.key, errorCode: 'X', errorMessage: 'no' })).rejects.toThrow(
      /listener/,
    );
    await zeebe().completeJob({ jobKey: job.key, variables: { openedBy: 'w' } });
    await eventually(async () => (await instanceState(c.processInstanceKey)) === 'COMPLETED', 5000);
    expect(await variable(c.processInstanceKey, 'openedBy')).toBe('w');
  });
});

describe('user task listeners (concepts/user-task-listeners)', () => {
  it('an assignment and a completion wait for their listener jobs; meanwhile the task is ASSIGNING / COMPLETING', async () => {
    const id = uniqueId('tl');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />
         <bpmn:userTask id="visit"><bpmn:extensionElements><zeebe:userTask />
           <zeebe:taskListeners>
             <zeebe:taskListener eventType="assigning" type="${id}-on-assign" />
             <zeebe:taskListener eventType="completing" type="${id}-on-complete" />
           </zeebe:taskListeners></bpmn:extensionElements></bpmn:userTask>
         <bpmn:endEvent id="end" />${chain(['start', 'visit', 'end'])}`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    const task = async () =>
      (
        await engineDb().query<{ key: string; state: string; assignee: string | null }>(
          `SELECT key::text, state, assignee FROM engine_user_task WHERE process_instance_key = $1`,
          [c.processInstanceKey],
        )
      ).rows[0]!;
    const { key } = await eventually(async () => (await task()) ?? false, 5000, 'user task');
    expect((await restCall('POST', `/v2/user-tasks/${key}/assignment`, { assignee: 'teacher-1' })).status).toBe(204);
    expect(await task()).toMatchObject({ state: 'ASSIGNING', assignee: null });
    const onAssign = await nextJob(`${id}-on-assign`);
    await zeebe().completeJob({ jobKey: onAssign.key, variables: {} });
    expect(await task()).toMatchObject({ state: 'CREATED', assignee: 'teacher-1' });

    expect((await restCall('POST', `/v2/user-tasks/${key}/completion`, { variables: { visited: true } })).status).toBe(
      204,
    );
    expect(await task()).toMatchObject({ state: 'COMPLETING' });
    expect(await instanceState(c.processInstanceKey)).toBe('ACTIVE');
    // While a listener runs, the task takes no other command.
    expect((await restCall('POST', `/v2/user-tasks/${key}/completion`, {})).status).toBeGreaterThanOrEqual(400);
    await work(`${id}-on-complete`);
    await eventually(async () => (await instanceState(c.processInstanceKey)) === 'COMPLETED', 5000);
    expect((await task()).state).toBe('COMPLETED');
    expect(await variable(c.processInstanceKey, 'visited')).toBe(true);
  });
});
