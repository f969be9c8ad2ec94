/**
 * 办理表单: every user-task form of every flow as the caseworker will see it, to check wording and
 * rules without a live task. Checking a filled-in preview runs the same validation; nothing is sent.
 */
import {
  Alert,
  Box,
  Card,
  CardContent,
  List,
  ListItemButton,
  ListItemText,
  ListSubheader,
  Stack,
  Typography,
} from '@mui/material';
import { Form, SaveButton, Title, Toolbar, useNotify } from 'react-admin';
import { useNavigate, useParams } from 'react-router-dom';
import { taskSchemasByFlow } from '@schemas/index.js';
import { FieldInput } from './FieldInput';
import { formOf, validateWith } from './schemaForm';

export function FormPreview() {
  const { elementId } = useParams<{ elementId?: string }>();
  const navigate = useNavigate();
  const notify = useNotify();
  const form = elementId ? formOf(elementId) : undefined;
  return (
    <Box sx={{ p: 2 }}>
      <Title title="办理表单" />
      <Stack direction="row" spacing={2} alignItems="flex-start">
        <Card sx={{ minWidth: 300 }}>
          <List dense data-testid="form-types">
            {Object.entries(taskSchemasByFlow).map(([flow, types]) => (
              <Box key={flow}>
                <ListSubheader>{flow}</ListSubheader>
                {Object.entries(types).map(([id, t]) => (
                  <ListItemButton key={id} selected={id === elementId} onClick={() => navigate(`/forms/${id}`)}>
                    <ListItemText primary={t.title} />
                  </ListItemButton>
                ))}
              </Box>
            ))}
          </List>
        </Card>
        <Card sx={{ flex: 1 }}>
          <CardContent>
            {!elementId && (
              <Typography color="text.secondary">请在左侧选择一个任务类型，查看办理人看到的表单。</Typography>
            )}
            {elementId && !form && <Alert severity="error">没有该任务类型的表单，请在左侧重新选择。</Alert>}
            {form && (
              <>
                <Typography variant="h6" gutterBottom data-testid="preview-title">
                  {form.title}
                </Typography>
                <Form
                  key={elementId}
                  validate={validateWith(form.schema)}
                  onSubmit={() => notify('填写符合要求（预览，未提交）', { type: 'success' })}
                  sanitizeEmptyValues={false}
                >
                  <Stack spacing={1}>
                    {form.fields.map((f) => (
                      <FieldInput key={f.name} field={f} />
                    ))}
                  </Stack>
                  <Toolbar sx={{ px: 0 }}>
                    <SaveButton label="检查填写" alwaysEnable />
                  </Toolbar>
                </Form>
              </>
            )}
          </CardContent>
        </Card>
      </Stack>
    </Box>
  );
}
