/**
 * The job workers alone in a process of their own, as a deployment runs them, so a fault test can
 * SIGKILL them mid-job. Env: KC_FAULT_APP_URL (the app database); the engine's address comes from the
 * fault configuration (tests/faults/environment.ts). Prints "ready" once the workers poll; SIGTERM
 * closes them gracefully (drains running jobs).
 */
import path from 'node:path';
import { pino } from 'pino';
import { createEngineClient } from '../../infra/camunda/client.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { startWorkers } from '../../workers/runtime.js';
import { faultConfig } from './container-env.js';

const cfg = faultConfig();
const prisma = createPrisma(process.env.KC_FAULT_APP_URL!);
const client = createEngineClient(cfg);
const logger = pino(
  { level: 'info' },
  pino.destination({ dest: path.join(cfg.logDir, `workers-${process.pid}.log`), sync: true }),
);
const workers = startWorkers(client.grpc, prisma, logger.child({ part: 'workers' }));
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void (async () => {
    await workers.close();
    await client.close();
    await prisma.$disconnect();
    process.exit(0);
  })();
});
