import { describe, expect, it } from 'vitest';
import { parsePeriod } from '../../api/reports/period.js';

describe('parsePeriod', () => {
  it('end of March: November of the year before to the end of March, in the school year that began the autumn before', () => {
    expect(parsePeriod('2026-03')).toEqual({
      label: '2026-03',
      schoolYear: 2025,
      start: new Date('2025-11-01T00:00:00+08:00'),
      end: new Date('2026-04-01T00:00:00+08:00'),
      endDate: '2026-04-01',
    });
  });

  it('end of October: April to the end of October, in the school year that began in September', () => {
    expect(parsePeriod('2026-10')).toEqual({
      label: '2026-10',
      schoolYear: 2026,
      start: new Date('2026-04-01T00:00:00+08:00'),
      end: new Date('2026-11-01T00:00:00+08:00'),
      endDate: '2026-11-01',
    });
  });

  it('cuts periods at midnight Beijing time, not UTC', () => {
    expect(parsePeriod('2026-10').end.toISOString()).toBe('2026-10-31T16:00:00.000Z');
  });

  it('the two periods of a year meet without gap or overlap', () => {
    expect(parsePeriod('2026-03').end).toEqual(parsePeriod('2026-10').start);
    expect(parsePeriod('2026-10').end).toEqual(parsePeriod('2027-03').start);
  });

  it('accepts only the two statutory reporting dates', () => {
    for (const bad of ['2026-04', '2026-3', '26-03', '2026-03-31', '2026/10', '', '3000-03']) {
      expect(() => parsePeriod(bad), bad).toThrow();
    }
  });
});
