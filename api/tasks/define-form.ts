/**
 * One form per user-task type (the diagram's element id): the zod schema of what the caseworker
 * submits (schemas/, shared with the console), and what submitting does to the domain records before
 * the engine moves on.
 */
import type { z } from 'zod';
import type { Tx } from '../../infra/db/prisma.js';
import type { UserTask } from '../../infra/camunda/records.js';
import type { Actor } from '../auth/actor.js';
import type { TaskSchema } from './schemas/fields.js';
import { chinaDay } from '../domain/china-time.js';
import { birthMonth, maskIdNumber } from '../domain/mask.js';
import { AppError } from '../errors.js';

export interface TaskForm<S extends z.ZodType = z.ZodType> extends TaskSchema<S> {
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
  /**
   * What the console needs to show the form: the child it is about, the roster lines of a list form
   * prefilled, the options of lookup fields. Read-only; runs when a caseworker opens the task.
   */
  prepare?: (db: Tx, task: UserTask, actor: Actor, context: TaskContext) => Promise<TaskPreparation>;
}

/**
 * A child as a task form shows it: the ID number masked and the birth year and month, not the date that
 * the masked digits are (the full record is on the child's audited page).
 */
export interface TaskSubject {
  childId: string;
  name: string;
  gender: string;
  /** "2015-07" */
  birthMonth: string;
  idNumber: string | null;
  /** One line of what the task is about (核实轮次, 未报到, 所在学校…). */
  detail: string | null;
}

export interface TaskPreparation {
  subject?: TaskSubject;
  /** One line of what a task not about one child is about (缺报的部门名单…). */
  summary?: string;
  /** Initial values of the form (a roster form: one line per pupil). */
  initial?: Record<string, unknown>;
  /** Display names of the lines of a roster form, by childId. */
  lines?: Record<string, string>;
  /** Options of `lookup` fields, by field name. */
  choices?: Record<string, { id: string | number; name: string }[]>;
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

/** The subject line of a task about one child. */
export function subjectOf(
  child: { id: string; name: string; gender: string; birthDate: Date; idNumber: string },
  detail: string | null = null,
): TaskSubject {
  return {
    childId: child.id,
    name: child.name,
    gender: child.gender === 'MALE' ? '男' : child.gender === 'FEMALE' ? '女' : child.gender,
    birthMonth: birthMonth(child.birthDate),
    idNumber: maskIdNumber(child.idNumber),
    detail,
  };
}

/**
 * The field error when a date of something that happened (an application received, a visit made) lies
 * after today in China: such a date cannot be true, and it would be printed into documents.
 */
export function notInFuture(path: string, value: string, what: string): void {
  const today = chinaDay();
  if (value > today) {
    throw new AppError('FORM_INVALID', [{ path: [path], message: `${what}不能晚于今天（${today}）` }]);
  }
}
