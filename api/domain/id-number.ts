/**
 * 公民身份号码 (GB 11643-1999): 6-digit division code of household registration, 8-digit birth date,
 * 3-digit sequence (odd for men, even for women) and an ISO 7064 MOD 11-2 check character.
 */
import { z } from 'zod';

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS = '10X98765432';
const SHAPE = /^\d{17}[\dX]$/;

/** The check character for the first 17 digits. */
export function idCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i]!;
  return CHECK_CHARS[sum % 11]!;
}

export interface IdFacts {
  /** Normalised: upper-case X, no spaces. */
  idNumber: string;
  /** Six-digit division code of the registration (县级). */
  regionCode: string;
  birthDate: Date;
  gender: 'MALE' | 'FEMALE';
}

export type IdCheck = { ok: true; facts: IdFacts } | { ok: false; reason: string };

/** Validates a 身份证号 and derives what it encodes; `reason` is shown to the caseworker as is. */
export function checkIdNumber(raw: string, today = new Date()): IdCheck {
  const idNumber = raw.trim().toUpperCase();
  if (idNumber.length !== 18) return { ok: false, reason: `身份证号应为18位，实为${idNumber.length}位` };
  if (!SHAPE.test(idNumber)) return { ok: false, reason: '身份证号前17位应为数字，末位为数字或X' };
  const y = Number(idNumber.slice(6, 10));
  const m = Number(idNumber.slice(10, 12));
  const d = Number(idNumber.slice(12, 14));
  const birthDate = new Date(Date.UTC(y, m - 1, d));
  const realDate =
    birthDate.getUTCFullYear() === y && birthDate.getUTCMonth() === m - 1 && birthDate.getUTCDate() === d;
  if (!realDate || y < 1900) return { ok: false, reason: `身份证号中的出生日期 ${idNumber.slice(6, 14)} 不存在` };
  if (birthDate.getTime() > today.getTime()) return { ok: false, reason: '身份证号中的出生日期晚于今天' };
  const expected = idCheckChar(idNumber.slice(0, 17));
  if (expected !== idNumber[17]) return { ok: false, reason: '身份证号校验位不正确，请核对号码' };
  const gender = Number(idNumber[16]) % 2 === 1 ? 'MALE' : 'FEMALE';
  return { ok: true, facts: { idNumber, regionCode: idNumber.slice(0, 6), birthDate, gender } };
}

/**
 * Age in whole years on `on` (for compulsory-education eligibility the statute counts age on 31 August
 * of the school year: use ageOn(birth, new Date(Date.UTC(year, 7, 31)))).
 */
export function ageOn(birthDate: Date, on: Date): number {
  let age = on.getUTCFullYear() - birthDate.getUTCFullYear();
  const beforeBirthday =
    on.getUTCMonth() < birthDate.getUTCMonth() ||
    (on.getUTCMonth() === birthDate.getUTCMonth() && on.getUTCDate() < birthDate.getUTCDate());
  if (beforeBirthday) age -= 1;
  return age;
}

/** A zod string that must be a valid 身份证号; parses to the normalised number. */
export const idNumberSchema = z
  .string()
  .trim()
  .transform((v, ctx) => {
    const r = checkIdNumber(v);
    if (!r.ok) {
      ctx.addIssue({ code: 'custom', message: r.reason });
      return z.NEVER;
    }
    return r.facts.idNumber;
  });
