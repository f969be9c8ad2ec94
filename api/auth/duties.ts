/**
 * Route gates that follow a statutory duty rather than a record's jurisdiction — kept in one place so
 * the console offers exactly these (admin-ui/src/layout/access.ts; tests/unit/console-access.test.ts).
 */
import type { Role } from '../../generated/prisma/enums.js';

/**
 * The statistics: the towns and the county's education side report and oversee. The justice bureau and
 * the police have no statistics duty in the statutes.
 */
export const REPORT_ROLES: Role[] = ['TOWN', 'BUREAU', 'POLICY', 'SUPERVISOR', 'ADMIN'];

/** Schools also send the dropout table, for their own school [T 三]. */
export const DROPOUT_REPORT_ROLES: Role[] = [...REPORT_ROLES, 'SCHOOL'];

/** The departments' lists are imported by the county bureau (and the administrator); the file list is theirs. */
export const IMPORT_ROLES: Role[] = ['BUREAU', 'ADMIN'];
