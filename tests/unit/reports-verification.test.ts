import { describe, expect, it } from 'vitest';
import {
  assembleVerification,
  reportDifferences,
  restrictToRegion,
  type SuspectGroup,
  type VerificationCodeRow,
  verificationTable,
} from '../../api/reports/verification.js';

/** The code table as the migration seeds it ([R]). */
const codes: VerificationCodeRow[] = [
  ...['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'].map((code) => ({
    code,
    label: `${code}类`,
    kind: 'OUTCOME' as const,
    clearsSuspicion: true,
  })),
  { code: 'I', label: '因病因残', kind: 'OUTCOME', clearsSuspicion: false },
  { code: 'L', label: '在家上学', kind: 'OUTCOME', clearsSuspicion: false },
  { code: 'A2', label: '厌学辍学', kind: 'REGISTRY_REASON', clearsSuspicion: false },
  { code: 'B2', label: '在校有学籍', kind: 'REGISTRY_REASON', clearsSuspicion: true },
];
const campaign = { id: 1, regionCode: '370481', year: 2019 };
const towns = [
  { code: '370481001', name: '荆河街道' },
  { code: '370481002', name: '龙泉街道' },
  { code: '370481003', name: '北辛街道' },
];

function group(town: string, round: number, outcome: string | null, n: number, extra: Partial<SuspectGroup> = {}) {
  return { town, round, outcome, reason: null, registration: null, carried: false, n, ...extra };
}

/**
 * The [R] district's first batch: 282 suspects, 277 removed (A3 B81 C5 D18 E49 F4 G23 H94) and 5 still
 * suspected (I2 L3), carried into the second round, where they were verified again as I2 L3.
 */
const R_GROUPS: SuspectGroup[] = [
  group('370481001', 1, 'A', 3),
  group('370481001', 1, 'B', 50),
  group('370481002', 1, 'B', 31),
  group('370481001', 1, 'C', 5),
  group('370481002', 1, 'D', 18),
  group('370481001', 1, 'E', 49),
  group('370481002', 1, 'F', 4),
  group('370481002', 1, 'G', 23),
  group('370481001', 1, 'H', 60),
  group('370481002', 1, 'H', 34),
  group('370481001', 1, 'I', 2, { carried: true }),
  group('370481002', 1, 'L', 3, { carried: true }),
  group('370481001', 2, 'I', 2),
  group('370481002', 2, 'L', 3),
];

describe('assembleVerification', () => {
  const report = assembleVerification(campaign, '370481', codes, towns, R_GROUPS);

  it('reproduces the [R] first round: 282 suspects, 277 removed by code, 5 still suspected (I2 L3)', () => {
    const total = report.rounds[0]!.total;
    expect(total.suspects).toBe(282);
    expect(total.outcomes).toEqual({ A: 3, B: 81, C: 5, D: 18, E: 49, F: 4, G: 23, H: 94, I: 2, L: 3 });
    expect(total.removed).toBe(277);
    expect(total.carriedForward).toBe(5);
    expect(total.stillSuspected).toBe(5);
    expect(total.pending).toBe(0);
  });

  it('the second round holds the children carried into it, with the outcome of their re-verification', () => {
    expect(report.rounds).toHaveLength(2);
    const total = report.rounds[1]!.total;
    expect(total).toMatchObject({ suspects: 5, removed: 0, stillSuspected: 5, carriedForward: 0, pending: 0 });
    expect(total.outcomes).toMatchObject({ I: 2, L: 3, B: 0 });
  });

  it('splits every round by town and lists towns without suspects with zeros', () => {
    const [first] = report.rounds;
    expect(first!.towns.map((t) => [t.townCode, t.townName, t.suspects, t.removed, t.stillSuspected])).toEqual([
      ['370481001', '荆河街道', 169, 167, 2],
      ['370481002', '龙泉街道', 113, 110, 3],
      ['370481003', '北辛街道', 0, 0, 0],
    ]);
  });

  it('keeps suspects = removed + still suspected + pending in every row', () => {
    const withPending = assembleVerification(campaign, '370481', codes, towns, [
      ...R_GROUPS,
      group('370481003', 1, null, 4, { registration: 'NOT_FOUND' }),
    ]);
    for (const round of withPending.rounds) {
      for (const row of [...round.towns, round.total]) {
        expect(row.removed + row.stillSuspected + row.pending).toBe(row.suspects);
      }
    }
    expect(withPending.rounds[0]!.total.pending).toBe(4);
  });

  it('counts registry reasons and registration fixes recorded in each round', () => {
    const r = assembleVerification(campaign, '370481', codes, towns, [
      group('370481001', 1, 'B', 2, { reason: 'B2', registration: 'REGISTERED' }),
      group('370481001', 1, 'L', 1, { carried: true }),
      group('370481001', 2, 'L', 1, { reason: 'A2', registration: 'NOT_REGISTERED' }),
    ]);
    expect(r.rounds[0]!.total.reasons).toEqual({ A2: 0, B2: 2 });
    expect(r.rounds[0]!.total.registration).toEqual({ REGISTERED: 2, NOT_REGISTERED: 0, NOT_FOUND: 0 });
    expect(r.rounds[1]!.total.reasons).toEqual({ A2: 1, B2: 0 });
    expect(r.rounds[1]!.total.registration).toEqual({ REGISTERED: 0, NOT_REGISTERED: 1, NOT_FOUND: 0 });
  });

  it('names a town missing from the region table by its code', () => {
    const r = assembleVerification(campaign, '370481', codes, [], [group('370481099', 1, 'B', 1)]);
    expect(r.rounds[0]!.towns).toMatchObject([{ townCode: '370481099', townName: '370481099', suspects: 1 }]);
  });

  it('has one empty round for a campaign without suspects', () => {
    const r = assembleVerification(campaign, '370481', codes, towns, []);
    expect(r.rounds).toHaveLength(1);
    expect(r.rounds[0]!.total.suspects).toBe(0);
  });
});

