/**
 * Policy staff's diagrams (政策管理员, issue 18): the processes and decision tables deployed to the
 * engine with every version (from the engine's own tables) and who deployed it, when and why (our
 * DiagramDeployment table); a version's XML, its picture and the difference between two versions;
 * validation of a draft (api/diagrams/validate.ts); deploy and rollback — policy staff only, with a
 * required comment, audited. A deploy makes a new version: instances already running stay on theirs
 * (the engine binds an instance to its definition key), new ones start on the latest.
 */
import type { Resource } from '@camunda8/sdk/dist/zeebe/lib/deployResource.js';
import { diff } from 'bpmn-js-differ';
import type { FastifyInstance } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import fs from 'node:fs';
import { z } from 'zod';
import { EngineUnavailableError } from '../../infra/camunda/client.js';
import { TEMPLATES_FILE } from '../../infra/diagrams/element-templates.js';
import { parseDiagram, type ModdleElement } from '../../infra/diagrams/moddle.js';
import { renderSvgs } from '../../infra/diagrams/svg.js';
import { actorOf } from '../auth/actor.js';
import { audit } from '../auth/audit.js';
import { migrateVersion, migrationPlan } from '../diagrams/migration.js';
import { DIAGRAM_DEPLOYERS, DIAGRAM_MIGRATORS, DIAGRAM_READERS } from '../diagrams/roles.js';
import {
  type DiagramKind,
  type DiagramProblem,
  type Validation,
  checksum,
  countyScopeProblems,
  validateDiagram,
} from '../diagrams/validate.js';
import { countyOf } from '../auth/scope.js';
import { multilineText } from '../domain/text.js';
import { AppError } from '../errors.js';
import { errorResponse } from './shared.js';

const READERS = DIAGRAM_READERS;
const DEPLOYERS = DIAGRAM_DEPLOYERS;

/** A diagram of up to 1 MB (MAX_DIAGRAM_BYTES) fits, JSON-escaped; more is refused by fastify unread. */
const DIAGRAM_BODY_LIMIT = 2 * 1024 * 1024;
/** The engine's answer to a deployment; past this the API answers 503 (the deploy may still land). */
const DEPLOY_TIMEOUT_MS = 10_000;

const kindParam = z.enum(['process', 'decision']);
const KIND: Record<z.infer<typeof kindParam>, DiagramKind> = { process: 'PROCESS', decision: 'DECISION' };
const idParam = z
  .string()
  .regex(/^[A-Za-z_][\w.-]{0,254}$/)
  .describe('bpmnProcessId (process) or the DMN definitions id (decision)');

const problemSchema = z.object({
  elementId: z.string(),
  source: z.enum(['xml', 'engine', 'lint', 'rules']),
  rule: z.string().optional(),
  severity: z.enum(['error', 'warn']),
  message: z.string(),
});
const svgSchema = z.object({ name: z.string(), svg: z.string() });
const comment = multilineText(500).pipe(z.string().min(4, '请填写部署说明（至少 4 个字）：为什么修改、依据哪一条'));
const xmlBody = z.string().min(1).max(DIAGRAM_BODY_LIMIT);

const versionSchema = z.object({
  version: z.number(),
  definitionKey: z.string(),
  resourceName: z.string(),
  deployedAt: z.string(),
  /** Our history: null for versions the platform deployed from processes/ at start. */
  deployedBy: z.string().nullable(),
  comment: z.string().nullable(),
  rollbackOf: z.number().nullable(),
  /** Process instances still running on this version (decisions: null). */
  activeInstances: z.number().nullable(),
});

interface DefinitionRow {
  key: string;
  version: number;
  resource_name: string;
  created_at: Date;
  resource: string;
  name: string | null;
}

/** The engine's table of a kind and its id column. */
function table(kind: DiagramKind) {
  return kind === 'PROCESS'
    ? { name: 'engine_process_definition', id: 'bpmn_process_id' }
    : { name: 'engine_decision_requirements', id: 'drg_id' };
}

async function definitions(app: FastifyInstance, kind: DiagramKind, id: string): Promise<DefinitionRow[]> {
  const t = table(kind);
  const { rows } = await app.records.pool.query<DefinitionRow>(
    `SELECT key::text, version, resource_name, created_at, resource, name FROM ${t.name}
      WHERE ${t.id} = $1 ORDER BY version DESC`,
    [id],
  );
  return rows;
}

