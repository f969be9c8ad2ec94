/**
 * The REST `…/search` queries over the engine's own tables (what Camunda answers from its secondary
 * storage). Filters take a value or `{ $eq | $neq | $in | $like | $exists }` as Camunda 8.8 documents;
 * sort by the documented fields; page with `from` and `limit`.
 */
import type pg from 'pg';
import {
  type ElementInstanceItem,
  EngineFault,
  type IncidentItem,
  type ProcessInstanceItem,
  type SearchPage,
  type SearchQuery,
  type UserTaskItem,
} from '../api.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;

interface Field {
  column: string;
  /** How the API value becomes the column's value. */
  kind?: 'key' | 'text' | 'int' | 'date' | 'array' | 'bool';
  /** An array column's first element as its own indexed column (`$in` with many values looks it up). */
  firstColumn?: string;
}

/** Above this many values an array `$in` goes by the first element's column (see buildWhere). */
const MANY_VALUES = 32;

function buildWhere(filter: Record<string, unknown> | undefined, fields: Record<string, Field>, params: unknown[]) {
  const where: string[] = [];
  const param = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  for (const [name, raw] of Object.entries(filter ?? {})) {
    const field = fields[name];
    if (!field) throw new EngineFault('INVALID_ARGUMENT', `The filter field '${name}' is not supported`);
    const ops: Record<string, unknown> =
      raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : { $eq: raw };
    for (const [op, value] of Object.entries(ops)) {
      const cast =
        field.kind === 'key'
          ? '::bigint'
          : field.kind === 'int'
            ? '::int'
            : field.kind === 'date'
              ? '::timestamptz'
              : '';
      if (field.kind === 'array') {
        if (op === '$eq') where.push(`${param(String(value))} = ANY(${field.column})`);
        else if (op === '$in') {
          if (!Array.isArray(value)) throw new EngineFault('INVALID_ARGUMENT', `'${name}.$in' must be an array`);
          const set = param(value.map(String));
          // A county's thousands of candidate groups: `&&` compares every open task with every group (the
          // GIN index's check too); the task's first group (its own indexed column) looked up in the set,
          // then the few tasks with more groups, is an index scan (the API's read model does the same).
          where.push(
            field.firstColumn && value.length > MANY_VALUES
              ? `(${field.firstColumn} = ANY(${set}::text[]) OR (cardinality(${field.column}) > 1 AND ${field.column} && ${set}::text[]))`
              : `${field.column} && ${set}::text[]`,
          );
        } else throw new EngineFault('INVALID_ARGUMENT', `The operator '${op}' is not supported for '${name}'`);
        continue;
      }
      switch (op) {
        case '$eq':
          where.push(`${field.column} = ${param(value)}${cast}`);
          break;
        case '$neq':
          where.push(`${field.column} IS DISTINCT FROM ${param(value)}${cast}`);
          break;
        case '$in':
          if (!Array.isArray(value)) throw new EngineFault('INVALID_ARGUMENT', `'${name}.$in' must be an array`);
          where.push(`${field.column} = ANY(${param(value)}${cast ? `${cast}[]` : '::text[]'})`);
          break;
        case '$exists':
          where.push(value ? `${field.column} IS NOT NULL` : `${field.column} IS NULL`);
          break;
        case '$like':
          where.push(`${field.column}::text LIKE ${param(String(value).replace(/\*/g, '%'))}`);
          break;
        case '$gt':
        case '$gte':
        case '$lt':
        case '$lte': {
          const sql = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' }[op];
          where.push(`${field.column} ${sql} ${param(value)}${cast}`);
          break;
        }
        default:
          throw new EngineFault('INVALID_ARGUMENT', `The operator '${op}' is not supported for '${name}'`);
      }
    }
  }
  return where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
}

