/**
 * Section 3 — enrollment verification's data work against PostgreSQL's own floor.
 *
 * Import: our path (api/imports/service.ts importList: parse, validate every row, upsert children, list
 * entries and guardians in one transaction) against a server-side `COPY` of the same CSV file into a
 * plain table with the file's columns. Each run imports a fresh county, so every run creates all its
 * children (no run finds the previous one's rows).
 *
 * Comparison: the base database (N children on the 公安 list) against N registrations of which 0.5 %
 * are missing — our statement (api/domain/comparison.ts compareBaseWithRegistry: anti-join, DISTINCT,
 * INSERT of the suspects, per-town tally) against the plain anti-join on the same tables that only
 * counts the missing children. The suspects are deleted between runs, so every run does the same work.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Actor } from '../api/auth/actor.js';
import { idCheckChar } from '../api/domain/id-number.js';
import { BASE_LIST_KINDS, compareBaseWithRegistry, IN_SCHOOL_STATUSES } from '../api/domain/comparison.js';
import { readTable } from '../api/imports/read-table.js';
import { importList } from '../api/imports/service.js';
import { createPrisma } from '../infra/db/prisma.js';
import { round, spread, type Spread } from './stats.js';
import { BENCH_DATA_DIR, type SystemUnderTest } from './system.js';

const YEAR = 2026;
const BASE_COUNTY = '379801';
const TOWNS = 20;
const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗';

export interface VerificationOptions {
  children: number;
  importRows: number;
  runs: number;
}

export interface VerificationSection {
  import: {
    rows: number;
    fileMiB: number;
    ours: Spread;
    copy: Spread;
    ratio: number;
    met: boolean;
    /** Share of our import's time spent reading the CSV (decoding, parsing) — the rest is validation and SQL. */
    parseShare: number;
    note: string;
  };
  comparison: {
    children: number;
    registrations: number;
    suspects: number;
    buildSeconds: number;
    oursMs: Spread;
    antiJoinMs: Spread;
    ratio: number;
    met: boolean;
    /** The same INSERT with the anti-join correlated to the list entry (the proposed fix). */
    proposedMs: Spread;
    proposedRatio: number;
    plans: { comparisonSelect: string[]; antiJoin: string[] };
  };
}

