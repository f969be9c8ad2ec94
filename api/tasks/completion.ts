/**
 * Completing a user task: the caseworker's records and the engine's completion, once or not at all.
 *
 * The records commit only after the engine accepted the completion, so a refusal leaves nothing. That
 * leaves one window: the engine accepted, then the commit failed (the API process died, PostgreSQL went
 * away). The submission journal (`TaskSubmission`) closes it: the validated input is committed as
 * PENDING before the engine is asked, and marked DONE inside the transaction that records it — an
 * outbox: the committed intent is delivered until it took effect. A PENDING row whose attempt is over
 * (no transaction holds the task's advisory lock) is settled from the engine's view of the task (see
 * settle()), within seconds: the API settles every few seconds, and the caseworker's next look asks too.
 */
import type { FastifyInstance } from 'fastify';
import { Prisma as P } from '../../generated/prisma/client.js';
import type { EngineClient } from '../../infra/camunda/client.js';
import { engineHttpStatus, EngineUnavailableError } from '../../infra/camunda/client.js';
import type { EngineRecords, UserTask } from '../../infra/camunda/records.js';
import type { Prisma } from '../../infra/db/prisma.js';
import { holdInstanceForCompletion } from '../../infra/db/instance-lock.js';
import type { Actor } from '../auth/actor.js';
import { audit } from '../auth/audit.js';
import { toActor } from '../auth/sessions.js';
import { isDatabaseUnavailable } from '../../infra/db/errors.js';
import { AppError } from '../errors.js';
import { type TaskForm, taskForms } from './forms.js';

/** Long enough for the engine client's own retries before it reports the engine unavailable. */
export const COMPLETION_TX_TIMEOUT_MS = 20_000;
/**
 * A PENDING row younger than this is left to its own attempt, which commits the row and then opens the
 * transaction that takes the task's lock. Older rows are settled once no attempt holds that lock; a
 * settler that gets in first anyway delivers the same submission, and the attempt then finds it done.
 */
export const SETTLE_AFTER_MS = 2_000;

/** Another transaction holds the task's lock: an attempt is still in flight, settle later. */
class InFlight extends Error {}

export interface CompletionDeps {
  prisma: Prisma;
  engine: EngineClient;
  records: EngineRecords;
  /**
   * Test-only fault injection: called right after the engine accepted the completion, inside the
   * transaction; a throw there is what a crash or a lost database at that moment does.
   */
  afterEngineAccepted?: (task: UserTask) => void;
}

/** A checked submission: the task, its form and the parsed input, ready to complete. */
export interface Submission {
  task: UserTask;
  form: TaskForm;
  /** The body as sent (journalled, and parsed again by the recovery). */
  body: unknown;
  input: unknown;
}

/** What became of a task's last submission, as the console asks after an interrupted submit. */
export type SubmissionState = 'COMPLETED' | 'PENDING' | 'NOT_SUBMITTED';

/** A 404/409 from the engine: the task was completed or taken meanwhile (the read model lags). */
export function mapEngineRefusal(err: unknown): never {
  const status = engineHttpStatus(err);
  if (status === 404 || status === 409) throw new AppError('TASK_NOT_OPEN');
  throw err;
}

/** How a submission is written: by its own attempt (on submit) or by a settler (from the journal). */
interface Delivery {
  /** Added to the audit line (`delivered: 'journal'`, `recovered: true`). */
  details: Record<string, unknown>;
  /** The instances that called the task's, when the caller looked them up already. */
  callers?: string[];
  /** A settler: only tries the task's lock, and never takes a row delivered meanwhile for its own. */
  settling?: boolean;
}

