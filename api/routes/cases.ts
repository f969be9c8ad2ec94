/**
 * 一人一案: dropout cases in the caller's jurisdiction, the caseworker's edits (analysis, plan,
 * responsible person) and the timeline of everything that happened on a case.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CaseOutcome, CaseStatus, type Prisma } from '../../generated/prisma/client.js';
import { formatCaseNumber } from '../../workers/open-dropout-case/handler.js';
import { actorOf, type Actor } from '../auth/actor.js';
import { audit } from '../auth/audit.js';
import { casesSql, likeContains, likePrefix, likeText, scope, type SqlParam } from '../auth/scope.js';
import { type Prisma as PrismaClient, sqlPool } from '../../infra/db/prisma.js';
import { chinaDay } from '../domain/china-time.js';
import { chineseDate, DOCUMENT_TITLE } from '../domain/documents.js';
import { maskIdNumber } from '../domain/mask.js';
import { multilineText, plainText } from '../domain/text.js';
import { AppError } from '../errors.js';
import { intIdQuery, listQuery, listResponse, uuidParam } from '../resources/list.js';
import { taskForms } from '../tasks/forms.js';
import { taskSchemasByFlow } from '../tasks/schemas/index.js';
import { contentDisposition, errorResponse } from './shared.js';
import { CASE_OUTCOME_LABELS, OPEN_CASE_STATUSES } from '../domain/case-status.js';
import { reasonCodeLabel } from '../reports/labels.js';

const caseSchema = z.object({
  id: z.string(),
  caseNumber: z.string(),
  childId: z.string(),
  childName: z.string(),
  childIdNumber: z.string().nullable(),
  schoolId: z.number(),
  schoolName: z.string(),
  classId: z.number().nullable(),
  regionCode: z.string(),
  status: z.enum(CaseStatus),
  outcome: z.enum(CaseOutcome).nullable(),
  lastAttendance: z.string().nullable(),
  reason: z.string().nullable(),
  reasonCode: z.string().nullable(),
  /** The code with its meaning ("A2 厌学辍学"), as the console and documents show it. */
  reasonLabel: z.string().nullable(),
  plan: z.string().nullable(),
  responsiblePerson: z.string().nullable(),
  processInstanceKey: z.string(),
  openedAt: z.string(),
  closedAt: z.string().nullable(),
});

export const caseInclude = {
  child: { select: { name: true, idNumber: true } },
  school: { select: { name: true } },
} as const;
const include = caseInclude;
export type CaseRow = Prisma.DropoutCaseGetPayload<{ include: typeof include }>;

export const caseFilters = listQuery(['openedAt', 'status', 'regionCode', 'serial'] as const).extend({
  /** The child's name (or part of it), or the case number (辍-2026-000012, or just its serial). */
  q: plainText(50).optional(),
  status: z.enum(CaseStatus).optional(),
  regionCode: z
    .string()
    .regex(/^\d{2,12}$/)
    .optional(),
  schoolId: intIdQuery.optional(),
  childId: z.uuid().optional(),
  open: z.enum(['true', 'false']).optional(),
});
export type CaseFilters = z.infer<typeof caseFilters>;

/** A case number as people type it: 辍-2026-000012, 2026-12, 000012 or 12 → its year (if given) and serial. */
export function parseCaseNumber(text: string): { year?: number; serial: number } | undefined {
  const m = /^(?:辍\s*[-－]?\s*)?(?:(\d{4})\s*[-－]\s*)?(\d{1,9})$/.exec(text.trim());
  if (!m) return undefined;
  const serial = Number(m[2]);
  if (serial < 1 || serial > 2_147_483_647) return undefined;
  return { year: m[1] ? Number(m[1]) : undefined, serial };
}

/** The list's `where`: the caller's scope AND every filter given. */
export function caseWhere(actor: Actor, q: CaseFilters): Prisma.DropoutCaseWhereInput {
  const number = q.q ? parseCaseNumber(q.q) : undefined;
  return {
    AND: [
      scope.cases(actor),
      q.id ? { id: { in: q.id.filter((v) => z.uuid().safeParse(v).success) } } : {},
      q.q
        ? {
            OR: [
              { child: { name: likeText.contains(q.q) } },
              // The year of a case number is the Beijing year of its opening; the serial alone is unique.
              ...(number ? [{ serial: number.serial }] : []),
            ],
          }
        : {},
      q.status ? { status: q.status } : {},
      q.regionCode ? { regionCode: { startsWith: q.regionCode } } : {},
      q.schoolId ? { schoolId: q.schoolId } : {},
      q.childId ? { childId: q.childId } : {},
      q.open ? { closedAt: q.open === 'true' ? null : { not: null } } : {},
    ],
  };
}

