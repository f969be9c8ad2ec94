/**
 * Faults 2 and 4, the job workers:
 * - a worker process is SIGKILLed while it handles a burst of jobs that issue numbered notices: the
 *   engine offers its locked jobs again after their timeout (60 s, workers/runtime.ts) and a new
 *   process does them once — no notice number or case action twice, none missing, no gap;
 * - a graceful close (SIGTERM → workers.close()) lets the jobs already running finish and reports them
 *   to the engine before the process goes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { z } from 'zod';
import { REPO_ROOT } from '../../infra/config.js';
import { startWorkers } from '../../workers/runtime.js';
import { defineWorker } from '../../workers/lib/define-worker.js';
import { type FaultSystem, startFaultSystem } from './environment.js';
import { driveEscalation, newObservations, reportDropout } from './flows.js';
import { apiClient, eventually, everyInstanceCompleted, pool, reportablePupils, sleep } from './helpers.js';

let sys: FaultSystem;
const children = new Set<ChildProcess>();
const say = (l: string) => process.stderr.write(`[worker-faults] ${l}\n`);

beforeAll(async () => {
  sys = await startFaultSystem({ workersInProcess: false });
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await sys?.stop();
});

/** Starts the workers in a child process; resolves once they poll. */
async function workerProcess(env: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'tests/faults/worker-process.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, KC_FAULT_APP_URL: sys.appUrl, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`worker process exited early (${code ?? signal})`)));
  });
  return child;
}

const serialOf = (number: string) => Number(/第(\d+)号$/.exec(number)![1]);
const N = 60;

describe('worker process SIGKILLed while handling jobs', () => {
  it('the locked jobs time out and are done once by the next process: no notice or action lost or doubled', async () => {
    const t0 = Date.now();
    const api = apiClient(sys.apiUrl);
    const obs = newObservations();
    // The first process takes 2 s over each notice, so when it dies it certainly holds notice jobs
    // mid-handling (however fast or loaded the machine); its successor runs at full speed.
    const first = await workerProcess({ KC_FAULT_SLOW_JOB: 'issue-case-document:2000' });

    // Sixty escalations up to the town's task (the workers open each case and send the school's report).
    const pupils = await reportablePupils(sys.prisma, N);
    const piks = await pool(pupils, 8, async (p) => (await reportDropout(obs, api, p))!);
    expect(obs.unexpected).toEqual([]);
    const town = new Map(pupils.map((p, i) => [piks[i]!, p]));

    // The caseworkers work all sixty at once (home visit, school, town): bursts of jobs — the last one,
    // issue-case-document, numbers the notice. The worker process dies after the first few notices,
    // with other jobs activated or half-done.
    const cases = () =>
      sys.prisma.caseDocument.count({
        where: { kind: 'CORRECTION_ORDER', case: { processInstanceKey: { in: piks } } },
      });
    let killedAt = -1;
    let tKill = 0;
    const killer = (async () => {
      while ((await cases()) < 3) await sleep(20);
      first.kill('SIGKILL');
      tKill = Date.now();
      killedAt = await cases();
      say(`SIGKILL worker process with ${killedAt} of ${N} notices issued`);
      // Its supervisor starts a new one (the flows need workers to go on).
      await workerProcess();
    })();
    await Promise.all([pool(piks, 12, async (pik) => driveEscalation(obs, api, town.get(pik)!, pik)), killer]);
    expect.soft(obs.unexpected).toEqual([]);
    expect.soft(obs.stuck).toEqual([]);
    expect(killedAt).toBeGreaterThanOrEqual(3);

    // Everything is done once the locked jobs' timeout (60 s) has passed and the new process took them.
    const all = await eventually(async () => ((await cases()) >= N ? true : undefined), `${N} notices`, 180_000);
    expect(all).toBe(true);
    say(`all notices issued ${((Date.now() - tKill) / 1000).toFixed(1)} s after the kill`);
    await sleep(2_000); // a duplicate, if any, would come now
    const found = await sys.prisma.dropoutCase.findMany({
      where: { processInstanceKey: { in: piks } },
      include: { actions: true, documents: true },
    });
    expect(found).toHaveLength(N);
    const orders = found.flatMap((c) => c.documents.filter((d) => d.kind === 'CORRECTION_ORDER'));
    expect.soft(orders, 'one correction order per case').toHaveLength(N);
    expect
      .soft(
        orders.map((d) => serialOf(d.number)).sort((a, b) => a - b),
        'notice numbers 1..N without gap',
      )
      .toEqual(Array.from({ length: N }, (_, i) => i + 1));
    const actionCounts = found.map((c) => c.actions.filter((a) => a.kind === 'DOCUMENT_CORRECTION_ORDER').length);
    expect
      .soft(
        actionCounts.filter((n) => n !== 1),
        'one DOCUMENT_CORRECTION_ORDER action per case',
      )
      .toEqual([]);

    // The engine's view: jobs of the dead process timed out, and every job was completed exactly once.
    const { rows } = await sys.records.pool.query<{ intent: string; n: string; keys: string }>(
      `SELECT intent, count(*) AS n, count(DISTINCT record_key) AS keys FROM zeebe_record
        WHERE value_type = 'JOB' AND value->>'type' = 'issue-case-document'
          AND value->>'processInstanceKey' = ANY($1)
        GROUP BY intent`,
      [piks],
    );
    const byIntent = Object.fromEntries(rows.map((r) => [r.intent, Number(r.keys)]));
    say(`issue-case-document jobs by intent: ${JSON.stringify(byIntent)}`);
    expect(byIntent.TIMED_OUT ?? 0, 'jobs the killed process held timed out').toBeGreaterThan(0);
    expect(byIntent.COMPLETED, 'each job completed once').toBe(N);
    expect(byIntent.CREATED).toBe(N);
    const { rows: incidents } = await sys.records.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM zeebe_record WHERE value_type = 'INCIDENT' AND value->>'processInstanceKey' = ANY($1)`,
      [piks],
    );
    expect(Number(incidents[0]!.n)).toBe(0);
    say(`scenario done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });
});

