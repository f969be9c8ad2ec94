/**
 * Section 1b — three engine processes against one on the same PostgreSQL (issue 17: ≥ 1.6× the
 * instances/s), and where one engine's time goes under load (a CPU profile as a flame graph, and the
 * engine's PostgreSQL statements per instance).
 *
 * One engine: the system's own (`npm start`'s, engine 1). Three: engine 1 and two more processes of the
 * same bundle (engine/dist/main.mjs, built from the work tree by infra/engine/launch.ts) on the same engine
 * database, each on its own ports (the bench slot's + 3 and + 6). The closed loop of section 1
 * (createProcessInstanceWithResult, clients doubled until > 1 % back-pressure or no growth, then the
 * measured runs) with the clients spread round-robin across the engines' gateways and, for the one-task
 * process, one bare SDK worker (streaming or polling) per gateway — and three on the one engine's gateway when
 * it runs alone, so both sides have as many workers. Same run: pgbench on the same server.
 *
 * The profile: the two extra engines run with the inspector on a port of their own (NODE_OPTIONS
 * --inspect) and bench/pg-count.mjs loaded (NODE_OPTIONS --import; it wraps the pg driver's
 * Client#query and stays dormant until asked). After the three-engine runs, engine 3 stops and engine 2
 * alone serves the one-task (and the empty) process at the one-engine ceiling's clients for the measured
 * runs, with the V8 sampling profiler on (Profiler.start/stop over the inspector) and its statements
 * counted; the profile becomes bench/flame/engine-<scenario>.svg (bench/flame.ts) and top-25 tables.
 * pg_stat_statements is not loaded in the embedded PostgreSQL, so the statements are counted in the
 * driver; the server side is pg_stat_database / pg_stat_user_tables (commits, rows written and index or
 * sequential scans per table) read before and after with the stats settled.
 */
import { Camunda8 } from '@camunda8/sdk';
import type { ZeebeGrpcClient } from '@camunda8/sdk/dist/zeebe/index.js';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ENGINE_BUNDLE, type EngineProcess, startEngineProcess } from '../infra/engine/launch.js';
import { assertPortsFree } from '../infra/ports.js';
import {
  bpmn,
  closedLoop,
  EMPTY,
  ONE_TASK,
  perInstance,
  quietly,
  rampUp,
  STATS_SETTLE_MS,
  type StepResult,
  xactCounters,
  type XactPerInstance,
} from './engine.js';
import { type CpuProfile, flameSvg, type FlameSummary, summarise, topTables } from './flame.js';
import { type PgbenchOptions, type PgbenchResult, pgbenchReference } from './pgbench.js';
import { round, sleep, spread, type Spread } from './stats.js';
import { readStat, sampleProcesses, type SystemUnderTest } from './system.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const FLAME_DIR = path.join(HERE, 'flame');
const PG_COUNT = path.join(HERE, 'pg-count.mjs');
/** Engine i's ports: the slot's own + PORT_STEP·i (slots are 10 apart); its inspector one above its management port. */
const PORT_STEP = 3;
/** The three-vs-one target of issue 17. */
const TARGET_RATIO = 1.6;

export interface ScalingOptions {
  rampConcurrency: [number, number];
  rampSeconds: number;
  runs: number;
  runSeconds: number;
  /** One-task worker kinds measured (one bare SDK worker per gateway). */
  workers: ('streaming' | 'polling')[];
  pgbench: PgbenchOptions;
}

export interface ScalingRun {
  scenario: string;
  engines: number;
  ramp: StepResult[];
  concurrency: number;
  rate: Spread;
  backPressure: number;
  /** Share of one core per engine process (engine 1 first), PostgreSQL (all backends), the load generator. */
  cpu: { engines: number[]; postgres: number; bench: number };
  /** CPU milliseconds per instance: all engines together, PostgreSQL. */
  cpuMsPerInstance: { engines: number; postgres: number };
  load1: number;
  transactions: XactPerInstance;
}

