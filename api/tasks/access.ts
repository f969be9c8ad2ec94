/**
 * Who may see and work on a user task. A task belongs to the candidate groups the diagram gave it
 * (`school:12`, `town:370481001`…; api/auth/groups.ts): members of those groups may claim and complete
 * it, the assignee may complete it, and supervising roles may see (not work on) every task in their
 * jurisdiction.
 */
import type { UserTask } from '../../infra/camunda/records.js';
import { type Prisma, sqlPool } from '../../infra/db/prisma.js';
import type { Actor } from '../auth/actor.js';
import { likePrefix } from '../auth/scope.js';

/** Roles that oversee every task of their jurisdiction. */
export const SUPERVISING_ROLES = ['BUREAU', 'SUPERVISOR', 'ADMIN'] as const;

export function isSupervising(actor: Actor): boolean {
  return (SUPERVISING_ROLES as readonly string[]).includes(actor.role);
}

export function canWorkOn(actor: Actor, task: UserTask): boolean {
  if (task.assignee) return task.assignee === actor.username;
  return task.candidateGroups.some((g) => actor.groups.includes(g));
}

/**
 * Every candidate group inside a region (or one town / one school of it): the towns, the schools and
 * their classes, and the county offices, named as api/auth/groups.ts `group` names them. Used to list tasks
 * by jurisdiction. One SQL statement answering
 * one array (a county has ~2,600 groups: as prisma rows they cost the bureau's inbox more CPU than its page).
 */
export async function groupsWithin(
  prisma: Prisma,
  regionCode: string,
  narrow: { schoolId?: number } = {},
): Promise<string[]> {
  const { rows } = await sqlPool(prisma).query<{ groups: string[] }>(
    `SELECT array(
       SELECT 'school:' || s.id FROM "School" s WHERE s."regionCode" LIKE $1 AND ($2::int IS NULL OR s.id = $2)
       UNION ALL
       SELECT 'class:' || c.id FROM "SchoolClass" c JOIN "School" s ON s.id = c."schoolId"
        WHERE s."regionCode" LIKE $1 AND ($2::int IS NULL OR s.id = $2)
       UNION ALL
       SELECT k.kind || ':' || r.code FROM "Region" r
        CROSS JOIN LATERAL unnest(CASE WHEN r.level = 'TOWN' THEN ARRAY['town'] ELSE ARRAY['bureau', 'justice', 'police'] END) AS k(kind)
        WHERE $2::int IS NULL AND r.code LIKE $1 AND r.level IN ('COUNTY', 'TOWN')
     ) AS groups`,
    [likePrefix(regionCode), narrow.schoolId ?? null],
  );
  return rows[0]?.groups ?? [];
}

/**
 * May the actor see a task (work on it, or supervise its jurisdiction)? The jurisdiction's groups are
 * read once per checker, so checking many tasks (bulk completion) costs one lookup.
 */
export function visibilityChecker(prisma: Prisma, actor: Actor): (task: UserTask) => Promise<boolean> {
  let within: Promise<Set<string>> | undefined;
  return async (task) => {
    if (canWorkOn(actor, task) || task.assignee === actor.username) return true;
    if (!isSupervising(actor)) return false;
    within ??= groupsWithin(prisma, actor.regionCode).then((groups) => new Set(groups));
    const groups = await within;
    return task.candidateGroups.some((g) => groups.has(g));
  };
}
