/**
 * 启动: the bureau starts a county flow for a year — the enrollment campaign (POST
 * /api/campaigns/enrollment) or the whole-class handover (POST /api/handovers) — and lands on its
 * progress page. A second start of the same year gets the API's answer (已经启动).
 */
import PlayArrowIcon from '@mui/icons-material/PlayArrow';
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
import { useState } from 'react';
import { useNotify, usePermissions, useRedirect } from 'react-admin';
import { apiFetch, ApiError } from '../api';
import type { Me } from '../authProvider';
import { mayDo } from '../layout/access';

const FLOWS = {
  campaigns: {
    path: '/api/campaigns/enrollment',
    label: '启动入学核查',
    title: '启动适龄儿童入学核查',
    note: '比对户籍、扶贫、残联、民政名单与学籍，生成疑似未入学名单，由教育局下发各镇街逐一核实。部门名单须在 6 月 30 日前导入。',
  },
  handovers: {
    path: '/api/handovers',
    label: '启动整班移交',
    title: '启动小学毕业生整班移交',
    note: '按就近原则为每个六年级班级拟定接收初中，移交计划须在 6 月 30 日前报县政府审批。',
  },
} as const;

export function StartFlowButton({ flow }: { flow: keyof typeof FLOWS }) {
  const { permissions } = usePermissions<Me>();
  const [open, setOpen] = useState(false);
  if (!mayDo('startFlow', permissions)) return null;
  return (
    <>
      <MuiButton
        variant="contained"
        size="small"
        startIcon={<PlayArrowIcon />}
        onClick={() => setOpen(true)}
        data-testid={`start-${flow}`}
      >
        {FLOWS[flow].label}
      </MuiButton>
      {open && <StartDialog flow={flow} me={permissions!} onClose={() => setOpen(false)} />}
    </>
  );
}

function StartDialog({ flow, me, onClose }: { flow: keyof typeof FLOWS; me: Me; onClose: () => void }) {
  const notify = useNotify();
  const redirect = useRedirect();
  const spec = FLOWS[flow];
  const thisYear = Number(new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 4));
  const [county, setCounty] = useState(me.regionCode.length === 6 ? me.regionCode : '');
  const [year, setYear] = useState(String(flow === 'handovers' ? thisYear + 1 : thisYear));
  const [error, setError] = useState<Record<string, string>>({});
  const [refusal, setRefusal] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    const problems: Record<string, string> = {};
    if (!/^\d{6}$/.test(county)) problems.county = '县级区划代码为6位数字';
    if (!/^\d{4}$/.test(year)) problems.year = '请填写年度（如 2026）';
    setError(problems);
    if (Object.keys(problems).length) return;
    setBusy(true);
    try {
      const started = await apiFetch<{ id: number }>(spec.path, {
        method: 'POST',
        json: { county, year: Number(year) },
      });
      notify(`已启动：${year}年${spec.title.replace(/^启动/, '')}`, { type: 'success' });
      onClose();
      redirect(`/${flow}/${started.id}/show`);
    } catch (err) {
      if (err instanceof ApiError && err.fieldIssues.length) {
        setError(Object.fromEntries(err.fieldIssues.map((i) => [String(i.path[0]), i.message])));
      } else setRefusal(err instanceof ApiError ? err.message : '启动失败，请重试。');
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open onClose={onClose} fullWidth maxWidth="xs">
      <DialogTitle>{spec.title}</DialogTitle>
      <DialogContent>
        <Stack spacing={2} sx={{ mt: 1 }}>
          <Alert severity="info">{spec.note}</Alert>
          {refusal && (
            <Alert severity="error" data-testid="start-refusal">
              {refusal}
            </Alert>
          )}
          <TextField
            label="县（区划代码）"
            name="county"
            required
            value={county}
            onChange={(e) => setCounty(e.target.value.trim())}
            error={!!error.county}
            helperText={error.county ?? '本县的6位区划代码'}
          />
          <TextField
            label="年度"
            name="year"
            required
            value={year}
            onChange={(e) => setYear(e.target.value.trim())}
            error={!!error.year}
            helperText={error.year ?? ' '}
            slotProps={{ htmlInput: { inputMode: 'numeric' } }}
          />
        </Stack>
      </DialogContent>
      <DialogActions>
        <MuiButton onClick={onClose}>取消</MuiButton>
        <MuiButton variant="contained" disabled={busy} onClick={submit} data-testid="start-submit">
          {busy ? '启动中…' : '确认启动'}
        </MuiButton>
      </DialogActions>
    </Dialog>
  );
}
