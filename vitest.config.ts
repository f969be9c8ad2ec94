import path from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * unit: pure logic, no engine. integration (with the browser tests of tests/e2e): one real engine + one
 * real PostgreSQL for the whole run,
 * started once by tests/integration/global-setup.ts and shared by every file (files run one at a
 * time: the machine has two cores and the engine is the shared resource).
 */
export default defineConfig({
  // The console's alias for the task schemas it shares with the API (admin-ui/vite.config.ts).
  resolve: { alias: { '@schemas': path.resolve(import.meta.dirname, 'api/tasks/schemas') } },
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts', 'tests/e2e/**/*.test.ts'],
          globalSetup: ['tests/integration/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
