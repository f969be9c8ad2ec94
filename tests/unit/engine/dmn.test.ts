/**
 * The engine's DMN: the county deadlines table row by row, every hit policy, required decisions,
 * literal expressions, and what EvaluateDecision reports (evaluated inputs, matched rules).
 * https://docs.camunda.io/docs/components/modeler/dmn/decision-table-hit-policy/
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateDecision, parseDmn, type DecisionRequirementsGraph } from '../../../engine/src/dmn.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const DEADLINES_XML = fs.readFileSync(path.join(ROOT, 'processes/statutory-deadlines.dmn'), 'utf8');
const clock = () => Date.parse('2027-03-31T20:00:00Z');

function definitions(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="drg" name="Test DRG" namespace="http://example.org">${body}</definitions>`;
}

interface TableSpec {
  id?: string;
  hitPolicy?: string;
  aggregation?: string;
  inputs: string[];
  outputs: { name: string; values?: string }[];
  rules: [string[], string[]][];
  requires?: string[];
}

/** Cell text as XML character data (`<` in `< 0` would end the element). */
function x(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

function table(spec: TableSpec): string {
  const id = spec.id ?? 'd';
  const attrs = [
    spec.hitPolicy ? `hitPolicy="${spec.hitPolicy}"` : '',
    spec.aggregation ? `aggregation="${spec.aggregation}"` : '',
  ];
  const requirements = (spec.requires ?? [])
    .map(
      (r, i) => `<informationRequirement id="${id}_ir${i}"><requiredDecision href="#${r}"/></informationRequirement>`,
    )
    .join('');
  const inputs = spec.inputs
    .map(
      (e, i) =>
        `<input id="${id}_in${i}" label="input ${i}"><inputExpression id="${id}_ie${i}"><text>${x(e)}</text></inputExpression></input>`,
    )
    .join('');
  const outputs = spec.outputs
    .map(
      (o, i) =>
        `<output id="${id}_out${i}" name="${o.name}">${o.values ? `<outputValues id="${id}_ov${i}"><text>${o.values}</text></outputValues>` : ''}</output>`,
    )
    .join('');
  const rules = spec.rules
    .map(
      ([ins, outs], r) =>
        `<rule id="${id}_r${r + 1}">${ins.map((t, i) => `<inputEntry id="${id}_r${r + 1}_i${i}"><text>${x(t)}</text></inputEntry>`).join('')}${outs.map((t, i) => `<outputEntry id="${id}_r${r + 1}_o${i}"><text>${x(t)}</text></outputEntry>`).join('')}</rule>`,
    )
    .join('');
  return `<decision id="${id}" name="Decision ${id}">${requirements}<decisionTable id="${id}_t" ${attrs.join(' ')}>${inputs}${outputs}${rules}</decisionTable></decision>`;
}

async function drgOf(body: string): Promise<DecisionRequirementsGraph> {
  const { drg, problems } = await parseDmn(definitions(body));
  expect(problems).toEqual([]);
  return drg!;
}

async function output(body: string, variables: Record<string, unknown>, decisionId = 'd'): Promise<unknown> {
  const r = evaluateDecision(await drgOf(body), decisionId, variables, clock);
  if (!r.ok) throw new Error(r.message);
  return r.output;
}

async function failure(body: string, variables: Record<string, unknown>): Promise<string> {
  const r = evaluateDecision(await drgOf(body), 'd', variables, clock);
  expect(r.ok).toBe(false);
  return r.ok ? '' : r.message;
}

/** The rows of statutory-deadlines.dmn read straight from the XML: rule id → { output name → value }. */
function rowsOfDeadlinesTable(): Map<string, Record<string, unknown>> {
  const names = [...DEADLINES_XML.matchAll(/<output id="out_(\w+)" name="(\w+)"/g)].map((m) => m[2]!);
  const rows = new Map<string, Record<string, unknown>>();
  for (const rule of DEADLINES_XML.matchAll(/<rule id="(\w+)">([\s\S]*?)<\/rule>/g)) {
    const values = [
      ...rule[2]!.matchAll(/<outputEntry id="\w+">(?:<description>[^<]*<\/description>)?<text>([^<]*)<\/text>/g),
    ].map((m) => JSON.parse(m[1]!) as unknown);
    expect(values).toHaveLength(names.length);
    rows.set(rule[1]!, Object.fromEntries(names.map((n, i) => [n, values[i]])));
  }
  return rows;
}

describe('statutory-deadlines.dmn', () => {
  it('parses with zero problems as one FIRST decision table', async () => {
    const { drg, problems } = await parseDmn(DEADLINES_XML);
    expect(problems).toEqual([]);
    expect(drg).toMatchObject({ id: 'Definitions_statutoryDeadlines', name: '法定期限参数' });
    expect(drg!.decisions.map((d) => [d.id, d.type, d.table?.hitPolicy])).toEqual([
      ['statutory-deadlines', 'DECISION_TABLE', 'FIRST'],
    ]);
  });

  it.each([
    ['330382', 'rule_yueqing'],
    ['370481', 'rule_default'],
    ['', 'rule_default'],
    [null, 'rule_default'],
  ])('county %j gets exactly the values of %s', async (county, ruleId) => {
    const { drg } = await parseDmn(DEADLINES_XML);
    const r = evaluateDecision(drg!, 'statutory-deadlines', { county }, clock);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.output).toEqual(rowsOfDeadlinesTable().get(ruleId));
    expect(r.evaluatedDecisions[0]!.matchedRules.map((m) => m.ruleId)).toEqual([ruleId]);
    expect(r.evaluatedDecisions[0]!.evaluatedInputs).toEqual([
      { inputId: 'in_county', inputName: '县级区划代码', inputValue: county },
    ]);
  });

  it('gives Yueqing no urge notice (its justice bureau acts directly) and everyone else one', async () => {
    const rows = rowsOfDeadlinesTable();
    expect(rows.get('rule_yueqing')!.issueUrgeNotice).toBe(false);
    expect(rows.get('rule_default')!.issueUrgeNotice).toBe(true);
  });
});

