/**
 * Runs the engine as a process of its own: `node --import tsx engine/src/main.ts`. Configuration
 * comes from the environment (typed and checked once here); logs are JSON lines on stdout; SIGTERM
 * or SIGINT stops the gateways first, then the engine's loops and its database pool. When every
 * port listens it prints one line `{"msg":"engine ready", …}` (the launcher waits for it).
 */
import pg from 'pg';
import { z } from 'zod';
import { Engine } from './core/engine.js';
import { historyQueries } from './core/search.js';
import { startGrpcGateway } from './gateway/grpc.js';
import { startManagement } from './gateway/management.js';
import { startRestGateway } from './gateway/rest.js';

const boolean = z.enum(['true', 'false']).transform((v) => v === 'true');
const port = z.coerce.number().int().min(0).max(65535);

const configSchema = z
  .object({
    /** PostgreSQL URL of the engine's own database (its tables are created on first start). */
    ENGINE_DATABASE_URL: z.string().min(1),
    /** Address every port binds to: loopback unless the deployment says otherwise. */
    ENGINE_HOST: z.string().default('127.0.0.1'),
    ENGINE_GRPC_PORT: port.default(26500),
    ENGINE_REST_PORT: port.default(8080),
    ENGINE_MANAGEMENT_PORT: port.default(9600),
    /** local: may run unprotected; production: refuses to start without ENGINE_USERNAME/ENGINE_PASSWORD. */
    ENGINE_MODE: z.enum(['local', 'production']).default('local'),
    ENGINE_USERNAME: z.string().optional(),
    ENGINE_PASSWORD: z.string().optional(),
    /** Tests only: the clock can be pinned and moved through the management port. */
    ENGINE_CLOCK_CONTROLLED: boolean.default(false),
    /** Connections of the engine's command pool. */
    ENGINE_DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
    /** Commands in flight before the engine answers RESOURCE_EXHAUSTED. */
    ENGINE_MAX_IN_FLIGHT: z.coerce.number().int().min(1).default(1000),
    /** The record log: `read` keeps what its readers read, `full` all of Zeebe's record stream (core/records.ts). */
    ENGINE_RECORD_LOG: z.enum(['read', 'full']).default('read'),
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  })
  .superRefine((c, ctx) => {
    if (c.ENGINE_MODE === 'production' && !(c.ENGINE_USERNAME && c.ENGINE_PASSWORD)) {
      ctx.addIssue({
        code: 'custom',
        message: 'ENGINE_MODE=production needs ENGINE_USERNAME and ENGINE_PASSWORD (basic authentication)',
      });
    }
    if (c.ENGINE_MODE === 'production' && c.ENGINE_CLOCK_CONTROLLED) {
      ctx.addIssue({
        code: 'custom',
        message: 'ENGINE_CLOCK_CONTROLLED is for tests and is refused in production mode',
      });
    }
  });

/** Connections for the REST gateway's variable and XML searches (core/search.ts historyQueries). */
const HISTORY_POOL_SIZE = 3;

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;

async function main() {
  const parsed = configSchema.safeParse(process.env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('; ');
    process.stderr.write(`${JSON.stringify({ level: 'error', msg: `engine configuration invalid: ${problems}` })}\n`);
    process.exit(2);
  }
  const cfg = parsed.data;
  const threshold = LEVELS[cfg.LOG_LEVEL];
  const log = (level: keyof typeof LEVELS, msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[level] < threshold) return;
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
  };
  const auth =
    cfg.ENGINE_USERNAME && cfg.ENGINE_PASSWORD
      ? { username: cfg.ENGINE_USERNAME, password: cfg.ENGINE_PASSWORD }
      : undefined;

  const engine = await Engine.start({
    databaseUrl: cfg.ENGINE_DATABASE_URL,
    clockControlled: cfg.ENGINE_CLOCK_CONTROLLED,
    poolSize: cfg.ENGINE_DB_POOL_SIZE,
    maxInFlight: cfg.ENGINE_MAX_IN_FLIGHT,
    recordLog: cfg.ENGINE_RECORD_LOG,
    log,
  });
  const host = cfg.ENGINE_HOST;
  // Variables and process XML for the REST search endpoints (what an API reading over REST asks): a few
  // connections of their own, beside the command pool.
  const historyPool = new pg.Pool({ connectionString: cfg.ENGINE_DATABASE_URL, max: HISTORY_POOL_SIZE });
  historyPool.on('error', (err) => log('warn', 'idle history connection failed', { err: err.message }));
  const history = historyQueries(historyPool);
  const [grpc, rest, management] = await Promise.all([
    startGrpcGateway(engine, { host, port: cfg.ENGINE_GRPC_PORT, auth, log }),
    startRestGateway(engine, { host, port: cfg.ENGINE_REST_PORT, auth, log, history }),
    startManagement(engine, { host, port: cfg.ENGINE_MANAGEMENT_PORT, log }),
  ]);
  log('info', 'engine ready', { grpcPort: grpc.port, restPort: rest.port, managementPort: management.port, host });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log('info', 'engine stopping', { signal });
    await grpc.close().catch(() => undefined);
    await rest.close().catch(() => undefined);
    await management.close().catch(() => undefined);
    await engine.stop().catch(() => undefined);
    await historyPool.end().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(
    `${JSON.stringify({ level: 'error', msg: `engine failed to start: ${(err as Error).message}` })}\n`,
  );
  process.exit(1);
});
