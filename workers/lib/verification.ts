import { z } from 'zod';

/** One suspect as the verification diagram carries it (the multi-instance's `suspect`). */
export const suspectVariable = z.object({
  suspectId: z.number().int().positive(),
  childId: z.uuid(),
  townCode: z.string().regex(/^\d{9}$/),
});