/** The records of a submission, in `tx`: the form's changes and the audit line; returns the variables. */
async function record(
  deps: CompletionDeps,
  tx: P.TransactionClient,
  actor: Actor,
  { task, form, input }: Submission,
  ip: string | undefined,
  { details, callers }: Delivery,
) {
  // The next jobs of the instance, and of the instances that called it, wait for this commit
  // (infra/db/instance-lock.ts). Always the inner instance first, so two completions never deadlock.
  const instances = [
    task.processInstanceKey,
    ...(callers ?? (await deps.records.callerInstances(task.processInstanceKey))),
  ];
  for (const key of instances) {
    await holdInstanceForCompletion(tx, key);
  }
  const variables = await form.apply(tx, task, input, actor, {
    variables: () => deps.records.taskVariables(task),
  });
  await audit(tx, actor, {
    action: 'TASK_COMPLETE',
    entity: 'UserTask',
    entityId: task.userTaskKey,
    details: { elementId: task.elementId, processInstanceKey: task.processInstanceKey, ...details },
    ip,
  });
  await tx.taskSubmission.update({
    where: { userTaskKey: task.userTaskKey },
    data: { status: 'DONE', doneAt: new Date() },
  });
  return variables;
}

export async function completeTask(deps: CompletionDeps, actor: Actor, submission: Submission, ip: string) {
  const key = submission.task.userTaskKey;
  const callers = await deps.records.callerInstances(submission.task.processInstanceKey);
  await settleEarlierSteps(deps, submission.task, callers);
  await journal(deps, actor, submission, ip, callers);
  const attempt = { engineMayHaveIt: false };
  try {
    await deliver(deps, actor, submission, ip, { details: {}, callers }, attempt);
  } catch (err) {
    if (!attempt.engineMayHaveIt) {
      // Refused, or never sent: nothing happened anywhere; drop our journal row.
      await deps.prisma.taskSubmission
        .deleteMany({ where: { userTaskKey: key, status: 'PENDING', userId: actor.userId } })
        .catch(() => {});
      throw err;
    }
    // The engine may have the completion (no answer, or the commit failed after it accepted): the
    // journal row stays PENDING and the settling finishes it either way. Not "not submitted".
    throw new AppError('SUBMISSION_UNCERTAIN');
  }
}

/**
 * A step of a case acts on the records of the steps before it (the town countersigns what both schools
 * signed). An earlier step that the engine completed while its records are still only in the journal
 * (its commit was lost) is written now, before this one; while it cannot be yet, this submission is
 * refused for the moment (409 SUBMISSION_PENDING, try again shortly) instead of meeting a half-written
 * case. Open tasks of the instance (parallel branches) are not earlier steps and hold nothing up.
 */
async function settleEarlierSteps(deps: CompletionDeps, task: UserTask, callers: string[]) {
  const instances = [task.processInstanceKey, ...callers];
  const pending = await deps.prisma.taskSubmission.findMany({
    where: { status: 'PENDING', processInstanceKey: { in: instances }, userTaskKey: { not: task.userTaskKey } },
    select: { userTaskKey: true },
  });
  for (const { userTaskKey } of pending) {
    if ((await deps.records.userTask(userTaskKey))?.state !== 'COMPLETED') continue;
    // The engine completed it, so its attempt is past the journal's gap whatever the row's age.
    const state = await settle(deps, userTaskKey, new Date(Date.now() + SETTLE_AFTER_MS));
    if (state === 'PENDING') {
      throw new AppError('SUBMISSION_PENDING', { userTaskKey }, '该案件上一步的提交仍在确认中，请稍后再提交本步。');
    }
  }
}

/**
 * The completion transaction: the form's records, the audit line and the journal row DONE, committed
 * only after the engine accepted the completion. `attempt.engineMayHaveIt` turns true once the request
 * to the engine may have been sent and stays so unless the engine answered with a refusal or certainly
 * never got it.
 */
