/**
 * CSRF protection of cookie sessions (the console): the signed double-submit pattern without server
 * state. The token is derived from the session token, so it is valid for that session only and a
 * forged request cannot know it; the console reads it from the `kc_csrf` cookie (readable by scripts
 * of this origin only) and sends it as `X-CSRF-Token` with every unsafe request. Bearer-token callers
 * (scripts) are not exposed to CSRF: a browser never adds that header by itself.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export const CSRF_COOKIE = 'kc_csrf';
export const CSRF_HEADER = 'x-csrf-token';

export function csrfTokenFor(sessionToken: string): string {
  return createHash('sha256').update(`kc-csrf\0${sessionToken}`).digest('base64url');
}

export function csrfTokenMatches(sessionToken: string, sent: string | string[] | undefined): boolean {
  if (typeof sent !== 'string') return false;
  const expected = Buffer.from(csrfTokenFor(sessionToken));
  const given = Buffer.from(sent);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
