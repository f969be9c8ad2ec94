/**
 * One task: on the left its form, on the right what the caseworker needs to fill it in — the child,
 * the deadline and the statute behind it, the case so far, the attachments. Claim, give back and
 * reassign sit on top.
 */
import {
  Alert,
  Box,
  Button as MuiButton,
  Card,
  CardContent,
  Chip,
  Divider,
  Grid,
  Link as MuiLink,
  MenuItem,
  Select,
  Stack,
  Typography,
} from '@mui/material';
import { useState, type ReactNode } from 'react';
import { useParams } from 'react-router-dom';
import {
  Button,
  Form,
  Link,
  Loading,
  SaveButton,
  Title,
  Toolbar,
  useNotify,
  usePermissions,
  useRedirect,
} from 'react-admin';
import type { Me } from '../authProvider';
import { apiFetch, ApiError } from '../api';
import { chineseDateTime, chineseMonth, fileSize } from '../format';
import { CaseTimeline } from '../cases/CaseTimeline';
import { DueChip } from './DueChip';
import { FieldInput } from './FieldInput';
import { PROCESS_LABELS } from './labels';
import { attachmentLabel, DispatchSummary, PriorRecords } from './TaskPanels';
import { cleanValues, errorsOf, formOf, validateWith } from './schemaForm';
import { useTaskContext, type TaskContext } from './useTaskContext';

export function TaskWork() {
  const { id } = useParams<{ id: string }>();
  const { data, error, isPending, reload } = useTaskContext(id);
  if (isPending) return <Loading />;
  if (error) {
    return (
      <Alert severity="error" sx={{ m: 2 }} data-testid="task-error">
        {error instanceof ApiError ? error.message : '任务加载失败'}
      </Alert>
    );
  }
  return <TaskPage ctx={data!} reload={reload} />;
}

function TaskPage({ ctx, reload }: { ctx: TaskContext; reload: () => void }) {
  const { task } = ctx;
  const form = formOf(task.elementId);
  return (
    <Box sx={{ p: { xs: 1, sm: 2 }, minWidth: 0 }}>
      <Title title={task.title} />
      <Stack direction="row" alignItems="center" flexWrap="wrap" useFlexGap spacing={1} sx={{ mb: 2 }}>
        <Typography variant="h5" data-testid="task-title" sx={{ minWidth: 0, overflowWrap: 'anywhere' }}>
          {task.title}
        </Typography>
        <Chip label={PROCESS_LABELS[task.bpmnProcessId] ?? task.bpmnProcessId} size="small" />
        <DueChip due={task.dueDate} />
        <Box sx={{ flex: 1 }} />
        <ClaimControls ctx={ctx} reload={reload} />
      </Stack>
      <Grid container spacing={2}>
        <Grid size={{ xs: 12, md: 7 }}>
          <Card>
            <CardContent>
              {task.state !== 'CREATED' ? (
                <Alert severity="info">该任务已办结或已取消。</Alert>
              ) : !form ? (
                <Alert severity="error">该任务类型没有对应的办理表单，请联系管理员。</Alert>
              ) : !task.actionable ? (
                <Alert severity="info">
                  您可以查看该任务，但只能由所属单位办理{task.assignee ? `（已由 ${task.assignee} 认领）` : ''}。
                </Alert>
              ) : (
                <TaskForm ctx={ctx} form={form} />
              )}
            </CardContent>
          </Card>
          <Attachments ctx={ctx} reload={reload} />
        </Grid>
        <Grid size={{ xs: 12, md: 5 }}>
          <ContextPanel ctx={ctx} />
        </Grid>
      </Grid>
    </Box>
  );
}

/** The submission's fate is unknown: no answer, or the server failed while handling it. */
const interrupted = (err: unknown) =>
  err instanceof ApiError &&
  (err.status === 0 ||
    err.status === 500 ||
    err.status === 502 ||
    err.status === 504 ||
    err.code === 'SUBMISSION_UNCERTAIN');

/**
 * What became of a task's last submission (GET /api/tasks/:key/submission). The API settles an
 * unanswered submission within about half a minute, so PENDING is asked again for up to a minute.
 */
async function submissionState(userTaskKey: string): Promise<'COMPLETED' | 'PENDING' | 'NOT_SUBMITTED' | 'UNKNOWN'> {
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const { state } = await apiFetch<{ state: 'COMPLETED' | 'PENDING' | 'NOT_SUBMITTED' }>(
        `/api/tasks/${userTaskKey}/submission`,
      );
      if (state !== 'PENDING') return state;
    } catch {
      // The server may still be restarting: ask again.
    }
    await new Promise((r) => setTimeout(r, 3000));
  }
  return 'UNKNOWN';
}

