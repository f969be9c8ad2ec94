/** Chinese names of the county flows' states. */
export const CAMPAIGN_STATUS_LABELS: Record<string, string> = {
  COLLECTING: '收集部门名单',
  COMPARING: '比对学籍',
  VERIFYING: '逐一核实',
  REPORTED: '已通报',
};

export const HANDOVER_STATUS_LABELS: Record<string, string> = {
  PLANNING: '制定移交计划',
  APPROVED: '计划已批准',
  HANDED_OVER: '已交接',
  REGISTERING: '报到注册',
  TRACING: '追踪未报到学生',
  CLEARED: '已清零',
};

export const PUPIL_STATUS_LABELS: Record<string, string> = {
  PENDING: '待报到',
  REGISTERED: '已报到',
  NO_SHOW: '未报到',
  TRANSFER_FOUND: '在他校就读',
  MOVED: '已迁出',
  OTHER_COUNTY: '户籍在外县',
  DROPOUT: '辍学',
};
