/**
 * Section 2 — our flows end to end on the real engine, workers and API.
 *
 * Whole-class handover for the demo county: the bureau starts it (POST /api/handovers), then every user
 * task is worked as the people who own it would, through POST /api/tasks/{key}/complete with the task's
 * form (a small driver watches the exporter's table for new tasks, 8 completions at a time): approval,
 * the four signatures per class, transition plans for vulnerable pupils, registration with 2 % no-shows,
 * tracing each no-show — until the graduate list is cleared.
 *
 * Escalation for N cases: N dropout reports (POST /api/dropout-reports, 16 at a time) open N cases and N
 * teacher tasks; then the engine clock is moved past the teacher's and the school's deadlines, so the
 * engine escalates all N at once (timers → record-escalation jobs → the town's tasks).
 *
 * Job latency comes from the engine's own record stream (zeebe_record JOB rows): created → completed,
 * i.e. waiting for activation plus the worker's handling. Activation itself is a JOB_BATCH record,
 * which our exporter does not export.
 */
import pg from 'pg';
import { openSessions } from '../api/auth/sessions.js';
import { needsTransitionSupport } from '../api/domain/vulnerable.js';
import { engineClock } from '../infra/engine/engine.js';
import { engineAddresses } from '../infra/config.js';
import { createPrisma, type Prisma } from '../infra/db/prisma.js';
import { latency, type Latency, pool, round, sleep } from './stats.js';
import { cpuShare, memoryWatcher, sampleProcesses, type SystemUnderTest } from './system.js';

const COUNTY = '370481';
const HANDOVER_YEAR = 2027;
const DAY = 86_400_000;

export interface FlowsOptions {
  handoverClasses: number;
  escalationCases: number;
}

export interface FlowResult {
  name: string;
  size: Record<string, number>;
  instancesPerSecond: number;
  drainSeconds: number;
  phases: { name: string; seconds: number }[];
  userTasksCompleted?: number;
  completionLatencyMs?: Latency;
  jobLatencyMs: Latency;
  jobsByType: Record<string, Latency>;
  cpu: { engine: number; node: number; postgres: number; bench: number };
  note?: string;
}

export interface FlowsSection {
  flows: FlowResult[];
  memoryPeakMiB: { engine: number; node: number; postgres: number };
}

/** Job latency (created → completed, engine timestamps) for job types, from `sinceKey` on. */
async function jobLatency(engineDb: pg.Pool, types: string[], sinceKey: string) {
  const { rows } = await engineDb.query<{ type: string; ms: number }>(
    `SELECT c.value->>'type' AS type, extract(epoch FROM (d.ts - c.ts)) * 1000 AS ms
       FROM zeebe_record c
       JOIN zeebe_record d ON d.value_type = 'JOB' AND d.record_key = c.record_key AND d.intent = 'COMPLETED'
      WHERE c.value_type = 'JOB' AND c.intent = 'CREATED' AND c.record_key > $2::bigint
        AND c.value->>'type' = ANY($1::text[])`,
    [types, sinceKey],
  );
  const byType: Record<string, Latency> = {};
  for (const t of new Set(rows.map((r) => r.type))) {
    byType[t] = latency(rows.filter((r) => r.type === t).map((r) => Number(r.ms)));
  }
  return { all: latency(rows.map((r) => Number(r.ms))), byType };
}

async function maxKey(engineDb: pg.Pool): Promise<string> {
  const { rows } = await engineDb.query<{ k: string | null }>(`SELECT max(record_key)::text AS k FROM zeebe_record`);
  return rows[0]?.k ?? '0';
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(250);
  }
}

const roundL = (l: Latency): Latency => ({ n: l.n, p50: round(l.p50, 0), p99: round(l.p99, 0), max: round(l.max, 0) });

export async function flowsSection(
  sut: SystemUnderTest,
  opts: FlowsOptions,
  say: (l: string) => void,
): Promise<FlowsSection> {
  const prisma = createPrisma(sut.appUrl);
  const engineDb = new pg.Pool({ connectionString: sut.engineUrl, max: 4 });
  engineDb.on('error', () => {});
  const mem = memoryWatcher(sut);
  try {
    const flows: FlowResult[] = [];
    flows.push(await handover(sut, prisma, engineDb, opts.handoverClasses, say));
    flows.push(await escalation(sut, prisma, engineDb, opts.escalationCases, say));
    const peak = mem.stop();
    return {
      flows,
      memoryPeakMiB: { engine: round(peak.engine, 0), node: round(peak.node, 0), postgres: round(peak.postgres, 0) },
    };
  } finally {
    mem.stop();
    await Promise.allSettled([prisma.$disconnect(), engineDb.end()]);
  }
}

