/**
 * Engine-backed: the worker runtime's contract — schema-checked input, idempotent handlers.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createEngineClient } from '../../infra/camunda/client.js';
import { createEngineRecords } from '../../infra/camunda/records.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { openDropoutCase } from '../../workers/open-dropout-case/handler.js';
import { demoPeople, eventually, pupilWithoutCase } from './helpers.js';
import { testConfig } from './test-env.js';

const engine = createEngineClient(testConfig());
const records = createEngineRecords(inject('engineDatabaseUrl'));
const prisma = createPrisma(inject('appDatabaseUrl'));

afterAll(async () => {
  await Promise.all([engine.close(), records.close(), prisma.$disconnect()]);
});

describe('job workers (engine-backed)', () => {
  it('turns job variables that break the schema into an incident naming the field, and writes nothing', async () => {
    // A town code, so the deadline table is read and the instance gets as far as the worker.
    const { processInstanceKey } = await engine.startProcess('dropout-escalation', {
      schoolId: 1,
      townCode: '370481001',
      reason: '旷课',
    });
    const incidents = await eventually(async () => {
      const found = await records.openIncidents(processInstanceKey);
      return found.length ? found : undefined;
    }, 'an incident');
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ elementId: 'openDropoutCase' });
    expect(incidents[0]!.message).toMatch(/^Invalid job variables: .*childId/);
    expect(await prisma.dropoutCase.count({ where: { processInstanceKey } })).toBe(0);
  });

  it('opens one case however often the same job is delivered', async () => {
    const ctx = {
      jobKey: '9007199254740001',
      processInstanceKey: `test-${Date.now()}`,
      bpmnProcessId: 'dropout-escalation',
      elementId: 'openDropoutCase',
      retries: 3,
      prisma,
      publishMessage: () => Promise.reject(new Error('not used by this worker')),
    };
    const people = await demoPeople(prisma);
    const input = {
      // A child without an open case: for one with a case the worker joins that case instead.
      childId: (await pupilWithoutCase(prisma, people.teacher.classId)).id,
      schoolId: people.teacher.schoolId!,
      classId: people.teacher.classId,
      townCode: people.teacher.regionCode,
      reportedBy: people.teacher.id,
      reporterName: people.teacher.displayName,
      lastAttendance: '2026-11-16',
    };
    const first = await openDropoutCase(input, ctx);
    const second = await openDropoutCase(input, ctx);
    expect(second).toEqual(first);
    expect(first.caseNumber).toMatch(/^辍-\d{4}-\d{6}$/);
    const c = await prisma.dropoutCase.findUniqueOrThrow({
      where: { processInstanceKey: ctx.processInstanceKey },
      include: { actions: true },
    });
    expect(c.actions).toHaveLength(1);
  });
});
