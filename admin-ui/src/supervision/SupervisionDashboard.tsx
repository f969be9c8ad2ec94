/**
 * 督导看板: the county at a glance for supervisors — open cases by stage and town, overdue tasks by
 * town, the enrollment verification toward 31 October, the handover's 清零, and 巩固率 / 入学率 over the
 * last school years (the statutory reports' own figures, api/reports/retention.ts). Charts are ECharts
 * (Apache-2.0) through echarts-for-react (MIT), only the chart types used registered.
 */
import { Alert, Box, Card, CardContent, Chip, Grid, LinearProgress, Stack, Typography } from '@mui/material';
import { useQuery } from '@tanstack/react-query';
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import ReactEChartsCore from 'echarts-for-react/esm/core';
import type { ReactNode } from 'react';
import { Title } from 'react-admin';
import { apiFetch, ApiError } from '../api';

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, SVGRenderer]);

interface Dashboard {
  county: string;
  region: string;
  asOf: string;
  towns: { code: string; name: string }[];
  openCases: { townCode: string; status: string; statusLabel: string; count: number }[];
  tasks: { townCode: string; open: number; overdue: number }[];
  verification: {
    year: number;
    status: string;
    dueDate: string;
    daysLeft: number;
    suspects: number;
    verified: number;
    towns: { townCode: string; suspects: number; verified: number }[];
  } | null;
  handover: {
    year: number;
    status: string;
    clearedAt: string | null;
    pupils: number;
    registered: number;
    open: number;
    towns: { townCode: string; pupils: number; registered: number; open: number }[];
  } | null;
  trend: { year: number; retentionRate: number | null; enrollmentRate: number | null }[];
}

const HANDOVER_STATUS: Record<string, string> = {
  PLANNING: '编制方案',
  APPROVED: '方案已批准',
  HANDED_OVER: '已交接',
  REGISTERING: '报到注册中',
  TRACING: '追踪未报到',
  CLEARED: '已清零',
};
const CAMPAIGN_STATUS: Record<string, string> = {
  COLLECTING: '汇集名单',
  COMPARING: '比对中',
  VERIFYING: '逐一核实中',
  REPORTED: '已通报',
};

function Panel({ title, testid, children }: { title: string; testid: string; children: ReactNode }) {
  return (
    <Card data-testid={testid} sx={{ height: '100%' }}>
      <CardContent>
        <Typography variant="h6" gutterBottom>
          {title}
        </Typography>
        {children}
      </CardContent>
    </Card>
  );
}

function Chart({ option, height = 280 }: { option: object; height?: number }) {
  return <ReactEChartsCore echarts={echarts} option={option} style={{ height }} notMerge opts={{ renderer: 'svg' }} />;
}

const empty = (text: string) => (
  <Typography color="text.secondary" sx={{ py: 4, textAlign: 'center' }}>
    {text}
  </Typography>
);

