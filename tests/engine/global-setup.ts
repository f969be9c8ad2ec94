/**
 * The engine suite's one real engine process and PostgreSQL: an embedded PostgreSQL of its own (slot
 * 8 + KC_TEST_SLOT, its own data directory), a fresh database, and engine/src/main.ts started as a
 * process with the clock under the tests' control — exactly as npm start runs it.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { loadConfig, REPO_ROOT } from '../../infra/config.js';
import { startDatabases, withDatabase } from '../../infra/db/postgres.js';
import { startEngineProcess } from '../../infra/engine/launch.js';
import { slotPorts } from '../../infra/ports.js';

declare module 'vitest' {
  export interface ProvidedContext {
    engineGrpcAddress: string;
    engineRestBase: string;
    engineManagementBase: string;
    engineDbUrl: string;
  }
}

const SLOT = 8 + Number(process.env.KC_TEST_SLOT ?? 0);
export const ENGINE_TEST_DIR = path.join(REPO_ROOT, '.data', `engine-test-${SLOT}`);
const DATABASE = 'engine_suite';

export default async function setup(project: TestProject) {
  fs.rmSync(ENGINE_TEST_DIR, { recursive: true, force: true });
  const cfg = loadConfig({ ...process.env, DATABASE_URL: '', KC_DATA_DIR: ENGINE_TEST_DIR, ...slotPorts(SLOT) });
  const dbs = await startDatabases(cfg, (m) => process.stderr.write(`[engine-suite] ${m}\n`));
  const admin = new pg.Client({ connectionString: dbs.appUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DATABASE}`);
  await admin.query(`CREATE DATABASE ${DATABASE}`);
  await admin.end();
  const databaseUrl = withDatabase(dbs.appUrl, DATABASE);
  const engine = await startEngineProcess({
    databaseUrl,
    host: '127.0.0.1',
    grpcPort: 0,
    restPort: 0,
    managementPort: 0,
    clockControlled: true,
    logFile: path.join(ENGINE_TEST_DIR, 'logs', 'engine.log'),
  });
  project.provide('engineGrpcAddress', `127.0.0.1:${engine.grpcPort}`);
  project.provide('engineRestBase', `http://127.0.0.1:${engine.restPort}`);
  project.provide('engineManagementBase', `http://127.0.0.1:${engine.managementPort}`);
  project.provide('engineDbUrl', databaseUrl);
  return async () => {
    await engine.stop();
    await dbs.stop();
  };
}
