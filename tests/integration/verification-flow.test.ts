/**
 * Engine-backed: the annual enrollment verification end to end on counties of their own. A first
 * round with the outcome mix of the district report in the seeds ([R]: 282 suspects — A3 B81 C5 D18
 * E49 F4 G23 H94 removed, I2 L3 still suspected) gives exactly those counts in the county report; the
 * A, E, I and L children take their branches (police, written deferral, special education with a
 * registry record, referral to the escalation flow); the 5 still suspected are re-verified in round 2.
 * A deferral whose 30 September has passed does not stand, and its child is verified again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../api/app.js';
import { settle } from '../../api/tasks/completion.js';
import { createEngineClient } from '../../infra/camunda/client.js';
import { createEngineRecords } from '../../infra/camunda/records.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { fixtureCounty, listedChildren } from './fixture-county.js';
import { as, type Caller, completeTask as complete, eventually, loginAs } from './helpers.js';
import { testConfig } from './test-env.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
const records = createEngineRecords(inject('engineDatabaseUrl'));
const engine = createEngineClient(testConfig());
afterAll(() => Promise.all([prisma.$disconnect(), records.close(), engine.close()]));

type Task = { userTaskKey: string; elementId: string; processInstanceKey: string; dueDate: string };

/** The caller's open tasks of one type (in any instance, e.g. the called per-child verifications). */
async function openTasks(caller: Caller, type: string, n: number, exclude = new Set<string>()): Promise<Task[]> {
  return eventually(
    async () => {
      const res = await caller<{ data: Task[] }>('GET', `/api/tasks?type=${type}&perPage=500`);
      const fresh = res.body.data.filter((t) => !exclude.has(t.userTaskKey));
      return fresh.length >= n ? fresh : undefined;
    },
    `${n} × ${type}`,
    30_000,
  );
}