export interface StatementRow {
  sql: string;
  perInstance: number;
  /** Mean milliseconds from the call to the answer, as the engine saw it (includes waiting for a CPU). */
  meanMs: number;
}

export interface TableRow {
  table: string;
  insertsPerInstance: number;
  updatesPerInstance: number;
  deletesPerInstance: number;
  indexScansPerInstance: number;
  seqScansPerInstance: number;
}

export interface ProfiledRun {
  scenario: string;
  concurrency: number;
  rate: Spread;
  /** The same scenario's median on one engine without the profiler (engine 1), for the overhead. */
  unprofiledMedian: number;
  instances: number;
  cpu: { engine: number; postgres: number };
  cpuMsPerInstance: { engine: number; postgres: number };
  load1: number;
  svg: string;
  cpuprofile: string;
  flame: FlameSummary;
  statements: {
    /** Driver calls (round trips) and the statements in them, per instance. */
    roundTripsPerInstance: number;
    perInstance: number;
    byKind: { kind: string; perInstance: number }[];
    top: StatementRow[];
  };
  /** Server side, per instance (pg_stat_database and pg_stat_user_tables of the engine database). */
  server: {
    commits: number;
    tuples: { returned: number; fetched: number; inserted: number; updated: number; deleted: number };
    tables: TableRow[];
  };
}

export interface ScalingSection {
  one: ScalingRun[];
  three: ScalingRun[];
  ratios: { scenario: string; median: number; min: number; max: number; met: boolean }[];
  target: number;
  /** Bare SDK workers on each side of a one-task comparison (absent in runs before both sides had three). */
  workersPerSide?: number;
  profiles: ProfiledRun[];
  pgStatStatements: string;
  engines: { name: string; pid: number; grpcPort: number; bundleSha256: string }[];
  sameBundle: boolean;
  pgbench: PgbenchResult;
}

const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex').slice(0, 16);

