/** The enrollment verification's user tasks (processes/enrollment-verification.bpmn, child-verification.bpmn). */
import { z } from 'zod';
import type { Tx } from '../../../infra/db/prisma.js';
import type { UserTask } from '../../../infra/camunda/records.js';
import { AppError } from '../../errors.js';
import { defineTaskForm, subjectId, type TaskContext, optionalNote, requiredText } from '../define-form.js';

async function campaignOf(tx: Tx, task: UserTask) {
  const campaign = await tx.campaign.findUnique({ where: { processInstanceKey: task.processInstanceKey } });
  if (!campaign) throw new AppError('NOT_FOUND', undefined, '该任务对应的入学核查不存在。');
  return campaign;
}

/** The suspect row the task is about: the `suspect` the verification's multi-instance gives it. */
async function suspectOf(tx: Tx, context: TaskContext) {
  const id = await subjectId<number>(context, 'suspect', 'suspectId', 'number');
  const s = id === undefined ? null : await tx.suspectedChild.findUnique({ where: { id } });
  if (!s) throw new AppError('NOT_FOUND', undefined, '该任务对应的疑似未入学儿童不存在。');
  return s;
}

/** [T] 二(一) the bureau chases the departments whose lists are missing, or confirms there are none. */
export const collectDepartmentLists = defineTaskForm({
  title: '催报并导入部门名单',
  schema: z.object({
    /** true: a department confirmed in writing it has no such children; go on without its list. */
    proceedWithoutLists: z.boolean({ message: '请选择：已补导入，或确认该部门无此类儿童' }),
    note: optionalNote,
  }),
  async apply(tx, task, input) {
    await campaignOf(tx, task);
    return { proceedWithoutLists: input.proceedWithoutLists, collectNote: input.note ?? null };
  },
});

/** The bureau sends the suspect list to the towns for one-by-one verification. */
export const dispatchSuspectList = defineTaskForm({
  title: '下发疑似未入学名单',
  schema: z.object({ note: optionalNote }),
  async apply(tx, task, input, actor) {
    await campaignOf(tx, task);
    return { dispatchedBy: actor.displayName, dispatchNote: input.note ?? null };
  },
});

const OUTCOMES_NEEDING_REGISTRATION = ['C', 'D'];

/**
 * [T] 二(二) the town verifies one child: the outcome code (A–L), where the child is and the evidence;
 * whether a child found studying without a registry record got one (已建籍/未建籍/未查到, [R]); and for
 * a child at home (L) the school that takes on the persuasion.
 */
export const verifyChild = defineTaskForm({
  title: '镇街逐一核实去向',
  schema: z
    .object({
      outcomeCode: z.string({ message: '请选择核实结果' }).regex(/^[A-Z]$/, '请选择核实结果（A–L）'),
      whereabouts: requiredText('去向', 500),
      evidence: requiredText('佐证材料', 500),
      registration: z.enum(['REGISTERED', 'NOT_REGISTERED', 'NOT_FOUND']).optional(),
      /** For L: the school responsible for persuading the child back. */
      responsibleSchoolId: z.number().int().positive().optional(),
    })
    .superRefine((v, ctx) => {
      if (OUTCOMES_NEEDING_REGISTRATION.includes(v.outcomeCode) && !v.registration) {
        ctx.addIssue({ code: 'custom', path: ['registration'], message: '请填写建籍情况（已建籍/未建籍/未查到）' });
      }
      if (v.outcomeCode === 'L' && !v.responsibleSchoolId) {
        ctx.addIssue({ code: 'custom', path: ['responsibleSchoolId'], message: '请指定负责劝返的学校' });
      }
    }),
  async apply(tx, _task, input, actor, context) {
    const code = await tx.verificationCode.findUnique({ where: { code: input.outcomeCode } });
    if (code?.kind !== 'OUTCOME') {
      throw new AppError('FORM_INVALID', [{ path: ['outcomeCode'], message: '核实结果代码不存在' }]);
    }
    const s = await suspectOf(tx, context);
    if (input.responsibleSchoolId !== undefined) {
      const school = await tx.school.findUnique({ where: { id: input.responsibleSchoolId } });
      if (!school || !school.regionCode.startsWith(s.regionCode.slice(0, 6))) {
        throw new AppError('FORM_INVALID', [{ path: ['responsibleSchoolId'], message: '该学校不在本县' }]);
      }
    }
    await tx.suspectedChild.update({
      where: { id: s.id },
      data: {
        outcomeCode: input.outcomeCode,
        whereabouts: input.whereabouts,
        evidence: input.evidence,
        registration: input.registration ?? s.registration,
        verifiedAt: new Date(),
        verifiedBy: actor.userId,
      },
    });
    return { outcomeCode: input.outcomeCode, responsibleSchoolId: input.responsibleSchoolId ?? null };
  },
});

