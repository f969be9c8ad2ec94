/**
 * Our engine as a part of the system: started from the configuration as its own process
 * (infra/engine/launch.ts) on the engine database, with its ports on BIND_HOST; an engine left running
 * by a start that was SIGKILLed is stopped first (pid file). Also the test clock's client.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type Config } from '../config.js';
import { assertPortsFree } from '../ports.js';
import { ENGINE_BUNDLE, EngineStartError, type EngineProcess, startEngineProcess } from './launch.js';

export { EngineStartError as EngineError };

function pidFile(cfg: Config) {
  return path.join(cfg.dataDir, 'engine.pid');
}

/** An engine left running by an earlier start that was killed with SIGKILL is stopped before a new one starts. */
function killStaleEngine(cfg: Config, log: (m: string) => void) {
  const file = pidFile(cfg);
  if (!fs.existsSync(file)) return;
  const pid = Number(fs.readFileSync(file, 'utf8'));
  fs.rmSync(file, { force: true });
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmdline.includes(ENGINE_BUNDLE)) {
      log(`Stopping an engine left running by an earlier start (pid ${pid}).`);
      process.kill(pid, 'SIGKILL');
    }
  } catch {
    // Not running any more.
  }
}

export async function startEngine(cfg: Config, databaseUrl: string, log: (m: string) => void): Promise<EngineProcess> {
  fs.mkdirSync(cfg.dataDir, { recursive: true });
  killStaleEngine(cfg, log);
  await assertPortsFree(cfg.BIND_HOST, {
    ENGINE_REST_PORT: cfg.ENGINE_REST_PORT,
    ENGINE_GRPC_PORT: cfg.ENGINE_GRPC_PORT,
    ENGINE_MANAGEMENT_PORT: cfg.ENGINE_MANAGEMENT_PORT,
  });
  const engine = await startEngineProcess({
    databaseUrl,
    host: cfg.BIND_HOST,
    grpcPort: cfg.ENGINE_GRPC_PORT,
    restPort: cfg.ENGINE_REST_PORT,
    managementPort: cfg.ENGINE_MANAGEMENT_PORT,
    clockControlled: cfg.ENGINE_CLOCK_CONTROLLED,
    mode: cfg.KC_MODE,
    auth:
      cfg.ENGINE_USERNAME && cfg.ENGINE_PASSWORD
        ? { username: cfg.ENGINE_USERNAME, password: cfg.ENGINE_PASSWORD }
        : undefined,
    logFile: path.join(cfg.logDir, 'engine.log'),
    startTimeoutMs: cfg.ENGINE_START_TIMEOUT_S * 1000,
  });
  fs.writeFileSync(pidFile(cfg), String(engine.pid));
  void engine.exited.then(({ code, signal }) => {
    fs.rmSync(pidFile(cfg), { force: true });
    if (code !== 0 && signal !== 'SIGTERM') {
      log(
        `The engine stopped unexpectedly (code ${code}, signal ${signal}); see ${path.join(cfg.logDir, 'engine.log')}.`,
      );
    }
  });
  return engine;
}

/**
 * Test-mode clock control on the management port (only when ENGINE_CLOCK_CONTROLLED=true). Tests only
 * move it forward: moving it back would strand scheduled work (README).
 */
export function engineClock(managementUrl: string) {
  const call = async (method: string, suffix = '', body?: unknown) => {
    const res = await fetch(`${managementUrl}/actuator/clock${suffix}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : undefined,
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new EngineStartError(`clock ${method} ${suffix} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as { epochMilli: number; instant: string };
  };
  return {
    now: () => call('GET'),
    add: (offsetMilli: number) => call('POST', '/add', { offsetMilli }),
  };
}
