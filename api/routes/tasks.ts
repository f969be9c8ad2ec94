import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { userTaskSchema } from '../../infra/camunda/records.js';
import { AppError } from '../errors.js';
import { taskForms } from '../tasks/forms.js';
import { errorResponse } from './shared.js';

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
      const variables = await form.apply(app.prisma, task, input.data);
      await app.engine.completeUserTask(task.userTaskKey, variables);
      return reply.code(204).send(null);
    },
  );
};
