/**
 * Imports a department list or a school register for one county, all or nothing: every row is
 * validated first and any bad row rejects the whole file (listing every bad row); a good file is
 * written in one transaction with set-based statements, so a county's 70,000-row household list
 * imports in seconds. The same bytes imported again find their batch instead of importing twice.
 */
import { createHash } from 'node:crypto';
import { type ImportBatch, type ImportKind, Prisma as PrismaNS } from '../../generated/prisma/client.js';
import type { Prisma, Tx } from '../../infra/db/prisma.js';
import type { Actor } from '../auth/actor.js';
import { audit } from '../auth/audit.js';
import { AppError } from '../errors.js';
import { IMPORT_FORMATS, type KindParam } from './formats.js';
import { chinaDay } from '../domain/china-time.js';
import { readTable } from './read-table.js';
import {
  type RowContext,
  type RowError,
  type SchoolRef,
  type ValidatedFile,
  type ValidRow,
  validateRows,
} from './rows.js';

export interface ImportInput {
  kind: KindParam;
  /** Six-digit code of the county the list belongs to. */
  county: string;
  year: number;
  fileName: string;
  bytes: Buffer;
}

export interface ImportResult {
  batch: ImportBatch;
  /** Children created by this import. */
  created: number;
  /** Children already known (by ID number): the import changed only what the list is authoritative for. */
  updated: number;
  /** true: these bytes were imported before; nothing was written. */
  duplicate: boolean;
}

/** Rows per statement: keeps each statement's parameters a few MB at most. */
const CHUNK = 10_000;

/** Nearly three times a large county's household list; bounds memory and the transaction's length. */
export const MAX_ROWS = 200_000;

/** Generous for the largest file on a slow disk: we measure 4,000–10,000 rows/s. */
function transactionTimeoutMs(rows: number): number {
  return 60_000 + rows * 2;
}

export async function importList(prisma: Prisma, actor: Actor, input: ImportInput): Promise<ImportResult> {
  const format = IMPORT_FORMATS[input.kind];
  const kind = format.importKind;
  const sha256 = createHash('sha256').update(input.bytes).digest('hex');
  const key = { kind, regionCode: input.county, sha256 };

  const earlier = await prisma.importBatch.findUnique({ where: { kind_regionCode_sha256: key } });
  if (earlier) return { batch: earlier, created: 0, updated: 0, duplicate: true };

  const table = await readTable(input.bytes);
  if (table.rows.length > MAX_ROWS + 1) {
    throw new AppError(
      'IMPORT_REJECTED',
      { errors: [{ line: table.rows.at(-1)!.line, reason: `超过单次导入上限${MAX_ROWS}行` }] },
      `文件超过单次导入上限${MAX_ROWS}行，未导入；请按镇街拆分后分别上传。`,
    );
  }
  const ctx = await loadContext(prisma, input.county, input.year, kind);
  const file = validateRows(format, table.rows, ctx);
  const errors = [...file.errors, ...(kind === 'REGISTRY' ? await registryConflicts(prisma, file, input.year) : [])];
  if (errors.length) {
    errors.sort((a, b) => a.line - b.line);
    throw new AppError('IMPORT_REJECTED', { errors });
  }

  try {
    return await prisma.$transaction(
      async (tx) => {
        // The batch first: a concurrent import of the same bytes waits here on the unique key and then fails.
        const batch = await tx.importBatch.create({
          data: {
            ...key,
            year: input.year,
            fileName: input.fileName,
            rowCount: file.rows.length,
            importedBy: actor.userId,
          },
        });
        const children = await upsertChildren(tx, kind, file.rows);
        if (kind === 'REGISTRY') await writeRegistry(tx, batch.id, input.year, file.rows, children.byIdNumber);
        else await writeListEntries(tx, batch, file.rows, children.byIdNumber);
        if (kind === 'HOUSEHOLD') await writeGuardians(tx, file.rows, children);
        const created = children.createdIdNumbers.size;
        const updated = file.rows.length - created;
        await audit(tx, actor, {
          action: 'IMPORT',
          entity: 'ImportBatch',
          entityId: batch.id,
          details: { kind, rows: file.rows.length, created, updated },
        });
        return { batch, created, updated, duplicate: false };
      },
      { timeout: transactionTimeoutMs(file.rows.length), maxWait: 10_000 },
    );
  } catch (err) {
    if (!(err instanceof PrismaNS.PrismaClientKnownRequestError) || err.code !== 'P2002') throw err;
    // Lost the race to an identical upload: answer as for any re-import.
    const winner = await prisma.importBatch.findUnique({ where: { kind_regionCode_sha256: key } });
    if (winner) return { batch: winner, created: 0, updated: 0, duplicate: true };
    throw new AppError('CONFLICT');
  }
}

