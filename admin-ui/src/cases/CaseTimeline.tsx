/** The whole story of a case in order, with each issued notice and attachment to open. */
import { Box, Link as MuiLink, Stack, Typography } from '@mui/material';
import { useQuery } from '@tanstack/react-query';
import { apiFetch } from '../api';
import { chineseDatesIn, chineseDateTime } from '../format';

interface Entry {
  at: string;
  kind: string;
  title: string;
  actor: string | null;
  note: string | null;
  documentNumber: string | null;
  documentId: string | null;
  attachmentId: string | null;
}

export function CaseTimeline({ caseId, compact }: { caseId: string; compact?: boolean }) {
  const { data, isPending } = useQuery({
    queryKey: ['case-timeline', caseId],
    queryFn: () => apiFetch<{ entries: Entry[] }>(`/api/cases/${caseId}/timeline`),
  });
  if (isPending) return <Typography color="text.secondary">加载中…</Typography>;
  const entries = data?.entries ?? [];
  return (
    <Stack spacing={1} data-testid="case-timeline">
      {entries.map((e, i) => (
        <Box
          key={i}
          sx={{ borderLeft: 3, borderColor: e.kind.startsWith('DOCUMENT') ? 'error.main' : 'primary.light', pl: 1 }}
        >
          <Typography variant="caption" color="text.secondary">
            {chineseDateTime(e.at)} {e.actor ?? ''}
          </Typography>
          <Typography variant={compact ? 'body2' : 'body1'}>
            {chineseDatesIn(e.title)}
            {e.documentId && (
              <>
                {' '}
                <MuiLink href={`/api/cases/${caseId}/documents/${e.documentId}`} target="_blank" rel="noopener">
                  {e.documentNumber}（查看/打印）
                </MuiLink>
              </>
            )}
            {e.attachmentId && (
              <>
                {' '}
                <MuiLink href={`/api/attachments/${e.attachmentId}`} target="_blank" rel="noopener">
                  打开附件
                </MuiLink>
              </>
            )}
          </Typography>
          {e.note && !compact && (
            <Typography variant="body2" color="text.secondary">
              {chineseDatesIn(e.note)}
            </Typography>
          )}
        </Box>
      ))}
    </Stack>
  );
}
