/** Renders the results JSON as the Markdown table printed at the end and pasted into the README. */
import { fmt } from './stats.js';

/**
 * A polling ratio from a section-1b run where one engine had one SDK worker and three engines three compares the
 * workers' poll cadence (≈107 jobs/s each), not the engines: such a ratio is shown but never counted as met.
 */
export function countsWorkers(scaling: { workersPerSide?: unknown }, ratio: { scenario?: unknown }): boolean {
  return ratio.scenario === 'bare-polling' && !scaling.workersPerSide;
}
export const WORKERS_NOTE = 'one SDK worker vs three: measures the workers’ poll cadence, not the engines';

type J = Record<string, unknown>;
const get = (o: unknown, ...keys: string[]): unknown =>
  keys.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as J)[k] : undefined), o);
const num = (o: unknown, ...keys: string[]) => {
  const v = get(o, ...keys);
  return typeof v === 'number' ? v : undefined;
};
const pct = (v: number | undefined) => (v === undefined ? '–' : `${(v * 100).toFixed(0)} %`);
const mark = (met: unknown) => (met === true ? '✅' : met === false ? '❌' : '–');
const spreadText = (o: unknown, digits = 0) =>
  `${fmt(num(o, 'median'), digits)} (${fmt(num(o, 'min'), digits)}–${fmt(num(o, 'max'), digits)})`;

