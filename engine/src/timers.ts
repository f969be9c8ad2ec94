/**
 * Timer values as Zeebe reads them (https://docs.camunda.io/docs/components/modeler/bpmn/timer-events/):
 * a time date (ISO 8601 date-time with offset or zone id), a time duration (ISO 8601 duration), or a
 * time cycle (ISO 8601 repeating interval `R5/PT10S`, `R/PT1H`, `R3/<start>/P1D`, or a Spring 6-field
 * cron expression, evaluated in UTC with croner, MIT). Calendar parts (years, months, days) are added
 * on the UTC calendar, clamping to the month's end as java.time does (Jan 31 + P1M = Feb 28/29).
 */
import { Cron } from 'croner';
import type { EventDefinition, Expression } from './model/types.js';

export type TimerDefinition = Extract<EventDefinition, { type: 'timer' }>;
export type Result<T> = { ok: true; value: T } | { ok: false; message: string };

/**
 * When a timer is due. `repetitions`: how many times it fires counting this one, as Zeebe's timer
 * records count (R5 → 5; a date or a duration → 1; an unbounded cycle or cron → -1). `cycle` (cycles
 * only) is the evaluated cycle text to pass to nextCycle after it fires.
 */
export type TimerSchedule =
  { ok: true; dueDate: number; repetitions: number; cycle?: string } | { ok: false; message: string };

export interface IsoDuration {
  negative: boolean;
  years: number;
  months: number;
  /** Weeks are folded into days. */
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
}

const DURATION_PATTERN =
  /^([+-])?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/i;

/** ISO 8601 duration (`P3D`, `PT1H`, `P1Y2M`, `P2W`, `PT0.5S`, `-P1D`). */
export function parseDuration(text: string): Result<IsoDuration> {
  const t = text.trim();
  const m = DURATION_PATTERN.exec(t);
  // "P" and "PT" alone match the pattern but have no component.
  if (!m || /^[+-]?PT?$/i.test(t) || t.toUpperCase().endsWith('T')) {
    return { ok: false, message: `'${text}' is not an ISO 8601 duration (e.g. P3D, PT1H, P1Y2M)` };
  }
  const n = (i: number) => (m[i] === undefined ? 0 : Number(m[i]!.replace(',', '.')));
  return {
    ok: true,
    value: {
      negative: m[1] === '-',
      years: n(2),
      months: n(3),
      days: n(4) * 7 + n(5),
      hours: n(6),
      minutes: n(7),
      seconds: n(8),
    },
  };
}

/** `from` + `d`: months (years as 12 months) on the UTC calendar, clamped to the month's end, then days, then time. */
export function addDuration(from: number, d: IsoDuration): number {
  const sign = d.negative ? -1 : 1;
  const date = new Date(from);
  const totalMonths = sign * (d.years * 12 + d.months);
  if (totalMonths !== 0) {
    const target = date.getUTCMonth() + totalMonths;
    const year = date.getUTCFullYear() + Math.floor(target / 12);
    const month = ((target % 12) + 12) % 12;
    const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
    date.setUTCFullYear(year, month, Math.min(date.getUTCDate(), lastDay));
  }
  if (d.days !== 0) date.setUTCDate(date.getUTCDate() + sign * d.days);
  const timeMs = ((d.hours * 60 + d.minutes) * 60 + d.seconds) * 1000;
  return date.getTime() + sign * Math.round(timeMs);
}

/** Whether the duration has calendar parts (months or years), whose length depends on the start. */
function isCalendarBased(d: IsoDuration): boolean {
  return d.years !== 0 || d.months !== 0;
}

const DATE_TIME_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?(?:\[([^\]]+)\])?$/i;

/**
 * ISO 8601 date-time → epoch ms: `2027-06-30T00:00:00Z`, `…+08:00`, `…+08:00[Asia/Shanghai]`,
 * `…[Asia/Shanghai]` (the zone's offset at that wall-clock time). Without offset or zone: UTC, the
 * engine's zone.
 */
export function parseDateTime(text: string): Result<number> {
  const t = text.trim();
  const m = DATE_TIME_PATTERN.exec(t);
  if (!m) {
    return {
      ok: false,
      message: `'${text}' is not an ISO 8601 date-time (e.g. 2027-06-30T00:00:00+08:00 or 2027-06-30T00:00:00[Asia/Shanghai])`,
    };
  }
  const [year, month, day, hour, minute] = [1, 2, 3, 4, 5].map((i) => Number(m[i]));
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Math.round(Number(`0.${m[7]}`) * 1000);
  const wall = Date.UTC(year!, month! - 1, day!, hour!, minute!, second, ms);
  const check = new Date(wall);
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month! - 1 ||
    check.getUTCDate() !== day ||
    hour! > 23 ||
    minute! > 59 ||
    second > 59
  ) {
    return { ok: false, message: `'${text}' is not a valid date-time` };
  }
  const offset = m[8];
  if (offset !== undefined) {
    if (offset.toUpperCase() === 'Z') return { ok: true, value: wall };
    const sign = offset.startsWith('-') ? -1 : 1;
    const digits = offset.slice(1).replace(':', '');
    const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
    return { ok: true, value: wall - sign * minutes * 60_000 };
  }
  const zone = m[9];
  if (zone === undefined) return { ok: true, value: wall };
  const offsetAt = zoneOffset(zone);
  if (!offsetAt) return { ok: false, message: `'${zone}' in '${text}' is not a known time zone` };
  // Two passes settle the offset around a DST change (a gap moves forward, as java.time does).
  const first = wall - offsetAt(wall);
  return { ok: true, value: wall - offsetAt(first) };
}