async function search<T>(
  pool: pg.Pool,
  q: SearchQuery,
  table: string,
  select: string,
  fields: Record<string, Field>,
  defaultSort: string,
  toItem: (row: Record<string, unknown>) => T,
): Promise<SearchPage<T>> {
  const params: unknown[] = [];
  const where = buildWhere(q.filter, fields, params);
  const order = (q.sort ?? [])
    .map((s) => {
      const f = fields[s.field];
      if (!f) throw new EngineFault('INVALID_ARGUMENT', `The sort field '${s.field}' is not supported`);
      return `${f.column} ${String(s.order ?? 'ASC').toUpperCase() === 'DESC' ? 'DESC' : 'ASC'} NULLS LAST`;
    })
    .concat(defaultSort)
    .join(', ');
  const limit = Math.min(Math.max(q.page?.limit ?? DEFAULT_LIMIT, 0), MAX_LIMIT);
  const from = Math.max(q.page?.from ?? 0, 0);
  const { rows } = await pool.query(
    `SELECT ${select}, count(*) OVER () AS total_items FROM ${table} ${where} ORDER BY ${order} LIMIT ${limit} OFFSET ${from}`,
    params,
  );
  let totalItems = rows[0] ? Number(rows[0].total_items) : 0;
  if (rows.length === 0 && from > 0) {
    const { rows: c } = await pool.query(`SELECT count(*)::int AS n FROM ${table} ${where}`, params);
    totalItems = c[0]?.n ?? 0;
  }
  return { items: rows.map(toItem), totalItems };
}

const iso = (d: unknown) => (d instanceof Date ? d.toISOString() : undefined);

export function searchUserTasks(pool: pg.Pool, q: SearchQuery): Promise<SearchPage<UserTaskItem>> {
  return search(
    pool,
    q,
    'engine_user_task',
    `key::text, name, state, assignee, element_id, element_instance_key::text, candidate_groups, candidate_users,
     bpmn_process_id, process_definition_key::text, version, process_instance_key::text, form_key, creation_date,
     completion_date, due_date, follow_up_date, priority, tenant_id`,
    {
      userTaskKey: { column: 'key', kind: 'key' },
      state: { column: 'state' },
      assignee: { column: 'assignee' },
      elementId: { column: 'element_id' },
      elementInstanceKey: { column: 'element_instance_key', kind: 'key' },
      candidateGroup: { column: 'candidate_groups', kind: 'array', firstColumn: 'first_candidate_group' },
      candidateUser: { column: 'candidate_users', kind: 'array' },
      processDefinitionId: { column: 'bpmn_process_id' },
      bpmnProcessId: { column: 'bpmn_process_id' },
      processDefinitionKey: { column: 'process_definition_key', kind: 'key' },
      processInstanceKey: { column: 'process_instance_key', kind: 'key' },
      tenantId: { column: 'tenant_id' },
      priority: { column: 'priority', kind: 'int' },
      creationDate: { column: 'creation_date', kind: 'date' },
      completionDate: { column: 'completion_date', kind: 'date' },
      dueDate: { column: 'due_date', kind: 'date' },
      followUpDate: { column: 'follow_up_date', kind: 'date' },
    },
    'key',
    (r) => ({
      userTaskKey: r.key as string,
      name: (r.name as string) ?? undefined,
      state: r.state as UserTaskItem['state'],
      assignee: (r.assignee as string) ?? undefined,
      elementId: r.element_id as string,
      elementInstanceKey: r.element_instance_key as string,
      candidateGroups: r.candidate_groups as string[],
      candidateUsers: r.candidate_users as string[],
      processDefinitionId: r.bpmn_process_id as string,
      processDefinitionKey: r.process_definition_key as string,
      processDefinitionVersion: r.version as number,
      processInstanceKey: r.process_instance_key as string,
      formKey: (r.form_key as string) ?? undefined,
      creationDate: iso(r.creation_date)!,
      completionDate: iso(r.completion_date),
      dueDate: iso(r.due_date),
      followUpDate: iso(r.follow_up_date),
      priority: r.priority as number,
      tenantId: r.tenant_id as string,
    }),
  );
}

