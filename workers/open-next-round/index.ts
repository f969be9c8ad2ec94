import { z } from 'zod';
import { nextRound } from '../../api/domain/comparison.js';
import { defineWorker } from '../lib/define-worker.js';

/** Carries the children still suspected into the next round of re-verification (one statement). */
export default defineWorker({
  type: 'open-next-round',
  description: '转入下一轮复核动员 — [R] 对仍疑似失学儿童复核、动员',
  input: z.object({ campaignId: z.number().int().positive(), round: z.number().int().positive() }),
  output: z.object({ round: z.number().int().positive(), advanced: z.number().int().min(0) }),
  async handler(input, ctx) {
    return nextRound(ctx.prisma, input.campaignId, input.round);
  },
});
