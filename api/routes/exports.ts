/**
 * 导出: the whole filtered list of children, cases or tasks as XLSX or CSV — the same rows, filters and
 * masking as the list (GET /api/children, /api/cases, /api/tasks), not one page. Rows are read in
 * batches and written as they come (exceljs' streaming workbook writer, CSV line by line), so a county's
 * whole register leaves without being held in memory. Every export writes one EXPORT audit row (who,
 * which list, which filters, how many rows) before the first byte; a search by ID number is audited as a
 * lookup of each child it finds, as on the list.
 */
import { PassThrough, type Writable } from 'node:stream';
import { once } from 'node:events';
import ExcelJS from 'exceljs';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { actorOf, type Actor } from '../auth/actor.js';
import { audit } from '../auth/audit.js';
import { CASE_OUTCOME_LABELS, CASE_STATUS_LABELS } from '../domain/case-status.js';
import { chinaDay } from '../domain/china-time.js';
import { chineseDay } from '../domain/documents.js';
import { type Cell, csvField, neutraliseFormula, XLSX_MIME } from '../reports/format.js';
import { PROCESS_LABELS, VULNERABILITY_LABELS } from '../reports/labels.js';
import { caseFilters, caseInclude, caseWhere, toCase } from './cases.js';
import { auditIdLookup, childFilters, childInclude, childWhere, toListedChild } from './children.js';
import { contentDisposition, errorResponse } from './shared.js';
import { listTasks, taskListQuery } from './tasks.js';

/** Rows read from the database at a time. */
const BATCH = 500;

const exportFormat = z.object({ format: z.enum(['xlsx', 'csv']).default('xlsx') });

/** 2026年11月26日 (Beijing day) of an instant, or of a calendar day given as YYYY-MM-DD; empty for none. */
function day(value: string | Date | null | undefined): string {
  if (!value) return '';
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) return chineseDay(value);
  return chineseDay(chinaDay(new Date(value)));
}

/** "2015-07" → 2015年7月. */
function month(value: string): string {
  const m = /^(\d{4})-(\d{2})/.exec(value);
  return m ? `${m[1]}年${Number(m[2])}月` : value;
}

interface Table {
  /** The Chinese file name, without the extension. */
  name: string;
  /** Its ASCII fallback (for clients that only read `filename`). */
  asciiName: string;
  headers: string[];
  rows: AsyncIterable<Cell[]>;
}

/** Waits when the client reads more slowly than the rows come; stops the export when the client has gone. */
async function drained(out: Writable): Promise<void> {
  if (out.writableNeedDrain && !out.destroyed) {
    const ac = new AbortController();
    // A download cancelled half-way closes the stream without 'drain': waiting for it alone would never end.
    await Promise.race([once(out, 'drain', { signal: ac.signal }), once(out, 'close', { signal: ac.signal })]).finally(
      () => ac.abort(),
    );
  }
  if (out.destroyed) throw new ExportAborted();
}

/** The client went away: no more rows are read. */
class ExportAborted extends Error {
  constructor() {
    super('export cancelled by the client');
  }
}

async function writeCsv(out: PassThrough, table: Table): Promise<void> {
  // UTF-8 with a byte-order mark: without it Excel reads the Chinese headers as GBK.
  out.write('\uFEFF' + table.headers.map(csvField).join(',') + '\r\n');
  for await (const row of table.rows) {
    out.write(row.map(csvField).join(',') + '\r\n');
    await drained(out);
  }
  out.end();
}

async function writeXlsx(out: PassThrough, table: Table): Promise<void> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  const sheet = workbook.addWorksheet(table.name.slice(0, 31), { views: [{ state: 'frozen', ySplit: 1 }] });
  const header = sheet.addRow(table.headers.map(neutraliseFormula));
  header.font = { bold: true };
  header.commit();
  for await (const row of table.rows) {
    // Typed cells; text that looks like a formula is neutralised as in the reports (OWASP CSV injection).
    sheet.addRow(row.map((c) => (typeof c === 'string' ? neutraliseFormula(c) : c))).commit();
    await drained(out);
  }
  sheet.commit();
  await workbook.commit();
}

/** Sends the table as it is written; a failure half-way ends the download broken, never as a whole file. */
function send(reply: FastifyReply, format: 'xlsx' | 'csv', table: Table, log: FastifyReply['log']) {
  const out = new PassThrough();
  const write = format === 'csv' ? writeCsv(out, table) : writeXlsx(out, table);
  write.catch((err: unknown) => {
    if (err instanceof ExportAborted) return;
    log.error({ err }, 'export failed while streaming');
    out.destroy(err instanceof Error ? err : new Error(String(err)));
  });
  return reply
    .type(format === 'csv' ? 'text/csv; charset=utf-8' : XLSX_MIME)
    .header('content-disposition', contentDisposition(`${table.name}.${format}`, `${table.asciiName}.${format}`))
    .header('cache-control', 'no-store')
    .send(out);
}

