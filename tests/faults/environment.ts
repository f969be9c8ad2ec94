/**
 * The system under fault: PostgreSQL and our engine in containers (testcontainers, on podman here),
 * our API and workers in this process (or the workers in a child process the test can SIGKILL),
 * wired as `infra/system.ts` wires them. Containers get fixed host ports (test slot 7, KC_FAULT_SLOT),
 * so a container that is killed and started again keeps its ports and every client reconnects to
 * the same address. The engine container runs engine/src/main.ts from the repository, mounted
 * read-only; it keeps no local files — all its state is in its PostgreSQL database, which is in the
 * PostgreSQL container. Optionally a second engine container on the same database (`engines: 2`).
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import {
  GenericContainer,
  getContainerRuntimeClient,
  Network,
  type StartedNetwork,
  type StartedTestContainer,
  Wait,
} from 'testcontainers';
import { inject } from 'vitest';
import { buildApp } from '../../api/app.js';
import { createEngineClient, type EngineClient } from '../../infra/camunda/client.js';
import { createEngineRecords, type EngineRecords } from '../../infra/camunda/records.js';
import { type Config, engineAddresses, REPO_ROOT } from '../../infra/config.js';
import { ENGINE_APP_DIR } from '../../infra/containers/images.js';
import { applyMigrations } from '../../infra/db/migrate.js';
import { startDatabases } from '../../infra/db/postgres.js';
import { createPrisma, type Prisma } from '../../infra/db/prisma.js';
import { seedDemo } from '../../infra/seed/demo.js';
import { PROCESSES_DIR } from '../../infra/system.js';
import { startWorkers, type RunningWorkers } from '../../workers/runtime.js';
import { FAULT_DATA_DIR, FAULT_SLOT, faultConfig, useContainerEnv, usesPodman } from './container-env.js';

export { faultConfig };

useContainerEnv();

/** Our engine is ready within seconds; the first start in a run also lets tsx compile engine/src. */
const ENGINE_START_TIMEOUT_MS = 120_000;
/**
 * Containers are found by name on their network (podman's DNS). Not by network alias: testcontainers
 * creates a container with aliases on the default network and then connects it to the test network,
 * and podman then forwards its published ports into both networks.
 */
const PG_NAME = `kc-faults-${FAULT_SLOT}-postgres`;
const engineName = (i: number) => `kc-faults-${FAULT_SLOT}-engine${i === 0 ? '' : `-${i + 1}`}`;
/** Engine i's host ports: the slot's own plus i × this (slots are 10 apart, so up to three engines stay in the slot). */
const ENGINE_PORT_STEP = 3;

/** One engine container: its container, the host-side configuration whose engine addresses are its own. */
export interface EngineNode {
  name: string;
  container: StartedTestContainer;
  /** faultConfig() with this engine's host ports: createEngineClient(cfg) talks to this engine. */
  cfg: Config;
  /** Waits until this engine answers again (readiness UP, topology with a healthy leader). */
  ready: (timeoutMs?: number) => Promise<void>;
}

