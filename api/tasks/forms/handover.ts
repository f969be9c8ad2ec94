/** The whole-class handover's user tasks (processes/whole-class-handover.bpmn). */
import { z } from 'zod';
import type { Tx } from '../../../infra/db/prisma.js';
import { needsTransitionSupport } from '../../domain/vulnerable.js';
import { AppError } from '../../errors.js';
import { defineTaskForm, subjectId, type TaskContext, optionalNote, requiredText } from '../define-form.js';

const signer = requiredText('签字人', 50);

/** The plan line (one class) the task is about: the `assignment` the diagram's multi-instance gives it. */
async function assignmentOf(tx: Tx, context: TaskContext) {
  const id = await subjectId<number>(context, 'assignment', 'assignmentId', 'number');
  const a = id === undefined ? null : await tx.handoverAssignment.findUnique({ where: { id } });
  if (!a) throw new AppError('NOT_FOUND', undefined, '该任务对应的移交班级不存在。');
  return a;
}

/** The county government's approval of the handover plan, recorded by the bureau ([G] 一). */
export const approveHandoverPlan = defineTaskForm({
  title: '县政府审批移交计划并签订责任书',
  schema: z.object({
    approved: z.literal(true, { message: '请确认计划已经县政府批准' }),
    /** [G] 一 responsibility letters signed with every sending and receiving school. */
    lettersSigned: z.literal(true, { message: '请确认已与送出、接收学校签订责任书' }).optional(),
    note: optionalNote,
  }),
  async apply(tx, task, input, actor) {
    const batch = await tx.handoverBatch.findUnique({ where: { processInstanceKey: task.processInstanceKey } });
    if (!batch) throw new AppError('NOT_FOUND', undefined, '该任务对应的整班移交不存在。');
    if (batch.status === 'PLANNING') {
      await tx.handoverBatch.update({ where: { id: batch.id }, data: { status: 'APPROVED', approvedAt: new Date() } });
    }
    return { planApprovedBy: actor.displayName, planNote: input.note ?? null };
  },
});

/** [G] 一 the bureau names the middle schools that receive (added to the school register), then the plan is drafted again. */
export const assignReceivingSchools = defineTaskForm({
  title: '确定接收初中',
  schema: z.object({
    note: z.string({ message: '请说明补充的接收学校' }).trim().min(1, '请说明补充的接收学校').max(1000),
  }),
  async apply(tx, task, input) {
    const batch = await tx.handoverBatch.findUnique({ where: { processInstanceKey: task.processInstanceKey } });
    if (!batch) throw new AppError('NOT_FOUND', undefined, '该任务对应的整班移交不存在。');
    const receivers = await tx.school.count({
      where: { kind: { in: ['MIDDLE', 'NINE_YEAR'] }, regionCode: { startsWith: batch.regionCode } },
    });
    if (receivers === 0) {
      throw new AppError('FORM_INVALID', [
        { path: ['note'], message: '学校库中仍没有本县的初中或九年一贯制学校，请先补充' },
      ]);
    }
    return { receivingSchoolsNote: input.note };
  },
});

/** [G] 二 the sending primary school hands over the roster and the paper registry files, and signs. */
export const handOverRoster = defineTaskForm({
  title: '送出学校移交花名册和纸质学籍档案',
  schema: z.object({
    paperFilesHandedOver: z.literal(true, { message: '请确认纸质学籍档案已移交' }),
    signedBy: signer,
    note: optionalNote,
  }),
  async apply(tx, _task, _input, _actor, context) {
    const a = await assignmentOf(tx, context);
    if (!a.sendingSignedAt)
      await tx.handoverAssignment.update({ where: { id: a.id }, data: { sendingSignedAt: new Date() } });
    return {};
  },
});

/** [G] 二 the receiving middle school checks the roster received and signs. */
export const receiveRoster = defineTaskForm({
  title: '接收学校核收花名册',
  schema: z.object({
    rosterChecked: z.literal(true, { message: '请确认已核对花名册' }),
    signedBy: signer,
    note: optionalNote,
  }),
  async apply(tx, _task, _input, _actor, context) {
    const a = await assignmentOf(tx, context);
    if (!a.receivingSignedAt) {
      await tx.handoverAssignment.update({ where: { id: a.id }, data: { receivingSignedAt: new Date() } });
    }
    return {};
  },
});

/** [G] 二 the town's education office, which leads the handover, countersigns the form. */
export const countersignHandover = defineTaskForm({
  title: '镇街教育办签署交接表',
  schema: z.object({ signedBy: signer, note: optionalNote }),
  async apply(tx, _task, _input, _actor, context) {
    const a = await assignmentOf(tx, context);
    if (!a.sendingSignedAt || !a.receivingSignedAt) {
      throw new AppError('CONFLICT', undefined, '送出学校和接收学校尚未全部签字。');
    }
    if (!a.townSignedAt)
      await tx.handoverAssignment.update({ where: { id: a.id }, data: { townSignedAt: new Date() } });
    return {};
  },
});

/**
 * [G] the receiving school's 一人一案 for each vulnerable pupil of the roster (留守, 困境, 家庭经济困难,
 * 残疾, 学困): the support measures and who is responsible, one per pupil, in one submission.
 */
