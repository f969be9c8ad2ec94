/**
 * One form per user-task type (the diagram's element id): the zod schema of what the caseworker
 * submits, and what submitting does to the domain records before the engine moves on. The console
 * validates with the same schemas.
 */
import { z } from 'zod';
import type { Tx } from '../../infra/db/prisma.js';
import type { UserTask } from '../../infra/camunda/records.js';
import type { Actor } from '../auth/actor.js';

export interface TaskForm<S extends z.ZodType = z.ZodType> {
  title: string;
  schema: S;
  /**
   * Writes the domain change inside the completion's transaction and returns the variables to complete
   * the task with. The transaction commits only once the engine has accepted the completion.
   */
  apply: (
    tx: Tx,
    task: UserTask,
    input: z.infer<S>,
    actor: Actor,
    context: TaskContext,
  ) => Promise<Record<string, unknown>>;
}

export interface TaskContext {
  /** The variables the task sees in the engine (read on demand: most forms don't need them). */
  variables: () => Promise<Record<string, unknown>>;
}

/** Keeps the schema's type flowing into `apply`. */
export function defineTaskForm<S extends z.ZodType>(form: TaskForm<S>): TaskForm<S> {
  return form;
}

/** The idempotency key of what a user task writes: a retried submission finds it and writes nothing twice. */
export const taskKey = (task: UserTask) => `usertask:${task.userTaskKey}`;

/**
 * The id the task's variable `name` carries in field `key` — the roster line, suspect or pupil a task
 * inside a multi-instance is about — or undefined when the task has no such variable.
 */
export async function subjectId<T extends number | string>(
  context: TaskContext,
  name: string,
  key: string,
  type: 'number' | 'string',
): Promise<T | undefined> {
  const value = ((await context.variables())[name] as Record<string, unknown> | undefined)?.[key];
  return typeof value === type ? (value as T) : undefined;
}

/** A free-text remark a caseworker may add. */
export const optionalNote = z.string().trim().max(1000).optional();

/** A required text field; the message names what is missing (请填写…). */
export const requiredText = (what: string, max = 1000) =>
  z
    .string({ message: `请填写${what}` })
    .trim()
    .min(1, `请填写${what}`)
    .max(max);