function TaskForm({ ctx, form }: { ctx: TaskContext; form: NonNullable<ReturnType<typeof formOf>> }) {
  const notify = useNotify();
  const redirect = useRedirect();
  const submit = async (values: Record<string, unknown>) => {
    try {
      await apiFetch(`/api/tasks/${ctx.task.userTaskKey}/complete`, { method: 'POST', json: cleanValues(values) });
    } catch (err) {
      if (err instanceof ApiError && err.fieldIssues.length) {
        notify(err.message, { type: 'error' });
        return errorsOf(err.fieldIssues);
      }
      if (!interrupted(err)) {
        notify(err instanceof ApiError ? err.message : '提交失败，本次未办理，请重试。', { type: 'error' });
        return;
      }
      // The answer was lost (connection cut, server restarted): ask the API what became of it.
      notify('连接中断，正在确认本次提交是否已办理……', { type: 'info' });
      const state = await submissionState(ctx.task.userTaskKey);
      if (state !== 'COMPLETED') {
        notify(
          state === 'NOT_SUBMITTED'
            ? '本次提交未办理（服务器未收到），请重新提交。'
            : '暂时无法确认本次提交是否已办理，请稍后在待办列表中查看，不要重复提交。',
          { type: state === 'NOT_SUBMITTED' ? 'warning' : 'error', autoHideDuration: 15000 },
        );
        return;
      }
      notify(`已确认办理：${ctx.task.title}（连接中断前已提交成功）`, { type: 'success' });
      redirect('/tasks');
      return;
    }
    notify(`已办理：${ctx.task.title}`, { type: 'success' });
    redirect('/tasks');
  };
  return (
    <Form
      defaultValues={ctx.initial}
      validate={validateWith(form.schema)}
      onSubmit={submit}
      sanitizeEmptyValues={false}
    >
      <Stack spacing={1}>
        {form.fields.map((f) => (
          <FieldInput key={f.name} field={f} choices={ctx.choices} lines={ctx.lines} schema={form.schema} />
        ))}
      </Stack>
      {/* Not sticky: on a phone a sticky bar covered the attachments below the form. */}
      <Toolbar sx={{ px: 0, '&&&': { position: 'static' } }}>
        <SaveButton label="提交办理" alwaysEnable data-testid="submit-task" />
      </Toolbar>
    </Form>
  );
}

function ContextPanel({ ctx }: { ctx: TaskContext }) {
  const { task, subject } = ctx;
  return (
    <Stack spacing={2}>
      <Card>
        <CardContent>
          <Typography variant="subtitle2" color="text.secondary">
            办理期限
          </Typography>
          <Typography data-testid="task-deadline">
            {task.dueDate ? chineseDateTime(task.dueDate) : '无期限'}（<DueChip due={task.dueDate} />）
          </Typography>
          <Typography variant="subtitle2" color="text.secondary" sx={{ mt: 1 }}>
            依据
          </Typography>
          <Typography variant="body2" data-testid="task-clause">
            {ctx.clause ?? '—'}
          </Typography>
          {ctx.summary && (
            <>
              <Typography variant="subtitle2" color="text.secondary" sx={{ mt: 1 }}>
                事项
              </Typography>
              <Typography variant="body2" data-testid="task-summary">
                {ctx.summary}
              </Typography>
            </>
          )}
        </CardContent>
      </Card>
      <DispatchSummary ctx={ctx} />
      {subject && (
        <Card data-testid="task-subject">
          <CardContent>
            <Typography variant="subtitle2" color="text.secondary">
              儿童
            </Typography>
            <Typography variant="h6">{subject.name}</Typography>
            <Typography variant="body2">
              {subject.gender} · {chineseMonth(subject.birthMonth)}出生 · 身份证号 {subject.idNumber ?? '—'}
            </Typography>
            {subject.detail && <Typography variant="body2">{subject.detail}</Typography>}
            <Link to={`/children/${subject.childId}/show`}>查看学生档案</Link>
          </CardContent>
        </Card>
      )}
      {ctx.case && (
        <Card>
          <CardContent>
            <Typography variant="subtitle2" color="text.secondary">
              一人一案
            </Typography>
            <Stack direction="row" spacing={1} alignItems="center" flexWrap="wrap" useFlexGap>
              <Link to={`/cases/${ctx.case.id}/show`}>{ctx.case.caseNumber}</Link>
              <Chip size="small" label={ctx.case.statusLabel} />
              {/* The stage the case is in is this task while it is open. */}
              {task.state === 'CREATED' && (
                <Chip
                  size="small"
                  color="primary"
                  variant="outlined"
                  label={`当前环节：${task.title}`}
                  data-testid="case-stage"
                />
              )}
              <Typography variant="body2">{ctx.case.schoolName}</Typography>
            </Stack>
            <Divider sx={{ my: 1 }} />
            <CaseTimeline caseId={ctx.case.id} compact />
          </CardContent>
        </Card>
      )}
      <PriorRecords ctx={ctx} />
    </Stack>
  );
}

