/**
 * Engine-backed: the engine process's own limits and protection, each with a second engine process
 * started on the suite's database (several engine processes may share one database).
 * - back-pressure: more commands than ENGINE_MAX_IN_FLIGHT are answered RESOURCE_EXHAUSTED, never
 *   queued without bound (https://docs.camunda.io/docs/self-managed/zeebe-deployment/operations/backpressure/);
 * - production mode refuses to start without credentials, and with them refuses unauthenticated calls
 *   (basic authentication, as the SDK's CAMUNDA_AUTH_STRATEGY=BASIC sends it).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { REPO_ROOT } from '../../infra/config.js';
import { ENGINE_MAIN } from '../../infra/engine/launch.js';
import { bpmn, chain, deploy, engineDb, extraEngine, uniqueId } from './helpers.js';

describe('engine process limits', () => {
  it('answers RESOURCE_EXHAUSTED beyond its in-flight limit, and every accepted command took effect', async () => {
    const id = uniqueId('pressure');
    await deploy(
      `${id}.bpmn`,
      bpmn(id, `<bpmn:startEvent id="start" /><bpmn:endEvent id="end" />${chain(['start', 'end'])}`),
    );
    const engine = await extraEngine('pressure', { env: { ENGINE_MAX_IN_FLIGHT: '2', ENGINE_DB_POOL_SIZE: '2' } });
    const z = engine.client();
    const results = await Promise.allSettled(
      Array.from({ length: 60 }, () => z.createProcessInstance({ bpmnProcessId: id, variables: {} })),
    );
    const refused = results.filter((r) => r.status === 'rejected');
    const accepted = results.filter((r) => r.status === 'fulfilled');
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect(String((r as PromiseRejectedResult).reason)).toMatch(/RESOURCE_EXHAUSTED/);
    expect(accepted.length).toBeGreaterThan(0);
    const { rows } = await engineDb().query(
      `SELECT count(*)::int AS n FROM engine_process_instance WHERE bpmn_process_id = $1`,
      [id],
    );
    expect(rows[0].n).toBe(accepted.length);
  });

  it('production mode without credentials refuses to start, naming what is missing', async () => {
    const run = promisify(execFile);
    const failure = await run(process.execPath, ['--import', 'tsx', ENGINE_MAIN], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH,
        ENGINE_DATABASE_URL: inject('engineDbUrl'),
        ENGINE_MODE: 'production',
        ENGINE_GRPC_PORT: '0',
        ENGINE_REST_PORT: '0',
        ENGINE_MANAGEMENT_PORT: '0',
      },
      timeout: 30_000,
    }).catch((err: { code: number; stderr: string }) => err);
    expect((failure as { code: number }).code).toBe(2);
    expect((failure as { stderr: string }).stderr).toMatch(/ENGINE_USERNAME and ENGINE_PASSWORD/);
  });

  it('with credentials, a call without them is UNAUTHENTICATED and one with them works (gRPC and REST)', async () => {
    const auth = { username: 'kongchuo', password: 'a-test-only-secret' };
    const engine = await extraEngine('production', { auth });
    await expect(engine.client().topology()).rejects.toThrow(/UNAUTHENTICATED/);
    const topology = await engine.client(auth).topology();
    expect(topology.brokers).toHaveLength(1);
    const plain = await fetch(`http://127.0.0.1:${engine.restPort}/v2/topology`);
    expect(plain.status).toBe(401);
    const basic = await fetch(`http://127.0.0.1:${engine.restPort}/v2/topology`, {
      headers: { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` },
    });
    expect(basic.status).toBe(200);
  });
});
