/**
 * What the engine has ever been given: the sha256 of every process and decision resource it holds, any
 * version (the checksum our engine stores with each definition, over the resource as deployed).
 *
 * A start deploys `processes/` again. The engine makes a new version only when a resource differs from
 * the *latest* one — so after policy staff deployed a changed flow from the console, the repository's
 * older file would differ from it and come back as the newest version at every restart, silently
 * undoing the policy change. The start therefore leaves out the files whose exact content the engine
 * already had at some version: a file changes only when the repository changes it.
 */
import pg from 'pg';

export async function deployedChecksums(engineDatabaseUrl: string): Promise<Set<string>> {
  const client = new pg.Client({ connectionString: engineDatabaseUrl });
  await client.connect();
  try {
    // Before the engine's first start its tables do not exist yet: nothing was deployed.
    const { rows: exists } = await client.query<{ t: string | null }>(
      `SELECT to_regclass('engine_process_definition')::text AS t`,
    );
    if (!exists[0]?.t) return new Set();
    const { rows } = await client.query<{ checksum: string }>(
      `SELECT checksum FROM engine_process_definition UNION SELECT checksum FROM engine_decision_requirements`,
    );
    return new Set(rows.map((r) => r.checksum));
  } finally {
    await client.end();
  }
}
