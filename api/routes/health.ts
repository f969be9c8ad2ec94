import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

export const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/health',
    {
      config: { public: true },
      schema: {
        tags: ['operations'],
        summary: 'Liveness of the API and reachability of its database and the engine read model',
        response: {
          200: z.object({ status: z.literal('UP') }),
          503: z.object({ status: z.literal('DOWN'), reason: z.string() }),
        },
      },
    },
    async (_req, reply) => {
      try {
        await app.prisma.$queryRaw`SELECT 1`;
        // The engine's database, or in ENGINE_READ_MODEL=rest the cluster's REST API.
        await app.records.ping();
        return { status: 'UP' as const };
      } catch {
        return reply.code(503).send({ status: 'DOWN' as const, reason: 'database unreachable' });
      }
    },
  );
};
