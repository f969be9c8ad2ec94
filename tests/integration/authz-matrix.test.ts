/**
 * The authorization matrix: every route the app registers × every role (and no session), for a
 * resource in the caller's own jurisdiction and one in another town's. The routes come from the app's
 * own route table, so a new route fails this test until ACCESS says who may use it.
 *
 * ACCESS is the specification, written from the statutes' actors (docs/statutes.md), not read from
 * the routes' code: who may act, and whose records they see. A role outside `allow` gets 403 before
 * anything runs; a role inside it passes the gate with the caller's own resource; a class, school or
 * town never learns that another town's resource exists (404, the same answer as for a made-up id).
 * READS says, per role, whose children and cases it reads — least privilege: its own (class, school,
 * town; the justice bureau the cases it holds; the police the suspects sent to it), another town's,
 * and one of its county its duty has nothing to do with.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../api/app.js';
import { openSessions } from '../../api/auth/sessions.js';
import { idCheckChar } from '../../api/domain/id-number.js';
import type { Role } from '../../generated/prisma/enums.js';
import { createEngineClient } from '../../infra/camunda/client.js';
import { REPO_ROOT } from '../../infra/config.js';
import { createEngineRecords } from '../../infra/camunda/records.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { api, demoPeople, eventually, pupilWithoutCase } from './helpers.js';
import { testConfig } from './test-env.js';

const ROLES: Role[] = ['TEACHER', 'SCHOOL', 'TOWN', 'BUREAU', 'JUSTICE', 'POLICE', 'POLICY', 'SUPERVISOR', 'ADMIN'];
/** Roles bound to a class, school or town: they must not see another town's records. */
const LOCAL: Role[] = ['TEACHER', 'SCHOOL', 'TOWN'];
const COUNTY_ROLES = ROLES.filter((r) => !LOCAL.includes(r));
const CASEWORK: Role[] = ['TEACHER', 'SCHOOL', 'TOWN', 'BUREAU'];
const MANAGERS: Role[] = ['ADMIN', 'BUREAU'];
const REPORTERS: Role[] = ['TOWN', 'BUREAU', 'POLICY', 'SUPERVISOR', 'ADMIN'];
/** 督导: the county's oversight (a supervisor of a city or the province: all of it). */
const SUPERVISION: Role[] = ['BUREAU', 'SUPERVISOR', 'ADMIN'];

/** What a route's path parameters stand for. */
type Target =
  | 'child'
  | 'case'
  | 'class'
  | 'school'
  | 'town'
  | 'user'
  | 'task'
  | 'instance'
  | 'attachment'
  | 'campaign'
  | 'handover'
  | 'importKind';

interface RouteSpec {
  /** 'public': no session needed. 'everyone': any signed-in role (the data is still scoped). */
  allow: 'public' | 'everyone' | Role[];
  /** What the path parameter names; checked own vs another town's for the local roles. */
  target?: Target;
  /** A query that makes the request valid, so an allowed role reaches the handler. */
  query?: string;
  /** A valid body for writes aimed at another town's resource, so the scope (not validation) answers. */
  body?: unknown;
  /** Local roles that see the own resource (default all): a home-visit task is the teacher's alone. */
  seenBy?: Role[];
}

