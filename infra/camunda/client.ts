/**
 * The one place that talks to the engine through @camunda8/sdk: gRPC for deployments, instances,
 * messages and job workers (a protocol stable across engine versions), REST /v2 for user tasks.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Camunda8 } from '@camunda8/sdk';
import type { Resource } from '@camunda8/sdk/dist/zeebe/lib/deployResource.js';
import type { JSONDoc } from '@camunda8/sdk/dist/zeebe/lib/interfaces-1.0.js';
import { type Config, engineAddresses } from '../config.js';

export type EngineClient = ReturnType<typeof createEngineClient>;

/** Resource kinds the engine deploys from processes/. */
const DEPLOYABLE = /\.(bpmn|dmn|form)$/;

function toResource(file: string): Resource {
  const name = path.basename(file);
  const content = fs.readFileSync(file);
  if (file.endsWith('.dmn')) return { name, decision: content };
  if (file.endsWith('.form')) return { name, form: content };
  return { name, process: content };
}

export function createEngineClient(cfg: Config) {
  const addr = engineAddresses(cfg);
  const c8 = new Camunda8({
    ZEEBE_GRPC_ADDRESS: `grpc://${addr.grpc}`,
    ZEEBE_REST_ADDRESS: addr.rest,
    CAMUNDA_AUTH_STRATEGY: 'NONE',
    // The SDK logs to stdout through its own loggers; ours are pino. Keep it to errors.
    CAMUNDA_LOG_LEVEL: 'error',
    zeebeGrpcSettings: { ZEEBE_CLIENT_LOG_LEVEL: 'ERROR' },
  });
  const grpc = c8.getZeebeGrpcApiClient();
  const rest = c8.getCamundaRestClient();

  return {
    grpc,
    rest,

    /** Deploys every BPMN/DMN/form under `dir` in one deployment (all or nothing). */
    async deployDirectory(dir: string) {
      const files = fs
        .readdirSync(dir, { recursive: true, encoding: 'utf8' })
        .filter((f) => DEPLOYABLE.test(f))
        .sort()
        .map((f) => path.join(dir, f));
      if (files.length === 0) return { files, processes: [] as { bpmnProcessId: string; version: number }[] };
      const res = await grpc.deployResources(files.map(toResource));
      const processes = (res.deployments as { process?: { bpmnProcessId: string; version: number } }[]).flatMap((d) =>
        d.process ? [{ bpmnProcessId: d.process.bpmnProcessId, version: d.process.version }] : [],
      );
      return { files, processes };
    },

    async startProcess(bpmnProcessId: string, variables: Record<string, unknown>) {
      const res = await grpc.createProcessInstance({ bpmnProcessId, variables: variables as JSONDoc });
      return { processInstanceKey: res.processInstanceKey, version: res.version };
    },

    async completeUserTask(userTaskKey: string, variables: Record<string, unknown>) {
      await rest.completeUserTask({ userTaskKey, variables: variables as JSONDoc });
    },

    async close() {
      await grpc.close();
    },
  };
}
