/**
 * One whole-class handover followed per town (GET /api/handovers/:id/progress): classes, signed 交接表,
 * pupils registered and still open, open and overdue tasks — and the pupils not yet placed (masked).
 */
import {
  Box,
  Card,
  CardContent,
  Chip,
  Grid,
  MenuItem,
  Select,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  Typography,
} from '@mui/material';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Loading, Show, useRecordContext } from 'react-admin';
import { apiFetch } from '../api';
import { chineseDate } from '../format';
import { HANDOVER_STATUS_LABELS, PUPIL_STATUS_LABELS } from '../campaigns/labels';
import { Figure, Figures, Overdue, TasksByType } from '../campaigns/ProgressParts';

interface Tasks {
  open: number;
  overdue: number;
}
interface Progress {
  towns: {
    regionCode: string;
    name: string;
    classes: number;
    signed: number;
    pupils: number;
    registered: number;
    open: number;
    tasks: Tasks;
  }[];
  county: Tasks;
  total: { classes: number; signed: number; pupils: number; registered: number; open: number; tasks: Tasks };
  byType: { elementId: string; title: string; open: number; overdue: number }[];
}

export function HandoverShow() {
  return (
    <Show title="整班移交" component="div">
      <HandoverProgress />
    </Show>
  );
}

function HandoverProgress() {
  const h = useRecordContext();
  const { data, isPending } = useQuery({
    queryKey: ['handover-progress', h?.id],
    queryFn: () => apiFetch<Progress>(`/api/handovers/${h!.id}/progress`),
    enabled: !!h,
    // Just started, the draft plan still being made: ask again soon, then every half minute.
    refetchInterval: (query) => (!query.state.data?.total.classes && h?.status === 'PLANNING' ? 3_000 : 30_000),
  });
  if (!h) return null;
  return (
    <Box sx={{ mt: 1 }} data-testid="handover-progress">
      <Typography variant="h5" sx={{ overflowWrap: 'anywhere' }}>
        {h.year}年小学毕业生整班移交 <Chip size="small" label={HANDOVER_STATUS_LABELS[h.status] ?? h.status} />
      </Typography>
      <Typography variant="body2" color="text.secondary">
        启动于 {chineseDate(h.createdAt)}
        {h.approvedAt ? `，计划批准于 ${chineseDate(h.approvedAt)}` : ''}
        {h.clearedAt ? `，${chineseDate(h.clearedAt)} 清零` : ''}
      </Typography>
      {isPending || !data ? (
        <Loading />
      ) : (
        <>
          <Figures>
            <Figure label="移交班级" value={data.total.classes} testId="figure-classes" />
            <Figure label="交接表已签" value={data.total.signed} />
            <Figure label="毕业生" value={data.total.pupils} testId="figure-pupils" />
            <Figure label="已报到" value={data.total.registered} />
            <Figure label="未落实" value={data.total.open} testId="figure-open" />
            <Figure label="逾期任务" value={data.total.tasks.overdue} tone="error" testId="figure-overdue" />
          </Figures>
          <Grid container spacing={2}>
            <Grid size={{ xs: 12, lg: 7 }}>
              <Card>
                <CardContent sx={{ overflowX: 'auto' }}>
                  <Typography variant="h6" gutterBottom>
                    各镇街进度
                  </Typography>
                  <Table size="small" data-testid="town-progress">
                    <TableHead>
                      <TableRow>
                        <TableCell>镇街</TableCell>
                        <TableCell align="right">班级</TableCell>
                        <TableCell align="right">已签</TableCell>
                        <TableCell align="right">学生</TableCell>
                        <TableCell align="right">已报到</TableCell>
                        <TableCell align="right">未落实</TableCell>
                        <TableCell align="right">待办</TableCell>
                        <TableCell align="right">逾期</TableCell>
                      </TableRow>
                    </TableHead>
                    <TableBody>
                      {data.towns.map((t) => (
                        <TableRow key={t.regionCode} data-testid="town-row">
                          <TableCell>{t.name}</TableCell>
                          <TableCell align="right">{t.classes}</TableCell>
                          <TableCell align="right">{t.signed}</TableCell>
                          <TableCell align="right">{t.pupils}</TableCell>
                          <TableCell align="right">{t.registered}</TableCell>
                          <TableCell align="right">{t.open}</TableCell>
                          <TableCell align="right">{t.tasks.open}</TableCell>
                          <TableCell align="right">
                            <Overdue n={t.tasks.overdue} />
                          </TableCell>
                        </TableRow>
                      ))}
                      {data.county.open > 0 && (
                        <TableRow>
                          <TableCell>县级（教育局）</TableCell>
                          <TableCell colSpan={5} />
                          <TableCell align="right">{data.county.open}</TableCell>
                          <TableCell align="right">
                            <Overdue n={data.county.overdue} />
                          </TableCell>
                        </TableRow>
                      )}
                    </TableBody>
                  </Table>
                </CardContent>
              </Card>
            </Grid>
            <Grid size={{ xs: 12, lg: 5 }}>
              <Card sx={{ mb: 2 }}>
                <CardContent sx={{ overflowX: 'auto' }}>
                  <Typography variant="h6" gutterBottom>
                    待办任务
                  </Typography>
                  <TasksByType rows={data.byType} />
                </CardContent>
              </Card>
              <OpenPupils handoverId={Number(h.id)} />
            </Grid>
          </Grid>
        </>
      )}
    </Box>
  );
}

interface Pupil {
  id: number;
  status: string;
  child: { name: string; idNumber: string };
  traceNote: string | null;
}

/** The pupils not yet placed: not yet registered, or no-shows still being traced. */
function OpenPupils({ handoverId }: { handoverId: number }) {
  const [status, setStatus] = useState<'NO_SHOW' | 'PENDING'>('NO_SHOW');
  const { data } = useQuery({
    queryKey: ['handover-pupils', handoverId, status],
    queryFn: () =>
      apiFetch<{ data: Pupil[]; total: number }>(`/api/handovers/${handoverId}/pupils?status=${status}&perPage=200`),
  });
  return (
    <Card data-testid="open-pupils">
      <CardContent sx={{ overflowX: 'auto' }}>
        <Typography variant="h6" gutterBottom>
          未落实学生{data ? `（${data.total} 人）` : ''}
        </Typography>
        <Select size="small" value={status} onChange={(e) => setStatus(e.target.value as typeof status)}>
          <MenuItem value="NO_SHOW">{PUPIL_STATUS_LABELS.NO_SHOW}（追踪中）</MenuItem>
          <MenuItem value="PENDING">{PUPIL_STATUS_LABELS.PENDING}</MenuItem>
        </Select>
        <Table size="small">
          <TableHead>
            <TableRow>
              <TableCell>姓名</TableCell>
              <TableCell>身份证号</TableCell>
              <TableCell>追踪情况</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {(data?.data ?? []).map((p) => (
              <TableRow key={p.id}>
                <TableCell>{p.child.name}</TableCell>
                <TableCell>{p.child.idNumber}</TableCell>
                <TableCell>{p.traceNote ?? '—'}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      </CardContent>
    </Card>
  );
}
