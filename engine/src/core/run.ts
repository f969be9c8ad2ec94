/**
 * One command's execution: everything a command changes happens inside one Run, in one database
 * transaction, and ends when the instance has nothing left to do without outside help (a job, a
 * user task, a timer, a message). This is the one place that writes the engine's state.
 *
 * Shape (after Zeebe's engine, not its code): each element goes through activate → (wait) →
 * complete or terminate; what differs per element type is in the `behaviour` switch; shared
 * behaviour (variable mappings, boundary-event subscriptions, incidents) lives in methods used by all.
 * Follow-up steps are queued and run in order, so a long flow never recurses deeply.
 *
 * Semantics follow docs.camunda.io: components/concepts/variables (scopes, propagation, local
 * variables, output mappings), components/modeler/bpmn/* (each element), concepts/incidents.
 */
import type { Db } from '../db/tx.js';
import { EngineFault } from '../api.js';
import type {
  Element,
  EventDefinition,
  ExecutionListeners,
  ListenerDefinition,
  ProcessModel,
  SequenceFlow,
} from '../model/types.js';
import type { KeyAllocator } from './keys.js';
import { type EngineRecord, logged, writeRecords } from './records.js';
import type { Definition, Services } from './services.js';

export type ElementState = 'ACTIVE' | 'COMPLETED' | 'TERMINATED';

/** Where an element stopped when an incident was raised: resolving the incident re-runs that step. */
type Phase = 'ACTIVATING' | 'ACTIVATED' | 'COMPLETING';

interface ElementData {
  phase?: Phase;
  /** An incident was raised on the element (it may still be open): its end resolves them (an engine migration set it on older rows). */
  incident?: true;
  /** Exclusive and event-based gateways: the flow chosen (on activation / by the event that came first). */
  chosenFlow?: string;
  /** Inclusive gateways: every flow whose condition held (or the default). */
  chosenFlows?: string[];
  /**
   * An event that already happened for this element: a catch event after an event-based gateway, the
   * start event of an event sub-process. Its variables are applied on activation (`localOnly`: as
   * local variables only, as an error's are).
   */
  trigger?: { variables: Record<string, unknown>; localOnly?: boolean };
  /**
   * Execution listeners under way (docs: concepts/execution-listeners): which event, the listener whose job
   * is open; end listeners keep what the completion computed before them; a process's start listeners keep
   * the start event to activate after them.
   */
  listener?: {
    event: 'start' | 'end';
    index: number;
    outputElement?: unknown;
    completionMet?: boolean;
    startElementId?: string;
  };
  /** User task listeners under way: the assignment or completion they hold back (docs: concepts/user-task-listeners). */
  taskListener?: {
    event: 'assigning' | 'completing';
    index: number;
    userTaskKey: string;
    assignee?: string;
    variables?: Record<string, unknown>;
    action?: string;
  };
  /** Flow scopes: an interrupting event sub-process took over; nothing else starts in it. */
  interrupted?: boolean;
  /** Multi-instance bodies. */
  mi?: { total: number; completed: number; next: number; items?: unknown[] };
  /** Inner instances of a multi-instance body: their position (1-based). */
  loopCounter?: number;
  /** Flow scopes: tokens waiting at parallel- and inclusive-gateway joins, per gateway and incoming flow. */
  joins?: Record<string, Record<string, number>>;
  /** Call activities: the instance they created. */
  calledInstanceKey?: string;
}

export interface ElementInstance {
  key: string;
  processInstanceKey: string;
  processDefinitionKey: string;
  bpmnProcessId: string;
  version: number;
  elementId: string;
  type: string;
  flowScopeKey: string | null;
  state: ElementState;
  data: ElementData;
  tenantId: string;
}

interface InstanceRow {
  key: string;
  processDefinitionKey: string;
  bpmnProcessId: string;
  version: number;
  state: string;
  parentProcessInstanceKey: string | null;
  parentElementInstanceKey: string | null;
  startCorrelationKey: string | null;
  tenantId: string;
  /** Created by CreateProcessInstanceWithResult: a client waits for its end (maybe on another engine process). */
  awaited: boolean;
}

export interface JobRow {
  key: string;
  type: string;
  state: string;
  process_instance_key: string;
  element_instance_key: string;
  element_id: string;
  retries: number;
  custom_headers: Record<string, string>;
  worker: string;
  deadline: Date | null;
  bpmn_process_id: string;
  process_definition_key: string;
  version: number;
  tenant_id: string;
}

/**
 * A follow-up step of a command. Steps name what they act on by key, so the ones a command has no
 * budget left for are stored (engine_continuation) and run by a later command, as they would have run.
 */
export type Step =
  | { op: 'activate' | 'behaviour' | 'complete'; ei: ElementInstance }
  | {
      op: 'correlate';
      ei: ElementInstance;
      subscriptionKey: string;
      variables: Record<string, unknown>;
      messageKey: string;
    };

export type StoredStep =
  | { op: 'activate' | 'behaviour' | 'complete'; key: string }
  | { op: 'correlate'; key: string; subscriptionKey: string; variables: Record<string, unknown>; messageKey: string };

/**
 * Steps one command runs before it commits and leaves the rest to continuations: a multi-instance
 * over 300 children, say, activates them over several commands instead of one transaction of tens of
 * thousands of statements, so the caller of the first command gets its answer at once.
 */
export const STEP_BUDGET = 100;

/** Default message TTL sweep etc. are in engine.ts; this is per command. */
/** An instance row's columns, prefixed (`pi_…`) so they can travel beside another table's. */
const INSTANCE_COLUMNS = `p.key::text AS pi_key, p.process_definition_key::text AS pi_process_definition_key,
  p.bpmn_process_id AS pi_bpmn_process_id, p.version AS pi_version, p.state AS pi_state,
  p.parent_process_instance_key::text AS pi_parent_process_instance_key,
  p.parent_element_instance_key::text AS pi_parent_element_instance_key,
  p.start_correlation_key AS pi_start_correlation_key, p.tenant_id AS pi_tenant_id, p.awaited AS pi_awaited`;

/** An element instance's columns (`e`, with its definition `d` for the version). */
const ELEMENT_COLUMNS = `e.key::text, e.process_instance_key::text, e.process_definition_key::text, e.bpmn_process_id,
  e.element_id, e.element_type, e.flow_scope_key::text, e.state, e.data, e.tenant_id, d.version`;

/**
 * An element instance and every scope around it, innermost first, with each scope's variables and active
 * children, from the element instance whose key `anchor` gives. The rows travel through the recursion: joining
 * the chain's keys back to the table afterwards let the planner (which estimates a recursive CTE at ~100 rows)
 * hash the chain and scan the whole element-instance history on every job completion whenever that scan looked
 * cheaper than ~100 index probes — a history of a few thousand to ~40,000 rows (a new engine's first weeks,
 * a fresh test database): 7 ms per completion at 17,000 rows (tests/engine/scope-chain-plan.test.ts).
 */
const scopeChainSql = (anchor: string) => `WITH RECURSIVE chain AS (
         SELECT e.*, 0 AS depth FROM engine_element_instance e WHERE e.key = ${anchor}
         UNION ALL
         SELECT s.*, c.depth + 1 FROM engine_element_instance s JOIN chain c ON s.key = c.flow_scope_key
       )
       SELECT ${ELEMENT_COLUMNS},
              (SELECT coalesce(jsonb_object_agg(v.name, v.value), '{}'::jsonb) FROM engine_variable v
                WHERE v.scope_key = e.key) AS variables,
              ARRAY(SELECT k.key::text FROM engine_element_instance k
                     WHERE k.flow_scope_key = e.key AND k.state = 'ACTIVE') AS active_children
         FROM chain e JOIN engine_process_definition d ON d.key = e.process_definition_key
        ORDER BY e.depth`;

/** The scope chain of an element instance ($1: its key). */
export const SCOPE_CHAIN_SQL = scopeChainSql('$1');
/** The scope chain of a job's element instance ($1: the job key). */
export const SCOPE_CHAIN_OF_JOB_SQL = scopeChainSql(
  '(SELECT j.element_instance_key FROM engine_job j WHERE j.key = $1)',
);

/** A job and its process instance, both locked ($1: the job key). */
function lockJobSql(jobColumns: string): string {
  return `SELECT ${INSTANCE_COLUMNS}, ${jobColumns}
         FROM engine_job j JOIN engine_process_instance p ON p.key = j.process_instance_key
        WHERE j.key = $1 FOR UPDATE OF p, j`;
}

export class Run {
  readonly records: EngineRecord[] = [];
  /** Job types that got new activatable jobs: their long polls are woken after the commit. */
  readonly jobTypes = new Set<string>();
  /** The jobs this run created, in order (a job push may take them in the command's last message). */
  readonly createdJobs: { key: string; type: string }[] = [];
  /**
   * Offered the jobs this run created, before the commit (engine.ts: jobs pushed to an open stream are
   * activated in the command's last message); answers the job types it took every job of — nobody else
   * needs to hear of those.
   */
  takeJobs?: (jobs: readonly { key: string; type: string }[]) => Set<string>;
  /** Root process instances that ended in this run (waiters of CreateProcessInstanceWithResult). */
  readonly endedInstances = new Set<string>();
  /** Other engine processes may be listening: NOTIFY what they would wait for (engine.ts, `peers`). */
  announce = true;
  private readonly queue: Step[] = [];
  private readonly elements = new Map<string, ElementInstance>();
  private readonly instances = new Map<string, InstanceRow>();
  private readonly vars = new Map<string, Map<string, unknown>>();
  private readonly definitions = new Map<string, Definition>();
  /** Element instances whose completion started in this run (a scope is completed once). */
  private readonly completing = new Set<string>();
  /**
   * Write-behind: element instances and variables are written in a few multi-row statements at the
   * end of the command (or before a query that reads those tables), not one round trip per change —
   * a multi-instance of 300 made ~1,400 single-row statements in one command.
   */
  private readonly newElements = new Map<string, ElementInstance>();
  private readonly changedElements = new Set<ElementInstance>();
  private readonly variableWrites = new Map<
    string,
    { scope: ElementInstance; name: string; key: string; value: unknown }
  >();
  private readonly droppedScopes = new Set<string>();
  /**
   * Element instances created in this run, and the children of each such scope: what the run knows
   * without asking (a scope born here has no children or stored variables but those of this run).
   */
  private readonly born = new Set<string>();
  private readonly bornChildren = new Map<string, ElementInstance[]>();
  /**
   * Keys of a stored scope's active children when its chain was read (elementInstanceWithScopes): the
   * instance is locked, so only this run changes them.
   */
  private readonly storedChildren = new Map<string, string[]>();
  /** Scopes whose variables some flush of this run wrote to the table. */
  private readonly storedVariableScopes = new Set<string>();

  constructor(
    readonly db: Db,
    readonly services: Services,
    private readonly keys: KeyAllocator,
    readonly now: number,
  ) {}

  // ---------------------------------------------------------------- plumbing

  key(): Promise<string> {
    return this.keys.nextKey(this.db);
  }

  enqueue(step: Step) {
    this.queue.push(step);
  }

  /** Queues stored steps of an instance (a continuation), in their order. */
  async resume(stored: StoredStep[]): Promise<void> {
    for (const s of stored) {
      const ei = await this.elementInstance(s.key);
      if (!ei) continue;
      this.queue.push(s.op === 'correlate' ? { ...s, ei } : { op: s.op, ei });
    }
  }

  private async runStep(step: Step) {
    switch (step.op) {
      case 'activate':
        return this.runActivation(step.ei);
      case 'behaviour':
        if (step.ei.state !== 'ACTIVE') return;
        return this.behaviour(step.ei, await this.element(step.ei));
      case 'complete':
        return this.complete(step.ei);
      case 'correlate':
        await this.correlate(step.subscriptionKey, step.variables, step.messageKey);
    }
  }

  /**
   * Runs queued steps until none is left or the budget is spent, stores the rest as continuations,
   * then writes the record log.
   */
  async finish(budget = STEP_BUDGET): Promise<void> {
    let done = 0;
    for (let step = this.queue.shift(); step; step = this.queue.shift()) {
      await this.runStep(step);
      if (++done >= budget && this.queue.length > 0) break;
    }
    if (this.queue.length > 0) {
      const left = this.queue.splice(0);
      const stored = left.map((s): StoredStep => {
        const { ei, ...rest } = s;
        return { ...rest, key: ei.key } as StoredStep;
      });
      this.db.defer(
        `INSERT INTO engine_continuation (process_instance_key, step)
         SELECT pi, st FROM unnest($1::bigint[], $2::jsonb[]) WITH ORDINALITY AS t(pi, st, n) ORDER BY n`,
        [left.map((s) => s.ei.processInstanceKey), stored.map((st) => JSON.stringify(st))],
      );
      this.db.defer(`SELECT pg_notify('engine_continuations', '')`);
    }
    this.flush();
    writeRecords(this.db, this.records, this.now);
    if (this.takeJobs && this.createdJobs.length > 0) {
      for (const type of this.takeJobs(this.createdJobs)) this.jobTypes.delete(type);
    }
    if (this.announce) for (const type of this.jobTypes) this.db.defer(`SELECT pg_notify('engine_jobs', $1)`, [type]);
    // Only a waiter somewhere needs to hear of an end, and not the one whose own creation it was (that
    // command answers it): every NOTIFY takes one database-wide lock at commit (measured: the wait of
    // up to 4 of the engine's connections at the empty-process ceiling).
    for (const key of this.endedInstances) {
      if (this.announce && this.instances.get(key)?.awaited && !this.born.has(key))
        this.db.defer(`SELECT pg_notify('engine_instance_ended', $1)`, [key]);
    }
  }

  /** Writes the buffered element instances and variables (see newElements). */
  flush(): void {
    if (this.newElements.size > 0) {
      const rows = [...this.newElements.values()];
      this.newElements.clear();
      this.db.defer(
        `INSERT INTO engine_element_instance (key, process_instance_key, process_definition_key, bpmn_process_id,
           element_id, element_type, flow_scope_key, state, start_date, end_date, data, tenant_id)
         SELECT k, pi, pd, bp, el, ty, fs, st, $1, CASE WHEN st = 'ACTIVE' THEN NULL ELSE $1::timestamptz END, d, tn
           FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::bigint[],
                       $9::text[], $10::jsonb[], $11::text[]) AS t(k, pi, pd, bp, el, ty, fs, st, d, tn)`,
        [
          new Date(this.now),
          rows.map((e) => e.key),
          rows.map((e) => e.processInstanceKey),
          rows.map((e) => e.processDefinitionKey),
          rows.map((e) => e.bpmnProcessId),
          rows.map((e) => e.elementId),
          rows.map((e) => e.type),
          rows.map((e) => e.flowScopeKey),
          rows.map((e) => e.state),
          rows.map((e) => JSON.stringify(e.data)),
          rows.map((e) => e.tenantId),
        ],
      );
    }
    if (this.changedElements.size > 0) {
      const rows = [...this.changedElements];
      this.changedElements.clear();
      this.db.defer(
        `UPDATE engine_element_instance e SET state = t.st, data = t.d,
                end_date = CASE WHEN t.st = 'ACTIVE' THEN NULL ELSE $1::timestamptz END
           FROM unnest($2::bigint[], $3::text[], $4::jsonb[]) AS t(k, st, d) WHERE e.key = t.k`,
        [new Date(this.now), rows.map((e) => e.key), rows.map((e) => e.state), rows.map((e) => JSON.stringify(e.data))],
      );
    }
    if (this.droppedScopes.size > 0) {
      const scopes = [...this.droppedScopes];
      this.droppedScopes.clear();
      this.db.defer(`DELETE FROM engine_variable WHERE scope_key = ANY($1::bigint[])`, [scopes]);
    }
    if (this.variableWrites.size > 0) {
      const rows = [...this.variableWrites.values()];
      this.variableWrites.clear();
      for (const r of rows) this.storedVariableScopes.add(r.scope.key);
      this.db.defer(
        `INSERT INTO engine_variable (scope_key, name, key, process_instance_key, value)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::jsonb[])
         ON CONFLICT (scope_key, name) DO UPDATE SET value = EXCLUDED.value`,
        [
          rows.map((r) => r.scope.key),
          rows.map((r) => r.name),
          rows.map((r) => r.key),
          rows.map((r) => r.scope.processInstanceKey),
          rows.map((r) => JSON.stringify(r.value ?? null)),
        ],
      );
    }
  }

