/** The audit log, for supervisors: who read or changed what, when — inside their jurisdiction. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { plainText } from '../domain/text.js';
import { AuditAction, type Prisma } from '../../generated/prisma/client.js';
import { actorOf } from '../auth/actor.js';
import { AUDIT_ROLES } from '../auth/duties.js';
import { listQuery, listResponse, paging } from '../resources/list.js';
import { errorResponse } from './shared.js';

const eventSchema = z.object({
  id: z.string(),
  at: z.string(),
  userId: z.number().nullable(),
  username: z.string().nullable(),
  action: z.enum(AuditAction),
  entity: z.string(),
  entityId: z.string().nullable(),
  details: z.unknown(),
  ip: z.string().nullable(),
});

/** A query bound as an instant: a calendar day is Beijing's, `days` after its start (0: from, 1: to). */
function instant(value: string | undefined, days: 0 | 1): Date | undefined {
  if (!value) return undefined;
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return new Date(Date.parse(`${value}T00:00:00+08:00`) + days * 86_400_000);
  return new Date(value);
}

export const auditRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/api/audit-events',
    {
      config: { roles: AUDIT_ROLES },
      schema: {
        tags: ['audit'],
        summary: 'Audit log of the caller’s jurisdiction (reads of personal data and every change), newest first',
        querystring: listQuery(['at'] as const).extend({
          order: z.enum(['ASC', 'DESC']).default('DESC'),
          action: z.enum(AuditAction).optional(),
          entity: plainText(50).optional(),
          entityId: plainText(64).optional(),
          userId: z.coerce.number().int().positive().optional(),
          /** An instant, or a Beijing calendar day (from its start; `to`: up to the end of that day). */
          from: z.union([z.iso.datetime({ offset: true }), z.iso.date()]).optional(),
          to: z.union([z.iso.datetime({ offset: true }), z.iso.date()]).optional(),
          /** Events about one child: its record read or changed, and tasks, cases and reports naming it. */
          child: z.uuid('儿童编号格式不正确').optional(),
        }),
        response: { 200: listResponse(eventSchema), 400: errorResponse, 403: errorResponse },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const q = req.query;
      const users = await app.prisma.user.findMany({
        where: { regionCode: { startsWith: actor.regionCode } },
        select: { id: true },
      });
      const where: Prisma.AuditEventWhereInput = {
        AND: [
          // Events of anonymous callers (failed sign-ins) belong to no jurisdiction: administrators only.
          actor.role === 'ADMIN'
            ? { OR: [{ userId: { in: users.map((u) => u.id) } }, { userId: null }] }
            : { userId: { in: users.map((u) => u.id) } },
          q.action ? { action: q.action } : {},
          q.entity ? { entity: q.entity } : {},
          q.entityId ? { entityId: q.entityId } : {},
          q.userId ? { userId: q.userId } : {},
          q.from || q.to ? { at: { gte: instant(q.from, 0), lt: instant(q.to, 1) } } : {},
          q.child
            ? {
                OR: [{ entity: 'Child', entityId: q.child }, { details: { path: ['childId'], equals: q.child } }],
              }
            : {},
        ],
      };
      const [rows, total] = await Promise.all([
        app.prisma.auditEvent.findMany({ where, ...paging({ ...q, sort: 'at' }, 'at') }),
        app.prisma.auditEvent.count({ where }),
      ]);
      return {
        data: rows.map((e) => ({ ...e, id: e.id.toString(), at: e.at.toISOString(), details: e.details ?? null })),
        total,
      };
    },
  );
};
