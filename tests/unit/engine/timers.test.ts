/**
 * Timer values as Zeebe reads them: dates, durations, repeating intervals and Spring cron, in UTC.
 * https://docs.camunda.io/docs/components/modeler/bpmn/timer-events/#timers
 */
import { describe, expect, it } from 'vitest';
import {
  addDuration,
  checkStaticTimerValue,
  nextCycle,
  nextDueDate,
  parseCron,
  parseDateTime,
  parseDuration,
  type TimerDefinition,
} from '../../../engine/src/timers.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const literal = (expr: string) => ({ ok: true as const, value: expr });

function plus(fromIso: string, duration: string): string {
  const d = parseDuration(duration);
  if (!d.ok) throw new Error(d.message);
  return iso(addDuration(at(fromIso), d.value))!;
}

function due(timer: Omit<TimerDefinition, 'type'>, nowIso: string) {
  const r = nextDueDate({ type: 'timer', ...timer }, at(nowIso), literal);
  return r.ok ? { ...r, dueDate: iso(r.dueDate) } : r;
}

/** The next `n` firings of a cron expression after `fromIso`. */
function cronRuns(expr: string, fromIso: string, n = 3): string[] {
  const runs: string[] = [];
  let t = at(fromIso);
  for (let i = 0; i < n; i++) {
    t = nextCycle(expr, t)!;
    runs.push(iso(t)!);
  }
  return runs;
}

describe('durations', () => {
  it.each([
    ['2027-01-15T10:00:00.000Z', 'P3D', '2027-01-18T10:00:00.000Z'],
    ['2027-01-15T10:00:00.000Z', 'PT1H30M', '2027-01-15T11:30:00.000Z'],
    ['2027-01-15T10:00:00.000Z', 'PT0.5S', '2027-01-15T10:00:00.500Z'],
    ['2027-01-15T10:00:00.000Z', 'P2W', '2027-01-29T10:00:00.000Z'],
    ['2027-01-15T10:00:00.000Z', 'P1DT12H', '2027-01-16T22:00:00.000Z'],
    ['2027-01-15T10:00:00.000Z', '-P1D', '2027-01-14T10:00:00.000Z'],
    // Months on the calendar, clamped to the month's end (java.time's plusMonths).
    ['2027-01-31T10:00:00.000Z', 'P1M', '2027-02-28T10:00:00.000Z'],
    ['2028-01-31T10:00:00.000Z', 'P1M', '2028-02-29T10:00:00.000Z'],
    ['2027-03-31T10:00:00.000Z', 'P1M', '2027-04-30T10:00:00.000Z'],
    ['2027-01-31T10:00:00.000Z', 'P1Y1M', '2028-02-29T10:00:00.000Z'],
    ['2028-02-29T00:00:00.000Z', 'P1Y', '2029-02-28T00:00:00.000Z'],
    ['2027-09-01T00:00:00.000Z', 'P4M', '2028-01-01T00:00:00.000Z'],
    ['2027-11-30T00:00:00.000Z', 'P1M1D', '2027-12-31T00:00:00.000Z'],
  ])('%s + %s = %s', (from, duration, expected) => {
    expect(plus(from, duration)).toBe(expected);
  });

  it.each(['P', 'PT', 'P1DT', '3D', 'P1.5D', 'P3X', ''])('refuses %j', (text) => {
    expect(parseDuration(text)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/not an ISO 8601 duration/),
    });
  });
});

describe('dates', () => {
  it.each([
    ['2027-06-30T00:00:00Z', '2027-06-30T00:00:00.000Z'],
    ['2027-06-30T00:00:00+08:00', '2027-06-29T16:00:00.000Z'],
    ['2027-06-30T00:00:00.250-05:30', '2027-06-30T05:30:00.250Z'],
    ['2027-06-30T00:00:00+08:00[Asia/Shanghai]', '2027-06-29T16:00:00.000Z'],
    ['2027-06-30T00:00:00[Asia/Shanghai]', '2027-06-29T16:00:00.000Z'],
    ['2027-07-01T12:00:00[Europe/Berlin]', '2027-07-01T10:00:00.000Z'],
    ['2027-01-01T12:00:00[Europe/Berlin]', '2027-01-01T11:00:00.000Z'],
    // 02:30 does not exist in Berlin on 28 March 2027: java.time moves it forward by the gap (03:30 CEST).
    ['2027-03-28T02:30:00[Europe/Berlin]', '2027-03-28T01:30:00.000Z'],
    ['2028-02-29T23:59:59+08:00', '2028-02-29T15:59:59.000Z'],
    ['2027-06-30T00:00', '2027-06-30T00:00:00.000Z'],
  ])('%s is %s', (text, expected) => {
    const r = parseDateTime(text);
    expect(r.ok && iso(r.value)).toBe(expected);
  });

  it.each(['2027-02-29T00:00:00Z', '2027-13-01T00:00:00Z', '2027-06-30T24:00:00Z', '2027-06-30', 'tomorrow'])(
    'refuses %j',
    (text) => {
      expect(parseDateTime(text).ok).toBe(false);
    },
  );

  it('refuses an unknown zone id by name', () => {
    expect(parseDateTime('2027-06-30T00:00:00[Mars/Olympus]')).toEqual({
      ok: false,
      message: "'Mars/Olympus' in '2027-06-30T00:00:00[Mars/Olympus]' is not a known time zone",
    });
  });
});

