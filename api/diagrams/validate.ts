/**
 * The checks a diagram passes before policy staff may deploy it (issue 18), in one list of problems:
 *  - safety, before any parsing: size, no DOCTYPE, no entity declarations (XML bombs, external entities);
 *  - the engine's own deploy check (engine/src/model/parse.ts, engine/src/dmn.ts), run in-process: what
 *    it would refuse or not execute, element by element;
 *  - bpmnlint with the repository's .bpmnlintrc (recommended + camunda-compat for Camunda 8.6);
 *  - our rules: every element that implements a statute cites its clause in its documentation, as
 *    processes/*.bpmn do ([T] 二(四) …), every user task has a console form, every decision-table cell
 *    says where its value comes from.
 * Errors refuse the deploy; warnings are shown on the element and do not.
 */
import { createHash } from 'node:crypto';
import { parseDmn } from '../../engine/src/dmn.js';
import { parseBpmn } from '../../engine/src/model/parse.js';
import { lintDiagram } from '../../infra/diagrams/lint.js';
import { isA, parseDiagram, type ModdleElement } from '../../infra/diagrams/moddle.js';
import { taskForms } from '../tasks/forms.js';

/** A diagram larger than this is refused unread (ours are 9–50 KB; the API's body limit is 2 MB here). */
export const MAX_DIAGRAM_BYTES = 1024 * 1024;

export type DiagramKind = 'PROCESS' | 'DECISION';

export interface DiagramProblem {
  /** The element the problem is on ('' for the document as a whole). */
  elementId: string;
  /** Which check found it: xml (safety), engine, lint (bpmnlint), rules (ours). */
  source: 'xml' | 'engine' | 'lint' | 'rules';
  rule?: string;
  severity: 'error' | 'warn';
  message: string;
}

export interface Validation {
  problems: DiagramProblem[];
  /** No error: deployable. */
  ok: boolean;
  /** The processes (BPMN) or the decision requirements graph (DMN) the document defines. */
  ids: string[];
}

/** A citation of a statute or of the platform's own default: [T] 二(四), [Y] 三(一)2, [G], [R], [P]. */
const CITATION = /\[(T|Y|G|R|P)\]/;

/**
 * Elements that carry a rule — the steps people and workers do, and the deadlines and signals that move
 * the flow (as tests/unit/diagrams.test.ts checks for processes/). Gateways and plain start/end events
 * only route.
 */
const RULE_BEARING = [
  'bpmn:UserTask',
  'bpmn:ServiceTask',
  'bpmn:BusinessRuleTask',
  'bpmn:CallActivity',
  'bpmn:SubProcess',
  'bpmn:BoundaryEvent',
  'bpmn:IntermediateCatchEvent',
  'bpmn:IntermediateThrowEvent',
];

/** Refusals before parsing: size, DOCTYPE, ENTITY. */
export function unsafeProblems(xml: string): DiagramProblem[] {
  const problems: DiagramProblem[] = [];
  const bytes = Buffer.byteLength(xml, 'utf8');
  if (bytes > MAX_DIAGRAM_BYTES) {
    problems.push({
      elementId: '',
      source: 'xml',
      rule: 'size',
      severity: 'error',
      message: `文件大小 ${(bytes / 1024 / 1024).toFixed(1)} MB，超过 1 MB 上限，未读取`,
    });
  }
  if (/<!DOCTYPE/i.test(xml)) {
    problems.push({
      elementId: '',
      source: 'xml',
      rule: 'doctype',
      severity: 'error',
      message: '文件含有 <!DOCTYPE> 声明（DTD），BPMN/DMN 不需要 DTD，出于安全原因拒绝',
    });
  }
  if (/<!ENTITY/i.test(xml)) {
    problems.push({
      elementId: '',
      source: 'xml',
      rule: 'entity',
      severity: 'error',
      message: '文件声明了 <!ENTITY> 实体，实体展开可被用于攻击，拒绝',
    });
  }
  return problems;
}

function documentation(el: ModdleElement): string {
  const docs = (el.documentation as { text?: string }[] | undefined) ?? [];
  return docs.map((d) => d.text ?? '').join('\n');
}

