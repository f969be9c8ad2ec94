/**
 * Loads the synthetic demo county (infra/seed/generate.ts) into an empty app database: regions,
 * schools, classes, children with guardians, this year's registers and department lists, and one
 * user per role, town, school and class. Used by `npm run seed:demo` and by `npm start` on an empty
 * database in local mode.
 */
import { createHash } from 'node:crypto';
import type { Prisma, PrismaClient } from '../../generated/prisma/client.js';
import { hashPassword } from '../../api/auth/password.js';
import {
  addToSummary,
  type DemoOptions,
  type DemoSummary,
  demoUsers,
  generatePupils,
  LIST_KINDS,
  type ListEntry,
  type ListKind,
  planCounty,
  startSummary,
} from './generate.js';
import { type Columns, insertRows } from './bulk.js';
import { COUNTY } from './names.js';

export type { DemoSummary } from './generate.js';

/** The password of every demo user (documented in the README; demo data only). */
export const DEMO_PASSWORD = 'Kongchuo@2026';

/** Rows per INSERT: large enough to be fast, small enough for PostgreSQL's 65,535 bind parameters per table. */
const BATCH = 5000;

export class DemoDataExistsError extends Error {}

const LIST_FILES: Record<ListKind, string> = {
  HOUSEHOLD: '公安-户籍适龄儿童',
  POVERTY: '扶贫-建档立卡儿童',
  DISABILITY: '残联-残疾儿童',
  WELFARE: '民政-孤儿及困境儿童',
};

const CLASS: Columns<Prisma.SchoolClassCreateManyInput> = [
  ['id', 'int'],
  ['schoolId', 'int'],
  ['schoolYear', 'int'],
  ['grade', 'int'],
  ['name', 'text'],
  ['headTeacher', 'text'],
  ['regionCode', 'text'],
];
const USER: Columns<Prisma.UserCreateManyInput> = [
  ['username', 'text'],
  ['displayName', 'text'],
  ['passwordHash', 'text'],
  ['role', '"Role"'],
  ['regionId', 'int'],
  ['regionCode', 'text'],
  ['schoolId', 'int'],
  ['classId', 'int'],
];
const CHILD: Columns<Prisma.ChildCreateManyInput> = [
  ['id', 'uuid'],
  ['idNumber', 'text'],
  ['name', 'text'],
  ['gender', '"Gender"'],
  ['birthDate', 'date'],
  ['studentNumber', 'text'],
  ['householdRegionId', 'int'],
  ['householdAddress', 'text'],
  ['residenceAddress', 'text'],
  ['regionCode', 'text'],
  ['flags', '"VulnerabilityFlag"[]'],
  ['currentSchoolId', 'int'],
  ['currentClassId', 'int'],
];
const GUARDIAN: Columns<Prisma.GuardianCreateManyInput> = [
  ['childId', 'uuid'],
  ['name', 'text'],
  ['relation', 'text'],
  ['phone', 'text'],
];
const REGISTRY: Columns<Prisma.RegistryRecordCreateManyInput> = [
  ['id', 'int'],
  ['childId', 'uuid'],
  ['schoolYear', 'int'],
  ['schoolId', 'int'],
  ['classId', 'int'],
  ['grade', 'int'],
  ['status', '"RegistryStatus"'],
  ['regionCode', 'text'],
];
const CHANGE: Columns<Prisma.RegistryChangeCreateManyInput> = [
  ['recordId', 'int'],
  ['kind', '"RegistryChangeKind"'],
  ['date', 'date'],
  ['note', 'text'],
];
const ENTRY: Columns<Prisma.DepartmentListEntryCreateManyInput> = [
  ['batchId', 'int'],
  ['lineNumber', 'int'],
  ['kind', '"ImportKind"'],
  ['year', 'int'],
  ['childId', 'uuid'],
  ['regionCode', 'text'],
  ['category', 'text'],
];

/** Tables whose ids the generator assigns (other rows refer to them); their sequences move past them. */
const TABLES_WITH_GIVEN_IDS = ['Region', 'School', 'SchoolClass', 'RegistryRecord'];

function* chunks<T>(rows: T[]): Generator<T[]> {
  for (let i = 0; i < rows.length; i += BATCH) yield rows.slice(i, i + BATCH);
}

