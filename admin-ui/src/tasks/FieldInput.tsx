/** One input of a task form, chosen by the field's kind (tasks/schemaForm.ts). */
import {
  Box,
  Button as MuiButton,
  Stack,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  Typography,
} from '@mui/material';
import { useFormContext, useWatch } from 'react-hook-form';
import {
  AutocompleteInput,
  BooleanInput,
  NumberInput,
  RadioButtonGroupInput,
  SelectInput,
  TextInput,
} from 'react-admin';
import type { z } from 'zod';
import { ChineseDateInput } from './ChineseDateInput';
import { requiredNow, type FieldSpec } from './schemaForm';

interface Props {
  field: FieldSpec;
  /** Full path in the form values (lines: pupils.3.note). */
  source?: string;
  choices?: Record<string, { id: string | number; name: string }[]>;
  lines?: Record<string, string>;
  /** Inside a roster line: no label above the input, the column header says it. */
  dense?: boolean;
  /** The task's schema: marks the fields the other values make required. */
  schema?: z.ZodType;
}

/** The field's label with its required mark, following the values entered so far. */
function useLabel(field: FieldSpec, schema: z.ZodType | undefined, dense: boolean | undefined): string | false {
  // Roster cells and forms without a schema watch nothing (a class of 40 would re-render on every key).
  const values = useWatch({ disabled: !!dense || !schema }) as Record<string, unknown> | undefined;
  if (dense) return false;
  if (field.kind === 'confirm') return field.title;
  const required = field.required || (!!schema && !!values && requiredNow(schema, values, field.name));
  return `${field.title}${required ? ' *' : ''}`;
}

export function FieldInput({ field, source = field.name, choices = {}, lines = {}, dense, schema }: Props) {
  const label = useLabel(field, dense ? undefined : schema, dense);
  const common = {
    source,
    label,
    helperText: false as const,
    fullWidth: !dense,
    'data-field': field.name,
    ...(dense ? { size: 'small' as const, margin: 'none' as const, sx: { my: 0 } } : {}),
  };
  switch (field.kind) {
    case 'select':
      return field.options!.length <= 3 && !dense ? (
        <RadioButtonGroupInput {...common} choices={field.options!} />
      ) : (
        <SelectInput {...common} choices={field.options!} emptyText="请选择" />
      );
    case 'lookup':
      return <AutocompleteInput {...common} choices={choices[field.name] ?? []} />;
    case 'date':
      return <ChineseDateInput source={source} label={label} fullWidth={!dense} />;
    case 'number':
      return <NumberInput {...common} min={0} step={1} />;
    case 'boolean':
    case 'confirm':
      return <BooleanInput {...common} label={dense ? '' : field.title} />;
    case 'multiline':
      return <TextInput {...common} multiline minRows={3} />;
    case 'lines':
      return <RosterLines field={field} lines={lines} />;
    default:
      return <TextInput {...common} />;
  }
}

/**
 * A roster form (报到注册, 衔接帮扶): one row per pupil the task prefilled, the pupil's name read-only,
 * the line's fields editable; for yes/no columns, "all yes" / "all no" in one click.
 */
function RosterLines({ field, lines }: { field: FieldSpec; lines: Record<string, string> }) {
  const { setValue } = useFormContext();
  const rows = (useWatch({ name: field.name }) as { childId: string }[] | undefined) ?? [];
  const toggles = field.lineFields!.filter((f) => f.kind === 'boolean');
  return (
    <Box sx={{ my: 2 }} data-testid={`lines-${field.name}`}>
      <Stack direction="row" spacing={2} alignItems="center" sx={{ mb: 1 }}>
        <Typography variant="subtitle1">
          {field.title}（共 {rows.length} 人）
        </Typography>
        {toggles.map((t) => (
          <Stack direction="row" spacing={1} key={t.name}>
            <MuiButton
              size="small"
              onClick={() =>
                rows.forEach((_r, i) => setValue(`${field.name}.${i}.${t.name}`, true, { shouldDirty: true }))
              }
            >
              全部{t.title}
            </MuiButton>
            <MuiButton
              size="small"
              onClick={() =>
                rows.forEach((_r, i) => setValue(`${field.name}.${i}.${t.name}`, false, { shouldDirty: true }))
              }
            >
              全部未{t.title.replace(/^已/, '')}
            </MuiButton>
          </Stack>
        ))}
      </Stack>
      <Table size="small">
        <TableHead>
          <TableRow>
            <TableCell>序号</TableCell>
            <TableCell>学生</TableCell>
            {field.lineFields!.map((f) => (
              <TableCell key={f.name}>{f.title}</TableCell>
            ))}
          </TableRow>
        </TableHead>
        <TableBody>
          {rows.map((row, i) => (
            <TableRow key={row.childId} data-testid="roster-line" data-child={lines[row.childId] ?? row.childId}>
              <TableCell>{i + 1}</TableCell>
              <TableCell>{lines[row.childId] ?? '（名单外）'}</TableCell>
              {field.lineFields!.map((f) => (
                <TableCell key={f.name} sx={{ minWidth: f.kind === 'boolean' ? 80 : 220 }}>
                  <FieldInput field={f} source={`${field.name}.${i}.${f.name}`} dense />
                </TableCell>
              ))}
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </Box>
  );
}
