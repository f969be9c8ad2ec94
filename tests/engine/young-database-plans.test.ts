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
import path from 'node:path';
import { Camunda8 } from '@camunda8/sdk';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { withDatabase } from '../../infra/db/postgres.js';
import { type EngineProcess, startEngineProcess } from '../../infra/engine/launch.js';
import { ENGINE_TEST_DIR } from './global-setup.js';
import { bpmn, chain, serviceTask } from './helpers.js';

const DATABASE = 'engine_young_plans';
const INSTANCES = 200;

let engine: EngineProcess | undefined;
let c8: Camunda8 | undefined;
const admin = new pg.Client({ connectionString: withDatabase(inject('engineDbUrl'), 'postgres') });

afterAll(async () => {
  await c8?.getZeebeGrpcApiClient().close();
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
    engine = await startEngineProcess({
      databaseUrl,
      host: '127.0.0.1',
      grpcPort: 0,
      restPort: 0,
      managementPort: 0,
      clockControlled: false,
      env: { ENGINE_DB_POOL_SIZE: '1' },
      logFile: path.join(ENGINE_TEST_DIR, 'logs', 'engine-young-plans.log'),
    });
    c8 = new Camunda8({
      ZEEBE_GRPC_ADDRESS: `grpc://127.0.0.1:${engine.grpcPort}`,
      CAMUNDA_AUTH_STRATEGY: 'NONE',
      CAMUNDA_LOG_LEVEL: 'error',
      zeebeGrpcSettings: { ZEEBE_CLIENT_LOG_LEVEL: 'NONE', ZEEBE_GRPC_CLIENT_MAX_RETRIES: 0 },
    });
    const zeebe = c8.getZeebeGrpcApiClient();
    await zeebe.deployResource({
      name: 'young.bpmn',
      process: Buffer.from(
        bpmn(
          'young',
          `<bpmn:startEvent id="start" />${serviceTask('work', 'young-work')}<bpmn:endEvent id="end" />${chain(['start', 'work', 'end'])}`,
        ),
      ),
    });
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
    await c8.getZeebeGrpcApiClient().close();
    c8 = undefined;
    // The engine's backend writes its table statistics when it exits.
    await engine.stop();
    engine = undefined;

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