/** A minimal Chrome DevTools Protocol client over the inspector's WebSocket (Node's built-in WebSocket). */
async function inspector(port: number) {
  const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  const ws = new WebSocket(list[0]!.webSocketDebuggerUrl);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', () => reject(new Error(`inspector on port ${port}: WebSocket failed`)), {
      once: true,
    });
  });
  let next = 0;
  const pending = new Map<number, (m: { result?: unknown; error?: { message: string } }) => void>();
  ws.addEventListener('message', (ev) => {
    const m = JSON.parse(String(ev.data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (m.id !== undefined) pending.get(m.id)?.(m);
  });
  const send = <T>(method: string, params: Record<string, unknown> = {}) =>
    new Promise<T>((resolve, reject) => {
      const id = ++next;
      pending.set(id, (m) => {
        pending.delete(id);
        if (m.error) reject(new Error(`${method}: ${m.error.message}`));
        else resolve(m.result as T);
      });
      ws.send(JSON.stringify({ id, method, params }));
    });
  const evaluate = async <T>(expression: string) => {
    const r = await send<{ result: { value: T }; exceptionDetails?: { text: string } }>('Runtime.evaluate', {
      expression,
      returnByValue: true,
    });
    if (r.exceptionDetails) throw new Error(`${expression}: ${r.exceptionDetails.text}`);
    return r.result.value;
  };
  return { send, evaluate, close: () => ws.close() };
}

interface Engine {
  name: string;
  pid: number;
  grpcPort: number;
  inspectorPort?: number;
  bundleSha256: string;
  bundleText?: string;
  proc?: EngineProcess;
}

async function startExtraEngine(sut: SystemUnderTest, i: number, say: (l: string) => void): Promise<Engine> {
  const d = PORT_STEP * i;
  const ports = {
    ENGINE_REST_PORT: sut.cfg.ENGINE_REST_PORT + d,
    ENGINE_GRPC_PORT: sut.cfg.ENGINE_GRPC_PORT + d,
    ENGINE_MANAGEMENT_PORT: sut.cfg.ENGINE_MANAGEMENT_PORT + d,
    INSPECTOR_PORT: sut.cfg.ENGINE_MANAGEMENT_PORT + d + 1,
  };
  await assertPortsFree('127.0.0.1', ports);
  const proc = await startEngineProcess({
    databaseUrl: sut.engineUrl,
    host: '127.0.0.1',
    grpcPort: ports.ENGINE_GRPC_PORT,
    restPort: ports.ENGINE_REST_PORT,
    managementPort: ports.ENGINE_MANAGEMENT_PORT,
    // As the system's engine runs (infra/engine/engine.ts from the bench's configuration).
    clockControlled: sut.cfg.ENGINE_CLOCK_CONTROLLED,
    mode: sut.cfg.KC_MODE,
    auth:
      sut.cfg.ENGINE_USERNAME && sut.cfg.ENGINE_PASSWORD
        ? { username: sut.cfg.ENGINE_USERNAME, password: sut.cfg.ENGINE_PASSWORD }
        : undefined,
    logFile: path.join(sut.cfg.logDir, `engine-${i + 1}.log`),
    startTimeoutMs: sut.cfg.ENGINE_START_TIMEOUT_S * 1000,
    env: { NODE_OPTIONS: `--inspect=127.0.0.1:${ports.INSPECTOR_PORT} --import=${PG_COUNT}` },
  });
  const bundleText = fs.readFileSync(ENGINE_BUNDLE, 'utf8');
  const name = `engine ${i + 1}`;
  say(`  ${name} started: pid ${proc.pid}, gRPC ${proc.grpcPort}, inspector ${ports.INSPECTOR_PORT}`);
  return {
    name,
    pid: proc.pid,
    grpcPort: proc.grpcPort,
    inspectorPort: ports.INSPECTOR_PORT,
    bundleSha256: createHash('sha256').update(bundleText).digest('hex').slice(0, 16),
    bundleText,
    proc,
  };
}

function gatewayClient(grpcPort: number, retry: boolean): ZeebeGrpcClient {
  return new Camunda8({
    ZEEBE_GRPC_ADDRESS: `grpc://127.0.0.1:${grpcPort}`,
    CAMUNDA_AUTH_STRATEGY: 'NONE',
    CAMUNDA_LOG_LEVEL: 'error',
    zeebeGrpcSettings: { ZEEBE_CLIENT_LOG_LEVEL: 'NONE', ZEEBE_GRPC_CLIENT_RETRY: retry },
  }).getZeebeGrpcApiClient();
}

/** One bare no-op SDK worker per gateway; returns its stop. */
async function bareWorkers(
  clients: ZeebeGrpcClient[],
  kind: 'streaming' | 'polling',
  type: string,
): Promise<() => Promise<void>> {
  const stops: (() => Promise<void>)[] = [];
  for (const c of clients) {
    if (kind === 'streaming') {
      const w = await c.streamJobs({
        type,
        worker: 'bench-scaling',
        timeout: 30_000,
        pollInterval: 30_000,
        tenantIds: [],
        taskHandler: (job) => job.complete(),
      });
      stops.push(() => quietly(() => w.close()));
    } else {
      const w = c.createWorker({
        taskType: type,
        maxJobsToActivate: 32,
        timeout: 30_000,
        loglevel: 'NONE',
        taskHandler: (job) => job.complete(),
      });
      stops.push(() => w.close(5000).then(() => undefined));
    }
  }
  return async () => {
    await Promise.all(stops.map((s) => s()));
  };
}

const cpuOf = (pid: number) => readStat(pid)?.cpu ?? 0;

export async function scalingSection(
  sut: SystemUnderTest,
  opts: ScalingOptions,
  say: (l: string) => void,
): Promise<ScalingSection> {
  const engineDb = new pg.Client({ connectionString: sut.engineUrl });
  await engineDb.connect();
  const { rows: lib } = await engineDb.query<{ s: string; x: number }>(
    `SELECT current_setting('shared_preload_libraries') AS s,
            (SELECT count(*)::int FROM pg_extension WHERE extname = 'pg_stat_statements') AS x`,
  );
  const pgStatStatements = `${lib[0]!.x ? 'installed' : 'not installed'}; shared_preload_libraries = '${lib[0]!.s}'`;
  const engine1Pid = sut.pids().engine;
  if (!engine1Pid) throw new Error('The system has no engine pid ($KC_DATA_DIR/engine.pid)');
  const engine1Port = sut.cfg.ENGINE_GRPC_PORT;
  const engines: Engine[] = [
    { name: 'engine 1', pid: engine1Pid, grpcPort: engine1Port, bundleSha256: sha(ENGINE_BUNDLE) },
  ];
  const starters: ZeebeGrpcClient[] = [gatewayClient(engine1Port, false)];
  const workerClients: ZeebeGrpcClient[] = [gatewayClient(engine1Port, true)];
  // One engine gets as many bare workers as three do (all on its gateway): an SDK polling worker cannot pass
  // maxJobsToActivate per poll tick (32 per 300 ms ≈ 107 jobs/s), so one worker against three would compare
  // the workers, not the engines (section 1b run 2's "×1.71 polling" was that: 104 → 178).
  const oneEngineWorkers: ZeebeGrpcClient[] = [
    workerClients[0]!,
    gatewayClient(engine1Port, true),
    gatewayClient(engine1Port, true),
  ];
  await starters[0]!.deployResources([
    { name: `${EMPTY}.bpmn`, process: Buffer.from(bpmn(EMPTY, false)) },
    { name: `${ONE_TASK}.bpmn`, process: Buffer.from(bpmn(ONE_TASK, true)) },
  ]);
  const scenarios = [
    { name: 'empty', processId: EMPTY, worker: undefined },
    ...opts.workers.map((w) => ({ name: `bare-${w}`, processId: ONE_TASK, worker: w })),
  ];

  const idle = async () => {
    await sleep(STATS_SETTLE_MS);
    const a = await xactCounters(engineDb);
    await sleep(STATS_SETTLE_MS);
    const b = await xactCounters(engineDb);
    return round((b.commits - a.commits - 1) / ((b.at - a.at) / 1000), 2);
  };

  const measure = async (
    n: number,
    s: (typeof scenarios)[number],
    idlePerSecond: number,
    forceConcurrency?: number,
  ): Promise<ScalingRun> => {
    const gateways = starters.slice(0, n);
    const type = `bench-scaling-${s.worker ?? 'none'}-${n}`;
    const vars = s.worker ? { jobType: type } : {};
    const stop = s.worker
      ? await bareWorkers(n === 1 ? oneEngineWorkers : workerClients.slice(0, n), s.worker, type)
      : async () => {};
    try {
      let ramp: StepResult[] = [];
      let concurrency = forceConcurrency ?? 0;
      if (!forceConcurrency) {
        say(`  ${n} engine(s), ${s.name}: ramp from ${opts.rampConcurrency[0]} clients, doubling`);
        ({ ramp, concurrency } = await rampUp(opts.rampConcurrency, say, (c) =>
          closedLoop(gateways, s.processId, vars, c, opts.rampSeconds),
        ));
      }
      await sleep(STATS_SETTLE_MS);
      const x0 = await xactCounters(engineDb);
      const pids = engines.slice(0, n).map((e) => e.pid);
      const c0 = { engines: pids.map(cpuOf), pg: sampleProcesses(sut).cpu.postgres, bench: process.cpuUsage() };
      const t0 = performance.now();
      const runs: StepResult[] = [];
      for (let i = 0; i < opts.runs; i++) {
        runs.push(await closedLoop(gateways, s.processId, vars, concurrency, opts.runSeconds));
      }
      const seconds = (performance.now() - t0) / 1000;
      const engCpu = pids.map((p, i) => (cpuOf(p) - c0.engines[i]!) / seconds);
      const pgCpu = (sampleProcesses(sut).cpu.postgres - c0.pg) / seconds;
      const b = process.cpuUsage(c0.bench);
      const load1 = round(os.loadavg()[0]!, 2);
      await sleep(STATS_SETTLE_MS);
      const finished = runs.reduce((a, r) => a + r.finished, 0);
      const transactions = perInstance(x0, await xactCounters(engineDb), finished, idlePerSecond);
      const rate = spread(runs.map((r) => r.rate));
      const rejected = runs.reduce((a, r) => a + r.rejected, 0);
      const attempts = runs.reduce((a, r) => a + r.rejected + r.completed, 0);
      const perSecond = finished / seconds;
      const sumEng = engCpu.reduce((a, v) => a + v, 0);
      const result: ScalingRun = {
        scenario: s.name,
        engines: n,
        ramp,
        concurrency,
        rate,
        backPressure: attempts ? round(rejected / attempts, 4) : 0,
        cpu: {
          engines: engCpu.map((v) => round(v)),
          postgres: round(pgCpu),
          bench: round((b.user + b.system) / 1e6 / seconds),
        },
        cpuMsPerInstance: {
          engines: round((1000 * sumEng) / perSecond, 2),
          postgres: round((1000 * pgCpu) / perSecond, 2),
        },
        load1,
        transactions,
      };
      say(
        `    → ${n} engine(s), ${s.name}, ${concurrency} clients: median ${rate.median}/s (min ${rate.min}, max ${rate.max}); ` +
          `CPU engines ${result.cpu.engines.join(' + ')}, PostgreSQL ${result.cpu.postgres}, bench ${result.cpu.bench} cores; ` +
          `${result.cpuMsPerInstance.engines} ms engine + ${result.cpuMsPerInstance.postgres} ms PostgreSQL CPU/instance; ` +
          `${transactions.perInstanceNet} commits/instance net; load ${load1}`,
      );
      return result;
    } finally {
      await stop();
      await sleep(500);
    }
  };

  const extra: Engine[] = [];
  const one: ScalingRun[] = [];
  const three: ScalingRun[] = [];
  const profiles: ProfiledRun[] = [];
  let pgbench: PgbenchResult | undefined;
  try {
    say('  warm-up: one engine, empty instances');
    await closedLoop(starters, EMPTY, {}, 16, opts.rampSeconds * 2);
    const idle1 = await idle();
    say(`  engine database at rest, one engine: ${idle1} commits/s`);
    for (const s of scenarios) one.push(await measure(1, s, idle1));

    for (const i of [1, 2]) {
      const e = await startExtraEngine(sut, i, say);
      extra.push(e);
      engines.push(e);
      starters.push(gatewayClient(e.grpcPort, false));
      workerClients.push(gatewayClient(e.grpcPort, true));
    }
    say('  warm-up: three engines, empty instances');
    await closedLoop(starters, EMPTY, {}, 48, opts.rampSeconds * 2);
    const idle3 = await idle();
    say(`  engine database at rest, three engines: ${idle3} commits/s`);
    for (const s of scenarios) three.push(await measure(3, s, idle3));

    // Engine 3 stops; engine 2 alone (with engine 1 idle beside it) is profiled at the one-engine ceiling.
    await extra[1]!.proc!.stop();
    engines.splice(2, 1);
    starters.splice(2, 1);
    workerClients.splice(2, 1);
    const e2 = extra[0]!;
    const profiled = [scenarios.find((s) => s.worker === 'streaming') ?? scenarios[1]!, scenarios[0]!].filter(
      (s) => s !== undefined,
    );
    for (const s of profiled) {
      const base = one.find((r) => r.scenario === s.name)!;
      profiles.push(await profileRun(s, base, e2));
    }
    say(
      `  pgbench (TPC-B-like, scale ${opts.pgbench.scale}, ${opts.pgbench.clients} clients, ${opts.pgbench.seconds} s × ${opts.pgbench.runs})`,
    );
    pgbench = await pgbenchReference(sut, opts.pgbench, say);
  } finally {
    await Promise.allSettled([...starters, ...new Set([...workerClients, ...oneEngineWorkers])].map((c) => c.close()));
    for (const e of extra) await e.proc!.stop().catch(() => undefined);
    await engineDb.end().catch(() => undefined);
  }

  async function profileRun(s: (typeof scenarios)[number], base: ScalingRun, e: Engine): Promise<ProfiledRun> {
    const gateway = starters[1]!;
    const type = `bench-scaling-profile-${s.worker ?? 'none'}`;
    const vars = s.worker ? { jobType: type } : {};
    const stop = s.worker ? await bareWorkers([workerClients[1]!], s.worker, type) : async () => {};
    const insp = await inspector(e.inspectorPort!);
    try {
      say(`  profile: engine 2 alone, ${s.name}, ${base.concurrency} clients, ${opts.runs} × ${opts.runSeconds} s`);
      await closedLoop(gateway, s.processId, vars, base.concurrency, opts.rampSeconds); // warm the worker path
      await sleep(STATS_SETTLE_MS);
      const server0 = await serverCounters(engineDb);
      await insp.send('Profiler.enable');
      await insp.send('Profiler.setSamplingInterval', { interval: 1000 });
      await insp.evaluate('globalThis.__kcPgStatements.start()');
      const c0 = { engine: cpuOf(e.pid), pg: sampleProcesses(sut).cpu.postgres };
      await insp.send('Profiler.start');
      const t0 = performance.now();
      const runs: StepResult[] = [];
      for (let i = 0; i < opts.runs; i++) {
        runs.push(await closedLoop(gateway, s.processId, vars, base.concurrency, opts.runSeconds));
      }
      const { profile } = await insp.send<{ profile: CpuProfile }>('Profiler.stop');
      const seconds = (performance.now() - t0) / 1000;
      const statements = await insp.evaluate<{ sql: string; calls: number; ms: number }[]>(
        'globalThis.__kcPgStatements.stop()',
      );
      const cpu = {
        engine: (cpuOf(e.pid) - c0.engine) / seconds,
        postgres: (sampleProcesses(sut).cpu.postgres - c0.pg) / seconds,
      };
      const load1 = round(os.loadavg()[0]!, 2);
      await insp.send('Profiler.disable');
      await sleep(STATS_SETTLE_MS);
      const server1 = await serverCounters(engineDb);
      const instances = runs.reduce((a, r) => a + r.finished, 0);
      const per = (v: number) => round(v / Math.max(1, instances), 2);

      fs.mkdirSync(FLAME_DIR, { recursive: true });
      const svg = path.join(FLAME_DIR, `engine-${s.worker ? 'one-task' : 'empty'}.svg`);
      const cpuprofile = svg.replace(/\.svg$/, '.cpuprofile');
      fs.writeFileSync(cpuprofile, JSON.stringify(profile));
      const summary = summarise(profile, e.bundleText);
      const rate = spread(runs.map((r) => r.rate));
      fs.writeFileSync(
        svg,
        flameSvg(
          summary,
          `engine under load: ${s.name === 'empty' ? 'empty process' : `one service task, bare ${s.worker} worker`}, ` +
            `${base.concurrency} clients, ${rate.median} inst/s (profiled), engine CPU ${round(cpu.engine)} cores, load ${load1}, ${new Date().toISOString().slice(0, 16)}Z`,
        ),
      );
      const { tree: _tree, ...flame } = summary;
      // A driver call is one round trip; the engine may send several statements in it (`BEGIN; …; COMMIT`).
      const kinds = new Map<string, number>();
      let totalStatements = 0;
      for (const st of statements) {
        for (const one of st.sql
          .split(';')
          .map((x) => x.trim())
          .filter(Boolean)) {
          const kind = statementKind(one);
          kinds.set(kind, (kinds.get(kind) ?? 0) + st.calls);
          totalStatements += st.calls;
        }
      }
      const totalCalls = statements.reduce((a, st) => a + st.calls, 0);
      const result: ProfiledRun = {
        scenario: s.name,
        concurrency: base.concurrency,
        rate,
        unprofiledMedian: base.rate.median,
        instances,
        cpu: { engine: round(cpu.engine), postgres: round(cpu.postgres) },
        cpuMsPerInstance: {
          engine: round((1000 * cpu.engine * seconds) / Math.max(1, instances), 2),
          postgres: round((1000 * cpu.postgres * seconds) / Math.max(1, instances), 2),
        },
        load1,
        svg: path.relative(path.resolve(HERE, '..'), svg),
        cpuprofile: path.relative(path.resolve(HERE, '..'), cpuprofile),
        flame,
        statements: {
          roundTripsPerInstance: per(totalCalls),
          perInstance: per(totalStatements),
          byKind: [...kinds].sort((a, b) => b[1] - a[1]).map(([kind, n]) => ({ kind, perInstance: per(n) })),
          top: statements
            .sort((a, b) => b.calls - a.calls)
            .slice(0, 25)
            .map((st) => ({
              sql: st.sql,
              perInstance: per(st.calls),
              meanMs: round(st.ms / Math.max(1, st.calls), 2),
            })),
        },
        server: {
          // serverCounters' own three statements are transactions on this database too.
          commits: per(server1.db.commits - server0.db.commits - 3),
          tuples: {
            returned: per(server1.db.returned - server0.db.returned),
            fetched: per(server1.db.fetched - server0.db.fetched),
            inserted: per(server1.db.inserted - server0.db.inserted),
            updated: per(server1.db.updated - server0.db.updated),
            deleted: per(server1.db.deleted - server0.db.deleted),
          },
          tables: [...server1.tables]
            .map(([table, t1]) => {
              const t0 = server0.tables.get(table) ?? { ins: 0, upd: 0, del: 0, idx: 0, seq: 0 };
              return {
                table,
                insertsPerInstance: per(t1.ins - t0.ins),
                updatesPerInstance: per(t1.upd - t0.upd),
                deletesPerInstance: per(t1.del - t0.del),
                indexScansPerInstance: per(t1.idx - t0.idx),
                seqScansPerInstance: per(t1.seq - t0.seq),
              };
            })
            .filter(
              (t) =>
                t.insertsPerInstance +
                  t.updatesPerInstance +
                  t.deletesPerInstance +
                  t.indexScansPerInstance +
                  t.seqScansPerInstance >
                0,
            )
            .sort(
              (a, b) =>
                b.insertsPerInstance +
                b.updatesPerInstance +
                b.deletesPerInstance +
                b.indexScansPerInstance -
                (a.insertsPerInstance + a.updatesPerInstance + a.deletesPerInstance + a.indexScansPerInstance),
            ),
        },
      };
      say(
        `    → profiled ${s.name}: median ${rate.median}/s (unprofiled on engine 1: ${base.rate.median}/s); ` +
          `${result.cpuMsPerInstance.engine} ms engine + ${result.cpuMsPerInstance.postgres} ms PostgreSQL CPU/instance; ` +
          `${result.statements.roundTripsPerInstance} round trips, ${result.statements.perInstance} statements/instance (${result.statements.byKind.map((k) => `${k.kind} ${k.perInstance}`).join(', ')}); ` +
          `${result.server.commits} commits/instance; flame graph ${result.svg}`,
      );
      say(topTables(flame).replace(/^/gm, '      '));
      say('      driver calls per instance (mean ms from the call to the answer, engine side):');
      for (const st of result.statements.top.slice(0, 15))
        say(
          `        ${st.perInstance.toFixed(2).padStart(6)}  ${st.meanMs.toFixed(2).padStart(7)} ms  ${st.sql.slice(0, 150)}`,
        );
      say('      rows per instance by table (ins / upd / del / index scans / seq scans):');
      for (const t of result.server.tables.slice(0, 12)) {
        say(
          `        ${t.table.padEnd(32)} ${t.insertsPerInstance} / ${t.updatesPerInstance} / ${t.deletesPerInstance} / ${t.indexScansPerInstance} / ${t.seqScansPerInstance}`,
        );
      }
      return result;
    } finally {
      insp.close();
      await stop();
      await sleep(500);
    }
  }

  const ratios = scenarios.map((s) => {
    const a = one.find((r) => r.scenario === s.name)!.rate;
    const b = three.find((r) => r.scenario === s.name)!.rate;
    const median = round(b.median / a.median, 2);
    return {
      scenario: s.name,
      median,
      min: round(b.min / a.max, 2),
      max: round(b.max / a.min, 2),
      met: median >= TARGET_RATIO,
    };
  });
  for (const r of ratios) {
    say(
      `  three engines vs one, ${r.scenario}: ×${r.median} (×${r.min}–×${r.max}) — target ≥ ×${TARGET_RATIO} ${r.met ? 'met' : 'not met'}`,
    );
  }
  return {
    one,
    three,
    ratios,
    target: TARGET_RATIO,
    workersPerSide: oneEngineWorkers.length,
    profiles,
    pgStatStatements,
    engines: engines
      .concat(extra.filter((e) => !engines.includes(e)))
      .map((e) => ({ name: e.name, pid: e.pid, grpcPort: e.grpcPort, bundleSha256: e.bundleSha256 })),
    sameBundle: new Set([engines[0]!, ...extra].map((e) => e.bundleSha256)).size === 1,
    pgbench: pgbench!,
  };
}

/** BEGIN / COMMIT / SELECT <table> / INSERT <table> / … — the statement's verb and first table. */
export function statementKind(sql: string): string {
  const s = sql.trim();
  const verb = (/^\w+/.exec(s)?.[0] ?? '?').toUpperCase();
  if (['BEGIN', 'COMMIT', 'ROLLBACK', 'SAVEPOINT', 'RELEASE'].includes(verb)) return verb;
  const table =
    verb === 'INSERT'
      ? /^insert\s+into\s+([\w."]+)/i.exec(s)?.[1]
      : verb === 'UPDATE'
        ? /^update\s+([\w."]+)/i.exec(s)?.[1]
        : verb === 'DELETE'
          ? /^delete\s+from\s+([\w."]+)/i.exec(s)?.[1]
          : /\bfrom\s+([\w."]+)/i.exec(s)?.[1];
  if (verb === 'WITH')
    return `WITH … ${/\b(insert\s+into|update|delete\s+from)\s+([\w."]+)/i.exec(s)?.[2] ?? /\bfrom\s+([\w."]+)/i.exec(s)?.[1] ?? ''}`.trim();
  return table ? `${verb} ${table}` : verb;
}

async function serverCounters(db: pg.Client) {
  await db.query('SELECT pg_stat_clear_snapshot()');
  const { rows: d } = await db.query<Record<string, string>>(
    `SELECT xact_commit::text AS commits, tup_returned::text AS returned, tup_fetched::text AS fetched,
            tup_inserted::text AS inserted, tup_updated::text AS updated, tup_deleted::text AS deleted
       FROM pg_stat_database WHERE datname = current_database()`,
  );
  const { rows: t } = await db.query<{
    t: string;
    ins: string;
    upd: string;
    del: string;
    idx: string | null;
    seq: string;
  }>(
    `SELECT relname AS t, n_tup_ins::text AS ins, n_tup_upd::text AS upd, n_tup_del::text AS del,
            idx_scan::text AS idx, seq_scan::text AS seq FROM pg_stat_user_tables`,
  );
  const n = (v: string | null | undefined) => Number(v ?? 0);
  return {
    db: {
      commits: n(d[0]!.commits),
      returned: n(d[0]!.returned),
      fetched: n(d[0]!.fetched),
      inserted: n(d[0]!.inserted),
      updated: n(d[0]!.updated),
      deleted: n(d[0]!.deleted),
    },
    tables: new Map(t.map((r) => [r.t, { ins: n(r.ins), upd: n(r.upd), del: n(r.del), idx: n(r.idx), seq: n(r.seq) }])),
  };
}
