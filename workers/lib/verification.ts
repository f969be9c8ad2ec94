import { z } from 'zod';

/** One suspect as the verification diagram carries it (the multi-instance's `suspect`). */
export const suspectVariable = z.object({
  suspectId: z.number().int().positive(),
  childId: z.uuid(),
  townCode: z.string().regex(/^\d{9}$/),
});

/** The grade a child starts in by age on 1 September of `schoolYear`: six-year-olds start grade 1. */
export function gradeByAge(birthDate: Date, schoolYear: number): number {
  const age = schoolYear - birthDate.getUTCFullYear() - (birthDate.getUTCMonth() >= 8 ? 1 : 0);
  return Math.min(9, Math.max(1, age - 5));
}
