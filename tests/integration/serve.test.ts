/**
 * Engine-backed: the production entry point (infra/serve.ts, what the Helm manifests run) starts its
 * part against the test run's engine and databases as if they were elsewhere — the API answers and
 * serves the console's data, the workers take job types — and stops in order on SIGTERM with exit 0.
 * Without the addresses of what runs elsewhere it refuses to start, naming them.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { engineAddresses, REPO_ROOT } from '../../infra/config.js';
import { DEMO_PASSWORD } from '../../infra/seed/demo.js';
import { workers } from '../../workers/registry.js';
import { loginAs } from './helpers.js';
import { testConfig } from './test-env.js';

const cfg = testConfig();
/** A port of this slot that the shared system does not use. */
const SERVE_PORT = cfg.API_PORT + 7;
const elsewhere = {
  DATABASE_URL: inject('appDatabaseUrl'),
  ENGINE_DATABASE_URL: inject('engineDatabaseUrl'),
  ENGINE_GRPC_ADDRESS: engineAddresses(cfg).grpc,
  ENGINE_REST_ADDRESS: inject('engineRestUrl'),
  ENGINE_MANAGEMENT_ADDRESS: inject('engineManagementUrl'),
  API_PORT: String(SERVE_PORT),
  LOGIN_RATE_LIMIT_PER_MINUTE: '100000',
  LOG_LEVEL: 'info',
};

interface Running {
  child: ChildProcessWithoutNullStreams;
  out: () => string;
  exit: Promise<number | null>;
}

const started: Running[] = [];
afterAll(() => {
  for (const r of started) r.child.kill('SIGKILL');
});

function serve(args: string[], env: Record<string, string | undefined>): Running {
  const { DATABASE_URL: _a, ENGINE_DATABASE_URL: _b, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/serve.ts', ...args], {
    cwd: REPO_ROOT,
    env: { ...inherited, ...env },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const running = { child, out: () => out, exit };
  started.push(running);
  return running;
}

/** The JSON log line with this message (pino's `msg`), once it is written. */
async function logLine(r: Running, msg: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = r
      .out()
      .split('\n')
      .filter((l) => l.startsWith('{') && l.endsWith('}'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === msg);
    if (line) return line;
    const code = await Promise.race([r.exit, new Promise((resolve) => setTimeout(() => resolve('running'), 200))]);
    if (code !== 'running') throw new Error(`serve exited (${String(code)}) before "${msg}":\n${r.out()}`);
    if (Date.now() > deadline) throw new Error(`no "${msg}" within ${timeoutMs} ms:\n${r.out()}`);
  }
}

describe('infra/serve.ts, the production entry point (engine-backed)', () => {
  it('--role=api: migrates, deploys, serves the API against an engine elsewhere, and stops on SIGTERM', async () => {
    const api = serve(['--role=api'], elsewhere);
    const listening = await logLine(api, 'api listening');
    expect(listening).toMatchObject({ role: 'api', port: SERVE_PORT });
    const deployed = await logLine(api, 'processes deployed');
    // The test run's start deployed processes/ already: this start leaves the unchanged files out
    // instead of deploying them again (infra/camunda/deployed.ts).
    expect(deployed.unchanged).toEqual(expect.arrayContaining(['dropout-escalation.bpmn']));
    expect(deployed.processes).not.toEqual(expect.arrayContaining([expect.stringMatching(/^dropout-escalation v/)]));

    const base = `http://127.0.0.1:${SERVE_PORT}`;
    expect((await fetch(`${base}/health`)).status).toBe(200);
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'bureau', password: DEMO_PASSWORD }),
    });
    expect(login.status).toBe(200);
    // Sessions live in PostgreSQL: a token the other API process issued works here too (replicas are stateless).
    const token = await loginAs('bureau');
    const tasks = await fetch(`${base}/api/tasks?perPage=5`, { headers: { authorization: `Bearer ${token}` } });
    expect(tasks.status).toBe(200);
    expect(await tasks.json()).toMatchObject({ data: expect.any(Array) });

    api.child.kill('SIGTERM');
    expect(await api.exit).toBe(0);
    await logLine(api, 'stopped');
    await expect(fetch(`${base}/health`)).rejects.toThrow();
  });

  it('--role=workers: takes every registered job type, and drains and exits 0 on SIGTERM', async () => {
    const w = serve(['--role=workers'], elsewhere);
    expect(await logLine(w, 'workers started')).toMatchObject({ role: 'workers', jobTypes: workers.length });
    w.child.kill('SIGTERM');
    expect(await w.exit).toBe(0);
    await logLine(w, 'stopped');
  });

  it('refuses to start without the addresses of what runs elsewhere, or without a role, naming what is missing', async () => {
    const noEngine = serve(['--role=workers'], { ...elsewhere, ENGINE_GRPC_ADDRESS: '', ENGINE_REST_ADDRESS: '' });
    expect(await noEngine.exit).toBe(1);
    expect(noEngine.out()).toContain('set ENGINE_GRPC_ADDRESS, ENGINE_REST_ADDRESS');
    const noRole = serve([], elsewhere);
    expect(await noRole.exit).toBe(1);
    expect(noRole.out()).toContain('Usage: infra/serve.ts --role=api|workers');
  });
});
