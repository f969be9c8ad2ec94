/**
 * 适龄儿童入学核查情况统计表: the [R] report's table 一 — per round and per town, the suspects (疑似失学儿童),
 * how each was classified (the outcome codes A…L of the VerificationCode table), how many were removed
 * from the list (核减) and how many remain suspected (疑似失学), and the registration fixes (注册建籍:
 * 已建籍 / 未建籍 / 未查到).
 *
 * A SuspectedChild row is one child in one round (api/domain/comparison.ts nextRound), so round r of
 * the report is exactly its rows:
 * - suspects: children verified in round r;
 * - outcomes[code] / reasons[code]: their outcome and registry reason codes; pending: not verified (未核实);
 * - removed (核减): an outcome that clears the suspicion; stillSuspected (疑似失学): one that does not;
 *   so suspects = removed + stillSuspected + pending;
 * - carriedForward (转入下一轮): those of them carried into round r + 1 (still suspected or unverified);
 * - registration: the registration fixes recorded in round r.
 */
import { z } from 'zod';
import type { Prisma as PrismaClient } from '../../infra/db/prisma.js';
import type { Cell, ReportTable } from './format.js';

const count = z.number().int().nonnegative();
const countsByCode = z.record(z.string(), count);

export const REGISTRATION_FIXES = ['REGISTERED', 'NOT_REGISTERED', 'NOT_FOUND'] as const;
type RegistrationFix = (typeof REGISTRATION_FIXES)[number];
const REGISTRATION_LABELS: Record<RegistrationFix, string> = {
  REGISTERED: '已建籍',
  NOT_REGISTERED: '未建籍',
  NOT_FOUND: '未查到',
};

const verificationRow = z.object({
  suspects: count,
  outcomes: countsByCode,
  pending: count,
  carriedForward: count,
  removed: count,
  stillSuspected: count,
  reasons: countsByCode,
  registration: z.object({ REGISTERED: count, NOT_REGISTERED: count, NOT_FOUND: count }),
});
export type VerificationRow = z.infer<typeof verificationRow>;

const verificationCode = z.object({
  code: z.string(),
  label: z.string(),
  kind: z.enum(['OUTCOME', 'REGISTRY_REASON']),
  clearsSuspicion: z.boolean(),
});
export type VerificationCodeRow = z.infer<typeof verificationCode>;

export const verificationReport = z.object({
  campaign: z.object({ id: z.number().int(), regionCode: z.string(), year: z.number().int() }),
  /** Region prefix the rows are limited to (the county, or the caller's town). */
  region: z.string(),
  /** Column order: outcome codes, then registry reason codes, as in the code table. */
  codes: z.array(verificationCode),
  rounds: z.array(
    z.object({
      round: z.number().int().positive(),
      towns: z.array(verificationRow.extend({ townCode: z.string(), townName: z.string() })),
      total: verificationRow,
    }),
  ),
});
export type VerificationReport = z.infer<typeof verificationReport>;

/** One figure that differs between the published report and the live one. */
const reportDifference = z.object({
  round: z.number().int().positive(),
  /** The town's code, or 合计 for the round's total. */
  townCode: z.string(),
  /** suspects, pending, removed…, or outcomes.<code>, reasons.<code>, registration.<fix>. */
  field: z.string(),
  published: count,
  live: count,
});
export type ReportDifference = z.infer<typeof reportDifference>;

/**
 * The report as the API serves it: for a published campaign the figures frozen at publication
 * (source published) unless the live ones are asked for, and in both cases what changed since.
 */
export const servedVerificationReport = verificationReport.extend({
  source: z.enum(['published', 'live']),
  /** When the county report was published (通报), or null while it is not. */
  publishedAt: z.string().nullable(),
  /** Figures that differ between the published report and the live one (empty when not published). */
  differences: z.array(reportDifference),
});
export type ServedVerificationReport = z.infer<typeof servedVerificationReport>;

/** Suspects of one town and round with the same outcome, reason, registration fix and carrying. */
export interface SuspectGroup {
  town: string;
  round: number;
  outcome: string | null;
  reason: string | null;
  registration: RegistrationFix | null;
  /** Carried into the next round. */
  carried: boolean;
  n: number;
}

