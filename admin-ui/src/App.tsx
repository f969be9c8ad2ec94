import { Admin, CustomRoutes, Resource } from 'react-admin';
import { Route } from 'react-router-dom';
import { authProvider } from './authProvider';
import { CaseList } from './cases/CaseList';
import { CaseShow } from './cases/CaseShow';
import { ChildList } from './children/ChildList';
import { ChildShow } from './children/ChildShow';
import { ModelerPage } from './modeler/ModelerPage';
import { dataProvider } from './dataProvider';
import { i18nProvider } from './i18n';
import { ImportPage } from './imports/ImportPage';
import { Dashboard } from './layout/Dashboard';
import { mayUse } from './layout/access';
import { Layout } from './layout/Layout';
import type { Me } from './authProvider';
import { ReportsPage } from './reports/ReportsPage';
import { HeatmapPage } from './supervision/HeatmapPage';
import { SupervisionDashboard } from './supervision/SupervisionDashboard';
import { CampaignList } from './campaigns/CampaignList';
import { CampaignShow } from './campaigns/CampaignShow';
import { HandoverList } from './handovers/HandoverList';
import { HandoverShow } from './handovers/HandoverShow';
import { AuditLog } from './admin/AuditLog';
import { PasswordPage } from './admin/PasswordPage';
import { SchoolCreate, SchoolList, SchoolShow } from './admin/SchoolList';
import { UserCreate } from './admin/UserCreate';
import { UserList } from './admin/UserList';
import { LoginPage } from './layout/LoginPage';
import { TaskList } from './tasks/TaskList';
import { TaskWork } from './tasks/TaskWork';
import { FormPreview } from './tasks/FormPreview';

export function App() {
  return (
    <Admin
      title="控辍保学工作平台"
      authProvider={authProvider}
      dataProvider={dataProvider}
      i18nProvider={i18nProvider}
      layout={Layout}
      loginPage={LoginPage}
      dashboard={Dashboard}
      requireAuth
      disableTelemetry
    >
      {(permissions: Me | undefined) => {
        // Only the pages the role may use exist: another one opened by URL is "not found", as in the API.
        const may = (entry: string) => mayUse(entry, permissions);
        return (
          <>
            {may('tasks') && <Resource name="tasks" list={TaskList} show={TaskWork} options={{ label: '待办任务' }} />}
            {may('cases') && (
              <Resource
                name="cases"
                list={CaseList}
                show={CaseShow}
                options={{ label: '一人一案' }}
                recordRepresentation="caseNumber"
              />
            )}
            {may('children') && (
              <Resource
                name="children"
                list={ChildList}
                show={ChildShow}
                options={{ label: '学生' }}
                recordRepresentation="name"
              />
            )}
            <Resource name="towns" />
            {may('campaigns') && (
              <Resource name="campaigns" list={CampaignList} show={CampaignShow} options={{ label: '入学核查' }} />
            )}
            {may('handovers') && (
              <Resource name="handovers" list={HandoverList} show={HandoverShow} options={{ label: '整班移交' }} />
            )}
            {may('schools') ? (
              <Resource
                name="schools"
                list={SchoolList}
                show={SchoolShow}
                create={SchoolCreate}
                options={{ label: '学校与班级' }}
                recordRepresentation="name"
              />
            ) : (
              <Resource name="schools" recordRepresentation="name" />
            )}
            <Resource name="classes" recordRepresentation="name" />
            {may('users') ? (
              <Resource name="users" list={UserList} create={UserCreate} options={{ label: '账号管理' }} />
            ) : (
              <Resource name="users" />
            )}
            <CustomRoutes>
              {may('imports') && <Route path="/imports" element={<ImportPage />} />}
              {may('audit') && <Route path="/audit" element={<AuditLog />} />}
              {may('password') && <Route path="/password" element={<PasswordPage />} />}
              {may('reports') && <Route path="/reports" element={<ReportsPage />} />}
              {may('heatmaps') && <Route path="/heatmaps" element={<HeatmapPage />} />}
              {may('supervision') && <Route path="/supervision" element={<SupervisionDashboard />} />}
              {may('forms') && <Route path="/forms" element={<FormPreview />} />}
              {may('forms') && <Route path="/forms/:elementId" element={<FormPreview />} />}
              {may('modeler') && <Route path="/modeler" element={<ModelerPage />} />}
              {may('modeler') && <Route path="/modeler/:kind/:id" element={<ModelerPage />} />}
            </CustomRoutes>
          </>
        );
      }}
    </Admin>
  );
}
