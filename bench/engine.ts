/**
 * Section 1 — the engine's limit on this machine and our worker plumbing against it.
 *
 * Closed loop: C virtual clients each create an instance and wait for its end
 * (createProcessInstanceWithResult), so every variant is measured the same way — instances that ran
 * start to end per second. Back-pressure is the share of creations the broker refused
 * (RESOURCE_EXHAUSTED); the starter's client does not retry, so every refusal is counted. The load
 * is raised step by step (the ramp doubles as warm-up and is not reported as a run) and the rate is
 * taken at the best step whose back-pressure stays ≤ 1 %.
 */
import { Camunda8 } from '@camunda8/sdk';
import type { ZeebeGrpcClient } from '@camunda8/sdk/dist/zeebe/index.js';
import { pino } from 'pino';
import { z } from 'zod';
import { createEngineClient } from '../infra/camunda/client.js';
import { engineAddresses } from '../infra/config.js';
import { createPrisma } from '../infra/db/prisma.js';
import { startWorkers } from '../workers/runtime.js';
import type { WorkerDefinition } from '../workers/lib/define-worker.js';
import { round, sleep, spread, type Spread } from './stats.js';
import { cpuShare, sampleProcesses, type SystemUnderTest } from './system.js';

const EMPTY = 'bench-empty';
const ONE_TASK = 'bench-one-task';

