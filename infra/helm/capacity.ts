/**
 * The capacity model: from one engine process's measured throughput and the engine database's commits per
 * step to engine replicas, worker replicas and the PostgreSQL primary for a county, a city and a province
 * at the October peak (and the July handover). Every input is either a figure of this
 * run (bench/results.json) or an assumption named here, so the table is recomputed by every run.
 */

/** Engine steps per unit of work, counted in the diagrams (a step = a job or a user task or a timer). */
export const STEPS = {
  /** child-verification: the town's verification task, one placement step (police / deferral / registry). */
  perSuspect: 4,
  /** dropout-escalation through the town stage (open case, teacher, school, overdue, town, document). */
  perCase: 10,
  /** whole-class-handover per class: 4 signatures/checks, filing, plan, registration, 人籍一致, report. */
  perClass: 9,
  /** tracing one no-show (task + outcome step). */
  perNoShow: 2,
  /** dropout-statistics on 31 October: per school one task, opening and closing. */
  perSchool: 3,
};

/** Shares from the demo county generator and the [R] report (see README "Demo data"). */
export const SHARES = {
  suspects: 0.004,
  dropouts: 0.002,
  grade6: 1 / 9,
  pupilsPerClass: 45,
  pupilsPerSchool: 700,
  noShows: 0.02,
  /** Verification rounds: round 2 and 3 carry on the children still suspected (~half, then a quarter). */
  roundsFactor: 1.75,
};

/** When the work arrives: the busiest hour carries this share of a campaign's engine steps. */
export const PEAK_HOUR_SHARE = 0.1;
/** Share of steps that are jobs (the rest are user tasks and timers): 3 of 7 in the escalation, 4 of 9 per class. */
export const JOB_SHARE = 0.45;
/** Plan each engine process, each worker replica and the PostgreSQL primary for at most this share of its measured ceiling. */
export const TARGET_UTILISATION = 0.5;
/** Engine processes always running, whatever the load: one may fail or be drained (PDB minAvailable 1). */
export const MIN_ENGINE_REPLICAS = 2;
/** PostgreSQL instances of the CloudNativePG cluster: a primary and two standbys, one of them synchronous. */
export const POSTGRES_INSTANCES = 3;

export interface Scope {
  name: string;
  counties: number;
  pupils: number;
}

export const SCOPES: Scope[] = [
  { name: 'county', counties: 1, pupils: 70_000 },
  { name: 'city (~10 counties)', counties: 10, pupils: 700_000 },
  { name: 'province (~100 counties)', counties: 100, pupils: 7_000_000 },
];

export interface ScopePlan {
  scope: Scope;
  octoberSteps: number;
  octoberEveryChildSteps: number;
  julySteps: number;
  peakStepsPerSecond: number;
  peakEveryChildStepsPerSecond: number;
  /** NaN when the run did not measure the comparison. */
  comparisonSeconds: number;
  /** Engine processes for the expected peak and for the stress case, from one process's measured ceiling. */
  engineReplicas: number;
  engineReplicasEveryChild: number;
  /** Engine-database commits per second at the stress case's peak, and that load as a multiple of what this
   * machine's PostgreSQL is planned to carry (pgbench TPS × TARGET_UTILISATION): above 1, a bigger primary. */
  postgresCommitsEveryChild: number;
  postgresLoadEveryChild: number;
  /** Worker processes for the stress case's jobs, from our plumbing's per-process rate. */
  workerReplicas: number;
  postgresInstances: number;
}

/** What one run measured on this machine (bench/results.json). */
export interface Measured {
  /** One engine process's ceiling: one-task instances/s with a streaming worker. */
  engineStepsPerSecond: number;
  /** Our worker plumbing's rate per process and job type. */
  workerJobsPerSecond: number;
  /** Engine-database commits per one-task instance, net of the idle housekeeping. */
  commitsPerStep: number;
  /** pgbench's TPS (TPC-B-like, 8 clients) on the same PostgreSQL: the database's own reference. */
  pgbenchTps: number;
  /** Our comparison statement per million children (undefined when the run skipped that section). */
  comparisonMsPerMillion?: number;
}

export function plan(m: Measured): ScopePlan[] {
  const engineCapacity = m.engineStepsPerSecond * TARGET_UTILISATION;
  const postgresCapacity = m.pgbenchTps * TARGET_UTILISATION;
  return SCOPES.map((scope) => {
    const p = scope.pupils;
    const schools = p / SHARES.pupilsPerSchool;
    const october =
      p * SHARES.suspects * SHARES.roundsFactor * STEPS.perSuspect +
      p * SHARES.dropouts * STEPS.perCase +
      schools * STEPS.perSchool;
    // The stress case "verification of every child": every child of the base database gets its own instance.
    const everyChild = p * STEPS.perSuspect + p * SHARES.dropouts * STEPS.perCase + schools * STEPS.perSchool;
    const classes = (p * SHARES.grade6) / SHARES.pupilsPerClass;
    const july = classes * STEPS.perClass + p * SHARES.grade6 * SHARES.noShows * STEPS.perNoShow;
    const peak = (Math.max(october, july) * PEAK_HOUR_SHARE) / 3600;
    const peakEvery = (everyChild * PEAK_HOUR_SHARE) / 3600;
    const commits = peakEvery * m.commitsPerStep;
    return {
      scope,
      octoberSteps: Math.round(october),
      octoberEveryChildSteps: Math.round(everyChild),
      julySteps: Math.round(july),
      peakStepsPerSecond: peak,
      peakEveryChildStepsPerSecond: peakEvery,
      comparisonSeconds: (p / 1e6) * ((m.comparisonMsPerMillion ?? Number.NaN) / 1000),
      engineReplicas: Math.max(MIN_ENGINE_REPLICAS, Math.ceil(peak / engineCapacity)),
      engineReplicasEveryChild: Math.max(MIN_ENGINE_REPLICAS, Math.ceil(peakEvery / engineCapacity)),
      postgresCommitsEveryChild: commits,
      postgresLoadEveryChild: commits / postgresCapacity,
      workerReplicas: Math.max(2, Math.ceil((peakEvery * JOB_SHARE) / (m.workerJobsPerSecond * TARGET_UTILISATION))),
      postgresInstances: POSTGRES_INSTANCES,
    };
  });
}
