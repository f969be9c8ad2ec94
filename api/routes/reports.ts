/**
 * The statutory reports, each as JSON (the console) or a download (format=csv|xlsx), limited to what
 * the caller's jurisdiction covers (api/reports/scope.ts). Every download is audited: the files leave
 * the system.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Prisma } from '../../infra/db/prisma.js';
import { type Actor, actorOf } from '../auth/actor.js';
import { DROPOUT_REPORT_ROLES, REPORT_ROLES } from '../auth/duties.js';
import { audit } from '../auth/audit.js';
import { scope } from '../auth/scope.js';
import { AppError } from '../errors.js';
import { dropoutReport, dropoutReportOf, dropoutTable } from '../reports/dropouts.js';
import { type ReportFormat, type ReportTable, renderReport, reportFormat, XLSX_MIME } from '../reports/format.js';
import { parsePeriod, reportPeriod } from '../reports/period.js';
import { retentionReport, retentionReportOf, retentionTable } from '../reports/retention.js';
import { reportRegion } from '../reports/scope.js';
import {
  reportDifferences,
  restrictToRegion,
  type ServedVerificationReport,
  servedVerificationReport,
  verificationReport,
  verificationReportOf,
  verificationTable,
} from '../reports/verification.js';
import { errorResponse } from './shared.js';

const countyCode = z.string().regex(/^\d{6}$/, '县级行政区划代码应为 6 位数字');
const schoolYear = z.coerce.number().int().min(2000).max(2100);
/** [P] compulsory school age, age on 31 August: a default policy staff can override per report. */
const DEFAULT_MIN_AGE = 6;
const DEFAULT_MAX_AGE = 14;

/** JSON for the console; the files are described in OpenAPI next to it. */
function reportResponses(json: z.ZodType) {
  return {
    200: {
      description: 'format=json: the report; format=csv (UTF-8 with BOM) or xlsx: the same table as a download',
      content: {
        'application/json': { schema: json },
        'text/csv': { schema: z.string() },
        [XLSX_MIME]: { schema: z.string() },
      },
    },
    400: errorResponse,
    401: errorResponse,
    403: errorResponse,
    404: errorResponse,
  };
}

interface Download {
  name: string;
  /** What left the system, for the audit log. */
  details: Record<string, string | number>;
  table: () => ReportTable;
  /** Chinese file name without extension, and its ASCII fallback. */
  fileName: string;
  asciiName: string;
}

/** JSON as is; a download rendered, audited and sent as an attachment. */
async function send(
  prisma: Prisma,
  req: FastifyRequest,
  reply: FastifyReply,
  actor: Actor,
  format: ReportFormat,
  report: unknown,
  download: Download,
) {
  if (format === 'json') return reply.type('application/json; charset=utf-8').send(report);
  const file = await renderReport(download.table(), format, download.fileName, download.asciiName);
  await audit(prisma, actor, {
    action: 'EXPORT',
    entity: 'report',
    entityId: download.name,
    details: { format, ...download.details },
    ip: req.ip,
  });
  return reply.type(file.contentType).header('content-disposition', file.contentDisposition).send(file.body);
}

