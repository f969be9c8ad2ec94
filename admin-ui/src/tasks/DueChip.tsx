import { Chip } from '@mui/material';
import { daysUntil, dueLabel } from '../format';

/** Overdue in red, due within 2 days in orange, the rest plain. */
export function DueChip({ due }: { due: string | null | undefined }) {
  const days = daysUntil(due);
  const color = days === null ? 'default' : days < 0 ? 'error' : days <= 2 ? 'warning' : 'default';
  return <Chip size="small" color={color} label={dueLabel(due)} data-testid="due-chip" />;
}
