import fs from 'node:fs';
import path from 'node:path';
import { type Config, loadConfig, REPO_ROOT } from '../../infra/config.js';
import { slotPorts } from '../../infra/ports.js';

/**
 * testcontainers on podman (no Docker engine here): the Docker-compatible socket of
 * `podman system service` (infra/containers/setup-podman.sh), no reaper (its image cannot be pulled:
 * the tests stop their containers themselves, and the global setup removes any a crashed run left),
 * and loopback as the containers' host. On a machine with Docker nothing is set.
 */
export const CONTAINER_ENV: Record<string, string> = {
  DOCKER_HOST: 'unix:///run/podman/podman.sock',
  TESTCONTAINERS_RYUK_DISABLED: 'true',
  TESTCONTAINERS_HOST_OVERRIDE: '127.0.0.1',
};

/** Podman's socket, unless the machine has Docker (DOCKER_HOST set elsewhere, or Docker's own socket). */
export function usesPodman(): boolean {
  const host = process.env.DOCKER_HOST;
  if (host) return host === CONTAINER_ENV.DOCKER_HOST;
  return !fs.existsSync('/var/run/docker.sock');
}

/** Sets the podman environment for testcontainers (nothing on a Docker machine). */
export function useContainerEnv(): void {
  if (!usesPodman()) return;
  for (const [k, v] of Object.entries(CONTAINER_ENV)) process.env[k] ??= v;
}

/** Test slot of the fault tests' fixed host ports and data directory (slot 7: away from npm start, tests, bench). */
export const FAULT_SLOT = Number(process.env.KC_FAULT_SLOT ?? 7);
export const FAULT_DATA_DIR = path.join(REPO_ROOT, '.data', `faults-${FAULT_SLOT}`);

/** Host-side configuration: our clients dial the containers' published ports on loopback. */
export function faultConfig(): Config {
  const { DATABASE_URL: _a, ENGINE_DATABASE_URL: _b, ...env } = process.env;
  const ports = slotPorts(FAULT_SLOT);
  return loadConfig({
    ...env,
    ...ports,
    KC_DATA_DIR: FAULT_DATA_DIR,
    DATABASE_URL: `postgres://postgres@127.0.0.1:${ports.PG_PORT}/kongchuo`,
    LOG_LEVEL: 'info',
  });
}
