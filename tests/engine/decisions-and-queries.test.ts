/**
 * Engine-backed: decisions, the read side and the limits.
 * - business rule tasks with a called decision (https://docs.camunda.io/docs/components/modeler/bpmn/business-rule-tasks/)
 *   and EvaluateDecision (https://docs.camunda.io/docs/apis-tools/zeebe-api/gateway-service/#evaluatedecision-rpc);
 * - message time to live (https://docs.camunda.io/docs/components/concepts/messages/#message-buffering);
 * - the REST searches and element statistics (Orchestration Cluster REST API, 8.8);
 * - input-mapping incidents and their resolution (https://docs.camunda.io/docs/components/concepts/incidents/).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/config.js';
import {
  DAY,
  bpmn,
  chain,
  clock,
  deploy,
  engineDb,
  eventually,
  flow,
  instanceState,
  restCall,
  serviceTask,
  uniqueId,
  zeebe,
  nextJob,
} from './helpers.js';

const DMN = fs.readFileSync(path.join(REPO_ROOT, 'processes', 'statutory-deadlines.dmn'));

describe('decisions', () => {
  it("a business rule task evaluates the latest statutory-deadlines table into its result variable, by the county's row", async () => {
    await zeebe().deployResource({ name: 'statutory-deadlines.dmn', decision: DMN });
    const id = uniqueId('brt');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />
         <bpmn:businessRuleTask id="load"><bpmn:extensionElements>
           <zeebe:calledDecision decisionId="statutory-deadlines" resultVariable="deadlines" /></bpmn:extensionElements></bpmn:businessRuleTask>
         ${serviceTask('use', `${id}-use`)}<bpmn:endEvent id="end" />${chain(['start', 'load', 'use', 'end'])}`,
      ),
    );
    await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { county: '330382' } });
    await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { county: '370481' } });
    const jobs = await zeebe().activateJobs({
      type: `${id}-use`,
      worker: 'w',
      maxJobsToActivate: 2,
      timeout: 30_000,
      requestTimeout: 5_000,
    });
    const byCounty = Object.fromEntries(
      jobs.map((j) => [j.variables.county as string, j.variables.deadlines as Record<string, unknown>]),
    );
    // 乐清 goes straight to the justice bureau ([Y] 三(一)2); the default row issues a 敦促入学通知书 first ([T] 二(十)).
    expect(byCounty['330382']).toMatchObject({ issueUrgeNotice: false, teacherVisitWithin: 'P3D' });
    expect(byCounty['370481']).toMatchObject({ issueUrgeNotice: true, verificationRounds: 3 });
  });

  it('EvaluateDecision answers the output and the matched rule; an unknown decision is NOT_FOUND', async () => {
    await zeebe().deployResource({ name: 'statutory-deadlines.dmn', decision: DMN });
    const res = await zeebe().evaluateDecision({ decisionId: 'statutory-deadlines', variables: { county: '330382' } });
    expect(JSON.parse(res.decisionOutput)).toMatchObject({ issueUrgeNotice: false });
    expect(res.evaluatedDecisions[0]!.matchedRules.map((r) => r.ruleId)).toEqual(['rule_yueqing']);
    await expect(zeebe().evaluateDecision({ decisionId: 'no-such-decision', variables: {} })).rejects.toThrow(
      /NOT_FOUND/,
    );
  });

  it('a business rule task whose decision is not deployed raises an incident instead of moving on', async () => {
    const id = uniqueId('brt-missing');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" /><bpmn:businessRuleTask id="load"><bpmn:extensionElements>
           <zeebe:calledDecision decisionId="${id}-none" resultVariable="r" /></bpmn:extensionElements></bpmn:businessRuleTask>
         <bpmn:endEvent id="end" />${chain(['start', 'load', 'end'])}`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    const { rows } = await engineDb().query(`SELECT error_type FROM engine_incident WHERE process_instance_key = $1`, [
      c.processInstanceKey,
    ]);
    expect(rows).toEqual([{ error_type: 'CALLED_DECISION_ERROR' }]);
    expect(await instanceState(c.processInstanceKey)).toBe('ACTIVE');
  });
});

describe('message time to live', () => {
  it('a buffered message that expired before a subscription opened is not correlated', async () => {
    const id = uniqueId('ttl');
    const name = `${id}-m`;
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" /><bpmn:intermediateCatchEvent id="wait"><bpmn:messageEventDefinition messageRef="m" /></bpmn:intermediateCatchEvent>
         <bpmn:endEvent id="end" />${chain(['start', 'wait', 'end'])}`,
        `<bpmn:message id="m" name="${name}"><bpmn:extensionElements><zeebe:subscription correlationKey="=k" /></bpmn:extensionElements></bpmn:message>`,
      ),
    );
    await zeebe().publishMessage({ name, correlationKey: 'x', variables: {}, timeToLive: 60_000 });
    await clock.add(61_000);
    await eventually(
      async () => {
        const { rows } = await engineDb().query(`SELECT count(*)::int AS n FROM engine_message WHERE name = $1`, [
          name,
        ]);
        return rows[0].n === 0;
      },
      5000,
      'message expired',
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { k: 'x' } });
    await new Promise((r) => setTimeout(r, 300));
    expect(await instanceState(c.processInstanceKey)).toBe('ACTIVE');
  });
});

describe('input mapping incidents', () => {
  it('an input mapping that cannot be evaluated stops the element with IO_MAPPING_ERROR; resolving re-runs it', async () => {
    const id = uniqueId('io-incident');
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />${serviceTask('t', `${id}-t`, '<zeebe:ioMapping><zeebe:input source="=1 +" target="x" /></zeebe:ioMapping>')}
         <bpmn:endEvent id="end" />${chain(['start', 't', 'end'])}`,
      ),
    ).catch((err: Error) => err);
    // A FEEL syntax error is refused at deploy already: the engine never accepts what it would get stuck on.
    const { rows } = await engineDb().query(
      `SELECT count(*)::int AS n FROM engine_process_definition WHERE bpmn_process_id = $1`,
      [id],
    );
    expect(rows[0].n).toBe(0);

    const id2 = uniqueId('io-incident2');
    await deploy(
      `${id2}.bpmn`,
      bpmn(
        id2,
        `<bpmn:startEvent id="start" />
         <bpmn:userTask id="t"><bpmn:extensionElements><zeebe:userTask />
           <zeebe:taskSchedule dueDate="=due" /></bpmn:extensionElements></bpmn:userTask>
         <bpmn:endEvent id="end" />${chain(['start', 't', 'end'])}`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id2, variables: { due: 'not a date' } });
    const { rows: incidents } = await engineDb().query(
      `SELECT key::text, error_type FROM engine_incident WHERE process_instance_key = $1 AND state = 'ACTIVE'`,
      [c.processInstanceKey],
    );
    expect(incidents).toEqual([expect.objectContaining({ error_type: 'EXTRACT_VALUE_ERROR' })]);
    await zeebe().setVariables({
      elementInstanceKey: c.processInstanceKey,
      variables: { due: '2027-06-30T23:59:59+08:00' },
      local: false,
    });
    await zeebe().resolveIncident({ incidentKey: incidents[0].key });
    const { rows: tasks } = await engineDb().query(
      `SELECT due_date FROM engine_user_task WHERE process_instance_key = $1`,
      [c.processInstanceKey],
    );
    expect(tasks.map((t) => (t.due_date as Date).toISOString())).toEqual(['2027-06-30T15:59:59.000Z']);
  });
});

describe('REST searches and statistics', () => {
  it('process-instances, element-instances and incidents search by key; element statistics count per element', async () => {
    const id = uniqueId('rest');
    const d = await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" />${serviceTask('t', `${id}-t`)}<bpmn:endEvent id="end" />${chain(['start', 't', 'end'])}`,
      ),
    );
    const definitionKey = (d.deployments[0] as { process: { processDefinitionKey: string } }).process
      .processDefinitionKey;
    const a = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    const b = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: {} });
    const job = await nextJob(`${id}-t`);
    await zeebe().failJob({ jobKey: job!.key, retries: 0, errorMessage: 'broken', retryBackOff: 0 });

    const instances = await restCall('POST', '/v2/process-instances/search', {
      filter: { processDefinitionId: id },
      sort: [{ field: 'processInstanceKey' }],
    });
    expect(instances.status).toBe(200);
    const items = instances.body as {
      items: { processInstanceKey: string; state: string; hasIncident: boolean }[];
      page: { totalItems: number };
    };
    expect(items.page.totalItems).toBe(2);
    expect(items.items.map((i) => i.processInstanceKey).sort()).toEqual(
      [a.processInstanceKey, b.processInstanceKey].sort(),
    );
    expect(items.items.filter((i) => i.hasIncident)).toHaveLength(1);

    const incidents = await restCall('POST', '/v2/incidents/search', {
      filter: { processInstanceKey: job!.processInstanceKey },
    });
    const incidentItems = (incidents.body as { items: { incidentKey: string; errorType: string }[] }).items;
    expect(incidentItems).toEqual([expect.objectContaining({ errorType: 'JOB_NO_RETRIES' })]);

    const elements = await restCall('POST', '/v2/element-instances/search', {
      filter: { processInstanceKey: a.processInstanceKey },
    });
    expect((elements.body as { items: { elementId: string }[] }).items.map((e) => e.elementId)).toEqual(['start', 't']);

    const stats = await restCall('POST', `/v2/process-definitions/${definitionKey}/statistics/element-instances`, {});
    const byElement = Object.fromEntries(
      (
        stats.body as { items: { elementId: string; active: number; completed: number; incidents: number }[] }
      ).items.map((s) => [s.elementId, s]),
    );
    expect(byElement.start).toMatchObject({ completed: 2, active: 0 });
    expect(byElement.t).toMatchObject({ active: 2, incidents: 1 });

    const resolved = await restCall('POST', `/v2/incidents/${incidentItems[0]!.incidentKey}/resolution`, {});
    expect(resolved.status).toBe(204);
    const cancelled = await restCall('POST', `/v2/process-instances/${b.processInstanceKey}/cancellation`, {});
    expect(cancelled.status).toBe(204);
    expect(await instanceState(b.processInstanceKey)).toBe('TERMINATED');
    expect((await restCall('POST', `/v2/process-instances/${b.processInstanceKey}/cancellation`, {})).status).toBe(404);
  });

  it('REST message publication correlates like gRPC PublishMessage', async () => {
    const id = uniqueId('rest-msg');
    const name = `${id}-m`;
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="start" /><bpmn:intermediateCatchEvent id="wait"><bpmn:messageEventDefinition messageRef="m" /></bpmn:intermediateCatchEvent>
         <bpmn:endEvent id="end" />${chain(['start', 'wait'])}${flow('f2', 'wait', 'end')}`,
        `<bpmn:message id="m" name="${name}"><bpmn:extensionElements><zeebe:subscription correlationKey="=k" /></bpmn:extensionElements></bpmn:message>`,
      ),
    );
    const c = await zeebe().createProcessInstance({ bpmnProcessId: id, variables: { k: 'rest-1' } });
    const res = await restCall('POST', '/v2/messages/publication', {
      name,
      correlationKey: 'rest-1',
      variables: { via: 'rest' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ messageKey: expect.stringMatching(/^\d+$/) });
    await eventually(async () => (await instanceState(c.processInstanceKey)) === 'COMPLETED', 5000);
  });
});

describe('timer start events (bpmn/timer-events, "Timer start events")', () => {
  it('a date timer start event creates an instance when the clock reaches it; redeploying replaces the schedule', async () => {
    const id = uniqueId('tstart');
    const due = new Date((await clock.now()) + 2 * DAY).toISOString();
    const xml = (when: string, end: string) =>
      bpmn(
        id,
        `<bpmn:startEvent id="scheduled"><bpmn:timerEventDefinition><bpmn:timeDate xsi:type="bpmn:tFormalExpression">${when}</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:startEvent>
         <bpmn:endEvent id="${end}" />${chain(['scheduled', end])}`,
      );
    await deploy(`${id}.bpmn`, xml(due, 'end'));
    const later = new Date((await clock.now()) + 3 * DAY).toISOString();
    await deploy(`${id}.bpmn`, xml(later, 'end2'));
    const { rows: timers } = await engineDb().query(
      `SELECT t.due_date, d.version FROM engine_timer t JOIN engine_process_definition d ON d.key = t.process_definition_key WHERE d.bpmn_process_id = $1`,
      [id],
    );
    expect(timers).toEqual([{ due_date: new Date(later), version: 2 }]);
    await clock.add(3 * DAY + 60_000);
    const started = await eventually(
      async () => {
        const { rows } = await engineDb().query(
          `SELECT version, state FROM engine_process_instance WHERE bpmn_process_id = $1`,
          [id],
        );
        return rows.length > 0 ? rows : undefined;
      },
      10_000,
      'timer start',
    );
    expect(started).toEqual([{ version: 2, state: 'COMPLETED' }]);
  });
});
