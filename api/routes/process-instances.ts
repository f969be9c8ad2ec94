import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { COUNTY_ROLES } from '../auth/actor.js';
import { AppError } from '../errors.js';
import { errorResponse } from './shared.js';

export const processInstanceRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/api/process-instances/:key',
    {
      config: { roles: COUNTY_ROLES },
      schema: {
        tags: ['operations'],
        summary: 'State of a process instance and its open incidents (county roles)',
        params: z.object({ key: z.string().regex(/^\d{1,19}$/) }),
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
      const state = await app.records.processInstanceState(req.params.key);
      if (!state) throw new AppError('NOT_FOUND', undefined, '没有找到该流程实例。');
      const incidents = await app.records.openIncidents(req.params.key);
      return { processInstanceKey: req.params.key, state, incidents };
    },
  );
};
