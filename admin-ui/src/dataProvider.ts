/**
 * react-admin's data provider over our list protocol (api/resources/list.ts): GET /api/<resource>
 * with sort, order, page, perPage and filters; { data, total } back. Tasks are keyed by userTaskKey.
 */
import type { DataProvider, RaRecord } from 'react-admin';
import { apiFetch, ApiError, query } from './api';

/** The record's id field for resources not keyed by `id`. */
const ID_FIELD: Record<string, string> = { tasks: 'userTaskKey' };

function withId(resource: string, record: Record<string, unknown>): RaRecord {
  const field = ID_FIELD[resource];
  return (field ? { ...record, id: record[field] } : record) as RaRecord;
}

/** react-admin reads `status` and `body` of a thrown error (401 → sign-in page). */
function rethrow(err: unknown): never {
  if (err instanceof ApiError) throw Object.assign(new Error(err.message), { status: err.status, body: err.details });
  throw err;
}

export const dataProvider: DataProvider = {
  async getList(resource, params) {
    const { page = 1, perPage = 25 } = params.pagination ?? {};
    const q = query({
      page,
      perPage,
      sort: params.sort?.field && params.sort.field !== 'id' ? params.sort.field : undefined,
      order: params.sort?.order,
      ...params.filter,
    });
    const res = await apiFetch<{ data: Record<string, unknown>[]; total: number }>(`/api/${resource}${q}`).catch(
      rethrow,
    );
    return { data: res.data.map((r) => withId(resource, r)), total: res.total } as never;
  },
  async getOne(resource, params) {
    const res = await apiFetch<Record<string, unknown>>(
      `/api/${resource}/${encodeURIComponent(String(params.id))}`,
    ).catch(rethrow);
    return { data: withId(resource, res) } as never;
  },
  async getMany(resource, params) {
    const res = await apiFetch<{ data: Record<string, unknown>[] }>(
      `/api/${resource}${query({ id: params.ids.map(String), perPage: Math.max(1, params.ids.length) })}`,
    ).catch(rethrow);
    return { data: res.data.map((r) => withId(resource, r)) } as never;
  },
  async getManyReference(resource, params) {
    return dataProvider.getList(resource, { ...params, filter: { ...params.filter, [params.target]: params.id } });
  },
  async create(resource, params) {
    const res = await apiFetch<Record<string, unknown>>(`/api/${resource}`, {
      method: 'POST',
      json: params.data,
    }).catch(rethrow);
    return { data: withId(resource, res) } as never;
  },
  async update(resource, params) {
    const res = await apiFetch<Record<string, unknown>>(`/api/${resource}/${encodeURIComponent(String(params.id))}`, {
      method: 'PUT',
      json: params.data,
    }).catch(rethrow);
    return { data: withId(resource, res) } as never;
  },
  async updateMany() {
    throw new Error('不支持批量修改');
  },
  async delete() {
    throw new Error('记录不能删除（只能结案或停用）');
  },
  async deleteMany() {
    throw new Error('记录不能删除（只能结案或停用）');
  },
};
