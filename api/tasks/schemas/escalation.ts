/** What the caseworkers submit in the escalation flow (processes/dropout-escalation.bpmn). */
import { z } from 'zod';
import { choice, day, defineTaskSchema, optionalNote, optionalText, requiredText } from './fields.js';

/** [T] 二(四) the class teacher visits the family and persuades; every visit is recorded. */
export const visitFamily = defineTaskSchema({
  title: '班主任家访劝返',
  schema: z
    .object({
      visitedOn: day('家访日期'),
      visitors: requiredText('家访人员', 200),
      outcome: choice('家访结果', { PERSUASION_FAILED: '劝返未果', TRANSFER_FOUND: '已在他校就读' }),
      /** Where the child studies now, when found studying elsewhere. */
      whereabouts: optionalText('现就读学校'),
      note: optionalNote,
    })
    .superRefine((v, ctx) => {
      if (v.outcome === 'TRANSFER_FOUND' && !v.whereabouts) {
        ctx.addIssue({ code: 'custom', path: ['whereabouts'], message: '请填写儿童现就读学校' });
      }
    }),
});

export const SCHOOL_DECISIONS = {
  CONFIRMED: '确认辍学',
  UNFOUNDED: '情况不实，撤销报告',
  TRANSFER_FOUND: '已在他校就读',
  DEFERRED: '已办理延缓入学',
  HOME_TEACHING: '送教上门',
} as const;

/**
 * [T] 二(四) the school confirms the dropout and draws up the 一人一案 (analysis, measures, a
 * responsible person) — or closes the report: unfounded, studying elsewhere, deferred, 送教上门.
 */
export const confirmDropoutBySchool = defineTaskSchema({
  title: '学校确认辍学并制定一人一案',
  schema: z
    .object({
      decision: choice('学校意见', SCHOOL_DECISIONS),
      /** Registry dropout reason. */
      reasonCode: choice('辍学原因', { A2: '厌学辍学', A3: '因病因残', A4: '在家上学', A8: '其他' }).optional(),
      /** 精准分析、分类施策: the analysis and the measures. */
      plan: optionalText('原因分析和劝返措施', 2000),
      /** 专人负责 */
      responsiblePerson: optionalText('劝返责任人', 50),
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
});

/** [Y] 三(一)2, [T] 二(十) the town criticises and educates the parents and orders correction. */
export const orderCorrectionByTown = defineTaskSchema({
  title: '镇街批评教育并责令限期改正',
  schema: z.object({
    educatedOn: day('批评教育日期'),
    officers: requiredText('参与的镇街工作人员', 200),
    note: optionalNote,
  }),
});

/** [Y] 三(一)2 the justice bureau issues the legal document urging the child's return. */
export const issueJudicialNotice = defineTaskSchema({
  title: '司法局签发司法文书',
  schema: z.object({ signedBy: requiredText('签发人', 50), note: optionalNote }),
});

/** [T], [Y] 三(一)2 情节严重或构成犯罪的，依法追究法律责任 — or the town keeps urging. */
export const decideLegalReferral = defineTaskSchema({
  title: '决定是否依法追究法律责任',
  schema: z.object({
    decision: choice('处理决定', { REFER: '依法追究法律责任', KEEP_PERSUADING: '退回镇街继续劝返' }),
    reason: requiredText('理由'),
  }),
});

/** [T] 二(五) follow-up care for a returned child: 学业指导、心理辅导、家庭关爱. */
export const arrangeFollowUpCare = defineTaskSchema({
  title: '制定复学跟踪帮扶措施',
  schema: z.object({
    academic: requiredText('学业指导措施'),
    psychological: requiredText('心理辅导措施'),
    family: requiredText('家庭关爱措施'),
    responsiblePerson: requiredText('帮扶责任人', 50),
  }),
});
