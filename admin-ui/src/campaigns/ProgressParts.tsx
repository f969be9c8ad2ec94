/** Parts the progress pages of the county flows share: the figures on top and the task counts by type. */
import {
  Card,
  CardContent,
  Chip,
  Stack,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  Typography,
} from '@mui/material';

export function Figure({
  label,
  value,
  tone,
  testId,
}: {
  label: string;
  value: number;
  tone?: 'error';
  testId?: string;
}) {
  return (
    <Card sx={{ flex: '1 1 120px', minWidth: 0 }}>
      <CardContent sx={{ py: 1, '&:last-child': { pb: 1 } }}>
        <Typography variant="caption" color="text.secondary">
          {label}
        </Typography>
        <Typography variant="h5" color={tone === 'error' && value > 0 ? 'error' : undefined} data-testid={testId}>
          {value}
        </Typography>
      </CardContent>
    </Card>
  );
}

export function Figures({ children }: { children: React.ReactNode }) {
  return (
    <Stack direction="row" flexWrap="wrap" useFlexGap spacing={1} sx={{ my: 2 }}>
      {children}
    </Stack>
  );
}

export function Overdue({ n }: { n: number }) {
  return n > 0 ? <Chip size="small" color="error" label={`逾期 ${n}`} /> : <>0</>;
}

/** Open tasks by type, overdue first. */
export function TasksByType({ rows }: { rows: { elementId: string; title: string; open: number; overdue: number }[] }) {
  if (rows.length === 0) return <Typography color="text.secondary">没有待办任务</Typography>;
  return (
    <Table size="small" data-testid="tasks-by-type">
      <TableHead>
        <TableRow>
          <TableCell>任务</TableCell>
          <TableCell align="right">待办</TableCell>
          <TableCell align="right">逾期</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {rows.map((r) => (
          <TableRow key={r.elementId}>
            <TableCell>{r.title}</TableCell>
            <TableCell align="right">{r.open}</TableCell>
            <TableCell align="right">
              <Overdue n={r.overdue} />
            </TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}
