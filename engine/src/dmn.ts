/**
 * DMN 1.3 decisions as Camunda 8 evaluates them, parsed with dmn-moddle (MIT) and evaluated with
 * feel.ts: decision tables with every hit policy, literal expression decisions, required decisions.
 * https://docs.camunda.io/docs/components/modeler/dmn/ (decision tables, hit policies, requirements).
 *
 * Results as Zeebe gives them: one output column → the value, several → a context by output name;
 * single-hit policies → one result or null when no rule matches; RULE ORDER, OUTPUT ORDER and COLLECT →
 * a list (empty when none matches); COLLECT with an aggregation → a number (COUNT 0, SUM/MIN/MAX null
 * when none matches).
 */
import { evaluateFeel, evaluateUnaryTests, parseExpression, parseUnaryTests, type Clock } from './feel.js';
import { oneLine, unsafeXmlProblem } from './model/parse.js';
import type { DeployProblem } from './model/types.js';

export type HitPolicy = 'UNIQUE' | 'FIRST' | 'PRIORITY' | 'ANY' | 'COLLECT' | 'RULE ORDER' | 'OUTPUT ORDER';
export type Aggregation = 'SUM' | 'MIN' | 'MAX' | 'COUNT';

export interface DecisionTableInput {
  id: string;
  label?: string;
  /** FEEL, without "=" (DMN cells are FEEL throughout). */
  expression: string;
  typeRef?: string;
}

export interface DecisionTableOutput {
  id: string;
  name?: string;
  label?: string;
  typeRef?: string;
  /** The output values' unary tests (`"high","low"`), which order PRIORITY and OUTPUT ORDER. */
  outputValues?: string;
}

export interface DecisionRule {
  id: string;
  /** 1-based, as Zeebe's matchedRules report it. */
  index: number;
  inputEntries: string[];
  outputEntries: string[];
}

export interface DecisionTable {
  hitPolicy: HitPolicy;
  aggregation?: Aggregation;
  inputs: DecisionTableInput[];
  outputs: DecisionTableOutput[];
  rules: DecisionRule[];
}

export interface DecisionModel {
  id: string;
  name: string;
  /** Zeebe's decisionType. */
  type: 'DECISION_TABLE' | 'LITERAL_EXPRESSION';
  table?: DecisionTable;
  /** Literal expression decisions: the FEEL text. */
  literal?: string;
  /** Ids of the decisions this one requires (informationRequirement), evaluated first. */
  requiredDecisions: string[];
}

/** A DMN document: its decision requirements graph (DRG). */
export interface DecisionRequirementsGraph {
  id: string;
  name: string;
  namespace?: string;
  decisions: DecisionModel[];
}

/** One decision as evaluated; values are JSON (the gateway writes them as JSON text). */
export interface EvaluatedDecision {
  decisionId: string;
  decisionName: string;
  decisionType: DecisionModel['type'];
  output: unknown;
  evaluatedInputs: { inputId: string; inputName: string; inputValue: unknown }[];
  matchedRules: {
    ruleId: string;
    ruleIndex: number;
    evaluatedOutputs: { outputId: string; outputName: string; outputValue: unknown }[];
  }[];
}

/** `evaluatedDecisions`: the required decisions first, the requested one last (as Zeebe lists them). */
export type DecisionEvaluation =
  | { ok: true; output: unknown; evaluatedDecisions: EvaluatedDecision[] }
  | { ok: false; message: string; failedDecisionId: string; evaluatedDecisions: EvaluatedDecision[] };

type Node = { $type: string; id?: string; [key: string]: unknown };
type DmnModdleFactory = new () => {
  fromXML(xml: string, typeName: string): Promise<{ rootElement: Node; warnings: { message: string }[] }>;
};

/** dmn-moddle ships no type declarations; loading it by a non-literal name keeps the compiler out of it. */
const DMN_MODDLE = 'dmn-moddle';
let moddleFactory: Promise<DmnModdleFactory> | undefined;
function dmnModdle(): Promise<DmnModdleFactory> {
  moddleFactory ??= (import(DMN_MODDLE) as Promise<{ DmnModdle: DmnModdleFactory }>).then((m) => m.DmnModdle);
  return moddleFactory;
}

