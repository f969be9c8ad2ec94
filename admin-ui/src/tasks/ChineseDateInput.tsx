/**
 * A date field in Chinese (MUI X DatePicker, MIT, with dayjs): shown as 2026年11月18日 with a Chinese
 * calendar, stored as the API's YYYY-MM-DD — not the browser's native field, which shows mm/dd/yyyy
 * wherever the browser is not in Chinese. Typing works too: the digits fill year, month and day.
 */
import { DatePicker } from '@mui/x-date-pickers/DatePicker';
import { LocalizationProvider } from '@mui/x-date-pickers/LocalizationProvider';
import { AdapterDayjs } from '@mui/x-date-pickers/AdapterDayjs';
import { zhCN } from '@mui/x-date-pickers/locales';
import dayjs from 'dayjs';
import 'dayjs/locale/zh-cn';
import type { ReactNode } from 'react';
import { InputHelperText, useInput } from 'react-admin';

export const CHINESE_DATE_FORMAT = 'YYYY年MM月DD日';
const localeText = zhCN.components.MuiLocalizationProvider.defaultProps.localeText;

/** The Chinese date context for pickers (adapter, locale, texts). */
export function ChineseDates({ children }: { children: ReactNode }) {
  return (
    <LocalizationProvider dateAdapter={AdapterDayjs} adapterLocale="zh-cn" localeText={localeText}>
      {children}
    </LocalizationProvider>
  );
}

interface PickerProps {
  name: string;
  label: string | false;
  /** YYYY-MM-DD or empty. */
  value: string;
  onChange: (value: string) => void;
  onBlur?: () => void;
  error?: boolean;
  helperText?: ReactNode;
  fullWidth?: boolean;
  required?: boolean;
  /** Latest day allowed (YYYY-MM-DD), e.g. today for things that happened. */
  max?: string;
}

/** The picker on its own (dialogs keeping their values in state). */
export function ChineseDatePicker(props: PickerProps) {
  const value = props.value ? dayjs(props.value, 'YYYY-MM-DD') : null;
  return (
    <ChineseDates>
      <DatePicker
        label={props.label || undefined}
        value={value?.isValid() ? value : null}
        format={CHINESE_DATE_FORMAT}
        maxDate={props.max ? dayjs(props.max) : undefined}
        enableAccessibleFieldDOMStructure={false}
        onChange={(d) => props.onChange(d && d.isValid() ? d.format('YYYY-MM-DD') : '')}
        slotProps={{
          textField: {
            name: props.name,
            fullWidth: props.fullWidth,
            required: props.required,
            onBlur: props.onBlur,
            error: props.error,
            helperText: props.helperText,
          },
        }}
      />
    </ChineseDates>
  );
}

interface Props {
  source: string;
  label: string | false;
  fullWidth?: boolean;
  max?: string;
}

/** A react-admin input: its value is YYYY-MM-DD (or empty), its errors the form's. */
export function ChineseDateInput({ source, label, fullWidth, max }: Props) {
  const { field, fieldState } = useInput({ source });
  return (
    <ChineseDatePicker
      name={field.name}
      label={label}
      value={typeof field.value === 'string' ? field.value : ''}
      onChange={field.onChange}
      onBlur={field.onBlur}
      error={!!fieldState.error}
      // react-admin keeps a validation message as { message, args } (translatable), not a string: its
      // own helper text renders it (rendering the object itself crashed the form on the first check).
      helperText={fieldState.error ? <InputHelperText error={fieldState.error.message} /> : ' '}
      fullWidth={fullWidth}
      max={max}
    />
  );
}
