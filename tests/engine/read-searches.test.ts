/**
 * Engine-backed: the REST searches an API reads its model through when it has no access to the engine's
 * tables (infra/camunda/records-rest.ts, ENGINE_READ_MODEL=rest), as Camunda 8.8's Orchestration Cluster
 * REST API documents them:
 * - variables: https://docs.camunda.io/docs/apis-tools/orchestration-cluster-api-rest/specifications/search-variables/
 * - a user task's variables: https://docs.camunda.io/docs/apis-tools/orchestration-cluster-api-rest/specifications/search-user-task-variables/
 * - process XML: https://docs.camunda.io/docs/apis-tools/orchestration-cluster-api-rest/specifications/get-process-definition-xml/
 * - user tasks by candidate group `$in` (advanced string filter):
 *   https://docs.camunda.io/docs/apis-tools/orchestration-cluster-api-rest/specifications/search-user-tasks/
 */
import { describe, expect, it } from 'vitest';
import { bpmn, chain, deploy, eventually, flow, instanceState, rest, restCall, uniqueId, zeebe } from './helpers.js';

interface Variable {
  variableKey: string;
  name: string;
  value: string;
  isTruncated: boolean;
  scopeKey: string;
  processInstanceKey: string;
  tenantId: string;
}
type Page<T> = { items: T[]; page: { totalItems: number } };

const userTask = (id: string, groups: string, inputs = '') =>
  `<bpmn:userTask id="${id}"><bpmn:extensionElements><zeebe:userTask />
     <zeebe:assignmentDefinition candidateGroups="${groups}" />${inputs ? `<zeebe:ioMapping>${inputs}</zeebe:ioMapping>` : ''}
   </bpmn:extensionElements></bpmn:userTask>`;
const input = (target: string, source: string) =>
  `<zeebe:input source="${source.replace(/"/g, '&quot;')}" target="${target}" />`;

/**
 * start → sub-process (input `level = "sub"`, `shadow = "sub"`) { fork → a (local x="a", shadow="a") ‖ b (local x="b") }
 * → end: two sibling scopes under one flow scope, a name shadowed at three levels.
 */
function forkXml(id: string) {
  return bpmn(
    id,
    `<bpmn:startEvent id="start" />
     <bpmn:subProcess id="sub">
       <bpmn:extensionElements><zeebe:ioMapping>${input('level', '="sub"')}${input('shadow', '="sub"')}</zeebe:ioMapping></bpmn:extensionElements>
       <bpmn:startEvent id="s_start" />
       <bpmn:parallelGateway id="fork" />
       ${userTask('a', 'g-a, g-shared', input('x', '="a"') + input('shadow', '="a"'))}
       ${userTask('b', 'g-b', input('x', '="b"'))}
       <bpmn:parallelGateway id="join" />
       <bpmn:endEvent id="s_end" />
       ${flow('sf0', 's_start', 'fork')}${flow('sfa', 'fork', 'a')}${flow('sfb', 'fork', 'b')}
       ${flow('sfa2', 'a', 'join')}${flow('sfb2', 'b', 'join')}${flow('sfe', 'join', 's_end')}
     </bpmn:subProcess>
     <bpmn:endEvent id="end" />${chain(['start', 'sub', 'end'])}`,
  );
}

async function openTasks(processInstanceKey: string) {
  const page = await eventually(async () => {
    const r = await restCall('POST', '/v2/user-tasks/search', { filter: { processInstanceKey, state: 'CREATED' } });
    const body = r.body as Page<{ userTaskKey: string; elementId: string; elementInstanceKey: string }>;
    return body.items.length === 2 ? body : undefined;
  });
  return Object.fromEntries(page.items.map((t) => [t.elementId, t]));
}

const byScopeAndName = (vs: Variable[]) =>
  vs.map((v) => `${v.scopeKey}:${v.name}=${v.value}`).sort((p, q) => p.localeCompare(q));

