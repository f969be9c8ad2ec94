/** What the caseworkers submit for the periodic duties (dropout-statistics, special-needs-census, semester-home-visits). */
import { z } from 'zod';
import { confirmation, count, defineTaskSchema, optionalNote } from './fields.js';

/**
 * [T] 三 the school checks the statistics table the system filled in from its registers and cases,
 * and sends it; a figure it disputes is corrected in the records, not in the table.
 */
export const submitDropoutStatistics = defineTaskSchema({
  title: '学校报送辍学情况统计表',
  schema: z.object({
    confirmed: confirmation('已核对统计表，确认报送', '请核对统计表后确认报送'),
    note: optionalNote,
  }),
});

/** [T] 二(二) the town's start-of-term census of disabled children of compulsory age and their placement. */
export const censusSpecialNeeds = defineTaskSchema({
  title: '镇街摸排适龄残疾儿童安置情况',
  schema: z.object({
    surveyed: count('摸排人数'),
    newlyFound: count('新发现未安置人数'),
    placed: count('已安置人数'),
    note: optionalNote,
  }),
});

/** [T] 二(五) the class teacher's home visits of the semester, more for vulnerable children. */
export const reportHomeVisits = defineTaskSchema({
  title: '班主任报告本学期家访情况',
  schema: z.object({
    familiesVisited: count('家访户数'),
    vulnerableVisited: count('重点学生家访人次'),
    note: optionalNote,
  }),
});
