/**
 * What the engine tests share: an @camunda8/sdk client on the suite's engine (the same client our
 * workers and API use), the engine's database for looking at its tables, its REST and management
 * ports, the controlled clock, and a small wrapper that turns a process body into a Zeebe-dialect
 * BPMN document.
 */
import path from 'node:path';
import { Camunda8 } from '@camunda8/sdk';
import pg from 'pg';
import { afterAll, inject } from 'vitest';
import { type EngineProcess, startEngineProcess } from '../../infra/engine/launch.js';
import { ENGINE_TEST_DIR } from './global-setup.js';

export type Credentials = { username: string; password: string };
export type ZeebeClient = ReturnType<Camunda8['getZeebeGrpcApiClient']>;

/** An SDK client for the engine at `address` (host:port): quiet, no retries, basic authentication if given. */
function sdk(address: string, auth?: Credentials): Camunda8 {
  return new Camunda8({
    ZEEBE_GRPC_ADDRESS: `grpc://${address}`,
    ...(auth
      ? {
          CAMUNDA_AUTH_STRATEGY: 'BASIC' as const,
          CAMUNDA_BASIC_AUTH_USERNAME: auth.username,
          CAMUNDA_BASIC_AUTH_PASSWORD: auth.password,
        }
      : { CAMUNDA_AUTH_STRATEGY: 'NONE' as const }),
    CAMUNDA_LOG_LEVEL: 'error',
    zeebeGrpcSettings: { ZEEBE_CLIENT_LOG_LEVEL: 'NONE', ZEEBE_GRPC_CLIENT_MAX_RETRIES: 0 },
  });
}

let c8: Camunda8 | undefined;

/** The SDK's gRPC client against the suite's engine (closed after the file). */
export function zeebe() {
  c8 ??= sdk(inject('engineGrpcAddress'));
  return c8.getZeebeGrpcApiClient();
}

export interface ExtraEngine extends EngineProcess {
  /** A new SDK client on this engine's gRPC port (closed when the engine stops). */
  client(auth?: Credentials): ZeebeClient;
}

const extraEngines: ExtraEngine[] = [];

/**
 * Another engine process (several may share one database): on the suite's database unless `databaseUrl`
 * says otherwise, the real clock, production mode when given credentials, its log in the suite's logs as
 * `engine-<name>.log`. Stopping it closes its clients first; whatever is still running stops after the file.
 */
export async function extraEngine(
  name: string,
  opts: { env?: Record<string, string>; databaseUrl?: string; auth?: Credentials } = {},
): Promise<ExtraEngine> {
  const engine = await startEngineProcess({
    databaseUrl: opts.databaseUrl ?? inject('engineDbUrl'),
    host: '127.0.0.1',
    grpcPort: 0,
    restPort: 0,
    managementPort: 0,
    clockControlled: false,
    mode: opts.auth ? 'production' : 'local',
    auth: opts.auth,
    env: opts.env,
    logFile: path.join(ENGINE_TEST_DIR, 'logs', `engine-${name}.log`),
  });
  const clients: Camunda8[] = [];
  const extra: ExtraEngine = {
    ...engine,
    client(auth) {
      const c = sdk(`127.0.0.1:${engine.grpcPort}`, auth);
      clients.push(c);
      return c.getZeebeGrpcApiClient();
    },
    async stop() {
      for (const c of clients.splice(0)) await c.getZeebeGrpcApiClient().close();
      await engine.stop();
    },
  };
  extraEngines.push(extra);
  return extra;
}

let pool: pg.Pool | undefined;

/** The engine's own database (read-only use: what the engine wrote). */
export function engineDb() {
  pool ??= new pg.Pool({ connectionString: inject('engineDbUrl'), max: 3 });
  return pool;
}

afterAll(async () => {
  for (const e of extraEngines.splice(0)) await e.stop();
  await c8?.getZeebeGrpcApiClient().close();
  c8 = undefined;
  await pool?.end();
  pool = undefined;
});

export const rest = (p: string) => `${inject('engineRestBase')}${p}`;

export async function restCall(method: string, p: string, body?: unknown) {
  const res = await fetch(rest(p), {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

/** The controlled engine clock (management port). */
export const clock = {
  async now(): Promise<number> {
    const res = await fetch(`${inject('engineManagementBase')}/actuator/clock`);
    return ((await res.json()) as { epochMilli: number }).epochMilli;
  },
  async add(offsetMilli: number): Promise<number> {
    const res = await fetch(`${inject('engineManagementBase')}/actuator/clock/add`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ offsetMilli }),
    });
    if (!res.ok) throw new Error(`clock add answered ${res.status}`);
    return ((await res.json()) as { epochMilli: number }).epochMilli;
  },
};

export const DAY = 24 * 3600 * 1000;

