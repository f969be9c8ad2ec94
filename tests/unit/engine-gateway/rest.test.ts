/**
 * The REST gateway (/v2) over real HTTP against a recording EngineApi stand-in: paths, bodies, status
 * codes and problem details as Camunda's 8.8 REST reference documents them
 * (https://docs.camunda.io/docs/apis-tools/orchestration-cluster-api-rest/specifications/).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EngineFault, type FaultCode } from '../../../engine/src/api.js';
import { MAX_BODY_BYTES, startRestGateway } from '../../../engine/src/gateway/rest.js';
import { BIG_KEY, recordingEngine, recordingLog } from './recording-engine.js';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function gateway(auth?: { username: string; password: string }) {
  const engine = recordingEngine();
  const logged = recordingLog();
  const gw = await startRestGateway(engine.api, { host: '127.0.0.1', port: 0, auth, log: logged.log });
  closers.push(() => gw.close());
  const base = `http://127.0.0.1:${gw.port}`;
  /** Sends `body` as JSON (a string is sent as is); returns status, headers and the parsed body. */
  const send = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
    };
  };
  return { ...engine, logged, send };
}

describe('REST gateway: user tasks', () => {
  it('completes a task with its variables and action, answering 204', async () => {
    const { send, argsOf } = await gateway();
    const res = await send('POST', `/v2/user-tasks/${BIG_KEY}/completion`, {
      variables: { ok: true },
      action: 'approve',
    });
    expect(res.status).toBe(204);
    expect(argsOf('completeUserTask')).toEqual([[BIG_KEY, { ok: true }, 'approve']]);
  });

  it('completes a task when the request has no body at all', async () => {
    const { send, argsOf } = await gateway();
    expect((await send('POST', '/v2/user-tasks/42/completion')).status).toBe(204);
    expect((await send('POST', '/v2/user-tasks/43/completion', '')).status).toBe(204);
    expect(argsOf('completeUserTask')).toEqual([
      ['42', {}, undefined],
      ['43', {}, undefined],
    ]);
  });

  it('assigns with allowOverride defaulting to true, and answers 409 INVALID_STATE on CONFLICT', async () => {
    const { send, argsOf, behave } = await gateway();
    expect((await send('POST', '/v2/user-tasks/42/assignment', { assignee: 'teacher-li' })).status).toBe(204);
    expect(argsOf('assignUserTask')).toEqual([['42', 'teacher-li', true]]);
    behave.assignUserTask = async () => {
      throw new EngineFault('CONFLICT', "User task 42 is assigned to 'teacher-wang'");
    };
    const res = await send('POST', '/v2/user-tasks/42/assignment', { assignee: 'teacher-li', allowOverride: false });
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toEqual({
      type: 'about:blank',
      title: 'INVALID_STATE',
      status: 409,
      detail: "User task 42 is assigned to 'teacher-wang'",
      instance: '/v2/user-tasks/42/assignment',
    });
    expect(argsOf('assignUserTask')[1]).toEqual(['42', 'teacher-li', false]);
  });

  it('refuses an assignment without assignee with 400 naming the field', async () => {
    const { send, calls } = await gateway();
    const res = await send('POST', '/v2/user-tasks/42/assignment', { allowOverride: true });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ title: 'INVALID_ARGUMENT', status: 400 });
    expect(res.body!.detail).toContain("'assignee'");
    expect(calls).toHaveLength(0);
  });

  it('unassigns with DELETE …/assignee, answering 204', async () => {
    const { send, argsOf } = await gateway();
    expect((await send('DELETE', '/v2/user-tasks/42/assignee')).status).toBe(204);
    expect(argsOf('unassignUserTask')).toEqual([['42']]);
  });

  it('refuses a key that is not an int64 decimal string', async () => {
    const { send, calls } = await gateway();
    const res = await send('POST', '/v2/user-tasks/abc/completion', {});
    expect(res.status).toBe(400);
    expect(res.body!.detail).toContain("'abc'");
    expect(calls).toHaveLength(0);
  });
});

