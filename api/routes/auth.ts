import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { Role } from '../../generated/prisma/enums.js';
import { actorOf } from '../auth/actor.js';
import { audit } from '../auth/audit.js';
import { CSRF_COOKIE, csrfTokenFor } from '../auth/csrf.js';
import { credentialsOf, tokenOf } from '../auth/plugin.js';
import { login, logout, SESSION_COOKIE } from '../auth/sessions.js';
import { errorResponse } from './shared.js';

export const actorSchema = z.object({
  userId: z.number(),
  username: z.string(),
  displayName: z.string(),
  role: z.enum(Role),
  regionCode: z.string(),
  schoolId: z.number().nullable(),
  classId: z.number().nullable(),
  groups: z.array(z.string()),
});

export const authRoutes: FastifyPluginAsyncZod = async (app) => {
  /**
   * The session cookie (http-only: scripts cannot read it) and its CSRF token's cookie (readable by the
   * console's own scripts, which send it back as X-CSRF-Token). Both SameSite=strict.
   */
  const cookieOptions = (expires?: Date) =>
    ({ path: '/', sameSite: 'strict', secure: app.secureCookies, expires }) as const;
  const setCsrfCookie = (reply: FastifyReply, token: string, expires?: Date) =>
    reply.setCookie(CSRF_COOKIE, csrfTokenFor(token), { ...cookieOptions(expires), httpOnly: false });
  const setSessionCookies = (reply: FastifyReply, token: string, expires: Date) => {
    reply.setCookie(SESSION_COOKIE, token, { ...cookieOptions(expires), httpOnly: true });
    setCsrfCookie(reply, token, expires);
  };

  app.post(
    '/api/auth/login',
    {
      config: { public: true, rateLimit: app.loginRateLimit },
      schema: {
        tags: ['auth'],
        summary:
          'Sign in: sets the session and CSRF cookies and returns the token for scripts; rate-limited per address',
        body: z.object({ username: z.string().trim().min(1).max(64), password: z.string().min(1).max(128) }),
        response: {
          200: z.object({ token: z.string(), expiresAt: z.string(), user: actorSchema }),
          401: errorResponse,
          423: errorResponse,
          429: errorResponse,
        },
      },
    },
    async (req, reply) => {
      const result = await login(app.prisma, req.body.username, req.body.password);
      if (!result.ok) {
        await audit(app.prisma, null, {
          action: 'LOGIN_FAILED',
          entity: 'User',
          details: { username: req.body.username, code: result.error.code },
          ip: req.ip,
        });
        throw result.error;
      }
      await audit(app.prisma, result.actor, {
        action: 'LOGIN',
        entity: 'User',
        entityId: result.actor.userId,
        ip: req.ip,
      });
      setSessionCookies(reply, result.token, result.expiresAt);
      return { token: result.token, expiresAt: result.expiresAt.toISOString(), user: result.actor };
    },
  );

  app.post(
    '/api/auth/logout',
    {
      schema: {
        tags: ['auth'],
        summary: 'Sign out: ends the session',
        response: { 204: z.null(), 401: errorResponse },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const token = tokenOf(req);
      if (token) await logout(app.prisma, token);
      await audit(app.prisma, actor, { action: 'LOGOUT', entity: 'User', entityId: actor.userId, ip: req.ip });
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      reply.clearCookie(CSRF_COOKIE, { path: '/' });
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/auth/me',
    {
      schema: {
        tags: ['auth'],
        summary: 'The signed-in user and jurisdiction',
        response: { 200: actorSchema, 401: errorResponse },
      },
    },
    async (req, reply) => {
      // A console session opened before its CSRF cookie existed (or with the cookie deleted) gets it again.
      const credentials = credentialsOf(req);
      if (credentials?.via === 'cookie' && req.cookies[CSRF_COOKIE] !== csrfTokenFor(credentials.token)) {
        setCsrfCookie(reply, credentials.token);
      }
      return actorOf(req);
    },
  );
};
