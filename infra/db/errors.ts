/**
 * PostgreSQL down, restarting or refusing connections: the request is not at fault, so the API answers
 * 503 and the caller may retry. Recognises what pg and prisma 7 (with @prisma/adapter-pg) throw then —
 * shapes observed against a PostgreSQL 17 container that was stopped, started and SIGKILLed under
 * queries (tests/faults; README, "Containers for the fault tests"):
 *
 * - pg, server unreachable: `Error { code: 'ECONNREFUSED', syscall: 'connect' }` (ECONNRESET/EPIPE/
 *   ETIMEDOUT/EHOSTUNREACH for a connection cut or a network gone);
 * - pg, server shutting down under a query: `DatabaseError { code: '57P01' }` (admin_shutdown; 57P02
 *   crash_shutdown, 57P03 cannot_connect_now while it starts);
 * - pg, server killed under a query: `Error('Connection terminated unexpectedly')` with no code;
 * - prisma, model query or transaction: `PrismaClientKnownRequestError { code: 'P1001' }`
 *   ("Can't reach database server"; P1002 timed out, P1017 server closed the connection);
 * - prisma, raw query: `PrismaClientKnownRequestError { code: 'P2010', meta.driverAdapterError.cause:
 *   { kind: 'DatabaseNotReachable' } }`, or `{ kind: 'postgres', originalCode: '57P01' }` when the
 *   server shut down under it;
 * - prisma, no pool connection within the transaction's maxWait (every connection busy or hanging on a
 *   server that does not answer): `P2028` "Unable to start a transaction in the given time" — only this
 *   P2028, not the others (a transaction that expired or was already closed).
 */
const UNAVAILABLE_CODES = new Set([
  // Sockets.
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  // PostgreSQL: admin_shutdown, crash_shutdown, cannot_connect_now (starting up or shutting down),
  // too_many_connections, and the connection_exception class.
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  // prisma: cannot reach the server, timed out, connection closed.
  'P1001',
  'P1002',
  'P1017',
]);

/** Kinds @prisma/adapter-pg gives socket and connection errors (mapSocketError, mapDriverError). */
const UNAVAILABLE_ADAPTER_KINDS = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
]);

const UNAVAILABLE_MESSAGE =
  /Connection terminated|connect ECONNREFUSED|server closed the connection|Can't reach database server|the database system is (starting up|shutting down|in recovery mode)|terminating connection due to administrator command|Unable to start a transaction in the given time|Query read timeout/i;

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  kind?: unknown;
  originalCode?: unknown;
  meta?: { driverAdapterError?: { cause?: unknown } };
}

export function isDatabaseUnavailable(err: unknown): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0 && seen.size < 10) {
    const e = queue.shift();
    if (!e || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const { code, message, cause, kind, originalCode, meta } = e as ErrorLike;
    if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
    if (typeof originalCode === 'string' && UNAVAILABLE_CODES.has(originalCode)) return true;
    if (typeof kind === 'string' && UNAVAILABLE_ADAPTER_KINDS.has(kind)) return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
    queue.push(cause, meta?.driverAdapterError, meta?.driverAdapterError?.cause);
    if (e instanceof AggregateError) queue.push(...e.errors);
  }
  return false;
}
