/**
 * The deadline table (statutory-deadlines.dmn) as a table: a row per rule (county), a column per
 * output, each cell its value and where it comes from ([T] 二(四) …). Saved through the same validation
 * and deploy as the diagrams; new instances evaluate the new version, running ones keep their deadlines.
 */
import {
  Alert,
  Box,
  Button,
  Stack,
  Tab,
  Tabs,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  TextField,
  Typography,
} from '@mui/material';
import { useMemo, useState } from 'react';
import { useNotify, usePermissions } from 'react-admin';
import type { Me } from '../authProvider';
import { CommentDialog } from './CommentDialog';
import { addCountyRule, countyRuleId, readTable, writeCell } from './model';
import { ProblemList } from './ProblemList';
import { refusalProblems, useDiagram } from './useDiagram';
import { Versions } from './Versions';

export function DecisionTableEditor({
  id,
  canDeploy,
  onDeployed,
}: {
  id: string;
  canDeploy: boolean;
  onDeployed: () => void;
}) {
  const notify = useNotify();
  const { permissions } = usePermissions<Me>();
  const county = permissions?.regionCode.slice(0, 6) ?? '';
  const d = useDiagram('decision', id, canDeploy);
  const table = useMemo(() => (d.draft ? readTable(d.draft) : undefined), [d.draft]);
  const [tab, setTab] = useState(0);
  const [dialog, setDialog] = useState<{ rollback?: number } | undefined>();
  const [busy, setBusy] = useState(false);
  const [deployError, setDeployError] = useState<string>();
  const dirty = d.draft !== '' && d.draft !== d.deployedXml;
  const problemCells = new Set((dirty ? (d.validation?.problems ?? []) : []).map((p) => p.elementId));

  const confirm = async (comment: string) => {
    setBusy(true);
    setDeployError(undefined);
    try {
      if (dialog?.rollback) await d.rollback(dialog.rollback, comment);
      else await d.deploy(comment);
      onDeployed();
      notify('决策表已部署为新版本：新启动的流程按新期限执行，运行中的实例保持原期限', { type: 'success' });
      setDialog(undefined);
    } catch (err) {
      const r = refusalProblems(err);
      setDeployError([r.message, ...r.problems.map((p) => `${p.elementId || '文件'}：${p.message}`)].join('\n'));
    } finally {
      setBusy(false);
    }
  };

  if (d.loadError) return <Alert severity="error">{d.loadError}</Alert>;
  if (!table) return <Typography>正在加载…</Typography>;
  return (
    <Stack spacing={2}>
      <Stack direction="row" spacing={1} alignItems="center">
        <Typography variant="h6" sx={{ flexGrow: 1 }}>
          {table.name} · 已部署 v{d.versions[0]?.version ?? '—'}
          {dirty ? '（草稿已修改）' : ''}
        </Typography>
        {canDeploy && (
          <>
            {county && !countyRuleId(table, county) && (
              <Button
                size="small"
                variant="outlined"
                data-testid="add-county-rule"
                onClick={() => d.setDraft(addCountyRule(d.draft, county))}
              >
                为本县（{county}）增加规则
              </Button>
            )}
            <Button size="small" disabled={!dirty} onClick={() => d.setDraft(d.deployedXml)}>
              放弃修改
            </Button>
            <Button
              variant="contained"
              size="small"
              data-testid="deploy"
              disabled={!dirty || !d.validation?.ok}
              onClick={() => setDialog({})}
            >
              部署
            </Button>
          </>
        )}
      </Stack>
      <Tabs value={tab} onChange={(_, v: number) => setTab(v)}>
        <Tab label="规则表" />
        <Tab label="版本历史" data-testid="tab-versions" />
      </Tabs>
      {tab === 0 && (
        <>
          {canDeploy && (
            <Typography variant="body2" color="text.secondary">
              只能修改本县的规则；其他县的规则和默认规则（“-”）保持不变。新启动的流程实例按新期限执行，运行中的实例保持原期限。
            </Typography>
          )}
          {canDeploy &&
            dirty &&
            (d.validation ? <ProblemList problems={d.validation.problems} /> : <Typography>正在校验…</Typography>)}
          <Box sx={{ overflow: 'auto', maxHeight: 620 }}>
            <Table size="small" stickyHeader data-testid="decision-table">
              <TableHead>
                <TableRow>
                  <TableCell sx={{ minWidth: 160 }}>规则</TableCell>
                  {table.inputs.map((i) => (
                    <TableCell key={i.id}>{i.label}</TableCell>
                  ))}
                  {table.outputs.map((o) => (
                    <TableCell key={o.id} sx={{ minWidth: 220 }}>
                      {o.label}
                      <Typography variant="caption" display="block" color="text.secondary">
                        {o.name}（{o.typeRef}）
                      </Typography>
                    </TableCell>
                  ))}
                </TableRow>
              </TableHead>
              <TableBody>
                {table.rules.map((r) => (
                  <TableRow key={r.id} data-testid={`rule-${r.id}`}>
                    <TableCell>
                      <Typography variant="body2">{r.description || r.id}</Typography>
                    </TableCell>
                    {r.inputs.map((c) => (
                      <TableCell key={c.id}>{c.text}</TableCell>
                    ))}
                    {r.outputs.map((c, i) => (
                      <TableCell key={c.id} sx={{ verticalAlign: 'top' }}>
                        <Stack spacing={0.5}>
                          <TextField
                            size="small"
                            value={c.text}
                            disabled={!canDeploy}
                            error={problemCells.has(c.id)}
                            slotProps={{
                              htmlInput: {
                                'data-testid': `cell-${c.id}`,
                                'aria-label': `${r.id} ${table.outputs[i]?.label}`,
                              },
                            }}
                            onChange={(e) =>
                              d.setDraft(writeCell(d.draft, c.id, { text: e.target.value, source: c.source }))
                            }
                          />
                          <TextField
                            size="small"
                            variant="standard"
                            multiline
                            maxRows={4}
                            value={c.source}
                            disabled={!canDeploy}
                            error={problemCells.has(c.id)}
                            placeholder="出处：[T] 二(四) …"
                            slotProps={{
                              htmlInput: { 'data-testid': `source-${c.id}`, style: { fontSize: 12, lineHeight: 1.4 } },
                            }}
                            onChange={(e) =>
                              d.setDraft(writeCell(d.draft, c.id, { text: c.text, source: e.target.value }))
                            }
                          />
                        </Stack>
                      </TableCell>
                    ))}
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </Box>
        </>
      )}
      {tab === 1 && (
        <Versions versions={d.versions} canDeploy={canDeploy} onRollback={(v) => setDialog({ rollback: v })} />
      )}
      <CommentDialog
        key={dialog ? `open-${dialog.rollback ?? 'deploy'}` : 'closed'}
        title={dialog?.rollback ? `回滚到 v${dialog.rollback}（重新部署为最新版本）` : '部署决策表为新版本'}
        open={!!dialog}
        busy={busy}
        error={deployError}
        onClose={() => setDialog(undefined)}
        onConfirm={(c) => void confirm(c)}
      />
    </Stack>
  );
}
