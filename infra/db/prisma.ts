/** The prisma client over the pg driver adapter, for the API and the workers. */
import { PrismaPg } from '@prisma/adapter-pg';
import type pg from 'pg';
import { type Prisma as PrismaNamespace, PrismaClient } from '../../generated/prisma/client.js';
import { resilientPool } from './pool.js';

export type Prisma = PrismaClient;
/** The client inside an interactive transaction. */
export type Tx = PrismaNamespace.TransactionClient;

/** The pg pool under each client, for the hot read paths that run one plain SQL statement (sqlPool). */
const pools = new WeakMap<PrismaClient, pg.Pool>();

/**
 * The client's own pg pool (the same connections): the inbox, the case list and the session lookup read
 * through it with one parameterised statement each, skipping prisma's query interpretation (issue 17).
 */
export function sqlPool(prisma: PrismaClient): pg.Pool {
  const pool = pools.get(prisma);
  if (!pool) throw new Error('sqlPool: this prisma client was not made by createPrisma()');
  return pool;
}

/** The client owns its pool: `$disconnect()` also closes the pool's connections. */
export function createPrisma(databaseUrl: string): PrismaClient {
  const pool = resilientPool(databaseUrl);
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  pools.set(prisma, pool);
  const disconnect = prisma.$disconnect.bind(prisma);
  Object.assign(prisma, {
    $disconnect: async () => {
      await disconnect();
      await pool.end();
    },
  });
  return prisma;
}
