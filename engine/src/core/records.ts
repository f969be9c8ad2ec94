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
