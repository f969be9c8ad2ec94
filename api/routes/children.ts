/**
 * 适龄儿童: the children record. Lists mask 身份证号, 学籍号, addresses and phones and give the birth
 * year and month, not the date (which is digits 7–14 of the ID number); a child's own page shows them
 * in full and writes a READ_PERSONAL audit row. Every query is scoped (api/auth/scope.ts).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  Gender,
  RegistryChangeKind,
  RegistryStatus,
  VulnerabilityFlag,
  type Prisma,
} from '../../generated/prisma/client.js';
import { actorOf, type Actor } from '../auth/actor.js';
import { audit } from '../auth/audit.js';
import { likeText, scope } from '../auth/scope.js';
import { checkIdNumber } from '../domain/id-number.js';
import { birthMonth, maskAddress, maskIdNumber, maskPhone, maskStudentNumber } from '../domain/mask.js';
import { plainText } from '../domain/text.js';
import { AppError } from '../errors.js';
import { intId, intIdQuery, listQuery, listResponse, paging, uuidParam } from '../resources/list.js';
import { errorResponse } from './shared.js';

const guardianSchema = z.object({
  name: plainText(50, 1),
  relation: plainText(20, 1),
  phone: z
    .string()
    .trim()
    .regex(/^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$/, '请填写11位手机号或带区号的固定电话')
    .nullable()
    .optional(),
});

/** A child as lists show it: masked, born in a year and month. */
const listedChildSchema = z.object({
  id: z.string(),
  idNumber: z.string(),
  name: z.string(),
  gender: z.enum(Gender),
  /** "2015-07" */
  birthMonth: z.string(),
  studentNumber: z.string().nullable(),
  regionCode: z.string(),
  householdRegionId: z.number().nullable(),
  householdAddress: z.string().nullable(),
  residenceAddress: z.string().nullable(),
  flags: z.array(z.enum(VulnerabilityFlag)),
  currentSchoolId: z.number().nullable(),
  currentClassId: z.number().nullable(),
  guardians: z.array(guardianSchema.extend({ phone: z.string().nullable() })),
  updatedAt: z.string(),
});

/** The record page (and the answer to a write by an editor): everything in full. */
const childSchema = listedChildSchema.extend({ birthDate: z.string() });

const registryRecordSchema = z.object({
  schoolYear: z.number(),
  schoolId: z.number(),
  schoolName: z.string(),
  classId: z.number().nullable(),
  className: z.string().nullable(),
  grade: z.number(),
  status: z.enum(RegistryStatus),
  changes: z.array(z.object({ kind: z.enum(RegistryChangeKind), date: z.string(), note: z.string().nullable() })),
});

export const childInclude = { guardians: { orderBy: { id: 'asc' } } } satisfies Prisma.ChildInclude;
export type ChildRow = Prisma.ChildGetPayload<{ include: typeof childInclude }>;

export function toListedChild(c: ChildRow): z.infer<typeof listedChildSchema> {
  return {
    id: c.id,
    idNumber: maskIdNumber(c.idNumber)!,
    name: c.name,
    gender: c.gender,
    birthMonth: birthMonth(c.birthDate),
    studentNumber: maskStudentNumber(c.studentNumber),
    regionCode: c.regionCode,
    householdRegionId: c.householdRegionId,
    householdAddress: maskAddress(c.householdAddress),
    residenceAddress: maskAddress(c.residenceAddress),
    flags: c.flags,
    currentSchoolId: c.currentSchoolId,
    currentClassId: c.currentClassId,
    guardians: c.guardians.map((g) => ({ name: g.name, relation: g.relation, phone: maskPhone(g.phone) })),
    updatedAt: c.updatedAt.toISOString(),
  };
}

function toChild(c: ChildRow): z.infer<typeof childSchema> {
  return {
    ...toListedChild(c),
    idNumber: c.idNumber,
    birthDate: c.birthDate.toISOString().slice(0, 10),
    studentNumber: c.studentNumber,
    householdAddress: c.householdAddress,
    residenceAddress: c.residenceAddress,
    guardians: c.guardians.map((g) => ({ name: g.name, relation: g.relation, phone: g.phone })),
  };
}

/** The shortest tail of a 身份证号 one may search by: fewer characters would match a crowd. */
export const ID_SUFFIX_MIN = 4;

// No sorting by birth date: a county's children in birth order would place each one's day of birth.
export const childFilters = listQuery(['name', 'regionCode', 'updatedAt', 'createdAt'] as const).extend({
  q: plainText(50).optional(),
  /** The whole 身份证号, or its last digits (at least four): within the caller's scope, audited. */
  idNumber: z
    .string()
    .trim()
    .regex(/^\d{0,17}[\dXx]$/, '身份证号只能是数字和末位X')
    .min(ID_SUFFIX_MIN, `请输入完整身份证号或至少后${ID_SUFFIX_MIN}位`)
    .max(18)
    .transform((v) => v.toUpperCase())
    .optional(),
  regionCode: z
    .string()
    .regex(/^\d{2,12}$/)
    .optional(),
  schoolId: intIdQuery.optional(),
  classId: intIdQuery.optional(),
  flag: z.enum(VulnerabilityFlag).optional(),
});