const HIT_POLICIES = new Set<string>(['UNIQUE', 'FIRST', 'PRIORITY', 'ANY', 'COLLECT', 'RULE ORDER', 'OUTPUT ORDER']);
const AGGREGATIONS = new Set<string>(['SUM', 'MIN', 'MAX', 'COUNT']);
const FEEL_LANGUAGES = new Set(['', 'feel', 'https://www.omg.org/spec/DMN/20191111/FEEL/']);

function str(node: Node | undefined, key: string): string | undefined {
  const v = node?.[key];
  return typeof v === 'string' ? v : undefined;
}
function nodes(node: Node | undefined, key: string): Node[] {
  const v = node?.[key];
  return Array.isArray(v) ? (v as Node[]) : [];
}
function child(node: Node | undefined, key: string): Node | undefined {
  const v = node?.[key];
  return typeof v === 'object' && v !== null ? (v as Node) : undefined;
}
/** A `<text>` cell; a missing one is empty. */
function text(node: Node | undefined): string {
  return (str(node, 'text') ?? '').trim();
}

/**
 * Parses a DMN document into its decision requirements graph, with deploy-time checks: every cell
 * parses as FEEL, required decisions exist and do not form a cycle, hit policy and aggregation fit.
 */
export async function parseDmn(xml: string): Promise<{ drg?: DecisionRequirementsGraph; problems: DeployProblem[] }> {
  const unsafe = unsafeXmlProblem(xml);
  if (unsafe) return { problems: [unsafe] };
  let root: Node;
  const problems: DeployProblem[] = [];
  try {
    const Moddle = await dmnModdle();
    const parsed = await new Moddle().fromXML(xml, 'dmn:Definitions');
    root = parsed.rootElement;
    for (const w of parsed.warnings) {
      const message = oneLine(w.message);
      const duplicate = /duplicate ID <([^>]+)>/.exec(message)?.[1];
      problems.push({ elementId: duplicate ?? '', message: `the document is not valid DMN 1.3: ${message}` });
    }
  } catch (err) {
    const detail = oneLine(err instanceof Error ? err.message : String(err));
    return { problems: [{ elementId: '', message: `the document is not a readable DMN 1.3 file: ${detail}` }] };
  }

  const decisions: DecisionModel[] = [];
  for (const el of nodes(root, 'drgElement')) {
    if (el.$type !== 'dmn:Decision') continue; // input data, knowledge sources: documentation only
    const decision = translateDecision(el, problems);
    if (decision) decisions.push(decision);
  }
  if (decisions.length === 0) problems.push({ elementId: '', message: 'the document has no decision' });
  checkRequirements(decisions, problems);

  const drg: DecisionRequirementsGraph = {
    id: root.id ?? '',
    name: str(root, 'name') ?? root.id ?? '',
    decisions,
  };
  const namespace = str(root, 'namespace');
  if (namespace !== undefined) drg.namespace = namespace;
  return { drg, problems };
}

