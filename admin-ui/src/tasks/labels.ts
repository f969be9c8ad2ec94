/** Names of the flows and task types as caseworkers know them. */
import { taskSchemas } from '@schemas/index.js';
import { PROCESS_LABELS } from '../../../api/reports/labels';

export { PROCESS_LABELS };

export const processChoices = Object.entries(PROCESS_LABELS).map(([id, name]) => ({ id, name }));

export const taskTypeChoices = Object.entries(taskSchemas)
  .map(([id, s]) => ({ id, name: s.title }))
  .sort((a, b) => a.name.localeCompare(b.name, 'zh'));
