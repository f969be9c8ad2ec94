/**
 * 九年义务教育巩固率 and 入学率 of a county for school year Y (by its starting calendar year, as
 * RegistryRecord.schoolYear), per town and for the area the caller sees, numerators and denominators
 * shown.
 *
 * 巩固率 [P] = graduates ÷ (cohort intake + transfers in − transfers out) × 100, for the cohort in grade 9
 * in school year Y. Its path is grade g in school year Y − 9 + g (grade 1 in Y − 8 … grade 9 in Y); a
 * child is "in area A in year t" when their RegistryRecord of school year t has the path grade and a
 * regionCode (the school's town) in A, A being a town or the whole region the caller sees (the county):
 * a move between two of its towns is a transfer for each town but not for the county. From RegistryRecord alone
 * — one record per child and school year gives both sides of every move; RegistryChange's TRANSFER kind
 * names neither direction nor destination, so it adds nothing:
 * - intake: children in A in Y − 8 (grade 1);
 * - transfers in: for t in Y − 7 … Y, children in A in t who were not in A in t − 1 (moved in, or
 *   joined the path late);
 * - transfers out: for t in Y − 8 … Y − 1, children in A in t who are not in A in t + 1 and either have a
 *   record of t + 1 outside A or a record of t in status TRANSFERRED (left for a register we do not
 *   hold). A child who simply vanishes from the registers is not a transfer: they count against the
 *   rate, which is the point of it. A repeater leaves the cohort's path (and joins the next one's);
 * - graduates: children in A in Y whose record is GRADUATED — so the rate of Y is final once the
 *   grade-9 records are marked at the end of that school year.
 *
 * 入学率 = enrolled ÷ base × 100: base = children of the county's base database of year Y (as the
 * comparison: any HOUSEHOLD/POVERTY/DISABILITY/WELFARE entry of Y in the county, each child once) of
 * compulsory age — age on 31 August of Y between minAge and maxAge (default [P] 6–14) — by their
 * household town; enrolled = those of them with a registry record of school year Y in status ENROLLED
 * or SUSPENDED, in any school (api/domain/comparison.ts: exactly the children not suspected).
 */
import { z } from 'zod';
import { Prisma } from '../../generated/prisma/client.js';
import type { Prisma as PrismaClient } from '../../infra/db/prisma.js';
import { BASE_LIST_KINDS, IN_SCHOOL_STATUSES } from '../domain/comparison.js';
import type { Cell, ReportTable } from './format.js';
import { rate } from './format.js';
import { TOWN_CODE_LENGTH } from './scope.js';

/** Grades of compulsory education: the cohort is in grade 1 eight school years before grade 9. */
const COHORT_SPAN = 8;
/** The school year starts on 1 September: age is counted on the day before. */
const AGE_CUTOFF_MONTH_DAY = '08-31';

const count = z.number().int().nonnegative();
const figures = z.object({
  retention: z.object({
    graduates: count,
    intake: count,
    transfersIn: count,
    transfersOut: count,
    /** intake + transfersIn − transfersOut */
    denominator: z.number().int(),
    /** Percent, two decimals; null when the denominator is not positive. */
    rate: z.number().nullable(),
  }),
  enrollment: z.object({
    enrolled: count,
    base: count,
    rate: z.number().nullable(),
  }),
});
export type RetentionFigures = z.infer<typeof figures>;

export const retentionReport = z.object({
  county: z.string(),
  region: z.string(),
  year: z.number().int(),
  cohort: z.object({ intakeSchoolYear: z.number().int(), graduationSchoolYear: z.number().int() }),
  compulsoryAge: z.object({ min: z.number().int(), max: z.number().int(), asOf: z.string() }),
  towns: z.array(figures.extend({ townCode: z.string(), townName: z.string() })),
  total: figures,
});
export type RetentionReport = z.infer<typeof retentionReport>;

export interface RetentionCounts {
  area: string;
  graduates: number;
  intake: number;
  transfersIn: number;
  transfersOut: number;
}

/** A town's counts, with its moves counted once across town borders and once across the region's. */
interface TownRetentionCounts extends RetentionCounts {
  regionTransfersIn: number;
  regionTransfersOut: number;
}

export interface EnrollmentCounts {
  area: string;
  enrolled: number;
  base: number;
}

export interface AgeRange {
  minAge: number;
  maxAge: number;
}