/** What the rows are checked against: the county's towns, and for registers its schools. */
async function loadContext(prisma: Prisma, county: string, year: number, kind: ImportKind): Promise<RowContext> {
  const [countyRegion, towns, schools] = await Promise.all([
    prisma.region.findUnique({ where: { code: county }, select: { name: true } }),
    prisma.region.findMany({
      where: { level: 'TOWN', code: { startsWith: county } },
      select: { id: true, code: true, name: true },
    }),
    kind === 'REGISTRY'
      ? prisma.school.findMany({
          where: { regionCode: { startsWith: county } },
          select: { id: true, code: true, regionCode: true },
        })
      : [],
  ]);
  return {
    year,
    towns,
    countyName: countyRegion?.name,
    schools: new Map<string, SchoolRef>(schools.map((s) => [s.code, s])),
  };
}

/** Register rows that contradict the database: a 学籍号 held by another child, a class of another grade. */
async function registryConflicts(prisma: Prisma, file: ValidatedFile, year: number): Promise<RowError[]> {
  const rows = file.rows.filter((r) => r.registry);
  const numbers = rows.map((r) => r.registry!.studentNumber);
  const [holders, classes] = await Promise.all([
    prisma.child.findMany({
      where: { studentNumber: { in: numbers } },
      select: { idNumber: true, studentNumber: true },
    }),
    prisma.schoolClass.findMany({
      where: { schoolYear: year, schoolId: { in: [...new Set(rows.map((r) => r.registry!.school.id))] } },
      select: { schoolId: true, name: true, grade: true },
    }),
  ]);
  const holderOf = new Map(holders.map((h) => [h.studentNumber!, h.idNumber]));
  const gradeOf = new Map(classes.map((c) => [`${c.schoolId}\u0000${c.name}`, c.grade]));
  const errors: RowError[] = [];
  for (const row of rows) {
    const r = row.registry!;
    const holder = holderOf.get(r.studentNumber);
    if (holder !== undefined && holder !== row.idNumber) {
      errors.push({
        line: row.line,
        column: file.headers.studentNumber,
        reason: '该学籍号已登记在另一名儿童名下，请核对',
      });
    }
    const grade = gradeOf.get(`${r.school.id}\u0000${r.className}`);
    if (grade !== undefined && grade !== r.grade) {
      errors.push({
        line: row.line,
        column: file.headers.className,
        reason: `该校${year}学年的“${r.className}”已登记为${grade}年级，与本行年级${r.grade}不一致`,
      });
    }
  }
  return errors;
}

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

const isoDate = (d: Date) => d.toISOString().slice(0, 10);

/**
 * What an import may change on a child already known, by the list that is authoritative for it:
 * 公安 the household registration (town, addresses), the others their flag, registers the 学籍号.
 * A new child gets everything the row has; name, gender and birth date come from the ID number.
 */
const FLAGS_UNION = 'ARRAY(SELECT DISTINCT f FROM unnest(c.flags || EXCLUDED.flags) AS f ORDER BY f)';
const SAME_TOWN = 'starts_with(c."regionCode", EXCLUDED."regionCode")';
const AUTHORITATIVE: Record<ImportKind, [column: string, value: string][]> = {
  // A child registered in a village of the listed town keeps the finer code.
  HOUSEHOLD: [
    ['"regionCode"', `CASE WHEN ${SAME_TOWN} THEN c."regionCode" ELSE EXCLUDED."regionCode" END`],
    ['"householdRegionId"', `CASE WHEN ${SAME_TOWN} THEN c."householdRegionId" ELSE EXCLUDED."householdRegionId" END`],
    ['"householdAddress"', 'COALESCE(EXCLUDED."householdAddress", c."householdAddress")'],
    ['"residenceAddress"', 'COALESCE(EXCLUDED."residenceAddress", c."residenceAddress")'],
  ],
  POVERTY: [['flags', FLAGS_UNION]],
  DISABILITY: [['flags', FLAGS_UNION]],
  WELFARE: [['flags', FLAGS_UNION]],
  REGISTRY: [['"studentNumber"', 'EXCLUDED."studentNumber"']],
};

