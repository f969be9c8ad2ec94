/**
 * A search box matches the text typed, literally: `_` and `%` are characters of a name, not LIKE's
 * wildcards (issue 17). prisma's `contains`/`startsWith` hand the text to PostgreSQL's LIKE unescaped
 * (pinned below, so that a prisma that starts escaping itself is noticed: our escaping would then be
 * doubled); every list route (cases, children, schools, towns, users) and the case and children exports
 * escape it (api/auth/scope.ts escapeLike). The expected answer of each search is the caller's whole list
 * filtered in JavaScript with `includes` (and `startsWith` on a code), so other files' data does not matter.
 */
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPrisma } from '../../infra/db/prisma.js';
import { type Caller, as, demoPeople, eventually, loginAs, pupilWithoutCase } from './helpers.js';

const prisma = createPrisma(inject('appDatabaseUrl'));

/** What each search must find: the literal wildcards, an escape character, a substring of a name. */
const STAMP = Date.now().toString(36);
const NAMES = {
  underscore: `检索_甲${STAMP}`,
  percent: `检索%乙${STAMP}`,
  plain: `检索丙${STAMP}`,
};
const SEARCHES = ['_', '%', '\\', '%_', `_甲${STAMP}`, `检索`, `丙${STAMP}`, `甲${STAMP}`, 'a_b'];

type Row = Record<string, unknown> & { id: string | number };

