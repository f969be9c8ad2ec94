/**
 * The form of a task type, read off its zod schema (api/tasks/schemas): the JSON Schema gives each
 * field's kind, its Chinese label and its options; the zod schema itself validates, with the API's
 * own messages, before anything is sent.
 */
import { z } from 'zod';
import { taskSchemas } from '@schemas/index.js';

export interface FieldSpec {
  name: string;
  title: string;
  kind: 'text' | 'multiline' | 'date' | 'number' | 'boolean' | 'confirm' | 'select' | 'lookup' | 'lines';
  required: boolean;
  options?: { id: string; name: string }[];
  /** For `lines`: the fields of each line (the child itself is shown by name, not edited). */
  lineFields?: FieldSpec[];
}

interface JsonProp {
  type?: string;
  format?: string;
  const?: unknown;
  enum?: string[];
  title?: string;
  multiline?: boolean;
  lookup?: boolean;
  hidden?: boolean;
  options?: Record<string, string>;
  items?: JsonObject;
}
interface JsonObject {
  properties?: Record<string, JsonProp>;
  required?: string[];
}

function fieldsOf(obj: JsonObject): FieldSpec[] {
  const required = new Set(obj.required ?? []);
  return Object.entries(obj.properties ?? {})
    .filter(([, p]) => !p.hidden)
    .map(([name, p]) => {
      const base = { name, title: p.title ?? name, required: required.has(name) };
      if (p.type === 'array' && p.items) return { ...base, kind: 'lines', lineFields: fieldsOf(p.items) };
      if (p.lookup) return { ...base, kind: 'lookup' };
      if (p.enum) {
        return {
          ...base,
          kind: 'select',
          options: p.enum.map((v) => ({ id: v, name: p.options?.[v] ?? v })),
        };
      }
      if (p.type === 'boolean') return { ...base, kind: p.const === true ? 'confirm' : 'boolean' };
      if (p.type === 'integer' || p.type === 'number') return { ...base, kind: 'number' };
      if (p.format === 'date') return { ...base, kind: 'date' };
      return { ...base, kind: p.multiline ? 'multiline' : 'text' };
    });
}

export function formOf(elementId: string): { title: string; schema: z.ZodType; fields: FieldSpec[] } | undefined {
  const s = taskSchemas[elementId];
  if (!s) return undefined;
  const json = z.toJSONSchema(s.schema, { io: 'input', unrepresentable: 'any' }) as JsonObject;
  return { title: s.title, schema: s.schema, fields: fieldsOf(json) };
}

/** Empty inputs mean "not given" (the API's optional fields), not an empty string. */
export function cleanValues(values: unknown): unknown {
  if (Array.isArray(values)) return values.map(cleanValues);
  if (values && typeof values === 'object') {
    return Object.fromEntries(
      Object.entries(values)
        .filter(([, v]) => v !== '' && v !== null && v !== undefined)
        .map(([k, v]) => [k, cleanValues(v)]),
    );
  }
  return values;
}

type Errors = { [key: string]: string | Errors };

/** Issues as react-admin's nested form errors ({ pupils: { 3: { note: '…' } } }). */
export function errorsOf(issues: { path: readonly PropertyKey[]; message: string }[]): Errors {
  const out: Errors = {};
  for (const issue of issues) {
    const path = issue.path.map(String);
    if (path.length === 0) continue;
    let node = out;
    for (const key of path.slice(0, -1)) {
      if (typeof node[key] !== 'object') node[key] = {};
      node = node[key] as Errors;
    }
    const last = path[path.length - 1]!;
    if (node[last] === undefined) node[last] = issue.message;
  }
  return out;
}

/** Validates with the task's zod schema; {} when valid. */
export function validateWith(schema: z.ZodType) {
  return (values: Record<string, unknown>): Errors => {
    const result = schema.safeParse(cleanValues(values));
    return result.success ? {} : errorsOf(result.error.issues);
  };
}

/**
 * Is the field required now, given the other values? True when leaving it empty is an error: the
 * schema's required fields, and those a choice makes required (现就读学校 once 已在他校就读 is chosen).
 */
export function requiredNow(schema: z.ZodType, values: Record<string, unknown>, name: string): boolean {
  const probe = { ...(cleanValues(values) as Record<string, unknown>) };
  delete probe[name];
  const result = schema.safeParse(probe);
  return !result.success && result.error.issues.some((i) => i.path.length === 1 && i.path[0] === name);
}
