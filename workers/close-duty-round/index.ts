import { z } from 'zod';
import { defineWorker } from '../lib/define-worker.js';

/** The round's tally: how many returns came in (those not returned show as overdue tasks meanwhile). */
export default defineWorker({
  type: 'close-duty-round',
  description: '汇总本期报送情况 — 报送数',
  input: z.object({
    duty: z.enum(['DROPOUT_STATISTICS', 'SPECIAL_NEEDS_CENSUS', 'HOME_VISITS']),
    period: z.string(),
    county: z
      .string()
      .regex(/^\d{6}$/)
      .nullish(),
  }),
  output: z.object({ returns: z.number().int().min(0) }),
  async handler(input, ctx) {
    const returns = await ctx.prisma.dutyReturn.count({
      where: { duty: input.duty, period: input.period, regionCode: { startsWith: input.county ?? '' } },
    });
    return { returns };
  },
});
