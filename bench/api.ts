/**
 * Section 4 — the caseworker's API under load: the task inbox (GET /api/tasks) and the case list
 * (GET /api/cases) with N open tasks and N cases in the demo county, 50 concurrent users on loopback.
 *
 * Open user tasks: creating 100,000 real ones through the engine takes far longer than the run allows on
 * 2 cores (section 2 measures the real rate), so beside the real tasks of this run we insert synthetic
 * rows into the engine's user-task table (what the inbox reads), copied from a real open task of this run
 * (only keys, element, candidate group, due date and creation time differ), with keys of partition 9 that
 * the engine never hands out. Cases likewise: synthetic
 * DropoutCase rows for registered children of the county. Everything synthetic is reported as such.
 *
 * Each endpoint is compared with the same page from the data layer without HTTP: records.openUserTaskPage()
 * (the engine statement the inbox runs — page, total, each task's child — on a pool of the same size; the
 * inbox adds one app-database statement describing the page) and listCases() (the case list's one statement)
 * — once by a single client (the query's own cost) and once by 50 concurrent callers.
 */
import pg from 'pg';
import type { Actor } from '../api/auth/actor.js';
import { openSessions, toActor } from '../api/auth/sessions.js';
import { caseFilters, listCases } from '../api/routes/cases.js';
import { SUBJECT_VARIABLES } from '../api/routes/tasks.js';
import { groupsWithin } from '../api/tasks/access.js';
import { createEngineRecords, type TaskFilter } from '../infra/camunda/records.js';
import { createPrisma, type Prisma } from '../infra/db/prisma.js';
import { latency, type Latency, round, sleep } from './stats.js';
import type { SystemUnderTest } from './system.js';

export interface ApiOptions {
  openTasks: number;
  instances: number;
  users: number;
  seconds: number;
  runs: number;
}

interface Persona {
  role: string;
  token: string;
  actor: Actor;
  /** The inbox request this user makes (path + query). */
  inbox: string;
  filter: TaskFilter;
}

export interface EndpointResult {
  name: string;
  requests: number;
  errors: number;
  /** Saturated throughput (50 users back to back). */
  throughput: number;
  /** Paced load: 50 users × one request per second. */
  api: Latency;
  saturated: Latency;
  sql: Latency;
  sqlUnderLoad: Latency;
  sqlThroughput: number;
  ratioP50: number;
  byRole?: Record<string, Latency>;
  target?: string;
  met?: boolean;
}

export interface ApiSection {
  openTasks: { real: number; synthetic: number; recordsInTable: number; seedSeconds: number };
  cases: { real: number; synthetic: number };
  endpoints: EndpointResult[];
}

/** Each user's pace under the paced load: one request per second. */
const PACE_MS = 1000;

