/** Vulnerability flags (重点关注) in the reports' words. */
import { VULNERABILITY_LABELS } from '../../../api/reports/labels';

export const FLAG_LABELS: Record<string, string> = VULNERABILITY_LABELS;
