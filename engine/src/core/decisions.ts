/**
 * Deployed decisions (DMN): stored per decision requirements graph and version, parsed once per
 * engine process, evaluated for business rule tasks (latest version of the decision id) and for
 * EvaluateDecision (docs: components/modeler/bpmn/business-rule-tasks, apis-tools/zeebe-api/gateway-service#evaluatedecision-rpc).
 */
import { createHash } from 'node:crypto';
import { type DeployResult, EngineFault, type EvaluatedDecisionResult } from '../api.js';
import type { Db } from '../db/tx.js';
import { type DecisionRequirementsGraph as DecisionGraph, evaluateDecision, parseDmn } from '../dmn.js';
import type { Run } from './run.js';
import type { DecisionOutcome } from './services.js';

const DEFAULT_TENANT = '<default>';

type Parsed = { ok: true; drg: DecisionGraph } | { ok: false; message: string };

interface StoredDecision {
  key: string;
  decisionId: string;
  name: string;
  version: number;
  drgKey: string;
  drgId: string;
}

export class Decisions {
  private readonly graphs = new Map<string, Promise<DecisionGraph>>();

  constructor(private readonly clock: () => number) {}

  async parse(xml: string): Promise<Parsed> {
    const result = await parseDmn(xml);
    if (!result.drg || result.problems.length > 0) {
      return {
        ok: false,
        message: result.problems
          .map((p) => (p.elementId ? `element '${p.elementId}': ${p.message}` : p.message))
          .join('; '),
      };
    }
    return { ok: true, drg: result.drg };
  }

