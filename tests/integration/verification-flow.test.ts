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
import { engineClock } from '../../infra/engine/engine.js';
import { chinaDay, chinaYear } from '../../api/domain/china-time.js';
import { fixtureCounty, listedChildren } from './fixture-county.js';
import {
  as,
  type Caller,
  completeTask as complete,
  demoPeople,
  eventually,
  loginAs,
  openTasksOf,
  pupilWithoutCase,
} from './helpers.js';
import { testConfig } from './test-env.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
const records = createEngineRecords(inject('engineDatabaseUrl'));
const engine = createEngineClient(testConfig());
const clock = engineClock(inject('engineManagementUrl'));
const DAY = 86_400_000;
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
  }, 240_000); // 282 children worked one by one through the API and the engine: within the 60 s default on a
  // quiet machine, over it when the machine is shared (a limit, not a timing assertion).

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
    // The task's context says which lists are missing (it was empty: no child, no lines).
    const ctx = await bureau<{ summary: string | null }>('GET', `/api/tasks/${collect!.userTaskKey}/context`);
    expect(ctx.status).toBe(200);
    expect(ctx.body.summary).toBe(`${YEAR}年缺少残联、民政名单（已有公安、扶贫名单）`);
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
      // The first referral's case is open before the next round refers the child again.
      if (round === 1) {
        await eventually(
          async () => ((await prisma.dropoutCase.count({ where: { childId: child } })) > 0 ? true : undefined),
          'the referred case',
        );
      }
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
    // Rounds 2 and 3 found the case open: their referrals joined it, and its timeline says so.
    const joined = await eventually(async () => {
      const actions = await prisma.caseAction.findMany({
        where: { case: { childId: child }, kind: 'REFERRAL_JOINED' },
        orderBy: { createdAt: 'asc' },
      });
      return actions.length === 2 ? actions : undefined;
    }, 'the two later referrals noted in the case');
    expect(joined.map((a) => a.note)).toEqual([
      `适龄儿童入学核查（${YEAR}年第2轮）确认在家上学；该儿童已有在办案件，并入本案办理`,
      `适龄儿童入学核查（${YEAR}年第3轮）确认在家上学；该儿童已有在办案件，并入本案办理`,
    ]);
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

  describe('issue 15: the verification flow’s remaining errors', () => {
    it('does not verify again a child whose referred case closed with the return: registered back, one case', async () => {
      const YEAR = 2027;
      const { fx, bureau, started, dispatch, verify } = await oneChildToVerify('379921', YEAR);
      const childId = (await prisma.suspectedChild.findFirstOrThrow({ where: { campaignId: started.body.id } }))
        .childId;
      const school = await as(fx.users.primary);
      await complete(await as(fx.users.town), verify, verification('L', fx.primary.id));
      const referred = await eventually(
        async () => (await prisma.dropoutCase.findFirst({ where: { childId } })) ?? undefined,
        'the referred case',
      );
      // Round 1 closed with the child still suspected: round 2 waits for the bureau's dispatch.
      const [dispatch2] = await openTasks(bureau, 'dispatchSuspectList', 1, new Set([dispatch.userTaskKey]));

      // The child returns; the school sets out follow-up care; the case closes as 复学.
      const returned = await school('POST', `/api/cases/${referred.id}/return`, { returnedOn: chinaDay() });
      expect(returned.status, JSON.stringify(returned.body)).toBe(202);
      const [care] = await openTasks(school, 'arrangeFollowUpCare', 1);
      await complete(school, care!, {
        academic: '班主任每日课后辅导',
        psychological: '心理老师每周谈心一次',
        family: '村委会每月走访家庭',
        responsiblePerson: '王老师',
      });
      await eventually(async () => {
        const c = await prisma.dropoutCase.findUniqueOrThrow({ where: { id: referred.id } });
        return c.status === 'CLOSED' ? c : undefined;
      }, 'the case closed');
      // Registered back for the campaign's school year at the school that took the child back.
      const record = await prisma.registryRecord.findUnique({
        where: { childId_schoolYear: { childId, schoolYear: YEAR } },
      });
      expect.soft(record).toMatchObject({ status: 'ENROLLED', schoolId: fx.primary.id });

      // Round 2 knows: dispatching it verifies nobody, the campaign goes on to its report.
      await complete(bureau, dispatch2!, {});
      const [publish] = await openTasks(bureau, 'publishCountyReport', 1);
      expect(publish!.processInstanceKey).toBe(started.body.processInstanceKey);
      expect(await prisma.suspectedChild.count({ where: { campaignId: started.body.id, round: 2 } })).toBe(0);
      const town = await as(fx.users.town);
      expect((await town<{ data: Task[] }>('GET', '/api/tasks?type=verifyChild')).body.data).toEqual([]);
      expect(await prisma.dropoutCase.count({ where: { childId } })).toBe(1);
      const snapshot = (await prisma.campaign.findUniqueOrThrow({ where: { id: started.body.id } })).reportSnapshot as {
        rounds: { round: number; total: { stillSuspected: number; carriedForward: number } }[];
      };
      expect(snapshot.rounds.map((r) => [r.round, r.total.stillSuspected, r.total.carriedForward])).toEqual([
        [1, 1, 0],
      ]);
    });

    it('refers a child whose earlier case is closed as a new case that names it, and notes it in the earlier case', async () => {
      const YEAR = 2027;
      const fx = await fixtureCounty(prisma, '379925', YEAR, 0);
      const [childId] = await listedChildren(prisma, fx, YEAR, 1);
      const earlier = await prisma.dropoutCase.create({
        data: {
          childId: childId!,
          schoolId: fx.primary.id,
          regionCode: fx.town,
          status: 'CLOSED',
          outcome: 'RETURNED',
          processInstanceKey: `test-closed-case-${fx.county}`,
          openedAt: new Date('2026-03-02T02:00:00Z'),
          closedAt: new Date('2026-04-01T02:00:00Z'),
        },
      });
      const bureau = await as(fx.users.bureau);
      const town = await as(fx.users.town);
      await bureau('POST', '/api/campaigns/enrollment', { county: fx.county, year: YEAR });
      await complete(bureau, (await openTasks(bureau, 'dispatchSuspectList', 1))[0]!, {});
      await complete(town, (await openTasks(town, 'verifyChild', 1))[0]!, verification('L', fx.primary.id));
      const second = await eventually(
        async () => (await prisma.dropoutCase.findFirst({ where: { childId, id: { not: earlier.id } } })) ?? undefined,
        'the new case',
      );
      const earlierNumber = `辍-2026-${String(earlier.serial).padStart(6, '0')}`;
      expect(second.reason).toContain(`前案 ${earlierNumber} 已结案`);
      const noted = await prisma.caseAction.findMany({ where: { caseId: earlier.id } });
      expect(noted.map((a) => [a.kind, a.note])).toEqual([
        ['REFERRED_AGAIN', `适龄儿童入学核查（${YEAR}年第1轮）确认在家上学，已重新转入辍学劝返流程（本案已结案）`],
      ]);
    });

    it('refuses dates of things that happened in the future: a deferral application, a home visit', async () => {
      const { fx, town, started, verify } = await oneChildToVerify('379922', 2027);
      await complete(town, verify, verification('E', fx.primary.id));
      const [deferral] = await openTasks(town, 'fileDeferral', 1);
      const application = { applicant: '父亲', reason: '先天性心脏病术后休养' };
      const future = await town<{ error: { details: { path: string[]; message: string }[] } }>(
        'POST',
        `/api/tasks/${deferral!.userTaskKey}/complete`,
        { ...application, applicationReceivedOn: '2031-01-01' },
      );
      expect(future.status).toBe(422);
      expect(future.body.error.details).toEqual([
        { path: ['applicationReceivedOn'], message: `收到书面申请的日期不能晚于今天（${chinaDay()}）` },
      ]);
      // Nothing written: the child is not counted as deferred yet.
      const suspect = await prisma.suspectedChild.findFirstOrThrow({ where: { campaignId: started.body.id } });
      expect(suspect.placement).toBeNull();
      await complete(town, deferral!, { ...application, applicationReceivedOn: chinaDay() });

      // A teacher's home visit dated in the future is refused too (it would be printed into the 校报).
      const { teacher } = await demoPeople(prisma);
      const pupil = await pupilWithoutCase(prisma, teacher.classId);
      const asTeacher = await as(teacher.username);
      const reported = await asTeacher<{ processInstanceKey: string }>('POST', '/api/dropout-reports', {
        child: pupil.id,
        lastAttendance: chinaDay(new Date(Date.now() - 5 * DAY)),
        reason: '连续旷课三天，电话联系不上家长',
      });
      expect(reported.status, JSON.stringify(reported.body)).toBe(201);
      const [visit] = await openTasksOf(asTeacher, reported.body.processInstanceKey, 'visitFamily');
      const visited = await asTeacher<{ error: { details: { path: string[]; message: string }[] } }>(
        'POST',
        `/api/tasks/${visit!.userTaskKey}/complete`,
        {
          visitedOn: chinaDay(new Date(Date.now() + 30 * DAY)),
          visitors: '班主任',
          outcome: 'PERSUASION_FAILED',
          note: '家长不在家',
        },
      );
      expect(visited.status).toBe(422);
      expect(visited.body.error.details).toEqual([
        { path: ['visitedOn'], message: `家访日期不能晚于今天（${chinaDay()}）` },
      ]);
      const c = await prisma.dropoutCase.findUniqueOrThrow({
        where: { processInstanceKey: reported.body.processInstanceKey },
        include: { actions: true },
      });
      expect(c.actions.map((a) => a.kind)).toEqual(['CASE_OPENED']);
    });

    it('counts 已建籍 only where the town recorded it, and gives later rounds deadlines from their start', async () => {
      // A campaign of 2026, whose 20 September and 15 October have passed on the engine's clock.
      const YEAR = 2026;
      const fx = await fixtureCounty(prisma, '379923', YEAR, 0);
      await listedChildren(prisma, fx, YEAR, 2);
      const bureau = await as(fx.users.bureau);
      const town = await as(fx.users.town);
      const started = await bureau<{ id: number; processInstanceKey: string }>('POST', '/api/campaigns/enrollment', {
        county: fx.county,
        year: YEAR,
      });
      const [dispatch] = await openTasks(bureau, 'dispatchSuspectList', 1);
      await complete(bureau, dispatch!, {});
      const [first, second] = await openTasks(town, 'verifyChild', 2);
      // One found studying in the province without a registry record and registered (C, 已建籍)…
      await complete(town, first!, verification('C', fx.primary.id));
      // …one disabled child placed in 送教上门 (I): a registry record, but no 注册建籍 of the report.
      await complete(town, second!, verification('I', fx.primary.id));
      const [placement] = await openTasks(town, 'arrangeSpecialPlacement', 1);
      const before = (await clock.now()).epochMilli;
      await complete(town, placement!, {
        placement: 'HOME_TEACHING',
        receivingSchoolId: fx.primary.id,
        teachingPlan: '每周两次送教上门',
      });
      const [dispatch2] = await openTasks(bureau, 'dispatchSuspectList', 1, new Set([dispatch!.userTaskKey]));
      const after = (await clock.now()).epochMilli;
      // 已建籍: the C child of round 1 only; round 2 (the I child carried) has none recorded yet.
      type Report = { rounds: { round: number; total: { registration: Record<string, number> } }[] };
      const live = await bureau<Report>('GET', `/api/reports/verification?campaign=${started.body.id}`);
      expect.soft(live.body.rounds.map((r) => [r.round, r.total.registration.REGISTERED])).toEqual([
        [1, 1],
        [2, 0],
      ]);
      // Round 2's dispatch is due 3 days ([P]) from the round's start, not on 20 September.
      const due2 = Date.parse(dispatch2!.dueDate);
      expect(due2).toBeGreaterThanOrEqual(before + 3 * DAY);
      expect(due2).toBeLessThanOrEqual(after + 3 * DAY);
      await complete(bureau, dispatch2!, {});
      const [again] = await openTasks(town, 'verifyChild', 1, new Set([first!.userTaskKey, second!.userTaskKey]));
      // Its verification 15 days ([P]) from the round's start, not on 15 October.
      const verifyDue = Date.parse(again!.dueDate);
      expect(verifyDue).toBeGreaterThanOrEqual(before + 15 * DAY);
      expect(verifyDue).toBeLessThanOrEqual(after + 15 * DAY);
    });

    it('refuses a campaign for a year beyond next year, with a clear message, and creates nothing', async () => {
      const fx = await fixtureCounty(prisma, '379924', 2027, 0);
      const bureau = await as(fx.users.bureau);
      const year = chinaYear() + 2;
      const res = await bureau<{ error: { code: string; message: string } }>('POST', '/api/campaigns/enrollment', {
        county: fx.county,
        year,
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(res.body.error.message).toBe(
        `不能启动${year}年度的入学核查：最早可提前一年启动，即${chinaYear() + 1}年度及以前。`,
      );
      expect(await prisma.campaign.count({ where: { regionCode: fx.county } })).toBe(0);
    });
  });
});