/** [T] 二(八) public security cleans up a registration problem (A) and feeds the result back. */
export const fixHouseholdRegistration = defineTaskForm({
  title: '公安清理户籍并反馈',
  schema: z.object({
    action: z.enum(['CANCELLED_DUPLICATE', 'CANCELLED_DEATH', 'MOVED_OUT', 'CONFIRMED_MISSING', 'NO_PROBLEM'], {
      message: '请选择处理结果',
    }),
    note: optionalNote,
  }),
  async apply(tx, _task, input, _actor, context) {
    const LABEL = {
      CANCELLED_DUPLICATE: '已注销重复户籍',
      CANCELLED_DEATH: '已注销死亡户籍',
      MOVED_OUT: '已迁出本县',
      CONFIRMED_MISSING: '已确认失踪',
      NO_PROBLEM: '户籍无误，退回镇街复核',
    } as const;
    const s = await suspectOf(tx, context);
    await tx.suspectedChild.update({
      where: { id: s.id },
      data: { policeFeedback: `${LABEL[input.action]}${input.note ? `：${input.note}` : ''}` },
    });
    return {};
  },
});

/** [T] 二(二) the parents' written deferral application, filed with the town by 30 September. */
export const fileDeferral = defineTaskForm({
  title: '受理延缓入学书面申请',
  schema: z.object({
    applicationReceivedOn: z.iso.date('请填写收到书面申请的日期（YYYY-MM-DD）'),
    applicant: requiredText('申请人（父母或监护人）', 50),
    reason: requiredText('申请理由（身体状况）', 500),
    /** 残联/医院 certificate or the like. */
    certificate: z.string().trim().max(200).optional(),
  }),
  async apply(tx, _task, input, _actor, context) {
    const s = await suspectOf(tx, context);
    await tx.suspectedChild.update({
      where: { id: s.id },
      data: {
        placement: `延缓入学：${input.applicant}于${input.applicationReceivedOn}书面申请（${input.reason}），已备案，次年复核`,
      },
    });
    return { deferralFiledOn: input.applicationReceivedOn };
  },
});

/** [T] 二(二) placement of a disabled child: special school, 送教上门 or remote, with a receiving school. */
export const arrangeSpecialPlacement = defineTaskForm({
  title: '安排特殊教育安置',
  schema: z.object({
    placement: z.enum(['SPECIAL_SCHOOL', 'HOME_TEACHING', 'REMOTE'], { message: '请选择安置方式' }),
    receivingSchoolId: z.number({ message: '请选择接收学校' }).int().positive(),
    teachingPlan: requiredText('教学计划', 2000),
  }),
  async apply(tx, _task, input, _actor, context) {
    const LABEL = { SPECIAL_SCHOOL: '特殊教育学校就读', HOME_TEACHING: '送教上门', REMOTE: '远程教育' } as const;
    const s = await suspectOf(tx, context);
    const school = await tx.school.findUnique({ where: { id: input.receivingSchoolId } });
    if (!school || !school.regionCode.startsWith(s.regionCode.slice(0, 6))) {
      throw new AppError('FORM_INVALID', [{ path: ['receivingSchoolId'], message: '该学校不在本县' }]);
    }
    await tx.suspectedChild.update({
      where: { id: s.id },
      data: { placement: `${LABEL[input.placement]}（${school.name}）：${input.teachingPlan}` },
    });
    return { receivingSchoolId: input.receivingSchoolId, placementKind: input.placement };
  },
});

/** [T] 二(二) the bureau publishes the county report (通报) by 31 October. */
export const publishCountyReport = defineTaskForm({
  title: '全县入学情况通报',
  schema: z.object({ documentNumber: requiredText('通报文号', 50), note: optionalNote }),
  async apply(tx, task) {
    const campaign = await campaignOf(tx, task);
    if (!campaign.reportSnapshot) throw new AppError('CONFLICT', undefined, '核查结果尚未汇总。');
    if (campaign.status !== 'REPORTED') {
      await tx.campaign.update({ where: { id: campaign.id }, data: { status: 'REPORTED', reportedAt: new Date() } });
    }
    return {};
  },
});
