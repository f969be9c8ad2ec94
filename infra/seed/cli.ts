/**
 * npm run seed:demo [-- --pupils N] [--seed N]
 *
 * Loads the synthetic demo county into an empty app database: DATABASE_URL when set, else the
 * embedded PostgreSQL, started for the command and stopped after. Run it with the system stopped.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { applyMigrations } from '../db/migrate.js';
import { startDatabases } from '../db/postgres.js';
import { createPrisma } from '../db/prisma.js';
import { DEMO_PASSWORD, DemoDataExistsError, type DemoSummary, seedDemo } from './demo.js';
import { demoOptionsSchema } from './generate.js';
import { runCli } from '../run-cli.js';

const log = (m: string) => console.error(m);

function usersTable(s: DemoSummary): string {
  const rows = [
    ['admin', 'ADMIN', '系统管理员 (province 37)', 1],
    ['bureau', 'BUREAU', '县教育局', 1],
    ['justice', 'JUSTICE', '司法局', 1],
    ['police', 'POLICE', '公安局', 1],
    ['policy', 'POLICY', '政策制定', 1],
    ['supervisor', 'SUPERVISOR', '督导室', 1],
    ['town-<town code>', 'TOWN', 'e.g. town-370481001 (荆河街道)', s.usersByRole.TOWN],
    ['school-<school code>', 'SCHOOL', 'e.g. school-3137048101', s.usersByRole.SCHOOL],
    ['teacher-<class id>', 'TEACHER', 'e.g. teacher-1 (head teacher of class 1)', s.usersByRole.TEACHER],
  ] as const;
  const lines = rows.map(
    ([user, role, note, n]) => `  ${user.padEnd(22)}${role.padEnd(12)}${String(n).padStart(6)}  ${note}`,
  );
  return [`  ${'username'.padEnd(22)}${'role'.padEnd(12)}${'count'.padStart(6)}`, ...lines].join('\n');
}

function report(s: DemoSummary, seconds: number): string {
  const n = (x: number) => x.toLocaleString('en');
  return [
    `Demo county 滕州市 loaded in ${seconds.toFixed(1)} s (seed ${s.seed}, school year ${s.year}–${s.year + 1}):`,
    `  regions            ${n(s.regions)} (province, city, county, 21 towns and their villages)`,
    `  schools            ${n(s.schools)} (primary ${s.schoolsByKind.PRIMARY}, middle ${s.schoolsByKind.MIDDLE}, ` +
      `nine-year ${s.schoolsByKind.NINE_YEAR}, special ${s.schoolsByKind.SPECIAL}; ${s.privateSchools} private)`,
    `  classes            ${n(s.classes)}`,
    `  children           ${n(s.children)} (${n(s.guardians)} guardians)`,
    `  registry records   ${n(s.registryRecords)} (dropped out ${s.registryByStatus.DROPPED_OUT}, ` +
      `suspended ${s.registryByStatus.SUSPENDED})`,
    `  department lists   household ${n(s.departmentEntries.HOUSEHOLD)}, poverty ${n(s.departmentEntries.POVERTY)}, ` +
      `disability ${n(s.departmentEntries.DISABILITY)}, welfare ${n(s.departmentEntries.WELFARE)}`,
    `  expected suspects  ${n(s.suspects.total)} (in the household list, no registry record in ${s.year})`,
    `  users              ${n(s.users)}, all with the password ${DEMO_PASSWORD}:`,
    usersTable(s),
  ].join('\n');
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ options: { pupils: { type: 'string' }, seed: { type: 'string' } } }));
  } catch (err) {
    log(`${(err as Error).message}\nusage: npm run seed:demo -- [--pupils N] [--seed N]`);
    return 2;
  }
  const cfg = loadConfig();
  const options = demoOptionsSchema.safeParse({
    pupils: Number(values.pupils ?? cfg.KC_DEMO_PUPILS),
    seed: values.seed === undefined ? undefined : Number(values.seed),
  });
  if (!options.success) {
    log(options.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('\n'));
    return 2;
  }

  const dbs = await startDatabases(cfg, log);
  try {
    const applied = await applyMigrations(dbs.appUrl);
    if (applied.length) log(`Applied migrations: ${applied.join(', ')}`);
    const prisma = createPrisma(dbs.appUrl);
    try {
      const started = performance.now();
      log(`Loading the demo county with ${options.data.pupils.toLocaleString('en')} pupils…`);
      const summary = await seedDemo(prisma, { ...options.data, say: (l) => log(`  ${l}`) });
      console.log(report(summary, (performance.now() - started) / 1000));
      return 0;
    } catch (err) {
      if (!(err instanceof DemoDataExistsError)) throw err;
      const fresh = dbs.embedded
        ? `stop the system and delete ${path.join(cfg.dataDir, 'pg')} ($KC_DATA_DIR/pg; this deletes all its data)`
        : 'drop and re-create the database DATABASE_URL names, or point DATABASE_URL at an empty one';
      log(`${err.message}\nTo start fresh: ${fresh}, then run npm run seed:demo again.`);
      return 1;
    } finally {
      await prisma.$disconnect();
    }
  } finally {
    await dbs.stop();
  }
}

runCli(main, log);
