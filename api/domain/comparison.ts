/**
 * Flow 1 step 2 [T 二(二)]: compare the base database (适龄入学儿童基础信息数据库) with the school registers
 * (学籍) and list every child not found as a suspect (疑似失学儿童) to be verified one by one (逐一核实),
 * then carry the children still suspected into the next round (re-verification and mobilisation [R]).
 *
 * Both are single set-based statements, so a county of a million children compares in about a second.
 * Both are safe to repeat, so a job the engine delivers twice changes nothing the second time (nextRound
 * when told which round it closes).
 */
import { type ImportKind, Prisma, type RegistryStatus } from '../../generated/prisma/client.js';
import type { Prisma as PrismaClient, Tx } from '../../infra/db/prisma.js';
import { AppError } from '../errors.js';

/**
 * The department lists that make up the base database [T 二(一)]: 公安 (resident children), 扶贫
 * (建档立卡), 残联 (disabled), 民政 (orphans, 事实无人抚养, 困境). A child on several lists is one child.
 */
export const BASE_LIST_KINDS: ImportKind[] = ['HOUSEHOLD', 'POVERTY', 'DISABILITY', 'WELFARE'];

/** The department that provides each list. */
export const BASE_LIST_LABELS: Record<string, string> = {
  HOUSEHOLD: '公安',
  POVERTY: '扶贫',
  DISABILITY: '残联',
  WELFARE: '民政',
};

/**
 * A child is "in school" for the comparison when they have a registry record of the campaign's school
 * year that is ENROLLED or SUSPENDED: a suspended pupil (休学) keeps the school register and is known to
 * the school, so is not missing. TRANSFERRED, DROPPED_OUT and GRADUATED records do not count.
 */
export const IN_SCHOOL_STATUSES: RegistryStatus[] = ['ENROLLED', 'SUSPENDED'];

export interface ComparisonResult {
  /** Children listed as suspects of the campaign after the comparison (each once, whatever its round). */
  suspects: number;
  /** Suspects added by this run: 0 when run again on the same data. */
  added: number;
  /** Suspects per town code (the child's household town, which verifies). */
  byTown: Record<string, number>;
}

async function findCampaign(db: PrismaClient | Tx, campaignId: number) {
  const campaign = await db.campaign.findUnique({
    where: { id: campaignId },
    select: { regionCode: true, year: true },
  });
  if (!campaign) throw new AppError('NOT_FOUND');
  return campaign;
}

/**
 * Children of the base database of the campaign's county and year (any HOUSEHOLD/POVERTY/DISABILITY/
 * WELFARE entry of that year whose regionCode lies in the county) with no registry record of school
 * year = campaign year in status ENROLLED or SUSPENDED — in any school, in or outside the county —
 * become suspects of round 1, assigned to the child's household town (Child.regionCode cut to the
 * town). Children already listed keep their row and their verification (ON CONFLICT DO NOTHING), so
 * the comparison can be re-run after late imports and only adds the new suspects.
 */
export async function compareBaseWithRegistry(db: PrismaClient | Tx, campaignId: number): Promise<ComparisonResult> {
  // County and year go in as parameters rather than a join on Campaign: with constants the planner
  // estimates the county's share of the lists and picks hash anti-joins (about 1 s for a million
  // children, against more than ten minutes of nested loops with the join). Two more choices, both
  // measured by issue 7's benchmark on 1,000,000 children: the anti-join is correlated with the list
  // entry and Child is read by key for the suspects only (joining Child first anti-joined every child of
  // every county: 3.5× the bare anti-join → 2×); and the suspects are selected on their own, then
  // inserted — PostgreSQL never runs the SELECT of an INSERT … SELECT in parallel.
  const { regionCode, year } = await findCampaign(db, campaignId);
  const found = await db.$queryRaw<{ child_id: string; town: string }[]>`
    SELECT m.child_id::text AS child_id, (SELECT left(c."regionCode", 9) FROM "Child" c WHERE c.id = m.child_id) AS town
    FROM (
      SELECT DISTINCT e."childId" AS child_id FROM "DepartmentListEntry" e
      WHERE e.year = ${year}
        AND starts_with(e."regionCode", ${regionCode})
        AND e.kind = ANY (${BASE_LIST_KINDS}::"ImportKind"[])
        AND NOT EXISTS (
          SELECT 1 FROM "RegistryRecord" r
          WHERE r."childId" = e."childId" AND r."schoolYear" = ${year}
            AND r.status = ANY (${IN_SCHOOL_STATUSES}::"RegistryStatus"[]))
    ) m`;
  const added = await db.$executeRaw`
    INSERT INTO "SuspectedChild" ("campaignId", "childId", "regionCode", "round")
    SELECT ${campaignId}::int, s.child_id, s.town, 1
    FROM unnest(${found.map((f) => f.child_id)}::uuid[], ${found.map((f) => f.town)}::text[]) AS s(child_id, town)
    ON CONFLICT ("campaignId", "childId", "round") DO NOTHING`;
  // Every suspect enters in round 1: its round-1 rows are the campaign's suspects, one per child.
  const towns = await db.$queryRaw<{ town: string; n: number }[]>`
    SELECT "regionCode" AS town, count(*)::int AS n FROM "SuspectedChild"
    WHERE "campaignId" = ${campaignId} AND "round" = 1 GROUP BY 1 ORDER BY 1`;
  const byTown = Object.fromEntries(towns.map((t) => [t.town, t.n]));
  return { suspects: towns.reduce((sum, t) => sum + t.n, 0), added, byTown };
}

