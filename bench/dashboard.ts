/**
 * node --import tsx bench/dashboard.ts — the 督导看板 (GET /api/supervision/dashboard, issue 18) at a
 * county's scale. On a scratch embedded PostgreSQL: the demo county of 110,000 pupils (infra/seed/demo.ts),
 * then, straight into the tables, what years of use leave behind —
 * - the registers of thirteen school years (2014–2026: every pupil's earlier grades, and an older copy of
 *   each pupil nine years ahead for the cohorts that have left), with moves between towns and across the
 *   county's border, leavers to registers we do not hold, dropouts and graduates — so each of the five
 *   trend years has its whole cohort path for 巩固率;
 * - the base database (household lists) of 2022–2025 beside the demo's 2026 lists, for 入学率;
 * - 40,000 dropout cases over five years, 12,000 of them open, across the towns;
 * - a verification campaign a year (2022–2026) with ~2 % of the county's children suspected, some in a
 *   second round, this year's partly verified;
 * - a whole-class handover a year (every grade-6 class), this year's still registering;
 * - in the engine's database 250,000 user tasks, a quarter of them open, at classes, schools, towns and
 *   the county's justice bureau (what "overdue tasks by town" reads).
 * The engine's clock comes from the engine's own management server (engine/src/gateway/management.ts)
 * on the slot's port: the dashboard's default `asOf` reads it as in production.
 *
 * Timed (median of RUNS after one warm-up), beside a reference in the same run (plain counts over the
 * cases and the registers): each part of the dashboard alone (api/routes/supervision.ts createDashboard),
 * the whole answer through the data layer — the first request, which counts the 巩固率/入学率 trend, and
 * the later ones, which find it in memory — and the route through fastify (inject: auth, validation,
 * serialisation) as the bureau and as the city's supervisor; and the open tasks per town as they were
 * counted before (BEFORE), whose figures must equal the new statement's. Every statement of each part over
 * 5 ms is EXPLAIN ANALYZEd (auto_explain). Writes bench/results-dashboard.json; exits 1 on a mismatch.
 *
 * KC_BENCH_DASHBOARD_SLOT (default 13) picks the ports (infra/ports.ts); the data directory is
 * /tmp/kc-dash-bench (wiped at start unless KC_BENCH_DASHBOARD_REUSE=1).
 */
import fs from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { buildApp } from '../api/app.js';
import { openSessions, toActor } from '../api/auth/sessions.js';
import { retentionReportOf } from '../api/reports/retention.js';
import { groupsWithin } from '../api/tasks/access.js';
import { createDashboard } from '../api/routes/supervision.js';
import { EngineClock } from '../engine/src/clock.js';
import type { EngineApi } from '../engine/src/api.js';
import { migrate } from '../engine/src/db/schema.js';
import { startManagement } from '../engine/src/gateway/management.js';
import { createEngineClient } from '../infra/camunda/client.js';
import { createHeatmaps } from '../infra/camunda/heatmap.js';
import { createEngineRecords } from '../infra/camunda/records.js';
import { loadConfig, REPO_ROOT } from '../infra/config.js';
import { applyMigrations } from '../infra/db/migrate.js';
import { startDatabases } from '../infra/db/postgres.js';
import { createPrisma, sqlPool } from '../infra/db/prisma.js';
import { slotPorts } from '../infra/ports.js';
import { seedDemo } from '../infra/seed/demo.js';

