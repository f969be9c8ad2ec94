/**
 * Every user-task form, by the task's element id. The diagrams' test fails when a user task has no
 * form here; each flow keeps its forms in its own module under forms/.
 */
import type { TaskForm } from './define-form.js';
import * as duties from './forms/duties.js';
import * as escalation from './forms/escalation.js';
import * as handover from './forms/handover.js';
import * as verification from './forms/verification.js';

export type { TaskForm } from './define-form.js';

export const taskForms: Record<string, TaskForm> = {
  ...escalation,
  ...verification,
  ...handover,
  ...duties,
} as Record<string, TaskForm>;
