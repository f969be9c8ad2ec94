/**
 * Which rows of a county report a caller may see. Region codes are prefix-hierarchical, so a report
 * over county C shown to an actor acting for region R covers the longer of the two codes: a county
 * (or city) role sees the whole county, a TOWN or SCHOOL user only their town. A county the caller
 * has nothing to do with is "not found", like any record outside the scope (api/auth/scope.ts).
 */
import type { Actor } from '../auth/actor.js';
import { AppError } from '../errors.js';

/** The region prefix every row of the report must start with. */
export function reportRegion(actor: Actor, regionCode: string): string {
  if (regionCode.startsWith(actor.regionCode)) return regionCode;
  if (actor.regionCode.startsWith(regionCode)) return actor.regionCode;
  throw new AppError('NOT_FOUND');
}

/** Significant digits of a town code: province 2, city 4, county 6, town 9. */
export const TOWN_CODE_LENGTH = 9;
