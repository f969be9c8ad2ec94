import { chinaYear } from '../../api/domain/china-time.js';
import { OPEN_CASE_STATUSES } from '../../api/domain/case-status.js';
import type { z } from 'zod';
import { BpmnError, type JobContext } from '../lib/define-worker.js';
import type { openDropoutCaseInput, openDropoutCaseOutput } from './schema.js';

/**
 * 辍-<year>-<serial, six digits>: the number printed on the case file and its documents. The year is
 * Beijing time's, whatever the server's zone: a case opened at 07:00 on 1 January belongs to the new year.
 */
export function formatCaseNumber(serial: number, openedAt: Date): string {
  return `辍-${chinaYear(openedAt)}-${String(serial).padStart(6, '0')}`;
}

/** Advisory-lock key space of "opening a case for this child" (two-int keys never meet the one-bigint ones). */
export const CHILD_CASE_LOCK = 7301;

/** The BPMN error when the child already has an open case: this report joins it (the diagram ends here). */
export const CASE_ALREADY_OPEN = 'CASE_ALREADY_OPEN';

/**
 * Opens the 一人一案 for the reported child. Keyed by the process instance, so a redelivered job
 * finds the case it already opened instead of opening a second one.
 *
 * One open case per child, whoever reports and however simultaneously: the API refuses a report of a
 * child with an open case (409), but two reports at the same moment — or a teacher's report and the
 * verification flow's referral of the same child — can each start an instance before either case
 * exists. Case openings of one child queue on an advisory lock, and a later one finds the open case:
 * it notes the report in that case and raises CASE_ALREADY_OPEN, which ends its instance.
 */
export async function openDropoutCase(
  input: z.infer<typeof openDropoutCaseInput>,
  ctx: JobContext,
): Promise<z.infer<typeof openDropoutCaseOutput>> {
  const note = `${input.reporterName} 报告疑似辍学${input.lastAttendance ? `（最后到校 ${input.lastAttendance}）` : ''}`;
  const { opened, joined } = await ctx.prisma.$transaction(async (tx) => {
    const existing = await tx.dropoutCase.findUnique({ where: { processInstanceKey: ctx.processInstanceKey } });
    if (existing) return { opened: existing };
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${CHILD_CASE_LOCK}::int4, hashtext(${input.childId}))`;
    const open = await tx.dropoutCase.findFirst({
      where: { childId: input.childId, status: { in: [...OPEN_CASE_STATUSES] } },
    });
    if (open) {
      await tx.caseAction.createMany({
        data: {
          caseId: open.id,
          kind: 'REPORT_JOINED',
          actor: 'system',
          note: `${note}；该儿童已有在办案件，并入本案办理`,
          idempotencyKey: `job:${ctx.jobKey}`,
        },
        skipDuplicates: true,
      });
      return { joined: open };
    }
    const created = await tx.dropoutCase.create({
      data: {
        childId: input.childId,
        schoolId: input.schoolId,
        classId: input.classId,
        regionCode: input.townCode,
        reportedBy: input.reportedBy,
        lastAttendance: input.lastAttendance ? new Date(`${input.lastAttendance}T00:00:00Z`) : null,
        reason: input.reason ?? null,
        processInstanceKey: ctx.processInstanceKey,
      },
    });
    await tx.caseAction.create({
      data: {
        caseId: created.id,
        kind: 'CASE_OPENED',
        actor: 'system',
        note: `${note}，开立一人一案`,
        idempotencyKey: `job:${ctx.jobKey}`,
      },
    });
    return { opened: created };
  });
  if (joined) {
    const caseNumber = formatCaseNumber(joined.serial, joined.openedAt);
    throw new BpmnError(CASE_ALREADY_OPEN, `该儿童已有在办案件 ${caseNumber}，本次报告并入该案`, {
      caseId: joined.id,
      caseNumber,
    });
  }
  return { caseId: opened.id, caseNumber: formatCaseNumber(opened.serial, opened.openedAt) };
}
