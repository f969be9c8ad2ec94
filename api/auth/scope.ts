/**
 * Jurisdiction in the data layer: for each resource, the prisma `where` that keeps a caller inside
 * what their role's duty needs. Every query of scoped data ANDs one of these in, so a town officer
 * never reads another town's children — by list or by a guessed id (a record outside the scope is
 * simply "not found").
 *
 * Least privilege (README "Security"): a teacher reads her class, a school its pupils, a town its
 * residents and the pupils of its schools, the bureau (and its supervisors; the administrator: the
 * province) its county. The justice bureau reads only the cases referred to it, while it holds them,
 * and their children; the police only the suspects of the verification sent to it (outcome A, feedback
 * not yet given) — the only user task the diagrams give it; policy staff, who design the flows and
 * preview forms, read no child at all.
 *
 * Region codes are prefix-hierarchical (county 370481 ⊃ town 370481001), so a region scope is a
 * `startsWith` on the row's regionCode.
 */
import type { Prisma } from '../../generated/prisma/client.js';
import type { EngineRecords } from '../../infra/camunda/records.js';
import type { Prisma as PrismaClient } from '../../infra/db/prisma.js';
import type { Actor } from './actor.js';
import { group } from './groups.js';

/** Rows under the caller's region (county roles: their county; TOWN: their town). */
function inRegion(actor: Actor) {
  return { regionCode: { startsWith: actor.regionCode } };
}

/** A where clause that matches nothing (a teacher without a class, a role whose duty has no such records). */
const NOTHING = { id: { in: [] } };

/** Verification outcome A (户籍原因): the branch of child-verification.bpmn that goes to the police. */
const POLICE_OUTCOME = 'A';

export const scope = {
  children(actor: Actor): Prisma.ChildWhereInput {
    switch (actor.role) {
      case 'TEACHER':
        return actor.classId === null ? NOTHING : { currentClassId: actor.classId };
      case 'SCHOOL':
        return actor.schoolId === null ? NOTHING : { currentSchoolId: actor.schoolId };
      case 'JUSTICE':
        return { cases: { some: scope.cases(actor) } };
      case 'POLICE':
        return { suspicions: { some: scope.suspects(actor) } };
      case 'POLICY':
        return NOTHING;
      default:
        // A town sees the children registered in the town and the children at its schools.
        return {
          OR: [inRegion(actor), { registry: { some: { regionCode: { startsWith: actor.regionCode } } } }],
        };
    }
  },

  schools(actor: Actor): Prisma.SchoolWhereInput {
    if (actor.role === 'TEACHER' || actor.role === 'SCHOOL') {
      return actor.schoolId === null ? NOTHING : { id: actor.schoolId };
    }
    return inRegion(actor);
  },

  classes(actor: Actor): Prisma.SchoolClassWhereInput {
    if (actor.role === 'TEACHER') return { id: actor.classId ?? -1 };
    if (actor.role === 'SCHOOL') return { schoolId: actor.schoolId ?? -1 };
    return inRegion(actor);
  },

  /** Regions: the caller's own region, everything below it, and the chain above it (for names). */
  regions(actor: Actor): Prisma.RegionWhereInput {
    const ancestors = [];
    for (const len of [2, 4, 6, 9]) if (actor.regionCode.length > len) ancestors.push(actor.regionCode.slice(0, len));
    return { OR: [{ code: { startsWith: actor.regionCode } }, { code: { in: ancestors } }] };
  },

  cases(actor: Actor): Prisma.DropoutCaseWhereInput {
    switch (actor.role) {
      case 'TEACHER':
        return { classId: actor.classId ?? -1 };
      case 'SCHOOL':
        return { schoolId: actor.schoolId ?? -1 };
      case 'JUSTICE':
        return { processInstanceKey: { in: actor.heldCaseInstances ?? [] } };
      case 'POLICE':
      case 'POLICY':
        return NOTHING;
      default:
        // The school's town or the child's household: both on the case (childRegionCode follows the child).
        return { OR: [inRegion(actor), { childRegionCode: { startsWith: actor.regionCode } }] };
    }
  },

  /** Campaigns and handovers are county-wide plans (no child in them): visible inside the county. */
  campaigns(actor: Actor): Prisma.CampaignWhereInput {
    return { regionCode: { startsWith: countyOf(actor) } };
  },

  handovers(actor: Actor): Prisma.HandoverBatchWhereInput {
    return { regionCode: { startsWith: countyOf(actor) } };
  },

  suspects(actor: Actor): Prisma.SuspectedChildWhereInput {
    switch (actor.role) {
      case 'TOWN':
      case 'BUREAU':
      case 'SUPERVISOR':
      case 'ADMIN':
        return inRegion(actor);
      case 'POLICE':
        // Sent to the police (公安清理户籍并反馈) and not yet answered.
        return { regionCode: { startsWith: countyOf(actor) }, outcomeCode: POLICE_OUTCOME, policeFeedback: null };
      default:
        return NOTHING;
    }
  },

  /**
   * Handover plan lines (and their rosters): a teacher's own class; a school's classes sent or received;
   * a region's lines sent from it or received by its schools. Nobody outside education has a part in it.
   */
  handoverAssignments(actor: Actor): Prisma.HandoverAssignmentWhereInput {
    switch (actor.role) {
      case 'TEACHER':
        return { fromClassId: actor.classId ?? -1 };
      case 'SCHOOL':
        return { OR: [{ fromClass: { schoolId: actor.schoolId ?? -1 } }, { toSchoolId: actor.schoolId ?? -1 }] };
      case 'JUSTICE':
      case 'POLICE':
      case 'POLICY':
        return NOTHING;
      default:
        return { OR: [inRegion(actor), { toSchool: inRegion(actor) }] };
    }
  },

  importBatches(actor: Actor): Prisma.ImportBatchWhereInput {
    return { regionCode: { startsWith: countyOf(actor) } };
  },

  users(actor: Actor): Prisma.UserWhereInput {
    if (actor.role === 'ADMIN' || actor.role === 'BUREAU') return inRegion(actor);
    if (actor.role === 'SCHOOL') return { schoolId: actor.schoolId ?? -1 };
    return { id: actor.userId };
  },
};

