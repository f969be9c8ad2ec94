/**
 * The caseworker's inbox over the engine's user tasks: list (jurisdiction-scoped), claim, unclaim,
 * complete with the task type's form, and bulk completion for roster-style work.
 */
import type { FastifyInstance } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type UserTask, userTaskSchema } from '../../infra/camunda/records.js';
import { actorOf, type Actor } from '../auth/actor.js';
import { audit } from '../auth/audit.js';
import { completeTask, mapEngineRefusal, settle, type Submission } from '../tasks/completion.js';
import { AppError } from '../errors.js';
import { engineKey, INT4_MAX, MAX_PAGE_SIZE } from '../resources/list.js';
import { sqlPool } from '../../infra/db/prisma.js';
import { canWorkOn, groupsWithin, isSupervising, visibilityChecker } from '../tasks/access.js';
import { taskForms } from '../tasks/forms.js';
import { elementInfo } from '../tasks/clauses.js';
import { usersInGroup } from '../auth/groups.js';
import { formatCaseNumber } from '../../workers/open-dropout-case/handler.js';
import { subjectOf } from '../tasks/define-form.js';
import { CASE_STATUS_LABELS } from '../domain/case-status.js';
import { plainText } from '../domain/text.js';
import { errorResponse } from './shared.js';

/** Roster screens submit a class at a time; a class is well under this. */
const MAX_BULK = 200;

const keyParam = z.object({ key: engineKey });

const taskSchema = userTaskSchema.extend({
  /** The task type's Chinese title (its form's). */
  title: z.string(),
  overdue: z.boolean(),
  /** May the caller claim/complete it (false for tasks a supervisor only oversees). */
  actionable: z.boolean(),
});

/**
 * An inbox row: the task and which child (and case) it is about, and in which town — a dropout case's
 * task by its case, a verification's or a no-show's by the child its instance was started for, any other
 * by the unit it is assigned to.
 */
const taskRowSchema = taskSchema.extend({
  caseNumber: z.string().nullable(),
  childName: z.string().nullable(),
  townCode: z.string().nullable(),
  townName: z.string().nullable(),
  /** The assignee's name as people know it (the user's display name). */
  assigneeName: z.string().nullable(),
});
export type TaskRow = z.infer<typeof taskRowSchema>;

/** The inbox's query: which view, the filters, the order and the page. */
export const taskListQuery = z.object({
  /** group: my groups' and my own tasks (default); mine: claimed by me; all: my jurisdiction (supervisors). */
  view: z.enum(['group', 'mine', 'all']).default('group'),
  process: plainText(100).optional(),
  type: plainText(100).optional(),
  overdue: z.enum(['true', 'false']).optional(),
  dueBefore: z.iso.datetime({ offset: true }).optional(),
  assignee: plainText(64).optional(),
  unassigned: z.enum(['true', 'false']).optional(),
  town: z
    .string()
    .regex(/^\d{9}$/)
    .optional(),
  school: z.coerce.number().int().positive().optional(),
  processInstanceKey: engineKey.optional(),
  sort: z.enum(['dueDate', 'createdAt']).default('dueDate'),
  order: z.enum(['ASC', 'DESC']).default('ASC'),
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  perPage: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(25),
});
export type TaskListQuery = z.infer<typeof taskListQuery>;

/** Process variables that name the one child a task is about (the multi-instance elements of the diagrams). */
export const SUBJECT_VARIABLES = ['suspect', 'noShow'];

/**
 * The open tasks the caller's query selects, one page of them (`limit`/`offset`), each with its child and
 * town. Shared by the inbox and its export. Undefined when the query names a town outside the caller's.
 */
export async function listTasks(
  app: Pick<FastifyInstance, 'prisma' | 'records'>,
  actor: Actor,
  q: Omit<TaskListQuery, 'page' | 'perPage'>,
  page: { limit: number; offset: number },
): Promise<{ data: TaskRow[]; total: number }> {
  if (q.view === 'all' && !isSupervising(actor)) throw new AppError('FORBIDDEN');
  let groups = q.view === 'all' ? await groupsWithin(app.prisma, actor.regionCode) : actor.groups;
  if (q.town || q.school) {
    if (q.town && !q.town.startsWith(actor.regionCode) && !actor.regionCode.startsWith(q.town)) {
      return { data: [], total: 0 };
    }
    const narrow = new Set(
      await groupsWithin(app.prisma, q.town ?? actor.regionCode.slice(0, 6), { schoolId: q.school }),
    );
    groups = groups.filter((g) => narrow.has(g));
  }
  const { data, total, subjects } = await app.records.openUserTaskPage(
    {
      groupsAny: q.view === 'mine' ? undefined : groups,
      assigneeOrGroups: q.view === 'group' ? actor.username : undefined,
      assignee: q.view === 'mine' ? actor.username : q.assignee,
      unassigned: q.unassigned === 'true',
      bpmnProcessId: q.process,
      elementId: q.type,
      processInstanceKey: q.processInstanceKey,
      dueBefore: q.overdue === 'true' ? new Date() : q.dueBefore ? new Date(q.dueBefore) : undefined,
      sort: q.sort,
      order: q.order,
      limit: page.limit,
      offset: page.offset,
    },
    SUBJECT_VARIABLES,
  );
  return { data: await describeTasks(app, actor, data, subjects), total };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What the app database knows about a page's tasks (describeTasks' one statement). */
