/**
 * 流程热力图: one deployed process version drawn by our own renderer (infra/diagrams/svg.ts, as the
 * policy staff's 流程设计 — bpmn-js's bpmn.io licence is not an open-source licence, README), each
 * element painted by frequency, duration or SLA (heat.ts) with the figures above it, and a legend.
 * Clicking an element lists the children and cases waiting there (the API keeps to the caller's
 * jurisdiction).
 */
import {
  Alert,
  Box,
  Card,
  CardContent,
  Chip,
  MenuItem,
  Stack,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  TextField,
  ToggleButton,
  ToggleButtonGroup,
  Typography,
} from '@mui/material';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState } from 'react';
import { Link, Title, useGetList } from 'react-admin';
import { apiFetch, ApiError, query } from '../api';
import { type Heatmap, heatColour, humanDuration, type Mode, paint, percent, SLA_GREEN, SLA_RED } from './heat';

interface Definition {
  processDefinitionKey: string;
  bpmnProcessId: string;
  name: string | null;
  version: number;
  deployedAt: string;
}

interface WaitingRow {
  processInstanceKey: string;
  elementInstanceKey: string;
  since: string;
  userTaskKey: string | null;
  dueDate: string | null;
  overdue: boolean;
  townName: string | null;
  schoolName: string | null;
  child: { id: string; name: string; idNumber: string | null } | null;
  case: { id: string; number: string; statusLabel: string } | null;
}

const MODES: { value: Mode; label: string }[] = [
  { value: 'frequency', label: '频次' },
  { value: 'duration', label: '耗时' },
  { value: 'sla', label: '时限' },
];

const errorText = (err: unknown) => (err instanceof ApiError ? err.message : '加载失败，请稍后重试');
const shortDate = (iso: string) => new Date(iso).toLocaleDateString('zh-CN');

type Filters = {
  process: string;
  version: string;
  from: string;
  to: string;
  town: string;
  school: string;
};

function FilterBar({
  filters,
  set,
  definitions,
}: {
  filters: Filters;
  set: (f: Partial<Filters>) => void;
  definitions: Definition[];
}) {
  const processes = useMemo(() => {
    const seen = new Map<string, string>();
    for (const d of definitions) if (!seen.has(d.bpmnProcessId)) seen.set(d.bpmnProcessId, d.name ?? d.bpmnProcessId);
    return [...seen];
  }, [definitions]);
  const versions = definitions.filter((d) => d.bpmnProcessId === filters.process);
  const { data: towns = [] } = useGetList('towns', {
    pagination: { page: 1, perPage: 200 },
    sort: { field: 'code', order: 'ASC' },
  });
  const { data: schools = [] } = useGetList('schools', {
    pagination: { page: 1, perPage: 200 },
    sort: { field: 'name', order: 'ASC' },
    filter: filters.town ? { regionCode: filters.town } : {},
  });
  return (
    <Stack direction="row" spacing={2} useFlexGap flexWrap="wrap" sx={{ mb: 2 }}>
      <TextField
        select
        size="small"
        label="流程"
        value={filters.process}
        onChange={(e) => set({ process: e.target.value, version: '' })}
        sx={{ minWidth: 220 }}
        slotProps={{ htmlInput: { 'data-testid': 'heatmap-process' } }}
      >
        {processes.map(([id, name]) => (
          <MenuItem key={id} value={id}>
            {name}
          </MenuItem>
        ))}
      </TextField>
      <TextField
        select
        size="small"
        label="版本"
        value={filters.version}
        onChange={(e) => set({ version: e.target.value })}
        sx={{ minWidth: 120 }}
      >
        <MenuItem value="">最新版本</MenuItem>
        {versions.map((d) => (
          <MenuItem key={d.version} value={String(d.version)}>
            第 {d.version} 版（{shortDate(d.deployedAt)}）
          </MenuItem>
        ))}
      </TextField>
      <TextField
        size="small"
        type="date"
        label="发起日期自"
        value={filters.from}
        onChange={(e) => set({ from: e.target.value })}
        slotProps={{ inputLabel: { shrink: true } }}
      />
      <TextField
        size="small"
        type="date"
        label="至"
        value={filters.to}
        onChange={(e) => set({ to: e.target.value })}
        slotProps={{ inputLabel: { shrink: true } }}
      />
      <TextField
        select
        size="small"
        label="镇街"
        value={filters.town}
        onChange={(e) => set({ town: e.target.value, school: '' })}
        sx={{ minWidth: 160 }}
      >
        <MenuItem value="">全部</MenuItem>
        {towns.map((t) => (
          <MenuItem key={t.code} value={t.code}>
            {t.name}
          </MenuItem>
        ))}
      </TextField>
      <TextField
        select
        size="small"
        label="学校"
        value={filters.school}
        onChange={(e) => set({ school: e.target.value })}
        sx={{ minWidth: 180 }}
      >
        <MenuItem value="">全部</MenuItem>
        {schools.map((s) => (
          <MenuItem key={s.id} value={String(s.id)}>
            {s.name}
          </MenuItem>
        ))}
      </TextField>
    </Stack>
  );
}

