/**
 * The inbox's and the case list's jurisdiction as their faster queries answer it (issue 17's speed
 * rows, bench/api.ts): the bureau's county-wide inbox (thousands of candidate groups, matched by hash)
 * finds exactly the county's open tasks, also by a task's second group, and reports its total on any
 * page; a town's case list holds the cases of its schools and of the children registered in it, the
 * child's household kept on the case and following the child when it moves.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { groupsWithin } from '../../api/tasks/access.js';
import { createEngineClient } from '../../infra/camunda/client.js';
import { createEngineRecords } from '../../infra/camunda/records.js';
import { REPO_ROOT } from '../../infra/config.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { as, demoPeople, eventually, pupilWithoutCase } from './helpers.js';
import { testConfig } from './test-env.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
const records = createEngineRecords(inject('engineDatabaseUrl'));
const engine = createEngineClient(testConfig());
afterAll(() => Promise.all([prisma.$disconnect(), records.close(), engine.close()]));

const COUNTY = '370481';
type Task = { userTaskKey: string; dueDate: string | null; processInstanceKey: string };
type List<T> = { data: T[]; total: number };

let bureau: Awaited<ReturnType<typeof as>>;
beforeAll(async () => {
  bureau = await as('bureau');
});

/** Open tasks offered to two groups (the fixture), started here so the file needs no other test's tasks. */
async function probeTasks(groups: [string, string][]) {
  await engine.grpc.deployResource({ processFilename: path.join(REPO_ROOT, 'tests/fixtures/two-groups-probe.bpmn') });
  return Promise.all(
    groups.map(async ([firstGroup, secondGroup]) => {
      const { processInstanceKey } = await engine.startProcess('test-two-groups', { firstGroup, secondGroup });
      return eventually(async () => (await records.openUserTasks({ processInstanceKey })).data[0], 'the probe task');
    }),
  );
}

describe('the bureau’s county-wide inbox', () => {
  let probes: Awaited<ReturnType<typeof probeTasks>> = [];
  let klass: { id: number };
  beforeAll(async () => {
    klass = await prisma.schoolClass.findFirstOrThrow({
      where: { school: { regionCode: { startsWith: COUNTY } } },
      orderBy: { id: 'asc' },
    });
    probes = await probeTasks([
      ['town:999999001', `class:${klass.id}`], // the county's by its second group
      [`bureau:${COUNTY}`, 'town:999999001'],
      [`class:${klass.id}`, `town:${COUNTY}001`],
      ['town:999999001', 'school:999999999'], // no group of the county
    ]);
  });
  afterAll(async () => {
    for (const t of probes) await engine.completeUserTask(t.userTaskKey, {}).catch(() => undefined);
  });

  it('finds exactly the open tasks of the county’s groups, in due-date order, with the total on every page', async () => {
    const countyGroups = new Set(await groupsWithin(prisma, COUNTY));
    expect(countyGroups.size).toBeGreaterThan(32); // the hashed path of records.openUserTasks
    const { rows } = await records.pool.query<{ key: string; candidate_groups: string[] }>(
      `SELECT key::text, candidate_groups FROM engine_user_task WHERE state = 'CREATED'`,
    );
    const expected = rows.filter((r) => r.candidate_groups.some((g) => countyGroups.has(g))).length;
    expect(expected).toBeGreaterThan(0);

    const first = await bureau<List<Task>>('GET', '/api/tasks?view=all&perPage=50');
    expect(first.status).toBe(200);
    expect(first.body.total).toBe(expected);
    // Due date first (no due date last), then the key as a number, not as text.
    const order = first.body.data.map((t) => ({
      due: t.dueDate ? Date.parse(t.dueDate) : Infinity,
      key: BigInt(t.userTaskKey),
    }));
    for (let i = 1; i < order.length; i++) {
      const [a, b] = [order[i - 1]!, order[i]!];
      expect(a.due < b.due || (a.due === b.due && a.key < b.key)).toBe(true);
    }
    const past = await bureau<List<Task>>('GET', `/api/tasks?view=all&perPage=50&page=${Math.ceil(expected / 50) + 1}`);
    expect(past.body.data).toEqual([]);
    expect(past.body.total).toBe(expected);
  });

  it('finds a task by its second candidate group, and not one of no group of the county', async () => {
    const [inside, outside] = [probes[0]!, probes[3]!];
    const found = await bureau<List<Task>>(
      'GET',
      `/api/tasks?view=all&processInstanceKey=${inside.processInstanceKey}`,
    );
    expect(found.body.total).toBe(1);
    expect(found.body.data.map((t) => t.processInstanceKey)).toEqual([inside.processInstanceKey]);
    const notFound = await bureau<List<Task>>(
      'GET',
      `/api/tasks?view=all&processInstanceKey=${outside.processInstanceKey}`,
    );
    expect(notFound.body).toEqual({ data: [], total: 0 });
  });
});

