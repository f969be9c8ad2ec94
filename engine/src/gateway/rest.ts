/**
 * The REST gateway: the part of Camunda's Orchestration Cluster REST API (8.8, base path /v2) that
 * our clients use, translated to EngineApi calls. Errors are RFC 9457 problem details
 * (`application/problem+json`, `{type, title, status, detail, instance}`) as Camunda answers them.
 * Reference: https://docs.camunda.io/docs/apis-tools/orchestration-cluster-api-rest/specifications/
 */
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { type EngineApi, EngineFault, type FaultCode, type SearchPage, type SearchQuery } from '../api.js';
import type { HistoryQueries } from '../core/search.js';
import {
  DEFAULT_TENANT,
  GATEWAY_VERSION,
  type GatewayAuth,
  type GatewayLog,
  type RunningGateway,
  basicAuthMatches,
} from './grpc.js';

export interface RestGatewayOptions {
  host: string;
  /** 0: an ephemeral port (the bound one is returned). */
  port: number;
  /** When set, every request must carry `Authorization: Basic …` with these credentials. */
  auth?: GatewayAuth;
  log: GatewayLog;
  /**
   * Variables and process XML as Camunda's search API answers them (core/search.ts); without it those
   * endpoints are not served.
   */
  history?: HistoryQueries;
}

/** Largest request body accepted; Camunda's gateway also refuses bodies above 4 MB by default. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Search page size when the request names none ("Defaults to 100", the SDK's SearchPageRequest). */
export const DEFAULT_PAGE_LIMIT = 100;
/** Our bound on one search page, so one request cannot ask the engine for an unbounded result. */
export const MAX_PAGE_LIMIT = 10_000;

const PROBLEM_TYPE = 'about:blank';
const PROBLEM_CONTENT_TYPE = 'application/problem+json';
/** Keys are int64 decimal strings ("Zeebe Engine resource key (Java long serialized as string)"). */
const KEY_PATTERN = /^\d{1,19}$/;

/**
 * EngineFault → HTTP status and problem title. Camunda titles a rejection with its rejection type:
 * "wrong state" is INVALID_STATE → 409 ("The user task with the given key is in the wrong state
 * currently", complete/assign user task); backpressure is 503 whose title "contains
 * RESOURCE_EXHAUSTED"; a gateway timeout is 504.
 */
const FAULT_TO_HTTP: Record<FaultCode, { status: number; title: string }> = {
  NOT_FOUND: { status: 404, title: 'NOT_FOUND' },
  INVALID_ARGUMENT: { status: 400, title: 'INVALID_ARGUMENT' },
  FAILED_PRECONDITION: { status: 409, title: 'INVALID_STATE' },
  ALREADY_EXISTS: { status: 409, title: 'ALREADY_EXISTS' },
  CONFLICT: { status: 409, title: 'INVALID_STATE' },
  RESOURCE_EXHAUSTED: { status: 503, title: 'RESOURCE_EXHAUSTED' },
  UNAVAILABLE: { status: 503, title: 'UNAVAILABLE' },
  DEADLINE_EXCEEDED: { status: 504, title: 'DEADLINE_EXCEEDED' },
};

const HTTP_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
};

