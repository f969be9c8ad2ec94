/** Every user-task type's title and schema, by the task's element id (shared by the API and the console). */
import * as duties from './duties.js';
import * as escalation from './escalation.js';
import type { TaskSchema } from './fields.js';
import * as handover from './handover.js';
import * as verification from './verification.js';

export type { TaskSchema } from './fields.js';

function onlySchemas(module: Record<string, unknown>): Record<string, TaskSchema> {
  return Object.fromEntries(
    Object.entries(module).filter(([, v]) => typeof v === 'object' && v !== null && 'schema' in v && 'title' in v),
  ) as Record<string, TaskSchema>;
}

export const taskSchemas: Record<string, TaskSchema> = {
  ...onlySchemas(escalation),
  ...onlySchemas(verification),
  ...onlySchemas(handover),
  ...onlySchemas(duties),
};
