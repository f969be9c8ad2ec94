/** The escalation flow's user tasks (processes/dropout-escalation.bpmn). */
import type { Tx } from '../../../infra/db/prisma.js';
import type { UserTask } from '../../../infra/camunda/records.js';
import type { Actor } from '../../auth/actor.js';
import { addCaseAction } from '../../domain/case-actions.js';
import { AppError } from '../../errors.js';
import { defineTaskForm, notInFuture, taskKey } from '../define-form.js';
import * as S from '../schemas/escalation.js';

async function caseOf(tx: Tx, task: UserTask) {
  const c = await tx.dropoutCase.findUnique({ where: { processInstanceKey: task.processInstanceKey } });
  if (!c) throw new AppError('NOT_FOUND', undefined, '该任务对应的一人一案不存在。');
  return c;
}

/** Appends the caseworker's action once per task (a retried submission writes nothing twice). */
async function act(tx: Tx, task: UserTask, actor: Actor, kind: string, text: string, outcome?: string) {
  const c = await caseOf(tx, task);
  const first = await addCaseAction(tx, {
    caseId: c.id,
    kind,
    note: text,
    outcome,
    idempotencyKey: taskKey(task),
    actor,
  });
  return { c, first };
}

/** [T] 二(四) the class teacher visits the family and persuades; every visit is recorded. */
export const visitFamily = defineTaskForm({
  ...S.visitFamily,
  async apply(tx, task, input, actor) {
    // The visit's date is printed into the 校报: a visit cannot have happened after today.
    notInFuture('visitedOn', input.visitedOn, '家访日期');
    const text =
      input.outcome === 'TRANSFER_FOUND'
        ? `${input.visitedOn} ${input.visitors} 家访：已在${input.whereabouts}就读`
        : `${input.visitedOn} ${input.visitors} 家访劝返未果${input.note ? `：${input.note}` : ''}`;
    await act(tx, task, actor, 'HOME_VISIT', text, input.outcome);
    return input.outcome === 'TRANSFER_FOUND'
      ? { visitOutcome: input.outcome, exitOutcome: 'TRANSFER_FOUND' }
      : { visitOutcome: input.outcome };
  },
});

const EXIT_OF_DECISION = {
  UNFOUNDED: 'UNFOUNDED',
  TRANSFER_FOUND: 'TRANSFER_FOUND',
  DEFERRED: 'DEFERRED',
  HOME_TEACHING: 'HOME_TEACHING',
} as const;

/**
 * [T] 二(四) the school confirms the dropout and draws up the 一人一案 (analysis, measures, a
 * responsible person) — or closes the report: unfounded, studying elsewhere, deferred, 送教上门.
 */
export const confirmDropoutBySchool = defineTaskForm({
  ...S.confirmDropoutBySchool,
  async apply(tx, task, input, actor) {
    const confirmed = input.decision === 'CONFIRMED';
    const { c, first } = await act(
      tx,
      task,
      actor,
      confirmed ? 'SCHOOL_CONFIRMED_DROPOUT' : 'SCHOOL_CLOSED_REPORT',
      confirmed ? `确认辍学，劝返责任人 ${input.responsiblePerson}` : (input.note ?? input.decision),
      input.decision,
    );
    if (first && confirmed) {
      await tx.dropoutCase.update({
        where: { id: c.id },
        data: {
          status: 'SCHOOL_CONFIRMED',
          reasonCode: input.reasonCode ?? null,
          plan: input.plan ?? null,
          responsiblePerson: input.responsiblePerson ?? null,
        },
      });
    }
    return input.decision === 'CONFIRMED'
      ? { schoolDecision: input.decision }
      : { schoolDecision: input.decision, exitOutcome: EXIT_OF_DECISION[input.decision] };
  },
});

/** [Y] 三(一)2, [T] 二(十) the town criticises and educates the parents and orders correction. */
export const orderCorrectionByTown = defineTaskForm({
  ...S.orderCorrectionByTown,
  async apply(tx, task, input, actor) {
    notInFuture('educatedOn', input.educatedOn, '批评教育日期');
    await act(
      tx,
      task,
      actor,
      'TOWN_EDUCATED_PARENTS',
      `${input.educatedOn} ${input.officers} 对家长批评教育并责令限期改正${input.note ? `：${input.note}` : ''}`,
    );
    return {};
  },
});

/** [Y] 三(一)2 the justice bureau issues the legal document urging the child's return. */
export const issueJudicialNotice = defineTaskForm({
  ...S.issueJudicialNotice,
  async apply(tx, task, input, actor) {
    await act(
      tx,
      task,
      actor,
      'JUSTICE_SIGNED',
      `${input.signedBy} 签发司法文书${input.note ? `：${input.note}` : ''}`,
    );
    return {};
  },
});

/** [T], [Y] 三(一)2 情节严重或构成犯罪的，依法追究法律责任 — or the town keeps urging. */
export const decideLegalReferral = defineTaskForm({
  ...S.decideLegalReferral,
  async apply(tx, task, input, actor) {
    await act(
      tx,
      task,
      actor,
      input.decision === 'REFER' ? 'REFERRED_TO_LAW' : 'BACK_TO_TOWN',
      input.reason,
      input.decision,
    );
    return input.decision === 'REFER'
      ? { referralDecision: input.decision, exitOutcome: 'REFERRED' }
      : { referralDecision: input.decision };
  },
});

/** [T] 二(五) follow-up care for a returned child: 学业指导、心理辅导、家庭关爱. */
export const arrangeFollowUpCare = defineTaskForm({
  ...S.arrangeFollowUpCare,
  async apply(tx, task, input, actor) {
    const { c, first } = await act(
      tx,
      task,
      actor,
      'FOLLOW_UP_PLAN',
      `学业指导：${input.academic}；心理辅导：${input.psychological}；家庭关爱：${input.family}`,
    );
    if (first)
      await tx.dropoutCase.update({ where: { id: c.id }, data: { responsiblePerson: input.responsiblePerson } });
    return {};
  },
});
