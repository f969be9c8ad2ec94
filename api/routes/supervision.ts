/**
 * 督导: heatmaps on the diagrams and the supervisors' dashboard. Read-only, for the county's
 * oversight (the bureau, its supervisors, the administrator; a supervisor account whose region is a
 * city or the province oversees all of it — regions are prefixes). Every figure is limited to the
 * caller's region; the children behind an element are listed only where the scope helpers
 * (api/auth/scope.ts) let the caller see them.
 *
 * Heatmaps read the engine's tables (infra/camunda/heatmap.ts); the dashboard reads the app's records
 * and reuses the statutory reports (api/reports/retention.ts) for 巩固率 and 入学率.
 *
 * "Overdue" is measured by the engine's clock, which set the due dates: by default `asOf` is the
 * engine's now (its management port, read at most once a second), so under a moved test clock the
 * heatmap and the dashboard show what the engine counts as overdue; in production it is the wall clock.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type pg from 'pg';
import { createHeatmaps } from '../../infra/camunda/heatmap.js';
import type { Prisma } from '../../infra/db/prisma.js';
import { renderSvgs } from '../../infra/diagrams/svg.js';
import { formatCaseNumber } from '../../workers/open-dropout-case/handler.js';
import { actorOf, type Actor } from '../auth/actor.js';
import { SUPERVISION_ROLES } from '../auth/duties.js';
import { scope } from '../auth/scope.js';
import { CASE_STATUS_LABELS, OPEN_CASE_STATUSES } from '../domain/case-status.js';
import { chinaDay } from '../domain/china-time.js';
import { maskIdNumber } from '../domain/mask.js';
import { plainText } from '../domain/text.js';
import { AppError } from '../errors.js';
import { reportRegion, TOWN_CODE_LENGTH } from '../reports/scope.js';
import { retentionReportOf } from '../reports/retention.js';
import { groupsWithin } from '../tasks/access.js';
import { errorResponse } from './shared.js';

/** At most this many waiting element instances are listed for one element. */
const WAITING_LIMIT = 500;
/** Years of 巩固率 / 入学率 in the trend, ending with the current school year. */
const TREND_YEARS = 5;
/** Verification closes on 31 October of the campaign's year ([T] 入学核查). */
const VERIFICATION_DUE = '10-31';
/** The trend is computed again after writes to its tables once it is this old … */
const TREND_MIN_REFRESH_MS = 60_000;
/** … and after this long in any case. */
const TREND_MAX_AGE_MS = 60 * 60_000;
/** The engine clock's offset from ours is read again after this long. */
const ENGINE_CLOCK_TTL_MS = 1000;

const regionPrefix = z.string().regex(/^\d{2,12}$/, '地区代码应为 2–12 位数字');
const day = z.iso.date('日期格式应为 YYYY-MM-DD');

const heatmapQuery = z
  .object({
    process: plainText(100, 1),
    version: z.coerce.number().int().positive().max(1_000_000).optional(),
    /** Instances started on or after this day (China time) … */
    from: day.optional(),
    /** … and on or before this day. */
    to: day.optional(),
    town: regionPrefix.optional(),
    school: z.coerce.number().int().positive().max(2_147_483_647).optional(),
    /** Open tasks count as overdue when their due date is before this instant (default: the engine's now). */
    asOf: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: '开始日期不能晚于结束日期', path: ['from'] });
type HeatmapQuery = z.infer<typeof heatmapQuery>;

