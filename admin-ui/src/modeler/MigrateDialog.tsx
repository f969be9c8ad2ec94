/**
 * 迁移到最新版本 (policy staff): the plan for an older version's running instances — which waiting
 * elements have the same element in the newest version and which do not, with counts — a required
 * comment, then the result per instance (api/routes/diagrams.ts: migration-plan, migrate). What the
 * engine refuses stays on its version.
 */
import {
  Alert,
  Button,
  Dialog,
  DialogActions,
  DialogContent,
  DialogTitle,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  TextField,
  Typography,
} from '@mui/material';
import { useEffect, useState } from 'react';
import { apiFetch } from '../api';

interface Plan {
  fromVersion: number;
  toVersion: number;
  instances: number;
  mappableInstances: number;
  elements: {
    elementId: string;
    name: string | null;
    instances: number;
    targetElementId: string | null;
    maps: boolean;
    reason: string | null;
  }[];
}

interface Report {
  toVersion: number;
  migrated: string[];
  refused: { processInstanceKey: string; reason: string }[];
  notAttempted: string[];
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function MigrateDialog({
  id,
  version,
  onClose,
  onMigrated,
}: {
  id: string;
  version: number;
  onClose: () => void;
  onMigrated: () => void;
}) {
  const base = `/api/diagrams/process/${encodeURIComponent(id)}`;
  const [plan, setPlan] = useState<Plan>();
  const [error, setError] = useState<string>();
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [report, setReport] = useState<Report>();
  const tooShort = comment.trim().length < 4;

  useEffect(() => {
    apiFetch<Plan>(`${base}/versions/${version}/migration-plan`).then(setPlan, (err) => setError(messageOf(err)));
  }, [base, version]);

  const migrate = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setReport(
        await apiFetch<Report>(`${base}/migrate`, {
          method: 'POST',
          json: { fromVersion: version, comment: comment.trim() },
        }),
      );
      onMigrated();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open onClose={onClose} fullWidth maxWidth="md" data-testid="migrate-dialog">
      <DialogTitle>
        将 v{version} 的运行中实例迁移到最新版本{plan ? ` v${plan.toVersion}` : ''}
      </DialogTitle>
      <DialogContent>
        {!plan && !error && <Typography>正在读取迁移方案…</Typography>}
        {plan && !report && (
          <>
            <Typography variant="body2" sx={{ mb: 1 }} data-testid="migrate-summary">
              v{version} 上有 {plan.instances} 个运行中实例，其中 {plan.mappableInstances}{' '}
              个所在环节在新版本中有同编号的环节，可以迁移；其余 {plan.instances - plan.mappableInstances}{' '}
              个将被引擎拒绝，保留在 v{version} 上。
            </Typography>
            <Table size="small" data-testid="migrate-plan">
              <TableHead>
                <TableRow>
                  <TableCell>当前环节</TableCell>
                  <TableCell>实例数</TableCell>
                  <TableCell>新版本中的环节</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {plan.elements.map((e) => (
                  <TableRow key={e.elementId} data-testid={`plan-${e.elementId}`}>
                    <TableCell>
                      {e.name ?? e.elementId}（{e.elementId}）
                    </TableCell>
                    <TableCell>{e.instances}</TableCell>
                    <TableCell>
                      {e.maps ? (
                        `对应 ${e.targetElementId}`
                      ) : (
                        <Typography variant="body2" color="error">
                          无法对应：{e.reason}
                        </Typography>
                      )}
                    </TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
            <TextField
              fullWidth
              multiline
              minRows={2}
              name="comment"
              label="迁移说明（必填）：为什么迁移、依据哪一条"
              value={comment}
              onChange={(e) => setComment(e.target.value)}
              helperText={tooShort ? '至少 4 个字' : ' '}
              sx={{ mt: 2 }}
            />
          </>
        )}
        {report && (
          <Alert
            severity={report.refused.length || report.notAttempted.length ? 'warning' : 'success'}
            data-testid="migrate-result"
          >
            已迁移到 v{report.toVersion}：{report.migrated.length} 个实例。
            {report.refused.length > 0 && ` 引擎拒绝 ${report.refused.length} 个（保留在 v${version}）：`}
            {report.refused.map((r) => (
              <div key={r.processInstanceKey}>
                实例 {r.processInstanceKey}：{r.reason}
              </div>
            ))}
            {report.notAttempted.length > 0 &&
              ` 引擎未答复，未尝试 ${report.notAttempted.length} 个（保留在 v${version}）：${report.notAttempted.join('、')}`}
          </Alert>
        )}
        {error && (
          <Alert severity="error" sx={{ mt: 1 }} data-testid="migrate-error">
            {error}
          </Alert>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>{report ? '关闭' : '取消'}</Button>
        {!report && (
          <Button
            variant="contained"
            color="warning"
            disabled={!plan || plan.mappableInstances === 0 || tooShort || busy}
            onClick={() => void migrate()}
            data-testid="confirm-migrate"
          >
            确认迁移
          </Button>
        )}
      </DialogActions>
    </Dialog>
  );
}
