/** 流程设计: the deployed processes and decision tables; policy staff edit, validate, deploy and roll back. */
import { Alert, Card, CardContent, List, ListItemButton, ListItemText, ListSubheader, Stack } from '@mui/material';
import { useEffect, useState } from 'react';
import { Title, usePermissions } from 'react-admin';
import { useParams, useNavigate } from 'react-router-dom';
import { apiFetch, ApiError } from '../api';
import type { Me } from '../authProvider';
import { DEPLOY_ROLES, MIGRATE_ROLES } from '../layout/access';
import { DecisionTableEditor } from './DecisionTableEditor';
import type { DiagramSummary, Kind } from './model';
import { ProcessEditor } from './ProcessEditor';

export function ModelerPage() {
  const { permissions } = usePermissions<Me>();
  const canDeploy = !!permissions && DEPLOY_ROLES.includes(permissions.role);
  const canMigrate = !!permissions && MIGRATE_ROLES.includes(permissions.role);
  const { kind, id } = useParams<{ kind?: Kind; id?: string }>();
  const navigate = useNavigate();
  const [list, setList] = useState<DiagramSummary[]>([]);
  const [error, setError] = useState<string>();
  // Bumped after a deploy or rollback: the list shows each diagram's newest version.
  const [deployments, setDeployments] = useState(0);
  const onDeployed = () => setDeployments((n) => n + 1);
  useEffect(() => {
    apiFetch<{ data: DiagramSummary[] }>('/api/diagrams').then(
      (r) => setList(r.data),
      (err: unknown) => setError(err instanceof ApiError ? err.message : '加载失败'),
    );
  }, [deployments]);
  return (
    <Stack direction="row" spacing={2} sx={{ mt: 2, maxWidth: 'calc(100vw - 280px)' }}>
      <Title title="流程设计" />
      <Card variant="outlined" sx={{ width: 260, flexShrink: 0 }}>
        <List dense data-testid="diagram-list">
          {(['process', 'decision'] as const).map((k) => [
            <ListSubheader key={`h-${k}`}>{k === 'process' ? '流程图' : '决策表'}</ListSubheader>,
            ...list
              .filter((d) => d.kind === k)
              .map((d) => (
                <ListItemButton
                  key={`${k}-${d.id}`}
                  selected={kind === k && id === d.id}
                  onClick={() => navigate(`/modeler/${k}/${encodeURIComponent(d.id)}`)}
                  data-testid={`open-${d.id}`}
                >
                  <ListItemText primary={d.name ?? d.id} secondary={`${d.resourceName} · v${d.latestVersion}`} />
                </ListItemButton>
              )),
          ])}
        </List>
      </Card>
      <Card variant="outlined" sx={{ flexGrow: 1, minWidth: 0 }}>
        <CardContent>
          {error && <Alert severity="error">{error}</Alert>}
          {!canDeploy && <Alert severity="info">只读：只有政策管理员可以修改和部署。</Alert>}
          {kind === 'process' && id && (
            <ProcessEditor key={id} id={id} canDeploy={canDeploy} canMigrate={canMigrate} onDeployed={onDeployed} />
          )}
          {kind === 'decision' && id && (
            <DecisionTableEditor key={id} id={id} canDeploy={canDeploy} onDeployed={onDeployed} />
          )}
          {!id && <Alert severity="info">在左侧选择一个流程图或决策表。</Alert>}
        </CardContent>
      </Card>
    </Stack>
  );
}
