/** The whole-class handover's user tasks (processes/whole-class-handover.bpmn). */
import { z } from 'zod';
import { AppError } from '../../errors.js';
import { defineTaskForm } from '../define-form.js';

/** The county government's approval of the handover plan, recorded by the bureau ([G] 一). */
export const approveHandoverPlan = defineTaskForm({
  title: '审批整班移交计划',
  schema: z.object({
    approved: z.literal(true, { message: '请确认计划已经县政府批准' }),
    note: z.string().trim().max(1000).optional(),
  }),
  async apply(tx, task, input, actor) {
    const batch = await tx.handoverBatch.findUnique({ where: { processInstanceKey: task.processInstanceKey } });
    if (!batch) throw new AppError('NOT_FOUND', undefined, '该任务对应的整班移交不存在。');
    if (batch.status === 'PLANNING') {
      await tx.handoverBatch.update({ where: { id: batch.id }, data: { status: 'APPROVED', approvedAt: new Date() } });
    }
    return { planApprovedBy: actor.displayName, planNote: input.note ?? null };
  },
});
