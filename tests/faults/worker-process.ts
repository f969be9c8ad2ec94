/**
 * The job workers alone in a process of their own, as a deployment runs them, so a fault test can
 * SIGKILL them mid-job. Env: KC_FAULT_APP_URL (the app database); the engine's address comes from the
 * fault configuration (tests/faults/environment.ts). Prints "ready" once the workers poll; SIGTERM
 * closes them gracefully (drains running jobs). KC_FAULT_SLOW_JOB slows one job type (below).
 */
import path from 'node:path';
import { pino } from 'pino';
import { createEngineClient } from '../../infra/camunda/client.js';
import { createPrisma } from '../../infra/db/prisma.js';
import type { WorkerDefinition } from '../../workers/lib/define-worker.js';
import { workers as registered } from '../../workers/registry.js';
import { startWorkers } from '../../workers/runtime.js';
import { faultConfig } from './container-env.js';

const cfg = faultConfig();
const prisma = createPrisma(process.env.KC_FAULT_APP_URL!);
const client = createEngineClient(cfg);
const logger = pino(
  { level: 'info' },
  pino.destination({ dest: path.join(cfg.logDir, `workers-${process.pid}.log`), sync: true }),
);
/**
 * KC_FAULT_SLOW_JOB=<type>:<ms>: that worker's handler (the real one) starts only after <ms>, so a
 * process killed in the middle of a burst certainly holds jobs of that type mid-handling.
 */
const [slowType, slowMs] = (process.env.KC_FAULT_SLOW_JOB ?? '').split(':');
const definitions: WorkerDefinition[] = registered.map((def) =>
  def.type === slowType
    ? {
        ...def,
        handler: async (input, ctx) => {
          await new Promise((r) => setTimeout(r, Number(slowMs)));
          return def.handler(input, ctx);
        },
      }
    : def,
);
const workers = startWorkers(client.grpc, prisma, logger.child({ part: 'workers' }), definitions);
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void (async () => {
    await workers.close();
    await client.close();
    await prisma.$disconnect();
    process.exit(0);
  })();
});
