/**
 * One enrollment campaign followed per town (GET /api/campaigns/:id/progress): suspects, still open,
 * verified, open and overdue tasks — and, for a town, who is still open (its pending suspects, masked).
 */
import {
  Box,
  Card,
  CardContent,
  Chip,
  Grid,
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
import { CAMPAIGN_STATUS_LABELS } from './labels';
import { Figure, Figures, Overdue, TasksByType } from './ProgressParts';

interface Tasks {
  open: number;
  overdue: number;
}
interface Progress {
  round: number;
  towns: { regionCode: string; name: string; suspects: number; pending: number; verified: number; tasks: Tasks }[];
  county: Tasks;
  total: { suspects: number; pending: number; verified: number; tasks: Tasks };
  byType: { elementId: string; title: string; open: number; overdue: number }[];
}

export function CampaignShow() {
  return (
    <Show title="入学核查" component="div">
      <CampaignProgress />
    </Show>
  );
}

function CampaignProgress() {
  const c = useRecordContext();
  const { data, isPending } = useQuery({
    queryKey: ['campaign-progress', c?.id],
    queryFn: () => apiFetch<Progress>(`/api/campaigns/${c!.id}/progress`),
    enabled: !!c,
    // Just started, the comparison still running: ask again soon, then every half minute.
    refetchInterval: (query) =>
      !query.state.data?.total.suspects && ['COLLECTING', 'COMPARING'].includes(String(c?.status)) ? 3_000 : 30_000,
  });
  const [town, setTown] = useState<{ code: string; name: string } | null>(null);
  if (!c) return null;
  return (
    <Box sx={{ mt: 1 }} data-testid="campaign-progress">
      <Typography variant="h5" sx={{ overflowWrap: 'anywhere' }}>
        {c.year}年适龄儿童入学核查 <Chip size="small" label={CAMPAIGN_STATUS_LABELS[c.status] ?? c.status} />
      </Typography>
      <Typography variant="body2" color="text.secondary">
        启动于 {chineseDate(c.createdAt)}
        {data && data.round > 1 ? `，第 ${data.round} 轮核实` : ''}
      </Typography>
      {isPending || !data ? (
        <Loading />
      ) : (
        <>
          <Figures>
            <Figure label="疑似未入学" value={data.total.suspects} testId="figure-suspects" />
            <Figure label="尚未核实" value={data.total.pending} testId="figure-pending" />
            <Figure label="已核实" value={data.total.verified} />
            <Figure label="待办任务" value={data.total.tasks.open} />
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
                        <TableCell align="right">疑似</TableCell>
                        <TableCell align="right">未核实</TableCell>
                        <TableCell align="right">已核实</TableCell>
                        <TableCell align="right">待办</TableCell>
                        <TableCell align="right">逾期</TableCell>
                      </TableRow>
                    </TableHead>
                    <TableBody>
                      {data.towns.map((t) => (
                        <TableRow
                          key={t.regionCode}
                          hover
                          selected={town?.code === t.regionCode}
                          sx={{ cursor: 'pointer' }}
                          onClick={() => setTown({ code: t.regionCode, name: t.name })}
                          data-testid="town-row"
                        >
                          <TableCell>{t.name}</TableCell>
                          <TableCell align="right">{t.suspects}</TableCell>
                          <TableCell align="right">{t.pending}</TableCell>
                          <TableCell align="right">{t.verified}</TableCell>
                          <TableCell align="right">{t.tasks.open}</TableCell>
                          <TableCell align="right">
                            <Overdue n={t.tasks.overdue} />
                          </TableCell>
                        </TableRow>
                      ))}
                      {data.county.open > 0 && (
                        <TableRow>
                          <TableCell>县级（教育局、公安等）</TableCell>
                          <TableCell colSpan={3} />
                          <TableCell align="right">{data.county.open}</TableCell>
                          <TableCell align="right">
                            <Overdue n={data.county.overdue} />
                          </TableCell>
                        </TableRow>
                      )}
                    </TableBody>
                  </Table>
                  <Typography variant="caption" color="text.secondary">
                    点击镇街查看尚未核实的儿童名单
                  </Typography>
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
              {town && <PendingSuspects campaignId={Number(c.id)} town={town} />}
            </Grid>
          </Grid>
        </>
      )}
    </Box>
  );
}

interface Suspect {
  id: number;
  round: number;
  child: { name: string; idNumber: string; gender: string };
}

/** Who is still open in a town: its suspects without an outcome (ID numbers masked). */
function PendingSuspects({ campaignId, town }: { campaignId: number; town: { code: string; name: string } }) {
  const { data } = useQuery({
    queryKey: ['pending-suspects', campaignId, town.code],
    queryFn: () =>
      apiFetch<{ data: Suspect[]; total: number }>(
        `/api/campaigns/${campaignId}/suspects?pending=true&regionCode=${town.code}&perPage=200&sort=round&order=DESC`,
      ),
  });
  return (
    <Card data-testid="pending-suspects">
      <CardContent sx={{ overflowX: 'auto' }}>
        <Typography variant="h6" gutterBottom>
          {town.name}：尚未核实{data ? `（${data.total} 人）` : ''}
        </Typography>
        <Table size="small">
          <TableHead>
            <TableRow>
              <TableCell>姓名</TableCell>
              <TableCell>身份证号</TableCell>
              <TableCell align="right">轮次</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {(data?.data ?? []).map((s) => (
              <TableRow key={s.id}>
                <TableCell>{s.child.name}</TableCell>
                <TableCell>{s.child.idNumber}</TableCell>
                <TableCell align="right">{s.round}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
        {data && data.total > data.data.length && (
          <Typography variant="caption" color="text.secondary">
            仅显示前 {data.data.length} 人
          </Typography>
        )}
      </CardContent>
    </Card>
  );
}
