/**
 * A V8 CPU profile (.cpuprofile: the inspector's Profiler.stop, or node --cpu-prof) as a flame graph SVG and
 * top-N tables by self and total time — our own few lines, no dependency.
 *
 * The profile is a call tree (`nodes`, each with its callFrame and children) and a list of samples (the node
 * that was on top of the stack at each tick). Stacks are folded by their frames' labels (function name and
 * where it lives), so the same path reached through two V8 nodes is one rectangle; the width of a rectangle
 * is proportional to the samples whose stack passes through it. `(idle)` samples (the event loop waiting)
 * are left out of the graph and of the percentages, which are shares of the process's busy samples.
 * V8 samples on a wall-clock timer: a busy sample is the main thread inside JS or a native call, whether it
 * ran or waited for a CPU meanwhile (on a loaded machine a socket write that wakes PostgreSQL's backend is often
 * preempted inside the call), so compare the busy share with the process's CPU from /proc.
 *
 * The engine runs as one esbuild bundle (engine/dist/main.mjs); its `// engine/src/…` module comments map a
 * bundle line back to its source file, so a frame reads `runCommand (core/run.ts)`.
 */

export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    hitCount?: number;
    children?: number[];
  }[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export type Category =
  | 'pg driver'
  | 'grpc/protobuf'
  | 'JSON'
  | 'FEEL'
  | 'engine: gateway'
  | 'engine: executor'
  | 'engine: db'
  | 'engine: other'
  | 'node internals'
  | 'GC'
  | 'other dependency'
  | 'V8/native';

export interface FunctionRow {
  label: string;
  category: Category;
  /** Busy samples with this function on top of the stack, and their share of all busy samples. */
  selfSamples: number;
  selfPct: number;
  /** Busy samples with this function anywhere on the stack (recursion counted once). */
  totalSamples: number;
  totalPct: number;
}

export interface FlameSummary {
  /** Wall time the profile covers, the sampling interval, the samples taken and the busy share. */
  seconds: number;
  intervalUs: number;
  samples: number;
  busySamples: number;
  busyShare: number;
  /** Share of the busy samples by category of the function on top of the stack. */
  selfByCategory: { category: Category; pct: number }[];
  topSelf: FunctionRow[];
  topTotal: FunctionRow[];
}

/** Maps a 0-based line of the engine bundle to the source module esbuild put there. */
export function bundleModules(bundleText: string): (line: number) => string | undefined {
  const starts: { line: number; file: string }[] = [];
  bundleText.split('\n').forEach((text, line) => {
    const m = /^\/\/ (engine\/src\/\S+\.ts)$/.exec(text);
    if (m) starts.push({ line, file: m[1]!.slice('engine/src/'.length) });
  });
  return (line) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found: string | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]!.line <= line) {
        found = starts[mid]!.file;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

interface Frame {
  label: string;
  category: Category;
}

function frameOf(
  cf: CpuProfile['nodes'][number]['callFrame'],
  moduleAt: ((line: number) => string | undefined) | undefined,
): Frame {
  const name = cf.functionName || '(anonymous)';
  const url = cf.url;
  if (name === '(garbage collector)') return { label: name, category: 'GC' };
  if (!url) {
    const category: Category = /^(parse|stringify)$/.test(name) || name.startsWith('JSON') ? 'JSON' : 'V8/native';
    return { label: name, category };
  }
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(url);
  if (dep) {
    const pkg = dep[1]!;
    const file = dep[2]!.split('/').at(-1);
    const category: Category = /^(pg|pg-protocol|pg-pool|pg-types|postgres-\w+|pgpass|pg-connection-string)$/.test(pkg)
      ? 'pg driver'
      : /^(@grpc\/|protobufjs|@protobufjs\/|long$)/.test(pkg)
        ? 'grpc/protobuf'
        : 'other dependency';
    return { label: `${name} (${pkg}/${file}:${cf.lineNumber + 1})`, category };
  }
  if (url.startsWith('node:')) return { label: `${name} (${url})`, category: 'node internals' };
  if (url.endsWith('/engine/dist/main.mjs') || url.includes('/engine/src/')) {
    const file = url.includes('/engine/src/')
      ? url.slice(url.indexOf('/engine/src/') + '/engine/src/'.length)
      : (moduleAt?.(cf.lineNumber) ?? 'main.mjs');
    const category: Category = file.startsWith('gateway/')
      ? 'engine: gateway'
      : file === 'feel.ts'
        ? 'FEEL'
        : file.startsWith('db/')
          ? 'engine: db'
          : file.startsWith('core/') || file.startsWith('model/') || file === 'timers.ts'
            ? 'engine: executor'
            : 'engine: other';
    return { label: `${name} (${file})`, category };
  }
  return {
    label: `${name} (${url.split('/').slice(-2).join('/')}:${cf.lineNumber + 1})`,
    category: 'other dependency',
  };
}

interface Tree {
  label: string;
  category: Category;
  self: number;
  total: number;
  children: Map<string, Tree>;
}

/** Folds the profile into a tree keyed by frame label, plus per-label self/total counts. */
function fold(profile: CpuProfile, moduleAt?: (line: number) => string | undefined) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const hits = new Map<number, number>();
  if (profile.samples?.length) for (const s of profile.samples) hits.set(s, (hits.get(s) ?? 0) + 1);
  else for (const n of profile.nodes) if (n.hitCount) hits.set(n.id, n.hitCount);
  const frames = new Map<number, Frame>();
  const frame = (id: number) => {
    let f = frames.get(id);
    if (!f) frames.set(id, (f = frameOf(byId.get(id)!.callFrame, moduleAt)));
    return f;
  };
  const root: Tree = { label: 'all', category: 'V8/native', self: 0, total: 0, children: new Map() };
  const rows = new Map<string, { category: Category; self: number; total: number }>();
  let samples = 0;
  let busy = 0;
  for (const [id, count] of hits) {
    samples += count;
    // The stack from the root's child down to this node (the V8 "(root)" node itself is left out).
    const stack: number[] = [];
    for (let at: number | undefined = id; at !== undefined && parent.has(at); at = parent.get(at)) stack.push(at);
    stack.reverse();
    if (stack.length === 0 || frame(stack.at(-1)!).label === '(idle)') continue;
    busy += count;
    let t = root;
    t.total += count;
    const seen = new Set<string>();
    for (const sid of stack) {
      const f = frame(sid);
      let c = t.children.get(f.label);
      if (!c) t.children.set(f.label, (c = { ...f, self: 0, total: 0, children: new Map() }));
      c.total += count;
      t = c;
      if (!seen.has(f.label)) {
        seen.add(f.label);
        const r = rows.get(f.label) ?? { category: f.category, self: 0, total: 0 };
        r.total += count;
        rows.set(f.label, r);
      }
    }
    t.self += count;
    rows.get(t.label)!.self += count;
  }
  return { root, rows, samples, busy };
}