/** The zone's UTC offset (ms) at an instant, via Intl; undefined for an unknown zone. */
function zoneOffset(zone: string): ((epoch: number) => number) | undefined {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    return undefined;
  }
  return (epoch) => {
    const parts = Object.fromEntries(format.formatToParts(new Date(epoch)).map((p) => [p.type, p.value]));
    const asUtc = Date.UTC(
      Number(parts.year),
      Number(parts.month) - 1,
      Number(parts.day),
      Number(parts.hour),
      Number(parts.minute),
      Number(parts.second),
    );
    return asUtc - (epoch - (((epoch % 1000) + 1000) % 1000));
  };
}

export type Cycle =
  { kind: 'interval'; repetitions: number; start?: number; interval: IsoDuration } | { kind: 'cron'; cron: Cron };

/** Spring's macros (CronExpression), in its 6-field form. */
const CRON_MACROS: Record<string, string> = {
  '@yearly': '0 0 0 1 1 *',
  '@annually': '0 0 0 1 1 *',
  '@monthly': '0 0 0 1 * *',
  '@weekly': '0 0 0 * * 0',
  '@daily': '0 0 0 * * *',
  '@midnight': '0 0 0 * * *',
  '@hourly': '0 0 * * * *',
};

/**
 * Spring 6-field cron (second minute hour day-of-month month day-of-week) on croner: UTC, exactly six
 * fields, day-of-month AND day-of-week (Spring requires both to match; croner's default is cron's OR),
 * `?` as `*`, `L` / `LW` / `nW` in the day of month, `5L` / `FRI#2` in the day of week.
 */
export function parseCron(text: string): Result<Cron> {
  const pattern = CRON_MACROS[text.trim().toLowerCase()] ?? text.trim();
  const fields = pattern.split(/\s+/);
  if (fields.length !== 6) {
    return {
      ok: false,
      message: `'${text}' is not a cron expression of six fields (second minute hour day-of-month month day-of-week)`,
    };
  }
  try {
    return { ok: true, value: new Cron(pattern, { timezone: 'UTC', mode: '6-part', domAndDow: true }) };
  } catch (err) {
    const detail = err instanceof Error ? err.message.replace(/^CronPattern: /, '') : String(err);
    return { ok: false, message: `'${text}' is not a valid cron expression: ${detail}` };
  }
}

/** A time cycle: `R[n]/<duration>`, `R[n]/<start date-time>/<duration>`, or a cron expression. */
export function parseCycle(text: string): Result<Cycle> {
  const t = text.trim();
  if (!/^R\d*\//i.test(t)) {
    const cron = parseCron(t);
    return cron.ok ? { ok: true, value: { kind: 'cron', cron: cron.value } } : cron;
  }
  const parts = t.split('/');
  const countText = parts[0]!.slice(1);
  const repetitions = countText === '' ? -1 : Number(countText);
  if (parts.length < 2 || parts.length > 3) {
    return { ok: false, message: `'${text}' is not a repeating interval (R5/PT10S, R/PT1H or R3/<start>/P1D)` };
  }
  const interval = parseDuration(parts[parts.length - 1]!);
  if (!interval.ok) return { ok: false, message: `the interval of '${text}': ${interval.message}` };
  if (interval.value.negative || addDuration(0, interval.value) <= 0) {
    return { ok: false, message: `the interval of '${text}' must be positive` };
  }
  if (repetitions === 0) return { ok: false, message: `'${text}' repeats zero times` };
  if (parts.length === 2) return { ok: true, value: { kind: 'interval', repetitions, interval: interval.value } };
  const start = parseDateTime(parts[1]!);
  if (!start.ok) return { ok: false, message: `the start of '${text}': ${start.message}` };
  return { ok: true, value: { kind: 'interval', repetitions, start: start.value, interval: interval.value } };
}

/** The n-th occurrence of a cycle with a start: start + n × interval (calendar parts counted from the start). */
function occurrence(start: number, interval: IsoDuration, n: number): number {
  const scaled: IsoDuration = {
    negative: false,
    years: interval.years * n,
    months: interval.months * n,
    days: interval.days * n,
    hours: interval.hours * n,
    minutes: interval.minutes * n,
    seconds: interval.seconds * n,
  };
  return addDuration(start, scaled);
}

