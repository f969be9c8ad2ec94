/**
 * Masking of personal data in lists, exports and logs: enough left to tell two children apart at a
 * glance, not enough to identify one. Full values appear only on a record's own (audited) page.
 */

/**
 * 370481**********3X: the division code and the last two characters kept. Digits 7–14 are the birth
 * date and 15–17 the sequence number of that day, so keeping the last four (the old mask) beside a birth
 * date gave the whole number back. With the last two kept and no list showing more than the birth
 * year and month (`birthMonth`), about 270 numbers fit what any set of unaudited responses shows
 * (the day and two sequence digits stay hidden); the full number is on the audited record page only.
 */
export function maskIdNumber(v: string | null | undefined): string | null {
  if (!v) return v ?? null;
  if (v.length < 10) return '*'.repeat(v.length);
  return `${v.slice(0, 6)}${'*'.repeat(v.length - 8)}${v.slice(-2)}`;
}

/**
 * 学籍号: the national one is "G" + the 身份证号, so the ID inside it is masked exactly like the ID
 * itself (a student number with the last four kept undid the ID mask the same way). Any other number
 * keeps its first and last two characters.
 */
export function maskStudentNumber(v: string | null | undefined): string | null {
  if (!v) return v ?? null;
  const id = /\d{17}[\dXx]/.exec(v);
  if (id) return `${v.slice(0, id.index)}${maskIdNumber(id[0])}${v.slice(id.index + id[0].length)}`;
  if (v.length <= 4) return '*'.repeat(v.length);
  return `${v.slice(0, 2)}${'*'.repeat(v.length - 4)}${v.slice(-2)}`;
}

/** The birth year and month a list shows instead of the date ("2015-07"): enough for every age rule,
 * which all count to 31 August, a month's end. */
export function birthMonth(birthDate: Date): string {
  return birthDate.toISOString().slice(0, 7);
}

/** 138****5678 */
export function maskPhone(v: string | null | undefined): string | null {
  if (!v) return v ?? null;
  if (v.length < 7) return '*'.repeat(v.length);
  return `${v.slice(0, 3)}${'*'.repeat(v.length - 7)}${v.slice(-4)}`;
}

/** Keeps the first six characters (province/city/county or town), masks the rest. */
export function maskAddress(v: string | null | undefined): string | null {
  if (!v) return v ?? null;
  const chars = [...v];
  if (chars.length <= 6) return `${chars.slice(0, 2).join('')}****`;
  return `${chars.slice(0, 6).join('')}****`;
}

/** 张*明 / 李* : first and last character kept for three or more. */
export function maskName(v: string): string {
  const chars = [...v];
  if (chars.length <= 1) return v;
  if (chars.length === 2) return `${chars[0]}*`;
  return `${chars[0]}${'*'.repeat(chars.length - 2)}${chars[chars.length - 1]}`;
}

/** pino redaction paths: any field with these names is censored wherever it appears in a log line. */
export const LOG_REDACT_PATHS = [
  'idNumber',
  '*.idNumber',
  '*.*.idNumber',
  'phone',
  '*.phone',
  '*.*.phone',
  'householdAddress',
  '*.householdAddress',
  'residenceAddress',
  '*.residenceAddress',
  'password',
  '*.password',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];