/** Adds a parameter to a statement's list and answers its placeholder (`$3`). */
export type SqlParam = (value: unknown) => string;

/**
 * `text` with LIKE's wildcards `%` and `_` and its escape character `\` escaped, so that a pattern built
 * from it matches the text literally (PostgreSQL's LIKE escapes with `\` by default, no ESCAPE clause
 * needed). Every text search goes through it: prisma's `contains` and `startsWith` pass the text into
 * `LIKE` unescaped (a search for "_" or "%" would match every row; prisma/orm#19506), and so would a
 * hand-written pattern.
 */
export const escapeLike = (text: string) => text.replace(/[\\%_]/g, '\\$&');

/** A LIKE pattern matching every string that starts with `prefix`, literally (prisma's `startsWith` of likeText). */
export const likePrefix = (prefix: string) => `${escapeLike(prefix)}%`;

/** A LIKE pattern matching every string that contains `text`, literally (prisma's `contains` of likeText). */
export const likeContains = (text: string) => `%${escapeLike(text)}%`;

/**
 * prisma string filters that match the user's text literally: `{ name: likeText.contains(q) }`. Case
 * sensitive, as LIKE is (no `mode: 'insensitive'`); the case list's statement (api/routes/cases.ts) uses
 * likeContains, the same pattern.
 */
export const likeText = {
  contains: (text: string) => ({ contains: escapeLike(text) }),
  startsWith: (text: string) => ({ startsWith: escapeLike(text) }),
};

/**
 * scope.cases as a SQL condition on `"DropoutCase"` aliased `c`, for the case list's one statement
 * (api/routes/cases.ts). The same rule per role as the prisma `where` above — change both together;
 * tests/integration/list-sql.test.ts checks every demo user's list against the prisma one.
 */
export function casesSql(actor: Actor, param: SqlParam): string {
  switch (actor.role) {
    case 'TEACHER':
      return `c."classId" = ${param(actor.classId ?? -1)}::int`;
    case 'SCHOOL':
      return `c."schoolId" = ${param(actor.schoolId ?? -1)}::int`;
    case 'JUSTICE':
      return `c."processInstanceKey" = ANY(${param(actor.heldCaseInstances ?? [])}::text[])`;
    case 'POLICE':
    case 'POLICY':
      return 'false';
    default: {
      const region = param(likePrefix(actor.regionCode));
      return `(c."regionCode" LIKE ${region} OR c."childRegionCode" LIKE ${region})`;
    }
  }
}

/**
 * The dropout cases the justice bureau of `county` holds now: those whose instance has an open user task
 * of `justice:<county>` (签发司法文书, 决定是否依法追究法律责任), and those waiting on the period of the
 * judicial notice it issued (status LEGAL_NOTICE, no open task at all: the decision comes to it next).
 * A case the bureau sent back to the town (its task is open at the town) or that closed is no longer its.
 */
export async function casesHeldByJustice(
  prisma: PrismaClient,
  records: EngineRecords,
  county: string,
): Promise<string[]> {
  const [withTask, waiting] = await Promise.all([
    records.openUserTasks({ groupsAny: [group.justice(county)], limit: 100_000 }),
    prisma.dropoutCase.findMany({
      where: { status: 'LEGAL_NOTICE', closedAt: null, regionCode: { startsWith: county } },
      select: { processInstanceKey: true },
    }),
  ]);
  const held = new Set(withTask.data.map((t) => t.processInstanceKey));
  const idle = await Promise.all(
    waiting
      .filter((c) => !held.has(c.processInstanceKey))
      .map(async (c) =>
        (await records.openUserTasks({ processInstanceKey: c.processInstanceKey, limit: 1 })).total
          ? undefined
          : c.processInstanceKey,
      ),
  );
  for (const key of idle) if (key) held.add(key);
  return [...held];
}

/** Six-digit county code of the caller (province/city-level users: their own, shorter, prefix). */
export function countyOf(actor: Actor): string {
  return actor.regionCode.slice(0, 6);
}
