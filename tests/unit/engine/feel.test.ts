/** The engine's FEEL: the clock behind now()/today(), Camunda's zone conversion, JSON results, null-friendly failures. */
import { describe, expect, it } from 'vitest';
import {
  evaluateExpression,
  evaluateFeel,
  evaluateUnaryTests,
  parseExpression,
  parseUnaryTests,
} from '../../../engine/src/feel.js';

/** 2027-03-31 20:00 UTC = 2027-04-01 04:00 in Beijing: the dates differ on either side of the zone. */
const NOW = Date.parse('2027-03-31T20:00:00.000Z');
const clock = () => NOW;

function value(expr: string, context: Record<string, unknown> = {}): unknown {
  const result = evaluateExpression(expr, context, clock);
  if (!result.ok) throw new Error(result.message);
  return result.value;
}

describe('evaluateExpression', () => {
  it('treats a value without "=" as the literal string and "=…" as FEEL', () => {
    // https://docs.camunda.io/docs/components/concepts/expressions/#expressions-vs-static-values
    expect(value('1 + 1')).toBe('1 + 1');
    expect(value('=1 + 1')).toBe(2);
    expect(value('="town:" + code', { code: '330382101' })).toBe('town:330382101');
  });

  it('takes now() and today() from the engine clock, in UTC', () => {
    expect(value('=now()')).toBe('2027-03-31T20:00:00Z');
    expect(value('=today()')).toBe('2027-03-31');
    const later = evaluateExpression('=now()', {}, () => NOW + 86_400_000);
    expect(later).toEqual({ ok: true, value: '2027-04-01T20:00:00Z' });
  });

  it('gives now() + duration("P3D") as an ISO instant a due date can be read from', () => {
    const due = value('=now() + duration("P3D")');
    expect(due).toBe('2027-04-03T20:00:00Z');
    expect(Date.parse(due as string)).toBe(NOW + 3 * 86_400_000);
    expect(value('=now() + duration("PT0.5S")')).toBe('2027-03-31T20:00:00.5Z');
  });

  it('gives dates as YYYY-MM-DD and adds months on the calendar', () => {
    expect(value('=date("2027-01-31")')).toBe('2027-01-31');
    expect(value('=date("2027-01-31") + duration("P1M")')).toBe('2027-02-28');
    expect(value('=date("2028-01-31") + duration("P1M")')).toBe('2028-02-29');
  });

  it('gives durations as ISO durations', () => {
    expect(value('=duration("P10D")')).toBe('P10D');
    expect(value('=duration("P1Y2M")')).toBe('P1Y2M');
    expect(value('=date("2027-03-10") - date("2027-03-01")')).toBe('P9D');
  });

  it("supplies Camunda's date and time(dateTime, zone): the same instant in that zone", () => {
    // https://docs.camunda.io/docs/components/modeler/feel/builtin-functions/feel-built-in-functions-temporal/
    expect(value('=date and time(now(), "Asia/Shanghai")')).toBe('2027-04-01T04:00:00+08:00[Asia/Shanghai]');
    expect(value('=date(date and time(now(), "Asia/Shanghai"))')).toBe('2027-04-01');
    // The diagrams' correction deadline: ten days from today in Beijing, not in UTC.
    expect(
      value('=string(date(date and time(now(), "Asia/Shanghai") + duration(deadlines.correctionPeriod)))', {
        deadlines: { correctionPeriod: 'P10D' },
      }),
    ).toBe('2027-04-11');
    expect(value('=date and time(now(), "Nowhere/Atlantis")')).toBeNull();
  });

  it("keeps feelin's own forms of date and time", () => {
    expect(value('=date and time("2027-06-30T00:00:00+08:00")')).toBe('2027-06-30T00:00:00+08:00');
    expect(value('=date and time("2027-06-30T00:00:00@Asia/Shanghai")')).toBe(
      '2027-06-30T00:00:00+08:00[Asia/Shanghai]',
    );
    expect(value('=date and time(date("2027-06-30"), time("10:15:00Z"))')).toBe('2027-06-30T10:15:00Z');
    expect(value('=date and time("2027-06-30T10:15:00")')).toBe('2027-06-30T10:15:00');
    expect(value('=time("10:15:00+08:00")')).toBe('10:15:00+08:00');
  });

  it('gives null for a missing variable, a missing property and a missing function (Camunda FEEL never fails on those)', () => {
    // https://docs.camunda.io/docs/components/modeler/feel/language-guide/feel-error-handling/
    expect(evaluateExpression('=missing', {}, clock)).toEqual({ ok: true, value: null });
    expect(evaluateExpression('=suspect.townCode', { suspect: {} }, clock)).toEqual({ ok: true, value: null });
    expect(evaluateExpression('=noSuchFunction(1)', {}, clock)).toEqual({ ok: true, value: null });
    expect(evaluateExpression('="a" + 1', {}, clock)).toEqual({ ok: true, value: null });
    expect(value('=classId != null', {})).toBe(false);
  });

  it('fails with a message on a syntax error', () => {
    const result = evaluateExpression('=1 +', {}, clock);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toMatch(/failed to evaluate expression '1 \+': Incomplete/);
  });

  it('converts lists and contexts recursively to JSON', () => {
    expect(value('={due: date("2027-01-01"), within: [duration("P1D"), 2], nested: {at: now()}}')).toEqual({
      due: '2027-01-01',
      within: ['P1D', 2],
      nested: { at: '2027-03-31T20:00:00Z' },
    });
    // A range has no JSON form.
    expect(value('=[1..3]')).toBeNull();
  });

  it('reads the variables as JSON: strings stay strings', () => {
    expect(value('=deadline', { deadline: '2027-01-01' })).toBe('2027-01-01');
    expect(value('=duration(d)', { d: 'P3D' })).toBe('P3D');
  });
});

