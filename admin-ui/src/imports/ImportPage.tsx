/**
 * 名单导入: the bureau uploads a department list or a school register. All or nothing — on any bad
 * row the file is refused and every bad row is listed with its line, column and reason.
 */
import {
  Alert,
  Box,
  Button,
  Card,
  CardContent,
  MenuItem,
  Stack,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  TextField,
  Typography,
} from '@mui/material';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Title, useNotify } from 'react-admin';
import { apiFetch, ApiError } from '../api';
import { chineseDateTime } from '../format';

interface Format {
  kind: string;
  label: string;
  department: string;
  columns: { header: string; required: boolean; rule: string }[];
}
interface RowError {
  line: number;
  column: string;
  reason: string;
}
interface Batch {
  id: number;
  kind: string;
  fileName: string;
  rowCount: number;
  year: number;
  importedAt: string;
}

export function ImportPage() {
  const notify = useNotify();
  const formats = useQuery({
    queryKey: ['import-formats'],
    queryFn: () => apiFetch<{ data: Format[] }>('/api/imports/formats'),
  });
  const batches = useQuery({
    queryKey: ['import-batches'],
    queryFn: () => apiFetch<{ data: Batch[] }>('/api/imports?sort=importedAt&order=DESC&perPage=20'),
  });
  const [kind, setKind] = useState('household');
  const [year, setYear] = useState(String(new Date().getFullYear()));
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [rowErrors, setRowErrors] = useState<RowError[]>([]);
  const [message, setMessage] = useState<{ severity: 'success' | 'error'; text: string } | null>(null);
  const format = formats.data?.data.find((f) => f.kind === kind);

  const upload = async () => {
    if (!file) return;
    const body = new FormData();
    body.append('year', year);
    body.append('file', file);
    setBusy(true);
    setRowErrors([]);
    try {
      const res = await apiFetch<{ created: number; updated: number; duplicate: boolean; batch: Batch }>(
        `/api/imports/${kind}`,
        {
          method: 'POST',
          body,
        },
      );
      setMessage({
        severity: 'success',
        text: res.duplicate
          ? `该文件此前已导入（${res.batch.rowCount} 行），未重复导入。`
          : `导入成功：共 ${res.batch.rowCount} 行，新增 ${res.created} 人，更新 ${res.updated} 人。`,
      });
      notify('导入成功', { type: 'success' });
      void batches.refetch();
    } catch (err) {
      const e = err instanceof ApiError ? err : undefined;
      setMessage({ severity: 'error', text: e?.message ?? '导入失败' });
      // IMPORT_REJECTED lists every bad row (a missing column is reported on line 1, the header).
      const rows = (e?.details as { errors?: RowError[] } | undefined)?.errors;
      if (Array.isArray(rows)) setRowErrors(rows);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Box sx={{ p: 2 }}>
      <Title title="名单导入" />
      <Card>
        <CardContent>
          <Stack direction="row" spacing={2} alignItems="center">
            <TextField
              select
              label="名单类型"
              value={kind}
              onChange={(e) => setKind(e.target.value)}
              sx={{ minWidth: 240 }}
            >
              {(formats.data?.data ?? []).map((f) => (
                <MenuItem key={f.kind} value={f.kind}>
                  {f.label}（{f.department}）
                </MenuItem>
              ))}
            </TextField>
            <TextField label="年份" value={year} onChange={(e) => setYear(e.target.value)} sx={{ width: 120 }} />
            <Button component="label" variant="outlined">
              {file ? file.name : '选择文件'}
              <input
                type="file"
                hidden
                accept=".csv,.xlsx"
                data-testid="import-file"
                onChange={(e) => setFile(e.target.files?.[0] ?? null)}
              />
            </Button>
            <Button variant="contained" disabled={!file || busy} onClick={upload} data-testid="import-submit">
              上传导入
            </Button>
          </Stack>
          {format && (
            <Typography variant="body2" color="text.secondary" sx={{ mt: 1 }}>
              列：{format.columns.map((c) => `${c.header}${c.required ? '（必填）' : ''}`).join('、')}。CSV（UTF-8 或
              GBK）或 XLSX；有任何一行不符合要求，整个文件不导入。
            </Typography>
          )}
          {message && (
            <Alert severity={message.severity} sx={{ mt: 2 }} data-testid="import-result">
              {message.text}
            </Alert>
          )}
          {rowErrors.length > 0 && (
            <Table size="small" sx={{ mt: 1 }} data-testid="import-errors">
              <TableHead>
                <TableRow>
                  <TableCell>行号</TableCell>
                  <TableCell>列</TableCell>
                  <TableCell>问题</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {rowErrors.slice(0, 200).map((r, i) => (
                  <TableRow key={i}>
                    <TableCell>{r.line}</TableCell>
                    <TableCell>{r.column}</TableCell>
                    <TableCell>{r.reason}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          )}
        </CardContent>
      </Card>
      <Card sx={{ mt: 2 }}>
        <CardContent>
          <Typography variant="h6">已导入文件</Typography>
          <Table size="small">
            <TableHead>
              <TableRow>
                <TableCell>文件</TableCell>
                <TableCell>类型</TableCell>
                <TableCell>年份</TableCell>
                <TableCell>行数</TableCell>
                <TableCell>导入时间</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {(batches.data?.data ?? []).map((b) => (
                <TableRow key={b.id}>
                  <TableCell>{b.fileName}</TableCell>
                  <TableCell>
                    {formats.data?.data.find((f) => f.kind.toUpperCase() === b.kind)?.label ?? b.kind}
                  </TableCell>
                  <TableCell>{b.year}</TableCell>
                  <TableCell>{b.rowCount}</TableCell>
                  <TableCell>{chineseDateTime(b.importedAt)}</TableCell>
                </TableRow>
              ))}
              {batches.data?.data.length === 0 && (
                <TableRow>
                  <TableCell colSpan={5}>暂无导入记录</TableCell>
                </TableRow>
              )}
            </TableBody>
          </Table>
        </CardContent>
      </Card>
    </Box>
  );
}