async function definition(app: FastifyInstance, kind: DiagramKind, id: string, version: number) {
  const row = (await definitions(app, kind, id)).find((d) => d.version === version);
  if (!row) throw new AppError('NOT_FOUND', undefined, `没有找到 ${id} 的第 ${version} 版。`);
  return row;
}

function refuse(problems: DiagramProblem[]): never {
  const unsafe = problems.some((p) => p.source === 'xml');
  throw new AppError(unsafe ? 'DIAGRAM_UNSAFE' : 'DIAGRAM_INVALID', { problems });
}

function withDeadline<T>(call: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new EngineUnavailableError('engine did not answer the deployment')),
      DEPLOY_TIMEOUT_MS,
    );
  });
  call.catch(() => {});
  return Promise.race([call, deadline]).finally(() => clearTimeout(timer));
}

/**
 * The checks of validate.ts and, for a decision table, the caller's county scope against the version
 * deployed now (a new table has nothing to keep).
 */
async function validateFor(
  app: FastifyInstance,
  actor: ReturnType<typeof actorOf>,
  kind: DiagramKind,
  xml: string,
): Promise<Validation> {
  const validation = await validateDiagram(kind, xml);
  if (kind !== 'DECISION' || validation.ids.length === 0) return validation;
  const [deployed] = await definitions(app, kind, validation.ids[0]!);
  if (!deployed) return validation;
  const scope = await countyScopeProblems(deployed.resource, xml, countyOf(actor));
  const problems = [...validation.problems, ...scope];
  return { ...validation, problems, ok: !problems.some((p) => p.severity === 'error') };
}

interface Deployed {
  resourceId: string;
  version: number;
  definitionKey: string;
}

/**
 * Validates, deploys through the engine's gRPC gateway (as the platform deploys processes/ at start)
 * and writes the history row and the audit row together. The same bytes as the latest version make no
 * new version (the engine's duplicate rule): refused as unchanged.
 */
async function deploy(
  app: FastifyInstance,
  req: Parameters<typeof actorOf>[0],
  kind: DiagramKind,
  xml: string,
  note: string,
  rollbackOf: number | null,
): Promise<Deployed[]> {
  const actor = actorOf(req);
  const validation = await validateFor(app, actor, kind, xml);
  if (!validation.ok) refuse(validation.problems);
  const latest = new Map<string, DefinitionRow>();
  for (const id of validation.ids) {
    const [newest] = await definitions(app, kind, id);
    if (newest) latest.set(id, newest);
  }
  const sum = checksum(xml);
  if (validation.ids.every((id) => latest.get(id) && checksum(latest.get(id)!.resource) === sum)) {
    throw new AppError('DIAGRAM_UNCHANGED');
  }
  const first = validation.ids[0]!;
  const resourceName = latest.get(first)?.resource_name ?? `${first}.${kind === 'PROCESS' ? 'bpmn' : 'dmn'}`;
  const content = Buffer.from(xml, 'utf8');
  const resource: Resource =
    kind === 'PROCESS' ? { name: resourceName, process: content } : { name: resourceName, decision: content };
  let result: Awaited<ReturnType<typeof app.engine.grpc.deployResources>>;
  try {
    result = await withDeadline(app.engine.grpc.deployResources([resource]));
  } catch (err) {
    // INVALID_ARGUMENT: the engine refused what our in-process check let through (it should not happen).
    const e = err as { code?: number; details?: string; message?: string };
    if (e.code === 3)
      refuse([{ elementId: '', source: 'engine', severity: 'error', message: e.details ?? String(e.message) }]);
    throw err;
  }
  const deployed: Deployed[] = (
    result.deployments as {
      process?: { bpmnProcessId: string; version: number; processDefinitionKey: string };
      decisionRequirements?: { dmnDecisionRequirementsId: string; version: number; decisionRequirementsKey: string };
    }[]
  ).flatMap((d) =>
    kind === 'PROCESS' && d.process
      ? [
          {
            resourceId: d.process.bpmnProcessId,
            version: d.process.version,
            definitionKey: String(d.process.processDefinitionKey),
          },
        ]
      : kind === 'DECISION' && d.decisionRequirements
        ? [
            {
              resourceId: d.decisionRequirements.dmnDecisionRequirementsId,
              version: d.decisionRequirements.version,
              definitionKey: String(d.decisionRequirements.decisionRequirementsKey),
            },
          ]
        : [],
  );
  // A process of a multi-process document that did not change keeps its version: no history row.
  const fresh = deployed.filter((d) => d.version !== latest.get(d.resourceId)?.version);
  await app.prisma.$transaction(async (tx) => {
    for (const d of fresh) {
      await tx.diagramDeployment.create({
        data: { kind, ...d, userId: actor.userId, username: actor.username, comment: note, rollbackOf },
      });
      await audit(tx, actor, {
        action: 'DEPLOY',
        entity: kind === 'PROCESS' ? 'Process' : 'Decision',
        entityId: `${d.resourceId}:${d.version}`,
        details: { comment: note, rollbackOf, definitionKey: d.definitionKey, resourceName },
        ip: req.ip,
      });
    }
  });
  return fresh;
}

