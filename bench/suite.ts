/** The benchmark suite: starts the system once, runs the chosen sections, renders the table. */
import { type ApiSection, apiSection } from './api.js';
import { type FlowsSection, flowsSection } from './flows.js';
import { type EngineSection, engineSection } from './engine.js';
import { type ScalingSection, scalingSection } from './scaling.js';
import { sleep } from './stats.js';
import { type VerificationSection, verificationSection } from './verification.js';
import { machine, sampleProcesses, startSystem } from './system.js';
import { renderTable } from './table.js';

export interface BenchOptions {
  quick: boolean;
  sections: Set<string>;
}

/** Sizes of the full run and of the --quick smoke run. */
export function sizes(quick: boolean) {
  return quick
    ? {
        pupils: 8_000,
        engine: {
          rampConcurrency: [8, 64] as [number, number],
          rampSeconds: 2,
          runs: 2,
          runSeconds: 3,
          latencySeconds: 5,
          pgbench: { scale: 2, clients: 4, seconds: 5, runs: 1 },
        },
        scaling: {
          rampConcurrency: [8, 128] as [number, number],
          rampSeconds: 2,
          runs: 2,
          runSeconds: 3,
          workers: ['streaming'] as ('streaming' | 'polling')[],
          pgbench: { scale: 2, clients: 4, seconds: 5, runs: 1 },
        },
        handoverClasses: 10,
        escalationCases: 300,
        verification: { children: 100_000, importRows: 20_000, runs: 2 },
        api: { openTasks: 10_000, instances: 10_000, users: 50, seconds: 5, runs: 2 },
      }
    : {
        pupils: 110_000,
        engine: {
          rampConcurrency: [4, 512] as [number, number],
          rampSeconds: 4,
          runs: 3,
          runSeconds: 8,
          latencySeconds: 20,
          pgbench: { scale: 10, clients: 8, seconds: 20, runs: 3 },
        },
        scaling: {
          rampConcurrency: [4, 512] as [number, number],
          rampSeconds: 4,
          runs: 3,
          runSeconds: 8,
          workers: ['streaming', 'polling'] as ('streaming' | 'polling')[],
          pgbench: { scale: 10, clients: 8, seconds: 20, runs: 3 },
        },
        handoverClasses: 300,
        escalationCases: 5_000,
        verification: { children: 1_000_000, importRows: 200_000, runs: 3 },
        api: { openTasks: 100_000, instances: 100_000, users: 50, seconds: 10, runs: 3 },
      };
}

export interface BenchResults {
  json: Record<string, unknown>;
  table: string;
}

export async function runBench(opts: BenchOptions, say: (l: string) => void): Promise<BenchResults> {
  const size = sizes(opts.quick);
  const t0 = Date.now();
  const json: Record<string, unknown> = {
    startedAt: new Date().toISOString(),
    mode: opts.quick ? 'quick' : 'full',
    machine: machine(),
    sizes: size,
  };
  say(`• starting the system (demo county of ${size.pupils} pupils)…`);
  const sut = await startSystem(size.pupils, say);
  json.system = { startSeconds: sut.startSeconds };
  try {
    await sleep(3000);
    const rest = sampleProcesses(sut).memMiB;
    json.memoryAtRest = rest;
    say(`  at rest: engine ${rest.engine.toFixed(0)} MiB, API+workers ${rest.node.toFixed(0)} MiB`);

    if (opts.sections.has('engine')) {
      say('• section 1: engine limit');
      json.engine = (await engineSection(sut, size.engine, say)) satisfies EngineSection;
    }
    if (opts.sections.has('scaling')) {
      say('• section 1b: three engine processes vs one, and the engine profiled under load');
      json.scaling = (await scalingSection(sut, size.scaling, say)) satisfies ScalingSection;
    }
    if (opts.sections.has('flows')) {
      say('• section 2: flows (handover, escalation)');
      const flows = await flowsSection(
        sut,
        { handoverClasses: size.handoverClasses, escalationCases: size.escalationCases },
        say,
      );
      json.flows = flows satisfies FlowsSection;
      json.memory = { atRest: json.memoryAtRest, underFlowLoad: flows.memoryPeakMiB };
    }
    if (opts.sections.has('verification')) {
      say('• section 3: verification (import vs COPY, comparison vs anti-join)');
      json.verification = (await verificationSection(sut, size.verification, say)) satisfies VerificationSection;
    }
    if (opts.sections.has('api')) {
      say('• section 4: API under load');
      json.api = (await apiSection(sut, size.api, say)) satisfies ApiSection;
    }
  } finally {
    say('• stopping the system…');
    await sut.stop();
  }
  json.totalSeconds = Math.round((Date.now() - t0) / 1000);
  return { json, table: renderTable(json) };
}
