/**
 * Every request outside the public routes must carry a live session (cookie `kc_session` or
 * `Authorization: Bearer <token>`); routes that declare `config.roles` also check the role here, so a
 * route cannot forget to. Unsafe requests on a cookie session must carry its CSRF token (csrf.ts).
 */
import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { DOCS_PREFIX } from '../docs.js';
import { AppError } from '../errors.js';
import { UNSAFE_METHODS } from '../security.js';
import { CSRF_HEADER, csrfTokenMatches } from './csrf.js';
import { casesHeldByJustice, countyOf } from './scope.js';
import { resolveSession, SESSION_COOKIE } from './sessions.js';

/** The session token of a request and where it came from: the bearer header first, else the cookie. */
export function credentialsOf(req: FastifyRequest): { token: string; via: 'bearer' | 'cookie' } | undefined {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) {
    const token = header.slice('Bearer '.length).trim();
    return token ? { token, via: 'bearer' } : undefined;
  }
  const cookie = req.cookies[SESSION_COOKIE];
  return cookie ? { token: cookie, via: 'cookie' } : undefined;
}

export const tokenOf = (req: FastifyRequest): string | undefined => credentialsOf(req)?.token;

export const authPlugin = fp(
  async (app: FastifyInstance) => {
    await app.register(cookie);
    app.decorateRequest('actor', null);
    app.addHook('onRequest', async (req) => {
      const config = req.routeOptions.config;
      // Public routes (health, metrics scrapes, login, docs) need no session: no lookup for them.
      if (config.public || req.url.startsWith(DOCS_PREFIX)) return;
      const credentials = credentialsOf(req);
      if (credentials) req.actor = await resolveSession(app.prisma, credentials.token);
      if (!req.actor) throw new AppError('UNAUTHENTICATED');
      // A browser sends the cookie with any request, also one a foreign page makes it send.
      if (
        credentials?.via === 'cookie' &&
        UNSAFE_METHODS.has(req.method) &&
        !csrfTokenMatches(credentials.token, req.headers[CSRF_HEADER])
      ) {
        throw new AppError('CSRF_FAILED');
      }
      if (config.roles && !config.roles.includes(req.actor.role)) throw new AppError('FORBIDDEN');
      // The justice bureau's view of cases and children moves with the flow (a case is its while the
      // stage is), so it is read from the engine on every request, not kept in the session.
      if (req.actor.role === 'JUSTICE') {
        req.actor.heldCaseInstances = await casesHeldByJustice(app.prisma, app.records, countyOf(req.actor));
      }
    });
  },
  { name: 'auth' },
);
