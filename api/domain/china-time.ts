/**
 * Calendar dates as China counts them. China Standard Time is UTC+8 all year (no daylight saving), so a
 * case opened at 07:00 on 1 January (still 31 December in UTC) belongs to the new year.
 */

/** China Standard Time's offset from UTC. */
export const CHINA_OFFSET_MS = 8 * 3600 * 1000;

const inChina = (at: Date) => new Date(at.getTime() + CHINA_OFFSET_MS);

/** The calendar year in China at `at`. */
export function chinaYear(at: Date = new Date()): number {
  return inChina(at).getUTCFullYear();
}

/** The calendar day in China at `at`, as YYYY-MM-DD. */
export function chinaDay(at: Date = new Date()): string {
  return inChina(at).toISOString().slice(0, 10);
}
