/**
 * The configuration of the one engine + database a test run shares. Ports sit away from `npm start`'s
 * defaults so a developer's running system and the tests do not collide; the data directory is
 * wiped at the start of each run; the engine clock is under the tests' control.
 */
import path from 'node:path';
import { type Config, loadConfig, REPO_ROOT } from '../../infra/config.js';
import { slotPorts } from '../../infra/ports.js';

/**
 * KC_TEST_SLOT=n (default 0) shifts every port by 10·n and uses its own data directory, so two test
 * runs on one machine (two checkouts, or a developer's run beside CI) do not collide.
 */
const SLOT = Number(process.env.KC_TEST_SLOT ?? 0);

export const TEST_DATA_DIR = path.join(REPO_ROOT, '.data', SLOT ? `test-${SLOT}` : 'test');

export const testEnv: Record<string, string> = {
  KC_DATA_DIR: TEST_DATA_DIR,
  ...slotPorts(SLOT),
  ENGINE_CLOCK_CONTROLLED: 'true',
  KC_DEMO_DATA: 'auto',
  KC_DEMO_PUPILS: '1500',
  LOG_LEVEL: 'info',
  // Every test signs in from 127.0.0.1: the limit is proven on an API of its own (security.test.ts).
  LOGIN_RATE_LIMIT_PER_MINUTE: '100000',
  // The tests settle interrupted submissions themselves (a look at the task, or settle()), at the moment
  // they choose; the periodic settling is proven in the fault tests (tests/faults, every 5 s).
  SUBMISSION_SETTLE_EVERY_MS: '3600000',
};

/** The shared test configuration; DATABASE_URL is ignored so the tests always own their database. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  const { DATABASE_URL: _ignored, ...env } = process.env;
  return loadConfig({ ...env, ...testEnv, ...overrides });
}
