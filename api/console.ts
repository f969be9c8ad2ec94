/**
 * The caseworkers' console (admin-ui/, built by Vite into admin-ui/dist) served by the API in
 * production: hashed assets cached for a year, every other path answered with index.html so the
 * console's own router shows the page. The files are public; the data behind them is not.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { AppError } from './errors.js';

/** Where `npm run ui:build` writes the console. */
export const CONSOLE_DIR = path.resolve(import.meta.dirname, '../admin-ui/dist');

export const consoleRoutes: FastifyPluginAsync<{ dir: string }> = async (app, { dir }) => {
  const built = existsSync(path.join(dir, 'index.html'));
  if (!built) {
    app.log.warn({ dir }, 'console not built (npm run ui:build): / shows the API docs');
    app.get('/', { config: { public: true }, schema: { hide: true } }, async (_req, reply) =>
      reply.redirect('/api/docs'),
    );
    return;
  }
  await app.register(fastifyStatic, { root: dir, serve: false });
  const page = { config: { public: true }, schema: { hide: true } };
  app.get('/', page, async (_req, reply) => reply.header('cache-control', 'no-cache').sendFile('index.html'));
  app.get('/*', page, async (req, reply) => {
    const rel = (req.params as { '*': string })['*'];
    // An API path that matched no route is a 404 in the API's shape, not the console page.
    if (rel === 'api' || rel.startsWith('api/')) throw new AppError('NOT_FOUND');
    if (rel.startsWith('assets/') && !rel.includes('..') && existsSync(path.join(dir, rel))) {
      return reply.sendFile(rel, { maxAge: '365d', immutable: true });
    }
    return reply.header('cache-control', 'no-cache').sendFile('index.html');
  });
};