function emptyRow(codes: VerificationCodeRow[]): VerificationRow {
  const zeros = (kind: VerificationCodeRow['kind']) =>
    Object.fromEntries(codes.filter((c) => c.kind === kind).map((c) => [c.code, 0]));
  return {
    suspects: 0,
    outcomes: zeros('OUTCOME'),
    pending: 0,
    carriedForward: 0,
    removed: 0,
    stillSuspected: 0,
    reasons: zeros('REGISTRY_REASON'),
    registration: { REGISTERED: 0, NOT_REGISTERED: 0, NOT_FOUND: 0 },
  };
}

/** Adds one group of round-r suspects to a row of round r. */
function addGroup(row: VerificationRow, group: SuspectGroup, clears: Map<string, boolean>): void {
  row.suspects += group.n;
  if (group.registration) row.registration[group.registration] += group.n;
  if (group.reason !== null) row.reasons[group.reason] = (row.reasons[group.reason] ?? 0) + group.n;
  if (group.carried) row.carriedForward += group.n;
  if (group.outcome === null) {
    row.pending += group.n;
    return;
  }
  row.outcomes[group.outcome] = (row.outcomes[group.outcome] ?? 0) + group.n;
  if (clears.get(group.outcome)) row.removed += group.n;
  else row.stillSuspected += group.n;
}

/**
 * The report from the grouped suspects. `codes` must hold every code the groups use (the foreign keys
 * guarantee they exist in the table); `towns` names the towns to list, also those without suspects.
 */
export function assembleVerification(
  campaign: VerificationReport['campaign'],
  region: string,
  codes: VerificationCodeRow[],
  towns: { code: string; name: string }[],
  groups: SuspectGroup[],
): VerificationReport {
  const clears = new Map(codes.map((c) => [c.code, c.clearsSuspicion]));
  const names = new Map(towns.map((t) => [t.code, t.name]));
  for (const g of groups) if (!names.has(g.town)) names.set(g.town, g.town);
  const townCodes = [...names.keys()].sort();
  const lastRound = Math.max(1, ...groups.map((g) => g.round));
  const rounds = [];
  for (let round = 1; round <= lastRound; round++) {
    const rows = new Map(townCodes.map((code) => [code, emptyRow(codes)]));
    const total = emptyRow(codes);
    for (const g of groups) {
      if (g.round !== round) continue;
      addGroup(rows.get(g.town)!, g, clears);
      addGroup(total, g, clears);
    }
    rounds.push({
      round,
      towns: townCodes.map((code) => ({ townCode: code, townName: names.get(code)!, ...rows.get(code)! })),
      total,
    });
  }
  return { campaign, region, codes, rounds };
}

/** Runs the one aggregate over the campaign's suspects (index SuspectedChild(campaignId, regionCode)). */
export async function verificationReportOf(
  db: PrismaClient,
  campaign: VerificationReport['campaign'],
  region: string,
): Promise<VerificationReport> {
  const groups = await db.$queryRaw<SuspectGroup[]>`
    SELECT s."regionCode" AS town, s.round, s."outcomeCode" AS outcome, s."reasonCode" AS reason,
      s.registration::text AS registration,
      EXISTS (SELECT 1 FROM "SuspectedChild" n
              WHERE n."campaignId" = s."campaignId" AND n."childId" = s."childId" AND n.round = s.round + 1) AS carried,
      count(*)::int AS n
    FROM "SuspectedChild" s
    WHERE s."campaignId" = ${campaign.id} AND starts_with(s."regionCode", ${region})
    GROUP BY 1, 2, 3, 4, 5, 6`;
  const codes = await db.verificationCode.findMany({ orderBy: [{ kind: 'asc' }, { code: 'asc' }] });
  const towns = await db.region.findMany({
    where: { level: 'TOWN', code: { startsWith: region } },
    select: { code: true, name: true },
  });
  return assembleVerification(
    campaign,
    region,
    codes.map(({ code, label, kind, clearsSuspicion }) => ({ code, label, kind, clearsSuspicion })),
    towns,
    groups,
  );
}