/** The specification. Keys are the app's route table entries. */
const ACCESS: Record<string, RouteSpec> = {
  'GET /health': { allow: 'public' },
  'GET /metrics': { allow: 'public' },
  'POST /api/auth/login': { allow: 'public' },
  'POST /api/auth/logout': { allow: 'everyone' },
  'GET /api/auth/me': { allow: 'everyone' },

  'GET /api/users': { allow: 'everyone' },
  'GET /api/users/:id': { allow: 'everyone', target: 'user' },
  'POST /api/users': { allow: MANAGERS },
  // Everyone changes their own name and password; managers also other accounts (users.ts).
  'PUT /api/users/:id': { allow: 'everyone', target: 'user' },
  'GET /api/towns': { allow: 'everyone' },
  'GET /api/towns/:id': { allow: 'everyone', target: 'town' },
  'PUT /api/towns/:id': { allow: MANAGERS, target: 'town' },
  'GET /api/schools': { allow: 'everyone' },
  'GET /api/schools/:id': { allow: 'everyone', target: 'school' },
  'POST /api/schools': { allow: MANAGERS },
  'PUT /api/schools/:id': { allow: [...MANAGERS, 'SCHOOL'], target: 'school' },
  'GET /api/classes': { allow: 'everyone' },
  'GET /api/classes/:id': { allow: 'everyone', target: 'class' },
  'POST /api/classes': { allow: [...MANAGERS, 'SCHOOL'] },
  'PUT /api/classes/:id': { allow: [...MANAGERS, 'SCHOOL'], target: 'class' },

  'GET /api/children': { allow: 'everyone' },
  'GET /api/children/:id': { allow: 'everyone', target: 'child' },
  'POST /api/children': { allow: [...MANAGERS, 'TOWN', 'SCHOOL'] },
  'PUT /api/children/:id': { allow: [...MANAGERS, 'TOWN', 'SCHOOL'], target: 'child' },
  'GET /api/children/:id/registry': { allow: 'everyone', target: 'child' },

  'GET /api/cases': { allow: 'everyone' },
  'GET /api/cases/:id': { allow: 'everyone', target: 'case' },
  'PUT /api/cases/:id': { allow: ['SCHOOL', 'TOWN', 'BUREAU', 'ADMIN'], target: 'case' },
  'POST /api/cases/:id/return': { allow: CASEWORK, target: 'case', body: { returnedOn: '2026-11-20' } },
  'GET /api/cases/:id/documents/:documentId': { allow: 'everyone', target: 'case' },
  'GET /api/cases/:id/timeline': { allow: 'everyone', target: 'case' },
  'GET /api/cases/:id/records': { allow: 'everyone', target: 'case' },
  'POST /api/dropout-reports': { allow: CASEWORK },

  'GET /api/campaigns': { allow: 'everyone' },
  'GET /api/campaigns/:id': { allow: 'everyone', target: 'campaign' },
  'POST /api/campaigns/enrollment': { allow: ['BUREAU', 'ADMIN'] },
  'GET /api/campaigns/:id/suspects': { allow: 'everyone', target: 'campaign' },
  'GET /api/verification-codes': { allow: 'everyone' },
  'GET /api/handovers': { allow: 'everyone' },
  'GET /api/handovers/:id': { allow: 'everyone', target: 'handover' },
  'POST /api/handovers': { allow: ['BUREAU', 'ADMIN'] },
  'GET /api/handovers/:id/assignments': { allow: 'everyone', target: 'handover' },
  'GET /api/handovers/:id/pupils': { allow: 'everyone', target: 'handover' },
  // A flow's progress per town: the county's oversight, and each town its own row (progress.ts).
  'GET /api/campaigns/:id/progress': { allow: ['TOWN', 'BUREAU', 'SUPERVISOR', 'ADMIN'], target: 'campaign' },
  'GET /api/handovers/:id/progress': { allow: ['TOWN', 'BUREAU', 'SUPERVISOR', 'ADMIN'], target: 'handover' },

  'GET /api/imports/formats': { allow: 'everyone' },
  // The county's file list is for those who import (a teacher opened it by URL).
  'GET /api/imports': { allow: MANAGERS },
  'POST /api/imports/:kind': { allow: ['BUREAU', 'ADMIN'], target: 'importKind' },

  // The statutory statistics: the towns and the county's education side report and oversee; a school
  // sees its own dropout table; the justice bureau and the police have no statistics duty.
  'GET /api/reports/verification': { allow: REPORTERS },
  'GET /api/reports/dropouts': { allow: [...REPORTERS, 'SCHOOL'], query: 'year=2026&half=H1' },
  'GET /api/reports/retention': { allow: REPORTERS },

  'GET /api/tasks': { allow: 'everyone' },
  // 导出: the whole filtered list, the same rows as the list (scoped, masked), audited.
  // (narrowed to no rows here: the gate is under test, not streaming a county's register nine times)
  'GET /api/exports/children': { allow: 'everyone', query: 'format=csv&q=授权矩阵无此人' },
  'GET /api/exports/cases': { allow: 'everyone', query: 'format=csv&q=授权矩阵无此人' },
  'GET /api/exports/tasks': { allow: 'everyone', query: 'format=csv&type=noSuchTask' },
  'GET /api/tasks/:key': { allow: 'everyone', target: 'task', seenBy: ['TEACHER'] },
  'GET /api/tasks/:key/context': { allow: 'everyone', target: 'task', seenBy: ['TEACHER'] },
  'GET /api/tasks/:key/submission': { allow: 'everyone', target: 'task', seenBy: ['TEACHER'] },
  'POST /api/tasks/:key/claim': { allow: 'everyone', target: 'task', seenBy: ['TEACHER'] },
  'POST /api/tasks/:key/unclaim': { allow: 'everyone', target: 'task', seenBy: ['TEACHER'] },
  'POST /api/tasks/:key/assign': { allow: 'everyone', target: 'task', seenBy: ['TEACHER'], body: { assignee: 'x' } },
  'POST /api/tasks/:key/complete': { allow: 'everyone', target: 'task', seenBy: ['TEACHER'] },
  'POST /api/tasks/bulk-complete': { allow: 'everyone' },
  'POST /api/tasks/:key/attachments': { allow: 'everyone', target: 'task', seenBy: ['TEACHER'] },
  'GET /api/attachments/:id': { allow: 'everyone', target: 'attachment' },
  // Engine internals (state, incidents) are for the county's operators, not for caseworkers.
  'GET /api/process-instances/:key': { allow: ['BUREAU', 'SUPERVISOR', 'ADMIN'], target: 'instance' },
  'GET /api/audit-events': { allow: ['SUPERVISOR', 'ADMIN'] },
  // Heatmaps and the dashboard: every figure and every waiting child stays in the caller's region.
  'GET /api/supervision/processes': { allow: SUPERVISION },
  'GET /api/supervision/diagram': { allow: SUPERVISION, query: 'process=dropout-escalation' },
  'GET /api/supervision/heatmap': { allow: SUPERVISION, query: 'process=dropout-escalation' },
  'GET /api/supervision/heatmap/waiting': { allow: SUPERVISION, query: 'process=dropout-escalation&element=x' },
  'GET /api/supervision/dashboard': { allow: SUPERVISION },
  // Diagrams and decision tables: the county's education side reads them and their history; only policy
  // staff (政策管理员) check drafts, deploy and roll back (issue 18).
  'GET /api/diagrams': { allow: ['POLICY', 'BUREAU', 'SUPERVISOR', 'ADMIN'] },
  'GET /api/diagrams/:kind/:id/versions': { allow: ['POLICY', 'BUREAU', 'SUPERVISOR', 'ADMIN'] },
  'GET /api/diagrams/:kind/:id/versions/:version': { allow: ['POLICY', 'BUREAU', 'SUPERVISOR', 'ADMIN'] },
  'GET /api/diagrams/:kind/:id/diff': { allow: ['POLICY', 'BUREAU', 'SUPERVISOR', 'ADMIN'] },
  'GET /api/diagrams/element-templates': { allow: ['POLICY', 'BUREAU', 'SUPERVISOR', 'ADMIN'] },
  'POST /api/diagrams/validate': { allow: ['POLICY'] },
  'POST /api/diagrams/deploy': { allow: ['POLICY'] },
  'POST /api/diagrams/:kind/:id/versions/:version/rollback': { allow: ['POLICY'] },
  'GET /api/diagrams/:kind/:id/versions/:version/migration-plan': {
    allow: ['POLICY', 'BUREAU', 'SUPERVISOR', 'ADMIN'],
  },
  'POST /api/diagrams/:kind/:id/migrate': { allow: ['POLICY'] },
};

