/** The prisma client over the pg driver adapter, for the API and the workers. */
import { PrismaPg } from '@prisma/adapter-pg';
import { type Prisma as PrismaNamespace, PrismaClient } from '../../generated/prisma/client.js';
import { resilientPool } from './pool.js';

export type Prisma = PrismaClient;
/** The client inside an interactive transaction. */
export type Tx = PrismaNamespace.TransactionClient;

/** The client owns its pool: `$disconnect()` also closes the pool's connections. */
export function createPrisma(databaseUrl: string): PrismaClient {
  const pool = resilientPool(databaseUrl);
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  const disconnect = prisma.$disconnect.bind(prisma);
  Object.assign(prisma, {
    $disconnect: async () => {
      await disconnect();
      await pool.end();
    },
  });
  return prisma;
}