const deployedSchema = z.object({
  deployed: z.array(z.object({ resourceId: z.string(), version: z.number(), definitionKey: z.string() })),
});

/** Text of a FormalExpression or documentation-like element. */
function bodyOf(el: unknown): string | null {
  const e = el as { body?: unknown; text?: unknown } | undefined;
  return typeof e?.body === 'string' ? e.body.trim() : typeof e?.text === 'string' ? e.text.trim() : null;
}

/**
 * What a reader of the diagram sees of an element, as named fields: its name, documentation (the
 * clause), timer and condition expressions, and each Zeebe extension with its attributes. The differ
 * does not look inside event definitions or extension elements (a changed deadline went unreported),
 * so the changed elements are found by comparing these.
 */
function signature(el: ModdleElement): Map<string, string> {
  const out = new Map<string, string>();
  if (typeof el.name === 'string') out.set('name', el.name);
  const docs = ((el.documentation as ModdleElement[] | undefined) ?? []).map(bodyOf).filter(Boolean);
  if (docs.length) out.set('documentation', docs.join('\n'));
  for (const def of (el.eventDefinitions as ModdleElement[] | undefined) ?? []) {
    for (const k of ['timeDuration', 'timeDate', 'timeCycle']) {
      const v = bodyOf(def[k]);
      if (v !== null) out.set(`timer.${k}`, v);
    }
    const ref = (def.messageRef ?? def.errorRef) as ModdleElement | undefined;
    if (ref?.id) out.set(`${def.$type}.ref`, ref.id);
  }
  const condition = bodyOf(el.conditionExpression);
  if (condition !== null) out.set('condition', condition);
  const values = ((el.extensionElements as ModdleElement | undefined)?.values as ModdleElement[] | undefined) ?? [];
  for (const ext of values) {
    const attrs = Object.entries(ext)
      .filter(
        ([k, v]) => !k.startsWith('$') && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'),
      )
      .map(([k, v]) => `${k}=${String(v)}`);
    const nested = Object.entries(ext)
      .filter(([k, v]) => !k.startsWith('$') && Array.isArray(v))
      .flatMap(([, v]) =>
        (v as ModdleElement[]).map((m) =>
          Object.entries(m)
            .filter(([k]) => !k.startsWith('$'))
            .map(([k, x]) => `${k}=${String(x)}`)
            .join(' '),
        ),
      );
    out.set(ext.$type, [...attrs, ...nested].join('; '));
  }
  return out;
}

