/**
 * FEEL for the engine, on feelin (MIT). Diagram values starting with "=" are FEEL, anything else a
 * literal string (https://docs.camunda.io/docs/components/concepts/expressions/). Results leave this
 * module as plain JSON values, the way Zeebe stores them as variables: temporal values become ISO
 * strings (https://github.com/camunda/camunda/issues/7054), everything else that JSON cannot hold null.
 *
 * Failures follow Camunda's FEEL: a missing variable, a missing function or a failed invocation gives
 * null, never an error (https://docs.camunda.io/docs/components/modeler/feel/language-guide/feel-error-handling/).
 * Only a syntax error (or a context function that throws) makes an evaluation fail.
 */
import {
  FeelDate,
  FeelDateTime,
  FeelDuration,
  FeelTime,
  dateAndTime,
  evaluate,
  parseDate,
  parseExpression as parseFeel,
  parseUnaryTests as parseFeelUnaryTests,
  unaryTest,
} from 'feelin';
import type { Expression } from './model/types.js';

export type FeelResult = { ok: true; value: unknown } | { ok: false; message: string };
export type FeelCheck = { ok: true } | { ok: false; message: string };
/** Epoch milliseconds; the engine's clock (tests pin and move it). */
export type Clock = () => number;

/** True for a FEEL expression ("=…"); anything else is a literal. */
export function isFeel(expr: Expression): boolean {
  return expr.startsWith('=');
}

/** The FEEL text of "=…" (without the "="). */
function feelText(expr: Expression): string {
  return expr.slice(1);
}

/**
 * `now()`, `today()` from the engine's clock (UTC) and Camunda's `date and time(from, timezone)`.
 * feelin looks context entries up before its built-ins, so these override them. A context name with
 * spaces makes feelin's parser several times slower (measured: 66 µs → 280 µs for `1`), so `date and
 * time` joins only for an expression that names it.
 */
function builtins(clock: Clock, text?: string): Record<string, unknown> {
  const functions: Record<string, unknown> = {
    now: () => dateAndTime(new Date(clock()).toISOString()),
    today: () => parseDate(new Date(clock()).toISOString().slice(0, 10)),
  };
  if (text === undefined || /date\s+and\s+time/.test(text)) functions['date and time'] = dateAndTimeFunction;
  return functions;
}

/**
 * Camunda's extension `date and time(from: date and time, timezone: string)`: the same instant in that
 * IANA zone (a local date-time gets the zone attached). Every other form goes to feelin's built-in.
 * https://docs.camunda.io/docs/components/modeler/feel/builtin-functions/feel-built-in-functions-temporal/
 */
function dateAndTimeFunction(...args: unknown[]): unknown {
  const [from, zone] = args;
  if (args.length === 2 && typeof zone === 'string' && from instanceof FeelDateTime) {
    try {
      const wallClock =
        from.zone === null
          ? from.unwrap()
          : from.unwrap().toZonedDateTime(from.zone).withTimeZone(zone).toPlainDateTime();
      // Validates the zone (throws for an unknown one) before building the value.
      wallClock.toZonedDateTime(zone);
      return new FeelDateTime(wallClock, zone);
    } catch {
      return null;
    }
  }
  const params = Object.fromEntries(args.map((a, i) => [`p${i}`, a]));
  const call = `date and time(${args.map((_, i) => `p${i}`).join(', ')})`;
  return evaluate(call, params).value;
}

/** FEEL value → what Zeebe would store: JSON, temporal values as ISO strings. */
export function toJsonValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (value instanceof FeelDate) return value.iso;
  if (value instanceof FeelDateTime) return dateTimeToIso(value);
  if (value instanceof FeelTime) return timeToIso(value);
  if (value instanceof FeelDuration) return value.iso;
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (typeof value === 'function') return null;
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonValue(v)]));
  }
  // Ranges and anything else JSON has no form for.
  return null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Zoned date-times as Java's ISO_ZONED_DATE_TIME writes them (Zeebe's form): `…Z` for UTC (an instant
 * any ISO parser reads, e.g. a due date), `…+08:00` for an offset, `…+08:00[Asia/Shanghai]` for a
 * named zone; a local date-time without offset.
 */
function dateTimeToIso(value: FeelDateTime): string {
  const local = value.unwrap();
  if (value.zone === null) return local.toString();
  if (value.zone === 'UTC') return `${local.toString()}Z`;
  const zoned = local.toZonedDateTime(value.zone);
  if (/^[+-]\d{2}:\d{2}(:\d{2})?$/.test(value.zone)) return `${local.toString()}${zoned.offset}`;
  return zoned.toString();
}

function timeToIso(value: FeelTime): string {
  const local = value.unwrap().toString();
  if (value.zone === null) return local;
  if (value.zone === 'UTC') return `${local}Z`;
  if (/^[+-]\d{2}:\d{2}/.test(value.zone)) return `${local}${value.zone}`;
  return value.iso;
}

/**
 * Evaluates a diagram expression: "=…" as FEEL against `context` (variables as JSON), anything else as
 * the literal string. The value comes back as JSON (see toJsonValue).
 */
