/** 统计报表: retention and enrollment rates, the dropout statistics table, the verification report — each downloadable. */
import {
  Alert,
  Box,
  Button,
  Card,
  CardContent,
  MenuItem,
  Stack,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  TextField,
  Typography,
} from '@mui/material';
import { useQuery } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import { Title, useNotify, usePermissions } from 'react-admin';
import { apiDownload, apiFetch, ApiError, query } from '../api';
import type { Me } from '../authProvider';
import { REPORT_ROLES } from '../layout/access';
import { VerificationPublished } from './VerificationPublished';
import { retentionCell, retentionNote } from './retention';

/** A rate, or a dash where there is nothing to divide by. */
const pct = (rate: number | null | undefined) => (rate === null || rate === undefined ? '—' : `${rate}%`);

function Downloads({ path, params, name }: { path: string; params: Record<string, unknown>; name: string }) {
  const notify = useNotify();
  const [busy, setBusy] = useState(false);
  const download = async (format: 'xlsx' | 'csv') => {
    setBusy(true);
    try {
      await apiDownload(`${path}${query({ ...params, format })}`, `${name}.${format}`);
    } catch (err) {
      // The API's own Chinese message (e.g. 无权访问), never its JSON as a page.
      notify(err instanceof ApiError ? `下载失败：${err.message}` : '下载失败，请稍后重试', { type: 'error' });
    } finally {
      setBusy(false);
    }
  };
  return (
    <Stack direction="row" spacing={1}>
      {(['xlsx', 'csv'] as const).map((format) => (
        <Button
          key={format}
          size="small"
          variant="outlined"
          disabled={busy}
          onClick={() => void download(format)}
          data-testid={`download-${name}-${format}`}
        >
          下载 {format.toUpperCase()}
        </Button>
      ))}
    </Stack>
  );
}

function useReport<T>(path: string, params: Record<string, unknown>, enabled = true) {
  return useQuery({
    queryKey: [path, params],
    queryFn: () => apiFetch<T>(`${path}${query(params)}`),
    enabled,
    retry: false,
  });
}

function ErrorNote({ error }: { error: unknown }) {
  return error ? <Alert severity="error">{error instanceof ApiError ? error.message : '报表加载失败'}</Alert> : null;
}

interface Retention {
  total: { retention: { graduates: number; denominator: number } };
  towns: {
    townName: string;
    retention: { graduates: number; denominator: number; rate: number | null };
    enrollment: { enrolled: number; base: number; rate: number | null };
  }[];
}
interface Dropouts {
  towns: {
    townName?: string;
    regionName?: string;
    enrolled: { total: number };
    dropouts: { total: number };
    dropoutRate: number;
    returned: { total: number };
  }[];
}

