/**
 * The inbox, the case list and the session lookup read with one plain SQL statement each (issue 17: prisma's
 * query interpretation was most of their CPU). Each must answer exactly what the prisma queries it replaced
 * answered: the case list against `caseWhere` (scope.cases AND the filters) for every kind of caller and
 * every filter and order; the jurisdiction's candidate groups against the schools, classes and regions read
 * by prisma; an inbox row's town and assignee; and a session that ends (logout, expiry, a deactivated user)
 * ends at the caller's next request.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Actor } from '../../api/auth/actor.js';
import { openSessions, toActor } from '../../api/auth/sessions.js';
import { caseFilters, caseInclude, caseWhere, listCases, toCase } from '../../api/routes/cases.js';
import { groupsWithin } from '../../api/tasks/access.js';
import { paging } from '../../api/resources/list.js';
import { createEngineClient } from '../../infra/camunda/client.js';
import { createEngineRecords } from '../../infra/camunda/records.js';
import { REPO_ROOT } from '../../infra/config.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { api, as, demoPeople, eventually, pupilWithoutCase } from './helpers.js';
import { testConfig } from './test-env.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
const records = createEngineRecords(inject('engineDatabaseUrl'));
const engine = createEngineClient(testConfig());
afterAll(() => Promise.all([prisma.$disconnect(), records.close(), engine.close()]));

const COUNTY = '370481';

/** The case list as prisma answered it before (page with child and school, and the count). */
async function prismaList(actor: Actor, query: Record<string, unknown>) {
  const q = caseFilters.parse(query);
  const where = caseWhere(actor, q);
  const [rows, total] = await Promise.all([
    prisma.dropoutCase.findMany({ where, include: caseInclude, ...paging(q, 'openedAt') }),
    prisma.dropoutCase.count({ where }),
  ]);
  return { data: rows.map(toCase), total };
}

