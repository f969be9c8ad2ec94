/**
 * A message published at the moment its subscription opens. Zeebe's rule (docs.camunda.io,
 * components/concepts/messages, "Message buffering" and "Message correlation"): a message with a time to
 * live is kept in the buffer and correlates to a subscription opened while it is buffered; so, however
 * the publish and the subscription's opening interleave, a buffered message reaches the waiting instance.
 *
 * In our engine the two are separate transactions (possibly in different engine processes): the publish
 * looks for open subscriptions, the subscription's opening looks for buffered messages. Under READ
 * COMMITTED, if each looks before the other commits, neither sees the other — the message stays in the
 * buffer and the instance waits forever. The three-engine fault test found two such instances out of 150.
 * Here many instances open their subscription exactly while their message is published.
 */
import { describe, expect, it } from 'vitest';
import { bpmn, deploy, engineDb, eventually, flow, uniqueId, zeebe } from './helpers.js';

const PAIRS = 120;

describe('a buffered message published while its subscription opens (concepts/messages, "Message buffering")', () => {
  it('every instance receives its message, whichever transaction commits first', async () => {
    const id = uniqueId('message-race');
    const name = `${id}-ping`;
    await deploy(
      `${id}.bpmn`,
      bpmn(
        id,
        `<bpmn:startEvent id="s" />
         <bpmn:intermediateCatchEvent id="wait"><bpmn:messageEventDefinition messageRef="m" /></bpmn:intermediateCatchEvent>
         <bpmn:endEvent id="e" />
         ${flow('f1', 's', 'wait')}${flow('f2', 'wait', 'e')}`,
        `<bpmn:message id="m" name="${name}"><bpmn:extensionElements><zeebe:subscription correlationKey="=k" /></bpmn:extensionElements></bpmn:message>`,
      ),
    );
    const keys: string[] = [];
    // Each pair: the instance (whose first step opens the subscription) and its message, sent together.
    for (let batch = 0; batch < PAIRS; batch += 20) {
      await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const k = `k${batch + i}`;
          const [started] = await Promise.all([
            zeebe().createProcessInstance({ bpmnProcessId: id, variables: { k } }),
            zeebe().publishMessage({ name, correlationKey: k, variables: {}, timeToLive: 60_000 }),
          ]);
          keys.push(started.processInstanceKey);
        }),
      );
    }
    const waiting = async () =>
      (
        await engineDb().query<{ key: string }>(
          `SELECT key::text FROM engine_process_instance WHERE key = ANY($1::bigint[]) AND state <> 'COMPLETED'`,
          [keys],
        )
      ).rows.map((r) => r.key);
    await eventually(async () => (await waiting()).length === 0, 20_000, 'every instance to complete').catch(
      () => undefined,
    );
    expect(await waiting(), 'instances still waiting for a message that was published').toEqual([]);
    const { rows } = await engineDb().query<{ n: string }>(
      `SELECT count(*) AS n FROM engine_message WHERE name = $1
          AND NOT EXISTS (SELECT 1 FROM engine_message_correlation c WHERE c.message_key = engine_message.key)`,
      [name],
    );
    expect(Number(rows[0]!.n), 'buffered messages that reached no instance').toBe(0);
  });
});
