/** Classes of a school year (班级): the teacher's jurisdiction. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Prisma } from '../../generated/prisma/client.js';
import { actorOf } from '../auth/actor.js';
import { audit } from '../auth/audit.js';
import { scope } from '../auth/scope.js';
import { AppError } from '../errors.js';
import { intId, intIdParam, intIdQuery, intIds, listQuery, listResponse, paging } from '../resources/list.js';
import { errorResponse } from './shared.js';
import { plainText } from '../domain/text.js';

const classSchema = z.object({
  id: z.number(),
  schoolId: z.number(),
  schoolYear: z.number(),
  grade: z.number(),
  name: z.string(),
  headTeacher: z.string().nullable(),
  regionCode: z.string(),
  pupils: z.number(),
});

const filters = listQuery(['name', 'grade', 'schoolYear', 'schoolId'] as const).extend({
  schoolId: intIdQuery.optional(),
  grade: z.coerce.number().int().min(1).max(9).optional(),
  schoolYear: z.coerce.number().int().min(2000).max(2100).optional(),
});

const include = { _count: { select: { registry: true } } } as const;
type Row = Prisma.SchoolClassGetPayload<{ include: typeof include }>;
const toClass = ({ _count, ...c }: Row) => ({ ...c, pupils: _count.registry });

export const classesRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/api/classes',
    {
      schema: {
        tags: ['classes'],
        summary: 'Classes in the caller’s jurisdiction',
        querystring: filters,
        response: { 200: listResponse(classSchema), 400: errorResponse },
      },
    },
    async (req) => {
      const q = req.query;
      const where: Prisma.SchoolClassWhereInput = {
        AND: [
          scope.classes(actorOf(req)),
          q.id ? { id: { in: intIds(q.id) } } : {},
          q.schoolId ? { schoolId: q.schoolId } : {},
          q.grade ? { grade: q.grade } : {},
          q.schoolYear ? { schoolYear: q.schoolYear } : {},
        ],
      };
      const [rows, total] = await Promise.all([
        app.prisma.schoolClass.findMany({ where, include, ...paging(q, 'name') }),
        app.prisma.schoolClass.count({ where }),
      ]);
      return { data: rows.map(toClass), total };
    },
  );

  app.get(
    '/api/classes/:id',
    {
      schema: {
        tags: ['classes'],
        summary: 'One class',
        params: intIdParam,
        response: { 200: classSchema, 404: errorResponse },
      },
    },
    async (req) => {
      const c = await app.prisma.schoolClass.findFirst({
        where: { AND: [{ id: req.params.id }, scope.classes(actorOf(req))] },
        include,
      });
      if (!c) throw new AppError('NOT_FOUND');
      return toClass(c);
    },
  );

  app.post(
    '/api/classes',
    {
      config: { roles: ['ADMIN', 'BUREAU', 'SCHOOL'] },
      schema: {
        tags: ['classes'],
        summary: 'Open a class in a school of the caller’s jurisdiction',
        body: z.object({
          schoolId: intId,
          schoolYear: z.number().int().min(2000).max(2100),
          grade: z.number().int().min(1).max(9),
          name: plainText(30, 1),
          headTeacher: plainText(50).nullable().optional(),
        }),
        response: { 201: classSchema, 400: errorResponse, 404: errorResponse, 409: errorResponse },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const school = await app.prisma.school.findFirst({
        where: { AND: [{ id: req.body.schoolId }, scope.schools(actor)] },
      });
      if (!school) throw new AppError('NOT_FOUND', undefined, '所选学校不在您的辖区内。');
      const created = await app.prisma.$transaction(async (tx) => {
        const dup = await tx.schoolClass.findFirst({
          where: { schoolId: school.id, schoolYear: req.body.schoolYear, name: req.body.name },
        });
        if (dup) throw new AppError('CONFLICT', undefined, '该学年已有同名班级。');
        const c = await tx.schoolClass.create({ data: { ...req.body, regionCode: school.regionCode }, include });
        await audit(tx, actor, { action: 'CREATE', entity: 'SchoolClass', entityId: c.id });
        return c;
      });
      return reply.code(201).send(toClass(created));
    },
  );

  app.put(
    '/api/classes/:id',
    {
      config: { roles: ['ADMIN', 'BUREAU', 'SCHOOL'] },
      schema: {
        tags: ['classes'],
        summary: 'Rename a class or change its head teacher',
        params: intIdParam,
        body: z.object({
          name: plainText(30, 1).optional(),
          headTeacher: plainText(50).nullable().optional(),
        }),
        response: { 200: classSchema, 404: errorResponse },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const found = await app.prisma.schoolClass.findFirst({
        where: { AND: [{ id: req.params.id }, scope.classes(actor)] },
      });
      if (!found) throw new AppError('NOT_FOUND');
      return app.prisma.$transaction(async (tx) => {
        const c = await tx.schoolClass.update({ where: { id: found.id }, data: req.body, include });
        await audit(tx, actor, { action: 'UPDATE', entity: 'SchoolClass', entityId: c.id, details: req.body });
        return toClass(c);
      });
    },
  );
};