describe('REST gateway: status codes and problem details', () => {
  const expected: [FaultCode, number, string][] = [
    ['NOT_FOUND', 404, 'NOT_FOUND'],
    ['INVALID_ARGUMENT', 400, 'INVALID_ARGUMENT'],
    ['FAILED_PRECONDITION', 409, 'INVALID_STATE'],
    ['ALREADY_EXISTS', 409, 'ALREADY_EXISTS'],
    ['CONFLICT', 409, 'INVALID_STATE'],
    ['RESOURCE_EXHAUSTED', 503, 'RESOURCE_EXHAUSTED'],
    ['UNAVAILABLE', 503, 'UNAVAILABLE'],
    ['DEADLINE_EXCEEDED', 504, 'DEADLINE_EXCEEDED'],
  ];

  it.each(expected)('EngineFault %s answers %i titled %s', async (fault, status, title) => {
    const { send, behave } = await gateway();
    behave.completeUserTask = async () => {
      throw new EngineFault(fault, `refused: ${fault}`);
    };
    const res = await send('POST', '/v2/user-tasks/7/completion', {});
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toEqual({
      type: 'about:blank',
      title,
      status,
      detail: `refused: ${fault}`,
      instance: '/v2/user-tasks/7/completion',
    });
  });

  it('answers any other error with 500 and a generic detail, and logs the real one', async () => {
    const { send, behave, logged } = await gateway();
    behave.searchIncidents = async () => {
      throw new Error('relation "incident" does not exist');
    };
    const res = await send('POST', '/v2/incidents/search', {});
    expect(res.status).toBe(500);
    expect(String(res.body!.detail)).not.toContain('relation');
    expect(logged.lines.some((l) => l.level === 'error' && String(l.fields?.err).includes('relation'))).toBe(true);
  });

  it('answers unknown paths, malformed JSON and oversized bodies with problem details', async () => {
    const { send } = await gateway();
    const unknown = await send('GET', '/v2/nothing-here');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ type: 'about:blank', status: 404, instance: '/v2/nothing-here' });
    const malformed = await send('POST', '/v2/user-tasks/1/completion', '{"variables":');
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const huge = await send('POST', '/v2/messages/publication', {
      name: 'm',
      variables: { blob: 'x'.repeat(MAX_BODY_BYTES) },
    });
    expect(huge.status).toBe(413);
    expect(huge.body).toMatchObject({ status: 413 });
  });
});

