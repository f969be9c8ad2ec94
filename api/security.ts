/**
 * Browser-facing protections of the API, in one place:
 * - security headers (helmet) with a Content-Security-Policy that fits the console (React, MUI's
 *   emotion styles) and the API docs, HSTS in production;
 * - CORS: same origin (the console the API serves) plus the configured CORS_ORIGINS, nothing else;
 * - cross-site request refusal: an unsafe request (POST/PUT/PATCH/DELETE) with an Origin header that is
 *   neither this host nor an allowed origin is refused before any handler runs;
 * - a rate limit on sign-in per client address (the per-account lock-out is in auth/sessions.ts).
 * The CSRF token of cookie sessions is checked by the auth plugin (auth/csrf.ts), where the session is.
 */
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from './errors.js';

export interface SecurityOptions {
  /** Origins besides the API's own that browsers may call it from. */
  corsOrigins: string[];
  /** Sign-in attempts per client address per minute. */
  loginRateLimit: number;
  /** Production (HTTPS): adds Strict-Transport-Security. */
  https: boolean;
}

export const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The origin the request was addressed to, as a browser would write it in the Origin header. */
function ownOrigin(req: FastifyRequest): string {
  return `${req.protocol}://${req.host}`;
}

export const securityPlugin = fp<SecurityOptions>(
  async (app: FastifyInstance, opts) => {
    const allowed = new Set(opts.corsOrigins);
    await app.register(helmet, {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          // MUI (emotion) and the printed notices write inline styles.
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:', 'blob:'],
          fontSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
      hsts: opts.https ? { maxAge: 180 * 24 * 3600, includeSubDomains: true } : false,
      // Attachments and notices open in a new tab of the console: same-origin is enough.
      crossOriginResourcePolicy: { policy: 'same-origin' },
      referrerPolicy: { policy: 'no-referrer' },
    });
    await app.register(cors, {
      // Same-origin requests need no CORS; a foreign origin gets CORS headers only when configured.
      origin: (origin, cb) => cb(null, origin !== undefined && allowed.has(origin)),
      credentials: true,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['content-type', 'authorization', 'x-csrf-token'],
      maxAge: 600,
    });
    app.addHook('onRequest', async (req) => {
      if (!UNSAFE_METHODS.has(req.method)) return;
      const origin = req.headers.origin;
      if (origin === undefined || origin === ownOrigin(req) || allowed.has(origin)) return;
      throw new AppError('CROSS_SITE_REQUEST', { origin });
    });
    await app.register(rateLimit, {
      global: false,
      errorResponseBuilder: (_req, ctx) => {
        const err = new AppError('TOO_MANY_REQUESTS', { retryAfterSeconds: Math.ceil(ctx.ttl / 1000) });
        // The rate-limit plugin throws what this returns; our error handler answers in the usual shape.
        return Object.assign(err, { statusCode: ctx.statusCode });
      },
    });
    app.decorate('loginRateLimit', { max: opts.loginRateLimit, timeWindow: 60_000 });
  },
  { name: 'security' },
);

declare module 'fastify' {
  interface FastifyInstance {
    /** The rate-limit setting of the sign-in route. */
    loginRateLimit: { max: number; timeWindow: number };
  }
}