/** A request the gateway itself refuses (bad key, bad body): a 4xx problem. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

const jsonObject = z.record(z.string(), z.unknown());
const nullable = <T extends z.ZodType>(schema: T) => schema.nullish().transform((v) => v ?? undefined);

const completionBody = z.object({ variables: nullable(jsonObject), action: nullable(z.string()) });
const assignmentBody = z.object({
  assignee: z.string({ error: 'No assignee provided.' }).min(1, 'No assignee provided.'),
  // "By default, the task is reassigned if it was already assigned" (assign user task).
  allowOverride: nullable(z.boolean()),
  action: nullable(z.string()),
});
const operationBody = z.object({ operationReference: nullable(z.number().int().positive()) });
const searchBody = z.object({
  filter: nullable(jsonObject),
  sort: nullable(
    z.array(z.object({ field: z.string().min(1), order: nullable(z.enum(['ASC', 'DESC', 'asc', 'desc'])) })),
  ),
  page: nullable(
    z.object({
      from: nullable(z.number().int().min(0)),
      limit: nullable(z.number().int().min(1).max(MAX_PAGE_LIMIT)),
      after: nullable(z.string()),
      before: nullable(z.string()),
    }),
  ),
});
const statisticsBody = z.object({ filter: nullable(jsonObject) });
const publicationBody = z.object({
  name: z.string({ error: 'No name provided.' }).min(1, 'No name provided.'),
  correlationKey: nullable(z.string()),
  timeToLive: nullable(z.number().int().min(0)),
  messageId: nullable(z.string()),
  variables: nullable(jsonObject),
  tenantId: nullable(z.string()),
});
const signalBody = z.object({
  signalName: z.string({ error: 'No signalName provided.' }).min(1, 'No signalName provided.'),
  variables: nullable(jsonObject),
  tenantId: nullable(z.string()),
});
const evaluationBody = z.object({
  decisionDefinitionKey: nullable(z.string().regex(KEY_PATTERN, 'must be an int64 key as a decimal string')),
  decisionDefinitionId: nullable(z.string().min(1)),
  variables: nullable(jsonObject),
  tenantId: nullable(z.string()),
});

/** Parses a body (absent = `{}`) or refuses with 400 naming the fields at fault. */
function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const detail = result.error.issues
    .map((i) => (i.path.length > 0 ? `'${i.path.join('.')}': ${i.message}` : i.message))
    .join('; ');
  throw new Refusal(400, 'INVALID_ARGUMENT', detail);
}

function keyParam(req: FastifyRequest, name: string): string {
  const value = (req.params as Record<string, string>)[name] ?? '';
  if (!KEY_PATTERN.test(value)) {
    throw new Refusal(400, 'INVALID_ARGUMENT', `The provided ${name} '${value}' is not a valid key.`);
  }
  return value;
}

function tenantOf(tenantId: string | undefined): string {
  if (tenantId === undefined || tenantId === '' || tenantId === DEFAULT_TENANT) return DEFAULT_TENANT;
  throw new Refusal(
    400,
    'INVALID_ARGUMENT',
    `Expected to handle request with tenant identifier '${tenantId}', but multi-tenancy is disabled`,
  );
}

function searchQuery(body: unknown): SearchQuery {
  const q = parseBody(searchBody, body);
  if (q.page?.after !== undefined || q.page?.before !== undefined) {
    throw new Refusal(400, 'INVALID_ARGUMENT', "'page': cursor pagination (after/before) is not supported; use 'from'");
  }
  return {
    filter: q.filter,
    sort: q.sort?.map((s) => ({ field: s.field, order: s.order })),
    page: { from: q.page?.from ?? 0, limit: q.page?.limit ?? DEFAULT_PAGE_LIMIT },
  };
}

const searchResult = <T>(page: SearchPage<T>) => ({ items: page.items, page: { totalItems: page.totalItems } });