/** p90Estimated: read off the rollup's histogram (within P90_MAX_RELATIVE_ERROR, ~9.1 %), else exact. */
const duration = z.object({
  count: z.number(),
  avgMs: z.number().nullable(),
  p90Ms: z.number().nullable(),
  p90Estimated: z.boolean(),
});
const heatmapSchema = z.object({
  definition: z.object({
    processDefinitionKey: z.string(),
    bpmnProcessId: z.string(),
    name: z.string().nullable(),
    version: z.number(),
  }),
  asOf: z.string(),
  instances: z.number(),
  activeInstances: z.number(),
  instanceDuration: z.object({ avgMs: z.number().nullable(), p90Ms: z.number().nullable(), p90Estimated: z.boolean() }),
  elements: z.array(
    z.object({
      elementId: z.string(),
      elementType: z.string(),
      instances: z.number(),
      active: z.number(),
      completed: z.number(),
      terminated: z.number(),
      incidents: z.number(),
      duration,
    }),
  ),
  sla: z.array(
    z.object({
      elementId: z.string(),
      finished: z.number(),
      finishedLate: z.number(),
      lateShare: z.number().nullable(),
      open: z.number(),
      openOverdue: z.number(),
      overdueShare: z.number().nullable(),
      withoutDueDate: z.number(),
    }),
  ),
});

const waitingSchema = z.object({
  total: z.number(),
  /** More are waiting than listed (WAITING_LIMIT). */
  truncated: z.boolean(),
  data: z.array(
    z.object({
      processInstanceKey: z.string(),
      elementInstanceKey: z.string(),
      since: z.string(),
      userTaskKey: z.string().nullable(),
      dueDate: z.string().nullable(),
      overdue: z.boolean(),
      townCode: z.string().nullable(),
      townName: z.string().nullable(),
      schoolName: z.string().nullable(),
      child: z.object({ id: z.string(), name: z.string(), idNumber: z.string().nullable() }).nullable(),
      case: z.object({ id: z.string(), number: z.string(), status: z.string(), statusLabel: z.string() }).nullable(),
    }),
  ),
});

const count = z.number().int().nonnegative();
const dashboardSchema = z.object({
  county: z.string(),
  region: z.string(),
  asOf: z.string(),
  towns: z.array(z.object({ code: z.string(), name: z.string() })),
  /** Open dropout cases per town and stage (status). */
  openCases: z.array(z.object({ townCode: z.string(), status: z.string(), statusLabel: z.string(), count })),
  /** Open and overdue user tasks per town ('county' level: the bureau's, justice's and police's). */
  tasks: z.array(z.object({ townCode: z.string(), open: count, overdue: count })),
  verification: z
    .object({
      campaignId: z.number(),
      year: z.number(),
      status: z.string(),
      dueDate: z.string(),
      daysLeft: z.number(),
      suspects: count,
      verified: count,
      towns: z.array(z.object({ townCode: z.string(), suspects: count, verified: count })),
    })
    .nullable(),
  handover: z
    .object({
      handoverId: z.number(),
      year: z.number(),
      status: z.string(),
      clearedAt: z.string().nullable(),
      pupils: count,
      registered: count,
      /** Neither registered nor traced to a placement: what stands between the county and 清零. */
      open: count,
      towns: z.array(z.object({ townCode: z.string(), pupils: count, registered: count, open: count })),
    })
    .nullable(),
  trend: z.array(
    z.object({
      year: z.number(),
      retentionRate: z.number().nullable(),
      enrollmentRate: z.number().nullable(),
    }),
  ),
  /** When the trend was counted (it is kept in memory: see cachedTrend). */
  trendComputedAt: z.string(),
});

/** The school year (by its starting calendar year) of a China-time day: it starts on 1 September. */
function schoolYearOf(isoDay: string): number {
  const [y, m] = isoDay.split('-').map(Number) as [number, number];
  return m >= 9 ? y : y - 1;
}