export type ChildFilters = z.infer<typeof childFilters>;

/** The list's `where`: the caller's scope AND every filter given (an 18-character ID number exactly, fewer its tail). */
export function childWhere(actor: Actor, q: ChildFilters): Prisma.ChildWhereInput {
  return {
    AND: [
      scope.children(actor),
      q.id ? { id: { in: q.id.filter((v) => z.uuid().safeParse(v).success) } } : {},
      q.q ? { name: likeText.contains(q.q) } : {},
      q.idNumber ? { idNumber: q.idNumber.length === 18 ? q.idNumber : { endsWith: q.idNumber } } : {},
      q.regionCode ? { regionCode: { startsWith: q.regionCode } } : {},
      q.schoolId ? { currentSchoolId: q.schoolId } : {},
      q.classId ? { currentClassId: q.classId } : {},
      q.flag ? { flags: { has: q.flag } } : {},
    ],
  };
}

/**
 * A search by ID number is a lookup of personal data: each child it finds gets a READ_PERSONAL row, and a
 * search that finds nobody one row of its own — so trying the numbers (or tails) that fit a mask one by one
 * leaves a trail either way. The number searched for is not written (the log would hold the full ID).
 */
export async function auditIdLookup(
  db: Parameters<typeof audit>[0],
  actor: Actor,
  q: ChildFilters,
  foundIds: string[],
  ip: string,
): Promise<void> {
  if (!q.idNumber) return;
  const lookup = q.idNumber.length === 18 ? 'idNumber' : 'idNumberSuffix';
  if (foundIds.length === 0) {
    await audit(db, actor, { action: 'READ_PERSONAL', entity: 'Child', details: { lookup, found: 0 }, ip });
  }
  for (const id of foundIds) {
    await audit(db, actor, { action: 'READ_PERSONAL', entity: 'Child', entityId: id, details: { lookup }, ip });
  }
}

const writable = z.object({
  name: plainText(50, 1),
  /** A town or village (Region id) of the caller's jurisdiction. */
  householdRegionId: intId.nullable().optional(),
  householdAddress: plainText(200).nullable().optional(),
  residenceAddress: plainText(200).nullable().optional(),
  flags: z.array(z.enum(VulnerabilityFlag)).max(20).optional(),
  guardians: z.array(guardianSchema).max(6).optional(),
});

const createBody = writable.extend({
  idNumber: z.string().trim().max(64),
  /** Town (or village) of household registration; must be inside the caller's jurisdiction. */
  regionCode: z.string().regex(/^\d{9}(\d{3})?$/, '请选择户籍所在镇街'),
});

/** Roles that maintain children's records. */
const EDITORS = ['ADMIN', 'BUREAU', 'TOWN', 'SCHOOL'] as const;

async function findScoped(app: Parameters<FastifyPluginAsyncZod>[0], actor: Actor, id: string) {
  const child = await app.prisma.child.findFirst({
    where: { AND: [{ id }, scope.children(actor)] },
    include: childInclude,
  });
  if (!child) throw new AppError('NOT_FOUND');
  return child;
}

/** Where the caller may register children: a school registers them anywhere in its county. */
const editableRegion = (actor: Actor) => (actor.role === 'SCHOOL' ? actor.regionCode.slice(0, 6) : actor.regionCode);

/** A household region given by id must be a town or village the caller may register children in. */
async function checkHouseholdRegion(
  app: Parameters<FastifyPluginAsyncZod>[0],
  actor: Actor,
  id: number | null | undefined,
): Promise<void> {
  if (id === null || id === undefined) return;
  const region = await app.prisma.region.findUnique({ where: { id }, select: { code: true, level: true } });
  if (!region || !['TOWN', 'VILLAGE'].includes(region.level) || !region.code.startsWith(editableRegion(actor))) {
    throw new AppError('VALIDATION_FAILED', [{ path: ['householdRegionId'], message: '户籍所在地不在您的辖区内' }]);
  }
}

