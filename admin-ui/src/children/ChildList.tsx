import { Chip, Stack } from '@mui/material';
import { DataTable, FunctionField, List, SelectInput, TextInput } from 'react-admin';
import { chineseMonth } from '../format';
import { FLAG_LABELS } from './flags';
import { ReportDropoutButton } from './ReportDropoutButton';

const filters = [
  <TextInput key="q" source="q" label="姓名" alwaysOn />,
  <SelectInput
    key="flag"
    source="flag"
    label="重点关注"
    choices={Object.entries(FLAG_LABELS).map(([id, name]) => ({ id, name }))}
  />,
];

/**
 * 学生: children of my jurisdiction; ID numbers, student numbers, addresses and phones masked and the birth
 * month instead of the date (full only on the record page).
 */
export function ChildList() {
  return (
    <List title="学生" filters={filters} sort={{ field: 'name', order: 'ASC' }}>
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
