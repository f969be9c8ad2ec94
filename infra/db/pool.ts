import pg from 'pg';

/**
 * A pool whose idle connections may be cut by the server (a restart, or a terminal's Ctrl-C reaching
 * the embedded postgres before we stop it) without crashing the process: pg then drops the client and
 * the next query opens a new one. Without a listener, pg's 'error' event is fatal.
 */
export function resilientPool(connectionString: string, max?: number): pg.Pool {
  const pool = new pg.Pool({ connectionString, max });
  pool.on('error', () => {});
  return pool;
}
