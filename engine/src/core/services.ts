/**
 * What the executor needs from outside a transaction: FEEL, timers, decisions, the process models.
 * engine.ts wires the real ones (feel.ts, timers.ts, dmn.ts, definitions.ts); the executor sees
 * only this interface.
 */
import type { EventDefinition, Expression, ProcessModel } from '../model/types.js';
import type { Db } from '../db/tx.js';
import type { RecordLog } from './records.js';

export type Evaluation = { ok: true; value: unknown } | { ok: false; message: string };

export type TimerDefinition = Extract<EventDefinition, { type: 'timer' }>;

/** A timer as scheduled: when it is due, how many more times it fires (-1 = for ever), its cycle. */
export type TimerSchedule =
  { ok: true; dueDate: number; repetitions: number; cycle?: string } | { ok: false; message: string };

export interface Definition {
  key: string;
  bpmnProcessId: string;
  version: number;
  resourceName: string;
  tenantId: string;
  model: ProcessModel;
}

export interface DecisionOutcome {
  ok: boolean;
  /** The decision's result (what `resultVariable` receives). */
  output?: unknown;
  message?: string;
  decisionKey?: string;
  decisionId?: string;
}

export interface Services {
  /** How much of Zeebe's record stream the log keeps (records.ts). */
  readonly recordLog: RecordLog;
  evaluate(expr: Expression, context: Record<string, unknown>): Evaluation;
  /** First due date of a timer event (expressions evaluated in `context`). */
  scheduleTimer(def: TimerDefinition, context: Record<string, unknown>, now: number): TimerSchedule;
  /** The next due date of a cycle that just fired at `now`. */
  nextCycle(cycle: string, now: number): number | undefined;
  definitionByKey(db: Db, key: string): Promise<Definition | undefined>;
  latestDefinition(db: Db, bpmnProcessId: string): Promise<Definition | undefined>;
  evaluateDecision(db: Db, decisionId: string, variables: Record<string, unknown>): Promise<DecisionOutcome>;
}