const PUPILS = Number(process.env.KC_BENCH_DASHBOARD_PUPILS ?? 110_000);
const COUNTY = '370481';
/** The demo's school year; the history goes back to FIRST_YEAR (the 2022 cohort's grade 1). */
const YEAR = 2026;
const FIRST_YEAR = 2014;
const TREND_FROM = 2022;
const CASES = 40_000;
const OPEN_CASES = 12_000;
const USER_TASKS = 250_000;
const RUNS = 5;
const DATA_DIR = '/tmp/kc-dash-bench';
const say = (line: string) => process.stderr.write(`${line}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A seeding step done once per data directory (KC_BENCH_DASHBOARD_REUSE=1 resumes after the last done). */
async function stage(db: pg.Pool, name: string, run: () => Promise<unknown>) {
  await db.query(`CREATE TABLE IF NOT EXISTS bench_stage (name text PRIMARY KEY)`);
  if ((await db.query(`SELECT 1 FROM bench_stage WHERE name = $1`, [name])).rowCount) return;
  const t = performance.now();
  await run();
  await db.query(`INSERT INTO bench_stage VALUES ($1)`, [name]);
  say(`  ${name}: ${Math.round(performance.now() - t)} ms`);
}

/** Years of use, written straight into the app database (see the header). */
async function seedHistory(db: pg.Pool) {
  const { rows: towns } = await db.query<{ code: string }>(
    `SELECT code FROM "Region" WHERE level = 'TOWN' AND starts_with(code, $1) ORDER BY code`,
    [COUNTY],
  );
  const townCodes = towns.map((t) => t.code);
  // Where an earlier or later year of a moving child is: another town of the county, or a county beside it.
  // (`later`: also the moves after grade 5–8, for the cohorts whose later years are past.)
  const moved = (h: string, g: string, region: string, later: boolean) => `CASE
      WHEN ${h} % 40 = 0 AND ${g} < 2 + ${h} % 7 THEN ($1::text[])[1 + (${h} / 40) % cardinality($1::text[])]
      WHEN ${h} % 150 = 1 AND ${g} < 2 + ${h} % 7 THEN '370482' || substr(${region}, 7)
      WHEN ${later} AND ${h} % 61 = 9 AND ${g} > 4 + ${h} % 4 THEN ($1::text[])[1 + (${h} / 61) % cardinality($1::text[])]
      WHEN ${later} AND ${h} % 97 = 11 AND ${g} > 4 + ${h} % 4 THEN '370482' || substr(${region}, 7)
      ELSE ${region} END`;
  // Every current pupil's earlier grades (their later years are still to come).
  await stage(db, "current pupils' earlier years", () =>
    db.query(
      `INSERT INTO "RegistryRecord" ("childId", "schoolYear", "schoolId", grade, status, "regionCode")
     SELECT r."childId", r."schoolYear" - k, r."schoolId", r.grade - k, 'ENROLLED',
            ${moved('x.h', 'r.grade - k', 'r."regionCode"', false)}
       FROM "RegistryRecord" r
      CROSS JOIN LATERAL (SELECT abs(hashtext(r."childId"::text)) AS h) x
      CROSS JOIN LATERAL generate_series(1, r.grade - 1) k
      WHERE r."schoolYear" = $2 AND starts_with(r."regionCode", $3) AND r.grade BETWEEN 2 AND 9 AND r."schoolYear" - k >= $4`,
      [townCodes, YEAR, COUNTY, FIRST_YEAR],
    ),
  );
  // The cohorts that have left: a copy of each pupil nine years older, with its own child row.
  await stage(db, 'older cohorts (children and registers)', async () => {
    await db.query(`DROP TABLE IF EXISTS bench_clone`);
    await db.query(
      `CREATE TABLE bench_clone AS
     SELECT gen_random_uuid() AS id, r."childId" AS src, r.grade AS g, r."schoolId" AS school, r."regionCode" AS region,
            abs(hashtext(r."childId"::text || ':older')) AS h
       FROM "RegistryRecord" r WHERE r."schoolYear" = $1 AND starts_with(r."regionCode", $2)`,
      [YEAR, COUNTY],
    );
    await db.query(
      `INSERT INTO "Child" (id, "idNumber", name, gender, "birthDate", "regionCode", flags, "updatedAt")
     SELECT b.id, 'H' || c."idNumber", c.name, c.gender, (c."birthDate" - interval '9 years')::date, c."regionCode", '{}', now()
       FROM bench_clone b JOIN "Child" c ON c.id = b.src`,
    );
    // Grade in school year t: g + 9 − (YEAR − t). Dropouts vanish after grade 3 + h % 6; leavers to a
    // register we do not hold are TRANSFERRED there; grade 9 of a finished year is GRADUATED.
    await db.query(
      `INSERT INTO "RegistryRecord" ("childId", "schoolYear", "schoolId", grade, status, "regionCode")
     SELECT b.id, t, b.school, b.g + t - ($2 - 9),
            (CASE WHEN b.h % 53 = 7 AND b.g + t - ($2 - 9) = 3 + b.h % 6 THEN 'TRANSFERRED'
                  WHEN b.g + t - ($2 - 9) = 9 THEN 'GRADUATED' ELSE 'ENROLLED' END)::"RegistryStatus",
            ${moved('b.h', 'b.g + t - ($2 - 9)', 'b.region', true)}
       FROM bench_clone b CROSS JOIN generate_series($3::int, $2::int - 1) t
      WHERE b.g + t - ($2 - 9) BETWEEN 1 AND 9
        AND NOT (b.h % 37 = 5 AND b.g + t - ($2 - 9) > 3 + b.h % 6)
        AND NOT (b.h % 53 = 7 AND b.g + t - ($2 - 9) > 3 + b.h % 6)`,
      [townCodes, YEAR, FIRST_YEAR],
    );
  });
  // The base database of each earlier trend year: the county's children of 5–16 on 31 August.
  await stage(db, `base databases ${TREND_FROM}–${YEAR - 1}`, async () => {
    const { rows: bureau } = await db.query<{ id: number }>(`SELECT id FROM "User" WHERE username = 'bureau'`);
    for (let y = TREND_FROM; y < YEAR; y++) {
      const { rows } = await db.query<{ id: number }>(
        `INSERT INTO "ImportBatch" (kind, "regionCode", year, "fileName", sha256, "rowCount", "importedBy", "importedAt")
       VALUES ('HOUSEHOLD', $1, $2::int, '公安-户籍适龄儿童-' || $2::text || '.csv', md5('bench:' || $2::text) || md5('household:' || $2::text),
               0, $3, make_timestamptz($2::int, 6, 28, 9, 0, 0, 'Asia/Shanghai'))
       RETURNING id`,
        [COUNTY, y, bureau[0]!.id],
      );
      const batch = rows[0]!.id;
      const n = await db.query(
        `INSERT INTO "DepartmentListEntry" ("batchId", "lineNumber", kind, year, "childId", "regionCode")
       SELECT $1, row_number() OVER (ORDER BY c.id), 'HOUSEHOLD', $2, c.id, c."regionCode"
         FROM "Child" c
        WHERE starts_with(c."regionCode", $3)
          AND c."birthDate" BETWEEN make_date($2::int - 17, 9, 1) AND make_date($2::int - 5, 8, 31)`,
        [batch, y, COUNTY],
      );
      await db.query(`UPDATE "ImportBatch" SET "rowCount" = $2 WHERE id = $1`, [batch, n.rowCount]);
    }
  });

  // Dropout cases: this year's open ones at every stage; closed ones spread over five years.
  await stage(db, 'dropout cases', () =>
    db.query(
      `INSERT INTO "DropoutCase" (id, "childId", "schoolId", "classId", "regionCode", "childRegionCode", "lastAttendance",
                                reason, status, "processInstanceKey", "openedAt", "closedAt")
     SELECT gen_random_uuid(), p."childId", p."schoolId", p."classId", p."regionCode", p.child_region,
            make_date(p."schoolYear", 10, 1), '基准测试（合成）',
            (CASE WHEN p.open THEN (ARRAY['OPEN', 'OPEN', 'OPEN', 'OPEN', 'SCHOOL_CONFIRMED', 'SCHOOL_CONFIRMED', 'TOWN_ORDERED',
                                          'TOWN_ORDERED', 'URGED', 'LEGAL_NOTICE'])[1 + p.n % 10]
                  ELSE (ARRAY['CLOSED', 'RETURNED', 'REFERRED'])[1 + p.n % 3] END)::"CaseStatus",
            'bench-case-' || p.open || '-' || p.n,
            make_timestamptz(p."schoolYear", 10, 8, 9, 0, 0, 'Asia/Shanghai') + (p.n % 50) * interval '1 day',
            CASE WHEN NOT p.open THEN make_timestamptz(p."schoolYear", 12, 20, 9, 0, 0, 'Asia/Shanghai') END
       FROM (
         (SELECT r.*, c."regionCode" AS child_region, true AS open, row_number() OVER (ORDER BY abs(hashtext(r.id::text))) AS n
            FROM "RegistryRecord" r JOIN "Child" c ON c.id = r."childId"
           WHERE r."schoolYear" = $4 AND starts_with(r."regionCode", $3) AND r.grade >= 3
           ORDER BY n LIMIT $2)
         UNION ALL
         (SELECT r.*, c."regionCode", false, row_number() OVER (ORDER BY abs(hashtext(r.id::text || ':closed'))) AS n
            FROM "RegistryRecord" r JOIN "Child" c ON c.id = r."childId"
           WHERE r."schoolYear" BETWEEN $4 - 4 AND $4 AND starts_with(r."regionCode", $3) AND r.grade >= 3
           ORDER BY n LIMIT $1 - $2)) p`,
      [CASES, OPEN_CASES, COUNTY, YEAR],
    ),
  );

  // A verification campaign a year: ~2 % of the county's children of age suspected, 15 % in a second round.
  await stage(db, 'campaigns', async () => {
    for (let y = TREND_FROM; y <= YEAR; y++) {
      const { rows } = await db.query<{ id: number }>(
        `INSERT INTO "Campaign" ("regionCode", year, status, "createdAt", "reportedAt")
       VALUES ($1, $2::int, $3::"CampaignStatus", make_timestamptz($2::int, 7, 1, 9, 0, 0, 'Asia/Shanghai'),
               CASE WHEN $3 = 'REPORTED' THEN make_timestamptz($2::int, 10, 30, 9, 0, 0, 'Asia/Shanghai') END)
       RETURNING id`,
        [COUNTY, y, y < YEAR ? 'REPORTED' : 'VERIFYING'],
      );
      await db.query(
        `WITH s AS (
         SELECT c.id, c."regionCode", abs(hashtext(c.id::text || $2::text)) AS h FROM "Child" c
          WHERE starts_with(c."regionCode", $3)
            AND c."birthDate" BETWEEN make_date($2::int - 15, 9, 1) AND make_date($2::int - 6, 8, 31))
       INSERT INTO "SuspectedChild" ("campaignId", "childId", "regionCode", round, "outcomeCode", "verifiedAt")
       SELECT $1, s.id, s."regionCode", r.round,
              CASE WHEN $2::int < $4::int OR (s.h / 50) % 10 < 6 OR r.round = 1 AND (s.h / 50) % 20 < 3
                   THEN (ARRAY['A', 'B', 'C', 'D', 'E', 'G', 'I', 'L'])[1 + (s.h / 50) % 8] END,
              CASE WHEN $2::int < $4::int OR (s.h / 50) % 10 < 6 THEN make_timestamptz($2::int, 9, 20, 9, 0, 0, 'Asia/Shanghai') END
         FROM s CROSS JOIN LATERAL generate_series(1, CASE WHEN (s.h / 50) % 20 < 3 THEN 2 ELSE 1 END) r(round)
        WHERE s.h % 50 = 0`,
        [rows[0]!.id, y, COUNTY, YEAR],
      );
    }
  });

  // A whole-class handover a year: every grade-6 class to a middle school of its town (or the county's first).
  await stage(db, 'handovers', async () => {
    for (let y = TREND_FROM; y <= YEAR; y++) {
      const { rows } = await db.query<{ id: number }>(
        `INSERT INTO "HandoverBatch" ("regionCode", year, status, "approvedAt", "clearedAt", "createdAt")
       VALUES ($1, $2::int, $3::"HandoverStatus", make_timestamptz($2::int, 6, 20, 9, 0, 0, 'Asia/Shanghai'),
               CASE WHEN $3 = 'CLEARED' THEN make_timestamptz($2::int, 10, 15, 9, 0, 0, 'Asia/Shanghai') END,
               make_timestamptz($2::int, 6, 1, 9, 0, 0, 'Asia/Shanghai'))
       RETURNING id`,
        [COUNTY, y, y < YEAR ? 'CLEARED' : 'REGISTERING'],
      );
      await db.query(
        `INSERT INTO "HandoverAssignment" ("batchId", "fromClassId", "toSchoolId", "regionCode")
       SELECT $1, k.id, COALESCE(
                (SELECT m.id FROM "School" m WHERE m.kind IN ('MIDDLE', 'NINE_YEAR') AND m."regionCode" = s."regionCode" ORDER BY m.id LIMIT 1),
                (SELECT m.id FROM "School" m WHERE m.kind = 'MIDDLE' AND starts_with(m."regionCode", $2) ORDER BY m.id LIMIT 1)),
              s."regionCode"
         FROM "SchoolClass" k JOIN "School" s ON s.id = k."schoolId"
        WHERE k.grade = 6 AND starts_with(s."regionCode", $2)`,
        [rows[0]!.id, COUNTY],
      );
      await db.query(
        `INSERT INTO "HandoverPupil" ("assignmentId", "childId", status, "registeredAt", "recordMatched")
       SELECT a.id, r."childId", p.status::"HandoverPupilStatus",
              CASE WHEN p.status = 'REGISTERED' THEN make_timestamptz($2::int, 9, 5, 9, 0, 0, 'Asia/Shanghai') END,
              p.status = 'REGISTERED'
         FROM "HandoverAssignment" a JOIN "RegistryRecord" r ON r."classId" = a."fromClassId" AND r."schoolYear" = $3::int
        CROSS JOIN LATERAL (SELECT CASE
                WHEN $2::int < $3::int THEN (CASE WHEN abs(hashtext(r."childId"::text)) % 40 = 0 THEN 'TRANSFER_FOUND' ELSE 'REGISTERED' END)
                ELSE (ARRAY['REGISTERED', 'REGISTERED', 'REGISTERED', 'REGISTERED', 'REGISTERED', 'REGISTERED', 'REGISTERED',
                            'PENDING', 'NO_SHOW', 'MOVED'])[1 + abs(hashtext(r."childId"::text)) % 10] END AS status) p
        WHERE a."batchId" = $1`,
        [rows[0]!.id, y, YEAR],
      );
    }
  });
}

/** User tasks of the escalation in the engine's table, at the county's classes, schools, towns and justice. */
async function seedEngine(engineDb: pg.Pool, appDb: pg.Pool) {
  const [classes, schools, towns] = await Promise.all([
    appDb.query<{ id: number }>(
      `SELECT k.id FROM "SchoolClass" k JOIN "School" s ON s.id = k."schoolId" WHERE starts_with(s."regionCode", $1)`,
      [COUNTY],
    ),
    appDb.query<{ id: number }>(`SELECT id FROM "School" WHERE starts_with("regionCode", $1)`, [COUNTY]),
    appDb.query<{ code: string }>(`SELECT code FROM "Region" WHERE level = 'TOWN' AND starts_with(code, $1)`, [COUNTY]),
  ]);
  // One open in four; due dates from 20 days past to 20 days ahead (about half of the open ones overdue).
  await engineDb.query(
    `INSERT INTO engine_user_task (key, element_instance_key, process_instance_key, process_definition_key, bpmn_process_id,
       version, element_id, state, candidate_groups, due_date, creation_date, completion_date, tenant_id)
     SELECT i * 10 + 1, i * 10, i * 100, 1, 'dropout-escalation', 1, g.element, CASE WHEN i % 4 = 0 THEN 'CREATED' ELSE 'COMPLETED' END,
            ARRAY[g.grp], now() + ((i % 41) - 20) * interval '1 day', now() - (i % 300) * interval '1 day',
            CASE WHEN i % 4 <> 0 THEN now() - (i % 300) * interval '1 day' + interval '3 days' END, '<default>'
       FROM generate_series(1, $1::int) i
      CROSS JOIN LATERAL (SELECT CASE
          WHEN i % 10 < 4 THEN 'visitFamily' WHEN i % 10 < 7 THEN 'confirmDropoutBySchool'
          WHEN i % 10 < 9 THEN 'orderCorrectionByTown' ELSE 'issueJudicialNotice' END AS element,
        CASE
          WHEN i % 10 < 4 THEN 'class:' || ($2::int[])[1 + (i / 10) % cardinality($2::int[])]
          WHEN i % 10 < 7 THEN 'school:' || ($3::int[])[1 + (i / 10) % cardinality($3::int[])]
          WHEN i % 10 < 9 THEN 'town:' || ($4::text[])[1 + (i / 10) % cardinality($4::text[])]
          ELSE 'justice:' || $5 END AS grp) g`,
    [USER_TASKS, classes.rows.map((r) => r.id), schools.rows.map((r) => r.id), towns.rows.map((r) => r.code), COUNTY],
  );
}

/**
 * The dashboard's open tasks per town as they were counted before this benchmark (commit 3cd64c6), to time
 * them in the same run and to check that the new statement gives the same figures: per group through
 * infra/camunda/heatmap.ts overdueByGroup (every open task's groups tested against all the region's).
 */
const BEFORE = {
  /** Open and overdue tasks per town as the dashboard counted them: per group, then summed by town. */
  async tasksByTown(engineDb: pg.Pool, appDb: pg.Pool, prisma: ReturnType<typeof createPrisma>, region: string) {
    const groups = await groupsWithin(prisma, region);
    const { rows: places } = await appDb.query<{ grp: string; town: string }>(
      `SELECT 'school:' || id AS grp, left("regionCode", 9) AS town FROM "School" WHERE starts_with("regionCode", $1)
       UNION ALL
       SELECT 'class:' || k.id, left(s."regionCode", 9) FROM "SchoolClass" k JOIN "School" s ON s.id = k."schoolId"
        WHERE starts_with(s."regionCode", $1)`,
      [region],
    );
    const townOfGroup = new Map(places.map((p) => [p.grp, p.town]));
    return async (asOf: Date) => {
      const counts = await createHeatmaps(engineDb).overdueByGroup(groups, asOf);
      const byTown = new Map<string, { townCode: string; open: number; overdue: number }>();
      for (const row of counts) {
        const [kind, id = ''] = row.grp.split(':');
        const townCode = kind === 'town' ? id : (townOfGroup.get(row.grp) ?? region);
        const t = byTown.get(townCode) ?? { townCode, open: 0, overdue: 0 };
        t.open += row.open;
        t.overdue += row.overdue;
        byTown.set(townCode, t);
      }
      return [...byTown.values()].sort((a, b) => a.townCode.localeCompare(b.townCode));
    };
  },
};

/**
 * The same database, each session EXPLAIN ANALYZEing every statement that takes over `minMs` (auto_explain)
 * and sending the plan back as a NOTICE: the plans of prisma's statements too, exactly as they ran.
 */
function explaining(url: string, minMs: number): string {
  const u = new URL(url);
  u.searchParams.set(
    'options',
    `-c session_preload_libraries=auto_explain -c auto_explain.log_min_duration=${minMs} -c auto_explain.log_analyze=on ` +
      `-c auto_explain.log_buffers=on -c auto_explain.log_level=notice`,
  );
  return u.toString();
}

async function main() {
  const reuse = process.env.KC_BENCH_DASHBOARD_REUSE === '1' && fs.existsSync(DATA_DIR);
  if (!reuse) fs.rmSync(DATA_DIR, { recursive: true, force: true });
  const slot = Number(process.env.KC_BENCH_DASHBOARD_SLOT ?? 13);
  const cfg = loadConfig({ ...process.env, KC_MODE: 'local', KC_DATA_DIR: DATA_DIR, ...slotPorts(slot) });
  const dbs = await startDatabases(cfg, (m) => say(`  [db] ${m}`));
  const appDb = new pg.Pool({ connectionString: dbs.appUrl, max: 4 });
  const engineDb = new pg.Pool({ connectionString: dbs.engineUrl, max: 4 });
  const prisma = createPrisma(dbs.appUrl);
  const results: Record<string, unknown> = { pupils: PUPILS, runs: RUNS, at: new Date().toISOString() };
  const closers: (() => Promise<unknown>)[] = [];
  try {
    await applyMigrations(dbs.appUrl);
    const client = await engineDb.connect();
    await migrate(client);
    client.release();
    let t = Date.now();
    if (!(await appDb.query(`SELECT 1 FROM "Region" LIMIT 1`)).rowCount) {
      await seedDemo(prisma, { pupils: PUPILS, year: YEAR, say: (l) => say(`  [demo] ${l}`) });
      say(`• demo county of ${PUPILS} pupils in ${(Date.now() - t) / 1000} s`);
    }
    await seedHistory(appDb);
    await stage(appDb, 'engine user tasks', () => seedEngine(engineDb, appDb));
    await stage(appDb, 'vacuum analyze', () =>
      Promise.all([appDb.query('VACUUM ANALYZE'), engineDb.query('VACUUM ANALYZE')]),
    );
    results.generateSeconds = (Date.now() - t) / 1000;
    const { rows: sizes } = await appDb.query<Record<string, number>>(
      `SELECT (SELECT count(*) FROM "Child")::int AS children,
              (SELECT count(*) FROM "RegistryRecord")::int AS "registryRecords",
              (SELECT count(DISTINCT "schoolYear") FROM "RegistryRecord")::int AS "schoolYears",
              (SELECT count(*) FROM "DepartmentListEntry")::int AS "baseListEntries",
              (SELECT count(*) FROM "DropoutCase")::int AS cases,
              (SELECT count(*) FROM "DropoutCase" WHERE status IN ('OPEN', 'SCHOOL_CONFIRMED', 'TOWN_ORDERED', 'URGED', 'LEGAL_NOTICE'))::int AS "openCases",
              (SELECT count(*) FROM "Campaign")::int AS campaigns,
              (SELECT count(*) FROM "SuspectedChild")::int AS "suspectRows",
              (SELECT count(*) FROM "HandoverBatch")::int AS handovers,
              (SELECT count(*) FROM "HandoverPupil")::int AS "handoverPupils",
              (SELECT count(*) FROM "SchoolClass")::int AS classes`,
    );
    const { rows: engineSizes } = await engineDb.query<{ tasks: number; open: number }>(
      `SELECT count(*)::int AS tasks, (count(*) FILTER (WHERE state = 'CREATED'))::int AS open FROM engine_user_task`,
    );
    results.rows = { ...sizes[0], userTasks: engineSizes[0]!.tasks, openUserTasks: engineSizes[0]!.open };
    say(`• rows ${JSON.stringify(results.rows)} (${results.generateSeconds} s)`);

    // The engine's management server with its wall clock, on the slot's port, as the API reads it.
    const management = await startManagement(
      {
        clock: new EngineClock(false),
        health: async () => ({ ready: true }),
        metrics: async () => '',
      } as unknown as EngineApi,
      { host: '127.0.0.1', port: cfg.ENGINE_MANAGEMENT_PORT, log: () => {} },
    );
    closers.push(() => management.close());
    const engine = createEngineClient(cfg);
    closers.push(() => engine.close());
    const records = createEngineRecords(dbs.engineUrl);
    closers.push(() => records.close());
    const app = await buildApp({ prisma, engine, records, logger: pino({ level: 'silent' }) });
    closers.push(() => app.close());
    await app.ready();

    const users = await prisma.user.findMany({ where: { username: { in: ['bureau', 'supervisor'] } } });
    const tokens = await openSessions(
      prisma,
      users.map((u) => u.id),
    );
    const bureau = users.find((u) => u.username === 'bureau')!;
    const supervisor = users.find((u) => u.username === 'supervisor')!;
    const actor = toActor(bureau);

    const dash = createDashboard(prisma, engineDb);
    const asOf = new Date();
    const region = COUNTY;
    const today = new Date(asOf.getTime() + 8 * 3_600_000).toISOString().slice(0, 10);
    const inject = (user: typeof bureau) => async () => {
      const res = await app.inject({
        method: 'GET',
        url: `/api/supervision/dashboard?county=${COUNTY}`,
        headers: { authorization: `Bearer ${tokens.get(user.id)!}` },
      });
      if (res.statusCode !== 200) throw new Error(`dashboard answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
      return res.json() as unknown;
    };
    const parts = (d: typeof dash, db: typeof prisma): [string, () => Promise<unknown>][] => [
      ['part: towns', () => d.towns(region)],
      ['part: open cases by stage and town', () => d.openCases(actor, region)],
      ['part: open and overdue tasks by town', () => d.tasksByTown(region, COUNTY, asOf)],
      ['part: verification toward 31 October', () => d.verification(actor, region, today)],
      ['part: handover 清零', () => d.handover(actor, region)],
      [
        `part: retention + enrollment of ${YEAR} alone`,
        () => retentionReportOf(db, COUNTY, region, YEAR, { minAge: 6, maxAge: 14 }),
      ],
      ['part: 巩固率/入学率 trend, counted (5 years; before: every request)', () => d.trend(COUNTY, region, YEAR)],
      ['part: 巩固率/入学率 trend from memory (unchanged registers)', () => d.cachedTrend(COUNTY, region, YEAR)],
      ['dashboard, data layer (all parts at once)', () => d.answer(actor, COUNTY, asOf)],
    ];
    const beforeTasks = await BEFORE.tasksByTown(engineDb, appDb, prisma, region);
    const cases: [string, () => Promise<unknown>][] = [
      ['reference: count(*) over the cases', () => appDb.query(`SELECT count(*) FROM "DropoutCase"`)],
      ['reference: count(*) over the registers', () => appDb.query(`SELECT count(*) FROM "RegistryRecord"`)],
      ['engine clock read (GET /actuator/clock)', () => engine.clock()],
      ['before: open and overdue tasks by town (every open task against all groups)', () => beforeTasks(asOf)],
      ...parts(dash, prisma),
      ['GET /api/supervision/dashboard as the bureau', inject(bureau)],
      ['GET /api/supervision/dashboard as the city supervisor', inject(supervisor)],
    ];
    const timings: Record<string, { medianMs: number; minMs: number; maxMs: number }> = {};
    // The first request after the API starts counts the trend (a fresh dashboard: nothing in memory).
    const cold: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      t = performance.now();
      await createDashboard(prisma, engineDb).answer(actor, COUNTY, asOf);
      cold.push(performance.now() - t);
    }
    timings['dashboard, data layer, first request (trend counted)'] = {
      medianMs: Math.round(median(cold) * 10) / 10,
      minMs: Math.round(Math.min(...cold) * 10) / 10,
      maxMs: Math.round(Math.max(...cold) * 10) / 10,
    };
    say(`  first request (trend counted): median ${Math.round(median(cold))} ms`);
    for (const [name, run] of cases) {
      await run(); // warm-up
      const ms: number[] = [];
      for (let r = 0; r < RUNS; r++) {
        t = performance.now();
        await run();
        ms.push(performance.now() - t);
      }
      timings[name] = {
        medianMs: Math.round(median(ms) * 10) / 10,
        minMs: Math.round(Math.min(...ms) * 10) / 10,
        maxMs: Math.round(Math.max(...ms) * 10) / 10,
      };
      say(`  ${name}: median ${timings[name].medianMs} ms (min ${timings[name].minMs}, max ${timings[name].maxMs})`);
    }

    // The plans: each part once more on sessions that EXPLAIN ANALYZE every statement over 5 ms.
    const explainPrisma = createPrisma(explaining(dbs.appUrl, 5));
    closers.push(() => explainPrisma.$disconnect());
    const explainEngine = new pg.Pool({ connectionString: explaining(dbs.engineUrl, 5), max: 4 });
    closers.push(() => explainEngine.end());
    let sink: string[] = [];
    for (const pool of [sqlPool(explainPrisma), explainEngine])
      pool.on('connect', (c) => c.on('notice', (n) => sink.push(n.message ?? '')));
    const plans: Record<string, string[]> = {};
    sink = [];
    await (
      await BEFORE.tasksByTown(explainEngine, appDb, explainPrisma, region)
    )(asOf);
    plans['before: open and overdue tasks by town'] = sink;
    for (const [name, run] of parts(createDashboard(explainPrisma, explainEngine), explainPrisma)) {
      sink = [];
      await run();
      plans[name] = sink;
    }

    // Same figures before and after: the tasks per town, and every town's and the total's retention and
    // enrollment figures of each trend year (the dashboard shows the totals' rates).
    const mismatches: string[] = [];
    const [oldTasks, newTasks] = await Promise.all([beforeTasks(asOf), dash.tasksByTown(region, COUNTY, asOf)]);
    if (!isDeepStrictEqual(oldTasks, newTasks)) mismatches.push('tasks by town');
    // The trend from memory is the trend counted now (nothing was written meanwhile).
    const [counted, full] = await Promise.all([dash.trend(COUNTY, region, YEAR), dash.answer(actor, COUNTY, asOf)]);
    if (!isDeepStrictEqual(full.trend, counted)) mismatches.push('answer: trend');
    if (!isDeepStrictEqual(full.tasks, oldTasks)) mismatches.push('answer: tasks');
    results.sameFigures = {
      compared: [
        'tasks by town (old and new statement)',
        'the answer’s trend (from memory) and tasks with counted ones',
      ],
      mismatches,
    };
    say(`• before vs after: ${mismatches.length ? `MISMATCHES ${mismatches.join(', ')}` : 'the same figures'}`);

    // The answer's figures.
    const answer = (await inject(bureau)()) as Record<string, unknown>;
    results.answer = {
      openCases: (answer.openCases as { count: number }[]).reduce((n, c) => n + c.count, 0),
      tasks: (answer.tasks as { open: number; overdue: number }[]).reduce(
        (n, c) => ({ open: n.open + c.open, overdue: n.overdue + c.overdue }),
        { open: 0, overdue: 0 },
      ),
      verification: answer.verification && {
        suspects: (answer.verification as { suspects: number }).suspects,
        verified: (answer.verification as { verified: number }).verified,
      },
      handover: answer.handover && {
        pupils: (answer.handover as { pupils: number }).pupils,
        open: (answer.handover as { open: number }).open,
      },
      trend: answer.trend,
    };
    say(`• answer ${JSON.stringify(results.answer)}`);
    results.loadavg = fs.readFileSync('/proc/loadavg', 'utf8').trim();
    results.timings = timings;
    results.plans = plans;
    const out = path.join(REPO_ROOT, 'bench', 'results-dashboard.json');
    fs.writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    say(`Results: ${path.relative(process.cwd(), out)}`);
    if (mismatches.length) process.exitCode = 1;
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await prisma.$disconnect();
    await Promise.all([appDb.end(), engineDb.end()]);
    await dbs.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
