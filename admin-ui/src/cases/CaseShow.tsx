import { Card, CardContent, Chip, Grid, Stack, Typography } from '@mui/material';
import { Link, Show, useRecordContext } from 'react-admin';
import { chineseDate } from '../format';
import { CaseTimeline } from './CaseTimeline';
import { CASE_OUTCOME_LABELS, CASE_STATUS_LABELS } from '../../../api/domain/case-status';

/** 一人一案: the child, the analysis and plan, who is responsible, and the timeline. */
export function CaseShow() {
  return (
    <Show title="一人一案" component="div">
      <CaseFile />
    </Show>
  );
}

function Line({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <Stack direction="row" spacing={2} sx={{ py: 0.5 }}>
      <Typography color="text.secondary" sx={{ minWidth: 96 }}>
        {label}
      </Typography>
      <Typography component="div">{children ?? '—'}</Typography>
    </Stack>
  );
}

function CaseFile() {
  const c = useRecordContext();
  if (!c) return null;
  return (
    <Grid container spacing={2} sx={{ mt: 1 }}>
      <Grid size={{ xs: 12, md: 5 }}>
        <Card data-testid="case-file">
          <CardContent>
            <Typography variant="h6">
              {c.caseNumber}{' '}
              <Chip size="small" label={CASE_STATUS_LABELS[c.status as keyof typeof CASE_STATUS_LABELS]} />
            </Typography>
            <Line label="儿童">
              <Link to={`/children/${c.childId}/show`}>{c.childName}</Link>（{c.childIdNumber}）
            </Line>
            <Line label="学校">{c.schoolName}</Line>
            <Line label="最后到校">{chineseDate(c.lastAttendance)}</Line>
            <Line label="报告原因">{c.reason}</Line>
            <Line label="辍学原因代码">{c.reasonCode}</Line>
            <Line label="分析与措施">{c.plan}</Line>
            <Line label="劝返责任人">{c.responsiblePerson}</Line>
            <Line label="开案">{chineseDate(c.openedAt)}</Line>
            <Line label="结案">
              {c.closedAt
                ? `${chineseDate(c.closedAt)}（${CASE_OUTCOME_LABELS[c.outcome as keyof typeof CASE_OUTCOME_LABELS] ?? ''}）`
                : '未结案'}
            </Line>
          </CardContent>
        </Card>
      </Grid>
      <Grid size={{ xs: 12, md: 7 }}>
        <Card>
          <CardContent>
            <Typography variant="h6" gutterBottom>
              办理经过
            </Typography>
            <CaseTimeline caseId={String(c.id)} />
          </CardContent>
        </Card>
      </Grid>
    </Grid>
  );
}
