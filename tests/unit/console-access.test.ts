/**
 * The console offers no page or download the API refuses: its page and report tables
 * (admin-ui/src/layout/access.ts) against the API's gates (api/auth/duties.ts), and the pages of roles
 * whose duty reads no child.
 */
import { describe, expect, it } from 'vitest';
import {
  AUDIT_ROLES,
  CASEWORK_ROLES,
  DROPOUT_REPORT_ROLES,
  FLOW_START_ROLES,
  IMPORT_ROLES,
  MANAGER_ROLES,
  PROGRESS_ROLES,
  REPORT_ROLES,
  SUPERVISION_ROLES,
} from '../../api/auth/duties.js';
import { DIAGRAM_DEPLOYERS, DIAGRAM_MIGRATORS, DIAGRAM_READERS } from '../../api/diagrams/roles.js';
import {
  ACTION_ROLES,
  DEPLOY_ROLES,
  MIGRATE_ROLES,
  MENU_ROLES,
  REPORT_ROLES as CONSOLE_REPORT_ROLES,
  mayDo,
  mayUse,
} from '../../admin-ui/src/layout/access.js';

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

  it('offers the flow, administration and audit pages to exactly the roles the API serves them to', () => {
    expect(sorted(MENU_ROLES.campaigns!)).toEqual(sorted(PROGRESS_ROLES));
    expect(sorted(MENU_ROLES.handovers!)).toEqual(sorted(PROGRESS_ROLES));
    expect(sorted(MENU_ROLES.users!)).toEqual(sorted(MANAGER_ROLES));
    expect(sorted(MENU_ROLES.schools!)).toEqual(sorted(MANAGER_ROLES));
    expect(sorted(MENU_ROLES.audit!)).toEqual(sorted(AUDIT_ROLES));
    expect(sorted(MENU_ROLES.heatmaps!)).toEqual(sorted(SUPERVISION_ROLES));
    expect(sorted(MENU_ROLES.supervision!)).toEqual(sorted(SUPERVISION_ROLES));
    // A school and a teacher follow no county flow and manage no account.
    for (const page of ['campaigns', 'handovers', 'users', 'audit', 'heatmaps', 'supervision'] as const) {
      expect(mayUse(page, { role: 'SCHOOL' }), page).toBe(false);
      expect(mayUse(page, { role: 'TEACHER' }), page).toBe(false);
    }
  });

  it('offers the report, return and start buttons to exactly the roles the API lets act', () => {
    expect(sorted(ACTION_ROLES.reportDropout)).toEqual(sorted(CASEWORK_ROLES));
    expect(sorted(ACTION_ROLES.markReturn)).toEqual(sorted(CASEWORK_ROLES));
    expect(sorted(ACTION_ROLES.startFlow)).toEqual(sorted(FLOW_START_ROLES));
    expect(mayDo('reportDropout', { role: 'JUSTICE' })).toBe(false);
    expect(mayDo('startFlow', { role: 'TOWN' })).toBe(false);
    expect(mayDo('startFlow', undefined)).toBe(false);
  });

  it('has the diagram editor for those who read the diagrams, and its deploy only for policy staff', () => {
    expect(sorted(MENU_ROLES.modeler!)).toEqual(sorted(DIAGRAM_READERS));
    expect(sorted(DEPLOY_ROLES)).toEqual(sorted(DIAGRAM_DEPLOYERS));
    expect(DEPLOY_ROLES).toEqual(['POLICY']);
  });

  it('offers 迁移到最新版本 only to the roles the API lets migrate', () => {
    expect(sorted(MIGRATE_ROLES)).toEqual(sorted(DIAGRAM_MIGRATORS));
    expect(MIGRATE_ROLES).toEqual(['POLICY']);
  });
});
