/**
 * The one place that talks to the engine: @camunda8/sdk over gRPC for deployments, instances and
 * job workers (a protocol stable across engine versions), fetch over REST /v2 for user tasks.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Camunda8 } from '@camunda8/sdk';
import type { Resource } from '@camunda8/sdk/dist/zeebe/lib/deployResource.js';
import type { JSONDoc } from '@camunda8/sdk/dist/zeebe/lib/interfaces-1.0.js';
import { type Config, engineAddresses } from '../config.js';

export type EngineClient = ReturnType<typeof createEngineClient>;

/** The engine could not be reached (connection refused, timed out): worth a retry later. */
export class EngineUnavailableError extends Error {
  /** True when the request certainly never reached the engine (connection refused): nothing happened there. */
  constructor(
    message: string,
    readonly notSent = false,
  ) {
    super(message);
  }
}

/** The engine's REST API answered with an error status. */
export class EngineHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`engine answered ${status}: ${body.slice(0, 300)}`);
  }
}

/** The HTTP status with which the engine's REST API refused a call, if that is what `err` is. */
export function engineHttpStatus(err: unknown): number | undefined {
  return err instanceof EngineHttpError ? err.status : undefined;
}

/** How long one REST call to the engine may take before it counts as unavailable. */
const REST_TIMEOUT_MS = 10_000;
/** The engine REST API's basic authorization header, or undefined without credentials. */
export function basicAuthorization(username?: string, password?: string): string | undefined {
  return username && password ? `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` : undefined;
}

/**
 * One call to the engine's REST API at `base` through fetch: a connection that fails and a 503 (the engine is
 * there but cannot work now — what became of the call is not known to us) throw EngineUnavailableError, any
 * other refusal EngineHttpError; with `notFound: 'undefined'` a 404 answers undefined instead.
 */
export async function engineRest(
  base: string,
  authorization: string | undefined,
  method: 'GET' | 'POST' | 'DELETE',
  pathname: string,
  body?: unknown,
  opts: { accept?: string; notFound?: 'undefined' } = {},
): Promise<Response | undefined> {
  let res: Response;
  try {
    res = await fetch(`${base}${pathname}`, {
      method,
      headers: {
        ...(opts.accept ? { accept: opts.accept } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(authorization ? { authorization } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REST_TIMEOUT_MS),
    });
  } catch (err) {
    const refused = (err as { cause?: { code?: unknown } }).cause?.code === 'ECONNREFUSED';
    throw new EngineUnavailableError(`engine REST unreachable at ${base}: ${(err as Error).message}`, refused);
  }
  if (res.status === 404 && opts.notFound === 'undefined') return undefined;
  if (res.status === 503) {
    throw new EngineUnavailableError(`engine REST answered 503: ${(await res.text()).slice(0, 300)}`, false);
  }
  if (!res.ok) throw new EngineHttpError(res.status, await res.text());
  return res;
}

/** Reading the engine's clock is one small local call: a slower answer counts as unavailable. */
const CLOCK_TIMEOUT_MS = 1_000;

/**
 * The SDK retries gRPC calls forever by default; a caseworker's request must fail fast instead
 * (503, "try again") when the engine is down. Workers' job polling has its own back-off.
 */
const GRPC_MAX_RETRIES = 3;
const GRPC_MAX_RETRY_BACKOFF_S = 2;

/** Resource kinds the engine deploys from processes/. */
const DEPLOYABLE = /\.(bpmn|dmn|form)$/;

function toResource(file: string): Resource {
  const name = path.basename(file);
  const content = fs.readFileSync(file);
  if (file.endsWith('.dmn')) return { name, decision: content };
  if (file.endsWith('.form')) return { name, form: content };
  return { name, process: content };
}

/**
 * The SDK's gRPC calls have no deadline: against an engine that accepts connections but does not
 * answer (paused, overloaded) a caseworker's request would hang. After REST_TIMEOUT_MS the caller gets
 * EngineUnavailableError (503); the call itself may still land later, so callers must be idempotent.
 */
function withDeadline<T>(call: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new EngineUnavailableError(`engine did not answer ${what} within ${REST_TIMEOUT_MS} ms`)),
      REST_TIMEOUT_MS,
    );
  });
  call.catch(() => {}); // a late failure after the deadline is nobody's to handle
  return Promise.race([call, deadline]).finally(() => clearTimeout(timer));
}

