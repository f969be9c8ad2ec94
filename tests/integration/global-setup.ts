/**
 * Starts one real engine and one real PostgreSQL (and the API, workers, migrations, deployment)
 * for the whole integration run, exactly as `npm start` does, and stops them after the last file.
 */
import fs from 'node:fs';
import type { TestProject } from 'vitest/node';
import { engineAddresses } from '../../infra/config.js';
import { startSystem } from '../../infra/system.js';
import { TEST_DATA_DIR, testConfig } from './test-env.js';

declare module 'vitest' {
  export interface ProvidedContext {
    apiUrl: string;
    appDatabaseUrl: string;
    engineDatabaseUrl: string;
    engineRestUrl: string;
    engineManagementUrl: string;
  }
}

export default async function setup(project: TestProject) {
  fs.rmSync(TEST_DATA_DIR, { recursive: true, force: true });
  const cfg = testConfig();
  const sys = await startSystem(cfg, { say: (line) => process.stderr.write(`[system] ${line}\n`) });
  const addr = engineAddresses(cfg);
  project.provide('apiUrl', sys.apiUrl);
  project.provide('appDatabaseUrl', sys.dbs.appUrl);
  project.provide('engineDatabaseUrl', sys.dbs.engineUrl);
  project.provide('engineRestUrl', addr.rest);
  project.provide('engineManagementUrl', addr.management);
  return async () => {
    await sys.stop();
  };
}
