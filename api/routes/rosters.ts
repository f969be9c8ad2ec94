/**
 * The lists caseworkers work through inside a county flow: a campaign's suspects (疑似未入学名单) for
 * the towns to verify, and a handover's classes and rosters (花名册) for the sending and receiving
 * schools. Children's personal data is masked here as in every list.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HandoverPupilStatus, RegistrationFix, type Prisma } from '../../generated/prisma/client.js';
import { actorOf } from '../auth/actor.js';
import { scope } from '../auth/scope.js';
import { maskIdNumber } from '../domain/mask.js';
import { AppError } from '../errors.js';
import { intIdParam, listQuery, listResponse, paging } from '../resources/list.js';
import { errorResponse } from './shared.js';

const childSummary = z.object({ id: z.string(), name: z.string(), idNumber: z.string(), gender: z.string() });
const summarise = (c: { id: string; name: string; idNumber: string; gender: string }) => ({
  ...c,
  idNumber: maskIdNumber(c.idNumber)!,
});

const suspectSchema = z.object({
  id: z.number(),
  round: z.number(),
  regionCode: z.string(),
  child: childSummary,
  outcomeCode: z.string().nullable(),
  reasonCode: z.string().nullable(),
  whereabouts: z.string().nullable(),
  evidence: z.string().nullable(),
  placement: z.string().nullable(),
  registration: z.enum(RegistrationFix).nullable(),
  verifiedAt: z.string().nullable(),
});

const assignmentSchema = z.object({
  id: z.number(),
  fromClassId: z.number(),
  fromClassName: z.string(),
  fromSchoolId: z.number(),
  fromSchoolName: z.string(),
  toSchoolId: z.number(),
  toSchoolName: z.string(),
  regionCode: z.string(),
  /** The 交接表's four copies: sending school, receiving school, town office, county bureau. */
  signed: z.object({
    sending: z.string().nullable(),
    receiving: z.string().nullable(),
    town: z.string().nullable(),
    bureau: z.string().nullable(),
  }),
  pupils: z.partialRecord(z.enum(HandoverPupilStatus), z.number()),
});

const pupilSchema = z.object({
  id: z.number(),
  assignmentId: z.number(),
  child: childSummary,
  status: z.enum(HandoverPupilStatus),
  registeredAt: z.string().nullable(),
  recordMatched: z.boolean(),
  traceNote: z.string().nullable(),
});

