/**
 * npm run db:migrate                 apply pending migrations to the app database
 * npm run db:migration:new -- <name> write api/prisma/migrations/<timestamp>_<name> from schema.prisma
 *
 * With DATABASE_URL unset, the embedded PostgreSQL is started for the command and stopped after.
 */
import { loadConfig } from '../config.js';
import { startDatabases } from './postgres.js';
import { applyMigrations, createMigration } from './migrate.js';
import { runCli } from '../run-cli.js';

const [command, name] = process.argv.slice(2);
const log = (m: string) => console.error(m);

async function main(): Promise<number> {
  if (command !== 'migrate' && command !== 'new') {
    log('usage: db/cli.ts migrate | new <name>');
    return 2;
  }
  if (command === 'new' && !name) {
    log('usage: npm run db:migration:new -- <name>   (a-z, 0-9, _)');
    return 2;
  }
  const dbs = await startDatabases(loadConfig(), log);
  try {
    if (command === 'migrate') {
      const applied = await applyMigrations(dbs.appUrl);
      log(applied.length ? `Applied: ${applied.join(', ')}` : 'Database is up to date.');
    } else {
      const folder = await createMigration(dbs.appUrl, name!);
      log(
        folder
          ? `Wrote api/prisma/migrations/${folder}/migration.sql`
          : 'schema.prisma and migrations agree; nothing written.',
      );
    }
    return 0;
  } finally {
    await dbs.stop();
  }
}

runCli(main, log);