/** Each town of the county lists exactly the cases of its schools or its children (through the child's row). */
async function expectEveryTownsList() {
  const towns = await prisma.user.findMany({
    where: { role: 'TOWN', regionCode: { startsWith: COUNTY }, username: { startsWith: 'town-' } },
    orderBy: { id: 'asc' },
  });
  let seen = 0;
  for (const town of towns) {
    // The definition, through the child's own row.
    const expected = await prisma.dropoutCase.findMany({
      where: {
        OR: [
          { regionCode: { startsWith: town.regionCode } },
          { child: { regionCode: { startsWith: town.regionCode } } },
        ],
      },
      select: { id: true },
    });
    const res = await (await as(town.username))<List<{ id: string }>>('GET', '/api/cases?perPage=500');
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(expected.length);
    if (expected.length <= 500) {
      expect(res.body.data.map((x) => x.id).sort()).toEqual(expected.map((x) => x.id).sort());
    }
    seen += expected.length;
  }
  expect(seen).toBeGreaterThan(0);
}

describe('a town’s case list', () => {
  it('holds the cases of its schools and of the children registered in it, following a child who moves', async () => {
    const people = await demoPeople(prisma);
    const towns = await prisma.user.findMany({
      where: {
        role: 'TOWN',
        username: { startsWith: 'town-' },
        regionCode: { startsWith: COUNTY, not: people.town.regionCode },
      },
      orderBy: { id: 'asc' },
      take: 2,
    });
    const [householdTown, movedToTown] = towns;
    if (!householdTown || !movedToTown) throw new Error('the demo county needs three towns');
    const pupil = await pupilWithoutCase(prisma, people.teacher.classId);
    const school = await prisma.school.findUniqueOrThrow({ where: { id: pupil.currentSchoolId! } });
    expect(school.regionCode.startsWith(people.town.regionCode)).toBe(true);
    // The child's household in another town than the school's, before the case opens.
    await prisma.child.update({ where: { id: pupil.id }, data: { regionCode: householdTown.regionCode } });
    const c = await prisma.dropoutCase.create({
      data: {
        childId: pupil.id,
        schoolId: school.id,
        classId: pupil.currentClassId,
        regionCode: school.regionCode,
        reason: '列表范围测试：户籍在外镇',
        processInstanceKey: `list-scope-${Date.now()}`,
      },
    });
    try {
      const sees = async (username: string) =>
        (await (await as(username))<List<{ id: string }>>('GET', `/api/cases?id=${c.id}`)).body.total === 1;
      expect(await sees(people.town.username)).toBe(true); // the school's town
      expect(await sees(householdTown.username)).toBe(true); // the child's
      expect(await sees(movedToTown.username)).toBe(false);
      await expectEveryTownsList();

      await prisma.child.update({ where: { id: pupil.id }, data: { regionCode: movedToTown.regionCode } });
      expect(await sees(movedToTown.username)).toBe(true);
      expect(await sees(householdTown.username)).toBe(false);
      expect(await sees(people.town.username)).toBe(true);
      await expectEveryTownsList();
    } finally {
      await prisma.dropoutCase.delete({ where: { id: c.id } });
      await prisma.child.update({ where: { id: pupil.id }, data: { regionCode: pupil.regionCode } });
    }
  });
});
