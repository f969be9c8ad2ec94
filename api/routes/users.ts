/**
 * Users and the jurisdiction each acts for. Administrators (and the county bureau, for its county)
 * manage accounts; everyone else sees only themselves. Password hashes never leave the server.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { Role, type Prisma } from '../../generated/prisma/client.js';
import { actorOf, type Actor } from '../auth/actor.js';
import { audit } from '../auth/audit.js';
import { MANAGER_ROLES } from '../auth/duties.js';
import { hashPassword, passwordProblem } from '../auth/password.js';
import { likeText, scope } from '../auth/scope.js';
import { AppError } from '../errors.js';
import { intId, intIdParam, intIds, listQuery, listResponse, paging } from '../resources/list.js';
import { errorResponse } from './shared.js';
import { plainText } from '../domain/text.js';

const userSchema = z.object({
  id: z.number(),
  username: z.string(),
  displayName: z.string(),
  role: z.enum(Role),
  regionCode: z.string(),
  schoolId: z.number().nullable(),
  classId: z.number().nullable(),
  active: z.boolean(),
  locked: z.boolean(),
});

const select = {
  id: true,
  username: true,
  displayName: true,
  role: true,
  regionCode: true,
  schoolId: true,
  classId: true,
  active: true,
  lockedUntil: true,
} as const;
type Row = Prisma.UserGetPayload<{ select: typeof select }>;
const toUser = ({ lockedUntil, ...u }: Row) => ({ ...u, locked: !!lockedUntil && lockedUntil > new Date() });

const password = z.string().superRefine((v, ctx) => {
  const problem = passwordProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const createBody = z.object({
  username: z
    .string()
    .trim()
    .regex(/^[a-z0-9][a-z0-9._-]{2,63}$/, '用户名为3–64位小写字母、数字、点、横线或下划线'),
  displayName: plainText(50, 1),
  password,
  role: z.enum(Role),
  /** Region the user acts for; derived from the school/class when those are given. */
  regionCode: z
    .string()
    .regex(/^\d{2,12}$/)
    .optional(),
  schoolId: intId.optional(),
  classId: intId.optional(),
});

const MANAGERS: Role[] = MANAGER_ROLES;

/** Where a new or changed account would act, refused when it lies outside the manager's jurisdiction. */
async function placement(app: Parameters<FastifyPluginAsyncZod>[0], manager: Actor, body: z.infer<typeof createBody>) {
  if (manager.role !== 'ADMIN' && body.role === 'ADMIN') throw new AppError('FORBIDDEN');
  let regionCode = body.regionCode;
  let schoolId: number | null = body.schoolId ?? null;
  const classId = body.classId ?? null;
  if (classId !== null) {
    const c = await app.prisma.schoolClass.findUnique({ where: { id: classId } });
    if (!c) throw new AppError('VALIDATION_FAILED', [{ path: ['classId'], message: '班级不存在' }]);
    schoolId = c.schoolId;
  }
  if (schoolId !== null) {
    const s = await app.prisma.school.findUnique({ where: { id: schoolId } });
    if (!s) throw new AppError('VALIDATION_FAILED', [{ path: ['schoolId'], message: '学校不存在' }]);
    regionCode = s.regionCode;
  }
  if ((body.role === 'TEACHER' && classId === null) || (body.role === 'SCHOOL' && schoolId === null)) {
    throw new AppError('VALIDATION_FAILED', [{ path: ['role'], message: '教师须选择班级，学校账号须选择学校' }]);
  }
  const region = regionCode ? await app.prisma.region.findUnique({ where: { code: regionCode } }) : null;
  if (!region || !region.code.startsWith(manager.regionCode)) {
    throw new AppError('VALIDATION_FAILED', [{ path: ['regionCode'], message: '所选辖区不在您的管理范围内' }]);
  }
  return { regionId: region.id, regionCode: region.code, schoolId, classId };
}