function Legend({ mode, target, heat }: { mode: Mode; target: number; heat?: Heatmap }) {
  const swatch = (colour: string) => (
    <Box component="span" sx={{ display: 'inline-block', width: 18, height: 12, bgcolor: colour, mr: 0.5 }} />
  );
  return (
    <Stack direction="row" spacing={2} alignItems="center" useFlexGap flexWrap="wrap" data-testid="heatmap-legend">
      <Typography variant="body2" fontWeight="bold">
        图例
      </Typography>
      {mode === 'sla' ? (
        <>
          <span>
            {swatch(SLA_GREEN)}逾期办结与在办超期均不超过 {percent(target)}
          </span>
          <span>
            {swatch(SLA_RED)}超过目标 {percent(target)}
          </span>
        </>
      ) : (
        <>
          <span>
            {swatch(heatColour(0.05))}
            {mode === 'frequency' ? '在办少' : '耗时短'}
          </span>
          <span>{swatch(heatColour(0.5))}中</span>
          <span>
            {swatch(heatColour(1))}
            {mode === 'frequency' ? '在办最多' : '耗时最长'}
          </span>
        </>
      )}
      {heat && (
        <Typography variant="body2" color="text.secondary">
          共 {heat.instances} 个流程实例，在办 {heat.activeInstances}；整个流程平均{' '}
          {humanDuration(heat.instanceDuration.avgMs)}
          ，P90 {humanDuration(heat.instanceDuration.p90Ms)}（截至 {new Date(heat.asOf).toLocaleString('zh-CN')}）
        </Typography>
      )}
    </Stack>
  );
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * The diagram as our API draws it (infra/diagrams/svg.ts: one `<g data-element-id>` per element, a plane
 * per collapsed sub-process below the process), each element filled with its heat and its figures
 * written above it; a click on an element (or its figures) selects it.
 */
function Diagram({
  svgs,
  heat,
  mode,
  target,
  onSelect,
}: {
  svgs?: { name: string; svg: string }[];
  heat?: Heatmap;
  mode: Mode;
  target: number;
  onSelect: (id: string, name: string) => void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const html = useMemo(() => (svgs ?? []).map((s) => s.svg).join(''), [svgs]);

  useEffect(() => {
    const root = ref.current;
    if (!root || !heat) return;
    for (const old of root.querySelectorAll('.heat-label')) old.remove();
    const painted = paint(heat, mode, target);
    for (const g of root.querySelectorAll<SVGGElement>('g[data-element-id]')) {
      const id = g.dataset.elementId ?? '';
      const shape = g.querySelector<SVGElement>('rect, circle, polygon');
      const p = painted.get(id);
      if (shape) {
        shape.dataset.fill ??= shape.getAttribute('fill') ?? '';
        if (p?.colour) shape.style.fill = p.colour;
        else shape.style.removeProperty('fill');
      }
      g.style.cursor = 'pointer';
      if (!p) continue;
      const box = g.getBBox();
      const label = document.createElementNS(SVG_NS, 'g');
      label.setAttribute('class', 'heat-label');
      label.setAttribute('data-testid', `heat-${id}`);
      const text = document.createElementNS(SVG_NS, 'text');
      text.setAttribute('x', String(box.x));
      // Above the element: names of events and boundary events sit below it.
      text.setAttribute('y', String(box.y - 5));
      text.setAttribute('font-size', '11');
      // Dark on a light tag (the drawing's stylesheet sets the colour of its texts); red over the target.
      text.style.setProperty('fill', p.overTarget ? '#b71c1c' : '#263238', 'important');
      text.style.setProperty('font-weight', '600');
      text.textContent = p.label;
      const bg = document.createElementNS(SVG_NS, 'rect');
      label.append(bg, text);
      g.append(label);
      const t = text.getBBox();
      bg.setAttribute('x', String(t.x - 3));
      bg.setAttribute('y', String(t.y - 1));
      bg.setAttribute('width', String(t.width + 6));
      bg.setAttribute('height', String(t.height + 2));
      bg.setAttribute('rx', '3');
      bg.setAttribute('fill', '#fffde7');
      bg.setAttribute('stroke', p.overTarget ? '#d32f2f' : '#90a4ae');
    }
  }, [html, heat, mode, target]);

  return (
    <Box
      ref={ref}
      data-testid="heatmap-canvas"
      sx={{
        overflow: 'auto',
        maxHeight: 640,
        border: '1px solid',
        borderColor: 'divider',
        borderRadius: 1,
        bgcolor: '#fff',
        '& svg': { display: 'block', overflow: 'visible', mb: 3 },
      }}
      onClick={(e) => {
        const g = (e.target as Element).closest('g[data-element-id]');
        if (!g) return;
        const id = g.getAttribute('data-element-id') ?? '';
        const name = g.querySelector('text:not(.heat-label text)')?.textContent?.trim();
        onSelect(id, name || id);
      }}
      // Drawn by our API from the deployed XML; its text is escaped there.
      dangerouslySetInnerHTML={{ __html: html }}
    />
  );
}

function WaitingList({
  filters,
  element,
  asOf,
}: {
  filters: Filters;
  element: { id: string; name: string };
  asOf?: string;
}) {
  const params = { ...filters, element: element.id, asOf };
  const { data, error, isPending } = useQuery({
    queryKey: ['heatmap-waiting', params],
    queryFn: () =>
      apiFetch<{ total: number; truncated: boolean; data: WaitingRow[] }>(
        `/api/supervision/heatmap/waiting${query(params)}`,
      ),
  });
  return (
    <Card sx={{ mt: 2 }} data-testid="waiting-list">
      <CardContent>
        <Typography variant="h6" gutterBottom>
          停留在「{element.name}」的儿童与案件{data ? `（${data.total}）` : ''}
        </Typography>
        {error && <Alert severity="error">{errorText(error)}</Alert>}
        {isPending && <Typography color="text.secondary">加载中…</Typography>}
        {data && data.data.length === 0 && <Typography color="text.secondary">此处当前没有在办的实例。</Typography>}
        {data && data.data.length > 0 && (
          <Table size="small">
            <TableHead>
              <TableRow>
                <TableCell>儿童</TableCell>
                <TableCell>身份证号</TableCell>
                <TableCell>案件</TableCell>
                <TableCell>镇街</TableCell>
                <TableCell>学校</TableCell>
                <TableCell>到达时间</TableCell>
                <TableCell>办理期限</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {data.data.map((r) => (
                <TableRow key={r.elementInstanceKey} data-testid="waiting-row">
                  <TableCell>
                    {r.child ? <Link to={`/children/${r.child.id}/show`}>{r.child.name}</Link> : '—'}
                  </TableCell>
                  <TableCell>{r.child?.idNumber ?? '—'}</TableCell>
                  <TableCell>
                    {r.case ? (
                      <Link to={`/cases/${r.case.id}/show`}>
                        {r.case.number}（{r.case.statusLabel}）
                      </Link>
                    ) : (
                      '—'
                    )}
                  </TableCell>
                  <TableCell>{r.townName ?? '—'}</TableCell>
                  <TableCell>{r.schoolName ?? '—'}</TableCell>
                  <TableCell>{new Date(r.since).toLocaleString('zh-CN')}</TableCell>
                  <TableCell>
                    {r.dueDate ? shortDate(r.dueDate) : '—'}
                    {r.overdue && <Chip size="small" color="error" label="已超期" sx={{ ml: 1 }} />}
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        )}
        {data?.truncated && <Typography color="text.secondary">仅列出最早到达的 500 个。</Typography>}
      </CardContent>
    </Card>
  );
}

export function HeatmapPage() {
  const [filters, setFilters] = useState<Filters>({
    process: 'dropout-escalation',
    version: '',
    from: '',
    to: '',
    town: '',
    school: '',
  });
  const [mode, setMode] = useState<Mode>('frequency');
  const [target, setTarget] = useState(0.1);
  const [selected, setSelected] = useState<{ id: string; name: string }>();
  const set = (f: Partial<Filters>) => {
    setFilters((old) => ({ ...old, ...f }));
    setSelected(undefined);
  };

  const definitions = useQuery({
    queryKey: ['supervision-processes'],
    queryFn: () => apiFetch<{ data: Definition[] }>('/api/supervision/processes'),
  });
  const which = { process: filters.process, version: filters.version };
  const diagram = useQuery({
    queryKey: ['supervision-diagram', which],
    queryFn: () => apiFetch<{ svgs: { name: string; svg: string }[] }>(`/api/supervision/diagram${query(which)}`),
  });
  const heat = useQuery({
    queryKey: ['supervision-heatmap', filters],
    queryFn: () => apiFetch<Heatmap>(`/api/supervision/heatmap${query(filters)}`),
  });

  return (
    <Box sx={{ p: 2 }}>
      <Title title="流程热力图" />
      <FilterBar filters={filters} set={set} definitions={definitions.data?.data ?? []} />
      <Stack direction="row" spacing={2} alignItems="center" sx={{ mb: 1 }}>
        <ToggleButtonGroup exclusive size="small" value={mode} onChange={(_, m: Mode | null) => m && setMode(m)}>
          {MODES.map((m) => (
            <ToggleButton key={m.value} value={m.value} data-testid={`mode-${m.value}`}>
              {m.label}
            </ToggleButton>
          ))}
        </ToggleButtonGroup>
        {mode === 'sla' && (
          <TextField
            size="small"
            type="number"
            label="时限目标（%）"
            value={Math.round(target * 100)}
            onChange={(e) => setTarget(Math.max(0, Math.min(100, Number(e.target.value) || 0)) / 100)}
            sx={{ width: 140 }}
          />
        )}
      </Stack>
      {heat.error && <Alert severity="error">{errorText(heat.error)}</Alert>}
      {diagram.error && <Alert severity="error">{errorText(diagram.error)}</Alert>}
      <Card>
        <CardContent>
          <Diagram
            svgs={diagram.data?.svgs}
            heat={heat.data}
            mode={mode}
            target={target}
            onSelect={(id, name) => setSelected({ id, name })}
          />
          <Box sx={{ mt: 1 }}>
            <Legend mode={mode} target={target} heat={heat.data} />
          </Box>
          <Typography variant="body2" color="text.secondary" sx={{ mt: 1 }}>
            点击流程图中的环节，查看停留在该环节的儿童与案件（仅限您的辖区）。
          </Typography>
        </CardContent>
      </Card>
      {selected && <WaitingList filters={filters} element={selected} asOf={heat.data?.asOf} />}
    </Box>
  );
}
