/** The selected element's properties: name, clause (documentation), timer, job type and template, candidate groups. */
import { Button, MenuItem, Stack, TextField, Typography } from '@mui/material';
import { useEffect, useState } from 'react';
import { applyTemplate, type ElementProps, type ElementTemplate } from './model';

const TIMER_LABEL = {
  timeDuration: '期限（时长，如 P5D 或 =deadlines.townActWithin）',
  timeDate: '日期',
  timeCycle: '周期',
};

export function PropertiesForm({
  props,
  templates,
  readOnly,
  onChange,
}: {
  props: ElementProps;
  templates: ElementTemplate[];
  readOnly: boolean;
  onChange: (next: ElementProps) => void;
}) {
  const [draft, setDraft] = useState(props);
  useEffect(() => setDraft(props), [props]);
  const set = (patch: Partial<ElementProps>) => setDraft((d) => ({ ...d, ...patch }));
  const fitting = templates.filter((t) => t.appliesTo.includes(`bpmn:ServiceTask`));
  return (
    <Stack spacing={1.5} data-testid="properties">
      <Typography variant="subtitle2">
        {draft.type} · {draft.id}
      </Typography>
      <TextField
        label="名称"
        size="small"
        value={draft.name}
        disabled={readOnly}
        onChange={(e) => set({ name: e.target.value })}
      />
      <TextField
        label="依据条款（说明）"
        size="small"
        multiline
        minRows={2}
        value={draft.documentation}
        disabled={readOnly}
        helperText="注明出处：[T] 二(四)、[Y] 三(一)2、[G]、[R] 或 [P] 默认值"
        onChange={(e) => set({ documentation: e.target.value })}
      />
      {draft.timer && (
        <TextField
          label={TIMER_LABEL[draft.timer.kind]}
          size="small"
          name="timer"
          value={draft.timer.value}
          disabled={readOnly}
          onChange={(e) => set({ timer: { kind: draft.timer!.kind, value: e.target.value } })}
        />
      )}
      {draft.jobType !== undefined && (
        <>
          <TextField
            select
            label="元素模板（任务处理程序）"
            size="small"
            value={draft.template ?? ''}
            disabled={readOnly}
            onChange={(e) => {
              const t = fitting.find((x) => x.id === e.target.value);
              if (t) setDraft((d) => applyTemplate(d, t));
            }}
          >
            <MenuItem value="">（无）</MenuItem>
            {fitting.map((t) => (
              <MenuItem key={t.id} value={t.id}>
                {t.name}
              </MenuItem>
            ))}
          </TextField>
          <TextField
            label="任务类型（job type）"
            size="small"
            value={draft.jobType}
            disabled={readOnly}
            onChange={(e) => set({ jobType: e.target.value })}
          />
        </>
      )}
      {draft.candidateGroups !== undefined && (
        <TextField
          label="办理组（candidateGroups）"
          size="small"
          value={draft.candidateGroups}
          disabled={readOnly}
          onChange={(e) => set({ candidateGroups: e.target.value })}
        />
      )}
      {!readOnly && (
        <Button variant="outlined" size="small" data-testid="apply-properties" onClick={() => onChange(draft)}>
          应用到草稿
        </Button>
      )}
    </Stack>
  );
}
