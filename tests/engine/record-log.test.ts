/**
 * Engine-backed: what the record log (`zeebe_record`, engine/src/core/records.ts) keeps.
 *
 * Zeebe's record stream (docs.camunda.io, components/zeebe/technical-concepts/process-lifecycles: the commit
 * log of a process with a start event, a task and an end event, record by record) gives every element
 * ELEMENT_ACTIVATING, ELEMENT_ACTIVATED, ELEMENT_COMPLETING and ELEMENT_COMPLETED (or ELEMENT_TERMINATING and
 * ELEMENT_TERMINATED), and every sequence flow taken a SEQUENCE_FLOW_TAKEN. By default (ENGINE_RECORD_LOG=read)
 * the log keeps what its readers read — an element's ELEMENT_ACTIVATING and its ELEMENT_COMPLETED or
 * ELEMENT_TERMINATED, and every other value type — and ENGINE_RECORD_LOG=full keeps the whole stream: a second
 * engine process on the suite's database runs with it.
 */
import { describe, expect, it } from 'vitest';
import {
  bpmn,
  chain,
  completed,
  deploy,
  deployOneTask,
  engineDb,
  extraEngine,
  serviceTask,
  uniqueId,
  zeebe,
  type ZeebeClient,
} from './helpers.js';

/** start → work → end; one instance run to its end through `client`. */
async function runOne(client: ZeebeClient): Promise<{ id: string; key: string }> {
  const { id, type } = await deployOneTask('record-log');
  const { processInstanceKey } = await client.createProcessInstance({ bpmnProcessId: id, variables: { n: 1 } });
  const [job] = await client.activateJobs({
    type,
    worker: 'w',
    maxJobsToActivate: 1,
    timeout: 30_000,
    requestTimeout: 5_000,
  });
  expect(job, 'the service task has a job').toBeDefined();
  await client.completeJob({ jobKey: job!.key, variables: {} });
  await completed(processInstanceKey);
  return { id, key: processInstanceKey };
}

/** The instance's PROCESS_INSTANCE records in log order: `elementId intent`. */
async function lifecycle(key: string): Promise<string[]> {
  const { rows } = await engineDb().query<{ element: string; intent: string }>(
    `SELECT value->>'elementId' AS element, intent FROM zeebe_record
      WHERE value_type = 'PROCESS_INSTANCE' AND value->>'processInstanceKey' = $1 ORDER BY position`,
    [key],
  );
  return rows.map((r) => `${r.element} ${r.intent}`);
}

async function otherValueTypes(key: string): Promise<string[]> {
  const { rows } = await engineDb().query<{ t: string }>(
    `SELECT value_type || ' ' || intent AS t FROM zeebe_record
      WHERE value_type <> 'PROCESS_INSTANCE' AND value->>'processInstanceKey' = $1 ORDER BY position`,
    [key],
  );
  return rows.map((r) => r.t);
}

describe('the record log (docs: components/zeebe/technical-concepts/process-lifecycles)', () => {
  it('keeps by default each element’s ELEMENT_ACTIVATING and ELEMENT_COMPLETED, in order, and every job and variable record', async () => {
    const { id, key } = await runOne(zeebe());
    expect(await lifecycle(key)).toEqual([
      `${id} ELEMENT_ACTIVATING`,
      'start ELEMENT_ACTIVATING',
      'start ELEMENT_COMPLETED',
      'work ELEMENT_ACTIVATING',
      'work ELEMENT_COMPLETED',
      'end ELEMENT_ACTIVATING',
      'end ELEMENT_COMPLETED',
      `${id} ELEMENT_COMPLETED`,
    ]);
    expect(await otherValueTypes(key)).toEqual(
      expect.arrayContaining(['VARIABLE CREATED', 'JOB CREATED', 'JOB ACTIVATED', 'JOB COMPLETED']),
    );
  });

  it('keeps by default a cancelled instance’s ELEMENT_TERMINATED, without ELEMENT_TERMINATING', async () => {
    const id = uniqueId('record-log-cancel');
    await deploy(
      `${id}.bpmn`,
      bpmn(id, `<bpmn:startEvent id="start" />${serviceTask('work', `${id}-work`)}${chain(['start', 'work'])}`),
    );
    const { processInstanceKey } = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    await zeebe().cancelProcessInstance(processInstanceKey);
    const log = await lifecycle(processInstanceKey);
    expect(log.filter((l) => l.startsWith('work '))).toEqual(['work ELEMENT_ACTIVATING', 'work ELEMENT_TERMINATED']);
    expect(log.at(-1)).toBe(`${id} ELEMENT_TERMINATED`);
  });

  it('keeps with ENGINE_RECORD_LOG=full the whole lifecycle and every sequence flow taken', async () => {
    const full = await extraEngine('record-log-full', { env: { ENGINE_RECORD_LOG: 'full' } });
    const { id, key } = await runOne(full.client());
    const steps = (el: string) => [
      `${el} ELEMENT_ACTIVATING`,
      `${el} ELEMENT_ACTIVATED`,
      `${el} ELEMENT_COMPLETING`,
      `${el} ELEMENT_COMPLETED`,
    ];
    // The documented example's order: the process activated, then each element's four steps with the flow
    // taken between them (a flow's record carries the flow's id; chain() names them f_<from>_<to>).
    expect(await lifecycle(key)).toEqual([
      ...steps(id).slice(0, 2),
      ...steps('start'),
      'f_start_work SEQUENCE_FLOW_TAKEN',
      ...steps('work'),
      'f_work_end SEQUENCE_FLOW_TAKEN',
      ...steps('end'),
      ...steps(id).slice(2),
    ]);
    expect(await otherValueTypes(key)).toEqual(
      expect.arrayContaining(['VARIABLE CREATED', 'JOB CREATED', 'JOB ACTIVATED', 'JOB COMPLETED']),
    );
  });
});
