/**
 * Every FEEL expression in processes/*.bpmn, collected from the parsed models, evaluated in a plausible
 * context (the deadlines come from processes/statutory-deadlines.dmn itself) and checked for the kind
 * of value its place needs: a list of groups, an ISO due date, a timer value, a boolean, a list.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateDecision, parseDmn } from '../../../engine/src/dmn.js';
import { evaluateExpression } from '../../../engine/src/feel.js';
import { parseBpmn } from '../../../engine/src/model/parse.js';
import type { Expression } from '../../../engine/src/model/types.js';
import { parseCycle, parseDateTime, parseDuration } from '../../../engine/src/timers.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const NOW = Date.parse('2027-03-31T20:00:00.000Z');
const clock = () => NOW;

type Place =
  | 'mapping'
  | 'groups'
  | 'dueDate'
  | 'timeDate'
  | 'timeDuration'
  | 'timeCycle'
  | 'condition'
  | 'collection'
  | 'correlationKey'
  | 'other';

/** Distinct FEEL expressions and the places they sit in. */
async function collectExpressions(): Promise<Map<Expression, Set<Place>>> {
  const found = new Map<Expression, Set<Place>>();
  const add = (expr: Expression | undefined, place: Place) => {
    if (expr === undefined || !expr.startsWith('=')) return;
    if (!found.has(expr)) found.set(expr, new Set());
    found.get(expr)!.add(place);
  };
  for (const file of fs.readdirSync(path.join(ROOT, 'processes')).filter((f) => f.endsWith('.bpmn'))) {
    const { processes, problems } = await parseBpmn(fs.readFileSync(path.join(ROOT, 'processes', file), 'utf8'));
    expect(problems).toEqual([]);
    for (const p of processes) {
      for (const el of p.elements.values()) {
        for (const m of [...el.inputs, ...el.outputs]) add(m.source, 'mapping');
        add(el.job?.type, 'other');
        add(el.job?.retries, 'other');
        add(el.userTask?.candidateGroups, 'groups');
        add(el.userTask?.candidateUsers, 'groups');
        add(el.userTask?.assignee, 'other');
        add(el.userTask?.dueDate, 'dueDate');
        add(el.userTask?.followUpDate, 'dueDate');
        add(el.decision?.decisionId, 'other');
        add(el.calledElement?.processId, 'other');
        add(el.multiInstance?.inputCollection, 'collection');
        add(el.multiInstance?.outputElement, 'other');
        add(el.multiInstance?.completionCondition, 'condition');
        if (el.event?.type === 'timer') {
          add(el.event.timeDate, 'timeDate');
          add(el.event.timeDuration, 'timeDuration');
          add(el.event.timeCycle, 'timeCycle');
        }
        if (el.event?.type === 'message') {
          add(el.event.messageName, 'other');
          add(el.event.correlationKey, 'correlationKey');
        }
      }
      for (const flow of p.flows.values()) add(flow.condition, 'condition');
    }
  }
  return found;
}

let expressions: Map<Expression, Set<Place>>;
let context: Record<string, unknown>;

beforeAll(async () => {
  expressions = await collectExpressions();
  const { drg, problems } = await parseDmn(
    fs.readFileSync(path.join(ROOT, 'processes/statutory-deadlines.dmn'), 'utf8'),
  );
  expect(problems).toEqual([]);
  const deadlines = evaluateDecision(drg!, 'statutory-deadlines', { county: '330382' }, clock);
  if (!deadlines.ok) throw new Error(deadlines.message);
  const assignment = { fromSchoolId: 11, toSchoolId: 21, townCode: '330382101' };
  // The variables the flows hold at those points (names from the diagrams and their workers).
  context = {
    deadlines: deadlines.output,
    year: 2027,
    county: '330382',
    townCode: '330382101',
    childId: 'child-1',
    classId: 7,
    schoolId: 11,
    campaignId: 'campaign-1',
    round: 1,
    // Rounds 2 and 3 count from the round's start (open-next-round's output, an engine-clock timestamp).
    roundStartedAt: '2027-03-25T08:00:00Z',
    advanced: true,
    period: '2027-03',
    suspect: { childId: 'child-1', townCode: '330382101' },
    suspects: [{ childId: 'child-1', townCode: '330382101' }],
    outcomeCode: 'E',
    responsibleSchoolId: 11,
    visitOutcome: 'TRANSFER_FOUND',
    schoolDecision: 'CONFIRMED',
    referralDecision: 'REFER',
    proceedWithoutLists: true,
    missingLists: ['police'],
    stillSuspected: 2,
    recipients: [{ group: 'school:11' }],
    recipient: { group: 'school:11' },
    assignments: [assignment],
    assignment,
    noShows: [{ childId: 'child-2' }],
    noShow: { childId: 'child-2' },
    vulnerablePupils: [{ childId: 'child-3' }],
    traceOutcome: 'DROPOUT',
  };
});

