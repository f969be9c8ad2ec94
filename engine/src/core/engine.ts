/**
 * The engine: every command of EngineApi as one transaction on PostgreSQL, and the loops that make
 * time pass (due timers, timed-out jobs, expired messages). Several engine processes can share one
 * database: job activation takes rows with FOR UPDATE SKIP LOCKED, every command on an instance
 * first locks that instance's row, a timer is fired by whoever locks it first and deleted in the same
 * transaction, and LISTEN/NOTIFY wakes long polls in every process.
 */
import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import {
  type ActivateJobsRequest,
  type ActivatedJob,
  type DeployResult,
  type ElementStatistics,
  type EngineApi,
  EngineFault,
  type SearchQuery,
  type Variables,
} from '../api.js';
import { EngineClock } from '../clock.js';
import { inStatement, inTransaction, transactionStats, type Db } from '../db/tx.js';
import { migrate } from '../db/schema.js';
import { evaluateExpression } from '../feel.js';
import { parseBpmn } from '../model/parse.js';
import { DefinitionStore } from './definitions.js';
import { Decisions } from './decisions.js';
import { KeyAllocator } from './keys.js';
import { type ActivationRow, activatedJobs, activationStatement } from './activation.js';
import { type RecordLog, writeRecords } from './records.js';
import { type JobRow, Run, type StoredStep } from './run.js';
import { searchElementInstances, searchIncidents, searchProcessInstances, searchUserTasks } from './search.js';
import type { Services } from './services.js';
import { nextCycle, nextDueDate } from '../timers.js';

export type Logger = (
  level: 'debug' | 'info' | 'warn' | 'error',
  msg: string,
  fields?: Record<string, unknown>,
) => void;

export interface EngineOptions {
  databaseUrl: string;
  clockControlled: boolean;
  log: Logger;
  /** Connections of the command pool. */
  poolSize?: number;
  /** Commands waiting or running at once before the engine answers RESOURCE_EXHAUSTED. */
  maxInFlight?: number;
  /** How much of Zeebe's record stream the record log keeps (records.ts); `read` unless told. */
  recordLog?: RecordLog;
}

const DEFAULT_POOL_SIZE = 10;
/** What a job command reads of the job it locks (JobRow). */
const JOB_COLUMNS = `j.key::text, j.type, j.state, j.process_instance_key::text, j.element_instance_key::text, j.element_id, j.retries,
       j.custom_headers, j.worker, j.deadline, j.bpmn_process_id, j.process_definition_key::text, j.version, j.tenant_id`;
const DEFAULT_MAX_IN_FLIGHT = 1000;

function checkJobKey(jobKey: string): void {
  if (!/^\d{1,19}$/.test(jobKey)) throw new EngineFault('INVALID_ARGUMENT', `Expected a job key, but got '${jobKey}'`);
}

function noSuchJob(jobKey: string, what: string): never {
  throw new EngineFault('NOT_FOUND', `Expected to ${what} job with key '${jobKey}', but no such job was found`);
}
/** ActivateJobs with requestTimeout 0 waits this long (Zeebe's gateway default long-poll timeout: 10 s). */
const DEFAULT_LONG_POLL_MS = 10_000;
/** CreateProcessInstanceWithResult with requestTimeout 0 (Zeebe's default request timeout: 15 s). */
const DEFAULT_RESULT_TIMEOUT_MS = 15_000;
/** The housekeeping loop looks at least this often (timers due, jobs timed out, messages expired). */
const TICK_MS = 1000;
const TIMERS_PER_TICK = 200;
/** A long poll looks again this often even without a notification (back-offs ending, time-outs). */
const LONG_POLL_RECHECK_MS = 1000;
/** How often an engine process says it is alive (engine_node), and how long a silent one still counts. */
const PRESENCE_MS = 1000;
const PEER_TTL_S = 10;
const DEFAULT_TENANT = '<default>';
/** Continuation loops per engine process (instances whose steps a command left for later). */
const CONTINUATION_LOOPS = 2;
/** Instances a continuation loop looks at per round. */
const CONTINUATION_BATCH = 20;
const MAX_RETRIES_NONE = 0;

type Waiter = () => void;

/** Tables whose rows name the process instance they belong to. */
type RowTable = 'engine_job' | 'engine_user_task' | 'engine_incident' | 'engine_element_instance';

/** A job stream open in this process. */
interface JobStream {
  req: { type: string; worker: string; timeout: number; fetchVariable: string[] };
  push: (job: ActivatedJob) => Promise<void>;
  closed: AbortSignal;
}

/** Jobs a command activated for a stream, handed to it after the commit. */
interface JobPush {
  stream: JobStream;
  jobs: ActivatedJob[];
}

export class Engine implements EngineApi {
  readonly clock: EngineClock;
  private readonly pool: pg.Pool;
  private readonly keys: KeyAllocator;
  private readonly definitions = new DefinitionStore();
  private readonly decisions: Decisions;
  private readonly services: Services;
  private readonly jobWaiters = new Map<string, Set<Waiter>>();
  /** Open job streams of this process by job type (StreamActivatedJobs); jobs created here are pushed to them. */
  private readonly streams = new Map<string, JobStream[]>();
  private nextStream = 0;
  private readonly endWaiters = new Map<string, Set<Waiter>>();
  /** This process in engine_node. */
  private readonly nodeId = randomUUID();
  /**
   * Whether another engine process on this database said it was alive lately: only then do commands
   * NOTIFY (waking its long polls). Every NOTIFY takes one database-wide lock at commit; alone, the
   * wake-ups are local. A process that has just started is heard of within PRESENCE_MS; until then its
   * long polls look again every LONG_POLL_RECHECK_MS.
   */
  private peers = true;
  private presenceAt = 0;
  /** How an awaited instance ended, handed by the command that ended it to a waiter in this process. */
  private readonly endings = new Map<string, { state: string; variables: Record<string, unknown> }>();
  private listener: pg.Client | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  private continuationLoops = 0;
  private inFlight = 0;
  private readonly maxInFlight: number;
  private readonly counters = {
    commands: 0,
    commandsRejected: 0,
    jobsActivated: 0,
    jobsCompleted: 0,
    instancesCreated: 0,
    timersFired: 0,
  };

  private constructor(private readonly opts: EngineOptions) {
    this.clock = new EngineClock(opts.clockControlled);
    this.pool = new pg.Pool({ connectionString: opts.databaseUrl, max: opts.poolSize ?? DEFAULT_POOL_SIZE });
    this.pool.on('error', (err) => opts.log('warn', 'idle database connection failed', { err: err.message }));
    this.keys = new KeyAllocator();
    this.maxInFlight = opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    const clockFn = () => this.clock.now();
    this.decisions = new Decisions(clockFn);
    this.services = {
      recordLog: opts.recordLog ?? 'read',
      evaluate: (expr, context) => evaluateExpression(expr, context, clockFn),
      scheduleTimer: (def, context, now) => nextDueDate(def, now, (expr) => evaluateExpression(expr, context, clockFn)),
      nextCycle: (cycle, now) => nextCycle(cycle, now),
      definitionByKey: (db, key) => this.definitions.byDefinitionKey(db, key),
      latestDefinition: (db, id) => this.definitions.latest(db, id),
      evaluateDecision: (db, id, vars) => this.decisions.evaluateLatest(db, id, vars),
    };
  }

