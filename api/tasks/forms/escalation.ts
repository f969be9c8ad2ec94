/** The escalation flow's user tasks (processes/dropout-escalation.bpmn). */
import { z } from 'zod';
import type { Tx } from '../../../infra/db/prisma.js';
import type { UserTask } from '../../../infra/camunda/records.js';
import type { Actor } from '../../auth/actor.js';
import { addCaseAction } from '../../domain/case-actions.js';
import { AppError } from '../../errors.js';
import { defineTaskForm, taskKey, optionalNote, requiredText } from '../define-form.js';

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
  title: '班主任家访劝返',
  schema: z
    .object({
      visitedOn: z.iso.date('请填写家访日期（YYYY-MM-DD）'),
      visitors: requiredText('家访人员'),
      outcome: z.enum(['PERSUASION_FAILED', 'TRANSFER_FOUND'], { message: '请选择家访结果' }),
      /** Where the child studies now, when found studying elsewhere. */
      whereabouts: z.string().trim().max(200).optional(),
      note: optionalNote,
    })
    .superRefine((v, ctx) => {
      if (v.outcome === 'TRANSFER_FOUND' && !v.whereabouts) {
        ctx.addIssue({ code: 'custom', path: ['whereabouts'], message: '请填写儿童现就读学校' });
      }
    }),
  async apply(tx, task, input, actor) {
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

const SCHOOL_DECISION = z.enum(['CONFIRMED', 'UNFOUNDED', 'TRANSFER_FOUND', 'DEFERRED', 'HOME_TEACHING'], {
  message: '请选择学校意见',
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
  title: '学校确认辍学并制定一人一案',
  schema: z
    .object({
      decision: SCHOOL_DECISION,
      /** Registry dropout reason (A2 厌学辍学, A3 因病因残, A4 在家上学, A8 其他). */
      reasonCode: z.enum(['A2', 'A3', 'A4', 'A8']).optional(),
      /** 精准分析、分类施策: the analysis and the measures. */
      plan: z.string().trim().max(2000).optional(),
      /** 专人负责 */
      responsiblePerson: z.string().trim().max(50).optional(),
      note: optionalNote,
    })
    .superRefine((v, ctx) => {
      if (v.decision !== 'CONFIRMED') return;
      if (!v.reasonCode) ctx.addIssue({ code: 'custom', path: ['reasonCode'], message: '请选择辍学原因' });
      if (!v.plan) ctx.addIssue({ code: 'custom', path: ['plan'], message: '请填写原因分析和劝返措施' });
      if (!v.responsiblePerson) {
        ctx.addIssue({ code: 'custom', path: ['responsiblePerson'], message: '请指定劝返责任人' });
      }
    }),
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
  title: '镇街批评教育并责令限期改正',
  schema: z.object({
    educatedOn: z.iso.date('请填写批评教育日期（YYYY-MM-DD）'),
    officers: requiredText('参与的镇街工作人员'),
    note: optionalNote,
  }),
  async apply(tx, task, input, actor) {
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
  title: '司法局签发司法文书',
  schema: z.object({ signedBy: requiredText('签发人'), note: optionalNote }),
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
  title: '决定是否依法追究法律责任',
  schema: z.object({
    decision: z.enum(['REFER', 'KEEP_PERSUADING'], { message: '请选择处理决定' }),
    reason: requiredText('理由'),
  }),
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
  title: '制定复学跟踪帮扶措施',
  schema: z.object({
    academic: requiredText('学业指导措施'),
    psychological: requiredText('心理辅导措施'),
    family: requiredText('家庭关爱措施'),
    responsiblePerson: requiredText('帮扶责任人'),
  }),
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
