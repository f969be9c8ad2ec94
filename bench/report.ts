/**
 * Writes the README section (bench/README-section.md) and the scale plan (infra/helm/README.md) from a
 * results file, or several combined (each section from the last file that has it): the table, the targets
 * met or missed, what limits the missed ones and the capacity model, every figure from the results; the
 * heatmap's and the dashboard's figures from bench/results-heatmap.json and bench/results-dashboard.json
 * when present.
 *
 *   node --import tsx bench/report.ts [bench/results.json …] [--capacity=FILE] [--out=DIR]
 *
 * --capacity=FILE sizes the capacity model (and the scale plan) from that file's engine section instead of the
 * results' own: a plan is sized from a slow day's measurement, not from the fastest run.
 * --out=DIR writes DIR/README-section.md and DIR/helm-README.md instead of the tracked files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  JOB_SHARE,
  type Measured,
  MIN_ENGINE_REPLICAS,
  PEAK_HOUR_SHARE,
  plan,
  POSTGRES_INSTANCES,
  type ScopePlan,
  SHARES,
  STEPS,
  TARGET_UTILISATION,
} from '../infra/helm/capacity.js';
import { fmt } from './stats.js';
import { countsWorkers, renderTable, WORKERS_NOTE } from './table.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');

/* eslint-disable @typescript-eslint/no-explicit-any -- results.json is read as loose JSON */
type R = any;

const pct = (v: number) => `${(v * 100).toFixed(v < 0.01 ? 1 : 0)} %`;
const yes = (met: boolean | undefined) => (met ? 'met' : 'NOT met');

/** The capacity model's inputs from a results file (defaults where a section did not run). */
function measured(r: R): Measured {
  const e = r.engine;
  return {
    engineStepsPerSecond: e?.ceilingOneTask ?? 140,
    workerJobsPerSecond: e?.ours ?? 50,
    commitsPerStep: e?.activation?.transactions?.perInstanceNet ?? 4,
    pgbenchTps: e?.pgbench?.tps?.median ?? 2000,
    comparisonMsPerMillion: r.verification
      ? (r.verification.comparison.oursMs.median / r.verification.comparison.children) * 1e6
      : undefined,
  };
}

function capacitySection(r: R): string {
  const e = r.engine;
  const m = measured(r);
  const plans = plan(m);
  const esc = r.flows?.flows?.find((f: R) => f.name === 'escalation');
  const hand = r.flows?.flows?.find((f: R) => f.name === 'handover');
  const flowSteps = esc ? (esc.size.cases * 7) / esc.drainSeconds : undefined;
  const n = (v: number) => Math.round(v).toLocaleString('en-US');
  const rows = plans.map(
    (p) =>
      `| ${p.scope.name} | ${n(p.scope.pupils)} | ${n(p.octoberSteps)} / ${n(p.julySteps)} | ${p.peakStepsPerSecond.toFixed(1)} → ${p.engineReplicas} | ${n(p.octoberEveryChildSteps)} → ${p.peakEveryChildStepsPerSecond.toFixed(0)}/s → ${p.engineReplicasEveryChild} | ${n(p.postgresCommitsEveryChild)}/s = ${p.postgresLoadEveryChild.toFixed(2)}× | ${p.workerReplicas} | ${Number.isNaN(p.comparisonSeconds) ? 'not measured in this run' : `${p.comparisonSeconds.toFixed(1)} s`} |`,
  );
  const province = plans[2]!;
  const city = plans[1]!;
  const slower = (r.scaling?.ratios ?? []) as R[];
  const scalingNote = slower.length
    ? `On ${r.machine?.cpus ?? 2} cores three engine processes beside PostgreSQL and the load generator reached ${slower
        .map((x) => `×${fmt(x.median, 2)} ${x.scenario}${countsWorkers(r.scaling, x) ? ` (${WORKERS_NOTE})` : ''}`)
        .join(
          ', ',
        )} of one (section 1b, ${from(r, 'scaling')})${slower.every((x) => x.median < 1) ? ": they compete for the same CPUs as PostgreSQL, which already waits for a CPU at one engine's ceiling" : ''}.`
    : 'Section 1b (three engine processes vs one) is not in these results.';
  const minimumCarries = province.engineReplicas <= MIN_ENGINE_REPLICAS;
  return `### Capacity model (from the measurements of ${from(r, 'engine')})

**Per-process throughput.** One engine process on this machine's 2 cores, shared with PostgreSQL, the API, the
workers and the load generator, measured **${fmt(e?.ceilingEmpty, 0)} empty instances/s** and **${fmt(m.engineStepsPerSecond, 0)} one-task
instances/s** (the ceiling, ${e?.ceilingOneTaskBy ?? 'bare worker'}); each one-task instance cost **${fmt(m.commitsPerStep, 1)} commits** of the
engine database (net of the idle housekeeping), beside **pgbench ${fmt(m.pgbenchTps, 0)} TPS** on the same PostgreSQL. Our worker
plumbing reaches **${fmt(m.workerJobsPerSecond, 0)} jobs/s per process and job type**${flowSteps ? `. End to end, the escalation flow sustained ${fmt(flowSteps, 0)} steps/s including the API and the timers` : ''}${hand ? `; the handover of ${hand.size.classes} classes / ${n(hand.size.pupils)} pupils took ${fmt(hand.drainSeconds, 0)} s from start to 清零 with every task worked through the API` : ''}.
The model counts engine *steps* (a job, a user task or a timer — each costs about one one-task instance) and
plans each engine process, each worker process and the PostgreSQL primary at ${pct(TARGET_UTILISATION)} of its measured rate
(${fmt(m.engineStepsPerSecond * TARGET_UTILISATION, 0)} steps/s per engine process, ${fmt(m.workerJobsPerSecond * TARGET_UTILISATION, 0)} jobs/s per worker process, ${fmt(m.pgbenchTps * TARGET_UTILISATION, 0)} commits/s
for a primary like this machine's — a pgbench transaction is five statements, an engine commit one to a few, so the
ratio errs on the safe side; ${pct(JOB_SHARE)} of steps are jobs). Engine processes add up until the database is the limit: they
share nothing but PostgreSQL (jobs by \`SKIP LOCKED\`, instances by their row lock), and at least ${MIN_ENGINE_REPLICAS} always run.

**Work per unit** (counted in the diagrams): ${STEPS.perSuspect} steps per suspect (child-verification), ${STEPS.perCase} per
dropout case to the town stage, ${STEPS.perClass} per class handed over, ${STEPS.perNoShow} per no-show traced, ${STEPS.perSchool} per school for
the 31 October statistics. **Shares**: suspects ${pct(SHARES.suspects)} of the base database × ${SHARES.roundsFactor} for
rounds 2–3, dropouts ${pct(SHARES.dropouts)}, grade 6 = 1/9 of pupils in classes of ${SHARES.pupilsPerClass}, ${pct(SHARES.noShows)} no-shows.
**Peak**: the busiest hour carries ${pct(PEAK_HOUR_SHARE)} of a campaign's steps (the towns' verification deadline, 15 October;
the registration days before 1 September). The stress columns run *every* child of the base database through
its own verification instance — the upper bound of "verification of every child" at the October peak.

| scope | pupils | engine steps Oct / Jul | expected peak steps/s → engine processes | every child verified: steps → peak → engine processes | engine-DB commits at that peak (× this machine's planned PostgreSQL) | worker processes | comparison SQL |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Reading: with the expected workload (${pct(SHARES.suspects)} suspects) ${
    minimumCarries
      ? `${MIN_ENGINE_REPLICAS} engine processes — the availability minimum — carry
even a province`
      : `a province needs ${province.engineReplicas} engine processes (${city.engineReplicas} for a city)`
  }, on a PostgreSQL primary like this machine's. The stress case sets the rest: a city needs
**${city.engineReplicasEveryChild} engine processes** and ${city.postgresLoadEveryChild.toFixed(2)}× this machine's planned PostgreSQL; a province **${province.engineReplicasEveryChild} engine
processes** and ${province.postgresLoadEveryChild.toFixed(2)}× — a primary ${Math.max(1, Math.ceil(province.postgresLoadEveryChild))}× this one (${Math.max(1, Math.ceil(province.postgresLoadEveryChild)) * 2} cores or more, \`overlays/province\`), or one
engine database per city (the counties' flows never meet). PostgreSQL runs as a CloudNativePG cluster of
${POSTGRES_INSTANCES} instances (a primary and two standbys, one synchronous): the engine keeps all its state there, so a
failover loses no committed command. **${province.workerReplicas} worker processes** at today's worker rate carry the province's
stress peak. The comparison runs per county — one statement selecting the county's suspects, one inserting
them (${m.comparisonMsPerMillion === undefined ? 'not measured in these results' : `${fmt(m.comparisonMsPerMillion, 0)} ms per million children, ${from(r, 'verification')}`}) — so it never adds up across a
province. *Assumed, not shown on this machine:* that engine processes add up until the database is the limit.
${scalingNote} The replicas above are therefore a plan for nodes with cores of their own, to be confirmed there.
`;
}

