/**
 * 义务教育阶段学生辍学情况统计表, sent at the end of March and the end of October [T 三]: per school, per
 * town and for the county, as of the end of the period (api/reports/period.ts):
 * - enrolled (在籍学生数): registry records of the period's school year in status ENROLLED, SUSPENDED or
 *   DROPPED_OUT (the register keeps a dropout on the roll, flagged), at the school;
 * - dropouts (辍学人数), each child once, at the school of their case, else of their registry record:
 *   a DropoutCase opened before the period end and not ended by then — still open, closed after the
 *   end, or closed with outcome REFERRED (referral for legal action leaves the child out of school);
 *   any other closing (RETURNED, TRANSFER_FOUND, DEFERRED, HOME_TEACHING, UNFOUNDED) before the end
 *   ends it — plus registry records of the school year in status DROPPED_OUT, unless their DROPOUT
 *   change is dated after the period end (the status is the register's current one);
 * - dropoutRate: dropouts ÷ enrolled × 100 (null with no enrolled pupils);
 * - returned (复学人数): children whose case closed as RETURNED within the period, each child once;
 * - by grade band: 小学 grades 1–6, 初中 7–9, from the child's registry record of the school year, else
 *   the case's class, else the school's kind (PRIMARY/MIDDLE); `total` also counts a child whose band
 *   none of these tells;
 * - by vulnerability flag (Child.flags): a child with several flags counts under each.
 */
import { z } from 'zod';
import type { RegistryStatus } from '../../generated/prisma/client.js';
import type { Prisma as PrismaClient } from '../../infra/db/prisma.js';
import type { Cell, ReportTable } from './format.js';
import { rate } from './format.js';
import { VULNERABILITY_FLAGS, VULNERABILITY_LABELS } from './labels.js';
import type { Period } from './period.js';

/** A dropout keeps their registry record (flagged) until it is changed: they are still on the roll. */
const ON_ROLL_STATUSES: RegistryStatus[] = ['ENROLLED', 'SUSPENDED', 'DROPPED_OUT'];

const count = z.number().int().nonnegative();
const band = z.object({ primary: count, middle: count, total: count });
type Band = z.infer<typeof band>;

const dropoutRow = z.object({
  enrolled: band,
  dropouts: band,
  /** Percent, two decimals; null without enrolled pupils. */
  dropoutRate: z.number().nullable(),
  returned: band,
  dropoutsByFlag: z.record(z.string(), count),
  returnedByFlag: z.record(z.string(), count),
});
export type DropoutRow = z.infer<typeof dropoutRow>;

const schoolRow = dropoutRow.extend({
  schoolId: z.number().int(),
  schoolCode: z.string(),
  schoolName: z.string(),
});

export const dropoutReport = z.object({
  county: z.string(),
  /** Region prefix the rows are limited to (the county, or the caller's town). */
  region: z.string(),
  period: z.object({
    label: z.string(),
    schoolYear: z.number().int(),
    /** Inclusive. */
    start: z.string(),
    /** Exclusive: the table is as of the instant before. */
    end: z.string(),
  }),
  towns: z.array(dropoutRow.extend({ townCode: z.string(), townName: z.string(), schools: z.array(schoolRow) })),
  total: dropoutRow,
});
export type DropoutReport = z.infer<typeof dropoutReport>;

/** One aggregate: a school's count of one metric for one band or flag. */
export interface DropoutFigure {
  school: number;
  metric: 'enrolled' | 'dropouts' | 'returned' | 'dropoutsByFlag' | 'returnedByFlag';
  key: string;
  n: number;
}

function emptyRow(): DropoutRow {
  const zeros = () => Object.fromEntries(VULNERABILITY_FLAGS.map((f) => [f, 0]));
  const emptyBand = () => ({ primary: 0, middle: 0, total: 0 });
  return {
    enrolled: emptyBand(),
    dropouts: emptyBand(),
    dropoutRate: null,
    returned: emptyBand(),
    dropoutsByFlag: zeros(),
    returnedByFlag: zeros(),
  };
}

function addBand(into: Band, key: string, n: number): void {
  if (key === 'primary' || key === 'middle') into[key] += n;
  into.total += n;
}

function addFigure(row: DropoutRow, f: DropoutFigure): void {
  if (f.metric === 'dropoutsByFlag' || f.metric === 'returnedByFlag') {
    row[f.metric][f.key] = (row[f.metric][f.key] ?? 0) + f.n;
  } else {
    addBand(row[f.metric], f.key, f.n);
  }
}

