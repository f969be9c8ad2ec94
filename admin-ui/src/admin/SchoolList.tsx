/**
 * 学校与班级: the schools of the manager's jurisdiction, a new school in one of its towns, and each
 * school's classes with a new class (POST /api/schools, /api/classes).
 */
import { Card, CardContent, Stack, Typography } from '@mui/material';
import {
  CreateButton,
  DataTable,
  Form,
  FunctionField,
  List,
  NumberInput,
  ReferenceManyField,
  SaveButton,
  SelectInput,
  Show,
  TextInput,
  Title,
  Toolbar,
  TopToolbar,
  useNotify,
  useRecordContext,
  useRedirect,
  useRefresh,
} from 'react-admin';
import { apiFetch, ApiError } from '../api';
import { TownInput } from '../layout/TownInput';
import { errorsOf } from '../tasks/schemaForm';
import { SCHOOL_KIND_LABELS } from './labels';

const kindChoices = Object.entries(SCHOOL_KIND_LABELS).map(([id, name]) => ({ id, name }));

const filters = [
  <TextInput key="q" source="q" label="校名或标识码" alwaysOn />,
  <TownInput key="regionCode" source="regionCode" label="镇街" />,
  <SelectInput key="kind" source="kind" label="学段" choices={kindChoices} />,
];

export function SchoolList() {
  return (
    <List
      title="学校与班级"
      filters={filters}
      sort={{ field: 'code', order: 'ASC' }}
      actions={
        <TopToolbar>
          <CreateButton label="新建学校" />
        </TopToolbar>
      }
    >
      <DataTable rowClick="show" bulkActionButtons={false} data-testid="school-table">
        <DataTable.Col source="code" label="学校标识码" />
        <DataTable.Col source="name" label="校名" />
        <DataTable.Col source="kind" label="学段">
          <FunctionField render={(s) => SCHOOL_KIND_LABELS[s.kind] ?? s.kind} />
        </DataTable.Col>
        <DataTable.Col source="ownership" label="办学性质" disableSort>
          <FunctionField render={(s) => (s.ownership === 'PRIVATE' ? '民办' : '公办')} />
        </DataTable.Col>
        <DataTable.Col source="principal" label="校长" disableSort />
      </DataTable>
    </List>
  );
}

/** Submits a form to the API; its field errors land on the fields. */
function useSubmit(path: string, done: (body: Record<string, unknown>) => void) {
  const notify = useNotify();
  return async (values: Record<string, unknown>) => {
    try {
      const body = await apiFetch<Record<string, unknown>>(path, { method: 'POST', json: values });
      done(body);
    } catch (err) {
      if (err instanceof ApiError && err.fieldIssues.length) {
        notify(err.fieldIssues[0]!.message, { type: 'error' });
        return errorsOf(err.fieldIssues);
      }
      notify(err instanceof ApiError ? err.message : '保存失败，请重试。', { type: 'error' });
    }
  };
}

export function SchoolCreate() {
  const notify = useNotify();
  const redirect = useRedirect();
  const submit = useSubmit('/api/schools', (s) => {
    notify(`已新建学校：${String(s.name)}`, { type: 'success' });
    redirect(`/schools/${String(s.id)}/show`);
  });
  return (
    <Card sx={{ mt: 2, maxWidth: 640 }}>
      <Title title="新建学校" />
      <CardContent>
        <Typography variant="h6" gutterBottom>
          新建学校
        </Typography>
        <Form onSubmit={submit} defaultValues={{ ownership: 'PUBLIC' }}>
          <Stack>
            <TextInput source="code" label="学校标识码 *" helperText="10位数字" />
            <TextInput source="name" label="校名 *" helperText={false} />
            <SelectInput source="kind" label="学段 *" choices={kindChoices} helperText={false} emptyText="请选择" />
            <SelectInput
              source="ownership"
              label="办学性质"
              choices={[
                { id: 'PUBLIC', name: '公办' },
                { id: 'PRIVATE', name: '民办' },
              ]}
              helperText={false}
            />
            <TownInput source="regionCode" label="所在镇街 *" />
            <TextInput source="address" label="地址" helperText={false} />
            <TextInput source="principal" label="校长" helperText={false} />
            <TextInput source="phone" label="联系电话" helperText={false} />
          </Stack>
          <Toolbar sx={{ px: 0, '&&&': { position: 'static' } }}>
            <SaveButton label="新建" alwaysEnable />
          </Toolbar>
        </Form>
      </CardContent>
    </Card>
  );
}

export function SchoolShow() {
  return (
    <Show title="学校" component="div">
      <SchoolPage />
    </Show>
  );
}

function SchoolPage() {
  const s = useRecordContext();
  if (!s) return null;
  return (
    <Stack spacing={2} sx={{ mt: 1 }}>
      <Card>
        <CardContent>
          <Typography variant="h5" sx={{ overflowWrap: 'anywhere' }}>
            {s.name}
          </Typography>
          <Typography color="text.secondary">
            {s.code} · {SCHOOL_KIND_LABELS[s.kind] ?? s.kind} · {s.ownership === 'PRIVATE' ? '民办' : '公办'}
            {s.principal ? ` · 校长 ${s.principal}` : ''}
          </Typography>
        </CardContent>
      </Card>
      <Card>
        <CardContent sx={{ overflowX: 'auto' }}>
          <Typography variant="h6" gutterBottom>
            班级
          </Typography>
          <ReferenceManyField
            reference="classes"
            target="schoolId"
            sort={{ field: 'name', order: 'ASC' }}
            perPage={100}
          >
            <DataTable bulkActionButtons={false} data-testid="class-table">
              <DataTable.Col source="schoolYear" label="学年" />
              <DataTable.Col source="grade" label="年级" />
              <DataTable.Col source="name" label="班级" />
              <DataTable.Col source="headTeacher" label="班主任" disableSort />
              <DataTable.Col source="pupils" label="学籍人数" disableSort />
            </DataTable>
          </ReferenceManyField>
        </CardContent>
      </Card>
      <NewClass schoolId={Number(s.id)} />
    </Stack>
  );
}

function NewClass({ schoolId }: { schoolId: number }) {
  const notify = useNotify();
  const refresh = useRefresh();
  const thisYear = Number(new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 4));
  const submit = useSubmit('/api/classes', (c) => {
    notify(`已新建班级：${String(c.name)}`, { type: 'success' });
    refresh();
  });
  return (
    <Card>
      <CardContent>
        <Typography variant="h6" gutterBottom>
          新建班级
        </Typography>
        <Form
          onSubmit={(v: Record<string, unknown>) => submit({ ...v, schoolId })}
          defaultValues={{ schoolYear: thisYear, grade: 1 }}
        >
          <Stack direction={{ xs: 'column', sm: 'row' }} spacing={{ sm: 1 }}>
            <NumberInput source="schoolYear" label="学年 *" helperText={false} />
            <NumberInput source="grade" label="年级 *" min={1} max={9} helperText={false} />
            <TextInput source="name" label="班级名称 *" helperText={false} />
            <TextInput source="headTeacher" label="班主任" helperText={false} />
          </Stack>
          <Toolbar sx={{ px: 0, '&&&': { position: 'static' } }}>
            <SaveButton label="新建班级" alwaysEnable />
          </Toolbar>
        </Form>
      </CardContent>
    </Card>
  );
}