describe('REST gateway: searches', () => {
  it('passes filter, sort and page to the engine and answers { items, page: { totalItems } }', async () => {
    const { send, argsOf, behave } = await gateway();
    behave.searchUserTasks = async () => ({ items: [{ userTaskKey: BIG_KEY } as never], totalItems: 31 });
    const res = await send('POST', '/v2/user-tasks/search', {
      filter: { state: 'CREATED', candidateGroup: 'town-a' },
      sort: [{ field: 'creationDate', order: 'DESC' }],
      page: { from: 20, limit: 10 },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ items: [{ userTaskKey: BIG_KEY }], page: { totalItems: 31 } });
    expect(argsOf('searchUserTasks')).toEqual([
      [
        {
          filter: { state: 'CREATED', candidateGroup: 'town-a' },
          sort: [{ field: 'creationDate', order: 'DESC' }],
          page: { from: 20, limit: 10 },
        },
      ],
    ]);
  });

  it('searches with no body using the default page, for each searchable resource', async () => {
    const { send, argsOf } = await gateway();
    for (const path of ['/v2/process-instances/search', '/v2/element-instances/search', '/v2/incidents/search']) {
      const res = await send('POST', path);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ items: [], page: { totalItems: 0 } });
    }
    const defaultQuery = { filter: undefined, sort: undefined, page: { from: 0, limit: 100 } };
    expect(argsOf('searchProcessInstances')).toEqual([[defaultQuery]]);
    expect(argsOf('searchElementInstances')).toEqual([[defaultQuery]]);
    expect(argsOf('searchIncidents')).toEqual([[defaultQuery]]);
  });

  it('refuses cursor pagination and a page limit below 1 with 400', async () => {
    const { send, calls } = await gateway();
    expect((await send('POST', '/v2/user-tasks/search', { page: { after: 'abc' } })).status).toBe(400);
    const zero = await send('POST', '/v2/user-tasks/search', { page: { limit: 0 } });
    expect(zero.status).toBe(400);
    expect(zero.body!.detail).toContain("'page.limit'");
    expect(calls).toHaveLength(0);
  });

  it('answers element statistics of a process definition on POST (8.8) and GET', async () => {
    const { send, behave, argsOf } = await gateway();
    const stats = [{ elementId: 'Task_report', active: 2, canceled: 0, incidents: 1, completed: 5 }];
    behave.elementStatistics = async () => stats;
    const path = `/v2/process-definitions/${BIG_KEY}/statistics/element-instances`;
    expect(await send('POST', path, {})).toMatchObject({ status: 200, body: { items: stats } });
    expect(await send('GET', path)).toMatchObject({ status: 200, body: { items: stats } });
    expect(argsOf('elementStatistics')).toEqual([[BIG_KEY], [BIG_KEY]]);
    expect((await send('POST', path, { filter: { state: 'ACTIVE' } })).status).toBe(400);
  });
});

