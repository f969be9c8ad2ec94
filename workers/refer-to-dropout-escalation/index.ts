import { z } from 'zod';
import { OPEN_CASE_STATUSES } from '../../api/domain/case-status.js';
import { CHILD_CASE_LOCK, formatCaseNumber } from '../open-dropout-case/handler.js';
import { defineWorker } from '../lib/define-worker.js';

const SOURCE = { HANDOVER: '整班移交未报到追踪', VERIFICATION: '适龄儿童入学核查' } as const;
const FINDING = { HANDOVER: '确认未报到辍学', VERIFICATION: '确认在家上学' } as const;

/**
 * A child confirmed out of school by another flow starts the escalation flow: the message
 * `dropout-referred`, correlated by the child, starts one instance per child at a time; the message id
 * makes a redelivered job the same message.
 *
 * A child who already has a 一人一案 is not given a second one by a later round or another flow:
 * - an open case: the referral joins it (noted in its timeline, REFERRAL_JOINED) and nothing is sent;
 * - a closed case (the child returned, or another exit, and is out of school again): a new case is
 *   opened whose reason names the earlier one, and the earlier case's timeline notes the new referral
 *   (REFERRED_AGAIN).
 * Case openings of one child queue on the same advisory lock as open-dropout-case.
 */
export default defineWorker({
  type: 'refer-to-dropout-escalation',
  description: '转入辍学劝返流程 — [T] 二(二)、[G] 四 确认辍学的启动辍学劝返；已有案件的并入或关联',
  input: z.object({
    childId: z.uuid(),
    /** The school responsible for persuasion (the receiving school, or the one the town names). */
    schoolId: z.number().int().positive(),
    townCode: z.string().regex(/^\d{9}$/),
    source: z.enum(['HANDOVER', 'VERIFICATION']),
    reason: z.string().max(500).optional(),
    /** The verification's campaign year and round, for the case's timeline. */
    year: z.number().int().optional(),
    round: z.number().int().positive().optional(),
  }),
  output: z.object({ referred: z.literal(true), joinedCaseId: z.uuid().nullable() }),
  async handler(input, ctx) {
    const where =
      input.source === 'VERIFICATION' && input.year !== undefined && input.round !== undefined
        ? `${SOURCE.VERIFICATION}（${input.year}年第${input.round}轮）`
        : SOURCE[input.source];
    const finding = `${where}${FINDING[input.source]}`;
    const { joined, earlier } = await ctx.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${CHILD_CASE_LOCK}::int4, hashtext(${input.childId}))`;
      const open = await tx.dropoutCase.findFirst({
        where: { childId: input.childId, status: { in: [...OPEN_CASE_STATUSES] } },
        orderBy: { openedAt: 'desc' },
      });
      if (open) {
        await tx.caseAction.createMany({
          data: {
            caseId: open.id,
            kind: 'REFERRAL_JOINED',
            actor: 'system',
            note: `${finding}；该儿童已有在办案件，并入本案办理`,
            idempotencyKey: `job:${ctx.jobKey}`,
          },
          skipDuplicates: true,
        });
        return { joined: open, earlier: null };
      }
      const closed = await tx.dropoutCase.findFirst({
        where: { childId: input.childId },
        orderBy: { openedAt: 'desc' },
      });
      if (closed) {
        await tx.caseAction.createMany({
          data: {
            caseId: closed.id,
            kind: 'REFERRED_AGAIN',
            actor: 'system',
            note: `${finding}，已重新转入辍学劝返流程（本案已结案）`,
            idempotencyKey: `job:${ctx.jobKey}`,
          },
          skipDuplicates: true,
        });
      }
      return { joined: null, earlier: closed };
    });
    if (joined) return { referred: true as const, joinedCaseId: joined.id };
    const reason = input.reason ?? `${SOURCE[input.source]}确认辍学`;
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
        reason: earlier
          ? `${reason}；前案 ${formatCaseNumber(earlier.serial, earlier.openedAt)} 已结案，再次转入`
          : reason,
      },
    });
    return { referred: true as const, joinedCaseId: null };
  },
});
