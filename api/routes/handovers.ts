/** 小学毕业生整班移交: one handover batch per county and year, run by processes/whole-class-handover.bpmn. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HandoverPupilStatus, HandoverStatus, type Prisma } from '../../generated/prisma/client.js';
import { actorOf } from '../auth/actor.js';
import { audit } from '../auth/audit.js';
import { group } from '../auth/groups.js';
import { scope } from '../auth/scope.js';
import { AppError } from '../errors.js';
import { startFlowFor } from '../flows/start-flow.js';
import { intIdParam, intIds, listQuery, listResponse, paging } from '../resources/list.js';
import { countyYearBody } from './campaigns.js';
import { errorResponse } from './shared.js';

export const HANDOVER_PROCESS = 'whole-class-handover';

const handoverSchema = z.object({
  id: z.number(),
  regionCode: z.string(),
  year: z.number(),
  status: z.enum(HandoverStatus),
  processInstanceKey: z.string().nullable(),
  approvedAt: z.string().nullable(),
  clearedAt: z.string().nullable(),
  createdAt: z.string(),
  classes: z.number(),
  /** Pupils per registration status: the 清零 progress. */
  pupils: z.partialRecord(z.enum(HandoverPupilStatus), z.number()),
});

type Row = Prisma.HandoverBatchGetPayload<{ include: { _count: { select: { assignments: true } } } }>;

export const handoversRoutes: FastifyPluginAsyncZod = async (app) => {
  async function toHandover(b: Row): Promise<z.infer<typeof handoverSchema>> {
    const counts = await app.prisma.handoverPupil.groupBy({
      by: ['status'],
      where: { assignment: { batchId: b.id } },
      _count: { _all: true },
    });
    return {
      id: b.id,
      regionCode: b.regionCode,
      year: b.year,
      status: b.status,
      processInstanceKey: b.processInstanceKey,
      approvedAt: b.approvedAt?.toISOString() ?? null,
      clearedAt: b.clearedAt?.toISOString() ?? null,
      createdAt: b.createdAt.toISOString(),
      classes: b._count.assignments,
      pupils: Object.fromEntries(counts.map((c) => [c.status, c._count._all])),
    };
  }
  const include = { _count: { select: { assignments: true } } } as const;

  app.get(
    '/api/handovers',
    {
      schema: {
        tags: ['handovers'],
        summary: 'Whole-class handovers of the caller’s county',
        querystring: listQuery(['year', 'createdAt'] as const).extend({ year: z.coerce.number().int().optional() }),
        response: { 200: listResponse(handoverSchema), 400: errorResponse },
      },
    },
    async (req) => {
      const q = req.query;
      const where: Prisma.HandoverBatchWhereInput = {
        AND: [scope.handovers(actorOf(req)), q.id ? { id: { in: intIds(q.id) } } : {}, q.year ? { year: q.year } : {}],
      };
      const [rows, total] = await Promise.all([
        app.prisma.handoverBatch.findMany({ where, include, ...paging(q, 'year') }),
        app.prisma.handoverBatch.count({ where }),
      ]);
      return { data: await Promise.all(rows.map(toHandover)), total };
    },
  );

  app.get(
    '/api/handovers/:id',
    {
      schema: {
        tags: ['handovers'],
        summary: 'One handover',
        params: intIdParam,
        response: { 200: handoverSchema, 404: errorResponse },
      },
    },
    async (req) => {
      const b = await app.prisma.handoverBatch.findFirst({
        where: { AND: [{ id: req.params.id }, scope.handovers(actorOf(req))] },
        include,
      });
      if (!b) throw new AppError('NOT_FOUND');
      return toHandover(b);
    },
  );

  app.post(
    '/api/handovers',
    {
      config: { roles: ['BUREAU', 'ADMIN'] },
      schema: {
        tags: ['handovers'],
        summary: 'Start the year’s primary→middle whole-class handover for a county ([G])',
        body: countyYearBody,
        response: { 201: handoverSchema, 400: errorResponse, 403: errorResponse, 409: errorResponse },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      if (!req.body.county.startsWith(actor.regionCode)) throw new AppError('FORBIDDEN');
      const batch = await startFlowFor({
        conflictMessage: '该县本年度的整班移交已经启动。',
        create: () => app.prisma.handoverBatch.create({ data: { regionCode: req.body.county, year: req.body.year } }),
        start: async (b) =>
          (
            await app.engine.startProcess(HANDOVER_PROCESS, {
              handoverId: b.id,
              county: b.regionCode,
              year: b.year,
              bureauGroup: group.bureau(b.regionCode),
            })
          ).processInstanceKey,
        link: (b, processInstanceKey) =>
          app.prisma.$transaction(async (tx) => {
            const started = await tx.handoverBatch.update({
              where: { id: b.id },
              data: { processInstanceKey },
              include,
            });
            await audit(tx, actor, { action: 'CREATE', entity: 'HandoverBatch', entityId: b.id, details: req.body });
            return started;
          }),
        undo: (b) => app.prisma.handoverBatch.delete({ where: { id: b.id } }),
      });
      return reply.code(201).send(await toHandover(batch));
    },
  );
};
