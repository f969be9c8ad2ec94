import { z } from 'zod';
import { chineseDay, DOCUMENT_TITLE as TITLE, issueDocument } from '../../api/domain/documents.js';
import { addCaseAction, caseOfInstance, regionName } from '../lib/cases.js';
import { defineWorker } from '../lib/define-worker.js';

const KIND = z.enum(['CORRECTION_ORDER', 'URGE_ENROLLMENT', 'JUDICIAL_NOTICE']);

export const issueCaseDocumentInput = z.object({
  kind: KIND,
  /** The date by which the child must be back in school, computed by the diagram from the parameter table. */
  deadline: z.iso.date(),
});
export const issueCaseDocumentOutput = z.object({ documentNumber: z.string(), documentDeadline: z.iso.date() });

const STATUS = { CORRECTION_ORDER: 'TOWN_ORDERED', URGE_ENROLLMENT: 'URGED', JUDICIAL_NOTICE: 'LEGAL_NOTICE' } as const;

/**
 * Issues the case's numbered notice to the guardians: town orders (责令限期改正, 敦促入学) and the
 * justice bureau's legal document, each with the deadline the diagram computed. One document per job,
 * however often the job is delivered.
 */
export default defineWorker({
  type: 'issue-case-document',
  description: '签发编号文书（责令限期改正通知书、敦促入学通知书、司法文书） — [T] 二(十)、[Y] 三(一)2',
  input: issueCaseDocumentInput,
  output: issueCaseDocumentOutput,
  async handler(input, ctx) {
    return ctx.prisma.$transaction(async (tx) => {
      const c = await caseOfInstance(tx, ctx.processInstanceKey);
      const town = await regionName(tx, c.regionCode);
      const county = await regionName(tx, c.regionCode.slice(0, 6));
      const issuer = input.kind === 'JUDICIAL_NOTICE' ? `${county}司法局` : `${town}人民政府`;
      const guardians = c.child.guardians.map((g) => `${g.name}（${g.relation}）`).join('、') || '监护人';
      const law =
        '根据《中华人民共和国义务教育法》第五条、第十四条和第五十八条，适龄儿童、少年的父母或者其他法定监护人应当依法保证其按时入学接受并完成义务教育。';
      const body = [
        `${guardians}：`,
        `你（们）的子女${c.child.name}系${c.school.name}学生，自${c.lastAttendance ? chineseDay(c.lastAttendance.toISOString().slice(0, 10)) : '近期'}起未到校上学。${law}`,
        input.kind === 'JUDICIAL_NOTICE'
          ? `经镇（街道）批评教育、责令限期改正后仍未送子女复学。现依法敦促你（们）于${chineseDay(input.deadline)}前送子女到${c.school.name}复学；逾期仍不改正、情节严重的，将依法追究法律责任。`
          : input.kind === 'URGE_ENROLLMENT'
            ? `经责令限期改正，你（们）逾期仍未改正。现敦促你（们）于${chineseDay(input.deadline)}前送子女到${c.school.name}复学。`
            : `经批评教育，现责令你（们）于${chineseDay(input.deadline)}前送子女到${c.school.name}复学，逾期不改正的，将依法下达敦促入学通知书或移送司法机关。`,
        `特此通知。`,
      ].join('\n');
      const doc = await issueDocument(tx, {
        caseId: c.id,
        kind: input.kind,
        issuedBy: issuer,
        body,
        deadline: new Date(`${input.deadline}T00:00:00Z`),
        idempotencyKey: `job:${ctx.jobKey}`,
      });
      if (
        await addCaseAction(tx, {
          caseId: c.id,
          kind: `DOCUMENT_${input.kind}`,
          note: `${issuer}签发${TITLE[input.kind]} ${doc.number}，限${chineseDay(input.deadline)}前复学`,
          idempotencyKey: `job:${ctx.jobKey}:action`,
        })
      ) {
        await tx.dropoutCase.update({ where: { id: c.id }, data: { status: STATUS[input.kind] } });
      }
      return { documentNumber: doc.number, documentDeadline: input.deadline };
    });
  },
});
