import { z } from 'zod';
import { BASE_LIST_KINDS } from '../../api/domain/comparison.js';
import { defineWorker } from '../lib/define-worker.js';

/** Which of the four departments' lists of the year are still missing from the base database. */
export default defineWorker({
  type: 'check-department-lists',
  description: '核对部门名单是否齐全 — [T] 二(一) 公安、扶贫、残联、民政',
  input: z.object({ county: z.string().regex(/^\d{6}$/), year: z.number().int() }),
  output: z.object({
    missingLists: z.array(z.enum(['HOUSEHOLD', 'POVERTY', 'DISABILITY', 'WELFARE'])),
    listedChildren: z.number().int().min(0),
  }),
  async handler(input, ctx) {
    const batches = await ctx.prisma.importBatch.groupBy({
      by: ['kind'],
      where: { regionCode: input.county, year: input.year, kind: { in: BASE_LIST_KINDS } },
      _sum: { rowCount: true },
    });
    const present = new Set(batches.map((b) => b.kind));
    return {
      missingLists: BASE_LIST_KINDS.filter((k) => !present.has(k)) as (
        'HOUSEHOLD' | 'POVERTY' | 'DISABILITY' | 'WELFARE'
      )[],
      listedChildren: batches.reduce((n, b) => n + (b._sum.rowCount ?? 0), 0),
    };
  },
});
