/**
 * Files caseworkers attach to their tasks — the photo of a home visit, the signed deferral
 * application — stored with their hash and shown in the case file. Only images and PDF, checked by
 * their first bytes, not by the name the browser sends.
 */
import { createHash } from 'node:crypto';
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { engineKey } from '../resources/list.js';
import { actorOf } from '../auth/actor.js';
import { audit } from '../auth/audit.js';
import { scope } from '../auth/scope.js';
import { AppError } from '../errors.js';
import { canWorkOn, visibilityChecker } from '../tasks/access.js';
import { contentDisposition, errorResponse, readFilePart } from './shared.js';

/** A phone photo or a scanned page is well under this. */
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;

const tooLarge = () =>
  new AppError('FILE_TOO_LARGE', { maxBytes: MAX_ATTACHMENT_BYTES }, '附件超过 10 MB，未上传；请压缩照片后重试。');

/** What a file is, by its magic number. */
const SIGNATURES: { type: string; ext: string; magic: number[] }[] = [
  { type: 'image/jpeg', ext: 'jpg', magic: [0xff, 0xd8, 0xff] },
  { type: 'image/png', ext: 'png', magic: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { type: 'application/pdf', ext: 'pdf', magic: [0x25, 0x50, 0x44, 0x46, 0x2d] },
];

export function sniffType(bytes: Buffer): { type: string; ext: string } | undefined {
  return SIGNATURES.find((s) => s.magic.every((b, i) => bytes[i] === b));
}

/** Keeps the base name, without path parts or control characters. */
function cleanName(name: string, ext: string): string {
  const base = (name.split(/[\\/]/).pop() ?? '').replace(/\p{Cc}/gu, '').slice(0, 120);
  return base || `附件.${ext}`;
}

const attachmentSchema = z.object({
  id: z.string(),
  fileName: z.string(),
  contentType: z.string(),
  size: z.number(),
  uploadedAt: z.string(),
});

export const attachmentsRoutes: FastifyPluginAsyncZod = async (app) => {
  await app.register(multipart, { limits: { fileSize: MAX_ATTACHMENT_BYTES, files: 1, fields: 0 } });

  app.post(
    '/api/tasks/:key/attachments',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Attach a photo (JPEG/PNG) or a PDF to an open task of mine (multipart field `file`, ≤ 10 MB)',
        consumes: ['multipart/form-data'],
        params: z.object({ key: engineKey }),
        response: {
          201: attachmentSchema,
          400: errorResponse,
          403: errorResponse,
          404: errorResponse,
          409: errorResponse,
          413: errorResponse,
          415: errorResponse,
        },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const task = await app.records.userTask(req.params.key);
      if (!task || !(await visibilityChecker(app.prisma, actor)(task))) throw new AppError('TASK_NOT_FOUND');
      if (task.state !== 'CREATED') throw new AppError('TASK_NOT_OPEN');
      if (!canWorkOn(actor, task)) throw new AppError('TASK_NOT_YOURS');
      if (!req.isMultipart()) {
        throw new AppError(
          'VALIDATION_FAILED',
          undefined,
          '请以表单（multipart/form-data）上传文件，文件字段名为 file。',
        );
      }
      const file = await req.file();
      if (!file || file.fieldname !== 'file') {
        throw new AppError('VALIDATION_FAILED', undefined, '请选择要上传的文件（字段名 file）。');
      }
      const bytes = await readFilePart(file.file, tooLarge).catch((err: unknown) => {
        if (err instanceof AppError) throw err;
        throw new AppError('VALIDATION_FAILED', undefined, '上传的表单不完整或格式不正确，请重新上传。');
      });
      const kind = sniffType(bytes);
      if (!kind) throw new AppError('UNSUPPORTED_FILE', undefined, '只能上传 JPEG、PNG 照片或 PDF 文件。');
      const found = await app.prisma.dropoutCase.findUnique({ where: { processInstanceKey: task.processInstanceKey } });
      const saved = await app.prisma.$transaction(async (tx) => {
        const a = await tx.attachment.create({
          data: {
            userTaskKey: task.userTaskKey,
            processInstanceKey: task.processInstanceKey,
            caseId: found?.id ?? null,
            fileName: cleanName(file.filename, kind.ext),
            contentType: kind.type,
            size: bytes.length,
            sha256: createHash('sha256').update(bytes).digest('hex'),
            data: new Uint8Array(bytes),
            uploadedBy: actor.displayName,
            uploadedByUserId: actor.userId,
          },
        });
        await audit(tx, actor, {
          action: 'CREATE',
          entity: 'Attachment',
          entityId: a.id,
          details: { userTaskKey: task.userTaskKey, caseId: a.caseId, size: a.size, sha256: a.sha256 },
          ip: req.ip,
        });
        return a;
      });
      return reply.code(201).send({
        id: saved.id,
        fileName: saved.fileName,
        contentType: saved.contentType,
        size: saved.size,
        uploadedAt: saved.uploadedAt.toISOString(),
      });
    },
  );

  app.get(
    '/api/attachments/:id',
    {
      schema: {
        tags: ['cases'],
        summary: 'Download an attachment (for whoever may see its case, or its task); every download is audited',
        params: z.object({ id: z.uuid() }),
        // 200 is the file itself (image/jpeg, image/png or application/pdf), sent as is.
        response: { 200: z.unknown(), 404: errorResponse },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const a = await app.prisma.attachment.findUnique({ where: { id: req.params.id } });
      if (!a) throw new AppError('NOT_FOUND');
      const allowed = a.caseId
        ? (await app.prisma.dropoutCase.count({ where: { AND: [{ id: a.caseId }, scope.cases(actor)] } })) > 0
        : await app.records.userTask(a.userTaskKey).then((t) => (t ? visibilityChecker(app.prisma, actor)(t) : false));
      if (!allowed) throw new AppError('NOT_FOUND');
      await audit(app.prisma, actor, {
        action: 'READ_PERSONAL',
        entity: 'Attachment',
        entityId: a.id,
        details: { caseId: a.caseId, userTaskKey: a.userTaskKey },
        ip: req.ip,
      });
      return reply
        .type(a.contentType)
        .header(
          'content-disposition',
          contentDisposition(a.fileName, `attachment.${a.contentType.split('/')[1]}`, 'inline'),
        )
        .header('x-content-type-options', 'nosniff')
        .send(Buffer.from(a.data));
    },
  );
};
