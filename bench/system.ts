/**
 * The system under test, started exactly as `npm start` starts it (infra/start.ts: embedded PostgreSQL,
 * our engine as its own process on the engine database, migrations, demo county, deployment, workers,
 * API) — but as a child process, on a scratch data directory and ports shifted like KC_TEST_SLOT=5, so
 * that the engine (its pid from $KC_DATA_DIR/engine.pid), the API + workers process and PostgreSQL can
 * each be measured (CPU, memory) apart from the load generator, which runs in the benchmark's own process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { type Config, loadConfig, REPO_ROOT } from '../infra/config.js';
import { slotPorts } from '../infra/ports.js';
import { sleep } from './stats.js';

/** Ports of slot 5 (infra/ports.ts), away from npm start and npm test. */
const SLOT = Number(process.env.KC_BENCH_SLOT ?? 5);

export const BENCH_DATA_DIR = path.resolve(process.env.KC_BENCH_DATA_DIR ?? path.join(os.tmpdir(), 'kc-bench'));

export function benchEnv(pupils: number): Record<string, string> {
  return {
    KC_MODE: 'local',
    KC_DATA_DIR: BENCH_DATA_DIR,
    ...slotPorts(SLOT),
    // The escalation benchmark moves the engine clock past the statutory deadlines.
    ENGINE_CLOCK_CONTROLLED: 'true',
    KC_DEMO_DATA: 'auto',
    KC_DEMO_PUPILS: String(pupils),
    LOG_LEVEL: 'warn',
  };
}

export interface SystemUnderTest {
  cfg: Config;
  apiUrl: string;
  appUrl: string;
  /** The engine's own database (<app>_workflow, infra/db/postgres.ts). */
  engineUrl: string;
  /** The PostgreSQL server (database `postgres`) and how to reach it with the command-line clients. */
  serverUrl: string;
  pg: { host: string; port: number; user: string; password: string };
  startSeconds: number;
  startLog: string[];
  pids: () => { engine?: number; node?: number; postmaster?: number };
  stop: () => Promise<void>;
}

/** Starts a fresh system (the scratch data directory is wiped) and resolves once it is up. */
export async function startSystem(pupils: number, say: (l: string) => void): Promise<SystemUnderTest> {
  fs.rmSync(BENCH_DATA_DIR, { recursive: true, force: true });
  const env = benchEnv(pupils);
  const { DATABASE_URL: _a, ENGINE_DATABASE_URL: _b, ...inherited } = process.env;
  const childEnv = { ...inherited, ...env };
  const cfg = loadConfig(childEnv);
  const t0 = Date.now();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'bench/serve.ts'], {
    cwd: REPO_ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const startLog: string[] = [];
  let up = false;
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exited = code;
      resolve();
    }),
  );
  const onLine = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      startLog.push(line);
      if (!up || /fail|error|stopp/i.test(line)) say(`  [system] ${line}`);
      if (line.includes('platform is up')) up = true;
    }
  };
  child.stdout!.on('data', onLine);
  child.stderr!.on('data', onLine);
  while (!up) {
    if (exited !== undefined) throw new Error(`The system did not start (exit ${exited}):\n${startLog.join('\n')}`);
    if (Date.now() - t0 > 15 * 60_000) throw new Error('The system did not start within 15 minutes');
    await sleep(200);
  }
  const password = fs.readFileSync(path.join(BENCH_DATA_DIR, 'pg-password'), 'utf8').trim();
  const server = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${cfg.PG_PORT}`;
  const readPid = (file: string) => {
    try {
      return Number(fs.readFileSync(file, 'utf8').split('\n')[0]) || undefined;
    } catch {
      return undefined;
    }
  };
  // The postmaster: the parent of a backend (its data directory may not be under BENCH_DATA_DIR as root).
  const postmaster = await postmasterPid(`${server}/postgres`);
  return {
    cfg,
    apiUrl: `http://127.0.0.1:${cfg.API_PORT}`,
    appUrl: `${server}/kongchuo`,
    engineUrl: `${server}/kongchuo_workflow`,
    serverUrl: `${server}/postgres`,
    pg: { host: '127.0.0.1', port: cfg.PG_PORT, user: 'postgres', password },
    startSeconds: (Date.now() - t0) / 1000,
    startLog,
    pids: () => ({
      // infra/engine/engine.ts writes the engine process's pid here.
      engine: readPid(path.join(BENCH_DATA_DIR, 'engine.pid')),
      node: child.pid,
      postmaster,
    }),
    stop: async () => {
      if (exited !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

async function postmasterPid(url: string): Promise<number | undefined> {
  const db = new pg.Client({ connectionString: url });
  try {
    await db.connect();
    const { rows } = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return readStat(rows[0]!.pid)?.ppid;
  } finally {
    await db.end();
  }
}

const TICKS = 100; // USER_HZ on Linux

export function readStat(pid: number): { cpu: number; ppid: number; children: number } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      ppid: Number(fields[1]),
      cpu: (Number(fields[11]) + Number(fields[12])) / TICKS,
      // CPU of children that have exited (PostgreSQL backends come and go).
      children: (Number(fields[13]) + Number(fields[14])) / TICKS,
    };
  } catch {
    return undefined;
  }
}

