/**
 * Read model of the engine: queries over the record stream our exporter writes into the engine
 * database (table zeebe_record). It answers what the engine's own search API answers on an
 * Orchestration Cluster with secondary storage: open user tasks, instance state, incidents.
 * Records arrive after the exporter's flush interval (~0.25 s): callers poll, never sleep.
 */
import { z } from 'zod';
import { resilientPool } from '../db/pool.js';

/** Latest state of a user task, from its USER_TASK records. */
export const userTaskSchema = z.object({
  userTaskKey: z.string(),
  state: z.enum(['CREATED', 'COMPLETED', 'CANCELED']),
  elementId: z.string(),
  bpmnProcessId: z.string(),
  processDefinitionKey: z.string(),
  processInstanceKey: z.string(),
  candidateGroups: z.array(z.string()),
  candidateUsers: z.array(z.string()),
  assignee: z.string().nullable(),
  dueDate: z.string().nullable(),
  createdAt: z.string(),
});
export type UserTask = z.infer<typeof userTaskSchema>;

interface TaskRow {
  key: string;
  intent: string;
  value: {
    elementId: string;
    bpmnProcessId: string;
    processDefinitionKey: number | string;
    processInstanceKey: number | string;
    candidateGroupsList: string[];
    candidateUsersList: string[];
    assignee: string;
    dueDate: string;
    creationTimestamp: number;
  };
  process_definition_key: string;
  process_instance_key: string;
}

function toTask(row: TaskRow): UserTask {
  const v = row.value;
  const state = row.intent.startsWith('COMPLET')
    ? 'COMPLETED'
    : row.intent.startsWith('CANCEL')
      ? 'CANCELED'
      : 'CREATED';
  return {
    userTaskKey: row.key,
    state,
    elementId: v.elementId,
    bpmnProcessId: v.bpmnProcessId,
    processDefinitionKey: row.process_definition_key,
    processInstanceKey: row.process_instance_key,
    candidateGroups: v.candidateGroupsList ?? [],
    candidateUsers: v.candidateUsersList ?? [],
    assignee: v.assignee || null,
    dueDate: v.dueDate ? v.dueDate.replace(/\[.*\]$/, '') : null,
    createdAt: new Date(v.creationTimestamp).toISOString(),
  };
}

/**
 * The latest state of each user task (infra/camunda/read-model.ts keeps it). Keys are int64: read
 * them as text so no digit is lost to a JavaScript number.
 */
const TASK_COLUMNS = `record_key::text AS key, intent, value,
  value->>'processDefinitionKey' AS process_definition_key,
  value->>'processInstanceKey' AS process_instance_key`;

export interface TaskFilter {
  /** Tasks offered to any of these candidate groups … */
  groupsAny?: string[];
  /** … or assigned to this user (ORed with groupsAny when both are given). */
  assigneeOrGroups?: string;
  /** Only tasks assigned to this user. */
  assignee?: string;
  /** Only unassigned tasks. */
  unassigned?: boolean;
  processInstanceKey?: string;
  bpmnProcessId?: string;
  /** Task type: the diagram's element id. */
  elementId?: string;
  /** Due strictly before this instant (overdue: dueBefore = now). */
  dueBefore?: Date;
  sort?: 'dueDate' | 'createdAt';
  order?: 'ASC' | 'DESC';
  limit?: number;
  offset?: number;
}

export type EngineRecords = ReturnType<typeof createEngineRecords>;

/** Connections of the read model's pool. */
const READ_MODEL_POOL_SIZE = 10;

