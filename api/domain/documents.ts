/**
 * Numbered documents issued on a case: 责令限期改正通知书 (town), 敦促入学通知书 (town), 司法文书 (justice
 * bureau). Numbers run per kind, county and year — 滕州 2026's twelfth correction order is
 * 责改〔2026〕第000012号 in county 370481 — and are taken inside the issuing transaction: a rolled-back
 * issue returns its number, and no number is ever given out twice.
 */
import type { CaseDocument, DocumentKind } from '../../generated/prisma/client.js';
import type { Tx } from '../../infra/db/prisma.js';
import { reasonCodeLabel } from '../reports/labels.js';
import { chinaDay, chinaYear } from './china-time.js';

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
  const number = formatDocumentNumber(doc.kind, year, counter.last);
  return tx.caseDocument.create({
    data: {
      caseId: doc.caseId,
      kind: doc.kind,
      regionCode: county,
      number,
      issuedAt,
      deadline: doc.deadline ?? null,
      issuedBy: doc.issuedBy,
      body: doc.body,
      html: renderDocumentHtml({ kind: doc.kind, number, issuedAt, issuedBy: doc.issuedBy, body: doc.body }),
      idempotencyKey: doc.idempotencyKey,
    },
  });
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** 2026-12-02 → 2026年12月2日 (a calendar day, as printed on a notice). */
export function chineseDay(isoDate: string): string {
  const [y, m, d] = isoDate.split('-').map(Number);
  return `${y}年${m}月${d}日`;
}

/** 2026年11月22日, the day in China of an instant. */
export function chineseDate(at: Date): string {
  return chineseDay(chinaDay(at));
}

/**
 * The printable document: title, number (文号), the body's paragraphs, issuer and date, on an A4 page.
 * Rendered once at issue and stored, so a later change of wording never alters an issued notice.
 */
export function renderDocumentHtml(d: {
  kind: DocumentKind;
  number: string;
  issuedAt: Date;
  issuedBy: string;
  body: string;
}): string {
  const paragraphs = d.body
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => `<p>${escapeHtml(line)}</p>`)
    .join('\n');
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>${escapeHtml(DOCUMENT_TITLE[d.kind])} ${escapeHtml(d.number)}</title>
<style>@page{size:A4;margin:25mm 20mm}body{font-family:"FangSong","STFangsong","Noto Serif CJK SC",serif;font-size:16pt;line-height:1.8}
h1{text-align:center;font-size:22pt;letter-spacing:.2em;margin:0}.number{text-align:center;margin:.5em 0 1.5em}
.issuer{text-align:right;margin-top:3em}</style></head>
<body><h1>${escapeHtml(DOCUMENT_TITLE[d.kind])}</h1><p class="number">${escapeHtml(d.number)}</p>
${paragraphs}
<p class="issuer">${escapeHtml(d.issuedBy)}<br>${chineseDate(d.issuedAt)}</p></body></html>
`;
}

/**
 * The body of the school's written report to the town and the county bureau ([T] 二(四)): the child's
 * basic facts, the reason (its code with its meaning: "A2 厌学辍学"), the measures of the 一人一案 and the
 * result of every home visit — dates as printed, 2015年7月1日.
 */
export function schoolReportBody(c: {
  townName: string;
  child: { name: string; gender: string; birthDate: Date };
  schoolName: string;
  reasonCode: string | null;
  reason: string | null;
  plan: string | null;
  responsiblePerson: string | null;
  visits: { note: string | null }[];
}): string {
  const reason = [reasonCodeLabel(c.reasonCode), c.reason].filter(Boolean).join('；') || '未填写';
  const visits = c.visits.map((v) => chineseDaysIn(v.note ?? '')).join('；');
  return [
    `${c.townName}人民政府、县教育局：`,
    `一、学生基本情况：${c.child.name}，${c.child.gender === 'MALE' ? '男' : '女'}，${c.schoolName}学生，出生于${chineseDay(c.child.birthDate.toISOString().slice(0, 10))}。`,
    `二、辍学原因：${reason}`,
    `三、劝返措施：${c.plan ?? '未填写'}（责任人：${c.responsiblePerson ?? '未指定'}）`,
    `四、劝返结果：${c.visits.length === 0 ? '班主任未在期限内完成家访' : visits}；劝返无效。`,
  ].join('\n');
}

/** ISO days inside a note ("2026-11-18 王老师 家访") as printed: 2026年11月18日. */
export function chineseDaysIn(text: string): string {
  return text.replace(/(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)/g, (whole, y: string, m: string, d: string) =>
    Number(m) >= 1 && Number(m) <= 12 && Number(d) >= 1 && Number(d) <= 31
      ? `${y}年${Number(m)}月${Number(d)}日`
      : whole,
  );
}
