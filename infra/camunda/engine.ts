/**
 * Runs the real Camunda engine (Zeebe broker with its embedded gateway: gRPC + REST /v2) as a child
 * process: generates its configuration, starts it with its log in a file, waits until it is really
 * ready, stops it gracefully, and controls its clock in test mode.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { type Config, engineAddresses } from '../config.js';
import type { Jdk } from '../java.js';
import { assertPortsFree } from '../ports.js';
import type { Distribution } from './distribution.js';
import { EXPORTER_CLASS, type ExporterJar } from './exporter.js';

const READY_POLL_MS = 500;
const STOP_GRACE_MS = 30_000;
const LOG_TAIL_LINES = 40;

export class EngineError extends Error {}

export interface EngineDatabase {
  /** JDBC URL of the engine's own database (the exporter writes the record stream there). */
  jdbcUrl: string;
  user: string;
  password: string;
  /** Checks that the exporter has opened: its table exists in the engine database. */
  exporterReady: () => Promise<boolean>;
}

export interface EngineHandle {
  stop: () => Promise<void>;
}

/** YAML is JSON's superset, so the generated configuration is written as JSON into a .yaml file. */
export function engineConfiguration(cfg: Config, db: EngineDatabase, exporter: ExporterJar, dataDir: string) {
  if (cfg.KC_MODE !== 'local') {
    // The broker-only distribution has no identity provider to protect its API with; a production
    // engine runs with authentication from Camunda's own deployment, never unprotected from here.
    throw new EngineError('npm start runs the engine only in KC_MODE=local (unprotected, loopback).');
  }
  const host = cfg.BIND_HOST;
  return {
    server: { address: host, port: cfg.ENGINE_REST_PORT },
    management: { server: { address: host, port: cfg.ENGINE_MANAGEMENT_PORT } },
    zeebe: {
      clock: { controlled: cfg.ENGINE_CLOCK_CONTROLLED },
      broker: {
        network: {
          host,
          commandApi: { port: cfg.ENGINE_COMMAND_PORT },
          internalApi: { host, port: cfg.ENGINE_INTERNAL_PORT },
        },
        gateway: {
          enable: true,
          network: { host, port: cfg.ENGINE_GRPC_PORT },
          // Local mode only: the engine API is reachable from this machine without credentials.
          security: { enabled: false, authentication: { mode: 'none' } },
        },
        data: { directory: path.join(dataDir, 'data') },
        threads: { cpuThreadCount: 2, ioThreadCount: 2 },
        exporters: {
          postgres: {
            className: EXPORTER_CLASS,
            jarPath: exporter.jarPath,
            args: { url: db.jdbcUrl, username: db.user, password: db.password },
          },
        },
      },
    },
  };
}

function tail(file: string, lines = LOG_TAIL_LINES): string {
  if (!fs.existsSync(file)) return '(no log written)';
  return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return res.json();
}

interface Topology {
  brokers?: { partitions?: { role: string; health: string }[] }[];
}

/** Ready = readiness UP, a healthy partition leader in the topology, and the exporter's table open. */
async function isReady(addr: ReturnType<typeof engineAddresses>, db: EngineDatabase): Promise<boolean> {
  try {
    const health = (await getJson(`${addr.management}/actuator/health/readiness`)) as { status?: string };
    if (health.status !== 'UP') return false;
    const topo = (await getJson(`${addr.rest}/v2/topology`)) as Topology;
    const hasLeader = topo.brokers?.some((b) =>
      b.partitions?.some((p) => p.role === 'leader' && p.health === 'healthy'),
    );
    return Boolean(hasLeader) && (await db.exporterReady());
  } catch {
    return false;
  }
}

function pidFile(dataDir: string) {
  return path.join(dataDir, 'engine.pid');
}

/** An engine left running by a start that was killed with SIGKILL is stopped before a new one starts. */
function killStaleEngine(dataDir: string, log: (m: string) => void) {
  const file = pidFile(dataDir);
  if (!fs.existsSync(file)) return;
  const pid = Number(fs.readFileSync(file, 'utf8'));
  fs.rmSync(file, { force: true });
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmdline.includes('java') && cmdline.includes(dataDir)) {
      log(`Stopping an engine left running by an earlier start (pid ${pid}).`);
      process.kill(pid, 'SIGKILL');
    }
  } catch {
    // Not running any more.
  }
}