export function searchProcessInstances(pool: pg.Pool, q: SearchQuery): Promise<SearchPage<ProcessInstanceItem>> {
  return search(
    pool,
    q,
    `(SELECT p.*, d.name AS definition_name,
             EXISTS (SELECT 1 FROM engine_incident i WHERE i.process_instance_key = p.key AND i.state = 'ACTIVE') AS has_incident
        FROM engine_process_instance p JOIN engine_process_definition d ON d.key = p.process_definition_key) pi`,
    `key::text, bpmn_process_id, definition_name, version, process_definition_key::text,
     parent_process_instance_key::text, parent_element_instance_key::text, start_date, end_date, state, has_incident, tenant_id`,
    {
      processInstanceKey: { column: 'key', kind: 'key' },
      processDefinitionId: { column: 'bpmn_process_id' },
      processDefinitionKey: { column: 'process_definition_key', kind: 'key' },
      processDefinitionVersion: { column: 'version', kind: 'int' },
      parentProcessInstanceKey: { column: 'parent_process_instance_key', kind: 'key' },
      parentElementInstanceKey: { column: 'parent_element_instance_key', kind: 'key' },
      state: { column: 'state' },
      hasIncident: { column: 'has_incident', kind: 'bool' },
      startDate: { column: 'start_date', kind: 'date' },
      endDate: { column: 'end_date', kind: 'date' },
      tenantId: { column: 'tenant_id' },
    },
    'key',
    (r) => ({
      processInstanceKey: r.key as string,
      processDefinitionId: r.bpmn_process_id as string,
      processDefinitionName: (r.definition_name as string) ?? undefined,
      processDefinitionVersion: r.version as number,
      processDefinitionKey: r.process_definition_key as string,
      parentProcessInstanceKey: (r.parent_process_instance_key as string) ?? undefined,
      parentElementInstanceKey: (r.parent_element_instance_key as string) ?? undefined,
      startDate: iso(r.start_date)!,
      endDate: iso(r.end_date),
      state: r.state as ProcessInstanceItem['state'],
      hasIncident: r.has_incident as boolean,
      tenantId: r.tenant_id as string,
    }),
  );
}

export function searchElementInstances(pool: pg.Pool, q: SearchQuery): Promise<SearchPage<ElementInstanceItem>> {
  return search(
    pool,
    q,
    `(SELECT e.*, i.key AS incident_key FROM engine_element_instance e
        LEFT JOIN LATERAL (SELECT key FROM engine_incident WHERE element_instance_key = e.key AND state = 'ACTIVE' LIMIT 1) i ON true
       WHERE e.element_type <> 'PROCESS') ei`,
    `key::text, process_instance_key::text, process_definition_key::text, bpmn_process_id, element_id, element_type,
     state, start_date, end_date, incident_key::text, tenant_id`,
    {
      elementInstanceKey: { column: 'key', kind: 'key' },
      processInstanceKey: { column: 'process_instance_key', kind: 'key' },
      processDefinitionKey: { column: 'process_definition_key', kind: 'key' },
      processDefinitionId: { column: 'bpmn_process_id' },
      elementId: { column: 'element_id' },
      type: { column: 'element_type' },
      state: { column: 'state' },
      flowScopeKey: { column: 'flow_scope_key', kind: 'key' },
      startDate: { column: 'start_date', kind: 'date' },
      endDate: { column: 'end_date', kind: 'date' },
      tenantId: { column: 'tenant_id' },
    },
    'key',
    (r) => ({
      elementInstanceKey: r.key as string,
      processInstanceKey: r.process_instance_key as string,
      processDefinitionKey: r.process_definition_key as string,
      processDefinitionId: r.bpmn_process_id as string,
      elementId: r.element_id as string,
      type: r.element_type as string,
      state: r.state as ElementInstanceItem['state'],
      startDate: iso(r.start_date)!,
      endDate: iso(r.end_date),
      hasIncident: r.incident_key !== null,
      incidentKey: (r.incident_key as string) ?? undefined,
      tenantId: r.tenant_id as string,
    }),
  );
}

