/**
 * Starts the whole system in order — database → engine → migrations → deployment → workers → API —
 * timing each step, and stops it in reverse. A failing step stops whatever had started before it,
 * so a failed start leaves nothing running. Used by `npm start` and by the test suite's setup.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { buildApp } from '../api/app.js';
import { LOG_REDACT_PATHS } from '../api/domain/mask.js';
import { startWorkers } from '../workers/runtime.js';
import { createEngineClient } from './camunda/client.js';
import { deployedChecksums } from './camunda/deployed.js';
import { createReadModel } from './camunda/records-rest.js';
import { clientHost, type Config, REPO_ROOT } from './config.js';
import { DEMO_PASSWORD, seedDemo } from './seed/demo.js';
import { assertPortsFree } from './ports.js';
import { applyMigrations } from './db/migrate.js';
import { createPrisma } from './db/prisma.js';
import { type Databases, startDatabases } from './db/postgres.js';
import { startEngine } from './engine/engine.js';

export const PROCESSES_DIR = path.join(REPO_ROOT, 'processes');

export interface System {
  dbs: Databases;
  apiUrl: string;
  stop: () => Promise<void>;
}

export interface StartOptions {
  /** Progress lines for a person (npm start prints them). */
  say?: (line: string) => void;
  /**
   * Aborting it (npm start's Ctrl-C during start-up) stops the start before its next step, stops what had
   * started, and rejects with the signal's reason. A step that is running is let finish, so that what it
   * starts is known and stopped too.
   */
  signal?: AbortSignal;
}

function appLogger(cfg: Config): Logger {
  fs.mkdirSync(cfg.logDir, { recursive: true });
  return pino(
    { level: cfg.LOG_LEVEL, redact: LOG_REDACT_PATHS },
    pino.destination({ dest: path.join(cfg.logDir, 'app.log'), sync: false }),
  );
}

/** The API's settings from the configuration (npm start and infra/serve.ts alike). */
export function apiSettings(cfg: Config) {
  return {
    secureCookies: cfg.KC_MODE === 'production',
    corsOrigins: cfg.CORS_ORIGINS,
    loginRateLimit: cfg.LOGIN_RATE_LIMIT_PER_MINUTE,
    settleSubmissionsEveryMs: cfg.SUBMISSION_SETTLE_EVERY_MS,
  };
}

export async function startSystem(cfg: Config, opts: StartOptions = {}): Promise<System> {
  const say = opts.say ?? (() => {});
  const stops: { name: string; fn: () => Promise<unknown> }[] = [];
  const stopAll = async () => {
    for (const { name, fn } of stops.reverse()) {
      try {
        await fn();
        say(`  stopped ${name}`);
      } catch (err) {
        say(`  stopping ${name} failed: ${(err as Error).message}`);
      }
    }
    stops.length = 0;
  };
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    opts.signal?.throwIfAborted();
    const t0 = Date.now();
    say(`• ${name}…`);
    const result = await fn();
    say(`  ${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return result;
  };

  try {
    await assertPortsFree(cfg.BIND_HOST, { API_PORT: cfg.API_PORT });
    const dbs = await step('database', () => startDatabases(cfg, say));
    stops.push({ name: 'database', fn: dbs.stop });

    const engine = await step('engine', () => startEngine(cfg, dbs.engineUrl, say));
    stops.push({ name: 'engine', fn: engine.stop });

    await step('migrations', async () => {
      const applied = await applyMigrations(dbs.appUrl);
      if (applied.length) say(`  applied ${applied.join(', ')}`);
    });

    const prisma = createPrisma(dbs.appUrl);
    stops.push({ name: 'prisma', fn: () => prisma.$disconnect() });
    if (cfg.KC_DEMO_DATA === 'auto' && cfg.KC_MODE === 'local' && (await prisma.region.count()) === 0) {
      await step('demo data', async () => {
        const summary = await seedDemo(prisma, { pupils: cfg.KC_DEMO_PUPILS, say: (l) => say(`  ${l}`) });
        say(
          `  ${summary.children} children, ${summary.schools} schools, ${summary.users} demo users (password ${DEMO_PASSWORD})`,
        );
      });
    }

    const client = createEngineClient(cfg);
    stops.push({ name: 'engine client', fn: client.close });
    await step('deployment', async () => {
      const { processes, unchanged } = await client.deployDirectory(
        PROCESSES_DIR,
        await deployedChecksums(dbs.engineUrl),
      );
      const deployed = processes.map((p) => `${p.bpmnProcessId} v${p.version}`).join(', ') || 'nothing new';
      say(`  ${deployed}${unchanged.length ? ` (${unchanged.length} files the engine already had left out)` : ''}`);
    });

    const logger = appLogger(cfg);
    // Stopped after everything that logs: pino writes asynchronously and would drop the last lines.
    stops.push({ name: 'logs', fn: () => new Promise<void>((resolve) => logger.flush(() => resolve())) });
    const records = createReadModel(cfg, dbs.engineUrl);
    stops.push({ name: 'read model', fn: records.close });

    const workers = await step('workers', async () =>
      startWorkers(client.grpc, prisma, logger.child({ part: 'workers' })),
    );
    stops.push({ name: 'workers', fn: workers.close });

    const app = await step('api', async () => {
      const a = await buildApp({
        prisma,
        engine: client,
        records,
        logger: logger.child({ part: 'api' }),
        ...apiSettings(cfg),
      });
      await a.listen({ host: cfg.BIND_HOST, port: cfg.API_PORT });
      return a;
    });
    stops.push({ name: 'api', fn: () => app.close() });
    opts.signal?.throwIfAborted();

    return { dbs, apiUrl: `http://${clientHost(cfg)}:${cfg.API_PORT}`, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
