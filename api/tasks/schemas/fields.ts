/**
 * Field builders the task schemas share. The schemas are pure zod (no server imports): the API
 * validates submissions with them and the console imports the very same modules to validate and to
 * render its forms. Every field carries its Chinese label in `.meta({ title })`; a choice carries its
 * options' labels in `.meta({ options })` — both reach the OpenAPI document and the console.
 */
import { z } from 'zod';
import { storable } from '../../domain/text.js';

/** A user-task type as the console sees it: the Chinese title and the schema of what is submitted. */
export interface TaskSchema<S extends z.ZodType = z.ZodType> {
  title: string;
  schema: S;
}

/** Keeps the schema's type for the form that applies it. */
export function defineTaskSchema<S extends z.ZodType>(form: TaskSchema<S>): TaskSchema<S> {
  return form;
}

/** A free-text remark a caseworker may add. */
export const optionalNote = z
  .string()
  .trim()
  .max(1000)
  .check(storable(true))
  .meta({ title: '备注', multiline: true })
  .optional();

/** A required text field; the message names what is missing (请填写…). */
export const requiredText = (what: string, max = 1000) =>
  z
    .string({ message: `请填写${what}` })
    .trim()
    .min(1, `请填写${what}`)
    .max(max)
    .check(storable(max > 200))
    .meta({ title: what, multiline: max > 200 });

/** An optional text field with its label. */
export const optionalText = (what: string, max = 200) =>
  z
    .string()
    .trim()
    .max(max)
    .check(storable(max > 200))
    .meta({ title: what, multiline: max > 200 })
    .optional();

/** A calendar day (YYYY-MM-DD). */
export const day = (what: string) => z.iso.date(`请填写${what}（YYYY-MM-DD）`).meta({ title: what });

/** One of a closed set of values, each with its Chinese label. */
export function choice<const O extends Record<string, string>>(what: string, options: O, message = `请选择${what}`) {
  type Value = Extract<keyof O, string>;
  const values = Object.keys(options) as [Value, ...Value[]];
  return z.enum(values, { message }).meta({ title: what, options });
}

/** A box the caseworker must tick to confirm something (the label says what). */
export const confirmation = (what: string, message: string) => z.literal(true, { message }).meta({ title: what });

/** A non-negative whole number. */
export const count = (what: string) =>
  z
    .number({ message: `请填写${what}` })
    .int()
    .min(0, `${what}不能为负数`)
    .meta({ title: what });

/** A signature (the name of who signs). */
export const signer = requiredText('签字人', 50);

/**
 * A choice whose options come from the database at the time of the task (schools of the town,
 * verification codes): the console asks the task's context for them (`choices[field]`).
 */
export const lookupId = (what: string, message = `请选择${what}`) =>
  z.number({ message }).int().positive().meta({ title: what, lookup: true });
export const lookupCode = (what: string, message = `请选择${what}`) =>
  z
    .string({ message })
    .regex(/^[A-Z]$/, message)
    .meta({ title: what, lookup: true });

/** The child a line of a roster-style form is about (the console shows the name, not the id). */
export const childLine = z.uuid().meta({ title: '学生', hidden: true });
