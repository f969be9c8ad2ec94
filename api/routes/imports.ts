/**
 * Department lists (公安, 扶贫, 残联, 民政) and school registers (学籍) uploaded by the county bureau:
 * CSV (UTF-8 or GBK) or XLSX, all or nothing (api/imports/service.ts).
 */
import multipart from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type ImportBatch, ImportKind, type Prisma } from '../../generated/prisma/client.js';
import type { Prisma as Db } from '../../infra/db/prisma.js';
import { actorOf, type Actor } from '../auth/actor.js';
import { IMPORT_ROLES } from '../auth/duties.js';
import { countyOf, scope } from '../auth/scope.js';
import { AppError } from '../errors.js';
import { IMPORT_FORMATS, KIND_PARAMS, type KindParam } from '../imports/formats.js';
import { importList } from '../imports/service.js';
import { intIds, listQuery, listResponse, paging } from '../resources/list.js';
import { errorResponse, readFilePart } from './shared.js';
import { chinaYear } from '../domain/china-time.js';

/** Larger than any county's list (a 70,000-row household CSV is about 12 MB). */
export const MAX_IMPORT_BYTES = 50 * 1024 * 1024;
/** Room for the form around the file: boundaries, part headers, the year and county fields. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

const batchSchema = z.object({
  id: z.number(),
  kind: z.enum(ImportKind),
  regionCode: z.string(),
  year: z.number(),
  fileName: z.string(),
  sha256: z.string(),
  rowCount: z.number(),
  importedBy: z.number().nullable(),
  importedAt: z.string(),
});

const toBatch = ({ importedAt, ...b }: ImportBatch): z.infer<typeof batchSchema> => ({
  ...b,
  importedAt: importedAt.toISOString(),
});

const importResponse = z.object({
  batch: batchSchema,
  created: z.number(),
  updated: z.number(),
  duplicate: z.boolean(),
});

const kinds = Object.keys(KIND_PARAMS) as [KindParam, ...KindParam[]];

/** The form fields besides the file; an empty field means "not given". */
const formFields = z.object({
  year: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.coerce
      .number()
      .int('年份应为整数')
      .min(2000, '年份应在2000–2100之间')
      .max(2100, '年份应在2000–2100之间')
      .optional(),
  ),
  /** Only for callers acting above a county (province administrators): which county the list is for. */
  county: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .regex(/^\d{6}$/, '县（市）代码应为6位数字')
      .optional(),
  ),
});

interface UploadForm {
  fileName: string;
  bytes: Buffer;
  fields: Record<string, string>;
}

const tooLarge = () => new AppError('FILE_TOO_LARGE', { maxBytes: MAX_IMPORT_BYTES });

async function readUpload(req: FastifyRequest): Promise<UploadForm> {
  if (!req.isMultipart()) {
    throw new AppError('VALIDATION_FAILED', undefined, '请以表单（multipart/form-data）上传文件，文件字段名为 file。');
  }
  let file: { fileName: string; bytes: Buffer } | undefined;
  const fields: Record<string, string> = {};
  try {
    for await (const part of req.parts()) {
      if (part.type === 'field') {
        fields[part.fieldname] = String(part.value);
      } else if (part.fieldname === 'file' && !file) {
        file = { fileName: part.filename, bytes: await readFilePart(part.file, tooLarge) };
      } else {
        throw new AppError('VALIDATION_FAILED', undefined, '一次只能上传一个文件，字段名为 file。');
      }
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    const { code, statusCode } = err as { code?: unknown; statusCode?: unknown };
    if (code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge();
    if (code === 'FST_FILES_LIMIT') throw new AppError('VALIDATION_FAILED', undefined, '一次只能上传一个文件。');
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) throw err;
    // busboy's own errors (a body cut off, a part without headers, no boundary) are the sender's.
    throw new AppError('VALIDATION_FAILED', undefined, '上传的表单不完整或格式不正确，请重新上传。');
  }
  if (!file) throw new AppError('VALIDATION_FAILED', undefined, '没有收到文件：请在字段 file 中上传。');
  if (file.bytes.length === 0) throw new AppError('UNSUPPORTED_FILE', undefined, '上传的文件是空的。');
  return { ...file, fields };
}

/** Keeps a file name printable and short; it is shown in lists, never used as a path. */
function cleanFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  return [...base.replace(/[\u0000-\u001f\u007f]/g, '').trim()].slice(0, 200).join('') || '未命名文件';
}

