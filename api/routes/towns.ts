/** 镇/街道 with their education offices: reference data, read by everyone in their jurisdiction. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Prisma } from '../../generated/prisma/client.js';
import { actorOf } from '../auth/actor.js';
import { audit } from '../auth/audit.js';
import { likeText, scope } from '../auth/scope.js';
import { AppError } from '../errors.js';
import { intIdParam, intIds, listQuery, listResponse, paging } from '../resources/list.js';
import { errorResponse } from './shared.js';
import { plainText } from '../domain/text.js';

const townSchema = z.object({
  id: z.number(),
  code: z.string(),
  name: z.string(),
  parentId: z.number().nullable(),
  educationOffice: z.string().nullable(),
});

const filters = listQuery(['code', 'name'] as const).extend({ q: plainText(50).optional() });

export const townsRoutes: FastifyPluginAsyncZod = async (app) => {
  const select = { id: true, code: true, name: true, parentId: true, educationOffice: true } as const;

  app.get(
    '/api/towns',
    {
      schema: {
        tags: ['towns'],
        summary: 'Towns and streets in the caller’s jurisdiction',
        querystring: filters,
        response: { 200: listResponse(townSchema), 400: errorResponse },
      },
    },
    async (req) => {
      const q = req.query;
      const where: Prisma.RegionWhereInput = {
        AND: [
          { level: 'TOWN' },
          scope.regions(actorOf(req)),
          q.id ? { id: { in: intIds(q.id) } } : {},
          q.q ? { OR: [{ name: likeText.contains(q.q) }, { code: likeText.startsWith(q.q) }] } : {},
        ],
      };
      const [data, total] = await Promise.all([
        app.prisma.region.findMany({ where, select, ...paging(q, 'code') }),
        app.prisma.region.count({ where }),
      ]);
      return { data, total };
    },
  );

  app.get(
    '/api/towns/:id',
    {
      schema: {
        tags: ['towns'],
        summary: 'One town',
        params: intIdParam,
        response: { 200: townSchema, 404: errorResponse },
      },
    },
    async (req) => {
      const town = await app.prisma.region.findFirst({
        where: { AND: [{ id: req.params.id, level: 'TOWN' }, scope.regions(actorOf(req))] },
        select,
      });
      if (!town) throw new AppError('NOT_FOUND');
      return town;
    },
  );

  app.put(
    '/api/towns/:id',
    {
      config: { roles: ['ADMIN', 'BUREAU'] },
      schema: {
        tags: ['towns'],
        summary: 'Rename a town or set its education office',
        params: intIdParam,
        body: z.object({
          name: plainText(50, 1).optional(),
          educationOffice: plainText(100).nullable().optional(),
        }),
        response: { 200: townSchema, 404: errorResponse },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const found = await app.prisma.region.findFirst({
        where: { AND: [{ id: req.params.id, level: 'TOWN' }, { code: { startsWith: actor.regionCode } }] },
      });
      if (!found) throw new AppError('NOT_FOUND');
      return app.prisma.$transaction(async (tx) => {
        const town = await tx.region.update({ where: { id: found.id }, data: req.body, select });
        await audit(tx, actor, { action: 'UPDATE', entity: 'Region', entityId: town.id, details: req.body });
        return town;
      });
    },
  );
};
