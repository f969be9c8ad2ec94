/**
 * The Zeebe gRPC gateway (service `gateway_protocol.Gateway`): translates each RPC to one EngineApi call
 * and EngineFault codes to gRPC status codes. The service definition is the installed @camunda8/sdk's
 * `dist/proto/zeebe.proto`, loaded at run time (Camunda licenses the .proto itself; stubs generated
 * from it carry no restriction), with the loader options the SDK's own client uses, so int64 fields
 * travel as decimal strings and enums as their names on both sides.
 * Semantics: https://docs.camunda.io/docs/apis-tools/zeebe-api/gateway-service/ and the comments in
 * the .proto itself.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { type ActivatedJob, type EngineApi, EngineFault, type FaultCode, type Variables } from '../api.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
/** The gateways' logger: the engine's process passes its own (pino) in. */
export type GatewayLog = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

export interface GatewayAuth {
  username: string;
  password: string;
}

export interface GrpcGatewayOptions {
  host: string;
  /** 0: an ephemeral port (the bound one is returned). */
  port: number;
  /** When set, every call must carry `authorization: Basic …` with these credentials. */
  auth?: GatewayAuth;
  log: GatewayLog;
}

export interface RunningGateway {
  port: number;
  close(): Promise<void>;
}

/** What Topology reports as the gateway's and broker's version: the protocol generation we speak. */
export const GATEWAY_VERSION = '8.8.0';
/** Without multi-tenancy Zeebe knows one tenant; zbctl sends "" for it, the SDK `<default>`. */
export const DEFAULT_TENANT = '<default>';
/** The single partition we report: the engine is one logical broker (one PostgreSQL). */
const PARTITION_ID = 1;
const NODE_ID = 0;
/**
 * CreateProcessInstanceWithResult with requestTimeout 0 "uses the generic requestTimeout configured in
 * the gateway" (zeebe.proto); Zeebe's default for that setting is 15 s.
 */
export const DEFAULT_WITH_RESULT_TIMEOUT_MS = 15_000;
/**
 * gRPC clients refuse messages above 4 MiB unless configured otherwise (grpc-js and grpc-java
 * default; the SDK does not raise it), so one ActivateJobs response stays below that and a larger
 * batch goes out as several responses on the same stream, as Zeebe's gateway does.
 */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** How long close() lets running calls finish before it cuts them off. */
const SHUTDOWN_GRACE_MS = 5_000;

const require = createRequire(import.meta.url);

/** The installed SDK's copy of the gateway protocol; never copied into this repository. */
export function zeebeProtoPath(): string {
  return path.join(path.dirname(require.resolve('@camunda8/sdk/package.json')), 'dist', 'proto', 'zeebe.proto');
}

/** The same options the SDK's GrpcClient passes to proto-loader. */
const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

const FAULT_TO_STATUS: Record<FaultCode, grpc.status> = {
  NOT_FOUND: grpc.status.NOT_FOUND,
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
  ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  // REST-only in the engine's contract (a task assigned to someone else); the nearest gRPC meaning.
  CONFLICT: grpc.status.FAILED_PRECONDITION,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  DEADLINE_EXCEEDED: grpc.status.DEADLINE_EXCEEDED,
};

/** A refusal of the gateway's own (not the engine's): status code and Zeebe-style message. */
class GatewayRefusal extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

const invalid = (message: string) => new EngineFault('INVALID_ARGUMENT', message);

// Request and response shapes as proto-loader hands them over with LOADER_OPTIONS (int64 = string).
interface ActivateJobsRequestMsg {
  type: string;
  worker: string;
  timeout: string;
  maxJobsToActivate: number;
  fetchVariable: string[];
  requestTimeout: string;
  tenantIds: string[];
}
interface StreamActivatedJobsRequestMsg {
  type: string;
  worker: string;
  timeout: string;
  fetchVariable: string[];
  tenantIds: string[];
}
interface CreateProcessInstanceRequestMsg {
  processDefinitionKey: string;
  bpmnProcessId: string;
  version: number;
  variables: string;
  startInstructions: { elementId: string }[];
  tenantId: string;
}
interface CreateProcessInstanceWithResultRequestMsg {
  request: CreateProcessInstanceRequestMsg | null;
  requestTimeout: string;
  fetchVariables: string[];
}
interface GrpcActivatedJob extends Omit<ActivatedJob, 'customHeaders' | 'variables' | 'deadline'> {
  customHeaders: string;
  variables: string;
  deadline: string;
}

