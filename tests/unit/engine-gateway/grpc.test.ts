/**
 * The gRPC gateway driven through the real @camunda8/sdk client (and, where the SDK cannot express a
 * request, through a raw grpc-js client on the same proto), against a recording EngineApi stand-in.
 * Protocol rules: https://docs.camunda.io/docs/apis-tools/zeebe-api/gateway-service/ and zeebe.proto.
 */
import { execFile } from 'node:child_process';
import http2 from 'node:http2';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Camunda8 } from '@camunda8/sdk';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EngineFault, type ActivateJobsRequest, type FaultCode } from '../../../engine/src/api.js';
import { startGrpcGateway, zeebeProtoPath, type RunningGateway } from '../../../engine/src/gateway/grpc.js';
import { BIG_KEY, recordingEngine, recordingLog, sampleJob } from './recording-engine.js';

type ZeebeClient = ReturnType<Camunda8['getZeebeGrpcApiClient']>;
const execFileAsync = promisify(execFile);

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function gateway(auth?: { username: string; password: string }) {
  const engine = recordingEngine();
  const logged = recordingLog();
  const gw: RunningGateway = await startGrpcGateway(engine.api, { host: '127.0.0.1', port: 0, auth, log: logged.log });
  cleanups.push(() => gw.close());
  return { ...engine, gw, logged };
}

async function sdkClient(port: number, basic?: { username: string; password: string }): Promise<ZeebeClient> {
  const c8 = new Camunda8({
    ZEEBE_GRPC_ADDRESS: `grpc://127.0.0.1:${port}`,
    ...(basic
      ? {
          CAMUNDA_AUTH_STRATEGY: 'BASIC' as const,
          CAMUNDA_BASIC_AUTH_USERNAME: basic.username,
          CAMUNDA_BASIC_AUTH_PASSWORD: basic.password,
        }
      : { CAMUNDA_AUTH_STRATEGY: 'NONE' as const }),
    CAMUNDA_LOG_LEVEL: 'none',
    // No retries: each test sees the status of the one call it made.
    zeebeGrpcSettings: { ZEEBE_CLIENT_LOG_LEVEL: 'NONE', ZEEBE_GRPC_CLIENT_RETRY: false },
  });
  const client = c8.getZeebeGrpcApiClient();
  cleanups.push(() => client.close());
  // The SDK sets up its logger when its lazy connection resolves; completeJob as the very first call
  // would otherwise throw inside the SDK before anything is sent.
  await (client as unknown as { grpc: Promise<unknown> }).grpc;
  return client;
}

