import { expect, inject } from 'vitest';
import type { Prisma } from '../../infra/db/prisma.js';
import { DEMO_PASSWORD } from '../../infra/seed/demo.js';

/** Polls `fn` until it returns a value that is not undefined (the read model lags the engine). */
export async function eventually<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** JSON request to our API, as the holder of `token` (anonymous without one); returns status and parsed body. */
export async function api<T = unknown>(
  method: string,
  path: string,
  body?: unknown,
  opts: { token?: string } = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetch(`${inject('apiUrl')}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const parsed = text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text || null;
  return { status: res.status, body: parsed as T, headers: res.headers };
}

const tokens = new Map<string, Promise<string>>();

/** A session token of a demo user (signed in once per test file). */
export function loginAs(username: string, password = DEMO_PASSWORD): Promise<string> {
  let token = tokens.get(username);
  if (!token) {
    token = api<{ token: string }>('POST', '/api/auth/login', { username, password }).then((res) => {
      if (res.status !== 200) throw new Error(`login as ${username} failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.token;
    });
    tokens.set(username, token);
  }
  return token;
}

/** A function calling the API as one user: `const asTeacher = await as('teacher-3'); await asTeacher('GET', …)`. */
export async function as(username: string) {
  const token = await loginAs(username);
  return <T = unknown>(method: string, path: string, body?: unknown) => api<T>(method, path, body, { token });
}

/** A caller made by `as(username)`. */
export type Caller = Awaited<ReturnType<typeof as>>;

/** Completes a task through the API as `caller` and expects it accepted (204), showing the body if not. */
export async function completeTask(caller: Caller, task: { userTaskKey: string }, body: unknown): Promise<void> {
  const res = await caller('POST', `/api/tasks/${task.userTaskKey}/complete`, body);
  expect(res.status, JSON.stringify(res.body)).toBe(204);
}

/**
 * People of the seeded demo county for a jurisdiction test: a teacher with pupils, one of her pupils,
 * her school and town, and a school, class and town elsewhere.
 */
export async function demoPeople(prisma: Prisma) {
  const teacher = await prisma.user.findFirstOrThrow({
    where: { role: 'TEACHER', class: { registry: { some: { status: 'ENROLLED' } } } },
    include: { class: true },
    orderBy: { id: 'asc' },
  });
  const pupil = await prisma.child.findFirstOrThrow({
    where: { currentClassId: teacher.classId },
    orderBy: { id: 'asc' },
  });
  const school = await prisma.user.findFirstOrThrow({ where: { role: 'SCHOOL', schoolId: teacher.schoolId } });
  const town = await prisma.user.findFirstOrThrow({ where: { role: 'TOWN', regionCode: teacher.regionCode } });
  const otherTeacher = await prisma.user.findFirstOrThrow({
    // A demo teacher (other files add teachers of their own, some without a password).
    where: {
      role: 'TEACHER',
      username: { startsWith: 'teacher-' },
      classId: { not: teacher.classId },
      class: { registry: { some: {} } },
    },
    include: { class: true },
    orderBy: { id: 'desc' },
  });
  const otherPupil = await prisma.child.findFirstOrThrow({ where: { currentClassId: otherTeacher.classId } });
  const otherSchool = await prisma.user.findFirstOrThrow({
    where: { role: 'SCHOOL', schoolId: { not: teacher.schoolId } },
  });
  // A child of another town who is not at school in the teacher's town either, and that town's officer.
  const otherTownPupil = await prisma.child.findFirstOrThrow({
    where: {
      regionCode: { not: { startsWith: teacher.regionCode } },
      registry: { none: { regionCode: { startsWith: teacher.regionCode } } },
    },
    orderBy: { id: 'asc' },
  });
  const otherTown = await prisma.user.findFirstOrThrow({
    where: { role: 'TOWN', regionCode: otherTownPupil.regionCode.slice(0, 9) },
  });
  return { teacher, pupil, school, town, otherTeacher, otherPupil, otherSchool, otherTown, otherTownPupil };
}

/** The caller's open tasks of one instance and element, once the read model has `n` of them. */
export async function openTasksOf<T = { userTaskKey: string; elementId: string; processInstanceKey: string }>(
  caller: Caller,
  processInstanceKey: string,
  elementId: string,
  n = 1,
): Promise<T[]> {
  return eventually(async () => {
    const res = await caller<{ data: T[] }>(
      'GET',
      `/api/tasks?processInstanceKey=${processInstanceKey}&type=${elementId}&perPage=100`,
    );
    return res.body.data.length >= n ? res.body.data : undefined;
  }, `${n} × ${elementId}`);
}

/**
 * A pupil of the class with no dropout case yet: a test that reports one starts from a clean file,
 * whichever test files ran before it and reported the class's first pupil.
 */
export async function pupilWithoutCase(prisma: Prisma, classId: number | null) {
  return prisma.child.findFirstOrThrow({
    where: { currentClassId: classId, cases: { none: {} } },
    orderBy: { id: 'desc' },
  });
}
