/**
 * npm start: the whole system on embedded defaults. Ctrl-C (SIGINT) or SIGTERM stops everything it
 * started, in reverse order — also during start-up, where the engine and the embedded PostgreSQL run
 * as processes of their own and would otherwise outlive us. Any failure prints one message naming the
 * cause and exits non-zero.
 */
import { ConfigError, engineAddresses, loadConfig } from './config.js';
import { type System, startSystem } from './system.js';

const t0 = Date.now();

class Interrupted extends Error {}

async function main() {
  const cfg = loadConfig();
  /** Set once the system is up: a signal before that interrupts the start instead. */
  const up: { sys?: System } = {};
  let stopping = false;
  const starting = new AbortController();
  const onSignal = (signal: string) => {
    if (up.sys) return void shutdown(up.sys, signal);
    if (starting.signal.aborted) return;
    console.log(`\n${signal}: stopping after the current step…`);
    starting.abort(new Interrupted(signal));
  };
  const shutdown = async (running: System, signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    await running.stop();
    console.log('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  const sys = (up.sys = await startSystem(cfg, { say: (l) => console.log(l), signal: starting.signal }));
  const addr = engineAddresses(cfg);
  console.log(`
控辍保学 platform is up in ${((Date.now() - t0) / 1000).toFixed(1)} s
  Console        ${sys.apiUrl}/          (sign in as teacher-1, school-…, town-…, bureau; password in the README)
  API            ${sys.apiUrl}/api
  API docs       ${sys.apiUrl}/api/docs
  Engine REST    ${addr.rest}/v2   (gRPC ${addr.grpc})
  Engine health  ${addr.management}/actuator/health
  Logs           ${cfg.logDir}
  Data           ${cfg.dataDir}${sys.dbs.embedded ? '' : ' (database: external, DATABASE_URL)'}
Press Ctrl-C to stop.`);
}

main().catch((err: unknown) => {
  if (err instanceof Interrupted) {
    console.log('Stopped.');
    process.exit(130);
  }
  const message = err instanceof Error ? err.message : String(err);
  console.error(`\nStart failed: ${message}`);
  if (!(err instanceof ConfigError) && process.env.LOG_LEVEL === 'debug' && err instanceof Error)
    console.error(err.stack);
  process.exit(1);
});