function memKb(pid: number, key: 'VmRSS' | 'Pss'): number {
  try {
    const file = key === 'Pss' ? `/proc/${pid}/smaps_rollup` : `/proc/${pid}/status`;
    const m = fs.readFileSync(file, 'utf8').match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Seconds a task spent runnable but waiting for a CPU (/proc/<pid>/task/<tid>/schedstat, 2nd field, ns). */
function runQueueWait(pid: number, allThreads: boolean): number {
  const one = (file: string) => {
    try {
      return Number(fs.readFileSync(file, 'utf8').split(' ')[1]) / 1e9 || 0;
    } catch {
      return 0;
    }
  };
  if (!allThreads) return one(`/proc/${pid}/schedstat`);
  try {
    return fs.readdirSync(`/proc/${pid}/task`).reduce((s, t) => s + one(`/proc/${pid}/task/${t}/schedstat`), 0);
  } catch {
    return 0;
  }
}

/** The postmaster and its backends. */
function postgresPids(postmaster: number): number[] {
  const out = [postmaster];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    if (readStat(Number(d))?.ppid === postmaster) out.push(Number(d));
  }
  return out;
}

export interface ProcessSample {
  /** CPU seconds used so far (user + system). */
  cpu: { engine: number; node: number; postgres: number; bench: number };
  /** Seconds spent runnable but waiting for a CPU so far (the engine's threads; PostgreSQL's live processes). */
  runQueue: { engine: number; postgres: number };
  /** Resident memory in MiB (PostgreSQL: proportional set size over all its processes). */
  memMiB: { engine: number; node: number; postgres: number };
}

export function sampleProcesses(sut: SystemUnderTest): ProcessSample {
  const { engine, node, postmaster } = sut.pids();
  const pg = postmaster ? postgresPids(postmaster) : [];
  const cpuOf = (pid?: number) => (pid ? (readStat(pid)?.cpu ?? 0) : 0);
  const usage = process.cpuUsage();
  return {
    cpu: {
      engine: cpuOf(engine),
      node: cpuOf(node),
      postgres: pg.reduce((s, p) => s + cpuOf(p), 0) + (postmaster ? (readStat(postmaster)?.children ?? 0) : 0),
      bench: (usage.user + usage.system) / 1e6,
    },
    runQueue: {
      engine: engine ? runQueueWait(engine, true) : 0,
      postgres: pg.reduce((s, p) => s + runQueueWait(p, false), 0),
    },
    memMiB: {
      engine: engine ? memKb(engine, 'VmRSS') / 1024 : 0,
      node: node ? memKb(node, 'VmRSS') / 1024 : 0,
      postgres: pg.reduce((s, p) => s + memKb(p, 'Pss'), 0) / 1024,
    },
  };
}

/** CPU used between two samples as a share of one core (1.0 = one core busy), per process. */
export function cpuShare(a: ProcessSample, b: ProcessSample, seconds: number) {
  const d = (k: keyof ProcessSample['cpu']) => (b.cpu[k] - a.cpu[k]) / seconds;
  return {
    engine: d('engine'),
    node: d('node'),
    postgres: d('postgres'),
    bench: d('bench'),
    // Share of wall time spent waiting for a CPU while runnable (summed over threads / processes).
    engineRunQueue: (b.runQueue.engine - a.runQueue.engine) / seconds,
    // Backends that exited in between drop out of the sum: only the ones alive at both samples count.
    postgresRunQueue: Math.max(0, (b.runQueue.postgres - a.runQueue.postgres) / seconds),
  };
}

/** Samples memory every `everyMs` while running; returns the peaks. */
export function memoryWatcher(sut: SystemUnderTest, everyMs = 1000) {
  const peak = { engine: 0, node: 0, postgres: 0 };
  const take = () => {
    const m = sampleProcesses(sut).memMiB;
    peak.engine = Math.max(peak.engine, m.engine);
    peak.node = Math.max(peak.node, m.node);
    peak.postgres = Math.max(peak.postgres, m.postgres);
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      take();
      return peak;
    },
  };
}

/** The operating system and hardware, for the results table. */
export function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
  };
}
