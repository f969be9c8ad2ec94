/**
 * Who may see and work on a user task. A task belongs to the candidate groups the diagram gave it
 * (`school:12`, `town:370481001`…; api/auth/groups.ts): members of those groups may claim and complete
 * it, the assignee may complete it, and supervising roles may see (not work on) every task in their
 * jurisdiction.
 */
import type { UserTask } from '../../infra/camunda/records.js';
import type { Prisma } from '../../infra/db/prisma.js';
import type { Actor } from '../auth/actor.js';
import { group } from '../auth/groups.js';

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
 * their classes, and the county offices. Used to list tasks by jurisdiction.
 */
export async function groupsWithin(
  prisma: Prisma,
  regionCode: string,
  narrow: { schoolId?: number } = {},
): Promise<string[]> {
  const schoolWhere = narrow.schoolId
    ? { id: narrow.schoolId, regionCode: { startsWith: regionCode } }
    : { regionCode: { startsWith: regionCode } };
  const [schools, classes, regions] = await Promise.all([
    prisma.school.findMany({ where: schoolWhere, select: { id: true } }),
    prisma.schoolClass.findMany({ where: { school: schoolWhere }, select: { id: true } }),
    narrow.schoolId
      ? Promise.resolve([])
      : prisma.region.findMany({
          where: { code: { startsWith: regionCode }, level: { in: ['COUNTY', 'TOWN'] } },
          select: { code: true, level: true },
        }),
  ]);
  return [
    ...schools.map((s) => group.school(s.id)),
    ...classes.map((c) => group.class(c.id)),
    ...regions.flatMap((r) =>
      r.level === 'TOWN' ? [group.town(r.code)] : [group.bureau(r.code), group.justice(r.code), group.police(r.code)],
    ),
  ];
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
