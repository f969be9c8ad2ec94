/**
 * What each step of a case recorded (GET /api/cases/:id/records), labelled with the step's own form:
 * the school's task shows the teacher's home visit — the date, who went, the outcome — as she entered it.
 */
import { Box, Stack, Typography } from '@mui/material';
import { useQuery } from '@tanstack/react-query';
import { apiFetch } from '../api';
import { chineseDate, chineseDateTime } from '../format';
import { formOf, type FieldSpec } from '../tasks/schemaForm';

export interface CaseRecord {
  userTaskKey: string;
  elementId: string;
  title: string;
  submittedBy: string | null;
  doneAt: string;
  input: Record<string, unknown>;
}

/** One submitted value as the form shows it: options by their label, dates the Chinese way. */
function shown(field: FieldSpec | undefined, value: unknown): string {
  if (value === undefined || value === null || value === '') return '—';
  if (field?.kind === 'select') return field.options?.find((o) => o.id === value)?.name ?? String(value);
  if (field?.kind === 'date' && typeof value === 'string') return chineseDate(`${value}T12:00:00+08:00`);
  if (field?.kind === 'boolean' || field?.kind === 'confirm' || typeof value === 'boolean') return value ? '是' : '否';
  if (Array.isArray(value)) return `${value.length} 条`;
  return String(value);
}

export function useCaseRecords(caseId: string | undefined) {
  return useQuery({
    queryKey: ['case-records', caseId],
    queryFn: () => apiFetch<{ data: CaseRecord[] }>(`/api/cases/${caseId}/records`),
    enabled: !!caseId,
  });
}

/** The records of a case; `only` narrows to some task types (the home visit on the school's task). */
export function CaseRecords({ caseId, only, empty }: { caseId: string; only?: string[]; empty?: string }) {
  const { data, isPending } = useCaseRecords(caseId);
  if (isPending) return <Typography color="text.secondary">加载中…</Typography>;
  const records = (data?.data ?? []).filter((r) => !only || only.includes(r.elementId));
  if (records.length === 0) return empty ? <Typography color="text.secondary">{empty}</Typography> : null;
  return (
    <Stack spacing={1.5} data-testid="case-records">
      {records.map((r) => {
        const fields = formOf(r.elementId)?.fields ?? [];
        const byName = new Map(fields.map((f) => [f.name, f]));
        const names = [...fields.map((f) => f.name), ...Object.keys(r.input).filter((k) => !byName.has(k))];
        return (
          <Box key={r.userTaskKey} data-testid="case-record" data-element={r.elementId}>
            <Typography variant="subtitle2">{r.title}</Typography>
            <Typography variant="caption" color="text.secondary">
              {r.submittedBy ?? '—'} · {chineseDateTime(r.doneAt)}
            </Typography>
            {names
              .filter((n) => r.input[n] !== undefined && byName.get(n)?.kind !== 'lines' && byName.has(n))
              .map((n) => (
                <Stack key={n} direction="row" spacing={1} sx={{ py: 0.25 }}>
                  <Typography variant="body2" color="text.secondary" sx={{ minWidth: 80, flexShrink: 0 }}>
                    {byName.get(n)?.title ?? n}
                  </Typography>
                  <Typography variant="body2" sx={{ overflowWrap: 'anywhere', whiteSpace: 'pre-wrap' }}>
                    {shown(byName.get(n), r.input[n])}
                  </Typography>
                </Stack>
              ))}
          </Box>
        );
      })}
    </Stack>
  );
}
