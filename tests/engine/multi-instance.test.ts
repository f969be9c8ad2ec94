/**
 * Engine-backed: sequential and parallel multi-instance with completion conditions, output collection and
 * output element, loopCounter and the numberOf… counters (issue 17, palette part 3) —
 * https://docs.camunda.io/docs/components/modeler/bpmn/multi-instance/ — through @camunda8/sdk against
 * the real engine process.
 */
import { describe, expect, it } from 'vitest';
import { bpmn, chain, deploy, engineDb, eventually, instanceState, nextJob, uniqueId, zeebe } from './helpers.js';

const miTask = (id: string, type: string, loop: string, sequential: boolean, completion?: string) =>
  `<bpmn:serviceTask id="${id}"><bpmn:extensionElements><zeebe:taskDefinition type="${type}" /></bpmn:extensionElements>
     <bpmn:multiInstanceLoopCharacteristics isSequential="${sequential}"><bpmn:extensionElements>${loop}</bpmn:extensionElements>
     ${completion ? `<bpmn:completionCondition xsi:type="bpmn:tFormalExpression">${completion}</bpmn:completionCondition>` : ''}
     </bpmn:multiInstanceLoopCharacteristics></bpmn:serviceTask>`;

async function processVariable(key: string, name: string) {
  const { rows } = await engineDb().query(`SELECT value FROM engine_variable WHERE scope_key = $1 AND name = $2`, [
    key,
    name,
  ]);
  return rows[0]?.value as unknown;
}

async function innerStates(key: string, elementId: string) {
  const { rows } = await engineDb().query<{ state: string }>(
    `SELECT state FROM engine_element_instance WHERE process_instance_key = $1 AND element_id = $2
      AND element_type <> 'MULTI_INSTANCE_BODY' ORDER BY key`,
    [key, elementId],
  );
  return rows.map((r) => r.state);
}

describe('multi-instance (bpmn/multi-instance)', () => {
  it('sequential: one inner instance at a time in collection order, each with its loopCounter and element; output collection in order', async () => {
    const id = uniqueId('mi-seq');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />
         ${miTask('visit', `${id}-visit`, '<zeebe:loopCharacteristics inputCollection="=towns" inputElement="town" outputCollection="reports" outputElement="=report" />', true)}
         <bpmn:endEvent id="end" />${chain(['start', 'visit', 'end'])}`,
      ),
    );
    const c = await zeebe().createProcessInstance({
      bpmnProcessId: id,
      variables: { towns: ['东关镇', '西河乡', '南山镇'] },
    });
    const seen: [unknown, unknown][] = [];
    for (let i = 0; i < 3; i++) {
      const job = await nextJob(`${id}-visit`);
      // Only one inner instance is active at a time.
      expect(await innerStates(c.processInstanceKey, 'visit')).toEqual([...Array(i).fill('COMPLETED'), 'ACTIVE']);
      seen.push([job.variables.loopCounter, job.variables.town]);
      await zeebe().completeJob({ jobKey: job.key, variables: { report: `r${i + 1}` } });
    }
    expect(seen).toEqual([
      [1, '东关镇'],
      [2, '西河乡'],
      [3, '南山镇'],
    ]);
    await eventually(async () => (await instanceState(c.processInstanceKey)) === 'COMPLETED', 5000);
    expect(await processVariable(c.processInstanceKey, 'reports')).toEqual(['r1', 'r2', 'r3']);
  });

  it('sequential with a completion condition on the inner instance’s variables: stops after the element that meets it', async () => {
    const id = uniqueId('mi-seq-cc');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />
         ${miTask('ask', `${id}-ask`, '<zeebe:loopCharacteristics inputCollection="=schools" inputElement="school" outputCollection="answers" outputElement="=school" />', true, '=school = &quot;二中&quot;')}
         <bpmn:endEvent id="end" />${chain(['start', 'ask', 'end'])}`,
      ),
    );
    const c = await zeebe().createProcessInstance({
      bpmnProcessId: id,
      variables: { schools: ['一中', '二中', '三中', '四中'] },
    });
    for (let i = 0; i < 2; i++) {
      const job = await nextJob(`${id}-ask`);
      await zeebe().completeJob({ jobKey: job.key, variables: {} });
    }
    await eventually(async () => (await instanceState(c.processInstanceKey)) === 'COMPLETED', 5000);
    expect(await innerStates(c.processInstanceKey, 'ask')).toEqual(['COMPLETED', 'COMPLETED']);
    expect(await processVariable(c.processInstanceKey, 'answers')).toEqual(['一中', '二中', null, null]);
  });

  it('parallel with a completion condition on numberOfCompletedInstances / numberOfInstances: the rest are terminated', async () => {
    const id = uniqueId('mi-par-cc');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />
         ${miTask('sign', `${id}-sign`, '<zeebe:loopCharacteristics inputCollection="=members" inputElement="member" />', false, '=numberOfCompletedInstances / numberOfInstances &gt;= 0.5 and numberOfActiveInstances = 2')}
         <bpmn:endEvent id="end" />${chain(['start', 'sign', 'end'])}`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { members: ['a', 'b', 'c', 'd'] } });
    const jobs = await zeebe().activateJobs({
      type: `${id}-sign`,
      worker: 'w',
      maxJobsToActivate: 4,
      timeout: 30_000,
      requestTimeout: 5_000,
    });
    expect(jobs).toHaveLength(4);
    expect(jobs.map((j) => j.variables.loopCounter).sort()).toEqual([1, 2, 3, 4]);
    await zeebe().completeJob({ jobKey: jobs[0]!.key, variables: {} });
    expect(await instanceState(c.processInstanceKey)).toBe('ACTIVE');
    await zeebe().completeJob({ jobKey: jobs[1]!.key, variables: {} });
    await eventually(async () => (await instanceState(c.processInstanceKey)) === 'COMPLETED', 5000);
    expect((await innerStates(c.processInstanceKey, 'sign')).sort()).toEqual([
      'COMPLETED',
      'COMPLETED',
      'TERMINATED',
      'TERMINATED',
    ]);
  });
});
