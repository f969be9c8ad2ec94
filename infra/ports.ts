/** Checks that the ports a component binds are free, so a clash is reported by name, before start. */
import net from 'node:net';

export class PortInUseError extends Error {}

/** Resolves false only when the port is taken; any other bind failure is reported as it is. */
function isFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve(false);
      else
        reject(
          new PortInUseError(`Cannot bind ${host}:${port}: ${err.code ?? err.message}. Check BIND_HOST and the port.`),
        );
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Throws PortInUseError naming every taken port and the variable that moves it. */
export async function assertPortsFree(host: string, ports: Record<string, number>): Promise<void> {
  const taken: [string, number][] = [];
  for (const [name, port] of Object.entries(ports)) {
    if (!(await isFree(host, port))) taken.push([name, port]);
  }
  if (taken.length > 0) {
    const where = taken.map(([name, port]) => `${host}:${port} (${name})`).join(', ');
    const names = taken.map(([name]) => name).join(', ');
    throw new PortInUseError(
      `Port already in use: ${where}. Stop the program holding it (see "ss -ltnp") or set ${names} to a free port.`,
    );
  }
}

/**
 * The ports of a side-by-side system ("slot" n: base + 10·n), away from `npm start`'s defaults: the
 * tests use slot KC_TEST_SLOT (default 0), the benchmark slot 5, so they run beside each other. All
 * below Linux's ephemeral range (32768–60999): a port there may be the local end of some outgoing
 * connection at the moment a listener wants it, and the bind then fails (seen once: the fault tests'
 * engine container could not publish 36570).
 */
export function slotPorts(slot: number): Record<string, string> {
  const port = (base: number) => String(base + 10 * slot);
  return {
    PG_PORT: port(15433),
    ENGINE_REST_PORT: port(18080),
    ENGINE_GRPC_PORT: port(16500),
    ENGINE_MANAGEMENT_PORT: port(19600),
    API_PORT: port(13000),
  };
}
