/**
 * On the case file: the stage the case is in now (its open task, not only the last status a step
 * wrote), and 复学 — the child is back at school: POST /api/cases/:id/return ends the escalation at
 * whatever stage it is.
 */
import SchoolIcon from '@mui/icons-material/School';
import {
  Alert,
  Button as MuiButton,
  Chip,
  Dialog,
  DialogActions,
  DialogContent,
  DialogTitle,
  Stack,
} from '@mui/material';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNotify, usePermissions, useRefresh } from 'react-admin';
import { apiFetch, ApiError } from '../api';
import type { Me } from '../authProvider';
import { beijingToday } from '../children/ReportDropoutButton';
import { mayDo } from '../layout/access';
import { ChineseDatePicker } from '../tasks/ChineseDateInput';
import { CASE_STATUS_LABELS, OPEN_CASE_STATUSES } from '../../../api/domain/case-status';

interface Entry {
  kind: string;
  title: string;
}

/** The tasks of the case still open, by the timeline's entries (created and not yet done or cancelled). */
export function openStages(entries: Entry[]): string[] {
  const open = new Map<string, number>();
  for (const e of entries) {
    if (!e.kind.startsWith('TASK_')) continue;
    const base = e.title.replace(/（[^（）]*）$/, '');
    open.set(base, (open.get(base) ?? 0) + (e.kind === 'TASK_CREATED' ? 1 : -1));
  }
  return [...open.entries()].filter(([, n]) => n > 0).map(([title]) => title);
}

/** The stage badge: the open step for an open case, the status otherwise. */
export function StageChip({ caseId, status }: { caseId: string; status: string }) {
  // The same query as the timeline beside it (one request for both).
  const { data } = useQuery({
    queryKey: ['case-timeline', caseId],
    queryFn: () => apiFetch<{ entries: Entry[] }>(`/api/cases/${caseId}/timeline`),
  });
  const isOpen = (OPEN_CASE_STATUSES as readonly string[]).includes(status);
  const stages = isOpen && data ? openStages(data.entries) : [];
  const label = CASE_STATUS_LABELS[status as keyof typeof CASE_STATUS_LABELS] ?? status;
  return (
    <Stack direction="row" spacing={0.5} flexWrap="wrap" useFlexGap component="span" sx={{ display: 'inline-flex' }}>
      <Chip size="small" label={label} data-testid="case-status" />
      {stages.map((s) => (
        <Chip
          key={s}
          size="small"
          color="primary"
          variant="outlined"
          label={`当前环节：${s}`}
          data-testid="case-stage"
        />
      ))}
      {isOpen && data && stages.length === 0 && <Chip size="small" variant="outlined" label="等待期限届满" />}
    </Stack>
  );
}

/** 复学: for an open case, to the roles that may record it. */
export function ReturnButton({ caseId, childName, status }: { caseId: string; childName: string; status: string }) {
  const { permissions } = usePermissions<Me>();
  const [open, setOpen] = useState(false);
  if (!mayDo('markReturn', permissions) || !(OPEN_CASE_STATUSES as readonly string[]).includes(status)) return null;
  return (
    <>
      <MuiButton
        variant="contained"
        color="success"
        size="small"
        startIcon={<SchoolIcon />}
        onClick={() => setOpen(true)}
        data-testid="mark-return"
      >
        复学
      </MuiButton>
      {open && <ReturnDialog caseId={caseId} childName={childName} onClose={() => setOpen(false)} />}
    </>
  );
}

function ReturnDialog({ caseId, childName, onClose }: { caseId: string; childName: string; onClose: () => void }) {
  const notify = useNotify();
  const refresh = useRefresh();
  const client = useQueryClient();
  const [returnedOn, setReturnedOn] = useState(beijingToday());
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    if (!returnedOn) return setError('请填写复学日期');
    if (returnedOn > beijingToday()) return setError('复学日期不能晚于今天');
    setBusy(true);
    try {
      await apiFetch(`/api/cases/${caseId}/return`, { method: 'POST', json: { returnedOn } });
      notify(`已登记复学：${childName}。劝返流程结束，请学校安排跟踪帮扶。`, { type: 'success' });
      onClose();
      // The flow ends the case within a moment: show the case as it is then.
      setTimeout(() => {
        refresh();
        void client.invalidateQueries({ queryKey: ['case-timeline', caseId] });
      }, 1500);
    } catch (err) {
      if (err instanceof ApiError && err.fieldIssues.length) setError(err.fieldIssues[0]!.message);
      else notify(err instanceof ApiError ? err.message : '登记失败，本次未提交，请重试。', { type: 'error' });
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open onClose={onClose} fullWidth maxWidth="xs">
      <DialogTitle>登记复学：{childName}</DialogTitle>
      <DialogContent>
        <Alert severity="info" sx={{ mb: 2 }}>
          该生已返校就读：劝返流程在当前环节结束，案件记为复学，学籍恢复，学校制定跟踪帮扶措施。
        </Alert>
        <ChineseDatePicker
          label="复学日期"
          name="returnedOn"
          required
          fullWidth
          value={returnedOn}
          onChange={setReturnedOn}
          error={!!error}
          helperText={error ?? ' '}
          max={beijingToday()}
        />
      </DialogContent>
      <DialogActions>
        <MuiButton onClick={onClose}>取消</MuiButton>
        <MuiButton variant="contained" color="success" disabled={busy} onClick={submit} data-testid="return-submit">
          {busy ? '提交中…' : '确认复学'}
        </MuiButton>
      </DialogActions>
    </Dialog>
  );
}
