/**
 * The two flows the fault tests drive through the API, step by step as caseworkers would, retrying
 * while the system answers 503: the dropout escalation up to the town's 责令限期改正通知书 and the
 * whole-class handover up to 清零. Each driver records what it saw, so a test can say which step a
 * fault broke.
 */
import { chinaDay } from '../../api/domain/china-time.js';
import type { Prisma } from '../../infra/db/prisma.js';
import { fixtureCounty, type FixtureCounty } from '../integration/fixture-county.js';
import { type apiClient, eventually, isTransient, type Pupil, type Reply, retrying, sleep } from './helpers.js';

type Api = ReturnType<typeof apiClient>;
type Task = { userTaskKey: string; elementId: string; processInstanceKey: string };

const DAY = 86_400_000;
const daysAgo = (n: number) => chinaDay(new Date(Date.now() - n * DAY));
/** How long a step may wait for its task: the engine may be down for a while in between. */
const STEP_TIMEOUT_MS = 240_000;

export interface Observations {
  /** API calls that were answered (any status but 503 / no answer). */
  steps: number;
  /** 503s and unanswered requests seen (and retried). */
  transient: number;
  /**
   * Completions retried after a 503 and then refused as already done (409 TASK_NOT_OPEN): the engine had
   * accepted an attempt the API could not confirm. Not an error by itself (the submission journal
   * writes the records afterwards); the tests check the records.
   */
  acceptedDespite503: { pik: string; elementId: string }[];
  /** 500s (retried, as a caseworker would): the API failed where it should have answered 503. */
  serverErrors: string[];
  /** Steps whose task never appeared. */
  stuck: string[];
  /** Anything else unexpected: status and body. */
  unexpected: string[];
}

export function newObservations(): Observations {
  return { steps: 0, transient: 0, acceptedDespite503: [], serverErrors: [], stuck: [], unexpected: [] };
}

async function counted<T>(obs: Observations, fn: () => Promise<Reply<T>>): Promise<Reply<T>> {
  const r = await retrying(fn, { timeoutMs: STEP_TIMEOUT_MS, onTransient: () => obs.transient++ });
  obs.steps++;
  return r;
}

/** The open task `elementId` of the instance, as `username` sees it in the inbox. */
async function taskOf(api: Api, username: string, pik: string, elementId: string): Promise<Task> {
  const caller = api.as(username);
  return eventually(
    async () => {
      const r = await caller<{ data: Task[] }>('GET', `/api/tasks?processInstanceKey=${pik}&type=${elementId}`);
      return r.status === 200 ? r.body.data[0] : undefined;
    },
    `${elementId} of ${pik}`,
    STEP_TIMEOUT_MS,
  );
}

/**
 * Completes the instance's task `elementId` as `username`, as a caseworker would: a 503 (or no answer)
 * is tried again; so is 409 SUBMISSION_PENDING (an earlier attempt whose outcome the API is still
 * settling, api/tasks/completion.ts); 409 TASK_NOT_OPEN after such an attempt means the engine took
 * it (the API then writes the records from its journal — the data assertions check that). Anything
 * else is unexpected and abandons the flow.
 */
async function step(obs: Observations, api: Api, username: string, pik: string, elementId: string, body: unknown) {
  let task: Task;
  try {
    task = await taskOf(api, username, pik, elementId);
  } catch {
    obs.stuck.push(`${pik}/${elementId}`);
    throw new Error(`${elementId} of ${pik} never appeared`);
  }
  const caller = api.as(username);
  let retried = false;
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    if (Date.now() > deadline) {
      obs.stuck.push(`${pik}/${elementId}: not accepted within ${STEP_TIMEOUT_MS} ms`);
      throw new Error(`${elementId} of ${pik} not accepted`);
    }
    const r = await caller<{ error?: { code: string } }>('POST', `/api/tasks/${task.userTaskKey}/complete`, body);
    const code = r.body?.error?.code;
    if (isTransient(r.status) || code === 'SUBMISSION_PENDING') {
      obs.transient++;
      retried = true;
      await sleep(code === 'SUBMISSION_PENDING' ? 2_000 : 500);
      continue;
    }
    if (r.status >= 500) {
      obs.serverErrors.push(`${elementId} of ${pik}: ${r.status} ${JSON.stringify(r.body)}`);
      retried = true;
      await sleep(500);
      continue;
    }
    obs.steps++;
    if (r.status === 204) return;
    if (retried && code === 'TASK_NOT_OPEN') {
      obs.acceptedDespite503.push({ pik, elementId });
      return;
    }
    obs.unexpected.push(`${elementId} of ${pik} as ${username}: ${r.status} ${JSON.stringify(r.body)}`);
    throw new Error(`${elementId} of ${pik}: ${r.status}`);
  }
}

