/**
 * One form per user-task type (the diagram's element id): the zod schema of what the caseworker
 * submits, and what submitting does to the domain records before the engine moves on. The console
 * validates with the same schemas.
 */
import { z } from 'zod';
import type { Tx } from '../../infra/db/prisma.js';
import type { UserTask } from '../../infra/camunda/records.js';
import type { Actor } from '../auth/actor.js';
import { AppError } from '../errors.js';

export interface TaskForm<S extends z.ZodType = z.ZodType> {
  title: string;
  schema: S;
  /**
   * Writes the domain change inside the completion's transaction and returns the variables to complete
   * the task with. The transaction commits only once the engine has accepted the completion.
   */
  apply: (tx: Tx, task: UserTask, input: z.infer<S>, actor: Actor) => Promise<Record<string, unknown>>;
}

/** Keeps the schema's type flowing into `apply`. */
function defineTaskForm<S extends z.ZodType>(form: TaskForm<S>): TaskForm<S> {
  return form;
}

const confirmDropoutBySchool = defineTaskForm({
  title: '学校确认辍学',
  schema: z.object({
    /** true: the child has dropped out; false: the report was unfounded (e.g. sick leave). */
    confirmed: z.boolean(),
    note: z.string().trim().max(1000).optional(),
  }),
  async apply(tx, task, input, actor) {
    const c = await tx.dropoutCase.findUnique({ where: { processInstanceKey: task.processInstanceKey } });
    if (!c) throw new AppError('NOT_FOUND', undefined, '该任务对应的一人一案不存在。');
    const idempotencyKey = `usertask:${task.userTaskKey}`;
    if (!(await tx.caseAction.findUnique({ where: { idempotencyKey } }))) {
      await tx.caseAction.create({
        data: {
          caseId: c.id,
          kind: input.confirmed ? 'SCHOOL_CONFIRMED_DROPOUT' : 'SCHOOL_REJECTED_REPORT',
          actor: actor.displayName,
          actorUserId: actor.userId,
          note: input.note ?? null,
          idempotencyKey,
        },
      });
      await tx.dropoutCase.update({
        where: { id: c.id },
        data: input.confirmed
          ? { status: 'SCHOOL_CONFIRMED' }
          : { status: 'CLOSED', outcome: 'UNFOUNDED', closedAt: new Date() },
      });
    }
    return { schoolConfirmed: input.confirmed };
  },
});

/** The bureau sends the suspect list to the towns for one-by-one verification. */
const dispatchSuspectList = defineTaskForm({
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

/** The county government's approval of the handover plan, recorded by the bureau ([G] 一). */
const approveHandoverPlan = defineTaskForm({
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

export const taskForms: Record<string, TaskForm> = {
  confirmDropoutBySchool,
  dispatchSuspectList,
  approveHandoverPlan,
} as Record<string, TaskForm>;
