/**
 * Transactions of the engine: each command runs in one, retried when PostgreSQL aborts it for a
 * deadlock or a serialization failure (two commands locking a parent and a child instance in
 * opposite order can meet; PostgreSQL picks a victim and the retry goes through).
 *
 * Round trips are what a command costs most (measured: on this VM a quarter to a third of the engine's
 * CPU went to the socket write of each statement, and PostgreSQL's backend pays the same again on its
 * side). So a transaction here is a `Db` that sends as little as it can:
 * - `BEGIN` travels with the command's first statement, `COMMIT` with its last writes;
 * - `defer()` queues a statement whose result nobody reads (the write-behind of element instances,
 *   variables, the record log, notifications); queued statements go out in order in front of the next
 *   `query()` or the commit, in one simple-protocol message;
 * - in that message a statement with values is `EXECUTE bN(literals…)` of a statement the connection
 *   PREPAREd the first time it sent it (the PREPARE leads the same message): parsed, analysed and
 *   planned once per connection, not once per command. Inlined as text, half of PostgreSQL's CPU went
 *   to parsing and planning the same few statements again (perf, streaming one-task load: planner 24 %,
 *   parse analysis 18 %, raw parser 8 %, executor 24 %). The literals are the text `pg` would have
 *   bound; PostgreSQL infers the parameters' types at PREPARE as it does for a bound statement;
 * - a statement sent on its own is a named prepared statement of the extended protocol (same effect).
 *
 * PREPARE is not transactional: a rolled-back transaction leaves what it prepared, and a message that
 * failed part-way prepared only its leading part, so after a rollback the connection's prepared set is
 * read back from `pg_prepared_statements` with the ROLLBACK.
 */
import pg from 'pg';
import pgUtils from 'pg/lib/utils.js';
import { EngineFault } from '../api.js';

/**
 * Every command's transaction plans without sequential scans (`SET LOCAL enable_seqscan = off`, sent with its
 * BEGIN). A command addresses its rows by key, and each of its statements has an index for that; but a
 * prepared statement keeps the generic plan PostgreSQL built at its sixth execution until the next ANALYZE of
 * its tables, and while a table is small (under 10 pages it is estimated at 10, ~300 rows) a sequential scan
 * is the cheaper plan. On a new database — until autovacuum first analyzes the tables, a minute or more into
 * the load; every test and benchmark run — the job completion's scope-chain read and its element-instance
 * update were planned as hash joins over a sequential scan of the element-instance history, and kept those
 * plans while the history grew: three sequential scans per job completion, PostgreSQL's CPU per one-task
 * instance 3.3 ms against 1.2–1.4 ms with index plans (a 15-second load on a fresh database;
 * tests/engine/young-database-plans.test.ts). A statement with no index to use still gets its sequential
 * scan; searches and the housekeeping loops, outside command transactions, are planned as PostgreSQL likes.
 */
const PLAN_BY_INDEX = 'SET LOCAL enable_seqscan = off';

/**
 * Deadlock detected, serialization failure: PostgreSQL aborted the transaction, a retry may pass.
 * KC001: `engine_expect_latest` found a newer process version than the command assumed (definitions.ts).
 */
const RETRYABLE_SQLSTATES = new Set(['40P01', '40001', 'KC001']);
const MAX_ATTEMPTS = 8;

/** Connection failures: the database is away; the command did not happen (or its commit is unknown). */
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03']);

export interface Db {
  /** Runs the statement (after whatever `defer()` queued) and answers its result. */
  query<R extends pg.QueryResultRow = any>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /**
   * Runs several statements in one message, in order, and answers their results. Each statement takes its
   * own snapshot when it starts (READ COMMITTED), so one that follows a `FOR UPDATE` reads what the lock's
   * previous holder committed.
   */
  queries(statements: { text: string; values?: unknown[] }[]): Promise<pg.QueryResult[]>;
  /** Queues a statement whose result nobody reads; it runs, in order, before the next query or the commit. */
  defer(text: string, values?: unknown[]): void;
  /** Runs `fn` if this transaction rolls back (what it assumed is forgotten before a retry). */
  afterRollback(fn: () => void): void;
  /**
   * A statement sent last, just before COMMIT and in the same message (no round trip of its own); `onResult`
   * gets its rows once the commit succeeded (never if the transaction rolls back).
   */
  atCommit<R extends pg.QueryResultRow = any>( // eslint-disable-line @typescript-eslint/no-explicit-any
    text: string,
    values: unknown[],
    onResult: (result: pg.QueryResult<R>) => void,
  ): void;
}

