import { defineWorker } from '../lib/define-worker.js';
import { draftHandoverPlan } from './handler.js';
import { draftHandoverPlanInput, draftHandoverPlanOutput } from './schema.js';

export default defineWorker({
  type: 'draft-handover-plan',
  description: '拟定整班移交计划 — [G] 一 六年级各班就近、免试划入初中',
  input: draftHandoverPlanInput,
  output: draftHandoverPlanOutput,
  handler: draftHandoverPlan,
});