/** A plain grpc-js client on the same proto, for requests the SDK never sends (and for cancelling). */
function rawClient(port: number) {
  const def = protoLoader.loadSync(zeebeProtoPath(), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const { Gateway } = (
    grpc.loadPackageDefinition(def) as unknown as {
      gateway_protocol: { Gateway: grpc.ServiceClientConstructor };
    }
  ).gateway_protocol;
  const client = new Gateway(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as grpc.Client &
    Record<string, (...args: unknown[]) => grpc.ClientReadableStream<unknown>>;
  cleanups.push(() => client.close());
  return client;
}

/** The gRPC status code of a rejected SDK call. */
async function statusOf(call: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await call;
  } catch (err) {
    const e = err as { code: number; details: string };
    return { code: e.code, details: e.details };
  }
  throw new Error('expected the call to be refused');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(probe: () => T | undefined, what: string, timeoutMs = 5_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A promise with its resolve function outside, for holding a stand-in call open. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('gRPC gateway: Topology', () => {
  it('reports one healthy leader partition on one broker', async () => {
    const { gw } = await gateway();
    const topology = await (await sdkClient(gw.port)).topology();
    expect(topology).toMatchObject({
      clusterSize: 1,
      partitionsCount: 1,
      replicationFactor: 1,
      gatewayVersion: '8.8.0',
    });
    expect(topology.brokers).toHaveLength(1);
    expect(topology.brokers[0]!.partitions).toEqual([{ partitionId: 1, role: 'LEADER', health: 'HEALTHY' }]);
  });
});

/** One gRPC call over a bare HTTP/2 stream: the response headers, the answer's frames and the trailers. */
async function rawCall(port: number, path: string, frame: Buffer, headers: Record<string, string>) {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  cleanups.push(() => void session.close());
  const stream = session.request({
    ':method': 'POST',
    ':path': path,
    'content-type': 'application/grpc',
    te: 'trailers',
    ...headers,
  });
  const answer = new Promise<{ head: http2.IncomingHttpHeaders; body: Buffer; trailers: http2.IncomingHttpHeaders }>(
    (resolve, reject) => {
      let head: http2.IncomingHttpHeaders = {};
      let trailers: http2.IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      stream.on('response', (h) => (head = h));
      stream.on('trailers', (t) => (trailers = t));
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => resolve({ head, body: Buffer.concat(chunks), trailers }));
      stream.on('error', reject);
    },
  );
  stream.end(frame);
  return answer;
}

/** A gRPC length-prefixed message: compressed flag, 4-byte length, payload. */
function grpcFrame(payload: Buffer, compressed: boolean): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(compressed ? 1 : 0, 0);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

describe('gRPC gateway: message compression (grpc.io docs/guides/compression)', () => {
  it('accepts a gzipped request but advertises identity only, so the SDK stops gzipping', async () => {
    const { gw } = await gateway();
    // TopologyRequest is an empty message; gzipped as the Camunda SDK sends every message.
    const { head, body, trailers } = await rawCall(
      gw.port,
      '/gateway_protocol.Gateway/Topology',
      grpcFrame(zlib.gzipSync(Buffer.alloc(0)), true),
      { 'grpc-encoding': 'gzip', 'grpc-accept-encoding': 'identity,deflate,gzip' },
    );
    expect(trailers['grpc-status'] ?? head['grpc-status']).toBe('0');
    // grpc-js clients compress on a channel only while the server's last grpc-accept-encoding lists the algorithm.
    expect(head['grpc-accept-encoding']).toBe('identity');
    // The answer itself is uncompressed (flag 0) and holds the topology.
    expect(body.readUInt8(0)).toBe(0);
    expect(body.length).toBeGreaterThan(5);
  });
});

describe('gRPC gateway: int64 keys and JSON documents', () => {
  it('keeps keys beyond 2^53 exact in both directions', async () => {
    const { gw, argsOf } = await gateway();
    const zbc = await sdkClient(gw.port);
    const created = await zbc.createProcessInstance({ bpmnProcessId: 'dropout-report', variables: { childId: 'c-1' } });
    expect(created.processInstanceKey).toBe(BIG_KEY);
    await zbc.completeJob({ jobKey: BIG_KEY, variables: { visited: true } });
    expect(argsOf('completeJob')).toEqual([[BIG_KEY, { visited: true }]]);
    await zbc.cancelProcessInstance(BIG_KEY);
    expect(argsOf('cancelProcessInstance')).toEqual([[BIG_KEY]]);
  });

  it('hands the engine parsed variables, the latest version and the default tenant', async () => {
    const { gw, argsOf } = await gateway();
    await (await sdkClient(gw.port)).createProcessInstance({ bpmnProcessId: 'dropout-report', variables: { n: 1 } });
    expect(argsOf('createProcessInstance')).toEqual([
      [
        {
          bpmnProcessId: 'dropout-report',
          processDefinitionKey: undefined,
          version: -1,
          variables: { n: 1 },
          tenantId: '<default>',
        },
      ],
    ]);
  });

  it('refuses variables that are not a JSON object with INVALID_ARGUMENT naming the field', async () => {
    const { gw, calls } = await gateway();
    const zbc = await sdkClient(gw.port);
    // The SDK passes a string through unchanged, which is how a malformed document reaches the wire.
    const array = await statusOf(zbc.setVariables({ elementInstanceKey: BIG_KEY, variables: '[1,2]' } as never));
    expect(array.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(array.details).toContain("'variables'");
    expect(array.details).toContain('ARRAY');
    const garbage = await statusOf(zbc.setVariables({ elementInstanceKey: BIG_KEY, variables: '{oops' } as never));
    expect(garbage.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(garbage.details).toContain("'variables'");
    expect(calls.filter((c) => c.method === 'setVariables')).toHaveLength(0);
  });

  it('returns the result variables of CreateProcessInstanceWithResult as a document the SDK parses', async () => {
    const { gw, argsOf } = await gateway();
    const result = await (
      await sdkClient(gw.port)
    ).createProcessInstanceWithResult({
      bpmnProcessId: 'dropout-report',
      variables: {},
    });
    expect(result.variables).toEqual({ outcome: 'returned' });
    expect(result.processInstanceKey).toBe(BIG_KEY);
    // requestTimeout 0 means "the gateway's default" (zeebe.proto).
    expect(argsOf('createProcessInstanceWithResult')[0]![0]).toMatchObject({ requestTimeout: 15_000 });
  });

  it('deploys resources as bytes and returns the oneof metadata the SDK reads', async () => {
    const { gw, argsOf, behave } = await gateway();
    behave.deployResources = async () => ({
      key: BIG_KEY,
      tenantId: '<default>',
      deployments: [
        {
          process: {
            bpmnProcessId: 'dropout-report',
            version: 2,
            processDefinitionKey: BIG_KEY,
            resourceName: 'dropout-report.bpmn',
            tenantId: '<default>',
          },
        },
      ],
    });
    const xml = Buffer.from('<definitions/>');
    const res = await (await sdkClient(gw.port)).deployResource({ name: 'dropout-report.bpmn', process: xml });
    expect(res.key).toBe(BIG_KEY);
    expect(res.deployments[0]!.process).toMatchObject({
      bpmnProcessId: 'dropout-report',
      processDefinitionKey: BIG_KEY,
    });
    const [resources, tenantId] = argsOf('deployResources')[0]! as [{ name: string; content: Buffer }[], string];
    expect(resources[0]!.name).toBe('dropout-report.bpmn');
    expect(Buffer.compare(resources[0]!.content, xml)).toBe(0);
    expect(tenantId).toBe('<default>');
  });
});

describe('gRPC gateway: status codes', () => {
  const expected: [FaultCode, grpc.status][] = [
    ['NOT_FOUND', grpc.status.NOT_FOUND],
    ['INVALID_ARGUMENT', grpc.status.INVALID_ARGUMENT],
    ['FAILED_PRECONDITION', grpc.status.FAILED_PRECONDITION],
    ['ALREADY_EXISTS', grpc.status.ALREADY_EXISTS],
    ['RESOURCE_EXHAUSTED', grpc.status.RESOURCE_EXHAUSTED],
    ['CONFLICT', grpc.status.FAILED_PRECONDITION],
    ['UNAVAILABLE', grpc.status.UNAVAILABLE],
    ['DEADLINE_EXCEEDED', grpc.status.DEADLINE_EXCEEDED],
  ];

  it.each(expected)('EngineFault %s reaches the SDK as status %i with its message', async (fault, code) => {
    const { gw, behave } = await gateway();
    behave.publishMessage = async () => {
      throw new EngineFault(fault, `refused: ${fault}`);
    };
    const status = await statusOf(
      (await sdkClient(gw.port)).publishMessage({ name: 'm', correlationKey: 'k', variables: {} }),
    );
    expect(status).toEqual({ code, details: `refused: ${fault}` });
  });

  it('answers any other error with INTERNAL and a generic message, and logs the real one', async () => {
    const { gw, behave, logged } = await gateway();
    behave.completeJob = async () => {
      throw new Error('connection to database lost: password=secret');
    };
    const status = await statusOf((await sdkClient(gw.port)).completeJob({ jobKey: '1', variables: {} }));
    expect(status.code).toBe(grpc.status.INTERNAL);
    expect(status.details).not.toContain('secret');
    expect(logged.lines.some((l) => l.level === 'error' && String(l.fields?.err).includes('database lost'))).toBe(true);
  });

  it('answers the RPCs the engine does not implement with UNIMPLEMENTED naming them', async () => {
    const { gw } = await gateway();
    const zbc = await sdkClient(gw.port);
    const del = await statusOf(zbc.deleteResource({ resourceKey: '1' }));
    expect(del.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(del.details).toContain('DeleteResource');
  });

  it('ModifyProcessInstance and MigrateProcessInstance pass their instructions (variables parsed) to the engine', async () => {
    const { gw, argsOf } = await gateway();
    const zbc = await sdkClient(gw.port);
    await zbc.modifyProcessInstance({
      processInstanceKey: BIG_KEY,
      activateInstructions: [
        {
          elementId: 'sign',
          ancestorElementInstanceKey: '-1',
          variableInstructions: [{ scopeId: 'review', variables: { a: 1 } }],
        },
      ],
      terminateInstructions: [{ elementInstanceKey: '42' }],
    });
    expect(argsOf('modifyProcessInstance')).toEqual([
      [
        {
          processInstanceKey: BIG_KEY,
          activate: [
            {
              elementId: 'sign',
              ancestorElementInstanceKey: '-1',
              variables: [{ scopeId: 'review', variables: { a: 1 } }],
            },
          ],
          terminate: ['42'],
        },
      ],
    ]);
    await zbc.migrateProcessInstance({
      processInstanceKey: BIG_KEY,
      migrationPlan: {
        targetProcessDefinitionKey: '7',
        mappingInstructions: [{ sourceElementId: 'a', targetElementId: 'b' }],
      },
    });
    expect(argsOf('migrateProcessInstance')).toEqual([
      [
        {
          processInstanceKey: BIG_KEY,
          targetProcessDefinitionKey: '7',
          mappings: [{ sourceElementId: 'a', targetElementId: 'b' }],
        },
      ],
    ]);
  });

  it('BroadcastSignal passes the signal name and variables to the engine and answers its key; a blank name is INVALID_ARGUMENT', async () => {
    const { gw, argsOf } = await gateway();
    const zbc = await sdkClient(gw.port);
    const res = await zbc.broadcastSignal({ signalName: 'statute-changed', variables: { year: 2026 } });
    expect(res).toMatchObject({ key: BIG_KEY, tenantId: '<default>' });
    expect(argsOf('broadcastSignal')).toEqual([
      [{ signalName: 'statute-changed', variables: { year: 2026 }, tenantId: '<default>' }],
    ]);
    const blank = await statusOf(zbc.broadcastSignal({ signalName: ' ', variables: {} }));
    expect(blank.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(blank.details).toContain('signalName');
  });

  it('accepts the tenants <default> and "" and refuses any other with INVALID_ARGUMENT', async () => {
    const { gw, argsOf } = await gateway();
    const zbc = await sdkClient(gw.port);
    await zbc.publishMessage({ name: 'm', correlationKey: 'k', variables: {}, tenantId: '' });
    expect(argsOf('publishMessage')[0]![0]).toMatchObject({ tenantId: '<default>' });
    const refused = await statusOf(
      zbc.createProcessInstance({ bpmnProcessId: 'p', variables: {}, tenantId: 'county-b' }),
    );
    expect(refused.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(refused.details).toContain("'county-b'");
  });

  it('validates ActivateJobs fields as zeebe.proto documents, naming the field', async () => {
    const { gw, calls } = await gateway();
    const zbc = await sdkClient(gw.port);
    const base = { type: 'reportDropoutToTown', worker: 'w', maxJobsToActivate: 1, timeout: 1000, requestTimeout: -1 };
    const noType = await statusOf(zbc.activateJobs({ ...base, type: '' }));
    expect(noType.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(noType.details).toContain("'type'");
    const noJobs = await statusOf(zbc.activateJobs({ ...base, maxJobsToActivate: 0 }));
    expect(noJobs.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(noJobs.details).toContain("'maxJobsToActivate'");
    const noTimeout = await statusOf(zbc.activateJobs({ ...base, timeout: 0 }));
    expect(noTimeout.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(noTimeout.details).toContain("'timeout'");
    expect(calls.filter((c) => c.method === 'activateJobs')).toHaveLength(0);
  });

  it('refuses EvaluateDecision with neither a decision key nor an id', async () => {
    const { gw } = await gateway();
    const status = await statusOf((await sdkClient(gw.port)).evaluateDecision({ variables: {} } as never));
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toContain("'decisionId'");
  });
});

describe('gRPC gateway: basic authentication', () => {
  const credentials = { username: 'bureau', password: 's3cret' };

  it('refuses calls without credentials or with wrong ones with UNAUTHENTICATED', async () => {
    const { gw, calls } = await gateway(credentials);
    expect((await statusOf((await sdkClient(gw.port)).topology())).code).toBe(grpc.status.UNAUTHENTICATED);
    const wrong = await sdkClient(gw.port, { ...credentials, password: 'guess' });
    expect((await statusOf(wrong.completeJob({ jobKey: '1', variables: {} }))).code).toBe(grpc.status.UNAUTHENTICATED);
    expect(
      (await statusOf(wrong.activateJobs({ type: 't', worker: 'w', maxJobsToActivate: 1, timeout: 1000 }))).code,
    ).toBe(grpc.status.UNAUTHENTICATED);
    // Not even which RPCs exist is told to a caller without credentials.
    expect((await statusOf(wrong.broadcastSignal({ signalName: 's', variables: {} }))).code).toBe(
      grpc.status.UNAUTHENTICATED,
    );
    expect(calls).toHaveLength(0);
  });

  it('accepts the configured credentials', async () => {
    const { gw, argsOf } = await gateway(credentials);
    const zbc = await sdkClient(gw.port, credentials);
    expect((await zbc.topology()).clusterSize).toBe(1);
    await zbc.completeJob({ jobKey: '7', variables: {} });
    expect(argsOf('completeJob')).toEqual([['7', {}]]);
  });
});

describe('gRPC gateway: ActivateJobs long polling', () => {
  it('holds the call until the engine answers, then sends the jobs and ends the call itself', async () => {
    const { gw, behave, argsOf } = await gateway();
    const answer = deferred<ReturnType<typeof sampleJob>[]>();
    behave.activateJobs = () => answer.promise;
    let settled = false;
    const started = Date.now();
    // requestTimeout 30 s: the SDK would only give up at 31 s, so an early end comes from the server.
    const activation = (await sdkClient(gw.port))
      .activateJobs({
        type: 'reportDropoutToTown',
        worker: 'w',
        maxJobsToActivate: 5,
        timeout: 60_000,
        requestTimeout: 30_000,
      })
      .finally(() => (settled = true));
    await waitFor(() => argsOf('activateJobs')[0], 'the long poll to reach the engine');
    await sleep(300);
    expect(settled).toBe(false);
    answer.resolve([sampleJob()]);
    const jobs = await activation;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({
      key: BIG_KEY,
      deadline: '1700000060000',
      variables: { childId: 'c-1', count: 2 },
      customHeaders: { channel: 'town' },
    });
    const [request, signal] = argsOf('activateJobs')[0]! as [ActivateJobsRequest, AbortSignal];
    expect(request).toEqual({
      type: 'reportDropoutToTown',
      worker: 'w',
      timeout: 60_000,
      maxJobsToActivate: 5,
      fetchVariable: [],
      requestTimeout: 30_000,
      tenantIds: ['<default>'],
    });
    expect(signal.aborted).toBe(false);
  });

  it('ends an empty long poll when the engine answers with no jobs', async () => {
    const { gw, behave } = await gateway();
    behave.activateJobs = async () => {
      await sleep(200);
      return [];
    };
    const started = Date.now();
    const jobs = await (
      await sdkClient(gw.port)
    ).activateJobs({
      type: 't',
      worker: 'w',
      maxJobsToActivate: 1,
      timeout: 1000,
      requestTimeout: 30_000,
    });
    expect(jobs).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('aborts the engine-side wait when the client cancels the call', async () => {
    const { gw, behave } = await gateway();
    const seen = deferred<AbortSignal>();
    behave.activateJobs = (_req, signal) =>
      new Promise((resolve) => {
        seen.resolve(signal!);
        signal!.addEventListener('abort', () => resolve([]));
      });
    const call = rawClient(gw.port).ActivateJobs!({
      type: 't',
      worker: 'w',
      timeout: '1000',
      maxJobsToActivate: 1,
      requestTimeout: '30000',
      tenantIds: ['<default>'],
    });
    call.on('error', () => {}); // CANCELLED, expected
    const signal = await seen.promise;
    expect(signal.aborted).toBe(false);
    call.cancel();
    await waitFor(() => (signal.aborted ? true : undefined), 'the abort signal');
  });

  it('ends open long polls on close() instead of waiting for them', async () => {
    const { gw, behave } = await gateway();
    behave.activateJobs = (_req, signal) =>
      new Promise((resolve) => signal!.addEventListener('abort', () => resolve([])));
    const activation = (await sdkClient(gw.port)).activateJobs({
      type: 't',
      worker: 'w',
      maxJobsToActivate: 1,
      timeout: 1000,
      requestTimeout: 30_000,
    });
    await sleep(200);
    const started = Date.now();
    await gw.close();
    await expect(activation).resolves.toEqual([]);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("lets the SDK's createWorker receive a job and complete it", async () => {
    const { gw, behave, argsOf } = await gateway();
    let delivered = false;
    behave.activateJobs = (req, signal) => {
      if (!delivered) {
        delivered = true;
        return Promise.resolve([sampleJob({ type: req.type })]);
      }
      // Later polls wait as a long poll does, until the worker goes away.
      return new Promise((resolve) => signal!.addEventListener('abort', () => resolve([])));
    };
    const zbc = await sdkClient(gw.port);
    const received: unknown[] = [];
    const worker = zbc.createWorker({
      taskType: 'reportDropoutToTown',
      taskHandler: async (job) => {
        received.push(job.variables);
        return job.complete({ reported: true });
      },
    });
    cleanups.push(() => worker.close());
    await waitFor(() => argsOf('completeJob')[0], 'the worker to complete the job');
    expect(received).toEqual([{ childId: 'c-1', count: 2 }]);
    expect(argsOf('completeJob')).toEqual([[BIG_KEY, { reported: true }]]);
  });
});

describe('gRPC gateway: StreamActivatedJobs', () => {
  it('pushes jobs the engine streams to the SDK, and unsubscribes when the client closes the stream', async () => {
    const { gw, behave, argsOf } = await gateway();
    const pushReady = deferred<(job: ReturnType<typeof sampleJob>) => Promise<void>>();
    let unsubscribed = 0;
    behave.streamJobs = (_req, push) => {
      pushReady.resolve(push);
      return () => {
        unsubscribed++;
      };
    };
    const zbc = await sdkClient(gw.port);
    const stream = await zbc.streamJobs({
      type: 'reportDropoutToTown',
      worker: 'streamer',
      timeout: 30_000,
      tenantIds: ['<default>'],
      taskHandler: (job) => job.complete({ streamed: true }),
    });
    const push = await pushReady.promise;
    await push(sampleJob());
    await waitFor(() => argsOf('completeJob')[0], 'the streamed job to be completed');
    expect(argsOf('completeJob')).toEqual([[BIG_KEY, { streamed: true }]]);
    expect(argsOf('streamJobs')[0]![0]).toEqual({
      type: 'reportDropoutToTown',
      worker: 'streamer',
      timeout: 30_000,
      fetchVariable: [],
      tenantIds: ['<default>'],
    });
    // The SDK backfills with one ActivateJobs call without long polling.
    expect((argsOf('activateJobs')[0]![0] as ActivateJobsRequest).requestTimeout).toBe(-1);

    // The SDK's stream worker console.errors the CANCELLED status its own close() causes.
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => {});
    cleanups.push(() => quiet.mockRestore());
    stream.close();
    await waitFor(() => (unsubscribed === 1 ? true : undefined), 'the stream to unsubscribe');
    await expect(push(sampleJob())).rejects.toThrow(/ended/);
  });

  it('refuses a stream with a blank type before subscribing', async () => {
    const { gw, calls } = await gateway();
    const call = rawClient(gw.port).StreamActivatedJobs!({ type: '', worker: 'w', timeout: '1000', tenantIds: [] });
    const status = await new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toContain("'type'");
    expect(calls.filter((c) => c.method === 'streamJobs')).toHaveLength(0);
  });
});

describe('gRPC gateway: a Go client (zbctl)', () => {
  /** Camunda's CLI, built with grpc-go: a client that is not the SDK and sends tenant "" by default. */
  const ZBCTL = fileURLToPath(
    new URL(
      `../../../node_modules/zbctl/bin/zbctl-cli.${{ darwin: 'darwin', win32: 'exe' }[process.platform as string] ?? 'linux'}`,
      import.meta.url,
    ),
  );
  const zbctl = async (port: number, ...args: string[]) =>
    (await execFileAsync(ZBCTL, [...args, '--insecure', '--address', `127.0.0.1:${port}`], { timeout: 20_000 })).stdout;

  it('reads the topology, publishes a message and activates a job', async () => {
    const { gw, argsOf, behave } = await gateway();
    expect(await zbctl(gw.port, 'status')).toContain('Partition 1 : Leader, Healthy');

    await zbctl(gw.port, 'publish', 'message', 'dropout-referred', '--correlationKey', 'child-1', '--ttl', '1m');
    expect(argsOf('publishMessage')[0]![0]).toMatchObject({
      name: 'dropout-referred',
      correlationKey: 'child-1',
      timeToLive: 60_000,
      tenantId: '<default>',
    });

    behave.activateJobs = async () => [sampleJob()];
    const out = await zbctl(gw.port, 'activate', 'jobs', 'reportDropoutToTown', '--maxJobsToActivate', '1');
    expect(out).toContain(BIG_KEY);
    expect(out).toContain('childId');
  });
});
