/**
 * Transactions of the engine: each command runs in one, retried when PostgreSQL aborts it for a
 * deadlock or a serialization failure (two commands locking a parent and a child instance in
 * opposite order can meet; PostgreSQL picks a victim and the retry goes through).
 */
import pg from 'pg';
import { EngineFault } from '../api.js';

/** Deadlock detected, serialization failure: PostgreSQL aborted the transaction, a retry may pass. */
const RETRYABLE_SQLSTATES = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 8;

/** Connection failures: the database is away; the command did not happen (or its commit is unknown). */
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03']);

export type Db = pg.PoolClient;

export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (
    (e.code !== undefined && CONNECTION_ERRORS.has(e.code)) ||
    /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect/.test(e.message ?? '')
  );
}

export async function inTransaction<T>(pool: pg.Pool, work: (db: Db) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw new EngineFault('UNAVAILABLE', `the engine's database is unavailable: ${(err as Error).message}`);
    }
    let broken = false;
    // A connection that dies between two queries of the command (the database shutting down under us)
    // emits 'error' on the client; unheard, that would end the engine process.
    const onError = () => {
      broken = true;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      const code = (err as { code?: string }).code;
      if (code && RETRYABLE_SQLSTATES.has(code) && attempt < MAX_ATTEMPTS) {
        await new Promise((r) => setTimeout(r, attempt * 5 * Math.random()));
        continue;
      }
      if (isConnectionError(err)) {
        broken = true;
        throw new EngineFault('UNAVAILABLE', `the engine's database is unavailable: ${(err as Error).message}`);
      }
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }
}
