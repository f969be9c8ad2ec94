import { z } from 'zod';
import { defineWorker } from '../lib/define-worker.js';
import { suspectVariable } from '../lib/verification.js';

/**
 * No written deferral application by the deadline: the deferral does not stand, so the round's
 * outcome E is withdrawn and the child stays suspected (the next round verifies again).
 */
export default defineWorker({
  type: 'record-deferral-lapsed',
  description: '记录延缓申请逾期 — [T] 二(二) 9月30日前未提交书面申请的，延缓不成立',
  input: z.object({ suspect: suspectVariable }),
  output: z.object({ deferralLapsed: z.literal(true) }),
  async handler(input, ctx) {
    await ctx.prisma.suspectedChild.updateMany({
      where: { id: input.suspect.suspectId, outcomeCode: 'E' },
      data: { outcomeCode: null, placement: '延缓入学：逾期未提交书面申请，延缓不成立，转下一轮复核' },
    });
    return { deferralLapsed: true as const };
  },
});
