/**
 * Engine-backed: ModifyProcessInstance (https://docs.camunda.io/docs/components/concepts/process-instance-modification/)
 * and MigrateProcessInstance (https://docs.camunda.io/docs/components/concepts/process-instance-migration/)
 * over gRPC through @camunda8/sdk (issue 17, palette part 7) — what policy staff need when a statute
 * changes mid-year.
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
  serviceTask,
  uniqueId,
  work,
  zeebe,
} from './helpers.js';

async function active(processInstanceKey: string) {
  const { rows } = await engineDb().query<{ key: string; element_id: string; process_definition_key: string }>(
    `SELECT key::text, element_id, process_definition_key::text FROM engine_element_instance
      WHERE process_instance_key = $1 AND state = 'ACTIVE' AND element_type <> 'PROCESS' ORDER BY key`,
    [processInstanceKey],
  );
  return rows;
}

describe('ModifyProcessInstance (concepts/process-instance-modification)', () => {
  it('activates an element (creating its sub-process, with variables on it) and terminates another; an empty scope ends', async () => {
    const id = uniqueId('modify');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />${serviceTask('collect', `${id}-collect`)}
         <bpmn:subProcess id="review"><bpmn:startEvent id="r0" />${serviceTask('check', `${id}-check`)}${serviceTask('sign', `${id}-sign`)}
           <bpmn:endEvent id="r9" />${chain(['r0', 'check', 'sign', 'r9'])}</bpmn:subProcess>
         <bpmn:endEvent id="end" />${chain(['start', 'collect', 'review', 'end'])}`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    const [collect] = await active(c.processInstanceKey);
    expect(collect!.element_id).toBe('collect');
    // Skip ahead: straight to signing in the review, the collection dropped.
    await zeebe().modifyProcessInstance({
      processInstanceKey: c.processInstanceKey,
      activateInstructions: [
        {
          elementId: 'sign',
          ancestorElementInstanceKey: '-1',
          variableInstructions: [{ scopeId: 'review', variables: { reason: '法规修订' } }],
        },
      ],
      terminateInstructions: [{ elementInstanceKey: collect!.key }],
    });
    expect((await active(c.processInstanceKey)).map((r) => r.element_id)).toEqual(['review', 'sign']);
    const job = await nextJob(`${id}-sign`);
    expect(job.variables.reason).toBe('法规修订');
    await zeebe().completeJob({ jobKey: job.key, variables: {} });
    await eventually(async () => (await instanceState(c.processInstanceKey)) === 'COMPLETED', 5000);
    const { rows } = await engineDb().query(
      `SELECT count(*)::int AS n FROM engine_element_instance WHERE process_instance_key = $1 AND element_id = 'check'`,
      [c.processInstanceKey],
    );
    expect(rows[0].n).toBe(0);
  });

  it('terminating the last active element terminates the instance; an unknown element is INVALID_ARGUMENT naming it', async () => {
    const id = uniqueId('modify-end');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />${serviceTask('t', `${id}-t`)}<bpmn:endEvent id="end" />${chain(['start', 't', 'end'])}`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    await expect(
      zeebe().modifyProcessInstance({
        processInstanceKey: c.processInstanceKey,
        activateInstructions: [{ elementId: 'ghost', ancestorElementInstanceKey: '-1', variableInstructions: [] }],
        terminateInstructions: [],
      }),
    ).rejects.toThrow(/INVALID_ARGUMENT[\s\S]*ghost/);
    const [t] = await active(c.processInstanceKey);
    await zeebe().modifyProcessInstance({
      processInstanceKey: c.processInstanceKey,
      activateInstructions: [],
      terminateInstructions: [{ elementInstanceKey: t!.key }],
    });
    expect(await instanceState(c.processInstanceKey)).toBe('TERMINATED');
    const { rows } = await engineDb().query(
      `SELECT count(*)::int AS n FROM engine_job WHERE process_instance_key = $1`,
      [c.processInstanceKey],
    );
    expect(rows[0].n).toBe(0);
  });
});

describe('MigrateProcessInstance (concepts/process-instance-migration)', () => {
  it('moves a running instance to the new version by the mapping: its job follows and the new version’s path is taken', async () => {
    const id = uniqueId('migrate');
    const v1 = bpmn(
      id,
      `<bpmn:startEvent id="start" />${serviceTask('verify', `${id}-verify`)}<bpmn:endEvent id="end" />${chain(['start', 'verify', 'end'])}`,
    );
    const v2 = bpmn(
      id,
      `<bpmn:startEvent id="start" />${serviceTask('verify2', `${id}-verify`)}${serviceTask('report', `${id}-report`)}
       <bpmn:endEvent id="end" />${chain(['start', 'verify2', 'report', 'end'])}`,
    );
    await deploy(`${id}.bpmn`, v1);
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { childId: 'c1' } });
    const d2 = await deploy(`${id}.bpmn`, v2);
    const target = (d2.deployments[0] as { process: { processDefinitionKey: string; version: number } }).process;
    expect(target.version).toBe(2);
    await expect(
      zeebe().migrateProcessInstance({
        processInstanceKey: c.processInstanceKey,
        migrationPlan: { targetProcessDefinitionKey: target.processDefinitionKey, mappingInstructions: [] },
      }),
    ).rejects.toThrow(/INVALID_ARGUMENT[\s\S]*verify/);
    await zeebe().migrateProcessInstance({
      processInstanceKey: c.processInstanceKey,
      migrationPlan: {
        targetProcessDefinitionKey: target.processDefinitionKey,
        mappingInstructions: [{ sourceElementId: 'verify', targetElementId: 'verify2' }],
      },
    });
    expect(await active(c.processInstanceKey)).toEqual([
      expect.objectContaining({ element_id: 'verify2', process_definition_key: target.processDefinitionKey }),
    ]);
    const job = await nextJob(`${id}-verify`);
    expect(job.elementId).toBe('verify2');
    expect(job.processDefinitionVersion).toBe(2);
    await zeebe().completeJob({ jobKey: job.key, variables: {} });
    await work(`${id}-report`);
    await eventually(async () => (await instanceState(c.processInstanceKey)) === 'COMPLETED', 5000);
    const { rows } = await engineDb().query(`SELECT version FROM engine_process_instance WHERE key = $1`, [
      c.processInstanceKey,
    ]);
    expect(rows[0].version).toBe(2);
  });

  it('refuses a mapping to an element of another type, naming both', async () => {
    const id = uniqueId('migrate-type');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />${serviceTask('t', `${id}-t`)}<bpmn:endEvent id="end" />${chain(['start', 't', 'end'])}`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    const d2 = await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" /><bpmn:userTask id="t"><bpmn:extensionElements><zeebe:userTask /></bpmn:extensionElements></bpmn:userTask>
         <bpmn:endEvent id="end" />${chain(['start', 't', 'end'])}`,
      ),
    );
    const target = (d2.deployments[0] as { process: { processDefinitionKey: string } }).process;
    await expect(
      zeebe().migrateProcessInstance({
        processInstanceKey: c.processInstanceKey,
        migrationPlan: {
          targetProcessDefinitionKey: target.processDefinitionKey,
          mappingInstructions: [{ sourceElementId: 't', targetElementId: 't' }],
        },
      }),
    ).rejects.toThrow(/SERVICE_TASK[\s\S]*USER_TASK/);
    expect((await active(c.processInstanceKey))[0]!.process_definition_key).not.toBe(target.processDefinitionKey);
  });
});
