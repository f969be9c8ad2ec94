/** The enrollment verification's user tasks (processes/enrollment-verification.bpmn, child-verification.bpmn). */
import type { Tx } from '../../../infra/db/prisma.js';
import type { UserTask } from '../../../infra/camunda/records.js';
import { AppError } from '../../errors.js';
import { BASE_LIST_KINDS, BASE_LIST_LABELS, roundSuspects, withdrawReturned } from '../../domain/comparison.js';
import {
  defineTaskForm,
  notInFuture,
  subjectId,
  subjectOf,
  type TaskContext,
  type TaskPreparation,
} from '../define-form.js';
import * as S from '../schemas/verification.js';

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

/** The suspect's child as the form shows it, with the round. */
async function suspectSubject(tx: Tx, context: TaskContext): Promise<TaskPreparation> {
  const s = await suspectOf(tx, context);
  const child = await tx.child.findUniqueOrThrow({ where: { id: s.childId } });
  const town = await tx.region.findUnique({ where: { code: s.regionCode }, select: { name: true } });
  // The town by its name: a caseworker reads 荆河街道, not 370481001.
  return { subject: subjectOf(child, `第${s.round}轮核查 · 户籍/居住地：${town?.name ?? '未知镇街'}`) };
}

/** Schools of the suspect's county (the town's first), for choosing who takes the child. */
async function schoolChoices(tx: Tx, context: TaskContext) {
  const s = await suspectOf(tx, context);
  const schools = await tx.school.findMany({
    where: { regionCode: { startsWith: s.regionCode.slice(0, 6) } },
    select: { id: true, name: true, regionCode: true },
    orderBy: { name: 'asc' },
  });
  const town = s.regionCode.slice(0, 9);
  return schools
    .sort((a, b) => Number(b.regionCode.startsWith(town)) - Number(a.regionCode.startsWith(town)))
    .map((x) => ({ id: x.id, name: x.name }));
}

/** [T] 二(一) the bureau chases the departments whose lists are missing, or confirms there are none. */
export const collectDepartmentLists = defineTaskForm({
  ...S.collectDepartmentLists,
  async prepare(_tx, _task, _actor, context) {
    const vars = await context.variables();
    const missing = Array.isArray(vars.missingLists) ? vars.missingLists.map(String) : [];
    if (missing.length === 0) return {};
    const label = (kinds: string[]) => kinds.map((k) => BASE_LIST_LABELS[k] ?? k).join('、');
    const present = BASE_LIST_KINDS.filter((k) => !missing.includes(k));
    return {
      summary: `${String(vars.year)}年缺少${label(missing)}名单${present.length ? `（已有${label(present)}名单）` : ''}`,
    };
  },
  async apply(tx, task, input) {
    await campaignOf(tx, task);
    return { proceedWithoutLists: input.proceedWithoutLists, collectNote: input.note ?? null };
  },
});

/** The bureau sends the suspect list to the towns for one-by-one verification. */
export const dispatchSuspectList = defineTaskForm({
  ...S.dispatchSuspectList,
  async apply(tx, task, input, actor, context) {
    const campaign = await campaignOf(tx, task);
    const round = (await context.variables()).round;
    if (typeof round !== 'number' || round <= 1) {
      return { dispatchedBy: actor.displayName, dispatchNote: input.note ?? null };
    }
    // A later round's list was drawn up when the round before closed; children who came back to school
    // through their case since then are taken off it, and the verifications start from the list as
    // it stands now.
    await withdrawReturned(tx, campaign.id, round);
    return {
      dispatchedBy: actor.displayName,
      dispatchNote: input.note ?? null,
      suspects: await roundSuspects(tx, campaign.id, round),
    };
  },
});

/**
 * [T] 二(二) the town verifies one child: the outcome code (A–L), where the child is and the evidence;
 * whether a child found studying without a registry record got one (已建籍/未建籍/未查到, [R]); and for
 * a child at home (L) the school that takes on the persuasion.
 */
export const verifyChild = defineTaskForm({
  ...S.verifyChild,
  async prepare(tx, _task, _actor, context) {
    const codes = await tx.verificationCode.findMany({ where: { kind: 'OUTCOME' }, orderBy: { code: 'asc' } });
    return {
      ...(await suspectSubject(tx, context)),
      choices: {
        outcomeCode: codes.map((c) => ({ id: c.code, name: `${c.code} ${c.label}` })),
        responsibleSchoolId: await schoolChoices(tx, context),
      },
    };
  },
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
  ...S.fixHouseholdRegistration,
  prepare: (tx, _task, _actor, context) => suspectSubject(tx, context),
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
  ...S.fileDeferral,
  prepare: (tx, _task, _actor, context) => suspectSubject(tx, context),
  async apply(tx, _task, input, _actor, context) {
    notInFuture('applicationReceivedOn', input.applicationReceivedOn, '收到书面申请的日期');
    // [T] 二(二) the written application is filed by 30 September (the table's deferralApplicationBy):
    // one received later does not make the deferral stand, so it is refused rather than recorded.
    const vars = await context.variables();
    const by = (vars.deadlines as { deferralApplicationBy?: unknown } | undefined)?.deferralApplicationBy;
    if (typeof vars.year === 'number' && typeof by === 'string') {
      const deadline = `${vars.year}-${by}`;
      if (input.applicationReceivedOn > deadline) {
        throw new AppError('FORM_INVALID', [
          {
            path: ['applicationReceivedOn'],
            message: `延缓入学须在${deadline}前提出书面申请；逾期的申请不能备案，延缓不成立`,
          },
        ]);
      }
    }
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
  ...S.arrangeSpecialPlacement,
  async prepare(tx, _task, _actor, context) {
    return {
      ...(await suspectSubject(tx, context)),
      choices: { receivingSchoolId: await schoolChoices(tx, context) },
    };
  },
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
  ...S.publishCountyReport,
  async apply(tx, task) {
    const campaign = await campaignOf(tx, task);
    if (!campaign.reportSnapshot) throw new AppError('CONFLICT', undefined, '核查结果尚未汇总。');
    if (campaign.status !== 'REPORTED') {
      await tx.campaign.update({ where: { id: campaign.id }, data: { status: 'REPORTED', reportedAt: new Date() } });
    }
    return {};
  },
});
