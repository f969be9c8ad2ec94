/**
 * The system under fault: PostgreSQL and the engine in containers (testcontainers, on podman here),
 * our API and workers in this process (or the workers in a child process the test can SIGKILL),
 * wired as `infra/system.ts` wires them. Containers get fixed host ports (test slot 7, KC_FAULT_SLOT),
 * so a container that is killed and started again keeps its ports and every client reconnects to
 * the same address; the engine keeps its data in a host directory mounted into the container.
 */
import { execFileSync } from 'node:child_process';
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
import { type EngineDatabase, engineConfiguration } from '../../infra/camunda/engine.js';
import { prepareReadModel } from '../../infra/camunda/read-model.js';
import { createEngineRecords, type EngineRecords } from '../../infra/camunda/records.js';
import { type Config, engineAddresses, loadConfig, REPO_ROOT } from '../../infra/config.js';
import { applyMigrations } from '../../infra/db/migrate.js';
import { startDatabases } from '../../infra/db/postgres.js';
import { createPrisma, type Prisma } from '../../infra/db/prisma.js';
import { seedDemo } from '../../infra/seed/demo.js';
import { exporterTableExists, PROCESSES_DIR } from '../../infra/system.js';
import { startWorkers, type RunningWorkers } from '../../workers/runtime.js';
import { FAULT_DATA_DIR, FAULT_SLOT, faultConfig, useContainerEnv, usesPodman } from './container-env.js';

export { faultConfig };

useContainerEnv();

const ENGINE_HOME = '/usr/local/zeebe';
const ENGINE_CONFIG = `${ENGINE_HOME}/config/kongchuo.yaml`;
const ENGINE_EXPORTER = `${ENGINE_HOME}/exporters/kongchuo-exporter-test.jar`;
const ENGINE_START_TIMEOUT_MS = 240_000;
/**
 * Containers are found by name on their network (podman's DNS). Not by network alias: testcontainers
 * creates a container with aliases on the default network and then connects it to the test network,
 * and podman then forwards its published ports into both networks.
 */
const PG_NAME = `kc-faults-${FAULT_SLOT}-postgres`;
const ENGINE_NAME = `kc-faults-${FAULT_SLOT}-engine`;

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
  engine: StartedTestContainer;
  /** Waits until the engine answers, has a healthy leader and its exporter writes again. */
  engineReady: (timeoutMs?: number) => Promise<void>;
  stop: () => Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The container runtime's own handle (dockerode) for what testcontainers does not offer: SIGKILL, pause. */
export async function dockerContainer(c: StartedTestContainer) {
  const client = await getContainerRuntimeClient();
  return client.container.getById(c.getId());
}

/** SIGKILL the container's main process (the JVM / the postmaster): no shutdown hook runs. */
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
  await (await dockerContainer(c)).start();
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return res.json();
}

/** Ready as infra/camunda/engine.ts defines it: readiness UP, a healthy leader, the exporter's table. */
async function engineIsReady(cfg: Config, engineUrl: string): Promise<boolean> {
  const addr = engineAddresses(cfg);
  try {
    const health = (await getJson(`${addr.management}/actuator/health/readiness`)) as { status?: string };
    if (health.status !== 'UP') return false;
    const topo = (await getJson(`${addr.rest}/v2/topology`)) as {
      brokers?: { partitions?: { role: string; health: string }[] }[];
    };
    const leader = topo.brokers?.some((b) => b.partitions?.some((p) => p.role === 'leader' && p.health === 'healthy'));
    return Boolean(leader) && (await exporterTableExists(engineUrl));
  } catch {
    return false;
  }
}

export async function waitEngineReady(cfg: Config, engineUrl: string, timeoutMs = ENGINE_START_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  while (!(await engineIsReady(cfg, engineUrl))) {
    if (Date.now() > deadline) throw new Error(`engine not ready after ${timeoutMs} ms`);
    await sleep(500);
  }
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
  say?: (line: string) => void;
}

/**
 * PostgreSQL container → app and engine databases → engine container (our exporter writing to the
 * PostgreSQL container over the container network) → migrations, demo county, deployment, read
 * model → workers and API in this process.
 */
