/**
 * The audit log's filters the console uses (GET /api/audit-events): every event about one child — its
 * record read, and tasks and reports that name it — and whole Beijing days.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { chinaDay } from '../../api/domain/china-time.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { as, demoPeople } from './helpers.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
afterAll(() => prisma.$disconnect());

type Events = {
  data: { entity: string; entityId: string | null; details: unknown; userId: number | null }[];
  total: number;
};

describe('audit log filters', () => {
  it('finds the events about one child and narrows them to Beijing days', async () => {
    const people = await demoPeople(prisma);
    const teacher = await as(people.teacher.username);
    const supervisor = await as('supervisor');
    expect((await teacher('GET', `/api/children/${people.pupil.id}`)).status).toBe(200);
    // An event that names the child only in its details.
    await prisma.auditEvent.create({
      data: {
        userId: people.teacher.id,
        action: 'READ_PERSONAL',
        entity: 'UserTask',
        entityId: '1',
        details: { childId: people.pupil.id },
      },
    });

    const about = await supervisor<Events>('GET', `/api/audit-events?child=${people.pupil.id}&perPage=100`);
    expect(about.status).toBe(200);
    expect(about.body.data.some((e) => e.entity === 'Child' && e.entityId === people.pupil.id)).toBe(true);
    expect(about.body.data.some((e) => e.entity === 'UserTask')).toBe(true);
    for (const e of about.body.data) {
      const named =
        e.entityId === people.pupil.id || (e.details as { childId?: string } | null)?.childId === people.pupil.id;
      expect(named, JSON.stringify(e)).toBe(true);
    }

    const today = chinaDay();
    const day = await supervisor<Events>('GET', `/api/audit-events?child=${people.pupil.id}&from=${today}&to=${today}`);
    expect(day.body.total).toBeGreaterThanOrEqual(2);
    const yesterday = new Date(Date.parse(`${today}T12:00:00+08:00`) - 86_400_000).toISOString().slice(0, 10);
    const before = await supervisor<Events>('GET', `/api/audit-events?child=${people.pupil.id}&to=${yesterday}`);
    expect(before.status).toBe(200);
    const todays = await supervisor<Events>('GET', `/api/audit-events?child=${people.pupil.id}&from=${today}`);
    expect(before.body.total + todays.body.total).toBe(about.body.total);

    const bad = await supervisor<{ error: { code: string } }>('GET', '/api/audit-events?child=abc');
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
  });
});
