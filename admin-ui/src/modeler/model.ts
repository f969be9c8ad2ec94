/**
 * The editor's model: the API's shapes (api/routes/diagrams.ts) and edits of a draft's XML through the
 * browser's own DOM parser — an edit changes one attribute or text and leaves the rest of the document
 * (its layout, its Zeebe extensions) byte for byte as it was.
 */
export type Kind = 'process' | 'decision';

export interface DiagramSummary {
  kind: Kind;
  id: string;
  name: string | null;
  resourceName: string;
  latestVersion: number;
  versions: number;
}

export interface VersionInfo {
  version: number;
  definitionKey: string;
  resourceName: string;
  deployedAt: string;
  deployedBy: string | null;
  comment: string | null;
  rollbackOf: number | null;
  activeInstances: number | null;
}

export interface Problem {
  elementId: string;
  source: 'xml' | 'engine' | 'lint' | 'rules';
  rule?: string;
  severity: 'error' | 'warn';
  message: string;
}

export interface Svg {
  name: string;
  svg: string;
}

export interface Validation {
  ok: boolean;
  problems: Problem[];
  svgs: Svg[];
}

export interface DiffResult {
  added: { id: string; type: string; name: string | null }[];
  removed: { id: string; type: string; name: string | null }[];
  changed: {
    id: string;
    type: string;
    name: string | null;
    attrs: { attr: string; oldValue: string | null; newValue: string | null }[];
  }[];
  layoutChanged: string[];
}

export interface ElementTemplate {
  id: string;
  name: string;
  appliesTo: string[];
  properties: { value?: string; binding: { type: string; property?: string } }[];
}

export const BPMN_NS = 'http://www.omg.org/spec/BPMN/20100524/MODEL';
export const ZEEBE_NS = 'http://camunda.org/schema/zeebe/1.0';
const ZEEBE_TEMPLATE_NS = 'http://camunda.org/schema/zeebe/1.0';

export function parseXml(xml: string): Document {
  return new DOMParser().parseFromString(xml, 'application/xml');
}

export function serialize(doc: Document): string {
  const text = new XMLSerializer().serializeToString(doc);
  return text.startsWith('<?xml') ? text : `<?xml version="1.0" encoding="UTF-8"?>\n${text}`;
}

export function byId(doc: Document, id: string): Element | undefined {
  return [...doc.getElementsByTagName('*')].find((el) => el.getAttribute('id') === id);
}

function child(el: Element, ns: string, local: string): Element | undefined {
  return [...el.children].find((c) => c.namespaceURI === ns && c.localName === local);
}

/** A BPMN child element, created after `<documentation>` when missing (BPMN's order). */
function ensureChild(el: Element, ns: string, local: string, prefix: string): Element {
  const found = child(el, ns, local);
  if (found) return found;
  const created = el.ownerDocument.createElementNS(ns, `${prefix}:${local}`);
  el.insertBefore(created, el.firstElementChild);
  return created;
}

function prefixOf(el: Element, ns: string, fallback: string): string {
  return el.lookupPrefix(ns) ?? fallback;
}

/** What the properties form shows and edits for one element. */
export interface ElementProps {
  id: string;
  type: string;
  name: string;
  documentation: string;
  /** Timer events: the duration, date or cycle expression (e.g. =deadlines.townActWithin, P5D). */
  timer?: { kind: 'timeDuration' | 'timeDate' | 'timeCycle'; value: string };
  /** Service tasks: the job type; and the element template applied, if any. */
  jobType?: string;
  template?: string;
  /** User tasks: candidate groups expression. */
  candidateGroups?: string;
}

function timerOf(el: Element): Element | undefined {
  const def = child(el, BPMN_NS, 'timerEventDefinition');
  if (!def) return undefined;
  return ['timeDuration', 'timeDate', 'timeCycle'].map((k) => child(def, BPMN_NS, k)).find(Boolean);
}

function extension(el: Element, local: string): Element | undefined {
  const ext = child(el, BPMN_NS, 'extensionElements');
  return ext ? child(ext, ZEEBE_NS, local) : undefined;
}

export function readProps(doc: Document, id: string): ElementProps | undefined {
  const el = byId(doc, id);
  if (!el) return undefined;
  const timer = timerOf(el);
  return {
    id,
    type: el.localName,
    name: el.getAttribute('name') ?? '',
    documentation: child(el, BPMN_NS, 'documentation')?.textContent ?? '',
    timer: timer
      ? { kind: timer.localName as 'timeDuration' | 'timeDate' | 'timeCycle', value: timer.textContent ?? '' }
      : undefined,
    jobType: el.localName === 'serviceTask' ? (extension(el, 'taskDefinition')?.getAttribute('type') ?? '') : undefined,
    template: el.getAttributeNS(ZEEBE_TEMPLATE_NS, 'modelerTemplate') ?? undefined,
    candidateGroups:
      el.localName === 'userTask'
        ? (extension(el, 'assignmentDefinition')?.getAttribute('candidateGroups') ?? '')
        : undefined,
  };
}

/** Writes the form's values into the draft; returns the new XML. */
export function writeProps(xml: string, props: ElementProps): string {
  const doc = parseXml(xml);
  const el = byId(doc, props.id);
  if (!el) return xml;
  const bpmn = prefixOf(el, BPMN_NS, 'bpmn');
  if (props.name) el.setAttribute('name', props.name);
  else el.removeAttribute('name');
  const doc0 = child(el, BPMN_NS, 'documentation');
  if (props.documentation) ensureChild(el, BPMN_NS, 'documentation', bpmn).textContent = props.documentation;
  else doc0?.remove();
  const timer = timerOf(el);
  if (timer && props.timer) timer.textContent = props.timer.value;
  if (props.jobType !== undefined) {
    const def = extension(el, 'taskDefinition');
    if (def) def.setAttribute('type', props.jobType);
  }
  if (props.template !== undefined && props.template) {
    el.setAttributeNS(ZEEBE_TEMPLATE_NS, `${prefixOf(el, ZEEBE_NS, 'zeebe')}:modelerTemplate`, props.template);
  }
  if (props.candidateGroups !== undefined) {
    extension(el, 'assignmentDefinition')?.setAttribute('candidateGroups', props.candidateGroups);
  }
  return serialize(doc);
}

