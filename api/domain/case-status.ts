/**
 * Chinese labels of a case's status and outcome. No imports: the console bundles this file too.
 * Indexing with a prisma CaseStatus fails to compile if a status lacks its label.
 */
export const CASE_STATUS_LABELS = {
  OPEN: '班主任劝返中',
  SCHOOL_CONFIRMED: '学校已确认',
  TOWN_ORDERED: '镇街已责令改正',
  URGED: '已下达敦促入学通知',
  LEGAL_NOTICE: '司法局已发文书',
  REFERRED: '已移送追究法律责任',
  RETURNED: '已复学',
  CLOSED: '已结案',
} as const;

/** A case in one of these is still being worked (the others end it); one such case per child at a time. */
export const OPEN_CASE_STATUSES = ['OPEN', 'SCHOOL_CONFIRMED', 'TOWN_ORDERED', 'URGED', 'LEGAL_NOTICE'] as const;

export const CASE_OUTCOME_LABELS = {
  RETURNED: '复学',
  TRANSFER_FOUND: '在他校就读',
  DEFERRED: '延缓入学',
  HOME_TEACHING: '送教上门',
  UNFOUNDED: '情况不实',
  REFERRED: '移送追究法律责任',
} as const;
