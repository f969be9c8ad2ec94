/**
 * Job activation as one statement: the jobs taken (set ACTIVATED with the worker's deadline), their
 * ACTIVATED records, and the variables of every scope they see, each scope once. Two callers: a worker's
 * activation (ActivateJobs, a stream's back-fill) takes the oldest activatable jobs of a type
 * (`FOR UPDATE SKIP LOCKED`); a job push takes the jobs the command itself just created, in that command's
 * last message (docs: components/concepts/job-workers, "Job streaming": a job created while a stream of
 * its type is open is activated and pushed to it at once).
 */
import type { ActivatedJob, Variables } from '../api.js';
import type { JobRow } from './run.js';
import { PARTITION_ID } from './records.js';

/** One row of the statement: a job, or a `[scope, name, value]` variable triple (both as JSON text). */
export interface ActivationRow {
  job: string | null;
  v: string | null;
}

export interface ActivationRequest {
  worker: string;
  timeout: number;
  fetchVariable: string[];
}

/**
 * The statement activating the jobs whose keys `selection` answers (a subquery; its own parameters are
 * `extra`, numbered from $6).
 */
export function activationStatement(
  selection: string,
  req: ActivationRequest,
  now: number,
  extra: unknown[],
): { text: string; values: unknown[] } {
  return {
    text: `WITH j AS (
           UPDATE engine_job j SET state = 'ACTIVATED', deadline = $1, worker = $2
            WHERE j.key IN (${selection})
           RETURNING j.key::text AS key, j.type, j.state, j.process_instance_key::text AS process_instance_key,
                     j.element_instance_key::text AS element_instance_key, j.element_id, j.retries, j.custom_headers,
                     j.worker, j.bpmn_process_id, j.process_definition_key::text AS process_definition_key, j.version,
                     j.tenant_id, j.scope_path::text[] AS scope_path),
         rec AS (
           INSERT INTO zeebe_record (partition_id, position, record_key, ts, value_type, intent, value)
           SELECT ${PARTITION_ID}, nextval('engine_record_position'), j.key::bigint, $3, 'JOB', 'ACTIVATED',
                  jsonb_build_object('type', j.type, 'worker', $2::text, 'retries', j.retries, 'deadline', $5::bigint,
                                     'elementId', j.element_id, 'elementInstanceKey', j.element_instance_key,
                                     'processInstanceKey', j.process_instance_key, 'bpmnProcessId', j.bpmn_process_id)
             FROM j ORDER BY j.key::bigint),
         s AS (SELECT DISTINCT unnest(scope_path)::bigint AS scope_key FROM j)
         SELECT row_to_json(j)::text AS job, NULL AS v FROM j
         UNION ALL
         SELECT NULL, json_build_array(v.scope_key::text, v.name, v.value)::text
           FROM s JOIN engine_variable v ON v.scope_key = s.scope_key
          WHERE $4::text[] IS NULL OR v.name = ANY($4::text[])`,
    values: [
      new Date(now + req.timeout),
      req.worker,
      new Date(now),
      req.fetchVariable.length > 0 ? req.fetchVariable : null,
      now + req.timeout,
      ...extra,
    ],
  };
}

/** The statement's rows as activated jobs, in key order, each with the variables it sees (innermost wins). */
export function activatedJobs(out: ActivationRow[], worker: string, deadline: number): ActivatedJob[] {
  const rows: (JobRow & { scope_path: string[] })[] = [];
  const byScope = new Map<string, [string, unknown][]>();
  for (const o of out) {
    if (o.job !== null) {
      rows.push(JSON.parse(o.job));
      continue;
    }
    const [scope, name, value] = JSON.parse(o.v!) as [string, string, unknown];
    let list = byScope.get(scope);
    if (!list) byScope.set(scope, (list = []));
    list.push([name, value]);
  }
  rows.sort((a, b) => (BigInt(a.key) < BigInt(b.key) ? -1 : 1));
  return rows.map((r): ActivatedJob => {
    const variables: Variables = {};
    for (let i = r.scope_path.length - 1; i >= 0; i--) {
      for (const [name, value] of byScope.get(r.scope_path[i]!) ?? []) variables[name] = value;
    }
    return {
      key: r.key,
      type: r.type,
      processInstanceKey: r.process_instance_key,
      bpmnProcessId: r.bpmn_process_id,
      processDefinitionVersion: r.version,
      processDefinitionKey: r.process_definition_key,
      elementId: r.element_id,
      elementInstanceKey: r.element_instance_key,
      customHeaders: r.custom_headers,
      worker,
      retries: r.retries,
      deadline,
      variables,
      tenantId: r.tenant_id,
    };
  });
}
