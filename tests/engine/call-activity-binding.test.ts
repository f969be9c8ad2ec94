/**
 * Engine-backed: which version a call activity calls — binding type latest, deployment and versionTag
 * (https://docs.camunda.io/docs/components/modeler/bpmn/call-activities/, "Defining the called process";
 * issue 17), through @camunda8/sdk against the real engine process.
 */
import { describe, expect, it } from 'vitest';
import { bpmn, chain, deploy, engineDb, eventually, uniqueId, zeebe } from './helpers.js';

/** A child process whose end event's id names its edition, so the version that ran can be told apart. */
const child = (id: string, edition: string, versionTag?: string) =>
  bpmn(id, `<bpmn:startEvent id="start" /><bpmn:endEvent id="${edition}" />${chain(['start', edition])}`).replace(
    `<bpmn:process id="${id}" isExecutable="true">`,
    `<bpmn:process id="${id}" isExecutable="true">${versionTag ? `<bpmn:extensionElements><zeebe:versionTag value="${versionTag}" /></bpmn:extensionElements>` : ''}`,
  );

const parent = (id: string, childId: string, binding: string) =>
  bpmn(
    id,
    `<bpmn:startEvent id="start" /><bpmn:callActivity id="call"><bpmn:extensionElements>
       <zeebe:calledElement processId="${childId}" ${binding} /></bpmn:extensionElements></bpmn:callActivity>
     <bpmn:endEvent id="end" />${chain(['start', 'call', 'end'])}`,
  );

/** The end event the called instance of `parentKey` completed at, once it ended. */
async function calledEdition(parentKey: string): Promise<string> {
  return eventually(
    async () => {
      const { rows } = await engineDb().query<{ element_id: string }>(
        `SELECT e.element_id FROM engine_element_instance e JOIN engine_process_instance p ON p.key = e.process_instance_key
        WHERE p.parent_process_instance_key = $1 AND e.element_type = 'END_EVENT' AND e.state = 'COMPLETED'`,
        [parentKey],
      );
      return rows[0]?.element_id;
    },
    5000,
    'the called instance to end',
  );
}

describe('call activity binding types (bpmn/call-activities)', () => {
  it('deployment: the version deployed with the caller, latest: the newest, versionTag: the newest with that tag', async () => {
    const id = uniqueId('bind');
    const childId = `${id}-child`;
    // One deployment: the callers and child edition A.
    await zeebe().deployResources([
      { name: `${childId}.bpmn`, process: Buffer.from(child(childId, 'editionA', '2026-statute')) },
      { name: `${id}-dep.bpmn`, process: Buffer.from(parent(`${id}-dep`, childId, 'bindingType="deployment"')) },
      { name: `${id}-latest.bpmn`, process: Buffer.from(parent(`${id}-latest`, childId, '')) },
      {
        name: `${id}-tag.bpmn`,
        process: Buffer.from(parent(`${id}-tag`, childId, 'bindingType="versionTag" versionTag="2026-statute"')),
      },
    ]);
    // Later: edition B (untagged) on its own.
    await deploy(`${childId}.bpmn`, child(childId, 'editionB'));
    const run = async (p: string) =>
      calledEdition((await zeebe().createProcessInstance({ bpmnProcessId: p, variables: {} })).processInstanceKey);
    expect(await run(`${id}-dep`)).toBe('editionA');
    expect(await run(`${id}-latest`)).toBe('editionB');
    expect(await run(`${id}-tag`)).toBe('editionA');
  });

  it('versionTag with no such tag deployed: a CALLED_ELEMENT_ERROR incident naming the tag', async () => {
    const id = uniqueId('bind-missing');
    await deploy(`${id}-child.bpmn`, child(`${id}-child`, 'only'));
    await deploy(`${id}.bpmn`, parent(id, `${id}-child`, 'bindingType="versionTag" versionTag="v9"'));
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    const { rows } = await engineDb().query(
      `SELECT error_type, error_message FROM engine_incident WHERE process_instance_key = $1 AND state = 'ACTIVE'`,
      [c.processInstanceKey],
    );
    expect(rows).toEqual([{ error_type: 'CALLED_ELEMENT_ERROR', error_message: expect.stringContaining("'v9'") }]);
  });
});
