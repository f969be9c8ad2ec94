/**
 * Lays out a diagram written without DI (or, forced, again) with bpmn-auto-layout, and replaces only
 * the diagram's <bpmndi:BPMNDiagram> sections: the process part of the file stays byte for byte as
 * its author wrote it (attribute layout, entities, comments, zeebe extension elements).
 *
 * bpmn-auto-layout 1.3 parses with a bpmn-moddle that knows no Zeebe schema. It does round-trip the
 * zeebe:* elements and modeler:* attributes (moddle keeps unknown namespaces as generic XML), but it
 * reformats the whole file, and it puts the contents of a collapsed sub-process into the root plane,
 * on top of the process's own shapes, instead of a plane of their own. Both are repaired here.
 */
import { layoutProcess } from 'bpmn-auto-layout';
import type { BpmnModdle } from 'bpmn-moddle';
import { createModdle, isA, parseDiagram, type ModdleElement } from './moddle.js';

const DI_NAMESPACES = [
  'http://www.omg.org/spec/BPMN/20100524/DI',
  'http://www.omg.org/spec/DD/20100524/DC',
  'http://www.omg.org/spec/DD/20100524/DI',
];

/** Element types bpmn-auto-layout leaves without DI (see its README, "Limitations"). */
const NOT_LAID_OUT = [
  'bpmn:TextAnnotation',
  'bpmn:Association',
  'bpmn:Group',
  'bpmn:DataObjectReference',
  'bpmn:DataStoreReference',
];

export type LayoutOutcome =
  | { status: 'laid-out'; xml: string; notLaidOut: string[] }
  | { status: 'has-di' }
  | { status: 'partial-di'; missing: string[] };

function list(element: ModdleElement, name: string): ModdleElement[] {
  return (element.get(name) as ModdleElement[] | undefined) ?? [];
}

function diagrams(definitions: ModdleElement): ModdleElement[] {
  return list(definitions, 'diagrams');
}

/** Every element of the process, sub-processes included, in document order. */
function flowElements(container: ModdleElement): ModdleElement[] {
  return list(container, 'flowElements').flatMap((e) => (isA(e, 'bpmn:SubProcess') ? [e, ...flowElements(e)] : [e]));
}

function artifacts(container: ModdleElement): ModdleElement[] {
  const own = list(container, 'artifacts');
  return [...own, ...list(container, 'flowElements').flatMap((e) => (isA(e, 'bpmn:SubProcess') ? artifacts(e) : []))];
}

function diElementIds(definitions: ModdleElement): Set<string> {
  const ids = new Set<string>();
  for (const diagram of diagrams(definitions)) {
    const plane = diagram.get('plane') as ModdleElement | undefined;
    for (const di of plane ? list(plane, 'planeElement') : []) {
      const id = (di.get('bpmnElement') as ModdleElement | undefined)?.id;
      if (id) ids.add(id);
    }
  }
  return ids;
}

/** The element whose plane shows this one: its process, or the nearest collapsed sub-process. */
function planeOwner(element: ModdleElement, expanded: Set<ModdleElement>): ModdleElement {
  let parent = element.$parent!;
  while (isA(parent, 'bpmn:SubProcess') && expanded.has(parent)) parent = parent.$parent!;
  return parent;
}

/**
 * Moves the DI of a collapsed sub-process's contents into a BPMNDiagram of its own (bpmn-js and the
 * Camunda Modeler show it on drill-down), spreads boundary events that overlap and rounds the
 * coordinates bpmn-auto-layout computes for them (thirds of a task's width).
 */