/**
 * Whose children and cases each role reads — the least-privilege specification (README "Security").
 * 'county': every one of its county, another town's too; 'own': only its own — a teacher her class, a
 * school its pupils, a town its residents and pupils, the justice bureau the cases referred to it while
 * it holds them (an open task of `justice:<county>`, or the period of its judicial notice running) and
 * their children, the police the children of the verification suspects sent to it (outcome A, feedback
 * not given: child-verification's only police task); 'none': not even those.
 */
type Reach = 'county' | 'own' | 'none';
const READS: Record<'child' | 'case', Record<Role, Reach>> = {
  child: {
    TEACHER: 'own',
    SCHOOL: 'own',
    TOWN: 'own',
    BUREAU: 'county',
    SUPERVISOR: 'county',
    ADMIN: 'county',
    JUSTICE: 'own',
    POLICE: 'own',
    POLICY: 'none',
  },
  case: {
    TEACHER: 'own',
    SCHOOL: 'own',
    TOWN: 'own',
    BUREAU: 'county',
    SUPERVISOR: 'county',
    ADMIN: 'county',
    JUSTICE: 'own',
    POLICE: 'none',
    POLICY: 'none',
  },
};

const prisma = createPrisma(inject('appDatabaseUrl'));
const records = createEngineRecords(inject('engineDatabaseUrl'));
const engine = createEngineClient(testConfig());
let app: FastifyInstance;
/** A session per role: the teacher, school and town of one class; the county's users. */
const tokens = new Map<Role, string>();
const userIds = new Map<Role, number>();
/** Path parameter values: resources of that class (own) and of another town (other). */
let own: Record<Target, string>;
let other: Record<Target, string>;
/** A case the justice bureau holds (its instance has an open `justice:<county>` task), and its child. */
let held: { caseId: string; childId: string; processInstanceKey: string; userTaskKey: string };
/** A child whose verification was sent to the police (outcome A, no feedback yet), and the suspect row. */
let sentToPolice: { childId: string; suspectId: number; campaignId: number };