  /**
   * How a root instance that ended in this run ended, with its variables as the table holds them after
   * the commit — when this run holds the whole scope (created it, or read it with its chain); else undefined.
   */
  rootEnding(key: string): { state: string; variables: Record<string, unknown> } | undefined {
    const inst = this.instances.get(key);
    const vars = this.vars.get(key);
    if (!inst || !vars || (!this.born.has(key) && !this.storedChildren.has(key))) return undefined;
    const variables: Record<string, unknown> = {};
    for (const [name, value] of vars) variables[name] = JSON.parse(JSON.stringify(value ?? null));
    return { state: inst.state, variables };
  }

  /**
   * The variables of a scope created in this run, as the table holds them after the commit (every
   * write went through this run); undefined for a scope that existed before it.
   */
  bornScopeVariables(scopeKey: string): Record<string, unknown> | undefined {
    if (!this.born.has(scopeKey)) return undefined;
    const out: Record<string, unknown> = {};
    // As the row would read back: each value through JSON, undefined stored as null.
    for (const [name, value] of this.vars.get(scopeKey) ?? []) out[name] = JSON.parse(JSON.stringify(value ?? null));
    return out;
  }

  record(valueType: string, intent: string, key: string, value: Record<string, unknown>) {
    if (logged(this.services.recordLog, valueType, intent)) this.records.push({ key, valueType, intent, value });
  }

  async definition(key: string): Promise<Definition> {
    let def = this.definitions.get(key);
    if (!def) {
      def = await this.services.definitionByKey(this.db, key);
      if (!def) throw new Error(`process definition ${key} is missing`);
      this.definitions.set(key, def);
    }
    return def;
  }

  async element(ei: ElementInstance): Promise<Element> {
    const def = await this.definition(ei.processDefinitionKey);
    const el = def.model.elements.get(ei.elementId);
    if (!el) throw new Error(`element ${ei.elementId} is not in process ${def.bpmnProcessId} v${def.version}`);
    return el;
  }

  /** Locks the instance for this command (per-instance serialisation); undefined when unknown. */
  async lockInstance(key: string): Promise<InstanceRow | undefined> {
    const cached = this.instances.get(key);
    if (cached) return cached;
    const { rows } = await this.db.query(
      `SELECT ${INSTANCE_COLUMNS} FROM engine_process_instance p WHERE p.key = $1 FOR UPDATE`,
      [key],
    );
    return rows[0] ? this.adoptInstance(rows[0]) : undefined;
  }

  /**
   * Locks a job's instance and then the job, in one statement (`FOR UPDATE OF p, j`, the instance's row
   * first as every command takes it); undefined when there is no such job.
   */
  async lockJobAndInstance<J extends object>(jobKey: string, jobColumns: string): Promise<J | undefined> {
    const { rows } = await this.db.query(lockJobSql(jobColumns), [jobKey]);
    const r = rows[0];
    if (!r) return undefined;
    if (!this.instances.has(r.pi_key)) this.adoptInstance(r);
    return r as J;
  }

  private adoptInstance(r: Record<string, string | number | boolean | null>): InstanceRow {
    const row: InstanceRow = {
      key: r.pi_key as string,
      processDefinitionKey: r.pi_process_definition_key as string,
      bpmnProcessId: r.pi_bpmn_process_id as string,
      version: r.pi_version as number,
      state: r.pi_state as string,
      parentProcessInstanceKey: r.pi_parent_process_instance_key as string | null,
      parentElementInstanceKey: r.pi_parent_element_instance_key as string | null,
      startCorrelationKey: r.pi_start_correlation_key as string | null,
      tenantId: r.pi_tenant_id as string,
      awaited: r.pi_awaited === true,
    };
    this.instances.set(row.key, row);
    return row;
  }

  /**
   * The element instance and every scope around it, with their variables, in one statement (a job's or
   * a task's completion reads them all); what this run already holds stays as it is.
   */
  async elementInstanceWithScopes(key: string): Promise<ElementInstance | undefined> {
    if (this.elements.has(key)) return this.elementInstance(key);
    this.flush();
    const { rows } = await this.db.query(SCOPE_CHAIN_SQL, [key]);
    this.adoptChain(rows);
    return this.elements.get(key);
  }

