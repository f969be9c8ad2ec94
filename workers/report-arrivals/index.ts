import { z } from 'zod';
import { defineWorker } from '../lib/define-worker.js';
import { assignmentVariable } from '../lib/handover.js';

/**
 * The report-back after registration: counts per status for the town, the bureau and the sending
 * school, and the pupils still not arrived — each traced in the next round of the loop.
 */
export default defineWorker({
  type: 'report-arrivals',
  description: '反馈报到情况并列出未报到学生 — [G] 四 情况反馈',
  input: z.object({ assignment: assignmentVariable }),
  output: z.object({
    noShows: z.array(z.object({ childId: z.uuid() })),
    arrivals: z.record(z.string(), z.number().int()),
  }),
  async handler(input, ctx) {
    const pupils = await ctx.prisma.handoverPupil.findMany({
      where: { assignmentId: input.assignment.assignmentId },
      select: { childId: true, status: true },
      orderBy: { id: 'asc' },
    });
    const arrivals: Record<string, number> = {};
    for (const p of pupils) arrivals[p.status] = (arrivals[p.status] ?? 0) + 1;
    const noShows = pupils.filter((p) => p.status === 'NO_SHOW' || p.status === 'PENDING');
    if (noShows.length > 0) {
      const a = await ctx.prisma.handoverAssignment.findUniqueOrThrow({ where: { id: input.assignment.assignmentId } });
      await ctx.prisma.handoverBatch.update({ where: { id: a.batchId }, data: { status: 'TRACING' } });
    }
    return { noShows: noShows.map((p) => ({ childId: p.childId })), arrivals };
  },
});
