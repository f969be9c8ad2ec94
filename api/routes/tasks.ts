import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { engineHttpStatus } from '../../infra/camunda/client.js';
import { userTaskSchema } from '../../infra/camunda/records.js';
import { AppError } from '../errors.js';
import { taskForms } from '../tasks/forms.js';
import { errorResponse } from './shared.js';

/** Long enough for the engine client's own retries before it reports the engine unavailable. */
const COMPLETION_TX_TIMEOUT_MS = 20_000;

const keyParam = z.object({ key: z.string().regex(/^\d{1,19}$/, '任务编号应为数字') });

export const taskRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/api/tasks',
    {
      schema: {
        summary: 'Open user tasks, oldest first',
        querystring: z.object({
          candidateGroup: z.string().max(100).optional(),
          processInstanceKey: z
            .string()
            .regex(/^\d{1,19}$/)
            .optional(),
        }),
        response: { 200: z.object({ data: z.array(userTaskSchema), total: z.number() }) },
      },
    },
    async (req) => {
      const data = await app.records.openUserTasks(req.query);
      return { data, total: data.length };
    },
  );

  app.get(
    '/api/tasks/:key',
    {
      schema: {
        summary: 'One user task in its latest state',
        params: keyParam,
        response: { 200: userTaskSchema, 404: errorResponse },
      },
    },
    async (req) => {
      const task = await app.records.userTask(req.params.key);
      if (!task) throw new AppError('TASK_NOT_FOUND');
      return task;
    },
  );

  app.post(
    '/api/tasks/:key/completion',
    {
      schema: {
        summary: "Complete a user task with its form's data",
        params: keyParam,
        body: z.record(z.string(), z.unknown()),
        response: { 204: z.null(), 400: errorResponse, 404: errorResponse, 409: errorResponse, 422: errorResponse },
      },
    },
    async (req, reply) => {
      const task = await app.records.userTask(req.params.key);
      if (!task) throw new AppError('TASK_NOT_FOUND');
      if (task.state !== 'CREATED') throw new AppError('TASK_NOT_OPEN');
      const form = taskForms[task.elementId];
      if (!form) throw new AppError('UNKNOWN_TASK_TYPE', { elementId: task.elementId });
      const input = form.schema.safeParse(req.body);
      if (!input.success) throw new AppError('VALIDATION_FAILED', input.error.issues);
      // All or nothing: the domain change commits only after the engine accepted the completion, so a
      // refused or failed completion (engine down, task closed meanwhile) leaves the records as they were.
      await app.prisma.$transaction(
        async (tx) => {
          // Two submissions of one task queue here; the second then finds the first one's records.
          await tx.$executeRaw`SELECT pg_advisory_xact_lock(${BigInt(task.userTaskKey)})`;
          const variables = await form.apply(tx, task, input.data);
          try {
            await app.engine.completeUserTask(task.userTaskKey, variables);
          } catch (err) {
            // The read model lags the engine: a task completed a moment ago still looks open here.
            const status = engineHttpStatus(err);
            if (status === 404 || status === 409) throw new AppError('TASK_NOT_OPEN');
            throw err;
          }
        },
        { timeout: COMPLETION_TX_TIMEOUT_MS },
      );
      return reply.code(204).send(null);
    },
  );
};
