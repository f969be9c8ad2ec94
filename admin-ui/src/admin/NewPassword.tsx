/** A new password typed twice — the fields and their check, shared by 修改密码 and the reset dialog. */
import { TextField } from '@mui/material';
import { useState } from 'react';

export function useNewPassword() {
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState<string | null>(null);
  /** The password when both entries agree; otherwise undefined, with the reason under the fields. */
  const check = (): string | undefined => {
    if (!password) return void setError('请填写新密码');
    if (password !== again) return void setError('两次输入的密码不一致');
    setError(null);
    return password;
  };
  const fields = (
    <>
      <TextField
        label="新密码"
        type="password"
        name="newPassword"
        required
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        helperText="至少 10 位，含大写字母、小写字母、数字、符号中的至少三类"
        autoComplete="new-password"
      />
      <TextField
        label="再次输入新密码"
        type="password"
        name="newPasswordAgain"
        required
        value={again}
        onChange={(e) => setAgain(e.target.value)}
        error={!!error}
        helperText={error ?? ' '}
        autoComplete="new-password"
      />
    </>
  );
  return { fields, check, setError };
}
