import { useQuery, useQueryClient } from '@tanstack/react-query';
import { apiFetch } from '../api';

export interface TaskContext {
  task: {
    userTaskKey: string;
    state: string;
    elementId: string;
    bpmnProcessId: string;
    processInstanceKey: string;
    candidateGroups: string[];
    assignee: string | null;
    dueDate: string | null;
    createdAt: string;
    title: string;
    overdue: boolean;
    actionable: boolean;
  };
  clause: string | null;
  case: { id: string; caseNumber: string; status: string; statusLabel: string; schoolName: string } | null;
  subject: {
    childId: string;
    name: string;
    gender: string;
    /** "2015-07": the date would unmask the ID number. */
    birthMonth: string;
    idNumber: string | null;
    detail: string | null;
  } | null;
  /** What a task not about one child is about (the department lists still missing…). */
  summary: string | null;
  initial: Record<string, unknown>;
  lines: Record<string, string>;
  choices: Record<string, { id: string | number; name: string }[]>;
  attachments: { id: string; fileName: string; contentType: string; size: number; uploadedAt: string }[];
  candidates: { username: string; displayName: string }[];
}

/**
 * Everything around one task (GET /api/tasks/:key/context), with `reload` after claim, upload or
 * reassignment.
 * @example const { data, reload } = useTaskContext('2251799813685250');
 */
export function useTaskContext(key: string | undefined) {
  const client = useQueryClient();
  const queryKey = ['task-context', key];
  const result = useQuery({
    queryKey,
    queryFn: () => apiFetch<TaskContext>(`/api/tasks/${key}/context`),
    enabled: !!key,
    retry: false,
  });
  return { ...result, reload: () => client.invalidateQueries({ queryKey }) };
}
