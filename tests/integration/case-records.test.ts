/**
 * Engine-backed: what each step of a case recorded (GET /api/cases/:id/records) — the school's task
 * shows the teacher's home visit as she submitted it: the date, who went, the outcome — scoped like the
 * case and audited.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createPrisma } from '../../infra/db/prisma.js';
import { as, completeTask, demoPeople, openTasksOf, pupilWithoutCase } from './helpers.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
afterAll(() => prisma.$disconnect());

type Records = {
  data: {
    elementId: string;
    title: string;
    submittedBy: string | null;
    doneAt: string;
    input: Record<string, unknown>;
  }[];
};

describe('a case’s records (engine-backed)', () => {
  it('gives the school the home visit the teacher recorded, and nobody outside the case’s jurisdiction', async () => {
    const people = await demoPeople(prisma);
    const teacher = await as(people.teacher.username);
    const school = await as(people.school.username);
    const pupil = await pupilWithoutCase(prisma, people.teacher.classId);
    const reported = await teacher<{ processInstanceKey: string }>('POST', '/api/dropout-reports', {
      child: pupil.id,
      lastAttendance: '2026-11-16',
      reason: '连续旷课三天',
    });
    expect(reported.status).toBe(201);
    const pik = reported.body.processInstanceKey;
    const [visit] = await openTasksOf(teacher, pik, 'visitFamily');
    const c = await prisma.dropoutCase.findUniqueOrThrow({ where: { processInstanceKey: pik } });
    const url = `/api/cases/${c.id}/records`;
    expect((await school<Records>('GET', url)).body.data).toEqual([]);

    await completeTask(teacher, visit!, {
      visitedOn: '2026-11-18',
      visitors: '班主任 王老师、校长',
      outcome: 'PERSUASION_FAILED',
      note: '家长称孩子在外地亲戚家',
    });
    await openTasksOf(school, pik, 'confirmDropoutBySchool');
    const res = await school<Records>('GET', url);
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(1);
    expect(res.body.data[0]).toMatchObject({
      elementId: 'visitFamily',
      submittedBy: people.teacher.displayName,
      input: { visitedOn: '2026-11-18', visitors: '班主任 王老师、校长', outcome: 'PERSUASION_FAILED' },
    });
    expect(res.body.data[0]!.title).toMatch(/家访/);

    // Read personal data: audited, naming the child.
    const read = await prisma.auditEvent.findFirst({
      where: { entity: 'DropoutCase', entityId: c.id, action: 'READ_PERSONAL', userId: people.school.id },
      orderBy: { at: 'desc' },
    });
    expect(read?.details).toMatchObject({ childId: pupil.id });
    // Another town's officer: the case does not exist for them.
    expect((await (await as(people.otherTown.username))('GET', url)).status).toBe(404);
    expect((await school('GET', '/api/cases/00000000-0000-4000-8000-000000000000/records')).status).toBe(404);
  });
});
