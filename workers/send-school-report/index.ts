import { z } from 'zod';
import { issueDocument, schoolReportBody } from '../../api/domain/documents.js';
import { addCaseAction, caseOfInstance, regionName } from '../lib/cases.js';
import { defineWorker } from '../lib/define-worker.js';

/**
 * The school's written report to the town and the county bureau, built from the case file: the
 * child's basic facts, the reason, the measures of the 一人一案 and the result of every home visit.
 */
export default defineWorker({
  type: 'send-school-report',
  description: '学校书面报告镇街和教育局 — [T] 二(四) 学生基本情况、辍学原因、劝返措施、劝返结果',
  input: z.object({}),
  output: z.object({ schoolReportNumber: z.string() }),
  async handler(_input, ctx) {
    return ctx.prisma.$transaction(async (tx) => {
      const c = await caseOfInstance(tx, ctx.processInstanceKey);
      const town = await regionName(tx, c.regionCode);
      const body = schoolReportBody({
        townName: town,
        child: c.child,
        schoolName: c.school.name,
        reasonCode: c.reasonCode,
        reason: c.reason,
        plan: c.plan,
        responsiblePerson: c.responsiblePerson,
        visits: c.actions.filter((a) => a.kind === 'HOME_VISIT'),
      });
      const doc = await issueDocument(tx, {
        caseId: c.id,
        kind: 'SCHOOL_REPORT',
        issuedBy: c.school.name,
        body,
        idempotencyKey: `job:${ctx.jobKey}`,
      });
      await addCaseAction(tx, {
        caseId: c.id,
        kind: 'SCHOOL_REPORTED',
        note: `学校书面报告镇街和县教育局（${doc.number}）`,
        idempotencyKey: `job:${ctx.jobKey}:action`,
      });
      return { schoolReportNumber: doc.number };
    });
  },
});