describe('POST /v2/variables/search', () => {
  it('answers the variables defined directly at each scope, by instance, scope and name; values as JSON text', async () => {
    const id = uniqueId('vars');
    await deploy(`${id}.bpmn`, forkXml(id));
    const c = await zeebe().createProcessInstance({
      bpmnProcessId: id,
      variables: { childId: 'c-1', shadow: 'instance', n: 7 },
    });
    const pik = c.processInstanceKey;
    const tasks = await openTasks(pik);

    const all = await restCall('POST', '/v2/variables/search', { filter: { processInstanceKey: pik } });
    expect(all.status).toBe(200);
    const items = (all.body as Page<Variable>).items;
    expect((all.body as Page<Variable>).page.totalItems).toBe(items.length);
    const eiA = tasks.a!.elementInstanceKey;
    const eiB = tasks.b!.elementInstanceKey;
    const sub = items.find((v) => v.name === 'level')!.scopeKey;
    expect(byScopeAndName(items)).toEqual(
      [
        `${pik}:childId="c-1"`,
        `${pik}:n=7`,
        `${pik}:shadow="instance"`,
        `${sub}:level="sub"`,
        `${sub}:shadow="sub"`,
        `${eiA}:x="a"`,
        `${eiA}:shadow="a"`,
        `${eiB}:x="b"`,
      ].sort((p, q) => p.localeCompare(q)),
    );
    for (const v of items) {
      expect(v).toMatchObject({ processInstanceKey: pik, isTruncated: false, tenantId: '<default>' });
      expect(v.variableKey).toMatch(/^\d+$/);
    }

    // Only the scope asked for ("does not include variables from parent scopes").
    const local = await restCall('POST', '/v2/variables/search', { filter: { scopeKey: eiA } });
    expect(byScopeAndName((local.body as Page<Variable>).items)).toEqual([`${eiA}:shadow="a"`, `${eiA}:x="a"`]);
    // Name with $in, value as serialized JSON, sort and page.
    const named = await restCall('POST', '/v2/variables/search', {
      filter: { processInstanceKey: pik, name: { $in: ['x', 'n'] } },
      sort: [{ field: 'value', order: 'DESC' }],
      page: { from: 0, limit: 2 },
    });
    expect((named.body as Page<Variable>).page.totalItems).toBe(3);
    expect((named.body as Page<Variable>).items.map((v) => v.value)).toEqual(['7', '"b"']);
    const byValue = await restCall('POST', '/v2/variables/search', {
      filter: { processInstanceKey: pik, value: '"c-1"' },
    });
    expect((byValue.body as Page<Variable>).items.map((v) => v.name)).toEqual(['childId']);

    // An update is the scope's one variable with its latest value.
    await zeebe().setVariables({ elementInstanceKey: pik, variables: { n: 8 }, local: true });
    const updated = await restCall('POST', '/v2/variables/search', { filter: { processInstanceKey: pik, name: 'n' } });
    expect((updated.body as Page<Variable>).items.map((v) => v.value)).toEqual(['8']);

    // Refusals name the field; the query parameter truncateValues is accepted as documented.
    const bad = await restCall('POST', '/v2/variables/search', { filter: { nope: 1 } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain("'nope'");
    const full = await fetch(rest('/v2/variables/search?truncateValues=false'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ filter: { processInstanceKey: pik, name: 'childId' } }),
    });
    expect(((await full.json()) as Page<Variable>).items.map((v) => v.value)).toEqual(['"c-1"']);
    const badFlag = await fetch(rest('/v2/variables/search?truncateValues=maybe'), { method: 'POST' });
    expect(badFlag.status).toBe(400);
  });
});

describe('POST /v2/user-tasks/{userTaskKey}/variables/search', () => {
  it("answers every variable visible from the task's scope up to the instance, one per scope, not a sibling's — also after the task ended", async () => {
    const id = uniqueId('utvars');
    await deploy(`${id}.bpmn`, forkXml(id));
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { childId: 'c-2', shadow: 'i' } });
    const pik = c.processInstanceKey;
    const tasks = await openTasks(pik);
    const a = tasks.a!;
    const search = async (key: string, body: unknown = {}) => {
      const r = await restCall('POST', `/v2/user-tasks/${key}/variables/search`, body);
      expect(r.status).toBe(200);
      return (r.body as Page<Variable>).items;
    };

    const visible = await search(a.userTaskKey);
    const sub = visible.find((v) => v.name === 'level')!.scopeKey;
    const expected = [
      `${pik}:childId="c-2"`,
      `${pik}:shadow="i"`,
      `${sub}:level="sub"`,
      `${sub}:shadow="sub"`,
      `${a.elementInstanceKey}:shadow="a"`,
      `${a.elementInstanceKey}:x="a"`,
    ].sort((p, q) => p.localeCompare(q));
    expect(byScopeAndName(visible)).toEqual(expected);
    // Scopes nest inward with growing keys: the instance < the sub-process < the task's element.
    expect(BigInt(pik) < BigInt(sub) && BigInt(sub) < BigInt(a.elementInstanceKey)).toBe(true);

    const shadows = await search(a.userTaskKey, { filter: { name: 'shadow' }, sort: [{ field: 'scopeKey' }] });
    expect(shadows.map((v) => v.value)).toEqual(['"i"', '"sub"', '"a"']);
    const b = await search(tasks.b!.userTaskKey, { filter: { name: { $in: ['x', 'shadow'] } } });
    expect(byScopeAndName(b)).toEqual(
      [`${pik}:shadow="i"`, `${sub}:shadow="sub"`, `${tasks.b!.elementInstanceKey}:x="b"`].sort((p, q) =>
        p.localeCompare(q),
      ),
    );

    // After both tasks and the instance completed (their scopes' variables are gone from the live table).
    for (const t of [a, tasks.b!]) {
      expect((await restCall('POST', `/v2/user-tasks/${t.userTaskKey}/completion`, {})).status).toBe(204);
    }
    await eventually(async () => (await instanceState(pik)) === 'COMPLETED');
    expect(byScopeAndName(await search(a.userTaskKey))).toEqual(expected);

    // An unknown task has none; only `name` filters; a malformed key is refused.
    expect(await search('2251799813999999')).toEqual([]);
    expect(
      (await restCall('POST', `/v2/user-tasks/${a.userTaskKey}/variables/search`, { filter: { scopeKey: pik } }))
        .status,
    ).toBe(400);
    expect((await restCall('POST', '/v2/user-tasks/abc/variables/search', {})).status).toBe(400);
  });
});

