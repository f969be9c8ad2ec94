/**
 * Appending to a case file (一人一案): actions are append-only and keyed by what produced them — a job
 * key for a worker, a user-task key for a caseworker's form — so a redelivered job or a retried
 * submission writes nothing twice.
 */
import type { Tx } from '../../infra/db/prisma.js';

export interface NewAction {
  caseId: string;
  kind: string;
  note: string;
  idempotencyKey: string;
  outcome?: string;
  /** Who acted; workers act as "system". */
  actor?: { displayName: string; userId: number };
}

/** Appends the action unless its key was already used (returns false then). */
export async function addCaseAction(tx: Tx, a: NewAction): Promise<boolean> {
  if (await tx.caseAction.findUnique({ where: { idempotencyKey: a.idempotencyKey } })) return false;
  await tx.caseAction.create({
    data: {
      caseId: a.caseId,
      kind: a.kind,
      actor: a.actor?.displayName ?? 'system',
      actorUserId: a.actor?.userId ?? null,
      note: a.note,
      outcome: a.outcome ?? null,
      idempotencyKey: a.idempotencyKey,
    },
  });
  return true;
}
