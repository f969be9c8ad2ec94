/**
 * A process's editor: the deployed version drawn, the selected element's properties (with our
 * element templates), live validation marked on the elements, deploy with a required comment (policy
 * staff only), the version history, a diff between two versions and rollback. Structural changes
 * (new elements, new flows) come as a .bpmn file from a desktop modeler, checked the same way.
 */
import { Alert, Box, Button, Card, CardContent, Grid, Stack, Tab, Tabs, Typography } from '@mui/material';
import { useEffect, useMemo, useState } from 'react';
import { useNotify } from 'react-admin';
import { apiFetch } from '../api';
import { CommentDialog } from './CommentDialog';
import { DiagramView, type Mark, problemMarks } from './DiagramView';
import { MigrateDialog } from './MigrateDialog';
import { type DiffResult, type ElementTemplate, parseXml, readProps, type Svg, writeProps } from './model';
import { ProblemList } from './ProblemList';
import { PropertiesForm } from './PropertiesForm';
import { refusalProblems, useDiagram } from './useDiagram';
import { Versions } from './Versions';

function DiffView({ id, from, to }: { id: string; from: number; to: number }) {
  const [data, setData] = useState<{ diff: DiffResult; before: Svg[]; after: Svg[] }>();
  useEffect(() => {
    const base = `/api/diagrams/process/${encodeURIComponent(id)}`;
    void Promise.all([
      apiFetch<DiffResult>(`${base}/diff?from=${from}&to=${to}`),
      apiFetch<{ svgs: Svg[] }>(`${base}/versions/${from}`),
      apiFetch<{ svgs: Svg[] }>(`${base}/versions/${to}`),
    ]).then(([diff, a, b]) => setData({ diff, before: a.svgs, after: b.svgs }));
  }, [id, from, to]);
  if (!data) return <Typography>正在比较…</Typography>;
  const before = new Map<string, Mark>();
  const after = new Map<string, Mark>();
  for (const r of data.diff.removed) before.set(r.id, 'removed');
  for (const a of data.diff.added) after.set(a.id, 'added');
  for (const c of data.diff.changed) {
    before.set(c.id, 'changed');
    after.set(c.id, 'changed');
  }
  const first = data.diff.changed[0]?.id ?? data.diff.added[0]?.id ?? data.diff.removed[0]?.id;
  return (
    <Stack spacing={1} data-testid="diff">
      <Typography variant="body2">
        绿色：新增 {data.diff.added.length} · 红色：删除 {data.diff.removed.length} · 蓝色：修改{' '}
        {data.diff.changed.length} · 位置变动 {data.diff.layoutChanged.length}
      </Typography>
      <Box component="ul" sx={{ m: 0, pl: 3 }} data-testid="diff-changes">
        {data.diff.changed.flatMap((c) =>
          c.attrs.map((a) => (
            <li key={`${c.id}.${a.attr}`}>
              <Typography variant="body2">
                {c.name ?? c.id} · {a.attr}：{a.oldValue ?? '（无）'} → {a.newValue ?? '（无）'}
              </Typography>
            </li>
          )),
        )}
        {data.diff.added.map((a) => (
          <li key={`+${a.id}`}>
            <Typography variant="body2">新增 {a.name ?? a.id}</Typography>
          </li>
        ))}
        {data.diff.removed.map((r) => (
          <li key={`-${r.id}`}>
            <Typography variant="body2">删除 {r.name ?? r.id}</Typography>
          </li>
        ))}
      </Box>
      <Grid container spacing={1}>
        <Grid size={6}>
          <Typography variant="subtitle2">v{from}</Typography>
          <DiagramView svgs={data.before} marks={before} focus={first} testId="diff-before" />
        </Grid>
        <Grid size={6}>
          <Typography variant="subtitle2">v{to}</Typography>
          <DiagramView svgs={data.after} marks={after} focus={first} testId="diff-after" />
        </Grid>
      </Grid>
    </Stack>
  );
}

