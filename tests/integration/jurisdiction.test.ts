/**
 * Against the real API and database: every list and record is filtered by the caller's jurisdiction
 * in the data layer — tried as a teacher of another class, a town officer of another town and with
 * guessed ids — personal data is masked in lists and audited on the record page, and writes are
 * validated and all-or-nothing.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { checkIdNumber, idCheckChar } from '../../api/domain/id-number.js';
import { createPrisma } from '../../infra/db/prisma.js';
import fs from 'node:fs';
import path from 'node:path';
import { as, demoPeople, eventually, pupilWithoutCase } from './helpers.js';
import { TEST_DATA_DIR } from './test-env.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
afterAll(() => prisma.$disconnect());

type Child = {
  id: string;
  idNumber: string;
  currentClassId: number | null;
  regionCode: string;
  guardians: { phone: string | null }[];
};
type List<T> = { data: T[]; total: number };
let people: Awaited<ReturnType<typeof demoPeople>>;
let teacher: Awaited<ReturnType<typeof as>>;
let town: Awaited<ReturnType<typeof as>>;

beforeAll(async () => {
  people = await demoPeople(prisma);
  teacher = await as(people.teacher.username);
  town = await as(people.town.username);
});

/** A valid 身份证号 that no demo child has (a 2015 birth, sequence from the test's own range). */
function freshIdNumber(seq: number): string {
  const first17 = `370481201503${String(10 + (seq % 18)).padStart(2, '0')}9${String(seq % 100).padStart(2, '0')}`;
  return first17 + idCheckChar(first17);
}

/** What a caller learns about one child from one response: the fields that bear on the ID number. */
type View = {
  idNumber?: string | null;
  studentNumber?: string | null;
  gender?: string;
  birthDate?: string;
  birthMonth?: string;
};

/**
 * Every 身份证号 consistent with what the views show together: the masked number's visible characters
 * (and the student number's, G + ID), the birth date or month, the gender (parity of the 17th digit)
 * and the check character. One candidate means the mask was undone.
 */
function idCandidates(views: View[]): string[] {
  const shown = (v: string | null | undefined) => (v ? /[\dX*]{18}$/.exec(v)?.[0] : undefined);
  const masks = views.flatMap((v) => [shown(v.idNumber), shown(v.studentNumber)]).filter((m) => m !== undefined);
  const fits = (id: string) => masks.every((m) => [...m].every((ch, i) => ch === '*' || ch === id[i]));
  const date = views.find((v) => v.birthDate)?.birthDate;
  const month = date?.slice(0, 7) ?? views.find((v) => v.birthMonth)?.birthMonth;
  if (!month || masks.length === 0) throw new Error('the views show neither a masked ID number nor a birth month');
  const male = views.some((v) => v.gender === 'MALE' || v.gender === '男');
  const region = masks[0]!.slice(0, 6);
  const found: string[] = [];
  for (let day = 1; day <= 31; day++) {
    const ymd = `${month}-${String(day).padStart(2, '0')}`;
    if (date && ymd !== date) continue;
    for (let seq = 0; seq < 1000; seq++) {
      if (seq % 2 !== (male ? 1 : 0)) continue;
      const first17 = `${region}${ymd.replaceAll('-', '')}${String(seq).padStart(3, '0')}`;
      const id = first17 + idCheckChar(first17);
      if (fits(id) && checkIdNumber(id).ok) found.push(id);
    }
  }
  return found;
}

