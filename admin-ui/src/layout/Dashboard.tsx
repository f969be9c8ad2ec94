/** 工作台: who I am, and my tasks at a glance (open, overdue, due within 3 days). */
import { Card, CardActionArea, CardContent, Grid, Typography } from '@mui/material';
import { Title, useGetIdentity, useGetList, usePermissions } from 'react-admin';
import { useNavigate } from 'react-router-dom';
import type { Me } from '../authProvider';
import { ROLE_LABELS } from '../authProvider';
import { mayUse } from './access';

function Count({ label, filter, color }: { label: string; filter: Record<string, string>; color?: string }) {
  const navigate = useNavigate();
  const { total, isPending } = useGetList('tasks', { filter, pagination: { page: 1, perPage: 1 } });
  return (
    <Card>
      <CardActionArea onClick={() => navigate('/tasks')}>
        <CardContent>
          <Typography color="text.secondary">{label}</Typography>
          <Typography variant="h3" sx={{ color }} data-testid={`count-${label}`}>
            {isPending ? '…' : total}
          </Typography>
        </CardContent>
      </CardActionArea>
    </Card>
  );
}

export function Dashboard() {
  const { identity } = useGetIdentity();
  const { permissions } = usePermissions<Me>();
  const soon = new Date(Date.now() + 3 * 86_400_000).toISOString();
  return (
    <>
      <Title title="工作台" />
      <Typography variant="h5" sx={{ my: 2 }} data-testid="welcome">
        您好，{identity?.fullName ?? ''}
      </Typography>
      {permissions && (
        <Typography color="text.secondary" sx={{ mb: 2 }}>
          角色：{ROLE_LABELS[permissions.role]} · 辖区代码 {permissions.regionCode}
        </Typography>
      )}
      {/* Policy staff work on no task: no counts that lead to a page they do not have. */}
      {mayUse('tasks', permissions) && (
        <Grid container spacing={2}>
          <Grid size={{ xs: 12, sm: 4 }}>
            <Count label="本单位待办" filter={{ view: 'group' }} />
          </Grid>
          <Grid size={{ xs: 12, sm: 4 }}>
            <Count label="已逾期" filter={{ overdue: 'true' }} color="#c62828" />
          </Grid>
          <Grid size={{ xs: 12, sm: 4 }}>
            <Count label="三天内到期" filter={{ view: 'group', dueBefore: soon }} color="#ef6c00" />
          </Grid>
        </Grid>
      )}
    </>
  );
}