interface PageFacts {
  cases: { pik: string; serial: number; openedAt: string; regionCode: string; childName: string }[] | null;
  children: { id: string; name: string; regionCode: string }[] | null;
  units: { grp: string; town: string }[] | null;
  users: { username: string; displayName: string }[] | null;
  towns: { code: string; name: string }[] | null;
}

/**
 * Each task of a page with its child, case, town and assignee's name. One SQL statement on the app
 * database for the whole page (the tasks' cases with their children; the subjects' children; the schools
 * and classes of the candidate groups with their towns; the assignees; the names of every town involved),
 * instead of six prisma queries: the inbox is the API's busiest read (issue 17). The subjects (the child a
 * verification or a no-show task is about) came with the page from the engine (openUserTaskPage).
 */
async function describeTasks(
  app: Pick<FastifyInstance, 'prisma' | 'records'>,
  actor: Actor,
  tasks: UserTask[],
  subjects: Map<string, string>,
): Promise<TaskRow[]> {
  if (tasks.length === 0) return [];
  const schoolIds = new Set<number>();
  const classIds = new Set<number>();
  const townGroups = new Set<string>();
  for (const t of tasks) {
    for (const g of t.candidateGroups) {
      const [kind, id] = g.split(':');
      if (kind === 'school' && /^\d+$/.test(id ?? '')) schoolIds.add(Number(id));
      if (kind === 'class' && /^\d+$/.test(id ?? '')) classIds.add(Number(id));
      if (g.startsWith('town:')) townGroups.add(g.slice('town:'.length));
    }
  }
  const int4 = (ids: Set<number>) => [...ids].filter((id) => id <= INT4_MAX);
  const { rows } = await sqlPool(app.prisma).query<PageFacts>(
    `WITH cs AS (
       SELECT c."processInstanceKey" AS pik, c.serial, c."openedAt", c."regionCode", ch.name AS "childName"
         FROM "DropoutCase" c JOIN "Child" ch ON ch.id = c."childId"
        WHERE c."processInstanceKey" = ANY($1::text[])),
     kids AS (SELECT id::text AS id, name, "regionCode" FROM "Child" WHERE id = ANY($2::uuid[])),
     units AS (
       SELECT 'school:' || s.id AS grp, left(s."regionCode", 9) AS town FROM "School" s WHERE s.id = ANY($3::int[])
       UNION ALL
       SELECT 'class:' || c.id, left(s."regionCode", 9) FROM "SchoolClass" c JOIN "School" s ON s.id = c."schoolId"
        WHERE c.id = ANY($4::int[])),
     users AS (SELECT username, "displayName" FROM "User" WHERE username = ANY($5::text[])),
     towns AS (
       SELECT code, name FROM "Region"
        WHERE code IN (SELECT left("regionCode", 9) FROM cs UNION ALL SELECT left("regionCode", 9) FROM kids
                       UNION ALL SELECT town FROM units UNION ALL SELECT unnest($6::text[])))
     SELECT (SELECT json_agg(cs) FROM cs) AS cases, (SELECT json_agg(kids) FROM kids) AS children,
            (SELECT json_agg(units) FROM units) AS units, (SELECT json_agg(users) FROM users) AS users,
            (SELECT json_agg(towns) FROM towns) AS towns`,
    [
      [...new Set(tasks.map((t) => t.processInstanceKey))],
      [...new Set(subjects.values())].filter((id) => UUID.test(id)),
      int4(schoolIds),
      int4(classIds),
      [...new Set(tasks.flatMap((t) => (t.assignee ? [t.assignee] : [])))],
      [...townGroups],
    ],
  );
  const facts = rows[0]!;
  const caseOf = new Map((facts.cases ?? []).map((c) => [c.pik, c]));
  const child = new Map((facts.children ?? []).map((c) => [c.id, c]));
  const schoolTown = new Map((facts.units ?? []).map((u) => [u.grp, u.town]));
  const userName = new Map((facts.users ?? []).map((u) => [u.username, u.displayName]));
  const townName = new Map((facts.towns ?? []).map((r) => [r.code, r.name]));
  const townOfGroups = (groups: string[]): string | null => {
    for (const g of groups) {
      if (g.startsWith('town:')) return g.slice('town:'.length);
      const town = schoolTown.get(g);
      if (town) return town;
    }
    return null;
  };
  const now = new Date();
  return tasks.map((t) => {
    const c = caseOf.get(t.processInstanceKey);
    // The child of a verification or a no-show counts only for a task of no case.
    const subject = c ? undefined : child.get(subjects.get(t.userTaskKey) ?? '');
    const townCode = (c?.regionCode ?? subject?.regionCode)?.slice(0, 9) ?? townOfGroups(t.candidateGroups);
    return {
      ...present(actor, t, now),
      caseNumber: c ? formatCaseNumber(c.serial, new Date(c.openedAt)) : null,
      childName: c?.childName ?? subject?.name ?? null,
      townCode,
      townName: townCode ? (townName.get(townCode) ?? null) : null,
      assigneeName: t.assignee ? (userName.get(t.assignee) ?? t.assignee) : null,
    };
  });
}

