import { compareBaseWithRegistry } from '../../api/domain/comparison.js';
import { defineWorker } from '../lib/define-worker.js';
import { compareBaseWithRegistryInput, compareBaseWithRegistryOutput } from './schema.js';

/**
 * Compares the base database (the departments' lists) with the year's registers and lists every child
 * not found as a suspect for the towns to verify one by one. The comparison is one idempotent SQL
 * statement, so a redelivered job adds nothing.
 */
export default defineWorker({
  type: 'compare-base-with-registry',
  description: '比对基础数据库与学籍 — [T] 二(二) 9月20日前比对新生入学情况',
  input: compareBaseWithRegistryInput,
  output: compareBaseWithRegistryOutput,
  async handler(input, ctx) {
    return ctx.prisma.$transaction(async (tx) => {
      const { suspects } = await compareBaseWithRegistry(tx, input.campaignId);
      await tx.campaign.update({ where: { id: input.campaignId }, data: { status: 'VERIFYING' } });
      return { suspects, round: 1 as const };
    });
  },
});