describe('verificationTable', () => {
  it('has a column per code, labelled from the code table, and a 合计 row per round', () => {
    const table = verificationTable(assembleVerification(campaign, '370481', codes, towns, R_GROUPS));
    expect(table.headers.slice(0, 5)).toEqual(['轮次', '镇街代码', '镇街', '疑似失学儿童数', 'A类（A类）']);
    expect(table.headers).toContain('I类（因病因残）');
    expect(table.headers).toContain('A2类（厌学辍学）');
    expect(table.headers.slice(-3)).toEqual(['已建籍', '未建籍', '未查到']);
    expect(table.rows).toHaveLength(2 * (towns.length + 1));
    const totalRow = table.rows[towns.length]!;
    expect(totalRow.slice(0, 4)).toEqual(['第1轮', '370481', '合计', 282]);
    expect(totalRow[table.headers.indexOf('核减人数')]).toBe(277);
    expect(totalRow[table.headers.indexOf('H类（H类）')]).toBe(94);
  });
});

describe('a published report beside the live one', () => {
  const published = assembleVerification(campaign, '370481', codes, towns, R_GROUPS);
  // After publication, one of 龙泉街道's H children of round 1 turns out to be at home (L).
  const corrected = R_GROUPS.map((g) =>
    g.town === '370481002' && g.round === 1 && g.outcome === 'H' ? { ...g, n: 33 } : g,
  );
  const live = assembleVerification(campaign, '370481', codes, towns, [...corrected, group('370481002', 1, 'L', 1)]);

  it('lists every figure that changed, per town and in the total, and nothing else', () => {
    const row = (townCode: string) => [
      {
        round: 1,
        townCode,
        field: 'outcomes.H',
        published: townCode === '合计' ? 94 : 34,
        live: townCode === '合计' ? 93 : 33,
      },
      { round: 1, townCode, field: 'outcomes.L', published: 3, live: 4 },
      {
        round: 1,
        townCode,
        field: 'removed',
        published: townCode === '合计' ? 277 : 110,
        live: townCode === '合计' ? 276 : 109,
      },
      {
        round: 1,
        townCode,
        field: 'stillSuspected',
        published: townCode === '合计' ? 5 : 3,
        live: townCode === '合计' ? 6 : 4,
      },
    ];
    expect(reportDifferences(published, live)).toEqual([...row('370481002'), ...row('合计')]);
    expect(reportDifferences(published, published)).toEqual([]);
  });

  it('cuts the county report to a town, its total the town’s', () => {
    const mine = restrictToRegion(published, '370481001');
    expect(mine.region).toBe('370481001');
    expect(mine.rounds.map((r) => r.towns.map((t) => t.townCode))).toEqual([['370481001'], ['370481001']]);
    const { townCode: _code, townName: _name, ...own } = mine.rounds[0]!.towns[0]!;
    expect(mine.rounds[0]!.total).toEqual(own);
    expect(mine.rounds[0]!.total.suspects).toBe(3 + 50 + 5 + 49 + 60 + 2);
    expect(restrictToRegion(published, '370481')).toBe(published);
  });
});