export const usersRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/api/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Accounts the caller may see (managers: their jurisdiction; others: themselves)',
        querystring: listQuery(['username', 'displayName', 'role', 'regionCode'] as const).extend({
          q: plainText(50).optional(),
          role: z.enum(Role).optional(),
        }),
        response: { 200: listResponse(userSchema), 400: errorResponse },
      },
    },
    async (req) => {
      const q = req.query;
      const where: Prisma.UserWhereInput = {
        AND: [
          scope.users(actorOf(req)),
          q.id ? { id: { in: intIds(q.id) } } : {},
          q.q ? { OR: [{ username: likeText.contains(q.q) }, { displayName: likeText.contains(q.q) }] } : {},
          q.role ? { role: q.role } : {},
        ],
      };
      const [rows, total] = await Promise.all([
        app.prisma.user.findMany({ where, select, ...paging(q, 'username') }),
        app.prisma.user.count({ where }),
      ]);
      return { data: rows.map(toUser), total };
    },
  );

  app.get(
    '/api/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'One account',
        params: intIdParam,
        response: { 200: userSchema, 404: errorResponse },
      },
    },
    async (req) => {
      const u = await app.prisma.user.findFirst({
        where: { AND: [{ id: req.params.id }, scope.users(actorOf(req))] },
        select,
      });
      if (!u) throw new AppError('NOT_FOUND');
      return toUser(u);
    },
  );

  app.post(
    '/api/users',
    {
      config: { roles: MANAGERS },
      schema: {
        tags: ['users'],
        summary: 'Create an account (password policy applies)',
        body: createBody,
        response: { 201: userSchema, 400: errorResponse, 403: errorResponse, 409: errorResponse },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const where = await placement(app, actor, req.body);
      const passwordHash = await hashPassword(req.body.password);
      const created = await app.prisma.$transaction(async (tx) => {
        if (await tx.user.findUnique({ where: { username: req.body.username } })) {
          throw new AppError('CONFLICT', undefined, '该用户名已被使用。');
        }
        const u = await tx.user.create({
          data: {
            username: req.body.username,
            displayName: req.body.displayName,
            role: req.body.role,
            passwordHash,
            ...where,
          },
          select,
        });
        await audit(tx, actor, { action: 'CREATE', entity: 'User', entityId: u.id, details: { role: u.role } });
        return u;
      });
      return reply.code(201).send(toUser(created));
    },
  );

  app.put(
    '/api/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'Change display name or password (own account), or deactivate/unlock (managers)',
        params: intIdParam,
        body: z.object({
          displayName: plainText(50, 1).optional(),
          password: password.optional(),
          active: z.boolean().optional(),
          unlock: z.literal(true).optional(),
        }),
        response: { 200: userSchema, 400: errorResponse, 403: errorResponse, 404: errorResponse },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const found = await app.prisma.user.findFirst({ where: { AND: [{ id: req.params.id }, scope.users(actor)] } });
      if (!found) throw new AppError('NOT_FOUND');
      const managing = MANAGERS.includes(actor.role) && found.id !== actor.userId;
      // A school sees its teachers' accounts but may not rename them or set their passwords: that
      // would let it act, and sign the audit log, as them. Only the owner and the managers may.
      if (!managing && found.id !== actor.userId) throw new AppError('FORBIDDEN');
      if ((req.body.active !== undefined || req.body.unlock) && !managing) throw new AppError('FORBIDDEN');
      const data: Prisma.UserUpdateInput = {
        displayName: req.body.displayName,
        active: req.body.active,
        ...(req.body.unlock ? { lockedUntil: null, failedLogins: 0 } : {}),
        ...(req.body.password ? { passwordHash: await hashPassword(req.body.password) } : {}),
      };
      return app.prisma.$transaction(async (tx) => {
        const u = await tx.user.update({ where: { id: found.id }, data, select });
        if (req.body.password || req.body.active === false)
          await tx.session.deleteMany({ where: { userId: found.id } });
        await audit(tx, actor, {
          action: 'UPDATE',
          entity: 'User',
          entityId: u.id,
          details: { fields: Object.keys(req.body) },
        });
        return toUser(u);
      });
    },
  );
};