/** Applies an element template's task-definition binding (its job type) to a service task. */
export function applyTemplate(props: ElementProps, template: ElementTemplate): ElementProps {
  const type = template.properties.find(
    (p) => p.binding.type === 'zeebe:taskDefinition' && p.binding.property === 'type',
  );
  return { ...props, jobType: type?.value ?? props.jobType, template: template.id };
}

// ───────────── decision tables ─────────────

export const DMN_NS = 'https://www.omg.org/spec/DMN/20191111/MODEL/';

export interface TableCell {
  id: string;
  text: string;
  /** Where the value comes from: [T] 二(四) …, [P] 默认值 */
  source: string;
}

export interface DecisionTableModel {
  decisionId: string;
  name: string;
  inputs: { id: string; label: string }[];
  outputs: { id: string; name: string; label: string; typeRef: string }[];
  rules: { id: string; description: string; inputs: TableCell[]; outputs: TableCell[] }[];
}

function dmnChildren(el: Element, local: string): Element[] {
  return [...el.children].filter((c) => c.localName === local);
}

function cell(el: Element): TableCell {
  return {
    id: el.getAttribute('id') ?? '',
    text: dmnChildren(el, 'text')[0]?.textContent ?? '',
    source: dmnChildren(el, 'description')[0]?.textContent ?? '',
  };
}

export function readTable(xml: string): DecisionTableModel | undefined {
  const doc = parseXml(xml);
  const decision = [...doc.getElementsByTagNameNS(DMN_NS, 'decision')][0];
  const table = decision ? dmnChildren(decision, 'decisionTable')[0] : undefined;
  if (!decision || !table) return undefined;
  return {
    decisionId: decision.getAttribute('id') ?? '',
    name: decision.getAttribute('name') ?? '',
    inputs: dmnChildren(table, 'input').map((i) => ({
      id: i.getAttribute('id') ?? '',
      label: i.getAttribute('label') ?? '',
    })),
    outputs: dmnChildren(table, 'output').map((o) => ({
      id: o.getAttribute('id') ?? '',
      name: o.getAttribute('name') ?? '',
      label: o.getAttribute('label') ?? o.getAttribute('name') ?? '',
      typeRef: o.getAttribute('typeRef') ?? '',
    })),
    rules: dmnChildren(table, 'rule').map((r) => ({
      id: r.getAttribute('id') ?? '',
      description: dmnChildren(r, 'description')[0]?.textContent ?? '',
      inputs: dmnChildren(r, 'inputEntry').map(cell),
      outputs: dmnChildren(r, 'outputEntry').map(cell),
    })),
  };
}

/** Writes one output cell (value and source) back into the DMN. */
export function writeCell(xml: string, cellId: string, value: { text: string; source: string }): string {
  const doc = parseXml(xml);
  const el = byId(doc, cellId);
  if (!el) return xml;
  const ns = el.namespaceURI ?? DMN_NS;
  const prefix = el.prefix ? `${el.prefix}:` : '';
  let text = dmnChildren(el, 'text')[0];
  if (!text) text = el.appendChild(doc.createElementNS(ns, `${prefix}text`));
  text.textContent = value.text;
  let description = dmnChildren(el, 'description')[0];
  if (!description) description = el.insertBefore(doc.createElementNS(ns, `${prefix}description`), el.firstChild);
  description.textContent = value.source;
  return serialize(doc);
}

/** The rule of `county` (its first input cell is `"<county>"`), if the table has one. */
export function countyRuleId(table: DecisionTableModel, county: string): string | undefined {
  return table.rules.find((r) => r.inputs[0]?.text.trim() === `"${county}"`)?.id;
}

/**
 * A rule of the county's own, drafted from the default rule (`-`) and placed before it (the table's
 * hit policy is FIRST): the county then changes its own deadlines without touching other counties'.
 */
export function addCountyRule(xml: string, county: string): string {
  const doc = parseXml(xml);
  const table = [...doc.getElementsByTagNameNS(DMN_NS, 'decisionTable')][0];
  if (!table) return xml;
  const outputs = dmnChildren(table, 'output').map((o) => o.getAttribute('name') ?? o.getAttribute('id') ?? '');
  const fallback = dmnChildren(table, 'rule').find((r) => dmnChildren(r, 'inputEntry')[0]?.textContent?.trim() === '-');
  if (!fallback) return xml;
  const rule = fallback.cloneNode(true) as Element;
  const id = `rule_${county}`;
  rule.setAttribute('id', id);
  const description = dmnChildren(rule, 'description')[0];
  if (description) description.textContent = `本县（${county}）：由默认规则起草，修改的期限请注明出处`;
  dmnChildren(rule, 'inputEntry').forEach((e, i) => {
    e.setAttribute('id', `${id}_in${i}`);
    const text = dmnChildren(e, 'text')[0];
    if (i === 0 && text) text.textContent = `"${county}"`;
  });
  dmnChildren(rule, 'outputEntry').forEach((e, i) => e.setAttribute('id', `${id}_${outputs[i] ?? i}`));
  table.insertBefore(rule, fallback);
  return serialize(doc);
}
