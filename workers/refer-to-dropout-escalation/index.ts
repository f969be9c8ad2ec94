import { z } from 'zod';
import { defineWorker } from '../lib/define-worker.js';

const SOURCE = { HANDOVER: '整班移交未报到追踪', VERIFICATION: '适龄儿童入学核查' } as const;

/**
 * A child confirmed out of school by another flow starts the escalation flow: the message
 * `dropout-referred`, correlated by the child, starts one instance per child at a time; the message id
 * makes a redelivered job the same message.
 */
export default defineWorker({
  type: 'refer-to-dropout-escalation',
  description: '转入辍学劝返流程 — [T] 二(二)、[G] 四 确认辍学的启动辍学劝返',
  input: z.object({
    childId: z.uuid(),
    /** The school responsible for persuasion (the receiving school, or the one the town names). */
    schoolId: z.number().int().positive(),
    townCode: z.string().regex(/^\d{9}$/),
    source: z.enum(['HANDOVER', 'VERIFICATION']),
    reason: z.string().max(500).optional(),
  }),
  output: z.object({ referred: z.literal(true) }),
  async handler(input, ctx) {
    await ctx.publishMessage({
      name: 'dropout-referred',
      correlationKey: input.childId,
      messageId: `referral:${ctx.processInstanceKey}:${input.childId}`,
      variables: {
        childId: input.childId,
        schoolId: input.schoolId,
        classId: null,
        townCode: input.townCode,
        reportedBy: null,
        reporterName: SOURCE[input.source],
        lastAttendance: null,
        reason: input.reason ?? `${SOURCE[input.source]}确认辍学`,
      },
    });
    return { referred: true as const };
  },
});
