import type { VulnerabilityFlag } from '../../generated/prisma/client.js';

/**
 * Pupils who get a 一人一案 for the primary→middle transition [G]: 留守, 困境 (incl. orphans and children
 * without a de-facto caregiver), 家庭经济困难 (建档立卡), 残疾, 学困.
 */
export const TRANSITION_SUPPORT_FLAGS: VulnerabilityFlag[] = [
  'LEFT_BEHIND',
  'IN_DIFFICULTY',
  'ORPHAN',
  'NO_CAREGIVER',
  'REGISTERED_POOR',
  'DISABLED',
  'LEARNING_DIFFICULTY',
];

export const needsTransitionSupport = (flags: VulnerabilityFlag[]) =>
  flags.some((f) => TRANSITION_SUPPORT_FLAGS.includes(f));
