import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { openDropoutCaseInput } from '../../workers/open-dropout-case/schema.js';
import { actorOf } from '../auth/actor.js';
import { audit } from '../auth/audit.js';
import { CASEWORK_ROLES } from '../auth/duties.js';
import { OPEN_CASE_STATUSES } from '../domain/case-status.js';
import { chinaDay } from '../domain/china-time.js';
import { scope } from '../auth/scope.js';
import { AppError } from '../errors.js';
import { formatCaseNumber } from '../../workers/open-dropout-case/handler.js';
import { errorResponse } from './shared.js';
import { intId } from '../resources/list.js';
import { storable } from '../domain/text.js';

/** The diagram a teacher's report starts: processes/dropout-escalation.bpmn. */
export const DROPOUT_ESCALATION_PROCESS = 'dropout-escalation';

const reportBody = z.object({
  /** The child (id of the children record). */
  child: z.uuid('请选择儿童'),
  /** The child's school; defaults to the school of the child's current registry record. */
  school: intId.optional(),
  /** Last day the child attended. */
  lastAttendance: z.iso.date('请填写最后到校日期（YYYY-MM-DD）'),
  reason: z.string().trim().min(1, '请填写辍学原因或情况').max(500).check(storable(true)),
});

export const dropoutReportRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/api/dropout-reports',
    {
      config: { roles: CASEWORK_ROLES },
      schema: {
        tags: ['cases'],
        summary: 'Report a suspected dropout: starts the escalation flow ([T] 二(四) 随时报告)',
        body: reportBody,
        response: {
          201: z.object({ processInstanceKey: z.string() }),
          400: errorResponse,
          404: errorResponse,
          409: errorResponse,
        },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const child = await app.prisma.child.findFirst({
        where: { AND: [{ id: req.body.child }, scope.children(actor)] },
        include: { registry: { orderBy: { schoolYear: 'desc' }, take: 1, include: { school: true } } },
      });
      if (!child) throw new AppError('NOT_FOUND', undefined, '没有找到该儿童，或该儿童不在您的辖区内。');
      const record = child.registry[0];
      const schoolId = req.body.school ?? record?.schoolId;
      if (!record || schoolId !== record.schoolId) {
        throw new AppError('VALIDATION_FAILED', [{ path: ['school'], message: '该儿童当前不在所选学校的学籍中' }]);
      }
      // One case per child at a time: a second report (a colleague's, or a retry) joins the open one.
      const open = await app.prisma.dropoutCase.findFirst({
        where: {
          childId: child.id,
          status: { in: [...OPEN_CASE_STATUSES] },
        },
      });
      if (open) {
        throw new AppError(
          'CONFLICT',
          { caseId: open.id },
          `该儿童已有在办的辍学案件（${formatCaseNumber(open.serial, open.openedAt)}），请在该案件中继续办理。`,
        );
      }
      if (req.body.lastAttendance > chinaDay()) {
        throw new AppError('VALIDATION_FAILED', [{ path: ['lastAttendance'], message: '最后到校日期不能晚于今天' }]);
      }
      const variables: z.infer<typeof openDropoutCaseInput> & Record<string, unknown> = {
        childId: child.id,
        schoolId: record.schoolId,
        classId: record.classId,
        townCode: record.school.regionCode,
        reportedBy: actor.userId,
        reporterName: actor.displayName,
        lastAttendance: req.body.lastAttendance,
        reason: req.body.reason,
      };
      const { processInstanceKey } = await app.engine.startProcess(DROPOUT_ESCALATION_PROCESS, variables);
      await audit(app.prisma, actor, {
        action: 'CREATE',
        entity: 'DropoutReport',
        entityId: processInstanceKey,
        details: { childId: child.id },
      });
      return reply.code(201).send({ processInstanceKey });
    },
  );
};