describe('nextDueDate', () => {
  const now = '2027-01-31T10:00:00.000Z';

  it('schedules a date once, a duration once from now', () => {
    expect(due({ timeDate: '2027-06-30T00:00:00+08:00' }, now)).toEqual({
      ok: true,
      dueDate: '2027-06-29T16:00:00.000Z',
      repetitions: 1,
    });
    expect(due({ timeDuration: 'P1M' }, now)).toEqual({
      ok: true,
      dueDate: '2027-02-28T10:00:00.000Z',
      repetitions: 1,
    });
  });

  it('schedules repeating intervals: R5 five times, R for ever, first due one interval from now', () => {
    expect(due({ timeCycle: 'R5/PT10S' }, now)).toEqual({
      ok: true,
      dueDate: '2027-01-31T10:00:10.000Z',
      repetitions: 5,
      cycle: 'R5/PT10S',
    });
    expect(due({ timeCycle: 'R/PT1H' }, now)).toMatchObject({ dueDate: '2027-01-31T11:00:00.000Z', repetitions: -1 });
    expect(iso(nextCycle('R5/PT10S', at('2027-01-31T10:00:10.000Z')))).toBe('2027-01-31T10:00:20.000Z');
  });

  it('schedules an interval with a start at the start, or at its first occurrence still ahead', () => {
    expect(due({ timeCycle: 'R3/2027-02-01T00:00:00Z/P1D' }, now)).toMatchObject({
      dueDate: '2027-02-01T00:00:00.000Z',
      repetitions: 3,
    });
    // Started on the 30th: one occurrence (the 30th) has passed, the 31st at 00:00 too; next is 1 February.
    expect(due({ timeCycle: 'R3/2027-01-30T00:00:00Z/P1D' }, now)).toMatchObject({
      dueDate: '2027-02-01T00:00:00.000Z',
      repetitions: 1,
    });
    expect(due({ timeCycle: 'R3/2027-01-01T00:00:00Z/P1D' }, now)).toEqual({
      ok: false,
      message: "the last repetition of 'R3/2027-01-01T00:00:00Z/P1D' has passed",
    });
    // Monthly from the 31st keeps the start's day where the month has it.
    expect(iso(nextCycle('R/2027-01-31T00:00:00Z/P1M', at('2027-02-28T00:00:00Z')))).toBe('2027-03-31T00:00:00.000Z');
  });

  it('schedules a cron expression at its next match, for ever', () => {
    expect(due({ timeCycle: '0 0 1 L 3,10 *' }, now)).toEqual({
      ok: true,
      dueDate: '2027-03-31T01:00:00.000Z',
      repetitions: -1,
      cycle: '0 0 1 L 3,10 *',
    });
  });

  it('passes on an evaluation failure and refuses a value that is no timer value', () => {
    const failing = () => ({ ok: false as const, message: 'failed to evaluate expression' });
    expect(nextDueDate({ type: 'timer', timeDuration: '=x +' }, 0, failing)).toEqual({
      ok: false,
      message: 'failed to evaluate expression',
    });
    const nothing = () => ({ ok: true as const, value: null });
    expect(nextDueDate({ type: 'timer', timeDuration: '=missing' }, 0, nothing)).toEqual({
      ok: false,
      message: "the timer's duration evaluated to null, not a duration",
    });
    expect(due({ timeDate: 'P3D' }, now)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/not an ISO 8601 date-time/),
    });
  });
});

