/**
 * The browser-facing protections (api/security.ts, api/auth/csrf.ts) against the running system:
 * security headers, CSRF on cookie sessions, cross-site and CORS refusal, the sign-in rate limit,
 * request size limits, 503 when the database is gone, and an engine reachable on loopback only.
 */
import fs from 'node:fs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app.js';
import { csrfTokenFor } from '../../api/auth/csrf.js';
import { createEngineClient } from '../../infra/camunda/client.js';
import { createEngineRecords } from '../../infra/camunda/records.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { DEMO_PASSWORD } from '../../infra/seed/demo.js';
import { api, demoPeople, loginAs } from './helpers.js';
import { testConfig } from './test-env.js';

const apiUrl = inject('apiUrl');
const prisma = createPrisma(inject('appDatabaseUrl'));
const records = createEngineRecords(inject('engineDatabaseUrl'));
const cfg = testConfig();
const engine = createEngineClient(cfg);
let people: Awaited<ReturnType<typeof demoPeople>>;
/** The same API with a sign-in limit of 3 per minute and one allowed foreign origin, on its own. */
let strict: FastifyInstance;
const ALLOWED_ORIGIN = 'https://kc.example.gov.cn';
type ErrorBody = { error: { code: string } };

beforeAll(async () => {
  people = await demoPeople(prisma);
  strict = await buildApp({
    prisma,
    engine,
    records,
    logger: pino({ level: 'silent' }),
    loginRateLimit: 3,
    corsOrigins: [ALLOWED_ORIGIN],
  });
});
afterAll(async () => {
  await strict.close();
  await Promise.all([engine.close(), records.close(), prisma.$disconnect()]);
});