  /**
   * A job's completion: the job and its instance locked (`lockJobAndInstance`), then its element's scope
   * chain read (`elementInstanceWithScopes`) — both in one message, the read after the lock, so one round trip
   * fewer per completed job. Answers undefined for a job that does not exist.
   */
  async lockJobWithScopes<J extends { element_instance_key: string }>(
    jobKey: string,
    jobColumns: string,
  ): Promise<{ job: J; element: ElementInstance | undefined } | undefined> {
    this.flush();
    const [locked, chain] = await this.db.queries([
      { text: lockJobSql(jobColumns), values: [jobKey] },
      { text: SCOPE_CHAIN_OF_JOB_SQL, values: [jobKey] },
    ]);
    const r = locked!.rows[0];
    if (!r) return undefined;
    if (!this.instances.has(r.pi_key)) this.adoptInstance(r);
    this.adoptChain(chain!.rows);
    return { job: r as J, element: this.elements.get(r.element_instance_key) };
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows of SCOPE_CHAIN_SQL
  private adoptChain(rows: any[]): void {
    for (const r of rows) {
      if (!this.elements.has(r.key)) this.adoptElement(r);
      if (!this.vars.has(r.key)) this.vars.set(r.key, new Map(Object.entries(r.variables ?? {})));
      if (!this.storedChildren.has(r.key)) this.storedChildren.set(r.key, r.active_children);
    }
  }

  async elementInstance(key: string): Promise<ElementInstance | undefined> {
    const cached = this.elements.get(key);
    if (cached) return cached;
    const { rows } = await this.db.query(
      `SELECT ${ELEMENT_COLUMNS}
         FROM engine_element_instance e JOIN engine_process_definition d ON d.key = e.process_definition_key
        WHERE e.key = $1`,
      [key],
    );
    return rows[0] ? this.adoptElement(rows[0]) : undefined;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a row of ELEMENT_COLUMNS
  private adoptElement(r: any): ElementInstance {
    const ei: ElementInstance = {
      key: r.key,
      processInstanceKey: r.process_instance_key,
      processDefinitionKey: r.process_definition_key,
      bpmnProcessId: r.bpmn_process_id,
      version: r.version,
      elementId: r.element_id,
      type: r.element_type,
      flowScopeKey: r.flow_scope_key,
      state: r.state,
      data: r.data ?? {},
      tenantId: r.tenant_id,
    };
    this.elements.set(ei.key, ei);
    return ei;
  }

  async activeChildren(scopeKey: string): Promise<ElementInstance[]> {
    if (this.born.has(scopeKey)) return (this.bornChildren.get(scopeKey) ?? []).filter((c) => c.state === 'ACTIVE');
    this.flush();
    const { rows } = await this.db.query<{ key: string }>(
      `SELECT key::text FROM engine_element_instance WHERE flow_scope_key = $1 AND state = 'ACTIVE' ORDER BY key`,
      [scopeKey],
    );
    const out: ElementInstance[] = [];
    for (const r of rows) {
      const ei = await this.elementInstance(r.key);
      if (ei && ei.state === 'ACTIVE') out.push(ei);
    }
    return out;
  }

  /** Marks the element instance changed; its row is written at the next flush. */
  private async saveElement(ei: ElementInstance) {
    if (!this.newElements.has(ei.key)) this.changedElements.add(ei);
  }

  private processInstanceValue(ei: ElementInstance, type = ei.type, elementId = ei.elementId) {
    const inst = this.instances.get(ei.processInstanceKey);
    return {
      bpmnElementType: type,
      elementId,
      flowScopeKey: ei.flowScopeKey ?? '-1',
      bpmnProcessId: ei.bpmnProcessId,
      version: ei.version,
      processDefinitionKey: ei.processDefinitionKey,
      processInstanceKey: ei.processInstanceKey,
      parentProcessInstanceKey: inst?.parentProcessInstanceKey ?? '-1',
      parentElementInstanceKey: inst?.parentElementInstanceKey ?? '-1',
      bpmnEventType: 'UNSPECIFIED',
      tenantId: ei.tenantId,
    };
  }

  private lifecycle(ei: ElementInstance, intent: string) {
    if (!logged(this.services.recordLog, 'PROCESS_INSTANCE', intent)) return;
    this.record('PROCESS_INSTANCE', intent, ei.key, this.processInstanceValue(ei));
  }

  // ---------------------------------------------------------------- variables

  private async scopeVariables(scopeKey: string): Promise<Map<string, unknown>> {
    let m = this.vars.get(scopeKey);
    if (!m) {
      const { rows } = await this.db.query<{ name: string; value: unknown }>(
        `SELECT name, value FROM engine_variable WHERE scope_key = $1`,
        [scopeKey],
      );
      m = new Map(rows.map((r) => [r.name, r.value]));
      this.vars.set(scopeKey, m);
    }
    return m;
  }

  /** The scope chain of an element instance, innermost first, ending at the process instance. */
  async scopeChain(ei: ElementInstance): Promise<ElementInstance[]> {
    const chain: ElementInstance[] = [];
    for (let cur: ElementInstance | undefined = ei; cur;) {
      chain.push(cur);
      cur = cur.flowScopeKey ? await this.elementInstance(cur.flowScopeKey) : undefined;
    }
    return chain;
  }

  /** Every variable the element instance sees, the innermost scope winning (what FEEL reads). */
  async visibleVariables(ei: ElementInstance): Promise<Record<string, unknown>> {
    const chain = await this.scopeChain(ei);
    const out: Record<string, unknown> = {};
    for (let i = chain.length - 1; i >= 0; i--) {
      for (const [k, v] of await this.scopeVariables(chain[i]!.key)) out[k] = v;
    }
    return out;
  }

  async localVariables(scopeKey: string): Promise<Record<string, unknown>> {
    return Object.fromEntries(await this.scopeVariables(scopeKey));
  }

  /** Sets a variable on exactly this scope (a "local" variable). */
  async setLocal(scope: ElementInstance, name: string, value: unknown) {
    const m = await this.scopeVariables(scope.key);
    const existed = m.has(name);
    if (existed && JSON.stringify(m.get(name)) === JSON.stringify(value ?? null)) return;
    m.set(name, value ?? null);
    const key = await this.key();
    this.variableWrites.set(`${scope.key}\u001f${name}`, { scope, name, key, value: value ?? null });
    this.record('VARIABLE', existed ? 'UPDATED' : 'CREATED', key, {
      name,
      value: JSON.stringify(value ?? null),
      scopeKey: scope.key,
      processInstanceKey: scope.processInstanceKey,
      processDefinitionKey: scope.processDefinitionKey,
      bpmnProcessId: scope.bpmnProcessId,
      tenantId: scope.tenantId,
    });
  }

  /**
   * Merges variables into the instance as Zeebe does: each goes up from `start` to the nearest
   * scope that has a variable of that name and updates it there; if none has, it is created on the
   * process instance (docs: concepts/variables, "Variable propagation").
   */
  async propagate(start: ElementInstance, variables: Record<string, unknown>) {
    const chain = await this.scopeChain(start);
    const root = chain[chain.length - 1]!;
    for (const [name, value] of Object.entries(variables)) {
      let target = root;
      for (const scope of chain) {
        if ((await this.scopeVariables(scope.key)).has(name)) {
          target = scope;
          break;
        }
      }
      await this.setLocal(target, name, value);
    }
  }

  private async dropScopeVariables(scopeKey: string) {
    this.vars.set(scopeKey, new Map());
    for (const [k, w] of this.variableWrites) if (w.scope.key === scopeKey) this.variableWrites.delete(k);
    if (!this.born.has(scopeKey) || this.storedVariableScopes.has(scopeKey)) this.droppedScopes.add(scopeKey);
  }

  /**
   * Variables a job completion, user-task completion, message or error brings: with output mappings
   * they become local variables of the element (the mappings then decide what goes on); without,
   * they are propagated from the element (docs: concepts/variables, "Output mappings").
   */
  async applyResultVariables(ei: ElementInstance, variables: Record<string, unknown>) {
    const element = await this.element(ei);
    if (element.outputs.length > 0) {
      for (const [k, v] of Object.entries(variables)) await this.setLocal(ei, k, v);
    } else {
      await this.propagate(ei, variables);
    }
  }

  async evaluate(expr: string, ei: ElementInstance, extra?: Record<string, unknown>) {
    const context = { ...(await this.visibleVariables(ei)), ...extra };
    return this.services.evaluate(expr, context);
  }

  /** Sets `a.b.c` targets as nested properties of the variable `a`, as Zeebe's mappings do. */
  private setMappingTarget(target: string, value: unknown, current: Record<string, unknown>): [string, unknown] {
    const [head, ...path] = target.split('.');
    if (path.length === 0) return [head!, value];
    const root =
      current[head!] && typeof current[head!] === 'object'
        ? structuredClone(current[head!] as Record<string, unknown>)
        : {};
    let node = root as Record<string, unknown>;
    for (const p of path.slice(0, -1)) {
      if (!node[p] || typeof node[p] !== 'object') node[p] = {};
      node = node[p] as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = value;
    return [head!, root];
  }

  // ---------------------------------------------------------------- incidents

  async raiseIncident(
    ei: ElementInstance,
    errorType: string,
    errorMessage: string,
    phase: Phase | undefined,
    jobKey?: string,
  ) {
    if (phase) {
      ei.data.phase = phase;
      await this.saveElement(ei);
    }
    const key = await this.key();
    if (!ei.data.incident) {
      ei.data.incident = true;
      await this.saveElement(ei);
    }
    this.db.defer(
      `INSERT INTO engine_incident (key, process_instance_key, process_definition_key, bpmn_process_id,
         element_instance_key, element_id, job_key, error_type, error_message, state, created_at, tenant_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'ACTIVE', $10, $11)`,
      [
        key,
        ei.processInstanceKey,
        ei.processDefinitionKey,
        ei.bpmnProcessId,
        ei.key,
        ei.elementId,
        jobKey ?? null,
        errorType,
        errorMessage,
        new Date(this.now),
        ei.tenantId,
      ],
    );
    this.record('INCIDENT', 'CREATED', key, {
      errorType,
      errorMessage,
      bpmnProcessId: ei.bpmnProcessId,
      processDefinitionKey: ei.processDefinitionKey,
      processInstanceKey: ei.processInstanceKey,
      elementId: ei.elementId,
      elementInstanceKey: ei.key,
      jobKey: jobKey ?? '-1',
      variableScopeKey: ei.key,
      tenantId: ei.tenantId,
    });
  }

  private async resolveIncidentsOf(ei: ElementInstance) {
    if (!ei.data.incident) return;
    const { rows } = await this.db.query<{ key: string }>(
      `UPDATE engine_incident SET state = 'RESOLVED', resolved_at = $2
        WHERE element_instance_key = $1 AND state = 'ACTIVE' RETURNING key::text`,
      [ei.key, new Date(this.now)],
    );
    for (const r of rows)
      this.record('INCIDENT', 'RESOLVED', r.key, {
        elementInstanceKey: ei.key,
        processInstanceKey: ei.processInstanceKey,
      });
  }

  // ---------------------------------------------------------------- instances

  /** Creates a process instance and queues its start at `startElementId` (default: the none start event). */
  async createInstance(
    def: Definition,
    variables: Record<string, unknown>,
    opts: {
      startElementId?: string;
      parent?: ElementInstance;
      startCorrelationKey?: string;
      awaited?: boolean;
    } = {},
  ): Promise<string> {
    const startId = opts.startElementId ?? def.model.noneStartEventId;
    if (!startId) {
      throw new EngineFault(
        'INVALID_ARGUMENT',
        `Expected to create instance of process with none start event, but there is no such event (process '${def.bpmnProcessId}')`,
      );
    }
    const key = await this.key();
    this.db.defer(
      `INSERT INTO engine_process_instance (key, process_definition_key, bpmn_process_id, version, state,
         parent_process_instance_key, parent_element_instance_key, start_correlation_key, start_date, tenant_id, awaited)
       VALUES ($1, $2, $3, $4, 'ACTIVE', $5, $6, $7, $8, $9, $10)`,
      [
        key,
        def.key,
        def.bpmnProcessId,
        def.version,
        opts.parent?.processInstanceKey ?? null,
        opts.parent?.key ?? null,
        opts.startCorrelationKey || null,
        new Date(this.now),
        def.tenantId,
        opts.awaited === true,
      ],
    );
    this.instances.set(key, {
      key,
      processDefinitionKey: def.key,
      bpmnProcessId: def.bpmnProcessId,
      version: def.version,
      state: 'ACTIVE',
      parentProcessInstanceKey: opts.parent?.processInstanceKey ?? null,
      parentElementInstanceKey: opts.parent?.key ?? null,
      startCorrelationKey: opts.startCorrelationKey || null,
      tenantId: def.tenantId,
      awaited: opts.awaited === true,
    });
    this.definitions.set(def.key, def);
    const processEi = await this.insertElement(def, key, def.bpmnProcessId, 'PROCESS', null);
    this.record('PROCESS_INSTANCE_CREATION', 'CREATED', key, {
      bpmnProcessId: def.bpmnProcessId,
      processDefinitionKey: def.key,
      version: def.version,
      processInstanceKey: key,
      variables,
      tenantId: def.tenantId,
    });
    this.lifecycle(processEi, 'ELEMENT_ACTIVATING');
    for (const [k, v] of Object.entries(variables)) await this.setLocal(processEi, k, v);
    const startListeners = def.model.listeners?.start ?? [];
    if (startListeners.length > 0) {
      processEi.data.listener = { event: 'start', index: 0, startElementId: startId };
      await this.createListenerJob(processEi, undefined, startListeners[0]!, 'start');
      return key;
    }
    await this.processStarted(processEi, startId);
    return key;
  }

  private async processStarted(processEi: ElementInstance, startId: string) {
    const def = await this.definition(processEi.processDefinitionKey);
    this.lifecycle(processEi, 'ELEMENT_ACTIVATED');
    await this.openEventSubProcesses(processEi, def.model.eventSubProcesses);
    await this.activate(def.model.elements.get(startId)!, processEi);
  }

  private async insertElement(
    def: { key: string; bpmnProcessId: string; version: number; tenantId: string },
    processInstanceKey: string,
    elementId: string,
    type: string,
    flowScopeKey: string | null,
    data: ElementData = {},
  ): Promise<ElementInstance> {
    const ei: ElementInstance = {
      key: await this.key(),
      processInstanceKey,
      processDefinitionKey: def.key,
      bpmnProcessId: def.bpmnProcessId,
      version: def.version,
      elementId,
      type,
      flowScopeKey,
      state: 'ACTIVE',
      // Everything a later command needs to resume the element is in its row from the start.
      data: { ...data, phase: 'ACTIVATING' },
      tenantId: def.tenantId,
    };
    if (type === 'PROCESS') ei.key = processInstanceKey;
    this.newElements.set(ei.key, ei);
    this.born.add(ei.key);
    if (flowScopeKey !== null) {
      let siblings = this.bornChildren.get(flowScopeKey);
      if (!siblings) this.bornChildren.set(flowScopeKey, (siblings = []));
      siblings.push(ei);
    }
    // A new scope has no variables yet: nothing to read.
    this.vars.set(ei.key, new Map());
    this.elements.set(ei.key, ei);
    return ei;
  }

  // ---------------------------------------------------------------- activation

  /**
   * Activates `element` in `flowScope`: the element instance exists at once (so a scope never looks
   * finished while a token is on its way), the rest of its activation is queued.
   */
  async activate(
    element: Element,
    flowScope: ElementInstance,
    local?: Record<string, unknown>,
    loopCounter?: number,
    data: ElementData = {},
  ) {
    const def = await this.definition(flowScope.processDefinitionKey);
    const inner = loopCounter !== undefined;
    const type = element.multiInstance && !inner ? 'MULTI_INSTANCE_BODY' : element.type;
    const ei = await this.insertElement(
      def,
      flowScope.processInstanceKey,
      element.id,
      type,
      flowScope.key,
      inner ? { ...data, loopCounter } : data,
    );
    this.lifecycle(ei, 'ELEMENT_ACTIVATING');
    if (local) for (const [k, v] of Object.entries(local)) await this.setLocal(ei, k, v);
    this.enqueue({ op: 'activate', ei: ei });
    return ei;
  }

  /** The activation proper; re-run from the start when an incident raised here is resolved. */
  async runActivation(ei: ElementInstance): Promise<void> {
    if (ei.state !== 'ACTIVE') return;
    const element = await this.element(ei);
    if (ei.type === 'MULTI_INSTANCE_BODY') return this.activateMultiInstanceBody(ei, element);

    // Input mappings create local variables of the element (docs: concepts/variables, "Input mappings").
    if (element.inputs.length > 0) {
      const context = await this.visibleVariables(ei);
      const results: [string, unknown][] = [];
      for (const m of element.inputs) {
        const r = this.services.evaluate(m.source, { ...context, ...Object.fromEntries(results) });
        if (!r.ok) return this.raiseIncident(ei, 'IO_MAPPING_ERROR', r.message, 'ACTIVATING');
        results.push(this.setMappingTarget(m.target, r.value, Object.fromEntries(results)));
      }
      for (const [k, v] of results) await this.setLocal(ei, k, v);
    }
    // Start listeners run after the input mappings, before subscriptions and the element's behaviour.
    const startListeners = element.listeners?.start ?? [];
    if (startListeners.length > 0) {
      ei.data.listener = { event: 'start', index: 0 };
      await this.saveElement(ei);
      return this.createListenerJob(ei, element, startListeners[0]!, 'start');
    }
    return this.activated(ei, element);
  }

  /** The rest of the activation, after the start listeners. */
  private async activated(ei: ElementInstance, element: Element): Promise<void> {
    // Boundary events sit on the multi-instance body, not on each inner instance.
    const flowScope = ei.flowScopeKey ? await this.elementInstance(ei.flowScopeKey) : undefined;
    const innerOfBody = flowScope?.type === 'MULTI_INSTANCE_BODY';
    if (!innerOfBody && !(await this.subscribeBoundaryEvents(ei, element))) return;

    ei.data.phase = 'ACTIVATED';
    await this.saveElement(ei);
    this.lifecycle(ei, 'ELEMENT_ACTIVATED');
    await this.behaviour(ei, element);
  }

  /** Re-runs the step an incident stopped (docs: components/concepts/incidents, "Resolving"). */
  retryAfterIncident(ei: ElementInstance): void {
    if (ei.data.phase === 'COMPLETING') return this.enqueue({ op: 'complete', ei });
    if (ei.data.phase === 'ACTIVATED') return this.enqueue({ op: 'behaviour', ei });
    this.enqueue({ op: 'activate', ei });
  }

  private async behaviour(ei: ElementInstance, element: Element): Promise<void> {
    if (element.job) return this.createJob(ei, element, { job: element.job, phase: 'ACTIVATED' });
    switch (element.type) {
      case 'START_EVENT':
        if (ei.data.trigger) await this.applyTrigger(ei);
        return this.enqueue({ op: 'complete', ei });
      case 'MANUAL_TASK':
      case 'TASK':
      case 'BOUNDARY_EVENT':
      case 'PARALLEL_GATEWAY':
        return this.enqueue({ op: 'complete', ei });
      case 'INTERMEDIATE_THROW_EVENT':
        if (element.event?.type === 'signal') return this.throwSignal(ei, element);
        if (element.event?.type === 'escalation') return this.throwEscalation(ei, element);
        return this.enqueue({ op: 'complete', ei });
      case 'END_EVENT':
        if (element.event?.type === 'error') return this.throwErrorEndEvent(ei, element);
        if (element.event?.type === 'terminate') return this.terminateEndEvent(ei);
        if (element.event?.type === 'signal') return this.throwSignal(ei, element);
        if (element.event?.type === 'escalation') return this.throwEscalation(ei, element);
        return this.enqueue({ op: 'complete', ei });
      case 'SCRIPT_TASK':
        return this.runScript(ei, element);
      case 'RECEIVE_TASK':
        await this.subscribe(ei, element, element.event!);
        return;
      case 'INCLUSIVE_GATEWAY':
        return this.chooseFlows(ei, element, true);
      case 'EVENT_BASED_GATEWAY':
        return this.subscribeEventBasedGateway(ei, element);
      case 'EVENT_SUB_PROCESS': {
        const start = (await this.definition(ei.processDefinitionKey)).model.elements.get(element.startEventId!)!;
        const trigger = ei.data.trigger;
        delete ei.data.trigger;
        await this.saveElement(ei);
        if (!(await this.openEventSubProcesses(ei, element.eventSubProcesses))) return;
        await this.activate(start, ei, undefined, undefined, trigger ? { trigger } : {});
        return;
      }
      case 'USER_TASK':
        return this.createUserTask(ei, element);
      case 'BUSINESS_RULE_TASK':
        return this.evaluateCalledDecision(ei, element);
      case 'CALL_ACTIVITY':
        return this.callProcess(ei, element);
      case 'SUB_PROCESS': {
        const start = element.startEventId
          ? (await this.definition(ei.processDefinitionKey)).model.elements.get(element.startEventId)
          : undefined;
        if (!start)
          return this.raiseIncident(ei, 'UNKNOWN', `sub-process '${element.id}' has no none start event`, 'ACTIVATED');
        if (!(await this.openEventSubProcesses(ei, element.eventSubProcesses))) return;
        await this.activate(start, ei);
        return;
      }
      case 'EXCLUSIVE_GATEWAY':
        return this.chooseFlows(ei, element, false);
      case 'INTERMEDIATE_CATCH_EVENT':
        if (ei.data.trigger) {
          await this.applyTrigger(ei);
          return this.enqueue({ op: 'complete', ei });
        }
        return this.subscribeCatchEvent(ei, element);
      default:
        return this.raiseIncident(ei, 'UNKNOWN', `element type ${element.type} is not executable`, 'ACTIVATED');
    }
  }

  // ---------------------------------------------------------------- multi-instance

  /** docs: components/modeler/bpmn/multi-instance — the body holds the collection and the output. */
  private async activateMultiInstanceBody(body: ElementInstance, element: Element) {
    const mi = element.multiInstance!;
    const r = await this.evaluate(mi.inputCollection, body);
    if (!r.ok) return this.raiseIncident(body, 'EXTRACT_VALUE_ERROR', r.message, 'ACTIVATING');
    if (!Array.isArray(r.value)) {
      return this.raiseIncident(
        body,
        'EXTRACT_VALUE_ERROR',
        `Expected result of the expression '${mi.inputCollection.replace(/^=/, '')}' to be 'ARRAY', but was '${typeName(r.value)}'.`,
        'ACTIVATING',
      );
    }
    if (!(await this.subscribeBoundaryEvents(body, element))) return;
    const items = r.value;
    if (mi.outputCollection)
      await this.setLocal(
        body,
        mi.outputCollection,
        items.map(() => null),
      );
    body.data.phase = 'ACTIVATED';
    body.data.mi = { total: items.length, completed: 0, next: 0, ...(mi.sequential ? { items } : {}) };
    await this.saveElement(body);
    this.lifecycle(body, 'ELEMENT_ACTIVATED');
    if (items.length === 0) return this.enqueue({ op: 'complete', ei: body });
    const count = mi.sequential ? 1 : items.length;
    for (let i = 0; i < count; i++) await this.activateInner(body, element, items[i], i);
    body.data.mi.next = count;
    await this.saveElement(body);
  }

  private async activateInner(body: ElementInstance, element: Element, item: unknown, index: number) {
    const local: Record<string, unknown> = { loopCounter: index + 1 };
    if (element.multiInstance!.inputElement) local[element.multiInstance!.inputElement] = item ?? null;
    await this.activate(element, body, local, index + 1);
  }

  /** An inner instance completed: collect its output, go on with the next, or complete the body. */
  private async innerCompleted(
    inner: ElementInstance,
    body: ElementInstance,
    element: Element,
    outputValue: unknown,
    completionMet: boolean,
  ) {
    const mi = element.multiInstance!;
    const state = body.data.mi!;
    if (mi.outputCollection) {
      const current = (await this.scopeVariables(body.key)).get(mi.outputCollection);
      const list = Array.isArray(current) ? [...current] : [];
      list[(inner.data.loopCounter ?? 1) - 1] = outputValue ?? null;
      await this.setLocal(body, mi.outputCollection, list);
    }
    state.completed += 1;
    let done = state.completed >= state.total;
    if (!done && completionMet) {
      done = true;
      for (const child of await this.activeChildren(body.key)) await this.terminate(child);
    }
    if (!done && mi.sequential && state.next < state.total) {
      const items = state.items ?? [];
      await this.activateInner(body, element, items[state.next], state.next);
      state.next += 1;
    }
    await this.saveElement(body);
    if (done) this.enqueue({ op: 'complete', ei: body });
  }

  // ---------------------------------------------------------------- completion

  /** Completes the element (output mappings, then on along its outgoing flows). */
  async complete(ei: ElementInstance): Promise<void> {
    if (ei.state !== 'ACTIVE' || this.completing.has(ei.key)) return;
    if (ei.data.listener?.event === 'end') return; // its end listeners are running
    this.completing.add(ei.key);
    const element = ei.type === 'PROCESS' ? undefined : await this.element(ei);
    this.lifecycle(ei, 'ELEMENT_COMPLETING');
    const flowScope = ei.flowScopeKey ? await this.elementInstance(ei.flowScopeKey) : undefined;
    const innerOfBody = flowScope?.type === 'MULTI_INSTANCE_BODY' ? flowScope : undefined;

    if (element && ei.type !== 'MULTI_INSTANCE_BODY' && element.outputs.length > 0) {
      // Output mappings are evaluated in the element's scope and merged into its flow scope.
      const context = await this.visibleVariables(ei);
      const results: Record<string, unknown> = {};
      for (const m of element.outputs) {
        const r = this.services.evaluate(m.source, { ...context });
        if (!r.ok) return this.raiseIncident(ei, 'IO_MAPPING_ERROR', r.message, 'COMPLETING');
        const [name, value] = this.setMappingTarget(m.target, r.value, { ...context, ...results });
        results[name] = value;
      }
      if (flowScope) await this.propagate(flowScope, results);
    }
    let outputElement: unknown;
    if (innerOfBody && element?.multiInstance?.outputElement) {
      const r = await this.evaluate(element.multiInstance.outputElement, ei);
      if (!r.ok) return this.raiseIncident(ei, 'EXTRACT_VALUE_ERROR', r.message, 'COMPLETING');
      outputElement = r.value;
    }
    // The completion condition sees the inner instance's variables (its input element, its locals) and
    // the body's counters, this instance counted as completed (docs: bpmn/multi-instance, "Completion condition").
    let completionMet = false;
    if (innerOfBody && element?.multiInstance?.completionCondition) {
      const mi = innerOfBody.data.mi!;
      const r = await this.evaluate(element.multiInstance.completionCondition, ei, {
        numberOfInstances: mi.total,
        numberOfCompletedInstances: mi.completed + 1,
        numberOfActiveInstances: Math.max(0, mi.next - mi.completed - 1),
        numberOfTerminatedInstances: 0,
      });
      if (!r.ok) return this.raiseIncident(ei, 'EXTRACT_VALUE_ERROR', r.message, 'COMPLETING');
      completionMet = r.value === true;
    }
    if (ei.type === 'MULTI_INSTANCE_BODY' && element?.multiInstance?.outputCollection && flowScope) {
      const name = element.multiInstance.outputCollection;
      await this.propagate(flowScope, { [name]: (await this.scopeVariables(ei.key)).get(name) ?? null });
    }
    // End listeners run after the output mappings, before the element is left.
    const endListeners = ei.type === 'MULTI_INSTANCE_BODY' ? [] : ((await this.listenersOf(ei))?.end ?? []);
    if (endListeners.length > 0) {
      ei.data.listener = { event: 'end', index: 0, outputElement, completionMet };
      return this.createListenerJob(ei, element, endListeners[0]!, 'end');
    }
    return this.finishCompletion(ei, element, flowScope, innerOfBody, outputElement, completionMet);
  }

  private async finishCompletion(
    ei: ElementInstance,
    element: Element | undefined,
    flowScope: ElementInstance | undefined,
    innerOfBody: ElementInstance | undefined,
    outputElement: unknown,
    completionMet: boolean,
  ): Promise<void> {
    if (await this.mayHaveSubscriptions(ei, element)) await this.closeEventSubscriptions(ei);
    await this.resolveIncidentsOf(ei);
    ei.state = 'COMPLETED';
    delete ei.data.phase;
    await this.saveElement(ei);
    if (ei.type !== 'PROCESS') await this.dropScopeVariables(ei.key);
    this.lifecycle(ei, 'ELEMENT_COMPLETED');

    if (ei.type === 'PROCESS') return this.processCompleted(ei);
    if (innerOfBody && element) return this.innerCompleted(ei, innerOfBody, element, outputElement, completionMet);
    if (!element || !flowScope) return;
    const outgoing =
      element.type === 'EXCLUSIVE_GATEWAY' || element.type === 'EVENT_BASED_GATEWAY'
        ? ei.data.chosenFlow
          ? [ei.data.chosenFlow]
          : []
        : element.type === 'INCLUSIVE_GATEWAY'
          ? (ei.data.chosenFlows ?? [])
          : element.outgoing;
    const def = await this.definition(ei.processDefinitionKey);
    // The event that chose an event-based gateway's flow has happened: its catch event completes at once.
    const data: ElementData = ei.data.trigger ? { trigger: ei.data.trigger } : {};
    delete ei.data.trigger;
    for (const flowId of outgoing) await this.takeFlow(def.model.flows.get(flowId)!, flowScope, ei, data);
    // A token that left (or ended) may have been the last one an inclusive join waited for.
    if (flowScope.data.joins) await this.checkInclusiveJoins(flowScope);
    if (outgoing.length === 0) return this.scopeMayComplete(flowScope);
  }

  private async takeFlow(
    flow: SequenceFlow,
    flowScope: ElementInstance,
    from: ElementInstance,
    data: ElementData = {},
  ) {
    const def = await this.definition(flowScope.processDefinitionKey);
    if (logged(this.services.recordLog, 'PROCESS_INSTANCE', 'SEQUENCE_FLOW_TAKEN')) {
      this.record(
        'PROCESS_INSTANCE',
        'SEQUENCE_FLOW_TAKEN',
        await this.key(),
        this.processInstanceValue(from, 'SEQUENCE_FLOW', flow.id),
      );
    }
    const target = def.model.elements.get(flow.targetId)!;
    if (target.type === 'PARALLEL_GATEWAY' && target.incoming.length > 1) {
      // docs: components/modeler/bpmn/parallel-gateways — the join waits for a token on every incoming flow.
      const joins = (flowScope.data.joins ??= {});
      const waiting = (joins[target.id] ??= {});
      waiting[flow.id] = (waiting[flow.id] ?? 0) + 1;
      const ready = target.incoming.every((f) => (waiting[f] ?? 0) > 0);
      if (ready) {
        for (const f of target.incoming) {
          waiting[f]! -= 1;
          if (waiting[f] === 0) delete waiting[f];
        }
        if (Object.keys(waiting).length === 0) delete joins[target.id];
      }
      await this.saveElement(flowScope);
      if (ready) await this.activate(target, flowScope);
      return;
    }
    if (target.type === 'INCLUSIVE_GATEWAY' && target.incoming.length > 1) {
      // docs: components/modeler/bpmn/inclusive-gateways — the join waits for the tokens that can still arrive.
      const joins = (flowScope.data.joins ??= {});
      const waiting = (joins[target.id] ??= {});
      waiting[flow.id] = (waiting[flow.id] ?? 0) + 1;
      await this.saveElement(flowScope);
      return; // checked once the token's element is done (complete → checkInclusiveJoins)
    }
    await this.activate(target, flowScope, undefined, undefined, data);
  }

  /**
   * Inclusive joins of `scope` with waiting tokens: a join is activated once no active element of the
   * scope can still reach it along sequence flows (boundary events included) — then it takes one
   * waiting token of each incoming flow that has one.
   */
  private async checkInclusiveJoins(scope: ElementInstance) {
    const joins = scope.data.joins;
    if (!joins || scope.state !== 'ACTIVE') return;
    const def = await this.definition(scope.processDefinitionKey);
    const gateways = Object.keys(joins).filter((id) => def.model.elements.get(id)?.type === 'INCLUSIVE_GATEWAY');
    if (gateways.length === 0) return;
    const active = await this.activeChildren(scope.key);
    for (const id of gateways) {
      const waiting = joins[id];
      if (!waiting || Object.keys(waiting).length === 0) continue;
      const reach = reachingElements(def.model, id);
      if (active.some((c) => reach.has(c.elementId))) continue;
      for (const f of Object.keys(waiting)) {
        waiting[f]! -= 1;
        if (waiting[f]! <= 0) delete waiting[f];
      }
      if (Object.keys(waiting).length === 0) delete joins[id];
      if (Object.keys(joins).length === 0) delete scope.data.joins;
      await this.saveElement(scope);
      active.push(await this.activate(def.model.elements.get(id)!, scope));
    }
  }

  /** A flow scope whose last token ended completes (docs: concepts/process-instance-creation, "completion"). */
  private async scopeMayComplete(scope: ElementInstance) {
    if (scope.state !== 'ACTIVE' || scope.type === 'MULTI_INSTANCE_BODY') return;
    const pendingJoins = Object.keys(scope.data.joins ?? {}).length > 0;
    if (pendingJoins) return;
    const stored = this.born.has(scope.key) ? [] : this.storedChildren.get(scope.key);
    if (stored) {
      // Known without asking: the children stored when its chain was read (as this run left them) and those born here.
      const active =
        stored.some((k) => (this.elements.get(k)?.state ?? 'ACTIVE') === 'ACTIVE') ||
        (this.bornChildren.get(scope.key) ?? []).some((c) => c.state === 'ACTIVE');
      if (!active) this.enqueue({ op: 'complete', ei: scope });
      return;
    }
    this.flush();
    const { rows } = await this.db.query(
      `SELECT 1 FROM engine_element_instance WHERE flow_scope_key = $1 AND state = 'ACTIVE' LIMIT 1`,
      [scope.key],
    );
    if (rows.length === 0) this.enqueue({ op: 'complete', ei: scope });
  }

  private async processCompleted(processEi: ElementInstance) {
    const inst = (await this.lockInstance(processEi.processInstanceKey))!;
    inst.state = 'COMPLETED';
    this.db.defer(`UPDATE engine_process_instance SET state = 'COMPLETED', end_date = $2 WHERE key = $1`, [
      inst.key,
      new Date(this.now),
    ]);
    if (!inst.parentElementInstanceKey) {
      this.endedInstances.add(inst.key);
      await this.startWithBufferedMessage(inst);
      return;
    }
    // A called instance ended: its call activity goes on (docs: components/modeler/bpmn/call-activities).
    await this.lockInstance(inst.parentProcessInstanceKey!);
    const callActivity = await this.elementInstance(inst.parentElementInstanceKey);
    if (!callActivity || callActivity.state !== 'ACTIVE') return;
    const element = await this.element(callActivity);
    const childVariables = await this.localVariables(processEi.key);
    if (element.outputs.length > 0) {
      for (const [k, v] of Object.entries(childVariables)) await this.setLocal(callActivity, k, v);
    } else if (element.calledElement?.propagateAllChildVariables !== false) {
      await this.propagate(callActivity, childVariables);
    }
    await this.dropScopeVariables(processEi.key);
    this.enqueue({ op: 'complete', ei: callActivity });
  }

  // ---------------------------------------------------------------- termination

  /** Terminates the element and everything inside it; nothing moves on from it. */
  async terminate(ei: ElementInstance): Promise<void> {
    if (ei.state !== 'ACTIVE') return;
    this.lifecycle(ei, 'ELEMENT_TERMINATING');
    for (const child of await this.activeChildren(ei.key)) await this.terminate(child);
    if (await this.mayHaveSubscriptions(ei, ei.type === 'PROCESS' ? undefined : await this.element(ei))) {
      await this.closeEventSubscriptions(ei);
    }
    await this.cancelWork(ei);
    await this.resolveIncidentsOf(ei);
    ei.state = 'TERMINATED';
    delete ei.data.phase;
    await this.saveElement(ei);
    await this.dropScopeVariables(ei.key);
    this.lifecycle(ei, 'ELEMENT_TERMINATED');
  }

  /** Cancels the job, user task or called instance an element waits for. */
  private async cancelWork(ei: ElementInstance) {
    const { rows: jobs } = await this.db.query<{ key: string; type: string }>(
      `DELETE FROM engine_job WHERE element_instance_key = $1 RETURNING key::text, type`,
      [ei.key],
    );
    for (const j of jobs)
      this.record('JOB', 'CANCELED', j.key, {
        type: j.type,
        elementInstanceKey: ei.key,
        processInstanceKey: ei.processInstanceKey,
        elementId: ei.elementId,
      });
    const { rows: tasks } = await this.db.query<{ key: string }>(
      `UPDATE engine_user_task SET state = 'CANCELED', completion_date = $2
        WHERE element_instance_key = $1 AND state = 'CREATED' RETURNING key::text`,
      [ei.key, new Date(this.now)],
    );
    for (const t of tasks) this.record('USER_TASK', 'CANCELED', t.key, await this.userTaskValue(t.key));
    if (ei.type === 'CALL_ACTIVITY' && ei.data.calledInstanceKey) {
      const child = await this.lockInstance(ei.data.calledInstanceKey);
      if (child && child.state === 'ACTIVE') await this.terminateInstance(child.key);
    }
  }

  /** Cancels a whole process instance (CancelProcessInstance, or its call activity was terminated). */
  async terminateInstance(processInstanceKey: string) {
    const inst = (await this.lockInstance(processInstanceKey))!;
    const processEi = (await this.elementInstance(processInstanceKey))!;
    await this.terminate(processEi);
    inst.state = 'TERMINATED';
    this.db.defer(`UPDATE engine_process_instance SET state = 'TERMINATED', end_date = $2 WHERE key = $1`, [
      inst.key,
      new Date(this.now),
    ]);
    if (!inst.parentElementInstanceKey) {
      this.endedInstances.add(inst.key);
      await this.startWithBufferedMessage(inst);
    }
  }

  /**
   * An instance started by a message ended: a buffered message with the same correlation key that had
   * to wait for it now starts the next instance, of the latest version (docs: bpmn/message-events,
   * "Message correlation" — one active instance per correlation key).
   */
  private async startWithBufferedMessage(inst: InstanceRow) {
    if (!inst.startCorrelationKey) return;
    const def = await this.services.latestDefinition(this.db, inst.bpmnProcessId);
    const names = def?.model.messageStartEvents ?? [];
    if (!def || names.length === 0) return;
    const target = `process:${def.bpmnProcessId}`;
    const { rows } = await this.db.query<{ key: string; name: string; variables: Record<string, unknown> }>(
      `SELECT m.key::text, m.name, m.variables FROM engine_message m
        WHERE m.name = ANY($1::text[]) AND m.correlation_key = $2 AND m.deadline > $3
          AND NOT EXISTS (SELECT 1 FROM engine_message_correlation c WHERE c.message_key = m.key AND c.target = $4)
        ORDER BY m.key LIMIT 1`,
      [names.map((n) => n.messageName), inst.startCorrelationKey, new Date(this.now), target],
    );
    const message = rows[0];
    if (!message) return;
    const start = names.find((n) => n.messageName === message.name)!;
    this.db.defer(`INSERT INTO engine_message_correlation (message_key, target) VALUES ($1, $2)`, [
      message.key,
      target,
    ]);
    await this.createInstance(def, message.variables, {
      startElementId: start.elementId,
      startCorrelationKey: inst.startCorrelationKey,
    });
  }

  // ---------------------------------------------------------------- events

  /** Opens the timers and message subscriptions of the activity's boundary events; false on an incident. */
  private async subscribeBoundaryEvents(ei: ElementInstance, element: Element): Promise<boolean> {
    if (element.boundaryEvents.length === 0) return true;
    await this.closeEventSubscriptions(ei);
    const def = await this.definition(ei.processDefinitionKey);
    for (const id of element.boundaryEvents) {
      const boundary = def.model.elements.get(id)!;
      if (!(await this.subscribe(ei, boundary, boundary.event!))) return false;
    }
    return true;
  }

  private async subscribeCatchEvent(ei: ElementInstance, element: Element) {
    await this.subscribe(ei, element, element.event!);
  }

  /** One timer or message subscription for `ei`, targeting `target` (the catch event or a boundary event). */
  private async subscribe(ei: ElementInstance, target: Element, event: EventDefinition): Promise<boolean> {
    if (event.type === 'timer') {
      const context = await this.visibleVariables(ei);
      const schedule = this.services.scheduleTimer(event, context, this.now);
      if (!schedule.ok) {
        await this.raiseIncident(ei, 'EXTRACT_VALUE_ERROR', schedule.message, ei.data.phase ?? 'ACTIVATING');
        return false;
      }
      await this.createTimer({
        processInstanceKey: ei.processInstanceKey,
        elementInstanceKey: ei.key,
        processDefinitionKey: ei.processDefinitionKey,
        elementId: target.id,
        dueDate: schedule.dueDate,
        repetitions: schedule.repetitions,
        cycle: schedule.cycle,
        tenantId: ei.tenantId,
      });
      return true;
    }
    if (event.type === 'message') {
      const name = await this.evaluate(event.messageName, ei);
      const correlation = event.correlationKey
        ? await this.evaluate(event.correlationKey, ei)
        : { ok: true as const, value: '' };
      if (!name.ok || typeof name.value !== 'string') {
        await this.raiseIncident(
          ei,
          'EXTRACT_VALUE_ERROR',
          name.ok
            ? `Expected the message name of '${target.id}' to be a string, but was '${typeName(name.value)}'.`
            : name.message,
          ei.data.phase ?? 'ACTIVATING',
        );
        return false;
      }
      if (!correlation.ok || (typeof correlation.value !== 'string' && typeof correlation.value !== 'number')) {
        await this.raiseIncident(
          ei,
          'EXTRACT_VALUE_ERROR',
          correlation.ok
            ? `Failed to extract the correlation key for '${(event.correlationKey ?? '').replace(/^=/, '')}': The value must be either a string or a number, but was '${typeName(correlation.value)}'.`
            : correlation.message,
          ei.data.phase ?? 'ACTIVATING',
        );
        return false;
      }
      const key = await this.key();
      const correlationKey = String(correlation.value);
      this.db.defer(
        `INSERT INTO engine_message_subscription (key, process_instance_key, element_instance_key, element_id,
           bpmn_process_id, message_name, correlation_key, interrupting, tenant_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          key,
          ei.processInstanceKey,
          ei.key,
          target.id,
          ei.bpmnProcessId,
          name.value,
          correlationKey,
          target.interrupting !== false,
          ei.tenantId,
        ],
      );
      this.record('PROCESS_MESSAGE_SUBSCRIPTION', 'CREATED', key, {
        processInstanceKey: ei.processInstanceKey,
        elementInstanceKey: ei.key,
        elementId: target.id,
        bpmnProcessId: ei.bpmnProcessId,
        messageName: name.value,
        correlationKey,
        interrupting: target.interrupting !== false,
        tenantId: ei.tenantId,
      });
      // A buffered message that waits for this subscription correlates now (docs: concepts/messages, "Message buffering").
      await this.lockCorrelation(name.value, correlationKey);
      const { rows } = await this.db.query<{ key: string; variables: Record<string, unknown> }>(
        `SELECT m.key::text, m.variables FROM engine_message m
          WHERE m.name = $1 AND m.correlation_key = $2 AND m.deadline > $3
            AND NOT EXISTS (SELECT 1 FROM engine_message_correlation c WHERE c.message_key = m.key AND c.target = $4)
          ORDER BY m.key LIMIT 1`,
        [name.value, correlationKey, new Date(this.now), `pi:${ei.processInstanceKey}`],
      );
      if (rows[0]) {
        const message = rows[0];
        this.db.defer(
          `INSERT INTO engine_message_correlation (message_key, target) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
          [message.key, `pi:${ei.processInstanceKey}`],
        );
        this.enqueue({
          op: 'correlate',
          ei,
          subscriptionKey: key,
          variables: message.variables,
          messageKey: message.key,
        });
      }
      return true;
    }
    if (event.type === 'signal') {
      const name = await this.evaluate(event.signalName, ei);
      if (!name.ok || typeof name.value !== 'string' || name.value === '') {
        await this.raiseIncident(
          ei,
          'EXTRACT_VALUE_ERROR',
          name.ok
            ? `Expected the signal name of '${target.id}' to be a non-empty string, but was '${typeName(name.value)}'.`
            : name.message,
          ei.data.phase ?? 'ACTIVATING',
        );
        return false;
      }
      const key = await this.key();
      const interrupting = target.interrupting !== false;
      this.db.defer(
        `INSERT INTO engine_signal_subscription (key, signal_name, process_definition_key, bpmn_process_id,
           process_instance_key, element_instance_key, element_id, interrupting, tenant_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          key,
          name.value,
          ei.processDefinitionKey,
          ei.bpmnProcessId,
          ei.processInstanceKey,
          ei.key,
          target.id,
          interrupting,
          ei.tenantId,
        ],
      );
      this.record('SIGNAL_SUBSCRIPTION', 'CREATED', key, {
        signalName: name.value,
        processDefinitionKey: ei.processDefinitionKey,
        bpmnProcessId: ei.bpmnProcessId,
        catchEventId: target.id,
        catchEventInstanceKey: ei.key,
        tenantId: ei.tenantId,
      });
      return true;
    }
    return true; // error and escalation catch events need no subscription: throwing finds them
  }

  async createTimer(t: {
    processInstanceKey: string | null;
    elementInstanceKey: string | null;
    processDefinitionKey: string;
    elementId: string;
    dueDate: number;
    repetitions: number;
    cycle?: string;
    tenantId: string;
  }) {
    const key = await this.key();
    this.db.defer(
      `INSERT INTO engine_timer (key, process_instance_key, element_instance_key, process_definition_key, element_id,
         due_date, repetitions, cycle, tenant_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        key,
        t.processInstanceKey,
        t.elementInstanceKey,
        t.processDefinitionKey,
        t.elementId,
        new Date(t.dueDate),
        t.repetitions,
        t.cycle ?? null,
        t.tenantId,
      ],
    );
    this.record('TIMER', 'CREATED', key, {
      elementInstanceKey: t.elementInstanceKey ?? '-1',
      processInstanceKey: t.processInstanceKey ?? '-1',
      processDefinitionKey: t.processDefinitionKey,
      dueDate: t.dueDate,
      targetElementId: t.elementId,
      repetitions: t.repetitions,
      tenantId: t.tenantId,
    });
  }

  /**
   * Whether the element instance can hold timers or subscriptions: a scope with event sub-processes, an
   * activity with boundary events, a catch event, a receive task or an event-based gateway. Others skip
   * the look-up (it ran for every element that completed).
   */
  private async mayHaveSubscriptions(ei: ElementInstance, element: Element | undefined): Promise<boolean> {
    if (!element) return (await this.definition(ei.processDefinitionKey)).model.eventSubProcesses.length > 0;
    return (
      element.boundaryEvents.length > 0 ||
      element.eventSubProcesses.length > 0 ||
      element.type === 'INTERMEDIATE_CATCH_EVENT' ||
      element.type === 'RECEIVE_TASK' ||
      element.type === 'EVENT_BASED_GATEWAY'
    );
  }

  /** Deletes the element instance's timers and message/signal subscriptions (only those for `elementIds` if given). */
  private async closeEventSubscriptions(ei: ElementInstance, elementIds?: string[]) {
    const { rows } = await this.db.query<{
      kind: 'timer' | 'message' | 'signal';
      key: string;
      element_id: string;
      due_date: Date | null;
      name: string | null;
      correlation_key: string | null;
    }>(
      `WITH t AS (DELETE FROM engine_timer WHERE element_instance_key = $1 AND ($2::text[] IS NULL OR element_id = ANY($2))
                  RETURNING key, element_id, due_date),
            m AS (DELETE FROM engine_message_subscription
                   WHERE element_instance_key = $1 AND ($2::text[] IS NULL OR element_id = ANY($2))
                  RETURNING key, element_id, message_name, correlation_key),
            s AS (DELETE FROM engine_signal_subscription
                   WHERE element_instance_key = $1 AND ($2::text[] IS NULL OR element_id = ANY($2))
                  RETURNING key, element_id, signal_name)
       SELECT 'timer' AS kind, key::text, element_id, due_date, NULL AS name, NULL AS correlation_key FROM t
       UNION ALL SELECT 'message', key::text, element_id, NULL, message_name, correlation_key FROM m
       UNION ALL SELECT 'signal', key::text, element_id, NULL, signal_name, NULL FROM s`,
      [ei.key, elementIds ?? null],
    );
    for (const r of rows) {
      if (r.kind === 'timer') {
        this.record('TIMER', 'CANCELED', r.key, {
          elementInstanceKey: ei.key,
          processInstanceKey: ei.processInstanceKey,
          processDefinitionKey: ei.processDefinitionKey,
          targetElementId: r.element_id,
          dueDate: r.due_date!.getTime(),
          tenantId: ei.tenantId,
        });
      } else if (r.kind === 'message') {
        this.record('PROCESS_MESSAGE_SUBSCRIPTION', 'DELETED', r.key, {
          elementInstanceKey: ei.key,
          processInstanceKey: ei.processInstanceKey,
          messageName: r.name,
          correlationKey: r.correlation_key,
          tenantId: ei.tenantId,
        });
      } else {
        this.record('SIGNAL_SUBSCRIPTION', 'DELETED', r.key, {
          signalName: r.name,
          processDefinitionKey: ei.processDefinitionKey,
          bpmnProcessId: ei.bpmnProcessId,
          catchEventId: r.element_id,
          catchEventInstanceKey: ei.key,
          tenantId: ei.tenantId,
        });
      }
    }
  }

  /** A timer of this instance is due (the caller holds the instance lock and the timer row). */
  async fireTimer(timer: {
    key: string;
    elementInstanceKey: string;
    elementId: string;
    repetitions: number;
    cycle: string | null;
    dueDate: number;
  }) {
    const ei = await this.elementInstance(timer.elementInstanceKey);
    this.db.defer(`DELETE FROM engine_timer WHERE key = $1`, [timer.key]);
    if (!ei || ei.state !== 'ACTIVE') return;
    this.record('TIMER', 'TRIGGERED', timer.key, {
      elementInstanceKey: ei.key,
      processInstanceKey: ei.processInstanceKey,
      processDefinitionKey: ei.processDefinitionKey,
      targetElementId: timer.elementId,
      dueDate: timer.dueDate,
      tenantId: ei.tenantId,
    });
    const def = await this.definition(ei.processDefinitionKey);
    const target = def.model.elements.get(timer.elementId)!;
    // Non-interrupting boundary events and event sub-process starts with a cycle fire again.
    const repeats = ei.type !== 'EVENT_BASED_GATEWAY' && ei.elementId !== timer.elementId;
    if (repeats && target.interrupting === false && timer.cycle && timer.repetitions !== 1) {
      const next = this.services.nextCycle(timer.cycle, timer.dueDate);
      if (next !== undefined) {
        await this.createTimer({
          processInstanceKey: ei.processInstanceKey,
          elementInstanceKey: ei.key,
          processDefinitionKey: ei.processDefinitionKey,
          elementId: timer.elementId,
          dueDate: next,
          repetitions: timer.repetitions < 0 ? -1 : timer.repetitions - 1,
          cycle: timer.cycle,
          tenantId: ei.tenantId,
        });
      }
    }
    await this.triggerEvent(ei, timer.elementId, {});
  }

  /**
   * Serialises, until this transaction ends, the publishing of messages `name`/`correlationKey` with the
   * opening of subscriptions to them. Each side looks for the other in its own transaction; without the
   * lock, a publish and a subscription committing at the same moment (READ COMMITTED) miss each other and
   * the buffered message never reaches the waiting instance (tests/engine/message-race.test.ts). With it,
   * whichever comes second sees the first's committed row.
   */
  async lockCorrelation(name: string, correlationKey: string) {
    await this.db.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 2))`, [`${name}\u001f${correlationKey}`]);
  }

  /** A message correlated to subscription `subscriptionKey` (caller holds the instance lock). */
  async correlate(subscriptionKey: string, variables: Record<string, unknown>, messageKey: string) {
    const { rows } = await this.db.query<{ element_instance_key: string; element_id: string; interrupting: boolean }>(
      `SELECT element_instance_key::text, element_id, interrupting FROM engine_message_subscription WHERE key = $1`,
      [subscriptionKey],
    );
    const sub = rows[0];
    if (!sub) return false;
    const ei = await this.elementInstance(sub.element_instance_key);
    if (!ei || ei.state !== 'ACTIVE') return false;
    this.record('PROCESS_MESSAGE_SUBSCRIPTION', 'CORRELATED', subscriptionKey, {
      elementInstanceKey: ei.key,
      processInstanceKey: ei.processInstanceKey,
      messageKey,
      elementId: sub.element_id,
      variables,
    });
    // Non-interrupting boundary events and event sub-process starts stay subscribed.
    if (sub.interrupting) {
      this.db.defer(`DELETE FROM engine_message_subscription WHERE key = $1`, [subscriptionKey]);
    }
    return this.triggerEvent(ei, sub.element_id, variables);
  }

  /**
   * An event `ei` subscribed to happened (a timer fired, a message correlated, a signal was broadcast)
   * for element `targetId`: a catch event or receive task completes, an event-based gateway takes the
   * flow to that event, an event sub-process starts in its scope, a boundary event fires.
   */
  async triggerEvent(ei: ElementInstance, targetId: string, variables: Record<string, unknown>): Promise<boolean> {
    if (ei.state !== 'ACTIVE') return false;
    if (ei.elementId === targetId && (ei.type === 'INTERMEDIATE_CATCH_EVENT' || ei.type === 'RECEIVE_TASK')) {
      if (this.completing.has(ei.key)) return false;
      await this.applyResultVariables(ei, variables);
      this.enqueue({ op: 'complete', ei });
      return true;
    }
    const def = await this.definition(ei.processDefinitionKey);
    if (ei.type === 'EVENT_BASED_GATEWAY') {
      // docs: bpmn/event-based-gateways — the first event wins; the other subscriptions close with the gateway.
      if (ei.data.chosenFlow) return false;
      const element = def.model.elements.get(ei.elementId)!;
      ei.data.chosenFlow = element.outgoing.find((f) => def.model.flows.get(f)!.targetId === targetId);
      ei.data.trigger = { variables };
      await this.saveElement(ei);
      this.enqueue({ op: 'complete', ei });
      return true;
    }
    const target = def.model.elements.get(targetId)!;
    if (target.type === 'START_EVENT') {
      const esp = def.model.elements.get(target.flowScopeId)!;
      return this.triggerEventSubProcess(ei, esp, variables, false);
    }
    await this.triggerBoundary(ei, target, variables);
    return true;
  }

  /**
   * docs: bpmn/event-subprocesses — an interrupting one terminates every other element instance of its
   * scope and closes the scope's other event sub-process subscriptions; a non-interrupting one runs
   * beside them. The scope completes once nothing is left in it.
   */
  private async triggerEventSubProcess(
    scope: ElementInstance,
    esp: Element,
    variables: Record<string, unknown>,
    localOnly: boolean,
  ): Promise<boolean> {
    if (scope.state !== 'ACTIVE' || scope.data.interrupted) return false;
    if (esp.interruptingStart !== false) {
      scope.data.interrupted = true;
      delete scope.data.joins;
      await this.saveElement(scope);
      const def = await this.definition(scope.processDefinitionKey);
      const espIds =
        scope.type === 'PROCESS'
          ? def.model.eventSubProcesses
          : (def.model.elements.get(scope.elementId)?.eventSubProcesses ?? []);
      const startIds = espIds.map((id) => def.model.elements.get(id)!.startEventId!);
      await this.closeEventSubscriptions(scope, startIds);
      for (const child of await this.activeChildren(scope.key)) await this.terminate(child);
    }
    await this.activate(esp, scope, undefined, undefined, { trigger: { variables, localOnly } });
    return true;
  }

  /** Opens the timer, message and signal subscriptions of a scope's event sub-process start events. */
  private async openEventSubProcesses(scope: ElementInstance, espIds: string[]): Promise<boolean> {
    if (espIds.length === 0) return true;
    const def = await this.definition(scope.processDefinitionKey);
    for (const id of espIds) {
      const start = def.model.elements.get(def.model.elements.get(id)!.startEventId!)!;
      const kind = start.event?.type;
      if (kind !== 'timer' && kind !== 'message' && kind !== 'signal') continue;
      if (!(await this.subscribe(scope, start, start.event!))) return false;
    }
    return true;
  }

  /** The variables of the event that already happened for `ei` (ElementData.trigger). */
  private async applyTrigger(ei: ElementInstance) {
    const trigger = ei.data.trigger!;
    delete ei.data.trigger;
    await this.saveElement(ei);
    if (Object.keys(trigger.variables).length === 0) return;
    if (trigger.localOnly) for (const [k, v] of Object.entries(trigger.variables)) await this.setLocal(ei, k, v);
    else await this.applyResultVariables(ei, trigger.variables);
  }

  /**
   * A boundary event fires: interrupting ones terminate the activity first, then the boundary event
   * is activated in the activity's flow scope with the event's variables (docs: bpmn/boundary-events).
   */
  async triggerBoundary(
    activity: ElementInstance,
    boundary: Element,
    variables: Record<string, unknown>,
    localOnly = false,
  ) {
    const flowScope = (await this.elementInstance(activity.flowScopeKey!))!;
    if (boundary.interrupting !== false) await this.terminate(activity);
    const ei = await this.activate(boundary, flowScope);
    if (Object.keys(variables).length === 0) return;
    // An error's variables reach the process only through the catching event's output mappings.
    if (localOnly) for (const [k, v] of Object.entries(variables)) await this.setLocal(ei, k, v);
    else await this.applyResultVariables(ei, variables);
  }

  // ---------------------------------------------------------------- errors

  /** docs: components/modeler/bpmn/error-events — an error end event throws its error in its scope. */
  private async throwErrorEndEvent(ei: ElementInstance, element: Element) {
    const event = element.event as Extract<EventDefinition, { type: 'error' }>;
    let code = event.errorCode ?? '';
    if (code.startsWith('=')) {
      const r = await this.evaluate(code, ei);
      if (!r.ok) return this.raiseIncident(ei, 'EXTRACT_VALUE_ERROR', r.message, 'ACTIVATED');
      code = String(r.value);
    }
    const caught = await this.throwError(ei, code, {});
    if (!caught) {
      await this.raiseIncident(
        ei,
        'UNHANDLED_ERROR_EVENT',
        `Expected to throw an error event with the code '${code}', but it was not caught. No error events are available in the scope.`,
        'ACTIVATED',
      );
    }
  }

  /**
   * Finds the catching error boundary event or error event sub-process from `thrower` outwards —
   * through sub-processes and call activities — and triggers it. An error event with this code wins
   * over a catch-all.
   */
  async throwError(thrower: ElementInstance, errorCode: string, variables: Record<string, unknown>): Promise<boolean> {
    return (await this.findCatch(thrower, 'error', errorCode, variables)) !== undefined;
  }

  /**
   * The walk errors and escalations share (docs: bpmn/error-events "Catching", bpmn/escalation-events):
   * in each scope from the thrower outwards, first its event sub-processes with a matching start event,
   * then the boundary events of the scope's activity; a called instance hands over to its call activity.
   * Returns whether the catching event interrupts, or undefined when nothing caught it.
   */
  private async findCatch(
    thrower: ElementInstance,
    kind: 'error' | 'escalation',
    code: string,
    variables: Record<string, unknown>,
  ): Promise<'interrupting' | 'non-interrupting' | undefined> {
    const codeOf = (e: Element | undefined) =>
      e?.event?.type === 'error'
        ? e.event.errorCode
        : e?.event?.type === 'escalation'
          ? e.event.escalationCode
          : undefined;
    const pick = (candidates: Element[]) =>
      candidates.find((c) => codeOf(c) === code) ?? candidates.find((c) => codeOf(c) === undefined);
    let scope: ElementInstance | undefined =
      thrower.type === 'END_EVENT' || thrower.type === 'INTERMEDIATE_THROW_EVENT'
        ? await this.elementInstance(thrower.flowScopeKey!)
        : thrower;
    while (scope) {
      const parentScope: ElementInstance | undefined = scope.flowScopeKey
        ? await this.elementInstance(scope.flowScopeKey)
        : undefined;
      const def = await this.definition(scope.processDefinitionKey);
      if (scope.type === 'PROCESS' || scope.type === 'SUB_PROCESS' || scope.type === 'EVENT_SUB_PROCESS') {
        const espIds =
          scope.type === 'PROCESS'
            ? def.model.eventSubProcesses
            : (def.model.elements.get(scope.elementId)?.eventSubProcesses ?? []);
        const starts = espIds
          .map((id) => def.model.elements.get(def.model.elements.get(id)!.startEventId!)!)
          .filter((st) => st.event?.type === kind);
        const start = scope.data.interrupted ? undefined : pick(starts);
        if (start) {
          const esp = def.model.elements.get(start.flowScopeId)!;
          await this.triggerEventSubProcess(scope, esp, variables, kind === 'error');
          return esp.interruptingStart !== false ? 'interrupting' : 'non-interrupting';
        }
      }
      if (scope.type === 'PROCESS') {
        const inst = await this.lockInstance(scope.processInstanceKey);
        if (!inst?.parentElementInstanceKey) return undefined;
        await this.lockInstance(inst.parentProcessInstanceKey!);
        scope = await this.elementInstance(inst.parentElementInstanceKey);
        continue;
      }
      if (parentScope?.type !== 'MULTI_INSTANCE_BODY' && scope.type !== 'EVENT_SUB_PROCESS') {
        const element = await this.element(scope);
        const boundary = pick(
          element.boundaryEvents.map((id) => def.model.elements.get(id)!).filter((b) => b.event?.type === kind),
        );
        if (boundary) {
          await this.triggerBoundary(scope, boundary, variables, kind === 'error');
          return boundary.interrupting !== false ? 'interrupting' : 'non-interrupting';
        }
      }
      scope = parentScope;
    }
    return undefined;
  }

  /**
   * docs: bpmn/escalation-events — thrown to the enclosing scopes; an uncaught escalation raises no
   * incident and the process goes on; an interrupting catch terminates the thrower with its scope.
   */
  private async throwEscalation(ei: ElementInstance, element: Element) {
    const event = element.event as Extract<EventDefinition, { type: 'escalation' }>;
    const r = await this.evaluate(event.escalationCode ?? '', ei);
    if (!r.ok) return this.raiseIncident(ei, 'EXTRACT_VALUE_ERROR', r.message, 'ACTIVATED');
    const code = String(r.value);
    const caught = await this.findCatch(ei, 'escalation', code, {});
    this.record('ESCALATION', caught ? 'ESCALATED' : 'NOT_ESCALATED', await this.key(), {
      processInstanceKey: ei.processInstanceKey,
      escalationCode: code,
      throwElementId: ei.elementId,
      catchElementId: '',
      tenantId: ei.tenantId,
    });
    if (ei.state === 'ACTIVE') this.enqueue({ op: 'complete', ei });
  }

  /** docs: bpmn/signal-events — a signal throw or end event broadcasts the signal, then goes on. */
  private async throwSignal(ei: ElementInstance, element: Element) {
    const event = element.event as Extract<EventDefinition, { type: 'signal' }>;
    const r = await this.evaluate(event.signalName, ei);
    if (!r.ok || typeof r.value !== 'string' || r.value === '') {
      return this.raiseIncident(
        ei,
        'EXTRACT_VALUE_ERROR',
        r.ok
          ? `Expected the signal name of '${element.id}' to be a non-empty string, but was '${typeName(r.value)}'.`
          : r.message,
        'ACTIVATED',
      );
    }
    // The throw event's input mappings are the signal's variables.
    await this.broadcastSignal(r.value, element.inputs.length > 0 ? await this.localVariables(ei.key) : {});
    if (ei.state === 'ACTIVE') this.enqueue({ op: 'complete', ei });
  }

  /**
   * docs: bpmn/signal-events, apis/grpc BroadcastSignal — every signal start event of the latest
   * versions starts an instance and every open signal catch event (intermediate, boundary, event
   * sub-process start, event-based gateway) of every instance is triggered. Returns the signal key.
   */
  async broadcastSignal(signalName: string, variables: Record<string, unknown>, tenantId = '<default>') {
    const key = await this.key();
    this.record('SIGNAL', 'BROADCASTED', key, { signalName, variables, tenantId });
    this.flush();
    const { rows } = await this.db.query<{
      key: string;
      process_definition_key: string;
      process_instance_key: string | null;
      element_instance_key: string | null;
      element_id: string;
      interrupting: boolean;
    }>(
      `SELECT key::text, process_definition_key::text, process_instance_key::text, element_instance_key::text,
              element_id, interrupting
         FROM engine_signal_subscription WHERE signal_name = $1
        ORDER BY process_instance_key NULLS FIRST, key`,
      [signalName],
    );
    for (const sub of rows) {
      if (sub.process_instance_key === null) {
        const def = await this.definition(sub.process_definition_key);
        await this.createInstance(def, variables, { startElementId: sub.element_id });
        continue;
      }
      const inst = await this.lockInstance(sub.process_instance_key);
      if (!inst || inst.state !== 'ACTIVE') continue;
      const ei = await this.elementInstance(sub.element_instance_key!);
      if (!ei || ei.state !== 'ACTIVE') continue;
      if (sub.interrupting) await this.db.query(`DELETE FROM engine_signal_subscription WHERE key = $1`, [sub.key]);
      await this.triggerEvent(ei, sub.element_id, variables);
    }
    return key;
  }

  /** docs: bpmn/terminate-events — every other element instance of the flow scope ends; the scope completes. */
  private async terminateEndEvent(ei: ElementInstance) {
    const scope = (await this.elementInstance(ei.flowScopeKey!))!;
    for (const child of await this.activeChildren(scope.key)) if (child.key !== ei.key) await this.terminate(child);
    if (scope.data.joins) {
      delete scope.data.joins;
      await this.saveElement(scope);
    }
    this.enqueue({ op: 'complete', ei });
  }

  // ---------------------------------------------------------------- modification and migration

  /** The active instances of `elementId` directly in `scope`. */
  private async activeInstancesOf(scope: ElementInstance, elementId: string): Promise<ElementInstance[]> {
    return (await this.activeChildren(scope.key)).filter((c) => c.elementId === elementId);
  }

  /**
   * docs: components/concepts/process-instance-modification — activate elements (their flow scopes found,
   * or created without their start events; variables set on the named scopes), then terminate element
   * instances; a flow scope left with nothing active ends with them, the process instance last.
   */
  async modifyInstance(req: {
    processInstanceKey: string;
    activate: {
      elementId: string;
      ancestorElementInstanceKey: string;
      variables: { scopeId: string; variables: Record<string, unknown> }[];
    }[];
    terminate: string[];
  }) {
    const processEi = (await this.elementInstance(req.processInstanceKey))!;
    const def = await this.definition(processEi.processDefinitionKey);
    const invalid = (message: string) =>
      new EngineFault(
        'INVALID_ARGUMENT',
        `Expected to modify instance of process '${def.bpmnProcessId}' but ${message}`,
      );
    for (const a of req.activate) {
      const element = def.model.elements.get(a.elementId);
      if (!element)
        throw invalid(`it contains activate instructions with an element that could not be found: '${a.elementId}'`);
      if (
        element.type === 'BOUNDARY_EVENT' ||
        (element.type === 'START_EVENT' && element.flowScopeId !== def.bpmnProcessId)
      ) {
        throw invalid(`element '${a.elementId}' (${element.type}) cannot be activated`);
      }
      // The flow scopes from the outermost, below the process.
      const chain: Element[] = [];
      for (let id = element.flowScopeId; id !== def.bpmnProcessId;) {
        const scope = def.model.elements.get(id)!;
        if (scope.multiInstance) throw invalid(`element '${a.elementId}' is inside multi-instance '${id}'`);
        chain.unshift(scope);
        id = scope.flowScopeId;
      }
      const ancestor =
        a.ancestorElementInstanceKey && a.ancestorElementInstanceKey !== '-1' && a.ancestorElementInstanceKey !== '0'
          ? await this.elementInstance(a.ancestorElementInstanceKey)
          : undefined;
      if (
        a.ancestorElementInstanceKey &&
        a.ancestorElementInstanceKey !== '-1' &&
        a.ancestorElementInstanceKey !== '0'
      ) {
        if (!ancestor || ancestor.state !== 'ACTIVE' || ancestor.processInstanceKey !== processEi.key) {
          throw invalid(`the ancestor element instance '${a.ancestorElementInstanceKey}' is not active in it`);
        }
      }
      let scope = processEi;
      const scopes = new Map<string, ElementInstance>([[def.bpmnProcessId, processEi]]);
      for (const container of chain) {
        let next: ElementInstance | undefined;
        if (ancestor && ancestor.elementId === container.id) next = ancestor;
        else {
          const found = await this.activeInstancesOf(scope, container.id);
          if (found.length > 1 && !ancestor) {
            throw invalid(
              `the flow scope '${container.id}' of '${a.elementId}' has several active instances; name one as the ancestor`,
            );
          }
          next = found[0];
        }
        next ??= await this.activateScopeOnly(container, scope);
        scopes.set(container.id, next);
        scope = next;
      }
      for (const v of a.variables) {
        const target = v.scopeId === '' ? processEi : scopes.get(v.scopeId);
        if (!target) throw invalid(`the variable scope '${v.scopeId}' is not a flow scope of '${a.elementId}'`);
        for (const [k, val] of Object.entries(v.variables)) await this.setLocal(target, k, val);
      }
      await this.activate(element, scope);
    }
    const touched = new Map<string, ElementInstance>();
    for (const key of req.terminate) {
      const ei = /^\d{1,19}$/.test(key) ? await this.elementInstance(key) : undefined;
      if (!ei || ei.state !== 'ACTIVE' || ei.processInstanceKey !== processEi.key || ei.type === 'PROCESS') {
        throw invalid(`it contains terminate instructions with an element instance that could not be found: '${key}'`);
      }
      await this.terminate(ei);
      const scope = ei.flowScopeKey ? await this.elementInstance(ei.flowScopeKey) : undefined;
      if (scope) touched.set(scope.key, scope);
    }
    // Scopes left empty end with what was terminated in them, up to the process instance.
    for (let scope of touched.values()) {
      while (scope.state === 'ACTIVE') {
        if ((await this.activeChildren(scope.key)).length > 0 || Object.keys(scope.data.joins ?? {}).length > 0) break;
        if (scope.type === 'PROCESS') {
          await this.terminateInstance(scope.processInstanceKey);
          break;
        }
        await this.terminate(scope);
        scope = (await this.elementInstance(scope.flowScopeKey!))!;
      }
    }
    this.record('PROCESS_INSTANCE_MODIFICATION', 'MODIFIED', processEi.key, {
      processInstanceKey: processEi.key,
      activateInstructions: req.activate.map((a) => ({ elementId: a.elementId })),
      terminateInstructions: req.terminate.map((k) => ({ elementInstanceKey: k })),
      tenantId: processEi.tenantId,
    });
  }

  /** A sub-process activated by a modification: its boundary and event sub-process subscriptions, not its start event. */
  private async activateScopeOnly(container: Element, flowScope: ElementInstance): Promise<ElementInstance> {
    const def = await this.definition(flowScope.processDefinitionKey);
    const ei = await this.insertElement(def, flowScope.processInstanceKey, container.id, container.type, flowScope.key);
    this.lifecycle(ei, 'ELEMENT_ACTIVATING');
    ei.data.phase = 'ACTIVATED';
    await this.subscribeBoundaryEvents(ei, container);
    await this.openEventSubProcesses(ei, container.eventSubProcesses);
    this.lifecycle(ei, 'ELEMENT_ACTIVATED');
    return ei;
  }

  /**
   * docs: components/concepts/process-instance-migration — every active element instance needs a mapping
   * to an element of the same type in the same (mapped) flow scope of the target version; its jobs, user
   * tasks, incidents and subscriptions follow. Refused, naming the element, when an active element or its
   * scope has boundary events or event sub-processes the target does not have alike, or a join waits.
   */
  async migrateInstance(
    processInstanceKey: string,
    target: Definition,
    mappings: { sourceElementId: string; targetElementId: string }[],
  ) {
    const processEi = (await this.elementInstance(processInstanceKey))!;
    const source = await this.definition(processEi.processDefinitionKey);
    const fail = (message: string) =>
      new EngineFault(
        'INVALID_ARGUMENT',
        `Expected to migrate process instance '${processInstanceKey}' but ${message}`,
      );
    if (target.bpmnProcessId !== source.bpmnProcessId) {
      throw fail(
        `the target process definition is of process '${target.bpmnProcessId}', not '${source.bpmnProcessId}'`,
      );
    }
    const map = new Map<string, string>();
    for (const m of mappings) {
      if (map.has(m.sourceElementId)) throw fail(`the mapping instructions map '${m.sourceElementId}' twice`);
      map.set(m.sourceElementId, m.targetElementId);
    }
    map.set(source.bpmnProcessId, target.bpmnProcessId);
    this.flush();
    const { rows } = await this.db.query<{ key: string }>(
      `SELECT key::text FROM engine_element_instance WHERE process_instance_key = $1 AND state = 'ACTIVE' ORDER BY key`,
      [processInstanceKey],
    );
    const active: ElementInstance[] = [];
    for (const r of rows) {
      const ei = await this.elementInstance(r.key);
      if (ei && ei.state === 'ACTIVE') active.push(ei);
    }
    const sameEvents = (a: Element | undefined, b: Element | undefined) =>
      JSON.stringify(a ? { e: a.event, i: a.interrupting } : null) ===
      JSON.stringify(b ? { e: b.event, i: b.interrupting } : null);
    for (const ei of active) {
      const targetId = map.get(ei.elementId);
      if (targetId === undefined) {
        throw fail(
          `no mapping instruction is defined for active element '${ei.elementId}'; every active element needs one`,
        );
      }
      if (Object.keys(ei.data.joins ?? {}).length > 0) {
        throw fail(`tokens wait at a joining gateway in '${ei.elementId}'`);
      }
      if (ei.type === 'PROCESS') {
        const espS = source.model.eventSubProcesses.map((id) => source.model.elements.get(id)!.startEventId);
        const espT = target.model.eventSubProcesses.map((id) => target.model.elements.get(id)!.startEventId);
        if (JSON.stringify(espS) !== JSON.stringify(espT)) throw fail('the event sub-processes of the process differ');
        continue;
      }
      const from = source.model.elements.get(ei.elementId)!;
      const to = target.model.elements.get(targetId);
      if (!to)
        throw fail(`the target element '${targetId}' of '${ei.elementId}' is not in the target process definition`);
      if (to.type !== from.type || Boolean(to.multiInstance) !== Boolean(from.multiInstance)) {
        throw fail(`active element '${ei.elementId}' (${from.type}) cannot become '${targetId}' (${to.type})`);
      }
      if (map.get(from.flowScopeId) !== to.flowScopeId) {
        throw fail(
          `active element '${ei.elementId}' would change its flow scope ('${from.flowScopeId}' → '${to.flowScopeId}')`,
        );
      }
      const boundaries = (e: Element, m: ProcessModel) => e.boundaryEvents.map((id) => m.elements.get(id)!);
      const bs = boundaries(from, source.model);
      const bt = boundaries(to, target.model);
      if (bs.length !== bt.length || bs.some((b, i) => b.id !== bt[i]!.id || !sameEvents(b, bt[i]))) {
        throw fail(`active element '${ei.elementId}' has boundary events that differ in the target ('${targetId}')`);
      }
      const es = from.eventSubProcesses.map((id) => source.model.elements.get(id)!.startEventId);
      const et = to.eventSubProcesses.map((id) => target.model.elements.get(id)!.startEventId);
      if (JSON.stringify(es) !== JSON.stringify(et)) throw fail(`the event sub-processes of '${ei.elementId}' differ`);
    }
    const keys = active.map((e) => e.key);
    const targets = active.map((e) => map.get(e.elementId)!);
    for (let i = 0; i < active.length; i++) {
      const ei = active[i]!;
      ei.processDefinitionKey = target.key;
      ei.version = target.version;
      ei.elementId = targets[i]!;
      this.record('PROCESS_INSTANCE', 'ELEMENT_MIGRATED', ei.key, this.processInstanceValue(ei));
    }
    this.definitions.set(target.key, target);
    const inst = (await this.lockInstance(processInstanceKey))!;
    inst.processDefinitionKey = target.key;
    inst.version = target.version;
    await this.db.query(
      `WITH m AS (SELECT * FROM unnest($2::bigint[], $3::text[]) AS t(k, el)),
            pi AS (UPDATE engine_process_instance SET process_definition_key = $4, version = $5 WHERE key = $1),
            ei AS (UPDATE engine_element_instance e SET process_definition_key = $4, element_id = m.el FROM m WHERE e.key = m.k),
            j AS (UPDATE engine_job j SET process_definition_key = $4, version = $5, element_id = m.el
                    FROM m WHERE j.element_instance_key = m.k),
            u AS (UPDATE engine_user_task u SET process_definition_key = $4, version = $5, element_id = m.el
                    FROM m WHERE u.element_instance_key = m.k),
            i AS (UPDATE engine_incident i SET process_definition_key = $4, element_id = m.el
                    FROM m WHERE i.element_instance_key = m.k AND i.state = 'ACTIVE'),
            ms AS (UPDATE engine_message_subscription s SET element_id = m.el
                     FROM m WHERE s.element_instance_key = m.k AND s.element_id = (SELECT element_id FROM engine_element_instance WHERE key = m.k)),
            own AS (SELECT m.k, m.el, e.element_id AS old FROM m JOIN engine_element_instance e ON e.key = m.k),
            t AS (UPDATE engine_timer t SET process_definition_key = $4,
                         element_id = COALESCE((SELECT own.el FROM own WHERE own.k = t.element_instance_key
                                                   AND own.old = t.element_id), t.element_id)
                   WHERE t.process_instance_key = $1)
       UPDATE engine_signal_subscription s SET process_definition_key = $4,
              element_id = COALESCE((SELECT own.el FROM own WHERE own.k = s.element_instance_key AND own.old = s.element_id),
                                    s.element_id)
        WHERE s.process_instance_key = $1`,
      [processInstanceKey, keys, targets, target.key, target.version],
    );
    this.record('PROCESS_INSTANCE_MIGRATION', 'MIGRATED', processInstanceKey, {
      processInstanceKey,
      migrationPlan: { targetProcessDefinitionKey: target.key, mappingInstructions: mappings },
      tenantId: processEi.tenantId,
    });
  }

  // ---------------------------------------------------------------- listeners

  private async listenersOf(ei: ElementInstance): Promise<ExecutionListeners | undefined> {
    if (ei.type === 'PROCESS') return (await this.definition(ei.processDefinitionKey)).model.listeners;
    return (await this.element(ei)).listeners;
  }

  /** A job for an execution or task listener; the element waits for it (ElementData.listener/taskListener). */
  private async createListenerJob(
    ei: ElementInstance,
    element: Element | undefined,
    listener: ListenerDefinition,
    event: 'start' | 'end' | 'assigning' | 'completing',
  ) {
    const execution = event === 'start' || event === 'end';
    await this.createJob(ei, element, {
      job: {
        type: listener.type,
        retries: listener.retries,
        headers: { ...element?.job?.headers, ...listener.headers },
      },
      phase: event === 'start' ? 'ACTIVATING' : event === 'end' ? 'COMPLETING' : 'ACTIVATED',
      kind: execution ? 'EXECUTION_LISTENER' : 'TASK_LISTENER',
      listenerEventType: event.toUpperCase(),
    });
    await this.saveElement(ei);
  }

  /**
   * A listener's job completed: start listeners' variables become local variables of the element, end
   * listeners' go to the flow scope like output mappings; then the next listener, or the element goes on.
   * docs: concepts/execution-listeners, "Variables in an execution listener".
   */
  async listenerJobCompleted(ei: ElementInstance, variables: Record<string, unknown>) {
    const l = ei.data.listener!;
    const element = ei.type === 'PROCESS' ? undefined : await this.element(ei);
    const listeners = (await this.listenersOf(ei))!;
    const flowScope = ei.flowScopeKey ? await this.elementInstance(ei.flowScopeKey) : undefined;
    if (l.event === 'start') {
      for (const [k, v] of Object.entries(variables)) await this.setLocal(ei, k, v);
    } else if (Object.keys(variables).length > 0) {
      await this.propagate(flowScope && flowScope.type !== 'MULTI_INSTANCE_BODY' ? flowScope : ei, variables);
    }
    l.index += 1;
    const next = listeners[l.event][l.index];
    if (next) return this.createListenerJob(ei, element, next, l.event);
    delete ei.data.listener;
    await this.saveElement(ei);
    if (l.event === 'start') {
      if (ei.type === 'PROCESS') return this.processStarted(ei, l.startElementId!);
      return this.activated(ei, element!);
    }
    this.completing.add(ei.key);
    const innerOfBody = flowScope?.type === 'MULTI_INSTANCE_BODY' ? flowScope : undefined;
    return this.finishCompletion(ei, element, flowScope, innerOfBody, l.outputElement, l.completionMet ?? false);
  }

  /**
   * docs: concepts/user-task-listeners — an assignment or completion of a Camunda user task with
   * listeners of that event waits for their jobs (the task is ASSIGNING / COMPLETING meanwhile); false
   * when the element has none (the command goes on at once).
   */
  async startTaskListeners(ei: ElementInstance, pending: NonNullable<ElementData['taskListener']>): Promise<boolean> {
    const element = await this.element(ei);
    const listeners = element.taskListeners?.[pending.event] ?? [];
    if (listeners.length === 0) return false;
    this.db.defer(`UPDATE engine_user_task SET state = $2 WHERE key = $1`, [
      pending.userTaskKey,
      pending.event === 'assigning' ? 'ASSIGNING' : 'COMPLETING',
    ]);
    ei.data.taskListener = pending;
    await this.createListenerJob(ei, element, listeners[0]!, pending.event);
    return true;
  }

  /** A task listener's job completed: the next listener, or the assignment / completion it held back. */
  async taskListenerJobCompleted(ei: ElementInstance) {
    const t = ei.data.taskListener!;
    const element = await this.element(ei);
    t.index += 1;
    const next = element.taskListeners![t.event][t.index];
    if (next) return this.createListenerJob(ei, element, next, t.event);
    delete ei.data.taskListener;
    await this.saveElement(ei);
    if (t.event === 'assigning') {
      this.db.defer(`UPDATE engine_user_task SET state = 'CREATED', assignee = $2 WHERE key = $1`, [
        t.userTaskKey,
        t.assignee ?? null,
      ]);
      const value = await this.userTaskValue(t.userTaskKey, { action: 'assign', changedAttributes: ['assignee'] });
      this.record('USER_TASK', 'ASSIGNED', t.userTaskKey, value);
      return;
    }
    await this.finishUserTaskCompletion(ei, t.userTaskKey, t.variables ?? {}, t.action);
  }

  /** The user task completes and its element goes on with the completion's variables. */
  async finishUserTaskCompletion(
    ei: ElementInstance,
    userTaskKey: string,
    variables: Record<string, unknown>,
    action: string | undefined,
  ) {
    this.db.defer(`UPDATE engine_user_task SET state = 'COMPLETED', completion_date = $2 WHERE key = $1`, [
      userTaskKey,
      new Date(this.now),
    ]);
    const value = await this.userTaskValue(userTaskKey, { variables, action: action ?? 'complete' });
    this.record('USER_TASK', 'COMPLETED', userTaskKey, value);
    if (ei.state !== 'ACTIVE') return;
    await this.applyResultVariables(ei, variables);
    this.enqueue({ op: 'complete', ei });
  }

  // ---------------------------------------------------------------- gateways

  /**
   * The flows a gateway takes. Exclusive (docs: components/modeler/bpmn/exclusive-gateways): the first
   * flow whose condition is true, in order, else the default. Inclusive (…/inclusive-gateways): every flow
   * whose condition is true, else the default. None and no default is an incident.
   */
  private async chooseFlows(ei: ElementInstance, element: Element, inclusive: boolean) {
    const def = await this.definition(ei.processDefinitionKey);
    let chosen: string[] = [];
    if (element.outgoing.length === 1 && !def.model.flows.get(element.outgoing[0]!)!.condition) {
      chosen = [element.outgoing[0]!];
    } else {
      const context = await this.visibleVariables(ei);
      for (const id of element.outgoing) {
        const flow = def.model.flows.get(id)!;
        if (id === element.defaultFlow || !flow.condition) continue;
        const r = this.services.evaluate(flow.condition, context);
        if (!r.ok) return this.raiseIncident(ei, 'CONDITION_ERROR', r.message, 'ACTIVATED');
        if (r.value !== true) continue;
        chosen.push(id);
        if (!inclusive) break;
      }
      if (chosen.length === 0 && element.defaultFlow) chosen = [element.defaultFlow];
    }
    if (chosen.length === 0 && element.outgoing.length > 0) {
      return this.raiseIncident(
        ei,
        'CONDITION_ERROR',
        `Expected at least one condition to evaluate to true, or to have a default flow (gateway '${element.id}')`,
        'ACTIVATED',
      );
    }
    if (inclusive) ei.data.chosenFlows = chosen;
    else ei.data.chosenFlow = chosen[0];
    await this.saveElement(ei);
    this.enqueue({ op: 'complete', ei });
  }

  /** docs: bpmn/event-based-gateways — subscribes to the events after it; the first to happen wins. */
  private async subscribeEventBasedGateway(ei: ElementInstance, element: Element) {
    const def = await this.definition(ei.processDefinitionKey);
    for (const flowId of element.outgoing) {
      const target = def.model.elements.get(def.model.flows.get(flowId)!.targetId)!;
      if (!(await this.subscribe(ei, target, target.event!))) return;
    }
  }

  // ---------------------------------------------------------------- tasks

  /** docs: components/modeler/bpmn/script-tasks — the FEEL expression's value goes into the result variable. */
  private async runScript(ei: ElementInstance, element: Element) {
    const script = element.script;
    if (!script) return this.raiseIncident(ei, 'UNKNOWN', `script task '${element.id}' has no script`, 'ACTIVATED');
    const r = await this.evaluate(script.expression, ei);
    if (!r.ok) return this.raiseIncident(ei, 'EXTRACT_VALUE_ERROR', r.message, 'ACTIVATED');
    // Like a job's variables: propagated without output mappings, local to the task with them.
    await this.applyResultVariables(ei, { [script.resultVariable]: r.value ?? null });
    this.enqueue({ op: 'complete', ei });
  }

  private async createJob(
    ei: ElementInstance,
    element: Element | undefined,
    opts: {
      job: { type: string; retries: string; headers: Record<string, string> };
      phase: Phase;
      kind?: 'EXECUTION_LISTENER' | 'TASK_LISTENER';
      listenerEventType?: string;
    },
  ) {
    const { job, phase } = opts;
    const fail = async (message: string) => {
      // An expression of a listener failed: the listeners of that event run again from the first (docs).
      delete ei.data.listener;
      await this.raiseIncident(ei, 'EXTRACT_VALUE_ERROR', message, phase);
    };
    const type = await this.evaluate(job.type, ei);
    if (!type.ok || typeof type.value !== 'string' || type.value === '') {
      return fail(
        type.ok
          ? `Expected the job type of '${ei.elementId}' to be a non-empty string, but was '${typeName(type.value)}'.`
          : type.message,
      );
    }
    const retries = await this.evaluate(job.retries, ei);
    const retryCount = retries.ok ? Number(retries.value) : NaN;
    if (!Number.isInteger(retryCount)) {
      return fail(
        retries.ok
          ? `Expected the job retries of '${ei.elementId}' to be a number, but was '${String(retries.value)}'.`
          : retries.message,
      );
    }
    const headers = { ...job.headers };
    if (!opts.kind && element?.type === 'USER_TASK' && element.userTask) {
      // Job-worker user tasks carry their assignment in headers (docs: bpmn/user-tasks, "Job worker implementation").
      const ut = element.userTask;
      for (const [header, expr] of [
        ['io.camunda.zeebe:candidateGroups', ut.candidateGroups],
        ['io.camunda.zeebe:candidateUsers', ut.candidateUsers],
        ['io.camunda.zeebe:assignee', ut.assignee],
        ['io.camunda.zeebe:dueDate', ut.dueDate],
        ['io.camunda.zeebe:followUpDate', ut.followUpDate],
      ] as const) {
        if (!expr) continue;
        const r = await this.evaluate(expr, ei);
        if (!r.ok) return this.raiseIncident(ei, 'EXTRACT_VALUE_ERROR', r.message, 'ACTIVATED');
        headers[header] = typeof r.value === 'string' ? r.value : JSON.stringify(r.value);
      }
      if (ut.formKey) headers['io.camunda.zeebe:formKey'] = ut.formKey;
    }
    const chain = await this.scopeChain(ei);
    const key = await this.key();
    this.db.defer(
      `INSERT INTO engine_job (key, type, state, process_instance_key, element_instance_key, element_id, bpmn_process_id,
         process_definition_key, version, retries, custom_headers, scope_path, created_at, tenant_id)
       VALUES ($1, $2, 'ACTIVATABLE', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
        key,
        type.value,
        ei.processInstanceKey,
        ei.key,
        ei.elementId,
        ei.bpmnProcessId,
        ei.processDefinitionKey,
        ei.version,
        retryCount,
        JSON.stringify(headers),
        chain.map((s) => s.key),
        new Date(this.now),
        ei.tenantId,
      ],
    );
    this.record('JOB', 'CREATED', key, {
      type: type.value,
      retries: retryCount,
      deadline: -1,
      worker: '',
      customHeaders: headers,
      elementId: ei.elementId,
      elementInstanceKey: ei.key,
      processInstanceKey: ei.processInstanceKey,
      bpmnProcessId: ei.bpmnProcessId,
      processDefinitionVersion: ei.version,
      processDefinitionKey: ei.processDefinitionKey,
      errorMessage: '',
      errorCode: '',
      jobKind: opts.kind ?? 'BPMN_ELEMENT',
      listenerEventType: opts.listenerEventType ?? 'UNSPECIFIED',
      tenantId: ei.tenantId,
    });
    this.jobTypes.add(type.value);
    this.createdJobs.push({ key, type: type.value });
  }

