/**
 * Against the real API and database: signing in and out, lock-out after repeated failures, the
 * password policy, public versus protected routes, and the OpenAPI document.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pino } from 'pino';
import { buildApp } from '../../api/app.js';
import { createEngineClient } from '../../infra/camunda/client.js';
import { createEngineRecords } from '../../infra/camunda/records.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { testConfig } from './test-env.js';
import { MAX_FAILED_LOGINS } from '../../api/auth/sessions.js';
import { api, as } from './helpers.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
afterAll(() => prisma.$disconnect());

const PASSWORD = 'Strong#Pass2026';
let bureau: Awaited<ReturnType<typeof as>>;
let townId: number;

beforeAll(async () => {
  bureau = await as('bureau');
  // A town of the bureau's own county (other tests add regions elsewhere).
  townId = (
    await prisma.region.findFirstOrThrow({
      where: { level: 'TOWN', code: { startsWith: '370481' } },
      orderBy: { code: 'asc' },
    })
  ).id;
});

async function newUser(username: string) {
  const town = await prisma.region.findUniqueOrThrow({ where: { id: townId } });
  const res = await bureau('POST', '/api/users', {
    username,
    displayName: '测试镇干部',
    password: PASSWORD,
    role: 'TOWN',
    regionCode: town.code,
  });
  expect(res.status).toBe(201);
}

describe('authentication', () => {
  it('signs in with a cookie and a token, answers /me, and ends the session on logout', async () => {
    await newUser('auth-roundtrip');
    const login = await api<{ token: string; user: { role: string } }>('POST', '/api/auth/login', {
      username: 'auth-roundtrip',
      password: PASSWORD,
    });
    expect(login.status).toBe(200);
    expect(login.body.user.role).toBe('TOWN');
    const cookie = login.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/kc_session=[^;]+;.*HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);

    const viaCookie = await fetch(`${inject('apiUrl')}/api/auth/me`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(viaCookie.status).toBe(200);
    const token = login.body.token;
    expect((await api('GET', '/api/auth/me', undefined, { token })).status).toBe(200);
    expect(await prisma.session.count({ where: { tokenHash: token } })).toBe(0); // only the hash is stored

    expect((await api('POST', '/api/auth/logout', undefined, { token })).status).toBe(204);
    expect((await api('GET', '/api/auth/me', undefined, { token })).status).toBe(401);
  });

  it(`locks the account after ${MAX_FAILED_LOGINS} wrong passwords, even for the right one, and audits the failures`, async () => {
    await newUser('auth-lockout');
    const attempts = [];
    for (let i = 0; i < MAX_FAILED_LOGINS; i++) {
      attempts.push((await api('POST', '/api/auth/login', { username: 'auth-lockout', password: 'wrong' })).status);
    }
    expect(attempts).toEqual([...Array(MAX_FAILED_LOGINS - 1).fill(401), 423]);
    const right = await api<{ error: { code: string } }>('POST', '/api/auth/login', {
      username: 'auth-lockout',
      password: PASSWORD,
    });
    expect(right).toMatchObject({ status: 423, body: { error: { code: 'ACCOUNT_LOCKED' } } });
    const failures = await prisma.auditEvent.findMany({ where: { action: 'LOGIN_FAILED' } });
    expect(failures.filter((f) => (f.details as { username?: string }).username === 'auth-lockout').length).toBe(
      MAX_FAILED_LOGINS + 1,
    );

    // An administrator unlocks it.
    const locked = await prisma.user.findUniqueOrThrow({ where: { username: 'auth-lockout' } });
    expect((await bureau('PUT', `/api/users/${locked.id}`, { unlock: true })).status).toBe(200);
    expect((await api('POST', '/api/auth/login', { username: 'auth-lockout', password: PASSWORD })).status).toBe(200);
  });

  it('answers an unknown user exactly like a wrong password', async () => {
    const res = await api('POST', '/api/auth/login', { username: 'nobody-here', password: 'whatever' });
    expect(res).toMatchObject({ status: 401, body: { error: { code: 'LOGIN_FAILED' } } });
  });

  it('refuses weak passwords and accounts outside the manager’s jurisdiction, and non-managers', async () => {
    const town = await prisma.region.findUniqueOrThrow({ where: { id: townId } });
    const weak = await bureau<{ error: { details: { path: string[]; message: string }[] } }>('POST', '/api/users', {
      username: 'weak-one',
      displayName: '弱密码',
      password: 'abc123',
      role: 'TOWN',
      regionCode: town.code,
    });
    expect(weak.status).toBe(400);
    expect(weak.body.error.details[0]).toMatchObject({ path: ['password'] });
    const elsewhere = await bureau('POST', '/api/users', {
      username: 'other-county',
      displayName: '外县',
      password: PASSWORD,
      role: 'TOWN',
      regionCode: '37',
    });
    expect(elsewhere.status).toBe(400);
    const teacherUser = await prisma.user.findFirstOrThrow({ where: { role: 'TEACHER' } });
    const teacher = await as(teacherUser.username);
    expect((await teacher('POST', '/api/users', { username: 'x-y-z' })).status).toBe(403);
    expect(await prisma.user.count({ where: { username: { in: ['weak-one', 'other-county'] } } })).toBe(0);
  });

  it('keeps data routes behind sign-in and leaves health, metrics and the API docs public', async () => {
    for (const path of ['/api/children', '/api/tasks', '/api/cases', '/api/users', '/api/auth/me']) {
      expect((await api('GET', path)).status, path).toBe(401);
    }
    expect((await api('GET', '/api/children', undefined, { token: 'forged-token' })).status).toBe(401);
    expect((await api<{ status: string }>('GET', '/health')).body).toEqual({ status: 'UP' });
    const metrics = await api<string>('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/kongchuo_http_request_duration_seconds_bucket\{[^}]*route="\/api\/children"/);
  });

  it('describes every registered route in the OpenAPI document, with its responses', async () => {
    // The route table comes from the app itself, so a new route cannot be left out of the document.
    const engine = createEngineClient(testConfig());
    const records = createEngineRecords(inject('engineDatabaseUrl'));
    const app = await buildApp({ prisma, engine, records, logger: pino({ level: 'silent' }) });
    try {
      await app.ready();
      const doc = app.swagger() as { paths: Record<string, Record<string, { responses?: object }>> };
      const documented = new Set(
        Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)),
      );
      const routes = app.routeTable.map((r) => r.replace(/:(\w+)/g, '{$1}'));
      expect(routes.length).toBeGreaterThan(40);
      expect(routes.filter((r) => !documented.has(r))).toEqual([]);
      const withoutResponses = Object.entries(doc.paths).flatMap(([p, ops]) =>
        Object.entries(ops)
          .filter(([, op]) => !op.responses || Object.keys(op.responses).length === 0)
          .map(([m]) => `${m} ${p}`),
      );
      expect(withoutResponses.filter((r) => !r.endsWith('/metrics'))).toEqual([]);
      // The running server serves the same document.
      const served = await api<{ paths: Record<string, unknown> }>('GET', '/api/docs/json');
      expect(Object.keys(served.body.paths).sort()).toEqual(Object.keys(doc.paths).sort());
    } finally {
      await Promise.all([app.close(), engine.close(), records.close()]);
    }
  });

  it('answers a request the HTTP parser refuses (raw Chinese in the URL) in the error shape', async () => {
    const { hostname, port } = new URL(inject('apiUrl'));
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), hostname, () => {
        socket.write(Buffer.from(`GET /api/children?q=张 HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`, 'utf8'));
      });
      let data = '';
      socket.on('data', (chunk) => (data += chunk.toString('utf8')));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('BAD_REQUEST');
    expect(body.error.message).toContain('URL 编码');
  });
});
