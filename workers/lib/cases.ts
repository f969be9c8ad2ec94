/**
 * What the escalation workers share: finding the 一人一案 of the instance (actions are appended with
 * api/domain/case-actions.ts, keyed by the job).
 */
import type { Tx } from '../../infra/db/prisma.js';

export { addCaseAction } from '../../api/domain/case-actions.js';

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

/** Name of a region (town, county) by code, for printed documents. */
export async function regionName(tx: Tx, code: string): Promise<string> {
  const r = await tx.region.findUnique({ where: { code }, select: { name: true } });
  return r?.name ?? code;
}