describe('Spring 6-field cron in UTC', () => {
  it('fires on the 31st only in months that have one (0 0 9 31 3,10 ?)', () => {
    expect(cronRuns('0 0 9 31 3,10 ?', '2027-01-15T00:00:00Z')).toEqual([
      '2027-03-31T09:00:00.000Z',
      '2027-10-31T09:00:00.000Z',
      '2028-03-31T09:00:00.000Z',
    ]);
  });

  it('takes L as the last day of each month, leap years included', () => {
    expect(cronRuns('0 0 0 L * ?', '2028-01-15T00:00:00Z')).toEqual([
      '2028-01-31T00:00:00.000Z',
      '2028-02-29T00:00:00.000Z',
      '2028-03-31T00:00:00.000Z',
    ]);
    expect(cronRuns('0 0 0 L 2 ?', '2027-01-01T00:00:00Z', 2)).toEqual([
      '2027-02-28T00:00:00.000Z',
      '2028-02-29T00:00:00.000Z',
    ]);
  });

  it("fires the statistics diagram's cycle on the last day of March and October at 01:00 UTC (09:00 Beijing)", () => {
    expect(cronRuns('0 0 1 L 3,10 *', '2027-03-31T01:00:00Z')).toEqual([
      '2027-10-31T01:00:00.000Z',
      '2028-03-31T01:00:00.000Z',
      '2028-10-31T01:00:00.000Z',
    ]);
  });

  it('finds 29 February four years apart', () => {
    expect(cronRuns('0 0 0 29 2 ?', '2027-01-01T00:00:00Z', 2)).toEqual([
      '2028-02-29T00:00:00.000Z',
      '2032-02-29T00:00:00.000Z',
    ]);
  });

  it('reads ranges, steps, day names and 5L (the last Friday)', () => {
    expect(cronRuns('0 0 9-17/4 * * MON-FRI', '2027-01-15T10:00:00Z')).toEqual([
      '2027-01-15T13:00:00.000Z',
      '2027-01-15T17:00:00.000Z',
      '2027-01-18T09:00:00.000Z',
    ]);
    expect(cronRuns('*/20 * * * * *', '2027-01-15T10:00:05Z')).toEqual([
      '2027-01-15T10:00:20.000Z',
      '2027-01-15T10:00:40.000Z',
      '2027-01-15T10:01:00.000Z',
    ]);
    expect(cronRuns('0 0 12 ? * 5L', '2027-01-01T00:00:00Z', 2)).toEqual([
      '2027-01-29T12:00:00.000Z',
      '2027-02-26T12:00:00.000Z',
    ]);
  });

  it('takes 0 and 7 both as Sunday', () => {
    expect(cronRuns('0 0 0 ? * 7', '2027-01-15T00:00:00Z', 1)).toEqual(['2027-01-17T00:00:00.000Z']);
    expect(cronRuns('0 0 0 ? * 0', '2027-01-15T00:00:00Z', 1)).toEqual(['2027-01-17T00:00:00.000Z']);
  });

  it('requires both day-of-month and day-of-week to match, as Spring does (not cron OR)', () => {
    // 1 February 2027 is a Monday; the next first-of-month Monday is 1 March 2027.
    expect(cronRuns('0 0 0 1 * MON', '2027-01-15T00:00:00Z', 2)).toEqual([
      '2027-02-01T00:00:00.000Z',
      '2027-03-01T00:00:00.000Z',
    ]);
  });

  it('reads Spring macros', () => {
    expect(cronRuns('@monthly', '2027-01-15T00:00:00Z', 1)).toEqual(['2027-02-01T00:00:00.000Z']);
  });

  it('refuses five-field and seven-field expressions and values out of range', () => {
    expect(parseCron('0 9 * * *')).toMatchObject({ ok: false, message: expect.stringMatching(/six fields/) });
    expect(parseCron('0 0 9 * * * 2027')).toMatchObject({ ok: false, message: expect.stringMatching(/six fields/) });
    expect(parseCron('0 0 0 32 * ?')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/not a valid cron expression/),
    });
    expect(parseCron('0 61 * * * ?').ok).toBe(false);
  });
});

describe('checkStaticTimerValue (deploy time)', () => {
  it('passes readable values and names what is wrong with the others', () => {
    expect(checkStaticTimerValue('timeDuration', 'P10D')).toBeUndefined();
    expect(checkStaticTimerValue('timeDate', '2027-06-30T00:00:00+08:00')).toBeUndefined();
    expect(checkStaticTimerValue('timeCycle', 'R/PT1H')).toBeUndefined();
    expect(checkStaticTimerValue('timeCycle', '0 0 1 1 9 *')).toBeUndefined();
    expect(checkStaticTimerValue('timeCycle', 'R/PT0S')).toMatch(/must be positive/);
    expect(checkStaticTimerValue('timeCycle', 'R0/PT1H')).toMatch(/repeats zero times/);
    expect(checkStaticTimerValue('timeCycle', 'every day')).toMatch(/six fields/);
  });
});
