/**
 * Engine-backed: jobs through @camunda8/sdk against the real engine process and PostgreSQL.
 * Semantics: https://docs.camunda.io/docs/components/concepts/job-workers/ (activation, long polling,
 * timeouts, completion variables, failing, retries and back-off) and
 * https://docs.camunda.io/docs/components/concepts/incidents/ (no retries left → incident, resolution).
 */
import { describe, expect, it } from 'vitest';
import { clock, deployOneTask, engineDb, eventually, instanceState, uniqueId, zeebe, nextJob } from './helpers.js';

describe('jobs', () => {
  it('a service task creates a job; completing it with variables merges them into the instance and ends it', async () => {
    const { id, type } = await deployOneTask('one-task');
    const created = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { childId: 7, name: '张三' } });
    expect(created.processInstanceKey).toMatch(/^\d+$/);
    const jobs = await zeebe().activateJobs({
      type,
      worker: 'test',
      maxJobsToActivate: 5,
      timeout: 30_000,
      requestTimeout: 5_000,
    });
    expect(jobs).toHaveLength(1);
    const job = jobs[0]!;
    expect(job.processInstanceKey).toBe(created.processInstanceKey);
    expect(job.elementId).toBe('work');
    expect(job.variables).toEqual({ childId: 7, name: '张三' });
    expect(job.retries).toBe(3); // the default of zeebe:taskDefinition
    await zeebe().completeJob({ jobKey: job.key, variables: { caseId: 'C-1' } });
    await eventually(
      async () => (await instanceState(created.processInstanceKey)) === 'COMPLETED',
      5000,
      'instance completed',
    );
    const { rows } = await engineDb().query(
      `SELECT name, value FROM engine_variable WHERE scope_key = $1 ORDER BY name`,
      [created.processInstanceKey],
    );
    expect(rows).toEqual([
      { name: 'caseId', value: 'C-1' },
      { name: 'childId', value: 7 },
      { name: 'name', value: '张三' },
    ]);
  });

  it('ActivateJobs long-polls: the call is held until a job exists and answers with it', async () => {
    const { id, type } = await deployOneTask('one-task');
    const started = Date.now();
    const poll = zeebe().activateJobs({
      type,
      worker: 'poller',
      maxJobsToActivate: 1,
      timeout: 30_000,
      requestTimeout: 8_000,
    });
    await new Promise((r) => setTimeout(r, 300));
    await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    const jobs = await poll;
    expect(jobs).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('ActivateJobs ends the long poll at requestTimeout with no jobs', async () => {
    const started = Date.now();
    const jobs = await zeebe().activateJobs({
      type: uniqueId('nobody'),
      worker: 'w',
      maxJobsToActivate: 1,
      timeout: 1000,
      requestTimeout: 700,
    });
    expect(jobs).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(650);
  });

  it('an activated job is not handed out again until its timeout passes; then it is (controlled clock)', async () => {
    const { id, type } = await deployOneTask('one-task');
    await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    const first = await zeebe().activateJobs({
      type,
      worker: 'a',
      maxJobsToActivate: 1,
      timeout: 60_000,
      requestTimeout: 5_000,
    });
    expect(first).toHaveLength(1);
    const none = await zeebe().activateJobs({
      type,
      worker: 'b',
      maxJobsToActivate: 1,
      timeout: 60_000,
      requestTimeout: -1,
    });
    expect(none).toEqual([]);
    await clock.add(61_000);
    const again = await zeebe().activateJobs({
      type,
      worker: 'b',
      maxJobsToActivate: 1,
      timeout: 60_000,
      requestTimeout: 5_000,
    });
    expect(again.map((j) => j.key)).toEqual([first[0]!.key]);
    const { rows } = await engineDb().query(
      `SELECT count(*)::int AS n FROM zeebe_record WHERE value_type = 'JOB' AND intent = 'TIMED_OUT' AND record_key = $1`,
      [first[0]!.key],
    );
    expect(rows[0].n).toBe(1);
  });

  it('completing an unknown job answers NOT_FOUND naming the key', async () => {
    await expect(zeebe().completeJob({ jobKey: '2251799813999999', variables: {} })).rejects.toThrow(
      /NOT_FOUND.*2251799813999999|2251799813999999.*no such job/,
    );
  });

  it('a job completed twice: the second answers NOT_FOUND and nothing moves twice', async () => {
    const { id, type } = await deployOneTask('one-task');
    const created = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    const job = await nextJob(type);
    await zeebe().completeJob({ jobKey: job!.key, variables: {} });
    await expect(zeebe().completeJob({ jobKey: job!.key, variables: {} })).rejects.toThrow(/NOT_FOUND|no such job/);
    const { rows } = await engineDb().query(
      `SELECT count(*)::int AS n FROM engine_element_instance WHERE process_instance_key = $1 AND element_id = 'end'`,
      [created.processInstanceKey],
    );
    expect(rows[0].n).toBe(1);
  });

  it('failing with retries left offers the job again after the back-off; with none left it raises an incident that resolving (after new retries) clears', async () => {
    const { id, type } = await deployOneTask('one-task');
    const created = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    const job = await nextJob(type);
    await zeebe().failJob({ jobKey: job!.key, retries: 1, errorMessage: 'database busy', retryBackOff: 60_000 });
    expect(
      await zeebe().activateJobs({ type, worker: 'w', maxJobsToActivate: 1, timeout: 30_000, requestTimeout: -1 }),
    ).toEqual([]);
    await clock.add(61_000);
    const again = await nextJob(type);
    expect(again!.key).toBe(job!.key);
    expect(again!.retries).toBe(1);
    await zeebe().failJob({ jobKey: job!.key, retries: 0, errorMessage: '学籍库不可用', retryBackOff: 0 });
    const { rows } = await engineDb().query(
      `SELECT key::text, error_type, error_message, state FROM engine_incident WHERE process_instance_key = $1`,
      [created.processInstanceKey],
    );
    expect(rows).toEqual([
      expect.objectContaining({ error_type: 'JOB_NO_RETRIES', error_message: '学籍库不可用', state: 'ACTIVE' }),
    ]);
    expect(
      await zeebe().activateJobs({ type, worker: 'w', maxJobsToActivate: 1, timeout: 30_000, requestTimeout: -1 }),
    ).toEqual([]);
    await zeebe().updateJobRetries({ jobKey: job!.key, retries: 2 });
    await zeebe().resolveIncident({ incidentKey: rows[0].key });
    const revived = await nextJob(type);
    expect(revived!.key).toBe(job!.key);
    expect(revived!.retries).toBe(2);
    await zeebe().completeJob({ jobKey: job!.key, variables: {} });
    await eventually(async () => (await instanceState(created.processInstanceKey)) === 'COMPLETED', 5000);
  });

  it('custom headers and fetchVariable reach the worker', async () => {
    const { id, type } = await deployOneTask(
      'one-task',
      '<zeebe:taskHeaders><zeebe:header key="stage" value="TOWN" /></zeebe:taskHeaders>',
    );
    await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { a: 1, b: 2 } });
    const [job] = await zeebe().activateJobs({
      type,
      worker: 'w',
      maxJobsToActivate: 1,
      timeout: 30_000,
      requestTimeout: 5_000,
      fetchVariable: ['b'],
    });
    expect(job!.customHeaders).toEqual({ stage: 'TOWN' });
    expect(job!.variables).toEqual({ b: 2 });
  });

  it('createWorker (the SDK worker our workers use) works every job of 20 instances exactly once', async () => {
    const { id, type } = await deployOneTask('one-task');
    const seen: string[] = [];
    const worker = zeebe().createWorker({
      taskType: type,
      taskHandler: (job) => {
        seen.push(job.key);
        return job.complete({ done: true });
      },
      pollInterval: 50,
      timeout: 30_000,
    });
    try {
      const keys = await Promise.all(
        Array.from({ length: 20 }, () =>
          zeebe()
            .createProcessInstance({ bpmnProcessId: id, variables: {} })
            .then((c) => c.processInstanceKey),
        ),
      );
      await eventually(
        async () => {
          const { rows } = await engineDb().query(
            `SELECT count(*)::int AS n FROM engine_process_instance WHERE key = ANY($1::bigint[]) AND state = 'COMPLETED'`,
            [keys],
          );
          return rows[0].n === 20;
        },
        15_000,
        'all 20 completed',
      );
      expect(new Set(seen).size).toBe(20);
      expect(seen).toHaveLength(20);
    } finally {
      await worker.close();
    }
  });
});
