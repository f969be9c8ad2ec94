import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { PortInUseError, assertPortsFree } from '../../infra/ports.js';

function listen(port = 0): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port }, () => resolve(server));
  });
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function portOf(server: net.Server): number {
  return (server.address() as net.AddressInfo).port;
}

describe('assertPortsFree', () => {
  it('resolves when the port is free', async () => {
    const probe = await listen();
    const port = portOf(probe);
    await close(probe);
    await expect(assertPortsFree('127.0.0.1', { SOME_PORT: port })).resolves.toBeUndefined();
  });

  it('rejects with PortInUseError naming the variable and port when the port is held', async () => {
    const holder = await listen();
    const port = portOf(holder);
    try {
      const result = assertPortsFree('127.0.0.1', { SOME_PORT: port });
      await expect(result).rejects.toBeInstanceOf(PortInUseError);
      await expect(result).rejects.toThrow(`127.0.0.1:${port} (SOME_PORT)`);
    } finally {
      await close(holder);
    }
  });

  it('names only the taken port when several are checked', async () => {
    const holder = await listen();
    const probe = await listen();
    const taken = portOf(holder);
    const free = portOf(probe);
    await close(probe);
    try {
      const error = await assertPortsFree('127.0.0.1', { FREE_PORT: free, TAKEN_PORT: taken }).catch((e: Error) => e);
      expect(error).toBeInstanceOf(PortInUseError);
      expect((error as Error).message).toContain('TAKEN_PORT');
      expect((error as Error).message).not.toContain('FREE_PORT');
    } finally {
      await close(holder);
    }
  });
});