export async function seedDemo(
  prisma: PrismaClient,
  opts: DemoOptions & { say?: (line: string) => void } = {},
): Promise<DemoSummary> {
  const say = opts.say ?? (() => {});
  const plan = planCounty(opts);
  const users = demoUsers(plan);
  const summary = startSummary(plan, users);
  // One hash for every demo user: scrypt per user would cost minutes, and they share the password anyway.
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  const expected = plan.pupils + plan.suspects;

  await prisma.$transaction(
    async (tx) => {
      // npm start and npm run seed:demo at once: the second waits here, then finds the data and refuses.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('kongchuo:demo-data'))`;
      const [regions, children, batches] = [
        await tx.region.count(),
        await tx.child.count(),
        await tx.importBatch.count(),
      ];
      if (regions + children + batches > 0) {
        throw new DemoDataExistsError(
          `The app database already holds data (${regions} regions, ${children} children, ` +
            `${batches} import batches); demo data is only loaded into an empty database.`,
        );
      }

      await tx.region.createMany({ data: plan.regions });
      await tx.school.createMany({ data: plan.schools.map(({ classes, ...school }) => school) });
      const classes = plan.schools.flatMap((s) =>
        s.classes.map(({ pupils, ...cls }) => ({ ...cls, schoolYear: plan.year })),
      );
      for (const rows of chunks(classes)) await insertRows(tx, 'SchoolClass', CLASS, rows);
      for (const rows of chunks(users)) {
        const data = rows.map((u): Prisma.UserCreateManyInput => ({ ...u, passwordHash }));
        await insertRows(tx, 'User', USER, data, true);
      }
      say(
        `${plan.regions.length} regions, ${plan.schools.length} schools, ${classes.length} classes, ${users.length} users`,
      );

      const bureau = await tx.user.findUniqueOrThrow({ where: { username: 'bureau' }, select: { id: true } });
      const batchIds = {} as Record<ListKind, number>;
      for (const kind of LIST_KINDS) {
        const batch = await tx.importBatch.create({
          data: {
            kind,
            regionCode: COUNTY.code,
            year: plan.year,
            fileName: `${LIST_FILES[kind]}-${plan.year}.csv`,
            sha256: createHash('sha256').update(`demo:${plan.seed}:${plan.pupils}:${kind}:${plan.year}`).digest('hex'),
            rowCount: 0,
            importedBy: bureau.id,
            // Departments deliver their lists by 30 June ([T] 二(一)).
            importedAt: new Date(Date.UTC(plan.year, 5, 28, 1)),
          },
        });
        batchIds[kind] = batch.id;
      }

      const pending = {
        children: [] as Prisma.ChildCreateManyInput[],
        guardians: [] as Prisma.GuardianCreateManyInput[],
        registry: [] as Prisma.RegistryRecordCreateManyInput[],
        changes: [] as Prisma.RegistryChangeCreateManyInput[],
        entries: [] as ListEntry[],
      };
      // Parents before the rows that refer to them.
      const flush = async () => {
        for (const rows of chunks(pending.children)) await insertRows(tx, 'Child', CHILD, rows, true);
        for (const rows of chunks(pending.guardians)) await insertRows(tx, 'Guardian', GUARDIAN, rows);
        for (const rows of chunks(pending.registry)) await insertRows(tx, 'RegistryRecord', REGISTRY, rows);
        for (const rows of chunks(pending.changes)) await insertRows(tx, 'RegistryChange', CHANGE, rows);
        for (const rows of chunks(pending.entries)) {
          const entries: Prisma.DepartmentListEntryCreateManyInput[] = rows.map((e) => ({
            ...e,
            batchId: batchIds[e.kind],
          }));
          await insertRows(tx, 'DepartmentListEntry', ENTRY, entries);
        }
        for (const rows of Object.values(pending)) rows.length = 0;
      };
      let reported = 0;
      for (const group of generatePupils(plan)) {
        addToSummary(summary, group);
        // A loop, not push(...rows): a big school's rows would overflow the argument stack.
        for (const key of Object.keys(pending) as (keyof typeof pending)[]) {
          for (const row of group[key]) (pending[key] as unknown[]).push(row);
        }
        if (pending.children.length >= BATCH) await flush();
        if (summary.children - reported >= expected / 10) {
          reported = summary.children;
          say(`children ${summary.children.toLocaleString('en')} / ${expected.toLocaleString('en')}`);
        }
      }
      await flush();

      for (const kind of LIST_KINDS) {
        await tx.importBatch.update({
          where: { id: batchIds[kind] },
          data: { rowCount: summary.departmentEntries[kind] },
        });
      }
      for (const table of TABLES_WITH_GIVEN_IDS) {
        await tx.$executeRawUnsafe(
          `SELECT setval(pg_get_serial_sequence('"${table}"', 'id'), (SELECT max(id) FROM "${table}"))`,
        );
      }
    },
    // Measured ~0.2 ms per pupil on a 2-core machine; ten times that leaves room for slow disks.
    { timeout: 120_000 + plan.pupils * 2, maxWait: 30_000 },
  );
  return summary;
}
