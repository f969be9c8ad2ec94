/**
 * The one BPMN parser of infra/diagrams: bpmn-moddle with the Zeebe extension schema. Without the
 * schema, zeebe:* elements survive only as opaque XML, and a misspelt one (zeebe:taskDefiniton) or a
 * wrong attribute parses without a word; with it, moddle reports them as warnings.
 */
import { createRequire } from 'node:module';
import { BpmnModdle, type ModdleElement, type ParseResult } from 'bpmn-moddle';

export type { ModdleElement, ParseResult };

// zeebe-bpmn-moddle publishes its schema as a JSON resource only (no JavaScript entry point).
const require = createRequire(import.meta.url);
const zeebeSchema = require('zeebe-bpmn-moddle/resources/zeebe.json') as Record<string, unknown>;

export function createModdle(): BpmnModdle {
  return new BpmnModdle({ zeebe: zeebeSchema });
}

/** Parses a diagram; rejects on XML that is not well-formed, reports everything else in warnings. */
export function parseDiagram(xml: string, moddle: BpmnModdle = createModdle()): Promise<ParseResult> {
  return moddle.fromXML(xml);
}

/** moddle's `is`: the element's type or one of its super types (bpmn:Task for a bpmn:UserTask). */
export function isA(element: ModdleElement | undefined, type: string): boolean {
  const instance = element as unknown as { $instanceOf?: (t: string) => boolean } | undefined;
  return Boolean(instance?.$instanceOf?.(type));
}