/** Section 1b: three engines vs one, the profiled engine's top functions, its statements per instance. */
export function scalingText(r: R): string {
  const s = r.scaling;
  if (!s) return '';
  const rows = s.ratios.map((x: R) => {
    const one = s.one.find((o: R) => o.scenario === x.scenario);
    const three = s.three.find((o: R) => o.scenario === x.scenario);
    const sp = (v: R) => `${fmt(v?.median, 0)} (${fmt(v?.min, 0)}–${fmt(v?.max, 0)})`;
    return `| ${x.scenario} | ${sp(one?.rate)} inst/s, ${one?.concurrency} clients | ${sp(three?.rate)} inst/s, ${three?.concurrency} clients | **×${fmt(x.median, 2)}** (×${fmt(x.min, 2)}–×${fmt(x.max, 2)}) ${countsWorkers(s, x) ? `(${WORKERS_NOTE})` : x.met ? '✅' : '❌'} | ${fmt(one?.cpuMsPerInstance?.engines, 1)} / ${fmt(three?.cpuMsPerInstance?.engines, 1)} ms | ${fmt(one?.cpuMsPerInstance?.postgres, 1)} / ${fmt(three?.cpuMsPerInstance?.postgres, 1)} ms | ${fmt(one?.load1, 1)} / ${fmt(three?.load1, 1)} |`;
  });
  const profiles = (s.profiles ?? []).map((p: R) => {
    const top = (list: R[]) =>
      list
        .slice(0, 10)
        .map((f: R) => `\`${f.label}\` ${fmt(f.selfPct, 1)} / ${fmt(f.totalPct, 1)} %`)
        .join('; ');
    const kinds = p.flame.selfByCategory.map((k: R) => `${k.category} ${k.pct} %`).join(', ');
    const stm = p.statements.byKind
      .slice(0, 10)
      .map((k: R) => `${k.kind} ${fmt(k.perInstance, 2)}`)
      .join(', ');
    const tables = p.server.tables
      .slice(0, 6)
      .map(
        (t: R) =>
          `${t.table} ${fmt(t.insertsPerInstance, 2)}/${fmt(t.updatesPerInstance, 2)}/${fmt(t.deletesPerInstance, 2)}/${fmt(t.indexScansPerInstance, 1)}`,
      )
      .join(', ');
    return `- **${p.scenario}** ([\`${p.svg}\`](${p.svg})), engine 2 alone at ${p.concurrency} clients: ${fmt(p.rate.median, 0)} inst/s with the
  profiler on (${fmt(p.unprofiledMedian, 0)} without, on engine 1); ${fmt(p.cpuMsPerInstance.engine, 2)} ms engine + ${fmt(p.cpuMsPerInstance.postgres, 2)} ms PostgreSQL CPU per
  instance; the engine busy ${pct(p.flame.busyShare)} of the wall clock. Self time by kind: ${kinds}.
  Top by self / total time: ${top(p.flame.topSelf)}. **${fmt(p.statements.perInstance, 1)} statements in ${fmt(p.statements.roundTripsPerInstance, 1)} round trips per instance** (counted in
  the driver): ${stm}; ${fmt(p.server.commits, 2)} commits per instance; rows inserted/updated/deleted/index scans per
  instance by table: ${tables}.`;
  });
  return `
**Three engine processes vs one** (section 1b, \`--only=scaling\`): the same closed loop, clients spread round-robin
across the engines' gateways, one bare SDK worker per gateway; all engines on the same engine database
(engine 1 is the system's, engines 2–3 the same bundle${s.sameBundle ? '' : ' — **not the same bundle as engine 1** (the tree changed in between)'}). CPU per instance: all engines together / PostgreSQL;
load: 1-minute load average at the end of the runs (2 cores). Same run: pgbench ${fmt(s.pgbench?.tps?.median, 0)} (${fmt(s.pgbench?.tps?.min, 0)}–${fmt(s.pgbench?.tps?.max, 0)}) tps.

| scenario | one engine | three engines | ratio (min–max: worst / best pairing) | engine CPU/instance, 1 / 3 | PostgreSQL CPU/instance, 1 / 3 | load, 1 / 3 |
| --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

**Where one engine's time goes under load** (V8 sampling profiler over the inspector, 1 ms; statements counted by
wrapping the pg driver's \`Client#query\` — \`pg_stat_statements\` is ${s.pgStatStatements}; rows from
\`pg_stat_user_tables\`):
${profiles.join('\n')}
`;
}