/** Sort columns of the case list (listQuery's enum) as SQL. */
const CASE_SORT = { openedAt: 'openedAt', status: 'status', regionCode: 'regionCode', serial: 'serial' } as const;

/**
 * One page of the case list and its total in one SQL statement on prisma's pool: the caller's scope
 * (casesSql, the same rule as scope.cases) AND every filter of caseWhere, in the list's order (ties by id,
 * as paging() orders). The API's busiest list: as two prisma queries (page with child and school, count)
 * prisma's query interpretation was most of its CPU (issue 17). tests/integration/list-sql.test.ts checks
 * it against caseWhere for every demo user and filter.
 */
export async function listCases(
  prisma: PrismaClient,
  actor: Actor,
  q: CaseFilters,
): Promise<{ data: z.infer<typeof caseSchema>[]; total: number }> {
  const params: unknown[] = [];
  const param: SqlParam = (v) => {
    params.push(v);
    return `$${params.length}`;
  };
  const where = [casesSql(actor, param)];
  if (q.id) {
    const ids = q.id.filter((v) => z.uuid().safeParse(v).success);
    where.push(`c.id = ANY(${param(ids)}::uuid[])`);
  }
  if (q.q) {
    const number = parseCaseNumber(q.q);
    const name = `EXISTS (SELECT 1 FROM "Child" k WHERE k.id = c."childId" AND k.name LIKE ${param(likeContains(q.q))})`;
    where.push(number ? `(${name} OR c.serial = ${param(number.serial)}::int)` : name);
  }
  if (q.status) where.push(`c.status = ${param(q.status)}::"CaseStatus"`);
  if (q.regionCode) where.push(`c."regionCode" LIKE ${param(likePrefix(q.regionCode))}`);
  if (q.schoolId) where.push(`c."schoolId" = ${param(q.schoolId)}::int`);
  if (q.childId) where.push(`c."childId" = ${param(q.childId)}::uuid`);
  if (q.open) where.push(q.open === 'true' ? `c."closedAt" IS NULL` : `c."closedAt" IS NOT NULL`);
  const sort = `c."${CASE_SORT[q.sort ?? 'openedAt']}" ${q.order === 'DESC' ? 'DESC' : 'ASC'}, c.id ASC`;
  const { rows } = await sqlPool(prisma).query<(SqlCaseRow & { total: string }) | { id: null; total: string }>(
    `SELECT page.*, n.total
       FROM (SELECT count(*) AS total FROM "DropoutCase" c WHERE ${where.join(' AND ')}) n
       LEFT JOIN LATERAL (
         SELECT c.id, c.serial, c."childId", c."schoolId", c."classId", c."regionCode", c.status, c.outcome, to_char(c."lastAttendance", 'YYYY-MM-DD') AS "lastAttendance", c.reason,
                c."reasonCode", c.plan, c."responsiblePerson", c."processInstanceKey", c."openedAt", c."closedAt", k.name AS "childName", k."idNumber" AS "childIdNumber", s.name AS "schoolName"
           FROM "DropoutCase" c JOIN "Child" k ON k.id = c."childId" JOIN "School" s ON s.id = c."schoolId"
          WHERE ${where.join(' AND ')}
          ORDER BY ${sort} LIMIT ${param(q.perPage)} OFFSET ${param((q.page - 1) * q.perPage)}) page ON true
      ORDER BY ${sort.replaceAll('c.', 'page.')}`,
    params,
  );
  return {
    data: rows.flatMap((r) =>
      r.id === null
        ? []
        : [
            toCase({
              ...r,
              lastAttendance: r.lastAttendance ? new Date(`${r.lastAttendance}T00:00:00Z`) : null,
              child: { name: r.childName, idNumber: r.childIdNumber },
              school: { name: r.schoolName },
            }),
          ],
    ),
    total: rows[0] ? Number(rows[0].total) : 0,
  };
}

/** A row of listCases' statement: the case's columns, its child's name and ID number, its school's name. */
type SqlCaseRow = Omit<CaseView, 'child' | 'school' | 'lastAttendance'> & {
  lastAttendance: string | null;
  childName: string;
  childIdNumber: string;
  schoolName: string;
};

