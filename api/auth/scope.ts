/**
 * Jurisdiction in the data layer: for each resource, the prisma `where` that keeps a caller inside
 * what their role and region allow. Every query of scoped data ANDs one of these in, so a town officer
 * never reads another town's children — by list or by a guessed id (a record outside the scope is
 * simply "not found").
 *
 * Region codes are prefix-hierarchical (county 370481 ⊃ town 370481001), so a region scope is a
 * `startsWith` on the row's regionCode.
 */
import type { Prisma } from '../../generated/prisma/client.js';
import type { Actor } from './actor.js';

/** Rows under the caller's region (county roles: their county; TOWN: their town). */
function inRegion(actor: Actor) {
  return { regionCode: { startsWith: actor.regionCode } };
}

/** A where clause that matches nothing (a teacher without a class, a school user without a school). */
const NOTHING = { id: { in: [] } };

export const scope = {
  children(actor: Actor): Prisma.ChildWhereInput {
    if (actor.role === 'TEACHER') return actor.classId === null ? NOTHING : { currentClassId: actor.classId };
    if (actor.role === 'SCHOOL') return actor.schoolId === null ? NOTHING : { currentSchoolId: actor.schoolId };
    // A town sees the children registered in the town and the children at its schools.
    return {
      OR: [inRegion(actor), { registry: { some: { regionCode: { startsWith: actor.regionCode } } } }],
    };
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
    if (actor.role === 'TEACHER') return { classId: actor.classId ?? -1 };
    if (actor.role === 'SCHOOL') return { schoolId: actor.schoolId ?? -1 };
    return { OR: [inRegion(actor), { child: { regionCode: { startsWith: actor.regionCode } } }] };
  },

  /** Campaigns and handovers are county-wide: visible to everyone inside the county. */
  campaigns(actor: Actor): Prisma.CampaignWhereInput {
    return { regionCode: { startsWith: countyOf(actor) } };
  },

  handovers(actor: Actor): Prisma.HandoverBatchWhereInput {
    return { regionCode: { startsWith: countyOf(actor) } };
  },

  suspects(actor: Actor): Prisma.SuspectedChildWhereInput {
    if (actor.role === 'TEACHER' || actor.role === 'SCHOOL') return NOTHING;
    return inRegion(actor);
  },

  /**
   * Handover plan lines (and their rosters): a teacher's own class; a school's classes sent or received;
   * a region's lines sent from it or received by its schools.
   */
  handoverAssignments(actor: Actor): Prisma.HandoverAssignmentWhereInput {
    if (actor.role === 'TEACHER') return { fromClassId: actor.classId ?? -1 };
    if (actor.role === 'SCHOOL') {
      return { OR: [{ fromClass: { schoolId: actor.schoolId ?? -1 } }, { toSchoolId: actor.schoolId ?? -1 }] };
    }
    return { OR: [inRegion(actor), { toSchool: inRegion(actor) }] };
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

/** Six-digit county code of the caller (province/city-level users: their own, shorter, prefix). */
export function countyOf(actor: Actor): string {
  return actor.regionCode.slice(0, 6);
}