/** The county the list is for: the caller's own, or for a caller above county level the one they name. */
async function targetCounty(db: Db, actor: Actor, named?: string): Promise<string> {
  const own = countyOf(actor);
  if (own.length === 6) {
    if (named && named !== own) throw new AppError('FORBIDDEN');
    return own;
  }
  if (!named) throw new AppError('VALIDATION_FAILED', undefined, '请在字段 county 中注明名单所属的县（市）代码。');
  const county = await db.region.findFirst({ where: { code: named, level: 'COUNTY' }, select: { code: true } });
  if (!county || !named.startsWith(actor.regionCode)) throw new AppError('FORBIDDEN');
  return county.code;
}

export const importsRoutes: FastifyPluginAsyncZod = async (app) => {
  await app.register(multipart, {
    limits: { fileSize: MAX_IMPORT_BYTES, files: 1, fields: 10, fieldSize: 1000, parts: 12 },
  });

  app.get(
    '/api/imports/formats',
    {
      schema: {
        tags: ['imports'],
        summary: 'The columns each list kind must have (headers, accepted variants, rules)',
        response: {
          200: z.object({
            data: z.array(
              z.object({
                kind: z.enum(kinds),
                importKind: z.enum(ImportKind),
                label: z.string(),
                department: z.string(),
                ages: z.object({ min: z.number(), max: z.number() }),
                columns: z.array(
                  z.object({
                    key: z.string(),
                    header: z.string(),
                    aliases: z.array(z.string()),
                    required: z.boolean(),
                    rule: z.string(),
                  }),
                ),
              }),
            ),
          }),
        },
      },
    },
    async () => ({ data: Object.values(IMPORT_FORMATS) }),
  );

  app.get(
    '/api/imports',
    {
      // The file list names every department list of the county: for those who import them.
      config: { roles: IMPORT_ROLES },
      schema: {
        tags: ['imports'],
        summary: 'Imported files of the caller’s county, newest first by default',
        querystring: listQuery(['id', 'kind', 'year', 'fileName', 'rowCount', 'importedAt'] as const).extend({
          kind: z.enum(kinds).optional(),
          year: z.coerce.number().int().min(2000).max(2100).optional(),
        }),
        response: { 200: listResponse(batchSchema), 400: errorResponse, 403: errorResponse },
      },
    },
    async (req) => {
      const q = req.query;
      const where: Prisma.ImportBatchWhereInput = {
        AND: [
          scope.importBatches(actorOf(req)),
          q.kind ? { kind: KIND_PARAMS[q.kind] } : {},
          q.year ? { year: q.year } : {},
          q.id ? { id: { in: intIds(q.id) } } : {},
        ],
      };
      const page = q.sort ? paging(q, 'importedAt') : paging({ ...q, sort: 'importedAt', order: 'DESC' }, 'importedAt');
      const [rows, total] = await Promise.all([
        app.prisma.importBatch.findMany({ where, ...page }),
        app.prisma.importBatch.count({ where }),
      ]);
      return { data: rows.map(toBatch), total };
    },
  );

  app.post(
    '/api/imports/:kind',
    {
      config: { roles: IMPORT_ROLES },
      // A body declared larger than any allowed upload is refused before a byte of it is parsed (after the
      // session and role checks, which run first). What the client still sends is read and discarded by
      // Node until it stops: closing the connection with unread data would reset it, and the client would
      // see a broken connection instead of the 413.
      onRequest: async (req) => {
        const declared = Number(req.headers['content-length']);
        if (declared > MAX_IMPORT_BYTES + MULTIPART_OVERHEAD_BYTES) throw tooLarge();
      },
      schema: {
        tags: ['imports'],
        summary: 'Import a department list or a school register (multipart: file, year)',
        description:
          'multipart/form-data with `file` (CSV in UTF-8 or GBK, or XLSX) and optional `year` (list year or ' +
          'school year; default the current year). All or nothing: any bad row rejects the file (422, every bad ' +
          'row listed as { line, column, reason }). The same bytes again: 200 with the earlier batch.',
        consumes: ['multipart/form-data'],
        params: z.object({ kind: z.enum(kinds) }),
        response: {
          200: importResponse,
          201: importResponse,
          400: errorResponse,
          403: errorResponse,
          413: errorResponse,
          415: errorResponse,
          422: errorResponse,
        },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      // A file past the limit is refused the moment it passes it (413); the rest is discarded as above.
      const upload = await readUpload(req);
      const fields = formFields.safeParse(upload.fields);
      if (!fields.success) throw new AppError('VALIDATION_FAILED', fields.error.issues);
      const result = await importList(app.prisma, actor, {
        kind: req.params.kind,
        county: await targetCounty(app.prisma, actor, fields.data.county),
        year: fields.data.year ?? chinaYear(),
        fileName: cleanFileName(upload.fileName),
        bytes: upload.bytes,
      });
      return reply.code(result.duplicate ? 200 : 201).send({ ...result, batch: toBatch(result.batch) });
    },
  );
};
