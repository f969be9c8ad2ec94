/**
 * The engine's read model over the Orchestration Cluster REST API (`/v2` search endpoints, Camunda 8.8),
 * for a Camunda 8 cluster, where there are no engine tables to read (ENGINE_READ_MODEL=rest): the same
 * methods as records.ts, answered from
 * - `POST /v2/user-tasks/search` (filter state, candidateGroup `$in`, assignee, processInstanceKey, elementId,
 *   processDefinitionId, dueDate `$lt`; sort dueDate/creationDate; page from/limit),
 * - `POST /v2/user-tasks/{userTaskKey}/variables/search` (every scope the task sees, one row per scope),
 * - `POST /v2/process-instances/search`, `POST /v2/incidents/search`,
 * - `GET /v2/process-definitions/{processDefinitionKey}/xml`,
 * with the credentials the API's engine calls use (client.ts: basic authentication, ENGINE_USERNAME/PASSWORD).
 * docs: https://docs.camunda.io/docs/apis-tools/orchestration-cluster-api-rest/orchestration-cluster-api-rest-data-fetching/
 *
 * Camunda's search data is eventually consistent (exported from the log), where our engine's tables are
 * written in the command's transaction: a task just created may show a moment later. What needs our
 * engine's tables beyond these methods (`pool`: heatmaps, diagram history and migration plans, progress)
 * is refused with NEEDS_ENGINE_DATABASE (501).
 */
import pg from 'pg';
import { AppError } from '../../api/errors.js';
import { type Config, engineAddresses } from '../config.js';
import { basicAuthorization, EngineHttpError, engineRest } from './client.js';
import { createEngineRecords, type EngineRecords, type TaskFilter, type UserTask } from './records.js';

/** Page size when more than one page is wanted (a task's variables, an instance's tasks, a long list). */
const ALL_PAGE = 1000;
/** Limit of openUserTasks() without one (records.ts answers up to 1,000 too). */
const DEFAULT_LIMIT = 1000;
/** Parent instances followed at most (records.ts: depth < 16). */
const MAX_CALLER_DEPTH = 16;
const KEY = /^\d{1,19}$/;

interface SearchResult<T> {
  items: T[];
  page: { totalItems: number };
}

/** `/v2/user-tasks/search` item, the fields read here (Camunda 8.8 names). */
interface UserTaskItem {
  userTaskKey: string;
  state: string;
  elementId: string;
  elementInstanceKey?: string;
  processDefinitionId: string;
  processDefinitionKey: string;
  processInstanceKey: string;
  candidateGroups?: string[] | null;
  candidateUsers?: string[] | null;
  assignee?: string | null;
  dueDate?: string | null;
  creationDate: string;
  completionDate?: string | null;
}

interface VariableItem {
  name: string;
  value: string;
  scopeKey: string;
  processInstanceKey: string;
}

const iso = (d: string | null | undefined) => (d ? new Date(d).toISOString() : null);

function toTask(t: UserTaskItem): UserTask {
  return {
    userTaskKey: t.userTaskKey,
    state: t.state === 'COMPLETED' ? 'COMPLETED' : t.state === 'CANCELED' ? 'CANCELED' : 'CREATED',
    elementId: t.elementId,
    bpmnProcessId: t.processDefinitionId,
    processDefinitionKey: t.processDefinitionKey,
    processInstanceKey: t.processInstanceKey,
    candidateGroups: t.candidateGroups ?? [],
    candidateUsers: t.candidateUsers ?? [],
    assignee: t.assignee || null,
    dueDate: iso(t.dueDate),
    createdAt: iso(t.creationDate)!,
  };
}

/** A refusal for what only our engine's tables can answer. */
function needsEngineDatabase(): AppError {
  return new AppError('NEEDS_ENGINE_DATABASE', {
    readModel: 'rest',
    needs: 'the engine database (ENGINE_DATABASE_URL): heatmaps, diagram history and migration plans, progress',
  });
}

/**
 * What stands in for the engine database's pool in rest mode: every query and connection is refused with
 * NEEDS_ENGINE_DATABASE, so the views that read engine tables answer 501 naming what they need instead of
 * connecting somewhere they must not.
 */
function refusingPool(): pg.Pool {
  const pool = new pg.Pool({ max: 1 });
  const refuse = () => Promise.reject(needsEngineDatabase());
  Object.assign(pool, { query: refuse, connect: refuse });
  return pool;
}