export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (
    (e.code !== undefined && CONNECTION_ERRORS.has(e.code)) ||
    /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect/.test(e.message ?? '')
  );
}

/**
 * The SQL literal of the text `pg` would have bound for a parameter (arrays as array literals, dates in
 * local time, objects as JSON): quotes doubled, and with a backslash an E'' string with backslashes doubled —
 * what `pg`'s escapeLiteral makes, by regular expression instead of a loop over characters (a command's
 * record log is tens of kilobytes).
 */
export function literal(value: unknown): string {
  const v = pgUtils.prepareValue(value) as unknown;
  if (v === null) return 'NULL';
  if (Buffer.isBuffer(v)) return `'\\x${v.toString('hex')}'::bytea`;
  const text = String(v);
  const quoted = text.includes("'") ? text.replace(/'/g, "''") : text;
  return text.includes('\\') ? ` E'${quoted.replace(/\\/g, '\\\\')}'` : `'${quoted}'`;
}

/** `text` with `$n` replaced by the literal of `values[n-1]` (our statements have no `$` elsewhere). */
export function inline(text: string, values: readonly unknown[] = []): string {
  if (values.length === 0) return text;
  return text.replace(/\$(\d+)/g, (whole, n: string) => {
    const i = Number(n) - 1;
    if (i < 0 || i >= values.length)
      throw new Error(`statement refers to ${whole}, but ${values.length} values were given`);
    return literal(values[i]);
  });
}

/** What the commands' transactions sent (the management port's metrics). */
export const transactionStats = { transactions: 0, roundTrips: 0, statements: 0 };

/** Statement texts → prepared-statement names, shared by every connection (bounded: dynamic texts stay unnamed). */
const names = new Map<string, string>();
const MAX_NAMED = 500;
function nameOf(text: string): string | undefined {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_NAMED) names.set(text, (name = `e${names.size}`));
  return name;
}

/**
 * The batch statements each connection has PREPAREd (named `b…`: `pg`'s own extended-protocol names are
 * `e…` and it keeps its own list of those, so the two never meet).
 */
const preparedOn = new WeakMap<pg.ClientBase, Set<string>>();
const BATCH_PREFIX = 'b';

function preparedSet(client: pg.ClientBase): Set<string> {
  let set = preparedOn.get(client);
  if (!set) preparedOn.set(client, (set = new Set()));
  return set;
}

/** After a rollback: what the connection really holds (a failed message prepared only its leading part). */
const PREPARED_SQL = `SELECT name FROM pg_prepared_statements WHERE name LIKE '${BATCH_PREFIX}%'`;

class Transaction implements Db {
  private pending: string[] = [];
  private final: { text: string; onResult: (result: pg.QueryResult) => void }[] = [];
  /**
   * PREPAREs the next message must lead with (its EXECUTEs are queued behind them); the connection's
   * prepared set takes them when they are sent, not before (a command that fails before its next
   * message never sends them).
   */
  private prepares: { name: string; text: string }[] = [];
  readonly rollbackHooks: (() => void)[] = [];
  /** BEGIN not sent yet: it goes in front of the first message. */
  begun = false;

  constructor(private readonly client: pg.PoolClient) {}

  /**
   * The text that runs `text` with `values` inside a batch: EXECUTE of the connection's prepared
   * statement (PREPAREd first if it is new here); a statement without values, or one of too many
   * distinct texts to name, inlined.
   */
  private batched(text: string, values?: unknown[]): string {
    if (!values || values.length === 0) return text;
    const name = nameOf(text);
    if (name === undefined) return inline(text, values);
    const batchName = BATCH_PREFIX + name.slice(1);
    if (!preparedSet(this.client).has(batchName) && !this.prepares.some((p) => p.name === batchName)) {
      this.prepares.push({ name: batchName, text: `PREPARE ${batchName} AS ${text}` });
    }
    return `EXECUTE ${batchName}(${values.map(literal).join(', ')})`;
  }

