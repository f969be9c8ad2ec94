import { Box, Card, CardContent, Chip, Stack, Typography } from '@mui/material';
import { Show, useRecordContext } from 'react-admin';
import { chineseDate } from '../format';
import { FLAG_LABELS } from './flags';
import { ReportDropoutButton } from './ReportDropoutButton';

/** A child's record in full (this read is audited by the API). */
export function ChildShow() {
  return (
    <Show title="学生档案" component="div">
      <ChildRecord />
    </Show>
  );
}

function ChildRecord() {
  const c = useRecordContext();
  if (!c) return null;
  const rows: [string, React.ReactNode][] = [
    ['身份证号', c.idNumber],
    ['性别', c.gender === 'MALE' ? '男' : '女'],
    ['出生日期', chineseDate(c.birthDate)],
    ['学籍号', c.studentNumber ?? '—'],
    ['户籍地址', c.householdAddress ?? '—'],
    ['居住地址', c.residenceAddress ?? '—'],
  ];
  return (
    <Card sx={{ mt: 1 }} data-testid="child-record">
      <CardContent>
        <Stack direction="row" alignItems="center" flexWrap="wrap" gap={1} sx={{ mb: 1 }}>
          <Typography variant="h5">{c.name}</Typography>
          <Box sx={{ flex: 1 }} />
          <ReportDropoutButton variant="outlined" />
        </Stack>
        <Stack direction="row" flexWrap="wrap" gap={0.5} sx={{ mb: 1 }}>
          {(c.flags as string[]).map((f) => (
            <Chip key={f} size="small" color="warning" label={FLAG_LABELS[f] ?? f} />
          ))}
        </Stack>
        {rows.map(([k, v]) => (
          <Stack key={k} direction="row" spacing={2} sx={{ py: 0.5 }}>
            <Typography color="text.secondary" sx={{ minWidth: 80, flexShrink: 0 }}>
              {k}
            </Typography>
            <Typography sx={{ overflowWrap: 'anywhere' }}>{v}</Typography>
          </Stack>
        ))}
        <Typography variant="subtitle1" sx={{ mt: 2 }}>
          监护人
        </Typography>
        {(c.guardians as { name: string; relation: string; phone: string | null }[]).map((g, i) => (
          <Typography key={i}>
            {g.relation} {g.name} {g.phone ?? ''}
          </Typography>
        ))}
      </CardContent>
    </Card>
  );
}