export function evaluateExpression(expr: Expression, context: Record<string, unknown>, clock: Clock): FeelResult {
  if (!isFeel(expr)) return { ok: true, value: expr };
  const quick = simpleExpression(feelText(expr), context);
  if (quick) return quick;
  try {
    const { value } = evaluate(feelText(expr), { ...context, ...builtins(clock, expr) });
    return { ok: true, value: toJsonValue(value) };
  } catch (err) {
    return { ok: false, message: `failed to evaluate expression '${feelText(expr)}': ${errorText(err)}` };
  }
}

/** `name`, `a.b.c`: a variable or a path into it. */
const PATH = /^\s*([A-Za-z_][A-Za-z0-9_]*)((?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*$/;
/** `"TOWN_OVERDUE"`: a string literal without escapes. */
const STRING_LITERAL = /^\s*"([^"\\]*)"\s*$/;
/** Names a path may not start with: FEEL's literals, keywords and our clock functions. */
const NOT_A_VARIABLE = new Set([
  'null',
  'true',
  'false',
  'not',
  'if',
  'for',
  'some',
  'every',
  'function',
  'now',
  'today',
]);

/**
 * Most of our diagrams' expressions are a variable, a path or a string literal (`=suspect`,
 * `=deadlines.correctionPeriod`, `="TOWN_OVERDUE"`): answered here without feelin, which parses every
 * expression anew (~1 ms) — a multi-instance over 300 children evaluates thousands of them. Same
 * semantics: a missing variable or property is null.
 */
function simpleExpression(text: string, context: Record<string, unknown>): FeelResult | undefined {
  const literal = STRING_LITERAL.exec(text);
  if (literal) return { ok: true, value: literal[1] };
  const path = PATH.exec(text);
  if (!path || NOT_A_VARIABLE.has(path[1]!)) return undefined;
  let value: unknown = Object.hasOwn(context, path[1]!) ? context[path[1]!] : null;
  for (const prop of path[2] ? path[2].slice(1).split('.') : []) {
    // A path into a list is FEEL's projection over its items: feelin's to answer.
    if (Array.isArray(value)) return undefined;
    value =
      value !== null && typeof value === 'object' && !Array.isArray(value) && Object.hasOwn(value, prop)
        ? (value as Record<string, unknown>)[prop]
        : null;
  }
  return { ok: true, value: value ?? null };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Names the parser must know to read names with spaces (`date and time` is one of feelin's built-ins). */
const PARSE_CONTEXT = builtins(() => 0);

/**
 * Deploy-time check of a diagram expression: a literal always passes; FEEL must parse. lezer parses
 * anything (marking error nodes), so the tree is searched for those.
 */
export function parseExpression(expr: Expression): FeelCheck {
  if (!isFeel(expr)) return { ok: true };
  return checkTree(feelText(expr), parseFeel(feelText(expr), PARSE_CONTEXT, undefined), () =>
    evaluate(feelText(expr), {}),
  );
}

/** Deploy-time check of DMN unary tests (an input entry); empty and `-` pass. */
export function parseUnaryTests(tests: string): FeelCheck {
  if (isAnyInput(tests)) return { ok: true };
  return checkTree(tests, parseFeelUnaryTests(tests, PARSE_CONTEXT, undefined), () => unaryTest(tests, {}));
}

function checkTree(text: string, tree: ReturnType<typeof parseFeel>, rethrow: () => unknown): FeelCheck {
  let errorAt = -1;
  tree.iterate({
    enter(node) {
      if (errorAt >= 0) return false;
      if (node.type.isError) errorAt = node.from;
      return undefined;
    },
  });
  if (errorAt < 0) return { ok: true };
  // feelin's evaluator words the syntax error well (e.g. "Incomplete <ArithmeticExpression>"); it throws
  // it while building the evaluation tree, before evaluating anything.
  let detail = `syntax error at character ${errorAt + 1}`;
  try {
    rethrow();
  } catch (err) {
    detail = `${errorText(err)} (character ${errorAt + 1})`;
  }
  return { ok: false, message: `'${text}' is not a valid FEEL expression: ${detail}` };
}

/** An empty input entry and `-` match anything (DMN 1.3 §8.3.3; feelin throws on empty text). */
function isAnyInput(tests: string): boolean {
  const trimmed = tests.trim();
  return trimmed === '' || trimmed === '-';
}

/**
 * DMN input entry: do `tests` (unary tests, `?` is the input) accept `input`? Inputs are JSON values
 * as the engine holds them. https://docs.camunda.io/docs/components/modeler/feel/language-guide/feel-unary-tests/
 */
export function evaluateUnaryTests(
  tests: string,
  input: unknown,
  context: Record<string, unknown>,
  clock: Clock = Date.now,
): { ok: true; value: boolean } | { ok: false; message: string } {
  if (isAnyInput(tests)) return { ok: true, value: true };
  try {
    const { value } = unaryTest(tests, { ...context, ...builtins(clock, tests), '?': input ?? null });
    return { ok: true, value: value === true };
  } catch (err) {
    return { ok: false, message: `failed to evaluate unary tests '${tests}': ${errorText(err)}` };
  }
}

/**
 * Evaluates plain FEEL text (no "=" prefix), as DMN cells hold it; the value as JSON. An empty text
 * is null (an empty output entry).
 */
export function evaluateFeel(text: string, context: Record<string, unknown>, clock: Clock): FeelResult {
  if (text.trim() === '') return { ok: true, value: null };
  return evaluateExpression(`=${text}`, context, clock);
}