export function summarise(profile: CpuProfile, bundleText?: string, top = 25): FlameSummary & { tree: Tree } {
  const { root, rows, samples, busy } = fold(profile, bundleText ? bundleModules(bundleText) : undefined);
  const pct = (n: number) => Math.round((1000 * n) / Math.max(1, busy)) / 10;
  const all: FunctionRow[] = [...rows].map(([label, r]) => ({
    label,
    category: r.category,
    selfSamples: r.self,
    selfPct: pct(r.self),
    totalSamples: r.total,
    totalPct: pct(r.total),
  }));
  const cats = new Map<Category, number>();
  for (const r of all) cats.set(r.category, (cats.get(r.category) ?? 0) + r.selfSamples);
  const seconds = (profile.endTime - profile.startTime) / 1e6;
  return {
    seconds: Math.round(seconds * 10) / 10,
    intervalUs: samples ? Math.round((seconds * 1e6) / samples) : 0,
    samples,
    busySamples: busy,
    busyShare: Math.round((1000 * busy) / Math.max(1, samples)) / 1000,
    selfByCategory: [...cats].sort((a, b) => b[1] - a[1]).map(([category, n]) => ({ category, pct: pct(n) })),
    topSelf: [...all].sort((a, b) => b.selfSamples - a.selfSamples).slice(0, top),
    topTotal: [...all].sort((a, b) => b.totalSamples - a.totalSamples).slice(0, top),
    tree: root,
  };
}