export const planTransitionSupport = defineTaskForm({
  title: '制定重点学生衔接帮扶一人一案',
  schema: z.object({
    plans: z
      .array(
        z.object({
          childId: z.uuid(),
          measures: requiredText('帮扶措施'),
          responsiblePerson: requiredText('帮扶责任人', 50),
        }),
      )
      .min(1, '请为每名重点学生制定帮扶措施'),
  }),
  async apply(tx, _task, input, _actor, context) {
    const a = await assignmentOf(tx, context);
    const roster = await tx.handoverPupil.findMany({ where: { assignmentId: a.id }, include: { child: true } });
    const due = roster.filter((p) => needsTransitionSupport(p.child.flags));
    const planned = new Map(input.plans.map((p) => [p.childId, p]));
    const missing = due.filter((p) => !planned.has(p.childId));
    const extra = input.plans.filter((p) => !due.some((d) => d.childId === p.childId));
    if (missing.length || extra.length) {
      throw new AppError('FORM_INVALID', [
        {
          path: ['plans'],
          message: `须为本班 ${due.length} 名重点学生逐一制定帮扶措施（缺 ${missing.length} 名，非重点或名单外 ${extra.length} 名）`,
        },
      ]);
    }
    for (const p of due) {
      const plan = planned.get(p.childId)!;
      await tx.handoverPupil.update({
        where: { id: p.id },
        data: { supportPlan: `${plan.measures}（责任人：${plan.responsiblePerson}）` },
      });
    }
    return {};
  },
});

/**
 * [G] 三 the receiving school registers arrivals against the roster: every pupil on the class's roster
 * is marked arrived or not, in one submission (the console's bulk screen).
 */
export const registerArrivals = defineTaskForm({
  title: '接收学校报到注册',
  schema: z.object({
    pupils: z
      .array(
        z.object({
          childId: z.uuid(),
          arrived: z.boolean(),
          /** First check of a no-show (初步核查), e.g. what the family said. */
          note: z.string().trim().max(500).optional(),
        }),
      )
      .min(1, '请逐一登记花名册上的学生'),
  }),
  async apply(tx, _task, input, _actor, context) {
    const a = await assignmentOf(tx, context);
    const roster = await tx.handoverPupil.findMany({ where: { assignmentId: a.id } });
    const submitted = new Map(input.pupils.map((p) => [p.childId, p]));
    const missing = roster.filter((p) => !submitted.has(p.childId));
    const unknown = input.pupils.filter((p) => !roster.some((r) => r.childId === p.childId));
    if (missing.length || unknown.length || submitted.size !== input.pupils.length) {
      throw new AppError('FORM_INVALID', [
        {
          path: ['pupils'],
          message: `须逐一登记花名册上的 ${roster.length} 名学生（缺 ${missing.length} 名，名单外 ${unknown.length} 名）`,
        },
      ]);
    }
    const now = new Date();
    for (const p of roster) {
      if (p.status !== 'PENDING') continue;
      const s = submitted.get(p.childId)!;
      await tx.handoverPupil.update({
        where: { id: p.id },
        data: s.arrived
          ? { status: 'REGISTERED', registeredAt: now }
          : { status: 'NO_SHOW', traceNote: s.note ?? null },
      });
    }
    await tx.handoverBatch.update({ where: { id: a.batchId }, data: { status: 'REGISTERING' } });
    return {};
  },
});

const TRACE = z.enum(['ARRIVED', 'TRANSFER_FOUND', 'MOVED', 'OTHER_COUNTY', 'DROPOUT', 'NOT_FOUND'], {
  message: '请选择追踪结果',
});
const STATUS_OF_TRACE = {
  ARRIVED: 'REGISTERED',
  TRANSFER_FOUND: 'TRANSFER_FOUND',
  MOVED: 'MOVED',
  OTHER_COUNTY: 'OTHER_COUNTY',
  DROPOUT: 'DROPOUT',
  NOT_FOUND: 'NO_SHOW',
} as const;

/**
 * [G] 四 the town, with both schools, traces one no-show: arrived late, studying elsewhere, moved,
 * household in another county, dropped out — or not found yet (traced again in the next round).
 */
export const traceNoShowPupil = defineTaskForm({
  title: '追踪未报到学生去向',
  schema: z
    .object({
      outcome: TRACE,
      /** Where the pupil is: the school studied at, the new address, the other county. */
      whereabouts: z.string().trim().max(200).optional(),
      /** 户籍所在县 (6-digit code) when the household is registered in another county. */
      householdCounty: z
        .string()
        .regex(/^\d{6}$/, '户籍所在县为6位区划代码')
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
  async apply(tx, _task, input, _actor, context) {
    const childId = await subjectId<string>(context, 'noShow', 'childId', 'string');
    const a = await assignmentOf(tx, context);
    const pupil =
      childId === undefined
        ? null
        : await tx.handoverPupil.findUnique({ where: { assignmentId_childId: { assignmentId: a.id, childId } } });
    if (!pupil) throw new AppError('NOT_FOUND', undefined, '该任务对应的未报到学生不存在。');
    const trace = [
      input.outcome === 'DROPOUT' ? '确认辍学，转入辍学劝返并报县人民政府' : undefined,
      input.whereabouts,
      input.householdCounty && `户籍地 ${input.householdCounty}`,
      input.note,
    ]
      .filter(Boolean)
      .join('；');
    await tx.handoverPupil.update({
      where: { id: pupil.id },
      data: {
        status: STATUS_OF_TRACE[input.outcome],
        registeredAt: input.outcome === 'ARRIVED' ? new Date() : pupil.registeredAt,
        traceNote: trace || pupil.traceNote,
      },
    });
    return { traceOutcome: input.outcome, householdCounty: input.householdCounty ?? null };
  },
});
