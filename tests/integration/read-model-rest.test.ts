/**
 * Engine-backed: the API's read model over the REST search API (infra/camunda/records-rest.ts,
 * ENGINE_READ_MODEL=rest — what a Camunda 8 cluster offers) answers what the one over our engine's tables
 * (records.ts) answers, method by method, on real instances of our engine; the inbox works on it; the views
 * that need the engine's tables answer 501 naming that, and health stays up.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../api/app.js';
import { SUBJECT_VARIABLES } from '../../api/routes/tasks.js';
import { createEngineClient } from '../../infra/camunda/client.js';
import { createEngineRecords, type TaskFilter } from '../../infra/camunda/records.js';
import { createReadModel, createRestRecords } from '../../infra/camunda/records-rest.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { as, demoPeople, eventually, loginAs, pupilWithoutCase } from './helpers.js';
import { testConfig } from './test-env.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
const engine = createEngineClient(testConfig());
const sql = createEngineRecords(inject('engineDatabaseUrl'));
const rest = createRestRecords({ restAddress: inject('engineRestUrl') });
/** The same over pages of two items: every answer that spans pages is put together from several searches. */
const paged = createRestRecords({ restAddress: inject('engineRestUrl'), pageSize: 2 });
afterAll(async () => {
  await Promise.all([prisma.$disconnect(), engine.close(), sql.close(), rest.close(), paged.close()]);
});

const PARENT = 'test-read-model';
const CHILD = 'test-read-model-child';
const tag = `rm${Date.now().toString(36)}`;
/** Groups of this file only, so other files' tasks never enter the comparisons. */
const G = { a: `school:${tag}a`, b: `school:${tag}b`, c: `town:${tag}c` };

const userTask = (id: string, ext: string) =>
  `<bpmn:userTask id="${id}"><bpmn:extensionElements><zeebe:userTask />${ext}</bpmn:extensionElements></bpmn:userTask>`;
const definitions = (body: string) => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"
  xmlns:modeler="http://camunda.org/schema/modeler/1.0" id="defs" targetNamespace="http://kongchuo.cn/test"
  modeler:executionPlatform="Camunda Cloud" modeler:executionPlatformVersion="8.6.0">${body}</bpmn:definitions>`;
const flows = (ids: string[]) =>
  ids
    .slice(1)
    .map((to, i) => `<bpmn:sequenceFlow id="f${i}" sourceRef="${ids[i]}" targetRef="${to}" />`)
    .join('');

/**
 * Parent: start → sub-process (local `level`) { first: candidate groups and due date from variables, a local
 * input `x` } → call activity (the child: one task, the parent's variables propagated) → end.
 */
const PARENT_XML = definitions(`<bpmn:process id="${PARENT}" isExecutable="true">
  <bpmn:startEvent id="start" />
  <bpmn:subProcess id="sub">
    <bpmn:extensionElements><zeebe:ioMapping><zeebe:input source="=&quot;sub&quot;" target="level" /></zeebe:ioMapping></bpmn:extensionElements>
    <bpmn:startEvent id="s_start" />
    ${userTask(
      'first',
      `<zeebe:assignmentDefinition candidateGroups="=groups" /><zeebe:taskSchedule dueDate="=due" />
       <zeebe:ioMapping><zeebe:input source="=&quot;local&quot;" target="x" /></zeebe:ioMapping>`,
    )}
    <bpmn:endEvent id="s_end" />${flows(['s_start', 'first', 's_end'])}
  </bpmn:subProcess>
  <bpmn:callActivity id="call"><bpmn:extensionElements><zeebe:calledElement processId="${CHILD}" propagateAllChildVariables="false" /></bpmn:extensionElements></bpmn:callActivity>
  <bpmn:endEvent id="end" />
  <bpmn:sequenceFlow id="p1" sourceRef="start" targetRef="sub" /><bpmn:sequenceFlow id="p2" sourceRef="sub" targetRef="call" />
  <bpmn:sequenceFlow id="p3" sourceRef="call" targetRef="end" />
</bpmn:process>`);
const CHILD_XML = definitions(`<bpmn:process id="${CHILD}" isExecutable="true">
  <bpmn:startEvent id="start" />${userTask('inner', '<zeebe:assignmentDefinition candidateGroups="=groups" />')}
  <bpmn:endEvent id="end" />${flows(['start', 'inner', 'end'])}
