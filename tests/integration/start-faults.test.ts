/**
 * Engine-backed: a start that cannot succeed says why in one message, exits non-zero and leaves
 * nothing running — a port already taken, an unreachable DATABASE_URL, an engine dying during start,
 * Ctrl-C while starting.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/config.js';
import { EngineError, startEngine } from '../../infra/engine/engine.js';
import { testConfig } from './test-env.js';

const run = promisify(execFile);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'kc-faults-'));
/** Ports no other part of the test run uses (below the ephemeral range, see infra/ports.ts). */
const faultEnv = {
  KC_DATA_DIR: scratch,
  PG_PORT: '25433',
  ENGINE_REST_PORT: '28080',
  ENGINE_GRPC_PORT: '26590',
  ENGINE_MANAGEMENT_PORT: '29600',
  API_PORT: '23000',
};

let blocker: net.Server;
beforeAll(async () => {
  blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(23000, '127.0.0.1', () => r()));
});
afterAll(async () => {
  await new Promise((r) => blocker.close(r));
  fs.rmSync(scratch, { recursive: true, force: true });
});

/** Runs `npm start`'s entry point with extra environment; never throws. */
async function start(env: Record<string, string>) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'infra/start.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('start faults (engine-backed)', () => {
  it('a taken API port: one message naming the port and its variable, exit 1, nothing started', async () => {
    const res = await start(faultEnv);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('Start failed: Port already in use: 127.0.0.1:23000 (API_PORT)');
    expect(await isListening(25433)).toBe(false);
  });

  it('an unreachable DATABASE_URL: one message naming it and the fix, exit 1, no engine started', async () => {
    const res = await start({
      ...faultEnv,
      API_PORT: '23001',
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/kongchuo',
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(
      /Start failed: Cannot use PostgreSQL at postgresql:\/\/postgres@127\.0\.0\.1:1\/kongchuo/,
    );
    expect(res.stderr).toContain('DATABASE_URL');
    expect(await isListening(29600)).toBe(false);
  });

  it('an engine that dies during start: the cause from its log, and no process left behind', async () => {
    // The engine's database does not answer: the engine process exits, and its own reason is quoted.
    const cfg = testConfig(faultEnv);
    const failure = startEngine(cfg, 'postgres://postgres@127.0.0.1:1/none', () => {});
    await expect(failure).rejects.toThrow(EngineError);
    await expect(failure).rejects.toThrow(/exited during start[\s\S]*ECONNREFUSED/);
    expect(fs.existsSync(path.join(scratch, 'engine.pid'))).toBe(false);
    expect(await isListening(29600)).toBe(false);
  });

  it('Ctrl-C while the engine starts: the start stops after that step, stops engine and PostgreSQL, exit 130', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'infra/start.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...faultEnv, API_PORT: '23002' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const engineStarting = new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('• engine…')) resolve();
      }),
    );
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    await Promise.race([engineStarting, exited]);
    child.kill('SIGINT');
    const code = await exited;
    expect(out).toContain('SIGINT: stopping after the current step');
    expect(out).toMatch(/ {2}engine: [\d.]+ s/); // the engine step was let finish…
    expect(out).toContain('stopped engine'); // …and what it started was stopped
    expect(out).toContain('stopped database');
    expect(out).not.toContain('• migrations');
    expect(code).toBe(130);
    expect(await isListening(29600)).toBe(false);
    expect(await isListening(25433)).toBe(false);
    expect(fs.existsSync(path.join(scratch, 'engine.pid'))).toBe(false);
  });
});
