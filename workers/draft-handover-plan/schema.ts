import { z } from 'zod';

export const draftHandoverPlanInput = z.object({
  handoverId: z.number().int().positive(),
  county: z.string().regex(/^\d{6}$/),
  /** Calendar year of the primary graduation (the classes are those of school year year − 1). */
  year: z.number().int(),
});

export const draftHandoverPlanOutput = z.object({
  classes: z.number().int().min(0),
  pupils: z.number().int().min(0),
});
