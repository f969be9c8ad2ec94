/**
 * The configuration of the one engine + database a test run shares. Ports sit away from `npm start`'s
 * defaults so a developer's running system and the tests do not collide; the data directory is
 * wiped at the start of each run; the engine clock is under the tests' control.
 */
import path from 'node:path';
import { type Config, loadConfig, REPO_ROOT } from '../../infra/config.js';

export const TEST_DATA_DIR = path.join(REPO_ROOT, '.data', 'test');

export const testEnv: Record<string, string> = {
  KC_DATA_DIR: TEST_DATA_DIR,
  PG_PORT: '15433',
  ENGINE_REST_PORT: '18080',
  ENGINE_GRPC_PORT: '36500',
  ENGINE_MANAGEMENT_PORT: '19600',
  ENGINE_COMMAND_PORT: '36501',
  ENGINE_INTERNAL_PORT: '36502',
  API_PORT: '13000',
  ENGINE_CLOCK_CONTROLLED: 'true',
  LOG_LEVEL: 'info',
};

/** The shared test configuration; DATABASE_URL is ignored so the tests always own their database. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  const { DATABASE_URL: _ignored, ...env } = process.env;
  return loadConfig({ ...env, ...testEnv, ...overrides });
}