/** The figures of one area with both rates; zeros where the area has no data. */
export function retentionFigures(r?: Omit<RetentionCounts, 'area'>, e?: Omit<EnrollmentCounts, 'area'>) {
  const graduates = r?.graduates ?? 0;
  const intake = r?.intake ?? 0;
  const transfersIn = r?.transfersIn ?? 0;
  const transfersOut = r?.transfersOut ?? 0;
  const denominator = intake + transfersIn - transfersOut;
  const enrolled = e?.enrolled ?? 0;
  const base = e?.base ?? 0;
  return {
    retention: { graduates, intake, transfersIn, transfersOut, denominator, rate: rate(graduates, denominator) },
    enrollment: { enrolled, base, rate: rate(enrolled, base) },
  };
}

/**
 * Retention counts per town: each path record of a child in the region, with the child's records of the
 * year before and after (any grade, any region; one per child and year). A move between two towns of
 * the region is a transfer for both towns and none for the region, so each town also gets its moves
 * across the region's border (regionTransfersIn/Out), whose sums over the towns are the region's.
 */
async function retentionCounts(
  db: PrismaClient,
  region: string,
  year: number,
  townLength: number,
): Promise<TownRetentionCounts[]> {
  const first = year - COHORT_SPAN;
  // grade − schoolYear is constant along the path: grade 9 in `year`.
  const offset = year - 9;
  // The path spelled out as (school year, grade) pairs rather than `grade = schoolYear − offset`: the
  // planner can estimate pairs from the column statistics, and with the estimate right it hashes the
  // neighbouring years instead of probing the index a million times (2.5 s instead of 6 s for a
  // cohort of 110,000 children).
  const path = Prisma.join(Array.from({ length: COHORT_SPAN + 1 }, (_, i) => Prisma.sql`(${first + i}, ${i + 1})`));
  return db.$queryRaw<TownRetentionCounts[]>`
    WITH p AS (
      SELECT r."childId", r."schoolYear" AS t, left(r."regionCode", ${townLength}) AS town, r.status::text AS status
      FROM "RegistryRecord" r
      WHERE (r."schoolYear", r.grade) IN (${path}) AND starts_with(r."regionCode", ${region})
    ),
    moves AS (
      SELECT p.town, p.t, p.status,
        COALESCE(q.grade = q."schoolYear" - ${offset} AND left(q."regionCode", ${townLength}) = p.town, false)
          AS from_town,
        COALESCE(q.grade = q."schoolYear" - ${offset} AND starts_with(q."regionCode", ${region}), false)
          AS from_region,
        COALESCE(n.grade = n."schoolYear" - ${offset} AND left(n."regionCode", ${townLength}) = p.town, false)
          AS to_town,
        COALESCE(n.grade = n."schoolYear" - ${offset} AND starts_with(n."regionCode", ${region}), false)
          AS to_region,
        COALESCE(left(n."regionCode", ${townLength}) <> p.town, false) AS next_outside_town,
        COALESCE(NOT starts_with(n."regionCode", ${region}), false) AS next_outside_region
      FROM p
      LEFT JOIN "RegistryRecord" q ON q."childId" = p."childId" AND q."schoolYear" = p.t - 1
      LEFT JOIN "RegistryRecord" n ON n."childId" = p."childId" AND n."schoolYear" = p.t + 1
    )
    SELECT town AS area,
      count(*) FILTER (WHERE t = ${year} AND status = 'GRADUATED')::int AS graduates,
      count(*) FILTER (WHERE t = ${first})::int AS intake,
      count(*) FILTER (WHERE t > ${first} AND NOT from_town)::int AS "transfersIn",
      count(*) FILTER (WHERE t < ${year} AND NOT to_town AND (status = 'TRANSFERRED' OR next_outside_town))::int
        AS "transfersOut",
      count(*) FILTER (WHERE t > ${first} AND NOT from_region)::int AS "regionTransfersIn",
      count(*) FILTER (WHERE t < ${year} AND NOT to_region AND (status = 'TRANSFERRED' OR next_outside_region))::int
        AS "regionTransfersOut"
    FROM moves
    GROUP BY town`;
}

