/**
 * The engine answers variables, paths and string literals without feelin (engine/src/feel.ts,
 * simpleExpression): each such expression must give exactly what feelin gives, missing names and
 * properties being null (https://docs.camunda.io/docs/components/modeler/feel/language-guide/feel-error-handling/).
 */
import { evaluate } from 'feelin';
import { describe, expect, it } from 'vitest';
import { evaluateExpression, toJsonValue } from '../../../engine/src/feel.js';

const context = {
  suspect: { id: 7, town: 370481001, guardian: { phone: null } },
  county: '370481',
  deadlines: { correctionPeriod: 'P10D', verificationRounds: 3 },
  suspects: [{ id: 1 }, { id: 2 }],
  flag: false,
  nothing: null,
};

const clock = () => Date.parse('2027-06-01T00:00:00Z');

describe('simple FEEL expressions answered without feelin', () => {
  it.each([
    'suspect',
    'suspect.town',
    'suspect.guardian.phone',
    'suspect.missing',
    'suspect.missing.deeper',
    'county',
    'deadlines.correctionPeriod',
    'missingVariable',
    'nothing.x',
    'flag',
    ' county ',
    '"TOWN_OVERDUE"',
    '"责令限期改正"',
    'suspects',
    'suspects.id',
  ])('%s gives what feelin gives', (text) => {
    const ours = evaluateExpression(`=${text}`, context, clock);
    expect(ours.ok).toBe(true);
    expect(ours.ok && ours.value).toEqual(toJsonValue(evaluate(text, context).value));
  });
});
