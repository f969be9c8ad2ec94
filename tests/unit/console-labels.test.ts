/**
 * Chinese throughout: the labels and formats the console, the timeline, the exports and the 校报 show
 * instead of codes, English and ISO dates — and the 巩固率 that is not a figure yet.
 */
import { describe, expect, it } from 'vitest';
import { chineseDatesIn } from '../../admin-ui/src/format.js';
import { exportQuery } from '../../admin-ui/src/exportQuery.js';
import { graduationPending, retentionCell, retentionNote } from '../../admin-ui/src/reports/retention.js';
import { chineseDaysIn, schoolReportBody } from '../../api/domain/documents.js';
import { DROPOUT_REASON_LABELS, reasonCodeLabel } from '../../api/reports/labels.js';
import {
  ACTION_TITLES,
  actionTitle,
  actorName,
  actionNote,
  OUTCOME_LABELS,
  outcomeLabel,
  parseCaseNumber,
} from '../../api/routes/cases.js';

const HAN = /\p{Script=Han}/u;

describe('codes shown with their meaning', () => {
  it('gives every registry dropout reason of the code table its meaning', () => {
    expect(reasonCodeLabel('A2')).toBe('A2 厌学辍学');
    expect(reasonCodeLabel('A8')).toBe('A8 其他原因（出国、去世、超龄离校等）');
    expect(reasonCodeLabel(null)).toBeNull();
    // A code added later as a row is shown as it is, not dropped.
    expect(reasonCodeLabel('A9')).toBe('A9');
    expect(Object.keys(DROPOUT_REASON_LABELS).sort()).toEqual(['A2', 'A3', 'A4', 'A8', 'B2']);
  });

  it('names every outcome and decision a case action records in Chinese', () => {
    expect(outcomeLabel('PERSUASION_FAILED')).toBe('劝返未果');
    expect(outcomeLabel('CONFIRMED')).toBe('确认辍学');
    expect(outcomeLabel('REFER')).toBe('依法追究法律责任');
    expect(outcomeLabel('KEEP_PERSUADING')).toBe('退回镇街继续劝返');
    expect(outcomeLabel('RETURNED')).toBe('复学');
    expect(outcomeLabel('SOMETHING_NEW')).toBeNull();
    // Said once: a note that already names the outcome is not prefixed with it again.
    expect(actionNote('CONFIRMED', '确认辍学，劝返责任人 李副校长')).toBe('确认辍学，劝返责任人 李副校长');
    expect(actionNote('PERSUASION_FAILED', '2026-11-18 王老师 家访')).toBe('劝返未果；2026-11-18 王老师 家访');
    expect(actionNote(null, null)).toBeNull();
    for (const label of Object.values(OUTCOME_LABELS)) expect(label).toMatch(HAN);
  });

  it('never shows an action kind or the worker’s "system" as they are stored', () => {
    for (const kind of Object.keys(ACTION_TITLES)) expect(actionTitle(kind)).toMatch(HAN);
    expect(actionTitle('ESCALATED_SOMEWHERE')).toBe('逾期自动上报');
    expect(actionTitle('A_NEW_KIND')).toBe('办理记录');
    expect(actorName('system')).toBe('系统自动');
    expect(actorName('王老师（城关小学三年级1班班主任）')).toBe('王老师（城关小学三年级1班班主任）');
    expect(actorName(null)).toBeNull();
  });
});