</bpmn:process>`);

/** The read models' answers to the same call: the REST ones (one page and many) equal the one over tables. */
async function same<T>(call: (rm: typeof sql) => Promise<T>): Promise<T> {
  const expected = await call(sql);
  expect(await call(rest)).toEqual(expected);
  expect(await call(paged)).toEqual(expected);
  return expected;
}

const DAY = 86_400_000;
let definitionKey: string;
/** Instances: due dates spread (one without), groups overlapping; `broken` has a due date FEEL cannot read. */
const started: { pik: string; groups: string[]; due: string | null }[] = [];
let broken: string;

beforeAll(async () => {
  const deployed = await engine.grpc.deployResources([
    { name: `${PARENT}.bpmn`, process: Buffer.from(PARENT_XML) },
    { name: `${CHILD}.bpmn`, process: Buffer.from(CHILD_XML) },
  ]);
  definitionKey = (deployed.deployments as { process?: { bpmnProcessId: string; processDefinitionKey: string } }[])
    .map((d) => d.process)
    .find((p) => p?.bpmnProcessId === PARENT)!.processDefinitionKey;
  const now = Date.now();
  const plan: [string[], number | null][] = [
    [[G.a], 3],
    [[G.b, G.a], 1],
    [[G.c], 5],
    [[G.a], null],
    [[G.c, G.b], 2],
    [[G.a], 3], // the same due date as the first: ties broken by key
  ];
  for (const [groups, days] of plan) {
    const due = days === null ? null : new Date(now + days * DAY).toISOString();
    const { processInstanceKey } = await engine.startProcess(PARENT, {
      groups,
      ...(due ? { due } : {}),
      suspect: { childId: `child-${started.length}` },
    });
    started.push({ pik: processInstanceKey, groups, due });
  }
  broken = (await engine.startProcess(PARENT, { groups: [G.a], due: 'not a date' })).processInstanceKey;
  await eventually(
    async () =>
      (await sql.openUserTasks({ groupsAny: Object.values(G) })).total === started.length ? true : undefined,
    'the first tasks',
  );
});

describe('the REST read model answers as the one over our engine’s tables', () => {
  it('open tasks for groups: the page, the total and the order, for every sort, filter and page', async () => {
    const many = [...Object.values(G), ...Array.from({ length: 40 }, (_, i) => `class:${tag}${i}`)];
    const filters: TaskFilter[] = [
      { groupsAny: [G.a] },
      { groupsAny: [G.a, G.b] },
      { groupsAny: many },
      { groupsAny: many, sort: 'dueDate', order: 'DESC' },
      { groupsAny: many, sort: 'createdAt', order: 'ASC', limit: 2, offset: 1 },
      { groupsAny: many, sort: 'createdAt', order: 'DESC', limit: 3 },
      { groupsAny: many, limit: 2, offset: 4 },
      { groupsAny: many, limit: 2, offset: 10 },
      { groupsAny: [G.c], elementId: 'first' },
      { groupsAny: many, bpmnProcessId: PARENT, dueBefore: new Date(Date.now() + 2.5 * DAY) },
      { groupsAny: many, processInstanceKey: started[1]!.pik },
      { groupsAny: many, processInstanceKey: 'not-a-key' },
      { groupsAny: [] },
      { groupsAny: [`class:${tag}none`] },
      { groupsAny: many, unassigned: true },
      { groupsAny: many, limit: 100_000 }, // more than a search's page (10,000 on our engine)
      { processInstanceKey: started[2]!.pik, limit: 1 },
    ];
    for (const f of filters) {
      const r = await same((rm) => rm.openUserTasks(f));
      if (f === filters[2]) expect(r.total).toBe(started.length);
    }
    expect((await sql.openUserTasks({ groupsAny: [G.a] })).total).toBe(4);
  });

  it('the group view (my groups or assigned to me), mine, unassigned and assignee — also after claims', async () => {
    const tasks = (await sql.openUserTasks({ groupsAny: Object.values(G), sort: 'createdAt' })).data;
    await engine.assignUserTask(tasks[0]!.userTaskKey, 'rm-user'); // in G.a, and mine
    await engine.assignUserTask(tasks[2]!.userTaskKey, 'rm-user'); // in G.c only
    await eventually(
      async () => ((await rest.openUserTasks({ assignee: 'rm-user' })).total === 2 ? true : undefined),
      'the claims',
    );
    const filters: TaskFilter[] = [
      { groupsAny: [G.a], assigneeOrGroups: 'rm-user' },
      { groupsAny: [G.a], assigneeOrGroups: 'rm-user', sort: 'createdAt', order: 'DESC', limit: 2, offset: 1 },
      { groupsAny: [G.b], assigneeOrGroups: 'rm-user', limit: 1 },
      { groupsAny: [], assigneeOrGroups: 'rm-user' },
      { groupsAny: [G.a], assigneeOrGroups: 'rm-user', unassigned: true },
      { groupsAny: [G.a], assigneeOrGroups: 'rm-user', assignee: 'someone-else' },
      { assignee: 'rm-user' },
      { groupsAny: Object.values(G), unassigned: true },
    ];
    for (const f of filters) await same((rm) => rm.openUserTasks(f));
    expect((await rest.openUserTasks(filters[0]!)).total).toBe(5); // G.a's four and the claimed G.c one
  });

  it('the inbox page with each task’s child; one task, several, a task’s variables', async () => {
    const page = await same((rm) => rm.openUserTaskPage({ groupsAny: Object.values(G) }, SUBJECT_VARIABLES));
    expect(page.subjects.size).toBe(started.length);
    const keys = page.data.map((t) => t.userTaskKey);
    for (const k of [...keys, '2251799813999999', 'x']) await same((rm) => rm.userTask(k));
    await same(async (rm) => [...(await rm.userTasks([...keys, '2251799813999999']))].sort());
    for (const t of page.data) {
      const vars = await same((rm) => rm.taskVariables(t));
      expect(vars).toMatchObject({ x: 'local', level: 'sub', groups: expect.any(Array) });
    }
  });

  it('instance state, incidents, process XML, callers and task history, before and after the tasks end', async () => {
    const [one] = started;
    const pik = one!.pik;
    expect(await same((rm) => rm.processInstanceState(pik))).toBe('ACTIVE');
    for (const k of ['2251799813999999', 'x']) await same((rm) => rm.processInstanceState(k));
    expect(await same((rm) => rm.openIncidents(pik))).toEqual([]);
    const incidents = await eventually(async () => {
      const r = await rest.openIncidents(broken);
      return r.length > 0 ? r : undefined;
    }, 'the incident');
    expect(incidents).toEqual([expect.objectContaining({ elementId: 'first' })]);
    await same((rm) => rm.openIncidents(broken));
    expect(await same((rm) => rm.processXml(definitionKey))).toBe(PARENT_XML);
    for (const k of ['2251799813999999', 'x']) await same((rm) => rm.processXml(k));

    // Through the call activity: the child's task, its instance's callers, its variables.
    const first = (await sql.openUserTasks({ processInstanceKey: pik })).data[0]!;
    await engine.assignUserTask(first.userTaskKey, 'rm-closer', true);
    await engine.completeUserTask(first.userTaskKey, { outcome: 'done' });
    const inner = await eventually(
      async () => (await rest.openUserTasks({ groupsAny: one!.groups, elementId: 'inner' })).data[0],
      'the child’s task',
    );
    expect(inner.processInstanceKey).not.toBe(pik);
    expect(await same((rm) => rm.callerInstances(inner.processInstanceKey))).toEqual([pik]);
    expect(await same((rm) => rm.callerInstances(pik))).toEqual([]);
    expect(await same((rm) => rm.taskVariables(inner))).toMatchObject({ groups: one!.groups });
    // The first task's variables after its scopes ended.
    expect(await same((rm) => rm.taskVariables(first))).toMatchObject({ x: 'local', level: 'sub' });

    await engine.completeUserTask(inner.userTaskKey, {});
    await eventually(async () => ((await rest.processInstanceState(pik)) === 'COMPLETED' ? true : undefined), 'end');
    expect(await same((rm) => rm.processInstanceState(pik))).toBe('COMPLETED');
    const history = await same((rm) => rm.taskHistory(pik));
    expect(history.map((h) => `${h.elementId}:${h.state}:${h.assignee}`)).toEqual([
      'first:CREATED:null',
      'first:COMPLETED:rm-closer',
    ]);
    await same((rm) => rm.taskHistory(inner.processInstanceKey));
    // A canceled task: the broken instance canceled with its (incident-held) task never created; a second
    // instance canceled while its task is open.
    const canceled = started[3]!.pik;
    await engine.grpc.cancelProcessInstance(canceled);
    await eventually(
      async () => ((await rest.processInstanceState(canceled)) === 'TERMINATED' ? true : undefined),
      'cancel',
    );
    const h = await same((rm) => rm.taskHistory(canceled));
    expect(h.map((e) => e.state)).toEqual(['CREATED', 'CANCELED']);
  });
});

describe('the API on the REST read model (ENGINE_READ_MODEL=rest)', () => {
  let app: Awaited<ReturnType<typeof buildApp>>;
  let reportedPik = '';
  beforeAll(async () => {
    const records = createReadModel(
      testConfig({ ENGINE_READ_MODEL: 'rest', ENGINE_REST_ADDRESS: inject('engineRestUrl') }),
      'postgres://nobody@127.0.0.1:1/none',
    );
    expect(records.readModel).toBe('rest');
    app = await buildApp({ prisma, engine, records, logger: pino({ level: 'silent' }) });
    await app.ready();
  });
  afterAll(() => app.close());

  const get = async (username: string, url: string) => {
    const res = await app.inject({
      method: 'GET',
      url,
      headers: { authorization: `Bearer ${await loginAs(username)}` },
    });
    return { status: res.statusCode, body: res.json() as Record<string, unknown> };
  };

  it('serves the inbox as the API on our engine’s tables does: a teacher’s group view, the bureau’s county-wide one', async () => {
    const people = await demoPeople(prisma);
    const teacher = await as(people.teacher.username);
    const reported = await teacher<{ processInstanceKey: string }>('POST', '/api/dropout-reports', {
      child: (await pupilWithoutCase(prisma, people.teacher.classId)).id,
      lastAttendance: '2026-11-16',
      reason: '长期不到校',
    });
    expect(reported.status).toBe(201);
    const pik = reported.body.processInstanceKey;
    reportedPik = pik;
    const url = `/api/tasks?processInstanceKey=${pik}`;
    const viaSql = await eventually(async () => {
      const r = await teacher<{ data: unknown[] }>('GET', url);
      return r.body.data.length > 0 ? r : undefined;
    }, 'the home-visit task');
    const viaRest = await get(people.teacher.username, url);
    expect(viaRest.status).toBe(200);
    expect(viaRest.body).toEqual(viaSql.body);
    for (const q of ['', '?sort=createdAt&order=DESC', '?view=mine', '?unassigned=true&perPage=5&page=2']) {
      expect((await get(people.teacher.username, `/api/tasks${q}`)).body).toEqual(
        (await teacher('GET', `/api/tasks${q}`)).body,
      );
    }
    // The bureau's county-wide view: every group of the county in one candidateGroup $in.
    const bureau = await as('bureau');
    for (const q of ['?view=all', '?view=all&sort=createdAt&order=DESC&perPage=50&page=2']) {
      const a = (await bureau<{ total: number }>('GET', `/api/tasks${q}`)).body;
      expect((await get('bureau', `/api/tasks${q}`)).body).toEqual(a);
      expect(a.total).toBeGreaterThan(0);
    }
  });

  it('answers 501 naming our engine’s database for the views that read its tables; health stays up', async () => {
    for (const url of ['/api/diagrams', `/api/diagrams/process/${PARENT}/versions`, '/api/supervision/processes']) {
      const res = await get('bureau', url);
      expect(res.status, url).toBe(501);
      expect(res.body).toMatchObject({ error: { code: 'NEEDS_ENGINE_DATABASE' } });
      expect(JSON.stringify(res.body)).toContain('ENGINE_READ_MODEL=rest');
    }
    const health = await app.inject({ method: 'GET', url: '/health' });
    expect(health.json()).toEqual({ status: 'UP' });
    // A case's instance: its state and incidents from the search API, as on our engine's tables.
    const url = `/api/process-instances/${reportedPik}`;
    const viaRest = await get('bureau', url);
    expect(viaRest).toMatchObject({ status: 200, body: { state: 'ACTIVE', incidents: [] } });
    expect(viaRest.body).toEqual((await (await as('bureau'))('GET', url)).body);
  });
});
