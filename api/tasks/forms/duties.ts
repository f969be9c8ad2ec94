/** The periodic duties' user tasks (processes/dropout-statistics.bpmn, special-needs-census.bpmn, semester-home-visits.bpmn). */
import type { Prisma as PrismaClient, Tx } from '../../../infra/db/prisma.js';
import type { UserTask } from '../../../infra/camunda/records.js';
import type { Duty } from '../../../generated/prisma/client.js';
import type { Actor } from '../../auth/actor.js';
import { dropoutReportOf } from '../../reports/dropouts.js';
import { parsePeriod } from '../../reports/period.js';
import { AppError } from '../../errors.js';
import { defineTaskForm, type TaskContext, taskKey } from '../define-form.js';
import * as S from '../schemas/duties.js';

interface Recipient {
  townCode: string;
  schoolId: number | null;
  classId: number | null;
}

async function roundOf(context: TaskContext): Promise<{ recipient: Recipient; period: string }> {
  const vars = await context.variables();
  const recipient = vars.recipient as Recipient | undefined;
  if (!recipient || typeof vars.period !== 'string') {
    throw new AppError('NOT_FOUND', undefined, '该任务对应的报送对象不存在。');
  }
  return { recipient, period: vars.period };
}

async function saveReturn(
  tx: Tx,
  task: UserTask,
  actor: Actor,
  duty: Duty,
  round: { recipient: Recipient; period: string },
  figures: object,
) {
  const idempotencyKey = taskKey(task);
  if (await tx.dutyReturn.findUnique({ where: { idempotencyKey } })) return;
  await tx.dutyReturn.create({
    data: {
      duty,
      period: round.period,
      regionCode: round.recipient.townCode,
      schoolId: round.recipient.schoolId,
      classId: round.recipient.classId,
      figures,
      submittedBy: actor.userId,
      idempotencyKey,
    },
  });
}

/**
 * [T] 三 the school checks the statistics table the system filled in from its registers and cases,
 * and sends it; a figure it disputes is corrected in the records, not in the table.
 */
export const submitDropoutStatistics = defineTaskForm({
  ...S.submitDropoutStatistics,
  async apply(tx, task, input, actor, context) {
    const round = await roundOf(context);
    if (round.recipient.schoolId === null) throw new AppError('NOT_FOUND');
    const county = round.recipient.townCode.slice(0, 6);
    // The report is one read-only statement; inside the transaction it sees the same data.
    const report = await dropoutReportOf(
      tx as unknown as PrismaClient,
      county,
      round.recipient.townCode,
      parsePeriod(round.period),
      round.recipient.schoolId,
    );
    await saveReturn(tx, task, actor, 'DROPOUT_STATISTICS', round, { report, note: input.note ?? null });
    return {};
  },
});

/** [T] 二(二) the town's start-of-term census of disabled children of compulsory age and their placement. */
export const censusSpecialNeeds = defineTaskForm({
  ...S.censusSpecialNeeds,
  async apply(tx, task, input, actor, context) {
    await saveReturn(tx, task, actor, 'SPECIAL_NEEDS_CENSUS', await roundOf(context), input);
    return {};
  },
});

/** [T] 二(五) the class teacher's home visits of the semester, more for vulnerable children. */
export const reportHomeVisits = defineTaskForm({
  ...S.reportHomeVisits,
  async apply(tx, task, input, actor, context) {
    await saveReturn(tx, task, actor, 'HOME_VISITS', await roundOf(context), input);
    return {};
  },
});
