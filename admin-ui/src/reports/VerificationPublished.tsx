/**
 * A published campaign's verification report beside today's figures: the API serves the frozen 通报
 * (source published) and lists what changed since (differences). Shown under the campaign's downloads.
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
  Typography,
} from '@mui/material';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { apiFetch, query } from '../api';

interface Served {
  source: 'published' | 'live';
  publishedAt: string | null;
  rounds: { round: number; towns: { townCode: string; townName: string }[] }[];
  differences: { round: number; townCode: string; field: string; published: number; live: number }[];
}

const FIELD_LABELS: Record<string, string> = {
  suspects: '疑似失学儿童数',
  pending: '未核实',
  carriedForward: '转入下一轮',
  removed: '核减人数',
  stillSuspected: '疑似失学人数',
  'registration.REGISTERED': '已建籍',
  'registration.NOT_REGISTERED': '未建籍',
  'registration.NOT_FOUND': '未查到',
};

/** 核减人数, A类, A2类（学籍原因）… */
export function fieldLabel(field: string): string {
  if (FIELD_LABELS[field]) return FIELD_LABELS[field];
  const [kind, code] = field.split('.');
  if (kind === 'outcomes') return `${code}类`;
  if (kind === 'reasons') return `${code}类（学籍原因）`;
  return field;
}

const beijing = (iso: string) => new Date(iso).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false });

export function VerificationPublished({ campaignId }: { campaignId: number }) {
  const [open, setOpen] = useState(false);
  const report = useQuery({
    queryKey: ['report', 'verification', campaignId],
    queryFn: () => apiFetch<Served>(`/api/reports/verification?${query({ campaign: campaignId })}`),
  });
  const data = report.data;
  if (!data || data.source !== 'published') return null;
  const names = new Map(data.rounds.flatMap((r) => r.towns.map((t) => [t.townCode, t.townName] as const)));
  return (
    <>
      <Typography variant="body2" color="text.secondary" data-testid={`verification-published-${campaignId}`}>
        已通报（{data.publishedAt ? beijing(data.publishedAt) : '—'}），下载为通报时冻结的数字
        {data.differences.length === 0 ? '；通报后数字未变' : `；${data.differences.length} 项与现值不同`}
      </Typography>
      {data.differences.length > 0 && (
        <Button size="small" onClick={() => setOpen(true)}>
          查看差异
        </Button>
      )}
      <Dialog open={open} onClose={() => setOpen(false)} maxWidth="md" fullWidth>
        <DialogTitle>通报数与现值的差异</DialogTitle>
        <DialogContent>
          <Alert severity="warning" sx={{ mb: 1 }}>
            通报后核实结果有更正；现值可在接口加参数 live=true 查询或下载
          </Alert>
          <Table size="small" data-testid={`verification-differences-${campaignId}`}>
            <TableHead>
              <TableRow>
                <TableCell>轮次</TableCell>
                <TableCell>镇街</TableCell>
                <TableCell>项目</TableCell>
                <TableCell align="right">通报数</TableCell>
                <TableCell align="right">现值</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {data.differences.map((d) => (
                <TableRow key={`${d.round}-${d.townCode}-${d.field}`}>
                  <TableCell>第{d.round}轮</TableCell>
                  <TableCell>{names.get(d.townCode) ?? d.townCode}</TableCell>
                  <TableCell>{fieldLabel(d.field)}</TableCell>
                  <TableCell align="right">{d.published}</TableCell>
                  <TableCell align="right">{d.live}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </DialogContent>
        <DialogActions>
          <Button onClick={() => setOpen(false)}>关闭</Button>
        </DialogActions>
      </Dialog>
    </>
  );
}
