/**
 * Engine-backed: a job's or user task's completion reads the completed element and its scopes with one
 * statement (`SCOPE_CHAIN_SQL`, engine/src/core/run.ts: why the rows travel through the recursion). It must
 * probe by key however large the element-instance history: the old statement scanned the whole history while
 * it held a few thousand to ~40,000 rows.
 *
 * Semantics the statement serves (docs.camunda.io, components/concepts/variables, "Variable scopes"): a job's
 * variables come from its element's scope and every scope around it, innermost first.
 *
 * The history is made inside a transaction that is rolled back (other test files share the engine's
 * database): 15,000 ended element instances with keys below zero (the engine's keys are positive), then
 * ANALYZE in the same transaction, so the planner plans with statistics of a large history.
 */
import { describe, expect, it } from 'vitest';
import { SCOPE_CHAIN_OF_JOB_SQL, SCOPE_CHAIN_SQL } from '../../engine/src/core/run.js';
import { deployOneTask, engineDb } from './helpers.js';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

function scansOf(node: PlanNode, out: string[] = []): string[] {
  if (node['Relation Name'] === 'engine_element_instance') out.push(node['Node Type']);
  for (const child of node.Plans ?? []) scansOf(child, out);
  return out;
}

describe('the completion scope-chain read (docs: components/concepts/variables#variable-scopes)', () => {
  it('reads the element and its scopes by key, without scanning a large element-instance history', async () => {
    const { id } = await deployOneTask('scope-chain');
    const client = await engineDb().connect();
    try {
      const { rows: defs } = await client.query<{ key: string }>(
        `SELECT key::text FROM engine_process_definition WHERE bpmn_process_id = $1`,
        [id],
      );
      const definitionKey = defs[0]!.key;
      await client.query('BEGIN');
      // -1 the process, -2 a sub-process in it, -3 a task in the sub-process (active); the rest ended history.
      await client.query(
        `INSERT INTO engine_element_instance (key, process_instance_key, process_definition_key, bpmn_process_id,
                element_id, element_type, flow_scope_key, state, start_date, end_date, tenant_id)
         SELECT -g, -1, $1, $2,
                CASE g WHEN 1 THEN $2 WHEN 2 THEN 'sub' WHEN 3 THEN 'work' ELSE 'done' || (g % 7) END,
                CASE g WHEN 1 THEN 'PROCESS' WHEN 2 THEN 'SUB_PROCESS' ELSE 'SERVICE_TASK' END,
                CASE WHEN g IN (2, 3) THEN -(g - 1) WHEN g > 3 THEN -1 END,
                CASE WHEN g <= 3 THEN 'ACTIVE' ELSE 'COMPLETED' END,
                now(), CASE WHEN g > 3 THEN now() END, '<default>'
           FROM generate_series(1, 15000) g`,
        [definitionKey, id],
      );
      await client.query(
        `INSERT INTO engine_variable (scope_key, name, key, value, process_instance_key)
         VALUES (-1, 'outer', -100001, '1'::jsonb, -1), (-2, 'inner', -100002, '2'::jsonb, -1)`,
      );
      await client.query('ANALYZE engine_element_instance');

      const { rows: plan } = await client.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(
        `EXPLAIN (FORMAT JSON) ${SCOPE_CHAIN_SQL}`,
        ['-3'],
      );
      const scans = scansOf(plan[0]!['QUERY PLAN'][0]!.Plan);
      expect(scans.length).toBeGreaterThan(0);
      expect(scans).not.toContain('Seq Scan');

      const { rows } = await client.query<{
        key: string;
        variables: Record<string, unknown>;
        active_children: string[];
      }>(SCOPE_CHAIN_SQL, ['-3']);
      expect(rows.map((r) => r.key)).toEqual(['-3', '-2', '-1']);
      expect(rows.map((r) => r.variables)).toEqual([{}, { inner: 2 }, { outer: 1 }]);
      expect(rows.map((r) => r.active_children)).toEqual([[], ['-3'], ['-2']]);

      // The job completion's variant starts from the job's element (SCOPE_CHAIN_OF_JOB_SQL): same plan, same rows.
      await client.query(
        `INSERT INTO engine_job (key, type, state, process_instance_key, element_instance_key, element_id,
                bpmn_process_id, process_definition_key, version, retries, custom_headers, scope_path, created_at, tenant_id)
         VALUES (-7, 'probe', 'ACTIVATED', -1, -3, 'work', $2, $1, 1, 3, '{}', '{-3,-2,-1}', now(), '<default>')`,
        [definitionKey, id],
      );
      const { rows: jobPlan } = await client.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(
        `EXPLAIN (FORMAT JSON) ${SCOPE_CHAIN_OF_JOB_SQL}`,
        ['-7'],
      );
      expect(scansOf(jobPlan[0]!['QUERY PLAN'][0]!.Plan)).not.toContain('Seq Scan');
      const { rows: ofJob } = await client.query<{ key: string }>(SCOPE_CHAIN_OF_JOB_SQL, ['-7']);
      expect(ofJob.map((r) => r.key)).toEqual(['-3', '-2', '-1']);
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
  });
});
