/**
 * A restart must not undo what policy staff deployed (issue 18). Every start deploys `processes/` again,
 * and the engine makes a new version whenever a resource differs from the latest one (docs.camunda.io,
 * apis-tools/zeebe-api/gateway-service#deployresource-rpc: "a new version is created only if the
 * resource differs from the latest deployed version") — so a repository file older than a version
 * deployed from the console used to come back as the newest version at the next start. The start now
 * leaves out every file whose exact content the engine already had (infra/camunda/deployed.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createEngineClient } from '../../infra/camunda/client.js';
import { deployedChecksums } from '../../infra/camunda/deployed.js';
import { REPO_ROOT } from '../../infra/config.js';
import { testConfig } from './test-env.js';

const engine = createEngineClient(testConfig());
const db = new pg.Pool({ connectionString: inject('engineDatabaseUrl') });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kc-redeploy-'));
const FILE = 'redeploy-probe.bpmn';
const PROCESS_ID = 'test-redeploy-probe';

afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await Promise.all([engine.close(), db.end()]);
});

/** The deadline probe under a process id of its own, named `name`. */
function probe(name: string): string {
  return fs
    .readFileSync(path.join(REPO_ROOT, 'tests/fixtures/deadline-probe.bpmn'), 'utf8')
    .replaceAll('test-deadline-probe', PROCESS_ID)
    .replace('name="测试：期限升级"', `name="${name}"`);
}

async function latest(): Promise<{ version: number; resource: string }> {
  const { rows } = await db.query<{ version: number; resource: string }>(
    `SELECT version, resource FROM engine_process_definition WHERE bpmn_process_id = $1 ORDER BY version DESC LIMIT 1`,
    [PROCESS_ID],
  );
  return rows[0]!;
}

const restart = async () => engine.deployDirectory(dir, await deployedChecksums(inject('engineDatabaseUrl')));

describe('deploying processes/ at start (engine-backed)', () => {
  it('leaves out files the engine already had, so a version policy staff deployed since stays the newest', async () => {
    const shipped = probe('出厂版本');
    fs.writeFileSync(path.join(dir, FILE), shipped);
    const first = await restart();
    expect(first.processes).toEqual([{ bpmnProcessId: PROCESS_ID, version: 1 }]);

    // Policy staff deploy a changed flow from the console: version 2.
    const changed = probe('政策修订版');
    await engine.grpc.deployResource({ name: FILE, process: Buffer.from(changed) });
    expect(await latest()).toEqual({ version: 2, resource: changed });

    // The next start finds the repository's file unchanged: the engine had it (version 1); left out.
    const second = await restart();
    expect(second.unchanged).toEqual([FILE]);
    expect(second.processes).toEqual([]);
    expect(await latest(), 'the policy version is still the newest').toEqual({ version: 2, resource: changed });

    // Without the list (the behaviour before), the same start would have made the old file the newest.
    const blind = await engine.deployDirectory(dir);
    expect(blind.processes).toEqual([{ bpmnProcessId: PROCESS_ID, version: 3 }]);
    expect((await latest()).resource).toBe(shipped);

    // When the repository changes the file, the start deploys it.
    const revised = probe('新法规版本');
    fs.writeFileSync(path.join(dir, FILE), revised);
    const third = await restart();
    expect(third.processes).toEqual([{ bpmnProcessId: PROCESS_ID, version: 4 }]);
    expect(await latest()).toEqual({ version: 4, resource: revised });
  });
});
