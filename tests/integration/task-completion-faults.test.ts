/**
 * Engine-backed: a caseworker's submission happens once or not at all — when the engine is down, and
 * when the same task is submitted twice at the same moment.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app.js';
import { createEngineClient } from '../../infra/camunda/client.js';
import { createEngineRecords, type UserTask } from '../../infra/camunda/records.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { api, eventually } from './helpers.js';
import { testConfig } from './test-env.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
const records = createEngineRecords(inject('engineDatabaseUrl'));
/** The same API, wired to an engine address where nothing listens. */
const deadEngine = createEngineClient(testConfig({ ENGINE_GRPC_PORT: '46599', ENGINE_REST_PORT: '28099' }));
let cutOff: FastifyInstance;

beforeAll(async () => {
  cutOff = await buildApp({ prisma, engine: deadEngine, records, logger: pino({ level: 'silent' }) });
});
afterAll(async () => {
  await cutOff.close();
  await Promise.all([deadEngine.close(), records.close(), prisma.$disconnect()]);
});

const report = { childName: '刘小刚', schoolName: '西关小学', reportedBy: '陈老师' };

async function newSchoolTask(): Promise<UserTask> {
  const { body } = await api<{ processInstanceKey: string }>('POST', '/api/dropout-reports', report);
  return eventually(
    async () => (await records.openUserTasks({ processInstanceKey: body.processInstanceKey }))[0],
    'the school task',
  );
}

describe('task completion faults (engine-backed)', () => {
  it('answers 503 when the engine is unreachable and writes nothing; the task stays open', async () => {
    const task = await newSchoolTask();
    const res = await cutOff.inject({
      method: 'POST',
      url: `/api/tasks/${task.userTaskKey}/completion`,
      payload: { confirmed: true, actor: '王校长' },
    });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ error: { code: 'ENGINE_UNAVAILABLE' } });

    const c = await prisma.dropoutCase.findUniqueOrThrow({
      where: { processInstanceKey: task.processInstanceKey },
      include: { actions: true },
    });
    expect(c.status).toBe('OPEN');
    expect(c.actions.map((a) => a.kind)).toEqual(['CASE_OPENED']);
    expect((await records.userTask(task.userTaskKey))?.state).toBe('CREATED');

    // The same submission through the live engine then goes through, once.
    expect(
      (await api('POST', `/api/tasks/${task.userTaskKey}/completion`, { confirmed: true, actor: '王校长' })).status,
    ).toBe(204);
  });

  it('answers 503 to a new report when the engine is unreachable', async () => {
    const res = await cutOff.inject({ method: 'POST', url: '/api/dropout-reports', payload: report });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ error: { code: 'ENGINE_UNAVAILABLE' } });
  });

  it('completes a task submitted twice at once exactly once: one 204, one 409, one action', async () => {
    const task = await newSchoolTask();
    const body = { confirmed: true, actor: '王校长' };
    const results = await Promise.all([
      api('POST', `/api/tasks/${task.userTaskKey}/completion`, body),
      api('POST', `/api/tasks/${task.userTaskKey}/completion`, body),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([204, 409]);
    const c = await prisma.dropoutCase.findUniqueOrThrow({
      where: { processInstanceKey: task.processInstanceKey },
      include: { actions: true },
    });
    expect(c.actions.map((a) => a.kind).sort()).toEqual(['CASE_OPENED', 'SCHOOL_CONFIRMED_DROPOUT']);
  });
});
