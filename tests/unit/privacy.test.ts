import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { passwordProblem } from '../../api/auth/password.js';
import { groupsOf } from '../../api/auth/groups.js';
import {
  birthMonth,
  LOG_REDACT_PATHS,
  maskAddress,
  maskIdNumber,
  maskName,
  maskPhone,
  maskStudentNumber,
} from '../../api/domain/mask.js';

describe('masking of personal data', () => {
  it('keeps the division code and the last two characters of an ID number: the birth date and two sequence digits stay hidden', () => {
    expect(maskIdNumber('37048120150301901X')).toBe('370481**********1X');
    expect(maskIdNumber(null)).toBeNull();
  });

  it('masks the ID number inside a student number (G + ID) the same way, and the middle of any other', () => {
    expect(maskStudentNumber('G37048120150301901X')).toBe('G370481**********1X');
    expect(maskStudentNumber('L2015123456')).toBe('L2*******56');
    expect(maskStudentNumber(null)).toBeNull();
  });

  it('gives the birth year and month, not the date', () => {
    expect(birthMonth(new Date('2015-03-01T00:00:00Z'))).toBe('2015-03');
  });

  it('masks the middle of phone numbers, the detail of addresses and the middle of names', () => {
    expect(maskPhone('13800138000')).toBe('138****8000');
    expect(maskAddress('山东省滕州市荆河街道杏坛路18号3单元')).toBe('山东省滕州市****');
    expect(maskName('欧阳小明')).toBe('欧**明');
    expect(maskName('李明')).toBe('李*');
  });

  it('redacts personal fields and credentials from log lines wherever they are nested', () => {
    const lines: string[] = [];
    const log = pino({ redact: LOG_REDACT_PATHS }, { write: (l: string) => lines.push(l) });
    log.info({ idNumber: '37048120150301901X', child: { phone: '13800138000' }, password: 'secret' }, 'x');
    const line = lines.join('');
    expect(line).not.toContain('37048120150301901X');
    expect(line).not.toContain('13800138000');
    expect(line).not.toContain('secret');
    expect(line).toContain('[Redacted]');
  });
});

describe('password policy', () => {
  it.each([
    ['short1A!', '至少10位'],
    ['alllowercaseletters', '至少三类'],
    ['Lowercase1234', null],
    ['Kongchuo@2026', null],
  ])('%s → %s', (pw, problem) => {
    const found = passwordProblem(pw);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toContain(problem);
  });
});

describe('candidate groups of a user', () => {
  it('follow role and jurisdiction', () => {
    const base = { regionCode: '370481001', schoolId: 12, classId: 345 };
    expect(groupsOf({ ...base, role: 'TEACHER' })).toEqual(['class:345']);
    expect(groupsOf({ ...base, role: 'SCHOOL' })).toEqual(['school:12']);
    expect(groupsOf({ ...base, role: 'TOWN' })).toEqual(['town:370481001']);
    expect(groupsOf({ ...base, regionCode: '370481', role: 'JUSTICE' })).toEqual(['justice:370481']);
    expect(groupsOf({ ...base, role: 'SUPERVISOR' })).toEqual([]);
    expect(groupsOf({ ...base, classId: null, role: 'TEACHER' })).toEqual([]);
  });
});