export const reportsRoutes: FastifyPluginAsyncZod = async (app) => {
  /** The rows' region prefix for a county the caller may see; an unknown county is not found either. */
  async function countyRegion(actor: Actor, county: string): Promise<string> {
    const region = reportRegion(actor, county);
    const known = await app.prisma.region.count({ where: { code: county, level: 'COUNTY' } });
    if (!known) throw new AppError('NOT_FOUND');
    return region;
  }

  app.get(
    '/api/reports/verification',
    {
      config: { roles: REPORT_ROLES },
      schema: {
        tags: ['reports'],
        summary: '入学核查情况统计表: suspects per round and town by outcome code, 核减 and 疑似失学',
        querystring: z.object({
          campaign: z.coerce.number().int().positive(),
          format: reportFormat,
          /** true: today's figures even when the campaign's report was published. */
          live: z
            .enum(['true', 'false'], { message: 'live 只能为 true 或 false' })
            .optional()
            .transform((v) => v === 'true'),
        }),
        response: reportResponses(servedVerificationReport),
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const campaign = await app.prisma.campaign.findFirst({
        where: { AND: [{ id: req.query.campaign }, scope.campaigns(actor)] },
        select: { id: true, regionCode: true, year: true, status: true, reportedAt: true, reportSnapshot: true },
      });
      if (!campaign) throw new AppError('NOT_FOUND');
      const region = reportRegion(actor, campaign.regionCode);
      const figures = { id: campaign.id, regionCode: campaign.regionCode, year: campaign.year };
      const live = await verificationReportOf(app.prisma, figures, region);
      // A published campaign's report is the one frozen when the county compiled and published it.
      const frozen = campaign.status === 'REPORTED' ? verificationReport.safeParse(campaign.reportSnapshot) : null;
      const published = frozen?.success ? restrictToRegion(frozen.data, region) : null;
      const source = published && !req.query.live ? 'published' : 'live';
      const report: ServedVerificationReport = {
        ...(source === 'published' && published ? published : live),
        source,
        publishedAt: published ? (campaign.reportedAt?.toISOString() ?? null) : null,
        differences: published ? reportDifferences(published, live) : [],
      };
      return send(app.prisma, req, reply, actor, req.query.format, report, {
        name: 'verification',
        details: { campaign: campaign.id, region, source },
        table: () => verificationTable(report),
        fileName: `适龄儿童入学核查情况统计表-${region}-${campaign.year}`,
        asciiName: `verification-${region}-${campaign.year}`,
      });
    },
  );

  app.get(
    '/api/reports/dropouts',
    {
      config: { roles: DROPOUT_REPORT_ROLES },
      schema: {
        tags: ['reports'],
        summary: '辍学情况统计表 as of the end of March (YYYY-03) or October (YYYY-10), per town and school',
        querystring: z.object({ county: countyCode, period: reportPeriod, format: reportFormat }),
        response: reportResponses(dropoutReport),
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const region = await countyRegion(actor, req.query.county);
      if (actor.role === 'SCHOOL' && actor.schoolId === null) throw new AppError('NOT_FOUND');
      const period = parsePeriod(req.query.period);
      const schoolId = actor.role === 'SCHOOL' ? actor.schoolId : null;
      const report = await dropoutReportOf(app.prisma, req.query.county, region, period, schoolId);
      return send(app.prisma, req, reply, actor, req.query.format, report, {
        name: 'dropouts',
        details: { county: req.query.county, region, period: period.label, ...(schoolId === null ? {} : { schoolId }) },
        table: () => dropoutTable(report),
        fileName: `义务教育阶段学生辍学情况统计表-${region}-${period.label}`,
        asciiName: `dropouts-${region}-${period.label}`,
      });
    },
  );

  app.get(
    '/api/reports/retention',
    {
      config: { roles: REPORT_ROLES },
      schema: {
        tags: ['reports'],
        summary: '巩固率 and 入学率 of a school year per town, with numerators and denominators',
        querystring: z
          .object({
            county: countyCode,
            year: schoolYear,
            minAge: z.coerce.number().int().min(3).max(18).default(DEFAULT_MIN_AGE),
            maxAge: z.coerce.number().int().min(3).max(18).default(DEFAULT_MAX_AGE),
            format: reportFormat,
          })
          .refine((q) => q.minAge <= q.maxAge, { message: 'minAge 不能大于 maxAge', path: ['minAge'] }),
        response: reportResponses(retentionReport),
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const { county, year, minAge, maxAge, format } = req.query;
      const region = await countyRegion(actor, county);
      const report = await retentionReportOf(app.prisma, county, region, year, { minAge, maxAge });
      return send(app.prisma, req, reply, actor, format, report, {
        name: 'retention',
        details: { county, region, year, minAge, maxAge },
        table: () => retentionTable(report),
        fileName: `巩固率与入学率-${region}-${year}`,
        asciiName: `retention-${region}-${year}`,
      });
    },
  );
};
