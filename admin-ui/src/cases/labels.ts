/** Case status and outcome in the same words as the API's documents (api/domain/case-status.ts). */
export { CASE_OUTCOME_LABELS, CASE_STATUS_LABELS } from '../../../api/domain/case-status';
