import { z } from 'zod';
import { addCaseAction, caseOfInstance } from '../lib/cases.js';
import { defineWorker } from '../lib/define-worker.js';

const OUTCOME = z.enum(['RETURNED', 'TRANSFER_FOUND', 'DEFERRED', 'HOME_TEACHING', 'UNFOUNDED', 'REFERRED']);
const NOTE: Record<z.infer<typeof OUTCOME>, string> = {
  RETURNED: '复学结案，跟踪帮扶措施已制定',
  TRANSFER_FOUND: '已在他处就读，结案',
  DEFERRED: '办理延缓入学，结案（次年复核）',
  HOME_TEACHING: '安排送教上门，结案',
  UNFOUNDED: '经学校核实报告不实，结案',
  REFERRED: '移送依法追究法律责任',
};

/** Closes the 一人一案 with the outcome the diagram's path set (exitOutcome). */
export default defineWorker({
  type: 'close-dropout-case',
  description: '结案 — 复学、转学、延缓入学、送教上门、报告不实或移送司法',
  input: z.object({ exitOutcome: OUTCOME }),
  output: z.object({ caseStatus: z.enum(['CLOSED', 'REFERRED']) }),
  async handler(input, ctx) {
    const status = input.exitOutcome === 'REFERRED' ? ('REFERRED' as const) : ('CLOSED' as const);
    await ctx.prisma.$transaction(async (tx) => {
      const c = await caseOfInstance(tx, ctx.processInstanceKey);
      if (
        await addCaseAction(tx, {
          caseId: c.id,
          kind: 'CASE_CLOSED',
          note: NOTE[input.exitOutcome],
          outcome: input.exitOutcome,
          idempotencyKey: `job:${ctx.jobKey}`,
        })
      ) {
        await tx.dropoutCase.update({
          where: { id: c.id },
          data: { status, outcome: input.exitOutcome, closedAt: new Date() },
        });
      }
    });
    return { caseStatus: status };
  },
});
