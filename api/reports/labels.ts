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