  jobValue(job: JobRow, extra: Record<string, unknown> = {}) {
    return {
      type: job.type,
      retries: job.retries,
      worker: job.worker,
      deadline: job.deadline ? job.deadline.getTime() : -1,
      customHeaders: job.custom_headers,
      elementId: job.element_id,
      elementInstanceKey: job.element_instance_key,
      processInstanceKey: job.process_instance_key,
      bpmnProcessId: job.bpmn_process_id,
      processDefinitionKey: job.process_definition_key,
      processDefinitionVersion: job.version,
      tenantId: job.tenant_id,
      ...extra,
    };
  }

  /** docs: components/modeler/bpmn/user-tasks — a Camunda user task, its assignment and schedule. */
  private async createUserTask(ei: ElementInstance, element: Element) {
    const ut = element.userTask ?? {};
    const context = await this.visibleVariables(ei);
    const evalList = (expr: string | undefined, what: string): string[] | string => {
      if (!expr) return [];
      if (!expr.startsWith('='))
        return expr
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
      const r = this.services.evaluate(expr, context);
      if (!r.ok) return r.message;
      if (typeof r.value === 'string')
        return r.value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
      if (Array.isArray(r.value) && r.value.every((v) => typeof v === 'string')) return r.value as string[];
      return `Expected result of the expression '${expr.slice(1)}' (${what}) to be 'ARRAY' of strings, but was '${typeName(r.value)}'.`;
    };
    const evalDate = (expr: string | undefined): Date | null | string => {
      if (!expr) return null;
      const r = this.services.evaluate(expr, context);
      if (!r.ok) return r.message;
      if (r.value === null || r.value === undefined || r.value === '') return null;
      const d = new Date(String(r.value).replace(/\[.*\]$/, ''));
      if (Number.isNaN(d.getTime()))
        return `Expected result of the expression '${expr}' to be a date-time, but was '${String(r.value)}'.`;
      return d;
    };
    const groups = evalList(ut.candidateGroups, 'candidateGroups');
    if (typeof groups === 'string') return this.raiseIncident(ei, 'EXTRACT_VALUE_ERROR', groups, 'ACTIVATED');
    const users = evalList(ut.candidateUsers, 'candidateUsers');
    if (typeof users === 'string') return this.raiseIncident(ei, 'EXTRACT_VALUE_ERROR', users, 'ACTIVATED');
    let assignee: string | null = null;
    if (ut.assignee) {
      const r = this.services.evaluate(ut.assignee, context);
      if (!r.ok) return this.raiseIncident(ei, 'EXTRACT_VALUE_ERROR', r.message, 'ACTIVATED');
      assignee = r.value === null || r.value === undefined ? null : String(r.value);
    }
    const due = evalDate(ut.dueDate);
    if (typeof due === 'string') return this.raiseIncident(ei, 'EXTRACT_VALUE_ERROR', due, 'ACTIVATED');
    const followUp = evalDate(ut.followUpDate);
    if (typeof followUp === 'string') return this.raiseIncident(ei, 'EXTRACT_VALUE_ERROR', followUp, 'ACTIVATED');
    const key = await this.key();
    this.db.defer(
      `INSERT INTO engine_user_task (key, element_instance_key, process_instance_key, process_definition_key, bpmn_process_id,
         version, element_id, name, state, assignee, candidate_groups, candidate_users, due_date, follow_up_date, form_key,
         creation_date, tenant_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'CREATED', $9, $10, $11, $12, $13, $14, $15, $16)`,
      [
        key,
        ei.key,
        ei.processInstanceKey,
        ei.processDefinitionKey,
        ei.bpmnProcessId,
        ei.version,
        ei.elementId,
        element.name ?? null,
        assignee,
        groups,
        users,
        due,
        followUp,
        ut.formKey ?? null,
        new Date(this.now),
        ei.tenantId,
      ],
    );
    const value = await this.userTaskValue(key);
    this.record('USER_TASK', 'CREATING', key, value);
    this.record('USER_TASK', 'CREATED', key, value);
    if (assignee) {
      this.record('USER_TASK', 'ASSIGNING', key, value);
      this.record('USER_TASK', 'ASSIGNED', key, value);
    }
  }

