/**
 * Engine-backed: statutory deadlines are tested by moving the engine's clock, never by shortening
 * the statute. A ten-day deadline fires after the clock moves eleven days, and not before.
 */
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createEngineClient } from '../../infra/camunda/client.js';
import { engineClock } from '../../infra/engine/engine.js';
import { createEngineRecords } from '../../infra/camunda/records.js';
import { REPO_ROOT } from '../../infra/config.js';
import { eventually } from './helpers.js';
import { testConfig } from './test-env.js';

const DAY = 86_400_000;
const engine = createEngineClient(testConfig());
const records = createEngineRecords(inject('engineDatabaseUrl'));
const clock = engineClock(inject('engineManagementUrl'));
const db = new pg.Pool({ connectionString: inject('engineDatabaseUrl') });

// The clock is never reset: moving it backwards would leave the engine's scheduled work (timers,
// the exporter's flush) waiting for a time that already passed. Later tests run eleven days ahead.
afterAll(async () => {
  await Promise.all([engine.close(), records.close(), db.end()]);
});

async function elementCompleted(processInstanceKey: string, elementId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `SELECT 1 FROM zeebe_record WHERE value_type = 'PROCESS_INSTANCE' AND intent = 'ELEMENT_COMPLETED'
        AND value->>'processInstanceKey' = $1 AND value->>'elementId' = $2`,
    [processInstanceKey, elementId],
  );
  return (rowCount ?? 0) > 0;
}

describe('engine clock control (engine-backed)', () => {
  it('escalates a ten-day deadline only once the engine clock has passed it', async () => {
    await engine.grpc.deployResource({ processFilename: path.join(REPO_ROOT, 'tests/fixtures/deadline-probe.bpmn') });
    const { processInstanceKey } = await engine.startProcess('test-deadline-probe', { deadline: 'P10D' });
    const task = await eventually(
      async () => (await records.openUserTasks({ processInstanceKey })).data[0],
      'the deadline task',
    );

    await clock.add(9 * DAY);
    // Give the engine's due-date checker a chance to (wrongly) fire before the deadline.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await records.processInstanceState(processInstanceKey)).toBe('ACTIVE');
    expect((await records.userTask(task.userTaskKey))?.state).toBe('CREATED');

    await clock.add(2 * DAY);
    await eventually(
      async () => ((await records.processInstanceState(processInstanceKey)) === 'COMPLETED' ? true : undefined),
      'the escalation to complete the instance',
    );
    expect(await elementCompleted(processInstanceKey, 'escalated')).toBe(true);
    expect(await elementCompleted(processInstanceKey, 'corrected')).toBe(false);
    expect((await records.userTask(task.userTaskKey))?.state).toBe('CANCELED');
  });
});
