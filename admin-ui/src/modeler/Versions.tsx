/**
 * Version history (who/when/why, instances still running on each), diff against another version,
 * rollback, and (policy staff) 迁移到最新版本 for an older version with running instances.
 */
import { Button, Stack, Table, TableBody, TableCell, TableHead, TableRow, Typography } from '@mui/material';
import type { VersionInfo } from './model';

export function Versions({
  versions,
  canDeploy,
  onDiff,
  onRollback,
  onMigrate,
}: {
  versions: VersionInfo[];
  canDeploy: boolean;
  onDiff?: (version: number) => void;
  onRollback: (version: number) => void;
  onMigrate?: (version: number) => void;
}) {
  const latest = versions[0]?.version;
  return (
    <Table size="small" data-testid="versions">
      <TableHead>
        <TableRow>
          <TableCell>版本</TableCell>
          <TableCell>部署时间</TableCell>
          <TableCell>部署人</TableCell>
          <TableCell>说明</TableCell>
          <TableCell>运行中实例</TableCell>
          <TableCell />
        </TableRow>
      </TableHead>
      <TableBody>
        {versions.map((v) => (
          <TableRow key={v.version} data-testid={`version-${v.version}`}>
            <TableCell>v{v.version}</TableCell>
            <TableCell>{new Date(v.deployedAt).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai' })}</TableCell>
            <TableCell>{v.deployedBy ?? '平台启动时部署'}</TableCell>
            <TableCell>
              <Typography variant="body2">
                {v.comment ?? '—'}
                {v.rollbackOf ? `（回滚到 v${v.rollbackOf}）` : ''}
              </Typography>
            </TableCell>
            <TableCell>{v.activeInstances ?? '—'}</TableCell>
            <TableCell>
              <Stack direction="row" spacing={1}>
                {onDiff && v.version !== latest && (
                  <Button size="small" onClick={() => onDiff(v.version)} data-testid={`diff-${v.version}`}>
                    与最新版比较
                  </Button>
                )}
                {canDeploy && v.version !== latest && (
                  <Button
                    size="small"
                    color="warning"
                    onClick={() => onRollback(v.version)}
                    data-testid={`rollback-${v.version}`}
                  >
                    回滚到此版本
                  </Button>
                )}
                {onMigrate && v.version !== latest && (v.activeInstances ?? 0) > 0 && (
                  <Button
                    size="small"
                    color="warning"
                    onClick={() => onMigrate(v.version)}
                    data-testid={`migrate-${v.version}`}
                  >
                    迁移到最新版本
                  </Button>
                )}
              </Stack>
            </TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}
