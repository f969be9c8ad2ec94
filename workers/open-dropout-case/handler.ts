import { chinaYear } from '../../api/domain/china-time.js';
import type { z } from 'zod';
import type { JobContext } from '../lib/define-worker.js';
import type { openDropoutCaseInput, openDropoutCaseOutput } from './schema.js';

/**
 * 辍-<year>-<serial, six digits>: the number printed on the case file and its documents. The year is
 * Beijing time's, whatever the server's zone: a case opened at 07:00 on 1 January belongs to the new year.
 */
export function formatCaseNumber(serial: number, openedAt: Date): string {
  return `辍-${chinaYear(openedAt)}-${String(serial).padStart(6, '0')}`;
}

/**
 * Opens the 一人一案 for the reported child. Keyed by the process instance, so a redelivered job
 * finds the case it already opened instead of opening a second one.
 */
export async function openDropoutCase(
  input: z.infer<typeof openDropoutCaseInput>,
  ctx: JobContext,
): Promise<z.infer<typeof openDropoutCaseOutput>> {
  const c = await ctx.prisma.$transaction(async (tx) => {
    const existing = await tx.dropoutCase.findUnique({ where: { processInstanceKey: ctx.processInstanceKey } });
    if (existing) return existing;
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
        note: `${input.reporterName} 报告疑似辍学${input.lastAttendance ? `（最后到校 ${input.lastAttendance}）` : ''}，开立一人一案`,
        idempotencyKey: `job:${ctx.jobKey}`,
      },
    });
    return created;
  });
  return { caseId: c.id, caseNumber: formatCaseNumber(c.serial, c.openedAt) };
}