/** A dropout case of a pupil of `classId`, reported by its teacher, with the first task open. */
async function caseWithTask(teacher: { id: number; classId: number | null }) {
  const pupil = await pupilWithoutCase(prisma, teacher.classId);
  const token = (await openSessions(prisma, [teacher.id])).get(teacher.id)!;
  const res = await api<{ processInstanceKey: string }>(
    'POST',
    '/api/dropout-reports',
    { child: pupil.id, lastAttendance: '2026-11-16', reason: '连续旷课' },
    { token },
  );
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const { processInstanceKey } = res.body;
  const task = await eventually(
    async () => (await records.openUserTasks({ processInstanceKey })).data[0],
    'the home-visit task',
  );
  const found = await eventually(
    async () => (await prisma.dropoutCase.findFirst({ where: { childId: pupil.id } })) ?? undefined,
    'the case',
  );
  return { caseId: found.id, childId: pupil.id, processInstanceKey, task };
}

/** A PNG attached to the task by the teacher. */
async function attachment(teacher: { id: number }, userTaskKey: string): Promise<string> {
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
    'base64',
  );
  const form = new FormData();
  form.append('file', new Blob([png], { type: 'image/png' }), 'visit.png');
  const token = (await openSessions(prisma, [teacher.id])).get(teacher.id)!;
  const res = await fetch(`${inject('apiUrl')}/api/tasks/${userTaskKey}/attachments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  const body = (await res.json()) as { id: string };
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body.id;
}

/**
 * The test county's schools all lie in one town, so another town gets a school, a class with one
 * pupil (a valid ID number of its own) and the class's teacher here.
 */
async function classInAnotherTown(otherTown: { id: number; code: string }, likeClassId: number) {
  const like = await prisma.schoolClass.findUniqueOrThrow({ where: { id: likeClassId } });
  const suffix = randomUUID().slice(0, 8);
  const school = await prisma.school.create({
    data: {
      code: `AUTHZ${suffix}`,
      name: `授权矩阵测试小学${suffix}`,
      kind: 'PRIMARY',
      regionId: otherTown.id,
      regionCode: otherTown.code,
    },
  });
  const klass = await prisma.schoolClass.create({
    data: {
      schoolId: school.id,
      schoolYear: like.schoolYear,
      grade: like.grade,
      name: '一(1)班',
      regionCode: otherTown.code,
    },
  });
  const randomIdNumber = () => {
    const day = String(10 + Math.floor(Math.random() * 18));
    const first17 = `370481201503${day}${String(Math.floor(Math.random() * 1000)).padStart(3, '0')}`;
    return first17 + idCheckChar(first17);
  };
  let idNumber = randomIdNumber();
  while (await prisma.child.findUnique({ where: { idNumber } })) idNumber = randomIdNumber();
  const pupil = await prisma.child.create({
    data: {
      idNumber,
      name: '授权测试',
      gender: Number(idNumber[16]) % 2 ? 'MALE' : 'FEMALE',
      birthDate: new Date(`2015-03-${idNumber.slice(12, 14)}`),
      regionCode: otherTown.code,
      currentSchoolId: school.id,
      currentClassId: klass.id,
    },
  });
  await prisma.registryRecord.create({
    data: {
      childId: pupil.id,
      schoolYear: like.schoolYear,
      schoolId: school.id,
      classId: klass.id,
      grade: like.grade,
      regionCode: otherTown.code,
    },
  });
  return prisma.user.create({
    data: {
      username: `authz-teacher-${suffix}`,
      displayName: '授权测试班主任',
      passwordHash: 'scrypt$disabled',
      role: 'TEACHER',
      regionCode: otherTown.code,
      regionId: otherTown.id,
      schoolId: school.id,
      classId: klass.id,
    },
  });
}

/** A child of the county with no case, outside the classes the teacher fixtures use. */
async function unrelatedChild(county: string, notIn: (number | null)[]) {
  return prisma.child.findFirstOrThrow({
    where: {
      regionCode: { startsWith: county },
      cases: { none: {} },
      suspicions: { none: {} },
      currentSchoolId: { not: null },
      currentClassId: { notIn: notIn.filter((c) => c !== null) },
    },
    orderBy: { id: 'desc' },
  });
}

/**
 * A case at the justice bureau's stage. The escalation reaches it only after weeks of statutory
 * deadlines (escalation.test.ts moves the engine clock for that); here a test diagram gives the case's
 * instance the same thing, one open task of `justice:<county>`.
 */
async function caseHeldByJustice(county: string, notIn: (number | null)[]) {
  await engine.grpc.deployResource({
    processFilename: path.join(REPO_ROOT, 'tests/fixtures/justice-stage-probe.bpmn'),
  });
  const { processInstanceKey } = await engine.startProcess('test-justice-stage', { county });
  const child = await unrelatedChild(county, notIn);
  const school = await prisma.school.findUniqueOrThrow({ where: { id: child.currentSchoolId! } });
  const c = await prisma.dropoutCase.create({
    data: {
      childId: child.id,
      schoolId: school.id,
      classId: child.currentClassId,
      regionCode: school.regionCode,
      status: 'URGED',
      reason: '授权矩阵测试：转司法局',
      processInstanceKey,
    },
  });
  const task = await eventually(
    async () => (await records.openUserTasks({ processInstanceKey })).data[0],
    'the justice task',
  );
  return { caseId: c.id, childId: child.id, processInstanceKey, userTaskKey: task.userTaskKey };
}

/** A suspect of a campaign of the county whose town found a registration problem (A): the police's. */
async function suspectSentToPolice(county: string, notIn: (number | null)[]) {
  // A campaign of its own (a year no flow uses), so no report of a real campaign counts this row.
  const campaign = await prisma.campaign.create({ data: { regionCode: county, year: 2099, status: 'VERIFYING' } });
  const child = await unrelatedChild(county, notIn);
  const suspect = await prisma.suspectedChild.create({
    data: { campaignId: campaign.id, childId: child.id, regionCode: child.regionCode, outcomeCode: 'A' },
  });
  return { childId: child.id, suspectId: suspect.id, campaignId: campaign.id };
}

beforeAll(async () => {
  app = await buildApp({ prisma, engine, records, logger: pino({ level: 'silent' }) });
  await app.ready();
  const people = await demoPeople(prisma);
  const { teacher } = people;
  // Another town of the same county (other tests' data never decides which).
  const towns = await prisma.region.findMany({
    where: { level: 'TOWN', code: { startsWith: teacher.regionCode.slice(0, 6) } },
    orderBy: { code: 'asc' },
  });
  const town = towns.find((t) => teacher.regionCode.startsWith(t.code))!;
  const otherTown = towns.find((t) => t.code !== town.code)!;
  const otherTeacher = await classInAnotherTown(otherTown, teacher.classId!);
  const [ownCase, otherCase] = [await caseWithTask(teacher), await caseWithTask(otherTeacher)];
  const countyCode = teacher.regionCode.slice(0, 6);
  const taken = [teacher.classId, otherTeacher.classId, people.otherTeacher.classId];
  held = await caseHeldByJustice(countyCode, taken);
  sentToPolice = await suspectSentToPolice(countyCode, taken);
  const campaign = await prisma.campaign.findFirst({ orderBy: { id: 'asc' } });
  const handover = await prisma.handoverBatch.findFirst({ orderBy: { id: 'asc' } });
  const common = { campaign: String(campaign?.id ?? 999_999), handover: String(handover?.id ?? 999_999) };
  own = {
    child: ownCase.childId,
    case: ownCase.caseId,
    class: String(teacher.classId),
    school: String(teacher.schoolId),
    town: String(town.id),
    user: String(teacher.id),
    task: ownCase.task.userTaskKey,
    instance: ownCase.processInstanceKey,
    attachment: await attachment(teacher, ownCase.task.userTaskKey),
    importKind: 'children',
    ...common,
  };
  other = {
    child: otherCase.childId,
    case: otherCase.caseId,
    class: String(otherTeacher.classId),
    school: String(otherTeacher.schoolId),
    town: String(otherTown.id),
    user: String(otherTeacher.id),
    task: otherCase.task.userTaskKey,
    instance: otherCase.processInstanceKey,
    attachment: await attachment(otherTeacher, otherCase.task.userTaskKey),
    importKind: 'children',
    ...common,
  };
  // The demo county's own users (other files add counties with users of every role).
  const county = await prisma.user.findMany({
    where: { username: { in: ['admin', 'bureau', 'justice', 'police', 'policy', 'supervisor'] } },
  });
  expect(county.map((u) => u.role).sort()).toEqual([...COUNTY_ROLES].sort());
  const byRole = new Map<Role, number>([
    ['TEACHER', teacher.id],
    ['SCHOOL', people.school.id],
    ['TOWN', people.town.id],
    ...county.map((u) => [u.role, u.id] as [Role, number]),
  ]);
  const sessions = await openSessions(prisma, [...byRole.values()]);
  for (const [role, id] of byRole) {
    tokens.set(role, sessions.get(id)!);
    userIds.set(role, id);
  }
}, 120_000);

afterAll(async () => {
  // The fixtures leave nothing open: the probe's task done (its case closed), the police row gone.
  if (held) {
    await engine.completeUserTask(held.userTaskKey, {}).catch(() => undefined);
    await prisma.dropoutCase.update({ where: { id: held.caseId }, data: { status: 'CLOSED', closedAt: new Date() } });
  }
  if (sentToPolice) {
    await prisma.suspectedChild.delete({ where: { id: sentToPolice.suspectId } });
    await prisma.campaign.delete({ where: { id: sentToPolice.campaignId } });
  }
  await app.close();
  await Promise.all([engine.close(), records.close(), prisma.$disconnect()]);
});

/** The URL of a route with its parameters filled from `ids`; documents get an id nobody has. */
function urlOf(route: string, ids: Record<Target, string>, spec: RouteSpec, role?: Role): string {
  const target = spec.target;
  // "Own" account: the caller's own.
  const id = target === 'user' && ids === own && role ? String(userIds.get(role)) : target ? ids[target] : ':missing';
  const path = route
    .split(' ')[1]!
    .replace(':documentId', randomUUID())
    .replace(/:(id|key|kind)/, id);
  return spec.query ? `${path}?${spec.query}` : path;
}

async function call(route: string, url: string, token?: string, body: unknown = {}) {
  const method = route.split(' ')[0] as 'GET' | 'POST' | 'PUT';
  // Writes get an empty body unless told: an allowed caller then stops at validation, so nothing changes.
  const res = await app.inject({
    method,
    url,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    ...(method === 'GET' ? {} : { payload: body as object }),
  });
  const json = res.headers['content-type']?.toString().includes('json') && res.body ? res.json() : {};
  return { status: res.statusCode, code: (json as { error?: { code?: string } }).error?.code };
}

const routes = () => app.routeTable.filter((r) => !r.startsWith('GET /api/docs'));

describe('authorization matrix', () => {
  it('has a specification for every route the app registers, and no stale ones', () => {
    const registered = routes();
    expect(registered.length).toBeGreaterThan(50);
    expect(registered.filter((r) => !ACCESS[r])).toEqual([]);
    expect(Object.keys(ACCESS).filter((r) => !registered.includes(r))).toEqual([]);
  });

  it('asks every non-public route for a session', async () => {
    const open: string[] = [];
    for (const route of routes()) {
      const spec = ACCESS[route]!;
      if (spec.allow === 'public') continue;
      const res = await call(route, urlOf(route, own, spec));
      if (res.status !== 401) open.push(`${route} → ${res.status}`);
    }
    expect(open).toEqual([]);
  });

  it('lets exactly the specified roles through each route, with their own jurisdiction’s resource', async () => {
    const wrong: string[] = [];
    for (const route of routes()) {
      if (route === 'POST /api/auth/logout') continue; // ends the session: checked last, below
      const spec = ACCESS[route]!;
      if (spec.allow === 'public') continue;
      for (const role of ROLES) {
        const allowed = spec.allow === 'everyone' || spec.allow.includes(role);
        const res = await call(route, urlOf(route, own, spec, role), tokens.get(role));
        // The role gate answers FORBIDDEN; a handler may still refuse an allowed role for a business
        // reason (TASK_NOT_YOURS: a county user cannot complete a teacher's task).
        const refused = res.status === 403 && res.code === 'FORBIDDEN';
        if (allowed && (res.status === 401 || refused)) wrong.push(`${route} ${role}: ${res.status} ${res.code}`);
        if (!allowed && !refused) wrong.push(`${route} ${role}: expected 403, got ${res.status} ${res.code}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('shows classes, schools and towns nothing of another town: 404 for its resources, and their own ones work', async () => {
    const wrong: string[] = [];
    for (const route of routes()) {
      const spec = ACCESS[route]!;
      // County-wide records (campaigns, handovers, import kinds) belong to no town.
      if (!spec.target || ['campaign', 'handover', 'importKind'].includes(spec.target)) continue;
      if (route === 'POST /api/auth/logout') continue;
      for (const role of LOCAL) {
        if (spec.allow !== 'everyone' && !spec.allow.includes(role)) continue;
        const theirs = await call(route, urlOf(route, other, spec, role), tokens.get(role), spec.body);
        if (theirs.status !== 404) wrong.push(`${route} ${role}, another town's: ${theirs.status} ${theirs.code}`);
        // Own resources are found (documents: the id is made up, so 404 there says nothing).
        const sees = spec.seenBy ?? LOCAL;
        if (route.startsWith('GET ') && !route.includes(':documentId') && sees.includes(role)) {
          const mine = await call(route, urlOf(route, own, spec, role), tokens.get(role));
          if (mine.status === 404) wrong.push(`${route} ${role}, own: 404 ${mine.code}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('lets county roles reach another town’s records where their role allows', async () => {
    const res = await call('GET /api/children/:id', `/api/children/${other.child}`, tokens.get('BUREAU'));
    expect(res.status).toBe(200);
    const task = await call('GET /api/tasks/:key', `/api/tasks/${other.task}`, tokens.get('SUPERVISOR'));
    expect(task.status).toBe(200);
  });

  it('reads children and cases exactly as READS says: own, another town’s, and one its duty has nothing to do with', async () => {
    const wrong: string[] = [];
    /** The role's own child or case: the class's for education, the held case for justice, the police's suspect. */
    const ownFor = (role: Role, target: 'child' | 'case') =>
      role === 'JUSTICE'
        ? target === 'child'
          ? held.childId
          : held.caseId
        : role === 'POLICE' && target === 'child'
          ? sentToPolice.childId
          : own[target];
    const byRoute: [string, 'child' | 'case'][] = [
      ['GET /api/children/:id', 'child'],
      ['GET /api/children/:id/registry', 'child'],
      ['GET /api/cases/:id', 'case'],
      ['GET /api/cases/:id/timeline', 'case'],
    ];
    const list = { child: '/api/children', case: '/api/cases' };
    for (const role of ROLES) {
      for (const [route, target] of byRoute) {
        const reach = READS[target][role];
        const resources: [string, string, boolean][] = [
          ['own', ownFor(role, target), reach !== 'none'],
          ["another town's", other[target], reach === 'county'],
        ];
        // The teacher's class is the county's, but the justice bureau, the police and policy staff have no part in it.
        if (ownFor(role, target) !== own[target]) resources.push(['unrelated', own[target], false]);
        for (const [which, id, visible] of resources) {
          const res = await call(route, route.split(' ')[1]!.replace(':id', id), tokens.get(role));
          if (res.status !== (visible ? 200 : 404)) wrong.push(`${route} ${role} ${which}: ${res.status} ${res.code}`);
        }
      }
      // Lists say the same: the ids a role finds by list are exactly those it may open.
      for (const target of ['child', 'case'] as const) {
        const reach = READS[target][role];
        const resources: [string, string, boolean][] = [
          ['own', ownFor(role, target), reach !== 'none'],
          ["another town's", other[target], reach === 'county'],
        ];
        if (ownFor(role, target) !== own[target]) resources.push(['unrelated', own[target], false]);
        for (const [which, id, visible] of resources) {
          const res = await app.inject({
            method: 'GET',
            url: `${list[target]}?id=${id}`,
            headers: { authorization: `Bearer ${tokens.get(role)}` },
          });
          const total = (res.json() as { total: number }).total;
          if (total !== (visible ? 1 : 0)) wrong.push(`list ${target} ${role} ${which}: total ${total}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('gives the police only the suspects sent to it, and the justice bureau, the police and policy staff no roster', async () => {
    const get = async <T>(role: Role, url: string) =>
      (await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${tokens.get(role)}` } })).json() as T;
    type Suspects = { data: { id: number }[]; total: number };
    const suspects = await get<Suspects>('POLICE', `/api/campaigns/${sentToPolice.campaignId}/suspects`);
    expect(suspects.data.map((s) => s.id)).toEqual([sentToPolice.suspectId]);
    // Every child the police finds is one whose registration problem waits for its answer.
    const children = await get<{ data: { id: string }[] }>('POLICE', '/api/children?perPage=500');
    const pending = await prisma.suspectedChild.findMany({
      where: { childId: { in: children.data.map((c) => c.id) }, outcomeCode: 'A', policeFeedback: null },
    });
    expect(new Set(pending.map((p) => p.childId))).toEqual(new Set(children.data.map((c) => c.id)));
    for (const role of ['JUSTICE', 'POLICY'] as const) {
      expect((await get<Suspects>(role, `/api/campaigns/${sentToPolice.campaignId}/suspects`)).total, role).toBe(0);
    }
    for (const role of ['JUSTICE', 'POLICE', 'POLICY'] as const) {
      const batches = await prisma.handoverBatch.findMany({ where: { regionCode: { startsWith: '370481' } } });
      for (const b of batches) {
        expect((await get<Suspects>(role, `/api/handovers/${b.id}/pupils`)).total, `${role} ${b.id}`).toBe(0);
      }
    }
    expect((await get<{ total: number }>('POLICY', '/api/children')).total).toBe(0);
    expect((await get<{ total: number }>('POLICY', '/api/cases')).total).toBe(0);
  });

  it('lets the justice bureau read a case only while it holds it', async () => {
    const read = () => call('GET /api/cases/:id', `/api/cases/${held.caseId}`, tokens.get('JUSTICE'));
    expect((await read()).status).toBe(200);
    // Every case the bureau lists is one it holds: a justice task open, or its notice's period running.
    const listed = await app.inject({
      method: 'GET',
      url: '/api/cases?perPage=500',
      headers: { authorization: `Bearer ${tokens.get('JUSTICE')}` },
    });
    const cases = (listed.json() as { data: { processInstanceKey: string; status: string }[] }).data;
    expect(cases.map((c) => c.processInstanceKey)).toContain(held.processInstanceKey);
    for (const c of cases) {
      const open = await records.openUserTasks({ processInstanceKey: c.processInstanceKey });
      const atJustice = open.data.some((t) => t.candidateGroups.includes('justice:370481'));
      expect(atJustice || (c.status === 'LEGAL_NOTICE' && open.total === 0), c.processInstanceKey).toBe(true);
    }
    // The stage ends (here: its task is done): the case and the child are out of its sight.
    await engine.completeUserTask(held.userTaskKey, {});
    await eventually(async () => ((await read()).status === 404 ? true : undefined), 'the case to leave its view');
    const child = await call('GET /api/children/:id', `/api/children/${held.childId}`, tokens.get('JUSTICE'));
    expect(child.status).toBe(404);
  });

  it('lets a school see its teachers’ accounts but not rename them or set their passwords', async () => {
    const teacherId = userIds.get('TEACHER')!;
    const before = await prisma.user.findUniqueOrThrow({ where: { id: teacherId } });
    const url = `/api/users/${teacherId}`;
    expect((await call('GET /api/users/:id', url, tokens.get('SCHOOL'))).status).toBe(200);
    for (const body of [{ displayName: '被改名' }, { password: 'Taken#Over2026' }]) {
      const res = await call('PUT /api/users/:id', url, tokens.get('SCHOOL'), body);
      expect(res.status).toBe(403);
    }
    const after = await prisma.user.findUniqueOrThrow({ where: { id: teacherId } });
    expect([after.displayName, after.passwordHash]).toEqual([before.displayName, before.passwordHash]);
    // The bureau, which manages accounts, may.
    const managed = await call('PUT /api/users/:id', url, tokens.get('BUREAU'), { displayName: before.displayName });
    expect(managed.status).toBe(200);
  });

  it('ends only the caller’s own session on logout', async () => {
    for (const role of ROLES) {
      const res = await call('POST /api/auth/logout', '/api/auth/logout', tokens.get(role));
      expect(res.status, role).toBe(204);
      expect((await call('GET /api/auth/me', '/api/auth/me', tokens.get(role))).status, role).toBe(401);
    }
  });
});
