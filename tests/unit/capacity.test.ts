/**
 * The capacity model (infra/helm/capacity.ts) and the manifests it sizes: each overlay's engine replicas
 * are what the model computes from the recorded run on this machine, and the model's arithmetic follows
 * its stated rules (planning at half the measured ceiling, two engine processes at least, PostgreSQL load
 * as commits per step over half of pgbench's rate).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIN_ENGINE_REPLICAS, plan, TARGET_UTILISATION } from '../../infra/helm/capacity.js';
import { REPO_ROOT } from '../../infra/config.js';

const results = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'bench', 'results-own-engine-10.json'), 'utf8'));
const measured = {
  engineStepsPerSecond: results.engine.ceilingOneTask as number,
  workerJobsPerSecond: results.engine.ours as number,
  commitsPerStep: results.engine.activation.transactions.perInstanceNet as number,
  pgbenchTps: results.engine.pgbench.tps.median as number,
};

/** The replicas an overlay patches into the engine Deployment (2 in the base when it patches none). */
function overlayEngineReplicas(overlay: string): number {
  const text = fs.readFileSync(
    path.join(REPO_ROOT, 'infra', 'helm', 'kongchuo', 'overlays', overlay, 'kustomization.yaml'),
    'utf8',
  );
  const m = /name: kongchuo-engine\s+patch: \|-\s+- op: replace\s+path: \/spec\/replicas\s+value: (\d+)/.exec(text);
  return m ? Number(m[1]) : 2;
}

describe('capacity model', () => {
  const [county, city, province] = plan(measured);

  it('sizes each overlay with the engine processes the stress case needs', () => {
    expect(overlayEngineReplicas('county')).toBe(county!.engineReplicasEveryChild);
    expect(overlayEngineReplicas('city')).toBe(city!.engineReplicasEveryChild);
    expect(overlayEngineReplicas('province')).toBe(province!.engineReplicasEveryChild);
  });

  it('plans each engine process at half its ceiling and never below the availability minimum', () => {
    for (const p of [county!, city!, province!]) {
      expect(p.engineReplicasEveryChild).toBeGreaterThanOrEqual(MIN_ENGINE_REPLICAS);
      // Enough processes for the peak at the planned utilisation, and one fewer would not be.
      const perProcess = measured.engineStepsPerSecond * TARGET_UTILISATION;
      expect(p.engineReplicasEveryChild * perProcess).toBeGreaterThanOrEqual(p.peakEveryChildStepsPerSecond);
      if (p.engineReplicasEveryChild > MIN_ENGINE_REPLICAS)
        expect((p.engineReplicasEveryChild - 1) * perProcess).toBeLessThan(p.peakEveryChildStepsPerSecond);
    }
  });

  it('reports the database load as commits per step against half of pgbench', () => {
    const commits = province!.peakEveryChildStepsPerSecond * measured.commitsPerStep;
    expect(province!.postgresCommitsEveryChild).toBeCloseTo(commits, 6);
    expect(province!.postgresLoadEveryChild).toBeCloseTo(commits / (measured.pgbenchTps * TARGET_UTILISATION), 6);
    // A province's stress peak needs more than this machine's PostgreSQL; a county's does not.
    expect(province!.postgresLoadEveryChild).toBeGreaterThan(1);
    expect(county!.postgresLoadEveryChild).toBeLessThan(1);
  });

  it('says so when the comparison was not measured', () => {
    expect(Number.isNaN(county!.comparisonSeconds)).toBe(true);
    const [withComparison] = plan({ ...measured, comparisonMsPerMillion: 2000 });
    expect(withComparison!.comparisonSeconds).toBeCloseTo(0.14, 6);
  });
});