export function renderTable(r: J, withMachine = true): string {
  const rows: string[][] = [];
  const add = (...cells: string[]) => rows.push(cells);

  const engine = r.engine as J | undefined;
  if (engine) {
    for (const s of engine.scenarios as J[]) {
      add(
        `1 engine: ${s.name}`,
        `${spreadText(s.rate)} inst/s`,
        `${s.concurrency} clients, back-pressure ${pct(num(s, 'backPressure'))}`,
        s.name === 'ours' ? `${pct(num(engine, 'ratioToCeiling'))} of ceiling` : '',
        s.name === 'ours' ? `≥ 80 % ${mark(get(engine, 'target', 'met'))}` : '',
      );
    }
    for (const s of engine.scenarios as J[]) {
      const t = s.transactions as J | undefined;
      if (!t) continue;
      add(
        `1 engine: ${s.name}, transactions`,
        `${fmt(num(t, 'perInstanceNet'), 2)} commits/instance`,
        `${fmt(num(t, 'perInstance'), 2)} counted, ${fmt(num(t, 'commitsPerSecond'), 0)} commits/s`,
        `CPU engine ${fmt(num(s, 'cpu', 'engine'), 2)} (+${fmt(num(s, 'cpu', 'engineRunQueue'), 2)} queued), pg ${fmt(num(s, 'cpu', 'postgres'), 2)} (+${fmt(num(s, 'cpu', 'postgresRunQueue'), 2)} queued), bench ${fmt(num(s, 'cpu', 'bench'), 2)} cores; load ${fmt(num(s, 'load1'), 1)}`,
        '',
      );
    }
    for (const act of [engine.activation, engine.activationPolling] as (J | undefined)[]) {
      if (!act) continue;
      add(
        '1 engine: job activation',
        `p50 ${fmt(num(act, 'clientMs', 'p50'))} / p99 ${fmt(num(act, 'clientMs', 'p99'))} ms client-side`,
        `engine records created → activated p50 ${fmt(num(act, 'createdToActivatedMs', 'p50'))} / p99 ${fmt(num(act, 'createdToActivatedMs', 'p99'))} ms`,
        `${fmt(num(act, 'achievedRate'), 0)} inst/s open loop, ${String(act.worker)}`,
        '',
      );
    }
    const mem = engine.memoryMiB as J | undefined;
    if (mem) {
      add(
        '1 engine: memory (RSS)',
        `${fmt(num(mem, 'atRest', 'engine'), 0)} MiB at rest`,
        `${fmt(num(mem, 'peak', 'engine'), 0)} MiB peak during section 1`,
        '',
        '',
      );
    }
    const pgb = engine.pgbench as J | undefined;
    if (pgb) {
      add(
        '1 reference: pgbench TPC-B',
        `${spreadText(pgb.tps)} tps`,
        `scale ${String(pgb.scale)}, ${String(pgb.clients)} clients, ${String(pgb.seconds)} s`,
        `CPU pg ${fmt(num(pgb, 'cpu', 'postgres'), 2)}, pgbench ${fmt(num(pgb, 'cpu', 'pgbench'), 2)} cores`,
        '',
      );
    }
    for (const t of (engine.targets as J[] | undefined) ?? []) {
      add(`1 target: ${String(t.name)}`, String(t.value), '', '', `${String(t.target)} ${mark(t.met)}`);
    }
  }

  const scaling = r.scaling as J | undefined;
  if (scaling) {
    for (const ratio of (scaling.ratios as J[] | undefined) ?? []) {
      const one = (scaling.one as J[]).find((s) => s.scenario === ratio.scenario);
      const three = (scaling.three as J[]).find((s) => s.scenario === ratio.scenario);
      add(
        `1b three engines vs one: ${String(ratio.scenario)}`,
        `${spreadText(three?.rate)} vs ${spreadText(one?.rate)} inst/s`,
        `${fmt(num(three, 'concurrency'), 0)} / ${fmt(num(one, 'concurrency'), 0)} clients; CPU engines ${((three?.cpu as J)?.engines as number[] | undefined)?.join(' + ') ?? '–'} vs ${fmt(num(one, 'cpu', 'engines', '0'), 2)}, pg ${fmt(num(three, 'cpu', 'postgres'), 2)} vs ${fmt(num(one, 'cpu', 'postgres'), 2)} cores; load ${fmt(num(three, 'load1'), 1)} / ${fmt(num(one, 'load1'), 1)}`,
        `×${fmt(num(ratio, 'median'), 2)} (×${fmt(num(ratio, 'min'), 2)}–×${fmt(num(ratio, 'max'), 2)})`,
        countsWorkers(scaling, ratio) ? WORKERS_NOTE : `≥ ×${fmt(num(scaling, 'target'), 1)} ${mark(ratio.met)}`,
      );
    }
    for (const p of (scaling.profiles as J[] | undefined) ?? []) {
      const kinds = (get(p, 'flame', 'selfByCategory') as J[] | undefined) ?? [];
      add(
        `1b engine profiled: ${String(p.scenario)}`,
        `${fmt(num(p, 'rate', 'median'), 0)} inst/s (unprofiled ${fmt(num(p, 'unprofiledMedian'), 0)})`,
        `${fmt(num(p, 'cpuMsPerInstance', 'engine'), 2)} ms engine + ${fmt(num(p, 'cpuMsPerInstance', 'postgres'), 2)} ms pg CPU/instance; ${fmt(num(p, 'statements', 'perInstance'), 1)} statements in ${fmt(num(p, 'statements', 'roundTripsPerInstance'), 1)} round trips, ${fmt(num(p, 'server', 'commits'), 2)} commits/instance`,
        `self: ${kinds
          .slice(0, 5)
          .map((k) => `${String(k.category)} ${String(k.pct)} %`)
          .join(', ')}`,
        String(p.svg ?? ''),
      );
    }
    const pgb = scaling.pgbench as J | undefined;
    if (pgb)
      add('1b reference: pgbench TPC-B', `${spreadText(pgb.tps)} tps`, `load ${fmt(num(pgb, 'load1'), 1)}`, '', '');
  }

  const flows = r.flows as J | undefined;
  if (flows) {
    for (const f of (flows.flows as J[]) ?? []) {
      add(
        `2 flow: ${f.name}`,
        `${fmt(num(f, 'instancesPerSecond'))} inst/s, drain ${fmt(num(f, 'drainSeconds'))} s`,
        `job p50 ${fmt(num(f, 'jobLatencyMs', 'p50'), 0)} ms / p99 ${fmt(num(f, 'jobLatencyMs', 'p99'), 0)} ms (${fmt(num(f, 'jobLatencyMs', 'n'), 0)} jobs)`,
        `CPU engine ${fmt(num(f, 'cpu', 'engine'), 2)}, node ${fmt(num(f, 'cpu', 'node'), 2)}, pg ${fmt(num(f, 'cpu', 'postgres'), 2)} cores`,
        String(f.note ?? ''),
      );
    }
  }

  const v = r.verification as J | undefined;
  if (v) {
    add(
      '3 import (our path)',
      `${spreadText(get(v, 'import', 'ours'))} rows/s`,
      `COPY ${spreadText(get(v, 'import', 'copy'))} rows/s`,
      `${pct(num(v, 'import', 'ratio'))} of COPY`,
      `≥ 50 % ${mark(get(v, 'import', 'met'))}`,
    );
    add(
      '3 comparison (our SQL)',
      `${spreadText(get(v, 'comparison', 'oursMs'))} ms`,
      `anti-join ${spreadText(get(v, 'comparison', 'antiJoinMs'))} ms`,
      `${fmt(num(v, 'comparison', 'ratio'), 2)}× anti-join`,
      `≤ 1.5× ${mark(get(v, 'comparison', 'met'))}`,
    );
    if (get(v, 'comparison', 'proposedMs'))
      add(
        '3 comparison as one INSERT … SELECT',
        `${spreadText(get(v, 'comparison', 'proposedMs'))} ms`,
        'the same anti-join inside the INSERT (never run in parallel), for reference',
        `${fmt(num(v, 'comparison', 'proposedRatio'), 2)}× anti-join`,
        '',
      );
  }

  const api = r.api as J | undefined;
  if (api) {
    for (const e of (api.endpoints as J[]) ?? []) {
      add(
        `4 API: ${e.name}`,
        `p50 ${fmt(num(e, 'api', 'p50'))} / p99 ${fmt(num(e, 'api', 'p99'))} ms (50 users × 1 req/s)`,
        `data layer alone p50 ${fmt(num(e, 'sql', 'p50'))} / p99 ${fmt(num(e, 'sql', 'p99'))} ms`,
        `${fmt(num(e, 'ratioP50'), 1)}× data layer; saturated ${fmt(num(e, 'throughput'), 0)} req/s (p99 ${fmt(num(e, 'saturated', 'p99'), 0)} ms)`,
        e.target ? `${e.target} ${mark(e.met)}` : '',
      );
    }
  }

  // The supervisors' heatmap and dashboard: their own benchmarks (bench/heatmap.ts, bench/dashboard.ts),
  // attached by bench/report.ts from their results files when present.
  const heatmap = r.heatmap as J | undefined;
  const heatTimings = Object.entries((heatmap?.timings as Record<string, J> | undefined) ?? {}).filter(([k]) =>
    k.startsWith('heatmap'),
  );
  if (heatTimings.length) {
    const worst = heatTimings.reduce((w, t) => ((num(t[1], 'medianMs') ?? 0) > (num(w[1], 'medianMs') ?? 0) ? t : w));
    const ms = num(worst[1], 'medianMs');
    add(
      'heatmap (bench/heatmap.ts)',
      `slowest answer ${fmt(ms, 0)} ms (${worst[0]})`,
      `${fmt(num(heatmap, 'instances'), 0)} instances; the same heatmap from the raw tables ${fmt(num(heatmap, 'reference', 'rawCountyHeatmapMs'), 0)} ms`,
      `${heatTimings.length} heatmaps timed, median of ${fmt(num(heatmap, 'runs'), 0)}`,
      `< 1 s ${mark(ms === undefined ? undefined : ms < 1000)}`,
    );
  }
  const dashboard = r.dashboard as J | undefined;
  for (const [name, t] of Object.entries((dashboard?.timings as Record<string, J> | undefined) ?? {})) {
    if (!name.startsWith('GET ')) continue;
    const ms = num(t, 'medianMs');
    add(
      `dashboard (bench/dashboard.ts): ${name}`,
      `${fmt(ms, 0)} ms`,
      `min ${fmt(num(t, 'minMs'), 0)} / max ${fmt(num(t, 'maxMs'), 0)} ms`,
      '',
      `< 1 s ${mark(ms === undefined ? undefined : ms < 1000)}`,
    );
  }

  const mem = r.memory as J | undefined;
  const rest = (mem?.atRest ?? r.memoryAtRest) as J | undefined;
  if (rest) {
    const load = mem?.underFlowLoad as J | undefined;
    for (const [k, label] of [
      ['engine', 'engine (Node process)'],
      ['node', 'API + workers (Node)'],
      ['postgres', 'PostgreSQL (PSS)'],
    ] as const) {
      add(
        `5 memory: ${label}`,
        `${fmt(num(rest, k), 0)} MiB at rest`,
        load ? `${fmt(num(load, k), 0)} MiB peak under flow load` : '',
        '',
        '',
      );
    }
  }

  const header = ['figure', 'ours', 'reference / detail', 'ratio / detail', 'target'];
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const m = r.machine as J | undefined;
  const head =
    m && withMachine
      ? `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memGiB} GiB, Linux ${m.kernel}, Node ${m.node}; mode ${r.mode}; ${r.startedAt}\n\n`
      : '';
  return `${head}${[line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')}\n`;
}