export interface RestReadModelOptions {
  /** The REST API's base, without /v2 (engineAddresses(cfg).rest). */
  restAddress: string;
  username?: string;
  password?: string;
  /** Items per search request when more are wanted (default 1,000; Camunda bounds a page). */
  pageSize?: number;
}

export function createRestRecords(opts: RestReadModelOptions): EngineRecords {
  const base = opts.restAddress.replace(/\/+$/, '');
  const pageSize = opts.pageSize ?? ALL_PAGE;
  const authorization = basicAuthorization(opts.username, opts.password);

  /** One call; a 404 answers undefined (no such resource), other refusals throw as client.ts does. */
  async function call(method: 'GET' | 'POST', pathname: string, body?: unknown): Promise<Response | undefined> {
    return engineRest(base, authorization, method, pathname, body, {
      accept: method === 'GET' ? 'text/xml, application/json' : 'application/json',
      notFound: 'undefined',
    });
  }

  async function search<T>(pathname: string, body: unknown): Promise<SearchResult<T>> {
    const res = await call('POST', pathname, body);
    if (!res) throw new EngineHttpError(404, `no search endpoint ${pathname}`);
    const parsed = (await res.json()) as Partial<SearchResult<T>>;
    return { items: parsed.items ?? [], page: { totalItems: parsed.page?.totalItems ?? 0 } };
  }

  /** Every item, page by page (`from`/`limit`). */
  async function searchAll<T>(pathname: string, body: { filter?: unknown; sort?: unknown }): Promise<T[]> {
    const items: T[] = [];
    for (let from = 0; ; from += pageSize) {
      const page = await search<T>(pathname, { ...body, page: { from, limit: pageSize } });
      items.push(...page.items);
      if (page.items.length < pageSize || items.length >= page.page.totalItems) return items;
    }
  }

  /** The variables a user task sees, each scope's own (innermost scope has the largest key: keys grow). */
  async function visibleVariables(userTaskKey: string, names?: string[]): Promise<VariableItem[]> {
    return searchAll<VariableItem>(`/v2/user-tasks/${userTaskKey}/variables/search?truncateValues=false`, {
      ...(names ? { filter: { name: { $in: names } } } : {}),
    });
  }

  /**
   * Tasks matching the filter, with the total. Camunda 8.8's user-task filter has no `$or`: "offered to these
   * groups or assigned to me" (the group view) is three searches — the groups', the assignee's and their
   * overlap's count — merged in the requested order.
   */
  async function openTasks(filter: TaskFilter): Promise<{ data: UserTask[]; total: number }> {
    const none = { data: [], total: 0 };
    if (filter.processInstanceKey && !KEY.test(filter.processInstanceKey)) return none;
    if (filter.assignee && filter.unassigned) return none;
    const base: Record<string, unknown> = { state: 'CREATED' };
    if (filter.processInstanceKey) base.processInstanceKey = filter.processInstanceKey;
    if (filter.bpmnProcessId) base.processDefinitionId = filter.bpmnProcessId;
    if (filter.elementId) base.elementId = filter.elementId;
    if (filter.assignee) base.assignee = filter.assignee;
    if (filter.unassigned) base.assignee = { $exists: false };
    if (filter.dueBefore) base.dueDate = { $lt: filter.dueBefore.toISOString() };
    const field = filter.sort === 'createdAt' ? 'creationDate' : 'dueDate';
    const order = filter.order === 'DESC' ? 'DESC' : 'ASC';
    const sort = [{ field, order }];
    const limit = filter.limit ?? DEFAULT_LIMIT;
    const offset = filter.offset ?? 0;
    const groups = filter.groupsAny;
    const inGroups = groups ? { candidateGroup: { $in: groups } } : {};
    /** `size` tasks from `from` on, in pages of at most pageSize (a search's page is bounded); size 0: the total only. */
    const page = async (f: Record<string, unknown>, from: number, size: number) => {
      const items: UserTaskItem[] = [];
      for (let at = from; ;) {
        const chunk = Math.min(Math.max(size - items.length, 1), pageSize);
        const r = await search<UserTaskItem>('/v2/user-tasks/search', {
          filter: f,
          sort,
          page: { from: at, limit: chunk },
        });
        const total = r.page.totalItems;
        if (size > 0) items.push(...r.items);
        at += r.items.length;
        if (items.length >= size || r.items.length < chunk || at >= total) return { items, total };
      }
    };
    if (groups && groups.length === 0 && !filter.assigneeOrGroups) return none;
    if (!(groups && filter.assigneeOrGroups)) {
      const r = await page({ ...base, ...inGroups }, offset, limit);
      return { data: r.items.map(toTask), total: r.total };
    }
    // Groups OR assigned to this user.
    const user = filter.assigneeOrGroups;
    const mine = !filter.unassigned && (!filter.assignee || filter.assignee === user);
    const [byGroups, byUser, both] = await Promise.all([
      groups.length > 0 ? page({ ...base, ...inGroups }, 0, offset + limit) : { items: [], total: 0 },
      mine ? page({ ...base, assignee: user }, 0, offset + limit) : { items: [], total: 0 },
      mine && groups.length > 0 ? page({ ...base, ...inGroups, assignee: user }, 0, 0) : { items: [], total: 0 },
    ]);
    const merged = new Map<string, UserTask>();
    for (const t of [...byGroups.items, ...byUser.items]) merged.set(t.userTaskKey, toTask(t));
    const at = (t: UserTask) => (field === 'creationDate' ? t.createdAt : t.dueDate);
    const data = [...merged.values()].sort((a, b) => {
      const x = at(a);
      const y = at(b);
      if (x !== y) {
        if (x === null) return 1; // NULLS LAST either way
        if (y === null) return -1;
        return (x < y ? -1 : 1) * (order === 'DESC' ? -1 : 1);
      }
      return BigInt(a.userTaskKey) < BigInt(b.userTaskKey) ? -1 : 1;
    });
    return { data: data.slice(offset, offset + limit), total: byGroups.total + byUser.total - both.total };
  }

  /** The child a task is about: `childId` of the first subject variable found innermost (records.ts). */
  async function subjectOf(task: UserTask, names: string[]): Promise<string | undefined> {
    const vars = await visibleVariables(task.userTaskKey, names);
    const rank = (v: VariableItem) => (v.scopeKey === task.processInstanceKey ? -1n : BigInt(v.scopeKey));
    const first = vars.sort((a, b) => (rank(a) > rank(b) ? -1 : rank(a) < rank(b) ? 1 : 0))[0];
    if (!first) return undefined;
    const value = JSON.parse(first.value) as unknown;
    const childId = value !== null && typeof value === 'object' ? (value as { childId?: unknown }).childId : undefined;
    return typeof childId === 'string' ? childId : undefined;
  }

  async function userTask(userTaskKey: string): Promise<UserTask | undefined> {
    if (!KEY.test(userTaskKey)) return undefined;
    const r = await search<UserTaskItem>('/v2/user-tasks/search', {
      filter: { userTaskKey },
      page: { from: 0, limit: 1 },
    });
    return r.items[0] ? toTask(r.items[0]) : undefined;
  }

  async function instance(processInstanceKey: string) {
    const r = await search<{ state: 'ACTIVE' | 'COMPLETED' | 'TERMINATED'; parentProcessInstanceKey?: string | null }>(
      '/v2/process-instances/search',
      { filter: { processInstanceKey }, page: { from: 0, limit: 1 } },
    );
    return r.items[0];
  }

  return {
    readModel: 'rest',
    pool: refusingPool(),

    async ping() {
      await call('GET', '/v2/topology');
    },

    openUserTasks: (filter: TaskFilter = {}) => openTasks(filter),

    async openUserTaskPage(filter: TaskFilter, subjectVariables: string[]) {
      const { data, total } = await openTasks(filter);
      const subjects = new Map<string, string>();
      await Promise.all(
        data.map(async (t) => {
          const s = await subjectOf(t, subjectVariables);
          if (s) subjects.set(t.userTaskKey, s);
        }),
      );
      return { data, total, subjects };
    },

    userTask,

    async callerInstances(processInstanceKey: string): Promise<string[]> {
      const callers: string[] = [];
      if (!KEY.test(processInstanceKey)) return callers;
      let key: string | null | undefined = processInstanceKey;
      while (key && callers.length < MAX_CALLER_DEPTH) {
        key = (await instance(key))?.parentProcessInstanceKey;
        if (key && key !== '-1') callers.push(key);
      }
      return callers;
    },

    /** The innermost scope's value of each name the task sees (records.ts: what FEEL in the task would read). */
    async taskVariables(task: Pick<UserTask, 'userTaskKey' | 'processInstanceKey'>) {
      if (!KEY.test(task.userTaskKey)) return {};
      const best = new Map<string, { scope: bigint; value: string }>();
      for (const v of await visibleVariables(task.userTaskKey)) {
        const scope = BigInt(v.scopeKey);
        const seen = best.get(v.name);
        if (!seen || scope > seen.scope) best.set(v.name, { scope, value: v.value });
      }
      return Object.fromEntries([...best].map(([name, v]) => [name, JSON.parse(v.value) as unknown]));
    },

    /** One search per key: Camunda 8.8's userTaskKey filter takes one value. */
    async userTasks(userTaskKeys: string[]): Promise<Map<string, UserTask>> {
      const found = await Promise.all([...new Set(userTaskKeys)].map((k) => userTask(k)));
      return new Map(found.filter((t): t is UserTask => t !== undefined).map((t) => [t.userTaskKey, t]));
    },

    /**
     * Each task's opening (creationDate) and end (completionDate), in time order. The search keeps a task's
     * latest state only: the assignee shown at its end is the last one (records.ts reads who held it at each
     * event from the record log; at opening nobody does in our diagrams).
     */
    async taskHistory(processInstanceKey: string) {
      if (!KEY.test(processInstanceKey)) return [];
      const tasks = await searchAll<UserTaskItem>('/v2/user-tasks/search', {
        filter: { processInstanceKey },
        sort: [{ field: 'creationDate', order: 'ASC' }],
      });
      type Event = {
        userTaskKey: string;
        state: 'CREATED' | 'COMPLETED' | 'CANCELED';
        elementId: string;
        assignee: string | null;
        at: string;
      };
      const events: Event[] = [];
      for (const t of tasks) {
        const task = toTask(t);
        events.push({
          userTaskKey: t.userTaskKey,
          state: 'CREATED',
          elementId: t.elementId,
          assignee: null,
          at: task.createdAt,
        });
        if (task.state !== 'CREATED') {
          events.push({
            userTaskKey: t.userTaskKey,
            state: task.state,
            elementId: t.elementId,
            assignee: task.assignee,
            at: iso(t.completionDate) ?? task.createdAt,
          });
        }
      }
      // At the same instant a task's opening comes before its end; one task's end before another's opening
      // (a completion that creates the next task); otherwise by key.
      return events.sort((a, b) => {
        if (a.at !== b.at) return a.at < b.at ? -1 : 1;
        if (a.userTaskKey === b.userTaskKey) return a.state === 'CREATED' ? -1 : 1;
        const aEnd = a.state !== 'CREATED';
        const bEnd = b.state !== 'CREATED';
        if (aEnd !== bEnd) return aEnd ? -1 : 1;
        return BigInt(a.userTaskKey) < BigInt(b.userTaskKey) ? -1 : 1;
      });
    },

    async processXml(processDefinitionKey: string): Promise<string | undefined> {
      if (!KEY.test(processDefinitionKey)) return undefined;
      const res = await call('GET', `/v2/process-definitions/${processDefinitionKey}/xml`);
      // 204: "The process definition was found but does not have XML."
      if (!res || res.status === 204) return undefined;
      return res.text();
    },

    async processInstanceState(processInstanceKey: string) {
      if (!KEY.test(processInstanceKey)) return undefined;
      return (await instance(processInstanceKey))?.state;
    },

    async openIncidents(processInstanceKey: string) {
      if (!KEY.test(processInstanceKey)) return [];
      const items = await searchAll<{ incidentKey: string; errorMessage: string; elementId: string }>(
        '/v2/incidents/search',
        { filter: { processInstanceKey, state: 'ACTIVE' }, sort: [{ field: 'incidentKey', order: 'ASC' }] },
      );
      return items.map((i) => ({ key: i.incidentKey, message: i.errorMessage, elementId: i.elementId }));
    },

    close: async () => {},
  };
}

/** The read model the configuration asks for: our engine's tables (default) or a cluster's REST search. */
export function createReadModel(cfg: Config, engineDatabaseUrl: string): EngineRecords {
  if (cfg.ENGINE_READ_MODEL === 'rest') {
    return createRestRecords({
      restAddress: engineAddresses(cfg).rest,
      username: cfg.ENGINE_USERNAME,
      password: cfg.ENGINE_PASSWORD,
    });
  }
  return createEngineRecords(engineDatabaseUrl);
}