function ClaimControls({ ctx, reload }: { ctx: TaskContext; reload: () => void }) {
  const notify = useNotify();
  const [assignee, setAssignee] = useState('');
  const { permissions } = usePermissions<Me>();
  const { task } = ctx;
  // Reassign to a colleague of the unit: not to oneself.
  const colleagues = ctx.candidates.filter((c) => c.username !== permissions?.username);
  if (task.state !== 'CREATED') return null;
  const act = async (path: string, body?: unknown, done?: string) => {
    try {
      await apiFetch(`/api/tasks/${task.userTaskKey}/${path}`, { method: 'POST', json: body });
      notify(done ?? '已完成', { type: 'success' });
    } catch (err) {
      notify(err instanceof ApiError ? err.message : '操作失败', { type: 'error' });
    }
    // The read model follows the engine within a second.
    setTimeout(reload, 800);
  };
  return (
    <Stack direction="row" spacing={1} alignItems="center" flexWrap="wrap" useFlexGap>
      <Typography variant="body2" data-testid="task-assignee">
        {task.assignee ? `办理人：${task.assignee}` : '未认领'}
      </Typography>
      {!task.assignee && task.actionable && (
        <Button label="认领" variant="outlined" onClick={() => act('claim', undefined, '已认领')} />
      )}
      {task.assignee && <Button label="退回本单位" onClick={() => act('unclaim', undefined, '已退回')} />}
      {colleagues.length > 0 && (
        <>
          <Select
            size="small"
            value={assignee}
            displayEmpty
            onChange={(e) => setAssignee(e.target.value)}
            sx={{ minWidth: 160, maxWidth: '100%' }}
            data-testid="reassign-select"
          >
            <MenuItem value="">转办给本单位同事…</MenuItem>
            {colleagues.map((c) => (
              <MenuItem key={c.username} value={c.username}>
                {c.displayName}（{c.username}）
              </MenuItem>
            ))}
          </Select>
          <Button
            label="转办"
            disabled={!assignee}
            onClick={() =>
              act(
                'assign',
                { assignee },
                `已转办给 ${colleagues.find((c) => c.username === assignee)?.displayName ?? assignee}`,
              )
            }
          />
        </>
      )}
    </Stack>
  );
}

function Attachments({ ctx, reload }: { ctx: TaskContext; reload: () => void }) {
  const notify = useNotify();
  const [busy, setBusy] = useState<string | null>(null);
  const upload = async (file: File) => {
    const body = new FormData();
    // The name as the caseworker chose it (a phone's camera names it image.jpg: say what it is).
    body.append('file', file, file.name);
    setBusy(file.name);
    try {
      await apiFetch(`/api/tasks/${ctx.task.userTaskKey}/attachments`, { method: 'POST', body });
      notify(`已上传：${file.name}`, { type: 'success' });
      reload();
    } catch (err) {
      notify(err instanceof ApiError ? err.message : '上传失败', { type: 'error' });
    } finally {
      setBusy(null);
    }
  };
  const input = (props: { accept: string; capture?: 'environment'; testId: string; label: ReactNode }) => (
    <MuiButton component="label" variant="outlined" disabled={!!busy} sx={{ mr: 1, mb: 1 }}>
      {props.label}
      <input
        type="file"
        hidden
        accept={props.accept}
        capture={props.capture}
        data-testid={props.testId}
        onChange={(e) => {
          const file = e.target.files?.[0];
          if (file) void upload(file);
          e.target.value = '';
        }}
      />
    </MuiButton>
  );
  return (
    <Card sx={{ mt: 2 }}>
      <CardContent>
        <Typography variant="subtitle1" data-testid="attachments-title">
          附件（{attachmentLabel(ctx.task.elementId)}）
        </Typography>
        <Stack spacing={0.5} sx={{ my: 1 }} data-testid="attachment-list">
          {ctx.attachments.length === 0 && <Typography color="text.secondary">暂无附件</Typography>}
          {ctx.attachments.map((a) => (
            <MuiLink
              key={a.id}
              href={`/api/attachments/${a.id}`}
              target="_blank"
              rel="noopener"
              sx={{ overflowWrap: 'anywhere' }}
            >
              {a.fileName}（{fileSize(a.size)}，{chineseDateTime(a.uploadedAt)}）
            </MuiLink>
          ))}
        </Stack>
        {ctx.task.state === 'CREATED' && ctx.task.actionable && (
          <Box>
            {input({ accept: 'image/*', capture: 'environment', testId: 'camera-input', label: '拍照上传' })}
            {input({
              accept: 'image/jpeg,image/png,application/pdf',
              testId: 'attachment-input',
              label: '选择文件上传',
            })}
            {busy && (
              <Typography variant="body2" data-testid="upload-busy" sx={{ overflowWrap: 'anywhere' }}>
                正在上传：{busy}
              </Typography>
            )}
            <Typography variant="caption" color="text.secondary" display="block">
              JPEG、PNG 照片或 PDF，不超过 10 MB
            </Typography>
          </Box>
        )}
      </CardContent>
    </Card>
  );
}