function addRow(into: DropoutRow, row: DropoutRow): void {
  for (const metric of ['enrolled', 'dropouts', 'returned'] as const) {
    for (const key of ['primary', 'middle', 'total'] as const) into[metric][key] += row[metric][key];
  }
  for (const metric of ['dropoutsByFlag', 'returnedByFlag'] as const) {
    for (const [flag, n] of Object.entries(row[metric])) into[metric][flag] = (into[metric][flag] ?? 0) + n;
  }
}

function withRate<T extends DropoutRow>(row: T): T {
  return { ...row, dropoutRate: rate(row.dropouts.total, row.enrolled.total) };
}

interface SchoolInfo {
  id: number;
  code: string;
  name: string;
  regionCode: string;
}

/** Folds the per-school figures into school rows, town subtotals and the total; every school is listed. */
export function assembleDropouts(
  county: string,
  region: string,
  period: Period,
  schools: SchoolInfo[],
  towns: { code: string; name: string }[],
  figures: DropoutFigure[],
): DropoutReport {
  const bySchool = new Map(schools.map((s) => [s.id, emptyRow()]));
  for (const f of figures) {
    const row = bySchool.get(f.school);
    if (row) addFigure(row, f);
  }
  const townNames = new Map(towns.map((t) => [t.code, t.name]));
  const townCodes = [...new Set(schools.map((s) => s.regionCode.slice(0, 9)))].sort();
  const total = emptyRow();
  const townRows = townCodes.map((townCode) => {
    const townRow = emptyRow();
    const schoolRows = schools
      .filter((s) => s.regionCode.slice(0, 9) === townCode)
      .sort((a, b) => a.code.localeCompare(b.code))
      .map((s) => {
        const row = bySchool.get(s.id)!;
        addRow(townRow, row);
        return withRate({ schoolId: s.id, schoolCode: s.code, schoolName: s.name, ...row });
      });
    addRow(total, townRow);
    return withRate({ townCode, townName: townNames.get(townCode) ?? townCode, ...townRow, schools: schoolRows });
  });
  return {
    county,
    region,
    period: {
      label: period.label,
      schoolYear: period.schoolYear,
      start: period.start.toISOString(),
      end: period.end.toISOString(),
    },
    towns: townRows,
    total: withRate(total),
  };
}

/**
 * One statement over the period's school year: enrolled pupils, dropouts and returns per school,
 * band and flag. `schoolId` limits it to one school (a SCHOOL user).
 */
