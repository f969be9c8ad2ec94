/**
 * The system under test, started exactly as `npm start` starts it (infra/start.ts: embedded PostgreSQL,
 * the real Zeebe engine with our exporter, migrations, demo county, deployment, workers, API) — but as a
 * child process, on a scratch data directory and ports shifted like KC_TEST_SLOT=5, so that the engine,
 * the API + workers process and PostgreSQL can each be measured (CPU, memory) apart from the load
 * generator, which runs in the benchmark's own process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
  engineUrl: string;
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
  return {
    cfg,
    apiUrl: `http://127.0.0.1:${cfg.API_PORT}`,
    appUrl: `${server}/kongchuo`,
    engineUrl: `${server}/kongchuo_engine`,
    startSeconds: (Date.now() - t0) / 1000,
    startLog,
    pids: () => ({
      engine: readPid(path.join(BENCH_DATA_DIR, 'engine', 'engine.pid')),
      node: child.pid,
      postmaster: readPid(path.join(BENCH_DATA_DIR, 'pg', 'postmaster.pid')),
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

const TICKS = 100; // USER_HZ on Linux

function readStat(pid: number): { cpu: number; ppid: number; children: number } | undefined {
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
  return { engine: d('engine'), node: d('node'), postgres: d('postgres'), bench: d('bench') };
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
