/**
 * The engine's tables. All state lives here: one transaction per command, so a command the engine
 * acknowledged survives kill -9. The runtime tables (jobs, timers, subscriptions, buffered messages)
 * are queues in the graphile-worker manner (partial indexes, FOR UPDATE SKIP LOCKED); the
 * instance, element-instance, user-task and incident tables keep their finished rows as history and
 * are the read model (inbox, heatmaps, Operate-like queries).
 *
 * `zeebe_record` is an append-only log of what happened, one row per event in Zeebe's record
 * vocabulary (value_type, intent, value as Zeebe's JSON). It has the exact shape the Java exporter
 * used to write, so readers of the old record stream (timeline, tests, benchmarks) keep working;
 * it is written in the same transaction as the state it describes.
 *
 * Migrations are numbered and applied in order under an advisory lock, once per database.
 */
import type pg from 'pg';

/** The first key handed out, as Zeebe's partition 1 does (2^51 + 1): keys are int64 strings to clients. */
export const FIRST_KEY = 2251799813685249n;

/** Keys come from the sequence in blocks of this size, so a command needs no round trip per key. */
export const KEY_BLOCK = 100;

const MIGRATIONS: string[] = [
  `
CREATE SEQUENCE engine_key_seq START ${FIRST_KEY} INCREMENT ${KEY_BLOCK};
CREATE SEQUENCE engine_record_position;

CREATE TABLE engine_deployment (
  key bigint PRIMARY KEY,
  tenant_id text NOT NULL,
  created_at timestamptz NOT NULL
);

CREATE TABLE engine_process_definition (
  key bigint PRIMARY KEY,
  bpmn_process_id text NOT NULL,
  name text,
  version int NOT NULL,
  version_tag text,
  resource_name text NOT NULL,
  resource text NOT NULL,
  checksum text NOT NULL,
  deployment_key bigint NOT NULL,
  tenant_id text NOT NULL,
  created_at timestamptz NOT NULL,
  UNIQUE (bpmn_process_id, version)
);

CREATE TABLE engine_decision_requirements (
  key bigint PRIMARY KEY,
  drg_id text NOT NULL,
  name text,
  version int NOT NULL,
  resource_name text NOT NULL,
  resource text NOT NULL,
  checksum text NOT NULL,
  deployment_key bigint NOT NULL,
  tenant_id text NOT NULL,
  created_at timestamptz NOT NULL,
  UNIQUE (drg_id, version)
);

CREATE TABLE engine_decision (
  key bigint PRIMARY KEY,
  decision_id text NOT NULL,
  name text,
  version int NOT NULL,
  drg_key bigint NOT NULL REFERENCES engine_decision_requirements (key),
  tenant_id text NOT NULL,
  UNIQUE (decision_id, version)
);

CREATE TABLE engine_process_instance (
  key bigint PRIMARY KEY,
  process_definition_key bigint NOT NULL,
  bpmn_process_id text NOT NULL,
  version int NOT NULL,
  state text NOT NULL,
  parent_process_instance_key bigint,
  parent_element_instance_key bigint,
  -- Message start events: one active instance per process and correlation key.
  start_correlation_key text,
  start_date timestamptz NOT NULL,
  end_date timestamptz,
  tenant_id text NOT NULL
);
CREATE UNIQUE INDEX engine_process_instance_one_per_key ON engine_process_instance (bpmn_process_id, start_correlation_key)
  WHERE state = 'ACTIVE' AND start_correlation_key IS NOT NULL;
CREATE INDEX engine_process_instance_definition ON engine_process_instance (process_definition_key, state);
CREATE INDEX engine_process_instance_parent ON engine_process_instance (parent_process_instance_key)
  WHERE parent_process_instance_key IS NOT NULL;

CREATE TABLE engine_element_instance (
  key bigint PRIMARY KEY,
  process_instance_key bigint NOT NULL,
  process_definition_key bigint NOT NULL,
  bpmn_process_id text NOT NULL,
  element_id text NOT NULL,
  element_type text NOT NULL,
  flow_scope_key bigint,
  state text NOT NULL,
  start_date timestamptz NOT NULL,
  end_date timestamptz,
  -- Runtime data of the element: multi-instance counters, join tokens, the phase an incident stopped.
  data jsonb NOT NULL DEFAULT '{}'::jsonb,
  tenant_id text NOT NULL
);
CREATE INDEX engine_element_instance_scope ON engine_element_instance (flow_scope_key) WHERE state = 'ACTIVE';
CREATE INDEX engine_element_instance_instance ON engine_element_instance (process_instance_key);
CREATE INDEX engine_element_instance_definition ON engine_element_instance (process_definition_key, element_id);

CREATE TABLE engine_variable (
  scope_key bigint NOT NULL,
  name text NOT NULL,
  key bigint NOT NULL,
  process_instance_key bigint NOT NULL,
  value jsonb,
  PRIMARY KEY (scope_key, name)
);
CREATE INDEX engine_variable_instance ON engine_variable (process_instance_key);

CREATE TABLE engine_job (
  key bigint PRIMARY KEY,
  type text NOT NULL,
  state text NOT NULL,
  process_instance_key bigint NOT NULL,
  element_instance_key bigint NOT NULL,
  element_id text NOT NULL,
  bpmn_process_id text NOT NULL,
  process_definition_key bigint NOT NULL,
  version int NOT NULL,
  retries int NOT NULL,
  retry_at timestamptz,
  deadline timestamptz,
  worker text NOT NULL DEFAULT '',
  custom_headers jsonb NOT NULL,
  error_message text NOT NULL DEFAULT '',
  -- The element instance and its flow scopes, innermost first: the variables a job sees.
  scope_path bigint[] NOT NULL,
  created_at timestamptz NOT NULL,
  tenant_id text NOT NULL
);
CREATE INDEX engine_job_activatable ON engine_job (type, key) WHERE state = 'ACTIVATABLE';
CREATE INDEX engine_job_activated ON engine_job (deadline) WHERE state = 'ACTIVATED';
CREATE INDEX engine_job_element ON engine_job (element_instance_key);

CREATE TABLE engine_timer (
  key bigint PRIMARY KEY,
  process_instance_key bigint,
  element_instance_key bigint,
  process_definition_key bigint NOT NULL,
  element_id text NOT NULL,
  due_date timestamptz NOT NULL,
  -- Cycles: repetitions left (-1 = for ever) and the cycle's expression, resolved.
  repetitions int NOT NULL DEFAULT 1,
  cycle text,
  tenant_id text NOT NULL
);
CREATE INDEX engine_timer_due ON engine_timer (due_date);
CREATE INDEX engine_timer_element ON engine_timer (element_instance_key);
CREATE INDEX engine_timer_definition ON engine_timer (process_definition_key) WHERE process_instance_key IS NULL;

CREATE TABLE engine_message_subscription (
  key bigint PRIMARY KEY,
  process_instance_key bigint NOT NULL,
  element_instance_key bigint NOT NULL,
  element_id text NOT NULL,
  bpmn_process_id text NOT NULL,
  message_name text NOT NULL,
  correlation_key text NOT NULL,
  interrupting boolean NOT NULL,
  tenant_id text NOT NULL
);
CREATE INDEX engine_message_subscription_name ON engine_message_subscription (message_name, correlation_key);
CREATE INDEX engine_message_subscription_element ON engine_message_subscription (element_instance_key);

CREATE TABLE engine_message (
  key bigint PRIMARY KEY,
  name text NOT NULL,
  correlation_key text NOT NULL,
  message_id text NOT NULL,
  variables jsonb NOT NULL,
  deadline timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  tenant_id text NOT NULL
);
CREATE UNIQUE INDEX engine_message_id ON engine_message (name, message_id) WHERE message_id <> '';
CREATE INDEX engine_message_name ON engine_message (name, correlation_key);
CREATE INDEX engine_message_deadline ON engine_message (deadline);

-- A buffered message correlates once per process instance, and starts a process once.
CREATE TABLE engine_message_correlation (
  message_key bigint NOT NULL,
  target text NOT NULL,
  PRIMARY KEY (message_key, target)
);

CREATE TABLE engine_user_task (
  key bigint PRIMARY KEY,
  element_instance_key bigint NOT NULL,
  process_instance_key bigint NOT NULL,
  process_definition_key bigint NOT NULL,
  bpmn_process_id text NOT NULL,
  version int NOT NULL,
  element_id text NOT NULL,
  name text,
  state text NOT NULL,
  assignee text,
  candidate_groups text[] NOT NULL DEFAULT '{}',
  candidate_users text[] NOT NULL DEFAULT '{}',
  due_date timestamptz,
  follow_up_date timestamptz,
  form_key text,
  priority int NOT NULL DEFAULT 50,
  creation_date timestamptz NOT NULL,
  completion_date timestamptz,
  tenant_id text NOT NULL
);
CREATE INDEX engine_user_task_open_groups ON engine_user_task USING gin (candidate_groups) WHERE state = 'CREATED';
CREATE INDEX engine_user_task_open_due ON engine_user_task (due_date, key) WHERE state = 'CREATED';
CREATE INDEX engine_user_task_instance ON engine_user_task (process_instance_key);
CREATE INDEX engine_user_task_element ON engine_user_task (element_instance_key);

CREATE TABLE engine_incident (
  key bigint PRIMARY KEY,
  process_instance_key bigint NOT NULL,
  process_definition_key bigint NOT NULL,
  bpmn_process_id text NOT NULL,
  element_instance_key bigint NOT NULL,
  element_id text NOT NULL,
  job_key bigint,
  error_type text NOT NULL,
  error_message text NOT NULL,
  state text NOT NULL,
  created_at timestamptz NOT NULL,
  resolved_at timestamptz,
  tenant_id text NOT NULL
);
CREATE INDEX engine_incident_instance ON engine_incident (process_instance_key);
CREATE INDEX engine_incident_element ON engine_incident (element_instance_key) WHERE state = 'ACTIVE';

CREATE TABLE IF NOT EXISTS zeebe_record (
  partition_id int NOT NULL,
  position bigint NOT NULL,
  record_key bigint NOT NULL,
  ts timestamptz NOT NULL,
  value_type text NOT NULL,
  intent text NOT NULL,
  value jsonb NOT NULL,
  PRIMARY KEY (partition_id, position)
);
CREATE INDEX IF NOT EXISTS zeebe_record_type_key_idx ON zeebe_record (value_type, record_key, position);
CREATE INDEX IF NOT EXISTS zeebe_record_pi_idx ON zeebe_record ((value->>'processInstanceKey'), position);
`,
  `
-- Steps a command had no budget left for (core/run.ts STEP_BUDGET), run in order by later commands
-- that hold the instance's lock.
CREATE TABLE engine_continuation (
  seq bigserial PRIMARY KEY,
  process_instance_key bigint NOT NULL,
  step jsonb NOT NULL
);
CREATE INDEX engine_continuation_instance ON engine_continuation (process_instance_key, seq);
`,
  `
-- Open signal subscriptions (core/run.ts subscribe, broadcastSignal): catch events, boundary events,
-- event sub-process starts and event-based gateways of instances; signal start events of the latest
-- version of a process (process_instance_key NULL), replaced on redeploy.
CREATE TABLE engine_signal_subscription (
  key bigint PRIMARY KEY,
  signal_name text NOT NULL,
  process_definition_key bigint NOT NULL,
  bpmn_process_id text NOT NULL,
  process_instance_key bigint,
  element_instance_key bigint,
  element_id text NOT NULL,
  interrupting boolean NOT NULL,
  tenant_id text NOT NULL
);
CREATE INDEX engine_signal_subscription_name ON engine_signal_subscription (signal_name);
CREATE INDEX engine_signal_subscription_element ON engine_signal_subscription (element_instance_key);
CREATE INDEX engine_signal_subscription_start ON engine_signal_subscription (bpmn_process_id)
  WHERE process_instance_key IS NULL;
`,
  `
-- The inbox (infra/camunda/records.ts openUserTasks): "my groups' tasks OR the ones assigned to me" is a
-- BitmapOr of the groups' GIN and this index; without it every caseworker's page scanned every open task.
CREATE INDEX engine_user_task_open_assignee ON engine_user_task (assignee) WHERE state = 'CREATED';
`,
  `
-- Elements remember that an incident was raised on them (data.incident), so ending an element that never had
-- one costs no statement; rows with an incident still open from before this migration get the mark.
UPDATE engine_element_instance e SET data = e.data || '{"incident": true}'::jsonb
 WHERE e.key IN (SELECT element_instance_key FROM engine_incident WHERE state = 'ACTIVE');
`,
  `
-- A command that creates an instance of "the latest version" from what its engine process remembers asks,
-- in its last message, whether that is still the latest; a newer one aborts it (KC001) and it runs again.
CREATE FUNCTION engine_expect_latest(process_id text, known_version int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM engine_process_definition WHERE bpmn_process_id = process_id AND version > known_version) THEN
    RAISE EXCEPTION 'process % has a version newer than %', process_id, known_version USING ERRCODE = 'KC001';
  END IF;
END $$;
`,
  `
-- An instance a CreateProcessInstanceWithResult waits for: only its end is announced (NOTIFY engine_instance_ended).
ALTER TABLE engine_process_instance ADD COLUMN awaited boolean NOT NULL DEFAULT false;
`,
  `
-- Engine processes say they are alive (every second); commands NOTIFY only while another one is.
CREATE TABLE engine_node (id text PRIMARY KEY, seen_at timestamptz NOT NULL);
`,
  `
-- Reading open tasks by jurisdiction (the inbox, a county's thousands of candidate groups): a task's first
-- candidate group as a plain column with its own index, so counting a county's open tasks is an index-only
-- scan instead of taking every task's array apart; the few tasks with more groups have their own index.
ALTER TABLE engine_user_task ADD COLUMN first_candidate_group text GENERATED ALWAYS AS (candidate_groups[1]) STORED;
CREATE INDEX engine_user_task_open_first_group ON engine_user_task (first_candidate_group) WHERE state = 'CREATED';
CREATE INDEX engine_user_task_open_more_groups ON engine_user_task (key)
  WHERE state = 'CREATED' AND cardinality(candidate_groups) > 1;
`,
];

/** Serialises two engine processes migrating the same database (arbitrary, fixed). */
const MIGRATION_LOCK = '7308900523498827001';

/** Brings the engine's schema up to date; safe to call from several engine processes at once. */
export async function migrate(client: pg.ClientBase): Promise<number> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS engine_schema_version (version int NOT NULL)');
    const { rows } = await client.query<{ version: number }>(
      'SELECT max(version) AS version FROM engine_schema_version',
    );
    const current = rows[0]?.version ?? 0;
    for (let v = current; v < MIGRATIONS.length; v++) {
      await client.query(MIGRATIONS[v]!);
      await client.query('INSERT INTO engine_schema_version (version) VALUES ($1)', [v + 1]);
    }
    await client.query('COMMIT');
    return MIGRATIONS.length;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
