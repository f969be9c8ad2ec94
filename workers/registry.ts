/** Every job worker, registered in one place. A job type in a diagram without a worker here fails a test. */
import closeDropoutCase from './close-dropout-case/index.js';
import compareBaseWithRegistry from './compare-base-with-registry/index.js';
import draftHandoverPlan from './draft-handover-plan/index.js';
import issueCaseDocument from './issue-case-document/index.js';
import type { WorkerDefinition } from './lib/define-worker.js';
import openDropoutCase from './open-dropout-case/index.js';
import recordChildReturn from './record-child-return/index.js';
import recordEscalation from './record-escalation/index.js';
import sendSchoolReport from './send-school-report/index.js';

export const workers: WorkerDefinition[] = [
  // 辍学劝返
  openDropoutCase,
  sendSchoolReport,
  recordEscalation,
  issueCaseDocument,
  recordChildReturn,
  closeDropoutCase,
  // 入学核查
  compareBaseWithRegistry,
  // 整班移交
  draftHandoverPlan,
] as WorkerDefinition[];