const DRAIN_BPMN = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="faults-drain-defs" targetNamespace="http://kongchuo.cn/faults">
  <bpmn:process id="faults-drain" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="slow"><bpmn:extensionElements><zeebe:taskDefinition type="faults-drain-slow" /></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="slow" />
    <bpmn:sequenceFlow id="f2" sourceRef="slow" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>`;

describe('graceful shutdown of the workers', () => {
  it('close() waits for the running handlers and reports their jobs to the engine', async () => {
    const t0 = Date.now();
    await sys.client.grpc.deployResource({ name: 'faults-drain.bpmn', process: Buffer.from(DRAIN_BPMN) });
    let started = 0;
    let finished = 0;
    // A worker of our runtime whose handler takes 3 s (the runtime, not the handler, is under test).
    const slow = defineWorker({
      type: 'faults-drain-slow',
      description: 'test: a slow job',
      input: z.object({ n: z.number() }),
      output: z.object({ handled: z.number() }),
      handler: async (input) => {
        started++;
        await sleep(3_000);
        finished++;
        return { handled: input.n };
      },
    });
    const workers = startWorkers(sys.client.grpc, sys.prisma, pino({ level: 'silent' }), [slow]);
    const keys: string[] = [];
    for (let n = 0; n < 5; n++) {
      const r = await sys.client.grpc.createProcessInstance({ bpmnProcessId: 'faults-drain', variables: { n } });
      keys.push(r.processInstanceKey);
    }
    await eventually(async () => (started === 5 ? true : undefined), 'five handlers running', 30_000);
    const tClose = Date.now();
    await workers.close();
    const closeMs = Date.now() - tClose;
    say(`close() returned after ${closeMs} ms with ${finished} of 5 handlers finished`);
    expect(finished, 'every running handler finished before close() returned').toBe(5);
    // The engine got the completions: each instance ends, none waits for a job timeout.
    await everyInstanceCompleted(sys.records, keys, 'the five instances to complete', 20_000);
    const { rows } = await sys.records.pool.query<{ n: string }>(
      `SELECT count(DISTINCT record_key) AS n FROM zeebe_record
        WHERE value_type = 'JOB' AND intent = 'TIMED_OUT' AND value->>'processInstanceKey' = ANY($1)`,
      [keys],
    );
    expect(Number(rows[0]!.n), 'no job left to time out').toBe(0);
    say(`scenario done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });
});
