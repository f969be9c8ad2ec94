import path from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * unit: pure logic, no engine. integration (with the browser tests of tests/e2e): one real engine + one
 * real PostgreSQL for the whole run,
 * started once by tests/integration/global-setup.ts and shared by every file (files run one at a
 * time: the machine has two cores and the engine is the shared resource). faults: PostgreSQL and the
 * engine in containers (testcontainers on podman) that the tests kill, pause and restart; each file
 * starts its own, so the project runs after the others (sequence.groupOrder), never beside them.
 */
export default defineConfig({
  // The console's alias for the task schemas it shares with the API (admin-ui/vite.config.ts).
  resolve: { alias: { '@schemas': path.resolve(import.meta.dirname, 'api/tasks/schemas') } },
  test: {
    // The Camunda SDK logs every refused gRPC call while a fault test holds the engine down (thousands
    // of lines); the tests count those failures themselves.
    onConsoleLog: (log, _type, entity) =>
      !(entity?.project.name === 'faults' && /zeebe \||GRPCMIDDLEWARE|Grpc Stream Error/.test(log)),
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          // Our engine through @camunda8/sdk: one engine process + PostgreSQL for the project.
          name: 'engine',
          include: ['tests/engine/**/*.test.ts'],
          globalSetup: ['tests/engine/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
          sequence: { groupOrder: 1 },
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
          // expect.poll waits up to 1 s by default: a console page or a worker's step on a busy 2-core
          // machine takes longer (the 30-line roster rendered after ~2 s). The same 15 s as the
          // browser's own waits (tests/e2e/browser.ts); a limit, not a timing assertion.
          expect: { poll: { timeout: 15_000 } },
          // Not 0: vitest puts a one-worker project of order 0 into a group of its own that runs last.
          sequence: { groupOrder: 2 },
        },
      },
      {
        test: {
          name: 'faults',
          include: ['tests/faults/**/*.test.ts'],
          globalSetup: ['tests/faults/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 600_000,
          sequence: { groupOrder: 3 },
        },
      },
    ],
  },
});
