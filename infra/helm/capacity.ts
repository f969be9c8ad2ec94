/**
 * The capacity model: from the measured per-partition throughput to brokers and partitions for a county, a
 * city and a province at the October peak (and the July handover). Every input is either a figure of this
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
/** Plan each partition leader, and each worker replica, for at most this share of its measured ceiling. */
export const TARGET_UTILISATION = 0.5;
/** Partition leaders per broker (4 cores each: ~2 cores per leader, as measured here, plus followers). */
export const LEADERS_PER_BROKER = 2;

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
  comparisonSeconds: number;
  /** Partitions for the expected peak and for the stress case, from the engine's per-partition ceiling. */
  partitionsNeeded: number;
  partitionsEveryChild: number;
  /** Worker processes for the stress case's jobs, from our plumbing's per-process rate. */
  workerReplicas: number;
  partitions: number;
  brokers: number;
  replicationFactor: number;
}

/**
 * @param partitionStepsPerSecond the engine's ceiling per partition (one-task instances/s, streaming worker)
 * @param workerJobsPerSecond our worker plumbing's rate per process and job type
 * @param comparisonMsPerMillion our comparison statement per million children
 */
export function plan(
  partitionStepsPerSecond: number,
  workerJobsPerSecond: number,
  comparisonMsPerMillion: number,
): ScopePlan[] {
  const capacity = partitionStepsPerSecond * TARGET_UTILISATION;
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
    const needed = Math.max(1, Math.ceil(peak / capacity));
    const neededEvery = Math.max(1, Math.ceil(peakEvery / capacity));
    // High availability first: 3 brokers, replication 3 (a broker may fail), every broker leads partitions.
    const brokers = Math.max(3, Math.ceil(neededEvery / LEADERS_PER_BROKER));
    const partitions = brokers * Math.max(1, Math.ceil(neededEvery / brokers));
    const workerReplicas = Math.max(2, Math.ceil((peakEvery * JOB_SHARE) / (workerJobsPerSecond * TARGET_UTILISATION)));
    return {
      scope,
      octoberSteps: Math.round(october),
      octoberEveryChildSteps: Math.round(everyChild),
      julySteps: Math.round(july),
      peakStepsPerSecond: peak,
      peakEveryChildStepsPerSecond: peakEvery,
      comparisonSeconds: (p / 1e6) * (comparisonMsPerMillion / 1000),
      partitionsNeeded: needed,
      partitionsEveryChild: neededEvery,
      workerReplicas,
      partitions,
      brokers,
      replicationFactor: 3,
    };
  });
}