/** SET for the columns, only where one of them changes: re-importing a list rewrites no unchanged child. */
function onConflictUpdate(kind: ImportKind): string {
  const pairs = AUTHORITATIVE[kind];
  const set = pairs.map(([col, value]) => `${col} = ${value}`).join(', ');
  const before = pairs.map(([col]) => `c.${col}`).join(', ');
  const after = pairs.map(([, value]) => value).join(', ');
  return `DO UPDATE SET ${set}, "updatedAt" = now() WHERE ROW(${before}) IS DISTINCT FROM ROW(${after})`;
}

interface ChildIds {
  /** Child.id by ID number, for every row. */
  byIdNumber: Map<string, string>;
  /** ID numbers of the children this import created. */
  createdIdNumbers: Set<string>;
}

async function upsertChildren(tx: Tx, kind: ImportKind, rows: ValidRow[]): Promise<ChildIds> {
  const byIdNumber = new Map<string, string>();
  const createdIdNumbers = new Set<string>();
  for (const part of chunks(rows)) {
    const result = await tx.$queryRawUnsafe<{ id: string; idNumber: string; inserted: boolean }[]>(
      `INSERT INTO "Child" AS c (id, "idNumber", name, gender, "birthDate", "regionCode", "householdRegionId",
         "householdAddress", "residenceAddress", flags, "studentNumber", "updatedAt")
       SELECT gen_random_uuid(), v.id_number, v.name, v.gender::"Gender", v.birth_date, v.region_code, v.region_id,
         v.household_address, v.residence_address, string_to_array(v.flags, ',')::"VulnerabilityFlag"[],
         v.student_number, now()
       FROM unnest($1::text[], $2::text[], $3::text[], $4::date[], $5::text[], $6::int[], $7::text[], $8::text[],
         $9::text[], $10::text[])
         AS v(id_number, name, gender, birth_date, region_code, region_id, household_address, residence_address,
           flags, student_number)
       ON CONFLICT ("idNumber") ${onConflictUpdate(kind)}
       RETURNING c.id, c."idNumber", (c.xmax = 0) AS inserted`,
      part.map((r) => r.idNumber),
      part.map((r) => r.name),
      part.map((r) => r.gender),
      part.map((r) => isoDate(r.birthDate)),
      // A child first seen in a register belongs to the school's town until 公安's list says otherwise.
      part.map((r) => r.town?.code ?? r.registry!.school.regionCode),
      part.map((r) => r.town?.id ?? null),
      part.map((r) => r.householdAddress ?? null),
      part.map((r) => r.residenceAddress ?? null),
      part.map((r) => r.flags.join(',')),
      part.map((r) => r.registry?.studentNumber ?? null),
    );
    for (const r of result) {
      byIdNumber.set(r.idNumber, r.id);
      if (r.inserted) createdIdNumbers.add(r.idNumber);
    }
    // Children the list did not change are not returned by the upsert.
    const unchanged = part.filter((r) => !byIdNumber.has(r.idNumber)).map((r) => r.idNumber);
    if (unchanged.length) {
      const known = await tx.$queryRawUnsafe<{ id: string; idNumber: string }[]>(
        'SELECT id, "idNumber" FROM "Child" WHERE "idNumber" = ANY($1::text[])',
        unchanged,
      );
      for (const r of known) byIdNumber.set(r.idNumber, r.id);
    }
  }
  return { byIdNumber, createdIdNumbers };
}