/** The supervisors' heatmap and dashboard benchmarks' results (their own scripts, their own files). */
export interface SideBenches {
  heatmap?: R;
  dashboard?: R;
}

/** Reads bench/results-heatmap.json and bench/results-dashboard.json if present (undefined if not or unreadable). */
export function readSideBenches(dir = HERE): SideBenches {
  const read = (name: string) => {
    try {
      const j = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as R;
      return j && typeof j === 'object' && j.timings && typeof j.timings === 'object' ? j : undefined;
    } catch {
      return undefined;
    }
  };
  return { heatmap: read('results-heatmap.json'), dashboard: read('results-dashboard.json') };
}

/** Where a section's figures come from: its results file and run (combined reports) or "this run". */
function from(r: R, section: string): string {
  const s = r.sources?.[section];
  return s ? `\`${s.file}\`, ${s.startedAt}` : 'this run';
}

/** The slowest timed query among `timings` entries whose name passes `keep`. */
function slowest(timings: R, keep: (name: string) => boolean): { name: string; ms: number } | undefined {
  let worst: { name: string; ms: number } | undefined;
  for (const [name, t] of Object.entries(timings ?? {})) {
    const ms = (t as R)?.medianMs;
    if (!keep(name) || typeof ms !== 'number') continue;
    if (!worst || ms > worst.ms) worst = { name, ms };
  }
  return worst;
}

/** Mean connections of the engine database per `pg_stat_activity` state and wait, the busiest first. */
function waits(activity: R, n = 4): string {
  return Object.entries((activity ?? {}) as Record<string, number>)
    .filter(([k]) => k.startsWith('active '))
    .sort((x, y) => y[1] - x[1])
    .slice(0, n)
    .map(([k, v]) => `\`${k.slice('active '.length)}\` ${fmt(v, 2)}`)
    .join(', ');
}