/** A task as the API shows it: its title, whether it is overdue and whether the caller may act on it. */
function present(actor: Actor, t: UserTask, now = new Date()): z.infer<typeof taskSchema> {
  return {
    ...t,
    title: taskForms[t.elementId]?.title ?? t.elementId,
    overdue: !!t.dueDate && new Date(t.dueDate) < now,
    actionable: canWorkOn(actor, t),
  };
}

const choiceSchema = z.object({ id: z.union([z.string(), z.number()]), name: z.string() });

/** Everything the console shows around a task's form. */
const taskContextSchema = z.object({
  task: taskSchema,
  /** The task's documentation in the diagram version its instance runs: the clause behind it. */
  clause: z.string().nullable(),
  case: z
    .object({
      id: z.string(),
      caseNumber: z.string(),
      status: z.string(),
      statusLabel: z.string(),
      schoolName: z.string(),
    })
    .nullable(),
  subject: z
    .object({
      childId: z.string(),
      name: z.string(),
      gender: z.string(),
      /** Year and month of birth ("2015-07"): the date would unmask the ID number. */
      birthMonth: z.string(),
      idNumber: z.string().nullable(),
      detail: z.string().nullable(),
    })
    .nullable(),
  /** What a task not about one child is about, in one line (the department lists still missing…). */
  summary: z.string().nullable(),
  initial: z.record(z.string(), z.unknown()),
  lines: z.record(z.string(), z.string()),
  choices: z.record(z.string(), z.array(choiceSchema)),
  attachments: z.array(
    z.object({
      id: z.string(),
      fileName: z.string(),
      contentType: z.string(),
      size: z.number(),
      uploadedAt: z.string(),
    }),
  ),
  /** Who the task may be reassigned to (members of its candidate groups). */
  candidates: z.array(z.object({ username: z.string(), displayName: z.string() })),
});

