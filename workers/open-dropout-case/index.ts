import { defineWorker } from '../lib/define-worker.js';
import { openDropoutCase } from './handler.js';
import { openDropoutCaseInput, openDropoutCaseOutput } from './schema.js';

export default defineWorker({
  type: 'open-dropout-case',
  description: '开立一人一案 — [T] 二(四) 精准分析、分类施策、专人负责、精准劝返',
  input: openDropoutCaseInput,
  output: openDropoutCaseOutput,
  handler: openDropoutCase,
});
