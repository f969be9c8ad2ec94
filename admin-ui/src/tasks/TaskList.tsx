/**
 * 待办任务: my tasks, my unit's tasks, the overdue ones — and for supervisors the whole jurisdiction.
 * Sorted by due date; claim in bulk; a row opens the task's form.
 */
import { Box, Tab, Tabs } from '@mui/material';
import {
  DatagridConfigurable,
  DateInput,
  FilterButton,
  FunctionField,
  List,
  ReferenceInput,
  SelectInput,
  TextField,
  TopToolbar,
  useListContext,
  useNotify,
  usePermissions,
  useRefresh,
  useUnselectAll,
  Button,
  AutocompleteInput,
} from 'react-admin';
import { useState } from 'react';
import { apiFetch, ApiError } from '../api';
import type { Me } from '../authProvider';
import { chineseDateTime } from '../format';
import { DueChip } from './DueChip';
import { PROCESS_LABELS, processChoices, taskTypeChoices } from './labels';
import { TownInput } from '../layout/TownInput';
import { ExportListButton } from '../exports';

type View = 'group' | 'mine' | 'overdue' | 'all';

const SUPERVISING = ['BUREAU', 'SUPERVISOR', 'ADMIN'];

function taskFilters(isCounty: boolean) {
  return [
    <SelectInput key="process" source="process" label="流程" choices={processChoices} alwaysOn />,
    <SelectInput key="type" source="type" label="任务类型" choices={taskTypeChoices} />,
    ...(isCounty ? [<TownInput key="town" source="town" label="镇街" />] : []),
    <ReferenceInput key="school" source="school" reference="schools" label="学校">
      <AutocompleteInput label="学校" optionText="name" />
    </ReferenceInput>,
    <DateInput
      key="dueBefore"
      source="dueBefore"
      label="期限早于"
      parse={(v: string) => (v ? `${v}T00:00:00+08:00` : v)}
    />,
  ];
}

/** Claims every selected task still open to me; reports how many could not be claimed. */
function BulkClaimButton() {
  const { selectedIds } = useListContext();
  const notify = useNotify();
  const refresh = useRefresh();
  const unselect = useUnselectAll('tasks');
  const [busy, setBusy] = useState(false);
  return (
    <Button
      label="批量认领"
      disabled={busy}
      onClick={async () => {
        setBusy(true);
        const results = await Promise.allSettled(
          selectedIds.map((id) => apiFetch(`/api/tasks/${id}/claim`, { method: 'POST' })),
        );
        const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
        setBusy(false);
        unselect();
        refresh();
        if (failed.length === 0) notify(`已认领 ${results.length} 项任务`, { type: 'success' });
        else
          notify(
            `已认领 ${results.length - failed.length} 项；${failed.length} 项未能认领：${
              failed[0]!.reason instanceof ApiError ? failed[0]!.reason.message : '未知原因'
            }`,
            { type: 'warning' },
          );
      }}
    />
  );
}

function Inbox({ view }: { view: View }) {
  const { permissions } = usePermissions<Me>();
  const isCounty = !!permissions && permissions.regionCode.length <= 6;
  const supervising = !!permissions && SUPERVISING.includes(permissions.role);
  // A supervisor's 已逾期 is the jurisdiction's: the bureau oversees every task of the county.
  const filter = view === 'overdue' ? { overdue: 'true', ...(supervising ? { view: 'all' } : {}) } : { view };
  return (
    <List
      resource="tasks"
      title="待办任务"
      filter={filter}
      filters={taskFilters(isCounty)}
      sort={{ field: 'dueDate', order: 'ASC' }}
      perPage={25}
      disableSyncWithLocation
      storeKey={`tasks.${view}`}
      actions={
        <TopToolbar>
          <FilterButton />
          <ExportListButton resource="tasks" name="待办任务" filter={filter} />
        </TopToolbar>
      }
      empty={
        <Box sx={{ p: 4, color: 'text.secondary' }} data-testid="inbox-empty">
          暂无待办任务
        </Box>
      }
    >
      <DatagridConfigurable
        rowClick={(id) => `/tasks/${id}/show`}
        bulkActionButtons={view === 'all' ? false : <BulkClaimButton />}
        data-testid="task-table"
      >
        <TextField source="title" label="任务" sortable={false} />
        <FunctionField
          label="儿童 / 案号"
          sortable={false}
          render={(t) => (t.childName ? `${t.childName}${t.caseNumber ? `（${t.caseNumber}）` : ''}` : '—')}
        />
        <FunctionField label="镇街" sortable={false} render={(t) => t.townName ?? '—'} />
        <FunctionField
          label="流程"
          sortable={false}
          render={(t) => PROCESS_LABELS[t.bpmnProcessId] ?? t.bpmnProcessId}
        />
        <FunctionField source="dueDate" label="办理期限" render={(t) => <DueChip due={t.dueDate} />} />
        <FunctionField label="办理人" sortable={false} render={(t) => t.assigneeName ?? t.assignee ?? '未认领'} />
        <FunctionField source="createdAt" label="下达时间" render={(t) => chineseDateTime(t.createdAt)} />
      </DatagridConfigurable>
    </List>
  );
}

export function TaskList() {
  const { permissions } = usePermissions<Me>();
  const [view, setView] = useState<View>('group');
  const supervising = !!permissions && SUPERVISING.includes(permissions.role);
  return (
    <Box>
      <Tabs value={view} onChange={(_e, v: View) => setView(v)} sx={{ mb: 1 }}>
        <Tab value="group" label="本单位待办" />
        <Tab value="mine" label="我认领的" />
        <Tab value="overdue" label="已逾期" />
        {supervising && <Tab value="all" label="辖区全部" />}
      </Tabs>
      <Inbox key={view} view={view} />
    </Box>
  );
}