export interface NextRoundResult {
  /** The round the children were carried into. */
  round: number;
  /** Children carried into it. */
  advanced: number;
}

/**
 * SQL condition on a suspect row `s` of campaign `c`: the child came back to school through a 一人一案
 * since the campaign began (a case with outcome RETURNED whose return was recorded after the campaign
 * was created — a child the verification referred and who returned, with follow-up care). Such a child
 * is no longer suspected: the return registered them back (workers/record-child-return).
 */
const RETURNED_SINCE_CAMPAIGN = Prisma.sql`EXISTS (
  SELECT 1 FROM "DropoutCase" d JOIN "CaseAction" a ON a."caseId" = d.id AND a.kind = 'CHILD_RETURNED'
   WHERE d."childId" = s."childId" AND d.outcome = 'RETURNED' AND a."occurredAt" >= c."createdAt")`;

/** Round-N rows that go on to round N+1: not verified, or an outcome that does not clear the suspicion. */
const CARRIED = Prisma.sql`(s."outcomeCode" IS NULL OR EXISTS (
  SELECT 1 FROM "VerificationCode" v WHERE v.code = s."outcomeCode" AND NOT v."clearsSuspicion"))
  AND NOT ${RETURNED_SINCE_CAMPAIGN}`;

/** How many of round N's children go on to round N+1 (the diagram's `stillSuspected`). */
export async function toCarryForward(db: PrismaClient | Tx, campaignId: number, round: number): Promise<number> {
  const [row] = await db.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM "SuspectedChild" s JOIN "Campaign" c ON c.id = s."campaignId"
     WHERE s."campaignId" = ${campaignId} AND s.round = ${round} AND ${CARRIED}`;
  return row?.n ?? 0;
}

/** One suspect as the verification diagram carries it (the multi-instance's `suspect`). */
export interface RoundSuspect {
  suspectId: number;
  childId: string;
  townCode: string;
}

/** The round's suspects, one verification each, in the order they were listed. */
export async function roundSuspects(db: PrismaClient | Tx, campaignId: number, round: number): Promise<RoundSuspect[]> {
  const rows = await db.suspectedChild.findMany({
    where: { campaignId, round },
    select: { id: true, childId: true, regionCode: true },
    orderBy: { id: 'asc' },
  });
  return rows.map((r) => ({ suspectId: r.id, childId: r.childId, townCode: r.regionCode }));
}

/**
 * Takes off a later round's list, before it is dispatched, the children who came back to school
 * since it was drawn up (their case closed with the return while the list waited for the bureau):
 * they are not verified again. Round 1 is the comparison's and is never changed. Returns how many.
 */
export async function withdrawReturned(db: PrismaClient | Tx, campaignId: number, round: number): Promise<number> {
  if (round <= 1) return 0;
  return db.$executeRaw`
    DELETE FROM "SuspectedChild" s USING "Campaign" c
     WHERE c.id = s."campaignId" AND s."campaignId" = ${campaignId} AND s.round = ${round}
       AND s."outcomeCode" IS NULL AND s."verifiedAt" IS NULL AND ${RETURNED_SINCE_CAMPAIGN}`;
}

/**
 * Closes round N and opens round N+1 for the children still suspected at its end: those of round N
 * with no outcome (not verified in time) or an outcome that does not clear the suspicion
 * (clearsSuspicion = false: I 因病因残, L 在家上学, …), unless they came back to school through their
 * case since the campaign began. Each gets a new row in round N+1, to be verified afresh, starting
 * from what round N found (whereabouts, evidence, placement, reason) — but not its registration fix
 * (已建籍…): that is what the town records in the round, and copying it counted registrations nobody
 * recorded. The round-N row keeps its outcome, so the report of round N stays as it was.
 *
 * Safe to repeat: a child already in round N+1 is skipped (unique campaign, child, round).
 * `fromRound` defaults to the campaign's latest round.
 */
export async function nextRound(
  db: PrismaClient | Tx,
  campaignId: number,
  fromRound?: number,
): Promise<NextRoundResult> {
  await findCampaign(db, campaignId);
  let round = fromRound;
  if (round === undefined) {
    const latest = await db.suspectedChild.aggregate({ where: { campaignId }, _max: { round: true } });
    round = latest._max.round ?? 1;
  }
  const advanced = await db.$executeRaw`
    INSERT INTO "SuspectedChild" ("campaignId", "childId", "regionCode", "round", whereabouts, evidence,
      placement, "reasonCode")
    SELECT s."campaignId", s."childId", s."regionCode", s."round" + 1, s.whereabouts, s.evidence,
      s.placement, s."reasonCode"
    FROM "SuspectedChild" s JOIN "Campaign" c ON c.id = s."campaignId"
    WHERE s."campaignId" = ${campaignId}
      AND s."round" = ${round}
      AND ${CARRIED}
    ON CONFLICT ("campaignId", "childId", "round") DO NOTHING`;
  return { round: round + 1, advanced };
}
