/**
 * Engine-backed: what the console reads and writes around a task besides completing it — the task's
 * context (child, case, the statute clause from the deployed diagram, reassignment candidates),
 * attachments (type checked by content, size-limited, scoped like the case) and reassignment.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPrisma } from '../../infra/db/prisma.js';
import { api, as, type Caller, demoPeople, eventually, loginAs, pupilWithoutCase } from './helpers.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
afterAll(() => prisma.$disconnect());

type Task = { userTaskKey: string; elementId: string; assignee: string | null };

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNoAAAAggCBd81ytgAAAABJRU5ErkJggg==',
  'base64',
);

async function upload(username: string, key: string, bytes: Buffer, name: string) {
  const body = new FormData();
  body.append('file', new Blob([new Uint8Array(bytes)]), name);
  const res = await fetch(`${inject('apiUrl')}/api/tasks/${key}/attachments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await loginAs(username)}` },
    body,
  });
  return { status: res.status, body: (await res.json()) as { id: string; error?: { code: string } } };
}

describe('task context, attachments and reassignment (engine-backed)', () => {
  let people: Awaited<ReturnType<typeof demoPeople>>;
  let teacher: Caller;
  let visit: Task;
  let caseId: string;

  beforeAll(async () => {
    people = await demoPeople(prisma);
    teacher = await as(people.teacher.username);
    const child = await pupilWithoutCase(prisma, people.teacher.classId);
    const reported = await teacher<{ processInstanceKey: string }>('POST', '/api/dropout-reports', {
      child: child.id,
      lastAttendance: '2026-11-16',
      reason: '长期不到校',
    });
    expect(reported.status).toBe(201);
    const pik = reported.body.processInstanceKey;
    visit = await eventually(async () => {
      const res = await teacher<{ data: Task[] }>('GET', `/api/tasks?processInstanceKey=${pik}`);
      return res.body.data[0];
    }, 'the home-visit task');
    caseId = (await prisma.dropoutCase.findUniqueOrThrow({ where: { processInstanceKey: pik } })).id;
  });

  it('gives the form its context: the child masked, the case, the clause of the deployed diagram, who may take it', async () => {
    const res = await teacher<{
      clause: string;
      case: { id: string; statusLabel: string };
      subject: { name: string; idNumber: string };
      candidates: { username: string }[];
    }>('GET', `/api/tasks/${visit.userTaskKey}/context`);
    expect(res.status).toBe(200);
    expect(res.body.clause).toMatch(/^\[T\] 二\(四\)/);
    expect(res.body.case).toMatchObject({ id: caseId, statusLabel: '班主任劝返中' });
    expect(res.body.subject.idNumber).toMatch(/^\d{6}\*{10}\d[\dX]$/);
    expect(res.body.candidates.map((c) => c.username)).toEqual([people.teacher.username]);
    const audited = await prisma.auditEvent.count({ where: { entity: 'UserTask', entityId: visit.userTaskKey } });
    expect(audited).toBeGreaterThan(0);
  });

  it('hides another class’s task context (404, as if it did not exist)', async () => {
    const other = await as(people.otherTeacher.username);
    expect((await other('GET', `/api/tasks/${visit.userTaskKey}/context`)).status).toBe(404);
  });

  it('stores a photo with its hash in the case, refuses other types and other people, and audits downloads', async () => {
    const ok = await upload(people.teacher.username, visit.userTaskKey, PNG, '../../照片.png');
    expect(ok.status).toBe(201);
    const saved = await prisma.attachment.findUniqueOrThrow({ where: { id: ok.body.id } });
    expect(saved).toMatchObject({ caseId, fileName: '照片.png', contentType: 'image/png', size: PNG.length });

    const before = await prisma.attachment.count();
    const text = await upload(
      people.teacher.username,
      visit.userTaskKey,
      Buffer.from('<script>alert(1)</script>'),
      'a.png',
    );
    expect(text).toMatchObject({ status: 415, body: { error: { code: 'UNSUPPORTED_FILE' } } });
    const huge = Buffer.concat([PNG, Buffer.alloc(10 * 1024 * 1024)]);
    expect((await upload(people.teacher.username, visit.userTaskKey, huge, 'big.png')).status).toBe(413);
    expect((await upload(people.otherTeacher.username, visit.userTaskKey, PNG, 'x.png')).status).toBe(404);
    expect(await prisma.attachment.count()).toBe(before);

    const school = await as(people.school.username);
    const download = await fetch(`${inject('apiUrl')}/api/attachments/${ok.body.id}`, {
      headers: { authorization: `Bearer ${await loginAs(people.school.username)}` },
    });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await download.arrayBuffer()).equals(PNG)).toBe(true);
    expect(
      (
        await api('GET', `/api/attachments/${ok.body.id}`, undefined, {
          token: await loginAs(people.otherTown.username),
        })
      ).status,
    ).toBe(404);
    const timeline = await school<{ entries: { kind: string; attachmentId: string | null }[] }>(
      'GET',
      `/api/cases/${caseId}/timeline`,
    );
    expect(timeline.body.entries.find((e) => e.kind === 'ATTACHMENT')?.attachmentId).toBe(ok.body.id);
    expect(
      await prisma.auditEvent.count({ where: { entity: 'Attachment', entityId: ok.body.id, action: 'READ_PERSONAL' } }),
    ).toBe(1);
  });

  it('lets the bureau reassign within the task’s unit only', async () => {
    const bureau = await as('bureau');
    const outsider = await bureau('POST', `/api/tasks/${visit.userTaskKey}/assign`, {
      assignee: people.otherTeacher.username,
    });
    expect(outsider.status).toBe(422);
    const res = await bureau('POST', `/api/tasks/${visit.userTaskKey}/assign`, { assignee: people.teacher.username });
    expect(res.status).toBe(204);
    await eventually(async () => {
      const t = await teacher<Task>('GET', `/api/tasks/${visit.userTaskKey}`);
      return t.body.assignee === people.teacher.username ? t : undefined;
    }, 'the assignment to show');
    const stranger = await as(people.otherSchool.username);
    expect(
      (await stranger('POST', `/api/tasks/${visit.userTaskKey}/assign`, { assignee: people.teacher.username })).status,
    ).toBe(404);
  });
});
