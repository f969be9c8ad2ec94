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
import { useState } from 'react';
import { useParams } from 'react-router-dom';
import { Button, Form, Link, Loading, SaveButton, Title, Toolbar, useNotify, useRedirect } from 'react-admin';
import { apiFetch, ApiError } from '../api';
import { chineseDateTime, chineseMonth, fileSize } from '../format';
import { CaseTimeline } from '../cases/CaseTimeline';
import { DueChip } from './DueChip';
import { FieldInput } from './FieldInput';
import { PROCESS_LABELS } from './labels';
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
    <Box sx={{ p: 2 }}>
      <Title title={task.title} />
      <Stack direction="row" spacing={2} alignItems="center" sx={{ mb: 2 }}>
        <Typography variant="h5" data-testid="task-title">
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
          <FieldInput key={f.name} field={f} choices={ctx.choices} lines={ctx.lines} />
        ))}
      </Stack>
      <Toolbar sx={{ px: 0 }}>
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
            <Stack direction="row" spacing={1} alignItems="center">
              <Link to={`/cases/${ctx.case.id}/show`}>{ctx.case.caseNumber}</Link>
              <Chip size="small" label={ctx.case.statusLabel} />
              <Typography variant="body2">{ctx.case.schoolName}</Typography>
            </Stack>
            <Divider sx={{ my: 1 }} />
            <CaseTimeline caseId={ctx.case.id} compact />
          </CardContent>
        </Card>
      )}
    </Stack>
  );
}

function ClaimControls({ ctx, reload }: { ctx: TaskContext; reload: () => void }) {
  const notify = useNotify();
  const [assignee, setAssignee] = useState('');
  const { task } = ctx;
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
    <Stack direction="row" spacing={1} alignItems="center">
      <Typography variant="body2" data-testid="task-assignee">
        {task.assignee ? `办理人：${task.assignee}` : '未认领'}
      </Typography>
      {!task.assignee && task.actionable && (
        <Button label="认领" variant="outlined" onClick={() => act('claim', undefined, '已认领')} />
      )}
      {task.assignee && <Button label="退回本单位" onClick={() => act('unclaim', undefined, '已退回')} />}
      {ctx.candidates.length > 0 && (
        <>
          <Select
            size="small"
            value={assignee}
            displayEmpty
            onChange={(e) => setAssignee(e.target.value)}
            sx={{ minWidth: 160 }}
          >
            <MenuItem value="">转办给…</MenuItem>
            {ctx.candidates.map((c) => (
              <MenuItem key={c.username} value={c.username}>
                {c.displayName}（{c.username}）
              </MenuItem>
            ))}
          </Select>
          <Button
            label="转办"
            disabled={!assignee}
            onClick={() => act('assign', { assignee }, `已转办给 ${assignee}`)}
          />
        </>
      )}
    </Stack>
  );
}

function Attachments({ ctx, reload }: { ctx: TaskContext; reload: () => void }) {
  const notify = useNotify();
  const [busy, setBusy] = useState(false);
  const upload = async (file: File) => {
    const body = new FormData();
    body.append('file', file);
    setBusy(true);
    try {
      await apiFetch(`/api/tasks/${ctx.task.userTaskKey}/attachments`, { method: 'POST', body });
      notify(`已上传：${file.name}`, { type: 'success' });
      reload();
    } catch (err) {
      notify(err instanceof ApiError ? err.message : '上传失败', { type: 'error' });
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card sx={{ mt: 2 }}>
      <CardContent>
        <Typography variant="subtitle1">附件（家访照片、书面申请等）</Typography>
        <Stack spacing={0.5} sx={{ my: 1 }} data-testid="attachment-list">
          {ctx.attachments.length === 0 && <Typography color="text.secondary">暂无附件</Typography>}
          {ctx.attachments.map((a) => (
            <MuiLink key={a.id} href={`/api/attachments/${a.id}`} target="_blank" rel="noopener">
              {a.fileName}（{fileSize(a.size)}，{chineseDateTime(a.uploadedAt)}）
            </MuiLink>
          ))}
        </Stack>
        {ctx.task.state === 'CREATED' && ctx.task.actionable && (
          <Box>
            <MuiButton component="label" variant="outlined" disabled={busy}>
              {busy ? '上传中…' : '选择文件上传'}
              <input
                type="file"
                hidden
                accept="image/jpeg,image/png,application/pdf"
                data-testid="attachment-input"
                onChange={(e) => {
                  const file = e.target.files?.[0];
                  if (file) void upload(file);
                  e.target.value = '';
                }}
              />
            </MuiButton>
            <Typography variant="caption" color="text.secondary" display="block">
              JPEG、PNG 照片或 PDF，不超过 10 MB
            </Typography>
          </Box>
        )}
      </CardContent>
    </Card>
  );
}
