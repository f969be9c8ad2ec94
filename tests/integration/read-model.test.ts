/**
 * The user-task projection (infra/camunda/read-model.ts) on a schema of its own in the engine
 * database: records exported before the trigger existed are backfilled, later ones kept by the
 * trigger, a record arriving out of order never replaces a later state, an unreadable due date does
 * not stop the exporter, and preparing twice changes nothing.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { prepareReadModel } from '../../infra/camunda/read-model.js';

const SCHEMA = 'read_model_test';
const url = `${inject('engineDatabaseUrl')}${inject('engineDatabaseUrl').includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${SCHEMA}`)}`;
const db = new pg.Client({ connectionString: url });

async function exported(position: number, key: number, intent: string, value: Record<string, unknown>) {
  await db.query(
    `INSERT INTO zeebe_record (partition_id, position, record_key, ts, value_type, intent, value)
     VALUES (1, $1, $2, now(), 'USER_TASK', $3, $4)`,
    [position, key, intent, JSON.stringify({ elementId: 'visitFamily', candidateGroupsList: ['class:1'], ...value })],
  );
}

async function latest(key: number) {
  const { rows } = await db.query<{ intent: string; position: string; due_date: Date | null; is_open: boolean }>(
    'SELECT intent, position, due_date, is_open FROM user_task_latest WHERE record_key = $1',
    [key],
  );
  return rows[0];
}

beforeAll(async () => {
  await db.connect();
  await db.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; CREATE SCHEMA ${SCHEMA}`);
  await db.query(`CREATE TABLE zeebe_record (partition_id int NOT NULL, position bigint NOT NULL, record_key bigint NOT NULL,
    ts timestamptz NOT NULL, value_type text NOT NULL, intent text NOT NULL, value jsonb NOT NULL, PRIMARY KEY (partition_id, position))`);
});
afterAll(async () => {
  await db.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await db.end();
});

describe('user-task read model (engine database)', () => {
  it('backfills, follows the exporter, keeps the latest position and survives a bad due date', async () => {
    await exported(10, 501, 'CREATING', {});
    await exported(11, 501, 'CREATED', { dueDate: '2026-11-26T15:59:59Z[Etc/UTC]' });
    await prepareReadModel(url);
    expect(await latest(501)).toMatchObject({ intent: 'CREATED', is_open: true });
    expect((await latest(501))!.due_date?.toISOString()).toBe('2026-11-26T15:59:59.000Z');

    await exported(13, 501, 'COMPLETED', {});
    await exported(12, 501, 'ASSIGNED', {}); // exported late (another batch): must not reopen the task
    expect(await latest(501)).toMatchObject({ intent: 'COMPLETED', position: '13', is_open: false });

    await exported(20, 502, 'CREATED', { dueDate: 'not a date' });
    expect(await latest(502)).toMatchObject({ intent: 'CREATED', due_date: null, is_open: true });

    await prepareReadModel(url);
    const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM user_task_latest');
    expect(rows[0]!.n).toBe('2');
    expect(await latest(501)).toMatchObject({ intent: 'COMPLETED', position: '13' });
  });
});
