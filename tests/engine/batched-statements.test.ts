/**
 * Engine-backed (the engine's PostgreSQL): the transaction layer's batched statements (engine/src/db/tx.ts).
 * A deferred statement with values goes out as `EXECUTE bN(literals…)` of a statement the connection
 * PREPAREd once, the PREPARE leading the message that first needs it. These tests pin what that must keep:
 * the values arrive as a bound statement would have them; each connection prepares a statement once; and a
 * command that fails — before its first message, in the middle of one, or at a PREPARE — leaves the
 * connection's idea of what it has prepared true, so the next command on it runs.
 *
 * One connection (pool max 1), so every transaction here meets what the earlier ones left on it.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { inTransaction } from '../../engine/src/db/tx.js';

const pool = new pg.Pool({ connectionString: inject('engineDbUrl'), max: 1 });

const INSERT = `INSERT INTO batch_probe (k, label, at, doc)
  SELECT k, l, $1, d FROM unnest($2::bigint[], $3::text[], $4::jsonb[]) AS t(k, l, d)`;

async function batchStatements(): Promise<{ name: string; statement: string }[]> {
  const { rows } = await pool.query<{ name: string; statement: string }>(
    `SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'b%' ORDER BY name`,
  );
  return rows;
}

beforeAll(async () => {
  await pool.query(`CREATE TEMP TABLE batch_probe (k bigint PRIMARY KEY, label text, at timestamptz, doc jsonb)`);
});

afterAll(async () => {
  await pool.end();
});

describe('batched statements: prepared once per connection, values as bound', () => {
  it('stores the values a bound statement would store, and prepares the statement once', async () => {
    const at = new Date('2026-09-01T08:30:00.123Z');
    const label = `it's a \\ backslash, 控辍保学 "quoted"`;
    const doc = { name: "O'Brien \\ 张", nested: { list: [1, 'two', null] } };
    await inTransaction(pool, async (db) => {
      db.defer(INSERT, [at, ['9007199254740993'], [label], [JSON.stringify(doc)]]);
    });
    await inTransaction(pool, async (db) => {
      db.defer(INSERT, [at, ['2', '3'], ['b', null], [JSON.stringify({ n: 2 }), 'null']]);
    });
    const { rows } = await pool.query(`SELECT k::text, label, at, doc FROM batch_probe ORDER BY k`);
    expect(rows).toEqual([
      { k: '2', label: 'b', at, doc: { n: 2 } },
      { k: '3', label: null, at, doc: null },
      { k: '9007199254740993', label, at, doc },
    ]);
    const prepared = (await batchStatements()).filter((s) => s.statement.includes('batch_probe'));
    expect(prepared).toHaveLength(1);
  });

  it('a command that fails before its first message leaves the connection able to run the statement', async () => {
    const text = `UPDATE batch_probe SET label = $2 WHERE k = $1::bigint`;
    await expect(
      inTransaction(pool, async (db) => {
        db.defer(text, ['2', 'never']);
        throw new Error('refused before anything was sent');
      }),
    ).rejects.toThrow('refused before anything was sent');
    // Nothing was sent, so nothing may count as prepared: the next command PREPAREs it and runs.
    await inTransaction(pool, async (db) => {
      db.defer(text, ['2', 'changed']);
    });
    const { rows } = await pool.query(`SELECT label FROM batch_probe WHERE k = 2`);
    expect(rows[0].label).toBe('changed');
  });

  it('a message that fails after its PREPARE rolls the whole command back and the statement stays usable', async () => {
    const text = `INSERT INTO batch_probe (k, label) VALUES ($1::bigint, $2)`;
    await expect(
      inTransaction(pool, async (db) => {
        db.defer(text, ['100', 'first']);
        db.defer(text, ['2', 'duplicate key']); // k = 2 exists: the message fails here
      }),
    ).rejects.toMatchObject({ code: '23505' });
    // All or nothing: the row before the failure is gone too.
    expect((await pool.query(`SELECT count(*)::int AS n FROM batch_probe WHERE k = 100`)).rows[0].n).toBe(0);
    // The PREPARE outlived the rollback (PREPARE is not transactional); the next command executes it
    // without preparing it again (a second PREPARE of the name would fail: 42P05).
    await inTransaction(pool, async (db) => {
      db.defer(text, ['100', 'second']);
    });
    expect((await pool.query(`SELECT label FROM batch_probe WHERE k = 100`)).rows[0].label).toBe('second');
    expect((await batchStatements()).filter((s) => s.statement.includes('VALUES ($1::bigint, $2)'))).toHaveLength(1);
  });

  it('a statement PostgreSQL cannot prepare fails its command with PostgreSQL’s error; the connection goes on', async () => {
    const behind = `DELETE FROM batch_probe WHERE k = $1::bigint AND label IS DISTINCT FROM 'kept'`;
    await expect(
      inTransaction(pool, async (db) => {
        db.defer(`SELECT $1 IS NULL`, ['x']);
        db.defer(behind, ['4']); // its PREPARE is queued behind the failing one, so it never runs
        await db.query(`SELECT 1`);
      }),
    ).rejects.toThrow(/could not determine data type of parameter \$1/);
    expect((await batchStatements()).some((s) => s.statement.includes('IS DISTINCT FROM'))).toBe(false);
    await inTransaction(pool, async (db) => {
      db.defer(INSERT, [new Date(), ['4', '5'], ['after', 'gone'], ['{}', '{}']]);
      db.defer(behind, ['5']); // prepared now: the rollback read back that it was not
    });
    const { rows } = await pool.query(`SELECT k::text, label FROM batch_probe WHERE k IN (4, 5) ORDER BY k`);
    expect(rows).toEqual([{ k: '4', label: 'after' }]);
  });

  it('queries() answers each statement in order, and one after a FOR UPDATE reads what the lock holder committed', async () => {
    // A real table: the lock holder is another connection (a job completion locks, then reads the scope chain).
    const table = `batch_lock_${process.pid}_${Date.now()}`;
    await pool.query(`CREATE TABLE ${table} (k int PRIMARY KEY, v text)`);
    const holder = new pg.Client({ connectionString: inject('engineDbUrl') });
    await holder.connect();
    try {
      await pool.query(`INSERT INTO ${table} VALUES (1, 'before')`);
      await holder.query('BEGIN');
      await holder.query(`UPDATE ${table} SET v = 'after' WHERE k = 1`); // holds the row lock
      const answered = inTransaction(pool, (db) =>
        db.queries([
          { text: `SELECT k FROM ${table} WHERE k = $1 FOR UPDATE`, values: [1] },
          { text: `SELECT v FROM ${table} WHERE k = $1`, values: [1] },
        ]),
      );
      await new Promise((r) => setTimeout(r, 200)); // the first statement now waits for the lock
      await holder.query('COMMIT');
      const [locked, read] = await answered;
      expect(locked!.rows).toEqual([{ k: 1 }]);
      // Its own snapshot, taken after the lock was granted (READ COMMITTED): the holder's committed value.
      expect(read!.rows).toEqual([{ v: 'after' }]);
    } finally {
      await holder.end();
      await pool.query(`DROP TABLE ${table}`);
    }
  });

  it('a query sent with queued statements reads its answer through the same prepared path', async () => {
    const read = await inTransaction(pool, async (db) => {
      db.defer(`UPDATE batch_probe SET label = $2 WHERE k = $1::bigint`, ['3', 'read back']);
      return db.query<{ label: string }>(`SELECT label FROM batch_probe WHERE k = $1::bigint`, ['3']);
    });
    expect(read.rows).toEqual([{ label: 'read back' }]);
    expect((await batchStatements()).some((s) => s.statement.includes('SELECT label FROM batch_probe'))).toBe(true);
  });
});