async function writeListEntries(tx: Tx, batch: ImportBatch, rows: ValidRow[], ids: Map<string, string>) {
  for (const part of chunks(rows)) {
    await tx.$executeRawUnsafe(
      `INSERT INTO "DepartmentListEntry" ("batchId", "lineNumber", kind, year, "childId", "regionCode", category)
       SELECT $1, v.line, $2::"ImportKind", $3, v.child_id, v.region_code, v.category
       FROM unnest($4::int[], $5::uuid[], $6::text[], $7::text[]) AS v(line, child_id, region_code, category)`,
      batch.id,
      batch.kind,
      batch.year,
      part.map((r) => r.line),
      part.map((r) => ids.get(r.idNumber)!),
      part.map((r) => r.town!.code),
      part.map((r) => r.category ?? null),
    );
  }
}

/**
 * 公安's guardian: matched by name among a known child's guardians (phone and relation updated), added
 * when new; guardians from elsewhere are kept. Children created by this import simply get theirs.
 */
async function writeGuardians(tx: Tx, rows: ValidRow[], children: ChildIds) {
  const withGuardian = rows.filter((r) => r.guardian);
  for (const part of chunks(withGuardian)) {
    const params = (list: ValidRow[]) => [
      list.map((r) => children.byIdNumber.get(r.idNumber)!),
      list.map((r) => r.guardian!.name),
      list.map((r) => r.guardian!.relation),
      list.map((r) => r.guardian!.phone ?? null),
    ];
    const known = part.filter((r) => !children.createdIdNumbers.has(r.idNumber));
    if (known.length) {
      await tx.$executeRawUnsafe(
        `UPDATE "Guardian" g SET relation = v.relation, phone = COALESCE(v.phone, g.phone)
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS v(child_id, name, relation, phone)
         WHERE g."childId" = v.child_id AND g.name = v.name
           AND ROW(g.relation, g.phone) IS DISTINCT FROM ROW(v.relation, COALESCE(v.phone, g.phone))`,
        ...params(known),
      );
    }
    await tx.$executeRawUnsafe(
      `INSERT INTO "Guardian" ("childId", name, relation, phone)
       SELECT v.child_id, v.name, v.relation, v.phone
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::boolean[])
         AS v(child_id, name, relation, phone, known)
       WHERE NOT v.known OR NOT EXISTS (SELECT 1 FROM "Guardian" g WHERE g."childId" = v.child_id AND g.name = v.name)`,
      ...params(part),
      part.map((r) => !children.createdIdNumbers.has(r.idNumber)),
    );
  }
}

/**
 * A register: the classes, one record per child and school year, and the child's current placement —
 * unless a later school year's record exists (an old register imported late does not move the child
 * back). A pupil transferred out or graduated leaves the school: the placement is cleared if it
 * pointed there.
 */
