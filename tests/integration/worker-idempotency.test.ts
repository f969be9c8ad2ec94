/**
 * Against the real database and engine: every worker that writes records, given the same job twice
 * (a redelivery after a timeout), leaves exactly one record — one document with one number, one case
 * action, one registry record, one message.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createEngineClient } from '../../infra/camunda/client.js';
import { createPrisma } from '../../infra/db/prisma.js';
import closeDropoutCase from '../../workers/close-dropout-case/index.js';
import fileHandoverForm from '../../workers/file-handover-form/index.js';
import issueCaseDocument from '../../workers/issue-case-document/index.js';
import type { JobContext } from '../../workers/lib/define-worker.js';
import matchRegistryRecords from '../../workers/match-registry-records/index.js';
import placeSpecialEducation from '../../workers/place-special-education/index.js';
import recordChildReturn from '../../workers/record-child-return/index.js';
import recordEscalation from '../../workers/record-escalation/index.js';
import referToDropoutEscalation from '../../workers/refer-to-dropout-escalation/index.js';
import { messagePublisher } from '../../workers/runtime.js';
import sendSchoolReport from '../../workers/send-school-report/index.js';
import { fixtureCounty, type FixtureCounty } from './fixture-county.js';
import { eventually } from './helpers.js';
import { testConfig } from './test-env.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
const engine = createEngineClient(testConfig());
afterAll(() => Promise.all([prisma.$disconnect(), engine.close()]));

let fx: FixtureCounty;
let caseId: string;
const pik = `idempotency-${Date.now()}`;
let jobs = 0;

/** A job context as the runtime builds it; the same object twice is a redelivery of one job. */
function job(processInstanceKey = pik): JobContext {
  jobs += 1;
  return {
    jobKey: `${Date.now()}${jobs}`,
    processInstanceKey,
    bpmnProcessId: 'test',
    elementId: 'test',
    retries: 3,
    prisma,
    publishMessage: messagePublisher(engine.grpc),
  };
}

beforeAll(async () => {
  fx = await fixtureCounty(prisma, '379905', 2027, 2);
  const c = await prisma.dropoutCase.create({
    data: {
      childId: fx.children[0]!.id,
      schoolId: fx.primary.id,
      classId: fx.classId,
      regionCode: fx.town,
      processInstanceKey: pik,
    },
  });
  caseId = c.id;
});

