/** 修改密码: one's own password (PUT /api/users/:me); every session of the account ends, so sign in again. */
import { Alert, Card, CardContent, Stack, Button as MuiButton, Typography } from '@mui/material';
import { useState } from 'react';
import { Title, useLogout, useNotify, usePermissions } from 'react-admin';
import { apiFetch, ApiError } from '../api';
import type { Me } from '../authProvider';
import { useNewPassword } from './NewPassword';

export function PasswordPage() {
  const { permissions } = usePermissions<Me>();
  const notify = useNotify();
  const logout = useLogout();
  const pw = useNewPassword();
  const [busy, setBusy] = useState(false);
  const save = async () => {
    const password = pw.check();
    if (!password) return;
    setBusy(true);
    try {
      await apiFetch(`/api/users/${permissions!.userId}`, { method: 'PUT', json: { password } });
      notify('密码已修改，请用新密码重新登录。', { type: 'success' });
      await logout();
    } catch (err) {
      const issue = err instanceof ApiError ? err.fieldIssues[0]?.message : undefined;
      pw.setError(issue ?? (err instanceof ApiError ? err.message : '修改失败，请重试。'));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card sx={{ mt: 2, maxWidth: 480 }}>
      <Title title="修改密码" />
      <CardContent>
        <Typography variant="h6" gutterBottom>
          修改密码：{permissions?.displayName}（{permissions?.username}）
        </Typography>
        <Alert severity="info" sx={{ mb: 2 }}>
          修改后本账号在所有设备上的登录都会失效，需要用新密码重新登录。
        </Alert>
        <Stack spacing={2}>
          {pw.fields}
          <MuiButton variant="contained" disabled={busy} onClick={save} data-testid="password-save">
            {busy ? '保存中…' : '保存新密码'}
          </MuiButton>
        </Stack>
      </CardContent>
    </Card>
  );
}
