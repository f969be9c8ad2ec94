/**
 * A task completion writes its domain change in a transaction that commits only after the engine
 * accepted the completion — so the engine is already running the next step (a job) while the change is
 * still uncommitted. A worker reading what the form wrote (the roster marked arrived, the case's plan)
 * could see the state before it. The completion therefore holds an exclusive advisory lock on its
 * process instance until it commits, and a worker of that instance waits for a shared lock on it before
 * its handler runs: it starts from the committed change. A completion in a called instance (one child's
 * verification) also holds its callers' instances, whose next job (closing the round) reads it. Engine keys
 * are unique across kinds, so an instance key does not collide with the per-task lock.
 */
import type { Prisma, Tx } from './prisma.js';

/** Inside the completion's transaction: the instance's workers wait until this transaction ends. */
export async function holdInstanceForCompletion(tx: Tx, processInstanceKey: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${BigInt(processInstanceKey)})`;
}

/** Before a job's handler: returns once no completion of the instance is in flight (at once, usually). */
export async function awaitInstanceCompletions(prisma: Prisma, processInstanceKey: string): Promise<void> {
  // Take and give back the shared lock in one statement on one connection: one round trip instead of
  // a transaction's three (BEGIN, lock, COMMIT) on every job.
  const key = BigInt(processInstanceKey);
  await prisma.$executeRaw`SELECT pg_advisory_lock_shared(${key}), pg_advisory_unlock_shared(${key})`;
}

/**
 * After awaitInstanceCompletions: does a submission of the instance, or of an instance it called, wait
 * in the task submission journal (api/tasks/completion.ts)? Then a step the engine may already have
 * passed has its records still only in the journal — its commit was lost — and a job reading them now
 * would act on a half-written case (a school report without the school's measures, a round closed
 * without a child's outcome). The API settles it within seconds. A separate statement from the lock's:
 * a statement's snapshot is taken before its lock wait.
 */
export async function hasUnsettledSubmission(prisma: Prisma, processInstanceKey: string): Promise<boolean> {
  const rows = await prisma.$queryRaw<unknown[]>`
    SELECT 1 FROM "TaskSubmission"
     WHERE status = 'PENDING'
       AND ("processInstanceKey" = ${processInstanceKey} OR ${processInstanceKey} = ANY ("callerInstanceKeys"))
     LIMIT 1`;
  return rows.length > 0;
}
