/**
 * Prometheus metrics: the process's own (CPU, memory, event loop) and the API's request rate and
 * latency per route. Scraped from inside the deployment network; it carries no personal data.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** Registered with fastify-plugin so the timing hook sees every route, not only its own. */
export const metricsRoutes = fp(
  async (app: FastifyInstance) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'kongchuo_' });
    const duration = new Histogram({
      name: 'kongchuo_http_request_duration_seconds',
      help: 'API request duration by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });

    app.addHook('onResponse', async (req, reply) => {
      // The route pattern, not the URL: ids in URLs would explode the label set.
      const route = req.routeOptions.url ?? 'unmatched';
      duration.observe({ method: req.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    });

    app.get(
      '/metrics',
      { config: { public: true }, schema: { tags: ['operations'], summary: 'Prometheus metrics' } },
      async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()),
    );
  },
  { name: 'metrics' },
);