export function SupervisionDashboard() {
  const { data, error, isPending } = useQuery({
    queryKey: ['supervision-dashboard'],
    queryFn: () => apiFetch<Dashboard>('/api/supervision/dashboard'),
  });
  if (error) {
    return (
      <Alert severity="error" data-testid="dashboard-error">
        {error instanceof ApiError ? error.message : '加载失败，请稍后重试'}
      </Alert>
    );
  }
  if (isPending || !data) return <LinearProgress />;

  const townName = new Map(data.towns.map((t) => [t.code, t.name]));
  const nameOf = (code: string) => townName.get(code) ?? (code.length <= 6 ? '县级' : code);
  const caseTowns = [...new Set(data.openCases.map((c) => c.townCode))].sort();
  const statuses = [...new Map(data.openCases.map((c) => [c.status, c.statusLabel]))];
  const casesOption = {
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { top: 40, left: 40, right: 16, bottom: 40 },
    xAxis: { type: 'category', data: caseTowns.map(nameOf), axisLabel: { interval: 0, rotate: 30 } },
    yAxis: { type: 'value', minInterval: 1 },
    series: statuses.map(([status, label]) => ({
      name: label,
      type: 'bar',
      stack: 'cases',
      data: caseTowns.map((t) => data.openCases.find((c) => c.townCode === t && c.status === status)?.count ?? 0),
    })),
  };
  const taskTowns = data.tasks.map((t) => t.townCode);
  const tasksOption = {
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { top: 40, left: 40, right: 16, bottom: 40 },
    xAxis: { type: 'category', data: taskTowns.map(nameOf), axisLabel: { interval: 0, rotate: 30 } },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      { name: '在办', type: 'bar', data: data.tasks.map((t) => t.open - t.overdue), stack: 't', color: '#90caf9' },
      { name: '已超期', type: 'bar', data: data.tasks.map((t) => t.overdue), stack: 't', color: '#d32f2f' },
    ],
  };
  const trendOption = {
    tooltip: { trigger: 'axis', valueFormatter: (v: number | null) => (v === null ? '—' : `${v}%`) },
    legend: { top: 0 },
    grid: { top: 40, left: 48, right: 16, bottom: 30 },
    xAxis: { type: 'category', data: data.trend.map((t) => `${t.year}学年`) },
    yAxis: { type: 'value', min: (v: { min: number }) => Math.max(0, Math.floor(v.min - 5)), max: 100 },
    series: [
      { name: '九年义务教育巩固率', type: 'line', data: data.trend.map((t) => t.retentionRate), connectNulls: true },
      { name: '入学率', type: 'line', data: data.trend.map((t) => t.enrollmentRate), connectNulls: true },
    ],
  };
  const v = data.verification;
  const h = data.handover;
  const verificationOption = v && {
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { top: 40, left: 40, right: 16, bottom: 40 },
    xAxis: { type: 'category', data: v.towns.map((t) => nameOf(t.townCode)), axisLabel: { interval: 0, rotate: 30 } },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      { name: '已核实', type: 'bar', stack: 'v', data: v.towns.map((t) => t.verified), color: '#388e3c' },
      { name: '待核实', type: 'bar', stack: 'v', data: v.towns.map((t) => t.suspects - t.verified), color: '#ffa000' },
    ],
  };
  const handoverOption = h && {
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { top: 40, left: 40, right: 16, bottom: 40 },
    xAxis: { type: 'category', data: h.towns.map((t) => nameOf(t.townCode)), axisLabel: { interval: 0, rotate: 30 } },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      { name: '已报到', type: 'bar', stack: 'h', data: h.towns.map((t) => t.registered), color: '#388e3c' },
      {
        name: '已追踪安置',
        type: 'bar',
        stack: 'h',
        data: h.towns.map((t) => t.pupils - t.registered - t.open),
        color: '#90caf9',
      },
      { name: '未清零', type: 'bar', stack: 'h', data: h.towns.map((t) => t.open), color: '#d32f2f' },
    ],
  };

  return (
    <Box sx={{ p: 2 }} data-testid="supervision-dashboard">
      <Title title="督导看板" />
      <Typography variant="body2" color="text.secondary" sx={{ mb: 2 }}>
        截至 {new Date(data.asOf).toLocaleString('zh-CN')} · 辖区 {data.region}
      </Typography>
      <Grid container spacing={2}>
        <Grid size={{ xs: 12, md: 6 }}>
          <Panel title="在办案件（按阶段、镇街）" testid="panel-cases">
            {caseTowns.length ? <Chart option={casesOption} /> : empty('当前没有在办的辍学案件。')}
          </Panel>
        </Grid>
        <Grid size={{ xs: 12, md: 6 }}>
          <Panel title="待办与超期任务（按镇街）" testid="panel-tasks">
            {taskTowns.length ? <Chart option={tasksOption} /> : empty('当前没有待办任务。')}
          </Panel>
        </Grid>
        <Grid size={{ xs: 12, md: 6 }}>
          <Panel title="入学核查进度（10月31日前完成）" testid="panel-verification">
            {v ? (
              <>
                <Stack direction="row" spacing={1} alignItems="center" sx={{ mb: 1 }}>
                  <Typography>
                    {v.year} 年核查：已核实 {v.verified} / {v.suspects}
                  </Typography>
                  <Chip size="small" label={CAMPAIGN_STATUS[v.status] ?? v.status} />
                  <Chip
                    size="small"
                    color={
                      v.daysLeft < 0 && v.verified < v.suspects ? 'error' : v.daysLeft <= 14 ? 'warning' : 'default'
                    }
                    label={v.daysLeft >= 0 ? `距 ${v.dueDate} 还有 ${v.daysLeft} 天` : `已过 ${v.dueDate}`}
                  />
                </Stack>
                <LinearProgress
                  variant="determinate"
                  value={v.suspects ? (100 * v.verified) / v.suspects : 100}
                  sx={{ height: 10, borderRadius: 5, mb: 1 }}
                />
                {v.towns.length > 0 && <Chart option={verificationOption!} height={220} />}
              </>
            ) : (
              empty('本县尚未发起入学核查。')
            )}
          </Panel>
        </Grid>
        <Grid size={{ xs: 12, md: 6 }}>
          <Panel title="整班移交清零" testid="panel-handover">
            {h ? (
              <>
                <Stack direction="row" spacing={1} alignItems="center" sx={{ mb: 1 }}>
                  <Typography>
                    {h.year} 年：已报到 {h.registered} / {h.pupils}，未清零 {h.open}
                  </Typography>
                  <Chip
                    size="small"
                    color={h.status === 'CLEARED' ? 'success' : 'default'}
                    label={HANDOVER_STATUS[h.status] ?? h.status}
                  />
                </Stack>
                {h.towns.length > 0 && <Chart option={handoverOption!} height={220} />}
              </>
            ) : (
              empty('本县尚未发起整班移交。')
            )}
          </Panel>
        </Grid>
        <Grid size={{ xs: 12 }}>
          <Panel title="九年义务教育巩固率与入学率（近五个学年）" testid="panel-trend">
            <Chart option={trendOption} />
          </Panel>
        </Grid>
      </Grid>
    </Box>
  );
}
