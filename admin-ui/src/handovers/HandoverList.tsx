/** 整班移交: the county's primary→middle handovers, one per year; the bureau starts the year's here. */
import { DataTable, DateField, FunctionField, List, TopToolbar } from 'react-admin';
import { HANDOVER_STATUS_LABELS } from '../campaigns/labels';
import { StartFlowButton } from '../campaigns/StartFlowButton';

export function HandoverList() {
  return (
    <List
      title="整班移交"
      sort={{ field: 'year', order: 'DESC' }}
      actions={
        <TopToolbar>
          <StartFlowButton flow="handovers" />
        </TopToolbar>
      }
      empty={false}
    >
      <DataTable rowClick="show" bulkActionButtons={false} data-testid="handover-table">
        <DataTable.Col source="year" label="年度" />
        <DataTable.Col source="status" label="进度" disableSort>
          <FunctionField render={(h) => HANDOVER_STATUS_LABELS[h.status] ?? h.status} />
        </DataTable.Col>
        <DataTable.Col source="classes" label="班级数" disableSort />
        <DataTable.Col label="已报到 / 学生" source="pupils" disableSort>
          <FunctionField
            render={(h) => {
              const p = h.pupils as Record<string, number>;
              const all = Object.values(p).reduce((a, b) => a + b, 0);
              return `${p.REGISTERED ?? 0} / ${all}`;
            }}
          />
        </DataTable.Col>
        <DataTable.Col source="createdAt" label="启动时间">
          <DateField source="createdAt" locales="zh-CN" />
        </DataTable.Col>
      </DataTable>
    </List>
  );
}
