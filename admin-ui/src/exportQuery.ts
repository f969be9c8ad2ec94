/**
 * The query string of an export (GET /api/exports/<resource>): the list's filters (its permanent ones
 * too) and its order, as the list on screen has them — empty values left out, arrays repeated, like
 * api.ts's query() (not imported: this file is also checked by the tests' DOM-less compilation).
 */
export function exportQuery(
  filterValues: Record<string, unknown>,
  filter: Record<string, unknown> | undefined,
  sort: { field?: string; order?: string } | undefined,
  format: 'xlsx' | 'csv',
): string {
  const params: Record<string, unknown> = {
    ...filterValues,
    ...filter,
    // react-admin sorts by `id` when nothing else is chosen; our lists sort by their own default then.
    sort: sort?.field && sort.field !== 'id' ? sort.field : undefined,
    order: sort?.order,
    format,
  };
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    for (const item of Array.isArray(v) ? v : [v]) q.append(k, String(item));
  }
  return `?${q.toString()}`;
}
