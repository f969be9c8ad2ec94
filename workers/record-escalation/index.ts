import { z } from 'zod';
import { addCaseAction, caseOfInstance } from '../lib/cases.js';
import { defineWorker } from '../lib/define-worker.js';

const STAGE = z.enum(['SCHOOL_OVERDUE', 'TOWN_OVERDUE', 'JUSTICE_OVERDUE']);
const NOTE: Record<z.infer<typeof STAGE>, string> = {
  SCHOOL_OVERDUE: '学校未在期限内确认并书面报告，案件自动报镇街处理',
  TOWN_OVERDUE: '镇街未在期限内批评教育、责令限期改正，案件自动转县司法局',
  JUSTICE_OVERDUE: '司法局未在期限内签发司法文书，已报县人民政府督办',
};

/** A stage's deadline passed with nobody acting: the escalation is written into the case file. */
export default defineWorker({
  type: 'record-escalation',
  description: '记录逾期升级 — 每一阶段的法定期限届满时留痕（[T] 二(四)、[Y] 三(一)2）',
  input: z.object({ stage: STAGE }),
  output: z.object({}),
  async handler(input, ctx) {
    await ctx.prisma.$transaction(async (tx) => {
      const c = await caseOfInstance(tx, ctx.processInstanceKey);
      await addCaseAction(tx, {
        caseId: c.id,
        kind: `ESCALATED_${input.stage}`,
        note: NOTE[input.stage],
        idempotencyKey: `job:${ctx.jobKey}`,
      });
    });
    return {};
  },
});