function evaluate(expr: Expression): unknown {
  const result = evaluateExpression(expr, context, clock);
  if (!result.ok) throw new Error(result.message);
  return result.value;
}

describe('every expression in processes/', () => {
  it('collects the distinct FEEL expressions of the diagrams', () => {
    // The architecture doc counts 94 across all diagram files; the BPMN processes alone hold these.
    expect(expressions.size).toBe(93);
    const zoned = [...expressions.keys()].filter((e) => e.includes('"Asia/Shanghai"'));
    expect(zoned).toHaveLength(3);
  });

  it('evaluates each one without failure, and to a value unless it is the literal null', () => {
    const nulls: string[] = [];
    for (const expr of expressions.keys()) {
      if (evaluate(expr) === null && expr !== '=null') nulls.push(expr);
    }
    expect(nulls).toEqual([]);
  });

  it('gives candidate groups as lists of non-empty strings', () => {
    // https://docs.camunda.io/docs/components/modeler/bpmn/user-tasks/#assignments
    for (const [expr, places] of expressions) {
      if (!places.has('groups')) continue;
      const groups = evaluate(expr);
      expect(Array.isArray(groups), expr).toBe(true);
      for (const g of groups as unknown[]) expect(g, expr).toMatch(/^[a-z]+:\S+$/);
    }
  });

  it('gives due dates as ISO date-times after now', () => {
    // https://docs.camunda.io/docs/components/modeler/bpmn/user-tasks/#scheduling
    for (const [expr, places] of expressions) {
      if (!places.has('dueDate')) continue;
      const due = evaluate(expr);
      const parsed = parseDateTime(due as string);
      expect(parsed.ok, `${expr} → ${String(due)}`).toBe(true);
      expect(parsed.ok && parsed.value, expr).toBeGreaterThan(NOW);
    }
  });

  it('gives timer values a timer reads', () => {
    for (const [expr, places] of expressions) {
      const v =
        places.has('timeDate') || places.has('timeDuration') || places.has('timeCycle') ? evaluate(expr) : undefined;
      if (places.has('timeDate')) expect(parseDateTime(v as string).ok, expr).toBe(true);
      if (places.has('timeDuration')) expect(parseDuration(v as string).ok, expr).toBe(true);
      if (places.has('timeCycle')) expect(parseCycle(v as string).ok, expr).toBe(true);
    }
  });

  it('gives conditions booleans, input collections lists, correlation keys strings', () => {
    for (const [expr, places] of expressions) {
      if (places.has('condition')) expect(typeof evaluate(expr), expr).toBe('boolean');
      if (places.has('collection')) expect(Array.isArray(evaluate(expr)), expr).toBe(true);
      if (places.has('correlationKey')) expect(evaluate(expr), expr).toEqual(expect.any(String));
    }
  });

  it("dates the three zoned deadlines by Beijing's calendar (04:00 on 1 April there, 20:00 on 31 March in UTC)", () => {
    const zoned = [...expressions.keys()].filter((e) => e.includes('"Asia/Shanghai"'));
    expect(zoned.map(evaluate).sort()).toEqual(['2027-04-11', '2027-04-11', '2027-04-11']);
  });

  it('builds the verification due date from the county table: 15 October of the campaign year, Beijing time', () => {
    const due = evaluate('=string(year) + "-" + deadlines.verificationBy + "T23:59:59+08:00"');
    expect(due).toBe('2027-10-15T23:59:59+08:00');
  });
});
