import pg from 'pg';

/**
 * A pool whose idle connections may be cut by the server (a restart, or a terminal's Ctrl-C reaching
 * the embedded postgres before we stop it) without crashing the process: pg then drops the client and
 * the next query opens a new one. Without a listener, pg's 'error' event is fatal.
 */
export function resilientPool(connectionString: string, max?: number): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    // A server that vanished (killed, its address gone) leaves sent queries without an answer or a
    // reset until TCP gives up, minutes later: bound the wait, so the API answers 503 meanwhile.
    query_timeout: queryTimeoutMs(),
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
  });
  pool.on('error', () => {});
  return pool;
}

/** DB_QUERY_TIMEOUT_MS (infra/config.ts): how long one query may wait for its answer; 0 = no limit. */
function queryTimeoutMs(): number | undefined {
  const ms = Number(process.env.DB_QUERY_TIMEOUT_MS ?? DEFAULT_QUERY_TIMEOUT_MS);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

export const DEFAULT_QUERY_TIMEOUT_MS = 30_000;
