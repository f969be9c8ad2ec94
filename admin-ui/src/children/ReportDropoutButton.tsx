/**
 * 报告疑似辍学: a teacher (or her school, town, bureau) reports a pupil from the pupils list or the child's
 * page — POST /api/dropout-reports, which opens the 一人一案 and starts the escalation flow. A child with
 * an open case gets the API's answer naming that case, with a link to it.
 */
import ReportIcon from '@mui/icons-material/ReportProblem';
import {
  Alert,
  Button as MuiButton,
  Dialog,
  DialogActions,
  DialogContent,
  DialogTitle,
  Stack,
  TextField,
} from '@mui/material';
import { useState, type MouseEvent } from 'react';
import { Link, useNotify, usePermissions, useRecordContext, useRedirect } from 'react-admin';
import { apiFetch, ApiError } from '../api';
import type { Me } from '../authProvider';
import { mayDo } from '../layout/access';
import { ChineseDatePicker } from '../tasks/ChineseDateInput';

/** Today in Beijing as YYYY-MM-DD (the latest last-attendance day the API accepts). */
export function beijingToday(): string {
  return new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
}

/** The button on a child's row or page; nothing for roles that may not report. */
export function ReportDropoutButton({ variant = 'text' }: { variant?: 'text' | 'outlined' | 'contained' }) {
  const child = useRecordContext();
  const { permissions } = usePermissions<Me>();
  const [open, setOpen] = useState(false);
  if (!child || !mayDo('reportDropout', permissions)) return null;
  return (
    <>
      <MuiButton
        size="small"
        color="warning"
        variant={variant}
        startIcon={<ReportIcon />}
        data-testid="report-dropout"
        onClick={(e: MouseEvent) => {
          // On a list row: do not open the row's record as well.
          e.stopPropagation();
          setOpen(true);
        }}
      >
        报告辍学
      </MuiButton>
      {open && (
        <ReportDialog child={{ id: String(child.id), name: String(child.name) }} onClose={() => setOpen(false)} />
      )}
    </>
  );
}

function ReportDialog({ child, onClose }: { child: { id: string; name: string }; onClose: () => void }) {
  const notify = useNotify();
  const redirect = useRedirect();
  const [lastAttendance, setLastAttendance] = useState('');
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [conflict, setConflict] = useState<{ message: string; caseId?: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    const problems: Record<string, string> = {};
    if (!lastAttendance) problems.lastAttendance = '请填写最后到校日期';
    else if (lastAttendance > beijingToday()) problems.lastAttendance = '最后到校日期不能晚于今天';
    if (!reason.trim()) problems.reason = '请填写辍学原因或情况';
    setErrors(problems);
    if (Object.keys(problems).length) return;
    setBusy(true);
    try {
      await apiFetch('/api/dropout-reports', {
        method: 'POST',
        json: { child: child.id, lastAttendance, reason: reason.trim() },
      });
      notify(`已报告：${child.name}。家访劝返任务已派给班主任，3 天内办理。`, { type: 'success' });
      onClose();
      redirect('/tasks');
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        const caseId = (err.details as { caseId?: string } | undefined)?.caseId;
        setConflict({ message: err.message, caseId });
      } else if (err instanceof ApiError && err.fieldIssues.length) {
        setErrors(Object.fromEntries(err.fieldIssues.map((i) => [String(i.path[0]), i.message])));
      } else {
        notify(err instanceof ApiError ? err.message : '报告失败，本次未提交，请重试。', { type: 'error' });
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open onClose={onClose} fullWidth maxWidth="sm" onClick={(e) => e.stopPropagation()}>
      <DialogTitle>报告疑似辍学：{child.name}</DialogTitle>
      <DialogContent>
        <Stack spacing={2} sx={{ mt: 1 }} data-testid="report-dropout-form">
          {conflict && (
            <Alert severity="warning" data-testid="report-conflict">
              {conflict.message}
              {conflict.caseId && (
                <>
                  {' '}
                  <Link to={`/cases/${conflict.caseId}/show`}>查看该案件</Link>
                </>
              )}
            </Alert>
          )}
          <ChineseDatePicker
            label="最后到校日期"
            name="lastAttendance"
            required
            value={lastAttendance}
            onChange={setLastAttendance}
            error={!!errors.lastAttendance}
            helperText={errors.lastAttendance ?? '该生最后一天到校上课的日期'}
            max={beijingToday()}
          />
          <TextField
            label="辍学原因或情况"
            name="reason"
            required
            multiline
            minRows={3}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            error={!!errors.reason}
            helperText={errors.reason ?? '如：连续旷课三天，电话联系不上家长'}
          />
        </Stack>
      </DialogContent>
      <DialogActions>
        <MuiButton onClick={onClose}>取消</MuiButton>
        <MuiButton variant="contained" color="warning" disabled={busy} onClick={submit} data-testid="report-submit">
          {busy ? '提交中…' : '提交报告'}
        </MuiButton>
      </DialogActions>
    </Dialog>
  );
}