describe('REST gateway: commands', () => {
  it('cancels a process instance and resolves an incident, answering 204', async () => {
    const { send, argsOf } = await gateway();
    expect((await send('POST', `/v2/process-instances/${BIG_KEY}/cancellation`)).status).toBe(204);
    expect((await send('POST', '/v2/incidents/99/resolution', {})).status).toBe(204);
    expect(argsOf('cancelProcessInstance')).toEqual([[BIG_KEY]]);
    expect(argsOf('resolveIncident')).toEqual([['99']]);
  });

  it('publishes a message and answers 200 { messageKey, tenantId }', async () => {
    const { send, argsOf } = await gateway();
    const res = await send('POST', '/v2/messages/publication', {
      name: 'dropout-referred',
      correlationKey: 'child-1',
      timeToLive: 60_000,
      messageId: 'ref-1',
      variables: { from: 'town' },
      tenantId: '<default>',
    });
    expect(res).toMatchObject({ status: 200, body: { messageKey: BIG_KEY, tenantId: '<default>' } });
    expect(argsOf('publishMessage')).toEqual([
      [
        {
          name: 'dropout-referred',
          correlationKey: 'child-1',
          timeToLive: 60_000,
          messageId: 'ref-1',
          variables: { from: 'town' },
          tenantId: '<default>',
        },
      ],
    ]);
  });

  it('broadcasts a signal and answers 200 { signalKey, tenantId }; a signal without a name is 400', async () => {
    const { send, argsOf } = await gateway();
    const res = await send('POST', '/v2/signals/broadcast', { signalName: 'statute-changed', variables: { a: 1 } });
    expect(res).toMatchObject({ status: 200, body: { signalKey: BIG_KEY, tenantId: '<default>' } });
    expect(argsOf('broadcastSignal')).toEqual([
      [{ signalName: 'statute-changed', variables: { a: 1 }, tenantId: '<default>' }],
    ]);
    const noName = await send('POST', '/v2/signals/broadcast', { variables: {} });
    expect(noName.status).toBe(400);
    expect(noName.body!.detail).toContain('signalName');
  });

  it('refuses a message without a name, or for another tenant, with 400', async () => {
    const { send, calls } = await gateway();
    const noName = await send('POST', '/v2/messages/publication', { correlationKey: 'k' });
    expect(noName.status).toBe(400);
    expect(noName.body!.detail).toContain("'name'");
    const tenant = await send('POST', '/v2/messages/publication', { name: 'm', tenantId: 'county-b' });
    expect(tenant.status).toBe(400);
    expect(tenant.body!.detail).toContain("'county-b'");
    expect(calls).toHaveLength(0);
  });

  it('evaluates a decision and answers with the REST field names', async () => {
    const { send, behave, argsOf } = await gateway();
    behave.evaluateDecision = async () => ({
      decisionKey: BIG_KEY,
      decisionId: 'risk-level',
      decisionName: 'Risk level',
      decisionVersion: 2,
      decisionRequirementsId: 'risk',
      decisionRequirementsKey: '11',
      decisionOutput: '"high"',
      evaluatedDecisions: [
        {
          decisionKey: BIG_KEY,
          decisionId: 'risk-level',
          decisionName: 'Risk level',
          decisionVersion: 2,
          decisionType: 'DECISION_TABLE',
          decisionOutput: '"high"',
          matchedRules: [
            {
              ruleId: 'r1',
              ruleIndex: 1,
              evaluatedOutputs: [{ outputId: 'o', outputName: 'level', outputValue: '"high"' }],
            },
          ],
          evaluatedInputs: [{ inputId: 'i', inputName: 'absentDays', inputValue: '20' }],
          tenantId: '<default>',
        },
      ],
      failedDecisionId: '',
      failureMessage: '',
      tenantId: '<default>',
      decisionInstanceKey: '12',
    });
    const res = await send('POST', '/v2/decision-definitions/evaluation', {
      decisionDefinitionId: 'risk-level',
      variables: { absentDays: 20 },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      decisionDefinitionKey: BIG_KEY,
      decisionDefinitionId: 'risk-level',
      decisionDefinitionVersion: 2,
      output: '"high"',
      decisionEvaluationKey: '12',
      evaluatedDecisions: [
        { decisionDefinitionType: 'DECISION_TABLE', output: '"high"', matchedRules: [{ ruleId: 'r1' }] },
      ],
    });
    expect(argsOf('evaluateDecision')).toEqual([
      [{ decisionKey: undefined, decisionId: 'risk-level', variables: { absentDays: 20 }, tenantId: '<default>' }],
    ]);
    const both = await send('POST', '/v2/decision-definitions/evaluation', {
      decisionDefinitionId: 'risk-level',
      decisionDefinitionKey: '5',
    });
    expect(both.status).toBe(400);
  });

  it('reports one healthy leader partition on GET /v2/topology, in the REST spelling', async () => {
    const { send } = await gateway();
    const res = await send('GET', '/v2/topology');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      clusterSize: 1,
      partitionsCount: 1,
      replicationFactor: 1,
      gatewayVersion: '8.8.0',
    });
    expect((res.body!.brokers as { partitions: unknown[] }[])[0]!.partitions).toEqual([
      { partitionId: 1, role: 'leader', health: 'healthy' },
    ]);
  });
});

describe('REST gateway: basic authentication', () => {
  const credentials = { username: 'bureau', password: 's3cret' };
  const basic = (user: string, password: string) => ({
    authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
  });

  it('refuses requests without or with wrong credentials with 401 and a Basic challenge', async () => {
    const { send, calls } = await gateway(credentials);
    for (const headers of [{}, basic('bureau', 'guess'), { authorization: 'Bearer token' }]) {
      const res = await send('POST', '/v2/user-tasks/1/completion', {}, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic/);
      expect(res.body).toMatchObject({ type: 'about:blank', status: 401 });
    }
    expect(calls).toHaveLength(0);
  });

  it('accepts the configured credentials', async () => {
    const { send, argsOf } = await gateway(credentials);
    expect((await send('POST', '/v2/user-tasks/1/completion', {}, basic('bureau', 's3cret'))).status).toBe(204);
    expect(argsOf('completeUserTask')).toHaveLength(1);
  });
});