export interface StartEngineOptions {
  cfg: Config;
  dist: Distribution;
  jdk: Jdk;
  db: EngineDatabase;
  exporter: ExporterJar;
  log: (m: string) => void;
}

export async function startEngine({ cfg, dist, jdk, db, exporter, log }: StartEngineOptions): Promise<EngineHandle> {
  const dataDir = path.join(cfg.dataDir, 'engine');
  fs.mkdirSync(cfg.logDir, { recursive: true });
  fs.mkdirSync(dataDir, { recursive: true });
  killStaleEngine(dataDir, log);
  await assertPortsFree(cfg.BIND_HOST, {
    ENGINE_REST_PORT: cfg.ENGINE_REST_PORT,
    ENGINE_GRPC_PORT: cfg.ENGINE_GRPC_PORT,
    ENGINE_MANAGEMENT_PORT: cfg.ENGINE_MANAGEMENT_PORT,
    ENGINE_COMMAND_PORT: cfg.ENGINE_COMMAND_PORT,
    ENGINE_INTERNAL_PORT: cfg.ENGINE_INTERNAL_PORT,
  });

  const configFile = path.join(dataDir, 'application.yaml');
  fs.writeFileSync(configFile, JSON.stringify(engineConfiguration(cfg, db, exporter, dataDir), null, 2), {
    mode: 0o600,
  });
  const logFile = path.join(cfg.logDir, 'engine.log');
  const out = fs.openSync(logFile, 'w');
  const child: ChildProcess = spawn(path.join(dist.home, 'bin', 'broker'), [], {
    cwd: dist.home,
    // Its own process group: a terminal's Ctrl-C reaches only us, and we stop the engine in order
    // (after the API and the workers, before the database its exporter writes to).
    detached: true,
    stdio: ['ignore', out, out],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      JAVA_HOME: jdk.home,
      JAVA_OPTS: `-Xms256m -Xmx${cfg.ENGINE_HEAP} -Dkongchuo.data=${dataDir}`,
      SPRING_CONFIG_ADDITIONAL_LOCATION: `file:${configFile}`,
    },
  });
  fs.closeSync(out);

  let exited: { code: number | null; signal: NodeJS.Signals | null; error?: Error } | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      fs.rmSync(pidFile(dataDir), { force: true });
      resolve();
    });
    // A launcher that cannot be executed emits 'error' and never 'exit'; unhandled, it would crash us.
    child.once('error', (error) => {
      exited = { code: null, signal: null, error };
      resolve();
    });
  });
  if (child.pid !== undefined) fs.writeFileSync(pidFile(dataDir), String(child.pid));

  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exitPromise;
    clearTimeout(timer);
  };

  const deadline = Date.now() + cfg.ENGINE_START_TIMEOUT_S * 1000;
  for (;;) {
    if (exited?.error) {
      throw new EngineError(`Could not run ${dist.home}/bin/broker: ${exited.error.message}`);
    }
    if (exited) {
      throw new EngineError(
        `The engine exited during start (code ${exited.code}, signal ${exited.signal}). ` +
          `Last lines of ${logFile}:\n${tail(logFile)}`,
      );
    }
    if (await isReady(engineAddresses(cfg), db)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new EngineError(
        `The engine was not ready after ${cfg.ENGINE_START_TIMEOUT_S}s (ENGINE_START_TIMEOUT_S). ` +
          `Last lines of ${logFile}:\n${tail(logFile)}`,
      );
    }
    await new Promise((r) => setTimeout(r, READY_POLL_MS));
  }
  child.once('exit', (code, signal) => {
    if (code !== 0 && code !== 143 && signal !== 'SIGTERM') {
      log(
        `The engine stopped unexpectedly (code ${code}, signal ${signal}). Last lines of ${logFile}:\n${tail(logFile)}`,
      );
    }
  });
  return { stop };
}

/**
 * Test-mode clock control on the management port (only when ENGINE_CLOCK_CONTROLLED=true). There is
 * deliberately no reset: moving the clock backwards strands the engine's scheduled work (README).
 */
export function engineClock(managementUrl: string) {
  const call = async (method: string, suffix = '', body?: unknown) => {
    const res = await fetch(`${managementUrl}/actuator/clock${suffix}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : undefined,
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new EngineError(`clock ${method} ${suffix} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as { epochMilli: number; instant: string };
  };
  return {
    now: () => call('GET'),
    add: (offsetMilli: number) => call('POST', '/add', { offsetMilli }),
  };
}
