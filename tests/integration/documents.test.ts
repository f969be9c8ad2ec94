/**
 * Against the real database: numbered documents (责令限期改正通知书 …) get unique, consecutive numbers per
 * kind, county and year, even when issued concurrently; a redelivered issue returns the same document.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { formatDocumentNumber, issueDocument } from '../../api/domain/documents.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { as, demoPeople, loginAs } from './helpers.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
afterAll(() => prisma.$disconnect());

let caseId: string;
/** A year of its own, so that other tests' documents do not share the sequence. */
const ISSUED_AT = new Date('2031-05-06T02:00:00Z');

beforeAll(async () => {
  const people = await demoPeople(prisma);
  const c = await prisma.dropoutCase.create({
    data: {
      childId: people.pupil.id,
      schoolId: people.teacher.schoolId!,
      regionCode: people.teacher.regionCode,
      processInstanceKey: `documents-test-${Date.now()}`,
    },
  });
  caseId = c.id;
});

const issue = (key: string, kind: 'CORRECTION_ORDER' | 'URGE_ENROLLMENT' = 'CORRECTION_ORDER') =>
  prisma.$transaction((tx) =>
    issueDocument(tx, {
      caseId,
      kind,
      issuedBy: '荆河街道办事处',
      body: '限期改正',
      idempotencyKey: key,
      issuedAt: ISSUED_AT,
    }),
  );

describe('numbered case documents', () => {
  it('numbers 20 concurrent issues 1…20 without a gap or a duplicate, per kind', async () => {
    const docs = await Promise.all(Array.from({ length: 20 }, (_, i) => issue(`concurrent-${i}`)));
    const expected = Array.from({ length: 20 }, (_, i) => formatDocumentNumber('CORRECTION_ORDER', 2031, i + 1));
    expect(docs.map((d) => d.number).sort()).toEqual(expected.sort());
    expect((await issue('other-kind', 'URGE_ENROLLMENT')).number).toBe('督学〔2031〕第000001号');
  });

  it('returns the same document for a repeated idempotency key, and gives a rolled-back number again', async () => {
    const first = await issue('redelivered');
    expect(await issue('redelivered')).toEqual(first);
    await expect(
      prisma.$transaction(async (tx) => {
        await issueDocument(tx, {
          caseId,
          kind: 'CORRECTION_ORDER',
          issuedBy: 'x',
          body: 'x',
          idempotencyKey: 'rolled-back',
          issuedAt: ISSUED_AT,
        });
        throw new Error('the issuing step failed');
      }),
    ).rejects.toThrow('the issuing step failed');
    const next = await issue('after-rollback');
    expect(Number(next.number.match(/第(\d+)号/)![1])).toBe(Number(first.number.match(/第(\d+)号/)![1]) + 1);
    expect(await prisma.caseDocument.count({ where: { idempotencyKey: 'rolled-back' } })).toBe(0);
  });

  it('stores the printed HTML and serves it only within the case’s jurisdiction, auditing each download', async () => {
    const doc = await prisma.$transaction((tx) =>
      issueDocument(tx, {
        caseId,
        kind: 'CORRECTION_ORDER',
        issuedBy: '荆河街道办事处',
        body: '张三（父亲）：\n限你于2031年5月16日前送子女复学。<script>alert(1)</script>',
        idempotencyKey: 'printed',
        issuedAt: ISSUED_AT,
      }),
    );
    const people = await demoPeople(prisma);
    const town = await as(people.town.username);
    const res = await fetch(`${inject('apiUrl')}/api/cases/${caseId}/documents/${doc.id}`, {
      headers: { authorization: `Bearer ${await loginAs(people.town.username)}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    expect(html).toContain('<h1>责令限期改正通知书</h1>');
    expect(html).toContain(doc.number);
    expect(html).toContain('2031年5月6日');
    expect(html).toContain('&lt;script&gt;');
    expect(html).not.toContain('<script>');
    expect(
      await prisma.auditEvent.count({ where: { entity: 'CaseDocument', entityId: doc.id, action: 'READ_PERSONAL' } }),
    ).toBe(1);
    // Another town neither gets the document nor learns that the case exists.
    const other = await as(people.otherTown.username);
    expect((await other('GET', `/api/cases/${caseId}/documents/${doc.id}`)).status).toBe(404);
    expect((await town('GET', `/api/cases/${caseId}/documents/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
  });
});