  /** A USER_TASK record's value, as Zeebe writes it. */
  async userTaskValue(userTaskKey: string, extra: Record<string, unknown> = {}) {
    const { rows } = await this.db.query(
      `SELECT key::text, element_instance_key::text, process_instance_key::text, process_definition_key::text, bpmn_process_id,
              version, element_id, assignee, candidate_groups, candidate_users, due_date, follow_up_date, form_key,
              creation_date, tenant_id, priority
         FROM engine_user_task WHERE key = $1`,
      [userTaskKey],
    );
    const t = rows[0]!;
    return {
      userTaskKey: t.key,
      elementInstanceKey: t.element_instance_key,
      processInstanceKey: t.process_instance_key,
      processDefinitionKey: t.process_definition_key,
      bpmnProcessId: t.bpmn_process_id,
      processDefinitionVersion: t.version,
      elementId: t.element_id,
      assignee: t.assignee ?? '',
      candidateGroupsList: t.candidate_groups,
      candidateUsersList: t.candidate_users,
      dueDate: t.due_date ? (t.due_date as Date).toISOString() : '',
      followUpDate: t.follow_up_date ? (t.follow_up_date as Date).toISOString() : '',
      formKey: t.form_key ?? '-1',
      creationTimestamp: (t.creation_date as Date).getTime(),
      priority: t.priority,
      variables: {},
      changedAttributes: [],
      action: '',
      tenantId: t.tenant_id,
      ...extra,
    };
  }

