/** Names of the flows and task types as caseworkers know them. */
import { taskSchemas } from '@schemas/index.js';

export const PROCESS_LABELS: Record<string, string> = {
  'dropout-escalation': '辍学劝返',
  'enrollment-verification': '入学核查',
  'child-verification': '入学核查（逐一核实）',
  'whole-class-handover': '小升初整班移交',
  'dropout-statistics': '辍学情况统计',
  'special-needs-census': '残疾儿童摸排',
  'semester-home-visits': '学期家访',
};

export const processChoices = Object.entries(PROCESS_LABELS).map(([id, name]) => ({ id, name }));

export const taskTypeChoices = Object.entries(taskSchemas)
  .map(([id, s]) => ({ id, name: s.title }))
  .sort((a, b) => a.name.localeCompare(b.name, 'zh'));