/** Base database and enrolled children per area of the child's household town. */
async function enrollmentCounts(
  db: PrismaClient,
  county: string,
  region: string,
  year: number,
  ages: AgeRange,
  townLength: number,
): Promise<EnrollmentCounts[]> {
  // Age a on 31 August of `year` ⇔ born between 1 September of year − a − 1 and 31 August of year − a.
  const bornFrom = `${year - ages.maxAge - 1}-09-01`;
  const bornTo = `${year - ages.minAge}-${AGE_CUTOFF_MONTH_DAY}`;
  return db.$queryRaw<EnrollmentCounts[]>`
    SELECT left(c."regionCode", ${townLength}) AS area, count(*)::int AS base, count(r.id)::int AS enrolled
    FROM "Child" c
    -- A join rather than EXISTS per child: one hash join instead of a million index probes.
    LEFT JOIN "RegistryRecord" r ON r."childId" = c.id AND r."schoolYear" = ${year}
      AND r.status = ANY (${IN_SCHOOL_STATUSES}::"RegistryStatus"[])
    WHERE c.id IN (
        SELECT e."childId" FROM "DepartmentListEntry" e
        WHERE e.year = ${year} AND e.kind = ANY (${BASE_LIST_KINDS}::"ImportKind"[])
          AND starts_with(e."regionCode", ${county}))
      AND starts_with(c."regionCode", ${region})
      AND c."birthDate" BETWEEN ${bornFrom}::date AND ${bornTo}::date
    GROUP BY 1`;
}

function sum<T>(rows: T[], of: (row: T) => number): number {
  return rows.reduce((total, row) => total + of(row), 0);
}

export async function retentionReportOf(
  db: PrismaClient,
  county: string,
  region: string,
  year: number,
  ages: AgeRange,
): Promise<RetentionReport> {
  const townLength = Math.max(TOWN_CODE_LENGTH, region.length);
  const [byTown, enrollByTown, towns] = await Promise.all([
    retentionCounts(db, region, year, townLength),
    enrollmentCounts(db, county, region, year, ages, townLength),
    db.region.findMany({ where: { level: 'TOWN', code: { startsWith: region } }, select: { code: true, name: true } }),
  ]);
  const names = new Map(towns.map((t) => [t.code, t.name]));
  for (const row of [...byTown, ...enrollByTown]) if (!names.has(row.area)) names.set(row.area, row.area);
  const retentionOf = new Map(byTown.map((r) => [r.area, r]));
  const enrollmentOf = new Map(enrollByTown.map((e) => [e.area, e]));
  return {
    county,
    region,
    year,
    cohort: { intakeSchoolYear: year - COHORT_SPAN, graduationSchoolYear: year },
    compulsoryAge: { min: ages.minAge, max: ages.maxAge, asOf: `${year}-${AGE_CUTOFF_MONTH_DAY}` },
    towns: [...names.keys()].sort().map((code) => ({
      townCode: code,
      townName: names.get(code)!,
      ...retentionFigures(retentionOf.get(code), enrollmentOf.get(code)),
    })),
    total: retentionFigures(
      {
        graduates: sum(byTown, (t) => t.graduates),
        intake: sum(byTown, (t) => t.intake),
        transfersIn: sum(byTown, (t) => t.regionTransfersIn),
        transfersOut: sum(byTown, (t) => t.regionTransfersOut),
      },
      { enrolled: sum(enrollByTown, (e) => e.enrolled), base: sum(enrollByTown, (e) => e.base) },
    ),
  };
}

export function retentionTable(report: RetentionReport): ReportTable {
  const { intakeSchoolYear } = report.cohort;
  const headers = [
    '镇街代码',
    '镇街',
    `本届毕业生数（${report.year}学年九年级）`,
    `入学人数（${intakeSchoolYear}学年一年级）`,
    '转入人数',
    '转出人数',
    '应毕业人数（入学+转入−转出）',
    '巩固率（%）',
    `基础数据库适龄儿童数（${report.compulsoryAge.min}–${report.compulsoryAge.max}周岁）`,
    '其中在籍在校人数',
    '入学率（%）',
  ];
  const cells = (f: RetentionFigures): Cell[] => [
    f.retention.graduates,
    f.retention.intake,
    f.retention.transfersIn,
    f.retention.transfersOut,
    f.retention.denominator,
    f.retention.rate,
    f.enrollment.base,
    f.enrollment.enrolled,
    f.enrollment.rate,
  ];
  return {
    sheetName: `巩固率与入学率${report.year}`,
    headers,
    rows: [
      ...report.towns.map((t) => [t.townCode, t.townName, ...cells(t)]),
      [report.region, '合计', ...cells(report.total)],
    ],
    percentColumns: [7, 10],
  };
}
