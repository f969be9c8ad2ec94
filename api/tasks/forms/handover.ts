/** The whole-class handover's user tasks (processes/whole-class-handover.bpmn). */
import type { Tx } from '../../../infra/db/prisma.js';
import { needsTransitionSupport } from '../../domain/vulnerable.js';
import { VULNERABILITY_LABELS } from '../../reports/labels.js';
import { AppError } from '../../errors.js';
import { defineTaskForm, subjectId, subjectOf, type TaskContext } from '../define-form.js';
import * as S from '../schemas/handover.js';

/** The plan line (one class) the task is about: the `assignment` the diagram's multi-instance gives it. */
const flagLabels = (flags: (keyof typeof VULNERABILITY_LABELS)[]) =>
  flags.map((f) => VULNERABILITY_LABELS[f]).join('、');

/** The class's roster with each pupil, by name (what a roster form lists). */
async function rosterOf(tx: Tx, context: TaskContext) {
  const a = await assignmentOf(tx, context);
  return tx.handoverPupil.findMany({
    where: { assignmentId: a.id },
    include: { child: true },
    orderBy: { child: { name: 'asc' } },
  });
}

async function assignmentOf(tx: Tx, context: TaskContext) {
  const id = await subjectId<number>(context, 'assignment', 'assignmentId', 'number');
  const a = id === undefined ? null : await tx.handoverAssignment.findUnique({ where: { id } });
  if (!a) throw new AppError('NOT_FOUND', undefined, '该任务对应的移交班级不存在。');
  return a;
}

/** The county government's approval of the handover plan, recorded by the bureau ([G] 一). */
export const approveHandoverPlan = defineTaskForm({
  ...S.approveHandoverPlan,
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
  ...S.assignReceivingSchools,
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
  ...S.handOverRoster,
  async apply(tx, _task, _input, _actor, context) {
    const a = await assignmentOf(tx, context);
    if (!a.sendingSignedAt)
      await tx.handoverAssignment.update({ where: { id: a.id }, data: { sendingSignedAt: new Date() } });
    return {};
  },
});

/** [G] 二 the receiving middle school checks the roster received and signs. */
export const receiveRoster = defineTaskForm({
  ...S.receiveRoster,
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
  ...S.countersignHandover,
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
  ...S.planTransitionSupport,
  async prepare(tx, _task, _actor, context) {
    const roster = await rosterOf(tx, context);
    const due = roster.filter((p) => needsTransitionSupport(p.child.flags));
    return {
      initial: { plans: due.map((p) => ({ childId: p.childId, measures: '', responsiblePerson: '' })) },
      lines: Object.fromEntries(due.map((p) => [p.childId, `${p.child.name}（${flagLabels(p.child.flags)}）`])),
    };
  },
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
  ...S.registerArrivals,
  async prepare(tx, _task, _actor, context) {
    const roster = await rosterOf(tx, context);
    return {
      // Most of a class arrives: the school unticks the no-shows.
      initial: { pupils: roster.map((p) => ({ childId: p.childId, arrived: p.status !== 'NO_SHOW' })) },
      lines: Object.fromEntries(roster.map((p) => [p.childId, p.child.name])),
    };
  },
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
  ...S.traceNoShowPupil,
  async prepare(tx, _task, _actor, context) {
    const childId = await subjectId<string>(context, 'noShow', 'childId', 'string');
    const child = childId === undefined ? null : await tx.child.findUnique({ where: { id: childId } });
    if (!child) throw new AppError('NOT_FOUND', undefined, '该任务对应的未报到学生不存在。');
    const a = await assignmentOf(tx, context);
    const pupil = await tx.handoverPupil.findUnique({
      where: { assignmentId_childId: { assignmentId: a.id, childId: child.id } },
    });
    return { subject: subjectOf(child, `未报到${pupil?.traceNote ? `：${pupil.traceNote}` : ''}`) };
  },
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
