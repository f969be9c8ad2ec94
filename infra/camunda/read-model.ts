/**
 * The latest state of every user task, kept by PostgreSQL itself as the exporter writes records:
 * a trigger on zeebe_record upserts each USER_TASK record into user_task_latest unless a later one
 * is there. The inbox then reads open tasks by index instead of working out, on every request, the
 * latest state of every task ever created (DISTINCT ON over the whole record stream: 16 s at the
 * median for 100,000 open tasks under 50 users, issue 7's benchmark).
 *
 * Prepared on every start once the engine's exporter has created zeebe_record (the engine's readiness
 * signal). The trigger is (re)created first; only when it was missing — a new database, or one
 * exported before this read model — is the table backfilled from the records, which reads every
 * USER_TASK record once. Trigger and backfill both keep the row with the highest position, so their
 * order and repeats do not matter.
 */
import pg from 'pg';

/** Serialises two starts preparing the same database (arbitrary, fixed). */
const READ_MODEL_LOCK_ID = 0x6b635f7461736b73n;

/** Task intents after which a task is no longer open (the same set the API refuses work on). */
const CLOSED_TASK_INTENTS = ['COMPLETING', 'COMPLETED', 'CANCELING', 'CANCELED'];

const closedList = CLOSED_TASK_INTENTS.map((i) => `'${i}'`).join(', ');

const DDL = `
CREATE TABLE IF NOT EXISTS user_task_latest (
  record_key bigint PRIMARY KEY,
  position   bigint NOT NULL,
  intent     text   NOT NULL,
  value      jsonb  NOT NULL,
  -- The engine writes "…Z[Etc/UTC]"; kept as a timestamp so the inbox sorts and filters by index.
  due_date   timestamptz,
  is_open    boolean GENERATED ALWAYS AS (intent NOT IN (${closedList})) STORED
);
CREATE INDEX IF NOT EXISTS user_task_latest_open_due_idx ON user_task_latest (due_date, record_key) WHERE is_open;
CREATE INDEX IF NOT EXISTS user_task_latest_open_groups_idx
  ON user_task_latest USING gin ((value->'candidateGroupsList')) WHERE is_open;
CREATE INDEX IF NOT EXISTS user_task_latest_instance_idx ON user_task_latest ((value->>'processInstanceKey'));

CREATE OR REPLACE FUNCTION kc_due_date(v jsonb) RETURNS timestamptz LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN nullif(regexp_replace(v->>'dueDate', '\\[.*\\]$', ''), '')::timestamptz;
EXCEPTION WHEN others THEN
  -- A date PostgreSQL cannot read must not stop the exporter (it would retry the batch forever).
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION kc_user_task_latest() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO user_task_latest AS t (record_key, position, intent, value, due_date)
  VALUES (NEW.record_key, NEW.position, NEW.intent, NEW.value, kc_due_date(NEW.value))
  ON CONFLICT (record_key) DO UPDATE
    SET position = EXCLUDED.position, intent = EXCLUDED.intent, value = EXCLUDED.value, due_date = EXCLUDED.due_date
    WHERE t.position < EXCLUDED.position;
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS kc_user_task_latest ON zeebe_record;
CREATE TRIGGER kc_user_task_latest AFTER INSERT ON zeebe_record
  FOR EACH ROW WHEN (NEW.value_type = 'USER_TASK' AND NEW.intent <> 'CREATING')
  EXECUTE FUNCTION kc_user_task_latest();
`;

/** Fills the projection with what the exporter wrote while the trigger was missing. */
const BACKFILL = `INSERT INTO user_task_latest AS t (record_key, position, intent, value, due_date)
SELECT DISTINCT ON (record_key) record_key, position, intent, value, kc_due_date(value)
  FROM zeebe_record WHERE value_type = 'USER_TASK' AND intent <> 'CREATING'
 ORDER BY record_key, position DESC
ON CONFLICT (record_key) DO UPDATE
  SET position = EXCLUDED.position, intent = EXCLUDED.intent, value = EXCLUDED.value, due_date = EXCLUDED.due_date
  WHERE t.position < EXCLUDED.position;`;

/** Creates (or repairs) the user-task projection and, the first time, fills it with what is already exported. */
export async function prepareReadModel(engineDatabaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: engineDatabaseUrl });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [READ_MODEL_LOCK_ID.toString()]);
    const { rowCount: triggerExisted } = await client.query(
      `SELECT 1 FROM pg_trigger WHERE tgname = 'kc_user_task_latest' AND tgrelid = 'zeebe_record'::regclass`,
    );
    await client.query(DDL);
    if (!triggerExisted) await client.query(BACKFILL);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
}