  /** Migrates the schema, starts listening and the housekeeping loop. */
  static async start(opts: EngineOptions): Promise<Engine> {
    const engine = new Engine(opts);
    const client = await engine.pool.connect();
    try {
      await migrate(client);
    } finally {
      client.release();
    }
    await engine.listen();
    await engine.presence();
    engine.clock.onChange(() => engine.kick());
    engine.scheduleTick(0);
    return engine;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.tickTimer);
    await this.ticking?.catch(() => undefined);
    for (const set of [...this.jobWaiters.values(), ...this.endWaiters.values()]) for (const w of set) w();
    await this.listener?.end().catch(() => undefined);
    await this.pool.query(`DELETE FROM engine_node WHERE id = $1`, [this.nodeId]).catch(() => undefined);
    await this.pool.end();
  }

  // ---------------------------------------------------------------- notifications

  private async listen() {
    const client = new pg.Client({ connectionString: this.opts.databaseUrl });
    client.on('error', (err) => {
      this.opts.log('warn', 'notification connection failed; reconnecting', { err: err.message });
      this.listener = undefined;
      setTimeout(() => void this.reconnectListener(), LONG_POLL_RECHECK_MS).unref();
    });
    await client.connect();
    client.on('notification', (n) => {
      if (n.channel === 'engine_jobs' && n.payload) this.wake(this.jobWaiters, n.payload);
      if (n.channel === 'engine_instance_ended' && n.payload) this.wake(this.endWaiters, n.payload);
      if (n.channel === 'engine_continuations') this.runContinuations();
    });
    await client.query('LISTEN engine_jobs');
    await client.query('LISTEN engine_instance_ended');
    await client.query('LISTEN engine_continuations');
    this.listener = client;
  }

  private async reconnectListener() {
    if (this.stopped || this.listener) return;
    try {
      await this.listen();
    } catch {
      setTimeout(() => void this.reconnectListener(), LONG_POLL_RECHECK_MS).unref();
    }
  }

  private wake(waiters: Map<string, Set<Waiter>>, key: string) {
    const set = waiters.get(key);
    if (!set) return;
    for (const w of [...set]) w();
  }

  /** Waits for a wake-up of `key`, `ms` at most, or until `signal` aborts. */
  private waitFor(waiters: Map<string, Set<Waiter>>, key: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = waiters.get(key);
      if (!set) waiters.set(key, (set = new Set()));
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        set.delete(done);
        if (set.size === 0) waiters.delete(key);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener('abort', done);
      set.add(done);
    });
  }

  // ---------------------------------------------------------------- commands

  /**
   * Runs one command in one transaction. Back-pressure: with more than maxInFlight commands waiting
   * or running, the engine refuses instead of queueing without limit (docs: self-managed/zeebe-deployment/operations/backpressure).
   */
  private async command<T>(work: (run: Run) => Promise<T>): Promise<T> {
    return (await this.commandRun(work)).result;
  }

  /** `command`, answering the finished run too (what it ended, the variables it holds). */
  private async commandRun<T>(work: (run: Run) => Promise<T>): Promise<{ result: T; run: Run }> {
    if (this.stopped) throw new EngineFault('UNAVAILABLE', 'the engine is shutting down');
    if (this.inFlight >= this.maxInFlight) {
      this.counters.commandsRejected++;
      throw new EngineFault(
        'RESOURCE_EXHAUSTED',
        `Expected to handle the request, but it was rejected due to back-pressure (${this.maxInFlight} commands in flight). Please retry later.`,
      );
    }
    this.inFlight++;
    this.counters.commands++;
    try {
      const { result, run, pushes } = await inTransaction(this.pool, async (db) => {
        const run = new Run(db, this.services, this.keys, this.clock.now());
        run.announce = this.peers;
        const pushes: JobPush[] = [];
        if (this.streams.size > 0) run.takeJobs = (jobs) => this.takeForStreams(run, db, jobs, pushes);
        const result = await work(run);
        await run.finish();
        return { result, run, pushes };
      });
      for (const p of pushes) void this.deliver(p);
      for (const type of run.jobTypes) this.wake(this.jobWaiters, type);
      for (const key of run.endedInstances) {
        if (!this.endWaiters.has(key)) continue;
        // The run read the whole root scope (or created it): the waiter needs no query.
        const ending = run.rootEnding(key);
        if (ending) this.endings.set(key, ending);
        this.wake(this.endWaiters, key);
      }
      return { result, run };
    } finally {
      this.inFlight--;
    }
  }

  private checkTenant(tenantId: string | undefined) {
    if (tenantId === undefined || tenantId === '' || tenantId === DEFAULT_TENANT) return;
    throw new EngineFault(
      'INVALID_ARGUMENT',
      `Expected to handle request with tenant identifier '${tenantId}', but multi-tenancy is disabled`,
    );
  }

  async deployResources(resources: { name: string; content: Buffer }[], tenantId?: string): Promise<DeployResult> {
    this.checkTenant(tenantId);
    if (resources.length === 0) {
      throw new EngineFault('INVALID_ARGUMENT', 'Expected to deploy at least one resource, but none given');
    }
    const errors: string[] = [];
    const bpmn: { name: string; xml: string; models: Awaited<ReturnType<typeof parseBpmn>>['processes'] }[] = [];
    const dmn: { name: string; xml: string; drg: Awaited<ReturnType<Decisions['parse']>> }[] = [];
    const seenProcessIds = new Map<string, string>();
    for (const r of resources) {
      const xml = r.content.toString('utf8');
      if (/\.(bpmn|bpmn20\.xml)$/.test(r.name)) {
        const { processes, problems } = await parseBpmn(xml);
        for (const p of problems) errors.push(`'${r.name}': element '${p.elementId}': ${p.message}`);
        for (const p of processes) {
          const other = seenProcessIds.get(p.bpmnProcessId);
          if (other)
            errors.push(
              `'${r.name}': process id '${p.bpmnProcessId}' is also deployed by '${other}' in this deployment`,
            );
          seenProcessIds.set(p.bpmnProcessId, r.name);
        }
        if (problems.length === 0 && processes.length === 0) errors.push(`'${r.name}': no executable process`);
        bpmn.push({ name: r.name, xml, models: processes });
      } else if (r.name.endsWith('.dmn')) {
        const drg = await this.decisions.parse(xml);
        if (!drg.ok) errors.push(`'${r.name}': ${drg.message}`);
        dmn.push({ name: r.name, xml, drg });
      } else if (r.name.endsWith('.form')) {
        // Forms are accepted and ignored: our console's forms live in the API (README).
      } else {
        errors.push(`'${r.name}': unknown resource type (expected .bpmn, .dmn or .form)`);
      }
    }
    if (errors.length > 0) {
      throw new EngineFault(
        'INVALID_ARGUMENT',
        `Expected to deploy new resources, but encountered the following errors:\n${errors.join('\n')}`,
      );
    }
    const deployed = await this.command(async (run) => {
      // Deployments are rare: one at a time keeps version numbers gapless without a retry dance.
      await run.db.query(`SELECT pg_advisory_xact_lock(7308900523498827002)`);
      const deploymentKey = await run.key();
      await run.db.query(`INSERT INTO engine_deployment (key, tenant_id, created_at) VALUES ($1, $2, $3)`, [
        deploymentKey,
        DEFAULT_TENANT,
        new Date(run.now),
      ]);
      const deployments: DeployResult['deployments'] = [];
      for (const d of dmn) {
        if (!d.drg.ok) continue;
        deployments.push(...(await this.decisions.deploy(run, deploymentKey, d.name, d.xml, d.drg)));
      }
      for (const b of bpmn) {
        const checksum = createHash('sha256').update(b.xml).digest('hex');
        for (const model of b.models) {
          const { rows } = await run.db.query<{ key: string; version: number; checksum: string }>(
            `SELECT key::text, version, checksum FROM engine_process_definition WHERE bpmn_process_id = $1
              ORDER BY version DESC LIMIT 1`,
            [model.bpmnProcessId],
          );
          const latest = rows[0];
          if (latest && latest.checksum === checksum) {
            // The same diagram again is no new version (docs: concepts/process-versioning … "duplicate").
            deployments.push({
              process: {
                bpmnProcessId: model.bpmnProcessId,
                version: latest.version,
                processDefinitionKey: latest.key,
                resourceName: b.name,
                tenantId: DEFAULT_TENANT,
              },
            });
            continue;
          }
          const key = await run.key();
          const version = (latest?.version ?? 0) + 1;
          await run.db.query(
            `INSERT INTO engine_process_definition (key, bpmn_process_id, name, version, resource_name, resource, checksum,
               deployment_key, tenant_id, created_at, version_tag) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
            [
              key,
              model.bpmnProcessId,
              model.name ?? null,
              version,
              b.name,
              b.xml,
              checksum,
              deploymentKey,
              DEFAULT_TENANT,
              new Date(run.now),
              model.versionTag ?? null,
            ],
          );
          run.record('PROCESS', 'CREATED', key, {
            bpmnProcessId: model.bpmnProcessId,
            version,
            processDefinitionKey: key,
            resourceName: b.name,
            checksum,
            resource: Buffer.from(b.xml, 'utf8').toString('base64'),
            tenantId: DEFAULT_TENANT,
            deploymentKey,
          });
          await this.replaceStartTimers(run, model.bpmnProcessId, key);
          await this.replaceSignalStarts(run, model.bpmnProcessId, key);
          deployments.push({
            process: {
              bpmnProcessId: model.bpmnProcessId,
              version,
              processDefinitionKey: key,
              resourceName: b.name,
              tenantId: DEFAULT_TENANT,
            },
          });
        }
      }
      run.record('DEPLOYMENT', 'CREATED', deploymentKey, {
        resources: resources.map((r) => ({ resourceName: r.name })),
        tenantId: DEFAULT_TENANT,
      });
      return { key: deploymentKey, tenantId: DEFAULT_TENANT, deployments };
    });
    for (const d of deployed.deployments) if ('process' in d) this.definitions.deployed(d.process.bpmnProcessId);
    return deployed;
  }

  /** A new version's timer start events replace the previous version's (docs: bpmn/timer-events, "Timer start events"). */
  private async replaceStartTimers(run: Run, bpmnProcessId: string, newKey: string) {
    const { rows: old } = await run.db.query<{
      key: string;
      element_id: string;
      due_date: Date;
      process_definition_key: string;
    }>(
      `DELETE FROM engine_timer t USING engine_process_definition d
        WHERE t.process_instance_key IS NULL AND t.process_definition_key = d.key AND d.bpmn_process_id = $1
        RETURNING t.key::text, t.element_id, t.due_date, t.process_definition_key::text`,
      [bpmnProcessId],
    );
    for (const t of old) {
      run.record('TIMER', 'CANCELED', t.key, {
        processInstanceKey: '-1',
        elementInstanceKey: '-1',
        processDefinitionKey: t.process_definition_key,
        targetElementId: t.element_id,
        dueDate: t.due_date.getTime(),
        tenantId: DEFAULT_TENANT,
      });
    }
    const def = (await this.definitions.byDefinitionKey(run.db, newKey))!;
    for (const start of def.model.timerStartEvents) {
      const schedule = this.services.scheduleTimer(start.timer, {}, run.now);
      if (!schedule.ok) {
        throw new EngineFault('INVALID_ARGUMENT', `timer start event '${start.elementId}': ${schedule.message}`);
      }
      await run.createTimer({
        processInstanceKey: null,
        elementInstanceKey: null,
        processDefinitionKey: newKey,
        elementId: start.elementId,
        dueDate: schedule.dueDate,
        repetitions: schedule.repetitions,
        cycle: schedule.cycle,
        tenantId: DEFAULT_TENANT,
      });
    }
  }

  /** A new version's signal start events replace the previous version's (docs: bpmn/signal-events, "Signal start events"). */
  private async replaceSignalStarts(run: Run, bpmnProcessId: string, newKey: string) {
    const { rows: old } = await run.db.query<{
      key: string;
      signal_name: string;
      element_id: string;
      process_definition_key: string;
    }>(
      `DELETE FROM engine_signal_subscription WHERE process_instance_key IS NULL AND bpmn_process_id = $1
        RETURNING key::text, signal_name, element_id, process_definition_key::text`,
      [bpmnProcessId],
    );
    for (const o of old) {
      run.record('SIGNAL_SUBSCRIPTION', 'DELETED', o.key, {
        signalName: o.signal_name,
        processDefinitionKey: o.process_definition_key,
        bpmnProcessId,
        catchEventId: o.element_id,
        catchEventInstanceKey: '-1',
        tenantId: DEFAULT_TENANT,
      });
    }
    const def = (await this.definitions.byDefinitionKey(run.db, newKey))!;
    for (const start of def.model.signalStartEvents) {
      const key = await run.key();
      await run.db.query(
        `INSERT INTO engine_signal_subscription (key, signal_name, process_definition_key, bpmn_process_id,
           process_instance_key, element_instance_key, element_id, interrupting, tenant_id)
         VALUES ($1, $2, $3, $4, NULL, NULL, $5, true, $6)`,
        [key, start.signalName, newKey, bpmnProcessId, start.elementId, DEFAULT_TENANT],
      );
      run.record('SIGNAL_SUBSCRIPTION', 'CREATED', key, {
        signalName: start.signalName,
        processDefinitionKey: newKey,
        bpmnProcessId,
        catchEventId: start.elementId,
        catchEventInstanceKey: '-1',
        tenantId: DEFAULT_TENANT,
      });
    }
  }

  private async findDefinition(
    db: Db,
    req: { bpmnProcessId?: string; processDefinitionKey?: string; version?: number },
  ) {
    if (req.processDefinitionKey && req.processDefinitionKey !== '0') {
      const def = await this.definitions.byDefinitionKey(db, req.processDefinitionKey);
      if (!def) {
        throw new EngineFault(
          'NOT_FOUND',
          `Expected to find process definition with key '${req.processDefinitionKey}', but none found`,
        );
      }
      return def;
    }
    if (!req.bpmnProcessId) {
      throw new EngineFault(
        'INVALID_ARGUMENT',
        'Expected either a bpmnProcessId or a processDefinitionKey, but none given',
      );
    }
    const def =
      req.version === undefined || req.version < 0
        ? await this.definitions.latest(db, req.bpmnProcessId)
        : await this.definitions.version(db, req.bpmnProcessId, req.version);
    if (!def) {
      throw new EngineFault(
        'NOT_FOUND',
        `Expected to find process definition with process ID '${req.bpmnProcessId}'${req.version !== undefined && req.version >= 0 ? ` and version '${req.version}'` : ''}, but none found`,
      );
    }
    return def;
  }

  async createProcessInstance(req: Parameters<EngineApi['createProcessInstance']>[0]) {
    return (await this.createInstanceRun(req)).result;
  }

  /**
   * `awaitMs` (CreateProcessInstanceWithResult): the caller's wait for the instance's end begins inside the
   * creating command, before its commit, so a command that ends the instance at once (a job pushed, done
   * and completed before this call returned) hands its result over instead of the caller asking for it.
   */
  private async createInstanceRun(req: Parameters<EngineApi['createProcessInstance']>[0], awaitMs?: number) {
    this.checkTenant(req.tenantId);
    let ended: Promise<void> | undefined;
    const created = await this.commandRun(async (run) => {
      const def = await this.findDefinition(run.db, req);
      const processInstanceKey = await run.createInstance(def, req.variables ?? {}, { awaited: awaitMs !== undefined });
      if (awaitMs !== undefined) {
        const abort = new AbortController();
        run.db.afterRollback(() => abort.abort());
        ended = this.waitFor(this.endWaiters, processInstanceKey, awaitMs, abort.signal);
      }
      return {
        processDefinitionKey: def.key,
        bpmnProcessId: def.bpmnProcessId,
        version: def.version,
        processInstanceKey,
        tenantId: DEFAULT_TENANT,
      };
    });
    this.counters.instancesCreated++;
    return { ...created, ended };
  }

  async createProcessInstanceWithResult(req: Parameters<EngineApi['createProcessInstanceWithResult']>[0]) {
    const timeout = req.requestTimeout > 0 ? req.requestTimeout : DEFAULT_RESULT_TIMEOUT_MS;
    const recheck = LONG_POLL_RECHECK_MS * 5;
    const { result: created, run, ended: waiting } = await this.createInstanceRun(req, Math.min(timeout, recheck));
    const wanted = req.fetchVariables?.length ? new Set(req.fetchVariables) : undefined;
    const pick = (all: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(all).filter(([name]) => !wanted || wanted.has(name)));
    // Ended in its own creation (nothing to wait for): the run holds every variable it has.
    const ended = run.endedInstances.has(created.processInstanceKey)
      ? run.bornScopeVariables(created.processInstanceKey)
      : undefined;
    if (ended) {
      this.endings.delete(created.processInstanceKey); // handed to the early waiter too: not needed
      return { ...created, variables: pick(ended) };
    }
    const deadline = Date.now() + timeout;
    for (let wait = waiting; ;) {
      await wait;
      const handed = this.endings.get(created.processInstanceKey);
      this.endings.delete(created.processInstanceKey);
      if (handed?.state === 'COMPLETED') return { ...created, variables: pick(handed.variables) };
      const { rows } = await this.pool.query<{ state: string; variables: Record<string, unknown> }>(
        `SELECT p.state, (SELECT coalesce(jsonb_object_agg(v.name, v.value), '{}'::jsonb)
                            FROM engine_variable v WHERE v.scope_key = p.key) AS variables
           FROM engine_process_instance p WHERE p.key = $1`,
        [created.processInstanceKey],
      );
      const state = rows[0]?.state;
      if (state === 'COMPLETED') return { ...created, variables: pick(rows[0]!.variables) };
      if (state === 'TERMINATED') {
        throw new EngineFault(
          'FAILED_PRECONDITION',
          `Expected to receive the result of process instance '${created.processInstanceKey}', but it was terminated`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new EngineFault(
          'DEADLINE_EXCEEDED',
          `Time out between gateway and broker: Request timed out after ${timeout} ms waiting for process instance '${created.processInstanceKey}' to complete`,
        );
      }
      wait = this.waitFor(this.endWaiters, created.processInstanceKey, Math.min(left, recheck));
    }
  }

  async cancelProcessInstance(processInstanceKey: string): Promise<void> {
    await this.command(async (run) => {
      const inst = await run.lockInstance(processInstanceKey);
      if (!inst || inst.state !== 'ACTIVE') {
        throw new EngineFault(
          'NOT_FOUND',
          `Expected to cancel a process instance with key '${processInstanceKey}', but no such process was found`,
        );
      }
      if (inst.parentProcessInstanceKey) {
        throw new EngineFault(
          'FAILED_PRECONDITION',
          `Expected to cancel a process instance with key '${processInstanceKey}', but it is created by a parent process instance. Cancel the root process instance '${inst.parentProcessInstanceKey}' instead.`,
        );
      }
      run.record('PROCESS_INSTANCE', 'CANCELING', processInstanceKey, { processInstanceKey });
      await run.terminateInstance(processInstanceKey);
    });
  }

  async modifyProcessInstance(req: Parameters<EngineApi['modifyProcessInstance']>[0]): Promise<void> {
    await this.command(async (run) => {
      const inst = /^\d{1,19}$/.test(req.processInstanceKey)
        ? await run.lockInstance(req.processInstanceKey)
        : undefined;
      if (!inst || inst.state !== 'ACTIVE') {
        throw new EngineFault(
          'NOT_FOUND',
          `Expected to modify process instance but no process instance found with key '${req.processInstanceKey}'`,
        );
      }
      await run.modifyInstance(req);
    });
  }

  async migrateProcessInstance(req: Parameters<EngineApi['migrateProcessInstance']>[0]): Promise<void> {
    await this.command(async (run) => {
      const inst = /^\d{1,19}$/.test(req.processInstanceKey)
        ? await run.lockInstance(req.processInstanceKey)
        : undefined;
      if (!inst || inst.state !== 'ACTIVE') {
        throw new EngineFault(
          'NOT_FOUND',
          `Expected to migrate process instance but no process instance found with key '${req.processInstanceKey}'`,
        );
      }
      const target = /^\d{1,19}$/.test(req.targetProcessDefinitionKey)
        ? await this.definitions.byDefinitionKey(run.db, req.targetProcessDefinitionKey)
        : undefined;
      if (!target) {
        throw new EngineFault(
          'NOT_FOUND',
          `Expected to migrate process instance to process definition but no process definition found with key '${req.targetProcessDefinitionKey}'`,
        );
      }
      await run.migrateInstance(inst.key, target, req.mappings);
    });
  }

  // ---------------------------------------------------------------- jobs

  /** Activates up to `max` jobs of the type in one transaction (no instance lock: only the job rows). */
  private async tryActivate(req: Omit<ActivateJobsRequest, 'requestTimeout'>): Promise<ActivatedJob[]> {
    const now = this.clock.now();
    // One statement on its own (one round trip, no BEGIN/COMMIT).
    const { text, values } = activationStatement(
      `SELECT key FROM engine_job WHERE type = $6 AND state = 'ACTIVATABLE' AND (retry_at IS NULL OR retry_at <= $3)
        ORDER BY key LIMIT $7 FOR UPDATE SKIP LOCKED`,
      req,
      now,
      [req.type, req.maxJobsToActivate],
    );
    const { rows } = await inStatement<ActivationRow>(this.pool, text, values);
    const jobs = activatedJobs(rows, req.worker, now + req.timeout);
    this.counters.jobsActivated += jobs.length;
    return jobs;
  }

  /** docs: components/concepts/job-workers, "Long polling": held until jobs exist or the request times out. */
  async activateJobs(req: ActivateJobsRequest, signal?: AbortSignal): Promise<ActivatedJob[]> {
    this.checkTenants(req.tenantIds);
    const longPoll = req.requestTimeout < 0 ? 0 : req.requestTimeout === 0 ? DEFAULT_LONG_POLL_MS : req.requestTimeout;
    const until = Date.now() + longPoll;
    for (;;) {
      const jobs = await this.tryActivate(req);
      if (jobs.length > 0 || Date.now() >= until || signal?.aborted || this.stopped) {
        if (signal?.aborted && jobs.length > 0) {
          // Nobody will receive them: back to activatable at once instead of after the timeout.
          await this.releaseJobs(jobs.map((j) => j.key));
          return [];
        }
        return jobs;
      }
      await this.waitFor(this.jobWaiters, req.type, Math.min(until - Date.now(), LONG_POLL_RECHECK_MS), signal);
    }
  }

  private checkTenants(tenantIds: string[]) {
    for (const t of tenantIds) this.checkTenant(t);
  }

  private async releaseJobs(keys: string[]) {
    await this.pool.query(
      `UPDATE engine_job SET state = 'ACTIVATABLE', deadline = NULL, worker = '' WHERE key = ANY($1::bigint[]) AND state = 'ACTIVATED'`,
      [keys],
    );
  }

  /**
   * Job push in the command that creates the jobs (docs: components/concepts/job-workers, "Job streaming":
   * a job created while a stream of its type is open is activated and pushed to it at once). The jobs of a
   * type with a stream open in this process go to one of its streams (in turn): the command's last message,
   * just before its COMMIT, activates them with their records and reads their variables — no round trip and
   * no activation statement of its own, and no wake-up of anyone else. Answers the types it took.
   */
  private takeForStreams(
    run: Run,
    db: Db,
    jobs: readonly { key: string; type: string }[],
    pushes: JobPush[],
  ): Set<string> {
    const byType = new Map<string, string[]>();
    for (const j of jobs) {
      if (!this.streams.get(j.type)?.length) continue;
      let keys = byType.get(j.type);
      if (!keys) byType.set(j.type, (keys = []));
      keys.push(j.key);
    }
    for (const [type, keys] of byType) {
      const open = this.streams.get(type)!;
      const stream = open[this.nextStream++ % open.length]!;
      const { text, values } = activationStatement(
        `SELECT key FROM engine_job WHERE key = ANY($6::bigint[]) AND state = 'ACTIVATABLE'`,
        stream.req,
        run.now,
        [keys],
      );
      db.atCommit<ActivationRow>(text, values, ({ rows }) =>
        pushes.push({ stream, jobs: activatedJobs(rows, stream.req.worker, run.now + stream.req.timeout) }),
      );
    }
    return new Set(byType.keys());
  }

  /** Hands pushed jobs to their stream; a job the stream does not take goes back to activatable. */
  private async deliver({ stream, jobs }: JobPush) {
    this.counters.jobsActivated += jobs.length;
    for (const job of jobs) {
      try {
        if (stream.closed.aborted) throw new Error('stream closed');
        await stream.push(job);
      } catch {
        await this.releaseJobs([job.key]).catch(() => undefined);
        this.wake(this.jobWaiters, job.type);
      }
    }
  }

  streamJobs(
    req: { type: string; worker: string; timeout: number; fetchVariable: string[]; tenantIds: string[] },
    push: (job: ActivatedJob) => Promise<void>,
  ): () => void {
    this.checkTenants(req.tenantIds);
    const abort = new AbortController();
    const entry: JobStream = { req, push, closed: abort.signal };
    this.streams.set(req.type, [...(this.streams.get(req.type) ?? []), entry]);
    abort.signal.addEventListener('abort', () => {
      const left = (this.streams.get(req.type) ?? []).filter((e) => e !== entry);
      if (left.length > 0) this.streams.set(req.type, left);
      else this.streams.delete(req.type);
    });
    const STREAM_BATCH = 32;
    const loop = async () => {
      while (!abort.signal.aborted && !this.stopped) {
        let jobs: ActivatedJob[] = [];
        try {
          jobs = await this.tryActivate({ ...req, maxJobsToActivate: STREAM_BATCH, tenantIds: req.tenantIds });
        } catch (err) {
          this.opts.log('warn', 'job stream activation failed', { err: (err as Error).message, type: req.type });
        }
        for (const job of jobs) {
          try {
            if (abort.signal.aborted) throw new Error('stream closed');
            await push(job);
          } catch {
            await this.releaseJobs([job.key]).catch(() => undefined);
          }
        }
        if (jobs.length === 0) await this.waitFor(this.jobWaiters, req.type, LONG_POLL_RECHECK_MS, abort.signal);
      }
    };
    void loop();
    return () => abort.abort();
  }

  /** Locks the job's instance, then the job; NOT_FOUND when it is gone (docs: grpc CompleteJob errors). */
  /**
   * Locks the instance a job, user task, incident or element instance belongs to, as every command on
   * an instance does first; undefined when there is no such row (or its key is no int64).
   */
  private async lockInstanceOf(run: Run, table: RowTable, key: string): Promise<string | undefined> {
    if (!/^\d{1,19}$/.test(key)) return undefined;
    const { rows } = await run.db.query<{ pi: string }>(
      `SELECT process_instance_key::text AS pi FROM ${table} WHERE key = $1`,
      [key],
    );
    if (!rows[0]) return undefined;
    await run.lockInstance(rows[0].pi);
    return rows[0].pi;
  }

  private async lockJob(run: Run, jobKey: string, what: string): Promise<JobRow> {
    checkJobKey(jobKey);
    return (await run.lockJobAndInstance<JobRow>(jobKey, JOB_COLUMNS)) ?? noSuchJob(jobKey, what);
  }

  /** `lockJob` and the job's element with its scope chain, read after the lock in the same message. */
  private async lockJobWithScopes(run: Run, jobKey: string, what: string) {
    checkJobKey(jobKey);
    return (await run.lockJobWithScopes<JobRow>(jobKey, JOB_COLUMNS)) ?? noSuchJob(jobKey, what);
  }

  async completeJob(jobKey: string, variables: Variables): Promise<void> {
    await this.command(async (run) => {
      const { job, element: ei } = await this.lockJobWithScopes(run, jobKey, 'complete');
      if (job.state !== 'ACTIVATED' && job.state !== 'ACTIVATABLE') {
        throw new EngineFault(
          'FAILED_PRECONDITION',
          `Expected to complete job with key '${jobKey}', but it is in state '${job.state}'`,
        );
      }
      run.db.defer(`DELETE FROM engine_job WHERE key = $1`, [jobKey]);
      run.record('JOB', 'COMPLETED', jobKey, run.jobValue(job, { variables }));
      if (!ei || ei.state !== 'ACTIVE') return;
      // A listener's job (docs: concepts/execution-listeners, concepts/user-task-listeners).
      if (ei.data.listener) return run.listenerJobCompleted(ei, variables);
      if (ei.data.taskListener) return run.taskListenerJobCompleted(ei);
      await run.applyResultVariables(ei, variables);
      run.enqueue({ op: 'complete', ei });
    });
    this.counters.jobsCompleted++;
  }

  async failJob(req: Parameters<EngineApi['failJob']>[0]): Promise<void> {
    await this.command(async (run) => {
      const job = await this.lockJob(run, req.jobKey, 'fail');
      if (job.state !== 'ACTIVATED' && job.state !== 'ACTIVATABLE') {
        throw new EngineFault(
          'FAILED_PRECONDITION',
          `Expected to fail job with key '${req.jobKey}', but it is in state '${job.state}'`,
        );
      }
      const ei = await run.elementInstance(job.element_instance_key);
      // Variables of a failed job are set on the task's own scope (docs: grpc FailJob "variables").
      if (ei) for (const [k, v] of Object.entries(req.variables)) await run.setLocal(ei, k, v);
      const retries = Math.max(req.retries, MAX_RETRIES_NONE);
      const exhausted = retries <= 0;
      run.db.defer(
        `UPDATE engine_job SET state = $2, retries = $3, error_message = $4, retry_at = $5, deadline = NULL, worker = '' WHERE key = $1`,
        [
          req.jobKey,
          exhausted ? 'FAILED' : 'ACTIVATABLE',
          retries,
          req.errorMessage,
          !exhausted && req.retryBackOff > 0 ? new Date(run.now + req.retryBackOff) : null,
        ],
      );
      run.record(
        'JOB',
        'FAILED',
        req.jobKey,
        run.jobValue({ ...job, retries }, { errorMessage: req.errorMessage, retryBackoff: req.retryBackOff }),
      );
      if (exhausted && ei) {
        await run.raiseIncident(
          ei,
          'JOB_NO_RETRIES',
          req.errorMessage || 'No more retries left.',
          undefined,
          req.jobKey,
        );
      } else if (req.retryBackOff <= 0) {
        run.jobTypes.add(job.type);
      }
    });
  }

  async throwError(req: Parameters<EngineApi['throwError']>[0]): Promise<void> {
    await this.command(async (run) => {
      const job = await this.lockJob(run, req.jobKey, 'throw an error for');
      if (job.state !== 'ACTIVATED' && job.state !== 'ACTIVATABLE') {
        throw new EngineFault(
          'FAILED_PRECONDITION',
          `Expected to throw an error for job with key '${req.jobKey}', but it is in state '${job.state}'`,
        );
      }
      run.record(
        'JOB',
        'ERROR_THROWN',
        req.jobKey,
        run.jobValue(job, { errorCode: req.errorCode, errorMessage: req.errorMessage, variables: req.variables }),
      );
      const ei = await run.elementInstance(job.element_instance_key);
      if (!ei || ei.state !== 'ACTIVE') return;
      if (ei.data.listener || ei.data.taskListener) {
        throw new EngineFault(
          'FAILED_PRECONDITION',
          `Expected to throw an error for job with key '${req.jobKey}', but it is a listener's job; throwing a BPMN error for a listener job is not supported`,
        );
      }
      const caught = await run.throwError(ei, req.errorCode, req.variables);
      if (caught) {
        run.db.defer(`DELETE FROM engine_job WHERE key = $1`, [req.jobKey]);
        return;
      }
      run.db.defer(`UPDATE engine_job SET state = 'ERROR_THROWN', error_message = $2 WHERE key = $1`, [
        req.jobKey,
        req.errorMessage,
      ]);
      await run.raiseIncident(
        ei,
        'UNHANDLED_ERROR_EVENT',
        `Expected to throw an error event with the code '${req.errorCode}'${req.errorMessage ? ` with message '${req.errorMessage}'` : ''}, but it was not caught. No error events are available in the scope.`,
        undefined,
        req.jobKey,
      );
    });
  }

  async updateJobRetries(jobKey: string, retries: number): Promise<void> {
    if (retries < 1)
      throw new EngineFault('INVALID_ARGUMENT', `Expected retries to be greater than zero, but was ${retries}`);
    await this.command(async (run) => {
      const job = await this.lockJob(run, jobKey, 'update retries of');
      run.db.defer(`UPDATE engine_job SET retries = $2 WHERE key = $1`, [jobKey, retries]);
      run.record('JOB', 'RETRIES_UPDATED', jobKey, run.jobValue({ ...job, retries }));
    });
  }

  async updateJobTimeout(jobKey: string, timeoutMs: number): Promise<void> {
    await this.command(async (run) => {
      const job = await this.lockJob(run, jobKey, 'update the timeout of');
      if (job.state !== 'ACTIVATED') {
        throw new EngineFault(
          'FAILED_PRECONDITION',
          `Expected to update the timeout of job with key '${jobKey}', but it is not active`,
        );
      }
      const deadline = new Date(run.now + timeoutMs);
      run.db.defer(`UPDATE engine_job SET deadline = $2 WHERE key = $1`, [jobKey, deadline]);
      run.record('JOB', 'TIMEOUT_UPDATED', jobKey, run.jobValue({ ...job, deadline }));
    });
  }

  // ---------------------------------------------------------------- messages

  /** docs: components/concepts/messages — correlation, buffering with TTL, message id uniqueness, start events. */
  async publishMessage(req: Parameters<EngineApi['publishMessage']>[0]): Promise<{ key: string; tenantId: string }> {
    this.checkTenant(req.tenantId);
    if (!req.name) throw new EngineFault('INVALID_ARGUMENT', `Expected a message name, but 'name' is empty`);
    return this.command(async (run) => {
      const now = new Date(run.now);
      if (req.messageId) {
        // Serialises publishers of the same message id: the second sees the first's row.
        await run.db.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 1))`, [
          `${req.name}\u001f${req.messageId}`,
        ]);
        const { rows } = await run.db.query(
          `SELECT 1 FROM engine_message WHERE name = $1 AND message_id = $2 AND deadline > $3`,
          [req.name, req.messageId, now],
        );
        if (rows.length > 0) {
          throw new EngineFault(
            'ALREADY_EXISTS',
            `Expected to publish a new message with id '${req.messageId}', but a message with that id was already published`,
          );
        }
        await run.db.query(`DELETE FROM engine_message WHERE name = $1 AND message_id = $2`, [req.name, req.messageId]);
      }
      const key = await run.key();
      const buffered = req.timeToLive > 0;
      if (buffered) {
        await run.db.query(
          `INSERT INTO engine_message (key, name, correlation_key, message_id, variables, deadline, created_at, tenant_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [
            key,
            req.name,
            req.correlationKey,
            req.messageId,
            JSON.stringify(req.variables),
            new Date(run.now + req.timeToLive),
            now,
            DEFAULT_TENANT,
          ],
        );
      }
      run.record('MESSAGE', 'PUBLISHED', key, {
        name: req.name,
        correlationKey: req.correlationKey,
        messageId: req.messageId,
        timeToLive: req.timeToLive,
        variables: req.variables,
        tenantId: DEFAULT_TENANT,
      });
      // Open subscriptions: one per process instance (the oldest), as Zeebe correlates once per instance.
      // Under the correlation lock, so a subscription opening at this moment either is seen here or sees
      // this message (Run.lockCorrelation).
      await run.lockCorrelation(req.name, req.correlationKey);
      const { rows: subs } = await run.db.query<{ key: string; pi: string }>(
        `SELECT DISTINCT ON (process_instance_key) key::text, process_instance_key::text AS pi
           FROM engine_message_subscription WHERE message_name = $1 AND correlation_key = $2
          ORDER BY process_instance_key, key`,
        [req.name, req.correlationKey],
      );
      for (const sub of subs) {
        const inst = await run.lockInstance(sub.pi);
        if (!inst || inst.state !== 'ACTIVE') continue;
        const correlated = await run.correlate(sub.key, req.variables, key);
        if (correlated && buffered) {
          await run.db.query(
            `INSERT INTO engine_message_correlation (message_key, target) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
            [key, `pi:${sub.pi}`],
          );
        }
      }
      await this.startByMessage(run, req, key, buffered);
      return { key, tenantId: DEFAULT_TENANT };
    });
  }

  /** Message start events of the latest versions; one active instance per correlation key (docs: bpmn/message-events). */
  private async startByMessage(
    run: Run,
    req: Parameters<EngineApi['publishMessage']>[0],
    messageKey: string,
    buffered: boolean,
  ) {
    const { rows } = await run.db.query<{ key: string; bpmn_process_id: string }>(
      `SELECT DISTINCT ON (bpmn_process_id) key::text, bpmn_process_id FROM engine_process_definition
        ORDER BY bpmn_process_id, version DESC`,
    );
    for (const r of rows) {
      const def = await this.definitions.byDefinitionKey(run.db, r.key);
      const start = def?.model.messageStartEvents.find((s) => s.messageName === req.name);
      if (!def || !start) continue;
      if (req.correlationKey) {
        await run.db.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 2))`, [
          `${def.bpmnProcessId}\u001f${req.correlationKey}`,
        ]);
        const { rows: active } = await run.db.query(
          `SELECT 1 FROM engine_process_instance WHERE bpmn_process_id = $1 AND start_correlation_key = $2 AND state = 'ACTIVE'`,
          [def.bpmnProcessId, req.correlationKey],
        );
        if (active.length > 0) continue;
      }
      await run.createInstance(def, req.variables, {
        startElementId: start.elementId,
        startCorrelationKey: req.correlationKey,
      });
      if (buffered) {
        await run.db.query(
          `INSERT INTO engine_message_correlation (message_key, target) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
          [messageKey, `process:${def.bpmnProcessId}`],
        );
      }
    }
  }

  /** docs: apis-tools/zeebe-api/gateway-service#broadcastsignal-rpc, bpmn/signal-events. */
  async broadcastSignal(req: Parameters<EngineApi['broadcastSignal']>[0]): Promise<{ key: string; tenantId: string }> {
    this.checkTenant(req.tenantId);
    if (!req.signalName) throw new EngineFault('INVALID_ARGUMENT', `Expected a signal name, but 'signalName' is empty`);
    return this.command(async (run) => {
      const key = await run.broadcastSignal(req.signalName, req.variables, DEFAULT_TENANT);
      return { key, tenantId: DEFAULT_TENANT };
    });
  }

  async setVariables(elementInstanceKey: string, variables: Variables, local: boolean): Promise<{ key: string }> {
    return this.command(async (run) => {
      const locked = await this.lockInstanceOf(run, 'engine_element_instance', elementInstanceKey);
      const ei = locked ? await run.elementInstance(elementInstanceKey) : undefined;
      if (!ei || ei.state !== 'ACTIVE') {
        throw new EngineFault(
          'NOT_FOUND',
          `Expected to update variables for element with key '${elementInstanceKey}', but no such element was found`,
        );
      }
      if (local) for (const [k, v] of Object.entries(variables)) await run.setLocal(ei, k, v);
      else await run.propagate(ei, variables);
      const key = await run.key();
      run.record('VARIABLE_DOCUMENT', 'UPDATED', key, {
        scopeKey: elementInstanceKey,
        updateSemantics: local ? 'LOCAL' : 'PROPAGATE',
        variables,
      });
      return { key };
    });
  }

  async resolveIncident(incidentKey: string): Promise<void> {
    await this.command(async (run) => {
      const notFound = () =>
        new EngineFault(
          'NOT_FOUND',
          `Expected to resolve incident with key '${incidentKey}', but no such incident was found`,
        );
      const pi = await this.lockInstanceOf(run, 'engine_incident', incidentKey);
      if (!pi) throw notFound();
      const { rows: incidents } = await run.db.query<{
        state: string;
        job_key: string | null;
        element_instance_key: string;
      }>(`SELECT state, job_key::text, element_instance_key::text FROM engine_incident WHERE key = $1 FOR UPDATE`, [
        incidentKey,
      ]);
      const incident = incidents[0];
      if (!incident || incident.state !== 'ACTIVE') throw notFound();
      run.db.defer(`UPDATE engine_incident SET state = 'RESOLVED', resolved_at = $2 WHERE key = $1`, [
        incidentKey,
        new Date(run.now),
      ]);
      run.record('INCIDENT', 'RESOLVED', incidentKey, {
        processInstanceKey: pi,
        elementInstanceKey: incident.element_instance_key,
      });
      const ei = await run.elementInstance(incident.element_instance_key);
      if (!ei || ei.state !== 'ACTIVE') return;
      if (incident.job_key) {
        // A job incident: the job becomes activatable again — with retries left (docs: concepts/incidents).
        const { rows: jobs } = await run.db.query<{ type: string; retries: number }>(
          `UPDATE engine_job SET state = 'ACTIVATABLE', retry_at = NULL WHERE key = $1 AND state IN ('FAILED', 'ERROR_THROWN')
           RETURNING type, retries`,
          [incident.job_key],
        );
        const job = jobs[0];
        if (job && job.retries <= 0) {
          run.db.defer(`UPDATE engine_job SET state = 'FAILED' WHERE key = $1`, [incident.job_key]);
          await run.raiseIncident(ei, 'JOB_NO_RETRIES', 'No more retries left.', undefined, incident.job_key);
        } else if (job) run.jobTypes.add(job.type);
        return;
      }
      run.retryAfterIncident(ei);
    });
  }

  async evaluateDecision(req: Parameters<EngineApi['evaluateDecision']>[0]) {
    this.checkTenant(req.tenantId);
    return inTransaction(this.pool, (db) => this.decisions.evaluateStandalone(db, req));
  }

  // ---------------------------------------------------------------- user tasks

  private async lockUserTask(run: Run, userTaskKey: string) {
    if (!(await this.lockInstanceOf(run, 'engine_user_task', userTaskKey))) {
      throw new EngineFault(
        'NOT_FOUND',
        `Command 'COMPLETE' rejected with code 'NOT_FOUND': Expected to work on user task with key '${userTaskKey}', but no such user task was found`,
      );
    }
    const { rows: tasks } = await run.db.query<{
      state: string;
      assignee: string | null;
      element_instance_key: string;
    }>(`SELECT state, assignee, element_instance_key::text FROM engine_user_task WHERE key = $1 FOR UPDATE`, [
      userTaskKey,
    ]);
    const task = tasks[0]!;
    if (task.state !== 'CREATED') {
      throw new EngineFault(
        'FAILED_PRECONDITION',
        `Expected to work on user task with key '${userTaskKey}', but it is in state '${task.state}'`,
      );
    }
    return task;
  }

  async completeUserTask(userTaskKey: string, variables: Variables, action?: string): Promise<void> {
    await this.command(async (run) => {
      const task = await this.lockUserTask(run, userTaskKey);
      const value = await run.userTaskValue(userTaskKey, { variables, action: action ?? 'complete' });
      run.record('USER_TASK', 'COMPLETING', userTaskKey, value);
      const ei = await run.elementInstanceWithScopes(task.element_instance_key);
      if (
        ei &&
        ei.state === 'ACTIVE' &&
        (await run.startTaskListeners(ei, {
          event: 'completing',
          index: 0,
          userTaskKey,
          variables,
          action: action ?? 'complete',
        }))
      ) {
        return;
      }
      if (!ei) {
        run.db.defer(`UPDATE engine_user_task SET state = 'COMPLETED', completion_date = $2 WHERE key = $1`, [
          userTaskKey,
          new Date(run.now),
        ]);
        return;
      }
      await run.finishUserTaskCompletion(ei, userTaskKey, variables, action);
    });
  }

  async assignUserTask(userTaskKey: string, assignee: string, allowOverride: boolean): Promise<void> {
    await this.command(async (run) => {
      const task = await this.lockUserTask(run, userTaskKey);
      if (task.assignee && task.assignee !== assignee && !allowOverride) {
        throw new EngineFault(
          'CONFLICT',
          `Expected to assign user task with key '${userTaskKey}', but it is already assigned to another user`,
        );
      }
      const ei = await run.elementInstance(task.element_instance_key);
      const value = await run.userTaskValue(userTaskKey, { action: 'assign', changedAttributes: ['assignee'] });
      run.record('USER_TASK', 'ASSIGNING', userTaskKey, { ...value, assignee });
      if (
        ei &&
        ei.state === 'ACTIVE' &&
        (await run.startTaskListeners(ei, { event: 'assigning', index: 0, userTaskKey, assignee }))
      ) {
        return;
      }
      run.db.defer(`UPDATE engine_user_task SET assignee = $2 WHERE key = $1`, [userTaskKey, assignee]);
      run.record('USER_TASK', 'ASSIGNED', userTaskKey, { ...value, assignee });
    });
  }

  async unassignUserTask(userTaskKey: string): Promise<void> {
    await this.command(async (run) => {
      await this.lockUserTask(run, userTaskKey);
      run.db.defer(`UPDATE engine_user_task SET assignee = NULL WHERE key = $1`, [userTaskKey]);
      const value = await run.userTaskValue(userTaskKey, { action: 'unassign', changedAttributes: ['assignee'] });
      run.record('USER_TASK', 'ASSIGNING', userTaskKey, value);
      run.record('USER_TASK', 'ASSIGNED', userTaskKey, value);
    });
  }

  // ---------------------------------------------------------------- queries

  searchUserTasks(q: SearchQuery) {
    return searchUserTasks(this.pool, q);
  }

  searchProcessInstances(q: SearchQuery) {
    return searchProcessInstances(this.pool, q);
  }

  searchElementInstances(q: SearchQuery) {
    return searchElementInstances(this.pool, q);
  }

  searchIncidents(q: SearchQuery) {
    return searchIncidents(this.pool, q);
  }

  async elementStatistics(processDefinitionKey: string): Promise<ElementStatistics[]> {
    if (!/^\d{1,19}$/.test(processDefinitionKey))
      throw new EngineFault('INVALID_ARGUMENT', `Expected a process definition key, but got '${processDefinitionKey}'`);
    const { rows } = await this.pool.query<{
      element_id: string;
      active: number;
      canceled: number;
      completed: number;
      incidents: number;
    }>(
      `SELECT e.element_id,
              count(*) FILTER (WHERE e.state = 'ACTIVE')::int AS active,
              count(*) FILTER (WHERE e.state = 'TERMINATED')::int AS canceled,
              count(*) FILTER (WHERE e.state = 'COMPLETED')::int AS completed,
              count(DISTINCT i.element_instance_key)::int AS incidents
         FROM engine_element_instance e
         LEFT JOIN engine_incident i ON i.element_instance_key = e.key AND i.state = 'ACTIVE'
        WHERE e.process_definition_key = $1 AND e.element_type NOT IN ('PROCESS', 'MULTI_INSTANCE_BODY')
        GROUP BY e.element_id ORDER BY e.element_id`,
      [processDefinitionKey],
    );
    return rows.map((r) => ({
      elementId: r.element_id,
      active: r.active,
      canceled: r.canceled,
      incidents: r.incidents,
      completed: r.completed,
    }));
  }

  async health(): Promise<{ ready: boolean; detail?: string }> {
    if (this.stopped) return { ready: false, detail: 'stopping' };
    try {
      await this.pool.query('SELECT 1 FROM engine_schema_version LIMIT 1');
      return { ready: true };
    } catch (err) {
      return { ready: false, detail: (err as Error).message };
    }
  }

  async metrics(): Promise<string> {
    const lines: string[] = [];
    const counter = (name: string, help: string, value: number) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${value}`);
    };
    counter('engine_commands_total', 'Commands processed', this.counters.commands);
    counter('engine_commands_rejected_total', 'Commands refused by back-pressure', this.counters.commandsRejected);
    counter('engine_jobs_activated_total', 'Jobs handed to workers', this.counters.jobsActivated);
    counter('engine_jobs_completed_total', 'Jobs completed', this.counters.jobsCompleted);
    counter(
      'engine_process_instances_created_total',
      'Process instances created by request',
      this.counters.instancesCreated,
    );
    counter('engine_timers_fired_total', 'Timers fired', this.counters.timersFired);
    counter(
      'engine_db_transactions_total',
      'Transactions of commands, activations and sweeps',
      transactionStats.transactions,
    );
    counter(
      'engine_db_round_trips_total',
      'Messages those transactions sent to PostgreSQL (each waits for its answer)',
      transactionStats.roundTrips,
    );
    counter(
      'engine_db_statements_total',
      'Statements in those messages (BEGIN and COMMIT included)',
      transactionStats.statements,
    );
    lines.push(
      '# HELP engine_commands_in_flight Commands waiting or running',
      '# TYPE engine_commands_in_flight gauge',
      `engine_commands_in_flight ${this.inFlight}`,
    );
    const mem = process.memoryUsage();
    lines.push(
      '# HELP process_resident_memory_bytes Resident memory',
      '# TYPE process_resident_memory_bytes gauge',
      `process_resident_memory_bytes ${mem.rss}`,
    );
    return `${lines.join('\n')}\n`;
  }

  // ---------------------------------------------------------------- continuations

  /** Starts a continuation loop unless enough run already; each runs until no continuation is left. */
  private runContinuations() {
    if (this.stopped || this.continuationLoops >= CONTINUATION_LOOPS) return;
    this.continuationLoops++;
    void (async () => {
      try {
        while (!this.stopped && (await this.continueSome())) {
          // another round
        }
      } catch (err) {
        this.opts.log('warn', 'continuations failed; the housekeeping loop retries', { err: (err as Error).message });
      } finally {
        this.continuationLoops--;
      }
    })();
  }

  /**
   * Runs the stored steps of a few instances, each in a command holding that instance's lock (an
   * instance another command holds is left for the next round). True when any ran.
   */
  private async continueSome(): Promise<boolean> {
    const { rows } = await this.pool.query<{ pi: string }>(
      `SELECT process_instance_key::text AS pi FROM engine_continuation
        GROUP BY process_instance_key ORDER BY min(seq) LIMIT $1`,
      [CONTINUATION_BATCH],
    );
    let progressed = false;
    for (const { pi } of rows) {
      if (this.stopped) break;
      const ran = await this.command(async (run) => {
        const { rows: free } = await run.db.query(
          `SELECT 1 FROM engine_process_instance WHERE key = $1 FOR UPDATE SKIP LOCKED`,
          [pi],
        );
        if (free.length === 0) return false;
        await run.lockInstance(pi);
        const { rows: steps } = await run.db.query<{ step: StoredStep }>(
          `WITH taken AS (DELETE FROM engine_continuation WHERE process_instance_key = $1 RETURNING seq, step)
           SELECT step FROM taken ORDER BY seq`,
          [pi],
        );
        await run.resume(steps.map((r) => r.step));
        return steps.length > 0;
      }).catch((err: Error) => {
        this.opts.log('warn', 'a continuation could not run; retrying', { processInstanceKey: pi, err: err.message });
        return false;
      });
      progressed ||= ran;
    }
    return progressed;
  }

  // ---------------------------------------------------------------- time

  private kick() {
    this.scheduleTick(0);
  }

  private scheduleTick(ms: number) {
    if (this.stopped) return;
    clearTimeout(this.tickTimer);
    this.tickTimer = setTimeout(() => {
      if (this.ticking) {
        void this.ticking.then(() => this.scheduleTick(0));
        return;
      }
      this.ticking = this.tick()
        .then((nextDue) => {
          this.ticking = undefined;
          const wait = nextDue === undefined ? TICK_MS : Math.min(TICK_MS, Math.max(0, nextDue - this.clock.now()));
          this.scheduleTick(wait);
        })
        .catch((err) => {
          this.ticking = undefined;
          this.opts.log('warn', 'housekeeping failed; retrying', { err: (err as Error).message });
          this.scheduleTick(TICK_MS);
        });
    }, ms);
    this.tickTimer.unref();
  }

  /** Says this process is alive and learns whether others are (see `peers`); at most every PRESENCE_MS. */
  private async presence() {
    if (Date.now() - this.presenceAt < PRESENCE_MS) return;
    this.presenceAt = Date.now();
    const { rows } = await this.pool.query<{ n: number }>(
      `WITH me AS (INSERT INTO engine_node (id, seen_at) VALUES ($1, now())
                   ON CONFLICT (id) DO UPDATE SET seen_at = now()),
            gone AS (DELETE FROM engine_node WHERE seen_at < now() - interval '1 day')
       SELECT count(*)::int AS n FROM engine_node WHERE id <> $1 AND seen_at > now() - make_interval(secs => $2)`,
      [this.nodeId, PEER_TTL_S],
    );
    this.peers = (rows[0]?.n ?? 1) > 0;
  }

  /** Fires due timers, times out jobs, expires messages; returns the next timer's due date. */
  private async tick(): Promise<number | undefined> {
    await this.presence();
    const now = this.clock.now();
    const { rows: due } = await this.pool.query<{ key: string; pi: string | null }>(
      `SELECT key::text, process_instance_key::text AS pi FROM engine_timer WHERE due_date <= $1 ORDER BY due_date, key LIMIT $2`,
      [new Date(now), TIMERS_PER_TICK],
    );
    for (const t of due) {
      if (this.stopped) return undefined;
      try {
        await this.fireTimer(t.key, t.pi);
      } catch (err) {
        this.opts.log('warn', 'timer could not be fired; retrying', { timer: t.key, err: (err as Error).message });
      }
    }
    await this.timeOutJobs(now);
    await this.expireMessages(now);
    this.runContinuations();
    if (due.length === TIMERS_PER_TICK) return now;
    const { rows } = await this.pool.query<{ due: Date | null }>(`SELECT min(due_date) AS due FROM engine_timer`);
    return rows[0]?.due ? rows[0].due.getTime() : undefined;
  }

  private async fireTimer(timerKey: string, processInstanceKey: string | null) {
    await this.command(async (run) => {
      if (processInstanceKey) {
        const inst = await run.lockInstance(processInstanceKey);
        if (!inst) return;
      }
      const { rows } = await run.db.query<{
        key: string;
        element_instance_key: string | null;
        process_definition_key: string;
        element_id: string;
        repetitions: number;
        cycle: string | null;
        due_date: Date;
      }>(
        `SELECT key::text, element_instance_key::text, process_definition_key::text, element_id, repetitions, cycle, due_date
           FROM engine_timer WHERE key = $1 FOR UPDATE SKIP LOCKED`,
        [timerKey],
      );
      const t = rows[0];
      if (!t || t.due_date.getTime() > run.now) return;
      this.counters.timersFired++;
      if (t.element_instance_key) {
        await run.fireTimer({
          key: t.key,
          elementInstanceKey: t.element_instance_key,
          elementId: t.element_id,
          repetitions: t.repetitions,
          cycle: t.cycle,
          dueDate: t.due_date.getTime(),
        });
        return;
      }
      // A timer start event: a new instance, and the next one scheduled for a cycle.
      run.db.defer(`DELETE FROM engine_timer WHERE key = $1`, [t.key]);
      run.record('TIMER', 'TRIGGERED', t.key, {
        processInstanceKey: '-1',
        elementInstanceKey: '-1',
        processDefinitionKey: t.process_definition_key,
        targetElementId: t.element_id,
        dueDate: t.due_date.getTime(),
        tenantId: DEFAULT_TENANT,
      });
      const def = (await this.definitions.byDefinitionKey(run.db, t.process_definition_key))!;
      if (t.cycle && t.repetitions !== 1) {
        const next = nextCycle(t.cycle, t.due_date.getTime());
        if (next !== undefined) {
          await run.createTimer({
            processInstanceKey: null,
            elementInstanceKey: null,
            processDefinitionKey: t.process_definition_key,
            elementId: t.element_id,
            dueDate: next,
            repetitions: t.repetitions < 0 ? -1 : t.repetitions - 1,
            cycle: t.cycle,
            tenantId: DEFAULT_TENANT,
          });
        }
      }
      await run.createInstance(def, {}, { startElementId: t.element_id });
    });
  }

  /** docs: components/concepts/job-workers, "Timeouts": an activated job not completed in time is offered again. */
  private async timeOutJobs(now: number) {
    // One transaction: the jobs back to activatable, their TIMED_OUT records, the wake-up of long polls.
    await inTransaction(this.pool, async (db) => {
      const { rows } = await db.query<{ key: string; type: string; pi: string; ei: string; element_id: string }>(
        `UPDATE engine_job SET state = 'ACTIVATABLE', deadline = NULL, worker = ''
          WHERE key IN (SELECT key FROM engine_job WHERE state = 'ACTIVATED' AND deadline <= $1 FOR UPDATE SKIP LOCKED)
          RETURNING key::text, type, process_instance_key::text AS pi, element_instance_key::text AS ei, element_id`,
        [new Date(now)],
      );
      if (rows.length === 0) return;
      writeRecords(
        db,
        rows.map((r) => ({
          key: r.key,
          valueType: 'JOB',
          intent: 'TIMED_OUT',
          value: { type: r.type, processInstanceKey: r.pi, elementInstanceKey: r.ei, elementId: r.element_id },
        })),
        now,
      );
      for (const type of new Set(rows.map((r) => r.type))) db.defer(`SELECT pg_notify('engine_jobs', $1)`, [type]);
    });
  }

  private async expireMessages(now: number) {
    const { rows } = await this.pool.query<{ key: string; name: string }>(
      `DELETE FROM engine_message WHERE deadline <= $1 RETURNING key::text, name`,
      [new Date(now)],
    );
    if (rows.length === 0) return;
    await this.pool.query(`DELETE FROM engine_message_correlation WHERE message_key = ANY($1::bigint[])`, [
      rows.map((r) => r.key),
    ]);
  }
}