function bpmn(id: string, withTask: boolean): string {
  const task = withTask
    ? `<bpmn:serviceTask id="work" name="no-op">
        <bpmn:extensionElements><zeebe:taskDefinition type="=jobType" /></bpmn:extensionElements>
        <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      </bpmn:serviceTask>
      <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />`
    : '';
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d_${id}" targetNamespace="http://kongchuo.cn/bench">
  <bpmn:process id="${id}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="${withTask ? 'work' : 'end'}" />
    ${task}
    <bpmn:endEvent id="end"><bpmn:incoming>${withTask ? 'f2' : 'f1'}</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>`;
}

/** Closing a job stream makes the SDK print the client-side cancellation as an error: keep it off the output. */
async function quietly(fn: () => void) {
  const original = console.error;
  console.error = (...args: unknown[]) => {
    if (!String((args[0] as { details?: string })?.details ?? args[0]).includes('Cancelled on client'))
      original(...args);
  };
  fn();
  await sleep(1000);
  console.error = original;
}

export interface StepResult {
  concurrency: number;
  seconds: number;
  completed: number;
  rejected: number;
  errors: number;
  rate: number;
  backPressure: number;
}

/** C clients in a closed loop for `seconds`. */
async function closedLoop(
  grpc: ZeebeGrpcClient,
  processId: string,
  variables: Record<string, unknown>,
  concurrency: number,
  seconds: number,
): Promise<StepResult> {
  let completed = 0;
  let rejected = 0;
  let errors = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const lane = async () => {
    while (performance.now() < end) {
      try {
        await grpc.createProcessInstanceWithResult({
          bpmnProcessId: processId,
          variables: variables as never,
          requestTimeout: 60_000,
        });
        if (performance.now() <= end) completed++;
      } catch (err) {
        const e = err as { code?: number; message?: string };
        if (e.code === 8 || /RESOURCE_EXHAUSTED/.test(e.message ?? '')) rejected++;
        else errors++;
        await sleep(5);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const elapsed = (performance.now() - t0) / 1000;
  const attempts = completed + rejected;
  return {
    concurrency,
    seconds: round(elapsed, 2),
    completed,
    rejected,
    errors,
    rate: round(completed / seconds, 1),
    backPressure: attempts ? round(rejected / attempts, 4) : 0,
  };
}

export interface ScenarioResult {
  name: string;
  description: string;
  ramp: StepResult[];
  concurrency: number;
  rate: Spread;
  backPressure: number;
  cpu: { engine: number; node: number; postgres: number; bench: number };
}

export interface EngineSection {
  scenarios: ScenarioResult[];
  ceilingEmpty: number;
  ceilingOneTask: number;
  ceilingOneTaskBy: string;
  ours: number;
  ratioToCeiling: number;
  ratioToBarePolling: number;
  target: { ratio: number; met: boolean };
}

export interface EngineOptions {
  /** First and largest number of concurrent clients of the ramp. */
  rampConcurrency: [number, number];
  rampSeconds: number;
  runs: number;
  runSeconds: number;
}

export async function engineSection(
  sut: SystemUnderTest,
  opts: EngineOptions,
  say: (l: string) => void,
): Promise<EngineSection> {
  const addr = engineAddresses(sut.cfg);
  // The starter: no client-side retries, so the broker's every refusal is seen and counted.
  const starter = new Camunda8({
    ZEEBE_GRPC_ADDRESS: `grpc://${addr.grpc}`,
    CAMUNDA_AUTH_STRATEGY: 'NONE',
    CAMUNDA_LOG_LEVEL: 'error',
    zeebeGrpcSettings: { ZEEBE_CLIENT_LOG_LEVEL: 'NONE', ZEEBE_GRPC_CLIENT_RETRY: false },
  }).getZeebeGrpcApiClient();
  // Bare workers get a client of their own, configured like the starter.
  const bare = new Camunda8({
    ZEEBE_GRPC_ADDRESS: `grpc://${addr.grpc}`,
    CAMUNDA_AUTH_STRATEGY: 'NONE',
    CAMUNDA_LOG_LEVEL: 'error',
    zeebeGrpcSettings: { ZEEBE_CLIENT_LOG_LEVEL: 'NONE' },
  }).getZeebeGrpcApiClient();
  // Our plumbing: the project's own engine client and workers/runtime.ts, with one no-op worker.
  const ours = createEngineClient(sut.cfg);
  const prisma = createPrisma(sut.appUrl);
  const silent = pino({ level: 'silent' });

  await starter.deployResources([
    { name: `${EMPTY}.bpmn`, process: Buffer.from(bpmn(EMPTY, false)) },
    { name: `${ONE_TASK}.bpmn`, process: Buffer.from(bpmn(ONE_TASK, true)) },
  ]);

  const scenario = async (
    name: string,
    description: string,
    processId: string,
    jobType: string | undefined,
    start: () => Promise<() => Promise<void> | void>,
  ): Promise<ScenarioResult> => {
    const stop = await start();
    const vars = jobType ? { jobType } : {};
    try {
      say(`  ${name}: ramp from ${opts.rampConcurrency[0]} clients, doubling, ${opts.rampSeconds} s each`);
      // Double the clients until the broker pushes back (> 1 % refused) or the rate stops growing.
      const ramp: StepResult[] = [];
      let flat = 0;
      for (let c = opts.rampConcurrency[0]!; c <= opts.rampConcurrency[1]!; c *= 2) {
        const step = await closedLoop(starter, processId, vars, c, opts.rampSeconds);
        const best = Math.max(0, ...ramp.map((s) => s.rate));
        ramp.push(step);
        say(`    ${c} clients: ${step.rate}/s, back-pressure ${(step.backPressure * 100).toFixed(2)} %`);
        if (step.backPressure > 0.01) break;
        flat = step.rate < best * 1.05 ? flat + 1 : 0;
        if (flat >= 3) break;
      }
      const ok = ramp.filter((s) => s.backPressure <= 0.01 && s.errors === 0);
      let concurrency = (ok.length ? ok : ramp).reduce((a, b) => (b.rate > a.rate ? b : a)).concurrency;
      let runs: StepResult[] = [];
      const before = sampleProcesses(sut);
      const t0 = performance.now();
      // The measured runs must stay at ~0 back-pressure too: if the broker pushes back, halve the clients.
      for (;;) {
        runs = [];
        for (let i = 0; i < opts.runs; i++) {
          runs.push(await closedLoop(starter, processId, vars, concurrency, opts.runSeconds));
        }
        const refused =
          runs.reduce((s, r) => s + r.rejected, 0) / runs.reduce((s, r) => s + r.rejected + r.completed, 0);
        if (refused <= 0.01 || concurrency <= 4) break;
        say(`    ${concurrency} clients: back-pressure ${(refused * 100).toFixed(1)} % in the runs, halving`);
        concurrency /= 2;
      }
      const cpu = cpuShare(before, sampleProcesses(sut), (performance.now() - t0) / 1000);
      const best = { concurrency };
      const rate = spread(runs.map((r) => r.rate));
      say(`    → ${best.concurrency} clients: median ${rate.median}/s (min ${rate.min}, max ${rate.max})`);
      const rejected = runs.reduce((s, r) => s + r.rejected, 0);
      const attempts = runs.reduce((s, r) => s + r.rejected + r.completed, 0);
      return {
        name,
        description,
        ramp,
        concurrency: best.concurrency,
        rate,
        backPressure: attempts ? round(rejected / attempts, 4) : 0,
        cpu: {
          engine: round(cpu.engine),
          node: round(cpu.node),
          postgres: round(cpu.postgres),
          bench: round(cpu.bench),
        },
      };
    } finally {
      await stop();
      await sleep(500);
    }
  };

  const scenarios: ScenarioResult[] = [];
  try {
    // Warm-up, not reported: the JIT of broker, gateway and clients, the exporter's connection.
    say(`  warm-up: ${opts.rampSeconds * 2} s of empty instances`);
    await closedLoop(starter, EMPTY, {}, 16, opts.rampSeconds * 2);
    scenarios.push(await scenario('empty', 'start → end, no job', EMPTY, undefined, async () => () => {}));
    scenarios.push(
      await scenario(
        'bare-polling',
        'one service task, SDK polling worker, no-op',
        ONE_TASK,
        'bench-bare-poll',
        async () => {
          const w = bare.createWorker({
            taskType: 'bench-bare-poll',
            maxJobsToActivate: 32,
            timeout: 30_000,
            loglevel: 'NONE',
            taskHandler: (job) => job.complete(),
          });
          return () => w.close(5000).then(() => undefined);
        },
      ),
    );
    scenarios.push(
      await scenario(
        'bare-streaming',
        'one service task, SDK job streaming, no-op',
        ONE_TASK,
        'bench-bare-stream',
        async () => {
          const w = await bare.streamJobs({
            type: 'bench-bare-stream',
            worker: 'bench',
            timeout: 30_000,
            pollInterval: 30_000,
            tenantIds: [],
            taskHandler: (job) => job.complete(),
          });
          return () => quietly(() => w.close());
        },
      ),
    );
    const noop: WorkerDefinition = {
      type: 'bench-ours',
      description: 'no-op (benchmark)',
      input: z.object({}).passthrough(),
      output: z.object({}),
      handler: async () => ({}),
    };
    scenarios.push(
      await scenario(
        'ours',
        'one service task, workers/runtime.ts (polling, 16 in flight, zod, instance lock), no-op handler',
        ONE_TASK,
        'bench-ours',
        async () => {
          const w = startWorkers(ours.grpc, prisma, silent, [noop]);
          return () => w.close();
        },
      ),
    );
  } finally {
    await Promise.allSettled([starter.close(), bare.close(), ours.close(), prisma.$disconnect()]);
  }
  const by = (n: string) => scenarios.find((s) => s.name === n)!.rate.median;
  const ceilingOneTask = Math.max(by('bare-polling'), by('bare-streaming'));
  const ratio = by('ours') / ceilingOneTask;
  return {
    scenarios,
    ceilingEmpty: by('empty'),
    ceilingOneTask,
    ceilingOneTaskBy: by('bare-polling') >= by('bare-streaming') ? 'bare-polling' : 'bare-streaming',
    ours: by('ours'),
    ratioToCeiling: round(ratio, 3),
    ratioToBarePolling: round(by('ours') / by('bare-polling'), 3),
    target: { ratio: 0.8, met: ratio >= 0.8 },
  };
}
