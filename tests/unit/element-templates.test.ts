/** processes/.camunda/element-templates/kongchuo-workers.json: one Modeler template per registered worker. */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  describeSchema,
  elementTemplates,
  templatesJson,
  TEMPLATES_FILE,
  type ElementTemplate,
} from '../../infra/diagrams/element-templates.js';
import { workers } from '../../workers/registry.js';

const generated = elementTemplates(workers);

describe('kongchuo-workers.json', () => {
  it('is what the generator writes for the registered workers (run npm run diagrams:templates)', async () => {
    const committed = fs.existsSync(TEMPLATES_FILE) ? fs.readFileSync(TEMPLATES_FILE, 'utf8') : '';
    expect(committed === (await templatesJson(generated)), 'run npm run diagrams:templates').toBe(true);
  });

  it('has exactly one template per registered worker', () => {
    const committed = JSON.parse(fs.readFileSync(TEMPLATES_FILE, 'utf8')) as ElementTemplate[];
    const ids = committed.map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(workers.map((w) => `cn.kongchuo.${w.type}`).sort());
  });

  it.each(generated.map((t) => [t.id, t] as const))('%s is a usable template', (_id, template) => {
    expect(template.$schema).toMatch(/zeebe-element-templates-json-schema/);
    expect(template.id).toMatch(/^cn\.kongchuo\.[a-z0-9-]+$/);
    expect(template.name).toMatch(/[\u4e00-\u9fff]/);
    expect(template.appliesTo.length).toBeGreaterThan(0);
    for (const type of [...template.appliesTo, template.elementType.value]) expect(type).toMatch(/^bpmn:[A-Z]\w+$/);
    const jobType = template.properties.filter(
      (p) => p.binding.type === 'zeebe:taskDefinition' && p.binding.property === 'type',
    );
    expect(jobType).toEqual([
      expect.objectContaining({ type: 'Hidden', value: template.id.slice('cn.kongchuo.'.length) }),
    ]);
    const groups = new Set(template.groups.map((g) => g.id));
    for (const p of template.properties) if (p.group) expect(groups).toContain(p.group);
    const ids = template.properties.flatMap((p) => (p.id ? [p.id] : []));
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('the input mappings', () => {
  it('map every required input to the variable of its name and leave optional ones unmapped', () => {
    const worker = {
      type: 'sample',
      description: '样例',
      input: z.object({ caseId: z.uuid(), note: z.string().optional() }),
      output: z.object({ done: z.boolean() }),
      handler: async () => ({ done: true }),
    };
    const [template] = elementTemplates([worker]);
    const inputs = template!.properties.filter((p) => p.binding.type === 'zeebe:input');
    expect(inputs.map((p) => [p.binding.name, p.value, p.optional])).toEqual([
      ['caseId', '=caseId', undefined],
      ['note', undefined, true],
    ]);
    expect(template!.description).toContain('done（布尔值）');
  });

  it('describe a variable in Chinese, without the safe-integer range zod adds', () => {
    const schema = (s: z.ZodType) => z.toJSONSchema(s) as Parameters<typeof describeSchema>[0];
    expect(describeSchema(schema(z.number().int().positive()))).toBe('整数，> 0');
    expect(describeSchema(schema(z.string().regex(/^\d{6}$/)))).toBe('字符串，格式 ^\\d{6}$');
    expect(describeSchema(schema(z.number().int().positive().nullable()))).toBe('整数，> 0，可为 null');
    expect(describeSchema(schema(z.enum(['A', 'B'])))).toBe('取值 A / B');
  });
});
