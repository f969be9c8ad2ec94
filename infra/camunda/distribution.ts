/**
 * The Camunda distribution: fetched once from Maven Central with Maven, unpacked into a cache outside
 * the repository, reused without network afterwards. An unpack that was interrupted leaves no
 * completion marker and is redone; an archive that does not unpack is fetched again once.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const CAMUNDA_GROUP_ARTIFACT = 'io.camunda:camunda-zeebe';
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
const COMPLETE_MARKER = '.kongchuo-complete';
/** Files whose absence means the unpacked tree is not a usable distribution. */
const REQUIRED_ENTRIES = ['bin/broker', 'config/application.yaml', 'lib'];

export class DistributionError extends Error {}

export interface Distribution {
  version: string;
  home: string;
  libDir: string;
}

export type Log = (msg: string) => void;

export function archivePath(cacheDir: string, version: string): string {
  return path.join(cacheDir, 'camunda', `camunda-zeebe-${version}.tar.gz`);
}

export function distributionHome(cacheDir: string, version: string): string {
  return path.join(cacheDir, 'camunda', `camunda-zeebe-${version}`);
}

/** True when the unpacked tree is complete: marker written last, required entries present. */
export function isCompleteDistribution(home: string): boolean {
  return (
    fs.existsSync(path.join(home, COMPLETE_MARKER)) &&
    REQUIRED_ENTRIES.every((e) => fs.existsSync(path.join(home, e))) &&
    fs.readdirSync(path.join(home, 'lib')).some((f) => f.endsWith('.jar'))
  );
}

async function fetchArchive(cacheDir: string, version: string, log: Log): Promise<void> {
  const outDir = path.dirname(archivePath(cacheDir, version));
  fs.mkdirSync(outDir, { recursive: true });
  log(`Fetching ${CAMUNDA_GROUP_ARTIFACT}:${version}:tar.gz from Maven Central (about 300 MB, once)…`);
  try {
    await run(
      'mvn',
      [
        '-B',
        '-q',
        `${DEPENDENCY_PLUGIN}:copy`,
        `-Dartifact=${CAMUNDA_GROUP_ARTIFACT}:${version}:tar.gz`,
        `-DoutputDirectory=${outDir}`,
      ],
      { maxBuffer: 16 * 1024 * 1024, cwd: outDir },
    );
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') {
      throw new DistributionError(
        'Maven ("mvn") is not installed; it is needed once to fetch the Camunda distribution. ' +
          'Install it ("apt-get install maven") or place the archive at ' +
          archivePath(cacheDir, version),
      );
    }
    const detail = `${e.stdout ?? ''}${e.stderr ?? ''}`.split('\n').filter((l) => l.includes('ERROR'));
    throw new DistributionError(
      `Could not fetch ${CAMUNDA_GROUP_ARTIFACT}:${version}:tar.gz from Maven Central:\n` +
        `${detail.slice(0, 3).join('\n')}\nCheck CAMUNDA_VERSION and the network to the Maven repository.`,
    );
  }
  if (!fs.existsSync(archivePath(cacheDir, version))) {
    throw new DistributionError(`Maven finished but ${archivePath(cacheDir, version)} is missing.`);
  }
}

async function unpack(cacheDir: string, version: string, log: Log): Promise<void> {
  const home = distributionHome(cacheDir, version);
  const staging = `${home}.partial`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.rmSync(home, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  log(`Unpacking Camunda ${version} into ${home}…`);
  await run('tar', ['-xzf', archivePath(cacheDir, version), '-C', staging, '--strip-components=1']);
  fs.writeFileSync(path.join(staging, COMPLETE_MARKER), new Date().toISOString());
  fs.renameSync(staging, home);
}

/**
 * Returns a complete distribution of `version`, fetching and unpacking only what is missing.
 * Repairs: a half-unpacked tree is removed and unpacked again; an archive that fails to unpack is
 * deleted and fetched once more.
 */
export async function ensureDistribution(cacheDir: string, version: string, log: Log): Promise<Distribution> {
  const home = distributionHome(cacheDir, version);
  const result = { version, home, libDir: path.join(home, 'lib') };
  if (isCompleteDistribution(home)) return result;
  if (fs.existsSync(home)) log(`Camunda cache at ${home} is incomplete; repairing it.`);

  const archive = archivePath(cacheDir, version);
  if (!fs.existsSync(archive)) await fetchArchive(cacheDir, version, log);
  try {
    await unpack(cacheDir, version, log);
  } catch {
    log(`The cached archive ${archive} is corrupt; fetching it again.`);
    fs.rmSync(archive, { force: true });
    await fetchArchive(cacheDir, version, log);
    try {
      await unpack(cacheDir, version, log);
    } catch (err) {
      throw new DistributionError(
        `The Camunda archive ${archive} does not unpack even after a fresh download: ${(err as Error).message}`,
      );
    }
  }
  if (!isCompleteDistribution(home)) {
    throw new DistributionError(
      `${home} lacks ${REQUIRED_ENTRIES.join(', ')} after unpacking; is ${version} a Camunda distribution?`,
    );
  }
  return result;
}
