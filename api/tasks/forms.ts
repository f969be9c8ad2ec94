/**
 * One form per user-task type (the diagram's element id): the zod schema of what the caseworker
 * submits, and what submitting does to the domain records before the engine moves on. The console
 * validates with the same schemas.
 */
import { z } from 'zod';
import type { Tx } from '../../infra/db/prisma.js';
import type { UserTask } from '../../infra/camunda/records.js';
import { AppError } from '../errors.js';

export interface TaskForm<S extends z.ZodType = z.ZodType> {
  title: string;
  schema: S;
  /**
   * Writes the domain change inside the completion's transaction and returns the variables to complete
   * the task with. The transaction commits only once the engine has accepted the completion.
   */
  apply: (tx: Tx, task: UserTask, input: z.infer<S>) => Promise<Record<string, unknown>>;
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
    /** Who submits; replaced by the signed-in user once authentication lands (issue 3). */
    actor: z.string().trim().min(1).max(50),
  }),
  async apply(tx, task, input) {
    const c = await tx.dropoutCase.findUnique({ where: { processInstanceKey: task.processInstanceKey } });
    if (!c) throw new AppError('NOT_FOUND', undefined, '该任务对应的一人一案不存在。');
    const idempotencyKey = `usertask:${task.userTaskKey}`;
    if (!(await tx.caseAction.findUnique({ where: { idempotencyKey } }))) {
      await tx.caseAction.create({
        data: {
          caseId: c.id,
          kind: input.confirmed ? 'SCHOOL_CONFIRMED_DROPOUT' : 'SCHOOL_REJECTED_REPORT',
          actor: input.actor,
          note: input.note ?? null,
          idempotencyKey,
        },
      });
      await tx.dropoutCase.update({
        where: { id: c.id },
        data: { status: input.confirmed ? 'SCHOOL_CONFIRMED' : 'CLOSED' },
      });
    }
    return { schoolConfirmed: input.confirmed };
  },
});

export const taskForms: Record<string, TaskForm> = { confirmDropoutBySchool } as Record<string, TaskForm>;
