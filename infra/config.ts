/**
 * The one typed configuration of the platform. Every environment key has a type, a default and a
 * one-line description; it is validated once at start-up and the README's table is written from it.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** Repository root (this file lives in infra/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const port = z.coerce.number().int().min(1).max(65535);
const flag = z
  .enum(['true', 'false', '1', '0', ''])
  .transform((v) => v === 'true' || v === '1')
  .default(false);

/** Each key: schema with default, and the doc line that ends up in the README table. */
export const envSchema = z.object({
  /** local: everything bound to 127.0.0.1, engine API unprotected. production: refuses to start unprotected. */
  KC_MODE: z.enum(['local', 'production']).default('local'),
  /** Where the embedded PostgreSQL, engine data and logs live (kept between runs). */
  KC_DATA_DIR: z.string().default(path.join(REPO_ROOT, '.data')),
  /** Download cache (Node 24, the fault tests' container base), outside the repo. */
  KC_CACHE_DIR: z.string().default(path.join(os.homedir(), '.cache', 'kongchuo')),
  /** auto: on an empty database, load the synthetic demo county (local mode only); off: never. */
  KC_DEMO_DATA: z.enum(['auto', 'off']).default('auto'),
  /** Pupils in the demo county that auto loads (one county's ID numbers allow about 2.5 million). */
  KC_DEMO_PUPILS: z.coerce.number().int().min(100).max(2_500_000).default(70_000),
  /** App database on an external PostgreSQL; unset = embedded PostgreSQL 17. */
  DATABASE_URL: z.string().url().optional(),
  /** Engine database; default: same server as DATABASE_URL, database name + "_workflow". */
  ENGINE_DATABASE_URL: z.string().url().optional(),
  /** How long one database query may wait for its answer (a vanished server); 0 = no limit. Read by infra/db/pool.ts. */
  DB_QUERY_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000),
  /** Port of the embedded PostgreSQL (the machine's own server usually holds 5432). */
  PG_PORT: port.default(5433),
  /** Address the engine, API and embedded database bind to. */
  BIND_HOST: z.string().default('127.0.0.1'),
  /** Engine REST API (/v2) port. */
  ENGINE_REST_PORT: port.default(8080),
  /** Engine gRPC gateway port (job workers). */
  ENGINE_GRPC_PORT: port.default(26500),
  /** Engine management port (health, clock). */
  ENGINE_MANAGEMENT_PORT: port.default(9600),
  /** An engine started elsewhere (infra/serve.ts): its gateway's gRPC address, host:port. Unset = ours, on BIND_HOST. */
  ENGINE_GRPC_ADDRESS: z
    .string()
    .regex(/^[\w.-]+:\d+$|^\[[\da-fA-F:]+\]:\d+$/, 'host:port')
    .optional(),
  /** That engine's REST API (the /v2 base), e.g. http://kongchuo-engine:8080. */
  ENGINE_REST_ADDRESS: z.url({ protocol: /^https?$/ }).optional(),
  /** That engine's management API (health), e.g. http://kongchuo-engine:9600. */
  ENGINE_MANAGEMENT_ADDRESS: z.url({ protocol: /^https?$/ }).optional(),
  /** The engine API's user (basic authentication); required in production, where the engine is protected. */
  ENGINE_USERNAME: z.string().min(1).optional(),
  /** That user's password (from a secret, never from the repository). */
  ENGINE_PASSWORD: z.string().min(1).optional(),
  /**
   * Where the API reads tasks, variables and instance state: `database` = our engine's tables (its database,
   * ENGINE_DATABASE_URL); `rest` = the /v2 search API at ENGINE_REST_ADDRESS (a Camunda 8 cluster, which has
   * no such tables). Views that need the engine's tables (heatmaps, diagram history, progress) answer 501 in rest.
   */
  ENGINE_READ_MODEL: z.enum(['database', 'rest']).default('database'),
  /** Tests only: lets tests move the engine clock (/actuator/clock). Never in production. */
  ENGINE_CLOCK_CONTROLLED: flag,
  /** Seconds to wait for the engine to become ready. */
  ENGINE_START_TIMEOUT_S: z.coerce.number().int().positive().default(30),
  /** API (and console) port. */
  API_PORT: port.default(3000),
  /**
   * Origins (comma-separated, e.g. https://kc.example.gov.cn) allowed to call the API from a browser
   * besides the console it serves itself; empty = same origin only.
   */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url())),
  /** How often the API settles interrupted task submissions (the submission journal, api/tasks/completion.ts). */
  SUBMISSION_SETTLE_EVERY_MS: z.coerce.number().int().min(1000).default(5_000),
  /** Sign-in attempts per client address per minute (on top of the per-account lock-out). */
  LOGIN_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(60),
  /** Log level of API and workers (pino). */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof envSchema> & {
  dataDir: string;
  cacheDir: string;
  logDir: string;
};

export class ConfigError extends Error {}

/** Parses and checks the environment once; throws ConfigError naming every bad key. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const picked = Object.fromEntries(Object.keys(envSchema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]));
  const parsed = envSchema.safeParse(picked);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const cfg = parsed.data;
  if (cfg.KC_MODE === 'production' && cfg.ENGINE_CLOCK_CONTROLLED) {
    throw new ConfigError('ENGINE_CLOCK_CONTROLLED must not be set in production mode.');
  }
  if (cfg.KC_MODE === 'production' && (!cfg.ENGINE_USERNAME || !cfg.ENGINE_PASSWORD)) {
    throw new ConfigError(
      'KC_MODE=production needs ENGINE_USERNAME and ENGINE_PASSWORD: the engine API is protected there.',
    );
  }
  if (Boolean(cfg.ENGINE_USERNAME) !== Boolean(cfg.ENGINE_PASSWORD)) {
    throw new ConfigError('Set ENGINE_USERNAME and ENGINE_PASSWORD together.');
  }
  const dataDir = path.resolve(cfg.KC_DATA_DIR);
  return {
    ...cfg,
    dataDir,
    cacheDir: path.resolve(cfg.KC_CACHE_DIR),
    logDir: path.join(dataDir, 'logs'),
  };
}

/** The host a local client dials for a server bound to BIND_HOST (wildcards become loopback), URL-ready. */
export function clientHost(cfg: Config): string {
  const host = cfg.BIND_HOST === '0.0.0.0' ? '127.0.0.1' : cfg.BIND_HOST === '::' ? '::1' : cfg.BIND_HOST;
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Addresses derived from the configuration, used by every client of the engine: the engine's own on
 * BIND_HOST, or one started elsewhere (ENGINE_*_ADDRESS).
 */
export function engineAddresses(cfg: Config) {
  const host = clientHost(cfg);
  return {
    rest: cfg.ENGINE_REST_ADDRESS?.replace(/\/+$/, '') ?? `http://${host}:${cfg.ENGINE_REST_PORT}`,
    grpc: cfg.ENGINE_GRPC_ADDRESS ?? `${host}:${cfg.ENGINE_GRPC_PORT}`,
    management: cfg.ENGINE_MANAGEMENT_ADDRESS?.replace(/\/+$/, '') ?? `http://${host}:${cfg.ENGINE_MANAGEMENT_PORT}`,
  };
}
