/**
 * The statute behind a task: each user task's <documentation> in the diagram cites its clause
 * ([T] 二(四)…). Read from the version the task's instance runs (its PROCESS record), so a diagram
 * redeployed with another clause shows the new text only on new instances.
 */
import type { EngineRecords } from '../../infra/camunda/records.js';
import { parseDiagram } from '../../infra/diagrams/moddle.js';

interface ElementInfo {
  name: string | null;
  documentation: string | null;
}

/** Definitions are immutable once deployed: parse each once per process. */
const cache = new Map<string, Promise<Map<string, ElementInfo>>>();
const MAX_CACHED = 200;

async function parse(xml: string): Promise<Map<string, ElementInfo>> {
  const { elementsById } = await parseDiagram(xml);
  const out = new Map<string, ElementInfo>();
  for (const [id, el] of Object.entries(elementsById as Record<string, Record<string, unknown>>)) {
    const docs = (el.documentation as { text?: string }[] | undefined) ?? [];
    out.set(id, {
      name: typeof el.name === 'string' ? el.name : null,
      documentation:
        docs
          .map((d) => d.text ?? '')
          .join('\n')
          .trim() || null,
    });
  }
  return out;
}

export async function elementInfo(
  records: EngineRecords,
  processDefinitionKey: string,
  elementId: string,
): Promise<ElementInfo | undefined> {
  let elements = cache.get(processDefinitionKey);
  if (!elements) {
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
    elements = records.processXml(processDefinitionKey).then((xml) => (xml ? parse(xml) : new Map()));
    cache.set(processDefinitionKey, elements);
    // A definition not exported yet is looked up again next time.
    elements
      .then((m) => m.size === 0 && cache.delete(processDefinitionKey))
      .catch(() => cache.delete(processDefinitionKey));
  }
  return (await elements).get(elementId);
}
