import { z } from 'zod';

/** Variables the teacher's report carries into the escalation flow (set by POST /api/dropout-reports). */
export const openDropoutCaseInput = z.object({
  childId: z.uuid(),
  schoolId: z.number().int().positive(),
  classId: z.number().int().positive().nullable(),
  /** The school's town: the case's jurisdiction. */
  townCode: z.string().regex(/^\d{9}$/),
  reportedBy: z.number().int().positive(),
  reporterName: z.string().min(1).max(50),
  lastAttendance: z.iso.date(),
  reason: z.string().trim().max(500).optional(),
});

export const openDropoutCaseOutput = z.object({
  caseId: z.uuid(),
  caseNumber: z.string(),
});