describe('GET /v2/process-definitions/{processDefinitionKey}/xml', () => {
  it('answers the XML as deployed (text/xml); 404 for an unknown key, 400 for a malformed one', async () => {
    const id = uniqueId('xml');
    const xml = forkXml(id);
    const d = await deploy(`${id}.bpmn`, xml);
    const key = (d.deployments[0] as { process: { processDefinitionKey: string } }).process.processDefinitionKey;
    const res = await fetch(rest(`/v2/process-definitions/${key}/xml`));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/xml/);
    expect(await res.text()).toBe(xml);
    const missing = await fetch(rest('/v2/process-definitions/2251799813999999/xml'));
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { detail: string }).detail).toContain('2251799813999999');
    expect((await fetch(rest('/v2/process-definitions/x1/xml'))).status).toBe(400);
  });
});

describe('POST /v2/user-tasks/search, candidateGroup $in', () => {
  it('finds the tasks offered to any group of a set, by first or later group, the same for a few groups and for many', async () => {
    const id = uniqueId('groups');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />${userTask('t', '=groups')}<bpmn:endEvent id="end" />${chain(['start', 't', 'end'])}`,
      ),
    );
    const p = `${id}-`;
    const started = [[`${p}school:1`], [`${p}school:2`, `${p}town:9`], [`${p}school:3`], [`${p}other`, `${p}school:4`]];
    const keys: string[] = [];
    for (const groups of started) {
      keys.push((await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { groups } })).processInstanceKey);
    }
    const found = async (groups: string[]) => {
      const r = await restCall('POST', '/v2/user-tasks/search', {
        filter: { processDefinitionId: id, state: 'CREATED', candidateGroup: { $in: groups } },
        sort: [{ field: 'creationDate' }],
      });
      expect(r.status).toBe(200);
      const body = r.body as Page<{ processInstanceKey: string }>;
      return { total: body.page.totalItems, instances: body.items.map((t) => t.processInstanceKey).sort() };
    };
    await eventually(async () => (await found([`${p}school:1`])).total === 1);
    // Few groups (the GIN path): school:1, town:9 (a second group), school:4 (a second group).
    const few = [`${p}school:1`, `${p}town:9`, `${p}school:4`];
    const expected = { total: 3, instances: [keys[0]!, keys[1]!, keys[3]!].sort() };
    expect(await found(few)).toEqual(expected);
    // Many groups (a county's thousands, here 40 — above the first-group threshold): the same answer.
    const many = [...few, ...Array.from({ length: 37 }, (_, i) => `${p}none:${i}`)];
    expect(await found(many)).toEqual(expected);
    expect(await found(Array.from({ length: 40 }, (_, i) => `${p}none:${i}`))).toEqual({ total: 0, instances: [] });
    // A plain value matches one group of the array.
    expect(await found([`${p}school:3`])).toEqual({ total: 1, instances: [keys[2]!] });
    expect((await restCall('POST', '/v2/user-tasks/search', { filter: { candidateGroup: { $in: 'x' } } })).status).toBe(
      400,
    );
  });
});