/** The report as one sheet: a block of town rows and a 合计 row per round. */
export function verificationTable(report: VerificationReport): ReportTable {
  // A code of the other kind gets a column only when used that way (outcomes and reasons share a table).
  const totals = report.rounds.map((r) => r.total);
  const outcomeCodes = report.codes.filter((c) => c.kind === 'OUTCOME' || totals.some((t) => c.code in t.outcomes));
  const reasonCodes = report.codes.filter(
    (c) => c.kind === 'REGISTRY_REASON' || totals.some((t) => c.code in t.reasons),
  );
  const headers = [
    '轮次',
    '镇街代码',
    '镇街',
    '疑似失学儿童数',
    ...outcomeCodes.map((c) => `${c.code}类（${c.label}）`),
    '未核实',
    '转入下一轮',
    '核减人数',
    '疑似失学人数',
    ...reasonCodes.map((c) => `${c.code}类（${c.label}）`),
    ...REGISTRATION_FIXES.map((f) => REGISTRATION_LABELS[f]),
  ];
  const cells = (row: VerificationRow): Cell[] => [
    row.suspects,
    ...outcomeCodes.map((c) => row.outcomes[c.code] ?? 0),
    row.pending,
    row.carriedForward,
    row.removed,
    row.stillSuspected,
    ...reasonCodes.map((c) => row.reasons[c.code] ?? 0),
    ...REGISTRATION_FIXES.map((f) => row.registration[f]),
  ];
  const rows: Cell[][] = [];
  for (const r of report.rounds) {
    const label = `第${r.round}轮`;
    for (const t of r.towns) rows.push([label, t.townCode, t.townName, ...cells(t)]);
    rows.push([label, report.region, '合计', ...cells(r.total)]);
  }
  return { sheetName: `入学核查${report.campaign.year}`, headers, rows };
}

/** The row's figures in a fixed order, as (field, count) pairs. */
function figures(row: VerificationRow): [string, number][] {
  return [
    ['suspects', row.suspects],
    ...Object.entries(row.outcomes).map(([c, n]): [string, number] => [`outcomes.${c}`, n]),
    ['pending', row.pending],
    ['carriedForward', row.carriedForward],
    ['removed', row.removed],
    ['stillSuspected', row.stillSuspected],
    ...Object.entries(row.reasons).map(([c, n]): [string, number] => [`reasons.${c}`, n]),
    ...REGISTRATION_FIXES.map((f): [string, number] => [`registration.${f}`, row.registration[f]]),
  ];
}

function sumRows(codes: VerificationCodeRow[], rows: VerificationRow[]): VerificationRow {
  const total = emptyRow(codes);
  for (const row of rows) {
    total.suspects += row.suspects;
    total.pending += row.pending;
    total.carriedForward += row.carriedForward;
    total.removed += row.removed;
    total.stillSuspected += row.stillSuspected;
    for (const [c, n] of Object.entries(row.outcomes)) total.outcomes[c] = (total.outcomes[c] ?? 0) + n;
    for (const [c, n] of Object.entries(row.reasons)) total.reasons[c] = (total.reasons[c] ?? 0) + n;
    for (const f of REGISTRATION_FIXES) total.registration[f] += row.registration[f];
  }
  return total;
}

/**
 * A county report limited to the towns under `region` (a town officer's view of the published
 * county report); the totals then cover those towns only, as the live report's do.
 */
export function restrictToRegion(report: VerificationReport, region: string): VerificationReport {
  if (region === report.region) return report;
  return {
    ...report,
    region,
    rounds: report.rounds.map((r) => {
      const towns = r.towns.filter((t) => t.townCode.startsWith(region));
      return { round: r.round, towns, total: sumRows(report.codes, towns) };
    }),
  };
}

/** Every figure of `published` that `live` now gives differently (round by round, towns then 合计). */
export function reportDifferences(published: VerificationReport, live: VerificationReport): ReportDifference[] {
  const out: ReportDifference[] = [];
  const compare = (round: number, townCode: string, a: VerificationRow | undefined, b: VerificationRow | undefined) => {
    const before = new Map(a ? figures(a) : []);
    const after = new Map(b ? figures(b) : []);
    for (const field of new Set([...before.keys(), ...after.keys()])) {
      const p = before.get(field) ?? 0;
      const l = after.get(field) ?? 0;
      if (p !== l) out.push({ round, townCode, field, published: p, live: l });
    }
  };
  const rounds = [...new Set([...published.rounds, ...live.rounds].map((r) => r.round))].sort((x, y) => x - y);
  for (const round of rounds) {
    const p = published.rounds.find((r) => r.round === round);
    const l = live.rounds.find((r) => r.round === round);
    const towns = [...new Set([...(p?.towns ?? []), ...(l?.towns ?? [])].map((t) => t.townCode))];
    for (const town of towns) {
      compare(
        round,
        town,
        p?.towns.find((t) => t.townCode === town),
        l?.towns.find((t) => t.townCode === town),
      );
    }
    compare(round, '合计', p?.total, l?.total);
  }
  return out;
}
