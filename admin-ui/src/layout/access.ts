/**
 * Which console pages and reports each role may use: the menu shows them, App.tsx registers no other
 * route for the role (a page opened by URL is not there either), and the reports page offers no report
 * or download the API would refuse. Plain data, so a unit test holds it against the API's own gates
 * (tests/unit/console-access.test.ts).
 */

/** The API's roles (authProvider's `Role`; this module imports nothing, so tests can read it). */
type Role = 'TEACHER' | 'SCHOOL' | 'TOWN' | 'BUREAU' | 'JUSTICE' | 'POLICE' | 'POLICY' | 'SUPERVISOR' | 'ADMIN';

/** Pages by role; the same as the API's gates and scopes (README "Security"). */
export const MENU_ROLES: Record<string, Role[]> = {
  tasks: ['TEACHER', 'SCHOOL', 'TOWN', 'BUREAU', 'JUSTICE', 'POLICE', 'SUPERVISOR', 'ADMIN'],
  // The justice bureau: the cases it holds.
  cases: ['TEACHER', 'SCHOOL', 'TOWN', 'BUREAU', 'JUSTICE', 'SUPERVISOR', 'ADMIN'],
  // The justice bureau and the police: the children of the cases and suspects sent to them.
  children: ['TEACHER', 'SCHOOL', 'TOWN', 'BUREAU', 'JUSTICE', 'POLICE', 'SUPERVISOR', 'ADMIN'],
  imports: ['BUREAU', 'ADMIN'],
  reports: ['SCHOOL', 'TOWN', 'BUREAU', 'SUPERVISOR', 'ADMIN', 'POLICY'],
  forms: ['POLICY', 'BUREAU', 'SUPERVISOR', 'ADMIN'],
  // The county flows: the bureau starts and follows them, each town its own row (api/routes/progress.ts).
  campaigns: ['TOWN', 'BUREAU', 'SUPERVISOR', 'ADMIN'],
  handovers: ['TOWN', 'BUREAU', 'SUPERVISOR', 'ADMIN'],
  // Accounts, schools and classes: the administrator and the county bureau (api/routes/users.ts).
  users: ['BUREAU', 'ADMIN'],
  schools: ['BUREAU', 'ADMIN'],
  // Who read or changed which child's record (api/routes/audit.ts).
  audit: ['SUPERVISOR', 'ADMIN'],
  // 督导: heatmaps on the diagrams and the supervisors' dashboard (api/routes/supervision.ts).
  heatmaps: ['BUREAU', 'SUPERVISOR', 'ADMIN'],
  supervision: ['BUREAU', 'SUPERVISOR', 'ADMIN'],
  // Every signed-in user changes their own password.
  password: ['TEACHER', 'SCHOOL', 'TOWN', 'BUREAU', 'JUSTICE', 'POLICE', 'POLICY', 'SUPERVISOR', 'ADMIN'],
  // 流程设计: the diagrams and decision tables with their history (api/diagrams/roles.ts).
  modeler: ['POLICY', 'BUREAU', 'SUPERVISOR', 'ADMIN'],
};

/** Only policy staff (政策管理员) are offered the editor's validation, deploy and rollback. */
export const DEPLOY_ROLES: Role[] = ['POLICY'];
/** Only policy staff are offered 迁移到最新版本 for an older version's running instances. */
export const MIGRATE_ROLES: Role[] = ['POLICY'];

/** Buttons by role: the console offers an action only to the roles the API lets do it (api/auth/duties.ts). */
export const ACTION_ROLES: Record<'reportDropout' | 'markReturn' | 'startFlow', Role[]> = {
  reportDropout: ['TEACHER', 'SCHOOL', 'TOWN', 'BUREAU'],
  markReturn: ['TEACHER', 'SCHOOL', 'TOWN', 'BUREAU'],
  startFlow: ['BUREAU', 'ADMIN'],
};

/** May the signed-in role do this? */
export function mayDo(action: keyof typeof ACTION_ROLES, permissions: { role: Role } | undefined): boolean {
  return !!permissions && ACTION_ROLES[action].includes(permissions.role);
}

/** May the signed-in role use this page? */
export function mayUse(entry: keyof typeof MENU_ROLES, permissions: { role: Role } | undefined): boolean {
  return !!permissions && MENU_ROLES[entry]!.includes(permissions.role);
}

/**
 * Reports by role (api/routes/reports.ts): the towns and the county's education side all three; a school
 * only its own row of the dropout table.
 */
const REPORTERS: Role[] = ['TOWN', 'BUREAU', 'POLICY', 'SUPERVISOR', 'ADMIN'];
export const REPORT_ROLES: Record<'retention' | 'dropouts' | 'verification', Role[]> = {
  retention: REPORTERS,
  dropouts: [...REPORTERS, 'SCHOOL'],
  verification: REPORTERS,
};