async function writeRegistry(tx: Tx, batchId: number, year: number, rows: ValidRow[], ids: Map<string, string>) {
  /** A change the register does not date happened, as far as we know, on the day of the import (Beijing). */
  const today = chinaDay();
  const classes = new Map<string, { schoolId: number; name: string; grade: number; regionCode: string }>();
  for (const r of rows) {
    const p = r.registry!;
    classes.set(`${p.school.id}\u0000${p.className}`, {
      schoolId: p.school.id,
      name: p.className,
      grade: p.grade,
      regionCode: p.school.regionCode,
    });
  }
  const list = [...classes.values()];
  await tx.$executeRawUnsafe(
    `INSERT INTO "SchoolClass" ("schoolId", "schoolYear", grade, name, "regionCode")
     SELECT v.school_id, $1, v.grade, v.name, v.region_code
     FROM unnest($2::int[], $3::int[], $4::text[], $5::text[]) AS v(school_id, grade, name, region_code)
     ON CONFLICT ("schoolId", "schoolYear", name) DO NOTHING`,
    year,
    list.map((c) => c.schoolId),
    list.map((c) => c.grade),
    list.map((c) => c.name),
    list.map((c) => c.regionCode),
  );
  const found = await tx.$queryRawUnsafe<{ id: number; schoolId: number; name: string }[]>(
    `SELECT k.id, k."schoolId", k.name FROM "SchoolClass" k
     JOIN unnest($2::int[], $3::text[]) AS v(school_id, name) ON k."schoolId" = v.school_id AND k.name = v.name
     WHERE k."schoolYear" = $1`,
    year,
    list.map((c) => c.schoolId),
    list.map((c) => c.name),
  );
  const classId = new Map(found.map((k) => [`${k.schoolId}\u0000${k.name}`, k.id]));

  for (const part of chunks(rows)) {
    const childIds = part.map((r) => ids.get(r.idNumber)!);
    const schoolIds = part.map((r) => r.registry!.school.id);
    const classIds = part.map((r) => classId.get(`${r.registry!.school.id}\u0000${r.registry!.className}`)!);
    // One statement: the record's status before (every sub-statement sees the same snapshot), the upsert,
    // and a dated change for every status that changed — 转学, 休学, 复学, 辍学, 毕业. A first record that is
    // simply 在籍 is the enrolment itself and needs no change row.
    await tx.$executeRawUnsafe(
      `WITH v AS (
         SELECT * FROM unnest($3::uuid[], $4::int[], $5::int[], $6::int[], $7::text[], $8::text[], $9::date[])
           AS v(child_id, school_id, class_id, grade, status, region_code, change_date)),
       before AS (
         SELECT r."childId", r.status FROM "RegistryRecord" r JOIN v ON r."childId" = v.child_id
         WHERE r."schoolYear" = $1),
       up AS (
         INSERT INTO "RegistryRecord" ("childId", "schoolYear", "schoolId", "classId", grade, status, "regionCode", "batchId")
         SELECT v.child_id, $1, v.school_id, v.class_id, v.grade, v.status::"RegistryStatus", v.region_code, $2 FROM v
         ON CONFLICT ("childId", "schoolYear") DO UPDATE SET "schoolId" = EXCLUDED."schoolId",
           "classId" = EXCLUDED."classId", grade = EXCLUDED.grade, status = EXCLUDED.status,
           "regionCode" = EXCLUDED."regionCode", "batchId" = EXCLUDED."batchId"
         RETURNING id, "childId", status)
       INSERT INTO "RegistryChange" ("recordId", kind, date)
       SELECT up.id,
         (CASE up.status WHEN 'ENROLLED' THEN 'RESUME' WHEN 'TRANSFERRED' THEN 'TRANSFER' WHEN 'SUSPENDED' THEN 'SUSPEND'
                         WHEN 'DROPPED_OUT' THEN 'DROPOUT' ELSE 'GRADUATE' END)::"RegistryChangeKind",
         v.change_date
       FROM up JOIN v ON v.child_id = up."childId" LEFT JOIN before b ON b."childId" = up."childId"
       WHERE b.status IS DISTINCT FROM up.status AND NOT (b.status IS NULL AND up.status = 'ENROLLED')`,
      year,
      batchId,
      childIds,
      schoolIds,
      classIds,
      part.map((r) => r.registry!.grade),
      part.map((r) => r.registry!.status),
      part.map((r) => r.registry!.school.regionCode),
      part.map((r) => (r.registry!.changeDate ? isoDate(r.registry!.changeDate) : today)),
    );
    await tx.$executeRawUnsafe(
      `WITH v AS (
         SELECT u.*, EXISTS (SELECT 1 FROM "RegistryRecord" r WHERE r."childId" = u.child_id AND r."schoolYear" > $1) AS newer
         FROM unnest($2::uuid[], $3::int[], $4::int[], $5::boolean[]) AS u(child_id, school_id, class_id, present))
       UPDATE "Child" c SET
         "currentSchoolId" = CASE WHEN v.newer THEN c."currentSchoolId" WHEN v.present THEN v.school_id
                                  WHEN c."currentSchoolId" = v.school_id THEN NULL ELSE c."currentSchoolId" END,
         "currentClassId" = CASE WHEN v.newer THEN c."currentClassId" WHEN v.present THEN v.class_id
                                 WHEN c."currentSchoolId" = v.school_id THEN NULL ELSE c."currentClassId" END,
         "updatedAt" = now()
       FROM v WHERE c.id = v.child_id`,
      year,
      childIds,
      schoolIds,
      classIds,
      part.map((r) => r.registry!.status !== 'TRANSFERRED' && r.registry!.status !== 'GRADUATED'),
    );
  }
}