export function searchIncidents(pool: pg.Pool, q: SearchQuery): Promise<SearchPage<IncidentItem>> {
  return search(
    pool,
    q,
    'engine_incident',
    `key::text, process_definition_key::text, bpmn_process_id, process_instance_key::text, error_type, error_message,
     element_id, element_instance_key::text, created_at, state, job_key::text, tenant_id`,
    {
      incidentKey: { column: 'key', kind: 'key' },
      processDefinitionKey: { column: 'process_definition_key', kind: 'key' },
      processDefinitionId: { column: 'bpmn_process_id' },
      processInstanceKey: { column: 'process_instance_key', kind: 'key' },
      errorType: { column: 'error_type' },
      errorMessage: { column: 'error_message' },
      elementId: { column: 'element_id' },
      elementInstanceKey: { column: 'element_instance_key', kind: 'key' },
      creationTime: { column: 'created_at', kind: 'date' },
      state: { column: 'state' },
      jobKey: { column: 'job_key', kind: 'key' },
      tenantId: { column: 'tenant_id' },
    },
    'key',
    (r) => ({
      incidentKey: r.key as string,
      processDefinitionKey: r.process_definition_key as string,
      processDefinitionId: r.bpmn_process_id as string,
      processInstanceKey: r.process_instance_key as string,
      errorType: r.error_type as string,
      errorMessage: r.error_message as string,
      elementId: r.element_id as string,
      elementInstanceKey: r.element_instance_key as string,
      creationTime: iso(r.created_at)!,
      state: r.state as IncidentItem['state'],
      jobKey: (r.job_key as string) ?? undefined,
      tenantId: r.tenant_id as string,
    }),
  );
}

/** REST `/v2/variables/search` item (Camunda 8.8 field names); `value` is the JSON text of the value. */
export interface VariableItem {
  variableKey: string;
  name: string;
  value: string;
  /** Never: this engine returns every value whole (Camunda truncates long ones unless `truncateValues=false`). */
  isTruncated: boolean;
  scopeKey: string;
  processInstanceKey: string;
  tenantId: string;
}

/**
 * Each variable's latest value per scope, from the record log: engine_variable drops a scope's variables when
 * the scope ends, while Camunda's secondary storage — what its search answers from — keeps them, so a task's
 * variables stay readable after its instance ended. `where` narrows the log before the latest are picked
 * (a process instance: zeebe_record_pi_idx). The DISTINCT ON columns are the instance, the scope and the
 * name, so a filter on them is applied inside, by the index.
 */
function variablesTable(where = '') {
  return `(SELECT DISTINCT ON (value->>'processInstanceKey', (value->>'scopeKey')::bigint, value->>'name')
                  record_key, value->>'name' AS name, value->>'value' AS value,
                  (value->>'scopeKey')::bigint AS scope_key, value->>'processInstanceKey' AS process_instance_key,
                  value->>'tenantId' AS tenant_id, false AS is_truncated
             FROM zeebe_record WHERE value_type = 'VARIABLE' ${where}
            ORDER BY value->>'processInstanceKey', (value->>'scopeKey')::bigint, value->>'name', position DESC) v`;
}

const VARIABLE_COLUMNS = `record_key::text AS key, name, value, scope_key::text, process_instance_key, tenant_id`;

const VARIABLE_FIELDS: Record<string, Field> = {
  variableKey: { column: 'record_key', kind: 'key' },
  name: { column: 'name' },
  value: { column: 'value' },
  scopeKey: { column: 'scope_key', kind: 'key' },
  processInstanceKey: { column: 'process_instance_key' },
  tenantId: { column: 'tenant_id' },
  isTruncated: { column: 'is_truncated', kind: 'bool' },
};

