/** The console's frame: the menu shows only what the caller's role may use, with the task counts. */
import AssignmentIcon from '@mui/icons-material/Assignment';
import FolderSharedIcon from '@mui/icons-material/FolderShared';
import SchoolIcon from '@mui/icons-material/School';
import UploadFileIcon from '@mui/icons-material/UploadFile';
import BarChartIcon from '@mui/icons-material/BarChart';
import DescriptionIcon from '@mui/icons-material/Description';
import InsightsIcon from '@mui/icons-material/Insights';
import WhatshotIcon from '@mui/icons-material/Whatshot';
import AccountTreeIcon from '@mui/icons-material/AccountTree';
import FactCheckIcon from '@mui/icons-material/FactCheck';
import TransferWithinAStationIcon from '@mui/icons-material/TransferWithinAStation';
import ManageAccountsIcon from '@mui/icons-material/ManageAccounts';
import ApartmentIcon from '@mui/icons-material/Apartment';
import PolicyIcon from '@mui/icons-material/Policy';
import KeyIcon from '@mui/icons-material/Key';
import { Badge } from '@mui/material';
import type { ReactNode } from 'react';
import { Layout as RaLayout, Menu, useGetList, usePermissions } from 'react-admin';
import type { Me } from '../authProvider';
import { mayUse } from './access';

function useTaskCount(filter: Record<string, string>) {
  const { total } = useGetList('tasks', { filter, pagination: { page: 1, perPage: 1 } }, { refetchInterval: 30_000 });
  return total ?? 0;
}

function TaskMenuItem() {
  const open = useTaskCount({ view: 'group' });
  const overdue = useTaskCount({ overdue: 'true' });
  return (
    <Menu.Item
      to="/tasks"
      primaryText="待办任务"
      data-testid="menu-tasks"
      leftIcon={
        <Badge badgeContent={overdue || open} color={overdue ? 'error' : 'primary'} max={999} data-testid="task-badge">
          <AssignmentIcon />
        </Badge>
      }
    />
  );
}

function AppMenu() {
  const { permissions } = usePermissions<Me>();
  const may = (entry: string) => mayUse(entry, permissions);
  return (
    <Menu>
      <Menu.DashboardItem primaryText="工作台" />
      {may('tasks') && <TaskMenuItem />}
      {may('cases') && <Menu.Item to="/cases" primaryText="一人一案" leftIcon={<FolderSharedIcon />} />}
      {may('children') && <Menu.Item to="/children" primaryText="学生" leftIcon={<SchoolIcon />} />}
      {may('campaigns') && <Menu.Item to="/campaigns" primaryText="入学核查" leftIcon={<FactCheckIcon />} />}
      {may('handovers') && (
        <Menu.Item to="/handovers" primaryText="整班移交" leftIcon={<TransferWithinAStationIcon />} />
      )}
      {may('imports') && <Menu.Item to="/imports" primaryText="名单导入" leftIcon={<UploadFileIcon />} />}
      {may('reports') && <Menu.Item to="/reports" primaryText="统计报表" leftIcon={<BarChartIcon />} />}
      {may('forms') && <Menu.Item to="/forms" primaryText="办理表单" leftIcon={<DescriptionIcon />} />}
      {may('supervision') && <Menu.Item to="/supervision" primaryText="督导看板" leftIcon={<InsightsIcon />} />}
      {may('heatmaps') && <Menu.Item to="/heatmaps" primaryText="流程热力图" leftIcon={<WhatshotIcon />} />}
      {may('modeler') && <Menu.Item to="/modeler" primaryText="流程设计" leftIcon={<AccountTreeIcon />} />}
      {may('users') && <Menu.Item to="/users" primaryText="账号管理" leftIcon={<ManageAccountsIcon />} />}
      {may('schools') && <Menu.Item to="/schools" primaryText="学校与班级" leftIcon={<ApartmentIcon />} />}
      {may('audit') && <Menu.Item to="/audit" primaryText="审计日志" leftIcon={<PolicyIcon />} />}
      {may('password') && <Menu.Item to="/password" primaryText="修改密码" leftIcon={<KeyIcon />} />}
    </Menu>
  );
}

/**
 * On a phone (390 px) nothing may be wider than the screen: the content may shrink, a wide table scrolls
 * inside its own box, toolbars and filters wrap.
 */
const PHONE_SAFE = {
  '& .RaLayout-content': { minWidth: 0, px: { xs: 0.5, sm: 2 } },
  '& .RaLayout-contentWithSidebar, & .RaLayout-appFrame': { minWidth: 0, maxWidth: '100vw' },
  '& .RaList-main, & .RaList-content, & .RaShow-main': { minWidth: 0 },
  // Above the list's own `overflow: inherit` (same specificity otherwise, and inserted later).
  '& .RaList-main .RaList-content, & .MuiTableContainer-root': { overflowX: 'auto' },
  '& .RaList-main .RaListToolbar-root, & .RaList-main .RaTopToolbar-root, & .RaList-main .RaFilterForm-root': {
    flexWrap: 'wrap',
    minWidth: 0,
    maxWidth: '100%',
  },
  '& .RaTopToolbar-root': { flexWrap: 'wrap' },
  // A phone shows a list's words whole, the table scrolling sideways in its card, not one character a line.
  '& .RaDatagrid-table .MuiTableCell-root, & .RaDataTable-table .MuiTableCell-root': {
    whiteSpace: { xs: 'nowrap', md: 'normal' },
  },
  '& .RaToolbar-mobileToolbar': { position: 'static' },
};

export function Layout({ children }: { children: ReactNode }) {
  return (
    <RaLayout menu={AppMenu} sx={PHONE_SAFE}>
      {children}
    </RaLayout>
  );
}
