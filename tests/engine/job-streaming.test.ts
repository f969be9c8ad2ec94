/**
 * Engine-backed: job push (StreamActivatedJobs) through @camunda8/sdk's streamJobs against the real engine
 * process and PostgreSQL. Semantics: https://docs.camunda.io/docs/components/concepts/job-workers/#job-streaming
 * — while a stream of a job type is open, a job of that type is activated and pushed to it as soon as it is
 * created (no poll); several streams of one type share the jobs, each job going to one of them; without a
 * stream, jobs wait for ActivateJobs as before.
 *
 * Our engine activates a pushed job in the very command that created it (its last message, before COMMIT):
 * the job's CREATED and ACTIVATED records are then rows of one transaction (one `xmin`).
 */
import { describe, expect, it } from 'vitest';
import { bpmn, chain, deploy, engineDb, eventually, instanceState, serviceTask, uniqueId, zeebe } from './helpers.js';

interface Pushed {
  key: string;
  processInstanceKey: string;
  worker: string;
  variables: Record<string, unknown>;
  customHeaders: Record<string, unknown>;
}

async function mappedTaskProcess() {
  const id = uniqueId('pushed');
  const type = `${id}-work`;
  await deploy(
    `${id}.bpmn`,
    bpmn(
      id,
      `<bpmn:startEvent id="start" />${serviceTask(
        'work',
        type,
        `<zeebe:ioMapping><zeebe:input source="=a + 1" target="b" /></zeebe:ioMapping>
         <zeebe:taskHeaders><zeebe:header key="stage" value="TOWN" /></zeebe:taskHeaders>`,
      )}<bpmn:endEvent id="end" />${chain(['start', 'work', 'end'])}`,
    ),
  );
  return { id, type };
}

/** A stream whose handler records each job and completes it; the sidecar poll is pushed out of the test's way. */
async function openStream(type: string, worker: string, seen: Pushed[], fetchVariables?: string[]) {
  return zeebe().streamJobs({
    type,
    worker,
    timeout: 30_000,
    pollInterval: 600_000,
    tenantIds: [],
    fetchVariables,
    taskHandler: (job: {
      key: string;
      processInstanceKey: string;
      worker: string;
      variables: Record<string, unknown>;
      customHeaders: Record<string, unknown>;
      complete: (variables: Record<string, unknown>) => Promise<unknown>;
    }) => {
      seen.push({
        key: job.key,
        processInstanceKey: job.processInstanceKey,
        worker: job.worker,
        variables: { ...job.variables },
        customHeaders: { ...job.customHeaders },
      });
      return job.complete({ done: true });
    },
  } as never) as unknown as Promise<{ close: () => Promise<void> | void }>;
}

/** Waits until the stream is registered with the engine: a probe instance's job reaches it. */
async function streamReady(id: string, seen: Pushed[]) {
  const { processInstanceKey } = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { a: 0 } });
  await eventually(async () => seen.some((j) => j.processInstanceKey === processInstanceKey), 15_000, 'probe pushed');
}

/** The transaction ids of a job's CREATED and ACTIVATED records. */
async function recordTransactions(jobKey: string) {
  const { rows } = await engineDb().query<{ intent: string; xid: string; worker: string | null }>(
    `SELECT intent, xmin::text AS xid, value->>'worker' AS worker FROM zeebe_record
      WHERE value_type = 'JOB' AND record_key = $1 AND intent IN ('CREATED', 'ACTIVATED') ORDER BY position`,
    [jobKey],
  );
  return rows;
}