  /** docs: components/modeler/bpmn/business-rule-tasks — the decision's result lands in `resultVariable`. */
  private async evaluateCalledDecision(ei: ElementInstance, element: Element) {
    const decision = element.decision;
    if (!decision)
      return this.raiseIncident(ei, 'UNKNOWN', `business rule task '${element.id}' has no decision`, 'ACTIVATED');
    const id = await this.evaluate(decision.decisionId, ei);
    if (!id.ok || typeof id.value !== 'string') {
      return this.raiseIncident(
        ei,
        'EXTRACT_VALUE_ERROR',
        id.ok ? `Expected the decision id of '${element.id}' to be a string` : id.message,
        'ACTIVATED',
      );
    }
    const outcome = await this.services.evaluateDecision(this.db, id.value, await this.visibleVariables(ei));
    if (!outcome.ok)
      return this.raiseIncident(
        ei,
        outcome.decisionKey ? 'DECISION_EVALUATION_ERROR' : 'CALLED_DECISION_ERROR',
        outcome.message ?? 'decision failed',
        'ACTIVATED',
      );
    // Like a job's variables: propagated without output mappings, local to the task with them.
    await this.applyResultVariables(ei, { [decision.resultVariable]: outcome.output ?? null });
    this.enqueue({ op: 'complete', ei });
  }