export const ESCALATION_STEPS = ['visitFamily', 'confirmDropoutBySchool', 'orderCorrectionByTown'] as const;

/** A teacher reports the pupil; returns the instance key (undefined when the report was refused). */
export async function reportDropout(obs: Observations, api: Api, p: Pupil): Promise<string | undefined> {
  const teacher = api.as(p.teacher);
  const r = await counted(obs, () =>
    teacher<{ processInstanceKey: string }>('POST', '/api/dropout-reports', {
      child: p.childId,
      lastAttendance: daysAgo(5),
      reason: '连续旷课三天，电话联系不上家长',
    }),
  );
  if (r.status !== 201) {
    obs.unexpected.push(`report of ${p.childId}: ${r.status} ${JSON.stringify(r.body)}`);
    return undefined;
  }
  return r.body.processInstanceKey;
}

/** The teacher's home visit, without success. */
export const VISIT_FAILED = () => ({ visitedOn: daysAgo(1), visitors: '班主任 王老师', outcome: 'PERSUASION_FAILED' });

/**
 * After the report: home visit fails → the school confirms → the town orders correction (the notice is
 * issued). `visitDone`: the home visit went through already (a submission settled from the journal).
 */
export async function driveEscalation(
  obs: Observations,
  api: Api,
  p: Pupil,
  pik: string,
  opts: { visitDone?: boolean } = {},
) {
  if (!opts.visitDone) await step(obs, api, p.teacher, pik, 'visitFamily', VISIT_FAILED());
  await step(obs, api, p.school, pik, 'confirmDropoutBySchool', {
    decision: 'CONFIRMED',
    reasonCode: 'A2',
    plan: '厌学，父母在外务工；班主任每周家访，学校安排学业帮扶',
    responsiblePerson: '李副校长',
  });
  await step(obs, api, p.town, pik, 'orderCorrectionByTown', {
    educatedOn: daysAgo(0),
    officers: '镇教育办 张主任、村委会 刘主任',
  });
}

export const HANDOVER_YEAR = 2027;
export const HANDOVER_STEPS = [
  'approveHandoverPlan',
  'handOverRoster',
  'receiveRoster',
  'countersignHandover',
  'registerArrivals',
] as const;

/** `n` small counties of their own (codes 3798xx), each with one grade-6 class of `pupils`. */
export async function handoverCounties(prisma: Prisma, n: number, pupils: number, base = 379800) {
  const out: FixtureCounty[] = [];
  for (let i = 0; i < n; i++) out.push(await fixtureCounty(prisma, String(base + i), HANDOVER_YEAR, pupils));
  return out;
}

/** The bureau starts the county's handover; returns the instance key and the batch. */
export async function startHandover(obs: Observations, api: Api, fx: FixtureCounty) {
  const bureau = api.as(fx.users.bureau);
  const r = await counted(obs, () =>
    bureau<{ id: number; processInstanceKey: string }>('POST', '/api/handovers', {
      county: fx.county,
      year: HANDOVER_YEAR,
    }),
  );
  if (r.status !== 201) {
    obs.unexpected.push(`handover of ${fx.county}: ${r.status} ${JSON.stringify(r.body)}`);
    return undefined;
  }
  return { pik: r.body.processInstanceKey, batchId: r.body.id };
}

/** Every party signs (approval, hand-over, receipt, the town's countersignature). */
export async function signHandover(obs: Observations, api: Api, fx: FixtureCounty, pik: string) {
  await step(obs, api, fx.users.bureau, pik, 'approveHandoverPlan', { approved: true, lettersSigned: true });
  await step(obs, api, fx.users.primary, pik, 'handOverRoster', { paperFilesHandedOver: true, signedBy: '张校长' });
  await step(obs, api, fx.users.middle, pik, 'receiveRoster', { rosterChecked: true, signedBy: '李校长' });
  await step(obs, api, fx.users.town, pik, 'countersignHandover', { signedBy: '镇教育办 王主任' });
}

/** The receiving school registers every pupil as arrived: one roster, one multi-row write. */
export async function registerArrivals(obs: Observations, api: Api, fx: FixtureCounty, pik: string) {
  await step(obs, api, fx.users.middle, pik, 'registerArrivals', {
    pupils: fx.children.map((c) => ({ childId: c.id, arrived: true })),
  });
}

/** Every party signs; every pupil arrives (the list is then cleared by the workers). */
export async function driveHandover(obs: Observations, api: Api, fx: FixtureCounty, pik: string) {
  await signHandover(obs, api, fx, pik);
  await registerArrivals(obs, api, fx, pik);
}
