import { z } from 'zod';
import { defineWorker } from '../lib/define-worker.js';
import { assignmentVariable } from '../lib/handover.js';

/** The approved plan's lines, one per class, for the diagram to hand over in parallel. */
export default defineWorker({
  type: 'list-handover-classes',
  description: '列出移交班级 — [G] 一 每个六年级班整班移交',
  input: z.object({ handoverId: z.number().int().positive() }),
  output: z.object({ assignments: z.array(assignmentVariable) }),
  async handler(input, ctx) {
    const lines = await ctx.prisma.handoverAssignment.findMany({
      where: { batchId: input.handoverId },
      include: { fromClass: { select: { schoolId: true } } },
      orderBy: { id: 'asc' },
    });
    return {
      assignments: lines.map((a) => ({
        assignmentId: a.id,
        fromSchoolId: a.fromClass.schoolId,
        toSchoolId: a.toSchoolId,
        townCode: a.regionCode,
      })),
    };
  },
});
