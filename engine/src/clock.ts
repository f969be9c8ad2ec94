/**
 * The engine's clock: every due date, timer, job deadline, message TTL and FEEL `now()` reads it.
 * In tests (`controlled`) it can be pinned or moved forward, which is how the tests pass statutory
 * deadlines of days and months without waiting; anywhere else it is the system clock.
 */
import { EngineFault, type EngineClockControl } from './api.js';

export class EngineClock implements EngineClockControl {
  private offset = 0;
  private pinnedAt: number | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(readonly controlled: boolean) {}

  now(): number {
    return this.pinnedAt ?? Date.now() + this.offset;
  }

  /** Called after every change of the clock (the timer loop looks again at once). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  pin(epochMilli: number): void {
    this.assertControlled();
    this.pinnedAt = epochMilli;
    this.changed();
  }

  add(offsetMilli: number): void {
    this.assertControlled();
    if (this.pinnedAt !== undefined) this.pinnedAt += offsetMilli;
    else this.offset += offsetMilli;
    this.changed();
  }

  reset(): void {
    this.assertControlled();
    this.pinnedAt = undefined;
    this.offset = 0;
    this.changed();
  }

  private assertControlled() {
    if (!this.controlled) {
      throw new EngineFault(
        'FAILED_PRECONDITION',
        'the engine clock is not controllable (start it with the clock controlled, tests only)',
      );
    }
  }

  private changed() {
    for (const l of this.listeners) l();
  }
}