/** Parses a JSON document field; Zeebe requires an object at the root (empty = no variables). */
export function parseDocument(field: string, text: string): Variables {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalid(
      `Property '${field}' is invalid: Expected document to be valid JSON, but it could not be parsed (${(err as Error).message})`,
    );
  }
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    const kind = Array.isArray(value) ? 'ARRAY' : typeof value === 'string' ? 'STRING' : typeof value;
    throw invalid(
      `Property '${field}' is invalid: Expected document to be a root level object, but was '${kind.toUpperCase()}'`,
    );
  }
  return value as Variables;
}

/** An int64 field that carries milliseconds, as a JS number (safe beyond any realistic duration). */
function millis(field: string, value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n))
    throw invalid(`Expected '${field}' to be an integer number of milliseconds, but was '${value}'`);
  return n;
}

function tenantOf(rpc: string, tenantId: string): string {
  if (tenantId === '' || tenantId === DEFAULT_TENANT) return DEFAULT_TENANT;
  throw invalid(
    `Expected to handle gRPC request ${rpc} with tenant identifier '${tenantId}', but multi-tenancy is disabled`,
  );
}

function tenantsOf(rpc: string, tenantIds: string[]): string[] {
  for (const id of tenantIds) tenantOf(rpc, id);
  return [DEFAULT_TENANT];
}

function toGrpcJob(job: ActivatedJob): GrpcActivatedJob {
  return {
    ...job,
    customHeaders: JSON.stringify(job.customHeaders),
    variables: JSON.stringify(job.variables),
    deadline: String(job.deadline),
  };
}

/** The ActivateJobs / StreamActivatedJobs validation documented in zeebe.proto. */
function validateJobRequest(rpc: string, req: { type: string; timeout: string }): number {
  if (req.type.trim() === '')
    throw invalid(
      `Expected to ${rpc === 'ActivateJobs' ? 'activate' : 'stream'} jobs with a non-blank 'type', but it was blank`,
    );
  const timeout = millis('timeout', req.timeout);
  if (timeout < 1) throw invalid(`Expected 'timeout' to be greater than zero, but it was '${req.timeout}'`);
  return timeout;
}

/** Constant-time comparison of two strings of any length. */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** True when `header` is `Basic base64(username:password)` with the configured credentials. */
export function basicAuthMatches(header: string | undefined, auth: GatewayAuth): boolean {
  const match = /^basic\s+(\S+)$/i.exec(header?.trim() ?? '');
  if (!match) return false;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  // Both halves are compared, whatever the first says, so timing tells nothing about which was wrong.
  const userOk = sameSecret(decoded.slice(0, colon), auth.username);
  const passwordOk = sameSecret(decoded.slice(colon + 1), auth.password);
  return userOk && passwordOk;
}

/**
 * Tells each client that this gateway prefers uncompressed messages (`grpc-accept-encoding: identity` on the
 * response headers; a compressed message is still accepted). The Camunda SDK sends every message gzipped
 * (`grpc.default_compression_algorithm: 2`, hard-coded in its GrpcClient), and grpc-js keeps compressing on a
 * channel until a response's `grpc-accept-encoding` leaves the algorithm out — then that channel sends identity.
 * A peer may choose not to disclose every encoding it supports (grpc.io, docs/guides/compression, "Compression
 * Method Asymmetry Between Peers"); we keep gzip undisclosed even after receiving it, which that page says a
 * peer usually discloses — on purpose. Gunzipping the SDK's small requests was 10 % of the engine's busy
 * samples under a streaming one-task load, and the clients paid for the gzip as well.
 */
const identityEncodingOnly: grpc.ServerInterceptor = (_method, call) =>
  new grpc.ServerInterceptingCall(call, {
    sendMetadata: (metadata, next) => {
      metadata.set('grpc-accept-encoding', 'identity');
      next(metadata);
    },
  });