/** Every flow element of a process, sub-processes' contents included. */
function flowElements(container: ModdleElement): ModdleElement[] {
  const own = (container.flowElements as ModdleElement[] | undefined) ?? [];
  return own.flatMap((el) => (isA(el, 'bpmn:SubProcess') ? [el, ...flowElements(el)] : [el]));
}

async function processRules(xml: string): Promise<{ problems: DiagramProblem[]; ids: string[] }> {
  const { rootElement } = await parseDiagram(xml);
  const processes = ((rootElement.rootElements as ModdleElement[] | undefined) ?? []).filter((r) =>
    isA(r, 'bpmn:Process'),
  );
  const problems: DiagramProblem[] = [];
  for (const process of processes) {
    for (const el of flowElements(process)) {
      const id = el.id ?? '';
      if (RULE_BEARING.some((t) => isA(el, t)) && !CITATION.test(documentation(el))) {
        problems.push({
          elementId: id,
          source: 'rules',
          rule: 'cites-clause',
          severity: 'error',
          message: `“${(el.name as string | undefined) ?? id}”的说明（documentation）未注明依据条款，如 [T] 二(四)、[Y] 三(一)2 或 [P] 默认值`,
        });
      }
      if (isA(el, 'bpmn:UserTask') && !Object.hasOwn(taskForms, id)) {
        problems.push({
          elementId: id,
          source: 'rules',
          rule: 'user-task-form',
          severity: 'error',
          message: `用户任务“${(el.name as string | undefined) ?? id}”（${id}）在控制台没有办理表单；请沿用已有任务的编号，或先请开发人员添加表单`,
        });
      }
    }
  }
  return { problems, ids: processes.map((p) => p.id ?? '') };
}

async function validateProcess(xml: string): Promise<Validation> {
  const engine = await parseBpmn(xml);
  const problems: DiagramProblem[] = engine.problems.map((p) => ({
    elementId: p.elementId,
    source: 'engine',
    severity: 'error',
    message: p.message,
  }));
  // Unreadable XML: the engine said so; lint and our rules have nothing to read.
  if (problems.some((p) => /not a readable BPMN file/.test(p.message))) return { problems, ok: false, ids: [] };
  for (const r of await lintDiagram(xml)) {
    // moddle's own warnings are the engine's "not valid BPMN" problems already.
    if (r.rule === 'bpmn-moddle') continue;
    problems.push({
      elementId: r.id,
      source: 'lint',
      rule: r.rule,
      severity: r.category === 'error' ? 'error' : 'warn',
      message: r.category === 'rule-error' ? `检查规则本身出错：${r.message}` : r.message,
    });
  }
  const own = await processRules(xml);
  problems.push(...own.problems);
  return { problems, ok: !problems.some((p) => p.severity === 'error'), ids: own.ids };
}

type DmnNode = { $type: string; id?: string; [key: string]: unknown };
type DmnModdle = new () => { fromXML(xml: string, type: string): Promise<{ rootElement: DmnNode }> };
/** dmn-moddle ships no type declarations (as in engine/src/dmn.ts). */
const DMN_MODDLE = 'dmn-moddle';

const nodes = (n: DmnNode | undefined, key: string) => (Array.isArray(n?.[key]) ? (n[key] as DmnNode[]) : []);

/** Every output cell of every decision table must say where its value comes from. */
async function decisionRules(xml: string): Promise<DiagramProblem[]> {
  const { DmnModdle } = (await import(DMN_MODDLE)) as { DmnModdle: DmnModdle };
  const { rootElement } = await new DmnModdle().fromXML(xml, 'dmn:Definitions');
  const problems: DiagramProblem[] = [];
  for (const decision of nodes(rootElement, 'drgElement').filter((d) => d.$type === 'dmn:Decision')) {
    const table = decision.decisionLogic as DmnNode | undefined;
    if (table?.$type !== 'dmn:DecisionTable') continue;
    const outputs = nodes(table, 'output');
    for (const rule of nodes(table, 'rule')) {
      for (const [i, entry] of nodes(rule, 'outputEntry').entries()) {
        if (CITATION.test(String(entry.description ?? ''))) continue;
        const column = outputs[i];
        problems.push({
          elementId: entry.id ?? rule.id ?? '',
          source: 'rules',
          rule: 'cites-clause',
          severity: 'error',
          message: `规则 ${rule.id ?? ''} 的“${String(column?.label ?? column?.name ?? i + 1)}”未注明出处（[T]、[Y]、[G]、[R] 或 [P] 默认值）`,
        });
      }
    }
  }
  return problems;
}

