/**
 * The management port over real HTTP against a recording EngineApi stand-in: actuator health,
 * Prometheus metrics and the test clock (the client side is infra/camunda/engine.ts `engineClock`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PROMETHEUS_CONTENT_TYPE, startManagement } from '../../../engine/src/gateway/management.js';
import { recordingEngine, recordingLog } from './recording-engine.js';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function management(clockControlled = true) {
  const engine = recordingEngine({ clockControlled });
  const gw = await startManagement(engine.api, { host: '127.0.0.1', port: 0, log: recordingLog().log });
  closers.push(() => gw.close());
  const send = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${gw.port}${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const json = res.headers.get('content-type')?.includes('json')
      ? (JSON.parse(text) as Record<string, unknown>)
      : undefined;
    return { status: res.status, headers: res.headers, text, body: json };
  };
  return { ...engine, send };
}

describe('management: health', () => {
  it('answers UP 200 on health and readiness while the engine is ready', async () => {
    const { send } = await management();
    for (const path of ['/actuator/health', '/actuator/health/readiness', '/actuator/health/liveness']) {
      expect(await send('GET', path)).toMatchObject({ status: 200, body: { status: 'UP' } });
    }
  });

  it('answers DOWN 503 on readiness when the engine is not ready or its check fails, while liveness stays UP', async () => {
    const { send, behave } = await management();
    behave.health = async () => ({ ready: false, detail: 'database unreachable' });
    expect(await send('GET', '/actuator/health/readiness')).toMatchObject({ status: 503, body: { status: 'DOWN' } });
    expect(await send('GET', '/actuator/health')).toMatchObject({ status: 503, body: { status: 'DOWN' } });
    behave.health = async () => {
      throw new Error('pool exhausted');
    };
    expect(await send('GET', '/actuator/health/readiness')).toMatchObject({ status: 503, body: { status: 'DOWN' } });
    expect(await send('GET', '/actuator/health/liveness')).toMatchObject({ status: 200, body: { status: 'UP' } });
  });

  it('serves the engine metrics as Prometheus text', async () => {
    const { send } = await management();
    const res = await send('GET', '/actuator/prometheus');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(PROMETHEUS_CONTENT_TYPE);
    expect(res.text).toBe('# TYPE engine_up gauge\nengine_up 1\n');
  });
});

describe('management: test clock', () => {
  const DAY_MS = 24 * 60 * 60 * 1000;
  const PINNED = Date.UTC(2025, 8, 1, 8, 0, 0);

  it('reads, pins, adds to and resets the clock, each answering the new { epochMilli, instant }', async () => {
    const { send } = await management();
    const read = await send('GET', '/actuator/clock');
    expect(read.status).toBe(200);
    expect(Math.abs((read.body!.epochMilli as number) - Date.now())).toBeLessThan(5_000);
    expect(read.body!.instant).toBe(new Date(read.body!.epochMilli as number).toISOString());

    expect(await send('POST', '/actuator/clock/pin', { epochMilli: PINNED })).toMatchObject({
      status: 200,
      body: { epochMilli: PINNED, instant: '2025-09-01T08:00:00.000Z' },
    });
    expect(await send('POST', '/actuator/clock/add', { offsetMilli: DAY_MS })).toMatchObject({
      status: 200,
      body: { epochMilli: PINNED + DAY_MS, instant: '2025-09-02T08:00:00.000Z' },
    });
    const reset = await send('DELETE', '/actuator/clock');
    expect(reset.status).toBe(200);
    expect(Math.abs((reset.body!.epochMilli as number) - Date.now())).toBeLessThan(5_000);
  });

  it('refuses a pin or add without a whole number with 400', async () => {
    const { send } = await management();
    expect((await send('POST', '/actuator/clock/pin', { epochMilli: 'tomorrow' })).status).toBe(400);
    const res = await send('POST', '/actuator/clock/add', {});
    expect(res.status).toBe(400);
    expect(String(res.body!.detail)).toContain("'offsetMilli'");
  });

  it('refuses every clock change with 403 when the clock is not controlled, and still reads it', async () => {
    const { send, clock } = await management(false);
    const before = clock.now();
    expect((await send('POST', '/actuator/clock/pin', { epochMilli: PINNED })).status).toBe(403);
    expect((await send('POST', '/actuator/clock/add', { offsetMilli: DAY_MS })).status).toBe(403);
    expect((await send('DELETE', '/actuator/clock')).status).toBe(403);
    const read = await send('GET', '/actuator/clock');
    expect(read.status).toBe(200);
    expect(Math.abs((read.body!.epochMilli as number) - before)).toBeLessThan(5_000);
  });
});
