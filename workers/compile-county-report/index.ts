import { z } from 'zod';
import { verificationReportOf } from '../../api/reports/verification.js';
import { defineWorker } from '../lib/define-worker.js';

/**
 * The county report's figures ([R] table 一: per category, town and round), frozen on the campaign so
 * the published 通报 stays what it was when later corrections change the live report.
 */
export default defineWorker({
  type: 'compile-county-report',
  description: '汇总全县核查结果 — [T] 二(二)、[R] 表一',
  input: z.object({ campaignId: z.number().int().positive() }),
  output: z.object({ reportRounds: z.number().int().min(0), suspects: z.number().int().min(0) }),
  async handler(input, ctx) {
    const campaign = await ctx.prisma.campaign.findUniqueOrThrow({
      where: { id: input.campaignId },
      select: { id: true, regionCode: true, year: true },
    });
    const report = await verificationReportOf(ctx.prisma, campaign, campaign.regionCode);
    await ctx.prisma.campaign.update({
      where: { id: campaign.id },
      data: { reportSnapshot: report as object },
    });
    return { reportRounds: report.rounds.length, suspects: report.rounds[0]?.total.suspects ?? 0 };
  },
});