describe('jurisdiction and privacy', () => {
  it('masks so that no list, task context or combination of them gives an ID number away', async () => {
    // The class list, and the home-visit task's context of one of its pupils.
    const pupil = await pupilWithoutCase(prisma, people.teacher.classId);
    const reported = await teacher<{ processInstanceKey: string }>('POST', '/api/dropout-reports', {
      child: pupil.id,
      lastAttendance: '2026-11-16',
      reason: '连续旷课',
    });
    expect(reported.status, JSON.stringify(reported.body)).toBe(201);
    const task = await eventually(async () => {
      const res = await teacher<{ data: { userTaskKey: string }[] }>(
        'GET',
        `/api/tasks?processInstanceKey=${reported.body.processInstanceKey}`,
      );
      return res.body.data[0];
    }, 'the home-visit task');
    const context = await teacher<{ subject: View & { childId: string } }>(
      'GET',
      `/api/tasks/${task.userTaskKey}/context`,
    );
    expect(context.status).toBe(200);
    const list = await teacher<List<Child & View>>('GET', '/api/children?perPage=500');
    const cases = await teacher<List<{ childId: string; childIdNumber: string }>>('GET', '/api/cases?perPage=500');
    // The reported pupil (list and context together) and 19 classmates (the list alone).
    const listed = [
      ...list.body.data.filter((c) => c.id === pupil.id),
      ...list.body.data.filter((c) => c.id !== pupil.id).slice(0, 19),
    ];
    expect(listed.map((c) => c.id)).toContain(pupil.id);
    const truth = new Map(
      (await prisma.child.findMany({ where: { id: { in: listed.map((c) => c.id) } } })).map((c) => [c.id, c]),
    );
    for (const row of listed) {
      const views: View[] = [row];
      if (row.id === context.body.subject.childId) views.push(context.body.subject);
      for (const c of cases.body.data.filter((c) => c.childId === row.id)) views.push({ idNumber: c.childIdNumber });
      const child = truth.get(row.id)!;
      // What the views show together fits many numbers, not one …
      const candidates = idCandidates(views);
      expect(candidates).toContain(child.idNumber);
      expect(candidates.length, `${row.idNumber}: ${candidates.length} candidates`).toBeGreaterThanOrEqual(100);
      const text = JSON.stringify(views);
      // … and neither the number nor the birth date it encodes is in any of them.
      expect(text).not.toContain(child.idNumber);
      expect(text).not.toContain(child.birthDate.toISOString().slice(0, 10));
    }
  });

  it('shows a teacher exactly her class’s children, masked', async () => {
    const res = await teacher<List<Child>>('GET', '/api/children?perPage=500');
    expect(res.status).toBe(200);
    const inClass = await prisma.child.count({ where: { currentClassId: people.teacher.classId } });
    expect(res.body.total).toBe(inClass);
    expect(res.body.data.length).toBe(inClass);
    expect(res.body.data.every((c) => c.currentClassId === people.teacher.classId)).toBe(true);
    for (const c of res.body.data) {
      expect(c.idNumber).toMatch(/^\d{6}\*{10}[\dX]{2}$/);
      for (const g of c.guardians) if (g.phone) expect(g.phone).toMatch(/^\d{3}\*{4}\d{4}$/);
    }
  });

  it('shows the full record on its own page and audits that read', async () => {
    const before = await prisma.auditEvent.count({ where: { action: 'READ_PERSONAL', entityId: people.pupil.id } });
    const res = await teacher<Child>('GET', `/api/children/${people.pupil.id}`);
    expect(res.status).toBe(200);
    expect(res.body.idNumber).toBe(people.pupil.idNumber);
    // Ordered by id: without an ORDER BY PostgreSQL returns rows in whatever order the plan gives
    // (CI once returned an earlier reader's event last).
    const after = await prisma.auditEvent.findMany({
      where: { action: 'READ_PERSONAL', entityId: people.pupil.id },
      orderBy: { id: 'asc' },
    });
    expect(after.length).toBe(before + 1);
    expect(after.at(-1)).toMatchObject({ userId: people.teacher.id, entity: 'Child' });
  });

  it('shows the child’s registry records to the class, not to another class', async () => {
    const res = await teacher<{ data: { schoolId: number; status: string; changes: unknown[] }[] }>(
      'GET',
      `/api/children/${people.pupil.id}/registry`,
    );
    expect(res.status).toBe(200);
    const records = await prisma.registryRecord.findMany({ where: { childId: people.pupil.id } });
    expect(res.body.data.map((r) => r.schoolId)).toEqual(records.map((r) => r.schoolId));
    expect(res.body.data[0]).toMatchObject({ schoolId: people.teacher.schoolId, status: 'ENROLLED' });
    expect((await teacher('GET', `/api/children/${people.otherPupil.id}/registry`)).status).toBe(404);
  });

  it('keeps ID numbers out of the log, even when a caller searches by one', async () => {
    const logFile = path.join(TEST_DATA_DIR, 'logs', 'app.log');
    const lines = () => fs.readFileSync(logFile, 'utf8');
    const before = lines().split('"route":"/api/children"').length;
    const audited = () =>
      prisma.auditEvent.count({ where: { action: 'READ_PERSONAL', entity: 'Child', entityId: people.pupil.id } });
    const readsBefore = await audited();
    const found = await teacher<List<Child>>('GET', `/api/children?idNumber=${people.pupil.idNumber}`);
    expect(found.body.total).toBe(1);
    // A hit confirms a full number: it is a read of personal data like the record page (so guessing
    // numbers against the list leaves a trail).
    expect(await audited()).toBe(readsBefore + 1);
    await eventually(
      async () => (lines().split('"route":"/api/children"').length > before ? true : undefined),
      'the request to be logged',
    );
    expect(lines()).not.toContain(people.pupil.idNumber);
  });

  it('answers 404 for another class’s child, another town’s child and guessed ids — and audits nothing', async () => {
    const before = await prisma.auditEvent.count({ where: { action: 'READ_PERSONAL' } });
    expect((await teacher('GET', `/api/children/${people.otherPupil.id}`)).status).toBe(404);
    expect((await town('GET', `/api/children/${people.otherTownPupil.id}`)).status).toBe(404);
    expect((await town('GET', `/api/children/${randomUUID()}`)).status).toBe(404);
    expect((await town('GET', '/api/children/not-a-uuid')).status).toBe(400);
    expect((await town('PUT', `/api/children/${people.otherTownPupil.id}`, { name: '改名' })).status).toBe(404);
    expect(await prisma.auditEvent.count({ where: { action: 'READ_PERSONAL' } })).toBe(before);
    const unchanged = await prisma.child.findUniqueOrThrow({ where: { id: people.otherTownPupil.id } });
    expect(unchanged.name).toBe(people.otherTownPupil.name);
  });

  it('lets a town officer list only the town’s children, even when asking for another town by filter or id', async () => {
    /** Children registered in the town, or at one of its schools. */
    const allInTown = async (ids: string[]) => {
      const rows = await prisma.child.findMany({ where: { id: { in: ids } }, include: { registry: true } });
      expect(rows).toHaveLength(ids.length);
      return rows.every(
        (c) =>
          c.regionCode.startsWith(people.town.regionCode) ||
          c.registry.some((r) => r.regionCode.startsWith(people.town.regionCode)),
      );
    };
    const res = await town<List<Child>>('GET', '/api/children?perPage=500');
    expect(res.status).toBe(200);
    expect(res.body.total).toBeGreaterThan(0);
    expect(await allInTown(res.body.data.map((c) => c.id))).toBe(true);
    // Filtering by another town narrows inside the scope; it never widens it.
    const filtered = await town<List<Child>>(
      'GET',
      `/api/children?regionCode=${people.otherTown.regionCode}&perPage=500`,
    );
    expect(await allInTown(filtered.body.data.map((c) => c.id))).toBe(true);
    const byId = await town<List<Child>>('GET', `/api/children?id=${people.otherTownPupil.id}`);
    expect(byId.body).toEqual({ data: [], total: 0 });
  });

  it('scopes schools, classes and users to the caller', async () => {
    const schools = await teacher<List<{ id: number }>>('GET', '/api/schools');
    expect(schools.body.data.map((s) => s.id)).toEqual([people.teacher.schoolId]);
    expect((await teacher('GET', `/api/schools/${people.otherSchool.schoolId}`)).status).toBe(404);
    const classes = await teacher<List<{ id: number }>>('GET', '/api/classes');
    expect(classes.body.data.map((c) => c.id)).toEqual([people.teacher.classId]);
    const users = await teacher<List<{ id: number }>>('GET', '/api/users');
    expect(users.body.data.map((u) => u.id)).toEqual([people.teacher.id]);
    const townSchools = await town<List<{ regionCode: string }>>('GET', '/api/schools?perPage=500');
    expect(townSchools.body.total).toBeGreaterThan(0);
    expect(townSchools.body.data.every((s) => s.regionCode === people.town.regionCode)).toBe(true);
    const towns = await town<List<{ code: string }>>('GET', '/api/towns');
    expect(towns.body.data.map((t) => t.code)).toEqual([people.town.regionCode]);
  });

  it('pages and sorts lists with a total, and refuses oversized pages', async () => {
    const bureau = await as('bureau');
    const page1 = await bureau<List<{ id: string; name: string }>>(
      'GET',
      '/api/children?sort=name&order=ASC&page=1&perPage=5',
    );
    const page2 = await bureau<List<{ id: string; name: string }>>(
      'GET',
      '/api/children?sort=name&order=ASC&page=2&perPage=5',
    );
    expect(page1.body.data).toHaveLength(5);
    // The county's children: registered in it or at school in it (other tests add children elsewhere).
    const inCounty = await prisma.child.count({
      where: {
        OR: [
          { regionCode: { startsWith: '370481' } },
          { registry: { some: { regionCode: { startsWith: '370481' } } } },
        ],
      },
    });
    expect(page1.body.total).toBe(inCounty);
    expect(page1.body.data.map((c) => c.id).filter((id) => page2.body.data.some((d) => d.id === id))).toEqual([]);
    const names = page1.body.data.map((c) => c.name);
    expect([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(names);
    expect((await bureau('GET', '/api/children?perPage=100000')).status).toBe(400);
    expect((await bureau('GET', "/api/children?sort=idNumber';DROP TABLE")).status).toBe(400);
  });

  it('registers a child with a valid ID number once, derives birth date and gender, and refuses bad input clearly', async () => {
    const idNumber = freshIdNumber(7);
    const body = {
      idNumber,
      name: '测试儿童',
      regionCode: people.town.regionCode,
      guardians: [{ name: '家长', relation: '母亲', phone: '13800138000' }],
    };
    const created = await town<Child & { birthDate: string; gender: string }>('POST', '/api/children', body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ idNumber, birthDate: `2015-03-${idNumber.slice(12, 14)}`, gender: 'MALE' });
    expect((await town('POST', '/api/children', body)).status).toBe(409);

    const badCheck = idNumber.slice(0, 17) + (idNumber[17] === '0' ? '1' : '0');
    const bad = await town<{ error: { details: { message: string }[] } }>('POST', '/api/children', {
      ...body,
      idNumber: badCheck,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0]!.message).toMatch(/校验位/);
    const elsewhere = await town('POST', '/api/children', {
      ...body,
      idNumber: freshIdNumber(8),
      regionCode: people.otherTown.regionCode,
    });
    expect(elsewhere.status).toBe(400);
    expect(await prisma.child.count({ where: { idNumber: { in: [badCheck, freshIdNumber(8)] } } })).toBe(0);
    expect((await teacher('POST', '/api/children', { ...body, idNumber: freshIdNumber(9) })).status).toBe(403);
  });

  it('lets supervisors query the audit log, which nobody can rewrite', async () => {
    await teacher('GET', `/api/children/${people.pupil.id}`);
    const supervisor = await as('supervisor');
    const res = await supervisor<List<{ action: string; userId: number; entityId: string }>>(
      'GET',
      `/api/audit-events?action=READ_PERSONAL&entityId=${people.pupil.id}&userId=${people.teacher.id}`,
    );
    expect(res.status).toBe(200);
    expect(res.body.total).toBeGreaterThan(0);
    expect(res.body.data.every((e) => e.action === 'READ_PERSONAL' && e.userId === people.teacher.id)).toBe(true);
    expect((await teacher('GET', '/api/audit-events')).status).toBe(403);

    const first = await prisma.auditEvent.findFirstOrThrow();
    await expect(prisma.auditEvent.update({ where: { id: first.id }, data: { entity: 'forged' } })).rejects.toThrow(
      /append-only/,
    );
    await expect(prisma.auditEvent.deleteMany({})).rejects.toThrow(/append-only/);
    expect((await prisma.auditEvent.findUniqueOrThrow({ where: { id: first.id } })).entity).toBe(first.entity);
  });
});