/** The filters of an export as the audit row keeps them: an ID number is never written, only that one was given. */
function auditedFilters(q: Record<string, unknown>): Record<string, string | number | boolean | string[]> {
  const out: Record<string, string | number | boolean | string[]> = {};
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || ['page', 'perPage', 'format'].includes(k)) continue;
    if (k === 'idNumber') out[k] = String(v).length === 18 ? '（完整身份证号）' : '（身份证号后几位）';
    else if (Array.isArray(v)) out[k] = v.map(String);
    else out[k] = typeof v === 'number' || typeof v === 'boolean' ? v : String(v);
  }
  return out;
}

async function auditExport(
  db: Parameters<typeof audit>[0],
  actor: Actor,
  entity: string,
  list: string,
  q: Record<string, unknown>,
  rows: number,
  ip: string,
) {
  await audit(db, actor, {
    action: 'EXPORT',
    entity,
    details: { list, format: String(q.format), filters: auditedFilters(q), rows },
    ip,
  });
}

export const exportsRoutes: FastifyPluginAsyncZod = async (app) => {
  /** Names of the towns, schools and classes a batch of rows refers to. */
  async function namesOf(towns: string[], schoolIds: number[], classIds: number[]) {
    const [regions, schools, classes] = await Promise.all([
      towns.length
        ? app.prisma.region.findMany({ where: { code: { in: towns } }, select: { code: true, name: true } })
        : [],
      schoolIds.length
        ? app.prisma.school.findMany({ where: { id: { in: schoolIds } }, select: { id: true, name: true } })
        : [],
      classIds.length
        ? app.prisma.schoolClass.findMany({ where: { id: { in: classIds } }, select: { id: true, name: true } })
        : [],
    ]);
    return {
      town: new Map(regions.map((r) => [r.code, r.name])),
      school: new Map(schools.map((s) => [s.id, s.name])),
      class: new Map(classes.map((c) => [c.id, c.name])),
    };
  }

  app.get(
    '/api/exports/children',
    {
      schema: {
        tags: ['exports'],
        summary: 'The whole filtered children list as XLSX or CSV (masked as in the list; audited)',
        querystring: childFilters.extend(exportFormat.shape),
        response: { 200: z.string().describe('XLSX or CSV'), 400: errorResponse },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const q = req.query;
      const where = childWhere(actor, q);
      const total = await app.prisma.child.count({ where });
      if (q.idNumber) {
        const found = await app.prisma.child.findMany({ where, select: { id: true } });
        await auditIdLookup(
          app.prisma,
          actor,
          q,
          found.map((c) => c.id),
          req.ip,
        );
      }
      await auditExport(app.prisma, actor, 'Child', 'children', q, total, req.ip);
      const sort = q.sort ?? 'name';
      const direction = q.order === 'DESC' ? 'desc' : 'asc';
      async function* rows(): AsyncIterable<Cell[]> {
        let cursor: string | undefined;
        for (;;) {
          const batch = await app.prisma.child.findMany({
            where,
            include: childInclude,
            orderBy: [{ [sort]: direction }, { id: 'asc' }],
            take: BATCH,
            ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
          });
          if (batch.length === 0) return;
          const names = await namesOf(
            [...new Set(batch.map((c) => c.regionCode.slice(0, 9)))],
            [...new Set(batch.flatMap((c) => (c.currentSchoolId ? [c.currentSchoolId] : [])))],
            [...new Set(batch.flatMap((c) => (c.currentClassId ? [c.currentClassId] : [])))],
          );
          for (const row of batch) {
            const c = toListedChild(row);
            yield [
              c.name,
              c.idNumber,
              c.gender === 'MALE' ? '男' : c.gender === 'FEMALE' ? '女' : '',
              month(c.birthMonth),
              c.studentNumber,
              names.town.get(c.regionCode.slice(0, 9)) ?? '',
              c.currentSchoolId ? (names.school.get(c.currentSchoolId) ?? '') : '',
              c.currentClassId ? (names.class.get(c.currentClassId) ?? '') : '',
              c.householdAddress,
              c.residenceAddress,
              c.flags.map((f) => VULNERABILITY_LABELS[f]).join('、'),
              c.guardians.map((g) => `${g.name}（${g.relation}）${g.phone ? ` ${g.phone}` : ''}`).join('；'),
            ];
          }
          if (batch.length < BATCH) return;
          cursor = batch[batch.length - 1]!.id;
        }
      }
      return send(
        reply,
        q.format,
        {
          name: `学生名单-${chinaDay()}`,
          asciiName: `children-${chinaDay()}`,
          headers: [
            '姓名',
            '身份证号',
            '性别',
            '出生年月',
            '学籍号',
            '户籍镇街',
            '学校',
            '班级',
            '户籍地址',
            '居住地址',
            '重点关注',
            '监护人',
          ],
          rows: rows(),
        },
        req.log,
      );
    },
  );

  app.get(
    '/api/exports/cases',
    {
      schema: {
        tags: ['exports'],
        summary: 'The whole filtered 一人一案 list as XLSX or CSV (ID numbers masked; audited)',
        querystring: caseFilters.extend(exportFormat.shape),
        response: { 200: z.string().describe('XLSX or CSV'), 400: errorResponse },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const q = req.query;
      const where = caseWhere(actor, q);
      const total = await app.prisma.dropoutCase.count({ where });
      await auditExport(app.prisma, actor, 'DropoutCase', 'cases', q, total, req.ip);
      const sort = q.sort ?? 'openedAt';
      const direction = q.order === 'DESC' ? 'desc' : 'asc';
      async function* rows(): AsyncIterable<Cell[]> {
        let cursor: string | undefined;
        for (;;) {
          const batch = await app.prisma.dropoutCase.findMany({
            where,
            include: caseInclude,
            orderBy: [{ [sort]: direction }, { id: 'asc' }],
            take: BATCH,
            ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
          });
          if (batch.length === 0) return;
          const names = await namesOf([...new Set(batch.map((c) => c.regionCode.slice(0, 9)))], [], []);
          for (const row of batch) {
            const c = toCase(row);
            yield [
              c.caseNumber,
              c.childName,
              c.childIdNumber,
              c.schoolName,
              names.town.get(c.regionCode.slice(0, 9)) ?? '',
              CASE_STATUS_LABELS[c.status],
              c.reasonLabel,
              c.reason,
              c.responsiblePerson,
              day(c.lastAttendance),
              day(c.openedAt),
              day(c.closedAt),
              c.outcome ? CASE_OUTCOME_LABELS[c.outcome] : '',
            ];
          }
          if (batch.length < BATCH) return;
          cursor = batch[batch.length - 1]!.id;
        }
      }
      return send(
        reply,
        q.format,
        {
          name: `一人一案-${chinaDay()}`,
          asciiName: `cases-${chinaDay()}`,
          headers: [
            '案号',
            '儿童',
            '身份证号',
            '学校',
            '镇街',
            '阶段',
            '辍学原因代码',
            '报告原因',
            '劝返责任人',
            '最后到校',
            '开案日期',
            '结案日期',
            '结案结果',
          ],
          rows: rows(),
        },
        req.log,
      );
    },
  );

  app.get(
    '/api/exports/tasks',
    {
      schema: {
        tags: ['exports'],
        summary: 'The whole filtered task inbox (same view and filters as GET /api/tasks) as XLSX or CSV; audited',
        querystring: taskListQuery.extend(exportFormat.shape),
        response: { 200: z.string().describe('XLSX or CSV'), 400: errorResponse, 403: errorResponse },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const q = req.query;
      // The first page answers a refused view (403) before anything is written, and gives the total.
      const first = await listTasks(app, actor, q, { limit: BATCH, offset: 0 });
      await auditExport(app.prisma, actor, 'UserTask', 'tasks', q, first.total, req.ip);
      async function* rows(): AsyncIterable<Cell[]> {
        let page = first;
        for (let offset = 0; ;) {
          for (const t of page.data) {
            yield [
              t.title,
              t.childName,
              t.caseNumber,
              t.townName,
              PROCESS_LABELS[t.bpmnProcessId] ?? '',
              day(t.dueDate),
              t.overdue ? '是' : '否',
              t.assigneeName ?? '未认领',
              day(t.createdAt),
            ];
          }
          if (page.data.length < BATCH) return;
          offset += BATCH;
          page = await listTasks(app, actor, q, { limit: BATCH, offset });
        }
      }
      return send(
        reply,
        q.format,
        {
          name: `待办任务-${chinaDay()}`,
          asciiName: `tasks-${chinaDay()}`,
          headers: ['任务', '儿童', '案号', '镇街', '流程', '办理期限', '已逾期', '办理人', '下达日期'],
          rows: rows(),
        },
        req.log,
      );
    },
  );
};
