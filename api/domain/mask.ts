/**
 * Masking of personal data in lists, exports and logs: enough left to tell two children apart at a
 * glance, not enough to identify one. Full values appear only on a record's own (audited) page.
 */

/** 370481********123X: division code and the last four kept. */
export function maskIdNumber(v: string | null | undefined): string | null {
  if (!v) return v ?? null;
  if (v.length < 10) return '*'.repeat(v.length);
  return `${v.slice(0, 6)}${'*'.repeat(v.length - 10)}${v.slice(-4)}`;
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