describe('hit policies', () => {
  const seasons = (hitPolicy?: string) =>
    table({
      hitPolicy,
      inputs: ['season'],
      outputs: [{ name: 'dish' }],
      rules: [
        [['"Winter"'], ['"Roastbeef"']],
        [['"Summer"'], ['"Salad"']],
        [['"Winter","Autumn"'], ['"Stew"']],
      ],
    });

  it('UNIQUE (the default): the one matching rule, null when none matches, a failure when two match', async () => {
    expect(await output(seasons(), { season: 'Summer' })).toBe('Salad');
    expect(await output(seasons(), { season: 'Spring' })).toBeNull();
    expect(await failure(seasons(), { season: 'Winter' })).toMatch(/hit policy UNIQUE, but 2 rules match: d_r1, d_r3/);
  });

  it('FIRST: the first matching rule in rule order', async () => {
    expect(await output(seasons('FIRST'), { season: 'Winter' })).toBe('Roastbeef');
    expect(await output(seasons('FIRST'), { season: 'Autumn' })).toBe('Stew');
  });

  it('ANY: one result when all matching rules agree, a failure when they differ', async () => {
    const agreeing = table({
      hitPolicy: 'ANY',
      inputs: ['x'],
      outputs: [{ name: 'o' }],
      rules: [
        [['> 1'], ['"big"']],
        [['> 2'], ['"big"']],
        [['< 0'], ['"negative"']],
      ],
    });
    expect(await output(agreeing, { x: 5 })).toBe('big');
    expect(await failure(seasons('ANY'), { season: 'Winter' })).toMatch(
      /hit policy ANY, but the matching rules have different outputs/,
    );
  });

  it('PRIORITY: the match whose output comes first in the output values', async () => {
    const risk = table({
      hitPolicy: 'PRIORITY',
      inputs: ['age', 'absentDays'],
      outputs: [{ name: 'level', values: '"high","medium","low"' }],
      rules: [
        [['-', '> 0'], ['"low"']],
        [['< 16', '>= 3'], ['"high"']],
        [['-', '>= 2'], ['"medium"']],
      ],
    });
    expect(await output(risk, { age: 12, absentDays: 5 })).toBe('high');
    expect(await output(risk, { age: 17, absentDays: 5 })).toBe('medium');
    expect(await output(risk, { age: 17, absentDays: 1 })).toBe('low');
    expect(await output(risk, { age: 17, absentDays: 0 })).toBeNull();
  });

  it('OUTPUT ORDER: every match, ordered by the output values', async () => {
    const levels = table({
      hitPolicy: 'OUTPUT ORDER',
      inputs: ['n'],
      outputs: [{ name: 'level', values: '"high","medium","low"' }],
      rules: [
        [['> 0'], ['"low"']],
        [['> 5'], ['"high"']],
        [['> 2'], ['"medium"']],
      ],
    });
    expect(await output(levels, { n: 9 })).toEqual(['high', 'medium', 'low']);
    expect(await output(levels, { n: 3 })).toEqual(['medium', 'low']);
    expect(await output(levels, { n: 0 })).toEqual([]);
  });

  it('RULE ORDER: every match in rule order', async () => {
    expect(await output(seasons('RULE ORDER'), { season: 'Winter' })).toEqual(['Roastbeef', 'Stew']);
    expect(await output(seasons('RULE ORDER'), { season: 'Spring' })).toEqual([]);
  });

  const amounts = (aggregation?: string) =>
    table({
      hitPolicy: 'COLLECT',
      aggregation,
      inputs: ['n'],
      outputs: [{ name: 'amount' }],
      rules: [
        [['> 0'], ['10']],
        [['> 5'], ['30']],
        [['> 2'], ['5']],
      ],
    });

  it('COLLECT: every match as a list, empty when none matches', async () => {
    expect(await output(amounts(), { n: 9 })).toEqual([10, 30, 5]);
    expect(await output(amounts(), { n: 0 })).toEqual([]);
  });

  it.each([
    ['SUM', 9, 45],
    ['MIN', 9, 5],
    ['MAX', 9, 30],
    ['COUNT', 9, 3],
    ['SUM', 1, 10],
    ['COUNT', 0, 0],
    ['SUM', 0, null],
    ['MAX', 0, null],
  ])('COLLECT %s for n = %i is %j', async (aggregation, n, expected) => {
    expect(await output(amounts(aggregation), { n })).toEqual(expected);
  });
});

