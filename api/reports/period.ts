/**
 * The reporting periods of the dropout statistics table: schools report at the end of March and the
 * end of October each year [T 三]. Each period runs from the previous reporting date, so the two
 * periods of a year cover it without gap or overlap; boundaries are midnight China Standard Time.
 */
import { z } from 'zod';
import { CHINA_OFFSET_MS } from '../domain/china-time.js';

export const reportPeriod = z.string().regex(/^(19|20|21)\d{2}-(03|10)$/, '统计时点应为 YYYY-03 或 YYYY-10');

export interface Period {
  /** As asked: 2026-03 or 2026-10. */
  label: string;
  /** The school year the period's end falls in (by its starting calendar year): 2026-03 → 2025. */
  schoolYear: number;
  /** First instant of the period (inclusive). */
  start: Date;
  /** First instant after the period (exclusive): the report is "as of" the instant before. */
  end: Date;
  /** `end` as a calendar date, for DATE columns (exclusive). */
  endDate: string;
}

/** Midnight CST at the start of the given day, as an instant. */
function cstMidnight(year: number, month1: number, day: number): Date {
  return new Date(Date.UTC(year, month1 - 1, day) - CHINA_OFFSET_MS);
}

function isoDate(year: number, month1: number, day: number): string {
  return `${year}-${String(month1).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/**
 * YYYY-03: 1 November of YYYY−1 to the end of 31 March YYYY, school year YYYY−1.
 * YYYY-10: 1 April YYYY to the end of 31 October YYYY, school year YYYY (it starts in September).
 */
export function parsePeriod(label: string): Period {
  const parsed = reportPeriod.parse(label);
  const year = Number(parsed.slice(0, 4));
  if (parsed.endsWith('-03')) {
    return {
      label: parsed,
      schoolYear: year - 1,
      start: cstMidnight(year - 1, 11, 1),
      end: cstMidnight(year, 4, 1),
      endDate: isoDate(year, 4, 1),
    };
  }
  return {
    label: parsed,
    schoolYear: year,
    start: cstMidnight(year, 4, 1),
    end: cstMidnight(year, 11, 1),
    endDate: isoDate(year, 11, 1),
  };
}