export interface FaultSystem {
  cfg: Config;
  apiUrl: string;
  appUrl: string;
  engineUrl: string;
  prisma: Prisma;
  records: EngineRecords;
  client: EngineClient;
  /** Null when the workers run in a child process (startWorkersInProcess: false). */
  workers: RunningWorkers | null;
  app: FastifyInstance;
  postgres: StartedTestContainer;
  /** The first engine's container (the one cfg, the client, API and workers talk to). */
  engine: StartedTestContainer;
  /** Every engine container on the database (one unless StartOptions.engines says 2). */
  engines: EngineNode[];
  /** Waits until the first engine answers again (readiness UP, a healthy leader in its topology). */
  engineReady: (timeoutMs?: number) => Promise<void>;
  stop: () => Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The container runtime's own handle (dockerode) for what testcontainers does not offer: SIGKILL, pause. */
export async function dockerContainer(c: StartedTestContainer) {
  const client = await getContainerRuntimeClient();
  return client.container.getById(c.getId());
}

/** SIGKILL the container's main process (the engine's node / the postmaster): no shutdown hook runs. */
export async function killContainer(c: StartedTestContainer): Promise<void> {
  await (await dockerContainer(c)).kill({ signal: 'SIGKILL' });
  // Wait until the runtime reports it stopped, so the next start is a start and not a no-op.
  for (let i = 0; i < 100; i++) {
    const info = await (await dockerContainer(c)).inspect();
    if (!info.State.Running) return;
    await sleep(100);
  }
  throw new Error(`container ${c.getName()} still running after SIGKILL`);
}

/** Starts a stopped container again: same container, same file system and volumes, same fixed host ports. */
export async function startContainer(c: StartedTestContainer): Promise<void> {
  const since = Math.floor(Date.now() / 1000);
  await (await dockerContainer(c)).start();
  followLogs(c.getName(), since);
}

/** Where each engine container's output goes (testcontainers' log consumer follows only its first start). */
const logFiles = new Map<string, string>();

/** Appends the container's output from `since` (epoch seconds) on to its log file until it stops. */
function followLogs(name: string, since: number) {
  const file = logFiles.get(name.replace(/^\//, ''));
  if (!file) return;
  const out = fs.openSync(file, 'a');
  const cli = usesPodman() ? 'podman' : 'docker';
  const child = spawn(cli, ['logs', '--follow', '--since', String(since), name.replace(/^\//, '')], {
    stdio: ['ignore', out, out],
  });
  child.once('exit', () => fs.closeSync(out));
  child.once('error', () => undefined);
  child.unref();
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return res.json();
}

/**
 * Ready as our engine defines it: readiness UP (its database reachable and its schema in place) and a
 * healthy leader in its topology (Zeebe's shape, which our clients read). There is no exporter to wait
 * for: the engine writes zeebe_record in the same transaction as each state change.
 */
async function engineIsReady(cfg: Config): Promise<boolean> {
  const addr = engineAddresses(cfg);
  try {
    const health = (await getJson(`${addr.management}/actuator/health/readiness`)) as { status?: string };
    if (health.status !== 'UP') return false;
    const topo = (await getJson(`${addr.rest}/v2/topology`)) as {
      brokers?: { partitions?: { role: string; health: string }[] }[];
    };
    const leader = topo.brokers?.some((b) => b.partitions?.some((p) => p.role === 'leader' && p.health === 'healthy'));
    return Boolean(leader);
  } catch {
    return false;
  }
}

export async function waitEngineReady(cfg: Config, timeoutMs = ENGINE_START_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  while (!(await engineIsReady(cfg))) {
    if (Date.now() > deadline) throw new Error(`engine not ready after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** The host configuration of engine `i`: the first on the slot's ports, the others beside them. */
function engineNodeConfig(cfg: Config, i: number): Config {
  if (i === 0) return cfg;
  const d = ENGINE_PORT_STEP * i;
  return {
    ...cfg,
    ENGINE_REST_PORT: cfg.ENGINE_REST_PORT + d,
    ENGINE_GRPC_PORT: cfg.ENGINE_GRPC_PORT + d,
    ENGINE_MANAGEMENT_PORT: cfg.ENGINE_MANAGEMENT_PORT + d,
  };
}

/**
 * Engine container `i` on the test network: engine/src/main.ts from the repository mounted read-only,
 * every interface on the standard ports inside (the host maps the slot's), and the engine database in
 * the PostgreSQL container, reached by that container's name.
 */
async function startEngineContainer(
  cfg: Config,
  i: number,
  network: StartedNetwork,
  databaseUrl: string,
): Promise<StartedTestContainer> {
  const name = engineName(i);
  const log = path.join(cfg.logDir, `${name.replace(/^kc-faults-\d+-/, '')}-container-${process.pid}.log`);
  logFiles.set(name, log);
  return (
    new GenericContainer(inject('engineImage'))
      .withName(name)
      .withNetworkMode(network.getName())
      .withBindMounts([{ source: REPO_ROOT, target: ENGINE_APP_DIR, mode: 'ro' }])
      .withWorkingDir(ENGINE_APP_DIR)
      // Named after its container in `ps` on the host (the host sees the container's processes): this
      // engine is not a stray `engine/src/main.ts` of somebody's run, and it stops on SIGTERM/SIGINT.
      .withEntrypoint(['node', `--title=${name}`, '--import', 'tsx', `${ENGINE_APP_DIR}/engine/src/main.ts`])
      .withEnvironment({
        ENGINE_DATABASE_URL: databaseUrl,
        ENGINE_HOST: '0.0.0.0',
        ENGINE_GRPC_PORT: '26500',
        ENGINE_REST_PORT: '8080',
        ENGINE_MANAGEMENT_PORT: '9600',
        ENGINE_CLOCK_CONTROLLED: 'false',
        ENGINE_MODE: 'local',
        LOG_LEVEL: 'info',
      })
      .withExposedPorts(
        { container: 8080, host: cfg.ENGINE_REST_PORT },
        { container: 26500, host: cfg.ENGINE_GRPC_PORT },
        { container: 9600, host: cfg.ENGINE_MANAGEMENT_PORT },
      )
      .withLogConsumer((stream) => {
        const out = fs.createWriteStream(log, { flags: 'a' });
        stream.on('data', (line: Buffer | string) => out.write(line));
        stream.on('end', () => out.end());
      })
      .withWaitStrategy(Wait.forHttp('/actuator/health/readiness', 9600).forStatusCode(200))
      .withStartupTimeout(ENGINE_START_TIMEOUT_MS)
      .start()
  );
}

/** Retries `fn` until it resolves (a server still starting refuses connections for a moment). */
async function eventuallyOk<T>(fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(500);
    }
  }
}

export interface StartOptions {
  /** Run the job workers in this process (default) or leave them to a child process. */
  workersInProcess?: boolean;
  /** Pupils of the seeded demo county (as the integration tests: 1500). */
  pupils?: number;
  /** Engine containers on the one engine database (default 1); the API and workers use the first. */
  engines?: 1 | 2 | 3;
  say?: (line: string) => void;
}

/**
 * PostgreSQL container → app and engine databases → engine container(s) (the engine on its database in
 * the PostgreSQL container, over the container network) → migrations, demo county, deployment, read
 * model → workers and API in this process.
 */
export async function startFaultSystem(opts: StartOptions = {}): Promise<FaultSystem> {
  const say = opts.say ?? ((l: string) => process.stderr.write(`[faults] ${l}\n`));
  const cfg = faultConfig();
  // A fresh PostgreSQL container (and so a fresh engine) every file; the logs of earlier files stay
  // (app-<pid>.log per file). An engine-data directory left by earlier versions of these tests goes.
  fs.rmSync(path.join(FAULT_DATA_DIR, 'engine-data'), { recursive: true, force: true });
  fs.mkdirSync(cfg.logDir, { recursive: true });
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch((err: unknown) => say(`stop: ${(err as Error).message}`));
    stops.length = 0;
  };
  if (usesPodman()) {
    // Drops port forwards podman left from the previous file's containers (same fixed ports).
    execFileSync(path.join(REPO_ROOT, 'infra', 'containers', 'setup-podman.sh'), { stdio: 'inherit' });
  }
  const t = Date.now();
  const step = (name: string) => say(`${name} after ${((Date.now() - t) / 1000).toFixed(1)} s`);
  try {
    const network: StartedNetwork = await new Network().start();
    stops.push(() => network.stop());

    const postgres = await new GenericContainer(inject('postgresImage'))
      .withName(PG_NAME)
      .withNetworkMode(network.getName())
      .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
      .withExposedPorts({ container: 5432, host: Number(cfg.PG_PORT) })
      .withCommand(['-c', 'max_connections=200'])
      // Ours logs this once; the official image also for its initdb-time server (unix socket only):
      // the databases are then created once TCP connections succeed (below).
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/))
      .withStartupTimeout(60_000)
      .start();
    stops.push(() => postgres.stop({ timeout: 5 }));
    step('postgres container');
    const dbs = await eventuallyOk(() => startDatabases(cfg, say), 60_000);

    // Inside the container network the engine reaches PostgreSQL by its container name.
    const inner = new URL(dbs.engineUrl);
    inner.hostname = PG_NAME;
    inner.port = '5432';
    const engines: EngineNode[] = [];
    for (let i = 0; i < (opts.engines ?? 1); i++) {
      const nodeCfg = engineNodeConfig(cfg, i);
      const container = await startEngineContainer(nodeCfg, i, network, inner.toString());
      stops.push(() => container.stop({ timeout: 10 }));
      const node: EngineNode = {
        name: engineName(i),
        container,
        cfg: nodeCfg,
        ready: (timeoutMs?: number) => waitEngineReady(nodeCfg, timeoutMs),
      };
      await node.ready();
      engines.push(node);
      step(`${node.name} container`);
    }
    const engine = engines[0]!.container;
    const engineReady = engines[0]!.ready;

    await applyMigrations(dbs.appUrl);
    const prisma = createPrisma(dbs.appUrl);
    stops.push(() => prisma.$disconnect());
    await seedDemo(prisma, { pupils: opts.pupils ?? 1500 });
    step('migrations and demo county');

    const client = createEngineClient(cfg);
    stops.push(() => client.close());
    await client.deployDirectory(PROCESSES_DIR);
    const records = createEngineRecords(dbs.engineUrl);
    stops.push(() => records.close());
    const logger = pino(
      { level: 'info' },
      pino.destination({ dest: path.join(cfg.logDir, `app-${process.pid}.log`), sync: false }),
    );
    stops.push(() => new Promise<void>((resolve) => logger.flush(() => resolve())));
    let workers: RunningWorkers | null = null;
    if (opts.workersInProcess !== false) {
      workers = startWorkers(client.grpc, prisma, logger.child({ part: 'workers' }));
      const w = workers;
      stops.push(() => w.close());
    }
    const app = await buildApp({
      prisma,
      engine: client,
      records,
      logger: logger.child({ part: 'api' }),
      // A few hundred caseworkers sign in from one address (the test) within a minute.
      loginRateLimit: 100_000,
      // As npm start: interrupted submissions are settled from the journal (api/tasks/completion.ts).
      settleSubmissionsEveryMs: 5_000,
    });
    await app.listen({ host: '127.0.0.1', port: cfg.API_PORT });
    stops.push(() => app.close());
    step('deployment, workers and API');
    return {
      cfg,
      apiUrl: `http://127.0.0.1:${cfg.API_PORT}`,
      appUrl: dbs.appUrl,
      engineUrl: dbs.engineUrl,
      prisma,
      records,
      client,
      workers,
      app,
      postgres,
      engine,
      engines,
      engineReady,
      stop,
    };
  } catch (err) {
    await stop();
    // A container whose start failed half-way is not handed back by testcontainers (and there is no reaper).
    const client = await getContainerRuntimeClient();
    for (const name of [engineName(1), engineName(0), PG_NAME]) {
      await client.container
        .getById(name)
        .remove({ force: true })
        .catch(() => {});
    }
    throw err;
  }
}