export function readmeSection(r: R, side: SideBenches = readSideBenches(), sized: R = r): string {
  const m = r.machine;
  const e = r.engine;
  const s = r.scaling;
  const v = r.verification;
  const a = r.api;
  const inbox = a?.endpoints?.find((x: R) => x.name.startsWith('inbox'));
  const cases = a?.endpoints?.find((x: R) => x.name.startsWith('case'));
  const hand = r.flows?.flows?.find((f: R) => f.name === 'handover');
  const esc = r.flows?.flows?.find((f: R) => f.name === 'escalation');
  const scen = (name: string) => e?.scenarios?.find((x: R) => x.name === name);
  const ours = scen('ours');
  const empty = scen('empty');
  const streaming = scen('bare-streaming');
  const polling = scen('bare-polling');
  const n = (x: number | undefined) => (x === undefined ? '–' : Math.round(x).toLocaleString('en-US'));
  const heat = side.heatmap;
  const dash = side.dashboard;
  const heatWorst = slowest(heat?.timings, (k) => k.startsWith('heatmap'));
  const dashWorst = slowest(dash?.timings, (k) => k.startsWith('GET '));
  const missed: string[] = [];

  // --- the sources: one results file, or several combined (a section each) -------------------------------
  const sources: R[] = r.sources ? [...new Map(Object.values(r.sources).map((x: R) => [x.file, x])).values()] : [];
  const sourceText = sources.length
    ? sources
        .map(
          (x: R) =>
            `\`${x.file}\` (${x.sections.join(', ')}; run ${x.startedAt}, ${Math.round((x.totalSeconds ?? 0) / 60)} min)`,
        )
        .join('; ')
    : `this run (${r.startedAt}, ${Math.round((r.totalSeconds ?? 0) / 60)} min)`;
  const loads = (e?.scenarios ?? []).map((x: R) => x.load1).filter((x: R) => typeof x === 'number');
  const loadText = loads.length
    ? ` The 1-minute load during section 1's measured runs was ${fmt(Math.min(...loads), 1)}–${fmt(Math.max(...loads), 1)} on ${m?.cpus} cores; pgbench on the same PostgreSQL in the same run did ${fmt(e?.pgbench?.tps?.median, 0)} tps — compare runs of different days by that figure.`
    : '';

  // --- targets, met or not, each with this run's figure ------------------------------------------------------
  const targets: string[] = [];
  if (e?.targets?.length) {
    targets.push(`- **Engine** (issue 17; ${from(r, 'engine')}):`);
    for (const t of e.targets) {
      targets.push(`  - ${t.name} ${t.target} — **${yes(t.met)}**: ${t.value}`);
      if (!t.met) missed.push(t.name);
    }
  }
  if (e) {
    targets.push(
      `- **Worker plumbing ≥ 80 % of the bare-engine single-task ceiling — ${yes(e.target?.met)}: ${pct(e.ratioToCeiling ?? 0)}**
  (\`workers/runtime.ts\` ${fmt(e.ours, 0)} vs ${fmt(e.ceilingOneTask, 0)} instances/s, the ceiling by the ${e.ceilingOneTaskBy} worker; ${pct(e.ratioToBarePolling ?? 0)} of
  the bare *polling* worker).`,
    );
    if (!e.target?.met) missed.push('worker plumbing');
  }
  if (s?.ratios?.length) {
    targets.push(`- **Three engine processes ≥ ×${fmt(s.target, 1)} one** (${from(r, 'scaling')}):`);
    for (const x of s.ratios) {
      if (countsWorkers(s, x)) {
        targets.push(`  - ${x.scenario} — not a measure of the engines (${WORKERS_NOTE}): ×${fmt(x.median, 2)}`);
        continue;
      }
      targets.push(`  - ${x.scenario} — **${yes(x.met)}**: ×${fmt(x.median, 2)} (×${fmt(x.min, 2)}–×${fmt(x.max, 2)})`);
      if (!x.met) missed.push(`three engines, ${x.scenario}`);
    }
  }
  if (v?.import) {
    targets.push(
      `- **Import ≥ 50 % of \`COPY\` — ${yes(v.import.met)}: ${pct(v.import.ratio ?? 0)}** (${fmt(v.import.ours?.median, 0)} vs ${fmt(v.import.copy?.median, 0)} rows/s; ${from(r, 'verification')}).`,
    );
    if (!v.import.met) missed.push('import');
  }
  if (v?.comparison) {
    const c = v.comparison;
    targets.push(
      `- **Comparison ≤ 1.5× the plain anti-join — ${yes(c.met)}: ${fmt(c.ratio, 2)}×** (${fmt(c.oursMs?.median, 0)} vs ${fmt(c.antiJoinMs?.median, 0)} ms for
  ${n(c.children)} children, ${n(c.suspects)} suspects). The statement (\`api/domain/comparison.ts\`) anti-joins the county's list
  entries with the registers, correlated with the entry, reads \`Child\` by key for the suspects only, selects
  them on their own and inserts them from arrays — PostgreSQL never runs the \`SELECT\` of an \`INSERT … SELECT\` in
  parallel${c.proposedMs ? ` (as one \`INSERT … SELECT\` the same anti-join took ${fmt(c.proposedMs.median, 0)} ms = ${fmt(c.proposedRatio, 2)}× in the same run)` : ''}.`,
    );
    if (!c.met) missed.push('comparison');
  }
  for (const x of [inbox, cases]) {
    if (!x) continue;
    const roles = Object.entries((x.byRole ?? {}) as Record<string, R>)
      .map(([k, l]) => `${k} p50 ${fmt(l.p50, 0)} / p99 ${fmt(l.p99, 0)}`)
      .join(', ');
    targets.push(
      `- **${x.name.startsWith('inbox') ? 'Inbox' : 'Case list'} \`${x.name.replace(/^.*GET /, 'GET ')}\` ${x.target ? `${x.target} ` : ''}at 50 users × 1 req/s${x.target ? ` — ${yes(x.met)}` : ''}: p99 ${fmt(x.api?.p99, 0)} ms**
  (p50 ${fmt(x.api?.p50, 0)} ms; by role ${roles} ms; saturated ${fmt(x.throughput, 0)} req/s; the data layer alone p50
  ${fmt(x.sql?.p50, 1)} / p99 ${fmt(x.sql?.p99, 0)} ms; ${from(r, 'api')}).`,
    );
    if (x.target && !x.met) missed.push(x.name.startsWith('inbox') ? 'inbox' : 'case list');
  }
  if (heatWorst) {
    const each = Object.entries(heat.timings as Record<string, R>)
      .filter(([k]) => k.startsWith('heatmap'))
      .map(([k, t]) => `${k.replace(/^heatmap, /, '')} ${fmt(t?.medianMs, 0)}`)
      .join(', ');
    const ref = heat.reference;
    const refText = ref
      ? `; the county's heatmap from the raw tables took ${fmt(ref.rawCountyHeatmapMs, 0)} ms, the rollup's counts differ from it in
  ${fmt(ref.countMismatches, 0)} places and its P90 by at most ${fmt((ref.maxP90RelativeError ?? NaN) * 100, 1)} %`
      : '';
    targets.push(
      `- **Heatmap < 1 s at ${n(heat.instances)} instances — ${yes(heatWorst.ms < 1000)}: slowest ${fmt(heatWorst.ms, 0)} ms** (median of ${heat.runs ?? '–'}:
  ${each} ms${refText}; \`bench/heatmap.ts\`, \`bench/results-heatmap.json\`, ${heat.at ?? '–'}).`,
    );
    if (heatWorst.ms >= 1000) missed.push('heatmap');
  } else {
    targets.push(
      '- **Heatmap < 1 s at 100,000 instances** — measured by `bench/heatmap.ts` (`bench/results-heatmap.json`), not present here.',
    );
  }
  if (dashWorst) {
    targets.push(
      `- **Dashboard < 1 s — ${yes(dashWorst.ms < 1000)}: slowest ${fmt(dashWorst.ms, 0)} ms** (${dashWorst.name}; \`bench/dashboard.ts\`,
  \`bench/results-dashboard.json\`${(dash.at ?? dash.startedAt) ? `, ${dash.at ?? dash.startedAt}` : ''}).`,
    );
    if (dashWorst.ms >= 1000) missed.push('dashboard');
  } else {
    targets.push(
      '- **Dashboard < 1 s** — measured by `bench/dashboard.ts` (`bench/results-dashboard.json`), not present here.',
    );
  }

  // --- what limits the missed ones: causes from the figures ---------------------------------------------------
  const limits: string[] = [];
  const rateMissed = missed.some((x) => /instances\/s/.test(x));
  if (e && rateMissed && empty) {
    const c = empty.cpu ?? {};
    const msPer = (((c.engine ?? 0) + (c.postgres ?? 0) + (c.bench ?? 0)) * 1000) / (empty.rate?.median || 1);
    const holds = ((m?.cpus ?? 2) * 1000) / (msPer || 1);
    const prof = (name: string) => s?.profiles?.find((p: R) => p.scenario === name);
    const rows = (p: R) =>
      (p?.server?.tables ?? [])
        .slice(0, 3)
        .map((t: R) => `${fmt(t.insertsPerInstance, 0)} \`${t.table}\``)
        .join(', ');
    const pe = prof('empty');
    const pt = prof('bare-streaming') ?? prof('bare-polling');
    const kinds = (p: R) =>
      (p?.flame?.selfByCategory ?? [])
        .slice(0, 5)
        .map((k: R) => `${k.category} ${k.pct} %`)
        .join(', ');
    const pgMs = ((c.postgres ?? 0) * 1000) / (empty.rate?.median || 1);
    const engMs = ((c.engine ?? 0) * 1000) / (empty.rate?.median || 1);
    const recordShare = (p: R) => {
      const tables = (p?.server?.tables ?? []) as R[];
      const all = tables.reduce((sum: number, t: R) => sum + (t.insertsPerInstance ?? 0), 0);
      const rec = tables.find((t: R) => t.table === 'zeebe_record')?.insertsPerInstance ?? 0;
      return all ? rec / all : 0;
    };
    const profiled = [pe, pt].filter(Boolean);
    const share = profiled.length ? Math.min(...profiled.map(recordShare)) : 0;
    const written = profiled.length
      ? `
  What it writes per instance (${from(r, 'scaling')}, \`pg_stat_user_tables\`): ${[pe ? `empty ${rows(pe)}` : '', pt ? `one task ${rows(pt)}` : ''].filter(Boolean).join('; ')} rows
  inserted${share > 0 ? ` — the record log (\`zeebe_record\`, each row with its indexes) is ${pct(share)} or more of the rows` : ''}.`
      : '';
    const profile = pt
      ? ` The one-task instance is ${fmt(pt.statements?.perInstance, 1)} statements in ${fmt(pt.statements?.roundTripsPerInstance, 1)} round trips; the
  profiled engine's self time: ${kinds(pt)} ([\`${pt.svg}\`](${pt.svg})).`
      : '';
    limits.push(`- **Engine rates (empty ≥ 1,000, one task ≥ 560 instances/s).** At the empty ceiling (${fmt(empty.rate?.median, 0)}/s, ${empty.concurrency} clients) the engine
  used ${fmt(c.engine, 2)} of a core, PostgreSQL ${fmt(c.postgres, 2)} and the load generator ${fmt(c.bench, 2)}; PostgreSQL's backends spent
  ${fmt(c.postgresRunQueue, 2)} cores' worth of time waiting for a CPU and the engine ${fmt(c.engineRunQueue, 2)}. The engine's connections, when
  busy, wait on ${waits(empty.pgActivity) || '– (not sampled)'} (mean connections). At ${fmt(msPer, 1)} ms of CPU per empty instance
  for the three together, ${m?.cpus} cores hold ~${fmt(holds, 0)} instances/s; 1,000 needs that cost cut ×${fmt(1000 / holds, 1)} (PostgreSQL
  ${fmt(pgMs, 1)} ms per instance, the engine ${fmt(engMs, 1)}, the load generator the rest).${written}${profile}`);
  }
  if (e && missed.some((x) => x.startsWith('activation'))) {
    const act = e.activation;
    limits.push(`- **Job activation (p50 < 5 ms, p99 < 50 ms).** Measured at half the one-task ceiling (${fmt(act?.achievedRate, 0)}/s open loop, the
  ${act?.worker} worker) with the engine at ${fmt(act?.cpu?.engine, 2)}, PostgreSQL at ${fmt(act?.cpu?.postgres, 2)} and the load generator at ${fmt(act?.cpu?.bench, 2)} of a
  core (1-minute load ${fmt(act?.load1, 1)} on ${m?.cpus} cores): the engine's own records put p50 ${fmt(act?.createdToActivatedMs?.p50, 0)} / p99 ${fmt(act?.createdToActivatedMs?.p99, 0)} ms between
  a job's creation and its activation, on cores shared with PostgreSQL and the load generator, and
  the client p50 ${fmt(act?.clientMs?.p50, 0)} / p99 ${fmt(act?.clientMs?.p99, 0)} ms from the create call to the handler, which adds the call's round trip and the
  push to the SDK's handler.`);
  }
  if (e && !e.target?.met) {
    const samePolling = (e.ratioToBarePolling ?? 0) >= 0.9 && e.ceilingOneTaskBy === 'bare-streaming';
    const how = /\(([^)]*)\)/.exec(ours?.description ?? '')?.[1];
    const cause = samePolling
      ? ` runs at ${pct(e.ratioToBarePolling)} of the bare polling worker (${fmt(ours?.rate?.median, 0)} vs ${fmt(polling?.rate?.median, 0)}
  instances/s), so its own plumbing costs nothing measurable; the gap to the ceiling is polling against the
  engine's job push, which the ${e.ceilingOneTaskBy} worker uses (${fmt(streaming?.rate?.median, 0)} instances/s).`
      : ` reaches ${pct(e.ratioToBarePolling ?? 0)} of the bare polling worker and ${pct(e.ratioToCeiling ?? 0)} of the ${e.ceilingOneTaskBy} ceiling.`;
    limits.push(`- **Worker plumbing.** \`workers/runtime.ts\`${how ? ` (${how})` : ''}${cause}`);
  }
  if (s && missed.some((x) => x.startsWith('three engines'))) {
    const cpu = (x: R) =>
      `${fmt(x?.cpuMsPerInstance?.engines, 1)} + ${fmt(x?.cpuMsPerInstance?.postgres, 1)} ms (load ${fmt(x?.load1, 1)})`;
    const pairs = (s.ratios ?? [])
      .map(
        (x: R) =>
          `${x.scenario} ${cpu(s.one.find((o: R) => o.scenario === x.scenario))} → ${cpu(s.three.find((o: R) => o.scenario === x.scenario))}`,
      )
      .join('; ');
    limits.push(`- **Three engines vs one.** On ${m?.cpus} cores three engine processes only add processes competing with PostgreSQL and the
  load generator for the same CPUs — engine + PostgreSQL CPU per instance, one → three: ${pairs}. The target needs nodes with cores
  of their own (the capacity model below assumes that).`);
  }
  if (v?.import && !v.import.met) {
    limits.push(`- **Import — by design.** \`COPY\` appends text to an unindexed table; the import decodes and validates every row
  (身份证号 check digit, age, town, dates, phones — reading the CSV is ${pct(v.import.parseShare ?? 0)} of its time) and upserts \`Child\`,
  \`DepartmentListEntry\` and \`Guardian\` (unique keys, indexes) in one all-or-nothing transaction. A 70,000-row county list
  takes ~${fmt(70000 / (v.import.ours?.median || 1), 0)} s; the target compares against something our import must not be.`);
  }
  if (v?.comparison && !v.comparison.met) {
    limits.push(`- **Comparison.** ${fmt(v.comparison.ratio, 2)}× the anti-join: the plans are in the results file
  (\`verification.comparison.plans\`).`);
  }
  const apiCause = (
    x: R,
    what: string,
  ) => `the data layer alone answers in p50 ${fmt(x.sql?.p50, 1)} / p99 ${fmt(x.sql?.p99, 0)} ms (one caller) and
  ${fmt(x.sqlUnderLoad?.p50, 0)} / ${fmt(x.sqlUnderLoad?.p99, 0)} ms with 50 callers back to back; through the API the paced p50 is ×${fmt(x.ratioP50, 1)} that. ${what} The rest is the
  API process's own CPU per request (API and workers are one Node process) on the cores PostgreSQL shares.`;
  if (inbox?.target && !inbox.met) {
    const bureau = inbox.byRole?.['BUREAU(view=all)'];
    limits.push(`- **Inbox.** A request is the session lookup, one engine statement (\`records.openUserTaskPage\`: the page of
  \`engine_user_task\`, its total and each task's child) and one app-database statement describing the page; ${apiCause(
    inbox,
    bureau
      ? `The slowest page is the bureau's county-wide view (p50 ${fmt(bureau.p50, 0)} / p99 ${fmt(bureau.p99, 0)} ms): the county's thousands of candidate groups travel as one array parameter and the exact total is counted against them on every request.`
      : '',
  )}`);
  }
  if (cases?.target && !cases.met) {
    limits.push(`- **Case list.** A request is the session lookup and one statement (\`scope.casesSql\`: scope, filters, page and
  total; the child's household region is kept on the case, collation C lets plain b-trees serve the region
  prefixes); ${apiCause(cases, `Its p99 ${fmt(cases.api?.p99, 0)} ms is ${pct(Math.abs(cases.api?.p99 / 200 - 1))} ${cases.api?.p99 >= 200 ? 'over' : 'under'} the target.`)}`);
  }
  if (heatWorst && heatWorst.ms >= 1000) {
    limits.push(
      `- **Heatmap.** The slowest answer ("${heatWorst.name}") took ${fmt(heatWorst.ms, 0)} ms in median; its statements' plans are in
  \`bench/results-heatmap.json\` (\`plans\`).`,
    );
  }
  if (dashWorst && dashWorst.ms >= 1000) {
    limits.push(
      `- **Dashboard.** The slowest answer ("${dashWorst.name}") took ${fmt(dashWorst.ms, 0)} ms in median; its statements' plans are in
  \`bench/results-dashboard.json\` (\`plans\`).`,
    );
  }

  const flowsText = r.flows
    ? `**Flows** (${from(r, 'flows')}): the handover of ${hand?.size?.classes ?? '–'} classes (${n(hand?.size?.pupils)} pupils) cleared in ${fmt(hand?.drainSeconds, 0)} s with ${n(hand?.userTasksCompleted)} tasks
completed through the API (completion p50 ${fmt(hand?.completionLatencyMs?.p50, 0)} / p99 ${fmt(hand?.completionLatencyMs?.p99, 0)} ms), job latency p50 ${fmt(hand?.jobLatencyMs?.p50, 0)} / p99 ${fmt(hand?.jobLatencyMs?.p99, 0)} ms;
${n(esc?.size?.cases)} escalation cases were accepted at ${fmt(esc?.instancesPerSecond, 0)}/s and all reached the town in ${fmt(esc?.drainSeconds, 0)} s,
job latency p50 ${fmt(esc?.jobLatencyMs?.p50, 0)} / p99 ${fmt(esc?.jobLatencyMs?.p99, 0)} ms (created → completed, from the engine's JOB records: waiting for activation and handling).
`
    : `**Flows** (section 2) are not in ${sources.length > 1 ? 'these results' : 'this run'}.
`;
  const mem = r.memory?.atRest ?? r.memoryAtRest;
  const memText = mem
    ? `**Memory** at rest: engine ${fmt(mem.engine, 0)} MiB, API + workers ${fmt(mem.node, 0)} MiB, PostgreSQL ${fmt(mem.postgres, 0)} MiB (PSS)${
        r.memory?.underFlowLoad
          ? `; peak under the flows ${fmt(r.memory.underFlowLoad.engine, 0)} / ${fmt(r.memory.underFlowLoad.node, 0)} / ${fmt(r.memory.underFlowLoad.postgres, 0)} MiB`
          : ''
      }${e?.memoryMiB ? `; the engine's peak during section 1 ${fmt(e.memoryMiB.peak?.engine, 0)} MiB` : ''}.