async function deliver(
  deps: CompletionDeps,
  actor: Actor,
  submission: Submission,
  ip: string | undefined,
  delivery: Delivery,
  attempt = { engineMayHaveIt: false },
) {
  const settling = delivery.settling ?? false;
  const key = submission.task.userTaskKey;
  await deps.prisma.$transaction(
    async (tx) => {
      // Two submissions of one task queue here; the second then finds the first one's row DONE.
      await lockTask(tx, key, settling);
      const row = await tx.taskSubmission.findUnique({ where: { userTaskKey: key } });
      // A settler delivered this very submission between its journal row and this lock: done.
      if (!settling && row?.status === 'DONE' && row.userId === actor.userId) return;
      if (row?.status !== 'PENDING' || row.userId !== actor.userId) throw new AppError('TASK_NOT_OPEN');
      const variables = await record(deps, tx, actor, submission, ip, delivery);
      attempt.engineMayHaveIt = true;
      await deps.engine.completeUserTask(key, variables).catch((err: unknown) => {
        const refused = engineHttpStatus(err) !== undefined;
        if (refused || (err instanceof EngineUnavailableError && err.notSent)) attempt.engineMayHaveIt = false;
        return mapEngineRefusal(err);
      });
      deps.afterEngineAccepted?.(submission.task);
    },
    { timeout: COMPLETION_TX_TIMEOUT_MS },
  );
}

/**
 * The task's advisory lock, held until the transaction ends. A settler only tries it: held means an
 * attempt is in flight (InFlight). A process that died mid-attempt lost its connection, and with it
 * the lock.
 */
