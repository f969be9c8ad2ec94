/** The validation's problems, each naming its element and the check that found it. */
import { Alert, List, ListItemButton, ListItemText } from '@mui/material';
import type { Problem } from './model';

const SOURCE = { xml: '安全检查', engine: '引擎部署检查', lint: 'bpmnlint', rules: '本平台规则' };

export function ProblemList({ problems, onSelect }: { problems: Problem[]; onSelect?: (id: string) => void }) {
  if (problems.length === 0)
    return (
      <Alert severity="success" data-testid="validation-ok">
        校验通过，可以部署。
      </Alert>
    );
  return (
    <List dense data-testid="problems" sx={{ maxHeight: 240, overflow: 'auto' }}>
      {problems.map((p, i) => (
        <ListItemButton key={i} onClick={() => p.elementId && onSelect?.(p.elementId)}>
          <ListItemText
            primary={`${p.severity === 'error' ? '错误' : '提示'} · ${p.elementId || '整个文件'}：${p.message}`}
            secondary={`${SOURCE[p.source]}${p.rule ? ` · ${p.rule}` : ''}`}
            slotProps={{ primary: { color: p.severity === 'error' ? 'error' : 'warning.main', variant: 'body2' } }}
          />
        </ListItemButton>
      ))}
    </List>
  );
}