export async function startGrpcGateway(api: EngineApi, opts: GrpcGatewayOptions): Promise<RunningGateway> {
  const { log } = opts;
  const packageDefinition = protoLoader.loadSync(zeebeProtoPath(), LOADER_OPTIONS);
  const proto = grpc.loadPackageDefinition(packageDefinition) as unknown as {
    gateway_protocol: { Gateway: grpc.ServiceClientConstructor };
  };
  const service = proto.gateway_protocol.Gateway.service;
  const activateJobsResponseSize = (job: GrpcActivatedJob) =>
    service.ActivateJobs!.responseSerialize({ jobs: [job] }).length;

  /** Long polls and job streams in flight: close() ends them instead of waiting for them. */
  const openStreams = new Set<() => void>();
  let closing = false;

  function toStatus(rpc: string, err: unknown): Partial<grpc.StatusObject> {
    if (err instanceof GatewayRefusal) return { code: err.code, details: err.message };
    if (err instanceof EngineFault) return { code: FAULT_TO_STATUS[err.code], details: err.message };
    log('error', `gRPC ${rpc} failed`, { rpc, err: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    return { code: grpc.status.INTERNAL, details: `Unexpected error while handling ${rpc}; see the engine log` };
  }

  function checkAuth(metadata: grpc.Metadata): void {
    if (!opts.auth) return;
    const value = metadata.get('authorization')[0];
    if (!basicAuthMatches(typeof value === 'string' ? value : value?.toString('utf8'), opts.auth)) {
      throw new GatewayRefusal(
        grpc.status.UNAUTHENTICATED,
        "Expected valid basic credentials in the 'authorization' metadata, but none or wrong ones were given",
      );
    }
  }

  function unary<Req, Res>(rpc: string, handle: (req: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      Promise.resolve()
        .then(() => {
          checkAuth(call.metadata);
          return handle(call.request);
        })
        .then(
          (res) => callback(null, res),
          (err: unknown) => callback(toStatus(rpc, err)),
        );
    };
  }

  // Through unary() so that an unauthenticated caller learns nothing, not even what is missing.
  const unimplemented = (rpc: string, why: string) =>
    unary<unknown, never>(rpc, async () => {
      throw new GatewayRefusal(grpc.status.UNIMPLEMENTED, `${rpc} is not supported by this engine: ${why}`);
    });

  /** Sends a server-streaming call's error status (grpc-js: an 'error' event on the call). */
  function failStream(call: grpc.ServerWritableStream<unknown, unknown>, rpc: string, err: unknown) {
    if (!call.cancelled) call.emit('error', toStatus(rpc, err));
  }

  /** Writes `jobs` in responses below MAX_RESPONSE_BYTES each. */
  function writeJobBatches(call: grpc.ServerWritableStream<ActivateJobsRequestMsg, unknown>, jobs: ActivatedJob[]) {
    let batch: GrpcActivatedJob[] = [];
    let batchBytes = 0;
    for (const job of jobs.map(toGrpcJob)) {
      const size = activateJobsResponseSize(job);
      if (size > MAX_RESPONSE_BYTES) {
        log('warn', 'an activated job is larger than a gRPC client accepts; it will time out', {
          jobKey: job.key,
          bytes: size,
        });
      }
      if (batch.length > 0 && batchBytes + size > MAX_RESPONSE_BYTES) {
        call.write({ jobs: batch });
        batch = [];
        batchBytes = 0;
      }
      batch.push(job);
      batchBytes += size;
    }
    if (batch.length > 0) call.write({ jobs: batch });
  }

  const ActivateJobs = (call: grpc.ServerWritableStream<ActivateJobsRequestMsg, unknown>) => {
    const rpc = 'ActivateJobs';
    const req = call.request;
    const aborter = new AbortController();
    const endLongPoll = () => aborter.abort();
    call.on('cancelled', endLongPoll);
    openStreams.add(endLongPoll);
    Promise.resolve()
      .then(() => {
        checkAuth(call.metadata);
        const timeout = validateJobRequest(rpc, req);
        // zeebe.proto: worker blank and maxJobsToActivate < 1 are INVALID_ARGUMENT too.
        if (req.worker.trim() === '')
          throw invalid("Expected to activate jobs with a non-blank 'worker', but it was blank");
        if (req.maxJobsToActivate < 1) {
          throw invalid(
            `Expected to activate jobs with 'maxJobsToActivate' greater than zero, but it was '${req.maxJobsToActivate}'`,
          );
        }
        return api.activateJobs(
          {
            type: req.type,
            worker: req.worker,
            timeout,
            maxJobsToActivate: req.maxJobsToActivate,
            fetchVariable: req.fetchVariable,
            requestTimeout: millis('requestTimeout', req.requestTimeout),
            tenantIds: tenantsOf(rpc, req.tenantIds),
          },
          aborter.signal,
        );
      })
      .then(
        (jobs) => {
          // The wait is over: a later cancel must not tell the engine its answer went nowhere.
          call.off('cancelled', endLongPoll);
          if (call.cancelled) {
            if (jobs.length > 0) {
              log('warn', 'jobs activated for an ActivateJobs call the client had left; they will time out', {
                jobKeys: jobs.map((j) => j.key),
              });
            }
            return;
          }
          // An empty long poll ends with no response message, as Zeebe's gateway does.
          writeJobBatches(call, jobs);
          call.end();
        },
        (err: unknown) => {
          // The engine may reject an aborted wait; the client left or close() ended it: no error then.
          if (aborter.signal.aborted && !(err instanceof EngineFault) && !(err instanceof GatewayRefusal)) {
            if (!call.cancelled) call.end();
            return;
          }
          failStream(call, rpc, err);
        },
      )
      .finally(() => openStreams.delete(endLongPoll));
  };

  const StreamActivatedJobs = (call: grpc.ServerWritableStream<StreamActivatedJobsRequestMsg, unknown>) => {
    const rpc = 'StreamActivatedJobs';
    const req = call.request;
    let timeout: number;
    let tenantIds: string[];
    try {
      checkAuth(call.metadata);
      timeout = validateJobRequest(rpc, req);
      tenantIds = tenantsOf(rpc, req.tenantIds);
    } catch (err) {
      failStream(call, rpc, err);
      return;
    }
    let ended = false;
    /** Pushes waiting for their write; rejected when the stream ends so the engine takes the job back. */
    const pending = new Set<(err: Error) => void>();
    const push = (job: ActivatedJob) =>
      new Promise<void>((resolve, reject) => {
        if (ended || call.cancelled) {
          reject(new Error('the job stream has ended'));
          return;
        }
        const settle = (err?: Error | null) => {
          pending.delete(settle);
          if (err) reject(err);
          else resolve();
        };
        pending.add(settle);
        // grpc-js calls back once the message is handed to HTTP/2, never if the client has gone.
        call.write(toGrpcJob(job), (err?: Error | null) => settle(err));
      });
    let unsubscribe: () => void = () => {};
    const end = () => {
      if (ended) return;
      ended = true;
      openStreams.delete(end);
      unsubscribe();
      for (const settle of [...pending]) settle(new Error('the job stream has ended'));
      if (!call.cancelled) call.end();
    };
    call.on('cancelled', end);
    openStreams.add(end);
    try {
      unsubscribe = api.streamJobs(
        { type: req.type, worker: req.worker, timeout, fetchVariable: req.fetchVariable, tenantIds },
        push,
      );
    } catch (err) {
      ended = true;
      openStreams.delete(end);
      failStream(call, rpc, err);
    }
  };

  const createRequest = (rpc: string, req: CreateProcessInstanceRequestMsg) => {
    const processDefinitionKey = req.processDefinitionKey !== '0' ? req.processDefinitionKey : undefined;
    const bpmnProcessId = req.bpmnProcessId !== '' ? req.bpmnProcessId : undefined;
    if (!processDefinitionKey && !bpmnProcessId) {
      throw invalid("Expected either a 'bpmnProcessId' or a 'processDefinitionKey' greater than zero, but none given");
    }
    if (req.startInstructions.length > 0) {
      throw new GatewayRefusal(
        grpc.status.UNIMPLEMENTED,
        `${rpc} with 'startInstructions' is not supported by this engine`,
      );
    }
    return {
      processDefinitionKey,
      bpmnProcessId,
      // proto3 cannot tell 0 from unset; Zeebe's clients send -1 for "latest".
      version: req.version > 0 ? req.version : -1,
      variables: parseDocument('variables', req.variables),
      tenantId: tenantOf(rpc, req.tenantId),
    };
  };

  const implementation: grpc.UntypedServiceImplementation = {
    Topology: unary('Topology', async () => ({
      brokers: [
        {
          nodeId: NODE_ID,
          host: opts.host,
          port: boundPort,
          partitions: [{ partitionId: PARTITION_ID, role: 'LEADER', health: 'HEALTHY' }],
          version: GATEWAY_VERSION,
        },
      ],
      clusterSize: 1,
      partitionsCount: 1,
      replicationFactor: 1,
      gatewayVersion: GATEWAY_VERSION,
    })),

    DeployResource: unary(
      'DeployResource',
      async (req: { resources: { name: string; content: Buffer }[]; tenantId: string }) => {
        const tenantId = tenantOf('DeployResource', req.tenantId);
        if (req.resources.length === 0) throw invalid('Expected to deploy at least one resource, but none given');
        const result = await api.deployResources(
          req.resources.map((r) => ({ name: r.name, content: r.content })),
          tenantId,
        );
        return { key: result.key, deployments: result.deployments, tenantId: result.tenantId };
      },
    ),
    // Deprecated since 8.0 but still what zbctl 8.x sends for `zbctl deploy`: the same deployment,
    // answered in the old shape (processes only).
    DeployProcess: unary('DeployProcess', async (req: { processes: { name: string; definition: Buffer }[] }) => {
      const result = await api.deployResources(
        req.processes.map((p) => ({ name: p.name, content: p.definition })),
        DEFAULT_TENANT,
      );
      const processes = result.deployments.flatMap((d) => ('process' in d ? [d.process] : []));
      return { key: result.key, processes };
    }),

    CreateProcessInstance: unary('CreateProcessInstance', async (req: CreateProcessInstanceRequestMsg) =>
      api.createProcessInstance(createRequest('CreateProcessInstance', req)),
    ),
    CreateProcessInstanceWithResult: unary(
      'CreateProcessInstanceWithResult',
      async (req: CreateProcessInstanceWithResultRequestMsg) => {
        if (!req.request)
          throw invalid("Expected 'request' to describe the process instance to create, but it was empty");
        const requestTimeout = millis('requestTimeout', req.requestTimeout);
        const result = await api.createProcessInstanceWithResult({
          ...createRequest('CreateProcessInstanceWithResult', req.request),
          requestTimeout: requestTimeout > 0 ? requestTimeout : DEFAULT_WITH_RESULT_TIMEOUT_MS,
          fetchVariables: req.fetchVariables,
        });
        return { ...result, variables: JSON.stringify(result.variables) };
      },
    ),
    CancelProcessInstance: unary('CancelProcessInstance', async (req: { processInstanceKey: string }) => {
      await api.cancelProcessInstance(req.processInstanceKey);
      return {};
    }),

    ActivateJobs,
    StreamActivatedJobs,
    CompleteJob: unary('CompleteJob', async (req: { jobKey: string; variables: string }) => {
      await api.completeJob(req.jobKey, parseDocument('variables', req.variables));
      return {};
    }),
    FailJob: unary(
      'FailJob',
      async (req: {
        jobKey: string;
        retries: number;
        errorMessage: string;
        retryBackOff: string;
        variables: string;
      }) => {
        await api.failJob({
          jobKey: req.jobKey,
          retries: req.retries,
          errorMessage: req.errorMessage,
          retryBackOff: millis('retryBackOff', req.retryBackOff),
          variables: parseDocument('variables', req.variables),
        });
        return {};
      },
    ),
    ThrowError: unary(
      'ThrowError',
      async (req: { jobKey: string; errorCode: string; errorMessage: string; variables: string }) => {
        await api.throwError({
          jobKey: req.jobKey,
          errorCode: req.errorCode,
          errorMessage: req.errorMessage,
          variables: parseDocument('variables', req.variables),
        });
        return {};
      },
    ),
    UpdateJobRetries: unary('UpdateJobRetries', async (req: { jobKey: string; retries: number }) => {
      // zeebe.proto: INVALID_ARGUMENT when retries is not greater than 0.
      if (req.retries < 1) throw invalid(`Expected 'retries' to be greater than zero, but it was '${req.retries}'`);
      await api.updateJobRetries(req.jobKey, req.retries);
      return {};
    }),
    UpdateJobTimeout: unary('UpdateJobTimeout', async (req: { jobKey: string; timeout: string }) => {
      await api.updateJobTimeout(req.jobKey, millis('timeout', req.timeout));
      return {};
    }),

    PublishMessage: unary(
      'PublishMessage',
      async (req: {
        name: string;
        correlationKey: string;
        timeToLive: string;
        messageId: string;
        variables: string;
        tenantId: string;
      }) => {
        const tenantId = tenantOf('PublishMessage', req.tenantId);
        if (req.name.trim() === '')
          throw invalid("Expected to publish a message with a non-blank 'name', but it was blank");
        const timeToLive = millis('timeToLive', req.timeToLive);
        if (timeToLive < 0) throw invalid(`Expected 'timeToLive' to be zero or more, but it was '${req.timeToLive}'`);
        return api.publishMessage({
          name: req.name,
          correlationKey: req.correlationKey,
          timeToLive,
          messageId: req.messageId,
          variables: parseDocument('variables', req.variables),
          tenantId,
        });
      },
    ),
    SetVariables: unary(
      'SetVariables',
      async (req: { elementInstanceKey: string; variables: string; local: boolean }) =>
        api.setVariables(req.elementInstanceKey, parseDocument('variables', req.variables), req.local),
    ),
    ResolveIncident: unary('ResolveIncident', async (req: { incidentKey: string }) => {
      await api.resolveIncident(req.incidentKey);
      return {};
    }),
    EvaluateDecision: unary(
      'EvaluateDecision',
      async (req: { decisionKey: string; decisionId: string; variables: string; tenantId: string }) => {
        const tenantId = tenantOf('EvaluateDecision', req.tenantId);
        const decisionKey = req.decisionKey !== '0' ? req.decisionKey : undefined;
        const decisionId = req.decisionId !== '' ? req.decisionId : undefined;
        // zeebe.proto: INVALID_ARGUMENT when both or neither of decisionKey and decisionId are given.
        if (Boolean(decisionKey) === Boolean(decisionId)) {
          throw invalid(
            "Expected either a 'decisionId' or a 'decisionKey', but " + (decisionKey ? 'both' : 'none') + ' given',
          );
        }
        return api.evaluateDecision({
          decisionKey,
          decisionId,
          variables: parseDocument('variables', req.variables),
          tenantId,
        });
      },
    ),

    ModifyProcessInstance: unary(
      'ModifyProcessInstance',
      async (req: {
        processInstanceKey: string;
        activateInstructions?: {
          elementId: string;
          ancestorElementInstanceKey: string;
          variableInstructions?: { variables: string; scopeId: string }[];
        }[];
        terminateInstructions?: { elementInstanceKey: string }[];
      }) => {
        await api.modifyProcessInstance({
          processInstanceKey: req.processInstanceKey,
          activate: (req.activateInstructions ?? []).map((a) => ({
            elementId: a.elementId,
            ancestorElementInstanceKey: a.ancestorElementInstanceKey,
            variables: (a.variableInstructions ?? []).map((v) => ({
              scopeId: v.scopeId,
              variables: parseDocument('variables', v.variables),
            })),
          })),
          terminate: (req.terminateInstructions ?? []).map((t) => t.elementInstanceKey),
        });
        return {};
      },
    ),
    MigrateProcessInstance: unary(
      'MigrateProcessInstance',
      async (req: {
        processInstanceKey: string;
        migrationPlan?: {
          targetProcessDefinitionKey: string;
          mappingInstructions?: { sourceElementId: string; targetElementId: string }[];
        };
      }) => {
        if (!req.migrationPlan) throw invalid("Expected a 'migrationPlan', but none given");
        await api.migrateProcessInstance({
          processInstanceKey: req.processInstanceKey,
          targetProcessDefinitionKey: req.migrationPlan.targetProcessDefinitionKey,
          mappings: req.migrationPlan.mappingInstructions ?? [],
        });
        return {};
      },
    ),
    DeleteResource: unimplemented('DeleteResource', 'deployed resources cannot be deleted'),
    BroadcastSignal: unary(
      'BroadcastSignal',
      async (req: { signalName: string; variables: string; tenantId: string }) => {
        const tenantId = tenantOf('BroadcastSignal', req.tenantId);
        if (req.signalName.trim() === '')
          throw invalid("Expected to broadcast a signal with a non-blank 'signalName', but it was blank");
        return api.broadcastSignal({
          signalName: req.signalName,
          variables: parseDocument('variables', req.variables),
          tenantId,
        });
      },
    ),
  };

  // Any RPC a newer SDK's proto adds answers UNIMPLEMENTED with its name rather than grpc-js's default.
  for (const rpc of Object.keys(service)) {
    implementation[rpc] ??= unimplemented(rpc, 'not implemented');
  }

  const server = new grpc.Server({ interceptors: [identityEncodingOnly] });
  server.addService(service, implementation);
  const boundPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${opts.host}:${opts.port}`, grpc.ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    ),
  );
  log('info', 'gRPC gateway listening', { host: opts.host, port: boundPort, auth: Boolean(opts.auth) });

  return {
    port: boundPort,
    async close() {
      if (closing) return;
      closing = true;
      for (const end of [...openStreams]) end();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          log('warn', 'gRPC calls still running at shutdown were cut off', { graceMs: SHUTDOWN_GRACE_MS });
          server.forceShutdown();
          resolve();
        }, SHUTDOWN_GRACE_MS);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}