export function createEngineClient(cfg: Config) {
  const addr = engineAddresses(cfg);
  // A protected engine (production) takes basic authentication on both gRPC and REST.
  const basic =
    cfg.ENGINE_USERNAME && cfg.ENGINE_PASSWORD
      ? { username: cfg.ENGINE_USERNAME, password: cfg.ENGINE_PASSWORD }
      : undefined;
  const authorization = basicAuthorization(basic?.username, basic?.password);
  const c8 = new Camunda8({
    ZEEBE_GRPC_ADDRESS: `grpc://${addr.grpc}`,
    ...(basic
      ? {
          CAMUNDA_AUTH_STRATEGY: 'BASIC' as const,
          CAMUNDA_BASIC_AUTH_USERNAME: basic.username,
          CAMUNDA_BASIC_AUTH_PASSWORD: basic.password,
        }
      : { CAMUNDA_AUTH_STRATEGY: 'NONE' as const }),
    // The SDK logs to stdout through its own loggers; ours are pino. Keep it to errors.
    CAMUNDA_LOG_LEVEL: 'error',
    zeebeGrpcSettings: {
      ZEEBE_CLIENT_LOG_LEVEL: 'ERROR',
      ZEEBE_GRPC_CLIENT_MAX_RETRIES: GRPC_MAX_RETRIES,
      ZEEBE_GRPC_CLIENT_MAX_RETRY_TIMEOUT_SECONDS: GRPC_MAX_RETRY_BACKOFF_S,
    },
  });
  const grpc = c8.getZeebeGrpcApiClient();

  /**
   * REST calls go through fetch, not the SDK's REST client: on a refused connection that client
   * rejects and then also emits an unhandled 'error' (got's cancelable promise), which would crash
   * the API server whenever the engine is down.
   */
  async function restCall(method: 'POST' | 'DELETE', pathname: string, body?: unknown): Promise<void> {
    await engineRest(addr.rest, authorization, method, pathname, body);
  }

  return {
    grpc,

    /**
     * Deploys every BPMN/DMN/form under `dir` in one deployment (all or nothing). `skip`: sha256 checksums
     * of resources the engine already had at some version (deployed.ts) — those files are left out, so a
     * restart does not bring an old file back over a version policy staff deployed since.
     */
    async deployDirectory(dir: string, skip: ReadonlySet<string> = new Set()) {
      const all = fs
        .readdirSync(dir, { recursive: true, encoding: 'utf8' })
        .filter((f) => DEPLOYABLE.test(f))
        .sort()
        .map((f) => path.join(dir, f));
      const files = all.filter(
        (f) => f.endsWith('.form') || !skip.has(createHash('sha256').update(fs.readFileSync(f)).digest('hex')),
      );
      /** The files left out, by name. */
      const unchanged = all.filter((f) => !files.includes(f)).map((f) => path.relative(dir, f));
      if (files.length === 0)
        return { files, unchanged, processes: [] as { bpmnProcessId: string; version: number }[] };
      const res = await grpc.deployResources(files.map(toResource));
      const processes = (res.deployments as { process?: { bpmnProcessId: string; version: number } }[]).flatMap((d) =>
        d.process ? [{ bpmnProcessId: d.process.bpmnProcessId, version: d.process.version }] : [],
      );
      return { files, unchanged, processes };
    },

    async startProcess(bpmnProcessId: string, variables: Record<string, unknown>) {
      const res = await withDeadline(
        grpc.createProcessInstance({ bpmnProcessId, variables: variables as JSONDoc }),
        `starting ${bpmnProcessId}`,
      );
      return { processInstanceKey: res.processInstanceKey, version: res.version };
    },

    /** Publishes a message; kept for `timeToLiveMs` (default: only correlates with an open subscription). */
    async publishMessage(m: {
      name: string;
      correlationKey: string;
      messageId?: string;
      variables?: Record<string, unknown>;
      timeToLiveMs?: number;
    }) {
      await withDeadline(
        grpc.publishMessage({
          name: m.name,
          correlationKey: m.correlationKey,
          messageId: m.messageId,
          variables: (m.variables ?? {}) as Parameters<typeof grpc.publishMessage>[0]['variables'],
          timeToLive: m.timeToLiveMs ?? 0,
        }),
        `publishing ${m.name}`,
      );
    },

    async completeUserTask(userTaskKey: string, variables: Record<string, unknown>) {
      await restCall('POST', `/v2/user-tasks/${encodeURIComponent(userTaskKey)}/completion`, { variables });
    },

    /** Claims the task for `assignee` (our username); refused by the engine when someone else holds it. */
    async assignUserTask(userTaskKey: string, assignee: string, allowOverride = false) {
      await restCall('POST', `/v2/user-tasks/${encodeURIComponent(userTaskKey)}/assignment`, {
        assignee,
        allowOverride,
      });
    },

    async unassignUserTask(userTaskKey: string) {
      await restCall('DELETE', `/v2/user-tasks/${encodeURIComponent(userTaskKey)}/assignee`);
    },

    /**
     * The engine's clock (epoch ms) from its management port (`GET /actuator/clock`): what its due dates,
     * timers and FEEL `now()` are measured by — the wall clock in production, moved in tests.
     */
    async clock(): Promise<number> {
      let res: Response;
      try {
        res = await fetch(`${addr.management}/actuator/clock`, { signal: AbortSignal.timeout(CLOCK_TIMEOUT_MS) });
      } catch (err) {
        throw new EngineUnavailableError(`engine clock unreachable at ${addr.management}: ${(err as Error).message}`);
      }
      if (!res.ok) throw new EngineHttpError(res.status, await res.text());
      const { epochMilli } = (await res.json()) as { epochMilli?: unknown };
      if (typeof epochMilli !== 'number')
        throw new EngineHttpError(res.status, 'engine clock answer without epochMilli');
      return epochMilli;
    },

    async close() {
      await grpc.close();
    },
  };
}
