import { defineConfig } from 'prisma/config';

// Migrations are applied by infra/db/migrate.ts (prisma's WebAssembly schema engine); this file lets
// `prisma generate` and, on machines with the native engine, `prisma migrate deploy` find the schema.
export default defineConfig({
  schema: 'api/prisma/schema.prisma',
  migrations: { path: 'api/prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5433/kongchuo' },
});
