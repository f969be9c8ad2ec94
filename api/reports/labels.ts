/** Chinese column names of the domain enums the reports break numbers down by. */
import type { VulnerabilityFlag } from '../../generated/prisma/client.js';

/** In the order of the schema: the statutory priority groups first. */
export const VULNERABILITY_LABELS: Record<VulnerabilityFlag, string> = {
  REGISTERED_POOR: '建档立卡',
  DISABLED: '残疾',
  ORPHAN: '孤儿',
  NO_CAREGIVER: '事实无人抚养',
  IN_DIFFICULTY: '困境',
  LEFT_BEHIND: '留守',
  SINGLE_PARENT: '单亲',
  MIGRANT: '随迁',
  PRISONER_CHILD: '服刑人员子女',
  LEARNING_DIFFICULTY: '学困',
};

export const VULNERABILITY_FLAGS = Object.keys(VULNERABILITY_LABELS) as VulnerabilityFlag[];

/**
 * 辍学原因 of the registry (学籍), the code table of ../shared/docs/statutes.md (Flow 1, item 6) as the
 * VerificationCode rows of kind REGISTRY_REASON hold it. No code is ever shown without its meaning.
 */
export const DROPOUT_REASON_LABELS: Record<string, string> = {
  A2: '厌学辍学',
  A3: '因病因残',
  A4: '在家上学',
  A8: '其他原因（出国、去世、超龄离校等）',
  B2: '在校有学籍',
};

/** 核查结果 of the enrollment verification (same code table). */
export const VERIFICATION_OUTCOME_LABELS: Record<string, string> = {
  A: '户籍原因（重复、死亡、迁出）',
  B: '在校有学籍',
  C: '省内就读无学籍',
  D: '省外就读无学籍',
  E: '延缓入学',
  F: '超龄离校',
  G: '失踪失联',
  H: '出国在外',
  I: '因病因残',
  L: '在家上学',
};

/** "A2 厌学辍学"; an unknown code as it is (a code added as a row later); null for none. */
export function reasonCodeLabel(code: string | null | undefined): string | null {
  if (!code) return null;
  const label = DROPOUT_REASON_LABELS[code];
  return label ? `${code} ${label}` : code;
}

/** The flows as caseworkers name them (by the diagram's process id). */
export const PROCESS_LABELS: Record<string, string> = {
  'dropout-escalation': '辍学劝返',
  'enrollment-verification': '入学核查',
  'child-verification': '入学核查（逐一核实）',
  'whole-class-handover': '小升初整班移交',
  'dropout-statistics': '辍学情况统计',
  'special-needs-census': '残疾儿童摸排',
  'semester-home-visits': '学期家访',
};
