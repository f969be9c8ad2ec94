import { z } from 'zod';
import { chinaDay } from '../../api/domain/china-time.js';
import { defineWorker } from '../lib/define-worker.js';
import { assignmentVariable } from '../lib/handover.js';

/**
 * A no-show whose household is registered in another county: reported to the county government,
 * which notifies that county (户籍地为主、学籍地配合). The notice is written on the pupil's trace, once.
 */
export default defineWorker({
  type: 'notify-other-county',
  description: '报县政府通报户籍所在县 — [G] 四 异地：户籍地为主、学籍地配合、信息共享',
  input: z.object({ assignment: assignmentVariable, noShow: z.object({ childId: z.uuid() }) }),
  output: z.object({ otherCountyNotified: z.literal(true) }),
  async handler(input, ctx) {
    const pupil = await ctx.prisma.handoverPupil.findUniqueOrThrow({
      where: {
        assignmentId_childId: { assignmentId: input.assignment.assignmentId, childId: input.noShow.childId },
      },
    });
    const mark = '已报县人民政府通报户籍所在县';
    if (!pupil.traceNote?.includes(mark)) {
      await ctx.prisma.handoverPupil.update({
        where: { id: pupil.id },
        data: { traceNote: `${pupil.traceNote ? `${pupil.traceNote}；` : ''}${chinaDay()} ${mark}` },
      });
    }
    return { otherCountyNotified: true as const };
  },
});