export async function startFaultSystem(opts: StartOptions = {}): Promise<FaultSystem> {
  const say = opts.say ?? ((l: string) => process.stderr.write(`[faults] ${l}\n`));
  const cfg = faultConfig();
  // A fresh engine every file; the logs of earlier files stay (app-<pid>.log per file).
  const engineDataDir = path.join(FAULT_DATA_DIR, 'engine-data');
  fs.rmSync(engineDataDir, { recursive: true, force: true });
  fs.mkdirSync(engineDataDir, { recursive: true });
  // The official image runs the broker as an unprivileged user (ours as root): let either write.
  fs.chmodSync(engineDataDir, 0o777);
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

    const engineDb: EngineDatabase = {
      jdbcUrl: `jdbc:postgresql://${PG_NAME}:5432/kongchuo_engine`,
      user: 'postgres',
      password: '',
      exporterReady: async () => true,
    };
    // The engine inside the container binds every interface on the standard ports; the host maps them.
    const inner = loadConfig({
      BIND_HOST: '0.0.0.0',
      ENGINE_REST_PORT: '8080',
      ENGINE_GRPC_PORT: '26500',
      ENGINE_MANAGEMENT_PORT: '9600',
      ENGINE_COMMAND_PORT: '26501',
      ENGINE_INTERNAL_PORT: '26502',
    });
    const yaml = engineConfiguration(inner, engineDb, { jarPath: ENGINE_EXPORTER }, ENGINE_HOME);
    yaml.zeebe.broker.network = {
      ...yaml.zeebe.broker.network,
      advertisedHost: ENGINE_NAME,
    } as typeof yaml.zeebe.broker.network;
    const engine = await new GenericContainer(inject('engineImage'))
      .withName(ENGINE_NAME)
      .withNetworkMode(network.getName())
      .withEnvironment({
        SPRING_CONFIG_ADDITIONAL_LOCATION: `file:${ENGINE_CONFIG}`,
        JAVA_OPTS: '-Xms256m -Xmx768m',
      })
      .withCopyContentToContainer([{ content: JSON.stringify(yaml, null, 2), target: ENGINE_CONFIG }])
      .withCopyFilesToContainer([{ source: inject('exporterJar'), target: ENGINE_EXPORTER }])
      .withBindMounts([{ source: engineDataDir, target: `${ENGINE_HOME}/data` }])
      .withExposedPorts(
        { container: 8080, host: Number(cfg.ENGINE_REST_PORT) },
        { container: 26500, host: Number(cfg.ENGINE_GRPC_PORT) },
        { container: 9600, host: Number(cfg.ENGINE_MANAGEMENT_PORT) },
        // Podman lists every port the image EXPOSEs among the port bindings, and testcontainers waits
        // until each is bound: the broker's internal ports are published too (unused from the host).
        { container: 26501, host: Number(cfg.ENGINE_COMMAND_PORT) },
        { container: 26502, host: Number(cfg.ENGINE_INTERNAL_PORT) },
      )
      .withLogConsumer((stream) => {
        const out = fs.createWriteStream(path.join(cfg.logDir, `engine-container-${process.pid}.log`), { flags: 'a' });
        stream.on('data', (line: Buffer | string) => out.write(line));
        stream.on('end', () => out.end());
      })
      .withWaitStrategy(Wait.forHttp('/actuator/health/readiness', 9600).forStatusCode(200))
      .withStartupTimeout(ENGINE_START_TIMEOUT_MS)
      .start();
    stops.push(() => engine.stop({ timeout: 10 }));
    const engineReady = (timeoutMs?: number) => waitEngineReady(cfg, dbs.engineUrl, timeoutMs);
    await engineReady();
    step('engine container');

    await applyMigrations(dbs.appUrl);
    const prisma = createPrisma(dbs.appUrl);
    stops.push(() => prisma.$disconnect());
    await seedDemo(prisma, { pupils: opts.pupils ?? 1500 });
    step('migrations and demo county');

    const client = createEngineClient(cfg);
    stops.push(() => client.close());
    await client.deployDirectory(PROCESSES_DIR);
    await prepareReadModel(dbs.engineUrl);
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
      engineReady,
      stop,
    };
  } catch (err) {
    await stop();
    // A container whose start failed half-way is not handed back by testcontainers (and there is no reaper).
    const client = await getContainerRuntimeClient();
    for (const name of [ENGINE_NAME, PG_NAME]) {
      await client.container
        .getById(name)
        .remove({ force: true })
        .catch(() => {});
    }
    throw err;
  }
}
