/**
 * Read model of the engine: queries over our engine's own tables in its database (engine/README.md):
 * user tasks (`engine_user_task`, candidate groups as text[] with a GIN index), instances, element
 * instances, variables, incidents. They are written in the engine's command transactions, so what a
 * command acknowledged is visible here at once. It answers what Camunda's search API answers on an
 * Orchestration Cluster with secondary storage.
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
  state: string;
  element_id: string;
  bpmn_process_id: string;
  process_definition_key: string;
  process_instance_key: string;
  candidate_groups: string[];
  candidate_users: string[];
  assignee: string | null;
  due_date: Date | null;
  creation_date: Date;
}

function toTask(row: TaskRow): UserTask {
  return {
    userTaskKey: row.key,
    state: row.state === 'COMPLETED' ? 'COMPLETED' : row.state === 'CANCELED' ? 'CANCELED' : 'CREATED',
    elementId: row.element_id,
    bpmnProcessId: row.bpmn_process_id,
    processDefinitionKey: row.process_definition_key,
    processInstanceKey: row.process_instance_key,
    candidateGroups: row.candidate_groups ?? [],
    candidateUsers: row.candidate_users ?? [],
    assignee: row.assignee || null,
    dueDate: row.due_date ? row.due_date.toISOString() : null,
    createdAt: row.creation_date.toISOString(),
  };
}

/** Keys are int64: read as text so no digit is lost to a JavaScript number. */
const TASK_COLUMNS = `key::text, state, element_id, bpmn_process_id, process_definition_key::text,
  process_instance_key::text, candidate_groups, candidate_users, assignee, due_date, creation_date`;

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

/**
 * Above this many candidate groups a filter looks each task's groups up in the set instead of using `&&`:
 * `&&` (and the GIN index's consistent check) compares every row with every group — a county's 2,573
 * groups over 100,000 open tasks took 30 s per page (bench/api.ts, the bureau's county-wide view).
 */
const MANY_GROUPS = 32;

/** Connections of the read model's pool. */
const READ_MODEL_POOL_SIZE = 10;

