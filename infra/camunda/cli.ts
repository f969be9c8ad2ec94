/**
 * npm run engine:fetch — prepares the engine ahead of the first start (or for a machine that will be
 * offline): fetches and unpacks the Camunda distribution into the cache and builds the exporter.
 */
import { loadConfig } from '../config.js';
import { findJdk } from '../java.js';
import { ensureDistribution } from './distribution.js';
import { ensureExporterJar } from './exporter.js';

async function main() {
  const cfg = loadConfig();
  const jdk = findJdk(cfg.JAVA_HOME);
  const dist = await ensureDistribution(cfg.cacheDir, cfg.CAMUNDA_VERSION, (m) => console.log(m));
  const exporter = await ensureExporterJar(dist, jdk, cfg.cacheDir);
  console.log(`Camunda ${dist.version}: ${dist.home}\nJDK ${jdk.major}: ${jdk.home}\nExporter: ${exporter.jarPath}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
