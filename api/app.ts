/**
 * The API: fastify with zod schemas on every route (validation, serialization and the OpenAPI
 * document at /api/docs come from the same schemas) and one error handler over the error catalog.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { type EngineClient, EngineUnavailableError } from '../infra/camunda/client.js';
import { createHeatmaps } from '../infra/camunda/heatmap.js';
import type { EngineRecords } from '../infra/camunda/records.js';
import type { Prisma } from '../infra/db/prisma.js';
import { isDatabaseUnavailable } from '../infra/db/errors.js';
import { AppError, errorCatalog } from './errors.js';
import { securityPlugin } from './security.js';
import { type CompletionDeps, settlePeriodically } from './tasks/completion.js';
import { authPlugin } from './auth/plugin.js';
import { CONSOLE_DIR, consoleRoutes } from './console.js';
import { DOCS_PREFIX } from './docs.js';
import { attachmentsRoutes } from './routes/attachments.js';
import { auditRoutes } from './routes/audit.js';
import { authRoutes } from './routes/auth.js';
import { campaignsRoutes } from './routes/campaigns.js';
import { caseRecordsRoutes } from './routes/case-records.js';
import { casesRoutes } from './routes/cases.js';
import { childrenRoutes } from './routes/children.js';
import { classesRoutes } from './routes/classes.js';
import { diagramsRoutes } from './routes/diagrams.js';
import { dropoutReportRoutes } from './routes/dropout-reports.js';
import { exportsRoutes } from './routes/exports.js';
import { handoversRoutes } from './routes/handovers.js';
import { healthRoutes } from './routes/health.js';
import { importsRoutes } from './routes/imports.js';
import { metricsRoutes } from './routes/metrics.js';
import { processInstanceRoutes } from './routes/process-instances.js';
import { progressRoutes } from './routes/progress.js';
import { reportsRoutes } from './routes/reports.js';
import { rostersRoutes } from './routes/rosters.js';
import { schoolsRoutes } from './routes/schools.js';
import { supervisionRoutes } from './routes/supervision.js';
import { taskRoutes } from './routes/tasks.js';
import { townsRoutes } from './routes/towns.js';
import { usersRoutes } from './routes/users.js';

declare module 'fastify' {
  interface FastifyInstance {
    prisma: Prisma;
    engine: EngineClient;
    records: EngineRecords;
    /** Session cookies only over HTTPS (production mode). */
    secureCookies: boolean;
    /** Every route registered, as "METHOD /url" (tests check each against the OpenAPI document). */
    routeTable: string[];
    completionFaults: Pick<CompletionDeps, 'afterEngineAccepted'>;
  }
}

export interface AppDeps {
  prisma: Prisma;
  engine: EngineClient;
  records: EngineRecords;
  logger: Logger;
  secureCookies?: boolean;
  /** The built console to serve at / (default admin-ui/dist; without a build, / shows the API docs). */
  consoleDir?: string;
  /** Origins besides the API's own that browsers may call it from (CORS_ORIGINS). */
  corsOrigins?: string[];
  /** Sign-in attempts per client address per minute (LOGIN_RATE_LIMIT_PER_MINUTE). */
  loginRateLimit?: number;
  /** Settle interrupted task submissions this often (api/tasks/completion.ts); unset = only on request. */
  settleSubmissionsEveryMs?: number;
  /** Tests only: fault injection into task completion (api/tasks/completion.ts). */
  completionFaults?: Pick<CompletionDeps, 'afterEngineAccepted'>;
}

/** Requests larger than this are refused before they are parsed. */
const BODY_LIMIT_BYTES = 1024 * 1024;

/** gRPC "unavailable" (code 14) and unreachable REST mean the engine is down, not that the request is bad. */
function isEngineUnavailable(err: unknown): boolean {
  if (err instanceof EngineUnavailableError) return true;
  const e = err as { code?: unknown; message?: unknown };
  return e.code === 14 || /14 UNAVAILABLE/.test(String(e.message));
}

/**
 * A request Node's HTTP parser refuses (raw non-ASCII in the URL, broken headers) never reaches a
 * route: answer it in our error shape rather than Node's, then close the connection.
 */
