/**
 * 导出: the whole list as it is filtered and sorted on screen, as XLSX or CSV, from the API's streamed
 * export (GET /api/exports/<resource>) — not react-admin's own exporter, which fetched one page of 1,000
 * rows (more than the API's 500) and failed.
 */
import DownloadIcon from '@mui/icons-material/Download';
import { Button as MuiButton, Menu, MenuItem } from '@mui/material';
import { useState } from 'react';
import { useListContext, useNotify } from 'react-admin';
import { apiDownload, ApiError } from './api';
import { exportQuery } from './exportQuery';

export function ExportListButton({
  resource,
  name,
  filter,
}: {
  /** children, cases or tasks. */
  resource: 'children' | 'cases' | 'tasks';
  /** The file's name before the date, for a browser that does not read the API's. */
  name: string;
  /** The list's permanent filter (e.g. the inbox's view). */
  filter?: Record<string, unknown>;
}) {
  const { filterValues, sort, total } = useListContext();
  const notify = useNotify();
  const [anchor, setAnchor] = useState<HTMLElement | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (format: 'xlsx' | 'csv') => {
    setAnchor(null);
    setBusy(true);
    try {
      await apiDownload(
        `/api/exports/${resource}${exportQuery(filterValues, filter, sort, format)}`,
        `${name}.${format}`,
      );
    } catch (err) {
      notify(err instanceof ApiError ? `导出失败：${err.message}` : '导出失败，请稍后重试', { type: 'error' });
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <MuiButton
        size="small"
        startIcon={<DownloadIcon />}
        disabled={busy || total === 0}
        onClick={(e) => setAnchor(e.currentTarget)}
        data-testid={`export-${resource}`}
      >
        {busy ? '正在导出…' : '导出'}
      </MuiButton>
      <Menu anchorEl={anchor} open={!!anchor} onClose={() => setAnchor(null)}>
        <MenuItem onClick={() => void run('xlsx')} data-testid={`export-${resource}-xlsx`}>
          导出 Excel（XLSX）
        </MenuItem>
        <MenuItem onClick={() => void run('csv')} data-testid={`export-${resource}-csv`}>
          导出 CSV
        </MenuItem>
      </Menu>
    </>
  );
}
