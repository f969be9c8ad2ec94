/** What the caseworkers submit in the enrollment verification (enrollment-verification.bpmn, child-verification.bpmn). */
import { z } from 'zod';
import {
  choice,
  day,
  defineTaskSchema,
  lookupCode,
  lookupId,
  optionalNote,
  optionalText,
  requiredText,
} from './fields.js';

/** [T] 二(一) the bureau chases the departments whose lists are missing, or confirms there are none. */
export const collectDepartmentLists = defineTaskSchema({
  title: '催报并导入部门名单',
  schema: z.object({
    /** true: a department confirmed in writing it has no such children; go on without its list. */
    proceedWithoutLists: z
      .boolean({ message: '请选择：已补导入，或确认该部门无此类儿童' })
      .meta({ title: '缺报部门已书面确认无此类儿童（不再等待名单）' }),
    note: optionalNote,
  }),
});

/** The bureau sends the suspect list to the towns for one-by-one verification. */
export const dispatchSuspectList = defineTaskSchema({
  title: '下发疑似未入学名单',
  schema: z.object({ note: optionalNote }),
});

/** Outcomes for which [R] asks whether the child got a registry record (已建籍/未建籍/未查到). */
export const OUTCOMES_NEEDING_REGISTRATION = ['C', 'D'];

/**
 * [T] 二(二) the town verifies one child: the outcome code (A–L), where the child is and the evidence;
 * whether a child found studying without a registry record got one (已建籍/未建籍/未查到, [R]); and for
 * a child at home (L) the school that takes on the persuasion.
 */
export const verifyChild = defineTaskSchema({
  title: '镇街逐一核实去向',
  schema: z
    .object({
      outcomeCode: lookupCode('核实结果', '请选择核实结果（A–L）'),
      whereabouts: requiredText('去向', 500),
      evidence: requiredText('佐证材料', 500),
      registration: choice('建籍情况', {
        REGISTERED: '已建籍',
        NOT_REGISTERED: '未建籍',
        NOT_FOUND: '未查到',
      }).optional(),
      /** For L: the school responsible for persuading the child back. */
      responsibleSchoolId: lookupId('负责劝返的学校').optional(),
    })
    .superRefine((v, ctx) => {
      if (OUTCOMES_NEEDING_REGISTRATION.includes(v.outcomeCode) && !v.registration) {
        ctx.addIssue({ code: 'custom', path: ['registration'], message: '请填写建籍情况（已建籍/未建籍/未查到）' });
      }
      if (v.outcomeCode === 'L' && !v.responsibleSchoolId) {
        ctx.addIssue({ code: 'custom', path: ['responsibleSchoolId'], message: '请指定负责劝返的学校' });
      }
    }),
});

/** [T] 二(八) public security cleans up a registration problem (A) and feeds the result back. */
export const fixHouseholdRegistration = defineTaskSchema({
  title: '公安清理户籍并反馈',
  schema: z.object({
    action: choice('处理结果', {
      CANCELLED_DUPLICATE: '注销重复户口',
      CANCELLED_DEATH: '注销死亡人员户口',
      MOVED_OUT: '户口已迁出',
      CONFIRMED_MISSING: '确认下落不明',
      NO_PROBLEM: '户籍无误',
    }),
    note: optionalNote,
  }),
});

/** [T] 二(二) the parents' written deferral application, filed with the town by 30 September. */
export const fileDeferral = defineTaskSchema({
  title: '受理延缓入学书面申请',
  schema: z.object({
    applicationReceivedOn: day('收到书面申请的日期'),
    applicant: requiredText('申请人（父母或监护人）', 50),
    reason: requiredText('申请理由（身体状况）', 500),
    /** 残联/医院 certificate or the like. */
    certificate: optionalText('证明材料（残联或医院证明）'),
  }),
});

/** [T] 二(二) placement of a disabled child: special school, 送教上门 or remote, with a receiving school. */
export const arrangeSpecialPlacement = defineTaskSchema({
  title: '安排特殊教育安置',
  schema: z.object({
    placement: choice('安置方式', {
      SPECIAL_SCHOOL: '特殊教育学校就读',
      HOME_TEACHING: '送教上门',
      REMOTE: '远程教育',
    }),
    receivingSchoolId: lookupId('接收学校'),
    teachingPlan: requiredText('教学计划', 2000),
  }),
});

/** [T] 二(二) the bureau publishes the county report (通报) by 31 October. */
export const publishCountyReport = defineTaskSchema({
  title: '全县入学情况通报',
  schema: z.object({ documentNumber: requiredText('通报文号', 50), note: optionalNote }),
});
