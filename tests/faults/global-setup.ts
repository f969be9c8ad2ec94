/**
 * Fault tests: makes podman answer as the Docker engine (infra/containers/setup-podman.sh, idempotent),
 * builds the container images when missing (infra/containers/images.ts: cached after the first run),
 * removes containers a crashed earlier run left behind, and hands the image names to the test files.
 * Each test file then starts its own PostgreSQL and engine containers (tests/faults/environment.ts).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureDistribution } from '../../infra/camunda/distribution.js';
import { ensureExporterJar } from '../../infra/camunda/exporter.js';
import { loadConfig, REPO_ROOT } from '../../infra/config.js';
import { findJdk } from '../../infra/java.js';
import { engineImage, ensureImages, POSTGRES_IMAGE } from '../../infra/containers/images.js';
import { FAULT_SLOT, useContainerEnv, usesPodman } from './container-env.js';

declare module 'vitest' {
  export interface ProvidedContext {
    engineImage: string;
    postgresImage: string;
    exporterJar: string;
  }
}

const say = (line: string) => process.stderr.write(`[faults] ${line}\n`);

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
    removeLeftovers();
    execFileSync(path.join(REPO_ROOT, 'infra', 'containers', 'setup-podman.sh'), { stdio: 'inherit' });
  }
  useContainerEnv();
  const cfg = loadConfig();
  const t0 = Date.now();
  // Built here (no registry reachable); with Docker, testcontainers pulls the official images of these names.
  const images = usesPodman()
    ? await ensureImages({
        cacheDir: cfg.cacheDir,
        camundaVersion: cfg.CAMUNDA_VERSION,
        javaHome: cfg.JAVA_HOME,
        log: say,
      })
    : { engine: engineImage(cfg.CAMUNDA_VERSION), postgres: POSTGRES_IMAGE };
  say(`images ${images.engine}, ${images.postgres} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const jdk = findJdk(cfg.JAVA_HOME);
  const dist = await ensureDistribution(cfg.cacheDir, cfg.CAMUNDA_VERSION, say);
  const exporter = await ensureExporterJar(dist, jdk, cfg.cacheDir);
  project.provide('engineImage', images.engine);
  project.provide('postgresImage', images.postgres);
  project.provide('exporterJar', exporter.jarPath);
}