  defer(text: string, values?: unknown[]): void {
    this.pending.push(this.batched(text, values));
  }

  afterRollback(fn: () => void): void {
    this.rollbackHooks.push(fn);
  }

  atCommit<R extends pg.QueryResultRow>(
    text: string,
    values: unknown[],
    onResult: (result: pg.QueryResult<R>) => void,
  ): void {
    this.final.push({ text: this.batched(text, values), onResult: onResult as (result: pg.QueryResult) => void });
  }

  async query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    if (this.begun && this.pending.length === 0) {
      transactionStats.roundTrips++;
      transactionStats.statements++;
      if (!values || values.length === 0) return this.client.query<R>(text);
      const name = nameOf(text);
      return this.client.query<R>(name ? { name, text, values } : { text, values });
    }
    const [result] = await this.queries([{ text, values }]);
    return result as pg.QueryResult<R>;
  }

  async queries(list: { text: string; values?: unknown[] }[]): Promise<pg.QueryResult[]> {
    transactionStats.roundTrips++;
    const texts = list.map((q) => this.batched(q.text, q.values));
    const statements = this.take();
    statements.push(...texts);
    transactionStats.statements += statements.length;
    // take() leads with BEGIN or the queued statements, so the message holds two or more: an array.
    const results = (await this.client.query(statements.join(';\n'))) as unknown as pg.QueryResult[];
    return results.slice(results.length - list.length);
  }

  /** Sends what is queued and COMMIT in one message. */
  async commit(): Promise<void> {
    const final = this.final.splice(0);
    if (!this.begun && this.pending.length === 0 && final.length === 0 && this.prepares.length === 0) return; // BEGIN alone needs no COMMIT
    const statements = this.take();
    const firstFinal = statements.length;
    statements.push(...final.map((f) => f.text), 'COMMIT');
    transactionStats.roundTrips++;
    transactionStats.statements += statements.length;
    const results = (await this.client.query(statements.join(';\n'))) as unknown as pg.QueryResult[];
    final.forEach((f, i) => f.onResult(results[firstFinal + i]!));
  }

  private take(): string[] {
    const prepared = preparedSet(this.client);
    const statements = this.prepares.map((p) => (prepared.add(p.name), p.text));
    this.prepares = [];
    if (!this.begun) statements.push('BEGIN', PLAN_BY_INDEX);
    this.begun = true;
    statements.push(...this.pending);
    this.pending = [];
    return statements;
  }

  /** Rolls back and reads back what the connection has prepared (see the header). */
  async rollback(): Promise<void> {
    this.prepares = [];
    const [, held] = (await this.client.query(`ROLLBACK;\n${PREPARED_SQL}`)) as unknown as pg.QueryResult<{
      name: string;
    }>[];
    preparedOn.set(this.client, new Set(held!.rows.map((r) => r.name)));
  }
}

/**
 * One statement on its own (its own implicit transaction: atomic, one round trip — no BEGIN, no COMMIT),
 * with the same retries and the same answer to a lost database as a transaction.
 */
export async function inStatement<R extends pg.QueryResultRow>(
  pool: pg.Pool,
  text: string,
  values: unknown[],
): Promise<pg.QueryResult<R>> {
  for (let attempt = 1; ; attempt++) {
    transactionStats.transactions++;
    transactionStats.roundTrips++;
    transactionStats.statements++;
    try {
      const name = nameOf(text);
      return await pool.query<R>(name ? { name, text, values } : { text, values });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code && RETRYABLE_SQLSTATES.has(code) && attempt < MAX_ATTEMPTS) {
        await new Promise((r) => setTimeout(r, attempt * 5 * Math.random()));
        continue;
      }
      if (isConnectionError(err)) {
        throw new EngineFault('UNAVAILABLE', `the engine's database is unavailable: ${(err as Error).message}`);
      }
      throw err;
    }
  }
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
    const tx = new Transaction(client);
    transactionStats.transactions++;
    try {
      const result = await work(tx);
      await tx.commit();
      return result;
    } catch (err) {
      for (const hook of tx.rollbackHooks) hook();
      if (tx.begun) {
        await tx.rollback().catch(() => {
          broken = true;
        });
      }
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
