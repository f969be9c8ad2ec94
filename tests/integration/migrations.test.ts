/**
 * Engine-backed run, real PostgreSQL: schema.prisma and the committed migrations must agree, and the
 * check must notice when they do not.
 */
import fs from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { applyMigrations, pendingSql, SCHEMA_PATH } from '../../infra/db/migrate.js';

describe('prisma migrations (real PostgreSQL)', () => {
  it('schema.prisma and api/prisma/migrations agree (run `npm run db:migration:new -- <name>` if this fails)', async () => {
    const sql = await pendingSql(inject('appDatabaseUrl'));
    expect(sql, `schema.prisma has changes no migration contains:\n${sql}`).toBe('');
  });

  it('reports the SQL of a model that no migration creates', async () => {
    const changed = `${fs.readFileSync(SCHEMA_PATH, 'utf8')}\nmodel DriftProbe {\n  id Int @id\n}\n`;
    const sql = await pendingSql(inject('appDatabaseUrl'), changed);
    expect(sql).toContain('CREATE TABLE "DriftProbe"');
  });

  it('applies nothing twice: the test database is already at the newest migration', async () => {
    expect(await applyMigrations(inject('appDatabaseUrl'))).toEqual([]);
  });
});
