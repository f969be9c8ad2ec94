/** What the caseworkers submit in the whole-class handover (processes/whole-class-handover.bpmn). */
import { z } from 'zod';
import {
  childLine,
  choice,
  confirmation,
  defineTaskSchema,
  optionalNote,
  optionalText,
  requiredText,
  signer,
} from './fields.js';

/** The county government's approval of the handover plan, recorded by the bureau ([G] 一). */
export const approveHandoverPlan = defineTaskSchema({
  title: '县政府审批移交计划并签订责任书',
  schema: z.object({
    approved: confirmation('移交计划已经县政府批准', '请确认计划已经县政府批准'),
    /** [G] 一 responsibility letters signed with every sending and receiving school. */
    lettersSigned: confirmation('已与送出、接收学校签订责任书', '请确认已与送出、接收学校签订责任书').optional(),
    note: optionalNote,
  }),
});

/** [G] 一 the bureau names the middle schools that receive (added to the school register), then the plan is drafted again. */
export const assignReceivingSchools = defineTaskSchema({
  title: '确定接收初中',
  schema: z.object({
    note: z
      .string({ message: '请说明补充的接收学校' })
      .trim()
      .min(1, '请说明补充的接收学校')
      .max(1000)
      .meta({ title: '补充的接收学校', multiline: true }),
  }),
});

/** [G] 二 the sending primary school hands over the roster and the paper registry files, and signs. */
export const handOverRoster = defineTaskSchema({
  title: '送出学校移交花名册和纸质学籍档案',
  schema: z.object({
    paperFilesHandedOver: confirmation('纸质学籍档案已移交', '请确认纸质学籍档案已移交'),
    signedBy: signer,
    note: optionalNote,
  }),
});

/** [G] 二 the receiving middle school checks the roster received and signs. */
export const receiveRoster = defineTaskSchema({
  title: '接收学校核收花名册',
  schema: z.object({
    rosterChecked: confirmation('已核对花名册', '请确认已核对花名册'),
    signedBy: signer,
    note: optionalNote,
  }),
});

/** [G] 二 the town's education office, which leads the handover, countersigns the form. */
export const countersignHandover = defineTaskSchema({
  title: '镇街教育办签署交接表',
  schema: z.object({ signedBy: signer, note: optionalNote }),
});

/**
 * [G] the receiving school's 一人一案 for each vulnerable pupil of the roster (留守, 困境, 家庭经济困难,
 * 残疾, 学困): the support measures and who is responsible, one per pupil, in one submission.
 */
export const planTransitionSupport = defineTaskSchema({
  title: '制定重点学生衔接帮扶一人一案',
  schema: z.object({
    plans: z
      .array(
        z.object({
          childId: childLine,
          measures: requiredText('帮扶措施', 200),
          responsiblePerson: requiredText('帮扶责任人', 50),
        }),
      )
      .min(1, '请为每名重点学生制定帮扶措施')
      .meta({ title: '重点学生' }),
  }),
});

/**
 * [G] 三 the receiving school registers arrivals against the roster: every pupil on the class's roster
 * is marked arrived or not, in one submission (the console's bulk screen).
 */
export const registerArrivals = defineTaskSchema({
  title: '接收学校报到注册',
  schema: z.object({
    pupils: z
      .array(
        z.object({
          childId: childLine,
          arrived: z.boolean().meta({ title: '已报到' }),
          /** First check of a no-show (初步核查), e.g. what the family said. */
          note: optionalText('未报到原因（初步核查）', 200),
        }),
      )
      .min(1, '请逐一登记花名册上的学生')
      .meta({ title: '花名册' }),
  }),
});

export const TRACE_OUTCOMES = {
  ARRIVED: '已补报到',
  TRANSFER_FOUND: '在他校就读',
  MOVED: '随家庭迁出',
  OTHER_COUNTY: '户籍在外县',
  DROPOUT: '确认辍学',
  NOT_FOUND: '仍未查到，继续追踪',
} as const;

/**
 * [G] 四 the town, with both schools, traces one no-show: arrived late, studying elsewhere, moved,
 * household in another county, dropped out — or not found yet (traced again in the next round).
 */
export const traceNoShowPupil = defineTaskSchema({
  title: '追踪未报到学生去向',
  schema: z
    .object({
      outcome: choice('追踪结果', TRACE_OUTCOMES),
      /** Where the pupil is: the school studied at, the new address, the other county. */
      whereabouts: optionalText('学生去向'),
      /** 户籍所在县 (6-digit code) when the household is registered in another county. */
      householdCounty: z
        .string()
        .regex(/^\d{6}$/, '户籍所在县为6位区划代码')
        .meta({ title: '户籍所在县（6位区划代码）' })
        .optional(),
      note: optionalNote,
    })
    .superRefine((v, ctx) => {
      if (['TRANSFER_FOUND', 'MOVED', 'OTHER_COUNTY'].includes(v.outcome) && !v.whereabouts) {
        ctx.addIssue({ code: 'custom', path: ['whereabouts'], message: '请填写学生去向' });
      }
      if (v.outcome === 'OTHER_COUNTY' && !v.householdCounty) {
        ctx.addIssue({ code: 'custom', path: ['householdCounty'], message: '请填写户籍所在县' });
      }
    }),
});
