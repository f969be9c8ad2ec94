/**
 * The management port, shaped like Zeebe's Spring actuator: health (overall, readiness, liveness),
 * Prometheus metrics and, for tests only, the engine clock: Zeebe's `/actuator/clock` endpoint of a
 * broker started with a controlled clock, whose client side is infra/camunda/engine.ts `engineClock`.
 */
import http from 'node:http';
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

interface Answer {
  status: number;
  body: unknown;
  type?: string;
}

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
  ) {
    super(detail);
  }
}

function readBody(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpProblem(413, 'Payload Too Large', `The body exceeds ${MAX_BODY_BYTES} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new HttpProblem(400, 'Bad Request', 'The body is not valid JSON'));
      }
    });
    req.on('error', reject);
  });
}

/**
 * A plain node:http server, not fastify: a handful of fixed routes need no framework, and the engine
 * starts about 0.1 s sooner without a second fastify instance to build.
 */
export async function startManagement(api: EngineApi, opts: ManagementOptions): Promise<RunningGateway> {
  const { log } = opts;

  /** Ready = database reachable and schema in place; a failing probe counts as not ready. */
  const readiness = async (): Promise<Answer> => {
    let ready = false;
    let detail: string | undefined;
    try {
      ({ ready, detail } = await api.health());
    } catch (err) {
      detail = 'health check failed';
      log('warn', 'engine health check failed', { err: err instanceof Error ? err.message : String(err) });
    }
    if (!ready && detail) log('debug', 'engine not ready', { detail });
    return { status: ready ? 200 : 503, body: { status: ready ? 'UP' : 'DOWN' } };
  };
  const now = () => {
    const epochMilli = api.clock.now();
    return { epochMilli, instant: new Date(epochMilli).toISOString() };
  };
  /** Moving the clock is for tests only: refused unless the engine runs with a controlled clock. */
  const clockWrite = (change: () => void): Answer => {
    if (!api.clock.controlled) {
      throw new HttpProblem(403, 'Forbidden', 'The engine clock is not controlled; it cannot be moved.');
    }
    change();
    return { status: 200, body: now() };
  };
  const parse = <T extends z.ZodType>(schema: T, body: unknown): z.output<T> => {
    const result = schema.safeParse(body ?? {});
    if (result.success) return result.data;
    throw new HttpProblem(
      400,
      'Bad Request',
      result.error.issues.map((i) => `'${i.path.join('.')}': ${i.message}`).join('; '),
    );
  };

  const routes: Record<string, (req: http.IncomingMessage) => Promise<Answer> | Answer> = {
    'GET /actuator/health': readiness,
    'GET /actuator/health/readiness': readiness,
    // Liveness says whether this process should be restarted: it answers while the process serves, and
    // deliberately not from the database — restarting every engine during a PostgreSQL outage would
    // only add a cold start to the outage.
    'GET /actuator/health/liveness': () => ({ status: 200, body: { status: 'UP' } }),
    'GET /actuator/prometheus': async () => ({ status: 200, body: await api.metrics(), type: PROMETHEUS_CONTENT_TYPE }),
    'GET /actuator/clock': () => ({ status: 200, body: now() }),
    'POST /actuator/clock/pin': async (req) => {
      const body = parse(pinBody, await readBody(req));
      return clockWrite(() => api.clock.pin(body.epochMilli));
    },
    'POST /actuator/clock/add': async (req) => {
      const body = parse(addBody, await readBody(req));
      return clockWrite(() => api.clock.add(body.offsetMilli));
    },
    'DELETE /actuator/clock': () => clockWrite(() => api.clock.reset()),
  };

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const send = (a: Answer) => {
      const text = typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
      res.writeHead(a.status, { 'content-type': a.type ?? 'application/json; charset=utf-8' });
      res.end(text);
    };
    const problem = (status: number, title: string, detail: string) =>
      send({
        status,
        body: { type: 'about:blank', title, status, detail, instance: path },
        type: PROBLEM_CONTENT_TYPE,
      });
    const route = routes[`${req.method} ${path}`];
    if (!route) return problem(404, 'Not Found', `No endpoint ${req.method} ${path}`);
    Promise.resolve()
      .then(() => route(req))
      .then(send, (err: unknown) => {
        if (err instanceof HttpProblem) return problem(err.status, err.title, err.message);
        log('error', 'management request failed', {
          method: req.method,
          url: path,
          err: err instanceof Error ? (err.stack ?? err.message) : String(err),
        });
        problem(500, 'Internal Server Error', 'An internal error occurred; see the engine log.');
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port }, () => resolve());
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : opts.port;
  log('info', 'management listening', { host: opts.host, port: boundPort, clockControlled: api.clock.controlled });

  return {
    port: boundPort,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