function repairDi(definitions: ModdleElement, moddle: BpmnModdle): void {
  const [root, ...others] = diagrams(definitions);
  if (!root || others.length) throw new Error('bpmn-auto-layout returned an unexpected number of diagrams');
  const rootPlane = root.get('plane') as ModdleElement;
  const planeElements = list(rootPlane, 'planeElement');
  const expanded = new Set(
    planeElements.filter((di) => di.get('isExpanded') === true).map((di) => di.get('bpmnElement') as ModdleElement),
  );
  const planes = new Map<ModdleElement, ModdleElement[]>([[rootPlane.get('bpmnElement') as ModdleElement, []]]);
  for (const di of planeElements) {
    const owner = planeOwner(di.get('bpmnElement') as ModdleElement, expanded);
    if (!planes.has(owner)) planes.set(owner, []);
    planes.get(owner)!.push(di);
  }
  spreadBoundaryEvents(planeElements);
  planeElements.forEach(roundDi);
  const created = [root];
  for (const [owner, elements] of planes) {
    if (owner === rootPlane.get('bpmnElement')) {
      rootPlane.set('planeElement', elements);
      continue;
    }
    const plane = moddle.create('bpmndi:BPMNPlane', { id: `BPMNPlane_${owner.id}`, bpmnElement: owner });
    plane.set('planeElement', elements);
    for (const e of elements) e.$parent = plane;
    const diagram = moddle.create('bpmndi:BPMNDiagram', { id: `BPMNDiagram_${owner.id}`, plane });
    plane.$parent = diagram;
    diagram.$parent = definitions;
    created.push(diagram);
  }
  definitions.set('diagrams', created);
}

const BOUNDARY_SPACING = 40;

/**
 * bpmn-auto-layout spaces a host's boundary events evenly along its lower edge, which overlaps two
 * 36-pixel events on a 100-pixel task (bpmnlint: no-overlapping-elements). Events closer than
 * BOUNDARY_SPACING are spread around the edge's middle; their flows' first, vertical leg moves along.
 */
function spreadBoundaryEvents(planeElements: ModdleElement[]): void {
  const shapeOf = new Map(planeElements.map((di) => [di.get('bpmnElement') as ModdleElement, di]));
  const byHost = new Map<ModdleElement, ModdleElement[]>();
  for (const di of planeElements) {
    const host = (di.get('bpmnElement') as ModdleElement).get('attachedToRef') as ModdleElement | undefined;
    if (host) byHost.set(host, [...(byHost.get(host) ?? []), di]);
  }
  for (const [host, attached] of byHost) {
    const hostBounds = shapeOf.get(host)?.get('bounds') as ModdleElement | undefined;
    if (!hostBounds || attached.length < 2) continue;
    const width = hostBounds.get('width') as number;
    if (width / (attached.length + 1) >= BOUNDARY_SPACING) continue;
    const middle = (hostBounds.get('x') as number) + width / 2;
    attached.forEach((di, i) => {
      const bounds = di.get('bounds') as ModdleElement;
      const oldCenter = (bounds.get('x') as number) + (bounds.get('width') as number) / 2;
      const newCenter = Math.round(middle + (i - (attached.length - 1) / 2) * BOUNDARY_SPACING);
      bounds.set('x', newCenter - (bounds.get('width') as number) / 2);
      for (const flow of list(di.get('bpmnElement') as ModdleElement, 'outgoing')) {
        const edge = shapeOf.get(flow);
        for (const point of edge ? list(edge, 'waypoint') : []) {
          if (Math.abs((point.get('x') as number) - oldCenter) > 0.5) break;
          point.set('x', newCenter);
        }
      }
    });
  }
}

function roundDi(di: ModdleElement): void {
  const bounds = di.get('bounds') as ModdleElement | undefined;
  for (const key of ['x', 'y', 'width', 'height']) {
    if (bounds) bounds.set(key, Math.round(bounds.get(key) as number));
  }
  for (const point of list(di, 'waypoint')) {
    point.set('x', Math.round(point.get('x') as number));
    point.set('y', Math.round(point.get('y') as number));
  }
}

function startTag(xml: string, localName: string): RegExpExecArray {
  const match = new RegExp(`<([\\w.-]+:)?${localName}\\b[^>]*>`).exec(xml);
  if (!match) throw new Error(`no <${localName}> element`);
  return match;
}

