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

/** The task types of each flow, as policy staff and caseworkers name the flows. */
export const taskSchemasByFlow: Record<string, Record<string, TaskSchema>> = {
  辍学劝返: onlySchemas(escalation),
  入学核查: onlySchemas(verification),
  小升初整班移交: onlySchemas(handover),
  定期报送: onlySchemas(duties),
};

export const taskSchemas: Record<string, TaskSchema> = Object.assign({}, ...Object.values(taskSchemasByFlow));
