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
          from: z.iso.datetime({ offset: true }).optional(),
          to: z.iso.datetime({ offset: true }).optional(),
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
          q.from || q.to
            ? { at: { gte: q.from ? new Date(q.from) : undefined, lt: q.to ? new Date(q.to) : undefined } }
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
