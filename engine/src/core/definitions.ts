/**
 * Deployed process definitions and decisions, read from the database and parsed once per engine
 * process (a definition never changes once deployed: a new version is a new key).
 */
import type { Db } from '../db/tx.js';
import { parseBpmn } from '../model/parse.js';
import type { Definition } from './services.js';

export class DefinitionStore {
  private readonly byKey = new Map<string, Promise<Definition | undefined>>();

  async byDefinitionKey(db: Db, key: string): Promise<Definition | undefined> {
    let def = this.byKey.get(key);
    if (!def) {
      def = this.load(db, key);
      this.byKey.set(key, def);
      def.then((d) => d ?? this.byKey.delete(key)).catch(() => this.byKey.delete(key));
    }
    return def;
  }

  /** The newest version known per process id (see latest). */
  private readonly latestKeys = new Map<string, string>();

  /**
   * The newest version of a process. Asked often (every instance created by id), so the answer is
   * remembered and checked instead of looked up: the transaction's last message asks
   * `engine_expect_latest`, which aborts it (SQLSTATE KC001) when another engine process has deployed a
   * newer version since; the rollback forgets the remembered key and the command runs again on the
   * newest. No round trip of its own, and never an older version than a committed deploy.
   */
  async latest(db: Db, bpmnProcessId: string): Promise<Definition | undefined> {
    const known = this.latestKeys.get(bpmnProcessId);
    if (known) {
      const def = await this.byDefinitionKey(db, known);
      if (def) {
        db.defer(`SELECT engine_expect_latest($1, $2)`, [bpmnProcessId, def.version]);
        db.afterRollback(() => this.latestKeys.delete(bpmnProcessId));
        return def;
      }
    }
    const { rows } = await db.query<{ key: string }>(
      `SELECT key::text FROM engine_process_definition WHERE bpmn_process_id = $1 ORDER BY version DESC LIMIT 1`,
      [bpmnProcessId],
    );
    if (!rows[0]) return undefined;
    this.latestKeys.set(bpmnProcessId, rows[0].key);
    return this.byDefinitionKey(db, rows[0].key);
  }

  /** After a deploy of this process committed here: the next lookup asks the table. */
  deployed(bpmnProcessId: string) {
    this.latestKeys.delete(bpmnProcessId);
  }

  async version(db: Db, bpmnProcessId: string, version: number): Promise<Definition | undefined> {
    const { rows } = await db.query<{ key: string }>(
      `SELECT key::text FROM engine_process_definition WHERE bpmn_process_id = $1 AND version = $2`,
      [bpmnProcessId, version],
    );
    return rows[0] ? this.byDefinitionKey(db, rows[0].key) : undefined;
  }

  private async load(db: Db, key: string): Promise<Definition | undefined> {
    const { rows } = await db.query<{
      bpmn_process_id: string;
      version: number;
      resource: string;
      resource_name: string;
      tenant_id: string;
    }>(
      `SELECT bpmn_process_id, version, resource, resource_name, tenant_id FROM engine_process_definition WHERE key = $1`,
      [key],
    );
    const r = rows[0];
    if (!r) return undefined;
    const { processes } = await parseBpmn(r.resource);
    const model = processes.find((p) => p.bpmnProcessId === r.bpmn_process_id);
    if (!model) throw new Error(`deployed resource of ${r.bpmn_process_id} no longer contains that process`);
    return {
      key,
      bpmnProcessId: r.bpmn_process_id,
      version: r.version,
      resourceName: r.resource_name,
      tenantId: r.tenant_id,
      model,
    };
  }
}
