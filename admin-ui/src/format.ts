/** Dates the way Chinese offices write them, in Beijing time. */
const TZ = 'Asia/Shanghai';

export function chineseDate(value: string | Date | null | undefined): string {
  if (!value) return '—';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  const parts = new Intl.DateTimeFormat('zh-CN', { timeZone: TZ, year: 'numeric', month: 'numeric', day: 'numeric' })
    .formatToParts(d)
    .reduce<Record<string, string>>((acc, p) => ({ ...acc, [p.type]: p.value }), {});
  return `${parts.year}年${parts.month}月${parts.day}日`;
}

/** "2015-07" → 2015年7月 (lists give the birth year and month only; the date is on the record page). */
export function chineseMonth(value: string | null | undefined): string {
  const m = value ? /^(\d{4})-(\d{2})/.exec(value) : null;
  return m ? `${m[1]}年${Number(m[2])}月` : '—';
}

export function chineseDateTime(value: string | Date | null | undefined): string {
  if (!value) return '—';
  const d = new Date(value);
  const time = new Intl.DateTimeFormat('zh-CN', {
    timeZone: TZ,
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  }).format(d);
  return `${chineseDate(d)} ${time}`;
}

/** Whole days from now until `value` (negative: overdue), counted in Beijing calendar days. */
export function daysUntil(value: string | null | undefined, now = new Date()): number | null {
  if (!value) return null;
  const day = (d: Date) => Math.floor((d.getTime() + 8 * 3600_000) / 86_400_000);
  return day(new Date(value)) - day(now);
}

/** "逾期 3 天" / "今天到期" / "还剩 2 天". */
export function dueLabel(value: string | null | undefined, now = new Date()): string {
  const days = daysUntil(value, now);
  if (days === null) return '无期限';
  if (days < 0) return `逾期 ${-days} 天`;
  if (days === 0) return '今天到期';
  return `还剩 ${days} 天`;
}

export function fileSize(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(1)} MB`
    : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

/**
 * Free text with ISO days in it (a note a form wrote: "2026-11-18 王老师 家访劝返未果") as people write
 * them: "2026年11月18日 王老师 家访劝返未果". Only well-formed calendar days are rewritten.
 */
export function chineseDatesIn(text: string | null | undefined): string {
  if (!text) return '';
  return text.replace(/(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)/g, (whole, y: string, m: string, d: string) => {
    const month = Number(m);
    const day = Number(d);
    if (month < 1 || month > 12 || day < 1 || day > 31) return whole;
    return `${y}年${month}月${day}日`;
  });
}
