/**
 * 新建账号: name, initial password, role, and where the account acts — a teacher's class, a school
 * account's school, a town officer's town, a county office's county. The API checks the place lies in
 * the manager's jurisdiction and answers on the field.
 */
import { Card, CardContent, Stack, Typography } from '@mui/material';
import { useWatch } from 'react-hook-form';
import {
  AutocompleteInput,
  Form,
  PasswordInput,
  ReferenceInput,
  SaveButton,
  SelectInput,
  TextInput,
  Title,
  Toolbar,
  useNotify,
  usePermissions,
  useRedirect,
} from 'react-admin';
import { apiFetch, ApiError } from '../api';
import type { Me } from '../authProvider';
import { errorsOf } from '../tasks/schemaForm';
import { TownInput } from '../layout/TownInput';
import { roleChoices } from './UserList';

const COUNTY_ROLES = ['BUREAU', 'JUSTICE', 'POLICE', 'POLICY', 'SUPERVISOR', 'ADMIN'];

function Placement() {
  const role = useWatch({ name: 'role' }) as string | undefined;
  const schoolId = useWatch({ name: 'schoolId' }) as number | undefined;
  if (role === 'TEACHER')
    return (
      <>
        <ReferenceInput source="schoolId" reference="schools" perPage={50}>
          <AutocompleteInput label="学校 *" optionText="name" filterToQuery={(q) => ({ q })} helperText={false} />
        </ReferenceInput>
        {schoolId && (
          <ReferenceInput
            source="classId"
            reference="classes"
            filter={{ schoolId }}
            sort={{ field: 'name', order: 'ASC' }}
            perPage={100}
          >
            <SelectInput
              label="班级 *"
              optionText={(c) => `${c.schoolYear}学年 ${c.name}`}
              helperText={false}
              emptyText="请选择"
            />
          </ReferenceInput>
        )}
      </>
    );
  if (role === 'SCHOOL')
    return (
      <ReferenceInput source="schoolId" reference="schools" perPage={50}>
        <AutocompleteInput label="学校 *" optionText="name" filterToQuery={(q) => ({ q })} helperText={false} />
      </ReferenceInput>
    );
  if (role === 'TOWN') return <TownInput source="regionCode" label="镇街 *" />;
  if (role && COUNTY_ROLES.includes(role))
    return <TextInput source="regionCode" label="辖区区划代码 *" helperText="县级为6位，如 370481" />;
  return null;
}

export function UserCreate() {
  const notify = useNotify();
  const redirect = useRedirect();
  const { permissions } = usePermissions<Me>();
  const submit = async (values: Record<string, unknown>) => {
    const { schoolId, classId, regionCode, role, ...rest } = values;
    const body: Record<string, unknown> = { ...rest, role };
    if (role === 'TEACHER') body.classId = classId;
    else if (role === 'SCHOOL') body.schoolId = schoolId;
    else body.regionCode = regionCode;
    try {
      await apiFetch('/api/users', { method: 'POST', json: body });
      notify(`已新建账号：${String(values.username)}`, { type: 'success' });
      redirect('/users');
    } catch (err) {
      if (err instanceof ApiError && err.fieldIssues.length) {
        notify(err.fieldIssues[0]!.message, { type: 'error' });
        return errorsOf(err.fieldIssues);
      }
      notify(err instanceof ApiError ? err.message : '新建失败，请重试。', { type: 'error' });
    }
  };
  return (
    <Card sx={{ mt: 2, maxWidth: 640 }}>
      <Title title="新建账号" />
      <CardContent>
        <Typography variant="h6" gutterBottom>
          新建账号
        </Typography>
        <Form
          onSubmit={submit}
          defaultValues={{ regionCode: permissions?.regionCode?.length === 6 ? permissions.regionCode : '' }}
        >
          <Stack>
            <TextInput source="username" label="用户名 *" helperText="3–64位小写字母、数字、点、横线或下划线" />
            <TextInput source="displayName" label="姓名或单位名称 *" helperText={false} />
            <PasswordInput
              source="password"
              label="初始密码 *"
              helperText="至少 10 位，含大写字母、小写字母、数字、符号中的至少三类"
            />
            <SelectInput source="role" label="角色 *" choices={roleChoices} helperText={false} emptyText="请选择" />
            <Placement />
          </Stack>
          <Toolbar sx={{ px: 0, '&&&': { position: 'static' } }}>
            <SaveButton label="新建" alwaysEnable data-testid="user-save" />
          </Toolbar>
        </Form>
      </CardContent>
    </Card>
  );
}