export function ProcessEditor({
  id,
  canDeploy,
  canMigrate = false,
  onDeployed,
}: {
  id: string;
  canDeploy: boolean;
  canMigrate?: boolean;
  onDeployed: () => void;
}) {
  const notify = useNotify();
  const d = useDiagram('process', id, canDeploy);
  const [tab, setTab] = useState(0);
  const [selected, setSelected] = useState<string>();
  const [templates, setTemplates] = useState<ElementTemplate[]>([]);
  const [dialog, setDialog] = useState<{ rollback?: number } | undefined>();
  const [busy, setBusy] = useState(false);
  const [deployError, setDeployError] = useState<string>();
  const [diffFrom, setDiffFrom] = useState<number>();
  const [migrateFrom, setMigrateFrom] = useState<number>();

  useEffect(() => {
    apiFetch<ElementTemplate[]>('/api/diagrams/element-templates').then(setTemplates, () => setTemplates([]));
  }, []);

  const dirty = d.draft !== '' && d.draft !== d.deployedXml;
  const svgs = dirty && d.validation?.svgs.length ? d.validation.svgs : d.deployedSvgs;
  const problems = dirty ? (d.validation?.problems ?? []) : [];
  const marks = useMemo(() => {
    const m = problemMarks(problems);
    if (selected) m.set(selected, 'selected');
    return m;
  }, [problems, selected]);
  const props = useMemo(
    () => (selected && d.draft ? readProps(parseXml(d.draft), selected) : undefined),
    [selected, d.draft],
  );

  const confirm = async (comment: string) => {
    setBusy(true);
    setDeployError(undefined);
    try {
      if (dialog?.rollback) await d.rollback(dialog.rollback, comment);
      else await d.deploy(comment);
      onDeployed();
      notify(
        dialog?.rollback ? `已回滚：v${dialog.rollback} 重新部署为最新版本` : '已部署为新版本；运行中的实例保持原版本',
        {
          type: 'success',
        },
      );
      setDialog(undefined);
    } catch (err) {
      const r = refusalProblems(err);
      setDeployError([r.message, ...r.problems.map((p) => `${p.elementId || '文件'}：${p.message}`)].join('\n'));
    } finally {
      setBusy(false);
    }
  };

  const upload = async (file: File) => {
    if (file.size > 1024 * 1024) {
      notify('文件超过 1 MB，未读取', { type: 'error' });
      return;
    }
    d.setDraft(await file.text());
  };

  if (d.loadError) return <Alert severity="error">{d.loadError}</Alert>;
  return (
    <Stack spacing={2}>
      <Stack direction="row" spacing={1} alignItems="center">
        <Typography variant="h6" sx={{ flexGrow: 1 }}>
          {id} · 已部署 v{d.versions[0]?.version ?? '—'}
          {dirty ? '（草稿已修改）' : ''}
        </Typography>
        {canDeploy && (
          <>
            <Button component="label" variant="outlined" size="small">
              导入 BPMN 文件
              <input
                hidden
                type="file"
                accept=".bpmn,.xml"
                data-testid="upload"
                onChange={(e) => e.target.files?.[0] && void upload(e.target.files[0])}
              />
            </Button>
            <Button size="small" disabled={!dirty} onClick={() => d.setDraft(d.deployedXml)}>
              放弃修改
            </Button>
            <Button
              variant="contained"
              size="small"
              data-testid="deploy"
              disabled={!dirty || !d.validation?.ok}
              onClick={() => {
                setDeployError(undefined);
                setDialog({});
              }}
            >
              部署
            </Button>
          </>
        )}
      </Stack>
      <Tabs value={tab} onChange={(_, v: number) => setTab(v)}>
        <Tab label="编辑" />
        <Tab label="版本历史" data-testid="tab-versions" />
      </Tabs>
      {tab === 0 && (
        <Grid container spacing={2}>
          <Grid size={8}>
            <DiagramView svgs={svgs} marks={marks} onSelect={setSelected} focus={selected} testId="diagram" />
            {canDeploy && dirty && (
              <Box sx={{ mt: 1 }}>
                {d.validation ? (
                  <ProblemList problems={problems} onSelect={setSelected} />
                ) : (
                  <Typography>正在校验…</Typography>
                )}
              </Box>
            )}
          </Grid>
          <Grid size={4}>
            <Card variant="outlined">
              <CardContent>
                {props ? (
                  <PropertiesForm
                    props={props}
                    templates={templates}
                    readOnly={!canDeploy}
                    onChange={(next) => d.setDraft(writeProps(d.draft, next))}
                  />
                ) : (
                  <Typography variant="body2">点击图中的元素查看和修改其属性。</Typography>
                )}
              </CardContent>
            </Card>
          </Grid>
        </Grid>
      )}
      {tab === 1 && (
        <Stack spacing={2}>
          <Versions
            versions={d.versions}
            canDeploy={canDeploy}
            onDiff={(v) => setDiffFrom(v)}
            onRollback={(v) => {
              setDeployError(undefined);
              setDialog({ rollback: v });
            }}
            onMigrate={canMigrate ? setMigrateFrom : undefined}
          />
          {diffFrom && d.versions[0] && <DiffView id={id} from={diffFrom} to={d.versions[0].version} />}
        </Stack>
      )}
      {migrateFrom && (
        <MigrateDialog
          id={id}
          version={migrateFrom}
          onClose={() => setMigrateFrom(undefined)}
          onMigrated={() => void d.reload()}
        />
      )}
      <CommentDialog
        key={dialog ? `open-${dialog.rollback ?? 'deploy'}` : 'closed'}
        title={dialog?.rollback ? `回滚到 v${dialog.rollback}（重新部署为最新版本）` : '部署为新版本'}
        open={!!dialog}
        busy={busy}
        error={deployError}
        onClose={() => setDialog(undefined)}
        onConfirm={(c) => void confirm(c)}
      />
    </Stack>
  );
}
