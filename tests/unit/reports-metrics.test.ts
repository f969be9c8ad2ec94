import { describe, expect, it } from 'vitest';
import type { Actor } from '../../api/auth/actor.js';
import { AppError } from '../../api/errors.js';
import { assembleDropouts, dropoutTable } from '../../api/reports/dropouts.js';
import { parsePeriod } from '../../api/reports/period.js';
import { retentionFigures } from '../../api/reports/retention.js';
import { reportRegion } from '../../api/reports/scope.js';

describe('retentionFigures', () => {
  it('巩固率 = graduates ÷ (intake + transfers in − transfers out), numerator and denominator shown', () => {
    const f = retentionFigures(
      { graduates: 396, intake: 400, transfersIn: 12, transfersOut: 12 },
      { enrolled: 995, base: 1000 },
    );
    expect(f.retention).toEqual({
      graduates: 396,
      intake: 400,
      transfersIn: 12,
      transfersOut: 12,
      denominator: 400,
      rate: 99,
    });
    expect(f.enrollment).toEqual({ enrolled: 995, base: 1000, rate: 99.5 });
  });

  it('has no rate, rather than 0% or a division error, for an area without a cohort or base database', () => {
    const f = retentionFigures(undefined, undefined);
    expect(f.retention).toMatchObject({ denominator: 0, rate: null });
    expect(f.enrollment).toEqual({ enrolled: 0, base: 0, rate: null });
  });

  it('has no rate when more pupils left than the cohort had', () => {
    const f = retentionFigures({ graduates: 0, intake: 1, transfersIn: 0, transfersOut: 2 });
    expect(f.retention).toMatchObject({ denominator: -1, rate: null });
  });
});

describe('assembleDropouts', () => {
  const schools = [
    { id: 1, code: '3704810001', name: '荆河小学', regionCode: '370481001' },
    { id: 2, code: '3704810002', name: '荆河中学', regionCode: '370481001' },
    { id: 3, code: '3704810003', name: '龙泉小学', regionCode: '370481002' },
  ];
  const towns = [
    { code: '370481001', name: '荆河街道' },
    { code: '370481002', name: '龙泉街道' },
  ];
  const report = assembleDropouts('370481', '370481', parsePeriod('2026-10'), schools, towns, [
    { school: 1, metric: 'enrolled', key: 'primary', n: 200 },
    { school: 1, metric: 'dropouts', key: 'primary', n: 2 },
    { school: 1, metric: 'dropoutsByFlag', key: 'REGISTERED_POOR', n: 1 },
    { school: 2, metric: 'enrolled', key: 'middle', n: 100 },
    { school: 2, metric: 'dropouts', key: 'middle', n: 1 },
    { school: 2, metric: 'dropouts', key: 'unknown', n: 1 },
    { school: 2, metric: 'returned', key: 'middle', n: 3 },
    { school: 2, metric: 'returnedByFlag', key: 'DISABLED', n: 1 },
  ]);

  it('lists every school of the region, subtotals per town and totals', () => {
    expect(report.towns.map((t) => [t.townCode, t.schools.map((s) => s.schoolName)])).toEqual([
      ['370481001', ['荆河小学', '荆河中学']],
      ['370481002', ['龙泉小学']],
    ]);
    const town = report.towns[0]!;
    expect(town.enrolled).toEqual({ primary: 200, middle: 100, total: 300 });
    expect(town.dropouts).toEqual({ primary: 2, middle: 1, total: 4 });
    expect(town.returned).toEqual({ primary: 0, middle: 3, total: 3 });
    expect(town.dropoutsByFlag.REGISTERED_POOR).toBe(1);
    expect(town.returnedByFlag.DISABLED).toBe(1);
    expect(report.total.dropouts.total).toBe(4);
    expect(report.total.enrolled.total).toBe(300);
  });

  it('rates dropouts per enrolled pupil, with no rate for a school without pupils', () => {
    expect(report.towns[0]!.schools[0]!.dropoutRate).toBe(1);
    expect(report.towns[0]!.dropoutRate).toBe(1.33);
    expect(report.towns[1]!.schools[0]!.dropoutRate).toBeNull();
  });

  it('flattens to school rows, a 小计 per town and a 合计 row, the rate as a number', () => {
    const table = dropoutTable(report);
    expect(table.rows.map((r) => r.slice(0, 4))).toEqual([
      ['370481001', '荆河街道', '3704810001', '荆河小学'],
      ['370481001', '荆河街道', '3704810002', '荆河中学'],
      ['370481001', '荆河街道', null, '小计'],
      ['370481002', '龙泉街道', '3704810003', '龙泉小学'],
      ['370481002', '龙泉街道', null, '小计'],
      ['370481', '合计', null, null],
    ]);
    expect(table.rows[2]![table.headers.indexOf('辍学率（%）')]).toBe(1.33);
    expect(table.rows[3]![table.headers.indexOf('辍学率（%）')]).toBeNull();
    expect(table.percentColumns).toEqual([table.headers.indexOf('辍学率（%）')]);
  });
});

describe('reportRegion', () => {
  const actor = (role: Actor['role'], regionCode: string): Actor => ({
    userId: 1,
    username: 'u',
    displayName: 'u',
    role,
    regionCode,
    schoolId: null,
    classId: null,
    groups: [],
  });

  it('a county role sees the whole county, a city or province role any county under it', () => {
    expect(reportRegion(actor('BUREAU', '370481'), '370481')).toBe('370481');
    expect(reportRegion(actor('SUPERVISOR', '3704'), '370481')).toBe('370481');
    expect(reportRegion(actor('ADMIN', '37'), '370481')).toBe('370481');
  });

  it('a town user sees only their own town of their county', () => {
    expect(reportRegion(actor('TOWN', '370481001'), '370481')).toBe('370481001');
  });

  it('another county is not found', () => {
    expect(() => reportRegion(actor('BUREAU', '370481'), '370402')).toThrow(AppError);
    expect(() => reportRegion(actor('TOWN', '370481001'), '370402')).toThrow(AppError);
  });
});