export const rostersRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/api/campaigns/:id/suspects',
    {
      schema: {
        tags: ['campaigns'],
        summary: 'A campaign’s suspects in the caller’s jurisdiction (a town: its own), one row per child and round',
        params: intIdParam,
        querystring: listQuery(['round', 'regionCode', 'verifiedAt'] as const).extend({
          round: z.coerce.number().int().min(1).optional(),
          regionCode: z
            .string()
            .regex(/^\d{2,12}$/)
            .optional(),
          outcome: z.string().max(8).optional(),
          pending: z.enum(['true', 'false']).optional(),
        }),
        response: { 200: listResponse(suspectSchema), 400: errorResponse, 404: errorResponse },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const campaign = await app.prisma.campaign.findFirst({
        where: { AND: [{ id: req.params.id }, scope.campaigns(actor)] },
      });
      if (!campaign) throw new AppError('NOT_FOUND');
      const q = req.query;
      const where: Prisma.SuspectedChildWhereInput = {
        AND: [
          { campaignId: campaign.id },
          scope.suspects(actor),
          q.round ? { round: q.round } : {},
          q.regionCode ? { regionCode: { startsWith: q.regionCode } } : {},
          q.outcome ? { outcomeCode: q.outcome } : {},
          q.pending ? { outcomeCode: q.pending === 'true' ? null : { not: null } } : {},
        ],
      };
      const include = { child: { select: { id: true, name: true, idNumber: true, gender: true } } } as const;
      const [rows, total] = await Promise.all([
        app.prisma.suspectedChild.findMany({ where, include, ...paging(q, 'regionCode') }),
        app.prisma.suspectedChild.count({ where }),
      ]);
      return {
        data: rows.map(({ campaignId: _c, childId: _id, verifiedBy: _v, child, verifiedAt, ...s }) => ({
          ...s,
          child: summarise(child),
          verifiedAt: verifiedAt?.toISOString() ?? null,
        })),
        total,
      };
    },
  );

  app.get(
    '/api/verification-codes',
    {
      schema: {
        tags: ['campaigns'],
        summary: 'The code table of verification outcomes (A–L) and registry reasons (A2…B2)',
        response: {
          200: z.object({
            data: z.array(
              z.object({ code: z.string(), kind: z.string(), label: z.string(), clearsSuspicion: z.boolean() }),
            ),
          }),
        },
      },
    },
    async () => ({
      data: await app.prisma.verificationCode.findMany({ orderBy: [{ kind: 'asc' }, { code: 'asc' }] }),
    }),
  );

  app.get(
    '/api/handovers/:id/assignments',
    {
      schema: {
        tags: ['handovers'],
        summary: 'The handover plan: each grade-6 class, its receiving school, the 交接表 signatures and 清零 progress',
        params: intIdParam,
        querystring: listQuery(['id', 'regionCode'] as const),
        response: { 200: listResponse(assignmentSchema), 400: errorResponse, 404: errorResponse },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const batch = await app.prisma.handoverBatch.findFirst({
        where: { AND: [{ id: req.params.id }, scope.handovers(actor)] },
      });
      if (!batch) throw new AppError('NOT_FOUND');
      const where: Prisma.HandoverAssignmentWhereInput = {
        AND: [{ batchId: batch.id }, scope.handoverAssignments(actor)],
      };
      const [rows, total] = await Promise.all([
        app.prisma.handoverAssignment.findMany({
          where,
          include: {
            fromClass: { include: { school: { select: { id: true, name: true } } } },
            toSchool: { select: { name: true } },
          },
          ...paging(req.query, 'id'),
        }),
        app.prisma.handoverAssignment.count({ where }),
      ]);
      const counts = await app.prisma.handoverPupil.groupBy({
        by: ['assignmentId', 'status'],
        where: { assignmentId: { in: rows.map((r) => r.id) } },
        _count: { _all: true },
      });
      const iso = (d: Date | null) => d?.toISOString() ?? null;
      return {
        data: rows.map((a) => ({
          id: a.id,
          fromClassId: a.fromClassId,
          fromClassName: a.fromClass.name,
          fromSchoolId: a.fromClass.school.id,
          fromSchoolName: a.fromClass.school.name,
          toSchoolId: a.toSchoolId,
          toSchoolName: a.toSchool.name,
          regionCode: a.regionCode,
          signed: {
            sending: iso(a.sendingSignedAt),
            receiving: iso(a.receivingSignedAt),
            town: iso(a.townSignedAt),
            bureau: iso(a.bureauSignedAt),
          },
          pupils: Object.fromEntries(
            counts.filter((c) => c.assignmentId === a.id).map((c) => [c.status, c._count._all]),
          ),
        })),
        total,
      };
    },
  );

  app.get(
    '/api/handovers/:id/pupils',
    {
      schema: {
        tags: ['handovers'],
        summary: 'The roster (花名册) of the handover classes the caller may see, with each pupil’s registration',
        params: intIdParam,
        querystring: listQuery(['id', 'status'] as const).extend({
          assignment: z.coerce.number().int().positive().optional(),
          status: z.enum(HandoverPupilStatus).optional(),
        }),
        response: { 200: listResponse(pupilSchema), 400: errorResponse, 404: errorResponse },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const batch = await app.prisma.handoverBatch.findFirst({
        where: { AND: [{ id: req.params.id }, scope.handovers(actor)] },
      });
      if (!batch) throw new AppError('NOT_FOUND');
      const q = req.query;
      const where: Prisma.HandoverPupilWhereInput = {
        AND: [
          { assignment: { AND: [{ batchId: batch.id }, scope.handoverAssignments(actor)] } },
          q.assignment ? { assignmentId: q.assignment } : {},
          q.status ? { status: q.status } : {},
        ],
      };
      const [rows, total] = await Promise.all([
        app.prisma.handoverPupil.findMany({
          where,
          include: { child: { select: { id: true, name: true, idNumber: true, gender: true } } },
          ...paging(q, 'id'),
        }),
        app.prisma.handoverPupil.count({ where }),
      ]);
      return {
        data: rows.map(({ childId: _c, child, registeredAt, ...p }) => ({
          ...p,
          child: summarise(child),
          registeredAt: registeredAt?.toISOString() ?? null,
        })),
        total,
      };
    },
  );
};
