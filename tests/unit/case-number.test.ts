import { describe, expect, it } from 'vitest';
import { formatCaseNumber } from '../../workers/open-dropout-case/handler.js';

describe('formatCaseNumber', () => {
  it('prints 辍-<year>-<six-digit serial>', () => {
    expect(formatCaseNumber(7, new Date(2026, 2, 1))).toBe('辍-2026-000007');
  });

  it('takes the year from the opening date', () => {
    expect(formatCaseNumber(123456, new Date(2027, 0, 1))).toBe('辍-2027-123456');
  });

  it('does not truncate serials longer than six digits', () => {
    expect(formatCaseNumber(1234567, new Date(2026, 5, 15))).toBe('辍-2026-1234567');
  });

  it('numbers a case by the year in Beijing, whatever the server zone', () => {
    // 2025-12-31 17:00 UTC is 2026-01-01 01:00 in Beijing.
    expect(formatCaseNumber(1, new Date('2025-12-31T17:00:00Z'))).toBe('辍-2026-000001');
  });
});