const COLOURS: Record<Category, string> = {
  'pg driver': '#4e79a7',
  'grpc/protobuf': '#59a14f',
  JSON: '#edc948',
  FEEL: '#b07aa1',
  'engine: gateway': '#f28e2b',
  'engine: executor': '#e15759',
  'engine: db': '#ff9d9a',
  'engine: other': '#d37295',
  'node internals': '#9c755f',
  GC: '#bab0ac',
  'other dependency': '#76b7b2',
  'V8/native': '#c9c9c9',
};

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The flame graph: the root at the bottom, callees above their callers, width ∝ samples. */
export function flameSvg(summary: ReturnType<typeof summarise>, title: string, width = 1200): string {
  const root = summary.tree;
  const rowH = 17;
  let depth = 0;
  const measure = (t: Tree, d: number) => {
    depth = Math.max(depth, d);
    for (const c of t.children.values()) measure(c, d + 1);
  };
  measure(root, 0);
  const top = 48;
  const legendH = 40;
  const height = top + (depth + 1) * rowH + legendH + 10;
  const scale = width / Math.max(1, root.total);
  const pct = (n: number) => ((100 * n) / Math.max(1, root.total)).toFixed(1);
  const out: string[] = [];
  const rect = (t: Tree, x: number, d: number) => {
    const w = t.total * scale;
    if (w < 0.3) return;
    const y = top + (depth - d) * rowH;
    const tip = `${t.label} — self ${pct(t.self)} %, total ${pct(t.total)} % (${t.total} samples)`;
    const chars = Math.floor((w - 4) / 6.2);
    const text =
      chars >= 3 ? (t.label.length <= chars ? t.label : `${t.label.slice(0, Math.max(1, chars - 2))}..`) : '';
    out.push(
      `<g><title>${esc(tip)}</title><rect x="${x.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="${rowH - 1}" fill="${COLOURS[t.category]}" rx="1"/>` +
        (text ? `<text x="${(x + 2).toFixed(2)}" y="${y + rowH - 5}">${esc(text)}</text>` : '') +
        '</g>',
    );
    let cx = x;
    for (const c of [...t.children.values()].sort((a, b) => a.label.localeCompare(b.label))) {
      rect(c, cx, d + 1);
      cx += c.total * scale;
    }
  };
  rect(root, 0, 0);
  const legend = (Object.keys(COLOURS) as Category[])
    .map((c, i) => {
      const x = 4 + (i % 6) * (width / 6);
      const y = height - legendH + Math.floor(i / 6) * 17;
      const share = summary.selfByCategory.find((s) => s.category === c)?.pct ?? 0;
      return `<rect x="${x}" y="${y}" width="12" height="12" fill="${COLOURS[c]}"/><text x="${x + 16}" y="${y + 10}">${esc(c)}: ${share} % self</text>`;
    })
    .join('');
  const sub = `${summary.busySamples} busy samples of ${summary.samples} over ${summary.seconds} s (${(summary.busyShare * 100).toFixed(0)} % busy, ~${summary.intervalUs} µs apart); width ∝ samples; hover for self/total %; legend: self time by kind`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="monospace" font-size="10">
<style>text{fill:#222;pointer-events:none} g:hover rect{stroke:#000;stroke-width:0.6}</style>
<rect width="100%" height="100%" fill="#fafafa"/>
<text x="4" y="16" font-size="14">${esc(title)}</text>
<text x="4" y="34">${esc(sub)}</text>
${out.join('\n')}
${legend}
</svg>
`;
}

/** The two top-N tables as text (printed by the benchmark). */
export function topTables(summary: FlameSummary): string {
  const line = (r: FunctionRow, i: number) =>
    `${String(i + 1).padStart(3)}  ${r.selfPct.toFixed(1).padStart(5)} %  ${r.totalPct.toFixed(1).padStart(5)} %  ${r.category.padEnd(16)}  ${r.label}`;
  const head = '  #   self     total    kind              function';
  return [
    `by self time (${summary.busySamples} busy samples):`,
    head,
    ...summary.topSelf.map(line),
    'by total time:',
    head,
    ...summary.topTotal.map(line),
    `self time by kind: ${summary.selfByCategory.map((c) => `${c.category} ${c.pct} %`).join(', ')}`,
  ].join('\n');
}
