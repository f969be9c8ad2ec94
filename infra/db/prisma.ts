/** The prisma client over the pg driver adapter, for the API and the workers. */
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../generated/prisma/client.js';
import { resilientPool } from './pool.js';

export type Prisma = PrismaClient;

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
