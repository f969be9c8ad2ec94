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
};
