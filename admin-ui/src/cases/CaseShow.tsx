import { Box, Card, CardContent, Grid, Stack, Typography } from '@mui/material';
import { Link, Show, useRecordContext } from 'react-admin';
import { chineseDate } from '../format';
import { CaseTimeline } from './CaseTimeline';
import { ReturnButton, StageChip } from './CaseActions';
import { CaseRecords } from './CaseRecords';
import { CASE_OUTCOME_LABELS } from '../../../api/domain/case-status';

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
      <Typography color="text.secondary" sx={{ minWidth: 80, flexShrink: 0 }}>
        {label}
      </Typography>
      <Typography component="div" sx={{ overflowWrap: 'anywhere', minWidth: 0 }}>
        {children ?? '—'}
      </Typography>
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
            <Stack direction="row" alignItems="center" flexWrap="wrap" useFlexGap spacing={1} sx={{ mb: 1 }}>
              <Typography variant="h6" sx={{ overflowWrap: 'anywhere' }}>
                {c.caseNumber}
              </Typography>
              <StageChip caseId={String(c.id)} status={c.status} />
              <Box sx={{ flex: 1 }} />
              <ReturnButton caseId={String(c.id)} childName={c.childName} status={c.status} />
            </Stack>
            <Line label="儿童">
              <Link to={`/children/${c.childId}/show`}>{c.childName}</Link>（{c.childIdNumber}）
            </Line>
            <Line label="学校">{c.schoolName}</Line>
            <Line label="最后到校">{chineseDate(c.lastAttendance)}</Line>
            <Line label="报告原因">{c.reason}</Line>
            <Line label="辍学原因代码">{c.reasonLabel ?? c.reasonCode}</Line>
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
        <Card sx={{ mb: 2 }}>
          <CardContent>
            <Typography variant="h6" gutterBottom>
              各环节办理记录
            </Typography>
            <CaseRecords caseId={String(c.id)} empty="尚无办理记录" />
          </CardContent>
        </Card>
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