  async deploy(
    run: Run,
    deploymentKey: string,
    resourceName: string,
    xml: string,
    parsed: Extract<Parsed, { ok: true }>,
  ): Promise<DeployResult['deployments']> {
    const drg = parsed.drg;
    const checksum = createHash('sha256').update(xml).digest('hex');
    const { rows } = await run.db.query<{ key: string; version: number; checksum: string }>(
      `SELECT key::text, version, checksum FROM engine_decision_requirements WHERE drg_id = $1 ORDER BY version DESC LIMIT 1`,
      [drg.id],
    );
    const latest = rows[0];
    const out: DeployResult['deployments'] = [];
    let drgKey: string;
    let version: number;
    if (latest && latest.checksum === checksum) {
      drgKey = latest.key;
      version = latest.version;
    } else {
      drgKey = await run.key();
      version = (latest?.version ?? 0) + 1;
      await run.db.query(
        `INSERT INTO engine_decision_requirements (key, drg_id, name, version, resource_name, resource, checksum, deployment_key,
           tenant_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          drgKey,
          drg.id,
          drg.name ?? null,
          version,
          resourceName,
          xml,
          checksum,
          deploymentKey,
          DEFAULT_TENANT,
          new Date(run.now),
        ],
      );
      run.record('DECISION_REQUIREMENTS', 'CREATED', drgKey, {
        decisionRequirementsId: drg.id,
        decisionRequirementsName: drg.name ?? '',
        decisionRequirementsVersion: version,
        decisionRequirementsKey: drgKey,
        resourceName,
        checksum,
        tenantId: DEFAULT_TENANT,
      });
    }
    out.push({
      decisionRequirements: {
        dmnDecisionRequirementsId: drg.id,
        dmnDecisionRequirementsName: drg.name ?? '',
        version,
        decisionRequirementsKey: drgKey,
        resourceName,
        tenantId: DEFAULT_TENANT,
      },
    });
    for (const d of drg.decisions) {
      let decisionKey: string;
      if (latest && latest.checksum === checksum) {
        const { rows: existing } = await run.db.query<{ key: string }>(
          `SELECT key::text FROM engine_decision WHERE drg_key = $1 AND decision_id = $2`,
          [drgKey, d.id],
        );
        decisionKey = existing[0]!.key;
      } else {
        decisionKey = await run.key();
        const { rows: prev } = await run.db.query<{ version: number }>(
          `SELECT max(version) AS version FROM engine_decision WHERE decision_id = $1`,
          [d.id],
        );
        await run.db.query(
          `INSERT INTO engine_decision (key, decision_id, name, version, drg_key, tenant_id) VALUES ($1, $2, $3, $4, $5, $6)`,
          [decisionKey, d.id, d.name ?? null, (prev[0]?.version ?? 0) + 1, drgKey, DEFAULT_TENANT],
        );
        run.record('DECISION', 'CREATED', decisionKey, {
          decisionId: d.id,
          decisionName: d.name ?? '',
          version,
          decisionKey,
          decisionRequirementsId: drg.id,
          decisionRequirementsKey: drgKey,
          tenantId: DEFAULT_TENANT,
        });
      }
      out.push({
        decision: {
          dmnDecisionId: d.id,
          dmnDecisionName: d.name ?? '',
          version,
          decisionKey,
          dmnDecisionRequirementsId: drg.id,
          decisionRequirementsKey: drgKey,
          tenantId: DEFAULT_TENANT,
        },
      });
    }
    return out;
  }

  private async find(db: Db, by: { decisionId?: string; decisionKey?: string }): Promise<StoredDecision | undefined> {
    const { rows } = await db.query<{
      key: string;
      decision_id: string;
      name: string | null;
      version: number;
      drg_key: string;
      drg_id: string;
    }>(
      by.decisionKey
        ? `SELECT d.key::text, d.decision_id, d.name, d.version, d.drg_key::text, r.drg_id
             FROM engine_decision d JOIN engine_decision_requirements r ON r.key = d.drg_key WHERE d.key = $1`
        : `SELECT d.key::text, d.decision_id, d.name, d.version, d.drg_key::text, r.drg_id
             FROM engine_decision d JOIN engine_decision_requirements r ON r.key = d.drg_key
            WHERE d.decision_id = $1 ORDER BY d.version DESC LIMIT 1`,
      [by.decisionKey ?? by.decisionId],
    );
    const r = rows[0];
    return r
      ? {
          key: r.key,
          decisionId: r.decision_id,
          name: r.name ?? '',
          version: r.version,
          drgKey: r.drg_key,
          drgId: r.drg_id,
        }
      : undefined;
  }

  private graph(db: Db, drgKey: string): Promise<DecisionGraph> {
    let g = this.graphs.get(drgKey);
    if (!g) {
      g = (async () => {
        const { rows } = await db.query<{ resource: string }>(
          `SELECT resource FROM engine_decision_requirements WHERE key = $1`,
          [drgKey],
        );
        const parsed = await this.parse(rows[0]!.resource);
        if (!parsed.ok) throw new Error(`stored decision requirements ${drgKey} no longer parse: ${parsed.message}`);
        return parsed.drg;
      })();
      this.graphs.set(drgKey, g);
      g.catch(() => this.graphs.delete(drgKey));
    }
    return g;
  }

  async evaluateLatest(db: Db, decisionId: string, variables: Record<string, unknown>): Promise<DecisionOutcome> {
    const stored = await this.find(db, { decisionId });
    if (!stored) {
      return {
        ok: false,
        message: `Expected to evaluate decision '${decisionId}', but no decision found for id '${decisionId}'`,
      };
    }
    const result = evaluateDecision(await this.graph(db, stored.drgKey), decisionId, variables, this.clock);
    if (!result.ok) {
      return {
        ok: false,
        decisionKey: stored.key,
        decisionId,
        message: `Expected to evaluate decision '${decisionId}', but ${result.message}`,
      };
    }
    return { ok: true, output: result.output, decisionKey: stored.key, decisionId };
  }

  async evaluateStandalone(
    db: Db,
    req: { decisionKey?: string; decisionId?: string; variables: Record<string, unknown> },
  ): Promise<EvaluatedDecisionResult> {
    if (!req.decisionKey && !req.decisionId) {
      throw new EngineFault(
        'INVALID_ARGUMENT',
        'Expected either a decision id or a valid decision key, but none provided',
      );
    }
    const stored = await this.find(db, req);
    if (!stored) {
      throw new EngineFault(
        'NOT_FOUND',
        req.decisionKey
          ? `Expected to evaluate decision with key '${req.decisionKey}', but no such decision found`
          : `Expected to evaluate decision '${req.decisionId}', but no decision found for id '${req.decisionId}'`,
      );
    }
    const result = evaluateDecision(await this.graph(db, stored.drgKey), stored.decisionId, req.variables, this.clock);
    return {
      decisionKey: stored.key,
      decisionId: stored.decisionId,
      decisionName: stored.name,
      decisionVersion: stored.version,
      decisionRequirementsId: stored.drgId,
      decisionRequirementsKey: stored.drgKey,
      decisionOutput: result.ok ? JSON.stringify(result.output ?? null) : '',
      evaluatedDecisions: (result.evaluatedDecisions ?? []).map((d) => ({
        decisionKey: stored.key,
        decisionId: d.decisionId,
        decisionName: d.decisionName,
        decisionVersion: stored.version,
        decisionType: d.decisionType,
        decisionOutput: JSON.stringify(d.output ?? null),
        matchedRules: d.matchedRules.map((r) => ({
          ruleId: r.ruleId,
          ruleIndex: r.ruleIndex,
          evaluatedOutputs: r.evaluatedOutputs.map((o) => ({
            ...o,
            outputValue: JSON.stringify(o.outputValue ?? null),
          })),
        })),
        evaluatedInputs: d.evaluatedInputs.map((i) => ({ ...i, inputValue: JSON.stringify(i.inputValue ?? null) })),
        tenantId: DEFAULT_TENANT,
      })),
      failedDecisionId: result.ok ? '' : (result.failedDecisionId ?? stored.decisionId),
      failureMessage: result.ok ? '' : result.message,
      tenantId: DEFAULT_TENANT,
      decisionInstanceKey: '-1',
    };
  }
}
