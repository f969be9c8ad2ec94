/**
 * What the escalation workers share: finding the 一人一案 of the instance and appending an action
 * exactly once per job (the job key is the idempotency key).
 */
import type { Tx } from '../../infra/db/prisma.js';

/** The case of the escalation instance, with what documents print about the child and school. */
export async function caseOfInstance(tx: Tx, processInstanceKey: string) {
  const c = await tx.dropoutCase.findUnique({
    where: { processInstanceKey },
    include: {
      child: { include: { guardians: { orderBy: { id: 'asc' } } } },
      school: true,
      actions: { orderBy: { createdAt: 'asc' } },
    },
  });
  // A retry will not help: the instance lost its case (deleted by hand?) — an incident for a person.
  if (!c) throw new Error(`流程实例 ${processInstanceKey} 没有对应的一人一案：请核对案件数据后重试该作业`);
  return c;
}

export interface NewAction {
  caseId: string;
  kind: string;
  note: string;
  idempotencyKey: string;
  outcome?: string;
}

/** Appends the action unless this job already did (returns false then). */
export async function addCaseAction(tx: Tx, a: NewAction): Promise<boolean> {
  if (await tx.caseAction.findUnique({ where: { idempotencyKey: a.idempotencyKey } })) return false;
  await tx.caseAction.create({
    data: {
      caseId: a.caseId,
      kind: a.kind,
      actor: 'system',
      note: a.note,
      outcome: a.outcome ?? null,
      idempotencyKey: a.idempotencyKey,
    },
  });
  return true;
}

/** Name of a region (town, county) by code, for printed documents. */
export async function regionName(tx: Tx, code: string): Promise<string> {
  const r = await tx.region.findUnique({ where: { code }, select: { name: true } });
  return r?.name ?? code;
}
