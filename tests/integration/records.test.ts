/**
 * Against the real API and database: writing the reference data (towns, schools, classes) and the
 * case file (一人一案) — by the roles allowed to, inside their jurisdiction only, audited.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPrisma } from '../../infra/db/prisma.js';
import { as, demoPeople, eventually, pupilWithoutCase } from './helpers.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
afterAll(() => prisma.$disconnect());

let people: Awaited<ReturnType<typeof demoPeople>>;
let bureau: Awaited<ReturnType<typeof as>>;
let school: Awaited<ReturnType<typeof as>>;

beforeAll(async () => {
  people = await demoPeople(prisma);
  bureau = await as('bureau');
  school = await as(people.school.username);
});

describe('reference data', () => {
  it('lets the bureau add a school to one of its towns once, and nobody else', async () => {
    const body = { code: '3137049999', name: '测试实验中学', kind: 'MIDDLE', regionCode: people.town.regionCode };
    const created = await bureau<{ id: number; regionCode: string }>('POST', '/api/schools', body);
    expect(created.status).toBe(201);
    expect(created.body.regionCode).toBe(people.town.regionCode);
    expect((await bureau('POST', '/api/schools', body)).status).toBe(409);
    expect(
      (await bureau('POST', '/api/schools', { ...body, code: '3137049998', regionCode: '370402001' })).status,
    ).toBe(400);
    const town = await as(people.town.username);
    expect((await town('POST', '/api/schools', { ...body, code: '3137049997' })).status).toBe(403);
    expect(await prisma.school.count({ where: { code: { in: ['3137049998', '3137049997'] } } })).toBe(0);
    expect(
      await prisma.auditEvent.count({
        where: { action: 'CREATE', entity: 'School', entityId: String(created.body.id) },
      }),
    ).toBe(1);
  });

  it('lets a school update itself and open classes, but not another school', async () => {
    const own = await school<{ principal: string }>('PUT', `/api/schools/${people.teacher.schoolId}`, {
      principal: '新校长',
    });
    expect(own).toMatchObject({ status: 200, body: { principal: '新校长' } });
    expect((await school('PUT', `/api/schools/${people.otherSchool.schoolId}`, { principal: 'x' })).status).toBe(404);

    const cls = { schoolId: people.teacher.schoolId, schoolYear: 2030, grade: 1, name: '一年级(9)班' };
    const created = await school<{ id: number; pupils: number }>('POST', '/api/classes', cls);
    expect(created).toMatchObject({ status: 201, body: { pupils: 0 } });
    expect((await school('POST', '/api/classes', cls)).status).toBe(409);
    expect((await school('POST', '/api/classes', { ...cls, schoolId: people.otherSchool.schoolId })).status).toBe(404);
    const teacher = await as(people.teacher.username);
    expect((await teacher('PUT', `/api/classes/${created.body.id}`, { name: '改' })).status).toBe(403);
  });

  it('lets the bureau name a town’s education office', async () => {
    const townRow = await prisma.region.findUniqueOrThrow({ where: { code: people.town.regionCode } });
    const res = await bureau<{ educationOffice: string }>('PUT', `/api/towns/${townRow.id}`, {
      educationOffice: '测试教育办',
    });
    expect(res).toMatchObject({ status: 200, body: { educationOffice: '测试教育办' } });
    const town = await as(people.town.username);
    expect((await town('PUT', `/api/towns/${townRow.id}`, { educationOffice: 'x' })).status).toBe(403);
  });
});

describe('the case file (一人一案)', () => {
  it('is read and written by the case’s school and town, and invisible to other towns', async () => {
    const teacher = await as(people.teacher.username);
    const started = await teacher<{ processInstanceKey: string }>('POST', '/api/dropout-reports', {
      child: (await pupilWithoutCase(prisma, people.teacher.classId)).id,
      lastAttendance: '2026-11-10',
      reason: '家庭经济困难，外出务工',
    });
    const c = await eventually(
      () =>
        prisma.dropoutCase
          .findUnique({ where: { processInstanceKey: started.body.processInstanceKey } })
          .then((r) => r ?? undefined),
      'the case to be opened',
    );

    const list = await school<{ data: { id: string; childIdNumber: string; caseNumber: string }[] }>(
      'GET',
      `/api/cases?childId=${c.childId}&open=true`,
    );
    const listed = list.body.data.find((x) => x.id === c.id)!;
    expect(listed.caseNumber).toMatch(/^辍-\d{4}-\d{6}$/);
    expect(listed.childIdNumber).toContain('*');

    const plan = { reasonCode: 'A2', plan: '班主任每周家访，联系务工地父母', responsiblePerson: '王老师' };
    const updated = await school<typeof plan>('PUT', `/api/cases/${c.id}`, plan);
    expect(updated).toMatchObject({ status: 200, body: plan });
    expect((await school('PUT', `/api/cases/${c.id}`, { reasonCode: 'Z9' })).status).toBe(400);

    const town = await as(people.town.username);
    expect((await town('GET', `/api/cases/${c.id}`)).status).toBe(200);
    const otherTown = await as(people.otherTown.username);
    expect((await otherTown('GET', `/api/cases/${c.id}`)).status).toBe(404);
    expect((await otherTown('GET', `/api/cases/${c.id}/timeline`)).status).toBe(404);
    expect((await otherTown('PUT', `/api/cases/${c.id}`, { plan: 'x' })).status).toBe(404);
    const otherList = await otherTown<{ data: { id: string }[] }>('GET', '/api/cases?perPage=500');
    expect(otherList.body.data.some((x) => x.id === c.id)).toBe(false);
    expect((await prisma.dropoutCase.findUniqueOrThrow({ where: { id: c.id } })).plan).toBe(plan.plan);
  });
});

describe('records by id and the county lists', () => {
  it('reads towns, classes and accounts by id inside the jurisdiction only', async () => {
    const town = await as(people.town.username);
    const own = await prisma.region.findUniqueOrThrow({ where: { code: people.town.regionCode } });
    const other = await prisma.region.findUniqueOrThrow({ where: { code: people.otherTown.regionCode } });
    expect((await town<{ code: string }>('GET', `/api/towns/${own.id}`)).body.code).toBe(own.code);
    expect((await town('GET', `/api/towns/${other.id}`)).status).toBe(404);

    const teacher = await as(people.teacher.username);
    expect((await teacher<{ id: number }>('GET', `/api/classes/${people.teacher.classId}`)).body.id).toBe(
      people.teacher.classId,
    );
    expect((await teacher('GET', `/api/classes/${people.otherTeacher.classId}`)).status).toBe(404);
    expect((await teacher<{ username: string }>('GET', `/api/users/${people.teacher.id}`)).body.username).toBe(
      people.teacher.username,
    );
    expect((await teacher('GET', `/api/users/${people.otherTeacher.id}`)).status).toBe(404);
  });

  it('lets a user rename themselves but not deactivate themselves or touch others', async () => {
    const teacher = await as(people.teacher.username);
    const renamed = await teacher<{ displayName: string }>('PUT', `/api/users/${people.teacher.id}`, {
      displayName: '薛老师',
    });
    expect(renamed).toMatchObject({ status: 200, body: { displayName: '薛老师' } });
    expect((await teacher('PUT', `/api/users/${people.teacher.id}`, { password: 'short' })).status).toBe(400);
    expect((await teacher('PUT', `/api/users/${people.teacher.id}`, { active: false })).status).toBe(403);
    expect((await teacher('PUT', `/api/users/${people.otherTeacher.id}`, { displayName: 'x' })).status).toBe(404);
    const row = await prisma.user.findUniqueOrThrow({ where: { id: people.otherTeacher.id } });
    expect(row.displayName).toBe(people.otherTeacher.displayName);
  });

  it('lists the county’s campaigns and handovers to everyone in the county, and the import formats', async () => {
    const town = await as(people.town.username);
    const campaigns = await town<{ data: { regionCode: string }[]; total: number }>('GET', '/api/campaigns');
    expect(campaigns.status).toBe(200);
    expect(campaigns.body.total).toBe(await prisma.campaign.count({ where: { regionCode: { startsWith: '370481' } } }));
    const handovers = await town<{ total: number }>('GET', '/api/handovers');
    expect(handovers.body.total).toBe(
      await prisma.handoverBatch.count({ where: { regionCode: { startsWith: '370481' } } }),
    );
    const formats = await bureau<{ data: { kind: string }[] }>('GET', '/api/imports/formats');
    expect(formats.body.data.map((f) => f.kind).sort()).toEqual(
      ['disability', 'household', 'poverty', 'registry', 'welfare'].sort(),
    );
  });
});
