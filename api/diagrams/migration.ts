/**
 * Moving running instances of an older process version to the newest one (issue 18: "the engine's
 * migration is offered where the elements map"). Elements map by id: an instance waiting at an
 * element that the newest version also has (same id, same type) can move; one waiting at an element
 * the newest version dropped cannot, and stays on its version. The engine decides per instance
 * (gRPC MigrateProcessInstance, one call each); the report says, per instance, what happened — read
 * back from the engine's tables afterwards, so a call that timed out is reported as what it did.
 */
import type { FastifyInstance } from 'fastify';
import { EngineUnavailableError } from '../../infra/camunda/client.js';
import { parseDiagram, type ModdleElement } from '../../infra/diagrams/moddle.js';

/** The engine's answer to one migration; past this the instance's outcome is read from its tables. */
const MIGRATE_TIMEOUT_MS = 10_000;

export interface VersionRow {
  key: string;
  version: number;
  resource: string;
}

export interface PlanElement {
  elementId: string;
  name: string | null;
  type: string;
  /** Running instances of the old version with a token at this element. */
  instances: number;
  /** The element of the same id in the target version, when it maps. */
  targetElementId: string | null;
  maps: boolean;
  /** Why it does not map (Chinese, for the console). */
  reason: string | null;
}

export interface MigrationPlan {
  fromVersion: number;
  toVersion: number;
  targetDefinitionKey: string;
  /** Running instances of the old version. */
  instances: number;
  /** Of those, the instances whose every active element maps. */
  mappableInstances: number;
  elements: PlanElement[];
}

type Elements = Record<string, ModdleElement>;

async function elementsOf(xml: string): Promise<Elements> {
  return (await parseDiagram(xml)).elementsById;
}

function label(el: ModdleElement | undefined): string | null {
  return typeof el?.name === 'string' ? el.name : null;
}

/** Why `id` of the old version does not map to the target, or null when it does. */
function mismatch(id: string, source: Elements, target: Elements): string | null {
  const to = target[id];
  if (!to) return '新版本中没有此元素';
  const from = source[id];
  if (from && from.$type !== to.$type) return `新版本中同编号的元素类型不同（${from.$type} → ${to.$type}）`;
  return null;
}

async function runningInstances(app: FastifyInstance, definitionKey: string): Promise<string[]> {
  const { rows } = await app.records.pool.query<{ key: string }>(
    `SELECT key::text FROM engine_process_instance WHERE process_definition_key = $1 AND state = 'ACTIVE' ORDER BY key`,
    [definitionKey],
  );
  return rows.map((r) => r.key);
}

/** The active element ids of each running instance of the version (not the process itself). */
async function activeElements(app: FastifyInstance, definitionKey: string): Promise<Map<string, string[]>> {
  const { rows } = await app.records.pool.query<{ instance: string; element_id: string }>(
    `SELECT e.process_instance_key::text AS instance, e.element_id FROM engine_element_instance e
       JOIN engine_process_instance p ON p.key = e.process_instance_key
      WHERE p.process_definition_key = $1 AND p.state = 'ACTIVE' AND e.state = 'ACTIVE' AND e.element_type <> 'PROCESS'
      ORDER BY e.process_instance_key, e.key`,
    [definitionKey],
  );
  const out = new Map<string, string[]>();
  for (const r of rows) out.set(r.instance, [...(out.get(r.instance) ?? []), r.element_id]);
  return out;
}

export async function migrationPlan(app: FastifyInstance, from: VersionRow, to: VersionRow): Promise<MigrationPlan> {
  const [source, target] = await Promise.all([elementsOf(from.resource), elementsOf(to.resource)]);
  const instances = await runningInstances(app, from.key);
  const active = await activeElements(app, from.key);
  const counts = new Map<string, number>();
  let mappable = 0;
  for (const key of instances) {
    const ids = [...new Set(active.get(key) ?? [])];
    for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    if (ids.every((id) => mismatch(id, source, target) === null)) mappable++;
  }
  const elements = [...counts.entries()]
    .map(([elementId, n]): PlanElement => {
      const reason = mismatch(elementId, source, target);
      return {
        elementId,
        name: label(source[elementId]),
        type: source[elementId]?.$type ?? '',
        instances: n,
        targetElementId: reason === null ? elementId : null,
        maps: reason === null,
        reason,
      };
    })
    .sort((a, b) => Number(a.maps) - Number(b.maps) || a.elementId.localeCompare(b.elementId));
  return {
    fromVersion: from.version,
    toVersion: to.version,
    targetDefinitionKey: to.key,
    instances: instances.length,
    mappableInstances: mappable,
    elements,
  };
}

