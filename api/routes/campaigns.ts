/** 适龄儿童入学核查: one campaign per county and year, run by processes/enrollment-verification.bpmn. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CampaignStatus, type Prisma } from '../../generated/prisma/client.js';
import { actorOf } from '../auth/actor.js';
import { audit } from '../auth/audit.js';
import { group } from '../auth/groups.js';
import { scope } from '../auth/scope.js';
import { chinaYear } from '../domain/china-time.js';
import { AppError } from '../errors.js';
import { startFlowFor } from '../flows/start-flow.js';
import { intIdParam, intIds, listQuery, listResponse, paging } from '../resources/list.js';
import { errorResponse } from './shared.js';

export const ENROLLMENT_PROCESS = 'enrollment-verification';

const campaignSchema = z.object({
  id: z.number(),
  regionCode: z.string(),
  year: z.number(),
  status: z.enum(CampaignStatus),
  processInstanceKey: z.string().nullable(),
  createdAt: z.string(),
  reportedAt: z.string().nullable(),
  suspects: z.number(),
});

/** Suspects are counted by their round-1 rows: every suspect enters there, once. */
const include = { _count: { select: { suspects: { where: { round: 1 } } } } } as const;
type Row = Prisma.CampaignGetPayload<{ include: typeof include }>;
const toCampaign = ({ _count, createdBy: _createdBy, ...c }: Row) => ({
  ...c,
  createdAt: c.createdAt.toISOString(),
  reportedAt: c.reportedAt?.toISOString() ?? null,
  suspects: _count.suspects,
});

/** {county, year} of a county-wide flow, checked against the caller's own county. */
export const countyYearBody = z.object({
  county: z.string().regex(/^\d{6}$/, '县级区划代码为6位数字'),
  year: z.number().int().min(2000).max(2100),
});

/**
 * The year's verification works on the lists the departments deliver by 30 June of that year ([T]
 * 二(一)), so a bureau may start it (and import the lists) in the year before; a campaign further
 * ahead has no lists, no children of age and no deadlines that mean anything — a mistyped year.
 * The year is China's (api/domain/china-time.ts).
 */
function refuseFarYear(year: number): void {
  const latest = chinaYear() + 1;
  if (year > latest) {
    throw new AppError(
      'VALIDATION_FAILED',
      [{ path: ['year'], message: `年度不能晚于${latest}年` }],
      `不能启动${year}年度的入学核查：最早可提前一年启动，即${latest}年度及以前。`,
    );
  }
}

export const campaignsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/api/campaigns',
    {
      schema: {
        tags: ['campaigns'],
        summary: 'Enrollment verification campaigns of the caller’s county',
        querystring: listQuery(['year', 'createdAt'] as const).extend({
          year: z.coerce.number().int().optional(),
          status: z.enum(CampaignStatus).optional(),
        }),
        response: { 200: listResponse(campaignSchema), 400: errorResponse },
      },
    },
    async (req) => {
      const q = req.query;
      const where: Prisma.CampaignWhereInput = {
        AND: [
          scope.campaigns(actorOf(req)),
          q.id ? { id: { in: intIds(q.id) } } : {},
          q.year ? { year: q.year } : {},
          q.status ? { status: q.status } : {},
        ],
      };
      const [rows, total] = await Promise.all([
        app.prisma.campaign.findMany({ where, include, ...paging(q, 'year') }),
        app.prisma.campaign.count({ where }),
      ]);
      return { data: rows.map(toCampaign), total };
    },
  );

  app.get(
    '/api/campaigns/:id',
    {
      schema: {
        tags: ['campaigns'],
        summary: 'One campaign',
        params: intIdParam,
        response: { 200: campaignSchema, 404: errorResponse },
      },
    },
    async (req) => {
      const c = await app.prisma.campaign.findFirst({
        where: { AND: [{ id: req.params.id }, scope.campaigns(actorOf(req))] },
        include,
      });
      if (!c) throw new AppError('NOT_FOUND');
      return toCampaign(c);
    },
  );

  app.post(
    '/api/campaigns/enrollment',
    {
      config: { roles: ['BUREAU', 'ADMIN'] },
      schema: {
        tags: ['campaigns'],
        summary: 'Start the year’s enrollment verification for a county ([T] 二(一)(二))',
        body: countyYearBody,
        response: { 201: campaignSchema, 400: errorResponse, 403: errorResponse, 409: errorResponse },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      if (!req.body.county.startsWith(actor.regionCode)) throw new AppError('FORBIDDEN');
      refuseFarYear(req.body.year);
      const campaign = await startFlowFor({
        conflictMessage: '该县本年度的入学核查已经启动。',
        create: () =>
          app.prisma.campaign.create({
            data: { regionCode: req.body.county, year: req.body.year, createdBy: actor.userId },
          }),
        start: async (c) =>
          (
            await app.engine.startProcess(ENROLLMENT_PROCESS, {
              campaignId: c.id,
              county: c.regionCode,
              year: c.year,
              bureauGroup: group.bureau(c.regionCode),
            })
          ).processInstanceKey,
        link: (c, processInstanceKey) =>
          app.prisma.$transaction(async (tx) => {
            const started = await tx.campaign.update({ where: { id: c.id }, data: { processInstanceKey }, include });
            await audit(tx, actor, { action: 'CREATE', entity: 'Campaign', entityId: c.id, details: req.body });
            return started;
          }),
        undo: (c) => app.prisma.campaign.delete({ where: { id: c.id } }),
      });
      return reply.code(201).send(toCampaign(campaign));
    },
  );
};