`
    : '';

  const fullMinutes =
    sources.length <= 1 && r.engine && r.flows && r.verification && r.api
      ? Math.round((r.totalSeconds ?? 0) / 60)
      : undefined;
  return `## Benchmarks

\`npm run bench\` (not part of \`npm test\`; ${fullMinutes ? `${fullMinutes} min on our 2-core machine in this run` : 'about 20–25 min on our 2-core machine'}) starts the whole system like
\`npm start\` — on a scratch data directory (\`$TMPDIR/kc-bench\`, or \`KC_BENCH_DATA_DIR\`) and the ports of test
slot 5 (\`KC_BENCH_SLOT\`), so it runs beside a developer's \`npm start\` and \`npm test\` — with a
${n(r.sizes?.pupils ?? 110000)}-pupil demo county, measures the sections below and writes \`bench/results.json\`;
\`node --import tsx bench/run.ts --quick\` is a 3–5 minute smoke run, \`--only=engine,scaling,flows,verification,api\`
picks sections (\`--out=FILE\` names the results file), and \`node --import tsx bench/report.ts [FILE …]\` rewrites
this section and \`infra/helm/README.md\` from one results file or several combined (a section from the last file
that has it). The supervisors' heatmap and dashboard have benchmarks of their own on a scratch database:
\`node --import tsx bench/heatmap.ts\` (\`bench/results-heatmap.json\`) and \`node --import tsx bench/dashboard.ts\`
(\`bench/results-dashboard.json\`). Every figure is measured beside its reference in the same run and given as
a ratio; warm-up is excluded; min/median/max over the runs.

1. **Engine limit** — our engine (\`engine/\`, its own Node process on the engine database, as \`npm start\` runs
   it): closed loop of clients creating instances and waiting for their end (\`createProcessInstanceWithResult\`),
   doubling the clients until the engine refuses > 1 % (back-pressure) or the rate stops growing: an empty
   process, one service task with a no-op SDK worker (polling and streaming — the better one is the ceiling),
   and one service task served by \`workers/runtime.ts\` with a no-op handler. In the same run: the engine
   database's commits per instance (\`pg_stat_database.xact_commit\`, net of its idle rate); job activation
   latency at half the one-task ceiling (open loop; JOB CREATED → ACTIVATED in \`zeebe_record\`, and client-side
   from the create call to the handler); the engine process's resident memory at rest and at its peak; CPU and
   run-queue wait (\`/proc/<pid>/schedstat\`) of engine and PostgreSQL; where the engine's connections wait
   (\`pg_stat_activity\`); and **pgbench** (TPC-B-like) on a scratch database of the same PostgreSQL — what this
   server commits on this machine at that moment.
1b. **Three engine processes vs one** (\`--only=scaling\`, \`bench/scaling.ts\`) — the same closed loop against one
   engine and then three on the same engine database (clients spread round-robin across the gateways, a bare
   SDK worker per gateway), beside the same run's pgbench; then one engine alone under load with the V8
   profiler: a flame graph (\`bench/flame.ts\`, \`bench/flame/*.svg\`), the top functions by self and total time,
   statements and round trips per instance counted in the pg driver (\`bench/pg-count.mjs\`) and rows written per
   table (\`pg_stat_user_tables\`).
2. **Flows** — the whole-class handover of the county worked through the API (every task completed by its
   owner's session, 2 % no-shows traced) and the escalation of ${n(r.sizes?.escalationCases ?? 5000)} dropout reports, escalated twice by
   moving the engine clock past the deadlines; job latency from the engine's own JOB records (created →
   completed: waiting for activation + handling); CPU of engine, API+workers and PostgreSQL per process.
3. **Verification** — our import (\`importList\`, in-process: decode, validate, upsert) of a
   ${n(v?.import?.rows ?? r.sizes?.verification?.importRows ?? 200000)}-row 公安 list (the per-file maximum) against a server-side \`COPY\` of the same
   file; our comparison against the plain anti-join, on ${n(v?.comparison?.children ?? r.sizes?.verification?.children ?? 1e6)} children with 0.5 % unregistered.
4. **API** — 50 users on loopback, each sending one request a second (the target load), then back to back
   (saturation); ${a ? `${n(a.openTasks?.real)} real open tasks plus ${n(a.openTasks?.synthetic)}` : 'the real open tasks plus'} **synthetic** rows of the engine's user-task table
   (\`engine_user_task\`, what the inbox reads) copied from a real open task (creating 100,000 real tasks through
   the engine takes longer than the run: section 2 shows the rate), ${a ? n(a.cases?.synthetic) : 'and'} synthetic cases; compared with
   the same page from the data layer alone (\`records.openUserTaskPage()\` — the inbox's engine statement — and
   \`listCases()\`, the case list's one statement).
5. **Memory** — resident memory of the engine process, the API+workers process and PostgreSQL (PSS) at rest and
   the peak during the flows (the API+workers figure at rest still holds the heap of the demo seeding, which
   runs in that process just before; it shrinks under load once collected).

### Results

From ${sourceText}.

${renderTable({ ...r, ...side }, false)}
Machine: ${m?.cpus} cores (${m?.cpuModel}), ${m?.memGiB} GiB, Linux ${m?.kernel}, Node ${m?.node}; our engine
(\`engine/\`), embedded PostgreSQL 17. Other agents' test runs may share the machine, so absolute numbers are
noisy; the ratios are measured side by side.${loadText}
${scalingText(r)}
${flowsText}
${memText}
### Targets

${targets.join('\n')}

### What limits the missed targets

${limits.length ? limits.join('\n') : 'Every target measured here is met.'}

${capacitySection(sized)}
The production shape — PostgreSQL by CloudNativePG, our engine as N replicas with a PodDisruptionBudget, our
API and workers as Deployments with HPA, overlays per county / city / province, and how a bureau with a Camunda
licence points the same API and workers at its cluster (addresses and credentials only) — is in \`infra/helm/\`
(see its README; \`tests/unit/capacity.test.ts\` checks the overlays against the model).
`;
}

