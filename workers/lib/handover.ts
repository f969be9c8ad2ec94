import { z } from 'zod';

/** One plan line as the handover diagram carries it (the multi-instance's `assignment`). */
export const assignmentVariable = z.object({
  assignmentId: z.number().int().positive(),
  fromSchoolId: z.number().int().positive(),
  toSchoolId: z.number().int().positive(),
  townCode: z.string().regex(/^\d{9}$/),
});
