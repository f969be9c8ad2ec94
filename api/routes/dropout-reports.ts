import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { openDropoutCaseInput } from '../../workers/open-dropout-case/schema.js';
import { errorResponse } from './shared.js';

/** The diagram a teacher's report starts: processes/dropout-case-intake.bpmn. */
export const DROPOUT_INTAKE_PROCESS = 'dropout-case-intake';

export const dropoutReportRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/api/dropout-reports',
    {
      schema: {
        summary: 'A teacher reports a suspected dropout: starts the escalation flow',
        body: openDropoutCaseInput,
        response: { 201: z.object({ processInstanceKey: z.string() }), 400: errorResponse },
      },
    },
    async (req, reply) => {
      const { processInstanceKey } = await app.engine.startProcess(DROPOUT_INTAKE_PROCESS, req.body);
      return reply.code(201).send({ processInstanceKey });
    },
  );

  app.get(
    '/api/process-instances/:key',
    {
      schema: {
        summary: 'State of a process instance and its open incidents',
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
    async (req, reply) => {
      const state = await app.records.processInstanceState(req.params.key);
      if (!state) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: '没有找到该流程实例。' } });
      const incidents = await app.records.openIncidents(req.params.key);
      return { processInstanceKey: req.params.key, state, incidents };
    },
  );
};
