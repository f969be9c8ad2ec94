import { z } from 'zod';
import { defineWorker } from '../lib/define-worker.js';
import { gradeByAge, suspectVariable } from '../lib/verification.js';

/**
 * A disabled child placed in a special school, taught at home (送教上门) or remotely gets a registry
 * record at the receiving school for the year, as [T] 二(二) requires for every placement. That is
 * not the report's 注册建籍 (已建籍/未建籍/未查到): those count what the town found and fixed for children
 * studying without a register (C/D); a placement marking itself 已建籍 over-counted it.
 */
export default defineWorker({
  type: 'place-special-education',
  description: '为安置儿童建立学籍 — [T] 二(二) 特教学校、送教上门、远程教育均建立学籍',
  input: z.object({
    suspect: suspectVariable,
    year: z.number().int(),
    receivingSchoolId: z.number().int().positive(),
  }),
  output: z.object({ registryRecordId: z.number().int().positive() }),
  async handler(input, ctx) {
    return ctx.prisma.$transaction(async (tx) => {
      const school = await tx.school.findUniqueOrThrow({ where: { id: input.receivingSchoolId } });
      const child = await tx.child.findUniqueOrThrow({ where: { id: input.suspect.childId } });
      const grade = gradeByAge(child.birthDate, input.year);
      const record = await tx.registryRecord.upsert({
        where: { childId_schoolYear: { childId: child.id, schoolYear: input.year } },
        update: {},
        create: {
          childId: child.id,
          schoolYear: input.year,
          schoolId: school.id,
          grade,
          regionCode: school.regionCode,
        },
      });
      if ((await tx.registryChange.count({ where: { recordId: record.id } })) === 0) {
        await tx.registryChange.create({
          data: { recordId: record.id, kind: 'ENROL', date: new Date(), note: '入学核查安置建籍' },
        });
      }
      return { registryRecordId: record.id };
    });
  },
});
