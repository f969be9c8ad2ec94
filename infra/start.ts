/**
 * npm start: the whole system on embedded defaults. Ctrl-C (SIGINT) or SIGTERM stops everything it
 * started, in reverse order. Any failure prints one message naming the cause and exits non-zero.
 */
import { ConfigError, engineAddresses, loadConfig } from './config.js';
import { startSystem } from './system.js';

const t0 = Date.now();

async function main() {
  const cfg = loadConfig();
  const sys = await startSystem(cfg, { say: (l) => console.log(l) });
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

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    await sys.stop();
    console.log('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  console.error(`\nStart failed: ${message}`);
  if (!(err instanceof ConfigError) && process.env.LOG_LEVEL === 'debug' && err instanceof Error)
    console.error(err.stack);
  process.exit(1);
});
