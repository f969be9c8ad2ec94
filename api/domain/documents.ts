/**
 * Numbered documents issued on a case: 责令限期改正通知书 (town), 敦促入学通知书 (town), 司法文书 (justice
 * bureau). Numbers run per kind, county and year — 滕州 2026's twelfth correction order is
 * 责改〔2026〕第000012号 in county 370481 — and are taken inside the issuing transaction: a rolled-back
 * issue returns its number, and no number is ever given out twice.
 */
import type { CaseDocument, DocumentKind } from '../../generated/prisma/client.js';
import type { Tx } from '../../infra/db/prisma.js';
import { chinaYear } from './china-time.js';

/** The word before the year in each kind's number (文号 prefix). */
export const DOCUMENT_PREFIX: Record<DocumentKind, string> = {
  CORRECTION_ORDER: '责改',
  URGE_ENROLLMENT: '督学',
  JUDICIAL_NOTICE: '司法',
  SCHOOL_REPORT: '校报',
};

/** Each kind's printed title. */
export const DOCUMENT_TITLE: Record<DocumentKind, string> = {
  CORRECTION_ORDER: '责令限期改正通知书',
  URGE_ENROLLMENT: '敦促入学通知书',
  JUDICIAL_NOTICE: '司法文书',
  SCHOOL_REPORT: '学校辍学情况书面报告',
};

export function formatDocumentNumber(kind: DocumentKind, year: number, serial: number): string {
  return `${DOCUMENT_PREFIX[kind]}〔${year}〕第${String(serial).padStart(6, '0')}号`;
}

export interface IssueDocument {
  caseId: string;
  kind: DocumentKind;
  /** Who issues it (office and person, as printed). */
  issuedBy: string;
  body: string;
  /** The date by which the family must comply (限期), for orders and notices. */
  deadline?: Date;
  /** The job or task that issues it: a redelivered job gets the document it already issued. */
  idempotencyKey: string;
  issuedAt?: Date;
}

/** Issues (or, for a repeated idempotency key, returns) the numbered document. Call inside a transaction. */
export async function issueDocument(tx: Tx, doc: IssueDocument): Promise<CaseDocument> {
  const existing = await tx.caseDocument.findUnique({ where: { idempotencyKey: doc.idempotencyKey } });
  if (existing) return existing;
  const c = await tx.dropoutCase.findUniqueOrThrow({ where: { id: doc.caseId }, select: { regionCode: true } });
  const issuedAt = doc.issuedAt ?? new Date();
  const year = chinaYear(issuedAt);
  const county = c.regionCode.slice(0, 6);
  // One statement takes the next number: concurrent issuers queue on the counter row.
  const [counter] = await tx.$queryRaw<[{ last: number }]>`
    INSERT INTO "DocumentCounter" (kind, "regionCode", year, last)
    VALUES (${doc.kind}::"DocumentKind", ${county}, ${year}, 1)
    ON CONFLICT (kind, "regionCode", year) DO UPDATE SET last = "DocumentCounter".last + 1
    RETURNING last`;
  return tx.caseDocument.create({
    data: {
      caseId: doc.caseId,
      kind: doc.kind,
      regionCode: county,
      number: formatDocumentNumber(doc.kind, year, counter.last),
      issuedAt,
      deadline: doc.deadline ?? null,
      issuedBy: doc.issuedBy,
      body: doc.body,
      idempotencyKey: doc.idempotencyKey,
    },
  });
}
