/**
 * 工作台: who I am, and my tasks at a glance (open, overdue, due within 3 days). The bureau (and the
 * supervisors) oversee every task of their jurisdiction: their counts are the county's.
 */
import { Card, CardActionArea, CardContent, Grid, Typography } from '@mui/material';
import { Title, useGetIdentity, useGetList, usePermissions } from 'react-admin';
import { useQuery } from '@tanstack/react-query';
import { apiFetch } from '../api';
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

/** Roles that oversee every task of their jurisdiction (the inbox's 辖区全部). */
const SUPERVISING = ['BUREAU', 'SUPERVISOR', 'ADMIN'];

/** The name of the region one acts for: a town's own name, or "全县（N 个镇街）" for a county role. */
function useRegionName(regionCode: string | undefined): string | undefined {
  const { data } = useQuery({
    enabled: !!regionCode,
    queryKey: ['region-name', regionCode],
    queryFn: () =>
      apiFetch<{ data: { code: string; name: string }[]; total: number }>(`/api/towns?perPage=200&sort=code`),
  });
  if (!regionCode || !data) return undefined;
  const own = data.data.find((t) => t.code === regionCode.slice(0, 9));
  if (regionCode.length >= 9) return own?.name;
  return `全县（${data.total} 个镇街）`;
}

export function Dashboard() {
  const { identity } = useGetIdentity();
  const { permissions } = usePermissions<Me>();
  const soon = new Date(Date.now() + 3 * 86_400_000).toISOString();
  const supervising = !!permissions && SUPERVISING.includes(permissions.role);
  const region = useRegionName(permissions?.regionCode);
  // The county's tasks for those who oversee them; one's own unit's for everyone else.
  const scope: Record<string, string> = supervising ? { view: 'all' } : { view: 'group' };
  return (
    <>
      <Title title="工作台" />
      <Typography variant="h5" sx={{ my: 2 }} data-testid="welcome">
        您好，{identity?.fullName ?? ''}
      </Typography>
      {permissions && (
        <Typography color="text.secondary" sx={{ mb: 2 }}>
          角色：{ROLE_LABELS[permissions.role]}
          {region ? ` · 辖区：${region}` : ''}
        </Typography>
      )}
      {/* Policy staff work on no task: no counts that lead to a page they do not have. */}
      {mayUse('tasks', permissions) && (
        <Grid container spacing={2}>
          <Grid size={{ xs: 12, sm: 4 }}>
            <Count label={supervising ? '辖区待办' : '本单位待办'} filter={scope} />
          </Grid>
          <Grid size={{ xs: 12, sm: 4 }}>
            <Count label="已逾期" filter={{ ...scope, overdue: 'true' }} color="#c62828" />
          </Grid>
          <Grid size={{ xs: 12, sm: 4 }}>
            <Count label="三天内到期" filter={{ ...scope, dueBefore: soon }} color="#ef6c00" />
          </Grid>
        </Grid>
      )}
    </>
  );
}