/** A county with `towns` towns and one primary school each; returns the town codes. */
async function makeCounty(db: pg.Client, code: string, towns: number): Promise<string[]> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO "Region" (code, name, level, "parentId")
     VALUES ($1, $2, 'COUNTY', (SELECT id FROM "Region" WHERE code = '37')) RETURNING id`,
    [code, `基准县${code}`],
  );
  const countyId = rows[0]!.id;
  const codes = Array.from({ length: towns }, (_, i) => `${code}${String(i + 1).padStart(3, '0')}`);
  await db.query(
    `INSERT INTO "Region" (code, name, level, "parentId")
     SELECT c, '基准镇' || c, 'TOWN', $2 FROM unnest($1::text[]) AS c`,
    [codes, countyId],
  );
  await db.query(
    `INSERT INTO "School" (code, name, kind, "regionId", "regionCode", "updatedAt")
     SELECT '8' || r.code, '基准小学' || r.code, 'PRIMARY', r.id, r.code, now()
       FROM "Region" r WHERE r.code = ANY($1::text[])`,
    [codes],
  );
  return codes;
}

/** A household list CSV of `n` valid rows for the county (公安's format, every column filled). */
function householdCsv(county: string, towns: string[], n: number): Buffer {
  const lines = ['姓名,身份证号,性别,出生日期,户籍所在镇街,户籍地址,现居住地址,监护人姓名,与儿童关系,监护人电话'];
  const firstBirth = Date.UTC(YEAR - 14, 8, 1); // 1 Sep: aged 6–14 on 31 August of the year
  const days = 365 * 8;
  for (let i = 0; i < n; i++) {
    const birth = new Date(firstBirth + (i % days) * 86_400_000);
    const ymd = birth.toISOString().slice(0, 10);
    const seq = String(Math.floor(i / days)).padStart(3, '0');
    const first17 = `${county}${ymd.replaceAll('-', '')}${seq}`;
    const id = first17 + idCheckChar(first17);
    const gender = Number(seq[2]) % 2 === 1 ? '男' : '女';
    const town = towns[i % towns.length]!;
    const s = SURNAMES[i % SURNAMES.length]!;
    const phone = `138${String(10_000_000 + i).slice(-8)}`;
    lines.push(
      `${s}基准${i + 1},${id},${gender},${ymd},${town},基准镇${town}某村${i % 97}号,基准镇${town}某小区${i % 89}栋,${s}某某,父亲,${phone}`,
    );
  }
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

export async function verificationSection(
  sut: SystemUnderTest,
  opts: VerificationOptions,
  say: (l: string) => void,
): Promise<VerificationSection> {
  const db = new pg.Client({ connectionString: sut.appUrl });
  db.on('error', () => {});
  await db.connect();
  const prisma = createPrisma(sut.appUrl);
  try {
    const admin = await prisma.user.findFirstOrThrow({ where: { role: 'ADMIN' } });
    const actor: Actor = {
      userId: admin.id,
      username: admin.username,
      displayName: admin.displayName,
      role: 'ADMIN',
      regionCode: admin.regionCode,
      schoolId: null,
      classId: null,
      groups: [],
    };

    // --- import vs COPY ---------------------------------------------------------------------------
    const dir = path.join(BENCH_DATA_DIR, 'files');
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    const oursRates: number[] = [];
    const copyRates: number[] = [];
    let fileBytes = 0;
    const parseMs: number[] = [];
    // Run 0 is the warm-up (JIT, caches) and is not reported.
    for (let run = 0; run <= opts.runs; run++) {
      const county = `3798${String(11 + run).padStart(2, '0')}`;
      const towns = await makeCounty(db, county, TOWNS);
      const bytes = householdCsv(county, towns, opts.importRows);
      fileBytes = bytes.length;
      const file = path.join(dir, `household-${county}.csv`);
      fs.writeFileSync(file, bytes, { mode: 0o644 });

      const table = `bench_copy_${county}`;
      await db.query(
        `CREATE TABLE ${table} ("姓名" text, "身份证号" text, "性别" text, "出生日期" text, "户籍所在镇街" text,
           "户籍地址" text, "现居住地址" text, "监护人姓名" text, "与儿童关系" text, "监护人电话" text)`,
      );
      await db.query('CHECKPOINT');
      const copy = await timed(() => db.query(`COPY ${table} FROM '${file}' WITH (FORMAT csv, HEADER true)`));
      await db.query('CHECKPOINT');
      const ours = await timed(() =>
        importList(prisma, actor, { kind: 'household', county, year: YEAR, fileName: path.basename(file), bytes }),
      );
      if (ours.value.created !== opts.importRows) {
        throw new Error(`import created ${ours.value.created} of ${opts.importRows} children`);
      }
      const parse = await timed(() => readTable(bytes));
      if (run > 0) parseMs.push(parse.ms / ours.ms);
      const oursRate = opts.importRows / (ours.ms / 1000);
      const copyRate = opts.importRows / (copy.ms / 1000);
      say(
        `  import run ${run}${run === 0 ? ' (warm-up)' : ''}: ours ${Math.round(oursRate)} rows/s (${(ours.ms / 1000).toFixed(1)} s), COPY ${Math.round(copyRate)} rows/s (${(copy.ms / 1000).toFixed(2)} s)`,
      );
      if (run > 0) {
        oursRates.push(round(oursRate, 0));
        copyRates.push(round(copyRate, 0));
      }
    }
    const ours = spread(oursRates);
    const copy = spread(copyRates);

    // --- comparison vs anti-join ------------------------------------------------------------------
    say(`  building the base database: ${opts.children.toLocaleString('en-US')} children, 0.5 % unregistered…`);
    const build = await timed(async () => {
      const towns = await makeCounty(db, BASE_COUNTY, TOWNS);
      await db.query(`SELECT setseed(0.7)`);
      // 身份证号 here need only be unique (the comparison never reads them).
      await db.query(
        `INSERT INTO "Child" (id, "idNumber", name, gender, "birthDate", "regionCode", "updatedAt")
         SELECT gen_random_uuid(),
                $1 || to_char(date '2012-09-01' + (i % 2900), 'YYYYMMDD') || lpad((i / 2900)::text, 3, '0') || 'X',
                '基准' || i, CASE WHEN i % 2 = 0 THEN 'MALE' ELSE 'FEMALE' END::"Gender",
                date '2012-09-01' + (i % 2900), ($2::text[])[1 + i % ${TOWNS}], now()
           FROM generate_series(0, $3 - 1) AS i`,
        [BASE_COUNTY, towns, opts.children],
      );
      const batch = await db.query<{ id: number }>(
        `INSERT INTO "ImportBatch" (kind, "regionCode", year, "fileName", sha256, "rowCount")
         VALUES ('HOUSEHOLD', $1, $2, 'bench.csv', 'bench-base', $3) RETURNING id`,
        [BASE_COUNTY, YEAR, opts.children],
      );
      await db.query(
        `INSERT INTO "DepartmentListEntry" ("batchId", "lineNumber", kind, year, "childId", "regionCode")
         SELECT $1, row_number() OVER () + 1, 'HOUSEHOLD', $2, c.id, c."regionCode"
           FROM "Child" c WHERE starts_with(c."regionCode", $3)`,
        [batch.rows[0]!.id, YEAR, BASE_COUNTY],
      );
      // Registrations: everyone except one child in 200 (0.5 %), at the school of the child's town.
      await db.query(
        `INSERT INTO "RegistryRecord" ("childId", "schoolYear", "schoolId", grade, status, "regionCode")
         SELECT c.id, $1, s.id, 1 + (hashtext(c.id::text) & 7), 'ENROLLED', c."regionCode"
           FROM "Child" c JOIN "School" s ON s."regionCode" = c."regionCode"
          WHERE starts_with(c."regionCode", $2) AND hashtext(c."idNumber") % 200 <> 0`,
        [YEAR, BASE_COUNTY],
      );
      await db.query('VACUUM ANALYZE "Child"');
      await db.query('VACUUM ANALYZE "DepartmentListEntry"');
      await db.query('VACUUM ANALYZE "RegistryRecord"');
    });
    const { rows: counts } = await db.query<{ children: number; registrations: number }>(
      `SELECT (SELECT count(*) FROM "Child" WHERE starts_with("regionCode", $1))::int AS children,
              (SELECT count(*) FROM "RegistryRecord" WHERE starts_with("regionCode", $1) AND "schoolYear" = $2)::int
                AS registrations`,
      [BASE_COUNTY, YEAR],
    );
    say(
      `    built in ${(build.ms / 1000).toFixed(1)} s: ${counts[0]!.children} children, ${counts[0]!.registrations} registrations`,
    );
    const campaign = await prisma.campaign.create({ data: { regionCode: BASE_COUNTY, year: YEAR } });
    const antiJoin = () =>
      db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "DepartmentListEntry" e
          WHERE e.year = $1 AND starts_with(e."regionCode", $2) AND e.kind = ANY($3::"ImportKind"[])
            AND NOT EXISTS (SELECT 1 FROM "RegistryRecord" r
                             WHERE r."childId" = e."childId" AND r."schoolYear" = $1
                               AND r.status = ANY($4::"RegistryStatus"[]))`,
        [YEAR, BASE_COUNTY, BASE_LIST_KINDS, IN_SCHOOL_STATUSES],
      );
    // The proposed fix (see the README section): anti-join the county's list entries with the registers first
    // (correlated with the entry, not with Child), and look up each suspect's town by primary key — Child is
    // then read for the suspects only, instead of anti-joining every child of every county.
    const proposed = async () => {
      const added = await db.query(
        `INSERT INTO "SuspectedChild" ("campaignId", "childId", "regionCode", "round")
         SELECT $5::int, m.child_id, (SELECT left(c."regionCode", 9) FROM "Child" c WHERE c.id = m.child_id), 1
           FROM (SELECT DISTINCT e."childId" AS child_id FROM "DepartmentListEntry" e
                  WHERE e.year = $1 AND starts_with(e."regionCode", $2) AND e.kind = ANY ($3::"ImportKind"[])
                    AND NOT EXISTS (SELECT 1 FROM "RegistryRecord" r
                                     WHERE r."childId" = e."childId" AND r."schoolYear" = $1
                                       AND r.status = ANY ($4::"RegistryStatus"[]))) m
         ON CONFLICT ("campaignId", "childId", "round") DO NOTHING`,
        [YEAR, BASE_COUNTY, BASE_LIST_KINDS, IN_SCHOOL_STATUSES, campaign.id],
      );
      await db.query(
        `SELECT "regionCode" AS town, count(*)::int AS n FROM "SuspectedChild"
          WHERE "campaignId" = $1 AND "round" = 1 GROUP BY 1 ORDER BY 1`,
        [campaign.id],
      );
      return added.rowCount ?? 0;
    };
    const proposedMs: number[] = [];
    const oursMs: number[] = [];
    const antiMs: number[] = [];
    let suspects = 0;
    for (let run = 0; run <= opts.runs; run++) {
      await db.query(`DELETE FROM "SuspectedChild" WHERE "campaignId" = $1`, [campaign.id]);
      await db.query('VACUUM "SuspectedChild"');
      const a = await timed(antiJoin);
      const o = await timed(() => compareBaseWithRegistry(prisma, campaign.id));
      if (o.value.added !== a.value.rows[0]!.n) {
        throw new Error(`comparison found ${o.value.added} suspects, the anti-join ${a.value.rows[0]!.n}`);
      }
      suspects = o.value.added;
      await db.query(`DELETE FROM "SuspectedChild" WHERE "campaignId" = $1`, [campaign.id]);
      await db.query('VACUUM "SuspectedChild"');
      const p = await timed(proposed);
      if (p.value !== suspects) throw new Error(`the proposed comparison found ${p.value} suspects, ours ${suspects}`);
      if (run > 0) proposedMs.push(round(p.ms, 1));
      say(
        `  comparison run ${run}${run === 0 ? ' (warm-up)' : ''}: ours ${o.ms.toFixed(0)} ms, anti-join ${a.ms.toFixed(0)} ms, proposed ${p.ms.toFixed(0)} ms (${suspects} suspects)`,
      );
      if (run > 0) {
        oursMs.push(round(o.ms, 1));
        antiMs.push(round(a.ms, 1));
      }
    }
    // Where the time goes: the plans of the comparison's SELECT and of the plain anti-join.
    const explain = async (sql: string, params: unknown[]) =>
      (await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, TIMING OFF) ${sql}`, params)).rows.map(
        (r) => r['QUERY PLAN'],
      );
    const plans = {
      comparisonSelect: await explain(
        `SELECT DISTINCT c.id, left(c."regionCode", 9) FROM "DepartmentListEntry" e JOIN "Child" c ON c.id = e."childId"
          WHERE e.year = $1 AND starts_with(e."regionCode", $2) AND e.kind = ANY ($3::"ImportKind"[])
            AND NOT EXISTS (SELECT 1 FROM "RegistryRecord" r WHERE r."childId" = c.id AND r."schoolYear" = $1
                              AND r.status = ANY ($4::"RegistryStatus"[]))`,
        [YEAR, BASE_COUNTY, BASE_LIST_KINDS, IN_SCHOOL_STATUSES],
      ),
      antiJoin: await explain(
        `SELECT count(*) FROM "DepartmentListEntry" e
          WHERE e.year = $1 AND starts_with(e."regionCode", $2) AND e.kind = ANY($3::"ImportKind"[])
            AND NOT EXISTS (SELECT 1 FROM "RegistryRecord" r WHERE r."childId" = e."childId" AND r."schoolYear" = $1
                              AND r.status = ANY($4::"RegistryStatus"[]))`,
        [YEAR, BASE_COUNTY, BASE_LIST_KINDS, IN_SCHOOL_STATUSES],
      ),
    };
    const oursSpread = spread(oursMs);
    const antiSpread = spread(antiMs);
    const importRatio = ours.median / copy.median;
    const cmpRatio = oursSpread.median / antiSpread.median;
    return {
      import: {
        rows: opts.importRows,
        fileMiB: round(fileBytes / 2 ** 20, 1),
        ours,
        copy,
        ratio: round(importRatio, 3),
        met: importRatio >= 0.5,
        parseShare: round(spread(parseMs).median, 3),
        note: 'ours = importList() in-process (no HTTP/multipart); COPY = server-side COPY into an unindexed table of the file’s 10 text columns',
      },
      comparison: {
        children: counts[0]!.children,
        registrations: counts[0]!.registrations,
        suspects,
        buildSeconds: round(build.ms / 1000, 1),
        oursMs: oursSpread,
        antiJoinMs: antiSpread,
        ratio: round(cmpRatio, 2),
        met: cmpRatio <= 1.5,
        proposedMs: spread(proposedMs),
        proposedRatio: round(spread(proposedMs).median / antiSpread.median, 2),
        plans,
      },
    };
  } finally {
    await db.end();
    await prisma.$disconnect();
  }
}
