/**
 * Why a 巩固率 is not (yet) a figure. The rate of school year Y counts the cohort's grade-9 pupils
 * whose registry record is GRADUATED (api/reports/retention.ts): school year Y runs from September of Y
 * to the summer of Y + 1, so before that summer nobody of the cohort has graduated and the rate would
 * read 0 % for every town — which is no rate at all.
 */

/** Grade 9 graduates in July; from 1 July of Y + 1 (Beijing) the graduations of school year Y are due. */
export function graduationPending(year: number, now = new Date()): boolean {
  const beijing = new Date(now.getTime() + 8 * 3600_000);
  const today = beijing.toISOString().slice(0, 10);
  return today < `${year + 1}-07-01`;
}

/** The note under the table, or null when the figures speak for themselves. */
export function retentionNote(
  year: number,
  total: { graduates: number; denominator: number },
  now = new Date(),
): string | null {
  if (total.denominator <= 0) {
    return `${year}学年没有该届学生（${year - 8}年入学一年级）的学籍记录，巩固率无法计算。`;
  }
  if (total.graduates > 0) return null;
  if (graduationPending(year, now)) {
    return `${year}学年（${year}年9月至${year + 1}年7月）的九年级学生尚未毕业：巩固率按毕业人数计算，须在${year + 1}年7月毕业、学籍登记为“毕业”后才有数字，故暂不计算。`;
  }
  return `${year}学年的九年级学生尚无毕业学籍登记（学籍状态未改为“毕业”），巩固率暂无法计算；请学校完成毕业学籍登记。`;
}

/** What the 巩固率 cell shows: the rate, or why there is none. */
export function retentionCell(rate: number | null, graduates: number, year: number, now = new Date()): string {
  if (rate === null) return '—';
  if (graduates === 0) return graduationPending(year, now) ? '尚未毕业' : '未登记毕业';
  return `${rate}%`;
}