async function lockTask(tx: P.TransactionClient, userTaskKey: string, settling: boolean) {
  if (!settling) {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${BigInt(userTaskKey)})`;
    return;
  }
  const [got] = await tx.$queryRaw<{ locked: boolean }[]>`
    SELECT pg_try_advisory_xact_lock(${BigInt(userTaskKey)}) AS locked`;
  if (!got?.locked) throw new InFlight();
}

/**
 * Commits the PENDING journal row of this submission, settling an old one first. The row names the
 * calling instances too: their jobs wait for it as well (infra/db/instance-lock.ts).
 */
async function journal(
  deps: CompletionDeps,
  actor: Actor,
  { task, body }: Submission,
  ip: string,
  callerInstanceKeys: string[],
) {
  const key = task.userTaskKey;
  const existing = await deps.prisma.taskSubmission.findUnique({ where: { userTaskKey: key } });
  if (existing?.status === 'DONE') throw new AppError('TASK_NOT_OPEN');
  if (existing) {
    const state = await settle(deps, key);
    if (state === 'COMPLETED') throw new AppError('TASK_NOT_OPEN');
    if (state === 'PENDING') throw new AppError('SUBMISSION_PENDING');
  }
  try {
    await deps.prisma.taskSubmission.create({
      data: {
        userTaskKey: key,
        elementId: task.elementId,
        processInstanceKey: task.processInstanceKey,
        callerInstanceKeys,
        userId: actor.userId,
        input: body as P.InputJsonValue,
        ip,
      },
    });
  } catch (err) {
    // Someone else's submission of the same task got its row in first.
    if ((err as { code?: unknown }).code === 'P2002') throw new AppError('SUBMISSION_PENDING');
    throw err;
  }
}

/**
 * Settles the journal row of a task. The row is the caseworker's committed intent, so it is delivered,
 * never dropped on a guess (and left alone while an attempt still holds the task's lock):
 * - the engine shows the task COMPLETED → the records are written now from the journal (recovered);
 * - CANCELED (a deadline or the child's return closed it) → the submission cannot take effect: dropped;
 * - still open → the submission is delivered now, records and engine together, as the caseworker sent it;
 * - closed but not yet visible in the read model, or the engine unreachable → PENDING, asked again later.
 * Returns COMPLETED, PENDING, or NOT_SUBMITTED (no row, or dropped).
 */
export async function settle(deps: CompletionDeps, userTaskKey: string, now = new Date()): Promise<SubmissionState> {
  const row = await deps.prisma.taskSubmission.findUnique({ where: { userTaskKey } });
  if (!row) return 'NOT_SUBMITTED';
  if (row.status === 'DONE') return 'COMPLETED';
  if (now.getTime() - row.createdAt.getTime() < SETTLE_AFTER_MS) return 'PENDING';
  const task = await deps.records.userTask(userTaskKey);
  if (!task) return 'PENDING'; // not exported yet
  if (task.state === 'CANCELED') {
    await deps.prisma.taskSubmission.deleteMany({ where: { userTaskKey, status: 'PENDING' } });
    return 'NOT_SUBMITTED';
  }
  const form = taskForms[task.elementId];
  if (!form) throw new Error(`No form for ${task.elementId}: cannot settle task ${userTaskKey}`);
  const actor = toActor(await deps.prisma.user.findUniqueOrThrow({ where: { id: row.userId } }));
  // The journal holds the body as sent, which passed the form's schema then.
  const submission = { task, form, body: row.input, input: form.schema.parse(row.input) };
  const ip = row.ip ?? undefined;
  try {
    if (task.state === 'COMPLETED') await recover(deps, actor, submission, ip);
    else await deliver(deps, actor, submission, ip, { details: { delivered: 'journal' }, settling: true });
    return 'COMPLETED';
  } catch (err) {
    // In flight, closed meanwhile (the read model will show how), or the engine is away: ask again later.
    if (err instanceof InFlight) return 'PENDING';
    if (err instanceof AppError && err.code === 'TASK_NOT_OPEN') return 'PENDING';
    if (err instanceof EngineUnavailableError) return 'PENDING';
    throw err;
  }
}

/** The engine completed the task but its records were lost: write them now from the journal. */
async function recover(deps: CompletionDeps, actor: Actor, submission: Submission, ip: string | undefined) {
  const key = submission.task.userTaskKey;
  await deps.prisma.$transaction(
    async (tx) => {
      await lockTask(tx, key, true);
      const again = await tx.taskSubmission.findUnique({ where: { userTaskKey: key } });
      if (again?.status !== 'PENDING') return; // another settler got here first
      await record(deps, tx, actor, submission, ip, { details: { recovered: true } });
    },
    { timeout: COMPLETION_TX_TIMEOUT_MS },
  );
}

/** Settles every PENDING row old enough (at start and periodically); returns how each ended. */
export async function settleAll(
  deps: CompletionDeps,
  now = new Date(),
): Promise<{ counts: Record<SubmissionState, number>; failed: { userTaskKey: string; error: string }[] }> {
  const rows = await deps.prisma.taskSubmission.findMany({
    where: { status: 'PENDING', createdAt: { lt: new Date(now.getTime() - SETTLE_AFTER_MS) } },
    select: { userTaskKey: true },
    orderBy: { createdAt: 'asc' },
    take: 500,
  });
  const counts: Record<SubmissionState, number> = { COMPLETED: 0, PENDING: 0, NOT_SUBMITTED: 0 };
  const failed: { userTaskKey: string; error: string }[] = [];
  for (const { userTaskKey } of rows) {
    try {
      counts[await settle(deps, userTaskKey, now)]++;
    } catch (err) {
      // The database is away: the round ends here and is retried. Anything else stays this row's
      // problem (a person must look at it), and the rows behind it are settled all the same.
      if (isDatabaseUnavailable(err)) throw err;
      failed.push({ userTaskKey, error: (err as Error).message });
    }
  }
  return { counts, failed };
}

/** Settles old PENDING rows every `everyMs` while `app` runs (first at ready); a failed round is retried. */
export function settlePeriodically(app: FastifyInstance, deps: CompletionDeps, everyMs: number): void {
  let timer: NodeJS.Timeout | undefined;
  const run = async () => {
    try {
      const { counts, failed } = await settleAll(deps);
      if (counts.COMPLETED || counts.NOT_SUBMITTED)
        app.log.warn({ settled: counts }, 'settled interrupted task submissions');
      for (const f of failed) app.log.error(f, 'a task submission cannot be settled; it waits in the journal');
    } catch (err) {
      app.log.warn({ err: (err as Error).message }, 'settling task submissions failed; retrying later');
    }
    timer = setTimeout(run, everyMs).unref();
  };
  app.addHook('onReady', async () => void run());
  app.addHook('onClose', async () => clearTimeout(timer));
}