/** What toCase reads of a case (a prisma row with caseInclude, or a row of listCases' statement). */
type CaseView = Pick<
  CaseRow,
  | 'id'
  | 'serial'
  | 'openedAt'
  | 'childId'
  | 'child'
  | 'schoolId'
  | 'school'
  | 'classId'
  | 'regionCode'
  | 'status'
  | 'outcome'
  | 'lastAttendance'
  | 'reason'
  | 'reasonCode'
  | 'plan'
  | 'responsiblePerson'
  | 'processInstanceKey'
  | 'closedAt'
>;

export function toCase(c: CaseView): z.infer<typeof caseSchema> {
  return {
    id: c.id,
    caseNumber: formatCaseNumber(c.serial, c.openedAt),
    childId: c.childId,
    childName: c.child.name,
    // The case file is not the child's record page: the ID number stays masked here too.
    childIdNumber: maskIdNumber(c.child.idNumber),
    schoolId: c.schoolId,
    schoolName: c.school.name,
    classId: c.classId,
    regionCode: c.regionCode,
    status: c.status,
    outcome: c.outcome,
    lastAttendance: c.lastAttendance?.toISOString().slice(0, 10) ?? null,
    reason: c.reason,
    reasonCode: c.reasonCode,
    reasonLabel: reasonCodeLabel(c.reasonCode),
    plan: c.plan,
    responsiblePerson: c.responsiblePerson,
    processInstanceKey: c.processInstanceKey,
    openedAt: c.openedAt.toISOString(),
    closedAt: c.closedAt?.toISOString() ?? null,
  };
}

const timelineEntry = z.object({
  at: z.string(),
  kind: z.string(),
  title: z.string(),
  actor: z.string().nullable(),
  note: z.string().nullable(),
  documentNumber: z.string().nullable(),
  /** Download at /api/cases/:id/documents/:documentId. */
  documentId: z.uuid().nullable(),
  /** Download at /api/attachments/:attachmentId. */
  attachmentId: z.uuid().nullable(),
});