const toVariable = (r: Record<string, unknown>): VariableItem => ({
  variableKey: r.key as string,
  name: r.name as string,
  value: r.value as string,
  isTruncated: false,
  scopeKey: r.scope_key as string,
  processInstanceKey: r.process_instance_key as string,
  tenantId: r.tenant_id as string,
});

/**
 * `POST /v2/variables/search`: the variables defined directly at their scopes ("it does not include variables
 * from parent scopes"), filter by variableKey, name, value (JSON text), scopeKey, processInstanceKey, tenantId,
 * isTruncated. docs: apis-tools/orchestration-cluster-api-rest/specifications/search-variables
 */
export function searchVariables(pool: pg.Pool, q: SearchQuery): Promise<SearchPage<VariableItem>> {
  return search(pool, q, variablesTable(), VARIABLE_COLUMNS, VARIABLE_FIELDS, 'record_key', toVariable);
}

/**
 * `POST /v2/user-tasks/{userTaskKey}/variables/search`: "all variable documents visible from the user task's
 * scope, including variables from parent scopes in the scope hierarchy. If the same variable name exists at
 * multiple scope levels, each scope's variable is returned as a separate result" — the task's element
 * instance and each of its flow scopes up to the process instance (element instances are kept as history,
 * so also after the task ended). Filter by name. An unknown task has none.
 * docs: apis-tools/orchestration-cluster-api-rest/specifications/search-user-task-variables
 */
export function searchUserTaskVariables(
  pool: pg.Pool,
  userTaskKey: string,
  q: SearchQuery,
): Promise<SearchPage<VariableItem>> {
  if (!/^\d{1,19}$/.test(userTaskKey)) throw new EngineFault('INVALID_ARGUMENT', `'${userTaskKey}' is not a valid key`);
  const unknown = Object.keys(q.filter ?? {}).find((f) => f !== 'name');
  if (unknown) throw new EngineFault('INVALID_ARGUMENT', `The filter field '${unknown}' is not supported`);
  // The key is digits only (checked above), so it is written into the statement as a literal.
  const table = `(WITH RECURSIVE task AS (SELECT element_instance_key, process_instance_key FROM engine_user_task
                                          WHERE key = ${userTaskKey}),
                  path(key, depth) AS (
                    SELECT element_instance_key, 0 FROM task
                    UNION ALL
                    SELECT e.flow_scope_key, path.depth + 1 FROM engine_element_instance e JOIN path ON e.key = path.key
                     WHERE e.flow_scope_key IS NOT NULL AND path.depth < 64)
                SELECT v.* FROM ${variablesTable(`AND value->>'processInstanceKey' = (SELECT process_instance_key::text FROM task)`)}
                 WHERE v.scope_key IN (SELECT key FROM path UNION SELECT process_instance_key FROM task)) tv`;
  return search(pool, q, table, VARIABLE_COLUMNS, VARIABLE_FIELDS, 'record_key', toVariable);
}

/**
 * `GET /v2/process-definitions/{processDefinitionKey}/xml`: the BPMN XML as deployed, or undefined when there is
 * no such definition. docs: apis-tools/orchestration-cluster-api-rest/specifications/get-process-definition-xml
 */
export async function processDefinitionXml(pool: pg.Pool, processDefinitionKey: string): Promise<string | undefined> {
  const { rows } = await pool.query<{ resource: string }>(
    `SELECT resource FROM engine_process_definition WHERE key = $1::bigint`,
    [processDefinitionKey],
  );
  return rows[0]?.resource;
}

/** The history queries above, over one pool, for the REST gateway. */
export function historyQueries(pool: pg.Pool) {
  return {
    searchVariables: (q: SearchQuery) => searchVariables(pool, q),
    searchUserTaskVariables: (userTaskKey: string, q: SearchQuery) => searchUserTaskVariables(pool, userTaskKey, q),
    processDefinitionXml: (processDefinitionKey: string) => processDefinitionXml(pool, processDefinitionKey),
  };
}
export type HistoryQueries = ReturnType<typeof historyQueries>;
