/** Chinese names of the audit log's actions and records. */
export const AUDIT_ACTION_LABELS: Record<string, string> = {
  READ_PERSONAL: '查看个人信息',
  CREATE: '新建',
  UPDATE: '修改',
  IMPORT: '导入',
  EXPORT: '导出',
  LOGIN: '登录',
  LOGIN_FAILED: '登录失败',
  LOGOUT: '退出',
  TASK_COMPLETE: '办理任务',
};

export const AUDIT_ENTITY_LABELS: Record<string, string> = {
  Child: '学生档案',
  DropoutCase: '一人一案',
  DropoutReport: '辍学报告',
  CaseDocument: '文书',
  UserTask: '任务',
  Attachment: '附件',
  Campaign: '入学核查',
  HandoverBatch: '整班移交',
  ImportBatch: '名单导入',
  Region: '镇街',
  School: '学校',
  SchoolClass: '班级',
  User: '账号',
  report: '统计报表',
};

export const SCHOOL_KIND_LABELS: Record<string, string> = {
  PRIMARY: '小学',
  MIDDLE: '初中',
  NINE_YEAR: '九年一贯制',
  SPECIAL: '特殊教育学校',
};
