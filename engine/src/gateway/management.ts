/**
 * The management port, shaped like Zeebe's Spring actuator: health (overall, readiness, liveness),
 * Prometheus metrics and, for tests only, the engine clock: Zeebe's `/actuator/clock` endpoint of a
 * broker started with a controlled clock, whose client side is infra/camunda/engine.ts `engineClock`.
 */
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { EngineApi } from '../api.js';
import type { GatewayLog, RunningGateway } from './grpc.js';

export interface ManagementOptions {
  host: string;
  /** 0: an ephemeral port (the bound one is returned). */
  port: number;
  log: GatewayLog;
}

/** The Prometheus text exposition format's content type. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
/** The clock endpoints take tiny JSON bodies; anything larger is a mistake. */
const MAX_BODY_BYTES = 16 * 1024;
const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const pinBody = z.object({ epochMilli: z.number().int().min(0) });
const addBody = z.object({ offsetMilli: z.number().int() });

export async function startManagement(api: EngineApi, opts: ManagementOptions): Promise<RunningGateway> {
  const { log } = opts;
  const app = Fastify({ bodyLimit: MAX_BODY_BYTES, logger: false });

  const problem = (req: FastifyRequest, reply: FastifyReply, status: number, title: string, detail: string) =>
    reply
      .code(status)
      .type(PROBLEM_CONTENT_TYPE)
      .send({ type: 'about:blank', title, status, detail, instance: req.url.split('?')[0] });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return problem(req, reply, err.statusCode, 'Bad Request', err.message);
    }
    log('error', 'management request failed', {
      method: req.method,
      url: req.url,
      err: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
    return problem(req, reply, 500, 'Internal Server Error', 'An internal error occurred; see the engine log.');
  });
  app.setNotFoundHandler((req, reply) =>
    problem(req, reply, 404, 'Not Found', `No endpoint ${req.method} ${req.url.split('?')[0]}`),
  );

  /** Ready = database reachable and schema in place; a failing probe counts as not ready. */
  const readiness = async (_req: FastifyRequest, reply: FastifyReply) => {
    let ready = false;
    let detail: string | undefined;
    try {
      ({ ready, detail } = await api.health());
    } catch (err) {
      detail = 'health check failed';
      log('warn', 'engine health check failed', { err: err instanceof Error ? err.message : String(err) });
    }
    if (!ready && detail) log('debug', 'engine not ready', { detail });
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'UP' : 'DOWN' });
  };
  app.get('/actuator/health', readiness);
  app.get('/actuator/health/readiness', readiness);
  // Liveness says whether this process should be restarted: it answers while the process serves, and
  // deliberately not from the database — restarting every engine during a PostgreSQL outage would
  // only add a cold start to the outage.
  app.get('/actuator/health/liveness', async () => ({ status: 'UP' }));

  app.get('/actuator/prometheus', async (_req, reply) => reply.type(PROMETHEUS_CONTENT_TYPE).send(await api.metrics()));

  const now = () => {
    const epochMilli = api.clock.now();
    return { epochMilli, instant: new Date(epochMilli).toISOString() };
  };
  /** Moving the clock is for tests only: refused unless the engine runs with a controlled clock. */
  const clockWrite = async (req: FastifyRequest, reply: FastifyReply, change: () => void) => {
    if (!api.clock.controlled) {
      return problem(req, reply, 403, 'Forbidden', 'The engine clock is not controlled; it cannot be moved.');
    }
    change();
    return now();
  };
  const parse = <T extends z.ZodType>(schema: T, body: unknown): z.output<T> | string => {
    const result = schema.safeParse(body ?? {});
    if (result.success) return result.data;
    return result.error.issues.map((i) => `'${i.path.join('.')}': ${i.message}`).join('; ');
  };

  app.get('/actuator/clock', async () => now());
  app.post('/actuator/clock/pin', async (req, reply) => {
    const body = parse(pinBody, req.body);
    if (typeof body === 'string') return problem(req, reply, 400, 'Bad Request', body);
    return clockWrite(req, reply, () => api.clock.pin(body.epochMilli));
  });
  app.post('/actuator/clock/add', async (req, reply) => {
    const body = parse(addBody, req.body);
    if (typeof body === 'string') return problem(req, reply, 400, 'Bad Request', body);
    return clockWrite(req, reply, () => api.clock.add(body.offsetMilli));
  });
  app.delete('/actuator/clock', async (req, reply) => clockWrite(req, reply, () => api.clock.reset()));

  await app.listen({ host: opts.host, port: opts.port });
  const address = app.server.address();
  const boundPort = typeof address === 'object' && address ? address.port : opts.port;
  log('info', 'management listening', { host: opts.host, port: boundPort, clockControlled: api.clock.controlled });

  return { port: boundPort, close: () => app.close() };
}