describe('job streaming (job push)', () => {
  it('a job created while a stream of its type is open is activated in the creating command and pushed with its variables and headers', async () => {
    const { id, type } = await mappedTaskProcess();
    const seen: Pushed[] = [];
    const stream = await openStream(type, 'stream-a', seen);
    try {
      await streamReady(id, seen);
      const { processInstanceKey } = await zeebe().createProcessInstance({
        bpmnProcessId: id,
        variables: { a: 1, name: '张三' },
      });
      const job = await eventually(
        async () => seen.find((j) => j.processInstanceKey === processInstanceKey),
        15_000,
        'job pushed',
      );
      // The input mapping ran in the same command as the job's creation: its variable is there.
      expect(job.variables).toEqual({ a: 1, name: '张三', b: 2 });
      expect(job.customHeaders).toEqual({ stage: 'TOWN' });
      expect(job.worker).toBe('stream-a');
      const records = await recordTransactions(job.key);
      expect(records.map((r) => r.intent)).toEqual(['CREATED', 'ACTIVATED']);
      expect(records[1]!.worker).toBe('stream-a');
      expect(records[1]!.xid).toBe(records[0]!.xid); // one transaction: no activation of its own
      await eventually(async () => (await instanceState(processInstanceKey)) === 'COMPLETED', 10_000, 'completed');
    } finally {
      await stream.close();
    }
  });

  it('a stream with fetchVariables gets only those variables', async () => {
    const { id, type } = await mappedTaskProcess();
    const seen: Pushed[] = [];
    const stream = await openStream(type, 'stream-f', seen, ['b']);
    try {
      await streamReady(id, seen);
      const { processInstanceKey } = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { a: 41 } });
      const job = await eventually(
        async () => seen.find((j) => j.processInstanceKey === processInstanceKey),
        15_000,
        'job pushed',
      );
      expect(job.variables).toEqual({ b: 42 });
    } finally {
      await stream.close();
    }
  });

  it('two streams of one type: every job goes to exactly one of them, both get jobs, all instances complete', async () => {
    const { id, type } = await mappedTaskProcess();
    const a: Pushed[] = [];
    const b: Pushed[] = [];
    const streamA = await openStream(type, 'stream-1', a);
    const streamB = await openStream(type, 'stream-2', b);
    try {
      // Both streams registered: probes until each has had one (a job before that went to the other).
      for (let probe = 0; probe < 20 && (a.length === 0 || b.length === 0); probe++) {
        const { processInstanceKey } = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { a: 0 } });
        await eventually(
          async () => [...a, ...b].some((j) => j.processInstanceKey === processInstanceKey),
          15_000,
          'probe pushed',
        );
      }
      const before = new Set([...a, ...b].map((j) => j.key));
      const keys: string[] = [];
      for (let i = 0; i < 10; i++) {
        keys.push((await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { a: i } })).processInstanceKey);
      }
      await eventually(
        async () => {
          const { rows } = await engineDb().query(
            `SELECT count(*)::int AS n FROM engine_process_instance WHERE key = ANY($1::bigint[]) AND state = 'COMPLETED'`,
            [keys],
          );
          return rows[0].n === 10;
        },
        15_000,
        'all 10 completed',
      );
      const ofA = a.filter((j) => keys.includes(j.processInstanceKey)).map((j) => j.key);
      const ofB = b.filter((j) => keys.includes(j.processInstanceKey)).map((j) => j.key);
      expect(ofA.length + ofB.length).toBe(10);
      expect(new Set([...ofA, ...ofB]).size).toBe(10);
      expect(ofA.filter((k) => ofB.includes(k) || before.has(k))).toEqual([]);
      expect(ofA.length).toBeGreaterThan(0);
      expect(ofB.length).toBeGreaterThan(0);
    } finally {
      await streamA.close();
      await streamB.close();
    }
  });

  it('after the stream closes, new jobs wait for ActivateJobs, which activates them in a transaction of its own', async () => {
    const { id, type } = await mappedTaskProcess();
    const seen: Pushed[] = [];
    const stream = await openStream(type, 'stream-c', seen);
    await streamReady(id, seen);
    await stream.close();
    // The engine hears of the closed stream when the SDK cancels the call.
    await new Promise((r) => setTimeout(r, 500));
    const { processInstanceKey } = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { a: 1 } });
    const jobs = await zeebe().activateJobs({
      type,
      worker: 'poller',
      maxJobsToActivate: 5,
      timeout: 30_000,
      requestTimeout: 5_000,
    });
    expect(jobs.map((j) => j.processInstanceKey)).toEqual([processInstanceKey]);
    expect(seen.some((j) => j.processInstanceKey === processInstanceKey)).toBe(false);
    const records = await recordTransactions(jobs[0]!.key);
    expect(records.map((r) => [r.intent, r.worker])).toEqual([
      ['CREATED', ''],
      ['ACTIVATED', 'poller'],
    ]);
    expect(records[1]!.xid).not.toBe(records[0]!.xid);
    await zeebe().completeJob({ jobKey: jobs[0]!.key, variables: {} });
  });
});
