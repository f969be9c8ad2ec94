import { z } from 'zod';

/** Variables the teacher's report carries into the escalation flow. */
export const openDropoutCaseInput = z.object({
  childName: z.string().trim().min(1).max(50),
  schoolName: z.string().trim().min(1).max(100),
  reportedBy: z.string().trim().min(1).max(50),
  reason: z.string().trim().max(500).optional(),
});

export const openDropoutCaseOutput = z.object({
  caseId: z.string().uuid(),
  caseNumber: z.string(),
});
