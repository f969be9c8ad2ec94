/**
 * npm run diagrams:layout -- [--force] processes/x.bpmn …  lay out diagrams written without DI
 * npm run diagrams:svg                                      docs/diagrams/*.svg from processes/*.bpmn
 * npm run diagrams:templates                                Modeler element templates of the workers
 *
 * Each command loads only what it needs (the templates import the worker registry, and with it the
 * workers' code).
 */
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../run-cli.js';

const [command, ...args] = process.argv.slice(2);
const log = (m: string) => console.error(m);

async function layout(): Promise<number> {
  const force = args.includes('--force');
  const files = args.filter((a) => a !== '--force');
  if (files.length === 0 || files.some((f) => f.startsWith('-'))) {
    log('usage: npm run diagrams:layout -- [--force] processes/<name>.bpmn …');
    return 2;
  }
  const { layoutDiagram } = await import('./layout.js');
  // npm runs scripts in the repository root; paths are meant from where the command was typed.
  const cwd = process.env.INIT_CWD ?? process.cwd();
  let failed = 0;
  for (const name of files) {
    const file = path.resolve(cwd, name);
    try {
      const outcome = await layoutDiagram(fs.readFileSync(file, 'utf8'), { force });
      if (outcome.status === 'has-di') {
        log(`${name}: has DI, left as it is (--force lays it out again)`);
      } else if (outcome.status === 'partial-di') {
        failed++;
        log(`${name}: drawn in part; no DI for ${outcome.missing.join(', ')}.`);
        log('  Draw those in the Modeler, or lay out the whole file again with --force.');
      } else {
        fs.writeFileSync(file, outcome.xml);
        log(`${name}: laid out`);
        if (outcome.notLaidOut.length) {
          log(`  not laid out (bpmn-auto-layout skips them): ${outcome.notLaidOut.join(', ')}`);
        }
      }
    } catch (err) {
      failed++;
      log(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return failed ? 1 : 0;
}

async function svg(): Promise<number> {
  const { renderProcessesDir, SVG_DIR } = await import('./svg.js');
  const { files, undrawn } = await renderProcessesDir();
  fs.mkdirSync(SVG_DIR, { recursive: true });
  for (const stale of fs.readdirSync(SVG_DIR).filter((f) => f.endsWith('.svg') && !files.has(f))) {
    fs.rmSync(path.join(SVG_DIR, stale));
    log(`removed docs/diagrams/${stale}`);
  }
  for (const [file, content] of files) {
    const target = path.join(SVG_DIR, file);
    const unchanged = fs.existsSync(target) && fs.readFileSync(target, 'utf8') === content;
    if (!unchanged) fs.writeFileSync(target, content);
    log(`${unchanged ? 'unchanged' : 'wrote'} docs/diagrams/${file}`);
  }
  for (const source of undrawn)
    log(`processes/${source}: no DI, nothing drawn (npm run diagrams:layout -- processes/${source})`);
  return 0;
}

async function templates(): Promise<number> {
  const { elementTemplates, templatesJson, TEMPLATES_FILE } = await import('./element-templates.js');
  const { workers } = await import('../../workers/registry.js');
  fs.mkdirSync(path.dirname(TEMPLATES_FILE), { recursive: true });
  fs.writeFileSync(TEMPLATES_FILE, await templatesJson(elementTemplates(workers)));
  log(`wrote ${path.relative(process.cwd(), TEMPLATES_FILE)}: ${workers.length} templates`);
  return 0;
}

const commands: Record<string, () => Promise<number>> = { layout, svg, templates };

async function main(): Promise<number> {
  const run = command ? commands[command] : undefined;
  if (!run) {
    log('usage: diagrams/cli.ts layout [--force] <file.bpmn>… | svg | templates');
    return 2;
  }
  return run();
}

runCli(main, log);
