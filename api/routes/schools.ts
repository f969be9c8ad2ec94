/** Schools (primary, middle, nine-year, special education; public or private) of a jurisdiction. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SchoolKind, SchoolOwnership, type Prisma } from '../../generated/prisma/client.js';
import { actorOf } from '../auth/actor.js';
import { audit } from '../auth/audit.js';
import { likeText, scope } from '../auth/scope.js';
import { AppError } from '../errors.js';
import { intIdParam, intIds, listQuery, listResponse, paging } from '../resources/list.js';
import { errorResponse } from './shared.js';
import { plainText } from '../domain/text.js';

const schoolSchema = z.object({
  id: z.number(),
  code: z.string(),
  name: z.string(),
  kind: z.enum(SchoolKind),
  ownership: z.enum(SchoolOwnership),
  regionCode: z.string(),
  address: z.string().nullable(),
  principal: z.string().nullable(),
  phone: z.string().nullable(),
});

const writable = z.object({
  name: plainText(100, 1),
  kind: z.enum(SchoolKind),
  ownership: z.enum(SchoolOwnership).default('PUBLIC'),
  address: plainText(200).nullable().optional(),
  principal: plainText(50).nullable().optional(),
  phone: plainText(20).nullable().optional(),
});

const filters = listQuery(['code', 'name', 'kind', 'regionCode'] as const).extend({
  q: plainText(50).optional(),
  regionCode: z
    .string()
    .regex(/^\d{2,12}$/)
    .optional(),
  kind: z.enum(SchoolKind).optional(),
});

const select = {
  id: true,
  code: true,
  name: true,
  kind: true,
  ownership: true,
  regionCode: true,
  address: true,
  principal: true,
  phone: true,
} as const;

export const schoolsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/api/schools',
    {
      schema: {
        tags: ['schools'],
        summary: 'Schools in the caller’s jurisdiction',
        querystring: filters,
        response: { 200: listResponse(schoolSchema), 400: errorResponse },
      },
    },
    async (req) => {
      const q = req.query;
      const where: Prisma.SchoolWhereInput = {
        AND: [
          scope.schools(actorOf(req)),
          q.id ? { id: { in: intIds(q.id) } } : {},
          q.q ? { OR: [{ name: likeText.contains(q.q) }, { code: likeText.startsWith(q.q) }] } : {},
          q.regionCode ? { regionCode: { startsWith: q.regionCode } } : {},
          q.kind ? { kind: q.kind } : {},
        ],
      };
      const [data, total] = await Promise.all([
        app.prisma.school.findMany({ where, select, ...paging(q, 'code') }),
        app.prisma.school.count({ where }),
      ]);
      return { data, total };
    },
  );

  app.get(
    '/api/schools/:id',
    {
      schema: {
        tags: ['schools'],
        summary: 'One school',
        params: intIdParam,
        response: { 200: schoolSchema, 404: errorResponse },
      },
    },
    async (req) => {
      const school = await app.prisma.school.findFirst({
        where: { AND: [{ id: req.params.id }, scope.schools(actorOf(req))] },
        select,
      });
      if (!school) throw new AppError('NOT_FOUND');
      return school;
    },
  );

  app.post(
    '/api/schools',
    {
      config: { roles: ['ADMIN', 'BUREAU'] },
      schema: {
        tags: ['schools'],
        summary: 'Add a school to a town of the caller’s county',
        body: writable.extend({
          code: z.string().regex(/^\d{10}$/, '学校标识码为10位数字'),
          regionCode: z.string().regex(/^\d{9}$/, '请选择学校所在镇街'),
        }),
        response: { 201: schoolSchema, 400: errorResponse, 409: errorResponse },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const town = await app.prisma.region.findFirst({
        where: { code: req.body.regionCode, level: 'TOWN', AND: [{ code: { startsWith: actor.regionCode } }] },
      });
      if (!town) throw new AppError('VALIDATION_FAILED', [{ path: ['regionCode'], message: '所选镇街不在您的辖区内' }]);
      const school = await app.prisma.$transaction(async (tx) => {
        if (await tx.school.findUnique({ where: { code: req.body.code } })) {
          throw new AppError('CONFLICT', undefined, '该学校标识码已存在。');
        }
        const s = await tx.school.create({ data: { ...req.body, regionId: town.id }, select });
        await audit(tx, actor, { action: 'CREATE', entity: 'School', entityId: s.id });
        return s;
      });
      return reply.code(201).send(school);
    },
  );

  app.put(
    '/api/schools/:id',
    {
      config: { roles: ['ADMIN', 'BUREAU', 'SCHOOL'] },
      schema: {
        tags: ['schools'],
        summary: 'Update a school’s details',
        params: intIdParam,
        body: writable.partial(),
        response: { 200: schoolSchema, 404: errorResponse },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const found = await app.prisma.school.findFirst({
        where: { AND: [{ id: req.params.id }, scope.schools(actor)] },
      });
      if (!found) throw new AppError('NOT_FOUND');
      return app.prisma.$transaction(async (tx) => {
        const s = await tx.school.update({ where: { id: found.id }, data: req.body, select });
        await audit(tx, actor, {
          action: 'UPDATE',
          entity: 'School',
          entityId: s.id,
          details: { fields: Object.keys(req.body) },
        });
        return s;
      });
    },
  );
};
