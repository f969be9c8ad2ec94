/**
 * npm run bench — the benchmark suite (issue 7). Not part of npm test.
 *
 *   node --import tsx bench/run.ts            full run (~20–25 min on 2 cores), writes bench/results.json
 *   node --import tsx bench/run.ts --quick    small smoke run (~3–5 min), writes bench/results.quick.json
 *   node --import tsx bench/run.ts --only=engine,verification
 *   node --import tsx bench/run.ts --only=engine,scaling    section 1 and 1b (three engines vs one, flame graph)
 *
 * Sections: engine, scaling, flows, verification, api, memory (memory is sampled during the others).
 * Every figure is measured beside its reference in the same run and reported as a ratio too.
 * The system runs on a scratch data directory ($TMPDIR/kc-bench or KC_BENCH_DATA_DIR) with the ports of
 * test slot 5 (KC_BENCH_SLOT), so a developer's npm start and npm test keep running beside it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The benchmark's comparisons on a million children are long single queries: no per-query time limit
// (infra/db/pool.ts) unless the caller sets one.
process.env.DB_QUERY_TIMEOUT_MS ??= '0';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const SECTIONS = ['engine', 'scaling', 'flows', 'verification', 'api', 'memory'] as const;
type Section = (typeof SECTIONS)[number];

function parseArgs(argv: string[]) {
  const quick = argv.includes('--quick');
  const only = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  const sections = new Set<Section>(only ? (only.split(',').map((s) => s.trim()) as Section[]) : [...SECTIONS]);
  for (const s of sections) {
    if (!SECTIONS.includes(s)) throw new Error(`Unknown section "${s}"; sections: ${SECTIONS.join(', ')}`);
  }
  const out = argv.find((a) => a.startsWith('--out='))?.slice('--out='.length);
  return { quick, sections, out };
}

const log = (line: string) => process.stderr.write(`${line}\n`);

async function main() {
  const args = parseArgs(process.argv.slice(2));
  // The bench imports the app's modules, which need the generated prisma client (npm start makes it too).
  if (!fs.existsSync(path.join(ROOT, 'generated', 'prisma', 'client.ts'))) {
    log('• generating the prisma client…');
    execFileSync(process.execPath, ['--import', 'tsx', 'infra/db/generate.ts'], { cwd: ROOT, stdio: 'inherit' });
  }
  const { runBench } = await import('./suite.js');
  const results = await runBench({ quick: args.quick, sections: args.sections }, log);
  const file = args.out
    ? path.resolve(args.out)
    : path.join(HERE, args.quick || args.sections.size < SECTIONS.length ? 'results.partial.json' : 'results.json');
  fs.writeFileSync(file, `${JSON.stringify(results.json, null, 2)}\n`);
  process.stdout.write(`${results.table}\nResults: ${path.relative(process.cwd(), file)}\n`);
  if (path.basename(file) === 'results.json') {
    // The README section and the scale plan follow the latest full run.
    const { helmReadme, readmeSection } = await import('./report.js');
    fs.writeFileSync(path.join(HERE, 'README-section.md'), readmeSection(results.json));
    fs.writeFileSync(path.join(ROOT, 'infra', 'helm', 'README.md'), helmReadme(results.json));
    process.stdout.write('Wrote bench/README-section.md and infra/helm/README.md\n');
  }
}

main().catch((err: unknown) => {
  console.error(`\nBenchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
