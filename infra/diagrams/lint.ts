/**
 * bpmnlint with the repository's .bpmnlintrc (bpmnlint's recommended rules and the Camunda 8.6
 * compatibility rules), as one function: the diagram test runs it on every file under processes/, and
 * the API is to run it before it deploys a diagram.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { REPO_ROOT } from '../config.js';
import { parseDiagram, type ModdleElement } from './moddle.js';

export type LintCategory = 'error' | 'warn' | 'info' | 'rule-error';

export interface LintReport {
  /** The offending element's id ('' for the document as a whole). */
  id: string;
  rule: string;
  message: string;
  /** 'rule-error': the rule itself threw, so the diagram went unchecked by it. */
  category: LintCategory;
}

interface Linter {
  lint(root: ModdleElement): Promise<Record<string, { id?: string; message: string; category: LintCategory }[]>>;
}

type LinterClass = new (options: { config: unknown; resolver: unknown }) => Linter;
type ResolverClass = new (options: { require: NodeRequire }) => unknown;

let loaded: { Linter: LinterClass; resolver: unknown; config: unknown } | undefined;

/**
 * A new Linter for every diagram: rules are stateful factories, and a linter keeps the instances it
 * created, so a second diagram linted by the same linter is judged against the first one's flows
 * (no-duplicate-sequence-flows then reports every flow the two share).
 */
function createLinter(platform?: string): Linter {
  if (!loaded) {
    // bpmnlint is CommonJS without declarations. Its node resolver finds rules and configs with the
    // require it is given; one rooted at the repository (not at the process's cwd, its default)
    // finds bpmnlint-plugin-camunda-compat from any working directory.
    const require = createRequire(path.join(REPO_ROOT, 'package.json'));
    const NodeResolver = require('bpmnlint/lib/resolver/node-resolver') as ResolverClass;
    loaded = {
      Linter: (require('bpmnlint') as { Linter: LinterClass }).Linter,
      resolver: new NodeResolver({ require }),
      config: JSON.parse(fs.readFileSync(path.join(REPO_ROOT, '.bpmnlintrc'), 'utf8')),
    };
  }
  // Another engine version's compatibility rules in place of the configured ones (e.g. '8-9').
  const config = platform
    ? {
        ...(loaded.config as { extends: string[] }),
        extends: (loaded.config as { extends: string[] }).extends.map((e) =>
          e.startsWith('plugin:camunda-compat/camunda-cloud-') ? `plugin:camunda-compat/camunda-cloud-${platform}` : e,
        ),
      }
    : loaded.config;
  return new loaded.Linter({ config, resolver: loaded.resolver });
}

/**
 * Every report for one diagram. XML that is not well-formed rejects; what the Zeebe-aware parser
 * could not place (an unknown element or attribute) comes back as an 'error' of rule 'bpmn-moddle',
 * since the engine would silently ignore it.
 */
export async function lintDiagram(xml: string, options: { platform?: string } = {}): Promise<LintReport[]> {
  const { rootElement, warnings } = await parseDiagram(xml);
  const reports: LintReport[] = warnings.map((w) => ({
    id: w.element?.id ?? '',
    rule: 'bpmn-moddle',
    message: w.message.replace(/\s+/g, ' ').trim(),
    category: 'error',
  }));
  const results = await createLinter(options.platform).lint(rootElement);
  for (const [rule, ruleReports] of Object.entries(results)) {
    for (const r of ruleReports) reports.push({ id: r.id ?? '', rule, message: r.message, category: r.category });
  }
  return reports;
}
