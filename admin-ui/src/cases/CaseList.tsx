import { Chip } from '@mui/material';
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
import { chineseDate } from '../format';
import { TownInput } from '../layout/TownInput';
import { CASE_STATUS_LABELS } from '../../../api/domain/case-status';

const statusChoices = Object.entries(CASE_STATUS_LABELS).map(([id, name]) => ({ id, name }));

function caseFilters(isCounty: boolean) {
  return [
    <TextInput key="q" source="q" label="儿童姓名或案号" alwaysOn />,
    <SelectInput
      key="open"
      source="open"
      label="状态"
      alwaysOn
      choices={[
        { id: 'true', name: '未结案' },
        { id: 'false', name: '已结案' },
      ]}
    />,
    <SelectInput key="status" source="status" label="阶段" choices={statusChoices} />,
    ...(isCounty ? [<TownInput key="regionCode" source="regionCode" label="镇街" />] : []),
  ];
}

/** 一人一案: the cases of my jurisdiction (ID numbers masked). */
export function CaseList() {
  const { permissions } = usePermissions<Me>();
  const isCounty = !!permissions && permissions.regionCode.length <= 6;
  return (
    <List
      title="一人一案"
      filters={caseFilters(isCounty)}
      actions={
        <TopToolbar>
          <FilterButton />
          <ExportListButton resource="cases" name="一人一案" />
        </TopToolbar>
      }
      sort={{ field: 'openedAt', order: 'DESC' }}
      filterDefaultValues={{ open: 'true' }}
    >
      <DataTable rowClick="show" bulkActionButtons={false}>
        <DataTable.Col source="caseNumber" label="案号" disableSort />
        <DataTable.Col source="childName" label="儿童" disableSort />
        <DataTable.Col source="childIdNumber" label="身份证号" disableSort />
        <DataTable.Col source="schoolName" label="学校" disableSort />
        <DataTable.Col label="阶段" source="status">
          <FunctionField
            render={(c) => (
              <Chip size="small" label={CASE_STATUS_LABELS[c.status as keyof typeof CASE_STATUS_LABELS]} />
            )}
          />
        </DataTable.Col>
        <DataTable.Col label="开案日期" source="openedAt">
          <FunctionField render={(c) => chineseDate(c.openedAt)} />
        </DataTable.Col>
      </DataTable>
    </List>
  );
}
