import { defineConfig } from 'vitest/config';

/**
 * unit: pure logic, no engine. integration: one real engine + one real PostgreSQL for the whole run,
 * started once by tests/integration/global-setup.ts and shared by every file (files run one at a
 * time: the machine has two cores and the engine is the shared resource).
 */
export default defineConfig({
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
          include: ['tests/integration/**/*.test.ts'],
          globalSetup: ['tests/integration/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