export function helmReadme(r: R): string {
  const plans = plan(measured(r));
  const [county, city, province] = plans as [ScopePlan, ScopePlan, ScopePlan];
  return `# Production shape (scale plan)

Everything here is open source: our engine (\`engine/\`), our API and workers, PostgreSQL run by
[CloudNativePG](https://cloudnative-pg.io) (Apache-2.0; an existing operator, installed once per Kubernetes
cluster, not ours). Plain manifests with kustomize overlays per size, from the capacity model below:

| overlay | engine processes | API (HPA) | workers (HPA) | PostgreSQL (CloudNativePG) |
|---|---|---|---|---|
| \`county\` | ${county.engineReplicasEveryChild} | 2–3 | 2–3 | ${county.postgresInstances} instances, 2 CPU / 4 GiB each |
| \`city\` | ${city.engineReplicasEveryChild} | 2–6 | 2–6 | ${city.postgresInstances} instances, 4 CPU / 8 GiB each |
| \`province\` | ${province.engineReplicasEveryChild} | 4–20 | 3–16 | ${province.postgresInstances} instances, ${Math.max(4, Math.ceil(province.postgresLoadEveryChild) * 2)} CPU / 32 GiB each |

- \`kongchuo/base/postgres.yaml\` — the CloudNativePG \`Cluster\` \`kongchuo-pg\`: a primary and two standbys
  (\`minSyncReplicas: 1\`, so a commit is on two nodes before the engine answers), the app database \`kongchuo\`
  and the engine's \`kongchuo_workflow\`, and a PodDisruptionBudget the operator keeps itself.
- \`kongchuo/base/engine.yaml\` — our engine as a Deployment (N replicas, a PodDisruptionBudget, the Service
  the API and workers address), \`api.yaml\`, \`workers.yaml\`, \`hpa.yaml\` — our API and job workers.

\`\`\`bash
# once per Kubernetes cluster: the CloudNativePG operator (https://cloudnative-pg.io/documentation/current/installation_upgrade/)
kubectl apply --server-side -f cnpg-1.27.yaml
kubectl create namespace kongchuo
kubectl -n kongchuo create secret generic kongchuo-engine-user --from-literal=password='…'
# after the Cluster is up: its app user's password is in the secret kongchuo-pg-app (written by the operator)
kubectl -n kongchuo create secret generic kongchuo-db \\
  --from-literal=DATABASE_URL='postgres://kongchuo:…@kongchuo-pg-rw:5432/kongchuo' \\
  --from-literal=ENGINE_DATABASE_URL='postgres://kongchuo:…@kongchuo-pg-rw:5432/kongchuo_workflow'
kubectl apply -k infra/helm/kongchuo/overlays/province   # or county, city
\`\`\`

**Entry point.** The API and workers run \`infra/serve.ts\`, which starts one part against the engine and the
databases of the release: \`--role=api\` applies the migrations (replicas take turns on an advisory lock),
deploys \`processes/\` (unchanged diagrams create no new version), and serves the API and console;
\`--role=workers\` runs the job workers and drains them on SIGTERM. It reads \`DATABASE_URL\`,
\`ENGINE_DATABASE_URL\`, \`ENGINE_GRPC_ADDRESS\`, \`ENGINE_REST_ADDRESS\` and \`ENGINE_MANAGEMENT_ADDRESS\`, and refuses
to start without them; \`tests/integration/serve.test.ts\` runs both roles against the test run's engine. API
replicas are stateless (sessions are in PostgreSQL); worker replicas share job types (the engine gives each job
to one of them); the instance lock is a PostgreSQL advisory lock, so it holds across replicas. The engine
processes share nothing but the database (\`engine/README.md\`: jobs by \`FOR UPDATE SKIP LOCKED\`, each instance's
commands serialised on its row, LISTEN/NOTIFY waking long polls in every process); \`tests/faults/three-engines.test.ts\`
kills and restarts each of three under load.

**A bureau with a Camunda 8 licence** may run the same API and workers against its Camunda cluster instead of our
engine: it changes only addresses and credentials — \`ENGINE_GRPC_ADDRESS\`, \`ENGINE_REST_ADDRESS\`,
\`ENGINE_MANAGEMENT_ADDRESS\` in \`config.yaml\`, and \`ENGINE_USERNAME\`/\`ENGINE_PASSWORD\` (basic auth) or the SDK's
OAuth variables (\`ZEEBE_CLIENT_ID\`, \`ZEEBE_CLIENT_SECRET\`, \`CAMUNDA_OAUTH_URL\`) in the secret — and drops
\`engine.yaml\` from the kustomization. \`values-camunda.yaml\` sketches that cluster's Helm values (Camunda's
chart and distribution are under the Camunda License, so they are not part of what we ship). The diagrams and
workers are unchanged. One part is not yet: the API's read model (\`infra/camunda/records.ts\`: the inbox, a
task's context, instance state; \`infra/camunda/heatmap.ts\`: the supervisors' heatmap) reads our engine's tables,
which a Camunda cluster does not have — there it must answer from Camunda's \`/v2/…/search\` endpoints instead.

${capacitySection(r)}
`;
}