  /** docs: bpmn/call-activities — binding type latest, deployment (the caller's deployment) or versionTag (its latest version). */
  private async calledDefinition(
    ei: ElementInstance,
    processId: string,
    called: NonNullable<Element['calledElement']>,
  ) {
    if (called.bindingType === 'latest') return this.services.latestDefinition(this.db, processId);
    const { rows } =
      called.bindingType === 'deployment'
        ? await this.db.query<{ key: string }>(
            `SELECT d.key::text FROM engine_process_definition d JOIN engine_process_definition caller
                 ON caller.deployment_key = d.deployment_key
              WHERE caller.key = $1 AND d.bpmn_process_id = $2`,
            [ei.processDefinitionKey, processId],
          )
        : await this.db.query<{ key: string }>(
            `SELECT key::text FROM engine_process_definition WHERE bpmn_process_id = $1 AND version_tag = $2
              ORDER BY version DESC LIMIT 1`,
            [processId, called.versionTag],
          );
    return rows[0] ? this.definition(rows[0].key) : undefined;
  }

  private async callProcess(ei: ElementInstance, element: Element) {
    const called = element.calledElement!;
    const id = await this.evaluate(called.processId, ei);
    if (!id.ok || typeof id.value !== 'string') {
      return this.raiseIncident(
        ei,
        'EXTRACT_VALUE_ERROR',
        id.ok
          ? `Expected the process id of '${element.id}' to be a string, but was '${typeName(id.value)}'.`
          : id.message,
        'ACTIVATED',
      );
    }
    const def = await this.calledDefinition(ei, id.value, called);
    if (!def) {
      const which =
        called.bindingType === 'deployment'
          ? ' in the same deployment as the calling process'
          : called.bindingType === 'versionTag'
            ? ` with version tag '${called.versionTag}'`
            : '';
      return this.raiseIncident(
        ei,
        'CALLED_ELEMENT_ERROR',
        `Expected process with BPMN process id '${id.value}'${which} to be deployed, but not found.`,
        'ACTIVATED',
      );
    }
    if (!def.model.noneStartEventId) {
      return this.raiseIncident(
        ei,
        'CALLED_ELEMENT_ERROR',
        `Expected process with BPMN process id '${id.value}' to have a none start event, but not found.`,
        'ACTIVATED',
      );
    }
    const variables = called.propagateAllParentVariables
      ? await this.visibleVariables(ei)
      : await this.localVariables(ei.key);
    const childKey = await this.createInstance(def, variables, { parent: ei });
    ei.data.calledInstanceKey = childKey;
    await this.saveElement(ei);
  }
}

const reachCache = new WeakMap<ProcessModel, Map<string, Set<string>>>();

/**
 * The ids of the elements from which `targetId` can be reached along sequence flows (an activity also
 * through its boundary events), in `targetId`'s scope: what an inclusive join may still wait for.
 */
export function reachingElements(model: ProcessModel, targetId: string): Set<string> {
  let perModel = reachCache.get(model);
  if (!perModel) reachCache.set(model, (perModel = new Map()));
  const cached = perModel.get(targetId);
  if (cached) return cached;
  const reach = new Set<string>();
  const queue = [...model.elements.get(targetId)!.incoming.map((f) => model.flows.get(f)!.sourceId)];
  while (queue.length > 0) {
    const id = queue.pop()!;
    if (reach.has(id)) continue;
    reach.add(id);
    const el = model.elements.get(id);
    if (!el) continue;
    for (const f of el.incoming) queue.push(model.flows.get(f)!.sourceId);
    if (el.type === 'BOUNDARY_EVENT' && el.attachedTo) queue.push(el.attachedTo);
  }
  perModel.set(targetId, reach);
  return reach;
}

export function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (Array.isArray(v)) return 'ARRAY';
  if (typeof v === 'object') return 'OBJECT';
  return (typeof v).toUpperCase();
}
