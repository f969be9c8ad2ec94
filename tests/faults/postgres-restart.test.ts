/**
 * Fault 3: PostgreSQL is SIGKILLed under load and started again (crash recovery from its WAL) while
 * caseworkers read their inboxes and schools submit 30-pupil arrival rosters (one multi-row write
 * each). Meanwhile the API answers 503 — never 500 — and afterwards it serves again by itself, without
 * a restart; every roster is either written whole or not at all, and written once.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../../infra/db/errors.js';
import type { FixtureCounty } from '../integration/fixture-county.js';
import { type FaultSystem, killContainer, startContainer, startFaultSystem } from './environment.js';
import {
  handoverCounties,
  HANDOVER_YEAR,
  newObservations,
  registerArrivals,
  signHandover,
  startHandover,
} from './flows.js';
import { apiClient, eventually, everyInstanceCompleted, pool, sleep } from './helpers.js';

const COUNTIES = 6;
const PUPILS = 30;
/**
 * How long PostgreSQL stays down: longer than a job's three retries 5 s apart, so a worker that spent a
 * retry on the outage would leave an incident (a worker keeps its retries while the database is away).
 */
const DOWN_MS = 20_000;

let sys: FaultSystem;
const say = (l: string) => process.stderr.write(`[postgres-restart] ${l}\n`);

beforeAll(async () => {
  sys = await startFaultSystem();
});
afterAll(async () => {
  await sys?.stop();
});

interface Answer {
  /** When the request was sent. */
  sent: number;
  ms: number;
  path: string;
  status: number;
  code?: string;
}

