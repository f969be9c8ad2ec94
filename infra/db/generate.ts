/**
 * `prisma generate` without the native schema engine: the CLI insists on finding an engine binary
 * it would download (these machines cannot), but generating the client never runs it, so any existing
 * file satisfies the check. Skips work when the schema has not changed since the last generation.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../config.js';
import { SCHEMA_PATH } from './migrate.js';

const OUTPUT = path.join(REPO_ROOT, 'generated', 'prisma');
const STAMP = path.join(OUTPUT, '.schema-hash');

const hash = createHash('sha256').update(fs.readFileSync(SCHEMA_PATH)).digest('hex');
if (fs.existsSync(STAMP) && fs.readFileSync(STAMP, 'utf8') === hash) process.exit(0);

execFileSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'prisma'), ['generate'], {
  cwd: REPO_ROOT,
  stdio: ['ignore', 'ignore', 'inherit'],
  env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
});
fs.writeFileSync(STAMP, hash);
