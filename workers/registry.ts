/** Every job worker, registered in one place. A job type in a diagram without a worker here fails a test. */
import compareBaseWithRegistry from './compare-base-with-registry/index.js';
import draftHandoverPlan from './draft-handover-plan/index.js';
import type { WorkerDefinition } from './lib/define-worker.js';
import openDropoutCase from './open-dropout-case/index.js';

export const workers: WorkerDefinition[] = [openDropoutCase, compareBaseWithRegistry, draftHandoverPlan];