function xmlnsDeclarations(tag: string): Map<string, string> {
  return new Map([...tag.matchAll(/\sxmlns:([\w.-]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

const DIAGRAM_SECTION = /[ \t]*<([\w.-]+:)?BPMNDiagram\b(?:[^>]*\/>|[\s\S]*?<\/\1BPMNDiagram>)[ \t]*\r?\n?/g;

/** The original file with its BPMNDiagram sections replaced by those of `laidOut` (a whole document). */
function spliceDi(original: string, laidOut: string): string {
  const sections = [...laidOut.matchAll(DIAGRAM_SECTION)].map((m) => `  ${m[0].trim()}\n`);
  let xml = original.replace(DIAGRAM_SECTION, '');
  const end = /<\/([\w.-]+:)?definitions>\s*$/.exec(xml);
  if (!end) throw new Error('no closing </definitions> at the end of the file');
  xml = `${xml.slice(0, end.index).replace(/[ \t]*$/, '')}${sections.join('')}${xml.slice(end.index)}`;
  // A file written without DI may lack the DI namespace declarations the new sections use.
  const declared = xmlnsDeclarations(startTag(xml, 'definitions')[0]);
  const missing = [...xmlnsDeclarations(startTag(laidOut, 'definitions')[0])]
    .filter(([prefix, uri]) => DI_NAMESPACES.includes(uri) && !declared.has(prefix))
    .map(([prefix, uri]) => ` xmlns:${prefix}="${uri}"`);
  if (missing.length) {
    const tag = startTag(xml, 'definitions');
    const insertAt = tag.index + tag[0].length - (tag[0].endsWith('/>') ? 2 : 1);
    xml = xml.slice(0, insertAt) + missing.join('') + xml.slice(insertAt);
  }
  return xml;
}

/**
 * Lays out one diagram. Without `force`, only a diagram none of whose flow elements has DI; one with
 * some DI comes back as 'partial-di' (laying it out would discard the drawn part).
 */
export async function layoutDiagram(xml: string, { force = false } = {}): Promise<LayoutOutcome> {
  const moddle = createModdle();
  const { rootElement: definitions, warnings } = await parseDiagram(xml, moddle);
  if (warnings.length) {
    throw new Error(`the diagram does not parse cleanly:\n${warnings.map((w) => `  ${w.message}`).join('\n')}`);
  }
  const roots = list(definitions, 'rootElements');
  if (roots.some((e) => isA(e, 'bpmn:Collaboration'))) {
    throw new Error('bpmn-auto-layout lays out only the first participant of a collaboration; lay it out by hand');
  }
  const processes = roots.filter((e) => isA(e, 'bpmn:Process'));
  if (processes.length !== 1) {
    throw new Error(`bpmn-auto-layout lays out one process per file; this file has ${processes.length}`);
  }
  const drawn = diElementIds(definitions);
  const elements = flowElements(processes[0]!).filter((e) => isA(e, 'bpmn:FlowNode') || isA(e, 'bpmn:SequenceFlow'));
  const missing = elements.filter((e) => !drawn.has(e.id!)).map((e) => e.id!);
  if (!force && missing.length === 0) return { status: 'has-di' };
  if (!force && missing.length < elements.length) return { status: 'partial-di', missing };

  const laid = await parseDiagram(await layoutProcess(xml), moddle);
  if (laid.warnings.length) {
    throw new Error(`bpmn-auto-layout's output does not parse cleanly: ${laid.warnings[0]!.message}`);
  }
  repairDi(laid.rootElement, moddle);
  const result = spliceDi(xml, (await moddle.toXML(laid.rootElement, { format: true })).xml);

  const check = await parseDiagram(result);
  if (check.warnings.length)
    throw new Error(`the laid-out diagram does not parse cleanly: ${check.warnings[0]!.message}`);
  const nowDrawn = diElementIds(check.rootElement);
  const stillMissing = elements.filter((e) => !nowDrawn.has(e.id!)).map((e) => e.id!);
  if (stillMissing.length) throw new Error(`bpmn-auto-layout drew no shape for ${stillMissing.join(', ')}`);
  const notLaidOut = artifacts(processes[0]!)
    .concat(flowElements(processes[0]!))
    .filter((e) => NOT_LAID_OUT.some((t) => isA(e, t)) && !nowDrawn.has(e.id!))
    .map((e) => e.id!);
  return { status: 'laid-out', xml: result, notLaidOut };
}