let counter = 0;
/** A process id of its own for each test, so tests never see each other's instances. */
export function uniqueId(prefix: string) {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

/** A BPMN document in Zeebe's dialect around `body` (elements and flows, no diagram layout). */
export function bpmn(processId: string, body: string, extra = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"
  xmlns:modeler="http://camunda.org/schema/modeler/1.0" id="defs_${processId.replace(/[^A-Za-z0-9_]/g, '_')}"
  targetNamespace="http://kongchuo.cn/test" modeler:executionPlatform="Camunda Cloud" modeler:executionPlatformVersion="8.6.0">
  <bpmn:process id="${processId}" isExecutable="true">
${body}
  </bpmn:process>
${extra}
</bpmn:definitions>`;
}

/** A service task of job type `type` (with optional extension XML inside its extensionElements). */
export const serviceTask = (id: string, type: string, ext = '') =>
  `<bpmn:serviceTask id="${id}"><bpmn:extensionElements><zeebe:taskDefinition type="${type}" />${ext}</bpmn:extensionElements></bpmn:serviceTask>`;

export const flow = (id: string, from: string, to: string, condition?: string) =>
  condition
    ? `<bpmn:sequenceFlow id="${id}" sourceRef="${from}" targetRef="${to}"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${condition}</bpmn:conditionExpression></bpmn:sequenceFlow>`
    : `<bpmn:sequenceFlow id="${id}" sourceRef="${from}" targetRef="${to}" />`;

/** A straight chain start → …elements → end, flows between them in order. */
export function chain(ids: string[]): string {
  return ids
    .slice(1)
    .map((to, i) => flow(`f_${ids[i]}_${to}`, ids[i]!, to))
    .join('\n');
}

export async function deploy(name: string, xml: string) {
  return zeebe().deployResource({ name, process: Buffer.from(xml) });
}

/** start → work (a service task of job type `type`, with optional extension XML) → end. */
export const oneTaskBpmn = (id: string, type: string, ext = '') =>
  bpmn(
    id,
    `<bpmn:startEvent id="start" />${serviceTask('work', type, ext)}<bpmn:endEvent id="end" />${chain(['start', 'work', 'end'])}`,
  );

/** Deploys a new start → work → end process (job type `<id>-work`) on the suite's engine. */
export async function deployOneTask(prefix: string, ext = '') {
  const id = uniqueId(prefix);
  const type = `${id}-work`;
  await deploy(`${id}.bpmn`, oneTaskBpmn(id, type, ext));
  return { id, type };
}

/** Polls `probe` until it returns a value that is not undefined/false (or throws after `ms`). */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false>,
  ms = 10_000,
  what = 'condition',
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function instanceState(processInstanceKey: string): Promise<string | undefined> {
  const { rows } = await engineDb().query<{ state: string }>(
    `SELECT state FROM engine_process_instance WHERE key = $1`,
    [processInstanceKey],
  );
  return rows[0]?.state;
}

/** Every element instance's states, by element id, in creation order. */
export async function states(processInstanceKey: string): Promise<Record<string, string[]>> {
  const { rows } = await engineDb().query<{ element_id: string; state: string }>(
    `SELECT element_id, state FROM engine_element_instance WHERE process_instance_key = $1 ORDER BY key`,
    [processInstanceKey],
  );
  const out: Record<string, string[]> = {};
  for (const r of rows) (out[r.element_id] ??= []).push(r.state);
  return out;
}

/** Waits (up to 10 s) for the instance to complete. */
export const completed = (key: string) =>
  eventually(async () => (await instanceState(key)) === 'COMPLETED', 10_000, `instance ${key} completed`);

/** A variable's value on one scope, as the engine stores it. */
export async function variable(scopeKey: string, name: string) {
  const { rows } = await engineDb().query(`SELECT value FROM engine_variable WHERE scope_key = $1 AND name = $2`, [
    scopeKey,
    name,
  ]);
  return rows[0]?.value as unknown;
}

export async function completedElements(processInstanceKey: string): Promise<string[]> {
  const { rows } = await engineDb().query<{ element_id: string }>(
    `SELECT element_id FROM engine_element_instance WHERE process_instance_key = $1 AND state = 'COMPLETED' ORDER BY end_date, key`,
    [processInstanceKey],
  );
  return rows.map((r) => r.element_id);
}

/** The next job of `type`, activated for 30 s (waits up to 5 s for one to exist). */
export async function nextJob(type: string) {
  const [job] = await zeebe().activateJobs({
    type,
    worker: 'w',
    maxJobsToActivate: 1,
    timeout: 30_000,
    requestTimeout: 5_000,
  });
  if (!job) throw new Error(`no job of type ${type}`);
  return job;
}

/** Activates the next job of `type` and completes it with `variables`. */
export async function work(type: string, variables: Record<string, string | number | boolean> = {}) {
  const job = await nextJob(type);
  await zeebe().completeJob({ jobKey: job.key, variables });
  return job;
}
