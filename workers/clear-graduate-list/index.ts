import { z } from 'zod';
import { defineWorker } from '../lib/define-worker.js';

/**
 * 清零: the batch ends when no graduate is unaccounted for — every pupil registered, traced to a
 * school elsewhere, moved, reported to another county, or handed to the escalation flow.
 */
export default defineWorker({
  type: 'clear-graduate-list',
  description: '核对小学毕业生数据库清零 — [G] 五',
  input: z.object({ handoverId: z.number().int().positive() }),
  output: z.object({ cleared: z.literal(true), outcome: z.record(z.string(), z.number().int()) }),
  async handler(input, ctx) {
    return ctx.prisma.$transaction(async (tx) => {
      const counts = await tx.handoverPupil.groupBy({
        by: ['status'],
        where: { assignment: { batchId: input.handoverId } },
        _count: { _all: true },
      });
      const outcome = Object.fromEntries(counts.map((c) => [c.status, c._count._all]));
      const open = (outcome.PENDING ?? 0) + (outcome.NO_SHOW ?? 0);
      if (open > 0) throw new Error(`仍有 ${open} 名毕业生去向未明，不能清零：请检查追踪任务`);
      await tx.handoverBatch.update({
        where: { id: input.handoverId },
        data: { status: 'CLEARED', clearedAt: new Date() },
      });
      return { cleared: true as const, outcome };
    });
  },
});
