import { z } from 'zod';
import { BASE_LIST_KINDS, BASE_LIST_LABELS } from '../../api/domain/comparison.js';
import { BpmnError, defineWorker } from '../lib/define-worker.js';

/**
 * Whether the base database is complete: all four departments' lists of the year imported. A missing
 * list is a business outcome the diagram handles (the bureau chases it), not a technical failure.
 */
export default defineWorker({
  type: 'check-department-lists',
  description: '核对部门名单是否齐全 — [T] 二(一) 公安、扶贫、残联、民政',
  input: z.object({ county: z.string().regex(/^\d{6}$/), year: z.number().int() }),
  output: z.object({ listedChildren: z.number().int().min(0) }),
  async handler(input, ctx) {
    const batches = await ctx.prisma.importBatch.groupBy({
      by: ['kind'],
      where: { regionCode: input.county, year: input.year, kind: { in: BASE_LIST_KINDS } },
      _sum: { rowCount: true },
    });
    const present = new Set(batches.map((b) => b.kind));
    const missing = BASE_LIST_KINDS.filter((k) => !present.has(k));
    if (missing.length > 0) {
      throw new BpmnError(
        'DEPARTMENT_LISTS_MISSING',
        `${input.year}年缺少${missing.map((k) => BASE_LIST_LABELS[k]).join('、')}名单`,
        {
          missingLists: missing,
        },
      );
    }
    return { listedChildren: batches.reduce((n, b) => n + (b._sum.rowCount ?? 0), 0) };
  },
});
