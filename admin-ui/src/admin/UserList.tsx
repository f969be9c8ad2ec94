/**
 * 账号管理: the accounts of the manager's jurisdiction — create, deactivate/reactivate, unlock after
 * failed sign-ins, set a new password; each with its role and where it acts (class, school, town, county).
 */
import { Button as MuiButton, Chip, Dialog, DialogActions, DialogContent, DialogTitle, Stack } from '@mui/material';
import { useState, type MouseEvent } from 'react';
import {
  CreateButton,
  DataTable,
  FunctionField,
  List,
  ReferenceField,
  SelectInput,
  TextField as RaTextField,
  TextInput,
  TopToolbar,
  useNotify,
  useRecordContext,
  useRefresh,
} from 'react-admin';
import { apiFetch, ApiError } from '../api';
import { ROLE_LABELS } from '../authProvider';
import { useNewPassword } from './NewPassword';

export const roleChoices = Object.entries(ROLE_LABELS).map(([id, name]) => ({ id, name }));

const filters = [
  <TextInput key="q" source="q" label="用户名或姓名" alwaysOn />,
  <SelectInput key="role" source="role" label="角色" choices={roleChoices} alwaysOn />,
];

export function UserList() {
  return (
    <List
      title="账号管理"
      filters={filters}
      sort={{ field: 'username', order: 'ASC' }}
      actions={
        <TopToolbar>
          <CreateButton label="新建账号" />
        </TopToolbar>
      }
    >
      <DataTable bulkActionButtons={false} rowClick={false} data-testid="user-table">
        <DataTable.Col source="username" label="用户名" />
        <DataTable.Col source="displayName" label="姓名 / 单位" />
        <DataTable.Col source="role" label="角色">
          <FunctionField render={(u) => ROLE_LABELS[u.role as keyof typeof ROLE_LABELS] ?? u.role} />
        </DataTable.Col>
        <DataTable.Col label="辖区" source="regionCode" disableSort>
          <Jurisdiction />
        </DataTable.Col>
        <DataTable.Col label="状态" source="active" disableSort>
          <FunctionField
            render={(u) =>
              !u.active ? (
                <Chip size="small" label="已停用" />
              ) : u.locked ? (
                <Chip size="small" color="error" label="已锁定" />
              ) : (
                <Chip size="small" color="success" variant="outlined" label="正常" />
              )
            }
          />
        </DataTable.Col>
        <DataTable.Col label="操作" disableSort>
          <UserActions />
        </DataTable.Col>
      </DataTable>
    </List>
  );
}

/** Where the account acts: its class or school, else its region's code. */
function Jurisdiction() {
  const u = useRecordContext();
  if (!u) return null;
  if (u.classId)
    return (
      <ReferenceField source="classId" reference="classes" link={false}>
        <ReferenceField source="schoolId" reference="schools" link={false}>
          <RaTextField source="name" />
        </ReferenceField>{' '}
        <RaTextField source="name" />
      </ReferenceField>
    );
  if (u.schoolId)
    return (
      <ReferenceField source="schoolId" reference="schools" link={false}>
        <RaTextField source="name" />
      </ReferenceField>
    );
  return <>{u.regionCode}</>;
}

/** Unlock, deactivate or reactivate, and set a new password (PUT /api/users/:id). */
function UserActions() {
  const u = useRecordContext();
  const notify = useNotify();
  const refresh = useRefresh();
  const [resetting, setResetting] = useState(false);
  if (!u) return null;
  const put = async (body: Record<string, unknown>, done: string) => {
    try {
      await apiFetch(`/api/users/${u.id}`, { method: 'PUT', json: body });
      notify(done, { type: 'success' });
      refresh();
      return true;
    } catch (err) {
      const issue = err instanceof ApiError ? err.fieldIssues[0]?.message : undefined;
      notify(issue ?? (err instanceof ApiError ? err.message : '操作失败'), { type: 'error' });
      return false;
    }
  };
  const stop = (fn: () => void) => (e: MouseEvent) => {
    e.stopPropagation();
    fn();
  };
  return (
    <Stack direction="row" spacing={0.5} flexWrap="wrap" useFlexGap>
      {u.locked && (
        <MuiButton size="small" onClick={stop(() => void put({ unlock: true }, `已解除锁定：${u.username}`))}>
          解除锁定
        </MuiButton>
      )}
      <MuiButton
        size="small"
        color={u.active ? 'warning' : 'primary'}
        data-testid={`toggle-active-${u.username}`}
        onClick={stop(() => void put({ active: !u.active }, `${u.active ? '已停用' : '已启用'}：${u.username}`))}
      >
        {u.active ? '停用' : '启用'}
      </MuiButton>
      <MuiButton size="small" onClick={stop(() => setResetting(true))} data-testid={`reset-password-${u.username}`}>
        重置密码
      </MuiButton>
      {resetting && (
        <PasswordDialog
          title={`重置密码：${u.displayName}（${u.username}）`}
          onClose={() => setResetting(false)}
          onSave={(password) => put({ password }, `已重置密码：${u.username}（该账号需用新密码重新登录）`)}
        />
      )}
    </Stack>
  );
}

/** A new password, typed twice; the API's password policy answers in Chinese. */
export function PasswordDialog({
  title,
  onClose,
  onSave,
}: {
  title: string;
  onClose: () => void;
  onSave: (password: string) => Promise<boolean>;
}) {
  const pw = useNewPassword();
  const save = async () => {
    const password = pw.check();
    if (password && (await onSave(password))) onClose();
  };
  return (
    <Dialog open onClose={onClose} fullWidth maxWidth="xs" onClick={(e) => e.stopPropagation()}>
      <DialogTitle>{title}</DialogTitle>
      <DialogContent>
        <Stack spacing={2} sx={{ mt: 1 }}>
          {pw.fields}
        </Stack>
      </DialogContent>
      <DialogActions>
        <MuiButton onClick={onClose}>取消</MuiButton>
        <MuiButton variant="contained" onClick={save} data-testid="password-save">
          保存
        </MuiButton>
      </DialogActions>
    </Dialog>
  );
}
