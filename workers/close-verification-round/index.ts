import { z } from 'zod';
import { toCarryForward } from '../../api/domain/comparison.js';
import { defineWorker } from '../lib/define-worker.js';

/**
 * The round's result: how many were removed from the list (核减) and how many are still suspected and
 * go on to the next round — not those who came back to school through their case meanwhile.
 */
export default defineWorker({
  type: 'close-verification-round',
  description: '汇总本轮核实结果 — [R] 核减与仍疑似失学',
  input: z.object({ campaignId: z.number().int().positive(), round: z.number().int().positive() }),
  output: z.object({ removed: z.number().int().min(0), stillSuspected: z.number().int().min(0) }),
  async handler(input, ctx) {
    const [row] = await ctx.prisma.$queryRaw<{ removed: number }[]>`
      SELECT count(*) FILTER (WHERE v."clearsSuspicion")::int AS removed
        FROM "SuspectedChild" s LEFT JOIN "VerificationCode" v ON v.code = s."outcomeCode"
       WHERE s."campaignId" = ${input.campaignId} AND s.round = ${input.round}`;
    const stillSuspected = await toCarryForward(ctx.prisma, input.campaignId, input.round);
    return { removed: row?.removed ?? 0, stillSuspected };
  },
});