/** Every row of a list route, page by page (500 at a time, the routes' maximum). */
async function everything(caller: Caller, path: string): Promise<Row[]> {
  const rows: Row[] = [];
  for (let page = 1; ; page++) {
    const sep = path.includes('?') ? '&' : '?';
    const res = await caller<{ data: Row[]; total: number }>('GET', `${path}${sep}perPage=500&page=${page}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    rows.push(...res.body.data);
    if (rows.length >= res.body.total || res.body.data.length === 0) return rows;
  }
}

const ids = (rows: Row[]) => rows.map((r) => r.id).sort();

/** For each search: the route's answer is exactly the whole list's rows that `matches`. */
async function expectLiteral(caller: Caller, path: string, matches: (row: Row, q: string) => boolean) {
  const all = await everything(caller, path);
  const sep = path.includes('?') ? '&' : '?';
  for (const q of SEARCHES) {
    const found = await everything(caller, `${path}${sep}q=${encodeURIComponent(q)}`);
    expect(ids(found), `${path} q=${q}`).toEqual(ids(all.filter((r) => matches(r, q))));
  }
  return all;
}

const text = (row: Row, key: string) => String(row[key] ?? '');

let people: Awaited<ReturnType<typeof demoPeople>>;
let bureau: Caller;
/** The records renamed for the test and their names before, put back after it. */
const renamed = { children: [] as { id: string; name: string }[], schools: [] as { id: number; name: string }[] };
let town: { id: number; name: string };
const userIds: number[] = [];
const caseIds: string[] = [];

beforeAll(async () => {
  people = await demoPeople(prisma);
  bureau = await as('bureau');
  // Three children of the teacher's class renamed, two of them with a case.
  for (const [kind, name] of Object.entries(NAMES)) {
    const child = await pupilWithoutCase(prisma, people.teacher.classId);
    renamed.children.push({ id: child.id, name: child.name });
    await prisma.child.update({ where: { id: child.id }, data: { name } });
    if (kind === 'plain') continue;
    const res = await bureau('POST', '/api/dropout-reports', {
      child: child.id,
      lastAttendance: '2026-11-02',
      reason: '测试：按姓名检索',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const opened = await eventually(
      async () => (await prisma.dropoutCase.findFirst({ where: { childId: child.id } })) ?? undefined,
      'the opened case',
    );
    caseIds.push(opened.id);
  }
  // Two schools and a town of the county renamed.
  const schools = await prisma.school.findMany({
    where: { regionCode: { startsWith: people.town.regionCode } },
    orderBy: { id: 'asc' },
    take: 2,
  });
  expect(schools).toHaveLength(2);
  for (const [i, s] of schools.entries()) {
    renamed.schools.push({ id: s.id, name: s.name });
    await prisma.school.update({
      where: { id: s.id },
      data: { name: i === 0 ? NAMES.underscore : NAMES.percent },
    });
  }
  const region = await prisma.region.findUniqueOrThrow({ where: { code: people.town.regionCode } });
  town = { id: region.id, name: region.name };
  await prisma.region.update({ where: { id: region.id }, data: { name: NAMES.underscore } });
  // Accounts: one with a `_` in its username, one with a `%` in its display name, one plain.
  for (const [username, displayName] of [
    [`lit_${STAMP}`, '检索账号'],
    [`lit-${STAMP}`, NAMES.percent],
    [`lit${STAMP}`, NAMES.plain],
  ] as const) {
    const user = await prisma.user.create({
      data: {
        username,
        displayName,
        passwordHash: 'not-a-hash',
        role: 'TOWN',
        regionId: people.town.regionId,
        regionCode: people.town.regionCode,
      },
    });
    userIds.push(user.id);
  }
});

afterAll(async () => {
  for (const c of renamed.children) await prisma.child.update({ where: { id: c.id }, data: { name: c.name } });
  for (const s of renamed.schools) await prisma.school.update({ where: { id: s.id }, data: { name: s.name } });
  if (town) await prisma.region.update({ where: { id: town.id }, data: { name: town.name } });
  await prisma.user.deleteMany({ where: { id: { in: userIds } } });
  await prisma.$disconnect();
});

describe('prisma’s own string filters on PostgreSQL', () => {
  it('treat % and _ in the text as wildcards (why every search escapes them)', async () => {
    const classId = people.teacher.classId;
    const pupils = await prisma.child.count({ where: { currentClassId: classId } });
    expect(pupils).toBeGreaterThan(3);
    // Unescaped, "_" and "%" match every name; escaped with the default `\`, only the literal ones.
    expect(await prisma.child.count({ where: { currentClassId: classId, name: { contains: '_' } } })).toBe(pupils);
    expect(await prisma.child.count({ where: { currentClassId: classId, name: { contains: '%' } } })).toBe(pupils);
    expect(await prisma.child.count({ where: { currentClassId: classId, name: { startsWith: '_' } } })).toBe(pupils);
    const literal = await prisma.child.findMany({ where: { currentClassId: classId, name: { contains: '\\_' } } });
    expect(literal.map((c) => c.name)).toEqual([NAMES.underscore]);
    expect(
      (await prisma.child.findMany({ where: { currentClassId: classId, name: { contains: '\\%' } } })).map(
        (c) => c.name,
      ),
    ).toEqual([NAMES.percent]);
    // Case-sensitive, as LIKE is (the searches keep it: no `mode: 'insensitive'`).
    const user = await prisma.user.findUniqueOrThrow({ where: { id: userIds[0] } });
    expect(await prisma.user.count({ where: { id: user.id, username: { contains: 'LIT' } } })).toBe(0);
  });
});

describe('every list search matches the text literally', () => {
  it('the case list (its one SQL statement)', async () => {
    const all = await expectLiteral(bureau, `/api/cases?schoolId=${people.teacher.schoolId}`, (r, q) =>
      text(r, 'childName').includes(q),
    );
    expect(all.filter((r) => caseIds.includes(String(r.id)))).toHaveLength(2);
    const underscore = await everything(bureau, `/api/cases?schoolId=${people.teacher.schoolId}&q=_`);
    expect(underscore.map((r) => r.childName)).toEqual([NAMES.underscore]);
    expect(underscore.length).toBeLessThan(all.length);
    // And a case number still finds its case.
    const [first] = underscore as [Row];
    const byNumber = await everything(bureau, `/api/cases?q=${encodeURIComponent(String(first.caseNumber))}`);
    expect(ids(byNumber)).toEqual([first.id]);
  });

  it('the children list', async () => {
    const all = await expectLiteral(bureau, `/api/children?classId=${people.teacher.classId}`, (r, q) =>
      text(r, 'name').includes(q),
    );
    expect(all.length).toBeGreaterThan(3);
    const found = await everything(bureau, `/api/children?classId=${people.teacher.classId}&q=%25`);
    expect(found.map((r) => r.name)).toEqual([NAMES.percent]);
  });

  it('the schools (name, or the start of the code)', async () => {
    const all = await expectLiteral(
      bureau,
      '/api/schools',
      (r, q) => text(r, 'name').includes(q) || text(r, 'code').startsWith(q),
    );
    expect(all.length).toBeGreaterThan(2);
    const found = await everything(bureau, '/api/schools?q=_');
    expect(found.map((r) => r.name)).toEqual([NAMES.underscore]);
    // A code's start still finds its schools.
    const code = text(all[0]!, 'code').slice(0, 9);
    expect(ids(await everything(bureau, `/api/schools?q=${code}`))).toEqual(
      ids(all.filter((r) => text(r, 'code').startsWith(code) || text(r, 'name').includes(code))),
    );
  });

  it('the towns (name, or the start of the code)', async () => {
    const all = await expectLiteral(
      bureau,
      '/api/towns',
      (r, q) => text(r, 'name').includes(q) || text(r, 'code').startsWith(q),
    );
    expect(all.length).toBeGreaterThan(1);
    expect((await everything(bureau, '/api/towns?q=_')).map((r) => r.name)).toEqual([NAMES.underscore]);
    expect(await everything(bureau, '/api/towns?q=%25')).toEqual([]);
  });

  it('the accounts (username or display name)', async () => {
    const all = await expectLiteral(
      bureau,
      '/api/users',
      (r, q) => text(r, 'username').includes(q) || text(r, 'displayName').includes(q),
    );
    expect(all.filter((r) => userIds.includes(Number(r.id)))).toHaveLength(3);
    expect((await everything(bureau, '/api/users?q=_')).map((r) => r.username)).toEqual([`lit_${STAMP}`]);
    expect((await everything(bureau, '/api/users?q=%25')).map((r) => r.username)).toEqual([`lit-${STAMP}`]);
    expect(ids(await everything(bureau, `/api/users?q=${STAMP}`))).toEqual([...userIds].sort());
  });
});

describe('the exports search as their lists do', () => {
  async function csv(path: string): Promise<string[][]> {
    const token = await loginAs('bureau');
    const res = await fetch(`${inject('apiUrl')}${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer()).toString('utf8');
    expect(body.startsWith('\uFEFF')).toBe(true);
    return (parse(body.slice(1)) as string[][]).slice(1);
  }

  it('the case export: "_" and "%" only the literal names, a substring all three', async () => {
    const base = `/api/exports/cases?format=csv&schoolId=${people.teacher.schoolId}`;
    // Column 2 is the child's name.
    expect((await csv(`${base}&q=_`)).map((r) => r[1])).toEqual([NAMES.underscore]);
    expect((await csv(`${base}&q=%25`)).map((r) => r[1])).toEqual([NAMES.percent]);
    expect((await csv(`${base}&q=%25_`)).map((r) => r[1])).toEqual([]);
    expect((await csv(`${base}&q=${encodeURIComponent('检索')}`)).map((r) => r[1]).sort()).toEqual(
      [NAMES.underscore, NAMES.percent].sort(),
    );
    expect((await csv(base)).length).toBeGreaterThanOrEqual(2);
  });

  it('the children export', async () => {
    const base = `/api/exports/children?format=csv&classId=${people.teacher.classId}`;
    expect((await csv(`${base}&q=_`)).map((r) => r[0])).toEqual([NAMES.underscore]);
    expect((await csv(`${base}&q=%25`)).map((r) => r[0])).toEqual([NAMES.percent]);
    expect((await csv(`${base}&q=${encodeURIComponent('检索')}`)).map((r) => r[0]).sort()).toEqual(
      Object.values(NAMES).sort(),
    );
  });
});