describe('decision results', () => {
  it('gives a context for several output columns, and a list of contexts for a list hit policy', async () => {
    const two = (hitPolicy: string) =>
      table({
        hitPolicy,
        inputs: ['n'],
        outputs: [{ name: 'a' }, { name: 'b' }],
        rules: [
          [['> 0'], ['1', '"one"']],
          [['> 1'], ['2', '']],
        ],
      });
    expect(await output(two('FIRST'), { n: 2 })).toEqual({ a: 1, b: 'one' });
    expect(await output(two('RULE ORDER'), { n: 2 })).toEqual([
      { a: 1, b: 'one' },
      { a: 2, b: null },
    ]);
  });

  it('matches an empty input entry like "-" (anything)', async () => {
    const body = table({ inputs: ['x', 'y'], outputs: [{ name: 'o' }], rules: [[['', '"b"'], ['"hit"']]] });
    expect(await output(body, { x: 'whatever', y: 'b' })).toBe('hit');
    expect(await output(body, { y: 'c' })).toBeNull();
  });

  it('evaluates output entries as FEEL against the variables', async () => {
    const body = table({ inputs: ['base'], outputs: [{ name: 'o' }], rules: [[['-'], ['base * 2 + 1']]] });
    expect(await output(body, { base: 20 })).toBe(41);
  });

  it('reports evaluated inputs and matched rules (1-based index) as EvaluateDecision does', async () => {
    const drg = await drgOf(
      table({
        hitPolicy: 'COLLECT',
        inputs: ['n', 'kind'],
        outputs: [{ name: 'o' }],
        rules: [
          [['> 5', '-'], ['"a"']],
          [['> 0', '"x"'], ['"b"']],
          [['< 0', '-'], ['"c"']],
        ],
      }),
    );
    const r = evaluateDecision(drg, 'd', { n: 7, kind: 'x' }, clock);
    expect(r).toEqual({
      ok: true,
      output: ['a', 'b'],
      evaluatedDecisions: [
        {
          decisionId: 'd',
          decisionName: 'Decision d',
          decisionType: 'DECISION_TABLE',
          output: ['a', 'b'],
          evaluatedInputs: [
            { inputId: 'd_in0', inputName: 'input 0', inputValue: 7 },
            { inputId: 'd_in1', inputName: 'input 1', inputValue: 'x' },
          ],
          matchedRules: [
            {
              ruleId: 'd_r1',
              ruleIndex: 1,
              evaluatedOutputs: [{ outputId: 'd_out0', outputName: 'o', outputValue: 'a' }],
            },
            {
              ruleId: 'd_r2',
              ruleIndex: 2,
              evaluatedOutputs: [{ outputId: 'd_out0', outputName: 'o', outputValue: 'b' }],
            },
          ],
        },
      ],
    });
  });
});

