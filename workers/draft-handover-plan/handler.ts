import type { z } from 'zod';
import { BpmnError, type JobContext } from '../lib/define-worker.js';
import type { draftHandoverPlanInput, draftHandoverPlanOutput } from './schema.js';

/** Grade of the primary graduates handed over (六年级). */
const GRADUATING_GRADE = 6;

/**
 * The draft plan: every grade-6 class of the county goes, whole, to a middle school nearby ([G] 就近、
 * 免试) — one in the class's own town (the least loaded so far), else the county's least loaded one —
 * with its enrolled pupils on the roster. Keyed by (batch, class), so a redelivered job changes nothing.
 */
export async function draftHandoverPlan(
  input: z.infer<typeof draftHandoverPlanInput>,
  ctx: JobContext,
): Promise<z.infer<typeof draftHandoverPlanOutput>> {
  return ctx.prisma.$transaction(
    async (tx) => {
      const classes = await tx.schoolClass.findMany({
        where: { grade: GRADUATING_GRADE, schoolYear: input.year - 1, regionCode: { startsWith: input.county } },
        include: { registry: { where: { status: 'ENROLLED' }, select: { childId: true } } },
        orderBy: { id: 'asc' },
      });
      const receivers = await tx.school.findMany({
        where: { kind: { in: ['MIDDLE', 'NINE_YEAR'] }, regionCode: { startsWith: input.county } },
        orderBy: { id: 'asc' },
      });
      if (receivers.length === 0) {
        // A business outcome: the bureau must name receiving schools first (the diagram's error path).
        throw new BpmnError('NO_RECEIVING_SCHOOL', `县 ${input.county} 没有可接收的初中学校`);
      }
      const load = new Map(receivers.map((s) => [s.id, 0]));
      const existing = await tx.handoverAssignment.findMany({ where: { batchId: input.handoverId } });
      const planned = new Set(existing.map((a) => a.fromClassId));
      for (const c of classes) {
        if (planned.has(c.id)) continue;
        const local = receivers.filter((s) => s.regionCode === c.regionCode && s.id !== c.schoolId);
        const pool = local.length ? local : receivers;
        const to = pool.reduce((best, s) => (load.get(s.id)! < load.get(best.id)! ? s : best));
        load.set(to.id, load.get(to.id)! + c.registry.length);
        await tx.handoverAssignment.create({
          data: {
            batchId: input.handoverId,
            fromClassId: c.id,
            toSchoolId: to.id,
            regionCode: c.regionCode,
            pupils: { create: c.registry.map((r) => ({ childId: r.childId })) },
          },
        });
      }
      const total = await tx.handoverPupil.count({ where: { assignment: { batchId: input.handoverId } } });
      return { classes: classes.length, pupils: total };
    },
    { timeout: 60_000 },
  );
}
