/**
 * Engine-backed: on a new database the engine's commands still find their rows by index (engine/src/db/tx.ts,
 * PLAN_BY_INDEX). A prepared statement keeps the generic plan PostgreSQL built at its sixth execution until its
 * tables are next analyzed (PostgreSQL docs, sql-prepare, "Notes": generic and custom plans; plan caching
 * follows the statistics, not the table's growth), and a young table looks small enough for a sequential scan
 * to be the cheaper plan. Without the cure, every job completion scanned the whole element-instance history
 * three times, and went on doing so as it grew.
 *
 * A database of its own, created here and never analyzed (autovacuum waits a minute before its first look),
 * and a second engine process on it with one connection, so the statements' generic plans are built on that
 * connection while the tables are empty. Then instances of start → task → end run one after another, and
 * PostgreSQL's table statistics (flushed when the engine's backend exits) tell how many element-instance rows
 * were read sequentially.
 */
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { withDatabase } from '../../infra/db/postgres.js';
import { type ExtraEngine, extraEngine, oneTaskBpmn } from './helpers.js';

const DATABASE = 'engine_young_plans';
const INSTANCES = 200;

let engine: ExtraEngine | undefined;
const admin = new pg.Client({ connectionString: withDatabase(inject('engineDbUrl'), 'postgres') });

afterAll(async () => {
  await engine?.stop();
  await admin.query(`DROP DATABASE IF EXISTS ${DATABASE}`).catch(() => undefined);
  await admin.end();
});

describe('a new database (PostgreSQL docs: sql-prepare, generic plans)', () => {
  it('completes jobs without reading the element-instance history sequentially', async () => {
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE}`);
    await admin.query(`CREATE DATABASE ${DATABASE}`);
    const databaseUrl = withDatabase(inject('engineDbUrl'), DATABASE);
    engine = await extraEngine('young-plans', { databaseUrl, env: { ENGINE_DB_POOL_SIZE: '1' } });
    const zeebe = engine.client();
    await zeebe.deployResource({ name: 'young.bpmn', process: Buffer.from(oneTaskBpmn('young', 'young-work')) });
    for (let i = 0; i < INSTANCES; i++) {
      await zeebe.createProcessInstance({ bpmnProcessId: 'young', variables: { i } });
      const [job] = await zeebe.activateJobs({
        type: 'young-work',
        worker: 'w',
        maxJobsToActivate: 1,
        timeout: 30_000,
        requestTimeout: 5_000,
      });
      await zeebe.completeJob({ jobKey: job!.key, variables: {} });
    }
    // The engine's backend writes its table statistics when it exits (its client is closed first).
    await engine.stop();

    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query<{ history: string; ended: string; seq_tup_read: string; analyzed: boolean }>(
        `SELECT (SELECT count(*) FROM engine_element_instance)::text AS history,
                (SELECT count(*) FROM engine_process_instance WHERE state = 'COMPLETED')::text AS ended,
                s.seq_tup_read::text,
                (s.last_analyze IS NOT NULL OR s.last_autoanalyze IS NOT NULL) AS analyzed
           FROM pg_stat_user_tables s WHERE s.relname = 'engine_element_instance'`,
      );
      const r = rows[0]!;
      expect(Number(r.ended), 'every instance ran to its end').toBe(INSTANCES);
      expect(Number(r.history), 'four element instances per instance: the process, start, task, end').toBe(
        4 * INSTANCES,
      );
      // Sequential plans read ~3 × the history so far per completion (~240,000 rows for 200 instances);
      // index plans read none. Less than one row per instance leaves room for nothing but a stray scan.
      expect(Number(r.seq_tup_read), `rows read sequentially (analyzed: ${r.analyzed})`).toBeLessThan(INSTANCES);
    } finally {
      await db.end();
    }
  });
});