describe('the case list in one statement', () => {
  const cases: { id: string; serial: number; childId: string; schoolId: number; processInstanceKey: string }[] = [];
  let actors: Actor[] = [];
  let people: Awaited<ReturnType<typeof demoPeople>>;
  beforeAll(async () => {
    people = await demoPeople(prisma);
    const bureau = await as('bureau');
    // Two cases of our own (of two schools), so that no list here is empty because no other file ran.
    for (const classId of [people.teacher.classId, people.otherTeacher.classId]) {
      const child = await pupilWithoutCase(prisma, classId);
      const res = await bureau('POST', '/api/dropout-reports', {
        child: child.id,
        lastAttendance: '2026-11-02',
        reason: '测试：连续旷课 50% _下划线',
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      cases.push(
        await eventually(
          async () => (await prisma.dropoutCase.findFirst({ where: { childId: child.id } })) ?? undefined,
          'the opened case',
        ),
      );
    }
    const users = await prisma.user.findMany({
      where: {
        OR: [{ role: 'ADMIN' }, { regionCode: { startsWith: COUNTY } }],
        AND: {
          OR: [
            { role: { not: 'TEACHER' } },
            { classId: { in: [people.teacher.classId!, people.otherTeacher.classId!] } },
          ],
        },
      },
      orderBy: { id: 'asc' },
    });
    actors = users.map((u) => {
      const actor = toActor(u);
      // The justice bureau holds what the engine says; here: the first of our cases.
      if (u.role === 'JUSTICE') actor.heldCaseInstances = [cases[0]!.processInstanceKey];
      return actor;
    });
    expect(new Set(actors.map((a) => a.role))).toEqual(
      new Set(['TEACHER', 'SCHOOL', 'TOWN', 'BUREAU', 'JUSTICE', 'POLICE', 'POLICY', 'SUPERVISOR', 'ADMIN']),
    );
  });

  it('lists for every caller exactly the cases (and the total) prisma’s scope.cases gave', async () => {
    let seen = 0;
    for (const actor of actors) {
      const ours = await listCases(prisma, actor, caseFilters.parse({ perPage: '500' }));
      expect(ours, `${actor.username} (${actor.role})`).toEqual(await prismaList(actor, { perPage: '500' }));
      seen += ours.data.filter((c) => cases.some((x) => x.id === c.id)).length;
    }
    expect(seen).toBeGreaterThan(0);
  });

  it('applies every filter, order and page as caseWhere and paging() did', async () => {
    const [a, b] = cases as [(typeof cases)[number], (typeof cases)[number]];
    const child = await prisma.child.findUniqueOrThrow({ where: { id: a.childId } });
    const queries: Record<string, unknown>[] = [
      {},
      { q: child.name.slice(0, 2) },
      { q: child.name },
      { q: String(a.serial) },
      { q: `辍-2026-${String(b.serial).padStart(6, '0')}` },
      { q: '%' },
      { q: '_' },
      { q: '50%' },
      { q: '\\' },
      { status: 'OPEN' },
      { status: 'CLOSED' },
      { regionCode: people.town.regionCode },
      { regionCode: '379999' },
      { schoolId: String(a.schoolId) },
      { childId: a.childId },
      { open: 'true' },
      { open: 'false' },
      { id: [a.id, b.id, 'not-a-uuid'] },
      { id: 'not-a-uuid' },
      { page: '2', perPage: '1' },
      ...(['openedAt', 'status', 'regionCode', 'serial'] as const).flatMap((sort) => [
        { sort, order: 'ASC' },
        { sort, order: 'DESC', perPage: '3' },
      ]),
    ];
    const callers = actors.filter(
      (x) =>
        ['BUREAU', 'JUSTICE', 'SCHOOL'].includes(x.role) ||
        x.username === people.town.username ||
        x.username === people.teacher.username,
    );
    let nonEmpty = 0;
    for (const actor of callers) {
      for (const query of queries) {
        const ours = await listCases(prisma, actor, caseFilters.parse(query));
        expect(ours, `${actor.username} ${JSON.stringify(query)}`).toEqual(await prismaList(actor, query));
        if (ours.data.length) nonEmpty++;
      }
    }
    expect(nonEmpty).toBeGreaterThan(queries.length);
    // And through the API: the bureau's page, with the ID number masked as before.
    const bureau = await as('bureau');
    const res = await bureau<{ data: { id: string; childIdNumber: string }[]; total: number }>(
      'GET',
      `/api/cases?id=${a.id}&id=${b.id}`,
    );
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(2);
    expect(res.body.data.every((c) => /^\d{6}\*{10}[\dX]{2}$/.test(c.childIdNumber))).toBe(true);
  });
});

describe('the jurisdiction’s candidate groups in one statement', () => {
  /** The groups as the three prisma queries read them. */
  async function prismaGroups(regionCode: string, schoolId?: number) {
    const schoolWhere = schoolId
      ? { id: schoolId, regionCode: { startsWith: regionCode } }
      : { regionCode: { startsWith: regionCode } };
    const [schools, classes, regions] = await Promise.all([
      prisma.school.findMany({ where: schoolWhere, select: { id: true } }),
      prisma.schoolClass.findMany({ where: { school: schoolWhere }, select: { id: true } }),
      schoolId
        ? []
        : prisma.region.findMany({
            where: { code: { startsWith: regionCode }, level: { in: ['COUNTY', 'TOWN'] } },
            select: { code: true, level: true },
          }),
    ]);
    return [
      ...schools.map((s) => `school:${s.id}`),
      ...classes.map((c) => `class:${c.id}`),
      ...regions.flatMap((r) =>
        r.level === 'TOWN' ? [`town:${r.code}`] : [`bureau:${r.code}`, `justice:${r.code}`, `police:${r.code}`],
      ),
    ].sort();
  }

  it('are the schools, classes, towns and county offices prisma found, for a county, a town and a school', async () => {
    const people = await demoPeople(prisma);
    const county = await groupsWithin(prisma, COUNTY);
    expect(county.length).toBeGreaterThan(32);
    expect([...county].sort()).toEqual(await prismaGroups(COUNTY));
    expect(county).toContain(`bureau:${COUNTY}`);
    expect([...(await groupsWithin(prisma, people.town.regionCode))].sort()).toEqual(
      await prismaGroups(people.town.regionCode),
    );
    const school = await groupsWithin(prisma, COUNTY, { schoolId: people.teacher.schoolId! });
    expect([...school].sort()).toEqual(await prismaGroups(COUNTY, people.teacher.schoolId!));
    expect(school).toContain(`class:${people.teacher.classId}`);
    expect(await groupsWithin(prisma, '379999')).toEqual([]);
  });
});

describe('an inbox row of no case and no child', () => {
  it('names the town of its class’s school and its assignee', async () => {
    const people = await demoPeople(prisma);
    await engine.grpc.deployResource({ processFilename: path.join(REPO_ROOT, 'tests/fixtures/two-groups-probe.bpmn') });
    const { processInstanceKey } = await engine.startProcess('test-two-groups', {
      firstGroup: `class:${people.teacher.classId}`,
      secondGroup: 'town:999999001',
    });
    const teacher = await as(people.teacher.username);
    type Row = { userTaskKey: string; townCode: string | null; townName: string | null; assigneeName: string | null };
    const row = await eventually(async () => {
      const res = await teacher<{ data: Row[] }>('GET', `/api/tasks?processInstanceKey=${processInstanceKey}`);
      return res.body.data[0];
    }, 'the probe task');
    const school = await prisma.school.findUniqueOrThrow({ where: { id: people.teacher.schoolId! } });
    const town = await prisma.region.findUniqueOrThrow({ where: { code: school.regionCode.slice(0, 9) } });
    expect(row).toMatchObject({ townCode: town.code, townName: town.name, assigneeName: null });
    expect((await teacher('POST', `/api/tasks/${row.userTaskKey}/claim`)).status).toBe(204);
    const claimed = await eventually(async () => {
      const res = await teacher<{ data: Row[] }>('GET', `/api/tasks?processInstanceKey=${processInstanceKey}`);
      return res.body.data[0]?.assigneeName ? res.body.data[0] : undefined;
    }, 'the claimed task');
    expect(claimed.assigneeName).toBe(people.teacher.displayName);
    await engine.completeUserTask(row.userTaskKey, {}).catch(() => undefined);
  });
});

describe('the county-wide inbox total (counted in two disjoint parts)', () => {
  it('counts a task once whichever of its groups is in the county, and not at all when none is', async () => {
    const people = await demoPeople(prisma);
    const county = await groupsWithin(prisma, COUNTY);
    expect(county.length).toBeGreaterThan(32); // the many-groups path
    await engine.grpc.deployResource({ processFilename: path.join(REPO_ROOT, 'tests/fixtures/two-groups-probe.bpmn') });
    const inside = `class:${people.teacher.classId}`;
    const outside = 'town:999999001';
    const cases: [string, string, number][] = [
      [inside, outside, 1],
      [outside, inside, 1], // only the second group is the county's
      [inside, `bureau:${COUNTY}`, 1], // both are: still one task
      [outside, 'town:999999002', 0],
    ];
    for (const [firstGroup, secondGroup, expected] of cases) {
      const { processInstanceKey } = await engine.startProcess('test-two-groups', { firstGroup, secondGroup });
      const page = await eventually(async () => {
        const all = await records.openUserTasks({ processInstanceKey });
        return all.total === 1 ? records.openUserTasks({ processInstanceKey, groupsAny: county }) : undefined;
      }, 'the probe task');
      expect({ firstGroup, secondGroup, total: page.total, rows: page.data.length }).toEqual({
        firstGroup,
        secondGroup,
        total: expected,
        rows: expected,
      });
      const task = (await records.openUserTasks({ processInstanceKey })).data[0]!;
      await engine.completeUserTask(task.userTaskKey, {});
    }
  });
});

describe('the session lookup (exact on every request, no cache)', () => {
  it('ends a session at the next request after logout, expiry or the user’s deactivation', async () => {
    const people = await demoPeople(prisma);
    const user = await prisma.user.create({
      data: {
        username: `list-sql-${Date.now()}`,
        displayName: '会话测试',
        passwordHash: 'not-a-hash',
        role: 'TOWN',
        regionId: people.town.regionId,
        regionCode: people.town.regionCode,
      },
    });
    const me = (token: string) => api<{ username: string }>('GET', '/api/auth/me', undefined, { token });
    // Three sessions of the same user (openSessions answers one token per user id).
    const session = async () => [...(await openSessions(prisma, [user.id])).values()][0]!;
    const [a, b, c] = [await session(), await session(), await session()];
    for (const token of [a, b, c]) expect((await me(token)).status).toBe(200);
    expect((await me(a)).body.username).toBe(user.username);

    expect((await api('POST', '/api/auth/logout', undefined, { token: a })).status).toBe(204);
    expect((await me(a)).status).toBe(401);
    expect((await me(b)).status).toBe(200);

    const { createHash } = await import('node:crypto');
    await prisma.session.update({
      where: { tokenHash: createHash('sha256').update(b).digest('hex') },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    expect((await me(b)).status).toBe(401);
    expect((await me(c)).status).toBe(200);

    await prisma.user.update({ where: { id: user.id }, data: { active: false } });
    expect((await me(c)).status).toBe(401);
    expect((await api('GET', '/api/tasks', undefined, { token: c })).status).toBe(401);
  });
});