export async function startRestGateway(api: EngineApi, opts: RestGatewayOptions): Promise<RunningGateway> {
  const { log } = opts;
  const app = Fastify({ bodyLimit: MAX_BODY_BYTES, logger: false });

  const problem = (req: FastifyRequest, reply: FastifyReply, status: number, title: string, detail: string) =>
    reply
      .code(status)
      .type(PROBLEM_CONTENT_TYPE)
      .send({ type: PROBLEM_TYPE, title, status, detail, instance: req.url.split('?')[0] });

  // Bodies are optional on most commands ("requestBody: required: false"): an empty JSON body is none.
  const defaultJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body.toString();
    if (text.trim() === '') done(null, undefined);
    else defaultJson(req, text, done);
  });

  if (opts.auth) {
    const auth = opts.auth;
    app.addHook('onRequest', async (req, reply) => {
      if (basicAuthMatches(req.headers.authorization, auth)) return;
      reply.header('www-authenticate', 'Basic realm="engine"');
      return problem(req, reply, 401, 'Unauthorized', 'The request lacks valid authentication credentials.');
    });
  }

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof EngineFault) {
      const { status, title } = FAULT_TO_HTTP[err.code];
      return problem(req, reply, status, title, err.message);
    }
    if (err instanceof Refusal) return problem(req, reply, err.status, err.title, err.message);
    // fastify's own refusals: malformed JSON, body too large, unsupported media type.
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return problem(req, reply, err.statusCode, HTTP_TITLES[err.statusCode] ?? 'Bad Request', err.message);
    }
    // Never leak a 5xx message: it may carry SQL or personal data.
    log('error', 'REST request failed', {
      method: req.method,
      url: req.url,
      err: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
    return problem(req, reply, 500, 'Internal Server Error', 'An internal error occurred; see the engine log.');
  });
  app.setNotFoundHandler((req, reply) =>
    problem(req, reply, 404, 'Not Found', `No endpoint ${req.method} ${req.url.split('?')[0]}`),
  );

  app.get('/v2/topology', async () => ({
    brokers: [
      {
        nodeId: 0,
        host: opts.host,
        port: boundPort,
        partitions: [{ partitionId: 1, role: 'leader', health: 'healthy' }],
        version: GATEWAY_VERSION,
      },
    ],
    clusterSize: 1,
    partitionsCount: 1,
    replicationFactor: 1,
    gatewayVersion: GATEWAY_VERSION,
  }));

  // User tasks: complete, assign, unassign (204 each; 409 when the task is in the wrong state).
  app.post('/v2/user-tasks/:userTaskKey/completion', async (req, reply) => {
    const key = keyParam(req, 'userTaskKey');
    const body = parseBody(completionBody, req.body);
    await api.completeUserTask(key, body.variables ?? {}, body.action);
    return reply.code(204).send();
  });
  app.post('/v2/user-tasks/:userTaskKey/assignment', async (req, reply) => {
    const key = keyParam(req, 'userTaskKey');
    const body = parseBody(assignmentBody, req.body);
    await api.assignUserTask(key, body.assignee, body.allowOverride ?? true);
    return reply.code(204).send();
  });
  app.delete('/v2/user-tasks/:userTaskKey/assignee', async (req, reply) => {
    await api.unassignUserTask(keyParam(req, 'userTaskKey'));
    return reply.code(204).send();
  });

  app.post('/v2/user-tasks/search', async (req) => searchResult(await api.searchUserTasks(searchQuery(req.body))));
  app.post('/v2/process-instances/search', async (req) =>
    searchResult(await api.searchProcessInstances(searchQuery(req.body))),
  );
  app.post('/v2/element-instances/search', async (req) =>
    searchResult(await api.searchElementInstances(searchQuery(req.body))),
  );
  app.post('/v2/incidents/search', async (req) => searchResult(await api.searchIncidents(searchQuery(req.body))));

  if (opts.history) {
    const history = opts.history;
    // `truncateValues` ("When true (default), long variable values in the response are truncated"): this
    // engine never truncates, so both answers carry whole values; anything but true/false is refused.
    const truncateValues = (req: FastifyRequest) => {
      const v = (req.query as Record<string, unknown>).truncateValues;
      if (v !== undefined && v !== 'true' && v !== 'false') {
        throw new Refusal(400, 'INVALID_ARGUMENT', `'truncateValues' must be true or false, got '${String(v)}'`);
      }
    };
    app.post('/v2/variables/search', async (req) => {
      truncateValues(req);
      return searchResult(await history.searchVariables(searchQuery(req.body)));
    });
    app.post('/v2/user-tasks/:userTaskKey/variables/search', async (req) => {
      const key = keyParam(req, 'userTaskKey');
      truncateValues(req);
      return searchResult(await history.searchUserTaskVariables(key, searchQuery(req.body)));
    });
    app.get('/v2/process-definitions/:processDefinitionKey/xml', async (req, reply) => {
      const key = keyParam(req, 'processDefinitionKey');
      const xml = await history.processDefinitionXml(key);
      if (xml === undefined) {
        throw new EngineFault('NOT_FOUND', `Process definition with key '${key}' not found`);
      }
      return reply.type('text/xml').send(xml);
    });
  }

  app.post('/v2/process-instances/:processInstanceKey/cancellation', async (req, reply) => {
    const key = keyParam(req, 'processInstanceKey');
    parseBody(operationBody, req.body);
    await api.cancelProcessInstance(key);
    return reply.code(204).send();
  });
  app.post('/v2/incidents/:incidentKey/resolution', async (req, reply) => {
    const key = keyParam(req, 'incidentKey');
    parseBody(operationBody, req.body);
    await api.resolveIncident(key);
    return reply.code(204).send();
  });

  // 8.8 documents POST with an optional process-instance filter; GET (no body) is accepted as well.
  const statistics = async (req: FastifyRequest) => {
    const key = keyParam(req, 'processDefinitionKey');
    const body = parseBody(statisticsBody, req.body);
    if (body.filter && Object.keys(body.filter).length > 0) {
      throw new Refusal(400, 'INVALID_ARGUMENT', "'filter': filtering element statistics is not supported");
    }
    return { items: await api.elementStatistics(key) };
  };
  app.post('/v2/process-definitions/:processDefinitionKey/statistics/element-instances', statistics);
  app.get('/v2/process-definitions/:processDefinitionKey/statistics/element-instances', statistics);

  app.post('/v2/messages/publication', async (req) => {
    const body = parseBody(publicationBody, req.body);
    const published = await api.publishMessage({
      name: body.name,
      correlationKey: body.correlationKey ?? '',
      timeToLive: body.timeToLive ?? 0,
      messageId: body.messageId ?? '',
      variables: body.variables ?? {},
      tenantId: tenantOf(body.tenantId),
    });
    return { messageKey: published.key, tenantId: published.tenantId };
  });

  app.post('/v2/signals/broadcast', async (req) => {
    const body = parseBody(signalBody, req.body);
    const signal = await api.broadcastSignal({
      signalName: body.signalName,
      variables: body.variables ?? {},
      tenantId: tenantOf(body.tenantId),
    });
    return { signalKey: signal.key, tenantId: signal.tenantId };
  });

  app.post('/v2/decision-definitions/evaluation', async (req) => {
    const body = parseBody(evaluationBody, req.body);
    const byKey = body.decisionDefinitionKey !== undefined;
    if (byKey === (body.decisionDefinitionId !== undefined)) {
      throw new Refusal(
        400,
        'INVALID_ARGUMENT',
        `Expected either 'decisionDefinitionId' or 'decisionDefinitionKey', but ${byKey ? 'both' : 'none'} given`,
      );
    }
    const r = await api.evaluateDecision({
      decisionKey: body.decisionDefinitionKey,
      decisionId: body.decisionDefinitionId,
      variables: body.variables ?? {},
      tenantId: tenantOf(body.tenantId),
    });
    // The REST field names of the same result (EvaluateDecisionResult); gRPC says decisionKey/decisionOutput.
    return {
      decisionDefinitionKey: r.decisionKey,
      decisionDefinitionId: r.decisionId,
      decisionDefinitionName: r.decisionName,
      decisionDefinitionVersion: r.decisionVersion,
      decisionRequirementsId: r.decisionRequirementsId,
      decisionRequirementsKey: r.decisionRequirementsKey,
      output: r.decisionOutput,
      failedDecisionDefinitionId: r.failedDecisionId,
      failureMessage: r.failureMessage,
      tenantId: r.tenantId,
      decisionEvaluationKey: r.decisionInstanceKey,
      // Deprecated in 8.8 in favour of decisionEvaluationKey, still sent.
      decisionInstanceKey: r.decisionInstanceKey,
      evaluatedDecisions: r.evaluatedDecisions.map((d) => ({
        decisionDefinitionKey: d.decisionKey,
        decisionDefinitionId: d.decisionId,
        decisionDefinitionName: d.decisionName,
        decisionDefinitionVersion: d.decisionVersion,
        decisionDefinitionType: d.decisionType,
        output: d.decisionOutput,
        tenantId: d.tenantId,
        matchedRules: d.matchedRules,
        evaluatedInputs: d.evaluatedInputs,
      })),
    };
  });

  await app.listen({ host: opts.host, port: opts.port });
  const address = app.server.address();
  const boundPort = typeof address === 'object' && address ? address.port : opts.port;
  log('info', 'REST gateway listening', { host: opts.host, port: boundPort, auth: Boolean(opts.auth) });

  return {
    port: boundPort,
    close: () => app.close(),
  };
}
