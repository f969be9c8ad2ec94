/**
 * How a county flow is going, per town: the bureau follows its enrollment campaign and its whole-class
 * handover here (the console's 入学核查 and 整班移交 pages). Counts only — the children behind them are
 * in the suspects and roster lists (rosters.ts), masked as every list. A town sees its own row.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, type Actor } from '../auth/actor.js';
import { PROGRESS_ROLES } from '../auth/duties.js';
import { scope } from '../auth/scope.js';
import { AppError } from '../errors.js';
import { intIdParam } from '../resources/list.js';
import { taskForms } from '../tasks/forms.js';
import { errorResponse } from './shared.js';

const taskCounts = z.object({ open: z.number(), overdue: z.number() });

const campaignProgressSchema = z.object({
  campaignId: z.number(),
  /** The latest round any suspect has reached. */
  round: z.number(),
  towns: z.array(
    z.object({
      regionCode: z.string(),
      name: z.string(),
      /** Children on the suspect list (each once, whatever the round). */
      suspects: z.number(),
      /** Of them, still without an outcome in their latest round: who is still open. */
      pending: z.number(),
      verified: z.number(),
      tasks: taskCounts,
    }),
  ),
  /** Open tasks of the flow outside the towns (the bureau's, the police's), and all of them. */
  county: taskCounts,
  total: z.object({ suspects: z.number(), pending: z.number(), verified: z.number(), tasks: taskCounts }),
  /** The open tasks by type, overdue first. */
  byType: z.array(z.object({ elementId: z.string(), title: z.string(), open: z.number(), overdue: z.number() })),
});

const handoverProgressSchema = z.object({
  handoverId: z.number(),
  towns: z.array(
    z.object({
      regionCode: z.string(),
      name: z.string(),
      classes: z.number(),
      /** 交接表 signed by all four (sending, receiving, town, bureau). */
      signed: z.number(),
      pupils: z.number(),
      registered: z.number(),
      /** Not registered and not yet traced to a placement: who is still open. */
      open: z.number(),
      tasks: taskCounts,
    }),
  ),
  county: taskCounts,
  total: z.object({
    classes: z.number(),
    signed: z.number(),
    pupils: z.number(),
    registered: z.number(),
    open: z.number(),
    tasks: taskCounts,
  }),
  byType: z.array(z.object({ elementId: z.string(), title: z.string(), open: z.number(), overdue: z.number() })),
});

interface OpenTaskRow {
  element_id: string;
  candidate_groups: string[];
  overdue: boolean;
}