export const casesRoutes: FastifyPluginAsyncZod = async (app) => {
  async function findScoped(req: Parameters<typeof actorOf>[0], id: string) {
    const c = await app.prisma.dropoutCase.findFirst({ where: { AND: [{ id }, scope.cases(actorOf(req))] }, include });
    if (!c) throw new AppError('NOT_FOUND');
    return c;
  }

  app.get(
    '/api/cases',
    {
      schema: {
        tags: ['cases'],
        summary: 'Dropout cases (一人一案) in the caller’s jurisdiction',
        querystring: caseFilters,
        response: { 200: listResponse(caseSchema), 400: errorResponse },
      },
    },
    async (req) => {
      return listCases(app.prisma, actorOf(req), req.query);
    },
  );

  app.get(
    '/api/cases/:id',
    {
      schema: {
        tags: ['cases'],
        summary: 'One case',
        params: uuidParam,
        response: { 200: caseSchema, 404: errorResponse },
      },
    },
    async (req) => toCase(await findScoped(req, req.params.id)),
  );

  app.put(
    '/api/cases/:id',
    {
      config: { roles: ['SCHOOL', 'TOWN', 'BUREAU', 'ADMIN'] },
      schema: {
        tags: ['cases'],
        summary: 'Record the analysis, measures and responsible person (精准分析、分类施策、专人负责)',
        params: uuidParam,
        body: z.object({
          reasonCode: plainText(8).nullable().optional(),
          plan: multilineText(4000).nullable().optional(),
          responsiblePerson: plainText(50).nullable().optional(),
        }),
        response: { 200: caseSchema, 400: errorResponse, 404: errorResponse },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const found = await findScoped(req, req.params.id);
      if (req.body.reasonCode) {
        const code = await app.prisma.verificationCode.findUnique({ where: { code: req.body.reasonCode } });
        if (code?.kind !== 'REGISTRY_REASON') {
          throw new AppError('VALIDATION_FAILED', [{ path: ['reasonCode'], message: '辍学原因代码不存在' }]);
        }
      }
      return app.prisma.$transaction(async (tx) => {
        const c = await tx.dropoutCase.update({ where: { id: found.id }, data: req.body, include });
        await audit(tx, actor, {
          action: 'UPDATE',
          entity: 'DropoutCase',
          entityId: c.id,
          details: { fields: Object.keys(req.body) },
        });
        return toCase(c);
      });
    },
  );

  app.post(
    '/api/cases/:id/return',
    {
      config: { roles: ['TEACHER', 'SCHOOL', 'TOWN', 'BUREAU'] },
      schema: {
        tags: ['cases'],
        summary: 'The child is back at school: ends the escalation at whatever stage it is ([T] 二(五))',
        params: uuidParam,
        body: z.object({ returnedOn: z.iso.date('请填写复学日期（YYYY-MM-DD）') }),
        response: { 202: z.object({ caseId: z.uuid() }), 400: errorResponse, 404: errorResponse, 409: errorResponse },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const found = await findScoped(req, req.params.id);
      if (!(OPEN_CASE_STATUSES as readonly string[]).includes(found.status)) {
        throw new AppError('CONFLICT', undefined, '该案件已结案或已登记复学。');
      }
      // Today as China counts days: from midnight to 08:00 Beijing time the UTC date is still yesterday's.
      if (req.body.returnedOn > chinaDay()) {
        throw new AppError('VALIDATION_FAILED', [{ path: ['returnedOn'], message: '复学日期不能晚于今天' }]);
      }
      // Correlated by the child: the escalation's message boundary ends the current stage. The message
      // id makes a double click one message.
      await app.engine.publishMessage({
        name: 'child-returned',
        correlationKey: found.childId,
        messageId: `returned:${found.id}`,
        variables: { returnedOn: req.body.returnedOn },
      });
      await audit(app.prisma, actor, {
        action: 'UPDATE',
        entity: 'DropoutCase',
        entityId: found.id,
        details: { returnedOn: req.body.returnedOn },
      });
      return reply.code(202).send({ caseId: found.id });
    },
  );

  app.get(
    '/api/cases/:id/documents/:documentId',
    {
      schema: {
        tags: ['cases'],
        summary: 'An issued notice or report as printed (HTML, A4); every download is audited',
        params: z.object({ id: z.uuid(), documentId: z.uuid() }),
        response: { 200: z.string().describe('text/html'), 404: errorResponse },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const found = await findScoped(req, req.params.id);
      const doc = await app.prisma.caseDocument.findFirst({ where: { id: req.params.documentId, caseId: found.id } });
      if (!doc?.html) throw new AppError('NOT_FOUND');
      await audit(app.prisma, actor, {
        action: 'READ_PERSONAL',
        entity: 'CaseDocument',
        entityId: doc.id,
        details: { caseId: found.id, number: doc.number },
        ip: req.ip,
      });
      return reply
        .type('text/html; charset=utf-8')
        .header('content-disposition', contentDisposition(`${doc.number}.html`, `document-${doc.id}.html`, 'inline'))
        .send(doc.html);
    },
  );

  app.get(
    '/api/cases/:id/timeline',
    {
      schema: {
        tags: ['cases'],
        summary: 'The whole 一人一案 story in order: actions, documents issued, tasks opened and done',
        params: uuidParam,
        response: { 200: z.object({ case: caseSchema, entries: z.array(timelineEntry) }), 404: errorResponse },
      },
    },
    async (req) => {
      const c = await findScoped(req, req.params.id);
      const [actions, documents, tasks, attachments] = await Promise.all([
        app.prisma.caseAction.findMany({ where: { caseId: c.id } }),
        app.prisma.caseDocument.findMany({ where: { caseId: c.id } }),
        app.records.taskHistory(c.processInstanceKey),
        app.prisma.attachment.findMany({
          where: { caseId: c.id },
          select: { id: true, fileName: true, uploadedBy: true, uploadedAt: true, size: true },
        }),
      ]);
      // Tasks name their assignee by user name: people and units are shown by their names.
      const usernames = [...new Set(tasks.map((t) => t.assignee).filter((u): u is string => !!u))];
      const users = usernames.length
        ? await app.prisma.user.findMany({
            where: { username: { in: usernames } },
            select: { username: true, displayName: true },
          })
        : [];
      const nameOf = new Map(users.map((u) => [u.username, u.displayName]));
      const entries: z.infer<typeof timelineEntry>[] = [
        ...actions.map((a) => ({
          at: a.occurredAt.toISOString(),
          kind: a.kind,
          title: actionTitle(a.kind),
          actor: actorName(a.actor),
          note: actionNote(a.outcome, a.note),
          documentNumber: null,
          documentId: null,
          attachmentId: null,
        })),
        ...documents.map((d) => ({
          at: d.issuedAt.toISOString(),
          kind: `DOCUMENT_${d.kind}`,
          title: DOCUMENT_TITLE[d.kind],
          actor: actorName(d.issuedBy),
          note: d.deadline ? `限期至${chineseDate(d.deadline)}` : null,
          documentNumber: d.number,
          documentId: d.id,
          attachmentId: null,
        })),
        ...tasks.map((t) => ({
          at: t.at,
          kind: `TASK_${t.state}`,
          title: `${taskForms[t.elementId]?.title ?? '办理任务'}（${t.state === 'CREATED' ? '待办' : t.state === 'COMPLETED' ? '已办结' : '已取消'}）`,
          actor: t.assignee ? (nameOf.get(t.assignee) ?? t.assignee) : null,
          note: null,
          documentNumber: null,
          documentId: null,
          attachmentId: null,
        })),
        ...attachments.map((a) => ({
          at: a.uploadedAt.toISOString(),
          kind: 'ATTACHMENT',
          title: `上传附件：${a.fileName}`,
          actor: actorName(a.uploadedBy),
          note: null,
          documentNumber: null,
          documentId: null,
          attachmentId: a.id,
        })),
      ].sort((a, b) => a.at.localeCompare(b.at));
      return { case: toCase(c), entries };
    },
  );
};

/** Chinese titles of case action kinds (workers and forms write the kinds). */
export const ACTION_TITLES: Record<string, string> = {
  CASE_OPENED: '开立一人一案',
  REPORT_JOINED: '再次报告，并入本案',
  REFERRAL_JOINED: '再次转介，并入本案',
  REFERRED_AGAIN: '结案后再次转入辍学劝返',
  SCHOOL_CONFIRMED_DROPOUT: '学校确认辍学',
  SCHOOL_REJECTED_REPORT: '学校核实：不属辍学',
  SCHOOL_CLOSED_REPORT: '学校结案',
  HOME_VISIT: '家访劝返',
  SCHOOL_REPORTED: '学校书面报告镇街和教育局',
  TOWN_EDUCATED_PARENTS: '镇街批评教育、责令限期改正',
  JUSTICE_SIGNED: '司法局签发司法文书',
  REFERRED_TO_LAW: '移送依法追究法律责任',
  BACK_TO_TOWN: '司法局决定继续督促',
  ESCALATED_SCHOOL_OVERDUE: '学校逾期，自动报镇街',
  ESCALATED_TOWN_OVERDUE: '镇街逾期，自动转司法局',
  ESCALATED_JUSTICE_OVERDUE: '司法局逾期，报县政府督办',
  DOCUMENT_CORRECTION_ORDER: '签发责令限期改正通知书',
  DOCUMENT_URGE_ENROLLMENT: '下达敦促入学通知书',
  DOCUMENT_JUDICIAL_NOTICE: '签发司法文书',
  CHILD_RETURNED: '复学',
  FOLLOW_UP_PLAN: '复学跟踪帮扶措施',
  CASE_CLOSED: '结案',
};

/** A kind without a title of its own (a kind added later) is never shown as its code. */
export function actionTitle(kind: string): string {
  return ACTION_TITLES[kind] ?? (kind.startsWith('ESCALATED_') ? '逾期自动上报' : '办理记录');
}

/** Workers act as "system": the timeline says so in Chinese. */
export function actorName(actor: string | null): string | null {
  if (!actor) return null;
  return actor === 'system' ? '系统自动' : actor;
}

/**
 * The Chinese of every outcome and decision a case action records: the escalation forms' own option labels
 * (家访结果, 学校意见, 处理决定) and the case outcomes the workers write.
 */
export const OUTCOME_LABELS: Record<string, string> = (() => {
  const labels: Record<string, string> = { ...CASE_OUTCOME_LABELS };
  for (const form of Object.values(taskSchemasByFlow['辍学劝返'] ?? {})) {
    const json = z.toJSONSchema(form.schema, { io: 'input', unrepresentable: 'any' }) as {
      properties?: Record<string, { options?: Record<string, string> }>;
    };
    for (const [field, p] of Object.entries(json.properties ?? {})) {
      // The reason code is shown with its code (A2 厌学辍学), not as an outcome.
      if (field !== 'reasonCode' && p.options) Object.assign(labels, p.options);
    }
  }
  return labels;
})();

export function outcomeLabel(outcome: string | null): string | null {
  if (!outcome) return null;
  return OUTCOME_LABELS[outcome] ?? null;
}

/** What the timeline says under an action: the outcome's label, then the note — once, when the note says it already. */
export function actionNote(outcome: string | null, note: string | null): string | null {
  const label = outcomeLabel(outcome);
  if (label && note?.includes(label)) return note;
  return [label, note].filter(Boolean).join('；') || null;
}