/** The sections a results file can hold; a combined report takes each from the last file that has it. */
const SECTIONS = ['engine', 'scaling', 'flows', 'verification', 'api', 'memory'] as const;

/**
 * Several results files as one: each section from the last file that has it, the run's own fields (machine,
 * sizes, memory at rest, start) from the engine section's file (else the last); `sources` says which file
 * each section came from.
 */
export function combine(files: { file: string; json: R }[]): R {
  const owner = new Map<string, { file: string; json: R }>();
  for (const k of SECTIONS) {
    const f = files.findLast((x) => x.json[k] !== undefined);
    if (f) owner.set(k, f);
  }
  // The run's own fields (machine, sizes, memory at rest) from the file the engine section comes from.
  const out: R = { ...(owner.get('engine') ?? files.at(-1)!).json, sources: {} };
  for (const k of SECTIONS) delete out[k];
  const bySource = new Map<string, R>();
  for (const [k, f] of owner) {
    const src = bySource.get(f.file) ?? {
      file: f.file,
      startedAt: f.json.startedAt,
      totalSeconds: f.json.totalSeconds,
      sections: [],
    };
    src.sections.push(k);
    bySource.set(f.file, src);
    out[k] = f.json[k];
    out.sources[k] = src;
  }
  return out;
}

function load(f: string): { file: string; json: R } {
  const file = path.resolve(f);
  return { file: path.relative(ROOT, file), json: JSON.parse(fs.readFileSync(file, 'utf8')) as R };
}

