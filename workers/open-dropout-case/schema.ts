import { z } from 'zod';

/**
 * Variables a report carries into the escalation flow: set by POST /api/dropout-reports (a teacher's
 * report) or by the referral message of the verification and handover flows.
 */
export const openDropoutCaseInput = z.object({
  childId: z.uuid(),
  schoolId: z.number().int().positive(),
  classId: z.number().int().positive().nullable(),
  /** The school's town: the case's jurisdiction. */
  townCode: z.string().regex(/^\d{9}$/),
  /** The reporting user; null when another flow (verification, handover) referred the child. */
  reportedBy: z.number().int().positive().nullable(),
  reporterName: z.string().min(1).max(50),
  lastAttendance: z.iso.date().nullable(),
  reason: z.string().trim().max(500).optional(),
});

export const openDropoutCaseOutput = z.object({
  caseId: z.uuid(),
  caseNumber: z.string(),
});
