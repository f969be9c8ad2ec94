import { describe, expect, it } from 'vitest';
import { ageOn, checkIdNumber, idCheckChar, idNumberSchema } from '../../api/domain/id-number.js';

/** GB 11643-1999's own worked example: 11010519491231002X. */
const STANDARD_EXAMPLE = '11010519491231002X';

describe('身份证号 (GB 11643)', () => {
  it('computes the check character of the standard’s example', () => {
    expect(idCheckChar(STANDARD_EXAMPLE.slice(0, 17))).toBe('X');
  });

  it('accepts a valid number, normalises a lower-case x and derives birth date, gender and region', () => {
    const r = checkIdNumber(` ${STANDARD_EXAMPLE.toLowerCase()} `);
    expect(r).toEqual({
      ok: true,
      facts: {
        idNumber: STANDARD_EXAMPLE,
        regionCode: '110105',
        birthDate: new Date(Date.UTC(1949, 11, 31)),
        gender: 'FEMALE',
      },
    });
  });

  it.each([
    ['1101051949123100', '应为18位'],
    ['11010519491231002Y', '前17位应为数字'],
    ['110105194912310021', '校验位不正确'],
    ['110105201502300011', '出生日期 20150230 不存在'],
    ['110105209912310011', '晚于今天'],
  ])('refuses %s with a reason a caseworker understands', (value, reason) => {
    const r = checkIdNumber(value, new Date(Date.UTC(2026, 10, 22)));
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.reason).toContain(reason);
  });

  it('reads gender from the parity of the 17th digit', () => {
    const male = '37048120150301901';
    const female = '37048120150301902';
    expect(checkIdNumber(male + idCheckChar(male))).toMatchObject({ facts: { gender: 'MALE' } });
    expect(checkIdNumber(female + idCheckChar(female))).toMatchObject({ facts: { gender: 'FEMALE' } });
  });

  it('counts age in whole years, the birthday itself included', () => {
    const birth = new Date(Date.UTC(2015, 8, 1));
    expect(ageOn(birth, new Date(Date.UTC(2021, 7, 31)))).toBe(5);
    expect(ageOn(birth, new Date(Date.UTC(2021, 8, 1)))).toBe(6);
  });

  it('plugs into zod: parses to the normalised number or fails with the reason', () => {
    expect(idNumberSchema.parse(STANDARD_EXAMPLE.toLowerCase())).toBe(STANDARD_EXAMPLE);
    const bad = idNumberSchema.safeParse('110105194912310021');
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toContain('校验位');
  });
});