export async function dropoutReportOf(
  db: PrismaClient,
  county: string,
  region: string,
  period: Period,
  schoolId: number | null,
): Promise<DropoutReport> {
  const figures = await db.$queryRaw<DropoutFigure[]>`
    WITH sch AS (
      SELECT s.id, s.kind FROM "School" s
      WHERE starts_with(s."regionCode", ${region}) AND (${schoolId}::int IS NULL OR s.id = ${schoolId}::int)
    ),
    case_drop AS (
      SELECT DISTINCT ON (d."childId") d."childId" AS child, d."schoolId" AS school, d."classId" AS class
      FROM "DropoutCase" d JOIN sch ON sch.id = d."schoolId"
      WHERE d."openedAt" < ${period.end}
        AND (d."closedAt" IS NULL OR d."closedAt" >= ${period.end} OR d.outcome = 'REFERRED')
      ORDER BY d."childId", d."openedAt" DESC
    ),
    reg_drop AS (
      SELECT r."childId" AS child, r."schoolId" AS school
      FROM "RegistryRecord" r JOIN sch ON sch.id = r."schoolId"
      WHERE r."schoolYear" = ${period.schoolYear} AND r.status = 'DROPPED_OUT'
        AND NOT EXISTS (
          SELECT 1 FROM "RegistryChange" c
          WHERE c."recordId" = r.id AND c.kind = 'DROPOUT' AND c.date >= ${period.endDate}::date)
    ),
    returned AS (
      SELECT DISTINCT ON (d."childId") d."childId" AS child, d."schoolId" AS school, d."classId" AS class
      FROM "DropoutCase" d JOIN sch ON sch.id = d."schoolId"
      WHERE (d.status = 'RETURNED' OR d.outcome = 'RETURNED')
        AND d."closedAt" >= ${period.start} AND d."closedAt" < ${period.end}
      ORDER BY d."childId", d."closedAt" DESC
    ),
    people AS (
      SELECT 'dropouts' AS metric, COALESCE(cd.child, rd.child) AS child, COALESCE(cd.school, rd.school) AS school,
        cd.class
      FROM case_drop cd FULL JOIN reg_drop rd ON rd.child = cd.child
      UNION ALL
      SELECT 'returned', child, school, class FROM returned
    ),
    classified AS (
      SELECT p.metric, p.school, ch.flags,
        CASE
          WHEN COALESCE(rr.grade, cl.grade) BETWEEN 1 AND 6 THEN 'primary'
          WHEN COALESCE(rr.grade, cl.grade) BETWEEN 7 AND 9 THEN 'middle'
          WHEN sk.kind = 'PRIMARY' THEN 'primary'
          WHEN sk.kind = 'MIDDLE' THEN 'middle'
          ELSE 'unknown'
        END AS band
      FROM people p
      JOIN "Child" ch ON ch.id = p.child
      JOIN sch sk ON sk.id = p.school
      LEFT JOIN "RegistryRecord" rr ON rr."childId" = p.child AND rr."schoolYear" = ${period.schoolYear}
      LEFT JOIN "SchoolClass" cl ON cl.id = p.class
    )
    SELECT r."schoolId" AS school, 'enrolled' AS metric,
      CASE WHEN r.grade BETWEEN 1 AND 6 THEN 'primary' WHEN r.grade BETWEEN 7 AND 9 THEN 'middle' ELSE 'unknown' END
        AS key,
      count(*)::int AS n
    FROM "RegistryRecord" r JOIN sch ON sch.id = r."schoolId"
    WHERE r."schoolYear" = ${period.schoolYear} AND r.status = ANY (${ON_ROLL_STATUSES}::"RegistryStatus"[])
    GROUP BY 1, 3
    UNION ALL
    SELECT school, metric, band, count(*)::int FROM classified GROUP BY 1, 2, 3
    UNION ALL
    SELECT school, metric || 'ByFlag', flag::text, count(*)::int FROM classified, unnest(flags) AS flag GROUP BY 1, 2, 3`;
  const schools = await db.school.findMany({
    where: { regionCode: { startsWith: region }, ...(schoolId === null ? {} : { id: schoolId }) },
    select: { id: true, code: true, name: true, regionCode: true },
  });
  const towns = await db.region.findMany({
    where: { level: 'TOWN', code: { startsWith: region.slice(0, 9) } },
    select: { code: true, name: true },
  });
  return assembleDropouts(county, region, period, schools, towns, figures);
}

/** One sheet: school rows, a 小计 row per town, the 合计 row last. */
export function dropoutTable(report: DropoutReport): ReportTable {
  const bandHeaders = (what: string) => [`${what}（小学）`, `${what}（初中）`, `${what}（合计）`];
  const headers = [
    '镇街代码',
    '镇街',
    '学校标识码',
    '学校',
    ...bandHeaders('在籍学生数'),
    ...bandHeaders('辍学人数'),
    '辍学率（%）',
    ...bandHeaders('复学人数'),
    ...VULNERABILITY_FLAGS.map((f) => `辍学人数·${VULNERABILITY_LABELS[f]}`),
    ...VULNERABILITY_FLAGS.map((f) => `复学人数·${VULNERABILITY_LABELS[f]}`),
  ];
  const bandCells = (b: Band): Cell[] => [b.primary, b.middle, b.total];
  const cells = (row: DropoutRow): Cell[] => [
    ...bandCells(row.enrolled),
    ...bandCells(row.dropouts),
    row.dropoutRate,
    ...bandCells(row.returned),
    ...VULNERABILITY_FLAGS.map((f) => row.dropoutsByFlag[f] ?? 0),
    ...VULNERABILITY_FLAGS.map((f) => row.returnedByFlag[f] ?? 0),
  ];
  const rows: Cell[][] = [];
  for (const town of report.towns) {
    for (const s of town.schools) rows.push([town.townCode, town.townName, s.schoolCode, s.schoolName, ...cells(s)]);
    rows.push([town.townCode, town.townName, null, '小计', ...cells(town)]);
  }
  rows.push([report.region, '合计', null, null, ...cells(report.total)]);
  return {
    sheetName: `辍学情况统计表${report.period.label}`,
    headers,
    rows,
    percentColumns: [10],
  };
}