/** A report's per-town table: the first column names the town, the figures align right. */
function TownTable<T>({
  testId,
  rows,
  columns,
}: {
  testId: string;
  rows: T[];
  columns: [label: string, value: (row: T) => ReactNode][];
}) {
  return (
    <Table size="small" data-testid={testId}>
      <TableHead>
        <TableRow>
          {columns.map(([label], i) => (
            <TableCell key={label} align={i ? 'right' : 'left'}>
              {label}
            </TableCell>
          ))}
        </TableRow>
      </TableHead>
      <TableBody>
        {rows.map((row, r) => (
          <TableRow key={r}>
            {columns.map(([label, value], i) => (
              <TableCell key={label} align={i ? 'right' : 'left'}>
                {value(row)}
              </TableCell>
            ))}
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

export function ReportsPage() {
  const { permissions } = usePermissions<Me>();
  const county = permissions?.regionCode.slice(0, 6) ?? '';
  const thisYear = new Date().getFullYear();
  const [year, setYear] = useState(thisYear);
  const [period, setPeriod] = useState(`${thisYear}-10`);
  const may = (report: keyof typeof REPORT_ROLES) => !!permissions && REPORT_ROLES[report].includes(permissions.role);
  const retention = useReport<Retention>('/api/reports/retention', { county, year }, !!county && may('retention'));
  const dropouts = useReport<Dropouts>('/api/reports/dropouts', { county, period }, !!county && may('dropouts'));
  const campaigns = useQuery({
    enabled: may('verification'),
    queryKey: ['campaigns'],
    queryFn: () =>
      apiFetch<{ data: { id: number; year: number; regionCode: string; status: string }[] }>(
        '/api/campaigns?sort=year&order=DESC',
      ),
  });
  return (
    <Box sx={{ p: 2 }}>
      <Title title="统计报表" />
      <Stack spacing={2}>
        {may('retention') && (
          <Card data-testid="report-retention">
            <CardContent>
              <Stack direction="row" spacing={2} alignItems="center" sx={{ mb: 1 }}>
                <Typography variant="h6">巩固率与入学率</Typography>
                <TextField
                  size="small"
                  label="学年"
                  type="number"
                  value={year}
                  onChange={(e) => setYear(Number(e.target.value))}
                  sx={{ width: 110 }}
                />
                <Downloads path="/api/reports/retention" params={{ county, year }} name="retention" />
              </Stack>
              <ErrorNote error={retention.error} />
              <TownTable
                testId="retention-table"
                rows={retention.data?.towns ?? []}
                columns={[
                  ['镇街', (t) => t.townName],
                  ['入学人数/适龄人数', (t) => `${t.enrollment.enrolled}/${t.enrollment.base}`],
                  ['入学率', (t) => pct(t.enrollment.rate)],
                  ['毕业人数/应毕业人数', (t) => `${t.retention.graduates}/${t.retention.denominator}`],
                  ['巩固率', (t) => retentionCell(t.retention.rate, t.retention.graduates, year)],
                ]}
              />
              {retention.data && retentionNote(year, retention.data.total.retention) && (
                <Alert severity="info" sx={{ mt: 1 }} data-testid="retention-note">
                  {retentionNote(year, retention.data.total.retention)}
                </Alert>
              )}
            </CardContent>
          </Card>
        )}
        {may('dropouts') && (
          <Card data-testid="report-dropouts">
            <CardContent>
              <Stack direction="row" spacing={2} alignItems="center" sx={{ mb: 1 }}>
                <Typography variant="h6">辍学情况统计表</Typography>
                <TextField
                  select
                  size="small"
                  label="统计时点"
                  value={period}
                  onChange={(e) => setPeriod(e.target.value)}
                  sx={{ width: 160 }}
                >
                  {[thisYear, thisYear - 1]
                    .flatMap((y) => [`${y}-10`, `${y}-03`])
                    .map((p) => (
                      <MenuItem key={p} value={p}>
                        {p.replace('-10', '年10月底').replace('-03', '年3月底')}
                      </MenuItem>
                    ))}
                </TextField>
                <Downloads path="/api/reports/dropouts" params={{ county, period }} name="dropouts" />
              </Stack>
              <ErrorNote error={dropouts.error} />
              <TownTable
                testId="dropouts-table"
                rows={dropouts.data?.towns ?? []}
                columns={[
                  ['镇街', (t) => t.townName ?? t.regionName],
                  ['在校生', (t) => t.enrolled.total],
                  ['辍学', (t) => t.dropouts.total],
                  // A percentage, as the API computes it (× 100) and the XLSX labels it.
                  ['辍学率', (t) => pct(t.dropoutRate)],
                  ['劝返复学', (t) => t.returned.total],
                ]}
              />
            </CardContent>
          </Card>
        )}
        {may('verification') && (
          <Card data-testid="report-verification">
            <CardContent>
              <Typography variant="h6" gutterBottom>
                适龄儿童入学核查情况统计表
              </Typography>
              {(campaigns.data?.data ?? []).length === 0 && (
                <Typography color="text.secondary">暂无入学核查</Typography>
              )}
              {(campaigns.data?.data ?? []).map((c) => (
                <Stack key={c.id} direction="row" spacing={2} alignItems="center" sx={{ py: 0.5 }}>
                  {/* The caller's own county's campaigns: no region code to read. */}
                  <Typography>{c.year}年入学核查</Typography>
                  <Downloads
                    path="/api/reports/verification"
                    params={{ campaign: c.id }}
                    name={`verification-${c.id}`}
                  />
                  {c.status === 'REPORTED' && <VerificationPublished campaignId={c.id} />}
                </Stack>
              ))}
            </CardContent>
          </Card>
        )}
      </Stack>
    </Box>
  );
}
