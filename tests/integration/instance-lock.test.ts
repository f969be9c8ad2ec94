/**
 * Against the real database: a worker of an instance starts only once a task completion of that
 * instance has committed, so it reads what the caseworker's form wrote (infra/db/instance-lock.ts).
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { awaitInstanceCompletions, holdInstanceForCompletion } from '../../infra/db/instance-lock.js';
import { createPrisma } from '../../infra/db/prisma.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
afterAll(() => prisma.$disconnect());

describe('instance lock between task completions and workers', () => {
  it('makes the worker wait for the completion’s commit, and only for its own instance', async () => {
    const instance = '2251799813999001';
    const other = '2251799813999002';
    let committedAt = 0;
    let held!: () => void;
    const holding = new Promise<void>((r) => (held = r));
    const completion = prisma.$transaction(async (tx) => {
      await holdInstanceForCompletion(tx, instance);
      held();
      await new Promise((r) => setTimeout(r, 400));
      committedAt = Date.now();
    });
    await holding;
    const start = Date.now();
    await awaitInstanceCompletions(prisma, other);
    const otherWaited = Date.now() - start;
    await awaitInstanceCompletions(prisma, instance);
    const resumedAt = Date.now();
    await completion;
    expect(otherWaited).toBeLessThan(300);
    expect(resumedAt).toBeGreaterThanOrEqual(committedAt);
    // With nothing in flight it returns at once.
    const t = Date.now();
    await awaitInstanceCompletions(prisma, instance);
    expect(Date.now() - t).toBeLessThan(300);
  });
});
