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

/** Caseworkers report a dropout and record a child's return (dropout-reports.ts, cases.ts /return). */
export const CASEWORK_ROLES: Role[] = ['TEACHER', 'SCHOOL', 'TOWN', 'BUREAU'];

/** The county bureau starts the county flows: enrollment campaign, whole-class handover. */
export const FLOW_START_ROLES: Role[] = ['BUREAU', 'ADMIN'];

/** A county flow's progress per town (progress.ts): the county's oversight and each town its own row. */
export const PROGRESS_ROLES: Role[] = ['TOWN', 'BUREAU', 'SUPERVISOR', 'ADMIN'];

/** Accounts, schools and classes are managed by the administrator and the county bureau (users.ts, schools.ts). */
export const MANAGER_ROLES: Role[] = ['ADMIN', 'BUREAU'];

/** 督导: heatmaps and the dashboard (supervision.ts), the county's oversight; a city or province supervisor all of it. */
export const SUPERVISION_ROLES: Role[] = ['BUREAU', 'SUPERVISOR', 'ADMIN'];

/** The audit log is read by supervisors and the administrator (audit.ts). */
export const AUDIT_ROLES: Role[] = ['SUPERVISOR', 'ADMIN'];