describe('PostgreSQL restarts under load', () => {
  it('answers 503 while it is down, recovers by itself, and leaves no partial roster', async () => {
    const t0 = Date.now();
    const api = apiClient(sys.apiUrl);
    const obs = newObservations();
    const counties: FixtureCounty[] = await handoverCounties(sys.prisma, COUNTIES, PUPILS, 379700);
    // Sign everyone in while the database is up.
    for (const fx of counties)
      for (const u of [fx.users.bureau, fx.users.primary, fx.users.middle, fx.users.town]) await api.login(u);
    const started = await pool(counties, 3, async (fx) => ({ fx, s: (await startHandover(obs, api, fx))! }));
    expect(obs.unexpected).toEqual([]);

    // Readers: the inboxes of every party, back to back, recording each answer.
    const answers: Answer[] = [];
    let reading = true;
    const readers = counties.slice(0, 4).map(async (fx) => {
      const caller = api.as(fx.users.middle);
      while (reading) {
        for (const path of ['/api/tasks?perPage=20', `/api/children?perPage=20`]) {
          const sent = Date.now();
          const r = await caller<{ error?: { code: string } }>('GET', path);
          answers.push({ sent, ms: Date.now() - sent, path, status: r.status, code: r.body?.error?.code });
        }
        await sleep(100);
      }
    });

    // Every county's handover up to its arrival roster.
    await pool(started, 3, async ({ fx, s }) => signHandover(obs, api, fx, s.pik));
    expect(obs.unexpected).toEqual([]);
    await eventually(
      async () => {
        const open = await Promise.all(
          started.map(({ fx, s }) =>
            api.as(fx.users.middle)<{ data: unknown[] }>(
              'GET',
              `/api/tasks?processInstanceKey=${s.pik}&type=registerArrivals`,
            ),
          ),
        );
        return open.every((r) => r.body.data.length === 1) ? true : undefined;
      },
      'every roster task',
      120_000,
    );

    // The schools submit their rosters one after another; the database dies while they are in flight.
    let downAt = 0;
    let upAt = 0;
    const driverErrors: unknown[] = [];
    const direct: { what: string; unavailable: boolean; detail: string }[] = [];
    let firstSent = false;
    const rosters: { county: string; sent: number; done: number }[] = [];
    const fault = (async () => {
      while (!firstSent) await sleep(5);
      await sleep(150);
      downAt = Date.now();
      await killContainer(sys.postgres);
      say('SIGKILL postgres');
      // What pg and prisma throw now (the shapes infra/db/errors.ts must recognise).
      const client = new pg.Client({ connectionString: sys.appUrl, connectionTimeoutMillis: 2000 });
      for (const [what, fn] of [
        ['prisma model query', () => sys.prisma.child.count()],
        ['prisma raw query', () => sys.prisma.$queryRaw`SELECT 1`],
        ['prisma transaction', () => sys.prisma.$transaction(async (tx) => tx.child.count())],
        ['pg client', () => client.connect()],
      ] as const) {
        try {
          await (fn as () => Promise<unknown>)();
          direct.push({ what, unavailable: false, detail: 'succeeded while down' });
        } catch (err) {
          direct.push({
            what,
            unavailable: isDatabaseUnavailable(err),
            detail: String((err as Error).message).slice(0, 200),
          });
        }
      }
      await sleep(Math.max(0, DOWN_MS - (Date.now() - downAt)));
      await startContainer(sys.postgres);
      upAt = Date.now();
      say(`postgres started again after ${((upAt - downAt) / 1000).toFixed(1)} s down`);
    })();
    await Promise.all([
      pool(started, 6, async ({ fx, s }, i) => {
        await sleep(i * 300);
        firstSent = true;
        const sent = Date.now();
        await registerArrivals(obs, api, fx, s.pik).catch((e) => driverErrors.push(e));
        rosters.push({ county: fx.county, sent, done: Date.now() });
      }),
      fault,
    ]);

    // Recovery by itself: the same API process serves an inbox again.
    const recovered = await eventually(
      async () => {
        const r = await api.as(counties[0]!.users.middle)('GET', '/api/tasks?perPage=5');
        return r.status === 200 ? Date.now() : undefined;
      },
      'the API to serve again',
      60_000,
    );
    reading = false;
    await Promise.all(readers);
    say(
      `rosters (${obs.transient} answers 503 retried): ` +
        rosters
          .map((r) => `sent at kill${r.sent >= downAt ? '+' : ''}${r.sent - downAt} ms, took ${r.done - r.sent} ms`)
          .join('; '),
    );
    say(`API serving again ${((recovered - upAt) / 1000).toFixed(1)} s after the database started`);
    expect(driverErrors).toEqual([]);
    expect(downAt).toBeGreaterThan(0);
    expect(
      direct.filter((d) => !d.unavailable),
      'errors isDatabaseUnavailable does not recognise',
    ).toEqual([]);

    // Requests sent while it was down: 503 DATABASE_UNAVAILABLE (or served, once it was back), never a 500.
    const during = answers.filter((a) => a.sent >= downAt && a.sent <= upAt);
    const failures = during.filter((a) => a.status !== 200);
    say(
      `answers to requests sent while down: ${JSON.stringify(countBy(during.map((a) => `${a.status} ${a.code ?? ''}`)))}` +
        `, slowest ${Math.max(0, ...during.map((a) => a.ms))} ms`,
    );
    expect(failures.length, 'requests met the dead database').toBeGreaterThan(0);
    expect.soft(failures.filter((a) => a.status !== 503 || a.code !== 'DATABASE_UNAVAILABLE')).toEqual([]);
    expect.soft(obs.serverErrors, 'submissions answered 500 while the database was down').toEqual([]);
    expect.soft(obs.unexpected).toEqual([]);
    expect.soft(obs.stuck).toEqual([]);

    // Every roster written whole and once: 30 arrivals, 30 registry records at the middle school.
    for (const { fx, s } of started) {
      const batch = await eventually(
        async () => {
          const b = await sys.prisma.handoverBatch.findUniqueOrThrow({ where: { id: s.batchId } });
          return b.status === 'CLEARED' ? b : undefined;
        },
        `handover ${fx.county} cleared`,
        120_000,
      ).catch(() => undefined);
      const statuses = await sys.prisma.handoverPupil.groupBy({
        by: ['status'],
        where: { assignment: { batchId: s.batchId } },
        _count: { _all: true },
      });
      expect
        .soft(Object.fromEntries(statuses.map((x) => [x.status, x._count._all])), fx.county)
        .toEqual({ REGISTERED: PUPILS });
      expect
        .soft(
          await sys.prisma.registryRecord.count({ where: { schoolId: fx.middle.id, schoolYear: HANDOVER_YEAR } }),
          `${fx.county}: registry records at the middle school`,
        )
        .toBe(PUPILS);
      expect.soft(batch?.status, `${fx.county}: batch cleared`).toBe('CLEARED');
    }
    // The engine lost its database too (its commands answered UNAVAILABLE meanwhile) and went on by
    // itself afterwards: no incident, every instance completed.
    const keys = started.map((x) => x.s.pik);
    await everyInstanceCompleted(sys.records, keys, 'every handover instance to complete', 120_000);
    const { rows } = await sys.records.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM zeebe_record WHERE value_type = 'INCIDENT' AND value->>'processInstanceKey' = ANY($1)`,
      [keys],
    );
    expect(Number(rows[0]!.n), 'no incidents').toBe(0);
    say(`scenario done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });
});

function countBy(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}
