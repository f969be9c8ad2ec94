/** The enrollment verification's user tasks (processes/enrollment-verification.bpmn, child-verification.bpmn). */
import { z } from 'zod';
import { AppError } from '../../errors.js';
import { defineTaskForm } from '../define-form.js';

/** The bureau sends the suspect list to the towns for one-by-one verification. */
export const dispatchSuspectList = defineTaskForm({
  title: '下发疑似未入学名单',
  schema: z.object({
    note: z.string().trim().max(1000).optional(),
  }),
  async apply(tx, task, input, actor) {
    const campaign = await tx.campaign.findUnique({ where: { processInstanceKey: task.processInstanceKey } });
    if (!campaign) throw new AppError('NOT_FOUND', undefined, '该任务对应的入学核查不存在。');
    return { dispatchedBy: actor.displayName, dispatchNote: input.note ?? null };
  },
});
