import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { engineKey } from '../resources/list.js';
import { actorOf } from '../auth/actor.js';
import { scope } from '../auth/scope.js';
import { AppError } from '../errors.js';
import { errorResponse } from './shared.js';

export const processInstanceRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/api/process-instances/:key',
    {
      // The county's operators (bureau, supervisors, administrator): the state and incidents of its flows.
      config: { roles: ['BUREAU', 'SUPERVISOR', 'ADMIN'] },
      schema: {
        tags: ['operations'],
        summary:
          'State of a process instance (of a case, campaign or handover in the caller’s county) and its open incidents',
        params: z.object({ key: engineKey }),
        response: {
          200: z.object({
            processInstanceKey: z.string(),
            state: z.enum(['ACTIVE', 'COMPLETED', 'TERMINATED']),
            incidents: z.array(z.object({ key: z.string(), message: z.string(), elementId: z.string() })),
          }),
          404: errorResponse,
        },
      },
    },
    async (req) => {
      // An instance belongs to a case, a campaign or a handover: visible only inside their scope.
      const actor = actorOf(req);
      const key = req.params.key;
      const [c, campaign, handover] = await Promise.all([
        app.prisma.dropoutCase.count({ where: { AND: [{ processInstanceKey: key }, scope.cases(actor)] } }),
        app.prisma.campaign.count({ where: { AND: [{ processInstanceKey: key }, scope.campaigns(actor)] } }),
        app.prisma.handoverBatch.count({ where: { AND: [{ processInstanceKey: key }, scope.handovers(actor)] } }),
      ]);
      if (c + campaign + handover === 0) throw new AppError('NOT_FOUND', undefined, '没有找到该流程实例。');
      const state = await app.records.processInstanceState(req.params.key);
      if (!state) throw new AppError('NOT_FOUND', undefined, '没有找到该流程实例。');
      const incidents = await app.records.openIncidents(req.params.key);
      return { processInstanceKey: req.params.key, state, incidents };
    },
  );
};