async function post(sut: SystemUnderTest, token: string, path: string, body: unknown) {
  const res = await fetch(`${sut.apiUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
}

async function handover(
  sut: SystemUnderTest,
  prisma: Prisma,
  engineDb: pg.Pool,
  classes: number,
  say: (l: string) => void,
): Promise<FlowResult> {
  // The county's grade-6 classes of the previous school year; beyond `classes`, the rest are moved out of
  // the county's way for this run (a sixth-grade class of the year before becomes grade 5).
  const all = await prisma.schoolClass.findMany({
    where: { grade: 6, schoolYear: HANDOVER_YEAR - 1, regionCode: { startsWith: COUNTY } },
    orderBy: { id: 'asc' },
    select: { id: true },
  });
  if (all.length > classes) {
    const drop = all.slice(classes).map((c) => c.id);
    await prisma.schoolClass.updateMany({ where: { id: { in: drop } }, data: { grade: 5 } });
    await prisma.registryRecord.updateMany({ where: { classId: { in: drop } }, data: { grade: 5 } });
  }
  const pupils = await prisma.registryRecord.count({
    where: { grade: 6, schoolYear: HANDOVER_YEAR - 1, regionCode: { startsWith: COUNTY }, status: 'ENROLLED' },
  });
  const n = Math.min(classes, all.length);
  say(`  handover: ${n} classes, ${pupils} pupils, 2 % no-shows`);

  const users = await prisma.user.findMany({
    where: { role: { in: ['BUREAU', 'SCHOOL', 'TOWN'] }, regionCode: { startsWith: COUNTY } },
  });
  const tokens = await openSessions(
    prisma,
    users.map((u) => u.id),
  );
  const tokenOfGroup = new Map<string, string>();
  for (const u of users) {
    const t = tokens.get(u.id)!;
    if (u.role === 'BUREAU') tokenOfGroup.set(`bureau:${u.regionCode}`, t);
    if (u.role === 'TOWN') tokenOfGroup.set(`town:${u.regionCode}`, t);
    if (u.role === 'SCHOOL' && u.schoolId) tokenOfGroup.set(`school:${u.schoolId}`, t);
  }
  const bureau = tokenOfGroup.get(`bureau:${COUNTY}`)!;

  const sinceKey = await maxKey(engineDb);
  const before = sampleProcesses(sut);
  const t0 = performance.now();
  const started = await post(sut, bureau, '/api/handovers', { county: COUNTY, year: HANDOVER_YEAR });
  if (started.status !== 201)
    throw new Error(`POST /api/handovers answered ${started.status}: ${JSON.stringify(started.body)}`);
  const { id: batchId, processInstanceKey } = started.body as { id: number; processInstanceKey: string };

  const phases: { name: string; seconds: number }[] = [];
  const mark = (name: string) => phases.push({ name, seconds: round((performance.now() - t0) / 1000, 1) });
  const completion: number[] = [];
  let completed = 0;
  let lastKey = sinceKey;
  const seen = new Set<string>();
  const queue: { key: string; value: Record<string, unknown> }[] = [];
  let done = false;

  /** The body a task's owner submits, by task type. */
  const bodyFor = async (elementId: string, key: string): Promise<unknown> => {
    const variables = async () => {
      const { rows } = await engineDb.query<{ v: string }>(
        `SELECT value->>'value' AS v FROM zeebe_record
          WHERE value_type = 'VARIABLE' AND value->>'name' = $2 AND value->>'scopeKey' IN (
            SELECT value->>'flowScopeKey' FROM zeebe_record
             WHERE value_type = 'PROCESS_INSTANCE' AND record_key = (
               SELECT (value->>'elementInstanceKey')::bigint FROM zeebe_record
                WHERE value_type = 'USER_TASK' AND record_key = $1::bigint LIMIT 1) LIMIT 1)
          ORDER BY position DESC LIMIT 1`,
        [key, elementId === 'traceNoShowPupil' ? 'noShow' : 'assignment'],
      );
      return rows[0] ? (JSON.parse(rows[0].v) as Record<string, unknown>) : undefined;
    };
    switch (elementId) {
      case 'approveHandoverPlan':
        return { approved: true, lettersSigned: true };
      case 'handOverRoster':
        return { paperFilesHandedOver: true, signedBy: '送出学校 张校长' };
      case 'receiveRoster':
        return { rosterChecked: true, signedBy: '接收学校 李校长' };
      case 'countersignHandover':
        return { signedBy: '镇教育办 王主任' };
      case 'planTransitionSupport':
      case 'registerArrivals': {
        const a = (await variables()) as { assignmentId: number } | undefined;
        if (!a) throw new Error(`no assignment variable for task ${key}`);
        const roster = await prisma.handoverPupil.findMany({
          where: { assignmentId: a.assignmentId },
          include: { child: { select: { flags: true } } },
          orderBy: { childId: 'asc' },
        });
        if (elementId === 'planTransitionSupport') {
          return {
            plans: roster
              .filter((p) => needsTransitionSupport(p.child.flags))
              .map((p) => ({
                childId: p.childId,
                measures: '结对帮扶，每月谈心一次',
                responsiblePerson: '七年级班主任',
              })),
          };
        }
        return {
          pupils: roster.map((p, i) => ({
            childId: p.childId,
            arrived: (a.assignmentId * 7 + i) % 50 !== 0,
          })),
        };
      }
      case 'traceNoShowPupil':
        return { outcome: 'TRANSFER_FOUND', whereabouts: '枣庄市第十五中学' };
      default:
        throw new Error(`the handover driver does not know task ${elementId}`);
    }
  };

  const worker = async () => {
    while (!done) {
      const task = queue.shift();
      if (!task) {
        await sleep(50);
        continue;
      }
      const elementId = String(task.value.elementId);
      const group = (task.value.candidateGroupsList as string[])[0]!;
      const token = tokenOfGroup.get(group);
      if (!token) throw new Error(`no user for group ${group}`);
      const body = await bodyFor(elementId, task.key);
      for (let attempt = 0; ; attempt++) {
        const s = performance.now();
        const res = await post(sut, token, `/api/tasks/${task.key}/complete`, body);
        if (res.status === 204) {
          completion.push(performance.now() - s);
          completed++;
          break;
        }
        if (attempt >= 20)
          throw new Error(`completing ${elementId} ${task.key}: ${res.status} ${JSON.stringify(res.body)}`);
        await sleep(500);
      }
      if (elementId === 'approveHandoverPlan') mark('plan approved');
    }
  };
  const lanes = Array.from({ length: 8 }, worker);
  const watcher = (async () => {
    while (!done) {
      const { rows } = await engineDb.query<{ key: string; value: Record<string, unknown> }>(
        `SELECT record_key::text AS key, value FROM zeebe_record
          WHERE value_type = 'USER_TASK' AND intent = 'CREATED' AND record_key > $1::bigint
            AND value->>'bpmnProcessId' = 'whole-class-handover' ORDER BY record_key`,
        [lastKey],
      );
      for (const r of rows) {
        if (seen.has(r.key)) continue;
        seen.add(r.key);
        queue.push(r);
        lastKey = r.key;
      }
      const batch = await prisma.handoverBatch.findUnique({ where: { id: batchId }, select: { status: true } });
      if (batch?.status === 'CLEARED') done = true;
      else await sleep(250);
    }
  })();
  const timeout = setTimeout(() => {
    done = true;
  }, 30 * 60_000);
  await Promise.all([watcher, ...lanes]);
  clearTimeout(timeout);
  const batch = await prisma.handoverBatch.findUniqueOrThrow({ where: { id: batchId } });
  if (batch.status !== 'CLEARED') throw new Error(`the handover did not clear (status ${batch.status})`);
  mark('graduate list cleared');
  const drain = (performance.now() - t0) / 1000;
  const cpu = cpuShare(before, sampleProcesses(sut), drain);
  await sleep(1000); // the exporter's last flush
  const jobs = await jobLatency(
    engineDb,
    [
      'draft-handover-plan',
      'list-handover-classes',
      'file-handover-form',
      'match-registry-records',
      'report-arrivals',
      'clear-graduate-list',
    ],
    sinceKey,
  );
  const noShows = await prisma.handoverPupil.count({
    where: { assignment: { batchId }, status: { not: 'REGISTERED' } },
  });
  void processInstanceKey;
  say(
    `    cleared in ${drain.toFixed(1)} s: ${completed} tasks completed through the API, ${noShows} no-shows traced; job p50 ${jobs.all.p50.toFixed(0)} ms p99 ${jobs.all.p99.toFixed(0)} ms`,
  );
  return {
    name: 'handover',
    size: { classes: n, pupils, noShows },
    instancesPerSecond: round(n / drain, 2),
    drainSeconds: round(drain, 1),
    phases,
    userTasksCompleted: completed,
    completionLatencyMs: roundL(latency(completion)),
    jobLatencyMs: roundL(jobs.all),
    jobsByType: Object.fromEntries(Object.entries(jobs.byType).map(([k, v]) => [k, roundL(v)])),
    cpu: { engine: round(cpu.engine), node: round(cpu.node), postgres: round(cpu.postgres), bench: round(cpu.bench) },
    note: 'inst/s = classes handed over per second (multi-instance), start → 清零',
  };
}

async function escalation(
  sut: SystemUnderTest,
  prisma: Prisma,
  engineDb: pg.Pool,
  cases: number,
  say: (l: string) => void,
): Promise<FlowResult> {
  const pupils = await prisma.registryRecord.findMany({
    where: {
      regionCode: { startsWith: COUNTY },
      status: 'ENROLLED',
      classId: { not: null },
      grade: { lte: 5 },
      child: { cases: { none: {} } },
    },
    select: { childId: true },
    orderBy: { id: 'asc' },
    take: cases,
  });
  const n = pupils.length;
  say(`  escalation: ${n} cases`);
  const bureauUser = await prisma.user.findUniqueOrThrow({ where: { username: 'bureau' } });
  const bureau = (await openSessions(prisma, [bureauUser.id])).get(bureauUser.id)!;
  const clock = engineClock(engineAddresses(sut.cfg).management);
  const countTasks = async (elementId: string) => {
    const { rows } = await engineDb.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM zeebe_record
        WHERE value_type = 'USER_TASK' AND intent = 'CREATED' AND record_key > $2::bigint AND value->>'elementId' = $1`,
      [elementId, sinceKey],
    );
    return rows[0]!.n;
  };

  const sinceKey = await maxKey(engineDb);
  const before = sampleProcesses(sut);
  const t0 = performance.now();
  const phases: { name: string; seconds: number }[] = [];
  const mark = (name: string) => phases.push({ name, seconds: round((performance.now() - t0) / 1000, 1) });
  let refused = 0;
  await pool(pupils, 16, async (p) => {
    const res = await post(sut, bureau, '/api/dropout-reports', {
      child: p.childId,
      lastAttendance: '2026-11-02',
      reason: '基准测试：连续旷课三天',
    });
    if (res.status !== 201) refused++;
  });
  const startSeconds = (performance.now() - t0) / 1000;
  mark(`${n} reports accepted`);
  if (refused) throw new Error(`${refused} dropout reports were refused`);
  const wait = (what: string, elementId: string) =>
    waitFor(what, async () => (await countTasks(elementId)) >= n, 20 * 60_000);
  await wait(`${n} teacher tasks`, 'visitFamily');
  mark(`${n} cases opened, teacher tasks open`);
  // Nobody visits: past the teacher's 3 days the case goes to the school …
  await clock.add(4 * DAY);
  await wait(`${n} school tasks`, 'confirmDropoutBySchool');
  mark('clock +4 d: every case at the school');
  // … and past the school's 3 days the overdue is recorded (record-escalation) and it goes to the town.
  await clock.add(4 * DAY);
  await wait(`${n} town tasks`, 'orderCorrectionByTown');
  mark('clock +4 d: overdue recorded, every case at the town');
  const drain = (performance.now() - t0) / 1000;
  const cpu = cpuShare(before, sampleProcesses(sut), drain);
  await sleep(1000);
  const jobs = await jobLatency(engineDb, ['open-dropout-case', 'record-escalation', 'send-school-report'], sinceKey);
  say(
    `    ${n} cases started at ${(n / startSeconds).toFixed(1)}/s, drained in ${drain.toFixed(1)} s; job p50 ${jobs.all.p50.toFixed(0)} ms p99 ${jobs.all.p99.toFixed(0)} ms (${jobs.all.n} jobs)`,
  );
  return {
    name: 'escalation',
    size: { cases: n },
    instancesPerSecond: round(n / startSeconds, 1),
    drainSeconds: round(drain, 1),
    phases,
    jobLatencyMs: roundL(jobs.all),
    jobsByType: Object.fromEntries(Object.entries(jobs.byType).map(([k, v]) => [k, roundL(v)])),
    cpu: { engine: round(cpu.engine), node: round(cpu.node), postgres: round(cpu.postgres), bench: round(cpu.bench) },
    note: 'inst/s = reports accepted per second (API → engine); drain = until every case reached the town',
  };
}