export const supervisionRoutes: FastifyPluginAsyncZod = async (app) => {
  const heat = createHeatmaps(app.records.pool);
  const dashboard = createDashboard(app.prisma, app.records.pool);
  const engineNow = engineClockOf(() => app.engine.clock(), app.log);
  const asOfOf = async (asOf: string | undefined) => (asOf ? new Date(asOf) : engineNow());
  const roles = [...SUPERVISION_ROLES];

  // Each county's 巩固率/入学率 trend costs seconds to count at a county's scale (bench/dashboard.ts): it is
  // counted at start, in the background and one county after another, so the first dashboard request of a
  // bureau (or of a supervisor looking at a county) finds it in memory. A request meanwhile shares the count.
  let closing = false;
  app.addHook('onReady', async () => {
    void (async () => {
      const counties = await app.prisma.region.findMany({ where: { level: 'COUNTY' }, select: { code: true } });
      const year = schoolYearOf(chinaDay(await engineNow()));
      for (const { code } of counties) {
        if (closing) return;
        await dashboard.cachedTrend(code, code, year);
      }
    })().catch((err: unknown) => {
      if (!closing) app.log.warn({ err: (err as Error).message }, 'counting the dashboard trend at start failed');
    });
  });
  app.addHook('preClose', async () => {
    closing = true;
  });

  /** The definition of the query (404 when the process or version is not deployed), caught up. */
  async function definitionOf(q: Pick<HeatmapQuery, 'process' | 'version'>) {
    const def = await heat.definition(q.process, q.version);
    if (!def) throw new AppError('NOT_FOUND', undefined, '没有找到该流程或版本。');
    await heat.catchUp();
    return def;
  }

  const filterOf = (actor: Actor, processDefinitionKey: string, q: HeatmapQuery) => ({
    processDefinitionKey,
    region: actor.regionCode,
    from: q.from,
    to: q.to,
    town: q.town,
    school: q.school,
  });

  app.get(
    '/api/supervision/processes',
    {
      config: { roles },
      schema: {
        tags: ['supervision'],
        summary: 'Deployed processes and their versions, newest first (the heatmap’s process and version choice)',
        response: {
          200: z.object({
            data: z.array(
              z.object({
                processDefinitionKey: z.string(),
                bpmnProcessId: z.string(),
                name: z.string().nullable(),
                version: z.number(),
                deployedAt: z.string(),
              }),
            ),
          }),
        },
      },
    },
    async () => ({ data: await heat.definitions() }),
  );

  app.get(
    '/api/supervision/diagram',
    {
      config: { roles },
      schema: {
        tags: ['supervision'],
        summary: 'A deployed process version (latest when no version is given): its BPMN XML and its drawing',
        querystring: z.object({
          process: plainText(100, 1),
          version: z.coerce.number().int().positive().max(1_000_000).optional(),
        }),
        response: {
          200: z.object({
            processDefinitionKey: z.string(),
            version: z.number(),
            xml: z.string(),
            /** Our renderer's drawing (infra/diagrams/svg.ts): a plane per process and collapsed sub-process. */
            svgs: z.array(z.object({ name: z.string(), svg: z.string() })),
          }),
          400: errorResponse,
          404: errorResponse,
        },
      },
    },
    async (req) => {
      const def = await heat.definition(req.query.process, req.query.version);
      if (!def) throw new AppError('NOT_FOUND', undefined, '没有找到该流程或版本。');
      return {
        processDefinitionKey: def.processDefinitionKey,
        version: def.version,
        xml: def.xml,
        svgs: await renderSvgs(def.xml),
      };
    },
  );

  app.get(
    '/api/supervision/heatmap',
    {
      config: { roles },
      schema: {
        tags: ['supervision'],
        summary:
          'Per element of one process version: instances that reached it, active/completed/incident counts, duration (avg, p90); per user task the SLA shares',
        querystring: heatmapQuery,
        response: { 200: heatmapSchema, 400: errorResponse, 404: errorResponse },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const def = await definitionOf(req.query);
      const asOf = await asOfOf(req.query.asOf);
      const result = await heat.heatmap(filterOf(actor, def.processDefinitionKey, req.query), asOf);
      return {
        definition: {
          processDefinitionKey: def.processDefinitionKey,
          bpmnProcessId: def.bpmnProcessId,
          name: def.name,
          version: def.version,
        },
        asOf: asOf.toISOString(),
        ...result,
      };
    },
  );

  app.get(
    '/api/supervision/heatmap/waiting',
    {
      config: { roles },
      schema: {
        tags: ['supervision'],
        summary: 'The children and cases waiting at one element now, in the caller’s jurisdiction (oldest first)',
        querystring: heatmapQuery.and(z.object({ element: plainText(200, 1) })),
        response: { 200: waitingSchema, 400: errorResponse, 404: errorResponse },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const def = await definitionOf(req.query);
      const asOf = await asOfOf(req.query.asOf);
      const { rows, total } = await heat.waiting(
        filterOf(actor, def.processDefinitionKey, req.query),
        req.query.element,
        WAITING_LIMIT,
      );
      const childIds = [...new Set(rows.flatMap((r) => (r.childId && isUuid(r.childId) ? [r.childId] : [])))];
      const instanceKeys = [...new Set(rows.map((r) => r.processInstanceKey))];
      const schoolIds = [...new Set(rows.flatMap((r) => (r.schoolId ? [r.schoolId] : [])))];
      const [children, cases, schools, towns] = await Promise.all([
        app.prisma.child.findMany({
          where: { AND: [scope.children(actor), { id: { in: childIds } }] },
          select: { id: true, name: true, idNumber: true },
        }),
        app.prisma.dropoutCase.findMany({
          where: { AND: [scope.cases(actor), { processInstanceKey: { in: instanceKeys } }] },
          select: { id: true, serial: true, openedAt: true, status: true, processInstanceKey: true, childId: true },
        }),
        app.prisma.school.findMany({
          where: { AND: [scope.schools(actor), { id: { in: schoolIds } }] },
          select: { id: true, name: true },
        }),
        app.prisma.region.findMany({
          where: { code: { in: [...new Set(rows.flatMap((r) => (r.townCode ? [r.townCode] : [])))] } },
          select: { code: true, name: true },
        }),
      ]);
      const childOf = new Map(children.map((c) => [c.id, c]));
      const caseOf = new Map(cases.map((c) => [c.processInstanceKey, c]));
      const schoolOf = new Map(schools.map((s) => [s.id, s.name]));
      const townOf = new Map(towns.map((t) => [t.code, t.name]));
      // A child the caller may not see drops the row: never a waiting child outside the jurisdiction.
      const visible = rows.filter((r) => !r.childId || childOf.has(r.childId));
      return {
        total: total - (rows.length - visible.length),
        truncated: total > rows.length,
        data: visible.map((r) => {
          const c = r.childId ? childOf.get(r.childId) : undefined;
          const k = caseOf.get(r.processInstanceKey);
          return {
            processInstanceKey: r.processInstanceKey,
            elementInstanceKey: r.elementInstanceKey,
            since: r.since,
            userTaskKey: r.userTaskKey,
            dueDate: r.dueDate,
            overdue: r.dueDate !== null && new Date(r.dueDate) < asOf,
            townCode: r.townCode,
            townName: r.townCode ? (townOf.get(r.townCode) ?? null) : null,
            schoolName: r.schoolId ? (schoolOf.get(r.schoolId) ?? null) : null,
            child: c ? { id: c.id, name: c.name, idNumber: maskIdNumber(c.idNumber) } : null,
            case: k
              ? {
                  id: k.id,
                  number: formatCaseNumber(k.serial, k.openedAt),
                  status: k.status,
                  statusLabel: CASE_STATUS_LABELS[k.status],
                }
              : null,
          };
        }),
      };
    },
  );

  app.get(
    '/api/supervision/dashboard',
    {
      config: { roles },
      schema: {
        tags: ['supervision'],
        summary:
          '督导看板: open cases by stage and town, overdue tasks by town, verification toward 31 October, handover 清零, 巩固率/入学率 trend',
        querystring: z.object({
          county: z
            .string()
            .regex(/^\d{6}$/, '县级代码应为 6 位数字')
            .optional(),
          asOf: z.iso.datetime({ offset: true }).optional(),
        }),
        response: { 200: dashboardSchema, 400: errorResponse, 404: errorResponse },
      },
    },
    async (req) => dashboard.answer(actorOf(req), req.query.county, await asOfOf(req.query.asOf)),
  );
};

/**
 * The engine's current time: its clock's offset from ours, read again once it is older than
 * ENGINE_CLOCK_TTL_MS (concurrent callers share one read), so a moved test clock shows within a second
 * and a request costs at most one loopback call a second. Unreachable: our own clock (which the
 * engine's equals outside tests), with a warning.
 */
export function engineClockOf(read: () => Promise<number>, log: Pick<FastifyBaseLogger, 'warn'>) {
  let offset = 0;
  let readAt = -Infinity;
  let pending: Promise<void> | undefined;
  let failing = false;
  const refresh = async () => {
    const before = Date.now();
    try {
      const engine = await read();
      // Half the round trip: the engine answered somewhere between our two readings.
      offset = engine - (before + Date.now()) / 2;
      failing = false;
    } catch (err) {
      offset = 0;
      // Once per outage, not once a second.
      if (!failing) log.warn({ err }, 'engine clock unreadable: overdue measured by the API server’s clock');
      failing = true;
    } finally {
      readAt = Date.now();
      pending = undefined;
    }
  };
  return async (): Promise<Date> => {
    if (Date.now() - readAt >= ENGINE_CLOCK_TTL_MS) await (pending ??= refresh());
    return new Date(Math.round(Date.now() + offset));
  };
}

/**
 * The 督导看板's figures, each part on its own (bench/dashboard.ts times them one by one): the app's
 * records through `prisma`, the open user tasks from the engine's database (`engineDb`).
 */
export function createDashboard(
  prisma: Prisma,
  engineDb: Pick<pg.Pool, 'query'>,
  opts: { trendMinRefreshMs?: number; trendMaxAgeMs?: number } = {},
) {
  const { trendMinRefreshMs = TREND_MIN_REFRESH_MS, trendMaxAgeMs = TREND_MAX_AGE_MS } = opts;
  /** A county of the caller's region: its own (county roles), or the first under a city/province. */
  async function defaultCounty(actor: Actor): Promise<string> {
    if (actor.regionCode.length >= 6) return actor.regionCode.slice(0, 6);
    const first = await prisma.region.findFirst({
      where: { level: 'COUNTY', code: { startsWith: actor.regionCode } },
      orderBy: { code: 'asc' },
    });
    if (!first) throw new AppError('NOT_FOUND', undefined, '您的辖区内没有县级行政区。');
    return first.code;
  }

  function towns(region: string) {
    return prisma.region.findMany({
      where: { level: 'TOWN', code: { startsWith: region } },
      select: { code: true, name: true },
      orderBy: { code: 'asc' },
    });
  }

  /** Open dropout cases per town and status. */
  async function openCases(actor: Actor, region: string) {
    const rows = await prisma.dropoutCase.groupBy({
      by: ['regionCode', 'status'],
      where: {
        AND: [scope.cases(actor), { regionCode: { startsWith: region }, status: { in: [...OPEN_CASE_STATUSES] } }],
      },
      _count: { _all: true },
    });
    return rows
      .map((c) => ({
        townCode: c.regionCode.slice(0, TOWN_CODE_LENGTH),
        status: c.status,
        statusLabel: CASE_STATUS_LABELS[c.status],
        count: c._count._all,
      }))
      .sort((a, b) => a.townCode.localeCompare(b.townCode) || a.status.localeCompare(b.status));
  }

  /**
   * Open and overdue user tasks of the region's groups, per town (county-level groups: the county); a
   * task at two of the groups counts for each. One lookup of the engine's open-task groups index per
   * group: 0.08 s for the 2,600 groups of a county of 110,000 pupils with 62,500 open tasks, where one
   * overlap test of every open task against all the groups took 1.5 s (bench/dashboard.ts).
   */
  async function tasksByTown(region: string, county: string, asOf: Date) {
    const [groups, schools, classes] = await Promise.all([
      groupsWithin(prisma, region),
      prisma.school.findMany({
        where: { regionCode: { startsWith: region } },
        select: { id: true, regionCode: true },
      }),
      prisma.schoolClass.findMany({
        where: { school: { regionCode: { startsWith: region } } },
        select: { id: true, school: { select: { regionCode: true } } },
      }),
    ]);
    const townOfGroup = new Map<string, string>();
    for (const s of schools) townOfGroup.set(`school:${s.id}`, s.regionCode.slice(0, TOWN_CODE_LENGTH));
    for (const c of classes) townOfGroup.set(`class:${c.id}`, c.school.regionCode.slice(0, TOWN_CODE_LENGTH));
    const townOf = (group: string) => {
      const [kind, id = ''] = group.split(':');
      return kind === 'town' ? id : (townOfGroup.get(group) ?? county);
    };
    const { rows } = await engineDb.query<{ townCode: string; open: number; overdue: number }>(
      `SELECT m.town AS "townCode", count(DISTINCT t.key)::int AS open,
              (count(DISTINCT t.key) FILTER (WHERE t.due_date < $3::timestamptz))::int AS overdue
         FROM unnest($1::text[], $2::text[]) AS m(grp, town)
         JOIN engine_user_task t ON t.candidate_groups @> ARRAY[m.grp] AND t.state = 'CREATED'
        GROUP BY m.town`,
      [groups, groups.map(townOf), asOf.toISOString()],
    );
    return rows.sort((a, b) => a.townCode.localeCompare(b.townCode));
  }

  /** The county's latest enrollment campaign: children verified (latest round has an outcome) per town. */
  async function verification(actor: Actor, region: string, today: string) {
    const campaign = await prisma.campaign.findFirst({
      where: { AND: [scope.campaigns(actor), { regionCode: { startsWith: region.slice(0, 6) } }] },
      orderBy: [{ year: 'desc' }, { id: 'desc' }],
    });
    if (!campaign) return null;
    const rows = await prisma.$queryRaw<{ town: string; suspects: number; verified: number }[]>`
      SELECT s."regionCode" AS town, count(*)::int AS suspects,
             (count(*) FILTER (WHERE s."outcomeCode" IS NOT NULL))::int AS verified
        FROM "SuspectedChild" s
       WHERE s."campaignId" = ${campaign.id} AND starts_with(s."regionCode", ${region})
         AND s.round = (SELECT max(n.round) FROM "SuspectedChild" n
                         WHERE n."campaignId" = s."campaignId" AND n."childId" = s."childId")
       GROUP BY 1 ORDER BY 1`;
    const dueDate = `${campaign.year}-${VERIFICATION_DUE}`;
    return {
      campaignId: campaign.id,
      year: campaign.year,
      status: campaign.status,
      dueDate,
      daysLeft: Math.round((Date.parse(dueDate) - Date.parse(today)) / 86_400_000),
      suspects: rows.reduce((n, r) => n + r.suspects, 0),
      verified: rows.reduce((n, r) => n + r.verified, 0),
      towns: rows.map((r) => ({ townCode: r.town, suspects: r.suspects, verified: r.verified })),
    };
  }

  /** The county's latest whole-class handover: pupils registered and still open per sending town. */
  async function handover(actor: Actor, region: string) {
    const batch = await prisma.handoverBatch.findFirst({
      where: { AND: [scope.handovers(actor), { regionCode: { startsWith: region.slice(0, 6) } }] },
      orderBy: [{ year: 'desc' }, { id: 'desc' }],
    });
    if (!batch) return null;
    const rows = await prisma.$queryRaw<{ town: string; pupils: number; registered: number; open: number }[]>`
      SELECT a."regionCode" AS town, count(p.id)::int AS pupils,
             (count(p.id) FILTER (WHERE p.status = 'REGISTERED'))::int AS registered,
             (count(p.id) FILTER (WHERE p.status IN ('PENDING', 'NO_SHOW')))::int AS open
        FROM "HandoverAssignment" a JOIN "HandoverPupil" p ON p."assignmentId" = a.id
       WHERE a."batchId" = ${batch.id} AND starts_with(a."regionCode", ${region})
       GROUP BY 1 ORDER BY 1`;
    return {
      handoverId: batch.id,
      year: batch.year,
      status: batch.status,
      clearedAt: batch.clearedAt ? batch.clearedAt.toISOString() : null,
      pupils: rows.reduce((n, r) => n + r.pupils, 0),
      registered: rows.reduce((n, r) => n + r.registered, 0),
      open: rows.reduce((n, r) => n + r.open, 0),
      towns: rows.map((r) => ({ townCode: r.town, pupils: r.pupils, registered: r.registered, open: r.open })),
    };
  }

  /** 巩固率 and 入学率 of the TREND_YEARS school years ending with `year`, computed now. */
  function trend(county: string, region: string, year: number) {
    return Promise.all(
      Array.from({ length: TREND_YEARS }, (_, i) => year - TREND_YEARS + 1 + i).map(async (y) => {
        const r = await retentionReportOf(prisma, county, region, y, { minAge: 6, maxAge: 14 });
        return { year: y, retentionRate: r.total.retention.rate, enrollmentRate: r.total.enrollment.rate };
      }),
    );
  }

  /** Writes to the tables the trend reads, as PostgreSQL's statistics count them (cheap; may lag ~1 s). */
  async function trendInputWrites(): Promise<string> {
    const [row] = await prisma.$queryRaw<{ writes: string }[]>`
      SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::text AS writes
        FROM pg_stat_user_tables
       WHERE schemaname = current_schema() AND relname IN ('RegistryRecord', 'Child', 'DepartmentListEntry')`;
    return row?.writes ?? '';
  }

  type Trend = Awaited<ReturnType<typeof trend>>;
  const trends = new Map<string, { writes: string; at: number; value: Trend; refreshing: boolean }>();
  const counting = new Map<string, Promise<{ at: number; value: Trend }>>();

  /**
   * The trend from memory: five school years of registers cost seconds to count (bench/dashboard.ts), so
   * it is computed once per county, region and school year, and again — in the background, the previous
   * one served meanwhile — once the registers, base lists or children have been written to and it is
   * over TREND_MIN_REFRESH_MS old, or in any case after TREND_MAX_AGE_MS (tests may pass shorter ones).
   * Each county's is counted at the API's start (supervisionRoutes); another region's by its first request.
   */
  async function cachedTrend(county: string, region: string, year: number): Promise<{ at: number; value: Trend }> {
    const key = `${county} ${region} ${year}`;
    const writes = await trendInputWrites();
    const hit = trends.get(key);
    if (!hit) {
      // Concurrent first requests share one count.
      let first = counting.get(key);
      if (!first) {
        const at = Date.now();
        first = trend(county, region, year)
          .then((value) => {
            const entry = { writes, at, value, refreshing: false };
            trends.set(key, entry);
            return entry;
          })
          .finally(() => counting.delete(key));
        counting.set(key, first);
      }
      return first;
    }
    const age = Date.now() - hit.at;
    const stale = age >= trendMaxAgeMs || (hit.writes !== writes && age >= trendMinRefreshMs);
    if (stale && !hit.refreshing) {
      hit.refreshing = true;
      const at = Date.now();
      trend(county, region, year).then(
        (value) => trends.set(key, { writes, at, value, refreshing: false }),
        () => (hit.refreshing = false),
      );
    }
    return hit;
  }

  /** The whole dashboard of `county` (default: the caller's) as of `asOf`. */
  async function answer(actor: Actor, countyCode: string | undefined, asOf: Date) {
    const county = countyCode ?? (await defaultCounty(actor));
    const region = reportRegion(actor, county);
    const today = chinaDay(asOf);
    const [townRows, cases, tasks, verificationRow, handoverRow, trendRows] = await Promise.all([
      towns(region),
      openCases(actor, region),
      tasksByTown(region, county, asOf),
      verification(actor, region, today),
      handover(actor, region),
      cachedTrend(county, region, schoolYearOf(today)),
    ]);
    return {
      county,
      region,
      asOf: asOf.toISOString(),
      towns: townRows,
      openCases: cases,
      tasks,
      verification: verificationRow,
      handover: handoverRow,
      trend: trendRows.value,
      trendComputedAt: new Date(trendRows.at).toISOString(),
    };
  }

  return { defaultCounty, towns, openCases, tasksByTown, verification, handover, trend, cachedTrend, answer };
}
const isUuid = (v: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);