/** Signs in through the console's route and returns the two cookies as a browser would keep them. */
async function cookieSession(username: string) {
  const res = await fetch(`${apiUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: DEMO_PASSWORD }),
  });
  expect(res.status).toBe(200);
  const cookies = Object.fromEntries(
    res.headers.getSetCookie().map((c) => {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      return [pair!.slice(0, i), decodeURIComponent(pair!.slice(i + 1))];
    }),
  );
  return {
    session: cookies.kc_session!,
    csrf: cookies.kc_csrf!,
    setCookie: res.headers.getSetCookie(),
    cookieHeader: `kc_session=${cookies.kc_session}; kc_csrf=${cookies.kc_csrf}`,
  };
}

describe('security', () => {
  it('sends security headers on the console and the API, and no server banner', async () => {
    for (const path of ['/', '/api/health']) {
      const res = await fetch(`${apiUrl}${path}`);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("default-src 'self'");
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).not.toContain('unsafe-eval');
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), path).toBe('SAMEORIGIN');
      expect(res.headers.get('referrer-policy'), path).toBe('no-referrer');
      expect(res.headers.get('x-powered-by'), path).toBeNull();
      // Local mode is plain HTTP: no HSTS there (production sets it, with secure cookies).
      expect(res.headers.get('strict-transport-security'), path).toBeNull();
    }
  });

  it('gives a cookie session an http-only session cookie and a readable CSRF cookie bound to it', async () => {
    const s = await cookieSession(people.town.username);
    const session = s.setCookie.find((c) => c.startsWith('kc_session='))!;
    const csrf = s.setCookie.find((c) => c.startsWith('kc_csrf='))!;
    expect(session).toMatch(/HttpOnly/i);
    expect(session).toMatch(/SameSite=Strict/i);
    expect(csrf).not.toMatch(/HttpOnly/i);
    expect(csrf).toMatch(/SameSite=Strict/i);
    expect(s.csrf).toBe(csrfTokenFor(s.session));
    expect(s.csrf).not.toBe(s.session);
  });

  it('refuses an unsafe cookie request without the session’s CSRF token and does nothing', async () => {
    const s = await cookieSession(people.school.username);
    const other = await cookieSession(people.otherSchool.username);
    const sessionsBefore = await prisma.session.count();
    const logout = (headers: Record<string, string>) =>
      fetch(`${apiUrl}/api/auth/logout`, { method: 'POST', headers: { cookie: s.cookieHeader, ...headers } });

    for (const headers of [{}, { 'x-csrf-token': 'forged' }, { 'x-csrf-token': other.csrf }] as Record<
      string,
      string
    >[]) {
      const res = await logout(headers);
      expect(res.status).toBe(403);
      expect(((await res.json()) as ErrorBody).error.code).toBe('CSRF_FAILED');
    }
    // Still signed in: nothing happened.
    const me = await fetch(`${apiUrl}/api/auth/me`, { headers: { cookie: s.cookieHeader } });
    expect(me.status).toBe(200);
    expect(await prisma.session.count()).toBe(sessionsBefore);

    // Reads need no token; the right token lets the write through.
    expect((await logout({ 'x-csrf-token': s.csrf })).status).toBe(204);
    expect((await fetch(`${apiUrl}/api/auth/me`, { headers: { cookie: s.cookieHeader } })).status).toBe(401);
  });

  it('does not ask scripts with a bearer token for a CSRF token', async () => {
    const token = await loginAs(people.teacher.username);
    const res = await api('POST', '/api/auth/logout', undefined, { token });
    expect(res.status).toBe(204);
  });

  it('re-issues a missing CSRF cookie on /me for an existing cookie session', async () => {
    const s = await cookieSession(people.town.username);
    const me = await fetch(`${apiUrl}/api/auth/me`, { headers: { cookie: `kc_session=${s.session}` } });
    expect(me.status).toBe(200);
    expect(me.headers.getSetCookie().find((c) => c.startsWith('kc_csrf='))).toContain(
      encodeURIComponent(csrfTokenFor(s.session)),
    );
  });

  it('refuses a write from a foreign origin, even with a valid token, and writes nothing', async () => {
    const token = await loginAs(people.school.username);
    const before = await prisma.dropoutCase.count();
    const res = await fetch(`${apiUrl}/api/dropout-reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, origin: 'https://evil.example' },
      body: JSON.stringify({ child: people.pupil.id, lastAttendance: '2026-11-16', reason: '连续旷课' }),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as ErrorBody).error.code).toBe('CROSS_SITE_REQUEST');
    expect(await prisma.dropoutCase.count()).toBe(before);
  });

  it('answers CORS preflights for the configured origin only', async () => {
    const preflight = (origin: string) =>
      strict.inject({
        method: 'OPTIONS',
        url: '/api/children',
        headers: { origin, 'access-control-request-method': 'GET' },
      });
    const allowed = await preflight(ALLOWED_ORIGIN);
    expect(allowed.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    expect(allowed.headers['access-control-allow-credentials']).toBe('true');
    const foreign = await preflight('https://evil.example');
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    // The running system has no foreign origin configured at all.
    const res = await fetch(`${apiUrl}/api/health`, { headers: { origin: ALLOWED_ORIGIN } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('rate-limits sign-in per address: the 4th attempt in a minute gets 429, even with the right password', async () => {
    const attempt = (password: string) =>
      strict.inject({
        method: 'POST',
        url: '/api/auth/login',
        remoteAddress: '10.1.2.3',
        payload: { username: people.otherTown.username, password },
      });
    for (let i = 0; i < 3; i++) expect((await attempt(`wrong-${i}`)).statusCode).toBe(401);
    const limited = await attempt(DEMO_PASSWORD);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('TOO_MANY_REQUESTS');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is not affected.
    const elsewhere = await strict.inject({
      method: 'POST',
      url: '/api/auth/login',
      remoteAddress: '10.9.9.9',
      payload: { username: people.otherTown.username, password: DEMO_PASSWORD },
    });
    expect(elsewhere.statusCode).toBe(200);
  });

  it('refuses a body over 1 MB with 413 before parsing it', async () => {
    const token = await loginAs(people.school.username);
    const res = await fetch(`${apiUrl}/api/dropout-reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ reason: 'x'.repeat(1024 * 1024 + 1) }),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as ErrorBody).error.code).toBeTruthy();
  });

  it('answers 503 DATABASE_UNAVAILABLE, not 500, when PostgreSQL cannot be reached', async () => {
    const deadDb = createPrisma('postgresql://kc@127.0.0.1:1/none');
    const cutOff = await buildApp({ prisma: deadDb, engine, records, logger: pino({ level: 'silent' }) });
    try {
      const res = await cutOff.inject({
        method: 'GET',
        url: '/api/children',
        headers: { authorization: 'Bearer some-token' },
      });
      expect(res.statusCode).toBe(503);
      expect(res.json().error.code).toBe('DATABASE_UNAVAILABLE');
      expect(res.headers['retry-after']).toBe('5');
    } finally {
      await cutOff.close();
      await deadDb.$disconnect();
    }
  });

  it('binds every engine, database and API port to loopback only in local mode', () => {
    const ports = [cfg.ENGINE_REST_PORT, cfg.ENGINE_GRPC_PORT, cfg.ENGINE_MANAGEMENT_PORT, cfg.PG_PORT, cfg.API_PORT];
    const bound = listeningSockets().filter((s) => ports.includes(s.port));
    // Each port is in use (so the check looks at the right sockets)…
    for (const port of ports)
      expect(
        bound.some((s) => s.port === port),
        `port ${port}`,
      ).toBe(true);
    // …and none listens on a wildcard or external address (the old engine's UDP gossip socket is gone
    // with it: our engine has no cluster protocol).
    const exposed = bound.filter((s) => s.address !== '127.0.0.1' && s.address !== '::1');
    expect(exposed).toEqual([]);
  });
});

/** Listening TCP sockets and bound UDP sockets of this machine, from /proc/net. */
function listeningSockets(): { proto: string; address: string; port: number }[] {
  const out: { proto: string; address: string; port: number }[] = [];
  for (const proto of ['tcp', 'tcp6', 'udp', 'udp6']) {
    const file = `/proc/net/${proto}`;
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4) continue;
      // TCP: only LISTEN (0A); UDP: every bound socket (07 = unconnected).
      if (proto.startsWith('tcp') && cols[3] !== '0A') continue;
      const [hexAddr, hexPort] = cols[1]!.split(':');
      out.push({ proto, address: decodeAddress(hexAddr!), port: parseInt(hexPort!, 16) });
    }
  }
  return out;
}

function decodeAddress(hex: string): string {
  if (hex.length === 8) {
    return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
  }
  if (/^0+$/.test(hex)) return '::';
  if (hex === '00000000000000000000000001000000') return '::1';
  if (hex.startsWith('0000000000000000FFFF0000')) return decodeAddress(hex.slice(24));
  return hex;
}
