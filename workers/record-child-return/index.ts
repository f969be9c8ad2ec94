import { z } from 'zod';
import { chinaDay } from '../../api/domain/china-time.js';
import { addCaseAction, caseOfInstance } from '../lib/cases.js';
import { defineWorker } from '../lib/define-worker.js';
import { gradeByAge } from '../lib/verification.js';

/**
 * The child is back: the case is marked 复学 and the child's latest registry record, if it shows the
 * dropout (or a suspension), is restored with a dated RESUME change — the school re-registers the child.
 * A child referred by the enrollment verification gets the register of the campaign's year it lacked.
 */
export default defineWorker({
  type: 'record-child-return',
  description: '登记复学并恢复学籍 — [T] 二(五) 复学学生重新注册',
  input: z.object({ returnedOn: z.iso.date().optional() }),
  output: z.object({ exitOutcome: z.literal('RETURNED') }),
  async handler(input, ctx) {
    await ctx.prisma.$transaction(async (tx) => {
      const c = await caseOfInstance(tx, ctx.processInstanceKey);
      const day = input.returnedOn ?? chinaDay(new Date());
      const recorded = await addCaseAction(tx, {
        caseId: c.id,
        kind: 'CHILD_RETURNED',
        note: `${c.child.name}于${day}复学`,
        outcome: 'RETURNED',
        idempotencyKey: `job:${ctx.jobKey}`,
      });
      if (!recorded) return;
      await tx.dropoutCase.update({ where: { id: c.id }, data: { status: 'RETURNED', outcome: 'RETURNED' } });
      const record = await tx.registryRecord.findFirst({
        where: { childId: c.childId },
        orderBy: { schoolYear: 'desc' },
      });
      if (record && (record.status === 'DROPPED_OUT' || record.status === 'SUSPENDED')) {
        await tx.registryRecord.update({ where: { id: record.id }, data: { status: 'ENROLLED' } });
        await tx.registryChange.create({
          data: { recordId: record.id, kind: 'RESUME', date: new Date(`${day}T00:00:00Z`), note: `复学（${c.id}）` },
        });
      }
      // A child the enrollment verification found at home (L) had no register of the campaign's school
      // year — that is why they were suspected: the return registers them at the case's school, so the
      // campaign's next round (and next year's comparison) knows they are back.
      const referredBy = await tx.suspectedChild.findFirst({
        where: { childId: c.childId, outcomeCode: 'L' },
        orderBy: { id: 'desc' },
        select: { campaign: { select: { year: true } } },
      });
      const year = referredBy?.campaign.year;
      if (year !== undefined) {
        const existing = await tx.registryRecord.findUnique({
          where: { childId_schoolYear: { childId: c.childId, schoolYear: year } },
        });
        if (!existing) {
          const registered = await tx.registryRecord.create({
            data: {
              childId: c.childId,
              schoolYear: year,
              schoolId: c.schoolId,
              classId: c.classId,
              grade: gradeByAge(c.child.birthDate, year),
              regionCode: c.school.regionCode,
            },
          });
          await tx.registryChange.create({
            data: {
              recordId: registered.id,
              kind: 'ENROL',
              date: new Date(`${day}T00:00:00Z`),
              note: `复学重新注册（${c.id}）`,
            },
          });
        }
      }
    });
    return { exitOutcome: 'RETURNED' as const };
  },
});
