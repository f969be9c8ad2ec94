/**
 * Engine-backed: the first vertical slice end to end, through our API, the real engine, the job
 * worker and PostgreSQL.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { UserTask } from '../../infra/camunda/records.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { api, eventually } from './helpers.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
afterAll(() => prisma.$disconnect());

const report = { childName: '张小明', schoolName: '城关小学', reportedBy: '李老师', reason: '连续旷课三天' };

async function openTaskOf(processInstanceKey: string): Promise<UserTask> {
  return eventually(async () => {
    const res = await api<{ data: UserTask[] }>(
      'GET',
      `/api/tasks?candidateGroup=school&processInstanceKey=${processInstanceKey}`,
    );
    return res.body.data[0];
  }, 'the school confirmation task');
}

describe('dropout report intake (engine-backed)', () => {
  it('runs report → worker opens the case → school task → completion → instance completed, records in PostgreSQL', async () => {
    const started = await api<{ processInstanceKey: string }>('POST', '/api/dropout-reports', report);
    expect(started.status).toBe(201);
    const pik = started.body.processInstanceKey;

    const task = await openTaskOf(pik);
    expect(task).toMatchObject({ elementId: 'confirmDropoutBySchool', candidateGroups: ['school'], state: 'CREATED' });
    // The due date is the statute's three days after creation ([P] 学校 3 日内书面报告).
    const dueInMs = Date.parse(task.dueDate!.replace(/\[.*\]$/, '')) - Date.parse(task.createdAt);
    expect(Math.round(dueInMs / 86_400_000)).toBe(3);

    // The worker ran before the task existed: the case is open, numbered, with its opening action.
    const opened = await prisma.dropoutCase.findUniqueOrThrow({
      where: { processInstanceKey: pik },
      include: { actions: true },
    });
    expect(opened).toMatchObject({ childName: '张小明', schoolName: '城关小学', status: 'OPEN' });
    expect(opened.actions.map((a) => a.kind)).toEqual(['CASE_OPENED']);

    const done = await api('POST', `/api/tasks/${task.userTaskKey}/completion`, {
      confirmed: true,
      actor: '王校长',
      note: '已家访核实',
    });
    expect(done.status).toBe(204);

    const state = await eventually(async () => {
      const res = await api<{ state: string }>('GET', `/api/process-instances/${pik}`);
      return res.body.state === 'COMPLETED' ? res.body.state : undefined;
    }, 'the instance to complete');
    expect(state).toBe('COMPLETED');

    const closed = await prisma.dropoutCase.findUniqueOrThrow({
      where: { processInstanceKey: pik },
      include: { actions: { orderBy: { createdAt: 'asc' } } },
    });
    expect(closed.status).toBe('SCHOOL_CONFIRMED');
    expect(closed.actions.map((a) => [a.kind, a.actor])).toEqual([
      ['CASE_OPENED', 'system'],
      ['SCHOOL_CONFIRMED_DROPOUT', '王校长'],
    ]);
  });

  it('rejects an invalid form with the field errors and leaves the task open and the case unchanged', async () => {
    const { body } = await api<{ processInstanceKey: string }>('POST', '/api/dropout-reports', report);
    const task = await openTaskOf(body.processInstanceKey);

    const bad = await api<{ error: { code: string; details: { path: string[] }[] } }>(
      'POST',
      `/api/tasks/${task.userTaskKey}/completion`,
      { confirmed: 'yes' },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
    expect(bad.body.error.details.map((d) => d.path.join('.')).sort()).toEqual(['actor', 'confirmed']);

    const still = await api<UserTask>('GET', `/api/tasks/${task.userTaskKey}`);
    expect(still.body.state).toBe('CREATED');
    const c = await prisma.dropoutCase.findUniqueOrThrow({
      where: { processInstanceKey: body.processInstanceKey },
      include: { actions: true },
    });
    expect(c.status).toBe('OPEN');
    expect(c.actions).toHaveLength(1);
  });

  it('answers a second completion of the same task with 409 and writes nothing twice', async () => {
    const { body } = await api<{ processInstanceKey: string }>('POST', '/api/dropout-reports', report);
    const task = await openTaskOf(body.processInstanceKey);
    expect(
      (await api('POST', `/api/tasks/${task.userTaskKey}/completion`, { confirmed: false, actor: '王校长' })).status,
    ).toBe(204);
    await eventually(async () => {
      const t = await api<UserTask>('GET', `/api/tasks/${task.userTaskKey}`);
      return t.body.state === 'COMPLETED' ? true : undefined;
    }, 'the task to be completed');

    const again = await api<{ error: { code: string } }>('POST', `/api/tasks/${task.userTaskKey}/completion`, {
      confirmed: true,
      actor: '王校长',
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('TASK_NOT_OPEN');
    const c = await prisma.dropoutCase.findUniqueOrThrow({
      where: { processInstanceKey: body.processInstanceKey },
      include: { actions: true },
    });
    expect(c.status).toBe('CLOSED');
    expect(c.actions.map((a) => a.kind).sort()).toEqual(['CASE_OPENED', 'SCHOOL_REJECTED_REPORT']);
  });

  it('answers unknown and malformed task keys with 404 and 400 in the error shape', async () => {
    const unknown = await api<{ error: { code: string } }>('GET', '/api/tasks/123456789');
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'TASK_NOT_FOUND' } } });
    const malformed = await api<{ error: { code: string } }>('POST', '/api/tasks/abc/completion', {});
    expect(malformed).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
  });

  it('rejects a report without a child name before anything starts', async () => {
    const res = await api<{ error: { code: string } }>('POST', '/api/dropout-reports', { ...report, childName: '  ' });
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
  });
});