describe('parseExpression', () => {
  it('passes literals and valid FEEL, including names with spaces the built-ins use', () => {
    expect(parseExpression('P3D')).toEqual({ ok: true });
    expect(parseExpression('=date and time(now(), "Asia/Shanghai")')).toEqual({ ok: true });
    expect(parseExpression('=stillSuspected > 0 and round < deadlines.verificationRounds')).toEqual({ ok: true });
  });

  it('refuses FEEL that does not parse, saying where', () => {
    expect(parseExpression('=1 +')).toEqual({
      ok: false,
      message: "'1 +' is not a valid FEEL expression: Incomplete <ArithmeticExpression> (character 4)",
    });
    expect(parseExpression('=f(')).toMatchObject({ ok: false });
  });
});

describe('unary tests (DMN input entries)', () => {
  // https://docs.camunda.io/docs/components/modeler/feel/language-guide/feel-unary-tests/
  it.each([
    ['"330382"', '330382', true],
    ['"330382"', '370481', false],
    ['-', 'anything', true],
    ['', 'anything', true],
    ['> 5', 6, true],
    ['> 5', 5, false],
    ['[1..5]', 5, true],
    ['(1..5)', 5, false],
    ['"a","b"', 'b', true],
    ['not("a")', 'a', false],
    ['? > limit', 10, true],
  ] as const)('%s against %j is %s', (tests, input, expected) => {
    expect(evaluateUnaryTests(tests, input, { limit: 3 }, clock)).toEqual({ ok: true, value: expected });
  });

  it('reports unary tests that do not parse', () => {
    expect(parseUnaryTests('[1..')).toMatchObject({ ok: false });
    expect(evaluateUnaryTests('[1..', 2, {}, clock)).toMatchObject({ ok: false });
    expect(parseUnaryTests('-')).toEqual({ ok: true });
  });
});

describe('evaluateFeel (DMN cells, no "=")', () => {
  it('evaluates plain FEEL text and gives null for an empty cell', () => {
    expect(evaluateFeel('"P3D"', {}, clock)).toEqual({ ok: true, value: 'P3D' });
    expect(evaluateFeel('a * 2', { a: 4 }, clock)).toEqual({ ok: true, value: 8 });
    expect(evaluateFeel('', {}, clock)).toEqual({ ok: true, value: null });
  });
});
