import { z } from 'zod';
import { chinaDay } from '../../api/domain/china-time.js';
import { defineWorker } from '../lib/define-worker.js';

const DUTY = z.enum(['DROPOUT_STATISTICS', 'SPECIAL_NEEDS_CENSUS', 'HOME_VISITS']);
type Duty = z.infer<typeof DUTY>;

const recipient = z.object({
  /** The candidate group of the recipient's task. */
  group: z.string(),
  townCode: z.string(),
  schoolId: z.number().int().nullable(),
  classId: z.number().int().nullable(),
});

/**
 * The period a duty round started today belongs to: the statistics table's last reporting date
 * (YYYY-03 or YYYY-10), the census's autumn term (YYYY-09), the home visits' semester (YYYY-春/秋).
 */
export function dutyPeriod(duty: Duty, today: string): string {
  const year = Number(today.slice(0, 4));
  const month = Number(today.slice(5, 7));
  if (duty === 'DROPOUT_STATISTICS') return month >= 10 ? `${year}-10` : month >= 3 ? `${year}-03` : `${year - 1}-10`;
  if (duty === 'SPECIAL_NEEDS_CENSUS') return month >= 9 ? `${year}-09` : `${year - 1}-09`;
  return month >= 9 ? `${year}-秋` : month >= 3 ? `${year}-春` : `${year - 1}-秋`;
}

/**
 * Who returns this round: every school (statistics), every town (census) or every class with pupils
 * on the roll this school year (home visits) — of one county when the bureau started the round,
 * else of every county.
 */
export default defineWorker({
  type: 'open-duty-round',
  description: '确定本期报送对象 — [T] 三 统计表、[T] 二(二) 特殊需要摸排、[T] 二(五) 每学期家访',
  input: z.object({
    duty: DUTY,
    county: z
      .string()
      .regex(/^\d{6}$/)
      .nullish(),
    period: z.string().max(10).nullish(),
  }),
  output: z.object({ period: z.string(), recipients: z.array(recipient) }),
  async handler(input, ctx) {
    const period = input.period ?? dutyPeriod(input.duty, chinaDay());
    const region = input.county ?? '';
    if (input.duty === 'DROPOUT_STATISTICS') {
      const schools = await ctx.prisma.school.findMany({
        where: { regionCode: { startsWith: region } },
        select: { id: true, regionCode: true },
        orderBy: { id: 'asc' },
      });
      return {
        period,
        recipients: schools.map((s) => ({
          group: `school:${s.id}`,
          townCode: s.regionCode,
          schoolId: s.id,
          classId: null,
        })),
      };
    }
    if (input.duty === 'SPECIAL_NEEDS_CENSUS') {
      const towns = await ctx.prisma.region.findMany({
        where: { level: 'TOWN', code: { startsWith: region } },
        select: { code: true },
        orderBy: { code: 'asc' },
      });
      return {
        period,
        recipients: towns.map((t) => ({ group: `town:${t.code}`, townCode: t.code, schoolId: null, classId: null })),
      };
    }
    const year = Number(period.slice(0, 4));
    const schoolYear = period.endsWith('秋') ? year : year - 1;
    const classes = await ctx.prisma.schoolClass.findMany({
      where: { schoolYear, regionCode: { startsWith: region }, registry: { some: { status: 'ENROLLED' } } },
      select: { id: true, schoolId: true, regionCode: true },
      orderBy: { id: 'asc' },
    });
    return {
      period,
      recipients: classes.map((c) => ({
        group: `class:${c.id}`,
        townCode: c.regionCode,
        schoolId: c.schoolId,
        classId: c.id,
      })),
    };
  },
});