describe('workers given the same job twice', () => {
  it('issue one numbered document, one report, one action each', async () => {
    const ctx = job();
    const input = { kind: 'CORRECTION_ORDER' as const, deadline: '2027-03-10' };
    const first = await issueCaseDocument.handler(input, ctx);
    expect(await issueCaseDocument.handler(input, ctx)).toEqual(first);
    const report = job();
    await sendSchoolReport.handler({}, report);
    await sendSchoolReport.handler({}, report);
    const escalation = job();
    await recordEscalation.handler({ stage: 'TOWN_OVERDUE' }, escalation);
    await recordEscalation.handler({ stage: 'TOWN_OVERDUE' }, escalation);
    const docs = await prisma.caseDocument.findMany({ where: { caseId } });
    expect(docs.map((d) => d.kind).sort()).toEqual(['CORRECTION_ORDER', 'SCHOOL_REPORT']);
    const actions = await prisma.caseAction.findMany({ where: { caseId } });
    expect(actions.map((a) => a.kind).sort()).toEqual([
      'DOCUMENT_CORRECTION_ORDER',
      'ESCALATED_TOWN_OVERDUE',
      'SCHOOL_REPORTED',
    ]);
  });

  it('record one return (one RESUME of the register) and close the case once', async () => {
    await prisma.registryRecord.updateMany({ where: { childId: fx.children[0]!.id }, data: { status: 'DROPPED_OUT' } });
    const ret = job();
    await recordChildReturn.handler({ returnedOn: '2027-03-01' }, ret);
    await recordChildReturn.handler({ returnedOn: '2027-03-01' }, ret);
    const close = job();
    await closeDropoutCase.handler({ exitOutcome: 'RETURNED' }, close);
    await closeDropoutCase.handler({ exitOutcome: 'RETURNED' }, close);
    const record = await prisma.registryRecord.findFirstOrThrow({
      where: { childId: fx.children[0]!.id },
      include: { changes: true },
    });
    expect(record.status).toBe('ENROLLED');
    expect(record.changes.filter((c) => c.kind === 'RESUME')).toHaveLength(1);
    const c = await prisma.dropoutCase.findUniqueOrThrow({ where: { id: caseId }, include: { actions: true } });
    expect(c).toMatchObject({ status: 'CLOSED', outcome: 'RETURNED' });
    expect(c.actions.filter((a) => a.kind === 'CHILD_RETURNED' || a.kind === 'CASE_CLOSED')).toHaveLength(2);
  });

  it('file one handover form and one registry record per arrived pupil', async () => {
    const batch = await prisma.handoverBatch.create({ data: { regionCode: fx.county, year: 2027 } });
    const line = await prisma.handoverAssignment.create({
      data: {
        batchId: batch.id,
        fromClassId: fx.classId,
        toSchoolId: fx.middle.id,
        regionCode: fx.town,
        pupils: { create: fx.children.map((c) => ({ childId: c.id, status: 'REGISTERED', registeredAt: new Date() })) },
      },
    });
    const assignment = {
      assignmentId: line.id,
      fromSchoolId: fx.primary.id,
      toSchoolId: fx.middle.id,
      townCode: fx.town,
    };
    const filing = job();
    await fileHandoverForm.handler({ assignment }, filing);
    const html = (await prisma.handoverAssignment.findUniqueOrThrow({ where: { id: line.id } })).formHtml;
    await fileHandoverForm.handler({ assignment }, filing);
    expect((await prisma.handoverAssignment.findUniqueOrThrow({ where: { id: line.id } })).formHtml).toBe(html);
    const matching = job();
    expect(await matchRegistryRecords.handler({ assignment, year: 2027 }, matching)).toEqual({ matched: 2 });
    expect(await matchRegistryRecords.handler({ assignment, year: 2027 }, matching)).toEqual({ matched: 0 });
    const records = await prisma.registryRecord.findMany({
      where: { schoolYear: 2027, schoolId: fx.middle.id },
      include: { changes: true },
    });
    expect(records).toHaveLength(2);
    expect(records.every((r) => r.changes.length === 1)).toBe(true);
  });

  it('place a child with one registry record', async () => {
    const campaign = await prisma.campaign.create({ data: { regionCode: fx.county, year: 2028 } });
    const suspect = await prisma.suspectedChild.create({
      data: { campaignId: campaign.id, childId: fx.children[1]!.id, regionCode: fx.town },
    });
    const input = {
      suspect: { suspectId: suspect.id, childId: fx.children[1]!.id, townCode: fx.town },
      year: 2028,
      receivingSchoolId: fx.primary.id,
    };
    const ctx = job();
    const first = await placeSpecialEducation.handler(input, ctx);
    expect(await placeSpecialEducation.handler(input, ctx)).toEqual(first);
    const record = await prisma.registryRecord.findUniqueOrThrow({
      where: { childId_schoolYear: { childId: fx.children[1]!.id, schoolYear: 2028 } },
      include: { changes: true },
    });
    expect(record.changes).toHaveLength(1);
  });

  it('refer a child once: the engine keeps one message, which starts one escalation', async () => {
    const child = fx.children[1]!.id;
    const ctx = job(`referral-${Date.now()}`);
    const input = { childId: child, schoolId: fx.middle.id, townCode: fx.town, source: 'HANDOVER' as const };
    await referToDropoutEscalation.handler(input, ctx);
    await referToDropoutEscalation.handler(input, ctx);
    const cases = await eventually(async () => {
      const found = await prisma.dropoutCase.findMany({ where: { childId: child } });
      return found.length > 0 ? found : undefined;
    }, 'the referred case');
    // Give a second instance, if one was (wrongly) started, time to open its case too.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await prisma.dropoutCase.count({ where: { childId: child } })).toBe(1);
    expect(cases[0]).toMatchObject({ schoolId: fx.middle.id, classId: null });
    // The engine holds the job's message under its id: a third publish of it is refused.
    await expect(
      engine.grpc.publishMessage({
        name: 'dropout-referred',
        correlationKey: child,
        messageId: `referral:${ctx.processInstanceKey}:${child}`,
        variables: {},
        timeToLive: 60_000,
      }),
    ).rejects.toThrow(/ALREADY_EXISTS|already/i);
  });
});
