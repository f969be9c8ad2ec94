/** Calling our API as the people who use it, with the patience a caseworker has while something is down. */
import type { EngineRecords } from '../../infra/camunda/records.js';
import type { Prisma } from '../../infra/db/prisma.js';
import { DEMO_PASSWORD } from '../../infra/seed/demo.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Reply<T = unknown> {
  status: number;
  body: T;
}

/** A status the test treats as "the system is down right now, try again": 503, or no answer at all (0). */
export const isTransient = (status: number) => status === 503 || status === 0;

export function apiClient(apiUrl: string) {
  async function call<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
    timeoutMs = 60_000,
  ): Promise<Reply<T>> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    let res: Response;
    try {
      res = await fetch(`${apiUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      return { status: 0, body: String(err) as T };
    }
    const text = await res.text();
    const json = text && res.headers.get('content-type')?.includes('json');
    return { status: res.status, body: (json ? JSON.parse(text) : text) as T };
  }

  const tokens = new Map<string, Promise<string>>();
  function login(username: string): Promise<string> {
    let t = tokens.get(username);
    if (!t) {
      t = retrying(() =>
        call<{ token: string }>('POST', '/api/auth/login', { username, password: DEMO_PASSWORD }),
      ).then((r) => {
        if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${JSON.stringify(r.body)}`);
        return r.body.token;
      });
      t.catch(() => tokens.delete(username));
      tokens.set(username, t);
    }
    return t;
  }

  /** A caller acting as `username`; a request without an answer after `timeoutMs` counts as status 0. */
  function as(username: string, opts: { timeoutMs?: number } = {}) {
    return async <T = unknown>(method: string, path: string, body?: unknown) =>
      call<T>(method, path, body, await login(username), opts.timeoutMs);
  }
  return { call, login, as };
}

export type Caller = ReturnType<ReturnType<typeof apiClient>['as']>;

/** Repeats a request while the system answers 503 (or not at all), up to `timeoutMs`. */
export async function retrying<T>(
  fn: () => Promise<Reply<T>>,
  opts: { timeoutMs?: number; onTransient?: (r: Reply<T>) => void } = {},
): Promise<Reply<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 240_000);
  for (;;) {
    const r = await fn();
    if (!isTransient(r.status) || Date.now() > deadline) return r;
    opts.onTransient?.(r);
    await sleep(500);
  }
}

/** Polls until `fn` returns a value (not undefined). */
export async function eventually<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

/** Waits until the record stream shows every instance of `keys` completed. */
export function everyInstanceCompleted(records: EngineRecords, keys: string[], what: string, timeoutMs: number) {
  return eventually(
    async () => {
      const states = await Promise.all(keys.map((k) => records.processInstanceState(k)));
      return states.every((st) => st === 'COMPLETED') ? true : undefined;
    },
    what,
    timeoutMs,
  );
}

/** Runs `fn` over `items` with at most `limit` at a time; all settle, the first error is thrown after. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  const errors: unknown[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= items.length) return;
        try {
          out[i] = await fn(items[i]!, i);
        } catch (err) {
          errors.push(err);
        }
      }
    }),
  );
  if (errors.length) throw errors[0];
  return out;
}

/** A pupil of the demo county to report: enrolled in a class whose teacher, school and town can sign in. */
export interface Pupil {
  childId: string;
  teacher: string;
  school: string;
  town: string;
}

/** `n` enrolled pupils of the demo county with no dropout case, spread over its classes. */
export async function reportablePupils(prisma: Prisma, n: number, skip = 0): Promise<Pupil[]> {
  const children = await prisma.child.findMany({
    where: { currentClassId: { not: null }, cases: { none: {} }, registry: { some: { status: 'ENROLLED' } } },
    include: { registry: { orderBy: { schoolYear: 'desc' }, take: 1, include: { school: true } } },
    orderBy: { id: 'asc' },
  });
  const schools = new Map(
    (await prisma.user.findMany({ where: { role: 'SCHOOL' } })).map((u) => [u.schoolId, u.username] as const),
  );
  const out: Pupil[] = [];
  for (const c of children) {
    const r = c.registry[0];
    if (!r || r.status !== 'ENROLLED' || r.classId === null || r.classId !== c.currentClassId) continue;
    const school = schools.get(r.schoolId);
    if (!school) continue;
    out.push({ childId: c.id, teacher: `teacher-${r.classId}`, school, town: `town-${r.school.regionCode}` });
  }
  if (out.length < skip + n) throw new Error(`only ${out.length} reportable pupils, need ${skip + n}`);
  return out.slice(skip, skip + n);
}