function answerMalformedRequest(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) return;
  const body = JSON.stringify({
    error: { code: 'BAD_REQUEST', message: errorCatalog.MALFORMED_REQUEST.message, details: { reason: err.code } },
  });
  socket.end(
    `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    clientErrorHandler: answerMalformedRequest,
    // The router's own refusals (a malformed %-escape, an over-long path parameter) in our error shape.
    frameworkErrors: (err, _req, res) => {
      const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
      void (res as FastifyReply).code(status).send({
        error: {
          code: 'BAD_REQUEST',
          message: errorCatalog.MALFORMED_REQUEST.message,
          details: { reason: err.code },
        },
      });
    },
    // Fastify's own request lines carry the raw URL, whose query may hold an ID number or a name:
    // one line per request with the route pattern instead (below).
    disableRequestLogging: true,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorate('prisma', deps.prisma);
  app.decorate('engine', deps.engine);
  app.decorate('records', deps.records);
  app.decorate('secureCookies', deps.secureCookies ?? false);
  app.decorate('completionFaults', deps.completionFaults ?? {});
  if (deps.settleSubmissionsEveryMs) {
    settlePeriodically(
      app,
      { prisma: deps.prisma, engine: deps.engine, records: deps.records },
      deps.settleSubmissionsEveryMs,
    );
  }
  app.addHook('onResponse', async (req, reply) => {
    req.log.info(
      {
        method: req.method,
        route: req.routeOptions.url ?? 'unmatched',
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
        user: req.actor?.userId,
      },
      'request',
    );
  });
  const routeTable: string[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    const hidden = (route.schema as { hide?: boolean } | undefined)?.hide === true;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!hidden) for (const m of methods) if (m !== 'HEAD') routeTable.push(`${m} ${route.url}`);
  });

  await app.register(swagger, {
    openapi: {
      info: { title: '控辍保学 API', version: '0.1.0' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'kc_session' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ session: [] }, { bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: DOCS_PREFIX });
  await app.register(securityPlugin, {
    corsOrigins: deps.corsOrigins ?? [],
    loginRateLimit: deps.loginRateLimit ?? 60,
    https: deps.secureCookies ?? false,
  });
  await app.register(metricsRoutes);
  await app.register(authPlugin);

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof AppError) {
      return reply.code(err.status).send({ error: { code: err.code, message: err.message, details: err.details } });
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      // The same { path, message } shape as the forms' own validation, so the console maps both onto fields.
      const details = err.validation.map((v) => ({
        path: v.instancePath.split('/').filter(Boolean),
        message: v.message,
        in: err.validationContext,
      }));
      return reply
        .code(400)
        .send({ error: { code: 'VALIDATION_FAILED', message: errorCatalog.VALIDATION_FAILED.message, details } });
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ error: { code: err.code ?? 'BAD_REQUEST', message: err.message } });
    }
    if (isEngineUnavailable(err)) {
      req.log.warn({ err: err.message }, 'engine unavailable');
      return reply
        .code(503)
        .send({ error: { code: 'ENGINE_UNAVAILABLE', message: errorCatalog.ENGINE_UNAVAILABLE.message } });
    }
    if (isDatabaseUnavailable(err)) {
      req.log.warn({ err: err.message }, 'database unavailable');
      return reply
        .code(503)
        .header('retry-after', '5')
        .send({ error: { code: 'DATABASE_UNAVAILABLE', message: errorCatalog.DATABASE_UNAVAILABLE.message } });
    }
    // Never leak a 5xx message: it may carry SQL or personal data.
    req.log.error({ err }, 'unhandled error');
    return reply.code(500).send({ error: { code: 'INTERNAL', message: errorCatalog.INTERNAL.message } });
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .send({ error: { code: 'NOT_FOUND', message: `${errorCatalog.NOT_FOUND.message} (${req.method} ${req.url})` } }),
  );

  for (const routes of [
    healthRoutes,
    authRoutes,
    usersRoutes,
    townsRoutes,
    schoolsRoutes,
    classesRoutes,
    childrenRoutes,
    casesRoutes,
    caseRecordsRoutes,
    dropoutReportRoutes,
    campaignsRoutes,
    handoversRoutes,
    rostersRoutes,
    progressRoutes,
    importsRoutes,
    reportsRoutes,
    taskRoutes,
    exportsRoutes,
    attachmentsRoutes,
    processInstanceRoutes,
    auditRoutes,
    diagramsRoutes,
    supervisionRoutes,
  ]) {
    await app.register(routes);
  }
  await app.register(consoleRoutes, { dir: deps.consoleDir ?? CONSOLE_DIR });
  // The heatmaps' rollup catches up once the API is ready — in the background, so that its first build
  // (a minute at 1,000,000 element instances) is not the first heatmap request's; a request meanwhile
  // waits for it (infra/camunda/heatmap.ts). Shutdown cancels it.
  const heatmaps = createHeatmaps(deps.records.pool);
  app.addHook('onReady', async () => {
    const t = Date.now();
    heatmaps.catchUp().then(
      (n) => app.log.info({ ms: Date.now() - t, built: n < 0, records: Math.max(n, 0) }, 'heatmap rollup caught up'),
      (err: Error) => app.log.warn({ err: err.message }, 'heatmap rollup: catch-up at start failed'),
    );
  });
  app.addHook('preClose', () => heatmaps.close());
  return app as unknown as FastifyInstance;
}