export function createEngineRecords(engineDatabaseUrl: string) {
  // Every inbox request and every task action reads here; 4 connections queued 50 users (issue 7).
  const pool = resilientPool(engineDatabaseUrl, READ_MODEL_POOL_SIZE);

  return {
    pool,

    /** Open user tasks narrowed by the filter, with the total before paging. */
    async openUserTasks(filter: TaskFilter = {}): Promise<{ data: UserTask[]; total: number }> {
      const where: string[] = ['is_open'];
      const params: unknown[] = [];
      const param = (v: unknown) => {
        params.push(v);
        return `$${params.length}`;
      };
      if (filter.processInstanceKey) where.push(`value->>'processInstanceKey' = ${param(filter.processInstanceKey)}`);
      if (filter.bpmnProcessId) where.push(`value->>'bpmnProcessId' = ${param(filter.bpmnProcessId)}`);
      if (filter.elementId) where.push(`value->>'elementId' = ${param(filter.elementId)}`);
      if (filter.assignee) where.push(`value->>'assignee' = ${param(filter.assignee)}`);
      if (filter.unassigned) where.push(`coalesce(value->>'assignee', '') = ''`);
      if (filter.dueBefore) where.push(`due_date < ${param(filter.dueBefore.toISOString())}`);
      if (filter.groupsAny) {
        const groups = `(value->'candidateGroupsList') ?| ${param(filter.groupsAny)}::text[]`;
        where.push(
          filter.assigneeOrGroups ? `(${groups} OR value->>'assignee' = ${param(filter.assigneeOrGroups)})` : groups,
        );
      }
      const orderBy = filter.sort === 'createdAt' ? `(value->>'creationTimestamp')::bigint` : 'due_date';
      const direction = filter.order === 'DESC' ? 'DESC NULLS LAST' : 'ASC NULLS LAST';
      const sql = `
        SELECT ${TASK_COLUMNS}, count(*) OVER () AS total FROM user_task_latest WHERE ${where.join(' AND ')}
         ORDER BY ${orderBy} ${direction}, record_key
         LIMIT ${param(filter.limit ?? 1000)} OFFSET ${param(filter.offset ?? 0)}`;
      const { rows } = await pool.query<TaskRow & { total: string }>(sql, params);
      return { data: rows.map(toTask), total: rows[0] ? Number(rows[0].total) : 0 };
    },

    /** One user task in its latest state, or undefined when the engine never created it. */
    async userTask(userTaskKey: string): Promise<UserTask | undefined> {
      if (!/^\d{1,19}$/.test(userTaskKey)) return undefined;
      const { rows } = await pool.query<TaskRow>(`SELECT ${TASK_COLUMNS} FROM user_task_latest WHERE record_key = $1`, [
        userTaskKey,
      ]);
      return rows[0] ? toTask(rows[0]) : undefined;
    },

    /**
     * The instances that called this one, innermost first (a call activity's child → its parent → …):
     * a completion in a called instance lets its callers' next jobs run too.
     */
    async callerInstances(processInstanceKey: string): Promise<string[]> {
      const callers: string[] = [];
      for (let key = processInstanceKey; callers.length < 16;) {
        const { rows } = await pool.query<{ parent: string | null }>(
          `SELECT value->>'parentProcessInstanceKey' AS parent FROM zeebe_record
            WHERE value_type = 'PROCESS_INSTANCE' AND record_key = $1 LIMIT 1`,
          [key],
        );
        const parent = rows[0]?.parent;
        if (!parent || parent === '-1') break;
        callers.push(parent);
        key = parent;
      }
      return callers;
    },

    /**
     * The variables a user task sees: its own scope's, then each enclosing scope's (a multi-instance
     * body's element, the sub-process, the instance), the innermost winning — what FEEL in the task's
     * element would read. Forms use it to know which roster line or pupil a task is about.
     */
    async taskVariables(task: Pick<UserTask, 'userTaskKey' | 'processInstanceKey'>): Promise<Record<string, unknown>> {
      const { rows: taskRows } = await pool.query<{ element_instance_key: string }>(
        `SELECT value->>'elementInstanceKey' AS element_instance_key FROM zeebe_record
          WHERE value_type = 'USER_TASK' AND record_key = $1 LIMIT 1`,
        [task.userTaskKey],
      );
      if (!taskRows[0]) return {};
      const { rows: scopes } = await pool.query<{ key: string; flow_scope: string }>(
        `SELECT record_key::text AS key, value->>'flowScopeKey' AS flow_scope FROM zeebe_record
          WHERE value->>'processInstanceKey' = $1 AND value_type = 'PROCESS_INSTANCE' AND intent = 'ELEMENT_ACTIVATING'`,
        [task.processInstanceKey],
      );
      const parent = new Map(scopes.map((r) => [r.key, r.flow_scope]));
      const depth = new Map<string, number>();
      for (let key: string | undefined = taskRows[0].element_instance_key, d = 0; key && key !== '-1'; d++) {
        depth.set(key, d);
        key = parent.get(key);
      }
      const { rows: vars } = await pool.query<{ name: string; value: string; scope: string }>(
        `SELECT value->>'name' AS name, value->>'value' AS value, value->>'scopeKey' AS scope FROM zeebe_record
          WHERE value->>'processInstanceKey' = $1 AND value_type = 'VARIABLE' ORDER BY position`,
        [task.processInstanceKey],
      );
      const best = new Map<string, { depth: number; value: string }>();
      for (const v of vars) {
        const d = depth.get(v.scope);
        if (d === undefined) continue;
        const seen = best.get(v.name);
        // Later records of the same scope are updates; an inner scope shadows an outer one.
        if (!seen || d <= seen.depth) best.set(v.name, { depth: d, value: v.value });
      }
      return Object.fromEntries([...best].map(([name, v]) => [name, JSON.parse(v.value) as unknown]));
    },

    /** Several user tasks in their latest state, by key (one query for a bulk submission). */
    async userTasks(userTaskKeys: string[]): Promise<Map<string, UserTask>> {
      const keys = userTaskKeys.filter((k) => /^\d{1,19}$/.test(k));
      const { rows } = await pool.query<TaskRow>(
        `SELECT ${TASK_COLUMNS} FROM user_task_latest WHERE record_key = ANY($1::bigint[])`,
        [keys],
      );
      return new Map(rows.map((r) => [r.key, toTask(r)]));
    },

    /** Every user task of an instance opened, completed or canceled, in log order (a case timeline). */
    async taskHistory(processInstanceKey: string) {
      const { rows } = await pool.query<{
        key: string;
        intent: string;
        element_id: string;
        assignee: string;
        ts: Date;
      }>(
        `SELECT record_key::text AS key, intent, value->>'elementId' AS element_id, value->>'assignee' AS assignee, ts
           FROM zeebe_record
          WHERE value_type = 'USER_TASK' AND value->>'processInstanceKey' = $1
            AND intent IN ('CREATED', 'COMPLETED', 'CANCELED')
          ORDER BY position`,
        [processInstanceKey],
      );
      return rows.map((r) => ({
        userTaskKey: r.key,
        state: r.intent as 'CREATED' | 'COMPLETED' | 'CANCELED',
        elementId: r.element_id,
        assignee: r.assignee || null,
        at: r.ts.toISOString(),
      }));
    },

    /** The BPMN XML of a deployed process definition (its PROCESS record), or undefined if not exported yet. */
    async processXml(processDefinitionKey: string): Promise<string | undefined> {
      const { rows } = await pool.query<{ resource: string | null }>(
        `SELECT value->>'resource' AS resource FROM zeebe_record
          WHERE value_type = 'PROCESS' AND record_key = $1 AND value ? 'resource' LIMIT 1`,
        [processDefinitionKey],
      );
      const resource = rows[0]?.resource;
      return resource ? Buffer.from(resource, 'base64').toString('utf8') : undefined;
    },

    /** ACTIVE, COMPLETED or TERMINATED; undefined when the instance is not (yet) exported. */
    async processInstanceState(processInstanceKey: string) {
      const { rows } = await pool.query<{ intent: string }>(
        `SELECT intent FROM zeebe_record
          WHERE value_type = 'PROCESS_INSTANCE' AND record_key = $1 AND value->>'bpmnElementType' = 'PROCESS'
          ORDER BY position DESC LIMIT 1`,
        [processInstanceKey],
      );
      const intent = rows[0]?.intent;
      if (!intent) return undefined;
      if (intent === 'ELEMENT_COMPLETED') return 'COMPLETED' as const;
      if (intent === 'ELEMENT_TERMINATED') return 'TERMINATED' as const;
      return 'ACTIVE' as const;
    },

    /** Unresolved incidents of an instance, with the engine's message. */
    async openIncidents(processInstanceKey: string) {
      const { rows } = await pool.query<{ key: string; intent: string; message: string; element_id: string }>(
        `SELECT DISTINCT ON (record_key) record_key::text AS key, intent,
                value->>'errorMessage' AS message, value->>'elementId' AS element_id
           FROM zeebe_record
          WHERE value_type = 'INCIDENT' AND value->>'processInstanceKey' = $1
          ORDER BY record_key, position DESC`,
        [processInstanceKey],
      );
      return rows
        .filter((r) => r.intent === 'CREATED')
        .map((r) => ({ key: r.key, message: r.message, elementId: r.element_id }));
    },

    close: () => pool.end(),
  };
}
