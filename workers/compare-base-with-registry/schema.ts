import { z } from 'zod';

export const compareBaseWithRegistryInput = z.object({ campaignId: z.number().int().positive() });

export const compareBaseWithRegistryOutput = z.object({
  /** Children of the base database not found in this year's registers (疑似未入学). */
  suspects: z.number().int().min(0),
  /** The round the comparison opens: every suspect enters in round 1. */
  round: z.literal(1),
});
