/**
 * Our Zeebe exporter (infra/exporter/): writes the engine's record stream into the engine database,
 * where the API reads user tasks and element instances. Compiled once per source and engine version
 * with the chosen JDK against the distribution's own jars, and cached.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../config.js';
import type { Jdk } from '../java.js';
import type { Distribution } from './distribution.js';

const run = promisify(execFile);

export const EXPORTER_CLASS = 'cn.kongchuo.exporter.PostgresRecordExporter';
const SOURCE_DIR = path.join(REPO_ROOT, 'infra', 'exporter', 'src');
/** The engine's Java baseline: the jar must load on any JDK the engine accepts. */
const JAVA_RELEASE = '21';

export interface ExporterJar {
  jarPath: string;
}

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : p.endsWith('.java') ? [p] : [];
  });
}

export async function ensureExporterJar(dist: Distribution, jdk: Jdk, cacheDir: string): Promise<ExporterJar> {
  const files = sources(SOURCE_DIR).sort();
  const hash = createHash('sha256').update(dist.version);
  // Relative paths: every clone of the same source shares one cached jar.
  for (const f of files) hash.update(path.relative(SOURCE_DIR, f)).update(fs.readFileSync(f));
  const dir = path.join(cacheDir, 'exporter', hash.digest('hex').slice(0, 16));
  const jarPath = path.join(dir, 'kongchuo-exporter.jar');
  if (fs.existsSync(jarPath)) return { jarPath };

  const classes = path.join(dir, 'classes');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(classes, { recursive: true });
  const bin = (tool: string) => path.join(jdk.home, 'bin', tool);
  await run(bin('javac'), ['-nowarn', '--release', JAVA_RELEASE, '-cp', `${dist.libDir}/*`, '-d', classes, ...files]);
  const staged = `${jarPath}.partial`;
  await run(bin('jar'), ['cf', staged, '-C', classes, '.']);
  fs.renameSync(staged, jarPath);
  return { jarPath };
}
