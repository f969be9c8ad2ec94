/**
 * 审计日志: who read or changed what, when, inside the caller's jurisdiction (GET /api/audit-events) —
 * filtered by child (every read of its record, its tasks and cases), person, action, record and day.
 */
import { Typography } from '@mui/material';
import {
  AutocompleteInput,
  DataTable,
  DateInput,
  FunctionField,
  List,
  ReferenceInput,
  SelectInput,
  TextInput,
} from 'react-admin';
import { chineseDateTime } from '../format';
import { AUDIT_ACTION_LABELS, AUDIT_ENTITY_LABELS } from './labels';

const choices = (labels: Record<string, string>) => Object.entries(labels).map(([id, name]) => ({ id, name }));

const filters = [
  <ReferenceInput key="child" source="child" reference="children" alwaysOn>
    <AutocompleteInput
      label="学生"
      optionText={(c) => `${c.name}（${c.idNumber}）`}
      filterToQuery={(q) => ({ q })}
      sx={{ minWidth: 240 }}
    />
  </ReferenceInput>,
  <ReferenceInput key="userId" source="userId" reference="users" alwaysOn>
    <AutocompleteInput
      label="操作人"
      optionText={(u) => `${u.displayName}（${u.username}）`}
      filterToQuery={(q) => ({ q })}
      sx={{ minWidth: 200 }}
    />
  </ReferenceInput>,
  <SelectInput key="action" source="action" label="操作" choices={choices(AUDIT_ACTION_LABELS)} alwaysOn />,
  <SelectInput key="entity" source="entity" label="对象" choices={choices(AUDIT_ENTITY_LABELS)} />,
  <TextInput key="entityId" source="entityId" label="对象编号" />,
  <DateInput key="from" source="from" label="起始日期" />,
  <DateInput key="to" source="to" label="截止日期" />,
];

/** The details of an event in a line (ids and field names as recorded). */
function details(d: unknown): string {
  if (!d || typeof d !== 'object') return '';
  return Object.entries(d as Record<string, unknown>)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join('；');
}

export function AuditLog() {
  return (
    <List title="审计日志" filters={filters} sort={{ field: 'at', order: 'DESC' }} resource="audit-events">
      <DataTable bulkActionButtons={false} rowClick={false} data-testid="audit-table">
        <DataTable.Col source="at" label="时间">
          <FunctionField render={(e) => chineseDateTime(e.at)} />
        </DataTable.Col>
        <DataTable.Col source="username" label="操作人" disableSort>
          <FunctionField render={(e) => e.username ?? '（未登录）'} />
        </DataTable.Col>
        <DataTable.Col source="action" label="操作" disableSort>
          <FunctionField render={(e) => AUDIT_ACTION_LABELS[e.action] ?? e.action} />
        </DataTable.Col>
        <DataTable.Col source="entity" label="对象" disableSort>
          <FunctionField render={(e) => AUDIT_ENTITY_LABELS[e.entity] ?? e.entity} />
        </DataTable.Col>
        <DataTable.Col source="entityId" label="对象编号" disableSort>
          <FunctionField
            render={(e) => (
              <Typography variant="body2" sx={{ overflowWrap: 'anywhere', maxWidth: 220 }}>
                {e.entityId ?? '—'}
              </Typography>
            )}
          />
        </DataTable.Col>
        <DataTable.Col source="details" label="详情" disableSort>
          <FunctionField
            render={(e) => (
              <Typography variant="caption" sx={{ overflowWrap: 'anywhere' }}>
                {details(e.details)}
              </Typography>
            )}
          />
        </DataTable.Col>
        <DataTable.Col source="ip" label="地址" disableSort />
      </DataTable>
    </List>
  );
}
