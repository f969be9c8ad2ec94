/**
 * The error catalog: every error the API returns has a stable code, an HTTP status and a message a
 * caseworker can act on (Chinese, since the console shows it as is).
 */
export const errorCatalog = {
  VALIDATION_FAILED: { status: 400, message: '提交的数据不符合要求，请按提示修改后重试。' },
  MALFORMED_REQUEST: { status: 400, message: '请求格式不正确：网址中的中文等字符须经 URL 编码，请求头须完整。' },
  UNAUTHENTICATED: { status: 401, message: '请先登录。' },
  LOGIN_FAILED: { status: 401, message: '用户名或密码不正确。' },
  ACCOUNT_LOCKED: { status: 423, message: '登录失败次数过多，账号已临时锁定，请稍后再试或联系管理员。' },
  FORBIDDEN: { status: 403, message: '您的角色无权进行此操作。' },
  CSRF_FAILED: { status: 403, message: '页面已过期或请求来源不明，操作未执行；请刷新页面后重试。' },
  CROSS_SITE_REQUEST: { status: 403, message: '拒绝来自其他网站的请求，操作未执行。' },
  TOO_MANY_REQUESTS: { status: 429, message: '尝试次数过多，请稍后再试。' },
  NOT_FOUND: { status: 404, message: '没有找到该资源。' },
  CONFLICT: { status: 409, message: '该记录已存在或已被他人修改，请刷新后重试。' },
  IMPORT_REJECTED: { status: 422, message: '文件中有不符合要求的行，整个文件未导入；请按行号修改后重新上传。' },
  FILE_TOO_LARGE: { status: 413, message: '文件超过 50 MB，未导入；请按镇街拆分后分别上传。' },
  XLSX_TOO_LARGE: {
    status: 413,
    message: 'XLSX 文件解压后超过 100 MB，未导入（文件可能已损坏或被恶意构造）；请另存为 CSV 或按镇街拆分后上传。',
  },
  UNSUPPORTED_FILE: { status: 415, message: '无法读取该文件：请上传 CSV（UTF-8 或 GBK 编码）或 XLSX 文件。' },
  TASK_NOT_FOUND: { status: 404, message: '没有找到该任务，可能已被处理或编号有误。' },
  FORM_INVALID: { status: 422, message: '表单中有未填或填写不正确的项，请按提示修改后重新提交。' },
  TASK_NOT_OPEN: { status: 409, message: '该任务已经办结或已取消，无需再次提交。' },
  SUBMISSION_PENDING: {
    status: 409,
    message: '该任务的上一次提交仍在确认中，请稍后刷新查看结果，不要重复提交。',
  },
  SUBMISSION_UNCERTAIN: {
    status: 503,
    message: '流程引擎未及时答复。本次提交已记录，系统将在引擎恢复后自动确认并办结，请勿重复提交，稍后刷新查看。',
  },
  TASK_NOT_YOURS: { status: 403, message: '该任务不属于您的辖区或已由他人认领。' },
  UNKNOWN_TASK_TYPE: { status: 422, message: '该任务类型没有对应的办理表单，请联系管理员。' },
  DIAGRAM_INVALID: {
    status: 422,
    message: '流程图（或决策表）有问题，未部署；请按问题清单逐项修改后重新校验。',
  },
  DIAGRAM_UNSAFE: {
    status: 400,
    message:
      '文件未读取：含有 DTD（<!DOCTYPE>）或实体声明（<!ENTITY>），或超过 1 MB。请从建模工具重新导出 BPMN/DMN 文件。',
  },
  DIAGRAM_UNCHANGED: { status: 409, message: '与当前部署的版本完全相同，未产生新版本。' },
  DATABASE_UNAVAILABLE: { status: 503, message: '数据库暂时不可用，请稍后重试；本次操作未保存。' },
  ENGINE_UNAVAILABLE: { status: 503, message: '流程引擎暂时不可用，请稍后重试；已填写的内容未提交。' },
  NEEDS_ENGINE_DATABASE: {
    status: 501,
    message:
      '此功能（热力图、流程图部署历史与迁移计划、进度统计）需直接读取本系统流程引擎的数据库；当前经 REST 读取 Camunda 集群（ENGINE_READ_MODEL=rest），暂不提供。',
  },
  INTERNAL: { status: 500, message: '系统内部错误，请稍后重试或联系管理员。' },
} as const;

export type ErrorCode = keyof typeof errorCatalog;

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly details?: unknown,
    message?: string,
  ) {
    super(message ?? errorCatalog[code].message);
    this.status = errorCatalog[code].status;
  }
}
