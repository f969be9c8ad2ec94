/** 入学核查: the county's enrollment campaigns, one per year; the bureau starts the year's here. */
import { DataTable, DateField, FunctionField, List, TopToolbar } from 'react-admin';
import { CAMPAIGN_STATUS_LABELS } from './labels';
import { StartFlowButton } from './StartFlowButton';

export function CampaignList() {
  return (
    <List
      title="入学核查"
      sort={{ field: 'year', order: 'DESC' }}
      actions={
        <TopToolbar>
          <StartFlowButton flow="campaigns" />
        </TopToolbar>
      }
      empty={false}
    >
      <DataTable rowClick="show" bulkActionButtons={false} data-testid="campaign-table">
        <DataTable.Col source="year" label="年度" />
        <DataTable.Col source="status" label="进度" disableSort>
          <FunctionField render={(c) => CAMPAIGN_STATUS_LABELS[c.status] ?? c.status} />
        </DataTable.Col>
        <DataTable.Col source="suspects" label="疑似未入学" disableSort />
        <DataTable.Col source="createdAt" label="启动时间">
          <DateField source="createdAt" locales="zh-CN" />
        </DataTable.Col>
        <DataTable.Col source="reportedAt" label="通报时间" disableSort>
          <DateField source="reportedAt" locales="zh-CN" emptyText="—" />
        </DataTable.Col>
      </DataTable>
    </List>
  );
}