export function createEngineRecords(engineDatabaseUrl: string) {
  // Every inbox request and every task action reads here; 4 connections queued 50 users (issue 7).
  const pool = resilientPool(engineDatabaseUrl, READ_MODEL_POOL_SIZE);

  /** The page and the total in one statement; with `subjectVariables`, each task's child too. */
  async function openTasks(filter: TaskFilter, subjectVariables?: string[]) {
    if (filter.processInstanceKey && !/^\d{1,19}$/.test(filter.processInstanceKey)) {
      return { data: [], total: 0, subjects: new Map<string, string>() };
    }
    const where: string[] = [`state = 'CREATED'`];
    const params: unknown[] = [];
    const param = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    if (filter.processInstanceKey) where.push(`process_instance_key = ${param(filter.processInstanceKey)}::bigint`);
    if (filter.bpmnProcessId) where.push(`bpmn_process_id = ${param(filter.bpmnProcessId)}`);
    if (filter.elementId) where.push(`element_id = ${param(filter.elementId)}`);
    if (filter.assignee) where.push(`assignee = ${param(filter.assignee)}`);
    if (filter.unassigned) where.push(`coalesce(assignee, '') = ''`);
    if (filter.dueBefore) where.push(`due_date < ${param(filter.dueBefore.toISOString())}`);
    /** The total's own conditions when it is counted in two disjoint parts (see below). */
    let totalParts: [string, string] | undefined;
    if (filter.groupsAny) {
      const any = param(filter.groupsAny);
      // Many groups (a county's thousands): the task's first group, a plain indexed column
      // (engine_user_task.first_candidate_group), looked up in the set — an index-only scan, one probe per
      // group; then the tasks that have more than one group (their own partial index), any of them in the
      // set. `&&` for a few groups, where the GIN index finds the tasks.
      const many = filter.groupsAny.length > MANY_GROUPS;
      const first = `first_candidate_group IN (SELECT unnest(${any}::text[]))`;
      const others = `cardinality(candidate_groups) > 1
              AND EXISTS (SELECT 1 FROM unnest(candidate_groups) g WHERE g = ANY(${any}::text[]))`;
      const groups = many ? `(${first} OR (${others}))` : `candidate_groups && ${any}::text[]`;
      // The total in two disjoint parts — "first group in the set", "another group is, the first is not" —
      // so each part uses its index: inside one OR PostgreSQL reads every open task (the array taken apart
      // per row: 51–68 ms for 100,000 tasks, where the parts take ~18 ms).
      if (many && !filter.assigneeOrGroups) totalParts = [first, `${others} AND NOT coalesce(${first}, false)`];
      where.push(filter.assigneeOrGroups ? `(${groups} OR assignee = ${param(filter.assigneeOrGroups)})` : groups);
    }
    const orderBy = filter.sort === 'createdAt' ? 'creation_date' : 'due_date';
    const direction = filter.order === 'DESC' ? 'DESC NULLS LAST' : 'ASC NULLS LAST';
    // The subject of each task of the page (25 rows, by the variables' primary key): the first variable
    // found innermost — the task's scope, its flow scope (a multi-instance body's element), the instance.
    const subject = subjectVariables
      ? `LEFT JOIN LATERAL (
           SELECT CASE WHEN jsonb_typeof(v.value->'childId') = 'string' THEN v.value->>'childId' END AS subject
             FROM engine_variable v
            WHERE v.process_instance_key = page.pik AND v.name = ANY(${param(subjectVariables)}::text[])
              AND v.scope_key IN (page.eik, (SELECT e.flow_scope_key FROM engine_element_instance e WHERE e.key = page.eik),
                                  page.pik)
            ORDER BY (v.scope_key = page.pik) LIMIT 1) s ON true`
      : '';
    // The page and the total in one statement (one snapshot), but not by `count(*) OVER ()`, which
    // read and sorted every matching task for a page of 25; the page can walk the due-date index. Ties
    // are broken by the bigint key (a bare `key` here would be the text column of the select list).
    const base = where.slice(0, -1); // every condition but the groups' (pushed last)
    const total = totalParts
      ? totalParts
          .map((part) => `(SELECT count(*) FROM engine_user_task t WHERE ${[...base, part].join(' AND ')})`)
          .join(' + ')
      : `(SELECT count(*) FROM engine_user_task t WHERE ${where.join(' AND ')})`;
    const sql = `
      WITH page AS (
        SELECT ${TASK_COLUMNS}, t.key AS sort_key, t.process_instance_key AS pik, t.element_instance_key AS eik
          FROM engine_user_task t WHERE ${where.join(' AND ')}
         ORDER BY t.${orderBy} ${direction}, t.key
         LIMIT ${param(filter.limit ?? 1000)} OFFSET ${param(filter.offset ?? 0)})
      SELECT page.*, n.total${subjectVariables ? ', s.subject' : ''}
        FROM (SELECT ${total} AS total) n
        LEFT JOIN page ON true ${subject}
       ORDER BY page.${orderBy} ${direction}, page.sort_key`;
    const { rows } = await pool.query<
      (TaskRow & { total: string; subject?: string | null }) | { key: null; total: string }
    >(sql, params);
    const subjects = new Map<string, string>();
    const data: UserTask[] = [];
    for (const r of rows) {
      if (r.key === null) continue;
      data.push(toTask(r));
      if ('subject' in r && r.subject) subjects.set(r.key, r.subject);
    }
    return { data, total: rows[0] ? Number(rows[0].total) : 0, subjects };
  }

  return {
    /** Where the model reads: our engine's tables here; `rest` (records-rest.ts) over the /v2 search API. */
    readModel: 'database' as 'database' | 'rest',

    /**
     * The engine's own database, for the views that read its tables beyond this interface (heatmaps, diagram
     * history and migration plans, progress). With ENGINE_READ_MODEL=rest it is a stand-in that refuses.
     */
    pool,

    /** Rejects when the read model cannot be reached (health). */
    async ping(): Promise<void> {
      await pool.query('SELECT 1');
    },

    /** Open user tasks narrowed by the filter, with the total before paging. */
    async openUserTasks(filter: TaskFilter = {}): Promise<{ data: UserTask[]; total: number }> {
      const { data, total } = await openTasks(filter);
      return { data, total };
    },

    /**
     * The inbox's page: openUserTasks() and, in the same statement, the child each task of the page is about
     * when its instance was started for one (a verification's suspect, a no-show): the `childId` of the first
     * of `subjectVariables` in the task's own scope, its flow scope or the instance's (innermost first).
     */
    async openUserTaskPage(
      filter: TaskFilter,
      subjectVariables: string[],
    ): Promise<{ data: UserTask[]; total: number; subjects: Map<string, string> }> {
      return openTasks(filter, subjectVariables);
    },

    /** One user task in its latest state, or undefined when the engine never created it. */
    async userTask(userTaskKey: string): Promise<UserTask | undefined> {
      if (!/^\d{1,19}$/.test(userTaskKey)) return undefined;
      const { rows } = await pool.query<TaskRow>(`SELECT ${TASK_COLUMNS} FROM engine_user_task WHERE key = $1`, [
        userTaskKey,
      ]);
      return rows[0] ? toTask(rows[0]) : undefined;
    },

    /**
     * The instances that called this one, innermost first (a call activity's child → its parent → …):
     * a completion in a called instance lets its callers' next jobs run too.
     */
    async callerInstances(processInstanceKey: string): Promise<string[]> {
      const { rows } = await pool.query<{ key: string }>(
        `WITH RECURSIVE up(key, depth) AS (
           SELECT parent_process_instance_key, 1 FROM engine_process_instance WHERE key = $1
           UNION ALL
           SELECT p.parent_process_instance_key, up.depth + 1 FROM engine_process_instance p JOIN up ON p.key = up.key
            WHERE up.depth < 16)
         SELECT key::text FROM up WHERE key IS NOT NULL ORDER BY depth`,
        [processInstanceKey],
      );
      return rows.map((r) => r.key);
    },

    /**
     * The variables a user task sees: its own scope's, then each enclosing scope's (a multi-instance
     * body's element, the sub-process, the instance), the innermost winning — what FEEL in the task's
     * element would read. Forms use it to know which roster line or pupil a task is about — also after
     * the task's instance ended (the journal settles late completions), when the engine has dropped those
     * scopes: so it reads the record log, which keeps them.
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
        `SELECT ${TASK_COLUMNS} FROM engine_user_task WHERE key = ANY($1::bigint[])`,
        [keys],
      );
      return new Map(rows.map((r) => [r.key, toTask(r)]));
    },

    /**
     * Every user task of an instance opened, completed or canceled, in log order (a case timeline): from the
     * record log, which keeps who held the task at each event.
     */
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

    /** The BPMN XML of a deployed process definition, or undefined when there is none with that key. */
    async processXml(processDefinitionKey: string): Promise<string | undefined> {
      if (!/^\d{1,19}$/.test(processDefinitionKey)) return undefined;
      const { rows } = await pool.query<{ resource: string }>(
        `SELECT resource FROM engine_process_definition WHERE key = $1`,
        [processDefinitionKey],
      );
      return rows[0]?.resource;
    },

    /** ACTIVE, COMPLETED or TERMINATED; undefined when the engine has no such instance. */
    async processInstanceState(processInstanceKey: string) {
      if (!/^\d{1,19}$/.test(processInstanceKey)) return undefined;
      const { rows } = await pool.query<{ state: 'ACTIVE' | 'COMPLETED' | 'TERMINATED' }>(
        `SELECT state FROM engine_process_instance WHERE key = $1`,
        [processInstanceKey],
      );
      return rows[0]?.state;
    },

    /** Unresolved incidents of an instance, with the engine's message. */
    async openIncidents(processInstanceKey: string) {
      const { rows } = await pool.query<{ key: string; message: string; element_id: string }>(
        `SELECT key::text, error_message AS message, element_id FROM engine_incident
          WHERE process_instance_key = $1 AND state = 'ACTIVE' ORDER BY key`,
        [processInstanceKey],
      );
      return rows.map((r) => ({ key: r.key, message: r.message, elementId: r.element_id }));
    },

    close: () => pool.end(),
  };
}
