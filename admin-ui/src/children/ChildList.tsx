import { Chip, Stack } from '@mui/material';
import {
  DataTable,
  FilterButton,
  FunctionField,
  List,
  SelectInput,
  TextInput,
  TopToolbar,
  usePermissions,
} from 'react-admin';
import type { Me } from '../authProvider';
import { ExportListButton } from '../exports';
import { chineseMonth } from '../format';
import { TownInput } from '../layout/TownInput';
import { FLAG_LABELS } from './flags';
import { ReportDropoutButton } from './ReportDropoutButton';

/** A whole 身份证号 or its last digits (the API asks for at least four; the lookup is audited). */
const ID_NUMBER = /^\d{0,17}[\dXx]$/;

function childFilters(isCounty: boolean) {
  return [
    <TextInput key="q" source="q" label="姓名" alwaysOn />,
    <TextInput
      key="idNumber"
      source="idNumber"
      label="身份证号"
      helperText="完整号码或后4位以上"
      alwaysOn
      validate={(v: string | undefined) =>
        !v || (ID_NUMBER.test(v.trim()) && v.trim().length >= 4) ? undefined : '请输入完整身份证号或至少后4位'
      }
    />,
    ...(isCounty ? [<TownInput key="regionCode" source="regionCode" label="户籍镇街" />] : []),
    <SelectInput
      key="flag"
      source="flag"
      label="重点关注"
      choices={Object.entries(FLAG_LABELS).map(([id, name]) => ({ id, name }))}
    />,
  ];
}

/**
 * 学生: children of my jurisdiction; ID numbers, student numbers, addresses and phones masked and the birth
 * month instead of the date (full only on the record page).
 */
export function ChildList() {
  const { permissions } = usePermissions<Me>();
  const isCounty = !!permissions && permissions.regionCode.length <= 6;
  return (
    <List
      title="学生"
      filters={childFilters(isCounty)}
      sort={{ field: 'name', order: 'ASC' }}
      actions={
        <TopToolbar>
          <FilterButton />
          <ExportListButton resource="children" name="学生名单" />
        </TopToolbar>
      }
    >
      <DataTable rowClick="show" bulkActionButtons={false}>
        <DataTable.Col source="name" label="姓名" />
        <DataTable.Col source="idNumber" label="身份证号" disableSort />
        <DataTable.Col label="性别" source="gender" disableSort>
          <FunctionField render={(c) => (c.gender === 'MALE' ? '男' : '女')} />
        </DataTable.Col>
        <DataTable.Col label="出生年月" source="birthMonth" disableSort>
          <FunctionField render={(c) => chineseMonth(c.birthMonth)} />
        </DataTable.Col>
        <DataTable.Col source="residenceAddress" label="居住地址" disableSort />
        <DataTable.Col label="重点关注" source="flags" disableSort>
          <FunctionField
            render={(c) => (
              <Stack direction="row" spacing={0.5}>
                {(c.flags as string[]).map((f) => (
                  <Chip key={f} size="small" label={FLAG_LABELS[f] ?? f} />
                ))}
              </Stack>
            )}
          />
        </DataTable.Col>
        <DataTable.Col label="操作" disableSort>
          <ReportDropoutButton />
        </DataTable.Col>
      </DataTable>
    </List>
  );
}
