/**
 * The append-only record log (`zeebe_record`): one row per event, in Zeebe's vocabulary, written in
 * the same transaction as the state change it describes. Readers that grew up on the exporter's
 * stream (case timelines, tests, benchmarks) read it; the engine itself never does.
 */
import type { Db } from '../db/tx.js';

export interface EngineRecord {
  key: string;
  valueType: string;
  intent: string;
  value: Record<string, unknown>;
}

/**
 * How much of Zeebe's record stream the log keeps. `full`: every record Zeebe's exporters receive.
 * `read` (the default): the records some reader of the log reads — Zeebe's stream without the element
 * lifecycle's intermediate intents (ELEMENT_ACTIVATED, ELEMENT_COMPLETING, ELEMENT_TERMINATING) and
 * SEQUENCE_FLOW_TAKEN, which no timeline, heatmap, search, test or benchmark reads: a process
 * instance's element is in the log by its ELEMENT_ACTIVATING and its ELEMENT_COMPLETED or
 * ELEMENT_TERMINATED (engine_element_instance keeps its state besides). That is 10 of a one-task
 * instance's 23 rows, each with three indexes.
 */
export type RecordLog = 'full' | 'read';

const UNREAD_PROCESS_INSTANCE_INTENTS = new Set([
  'ELEMENT_ACTIVATED',
  'ELEMENT_COMPLETING',
  'ELEMENT_TERMINATING',
  'SEQUENCE_FLOW_TAKEN',
]);

/** Whether a record of this value type and intent goes into the log. */
export function logged(log: RecordLog, valueType: string, intent: string): boolean {
  return log === 'full' || valueType !== 'PROCESS_INSTANCE' || !UNREAD_PROCESS_INSTANCE_INTENTS.has(intent);
}

/** Zeebe's one partition here. */
export const PARTITION_ID = 1;

/** Queued on the transaction: the log is written with the command's last statements (nobody reads the result). */
export function writeRecords(db: Db, records: EngineRecord[], at: number): void {
  if (records.length === 0) return;
  db.defer(
    `INSERT INTO zeebe_record (partition_id, position, record_key, ts, value_type, intent, value)
     SELECT $1, nextval('engine_record_position'), k, $2, t, i, v
       FROM unnest($3::bigint[], $4::text[], $5::text[], $6::jsonb[]) WITH ORDINALITY AS r(k, t, i, v, n)
      ORDER BY n`,
    [
      PARTITION_ID,
      new Date(at),
      records.map((r) => r.key),
      records.map((r) => r.valueType),
      records.map((r) => r.intent),
      records.map((r) => JSON.stringify(r.value)),
    ],
  );
}
