/**
 * The production entry point: one part of the system against an engine and databases that run
 * elsewhere (the Helm manifests in infra/helm/kongchuo start it), where `npm start` starts everything
 * itself on one machine.
 *
 *   node --import tsx infra/serve.ts --role=api       migrations, deployment of processes/, API + console
 *   node --import tsx infra/serve.ts --role=workers   the job workers
 *
 * Needs DATABASE_URL (ENGINE_DATABASE_URL defaults beside it) and the engine's ENGINE_GRPC_ADDRESS and
 * ENGINE_REST_ADDRESS. Logs go to stdout as JSON (the container runtime collects them). SIGTERM or
 * SIGINT stops the part in order — the workers drain their running jobs first — and exits 0.
 */
import pg from 'pg';
import { pino } from 'pino';
import { buildApp } from '../api/app.js';
import { LOG_REDACT_PATHS } from '../api/domain/mask.js';
import { startWorkers } from '../workers/runtime.js';
import { createEngineClient } from './camunda/client.js';
import { deployedChecksums } from './camunda/deployed.js';
import { createReadModel } from './camunda/records-rest.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { applyMigrations } from './db/migrate.js';
import { startDatabases } from './db/postgres.js';
import { createPrisma } from './db/prisma.js';
import { apiSettings, PROCESSES_DIR } from './system.js';

const ROLES = ['api', 'workers'] as const;
type Role = (typeof ROLES)[number];

/** Advisory-lock key of "migrating the app database": API replicas starting together migrate one by one. */
const MIGRATION_LOCK = 7302;

function parseRole(argv: string[]): Role {
  const arg = argv.find((a) => a.startsWith('--role='))?.slice('--role='.length);
  if (!arg || !(ROLES as readonly string[]).includes(arg)) {
    throw new ConfigError(`Usage: infra/serve.ts --role=${ROLES.join('|')} (got ${arg ? `"${arg}"` : 'no role'}).`);
  }
  return arg as Role;
}

/** What a part needs from the environment that `npm start` would otherwise provide itself. */
function checkServeConfig(cfg: Config): asserts cfg is Config & { DATABASE_URL: string } {
  const missing = (['DATABASE_URL', 'ENGINE_GRPC_ADDRESS', 'ENGINE_REST_ADDRESS'] as const).filter((k) => !cfg[k]);
  if (missing.length > 0) {
    throw new ConfigError(
      `infra/serve.ts runs against an engine and a database started elsewhere: set ${missing.join(', ')}.`,
    );
  }
}

async function migrateOnce(databaseUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    return await applyMigrations(databaseUrl);
  } finally {
    await client.end().catch(() => {});
  }
}

async function main() {
  const role = parseRole(process.argv.slice(2));
  const cfg = loadConfig();
  checkServeConfig(cfg);
  const log = pino({ level: cfg.LOG_LEVEL, redact: LOG_REDACT_PATHS, base: { role } });
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch((err: Error) => log.warn({ err: err.message }, 'stop failed'));
  };
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    void stop().then(() => {
      log.info('stopped');
      log.flush();
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));

  try {
    const dbs = await startDatabases(cfg, (m) => log.info(m));
    const prisma = createPrisma(dbs.appUrl);
    stops.push(() => prisma.$disconnect());
    const engine = createEngineClient(cfg);
    stops.push(engine.close);

    if (role === 'workers') {
      const workers = startWorkers(engine.grpc, prisma, log.child({ part: 'workers' }));
      stops.push(workers.close);
      log.info({ jobTypes: workers.types.length }, 'workers started');
      return;
    }

    const applied = await migrateOnce(dbs.appUrl);
    if (applied.length) log.info({ applied }, 'migrations applied');
    const { processes, unchanged } = await engine.deployDirectory(
      PROCESSES_DIR,
      await deployedChecksums(dbs.engineUrl),
    );
    log.info({ processes: processes.map((p) => `${p.bpmnProcessId} v${p.version}`), unchanged }, 'processes deployed');
    const records = createReadModel(cfg, dbs.engineUrl);
    stops.push(records.close);
    const app = await buildApp({
      prisma,
      engine,
      records,
      logger: log.child({ part: 'api' }),
      ...apiSettings(cfg),
    });
    stops.push(() => app.close());
    await app.listen({ host: cfg.BIND_HOST, port: cfg.API_PORT });
    log.info({ port: cfg.API_PORT }, 'api listening');
  } catch (err) {
    await stop();
    throw err;
  }
}

main().catch((err: unknown) => {
  console.error(`serve failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
