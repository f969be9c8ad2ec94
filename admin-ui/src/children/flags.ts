/** Vulnerability flags (重点关注) in the reports' words. */
export const FLAG_LABELS: Record<string, string> = {
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
