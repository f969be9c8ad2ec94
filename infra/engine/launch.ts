/**
 * Starts our engine (engine/src/main.ts) as a process of its own — so that killing it is killing the
 * engine, as the fault tests do — with its log in a file, waits for its "engine ready" line, and
 * stops it with SIGTERM (SIGKILL after a grace period). The engine is reached only through its
 * protocol; nothing here imports it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ENGINE_SRC = path.join(REPO_ROOT, 'engine', 'src');
export const ENGINE_MAIN = path.join(ENGINE_SRC, 'main.ts');
/** The engine's sources in one ES module (git-ignored): node loads it in about half the time tsx needs. */
export const ENGINE_BUNDLE = path.join(REPO_ROOT, 'engine', 'dist', 'main.mjs');

const STOP_GRACE_MS = 10_000;
const LOG_TAIL_LINES = 30;

export class EngineStartError extends Error {}

export interface EngineProcessOptions {
  databaseUrl: string;
  host: string;
  /** 0 = any free port (the ready line says which). */
  grpcPort: number;
  restPort: number;
  managementPort: number;
  clockControlled: boolean;
  logFile: string;
  auth?: { username: string; password: string };
  mode?: 'local' | 'production';
  startTimeoutMs?: number;
  /** Extra environment (pool size, back-pressure limit, log level). */
  env?: Record<string, string>;
}

export interface EngineProcess {
  pid: number;
  grpcPort: number;
  restPort: number;
  managementPort: number;
  /** Resolves when the process has exited (for whatever reason). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts')) {
      newest = Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  return newest;
}

/**
 * The bundle, rebuilt when any engine source is newer (esbuild, ~0.2 s), so a started engine is never
 * older than its code. Dependencies stay in node_modules (`packages: 'external'`).
 */
export async function engineBundle(): Promise<string> {
  const built = fs.existsSync(ENGINE_BUNDLE) ? fs.statSync(ENGINE_BUNDLE).mtimeMs : 0;
  if (built >= newestSource(ENGINE_SRC)) return ENGINE_BUNDLE;
  const partial = `${ENGINE_BUNDLE}.${process.pid}.tmp`;
  await build({
    entryPoints: [ENGINE_MAIN],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    packages: 'external',
    outfile: partial,
    logLevel: 'warning',
  });
  fs.renameSync(partial, ENGINE_BUNDLE); // atomic: two launchers at once never see half a file
  return ENGINE_BUNDLE;
}

function tail(file: string): string {
  if (!fs.existsSync(file)) return '(no log written)';
  return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
}

export async function startEngineProcess(opts: EngineProcessOptions): Promise<EngineProcess> {
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const log = fs.createWriteStream(opts.logFile, { flags: 'a' });
  await new Promise((resolve) => log.once('open', resolve));
  const main = await engineBundle();
  const child: ChildProcess = spawn(process.execPath, [main], {
    cwd: REPO_ROOT,
    // Its own process group: a terminal's Ctrl-C reaches only the launcher, which stops it in order.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ENGINE_DATABASE_URL: opts.databaseUrl,
      ENGINE_HOST: opts.host,
      ENGINE_GRPC_PORT: String(opts.grpcPort),
      ENGINE_REST_PORT: String(opts.restPort),
      ENGINE_MANAGEMENT_PORT: String(opts.managementPort),
      ENGINE_CLOCK_CONTROLLED: String(opts.clockControlled),
      ENGINE_MODE: opts.mode ?? 'local',
      ...(opts.auth ? { ENGINE_USERNAME: opts.auth.username, ENGINE_PASSWORD: opts.auth.password } : {}),
      ...opts.env,
    },
  });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      log.end();
      resolve({ code, signal });
    });
    child.once('error', () => resolve({ code: null, signal: null }));
  });

  const ready = new Promise<{ grpcPort: number; restPort: number; managementPort: number }>((resolve) => {
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!line.includes('"engine ready"')) continue;
        try {
          resolve(JSON.parse(line));
        } catch {
          // not our line after all
        }
      }
    });
  });
  const timeoutMs = opts.startTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    ready.then((ports) => ({ kind: 'ready' as const, ports })),
    exited.then((e) => ({ kind: 'exited' as const, e })),
    new Promise<{ kind: 'timeout' }>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'timeout' }), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(force);
  };
  if (outcome.kind === 'exited') {
    await new Promise((r) => setTimeout(r, 50));
    throw new EngineStartError(
      `The engine exited during start (code ${outcome.e.code}, signal ${outcome.e.signal}). Last lines of ${opts.logFile}:\n${tail(opts.logFile)}`,
    );
  }
  if (outcome.kind === 'timeout') {
    await stop();
    throw new EngineStartError(
      `The engine was not ready after ${timeoutMs} ms. Last lines of ${opts.logFile}:\n${tail(opts.logFile)}`,
    );
  }
  return { pid: child.pid!, ...outcome.ports, exited, stop };
}