export const diagramsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/api/diagrams',
    {
      config: { roles: READERS },
      schema: {
        tags: ['diagrams'],
        summary: 'The processes and decision tables deployed to the engine, with their latest version',
        response: {
          200: z.object({
            data: z.array(
              z.object({
                kind: kindParam,
                id: z.string(),
                name: z.string().nullable(),
                resourceName: z.string(),
                latestVersion: z.number(),
                versions: z.number(),
              }),
            ),
          }),
        },
      },
    },
    async () => {
      const rows: {
        kind: 'process' | 'decision';
        id: string;
        name: string | null;
        resourceName: string;
        latestVersion: number;
        versions: number;
      }[] = [];
      for (const [kind, t] of [
        ['process', table('PROCESS')],
        ['decision', table('DECISION')],
      ] as const) {
        const { rows: found } = await app.records.pool.query<{
          id: string;
          name: string | null;
          resource_name: string;
          latest: number;
          versions: string;
        }>(
          `SELECT ${t.id} AS id, (array_agg(name ORDER BY version DESC))[1] AS name,
                  (array_agg(resource_name ORDER BY version DESC))[1] AS resource_name,
                  max(version) AS latest, count(*) AS versions
             FROM ${t.name} GROUP BY ${t.id} ORDER BY ${t.id}`,
        );
        for (const r of found) {
          rows.push({
            kind,
            id: r.id,
            name: r.name,
            resourceName: r.resource_name,
            latestVersion: r.latest,
            versions: Number(r.versions),
          });
        }
      }
      return { data: rows };
    },
  );

  app.get(
    '/api/diagrams/:kind/:id/versions',
    {
      config: { roles: READERS },
      schema: {
        tags: ['diagrams'],
        summary: 'Every deployed version, newest first: when, by whom, why (comment), rollbacks, running instances',
        params: z.object({ kind: kindParam, id: idParam }),
        response: { 200: z.object({ data: z.array(versionSchema) }), 404: errorResponse },
      },
    },
    async (req) => {
      const kind = KIND[req.params.kind];
      const rows = await definitions(app, kind, req.params.id);
      if (rows.length === 0) throw new AppError('NOT_FOUND', undefined, `没有找到已部署的 ${req.params.id}。`);
      const history = await app.prisma.diagramDeployment.findMany({ where: { kind, resourceId: req.params.id } });
      const byVersion = new Map(history.map((h) => [h.version, h]));
      const active = new Map<string, number>();
      if (kind === 'PROCESS') {
        const { rows: counts } = await app.records.pool.query<{ key: string; n: string }>(
          `SELECT process_definition_key::text AS key, count(*) AS n FROM engine_process_instance
            WHERE process_definition_key = ANY($1::bigint[]) AND state = 'ACTIVE' GROUP BY process_definition_key`,
          [rows.map((r) => r.key)],
        );
        for (const c of counts) active.set(c.key, Number(c.n));
      }
      return {
        data: rows.map((r) => {
          const h = byVersion.get(r.version);
          return {
            version: r.version,
            definitionKey: r.key,
            resourceName: r.resource_name,
            deployedAt: r.created_at.toISOString(),
            deployedBy: h?.username ?? null,
            comment: h?.comment ?? null,
            rollbackOf: h?.rollbackOf ?? null,
            activeInstances: kind === 'PROCESS' ? (active.get(r.key) ?? 0) : null,
          };
        }),
      };
    },
  );

  app.get(
    '/api/diagrams/:kind/:id/versions/:version',
    {
      config: { roles: READERS },
      schema: {
        tags: ['diagrams'],
        summary: 'One version: its XML and (processes) its picture, one SVG per diagram plane',
        params: z.object({ kind: kindParam, id: idParam, version: z.coerce.number().int().positive() }),
        response: {
          200: z.object({ version: z.number(), definitionKey: z.string(), xml: z.string(), svgs: z.array(svgSchema) }),
          404: errorResponse,
        },
      },
    },
    async (req) => {
      const kind = KIND[req.params.kind];
      const row = await definition(app, kind, req.params.id, req.params.version);
      const svgs = kind === 'PROCESS' ? await renderSvgs(row.resource) : [];
      return { version: row.version, definitionKey: row.key, xml: row.resource, svgs };
    },
  );

  app.get(
    '/api/diagrams/:kind/:id/diff',
    {
      config: { roles: READERS },
      schema: {
        tags: ['diagrams'],
        summary: 'What changed between two versions of a process, element by element (bpmn-js-differ)',
        params: z.object({ kind: z.literal('process'), id: idParam }),
        querystring: z.object({ from: z.coerce.number().int().positive(), to: z.coerce.number().int().positive() }),
        response: {
          200: z.object({
            added: z.array(z.object({ id: z.string(), type: z.string(), name: z.string().nullable() })),
            removed: z.array(z.object({ id: z.string(), type: z.string(), name: z.string().nullable() })),
            changed: z.array(
              z.object({
                id: z.string(),
                type: z.string(),
                name: z.string().nullable(),
                attrs: z.array(
                  z.object({ attr: z.string(), oldValue: z.string().nullable(), newValue: z.string().nullable() }),
                ),
              }),
            ),
            layoutChanged: z.array(z.string()),
          }),
          404: errorResponse,
        },
      },
    },
    async (req) => {
      const [from, to] = await Promise.all([
        definition(app, 'PROCESS', req.params.id, req.query.from),
        definition(app, 'PROCESS', req.params.id, req.query.to),
      ]);
      const [a, b] = await Promise.all([parseDiagram(from.resource), parseDiagram(to.resource)]);
      const result = diff(a.rootElement, b.rootElement) as {
        _added: Record<string, ModdleElement>;
        _removed: Record<string, ModdleElement>;
        _changed: Record<
          string,
          { model: ModdleElement; attrs: Record<string, { oldValue: unknown; newValue: unknown }> }
        >;
        _layoutChanged: Record<string, ModdleElement>;
      };
      const brief = (id: string, el: ModdleElement) => ({
        id,
        type: el.$type,
        name: typeof el.name === 'string' ? el.name : null,
      });
      return {
        added: Object.entries(result._added).map(([id, el]) => brief(id, el)),
        removed: Object.entries(result._removed).map(([id, el]) => brief(id, el)),
        changed: Object.entries(b.elementsById).flatMap(([id, el]) => {
          const before = a.elementsById[id];
          if (!before || before.$type !== el.$type || id in result._added) return [];
          const [old, now] = [signature(before), signature(el)];
          const attrs = [...new Set([...old.keys(), ...now.keys()])]
            .filter((k) => old.get(k) !== now.get(k))
            .map((attr) => ({ attr, oldValue: old.get(attr) ?? null, newValue: now.get(attr) ?? null }));
          return attrs.length ? [{ ...brief(id, el), attrs }] : [];
        }),
        layoutChanged: Object.keys(result._layoutChanged),
      };
    },
  );

  app.post(
    '/api/diagrams/validate',
    {
      config: { roles: DEPLOYERS },
      bodyLimit: DIAGRAM_BODY_LIMIT,
      schema: {
        tags: ['diagrams'],
        summary:
          'Checks a draft as a deploy would (safety, the engine’s deploy check, bpmnlint, our rules) and draws it; nothing is deployed',
        body: z.object({ kind: kindParam, xml: xmlBody }),
        response: {
          200: z.object({
            ok: z.boolean(),
            problems: z.array(problemSchema),
            ids: z.array(z.string()),
            svgs: z.array(svgSchema),
          }),
          400: errorResponse,
        },
      },
    },
    async (req) => {
      const kind = KIND[req.body.kind];
      const validation = await validateFor(app, actorOf(req), kind, req.body.xml);
      if (validation.problems.some((p) => p.source === 'xml')) refuse(validation.problems);
      const readable = !validation.problems.some((p) => p.source === 'engine' && /not a readable/.test(p.message));
      const svgs = kind === 'PROCESS' && readable ? await renderSvgs(req.body.xml) : [];
      return { ...validation, svgs };
    },
  );

  app.post(
    '/api/diagrams/deploy',
    {
      config: { roles: DEPLOYERS },
      bodyLimit: DIAGRAM_BODY_LIMIT,
      schema: {
        tags: ['diagrams'],
        summary:
          'Deploys a process or decision table as a new version (policy staff; comment required; audited). Refused with the list of problems',
        body: z.object({ kind: kindParam, xml: xmlBody, comment }),
        response: { 201: deployedSchema, 400: errorResponse, 409: errorResponse, 422: errorResponse },
      },
    },
    async (req, reply) => {
      const deployed = await deploy(app, req, KIND[req.body.kind], req.body.xml, req.body.comment, null);
      return reply.code(201).send({ deployed });
    },
  );

  app.post(
    '/api/diagrams/:kind/:id/versions/:version/rollback',
    {
      config: { roles: DEPLOYERS },
      schema: {
        tags: ['diagrams'],
        summary: 'Rollback: deploys an earlier version again as the newest (comment required; audited)',
        params: z.object({ kind: kindParam, id: idParam, version: z.coerce.number().int().positive() }),
        body: z.object({ comment }),
        response: { 201: deployedSchema, 404: errorResponse, 409: errorResponse, 422: errorResponse },
      },
    },
    async (req, reply) => {
      const kind = KIND[req.params.kind];
      const row = await definition(app, kind, req.params.id, req.params.version);
      const deployed = await deploy(app, req, kind, row.resource, req.body.comment, row.version);
      return reply.code(201).send({ deployed });
    },
  );

  /** The old version and the newest one of a process; the newest itself has nowhere to go. */
  async function migrationVersions(id: string, version: number) {
    const rows = await definitions(app, 'PROCESS', id);
    const from = rows.find((r) => r.version === version);
    if (!from) throw new AppError('NOT_FOUND', undefined, `没有找到 ${id} 的第 ${version} 版。`);
    const to = rows[0]!;
    if (to.version === from.version) {
      throw new AppError('CONFLICT', undefined, `第 ${version} 版已是最新版本，无需迁移。`);
    }
    return { from, to };
  }

  app.get(
    '/api/diagrams/:kind/:id/versions/:version/migration-plan',
    {
      config: { roles: READERS },
      schema: {
        tags: ['diagrams'],
        summary:
          'What a migration of this version’s running instances to the newest version would map: each active element, the element of the same id in the newest version or why none, with counts',
        params: z.object({ kind: z.literal('process'), id: idParam, version: z.coerce.number().int().positive() }),
        response: {
          200: z.object({
            fromVersion: z.number(),
            toVersion: z.number(),
            targetDefinitionKey: z.string(),
            instances: z.number(),
            mappableInstances: z.number(),
            elements: z.array(
              z.object({
                elementId: z.string(),
                name: z.string().nullable(),
                type: z.string(),
                instances: z.number(),
                targetElementId: z.string().nullable(),
                maps: z.boolean(),
                reason: z.string().nullable(),
              }),
            ),
          }),
          404: errorResponse,
          409: errorResponse,
        },
      },
    },
    async (req) => {
      const { from, to } = await migrationVersions(req.params.id, req.params.version);
      return migrationPlan(app, from, to);
    },
  );

  app.post(
    '/api/diagrams/:kind/:id/migrate',
    {
      config: { roles: DIAGRAM_MIGRATORS },
      schema: {
        tags: ['diagrams'],
        summary:
          'Moves every running instance of an older version to the newest one, elements mapped by id (policy staff; comment required; audited). Answers per instance: migrated, refused with the engine’s reason (it stays on its version), or not attempted',
        params: z.object({ kind: z.literal('process'), id: idParam }),
        body: z.object({ fromVersion: z.number().int().positive(), comment }),
        response: {
          200: z.object({
            fromVersion: z.number(),
            toVersion: z.number(),
            targetDefinitionKey: z.string(),
            migrated: z.array(z.string()),
            refused: z.array(z.object({ processInstanceKey: z.string(), reason: z.string() })),
            notAttempted: z.array(z.string()),
          }),
          404: errorResponse,
          409: errorResponse,
        },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const { from, to } = await migrationVersions(req.params.id, req.body.fromVersion);
      const report = await migrateVersion(app, from, to);
      await audit(app.prisma, actor, {
        action: 'MIGRATE',
        entity: 'Process',
        entityId: `${req.params.id}:${from.version}`,
        details: {
          comment: req.body.comment,
          fromVersion: from.version,
          toVersion: to.version,
          targetDefinitionKey: to.key,
          migrated: report.migrated,
          refused: report.refused,
          notAttempted: report.notAttempted,
        },
        ip: req.ip,
      });
      return report;
    },
  );

  app.get(
    '/api/diagrams/element-templates',
    {
      config: { roles: READERS },
      schema: {
        tags: ['diagrams'],
        summary: 'The element templates of our job workers (npm run diagrams:templates), for the editor',
        response: { 200: z.array(z.record(z.string(), z.unknown())), 404: errorResponse },
      },
    },
    async () => {
      if (!fs.existsSync(TEMPLATES_FILE)) {
        throw new AppError('NOT_FOUND', undefined, '元素模板尚未生成：请运行 npm run diagrams:templates。');
      }
      return JSON.parse(fs.readFileSync(TEMPLATES_FILE, 'utf8')) as Record<string, unknown>[];
    },
  );
};
