/**
 * Engine-backed: an outside client. zbctl (npm `zbctl`, a build of Camunda's own Go CLI on grpc-go,
 * which sends tenant "" where the SDK sends "<default>") drives the real engine end to end: status,
 * deploy, create instance, activate jobs, complete job, publish message
 * (https://docs.camunda.io/docs/apis-tools/community-clients/cli-client/ — zbctl's commands).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { bpmn, chain, completedElements, eventually, flow, instanceState, serviceTask, uniqueId } from './helpers.js';

const execFileAsync = promisify(execFile);
const ZBCTL = fileURLToPath(new URL('../../node_modules/zbctl/bin/zbctl-cli.linux', import.meta.url));

async function zbctl(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(ZBCTL, [...args, '--insecure', '--address', inject('engineGrpcAddress')], {
    timeout: 20_000,
  });
  return stdout;
}

describe('zbctl against our engine', () => {
  it('status, deploy, create instance, activate and complete a job, publish a message: the instance ends', async () => {
    expect(await zbctl('status')).toMatch(/Partition 1 : Leader, Healthy/);

    const id = uniqueId('zbctl');
    const message = `${id}-back`;
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'zbctl-')), `${id}.bpmn`);
    fs.writeFileSync(
      file,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />${serviceTask('work', `${id}-work`)}
         <bpmn:intermediateCatchEvent id="wait"><bpmn:messageEventDefinition messageRef="m" /></bpmn:intermediateCatchEvent>
         <bpmn:endEvent id="end" />${chain(['start', 'work', 'wait'])}${flow('f_end', 'wait', 'end')}`,
        `<bpmn:message id="m" name="${message}"><bpmn:extensionElements><zeebe:subscription correlationKey="=childId" /></bpmn:extensionElements></bpmn:message>`,
      ),
    );
    // zbctl 8.x deploys with the deprecated DeployProcess RPC and prints its `processes`.
    const deployed = JSON.parse(await zbctl('deploy', file)) as {
      processes: { bpmnProcessId: string; version: number }[];
    };
    expect(deployed.processes[0]).toMatchObject({ bpmnProcessId: id, version: 1 });

    const created = JSON.parse(await zbctl('create', 'instance', id, '--variables', '{"childId":"c-42"}')) as {
      processInstanceKey: string | number;
    };
    const instanceKey = String(created.processInstanceKey);

    const activated = JSON.parse(
      await zbctl('activate', 'jobs', `${id}-work`, '--maxJobsToActivate', '1', '--requestTimeout', '5s'),
    ) as { jobs: { key: string | number; variables: string }[] };
    expect(activated.jobs).toHaveLength(1);
    expect(JSON.parse(activated.jobs[0]!.variables)).toEqual({ childId: 'c-42' });

    await zbctl('complete', 'job', String(activated.jobs[0]!.key), '--variables', '{"done":true}');
    await eventually(async () => (await completedElements(instanceKey)).includes('work'), 5000, 'job completed');

    await zbctl('publish', 'message', message, '--correlationKey', 'c-42');
    await eventually(async () => (await instanceState(instanceKey)) === 'COMPLETED', 5000, 'message correlated');
  });
});
