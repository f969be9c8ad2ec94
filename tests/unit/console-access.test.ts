/**
 * The console offers no page or download the API refuses: its page and report tables
 * (admin-ui/src/layout/access.ts) against the API's gates (api/auth/duties.ts), and the pages of roles
 * whose duty reads no child.
 */
import { describe, expect, it } from 'vitest';
import { DROPOUT_REPORT_ROLES, IMPORT_ROLES, REPORT_ROLES } from '../../api/auth/duties.js';
import { MENU_ROLES, REPORT_ROLES as CONSOLE_REPORT_ROLES, mayUse } from '../../admin-ui/src/layout/access.js';

const sorted = (roles: string[]) => [...roles].sort();

describe('console pages by role', () => {
  it('offers each report and its downloads to exactly the roles the API serves it to', () => {
    expect(sorted(CONSOLE_REPORT_ROLES.retention)).toEqual(sorted(REPORT_ROLES));
    expect(sorted(CONSOLE_REPORT_ROLES.verification)).toEqual(sorted(REPORT_ROLES));
    expect(sorted(CONSOLE_REPORT_ROLES.dropouts)).toEqual(sorted(DROPOUT_REPORT_ROLES));
    // The reports page itself: for whoever gets at least one report.
    expect(sorted(MENU_ROLES.reports!)).toEqual(sorted(DROPOUT_REPORT_ROLES));
    // A school: its dropout table only (it was offered the 巩固率 and verification downloads, which answer 403).
    expect(CONSOLE_REPORT_ROLES.retention).not.toContain('SCHOOL');
    expect(CONSOLE_REPORT_ROLES.verification).not.toContain('SCHOOL');
  });

  it('has the import page only for those who import (a teacher opened it by URL)', () => {
    expect(sorted(MENU_ROLES.imports!)).toEqual(sorted(IMPORT_ROLES));
    const me = (role: 'TEACHER' | 'BUREAU') => ({ role }) as Parameters<typeof mayUse>[1];
    expect(mayUse('imports', me('TEACHER'))).toBe(false);
    expect(mayUse('imports', me('BUREAU'))).toBe(true);
    expect(mayUse('imports', undefined)).toBe(false);
  });

  it('gives policy staff, who read no child, neither the children nor the cases', () => {
    expect(MENU_ROLES.children).not.toContain('POLICY');
    expect(MENU_ROLES.cases).not.toContain('POLICY');
    expect(MENU_ROLES.cases).not.toContain('POLICE');
  });
});
