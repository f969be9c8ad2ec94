/**
 * Keys for everything the engine creates (instances, element instances, jobs, tasks, …): int64,
 * unique across every engine process on the database. Each process takes a block of KEY_BLOCK keys
 * from one sequence and hands them out in memory; a rolled-back command only leaves a gap.
 */
import { KEY_BLOCK } from '../db/schema.js';
import type { Db } from '../db/tx.js';

export class KeyAllocator {
  private next = 0n;
  private end = 0n;
  private refill: Promise<void> | undefined;

  /**
   * `db` is the asking command's own connection: taking a block through the pool could wait for a
   * connection that commands waiting for keys hold (every connection busy, none released).
   */
  async nextKey(db: Db): Promise<string> {
    while (this.next >= this.end) {
      this.refill ??= this.takeBlock(db).finally(() => {
        this.refill = undefined;
      });
      await this.refill;
    }
    const key = this.next;
    this.next += 1n;
    return key.toString();
  }

  private async takeBlock(db: Db) {
    const { rows } = await db.query<{ start: string }>(`SELECT nextval('engine_key_seq')::text AS start`);
    this.next = BigInt(rows[0]!.start);
    this.end = this.next + BigInt(KEY_BLOCK);
  }
}
