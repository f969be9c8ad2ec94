import { z } from 'zod';
import { roundSuspects } from '../../api/domain/comparison.js';
import { defineWorker } from '../lib/define-worker.js';
import { suspectVariable } from '../lib/verification.js';

/** The round's suspects, one verification each (the diagram's multi-instance collection). */
export default defineWorker({
  type: 'list-round-suspects',
  description: '列出本轮疑似未入学儿童 — [R] 首批核查、复核动员',
  input: z.object({ campaignId: z.number().int().positive(), round: z.number().int().positive() }),
  output: z.object({ suspects: z.array(suspectVariable) }),
  async handler(input, ctx) {
    return { suspects: await roundSuspects(ctx.prisma, input.campaignId, input.round) };
  },
});