/** `r` with the engine section (what the capacity model is sized from) taken from another results file. */
function withEngineFrom(r: R, f: { file: string; json: R }): R {
  const c = combine([f]);
  return { ...r, engine: c.engine, sources: { ...r.sources, engine: c.sources.engine } };
}

function main() {
  const args = process.argv.slice(2);
  const outDir = args.find((x) => x.startsWith('--out='))?.slice('--out='.length);
  const names = args.filter((x) => !x.startsWith('--'));
  const files = (names.length ? names : [path.join(HERE, 'results.json')]).map(load);
  const r = combine(files);
  const capacityFile = args.find((x) => x.startsWith('--capacity='))?.slice('--capacity='.length);
  const sized = capacityFile ? withEngineFrom(r, load(capacityFile)) : r;
  const [section, helm] = outDir
    ? [path.join(path.resolve(outDir), 'README-section.md'), path.join(path.resolve(outDir), 'helm-README.md')]
    : [path.join(HERE, 'README-section.md'), path.join(ROOT, 'infra', 'helm', 'README.md')];
  if (outDir) fs.mkdirSync(path.resolve(outDir), { recursive: true });
  fs.writeFileSync(section, readmeSection(r, readSideBenches(), sized));
  fs.writeFileSync(helm, helmReadme(sized));
  process.stdout.write(
    `wrote ${path.relative(ROOT, section)} and ${path.relative(ROOT, helm)} from ${files.map((f) => f.file).join(', ')}\n`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