async function bulk(caller: Caller, tasks: { key: string; data: unknown }[]) {
  for (let i = 0; i < tasks.length; i += 100) {
    const res = await caller<{ results: { ok: boolean; error?: unknown }[] }>('POST', '/api/tasks/bulk-complete', {
      tasks: tasks.slice(i, i + 100),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.results.filter((r) => !r.ok)).toEqual([]);
  }
}

/** The [R] first round: 277 removed (核减) and 5 still suspected (疑似失学). */
const DISTRICT_MIX: Record<string, number> = { A: 3, B: 81, C: 5, D: 18, E: 49, F: 4, G: 23, H: 94, I: 2, L: 3 };

function verification(code: string, schoolId: number) {
  return {
    outcomeCode: code,
    whereabouts: `去向（${code}）`,
    evidence: '村委会证明、电话核实记录',
    ...(code === 'C' || code === 'D' ? { registration: 'REGISTERED' } : {}),
    ...(code === 'L' ? { responsibleSchoolId: schoolId } : {}),
  };
}

/** A campaign of one suspect in a county of its own, dispatched: the town's open verification task. */
async function oneChildToVerify(county: string, year: number) {
  const fx = await fixtureCounty(prisma, county, year, 0);
  await listedChildren(prisma, fx, year, 1);
  const bureau = await as(fx.users.bureau);
  const town = await as(fx.users.town);
  const started = await bureau<{ id: number; processInstanceKey: string }>('POST', '/api/campaigns/enrollment', {
    county: fx.county,
    year,
  });
  const [dispatch] = await openTasks(bureau, 'dispatchSuspectList', 1);
  await complete(bureau, dispatch!, {});
  const [verify] = await openTasks(town, 'verifyChild', 1);
  return { fx, bureau, town, started, dispatch: dispatch!, verify: verify! };
}

describe('enrollment verification (engine-backed)', () => {
  it('reproduces the district report’s first round and re-verifies the 5 still suspected', async () => {
    const YEAR = 2027;
    const fx = await fixtureCounty(prisma, '379902', YEAR, 0);
    const listed = await listedChildren(prisma, fx, YEAR, 282);
    const bureau = await as(fx.users.bureau);
    const town = await as(fx.users.town);
    const police = await as(fx.users.police);

    const started = await bureau<{ id: number; processInstanceKey: string }>('POST', '/api/campaigns/enrollment', {
      county: fx.county,
      year: YEAR,
    });
    expect(started.status).toBe(201);
    const [dispatch] = await openTasks(bureau, 'dispatchSuspectList', 1);
    expect(Date.parse(dispatch!.dueDate)).toBe(Date.parse(`${YEAR}-09-20T23:59:59+08:00`));
    expect(await prisma.suspectedChild.count({ where: { campaignId: started.body.id, round: 1 } })).toBe(282);
    await complete(bureau, dispatch!, { note: '请各镇街9月20日前逐一核实' });

    // One verification per child, for the child's town, due 15 October ([P]).
    const round1 = await openTasks(town, 'verifyChild', 282);
    expect(round1).toHaveLength(282);
    expect(Date.parse(round1[0]!.dueDate)).toBe(Date.parse(`${YEAR}-10-15T23:59:59+08:00`));
    // Each verification is a called instance of the campaign (its completions hold the campaign's next job).
    expect(await records.callerInstances(round1[0]!.processInstanceKey)).toEqual([started.body.processInstanceKey]);
    expect(await records.callerInstances(started.body.processInstanceKey)).toEqual([]);
    const codes = Object.entries(DISTRICT_MIX).flatMap(([code, n]) => Array<string>(n).fill(code));
    // An L without the school that takes on persuasion is refused, naming the field.
    const noSchool = await town<{ error: { details: { path: string[] }[] } }>(
      'POST',
      `/api/tasks/${round1[0]!.userTaskKey}/complete`,
      { ...verification('L', fx.primary.id), responsibleSchoolId: undefined },
    );
    expect(noSchool.status).toBe(422);
    expect(noSchool.body.error.details.map((d) => d.path.join('.'))).toEqual(['responsibleSchoolId']);
    await bulk(
      town,
      round1.map((t, i) => ({ key: t.userTaskKey, data: verification(codes[i]!, fx.primary.id) })),
    );

    // The branches: A to the police, E to a written deferral, I to a placement with a registry record.
    const policeTasks = await openTasks(police, 'fixHouseholdRegistration', 3);
    expect(policeTasks).toHaveLength(3);
    await bulk(
      police,
      policeTasks.map((t) => ({ key: t.userTaskKey, data: { action: 'CANCELLED_DUPLICATE', note: '重复户籍已注销' } })),
    );
    const deferrals = await openTasks(town, 'fileDeferral', 49);
    expect(deferrals).toHaveLength(49);
    expect(Date.parse(deferrals[0]!.dueDate)).toBe(Date.parse(`${YEAR}-09-30T23:59:59+08:00`));
    await bulk(
      town,
      deferrals.map((t) => ({
        key: t.userTaskKey,
        data: { applicationReceivedOn: '2026-11-20', applicant: '父亲', reason: '先天性心脏病术后休养' },
      })),
    );
    const placements = await openTasks(town, 'arrangeSpecialPlacement', 2);
    await bulk(
      town,
      placements.map((t) => ({
        key: t.userTaskKey,
        data: { placement: 'HOME_TEACHING', receivingSchoolId: fx.primary.id, teachingPlan: '每周两次送教上门' },
      })),
    );

    // L: the 3 children at home are referred to the escalation flow, with the school the town named.
    const suspectsOf = async (code: string) =>
      (
        await prisma.suspectedChild.findMany({ where: { campaignId: started.body.id, round: 1, outcomeCode: code } })
      ).map((s) => s.childId);
    const atHome = await suspectsOf('L');
    const cases = await eventually(async () => {
      const found = await prisma.dropoutCase.findMany({ where: { childId: { in: atHome } } });
      return found.length === 3 ? found : undefined;
    }, 'three referred cases');
    expect(cases.every((c) => c.schoolId === fx.primary.id && c.classId === null)).toBe(true);
    const disabled = await suspectsOf('I');
    const placed = await eventually(async () => {
      const n = await prisma.registryRecord.count({
        where: { childId: { in: disabled }, schoolYear: YEAR, schoolId: fx.primary.id },
      });
      return n === 2 ? n : undefined;
    }, 'registry records for the two placed children');
    expect(placed).toBe(2);
    const fixed = await prisma.suspectedChild.findMany({
      where: { campaignId: started.body.id, round: 1, outcomeCode: 'A' },
    });
    expect(fixed.map((s) => s.policeFeedback)).toEqual(Array(3).fill('已注销重复户籍：重复户籍已注销'));

    // Round 2: the 5 still suspected (I2 L3) are verified again; now all are at school.
    const [dispatch2] = await openTasks(bureau, 'dispatchSuspectList', 1, new Set([dispatch!.userTaskKey]));
    await complete(bureau, dispatch2!, {});
    const round2 = await openTasks(town, 'verifyChild', 5, new Set(round1.map((t) => t.userTaskKey)));
    expect(round2).toHaveLength(5);
    await bulk(
      town,
      round2.map((t) => ({ key: t.userTaskKey, data: verification('B', fx.primary.id) })),
    );

    // The county report: frozen when compiled, published by the bureau.
    const [publish] = await openTasks(bureau, 'publishCountyReport', 1);
    expect(Date.parse(publish!.dueDate)).toBe(Date.parse(`${YEAR}-10-31T23:59:59+08:00`));
    await complete(bureau, publish!, { documentNumber: '测教发〔2027〕45号' });
    const campaign = await eventually(async () => {
      const c = await prisma.campaign.findUniqueOrThrow({ where: { id: started.body.id } });
      return c.status === 'REPORTED' ? c : undefined;
    }, 'the campaign to be reported');
    type Round = {
      round: number;
      total: { suspects: number; outcomes: Record<string, number>; removed: number; stillSuspected: number };
    };
    const rounds = (campaign.reportSnapshot as { rounds: Round[] }).rounds;
    const nonzero = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).filter(([, n]) => n > 0));
    expect(rounds.map((r) => r.round)).toEqual([1, 2]);
    expect(rounds[0]!.total.suspects).toBe(282);
    expect(nonzero(rounds[0]!.total.outcomes)).toEqual(DISTRICT_MIX);
    expect(rounds[0]!.total).toMatchObject({ removed: 277, stillSuspected: 5 });
    expect(nonzero(rounds[1]!.total.outcomes)).toEqual({ B: 5 });
    expect(rounds[1]!.total).toMatchObject({ suspects: 5, removed: 5, stillSuspected: 0 });
    await eventually(
      async () =>
        (await records.processInstanceState(started.body.processInstanceKey)) === 'COMPLETED' ? true : undefined,
      'the campaign instance to complete',
    );
    expect(listed).toHaveLength(282);
  });

  it('lets a deferral lapse when no written application came by 30 September: the child is verified again', async () => {
    // A campaign of a year whose 30 September has passed: the deferral's boundary timer is due at once.
    const { fx, bureau, town, started, dispatch, verify } = await oneChildToVerify('379903', 2026);
    await complete(town, verify, verification('E', fx.primary.id));

    // No fileDeferral task stays open: the deadline passed, the outcome E is withdrawn, round 2 opens.
    const [dispatch2] = await openTasks(bureau, 'dispatchSuspectList', 1, new Set([dispatch!.userTaskKey]));
    const round1 = await prisma.suspectedChild.findFirstOrThrow({ where: { campaignId: started.body.id, round: 1 } });
    expect(round1.outcomeCode).toBeNull();
    expect(round1.placement).toContain('延缓不成立');
    expect((await town<{ data: Task[] }>('GET', '/api/tasks?type=fileDeferral')).body.data).toEqual([]);
    await complete(bureau, dispatch2!, {});
    const [again] = await openTasks(town, 'verifyChild', 1, new Set([verify!.userTaskKey]));
    await complete(town, again!, verification('B', fx.primary.id));
    const [publish] = await openTasks(bureau, 'publishCountyReport', 1);
    expect(publish!.processInstanceKey).toBe(started.body.processInstanceKey);
  });

  it('waits for the missing department lists: the bureau chases them or confirms a department has none', async () => {
    const YEAR = 2027;
    const fx = await fixtureCounty(prisma, '379906', YEAR, 0);
    await listedChildren(prisma, fx, YEAR, 2, ['POVERTY']);
    const bureau = await as(fx.users.bureau);
    const started = await bureau<{ id: number; processInstanceKey: string }>('POST', '/api/campaigns/enrollment', {
      county: fx.county,
      year: YEAR,
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    // The worker's business error DEPARTMENT_LISTS_MISSING takes the diagram to the bureau's task.
    const [collect] = await openTasks(bureau, 'collectDepartmentLists', 1);
    expect(collect!.processInstanceKey).toBe(started.body.processInstanceKey);
    expect(Date.parse(collect!.dueDate)).toBe(Date.parse(`${YEAR}-06-30T23:59:59+08:00`));
    const vars = await records.taskVariables(collect!);
    expect(vars.missingLists).toEqual(['DISABILITY', 'WELFARE']);
    expect(await prisma.suspectedChild.count({ where: { campaignId: started.body.id } })).toBe(0);

    // Chasing without a new list checks again and comes back to the same task…
    await complete(bureau, collect!, { proceedWithoutLists: false, note: '已催报残联、民政' });
    const [again] = await openTasks(bureau, 'collectDepartmentLists', 1, new Set([collect!.userTaskKey]));
    // …until the departments confirm in writing they have no such children.
    await complete(bureau, again!, { proceedWithoutLists: true, note: '残联、民政书面确认本年度无此类儿童' });
    await openTasks(bureau, 'dispatchSuspectList', 1);
    expect(await prisma.suspectedChild.count({ where: { campaignId: started.body.id } })).toBe(2);
  });
  it('stops re-verifying at the parameter’s round limit and reports the child still suspected', async () => {
    const YEAR = 2027;
    const fx = await fixtureCounty(prisma, '379909', YEAR, 0);
    const [child] = await listedChildren(prisma, fx, YEAR, 1);
    const bureau = await as(fx.users.bureau);
    const town = await as(fx.users.town);
    const started = await bureau<{ id: number; processInstanceKey: string }>('POST', '/api/campaigns/enrollment', {
      county: fx.county,
      year: YEAR,
    });
    const seen = new Set<string>();
    // Three rounds (deadlines.verificationRounds = 3), the child found at home each time.
    for (let round = 1; round <= 3; round++) {
      const [dispatch] = await openTasks(bureau, 'dispatchSuspectList', 1, seen);
      seen.add(dispatch!.userTaskKey);
      await complete(bureau, dispatch!, {});
      const [verify] = await openTasks(town, 'verifyChild', 1, seen);
      seen.add(verify!.userTaskKey);
      await complete(town, verify!, verification('L', fx.primary.id));
    }
    const [publish] = await openTasks(bureau, 'publishCountyReport', 1);
    expect(publish!.processInstanceKey).toBe(started.body.processInstanceKey);
    const c = await prisma.campaign.findUniqueOrThrow({ where: { id: started.body.id } });
    type Round = { round: number; total: { stillSuspected: number } };
    const rounds = (c.reportSnapshot as { rounds: Round[] }).rounds;
    expect(rounds.map((r) => [r.round, r.total.stillSuspected])).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
    ]);
    // One escalation for the child while it runs, however many rounds referred it (the message start
    // allows one active instance per child; the later referrals wait).
    await eventually(
      async () => ((await prisma.dropoutCase.count({ where: { childId: child } })) > 0 ? true : undefined),
      'the referred case',
    );
    expect(await prisma.dropoutCase.count({ where: { childId: child } })).toBe(1);
  });

  it('closes a round only with every child’s outcome: a verification whose commit was lost is written first', async () => {
    const { fx, bureau, started, dispatch, verify } = await oneChildToVerify('379911', 2027);
    // The town's verification (B: studying elsewhere) reaches the engine; the API dies before its commit.
    const crashing = await buildApp({
      prisma,
      engine,
      records,
      logger: pino({ level: 'silent' }),
      completionFaults: {
        afterEngineAccepted: () => {
          throw new Error('simulated: the process died after the engine accepted the completion');
        },
      },
    });
    const lost = await crashing.inject({
      method: 'POST',
      url: `/api/tasks/${verify!.userTaskKey}/complete`,
      headers: { authorization: `Bearer ${await loginAs(fx.users.town)}` },
      payload: verification('B', fx.primary.id),
    });
    await crashing.close();
    expect(lost.json()).toMatchObject({ error: { code: 'SUBMISSION_UNCERTAIN' } });
    // The child's instance is done in the engine; the campaign's round-closing job waits for the outcome
    // (a retry kept every 5 s) instead of counting the child as still suspected and opening round 2.
    await eventually(
      async () => ((await records.userTask(verify!.userTaskKey))?.state === 'COMPLETED' ? true : undefined),
      'the verification completed in the engine',
    );
    await sleep(6_000);
    const suspect = () => prisma.suspectedChild.findFirstOrThrow({ where: { campaignId: started.body.id, round: 1 } });
    expect((await suspect()).outcomeCode).toBeNull();
    const waiting = await bureau<{ data: Task[] }>('GET', '/api/tasks?type=dispatchSuspectList&perPage=50');
    expect(waiting.body.data.filter((t) => t.userTaskKey !== dispatch!.userTaskKey)).toEqual([]);
    expect((await bureau<{ data: Task[] }>('GET', '/api/tasks?type=publishCountyReport')).body.data).toEqual([]);
    // Settled from the journal (as the API does every few seconds): the round closes with the child removed.
    expect(await settle({ prisma, engine, records }, verify!.userTaskKey)).toBe('COMPLETED');
    expect((await suspect()).outcomeCode).toBe('B');
    const [publish] = await openTasks(bureau, 'publishCountyReport', 1);
    expect(publish!.processInstanceKey).toBe(started.body.processInstanceKey);
  });
});