export const progressRoutes: FastifyPluginAsyncZod = async (app) => {
  /** The open user tasks of an instance and every instance it called, however deep. */
  async function openTasksUnder(processInstanceKey: string | null): Promise<OpenTaskRow[]> {
    if (!processInstanceKey || !/^\d{1,19}$/.test(processInstanceKey)) return [];
    const { rows } = await app.records.pool.query<OpenTaskRow>(
      `WITH RECURSIVE tree(key, depth) AS (
         SELECT $1::bigint, 0
         UNION ALL
         SELECT p.key, tree.depth + 1 FROM engine_process_instance p JOIN tree ON p.parent_process_instance_key = tree.key
          WHERE tree.depth < 8)
       SELECT t.element_id, t.candidate_groups, coalesce(t.due_date < now(), false) AS overdue
         FROM engine_user_task t JOIN tree ON t.process_instance_key = tree.key
        WHERE t.state = 'CREATED'`,
      [processInstanceKey],
    );
    return rows;
  }

  /**
   * Which town each task belongs to (its candidate group: a town, or a school or class of the town);
   * null for the county's own offices.
   */
  async function townsOfTasks(tasks: OpenTaskRow[]): Promise<(string | null)[]> {
    const ids = (prefix: string) =>
      [...new Set(tasks.flatMap((t) => t.candidate_groups.filter((g) => g.startsWith(prefix))))].map((g) =>
        Number(g.slice(prefix.length)),
      );
    const [schools, classes] = await Promise.all([
      app.prisma.school.findMany({ where: { id: { in: ids('school:') } }, select: { id: true, regionCode: true } }),
      app.prisma.schoolClass.findMany({ where: { id: { in: ids('class:') } }, select: { id: true, regionCode: true } }),
    ]);
    const school = new Map(schools.map((s) => [`school:${s.id}`, s.regionCode]));
    const klass = new Map(classes.map((c) => [`class:${c.id}`, c.regionCode]));
    return tasks.map((t) => {
      for (const g of t.candidate_groups) {
        if (g.startsWith('town:')) return g.slice('town:'.length);
        const town = school.get(g) ?? klass.get(g);
        if (town) return town;
      }
      return null;
    });
  }

  /** Open and overdue task counts per town, the county's own, and by task type — within the caller's region. */
  async function tally(actor: Actor, processInstanceKey: string | null) {
    const tasks = await openTasksUnder(processInstanceKey);
    const towns = await townsOfTasks(tasks);
    const perTown = new Map<string, { open: number; overdue: number }>();
    const county = { open: 0, overdue: 0 };
    const byType = new Map<string, { open: number; overdue: number }>();
    tasks.forEach((t, i) => {
      const town = towns[i] ?? null;
      // A town counts only its own tasks; the county's offices are the county's.
      if (actor.role === 'TOWN' && town !== actor.regionCode) return;
      const bucket = town ? (perTown.get(town) ?? perTown.set(town, { open: 0, overdue: 0 }).get(town)!) : county;
      bucket.open++;
      if (t.overdue) bucket.overdue++;
      const type = byType.get(t.element_id) ?? byType.set(t.element_id, { open: 0, overdue: 0 }).get(t.element_id)!;
      type.open++;
      if (t.overdue) type.overdue++;
    });
    return {
      perTown,
      county,
      byType: [...byType.entries()]
        .map(([elementId, c]) => ({ elementId, title: taskForms[elementId]?.title ?? elementId, ...c }))
        .sort((a, b) => b.overdue - a.overdue || b.open - a.open),
    };
  }

  async function townNames(codes: string[]): Promise<Map<string, string>> {
    const rows = await app.prisma.region.findMany({
      where: { code: { in: codes } },
      select: { code: true, name: true },
    });
    return new Map(rows.map((r) => [r.code, r.name]));
  }

  const sum = <T extends Record<string, unknown>>(rows: T[], key: keyof T) =>
    rows.reduce((n, r) => n + (r[key] as number), 0);

  app.get(
    '/api/campaigns/:id/progress',
    {
      config: { roles: PROGRESS_ROLES },
      schema: {
        tags: ['campaigns'],
        summary: 'An enrollment campaign per town: suspects, still open, verified; open and overdue tasks',
        params: intIdParam,
        response: { 200: campaignProgressSchema, 403: errorResponse, 404: errorResponse },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const campaign = await app.prisma.campaign.findFirst({
        where: { AND: [{ id: req.params.id }, scope.campaigns(actor)] },
      });
      if (!campaign) throw new AppError('NOT_FOUND');
      const suspects = await app.prisma.suspectedChild.findMany({
        where: { AND: [{ campaignId: campaign.id }, { regionCode: { startsWith: actor.regionCode } }] },
        select: { childId: true, regionCode: true, round: true, outcomeCode: true },
        orderBy: { round: 'asc' },
      });
      // Each child's latest round decides whether it is still open.
      const latest = new Map<string, (typeof suspects)[number]>();
      for (const s of suspects) latest.set(s.childId, s);
      const counts = new Map<string, { suspects: number; pending: number; verified: number }>();
      for (const s of latest.values()) {
        const c =
          counts.get(s.regionCode) ??
          counts.set(s.regionCode, { suspects: 0, pending: 0, verified: 0 }).get(s.regionCode)!;
        c.suspects++;
        if (s.outcomeCode === null) c.pending++;
        else c.verified++;
      }
      const { perTown, county, byType } = await tally(actor, campaign.processInstanceKey);
      const codes = [...new Set([...counts.keys(), ...perTown.keys()])].sort();
      const names = await townNames(codes);
      const towns = codes.map((code) => ({
        regionCode: code,
        name: names.get(code) ?? code,
        ...(counts.get(code) ?? { suspects: 0, pending: 0, verified: 0 }),
        tasks: perTown.get(code) ?? { open: 0, overdue: 0 },
      }));
      const townTasks = towns.map((t) => t.tasks);
      return {
        campaignId: campaign.id,
        round: suspects.reduce((r, s) => Math.max(r, s.round), 0),
        towns,
        county,
        total: {
          suspects: sum(towns, 'suspects'),
          pending: sum(towns, 'pending'),
          verified: sum(towns, 'verified'),
          tasks: {
            open: sum(townTasks, 'open') + county.open,
            overdue: sum(townTasks, 'overdue') + county.overdue,
          },
        },
        byType,
      };
    },
  );

  app.get(
    '/api/handovers/:id/progress',
    {
      config: { roles: PROGRESS_ROLES },
      schema: {
        tags: ['handovers'],
        summary: 'A whole-class handover per town: classes, signed 交接表, pupils registered and still open; tasks',
        params: intIdParam,
        response: { 200: handoverProgressSchema, 403: errorResponse, 404: errorResponse },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const batch = await app.prisma.handoverBatch.findFirst({
        where: { AND: [{ id: req.params.id }, scope.handovers(actor)] },
      });
      if (!batch) throw new AppError('NOT_FOUND');
      const assignments = await app.prisma.handoverAssignment.findMany({
        where: { batchId: batch.id, regionCode: { startsWith: actor.regionCode } },
        select: {
          id: true,
          regionCode: true,
          sendingSignedAt: true,
          receivingSignedAt: true,
          townSignedAt: true,
          bureauSignedAt: true,
        },
      });
      const pupils = await app.prisma.handoverPupil.groupBy({
        by: ['assignmentId', 'status'],
        where: { assignmentId: { in: assignments.map((a) => a.id) } },
        _count: { _all: true },
      });
      const townOf = new Map(assignments.map((a) => [a.id, a.regionCode]));
      const counts = new Map<
        string,
        { classes: number; signed: number; pupils: number; registered: number; open: number }
      >();
      const row = (code: string) =>
        counts.get(code) ?? counts.set(code, { classes: 0, signed: 0, pupils: 0, registered: 0, open: 0 }).get(code)!;
      for (const a of assignments) {
        const c = row(a.regionCode);
        c.classes++;
        if (a.sendingSignedAt && a.receivingSignedAt && a.townSignedAt && a.bureauSignedAt) c.signed++;
      }
      for (const p of pupils) {
        const c = row(townOf.get(p.assignmentId)!);
        c.pupils += p._count._all;
        if (p.status === 'REGISTERED') c.registered += p._count._all;
        if (p.status === 'PENDING' || p.status === 'NO_SHOW') c.open += p._count._all;
      }
      const { perTown, county, byType } = await tally(actor, batch.processInstanceKey);
      const codes = [...new Set([...counts.keys(), ...perTown.keys()])].sort();
      const names = await townNames(codes);
      const towns = codes.map((code) => ({
        regionCode: code,
        name: names.get(code) ?? code,
        ...(counts.get(code) ?? { classes: 0, signed: 0, pupils: 0, registered: 0, open: 0 }),
        tasks: perTown.get(code) ?? { open: 0, overdue: 0 },
      }));
      const townTasks = towns.map((t) => t.tasks);
      return {
        handoverId: batch.id,
        towns,
        county,
        total: {
          classes: sum(towns, 'classes'),
          signed: sum(towns, 'signed'),
          pupils: sum(towns, 'pupils'),
          registered: sum(towns, 'registered'),
          open: sum(towns, 'open'),
          tasks: {
            open: sum(townTasks, 'open') + county.open,
            overdue: sum(townTasks, 'overdue') + county.overdue,
          },
        },
        byType,
      };
    },
  );
};
