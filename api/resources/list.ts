/**
 * The list protocol every resource shares, shaped for react-admin's data provider: `sort`, `order`,
 * `page`, `perPage` and the resource's own filters as query parameters; `{ data, total }` back.
 * `id` (repeated) fetches several records at once (react-admin's getMany).
 */
import { z } from 'zod';

/** Pages larger than this are refused: a list is for people, exports have their own routes. */
export const MAX_PAGE_SIZE = 500;

export function listQuery<const S extends readonly [string, ...string[]]>(sortable: S) {
  return z.object({
    sort: z.enum(sortable).optional(),
    order: z.enum(['ASC', 'DESC']).default('ASC'),
    page: z.coerce.number().int().min(1).max(1_000_000).default(1),
    perPage: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(25),
    id: z
      .union([z.string().max(64), z.array(z.string().max(64)).max(MAX_PAGE_SIZE)])
      .optional()
      .transform((v) => (v === undefined ? undefined : Array.isArray(v) ? v : [v])),
  });
}

export interface ListParams {
  sort?: string;
  order: 'ASC' | 'DESC';
  page: number;
  perPage: number;
}

type SortOrder = 'asc' | 'desc';

/** prisma's skip/take/orderBy for a list query; ties are broken by id so pages never overlap. */
export function paging(q: ListParams, defaultSort: string) {
  const direction: SortOrder = q.order === 'DESC' ? 'desc' : 'asc';
  return {
    orderBy: [{ [q.sort ?? defaultSort]: direction } as Record<string, SortOrder>, { id: 'asc' as SortOrder }],
    skip: (q.page - 1) * q.perPage,
    take: q.perPage,
  };
}

export function listResponse<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), total: z.number().int() });
}

/** Numeric ids of a `id` filter; non-numbers cannot match an integer key and are dropped. */
export function intIds(ids: string[] | undefined): number[] | undefined {
  return ids?.filter((v) => /^\d{1,9}$/.test(v)).map(Number);
}

/** The largest value of a PostgreSQL `integer` (our serial ids): a larger number is no id (prisma would fail). */
export const INT4_MAX = 2_147_483_647;

/** An integer id in a JSON body. */
export const intId = z.number().int().positive().max(INT4_MAX);
/** An integer id in a query string or path. */
export const intIdQuery = z.coerce.number().int().positive().max(INT4_MAX);

export const intIdParam = z.object({ id: intIdQuery });
export const uuidParam = z.object({ id: z.uuid('编号格式不正确') });

/** An engine key (task, process instance): a positive 64-bit integer, sent as a decimal string. */
export const engineKey = z
  .string()
  .regex(/^\d{1,19}$/, '编号应为数字')
  // Zod runs this even when the pattern failed: only a string of digits is compared.
  .refine((k) => !/^\d{1,19}$/.test(k) || BigInt(k) <= 2n ** 63n - 1n, '编号超出范围');