export const taskRoutes: FastifyPluginAsyncZod = async (app) => {
  /** The task, if the caller may see it; otherwise "not found", so keys cannot be probed. */
  async function visibleTask(actor: Actor, key: string): Promise<UserTask> {
    const task = await app.records.userTask(key);
    if (!task || !(await visibilityChecker(app.prisma, actor)(task))) throw new AppError('TASK_NOT_FOUND');
    return task;
  }

  /** A visible task that is still open (claim, unclaim). */
  async function openTask(actor: Actor, key: string): Promise<UserTask> {
    const task = await visibleTask(actor, key);
    if (task.state !== 'CREATED') throw new AppError('TASK_NOT_OPEN');
    return task;
  }

  /** Validates a submission without doing anything: the error, or the task with its form and parsed input. */
  function check(actor: Actor, task: UserTask, body: unknown) {
    if (task.state !== 'CREATED') return { error: new AppError('TASK_NOT_OPEN') };
    if (!canWorkOn(actor, task)) return { error: new AppError('TASK_NOT_YOURS') };
    const form = taskForms[task.elementId];
    if (!form) return { error: new AppError('UNKNOWN_TASK_TYPE', { elementId: task.elementId }) };
    const input = form.schema.safeParse(body);
    if (!input.success) {
      const fields = input.error.issues.map((i) => ({ path: i.path.map(String), message: i.message }));
      return { error: new AppError('FORM_INVALID', fields) };
    }
    return { submission: { task, form, body, input: input.data } };
  }

  const completion = { prisma: app.prisma, engine: app.engine, records: app.records, ...app.completionFaults };
  const complete = (actor: Actor, submission: Submission, ip: string) =>
    completeTask(completion, actor, submission, ip);

  app.get(
    '/api/tasks',
    {
      schema: {
        tags: ['tasks'],
        summary: 'The caller’s open user tasks (own groups and own claims; supervisors: their jurisdiction)',
        querystring: taskListQuery,
        response: {
          200: z.object({ data: z.array(taskRowSchema), total: z.number() }),
          400: errorResponse,
          403: errorResponse,
        },
      },
    },
    async (req) => {
      const q = req.query;
      return listTasks(app, actorOf(req), q, { limit: q.perPage, offset: (q.page - 1) * q.perPage });
    },
  );

  app.get(
    '/api/tasks/:key',
    {
      schema: {
        tags: ['tasks'],
        summary: 'One user task in its latest state',
        params: keyParam,
        response: { 200: taskSchema, 404: errorResponse },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      return present(actor, await visibleTask(actor, req.params.key));
    },
  );

  app.get(
    '/api/tasks/:key/context',
    {
      schema: {
        tags: ['tasks'],
        summary: 'A task with what its form shows: the child, the case, the statute clause, prefilled lines, options',
        params: keyParam,
        response: { 200: taskContextSchema, 404: errorResponse },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const task = await visibleTask(actor, req.params.key);
      const form = taskForms[task.elementId];
      const [info, found, attachments, candidates] = await Promise.all([
        elementInfo(app.records, task.processDefinitionKey, task.elementId),
        app.prisma.dropoutCase.findUnique({
          where: { processInstanceKey: task.processInstanceKey },
          include: { child: true, school: { select: { name: true } } },
        }),
        app.prisma.attachment.findMany({
          where: { userTaskKey: task.userTaskKey },
          select: { id: true, fileName: true, contentType: true, size: true, uploadedAt: true },
          orderBy: { uploadedAt: 'asc' },
        }),
        app.prisma.user.findMany({
          where: { active: true, OR: task.candidateGroups.map(usersInGroup) },
          select: { username: true, displayName: true },
          orderBy: { username: 'asc' },
          take: 100,
        }),
      ]);
      const prepared =
        task.state === 'CREATED' && form?.prepare
          ? await form.prepare(app.prisma, task, actor, { variables: () => app.records.taskVariables(task) })
          : {};
      await audit(app.prisma, actor, {
        action: 'READ_PERSONAL',
        entity: 'UserTask',
        entityId: task.userTaskKey,
        details: { elementId: task.elementId, childId: found?.childId ?? prepared.subject?.childId ?? null },
        ip: req.ip,
      });
      return {
        task: present(actor, task),
        clause: info?.documentation ?? null,
        case: found && {
          id: found.id,
          caseNumber: formatCaseNumber(found.serial, found.openedAt),
          status: found.status,
          statusLabel: CASE_STATUS_LABELS[found.status],
          schoolName: found.school.name,
        },
        subject: prepared.subject ?? (found ? subjectOf(found.child, `辍学报告：${found.reason ?? ''}`) : null),
        summary: prepared.summary ?? null,
        initial: prepared.initial ?? {},
        lines: prepared.lines ?? {},
        choices: prepared.choices ?? {},
        attachments: attachments.map((a) => ({ ...a, uploadedAt: a.uploadedAt.toISOString() })),
        candidates: task.candidateGroups.length ? candidates : [],
      };
    },
  );

  app.post(
    '/api/tasks/:key/claim',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Claim a task of one of my groups',
        params: keyParam,
        response: { 204: z.null(), 403: errorResponse, 404: errorResponse, 409: errorResponse },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const task = await openTask(actor, req.params.key);
      if (!task.candidateGroups.some((g) => actor.groups.includes(g))) throw new AppError('TASK_NOT_YOURS');
      if (task.assignee && task.assignee !== actor.username) throw new AppError('TASK_NOT_YOURS');
      await app.engine.assignUserTask(task.userTaskKey, actor.username).catch(mapEngineRefusal);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/tasks/:key/unclaim',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Give a claimed task back to its group (the assignee, or a supervisor of the jurisdiction)',
        params: keyParam,
        response: { 204: z.null(), 403: errorResponse, 404: errorResponse, 409: errorResponse },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const task = await openTask(actor, req.params.key);
      if (task.assignee !== actor.username && !isSupervising(actor)) throw new AppError('TASK_NOT_YOURS');
      await app.engine.unassignUserTask(task.userTaskKey).catch(mapEngineRefusal);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/tasks/:key/assign',
    {
      schema: {
        tags: ['tasks'],
        summary:
          'Reassign a task to a member of its candidate groups (a supervisor of the jurisdiction, or a group member)',
        params: keyParam,
        body: z.object({ assignee: z.string().trim().min(1, '请选择办理人').max(64) }),
        response: { 204: z.null(), 403: errorResponse, 404: errorResponse, 409: errorResponse, 422: errorResponse },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const task = await openTask(actor, req.params.key);
      const inGroup = task.candidateGroups.some((g) => actor.groups.includes(g));
      if (!inGroup && !isSupervising(actor)) throw new AppError('TASK_NOT_YOURS');
      const target = await app.prisma.user.findFirst({
        where: { username: req.body.assignee, active: true, OR: task.candidateGroups.map(usersInGroup) },
      });
      if (!target) {
        throw new AppError('FORM_INVALID', [{ path: ['assignee'], message: '只能转办给本任务所属单位的在岗人员' }]);
      }
      await app.engine.assignUserTask(task.userTaskKey, target.username).catch(mapEngineRefusal);
      await audit(app.prisma, actor, {
        action: 'UPDATE',
        entity: 'UserTask',
        entityId: task.userTaskKey,
        details: { assign: { from: task.assignee, to: target.username } },
        ip: req.ip,
      });
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/tasks/:key/submission',
    {
      schema: {
        tags: ['tasks'],
        summary:
          'What became of the last submission of a task (after an interrupted submit): COMPLETED, PENDING or NOT_SUBMITTED',
        params: keyParam,
        response: {
          200: z.object({ state: z.enum(['COMPLETED', 'PENDING', 'NOT_SUBMITTED']) }),
          404: errorResponse,
        },
      },
    },
    async (req) => {
      await visibleTask(actorOf(req), req.params.key);
      return { state: await settle(completion, req.params.key) };
    },
  );

  app.post(
    '/api/tasks/:key/complete',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Complete a task with its form’s data (422 names every invalid field)',
        params: keyParam,
        body: z.record(z.string(), z.unknown()),
        response: {
          204: z.null(),
          400: errorResponse,
          403: errorResponse,
          404: errorResponse,
          409: errorResponse,
          422: errorResponse,
        },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const checked = check(actor, await visibleTask(actor, req.params.key), req.body);
      if (checked.error) throw checked.error;
      await complete(actor, checked.submission, req.ip);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/tasks/bulk-complete',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Complete many tasks at once (roster work): all are checked first; if any is invalid, none is done',
        body: z.object({
          tasks: z
            .array(z.object({ key: keyParam.shape.key, data: z.record(z.string(), z.unknown()) }))
            .min(1)
            .max(MAX_BULK),
        }),
        response: {
          200: z.object({
            results: z.array(
              z.object({ key: z.string(), ok: z.boolean(), error: errorResponse.shape.error.optional() }),
            ),
          }),
          400: errorResponse,
          422: errorResponse,
        },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const keys = req.body.tasks.map((t) => t.key);
      if (new Set(keys).size !== keys.length) {
        throw new AppError('VALIDATION_FAILED', [{ path: ['tasks'], message: '同一任务不能重复提交' }]);
      }
      const tasks = await app.records.userTasks(keys);
      const canSee = visibilityChecker(app.prisma, actor);
      const checked = await Promise.all(
        req.body.tasks.map(async ({ key, data }, index) => {
          const task = tasks.get(key);
          if (!task || !(await canSee(task))) return { index, error: new AppError('TASK_NOT_FOUND') };
          return { index, ...check(actor, task, data) };
        }),
      );
      const invalid = checked.filter((c) => c.error !== undefined);
      if (invalid.length) {
        throw new AppError(
          'FORM_INVALID',
          invalid.map((p) => ({
            index: p.index,
            key: keys[p.index],
            code: p.error.code,
            message: p.error.message,
            details: p.error.details,
          })),
          '部分任务不能提交，全部未办理；请按提示修改后重新提交。',
        );
      }
      // The engine completes tasks one by one; each completion is all-or-nothing with its records.
      const results = [];
      for (const { submission } of checked) {
        const key = submission!.task.userTaskKey;
        try {
          await complete(actor, submission!, req.ip);
          results.push({ key, ok: true });
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          results.push({ key, ok: false, error: { code: err.code, message: err.message } });
        }
      }
      return { results };
    },
  );
};