interface RuleContent {
  id: string;
  county: string;
  signature: string;
}

/** Each rule of each decision table: its first input cell (the county) and all it says (a cell's `text` is a string). */
async function rulesOf(xml: string): Promise<RuleContent[]> {
  const { DmnModdle } = (await import(DMN_MODDLE)) as { DmnModdle: DmnModdle };
  const { rootElement } = await new DmnModdle().fromXML(xml, 'dmn:Definitions');
  const cells = (rule: DmnNode, key: string) =>
    nodes(rule, key).map((e) => `${String(e.text ?? '')}|${String(e.description ?? '')}`);
  return nodes(rootElement, 'drgElement')
    .filter(
      (d) => d.$type === 'dmn:Decision' && (d.decisionLogic as DmnNode | undefined)?.$type === 'dmn:DecisionTable',
    )
    .flatMap((d) =>
      nodes(d.decisionLogic as DmnNode, 'rule').map((rule) => ({
        id: rule.id ?? '',
        county: String(nodes(rule, 'inputEntry')[0]?.text ?? '').trim(),
        signature: JSON.stringify([
          d.id,
          rule.description ?? '',
          cells(rule, 'inputEntry'),
          cells(rule, 'outputEntry'),
        ]),
      })),
    );
}

/**
 * A county's policy staff change their county's rules only (jurisdiction): a rule whose county cell
 * is not `"<their county>"` — another county's, or the default `-` every county without a rule of its
 * own falls back to — must stay as deployed. A county adds a rule of its own instead.
 */
export async function countyScopeProblems(
  deployedXml: string,
  draftXml: string,
  county: string,
): Promise<DiagramProblem[]> {
  const own = (r: RuleContent) => r.county === `"${county}"`;
  const before = (await rulesOf(deployedXml)).filter((r) => !own(r));
  const after = (await rulesOf(draftXml)).filter((r) => !own(r));
  const unchanged = new Set(before.map((r) => r.signature));
  const kept = new Set(after.map((r) => r.signature));
  const problems: DiagramProblem[] = [];
  for (const r of after.filter((x) => !unchanged.has(x.signature))) {
    problems.push({
      elementId: r.id,
      source: 'rules',
      rule: 'county-scope',
      severity: 'error',
      message: `规则 ${r.id}（${r.county === '-' ? '默认规则' : `县 ${r.county}`}）不属于本县（${county}），不能修改或新增；请为本县增加一条规则`,
    });
  }
  for (const r of before.filter((x) => !kept.has(x.signature) && !after.some((a) => a.id === x.id))) {
    problems.push({
      elementId: r.id,
      source: 'rules',
      rule: 'county-scope',
      severity: 'error',
      message: `规则 ${r.id}（${r.county === '-' ? '默认规则' : `县 ${r.county}`}）不属于本县（${county}），不能删除`,
    });
  }
  return problems;
}

async function validateDecision(xml: string): Promise<Validation> {
  const { drg, problems: engineProblems } = await parseDmn(xml);
  const problems: DiagramProblem[] = engineProblems.map((p) => ({
    elementId: p.elementId,
    source: 'engine',
    severity: 'error',
    message: p.message,
  }));
  if (drg) problems.push(...(await decisionRules(xml)));
  return { problems, ok: !problems.some((p) => p.severity === 'error'), ids: drg ? [drg.id] : [] };
}

/** Every problem of a draft, safety first: an unsafe document is not parsed at all. */
export async function validateDiagram(kind: DiagramKind, xml: string): Promise<Validation> {
  const unsafe = unsafeProblems(xml);
  if (unsafe.length > 0) return { problems: unsafe, ok: false, ids: [] };
  return kind === 'PROCESS' ? validateProcess(xml) : validateDecision(xml);
}

/** The engine's duplicate check: the same bytes again make no new version. */
export function checksum(xml: string): string {
  return createHash('sha256').update(xml).digest('hex');
}