describe('required decisions and literal expressions', () => {
  // https://docs.camunda.io/docs/components/modeler/dmn/decision-requirements-graph/
  const graph =
    `<decision id="age" name="Age"><variable id="age_v" name="age" typeRef="number"/>` +
    `<literalExpression id="age_l"><text>year - birthYear</text></literalExpression></decision>` +
    table({
      id: 'school',
      hitPolicy: 'FIRST',
      requires: ['age'],
      inputs: ['age'],
      outputs: [{ name: 'stage' }],
      rules: [
        [['[6..11]'], ['"primary"']],
        [['[12..14]'], ['"junior"']],
        [['-'], ['"other"']],
      ],
    });

  it('evaluates the required decision first; its result is available under its id', async () => {
    const drg = await drgOf(graph);
    const r = evaluateDecision(drg, 'school', { year: 2027, birthYear: 2014 }, clock);
    expect(r.ok && r.output).toBe('junior');
    expect(r.evaluatedDecisions.map((d) => [d.decisionId, d.decisionType, d.output])).toEqual([
      ['age', 'LITERAL_EXPRESSION', 13],
      ['school', 'DECISION_TABLE', 'junior'],
    ]);
  });

  it('evaluates a literal expression decision on its own', async () => {
    expect(await output(graph, { year: 2027, birthYear: 2020 }, 'age')).toBe(7);
  });

  it('fails naming the decision that failed', async () => {
    const drg = await drgOf(seasonsUnique());
    const r = evaluateDecision(drg, 'd', { season: 'Winter' }, clock);
    expect(r).toMatchObject({ ok: false, failedDecisionId: 'd' });
    expect(evaluateDecision(drg, 'missing', {}, clock)).toMatchObject({
      ok: false,
      failedDecisionId: 'missing',
      message: "no decision with id 'missing' in 'drg'",
    });
  });
});

function seasonsUnique(): string {
  return table({
    inputs: ['season'],
    outputs: [{ name: 'dish' }],
    rules: [
      [['"Winter"'], ['"a"']],
      [['"Winter"'], ['"b"']],
    ],
  });
}

describe('parseDmn refuses', () => {
  it('a DOCTYPE, a 5 MB document and XML that does not parse, like parseBpmn', async () => {
    const doctype = await parseDmn(`<!DOCTYPE x [<!ENTITY a "b">]>${definitions('')}`);
    expect(doctype.problems[0]!.message).toMatch(/<!DOCTYPE> declaration; DTDs are refused/);
    const big = await parseDmn(definitions('') + `<!-- ${'x'.repeat(5 * 1024 * 1024)} -->`);
    expect(big.problems[0]!.message).toMatch(/documents over 4 MB are refused/);
    const broken = await parseDmn('<definitions><decision></definitions>');
    expect(broken.problems[0]!.message).toMatch(/^the document is not a readable DMN 1\.3 file: /);
  });

  it('cells that do not parse as FEEL, naming the decision and the rule', async () => {
    const { problems } = await parseDmn(
      definitions(table({ inputs: ['a +'], outputs: [{ name: 'o' }], rules: [[['[1..'], ['"x" +']]] })),
    );
    const messages = problems.map((p) => p.message);
    expect(messages).toContainEqual(
      expect.stringMatching(/^decision 'd': input 'd_in0': 'a \+' is not a valid FEEL expression/),
    );
    expect(messages).toContainEqual(
      expect.stringMatching(/^decision 'd': rule 'd_r1', input 1: '\[1\.\.' is not a valid FEEL/),
    );
    expect(messages).toContainEqual(expect.stringMatching(/^decision 'd': rule 'd_r1', output 1: /));
    expect(problems.every((p) => p.elementId === 'd')).toBe(true);
  });

  it('a missing required decision and a requirement cycle', async () => {
    const missing = await parseDmn(
      definitions(table({ requires: ['ghost'], inputs: ['a'], outputs: [{ name: 'o' }], rules: [] })),
    );
    expect(missing.problems).toContainEqual({
      elementId: 'd',
      message: "decision 'd' requires 'ghost', which is not in this document",
    });
    const cycle = await parseDmn(
      definitions(
        table({ id: 'a', requires: ['b'], inputs: ['x'], outputs: [{ name: 'o' }], rules: [] }) +
          table({ id: 'b', requires: ['a'], inputs: ['x'], outputs: [{ name: 'o' }], rules: [] }),
      ),
    );
    expect(cycle.problems.map((p) => p.message)).toContainEqual(expect.stringMatching(/in a cycle: a → b → a/));
  });

  it('an aggregation without COLLECT or over several outputs, and rules with the wrong number of entries', async () => {
    const { problems } = await parseDmn(
      definitions(
        table({
          hitPolicy: 'FIRST',
          aggregation: 'SUM',
          inputs: ['a'],
          outputs: [{ name: 'o' }, { name: 'p' }],
          rules: [[['-'], ['1']]],
        }),
      ),
    );
    const messages = problems.map((p) => p.message).join('\n');
    expect(messages).toMatch(/an aggregation needs the COLLECT hit policy/);
    expect(messages).toMatch(/an aggregation needs a single output column/);
    expect(messages).toMatch(/rule 'd_r1' has 1 output entries for 2 outputs/);
  });
});