describe('dates as Chinese offices write them', () => {
  it('rewrites ISO days inside free text, and nothing else', () => {
    expect(chineseDatesIn('2026-11-18 王老师 家访劝返未果')).toBe('2026年11月18日 王老师 家访劝返未果');
    expect(chineseDatesIn('限期至2026-01-05；另见2026-02-30')).toBe('限期至2026年1月5日；另见2026年2月30日');
    expect(chineseDatesIn('电话 2026-13-01 或 12026-11-18')).toBe('电话 2026-13-01 或 12026-11-18');
    expect(chineseDatesIn(null)).toBe('');
    expect(chineseDaysIn('2026-11-18 家访')).toBe('2026年11月18日 家访');
  });

  it('writes the 校报 with the reason’s meaning and a Chinese birth date', () => {
    const body = schoolReportBody({
      townName: '北辛街道',
      child: { name: '李四', gender: 'FEMALE', birthDate: new Date('2013-07-01T00:00:00Z') },
      schoolName: '北辛中学',
      reasonCode: 'A2',
      reason: '连续旷课',
      plan: '家访、心理辅导',
      responsiblePerson: '王老师',
      visits: [{ note: '2026-11-18 王老师 家访劝返未果' }],
    });
    expect(body).toContain('出生于2013年7月1日');
    expect(body).toContain('二、辍学原因：A2 厌学辍学；连续旷课');
    expect(body).toContain('四、劝返结果：2026年11月18日 王老师 家访劝返未果；劝返无效。');
    expect(body).not.toMatch(/\d{4}-\d{2}-\d{2}/);
  });
});

describe('case numbers as people type them', () => {
  it('reads the whole number, year and serial, or the serial alone', () => {
    expect(parseCaseNumber('辍-2026-000012')).toEqual({ year: 2026, serial: 12 });
    expect(parseCaseNumber('2026-12')).toEqual({ year: 2026, serial: 12 });
    expect(parseCaseNumber('000012')).toEqual({ year: undefined, serial: 12 });
    expect(parseCaseNumber(' 12 ')).toEqual({ year: undefined, serial: 12 });
    expect(parseCaseNumber('王小明')).toBeUndefined();
    expect(parseCaseNumber('0')).toBeUndefined();
    expect(parseCaseNumber('99999999999')).toBeUndefined();
  });
});

describe('巩固率 before the cohort graduates', () => {
  const dec2026 = new Date('2026-12-02T02:00:00Z');
  it('knows the graduations of school year Y are due from 1 July of Y + 1, Beijing time', () => {
    expect(graduationPending(2026, dec2026)).toBe(true);
    expect(graduationPending(2027, dec2026)).toBe(true);
    expect(graduationPending(2025, dec2026)).toBe(false);
    expect(graduationPending(2026, new Date('2027-06-30T15:59:00Z'))).toBe(true);
    expect(graduationPending(2026, new Date('2027-06-30T16:00:00Z'))).toBe(false);
  });

  it('says why there is no rate instead of showing 0 %', () => {
    expect(retentionCell(0, 0, 2026, dec2026)).toBe('尚未毕业');
    expect(retentionCell(0, 0, 2025, dec2026)).toBe('未登记毕业');
    expect(retentionCell(97.5, 390, 2025, dec2026)).toBe('97.5%');
    expect(retentionCell(null, 0, 2026, dec2026)).toBe('—');
    expect(retentionNote(2026, { graduates: 0, denominator: 400 }, dec2026)).toContain('尚未毕业');
    expect(retentionNote(2026, { graduates: 0, denominator: 400 }, dec2026)).toContain('2027年7月');
    expect(retentionNote(2025, { graduates: 390, denominator: 400 }, dec2026)).toBeNull();
    expect(retentionNote(2030, { graduates: 0, denominator: 0 }, dec2026)).toContain('无法计算');
  });
});

describe('export query', () => {
  it('carries the list’s filters, its permanent filter and its order, never react-admin’s id sort', () => {
    expect(exportQuery({ q: '王', flag: 'DISABLED' }, undefined, { field: 'name', order: 'DESC' }, 'csv')).toBe(
      `?q=${encodeURIComponent('王')}&flag=DISABLED&sort=name&order=DESC&format=csv`,
    );
    expect(exportQuery({}, { view: 'all', overdue: 'true' }, { field: 'id', order: 'ASC' }, 'xlsx')).toBe(
      '?view=all&overdue=true&order=ASC&format=xlsx',
    );
  });
});