function translateDecision(el: Node, problems: DeployProblem[]): DecisionModel | undefined {
  const id = el.id ?? '';
  const problem = (message: string) => problems.push({ elementId: id, message: `decision '${id}': ${message}` });
  const requiredDecisions = nodes(el, 'informationRequirement').flatMap((ir) => {
    const href = str(child(ir, 'requiredDecision'), 'href');
    return href === undefined ? [] : [href.replace(/^.*#/, '')];
  });
  const logic = child(el, 'decisionLogic');
  const base = { id, name: str(el, 'name') ?? id, requiredDecisions };
  const checkFeel = (what: string, feel: string) => {
    const check = parseExpression(`=${feel}`);
    if (!check.ok) problem(`${what}: ${check.message}`);
  };
  const language = (node: Node | undefined) => (str(node, 'expressionLanguage') ?? '').toLowerCase();

  if (logic?.$type === 'dmn:LiteralExpression') {
    const literal = text(logic);
    if (!FEEL_LANGUAGES.has(language(logic)))
      problem(`expression language '${language(logic)}' is not supported (FEEL only)`);
    if (literal === '') problem('the literal expression is empty');
    else checkFeel('the literal expression', literal);
    return { ...base, type: 'LITERAL_EXPRESSION', literal };
  }
  if (logic?.$type !== 'dmn:DecisionTable') {
    problem(
      `${logic?.$type ?? 'a decision without logic'} is not supported (decision tables and literal expressions only)`,
    );
    return undefined;
  }

  const hitPolicy = str(logic, 'hitPolicy') ?? 'UNIQUE';
  const aggregation = str(logic, 'aggregation');
  if (!HIT_POLICIES.has(hitPolicy)) problem(`hit policy '${hitPolicy}' is not a DMN hit policy`);
  if (aggregation !== undefined && !AGGREGATIONS.has(aggregation)) problem(`aggregation '${aggregation}' is unknown`);
  if (aggregation !== undefined && hitPolicy !== 'COLLECT') problem('an aggregation needs the COLLECT hit policy');

  const inputs: DecisionTableInput[] = nodes(logic, 'input').map((input) => {
    const expr = child(input, 'inputExpression');
    const result: DecisionTableInput = { id: input.id ?? '', expression: text(expr) };
    const label = str(input, 'label');
    if (label !== undefined) result.label = label;
    const typeRef = str(expr, 'typeRef');
    if (typeRef !== undefined) result.typeRef = typeRef;
    if (result.expression === '') problem(`input '${result.id}' has no input expression`);
    else checkFeel(`input '${result.id}'`, result.expression);
    return result;
  });
  const outputs: DecisionTableOutput[] = nodes(logic, 'output').map((output) => {
    const result: DecisionTableOutput = { id: output.id ?? '' };
    for (const key of ['name', 'label', 'typeRef'] as const) {
      const v = str(output, key);
      if (v !== undefined) result[key] = v;
    }
    const values = text(child(output, 'outputValues'));
    if (values !== '') result.outputValues = values;
    return result;
  });
  if (outputs.length === 0) problem('a decision table needs at least one output');
  if (outputs.length > 1 && outputs.some((o) => (o.name ?? '') === '')) {
    problem('with several outputs every output needs a name (the keys of the result context)');
  }
  if (aggregation !== undefined && outputs.length > 1) problem('an aggregation needs a single output column');

  const rules: DecisionRule[] = nodes(logic, 'rule').map((rule, i) => {
    const inputEntries = nodes(rule, 'inputEntry').map(text);
    const outputEntries = nodes(rule, 'outputEntry').map(text);
    const ruleId = rule.id ?? `${i + 1}`;
    if (inputEntries.length !== inputs.length) {
      problem(`rule '${ruleId}' has ${inputEntries.length} input entries for ${inputs.length} inputs`);
    }
    if (outputEntries.length !== outputs.length) {
      problem(`rule '${ruleId}' has ${outputEntries.length} output entries for ${outputs.length} outputs`);
    }
    inputEntries.forEach((entry, j) => {
      const check = parseUnaryTests(entry);
      if (!check.ok) problem(`rule '${ruleId}', input ${j + 1}: ${check.message}`);
    });
    outputEntries.forEach((entry, j) => {
      if (entry !== '') checkFeel(`rule '${ruleId}', output ${j + 1}`, entry);
    });
    return { id: ruleId, index: i + 1, inputEntries, outputEntries };
  });

  const table: DecisionTable = { hitPolicy: hitPolicy as HitPolicy, inputs, outputs, rules };
  if (aggregation !== undefined) table.aggregation = aggregation as Aggregation;
  return { ...base, type: 'DECISION_TABLE', table };
}

function checkRequirements(decisions: DecisionModel[], problems: DeployProblem[]): void {
  const byId = new Map(decisions.map((d) => [d.id, d]));
  for (const d of decisions) {
    for (const required of d.requiredDecisions) {
      if (!byId.has(required)) {
        problems.push({
          elementId: d.id,
          message: `decision '${d.id}' requires '${required}', which is not in this document`,
        });
      }
    }
  }
  // A cycle would recurse for ever at evaluation.
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (d: DecisionModel, path: string[]): void => {
    if (state.get(d.id) === 'done') return;
    if (state.get(d.id) === 'visiting') {
      problems.push({
        elementId: d.id,
        message: `decisions require each other in a cycle: ${[...path, d.id].join(' → ')}`,
      });
      return;
    }
    state.set(d.id, 'visiting');
    for (const r of d.requiredDecisions) {
      const next = byId.get(r);
      if (next) visit(next, [...path, d.id]);
    }
    state.set(d.id, 'done');
  };
  for (const d of decisions) visit(d, []);
}

class DecisionFailure extends Error {
  constructor(
    readonly decisionId: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Evaluates a decision of the graph against `variables` (JSON): its required decisions first, each
 * result available to it under the required decision's id.
 */
export function evaluateDecision(
  drg: DecisionRequirementsGraph,
  decisionId: string,
  variables: Record<string, unknown>,
  clock: Clock,
): DecisionEvaluation {
  const evaluatedDecisions: EvaluatedDecision[] = [];
  const byId = new Map(drg.decisions.map((d) => [d.id, d]));
  const results = new Map<string, unknown>();

  const evaluateOne = (id: string, chain: string[]): unknown => {
    if (results.has(id)) return results.get(id);
    const decision = byId.get(id);
    if (!decision) throw new DecisionFailure(id, `no decision with id '${id}' in '${drg.id}'`);
    if (chain.includes(id))
      throw new DecisionFailure(id, `decisions require each other in a cycle: ${[...chain, id].join(' → ')}`);
    const context: Record<string, unknown> = { ...variables };
    for (const required of decision.requiredDecisions) context[required] = evaluateOne(required, [...chain, id]);
    const evaluated = decision.table
      ? evaluateTable(decision, decision.table, context, clock)
      : evaluateLiteral(decision, context, clock);
    evaluatedDecisions.push(evaluated);
    results.set(id, evaluated.output);
    return evaluated.output;
  };

  try {
    const output = evaluateOne(decisionId, []);
    return { ok: true, output, evaluatedDecisions };
  } catch (err) {
    if (err instanceof DecisionFailure) {
      return { ok: false, message: err.message, failedDecisionId: err.decisionId, evaluatedDecisions };
    }
    throw err;
  }
}

function evaluateLiteral(decision: DecisionModel, context: Record<string, unknown>, clock: Clock): EvaluatedDecision {
  const result = evaluateFeel(decision.literal ?? '', context, clock);
  if (!result.ok) throw new DecisionFailure(decision.id, result.message);
  return {
    decisionId: decision.id,
    decisionName: decision.name,
    decisionType: decision.type,
    output: result.value,
    evaluatedInputs: [],
    matchedRules: [],
  };
}

interface Match {
  rule: DecisionRule;
  values: unknown[];
}

function evaluateTable(
  decision: DecisionModel,
  table: DecisionTable,
  context: Record<string, unknown>,
  clock: Clock,
): EvaluatedDecision {
  const fail = (message: string): never => {
    throw new DecisionFailure(decision.id, `failed to evaluate decision '${decision.id}': ${message}`);
  };
  const inputValues = table.inputs.map((input) => {
    const r = evaluateFeel(input.expression, context, clock);
    return r.ok ? r.value : fail(`input '${input.label ?? input.id}': ${r.message}`);
  });

  const matches: Match[] = [];
  for (const rule of table.rules) {
    const matched = rule.inputEntries.every((entry, i) => {
      const r = evaluateUnaryTests(entry, inputValues[i], context, clock);
      return r.ok ? r.value : fail(`rule '${rule.id}': ${r.message}`);
    });
    if (!matched) continue;
    // FIRST: the rules after the first match are never looked at, so their outputs are not evaluated.
    matches.push({ rule, values: outputValues(rule, context, clock, fail) });
    if (table.hitPolicy === 'FIRST') break;
  }

  const hits = applyHitPolicy(decision, table, matches, context, clock, fail);
  const resultOf = (m: Match) => outputResult(table, m.values);
  let output: unknown;
  switch (table.hitPolicy) {
    case 'COLLECT':
      output = table.aggregation
        ? aggregate(
            table.aggregation,
            hits.map((m) => m.values[0]),
            fail,
          )
        : hits.map(resultOf);
      break;
    case 'RULE ORDER':
    case 'OUTPUT ORDER':
      output = hits.map(resultOf);
      break;
    default:
      output = hits[0] ? resultOf(hits[0]) : null;
  }

  return {
    decisionId: decision.id,
    decisionName: decision.name,
    decisionType: decision.type,
    output,
    evaluatedInputs: table.inputs.map((input, i) => ({
      inputId: input.id,
      inputName: input.label ?? input.expression,
      inputValue: inputValues[i] ?? null,
    })),
    matchedRules: hits.map((m) => ({
      ruleId: m.rule.id,
      ruleIndex: m.rule.index,
      evaluatedOutputs: table.outputs.map((o, i) => ({
        outputId: o.id,
        outputName: o.name ?? o.label ?? o.id,
        outputValue: m.values[i] ?? null,
      })),
    })),
  };
}

function outputValues(
  rule: DecisionRule,
  context: Record<string, unknown>,
  clock: Clock,
  fail: (message: string) => never,
): unknown[] {
  return rule.outputEntries.map((entry, i) => {
    const r = evaluateFeel(entry, context, clock);
    return r.ok ? r.value : fail(`rule '${rule.id}', output ${i + 1}: ${r.message}`);
  });
}

/** One rule's result: the value of a single output column, a context of several. */
function outputResult(table: DecisionTable, values: unknown[]): unknown {
  if (table.outputs.length === 1) return values[0] ?? null;
  return Object.fromEntries(table.outputs.map((o, i) => [o.name ?? o.id, values[i] ?? null]));
}

/** The matches a hit policy keeps, in the order it returns them. */
function applyHitPolicy(
  decision: DecisionModel,
  table: DecisionTable,
  matches: Match[],
  context: Record<string, unknown>,
  clock: Clock,
  fail: (message: string) => never,
): Match[] {
  switch (table.hitPolicy) {
    case 'UNIQUE':
      if (matches.length > 1) {
        fail(`hit policy UNIQUE, but ${matches.length} rules match: ${matches.map((m) => m.rule.id).join(', ')}`);
      }
      return matches;
    case 'ANY': {
      const first = matches[0];
      if (first && matches.some((m) => JSON.stringify(m.values) !== JSON.stringify(first.values))) {
        fail(
          `hit policy ANY, but the matching rules have different outputs: ${matches.map((m) => m.rule.id).join(', ')}`,
        );
      }
      return first ? [first] : [];
    }
    case 'PRIORITY':
    case 'OUTPUT ORDER': {
      const priority = priorities(decision, table, context, clock, fail);
      const sorted = [...matches].sort((a, b) => comparePriority(a, b, priority));
      return table.hitPolicy === 'PRIORITY' ? sorted.slice(0, 1) : sorted;
    }
    default:
      // FIRST (the loop stopped at it), RULE ORDER and COLLECT: in rule order.
      return matches;
  }
}

/** Per output column, its output values in priority order (the first has the highest). */
function priorities(
  decision: DecisionModel,
  table: DecisionTable,
  context: Record<string, unknown>,
  clock: Clock,
  fail: (message: string) => never,
): unknown[][] {
  const columns = table.outputs.map((o) => {
    if (o.outputValues === undefined) return [];
    const r = evaluateFeel(`[${o.outputValues}]`, context, clock);
    if (!r.ok || !Array.isArray(r.value))
      return fail(`the output values of '${o.name ?? o.id}' are not a list of values`);
    return r.value;
  });
  if (columns.every((c) => c.length === 0)) {
    fail(`hit policy ${table.hitPolicy} needs output values (the priority order) in decision '${decision.id}'`);
  }
  return columns;
}

/** Earlier output values first, column by column; equal priorities keep rule order (the sort is stable). */
function comparePriority(a: Match, b: Match, priority: unknown[][]): number {
  for (let i = 0; i < priority.length; i++) {
    const order = priority[i]!;
    if (order.length === 0) continue;
    const rank = (v: unknown) => {
      const k = order.findIndex((p) => JSON.stringify(p) === JSON.stringify(v));
      return k < 0 ? order.length : k;
    };
    const diff = rank(a.values[i]) - rank(b.values[i]);
    if (diff !== 0) return diff;
  }
  return 0;
}

function aggregate(aggregation: Aggregation, values: unknown[], fail: (message: string) => never): unknown {
  if (aggregation === 'COUNT') return values.length;
  const numbers = values.filter((v) => v !== null);
  if (numbers.some((v) => typeof v !== 'number')) {
    return fail(`aggregation ${aggregation} needs numbers, got ${JSON.stringify(values)}`);
  }
  const ns = numbers as number[];
  if (ns.length === 0) return null;
  switch (aggregation) {
    case 'SUM':
      return ns.reduce((s, n) => s + n, 0);
    case 'MIN':
      return Math.min(...ns);
    case 'MAX':
      return Math.max(...ns);
  }
}
