/**
 * PostgreSQL down, restarting or refusing connections: the request is not at fault, so the API answers
 * 503 and the caller may retry. Recognises what pg and prisma (with @prisma/adapter-pg) throw then.
 */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  // PostgreSQL: admin_shutdown, crash_shutdown, cannot_connect_now (starting up or shutting down).
  '57P01',
  '57P02',
  '57P03',
  // prisma: cannot reach the server, timed out, connection closed.
  'P1001',
  'P1002',
  'P1017',
]);

export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const { code, message, cause } = e as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
    if (/Connection terminated|connect ECONNREFUSED|server closed the connection/i.test(String(message))) return true;
    e = cause;
  }
  return false;
}
