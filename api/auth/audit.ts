/**
 * The audit log: every read of a child's full personal data and every change, append-only (a trigger
 * refuses UPDATE/DELETE). Written inside the caller's transaction when there is one, so an audited
 * change and its audit row commit together.
 */
import type { AuditAction, Prisma } from '../../generated/prisma/client.js';
import type { Prisma as PrismaClient, Tx } from '../../infra/db/prisma.js';
import type { Actor } from './actor.js';

export interface AuditEntry {
  action: AuditAction;
  entity: string;
  entityId?: string | number | null;
  details?: Prisma.InputJsonValue;
  ip?: string;
}

export async function audit(db: PrismaClient | Tx, actor: Actor | null, entry: AuditEntry): Promise<void> {
  await db.auditEvent.create({
    data: {
      userId: actor?.userId ?? null,
      username: actor?.username ?? null,
      action: entry.action,
      entity: entry.entity,
      entityId: entry.entityId === undefined || entry.entityId === null ? null : String(entry.entityId),
      details: entry.details,
      ip: entry.ip ?? null,
    },
  });
}
