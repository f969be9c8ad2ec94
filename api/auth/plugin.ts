/**
 * Every request outside the public routes must carry a live session (cookie `kc_session` or
 * `Authorization: Bearer <token>`); routes that declare `config.roles` also check the role here, so a
 * route cannot forget to.
 */
import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { DOCS_PREFIX } from '../docs.js';
import { AppError } from '../errors.js';
import { resolveSession, SESSION_COOKIE } from './sessions.js';

/** The session token of a request, from the bearer header first, else the cookie. */
export function tokenOf(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice('Bearer '.length).trim() || undefined;
  return req.cookies[SESSION_COOKIE] || undefined;
}

export const authPlugin = fp(
  async (app: FastifyInstance) => {
    await app.register(cookie);
    app.decorateRequest('actor', null);
    app.addHook('onRequest', async (req) => {
      const config = req.routeOptions.config;
      // Public routes (health, metrics scrapes, login, docs) need no session: no lookup for them.
      if (config.public || req.url.startsWith(DOCS_PREFIX)) return;
      const token = tokenOf(req);
      if (token) req.actor = await resolveSession(app.prisma, token);
      if (!req.actor) throw new AppError('UNAUTHENTICATED');
      if (config.roles && !config.roles.includes(req.actor.role)) throw new AppError('FORBIDDEN');
    });
  },
  { name: 'auth' },
);