export const childrenRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/api/children',
    {
      schema: {
        tags: ['children'],
        summary: 'Children in the caller’s jurisdiction (personal data masked)',
        querystring: childFilters,
        response: { 200: listResponse(listedChildSchema), 400: errorResponse },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const q = req.query;
      const where = childWhere(actor, q);
      const [rows, total] = await Promise.all([
        app.prisma.child.findMany({ where, include: childInclude, ...paging(q, 'name') }),
        app.prisma.child.count({ where }),
      ]);
      await auditIdLookup(
        app.prisma,
        actor,
        q,
        rows.map((c) => c.id),
        req.ip,
      );
      return { data: rows.map(toListedChild), total };
    },
  );

  app.get(
    '/api/children/:id',
    {
      schema: {
        tags: ['children'],
        summary: 'One child in full (audited read of personal data)',
        params: uuidParam,
        response: { 200: childSchema, 404: errorResponse },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const child = await findScoped(app, actor, req.params.id);
      await audit(app.prisma, actor, { action: 'READ_PERSONAL', entity: 'Child', entityId: child.id, ip: req.ip });
      return toChild(child);
    },
  );

  app.post(
    '/api/children',
    {
      config: { roles: [...EDITORS] },
      schema: {
        tags: ['children'],
        summary: 'Register a child (身份证号 validated; birth date and gender derived from it)',
        body: createBody,
        response: { 201: childSchema, 400: errorResponse, 409: errorResponse, 422: errorResponse },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const id = checkIdNumber(req.body.idNumber);
      if (!id.ok) throw new AppError('VALIDATION_FAILED', [{ path: ['idNumber'], message: id.reason }]);
      const inJurisdiction = req.body.regionCode.startsWith(editableRegion(actor));
      const region = await app.prisma.region.findUnique({ where: { code: req.body.regionCode } });
      if (!region || !inJurisdiction) {
        throw new AppError('VALIDATION_FAILED', [{ path: ['regionCode'], message: '户籍所在镇街不在您的辖区内' }]);
      }
      await checkHouseholdRegion(app, actor, req.body.householdRegionId);
      const { guardians, ...rest } = req.body;
      const created = await app.prisma.$transaction(async (tx) => {
        if (await tx.child.findUnique({ where: { idNumber: id.facts.idNumber } })) {
          throw new AppError('CONFLICT', undefined, '该身份证号的儿童已登记。');
        }
        const child = await tx.child.create({
          data: {
            ...rest,
            idNumber: id.facts.idNumber,
            birthDate: id.facts.birthDate,
            gender: id.facts.gender,
            regionCode: region.code.slice(0, 9),
            householdRegionId: rest.householdRegionId ?? region.id,
            guardians: guardians ? { create: guardians.map((g) => ({ ...g, phone: g.phone ?? null })) } : undefined,
          },
          include: childInclude,
        });
        await audit(tx, actor, { action: 'CREATE', entity: 'Child', entityId: child.id, ip: req.ip });
        return child;
      });
      return reply.code(201).send(toChild(created));
    },
  );

  app.put(
    '/api/children/:id',
    {
      config: { roles: [...EDITORS] },
      schema: {
        tags: ['children'],
        summary: 'Update a child (the ID number, birth date and gender cannot change)',
        params: uuidParam,
        body: writable.partial(),
        response: { 200: childSchema, 400: errorResponse, 404: errorResponse },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const before = await findScoped(app, actor, req.params.id);
      await checkHouseholdRegion(app, actor, req.body.householdRegionId);
      const { guardians, ...rest } = req.body;
      const updated = await app.prisma.$transaction(async (tx) => {
        if (guardians) {
          await tx.guardian.deleteMany({ where: { childId: before.id } });
          await tx.guardian.createMany({
            data: guardians.map((g) => ({ ...g, phone: g.phone ?? null, childId: before.id })),
          });
        }
        const child = await tx.child.update({ where: { id: before.id }, data: rest, include: childInclude });
        await audit(tx, actor, {
          action: 'UPDATE',
          entity: 'Child',
          entityId: child.id,
          details: { fields: Object.keys(req.body) },
          ip: req.ip,
        });
        return child;
      });
      return toChild(updated);
    },
  );

  app.get(
    '/api/children/:id/registry',
    {
      schema: {
        tags: ['children'],
        summary: 'A child’s registry records (学籍) by school year, with the dated status changes',
        params: uuidParam,
        response: { 200: z.object({ data: z.array(registryRecordSchema) }), 404: errorResponse },
      },
    },
    async (req) => {
      const child = await findScoped(app, actorOf(req), req.params.id);
      const records = await app.prisma.registryRecord.findMany({
        where: { childId: child.id },
        include: {
          school: { select: { name: true } },
          class: { select: { name: true } },
          changes: { orderBy: [{ date: 'asc' }, { id: 'asc' }] },
        },
        orderBy: { schoolYear: 'desc' },
      });
      return {
        data: records.map((r) => ({
          schoolYear: r.schoolYear,
          schoolId: r.schoolId,
          schoolName: r.school.name,
          classId: r.classId,
          className: r.class?.name ?? null,
          grade: r.grade,
          status: r.status,
          changes: r.changes.map((ch) => ({ kind: ch.kind, date: ch.date.toISOString().slice(0, 10), note: ch.note })),
        })),
      };
    },
  );
};