/** Index of the first occurrence of a started cycle that is at or after (or strictly after) `now`. */
function firstOccurrenceIndex(start: number, interval: IsoDuration, now: number, strictlyAfter: boolean): number {
  const due = (n: number) =>
    strictlyAfter ? occurrence(start, interval, n) > now : occurrence(start, interval, n) >= now;
  if (due(0)) return 0;
  // An estimate from the interval's shortest length, then a walk: exact for fixed-length intervals,
  // a few steps for months and years.
  const minLength = isCalendarBased(interval)
    ? addDuration(Date.UTC(2001, 1, 1), interval) - Date.UTC(2001, 1, 1)
    : addDuration(0, interval);
  let n = Math.max(0, Math.floor((now - start) / Math.max(1, minLength)) - 1);
  while (due(n) && n > 0) n--;
  while (!due(n)) n++;
  return n;
}

/**
 * The first due date of a parsed cycle at `now`: an interval without a start is due one interval from
 * now; with a start, at the start or, if that has passed, at its first occurrence still ahead (the
 * ones passed count against R). A cron expression is due at its next match after `now`.
 */
function firstOfCycle(cycle: Cycle, text: string, now: number): TimerSchedule {
  if (cycle.kind === 'cron') {
    const next = cycle.cron.nextRun(new Date(now));
    if (!next) return { ok: false, message: `the cron expression '${text}' never matches again` };
    return { ok: true, dueDate: next.getTime(), repetitions: -1, cycle: text };
  }
  if (cycle.start === undefined) {
    return { ok: true, dueDate: addDuration(now, cycle.interval), repetitions: cycle.repetitions, cycle: text };
  }
  const n = firstOccurrenceIndex(cycle.start, cycle.interval, now, false);
  if (cycle.repetitions !== -1 && n >= cycle.repetitions) {
    return { ok: false, message: `the last repetition of '${text}' has passed` };
  }
  return {
    ok: true,
    dueDate: occurrence(cycle.start, cycle.interval, n),
    repetitions: cycle.repetitions === -1 ? -1 : cycle.repetitions - n,
    cycle: text,
  };
}

/**
 * The next due date of a cycle whose timer just fired at `now` (repetitions are the caller's count);
 * undefined when the text is no cycle or a cron expression never matches again.
 */
export function nextCycle(cycle: string, now: number): number | undefined {
  const parsed = parseCycle(cycle);
  if (!parsed.ok) return undefined;
  const c = parsed.value;
  if (c.kind === 'cron') return c.cron.nextRun(new Date(now))?.getTime();
  if (c.start === undefined) return addDuration(now, c.interval);
  return occurrence(c.start, c.interval, firstOccurrenceIndex(c.start, c.interval, now, true));
}

/** A timer value as evaluated: a string (FEEL temporal values reach here as ISO strings, see feel.ts). */
function asText(value: unknown, what: string): Result<string> {
  if (typeof value === 'string' && value.trim() !== '') return { ok: true, value: value.trim() };
  return {
    ok: false,
    message: `the timer's ${what} evaluated to ${JSON.stringify(value) ?? 'nothing'}, not a ${what}`,
  };
}

export type Evaluate = (expr: Expression) => { ok: true; value: unknown } | { ok: false; message: string };

/**
 * When a timer event is first due: its one expression evaluated (`evaluate` binds the variables and
 * the clock), then read as a date, a duration from `now` or a cycle.
 */
export function nextDueDate(timer: TimerDefinition, now: number, evaluate: Evaluate): TimerSchedule {
  const kind = timer.timeDate !== undefined ? 'date' : timer.timeDuration !== undefined ? 'duration' : 'cycle';
  const expr = timer.timeDate ?? timer.timeDuration ?? timer.timeCycle;
  if (expr === undefined) return { ok: false, message: 'the timer has no time date, duration or cycle' };
  const evaluated = evaluate(expr);
  if (!evaluated.ok) return evaluated;
  const text = asText(evaluated.value, kind);
  if (!text.ok) return text;
  switch (kind) {
    case 'date': {
      const date = parseDateTime(text.value);
      return date.ok ? { ok: true, dueDate: date.value, repetitions: 1 } : date;
    }
    case 'duration': {
      const duration = parseDuration(text.value);
      return duration.ok ? { ok: true, dueDate: addDuration(now, duration.value), repetitions: 1 } : duration;
    }
    case 'cycle': {
      const cycle = parseCycle(text.value);
      return cycle.ok ? firstOfCycle(cycle.value, text.value, now) : cycle;
    }
  }
}

/**
 * Deploy-time check of a static (non-FEEL) timer value; undefined when it reads. FEEL values are
 * checked when evaluated.
 */
export function checkStaticTimerValue(
  kind: 'timeDate' | 'timeDuration' | 'timeCycle',
  text: string,
): string | undefined {
  const result =
    kind === 'timeDate' ? parseDateTime(text) : kind === 'timeDuration' ? parseDuration(text) : parseCycle(text);
  return result.ok ? undefined : result.message;
}
