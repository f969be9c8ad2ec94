/**
 * Loaded into the benchmark's own engine processes (NODE_OPTIONS=--import, bench/scaling.ts; never into
 * `npm start`'s engine): counts the engine's PostgreSQL statements by wrapping the `pg` driver's
 * Client#query — the same module instance the engine bundle imports (its packages stay in node_modules).
 * Dormant (one boolean test per query) until the benchmark calls `globalThis.__kcPgStatements.start()`
 * over the inspector; `stop()` returns every distinct driver call (one round trip; it may hold several
 * statements separated by `;`; whitespace collapsed, literals as ?) with its calls and the milliseconds from the call to its answer as the engine saw them (queueing for a
 * pool connection is not included: a statement is timed once it is handed to its connection).
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';

const state = { on: false, texts: [], ms: [] };

function normalise(text) {
  return text
    .replace(/\s+/g, ' ')
    .replace(/'(?:[^']|'')*'/g, '?')
    .replace(/\b\d+\b/g, '?')
    .trim()
    .slice(0, 240);
}

const original = pg.Client.prototype.query;
pg.Client.prototype.query = function query(config, values, callback) {
  if (!state.on) return original.call(this, config, values, callback);
  // Only a reference to the text while measuring (the engine inlines literals, so the texts are many):
  // normalised at stop(), outside the profiled window.
  const i = state.texts.push(typeof config === 'string' ? config : (config?.text ?? '(submittable)')) - 1;
  const t0 = performance.now();
  const done = () => {
    state.ms[i] = performance.now() - t0;
  };
  if (typeof values === 'function') {
    const cb = values;
    return original.call(this, config, (...a) => (done(), cb(...a)));
  }
  if (typeof callback === 'function') {
    const cb = callback;
    return original.call(this, config, values, (...a) => (done(), cb(...a)));
  }
  const result = original.call(this, config, values, callback);
  if (result && typeof result.then === 'function') result.then(done, done);
  else done();
  return result;
};

globalThis.__kcPgStatements = {
  start() {
    state.texts = [];
    state.ms = [];
    state.on = true;
    return true;
  },
  /** Every distinct call text (normalised) with its calls and summed milliseconds. */
  stop() {
    state.on = false;
    const counts = new Map();
    state.texts.forEach((text, i) => {
      const key = normalise(String(text));
      const entry = counts.get(key) ?? { calls: 0, ms: 0 };
      entry.calls++;
      entry.ms += state.ms[i] ?? 0;
      counts.set(key, entry);
    });
    state.texts = [];
    state.ms = [];
    return [...counts].map(([sql, v]) => ({ sql, calls: v.calls, ms: Math.round(v.ms * 10) / 10 }));
  },
};
