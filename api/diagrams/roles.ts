/**
 * Who uses policy staff's diagram pages (issue 18): the county's education side reads the deployed
 * diagrams and their history; only policy staff (政策管理员) check drafts, deploy, roll back and
 * migrate running instances to the newest version. The
 * console's page table (admin-ui/src/layout/access.ts) is held against these by a unit test.
 */
import type { Role } from '../../generated/prisma/enums.js';

export const DIAGRAM_READERS: Role[] = ['POLICY', 'BUREAU', 'SUPERVISOR', 'ADMIN'];
export const DIAGRAM_DEPLOYERS: Role[] = ['POLICY'];
/** Who moves running instances of an older version to the newest one. */
export const DIAGRAM_MIGRATORS: Role[] = ['POLICY'];