/** Closed-loop load: `users` concurrent clients for `seconds`, each picking its next request from `pick`. */
async function load<T>(
  users: number,
  seconds: number,
  pick: (lane: number, i: number) => T,
  call: (item: T) => Promise<boolean>,
  tag: (item: T) => string,
  /** Paced: each user sends one request per `intervalMs` (think time); 0 = back to back (saturation). */
  intervalMs = 0,
) {
  const samples: number[] = [];
  const byTag = new Map<string, number[]>();
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: users }, async (_, lane) => {
      if (intervalMs) await sleep((lane / users) * intervalMs);
      for (let i = 0; performance.now() < end; i++) {
        const item = pick(lane, i);
        const s = performance.now();
        const ok = await call(item).catch(() => false);
        const ms = performance.now() - s;
        if (!ok) errors++;
        samples.push(ms);
        const k = tag(item);
        if (!byTag.has(k)) byTag.set(k, []);
        byTag.get(k)!.push(ms);
        if (intervalMs) await sleep(Math.max(0, s + intervalMs - performance.now()));
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  return {
    latency: latency(samples),
    byTag: Object.fromEntries([...byTag].map(([k, v]) => [k, latency(v)])),
    errors,
    throughput: samples.length / elapsed,
  };
}

async function sequential<T>(items: T[], call: (item: T) => Promise<unknown>): Promise<Latency> {
  const samples: number[] = [];
  for (const item of items) {
    const s = performance.now();
    await call(item);
    samples.push(performance.now() - s);
  }
  return latency(samples);
}

const roundLatency = (l: Latency): Latency => ({
  n: l.n,
  p50: round(l.p50, 1),
  p99: round(l.p99, 1),
  max: round(l.max, 1),
});

/** Real open tasks to copy the engine's user-task row from: a few dropout reports as the bureau. */
async function realTasks(sut: SystemUnderTest, prisma: Prisma, db: pg.Client, bureauToken: string, n: number) {
  const pupils = await prisma.registryRecord.findMany({
    where: { regionCode: { startsWith: '370481' }, status: 'ENROLLED', classId: { not: null } },
    select: { childId: true },
    orderBy: { id: 'desc' },
    take: n,
  });
  for (const p of pupils) {
    await fetch(`${sut.apiUrl}/api/dropout-reports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bureauToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ child: p.childId, lastAttendance: '2026-11-01', reason: '基准测试：连续旷课' }),
    });
  }
  for (let i = 0; i < 300; i++) {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM engine_user_task WHERE state = 'CREATED'`,
    );
    if (rows[0]!.n >= n) return;
    await sleep(200);
  }
}

export async function apiSection(
  sut: SystemUnderTest,
  opts: ApiOptions,
  say: (l: string) => void,
): Promise<ApiSection> {
  const prisma = createPrisma(sut.appUrl);
  const db = new pg.Client({ connectionString: sut.engineUrl });
  db.on('error', () => {});
  await db.connect();
  const app = new pg.Client({ connectionString: sut.appUrl });
  app.on('error', () => {});
  await app.connect();
  const records = createEngineRecords(sut.engineUrl);
  try {
    const county = '370481';
    const bureau = await prisma.user.findUniqueOrThrow({ where: { username: 'bureau' } });
    const [bureauToken] = [...(await openSessions(prisma, [bureau.id])).values()];

    // --- open tasks: real ones first, then synthetic copies of their rows -------------------------
    const seedT0 = performance.now();
    await realTasks(sut, prisma, db, bureauToken!, 10);
    const { rows: tmpl } = await db.query<{ key: string }>(
      `SELECT max(key)::text AS key FROM engine_user_task WHERE state = 'CREATED'`,
    );
    if (!tmpl[0]?.key) throw new Error('no real user task to copy the row from');
    const { rows: realCount } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM engine_user_task WHERE state = 'CREATED'`,
    );
    const real = realCount[0]!.n;
    const synthetic = Math.max(0, opts.openTasks - real);
    // Cases: one per registered child of the county (synthetic instance keys), the tasks belong to them.
    const { rows: realCases } = await app.query<{ n: number }>(`SELECT count(*)::int AS n FROM "DropoutCase"`);
    const syntheticCases = Math.max(0, opts.instances - realCases[0]!.n);
    const SYN = 9n << 51n; // keys of partition 9
    const insertedCases = await app.query(
      `INSERT INTO "DropoutCase" (id, "childId", "schoolId", "classId", "regionCode", "lastAttendance", reason, status,
                                  "processInstanceKey", "openedAt")
       SELECT gen_random_uuid(), r."childId", r."schoolId", r."classId", s."regionCode", date '2026-10-01', '基准测试（合成）', 'OPEN',
              ($2::bigint + 2 * row_number() OVER ())::text, now() - (row_number() OVER () % 400) * interval '1 hour'
         FROM "RegistryRecord" r JOIN "School" s ON s.id = r."schoolId"
        WHERE starts_with(r."regionCode", $3) AND r."classId" IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM "DropoutCase" d WHERE d."childId" = r."childId")
        ORDER BY r.id LIMIT $1`,
      [syntheticCases, String(SYN), county],
    );
    await app.query('VACUUM ANALYZE "DropoutCase"');
    // Each synthetic task belongs to a synthetic case: 40 % at the class teacher, 30 % at the school,
    // 20 % at the town, 10 % at the justice bureau — the escalation chain's stages.
    const { rows: caseRows } = await app.query<{ pik: string; classId: number; schoolId: number; town: string }>(
      `SELECT "processInstanceKey" AS pik, "classId", "schoolId", left("regionCode", 9) AS town
         FROM "DropoutCase" WHERE reason = '基准测试（合成）' ORDER BY serial LIMIT $1`,
      [synthetic],
    );
    const syntheticTasks = caseRows.length;
    const stage = (i: number, c: (typeof caseRows)[number]) => {
      const m = i % 10;
      if (m < 4) return { elementId: 'visitFamily', group: `class:${c.classId}` };
      if (m < 7) return { elementId: 'confirmDropoutBySchool', group: `school:${c.schoolId}` };
      if (m < 9) return { elementId: 'orderCorrectionByTown', group: `town:${c.town}` };
      return { elementId: 'issueJudicialNotice', group: `justice:${county}` };
    };
    const CHUNK = 5000;
    for (let from = 0; from < caseRows.length; from += CHUNK) {
      const part = caseRows.slice(from, from + CHUNK);
      const idx = part.map((_, j) => from + j);
      // Rows of the engine's user-task table (what the inbox reads), copied from a real open task.
      await db.query(
        `INSERT INTO engine_user_task (key, element_instance_key, process_instance_key, process_definition_key,
           bpmn_process_id, version, element_id, name, state, assignee, candidate_groups, candidate_users, due_date,
           creation_date, tenant_id)
         SELECT $1::bigint + 2 * v.i + 1, $1::bigint + 2 * v.i, v.pik::bigint, t.process_definition_key,
                t.bpmn_process_id, t.version, v.element_id, t.name, 'CREATED', NULL, ARRAY[v.grp], '{}',
                now() + ((v.i % 21) - 7) * interval '1 day', now() - v.i * interval '1 second', t.tenant_id
           FROM unnest($2::int[], $3::text[], $4::text[], $5::text[]) AS v(i, pik, element_id, grp)
          CROSS JOIN (SELECT * FROM engine_user_task WHERE key = $6::bigint) t`,
        [
          String(SYN + 1_000_000_000n),
          idx,
          part.map((c) => c.pik),
          part.map((c, j) => stage(idx[j]!, c).elementId),
          part.map((c, j) => stage(idx[j]!, c).group),
          tmpl[0].key,
        ],
      );
    }
    await db.query('VACUUM ANALYZE engine_user_task');
    const { rows: recCount } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM engine_user_task`);
    const seedSeconds = (performance.now() - seedT0) / 1000;
    say(
      `  ${real} real + ${syntheticTasks} synthetic open tasks, ${insertedCases.rowCount} synthetic cases (${recCount[0]!.n} task rows) in ${seedSeconds.toFixed(1)} s`,
    );

    // --- personas: teachers, schools, towns of tasks, and the county bureau overseeing all ----------
    const pick = <T>(xs: T[], n: number) =>
      xs.filter((_, i) => i % Math.max(1, Math.floor(xs.length / n)) === 0).slice(0, n);
    const usersOf = async (role: 'TEACHER' | 'SCHOOL' | 'TOWN', n: number) =>
      pick(
        await prisma.user.findMany({ where: { role, regionCode: { startsWith: county } }, orderBy: { id: 'asc' } }),
        n,
      );
    const chosen = [
      ...(await usersOf('TEACHER', 200)),
      ...(await usersOf('SCHOOL', 60)),
      ...(await usersOf('TOWN', 21)),
      bureau,
    ];
    const tokens = await openSessions(
      prisma,
      chosen.map((u) => u.id),
    );
    const countyGroups = await groupsWithin(prisma, county);
    const personas: Persona[] = chosen.map((u) => {
      const actor: Actor = toActor(u);
      const all = u.role === 'BUREAU';
      return {
        role: all ? 'BUREAU(view=all)' : u.role,
        token: tokens.get(u.id)!,
        actor,
        inbox: all ? '/api/tasks?view=all' : '/api/tasks',
        filter: all
          ? { groupsAny: countyGroups, sort: 'dueDate', order: 'ASC', limit: 25, offset: 0 }
          : {
              groupsAny: actor.groups,
              assigneeOrGroups: actor.username,
              sort: 'dueDate',
              order: 'ASC',
              limit: 25,
              offset: 0,
            },
      };
    });
    // Request mix: 40 % teachers, 30 % schools, 25 % towns, 5 % the bureau's county-wide view.
    const byRole = (r: string) => personas.filter((p) => p.role === r);
    const mix: Persona[][] = [
      ...Array<Persona[]>(8).fill(byRole('TEACHER')),
      ...Array<Persona[]>(6).fill(byRole('SCHOOL')),
      ...Array<Persona[]>(5).fill(byRole('TOWN')),
      byRole('BUREAU(view=all)'),
    ];
    const choose = (lane: number, i: number) => {
      const group = mix[(lane * 7 + i) % mix.length]!;
      return group[(lane * 31 + i * 17) % group.length]!;
    };
    const sample = Array.from({ length: 40 }, (_, i) => choose(i % opts.users, Math.floor(i / opts.users)));

    const get = async (p: Persona, pathQuery: string) => {
      const res = await fetch(`${sut.apiUrl}${pathQuery}`, { headers: { authorization: `Bearer ${p.token}` } });
      await res.arrayBuffer();
      return res.ok;
    };
    // The inbox's engine statement (the page, its total and each task's child, as the route runs it).
    const inboxSql = (p: Persona) => records.openUserTaskPage(p.filter, SUBJECT_VARIABLES).then(() => true);
    // The case list's one statement (scope, filters, page and total), as the route runs it.
    const caseQuery = (p: Persona) => listCases(prisma, p.actor, caseFilters.parse({})).then(() => true);

    const endpoint = async (
      name: string,
      apiCall: (p: Persona) => Promise<boolean>,
      sqlCall: (p: Persona) => Promise<boolean>,
      target?: { p99: number; text: string },
    ): Promise<EndpointResult> => {
      say(
        `  ${name}: ${opts.users} users × 1 req/s, ${opts.seconds} s × ${opts.runs} runs (+ warm-up), then saturated`,
      );
      const tag = (p: Persona) => p.role;
      await load(opts.users, Math.min(5, opts.seconds), choose, apiCall, tag, PACE_MS); // warm-up
      const runs = [];
      for (let r = 0; r < opts.runs; r++)
        runs.push(await load(opts.users, opts.seconds, choose, apiCall, tag, PACE_MS));
      const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
      const api: Latency = {
        n: runs.reduce((s, r) => s + r.latency.n, 0),
        p50: med(runs.map((r) => r.latency.p50)),
        p99: med(runs.map((r) => r.latency.p99)),
        max: Math.max(...runs.map((r) => r.latency.max)),
      };
      const roles: Record<string, Latency> = {};
      for (const role of Object.keys(runs[0]!.byTag)) {
        roles[role] = roundLatency({
          n: runs.reduce((s, r) => s + (r.byTag[role]?.n ?? 0), 0),
          p50: med(runs.map((r) => r.byTag[role]?.p50 ?? NaN)),
          p99: med(runs.map((r) => r.byTag[role]?.p99 ?? NaN)),
          max: Math.max(...runs.map((r) => r.byTag[role]?.max ?? 0)),
        });
      }
      const saturated = await load(opts.users, opts.seconds, choose, apiCall, tag);
      const sql = await sequential(sample, sqlCall);
      const sqlLoad = await load(opts.users, Math.min(5, opts.seconds), choose, sqlCall, tag);
      say(
        `    paced: API p50 ${api.p50.toFixed(1)} ms p99 ${api.p99.toFixed(1)} ms; saturated: ${saturated.throughput.toFixed(0)} req/s, p50 ${saturated.latency.p50.toFixed(0)} p99 ${saturated.latency.p99.toFixed(0)} ms; data layer alone p50 ${sql.p50.toFixed(1)} p99 ${sql.p99.toFixed(1)} ms (saturated p50 ${sqlLoad.latency.p50.toFixed(0)} ms, ${sqlLoad.throughput.toFixed(0)}/s)`,
      );
      return {
        name,
        requests: api.n,
        errors: runs.reduce((s, r) => s + r.errors, 0) + saturated.errors,
        throughput: round(saturated.throughput, 1),
        api: roundLatency(api),
        saturated: roundLatency(saturated.latency),
        sql: roundLatency(sql),
        sqlUnderLoad: roundLatency(sqlLoad.latency),
        sqlThroughput: round(sqlLoad.throughput, 1),
        ratioP50: round(api.p50 / sql.p50, 2),
        byRole: roles,
        ...(target ? { target: target.text, met: api.p99 < target.p99 } : {}),
      };
    };

    const endpoints: EndpointResult[] = [];
    endpoints.push(
      await endpoint('inbox GET /api/tasks', (p) => get(p, p.inbox), inboxSql, { p99: 100, text: 'p99 < 100 ms' }),
    );
    endpoints.push(
      await endpoint('case list GET /api/cases', (p) => get(p, '/api/cases'), caseQuery, {
        p99: 200,
        text: 'p99 < 200 ms',
      }),
    );

    return {
      openTasks: {
        real,
        synthetic: syntheticTasks,
        recordsInTable: recCount[0]!.n,
        seedSeconds: round(seedSeconds, 1),
      },
      cases: { real: realCases[0]!.n, synthetic: insertedCases.rowCount ?? 0 },
      endpoints,
    };
  } finally {
    await Promise.allSettled([prisma.$disconnect(), db.end(), app.end(), records.close()]);
  }
}
