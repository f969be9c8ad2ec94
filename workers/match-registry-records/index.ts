import { z } from 'zod';
import { defineWorker } from '../lib/define-worker.js';
import { assignmentVariable } from '../lib/handover.js';

/** First grade of middle school (七年级). */
const RECEIVING_GRADE = 7;

/**
 * 人籍一致: every registered pupil of the line gets the receiving school's registry record for the new
 * school year (pulled from the primary-graduate library) with a dated ENROL change. Pupils already
 * matched are skipped, so a repeated job or a later round matches only the late arrivals.
 */
export default defineWorker({
  type: 'match-registry-records',
  description: '调取学籍实现人籍一致 — [G] 三 开学一个月内',
  input: z.object({ assignment: assignmentVariable, year: z.number().int() }),
  output: z.object({ matched: z.number().int().min(0) }),
  async handler(input, ctx) {
    return ctx.prisma.$transaction(async (tx) => {
      const school = await tx.school.findUniqueOrThrow({ where: { id: input.assignment.toSchoolId } });
      const pupils = await tx.handoverPupil.findMany({
        where: { assignmentId: input.assignment.assignmentId, status: 'REGISTERED', recordMatched: false },
      });
      for (const p of pupils) {
        const record = await tx.registryRecord.upsert({
          where: { childId_schoolYear: { childId: p.childId, schoolYear: input.year } },
          update: { schoolId: school.id, grade: RECEIVING_GRADE, status: 'ENROLLED', regionCode: school.regionCode },
          create: {
            childId: p.childId,
            schoolYear: input.year,
            schoolId: school.id,
            grade: RECEIVING_GRADE,
            regionCode: school.regionCode,
          },
        });
        await tx.registryChange.create({
          data: { recordId: record.id, kind: 'ENROL', date: p.registeredAt ?? new Date(), note: '整班移交报到注册' },
        });
        await tx.child.update({ where: { id: p.childId }, data: { currentSchoolId: school.id, currentClassId: null } });
        await tx.handoverPupil.update({ where: { id: p.id }, data: { recordMatched: true } });
      }
      return { matched: pupils.length };
    });
  },
});
