/**
 * Camunda 8 element templates for the registered job workers, written to
 * processes/.camunda/element-templates/kongchuo-workers.json. In the Modeler a template turns a task into a
 * service task of the right job type, and lists the variables the worker reads as input mappings
 * (pre-filled `=<name>`, so a modeller sees what the worker needs and can point an input elsewhere)
 * and the variables it writes in its description.
 *
 * The Desktop Modeler loads templates from `.camunda/element-templates/` in or above a diagram's
 * folder: opening any diagram under processes/ offers them with no setup. Deployment skips the file
 * (only .bpmn/.dmn/.form are deployed).
 */
import path from 'node:path';
import { z } from 'zod';
import { REPO_ROOT } from '../config.js';
import type { WorkerDefinition } from '../../workers/lib/define-worker.js';

export const TEMPLATES_FILE = path.join(
  REPO_ROOT,
  'processes',
  '.camunda',
  'element-templates',
  'kongchuo-workers.json',
);

const SCHEMA_URL = 'https://unpkg.com/@camunda/zeebe-element-templates-json-schema/resources/schema.json';

export interface TemplateProperty {
  id?: string;
  label?: string;
  description?: string;
  group?: string;
  type: 'Hidden' | 'String' | 'Text' | 'Number' | 'Boolean' | 'Dropdown';
  value?: string;
  feel?: 'optional' | 'required';
  optional?: boolean;
  constraints?: { notEmpty?: boolean };
  binding: { type: string; property?: string; name?: string };
}

export interface ElementTemplate {
  $schema: string;
  id: string;
  name: string;
  description: string;
  keywords: string[];
  category: { id: string; name: string };
  engines: { camunda: string };
  appliesTo: string[];
  elementType: { value: string };
  groups: { id: string; label: string }[];
  properties: TemplateProperty[];
}

interface JsonSchema {
  type?: string;
  format?: string;
  pattern?: string;
  enum?: unknown[];
  const?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
}

const TYPE_NAMES: Record<string, string> = {
  string: '字符串',
  integer: '整数',
  number: '数值',
  boolean: '布尔值',
  array: '列表',
  object: '对象',
};

const FORMAT_NAMES: Record<string, string> = {
  uuid: 'UUID',
  date: '日期 YYYY-MM-DD',
  'date-time': '日期时间 ISO 8601',
  email: '电子邮箱',
};

/** zod states every integer's safe-integer range; that is no information for a modeller. */
const isSafeLimit = (v: number | undefined) => v !== undefined && Math.abs(v) >= Number.MAX_SAFE_INTEGER;

/** One variable's JSON schema in a line of Chinese: 整数，> 0 / 字符串，格式 ^\d{6}$ / …，可为 null. */
export function describeSchema(schema: JsonSchema): string {
  const variants = schema.anyOf ?? [schema];
  const nullable = variants.some((v) => v.type === 'null');
  const main = variants.find((v) => v.type !== 'null') ?? {};
  const parts: string[] = [];
  if (main.description) parts.push(main.description);
  if (main.const !== undefined) parts.push(`固定为 ${JSON.stringify(main.const)}`);
  else if (main.enum) parts.push(`取值 ${main.enum.map((v) => String(v)).join(' / ')}`);
  else {
    parts.push(
      main.format && FORMAT_NAMES[main.format] ? FORMAT_NAMES[main.format]! : (TYPE_NAMES[main.type ?? ''] ?? '任意值'),
    );
    if (main.pattern && !main.format) parts.push(`格式 ${main.pattern}`);
    if (main.exclusiveMinimum !== undefined && !isSafeLimit(main.exclusiveMinimum))
      parts.push(`> ${main.exclusiveMinimum}`);
    if (main.minimum !== undefined && !isSafeLimit(main.minimum)) parts.push(`≥ ${main.minimum}`);
    if (main.exclusiveMaximum !== undefined && !isSafeLimit(main.exclusiveMaximum))
      parts.push(`< ${main.exclusiveMaximum}`);
    if (main.maximum !== undefined && !isSafeLimit(main.maximum)) parts.push(`≤ ${main.maximum}`);
    if (main.minLength !== undefined || main.maxLength !== undefined) {
      parts.push(`长度 ${main.minLength ?? 0}–${main.maxLength ?? '∞'}`);
    }
  }
  if (nullable) parts.push('可为 null');
  return parts.join('，');
}

function objectSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  // 'any' for what JSON Schema cannot express (a transform, a custom check): the variable is listed
  // all the same, the runtime's zod validation still applies in full.
  return z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
}

export function elementTemplate(worker: WorkerDefinition): ElementTemplate {
  const input = objectSchema(worker.input, 'input');
  const output = objectSchema(worker.output, 'output');
  const required = new Set(input.required ?? []);
  const outputs = Object.entries(output.properties ?? {}).map(([name, s]) => `${name}（${describeSchema(s)}）`);

  const inputs = Object.entries(input.properties ?? {}).map(([name, schema]): TemplateProperty => {
    const description = describeSchema(schema);
    // An optional input gets no mapping by default: `=reason` on an absent variable yields null,
    // which the worker's schema (optional, not nullable) would reject.
    return required.has(name)
      ? {
          id: `input.${name}`,
          label: name,
          description,
          group: 'input',
          type: 'String',
          feel: 'required',
          value: `=${name}`,
          constraints: { notEmpty: true },
          binding: { type: 'zeebe:input', name },
        }
      : {
          id: `input.${name}`,
          label: name,
          description: `${description}，可选`,
          group: 'input',
          type: 'String',
          feel: 'required',
          optional: true,
          binding: { type: 'zeebe:input', name },
        };
  });

  return {
    $schema: SCHEMA_URL,
    id: `cn.kongchuo.${worker.type}`,
    name: worker.description,
    description: `作业类型 ${worker.type}。输出变量：${outputs.length ? outputs.join('、') : '无'}`,
    keywords: [worker.type],
    category: { id: 'cn.kongchuo', name: '控辍保学' },
    engines: { camunda: '^8.6' },
    appliesTo: ['bpmn:Task'],
    elementType: { value: 'bpmn:ServiceTask' },
    groups: [
      { id: 'job', label: '作业' },
      { id: 'input', label: '输入变量' },
    ],
    properties: [
      { type: 'Hidden', value: worker.type, binding: { type: 'zeebe:taskDefinition', property: 'type' } },
      {
        id: 'retries',
        label: '重试次数',
        description: '作业失败后引擎再次派发的次数',
        group: 'job',
        type: 'String',
        value: '3',
        binding: { type: 'zeebe:taskDefinition', property: 'retries' },
      },
      ...inputs,
    ],
  };
}

export function elementTemplates(workers: WorkerDefinition[]): ElementTemplate[] {
  return workers.map(elementTemplate);
}

/** The file's text, formatted as prettier formats it (the repository's format check covers it). */
export async function templatesJson(templates: ElementTemplate[]): Promise<string> {
  const prettier = await import('prettier');
  const options = await prettier.resolveConfig(TEMPLATES_FILE);
  return prettier.format(JSON.stringify(templates), { ...options, filepath: TEMPLATES_FILE });
}
