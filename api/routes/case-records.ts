/**
 * What each step of a case recorded: the forms submitted on its tasks (the home visit's date, who went
 * and what came of it; the school's decision and plan…), as submitted and validated — from the
 * submission journal, which keeps every completed task's input. The school's task shows the teacher's
 * home visit from here; the case file shows them all. Scoped and audited like the case.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../auth/actor.js';
import { audit } from '../auth/audit.js';
import { scope } from '../auth/scope.js';
import { AppError } from '../errors.js';
import { uuidParam } from '../resources/list.js';
import { taskForms } from '../tasks/forms.js';
import { errorResponse } from './shared.js';

const recordSchema = z.object({
  userTaskKey: z.string(),
  /** The task type: the console labels the input's fields with its form. */
  elementId: z.string(),
  title: z.string(),
  /** Who submitted it (display name). */
  submittedBy: z.string().nullable(),
  doneAt: z.string(),
  input: z.record(z.string(), z.unknown()),
});

export const caseRecordsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/api/cases/:id/records',
    {
      schema: {
        tags: ['cases'],
        summary: 'What each task of the case recorded (the submitted forms), oldest first; audited',
        params: uuidParam,
        response: { 200: z.object({ data: z.array(recordSchema) }), 404: errorResponse },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const found = await app.prisma.dropoutCase.findFirst({
        where: { AND: [{ id: req.params.id }, scope.cases(actor)] },
        select: { id: true, childId: true, processInstanceKey: true },
      });
      if (!found) throw new AppError('NOT_FOUND');
      const rows = await app.prisma.taskSubmission.findMany({
        where: { processInstanceKey: found.processInstanceKey, status: 'DONE' },
        orderBy: { doneAt: 'asc' },
      });
      const users = await app.prisma.user.findMany({
        where: { id: { in: [...new Set(rows.map((r) => r.userId))] } },
        select: { id: true, displayName: true },
      });
      const nameOf = new Map(users.map((u) => [u.id, u.displayName]));
      await audit(app.prisma, actor, {
        action: 'READ_PERSONAL',
        entity: 'DropoutCase',
        entityId: found.id,
        details: { childId: found.childId, read: 'records' },
        ip: req.ip,
      });
      return {
        data: rows.map((r) => ({
          userTaskKey: r.userTaskKey,
          elementId: r.elementId,
          title: taskForms[r.elementId]?.title ?? '办理任务',
          submittedBy: nameOf.get(r.userId) ?? null,
          doneAt: (r.doneAt ?? r.createdAt).toISOString(),
          input:
            r.input && typeof r.input === 'object' && !Array.isArray(r.input)
              ? (r.input as Record<string, unknown>)
              : {},
        })),
      };
    },
  );
};
