/**
 * Runs every registered worker against the engine. Each job ends in exactly one acknowledgement:
 * complete (output validated), a BPMN error the diagram handles, or a failure — with retries and
 * back-off for a transient fault, with no retries (an incident for a person to look at) when the
 * job's variables or the handler's output break their schema. A database outage is nobody's mistake in
 * the job: it is offered again without spending a retry, however long PostgreSQL is away, so an
 * outage never turns running flows into incidents. So is a job whose instance has a submission still
 * waiting in the journal: it starts once that step's records are written.
 */
import type { ZeebeGrpcClient } from '@camunda8/sdk/dist/zeebe/index.js';
import {
  type IOutputVariables,
  JOB_ACTION_ACKNOWLEDGEMENT,
  type JSONDoc,
} from '@camunda8/sdk/dist/zeebe/lib/interfaces-1.0.js';
import type { Logger } from 'pino';
import { z } from 'zod';
import { isDatabaseUnavailable } from '../infra/db/errors.js';
import { awaitInstanceCompletions, hasUnsettledSubmission } from '../infra/db/instance-lock.js';
import type { Prisma } from '../infra/db/prisma.js';
import { BpmnError, type JobContext, type WorkerDefinition } from './lib/define-worker.js';
import { workers as registered } from './registry.js';

/** Wait before a failed job is offered again. */
const RETRY_BACKOFF_MS = 5_000;
/** How long a job stays locked to this worker before the engine offers it to another. */
const JOB_TIMEOUT_MS = 60_000;
/** Jobs in flight per job type: the in-flight limit that keeps a slow database from being flooded. */
const MAX_JOBS_IN_FLIGHT = 32;
/**
 * The SDK long-polls, and starts the next activation only on its poll timer (300 ms by default): one
 * process then completes at most MAX_JOBS_IN_FLIGHT per 300 ms per job type (issue 7's benchmark: 52
 * jobs/s, 19 % of the streaming ceiling). While a long poll is open the timer does nothing, so a
 * short interval costs nothing when idle.
 */
const POLL_INTERVAL_MS = 50;
/** How long shutdown waits for in-flight jobs to finish. */
const DRAIN_TIMEOUT_MS = 10_000;

/** gRPC status 14: the engine did not answer (down, restarting, unreachable). */
function isEngineUnreachable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e.code === 14 || (typeof e.message === 'string' && /\b14 UNAVAILABLE\b/.test(e.message));
}

/**
 * An acknowledgement the engine never received (it was down or restarting) is left at that: the engine
 * offers the job again when its timeout passes (at least once). Letting the rejection escape made the
 * SDK fail the job with one retry fewer — an engine outage spending retries (the two-engine fault test
 * saw it), as a database outage once did.
 */
async function acknowledged(jobLog: Logger, ack: Promise<typeof JOB_ACTION_ACKNOWLEDGEMENT>) {
  try {
    return await ack;
  } catch (err) {
    if (!isEngineUnreachable(err)) throw err;
    jobLog.warn(
      { err: (err as Error).message },
      'engine unreachable for the acknowledgement; it offers the job again after its timeout',
    );
    return JOB_ACTION_ACKNOWLEDGEMENT;
  }
}

/** gRPC status 6: the engine already holds a message with this id. */
function isAlreadyExists(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e.code === 6 || (typeof e.message === 'string' && e.message.includes('ALREADY_EXISTS'));
}

/**
 * How workers publish: idempotent by message id, so a redelivered job that publishes again is not a
 * failure (the engine keeps the first message while it lives).
 */
export function messagePublisher(grpc: ZeebeGrpcClient): JobContext['publishMessage'] {
  return async (m) => {
    try {
      await grpc.publishMessage({
        name: m.name,
        correlationKey: m.correlationKey,
        messageId: m.messageId,
        variables: m.variables as Parameters<typeof grpc.publishMessage>[0]['variables'],
        timeToLive: m.timeToLiveMs ?? 3_600_000,
      });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  };
}

function explain(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

export interface RunningWorkers {
  types: string[];
  close: () => Promise<void>;
}

export function startWorkers(
  grpc: ZeebeGrpcClient,
  prisma: Prisma,
  log: Logger,
  definitions: WorkerDefinition[] = registered,
): RunningWorkers {
  const publishMessage = messagePublisher(grpc);
  const running = definitions.map((def) =>
    grpc.createWorker({
      taskType: def.type,
      maxJobsToActivate: MAX_JOBS_IN_FLIGHT,
      pollInterval: POLL_INTERVAL_MS,
      timeout: JOB_TIMEOUT_MS,
      loglevel: 'ERROR',
      taskHandler: async (job) => {
        const jobLog = log.child({ jobType: def.type, jobKey: job.key, processInstanceKey: job.processInstanceKey });
        const input = def.input.safeParse(job.variables);
        if (!input.success) {
          jobLog.warn({ issues: input.error.issues.length }, 'job variables do not match the worker schema');
          return acknowledged(
            jobLog,
            job.fail({ errorMessage: `Invalid job variables: ${explain(input.error)}`, retries: 0 }),
          );
        }
        try {
          // A task completion of this instance may not have committed yet: start from its committed state.
          await awaitInstanceCompletions(prisma, job.processInstanceKey);
          if (await hasUnsettledSubmission(prisma, job.processInstanceKey)) {
            jobLog.info('a submission of this instance is still being settled; job offered again, retry kept');
            return acknowledged(
              jobLog,
              job.fail({
                errorMessage: 'Waiting for a submission of this instance to be settled from the journal',
                retries: job.retries,
                retryBackOff: RETRY_BACKOFF_MS,
              }),
            );
          }
          const result = await def.handler(input.data, {
            jobKey: job.key,
            processInstanceKey: job.processInstanceKey,
            bpmnProcessId: job.bpmnProcessId,
            elementId: job.elementId,
            retries: job.retries,
            prisma,
            publishMessage,
          });
          const output = def.output.safeParse(result);
          if (!output.success) {
            jobLog.error({ issues: output.error.issues.length }, 'worker output does not match its schema');
            return acknowledged(
              jobLog,
              job.fail({ errorMessage: `Invalid worker output: ${explain(output.error)}`, retries: 0 }),
            );
          }
          return acknowledged(jobLog, job.complete(output.data as IOutputVariables));
        } catch (err) {
          if (err instanceof BpmnError) {
            jobLog.info({ errorCode: err.code }, 'business error raised to the diagram');
            return acknowledged(
              jobLog,
              job.error({ errorCode: err.code, errorMessage: err.message, variables: err.variables as JSONDoc }),
            );
          }
          const message = err instanceof Error ? err.message : String(err);
          if (isDatabaseUnavailable(err)) {
            jobLog.warn(
              { err: message, retriesLeft: job.retries },
              'database unavailable; job offered again, retry kept',
            );
            return acknowledged(
              jobLog,
              job.fail({ errorMessage: message, retries: job.retries, retryBackOff: RETRY_BACKOFF_MS }),
            );
          }
          jobLog.error({ err: message, retriesLeft: job.retries - 1 }, 'job failed');
          return acknowledged(
            jobLog,
            job.fail({ errorMessage: message, retries: job.retries - 1, retryBackOff: RETRY_BACKOFF_MS }),
          );
        }
      },
    }),
  );
  return {
    types: definitions.map((d) => d.type),
    close: async () => {
      await Promise.all(running.map((w) => w.close(DRAIN_TIMEOUT_MS)));
    },
  };
}