export interface MigrationReport {
  fromVersion: number;
  toVersion: number;
  targetDefinitionKey: string;
  /** Instances now on the target version. */
  migrated: string[];
  /** Instances the engine refused, with its reason; they stay on the old version. */
  refused: { processInstanceKey: string; reason: string }[];
  /** Instances not tried because the engine stopped answering; they stay on the old version. */
  notAttempted: string[];
}

function withDeadline<T>(call: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new EngineUnavailableError('engine did not answer the migration')),
      MIGRATE_TIMEOUT_MS,
    );
  });
  call.catch(() => {});
  return Promise.race([call, deadline]).finally(() => clearTimeout(timer));
}

/** gRPC codes that are the engine's answer about this instance (not an outage). */
const REFUSALS = new Set([3 /* INVALID_ARGUMENT */, 5 /* NOT_FOUND */, 9 /* FAILED_PRECONDITION */]);

/**
 * Migrates every running instance of `from` to `to`, one engine call each, mapping each active element
 * to the element of the same id where the target has one (an unmapped one makes the engine refuse the
 * instance). An outage stops the run; what moved is then read back from the engine's tables.
 */
export async function migrateVersion(app: FastifyInstance, from: VersionRow, to: VersionRow): Promise<MigrationReport> {
  const target = await elementsOf(to.resource);
  const instances = await runningInstances(app, from.key);
  const reasons = new Map<string, string>();
  const notAttempted: string[] = [];
  let stopped = false;
  for (const key of instances) {
    if (stopped) {
      notAttempted.push(key);
      continue;
    }
    const { rows } = await app.records.pool.query<{ element_id: string }>(
      `SELECT DISTINCT element_id FROM engine_element_instance
        WHERE process_instance_key = $1 AND state = 'ACTIVE' AND element_type <> 'PROCESS' ORDER BY element_id`,
      [key],
    );
    const mappingInstructions = rows
      .filter((r) => Object.hasOwn(target, r.element_id))
      .map((r) => ({ sourceElementId: r.element_id, targetElementId: r.element_id }));
    try {
      await withDeadline(
        app.engine.grpc.migrateProcessInstance({
          processInstanceKey: key,
          migrationPlan: { targetProcessDefinitionKey: to.key, mappingInstructions },
        }),
      );
    } catch (err) {
      const e = err as { code?: number; details?: string; message?: string };
      if (typeof e.code === 'number' && REFUSALS.has(e.code)) {
        reasons.set(key, e.details ?? String(e.message));
      } else {
        // The engine did not answer: this instance's outcome is read back below; the rest wait.
        reasons.set(key, `引擎未答复（${e.details ?? e.message ?? String(err)}）`);
        stopped = true;
      }
    }
  }
  const { rows: now } = await app.records.pool.query<{ key: string; definition: string }>(
    `SELECT key::text, process_definition_key::text AS definition FROM engine_process_instance WHERE key = ANY($1::bigint[])`,
    [instances],
  );
  const moved = new Set(now.filter((r) => r.definition === to.key).map((r) => r.key));
  const tried = instances.filter((k) => !notAttempted.includes(k));
  return {
    fromVersion: from.version,
    toVersion: to.version,
    targetDefinitionKey: to.key,
    migrated: tried.filter((k) => moved.has(k)),
    refused: tried
      .filter((k) => !moved.has(k))
      .map((k) => ({ processInstanceKey: k, reason: reasons.get(k) ?? '实例已不在旧版本上运行（可能已办结）' })),
    notAttempted,
  };
}
