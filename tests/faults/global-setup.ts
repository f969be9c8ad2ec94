/**
 * Fault tests: makes podman answer as the Docker engine (infra/containers/setup-podman.sh, idempotent),
 * builds the container images when missing (infra/containers/images.ts: cached after the first run; the
 * engine's image is Debian + Node 24, the engine itself comes from the repository mounted into it),
 * removes containers a crashed earlier run left behind, and hands the image names to the test files.
 * Each test file then starts its own PostgreSQL and engine containers (tests/faults/environment.ts).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { loadConfig, REPO_ROOT } from '../../infra/config.js';
import { ensureImages, NODE_IMAGE, POSTGRES_IMAGE } from '../../infra/containers/images.js';
import { FAULT_SLOT, useContainerEnv, usesPodman } from './container-env.js';

declare module 'vitest' {
  export interface ProvidedContext {
    engineImage: string;
    postgresImage: string;
  }
}

const say = (line: string) => process.stderr.write(`[faults] ${line}\n`);

/** The host tools the podman path needs (README, "Requirements"): named when missing, not a spawn ENOENT. */
function requireTools(tools: string[]) {
  const missing = tools.filter((t) => spawnSync('/bin/sh', ['-c', `command -v ${t}`]).status !== 0);
  if (missing.length > 0) {
    throw new Error(
      `the fault tests need ${missing.join(', ')} (podman stands in for a Docker engine here): ` +
        `apt-get install podman runc debootstrap (README, "Requirements"; .ci/run installs them)`,
    );
  }
}

function removeLeftovers() {
  const names = execFileSync('podman', ['ps', '-a', '--format', '{{.Names}}'], { encoding: 'utf8' })
    .split('\n')
    .filter((n) => n.startsWith(`kc-faults-${FAULT_SLOT}-`));
  for (const name of names) {
    say(`removing container ${name} left by an earlier run`);
    execFileSync('podman', ['rm', '-f', '-t', '0', name], { stdio: 'ignore' });
  }
  // Their networks too (one in use by another run stays: podman refuses to remove it).
  const networks = execFileSync(
    'podman',
    ['network', 'ls', '--filter', 'label=org.testcontainers=true', '--format', '{{.Name}}'],
    { encoding: 'utf8' },
  )
    .split('\n')
    .filter(Boolean);
  for (const n of networks) {
    try {
      execFileSync('podman', ['network', 'rm', n], { stdio: 'ignore' });
    } catch {
      // in use
    }
  }
}

export default async function setup(project: TestProject) {
  // Only on this kind of machine (podman, no Docker engine): elsewhere DOCKER_HOST or Docker's socket is used.
  if (usesPodman()) {
    requireTools(['podman', 'runc', 'debootstrap']);
    removeLeftovers();
    execFileSync(path.join(REPO_ROOT, 'infra', 'containers', 'setup-podman.sh'), { stdio: 'inherit' });
  }
  useContainerEnv();
  const cfg = loadConfig();
  const t0 = Date.now();
  // Built here (no registry reachable); with Docker, testcontainers pulls official images instead (the
  // engine runs from the mounted repository on any Node 24 image).
  const images = usesPodman()
    ? await ensureImages({ cacheDir: cfg.cacheDir, log: say })
    : { engine: NODE_IMAGE, postgres: POSTGRES_IMAGE };
  say(`images ${images.engine}, ${images.postgres} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  project.provide('engineImage', images.engine);
  project.provide('postgresImage', images.postgres);
}
