/**
 * Row validation: one zod schema per list kind turns a row of cells into what the importer writes, or
 * into reasons a caseworker can act on — each naming the line (as the department sees it) and the column
 * (as the file heads it). Every row is checked; the caller imports nothing unless every row passes.
 */
import { z } from 'zod';
import type { Gender, RegistryStatus, VulnerabilityFlag } from '../../generated/prisma/client.js';
import { ageOn, checkIdNumber, type IdFacts } from '../domain/id-number.js';
import { storable, textProblem } from '../domain/text.js';
import { AppError } from '../errors.js';
import { type ColumnKey, type HeaderMatch, type KindFormat, type LocatedColumn, matchHeader } from './formats.js';
import type { TableRow } from './read-table.js';

export interface RowError {
  line: number;
  column?: string;
  reason: string;
}

export interface TownRef {
  id: number;
  code: string;
  name: string;
}

export interface SchoolRef {
  id: number;
  code: string;
  /** The school's town (jurisdiction). */
  regionCode: string;
}

export interface RowContext {
  /** List year, or the school year for registers. */
  year: number;
  /** The towns of the caller's county. */
  towns: TownRef[];
  /** Name of the caller's county, accepted in front of a town name (滕州市荆河街道). */
  countyName?: string;
  /** The schools of the caller's county by 学校标识码. */
  schools: Map<string, SchoolRef>;
  /** ID numbers may not be born after this day. */
  today?: Date;
}

export interface RegistryPlacement {
  studentNumber: string;
  school: SchoolRef;
  grade: number;
  className: string;
  status: RegistryStatus;
  /** When the status last changed (转学, 休学, 复学, 辍学, 毕业), if the register says. */
  changeDate?: Date;
}

export interface ValidRow {
  line: number;
  idNumber: string;
  name: string;
  gender: Gender;
  birthDate: Date;
  /** Department lists: the town of household registration named in the row. */
  town?: TownRef;
  /** The department's own category as listed (DepartmentListEntry.category). */
  category?: string;
  flags: VulnerabilityFlag[];
  householdAddress?: string;
  residenceAddress?: string;
  guardian?: { name: string; relation: string; phone?: string };
  registry?: RegistryPlacement;
}

export interface ValidatedFile {
  headerLine: number;
  /** The file's own header of each column it has (errors name the column as the department sees it). */
  headers: Partial<Record<ColumnKey, string>>;
  rows: ValidRow[];
  errors: RowError[];
}

/** Look this far for the header row: exports often put a title row or two above it. */
const HEADER_SEARCH_ROWS = 10;

export function validateRows(format: KindFormat, table: TableRow[], ctx: RowContext): ValidatedFile {
  const header = locateHeader(format, table);
  const dataRows = table.filter((r) => r.line > header.line);
  if (dataRows.length === 0) {
    throw new AppError(
      'IMPORT_REJECTED',
      { errors: [{ line: header.line, reason: '文件中只有表头，没有数据行' }] },
      '文件中没有数据行，未导入。',
    );
  }
  const schema = rowSchema(format, ctx);
  const columnOf = new Map(header.match.columns.map((c) => [c.def.key, c]));
  const rows: ValidRow[] = [];
  const errors: RowError[] = [];
  for (const row of dataRows) {
    const input: Partial<Record<ColumnKey, string>> = {};
    for (const c of header.match.columns) input[c.def.key] = row.cells[c.index] ?? '';
    const parsed = schema.safeParse(input);
    if (parsed.success) {
      rows.push({ ...parsed.data, line: row.line });
      continue;
    }
    for (const issue of parsed.error.issues) {
      const column = columnOf.get(issue.path[0] as ColumnKey)?.header;
      errors.push(
        column ? { line: row.line, column, reason: issue.message } : { line: row.line, reason: issue.message },
      );
    }
  }
  errors.push(...duplicates(dataRows, columnOf.get('idNumber')!, '身份证号'));
  const studentNumber = columnOf.get('studentNumber');
  if (studentNumber) errors.push(...duplicates(dataRows, studentNumber, '学籍号'));
  errors.push(...classGradeConflicts(rows, columnOf.get('className')));
  // Line order; within a line, the file's column order (the sort is stable for equal keys).
  const position = new Map(header.match.columns.map((c) => [c.header, c.index]));
  errors.sort((a, b) => a.line - b.line || (position.get(a.column ?? '') ?? -1) - (position.get(b.column ?? '') ?? -1));
  const bad = new Set(errors.map((e) => e.line));
  const headers = Object.fromEntries(header.match.columns.map((c) => [c.def.key, c.header]));
  return { headerLine: header.line, headers, rows: rows.filter((r) => !bad.has(r.line)), errors };
}

/** The header row: the first of the top rows that names the ID column; missing columns reject the file. */
function locateHeader(format: KindFormat, table: TableRow[]): { line: number; match: HeaderMatch } {
  if (table.length === 0) {
    throw new AppError('IMPORT_REJECTED', { errors: [{ line: 1, reason: '文件是空的' }] }, '文件是空的，未导入。');
  }
  const candidates = table
    .slice(0, HEADER_SEARCH_ROWS)
    .map((r) => ({ line: r.line, match: matchHeader(format, r.cells) }));
  const header =
    candidates.find((c) => c.match.columns.some((col) => col.def.key === 'idNumber')) ??
    candidates.reduce((best, c) => (c.match.recognised > best.match.recognised ? c : best));
  const errors: RowError[] = [
    ...header.match.missing.map((def) => ({
      line: header.line,
      column: def.header,
      reason: `缺少必填列“${def.header}”${def.aliases.length ? `（也可写作：${def.aliases.join('、')}）` : ''}`,
    })),
    ...header.match.conflicts.map((c) => ({
      line: header.line,
      column: c.headers.join('、'),
      reason: `“${c.headers.join('”和“')}”都表示“${c.def.header}”，请只保留一列`,
    })),
  ];
  if (errors.length) {
    const names = [...header.match.missing.map((d) => d.header), ...header.match.conflicts.map((c) => c.def.header)];
    throw new AppError('IMPORT_REJECTED', { errors }, `文件的表头不符合要求（${names.join('、')}），未导入。`);
  }
  return header;
}

function normalizeCode(v: string): string {
  return v.normalize('NFKC').replace(/\s+/g, '').toUpperCase();
}

/** The later of two rows with the same value is the bad one; it names the first. */
function duplicates(rows: TableRow[], column: LocatedColumn, label: string): RowError[] {
  const seen = new Map<string, number>();
  const errors: RowError[] = [];
  for (const row of rows) {
    const value = normalizeCode(row.cells[column.index] ?? '');
    if (!value) continue;
    const first = seen.get(value);
    if (first === undefined) seen.set(value, row.line);
    else errors.push({ line: row.line, column: column.header, reason: `${label}与第${first}行重复` });
  }
  return errors;
}

/** One class of one school has one grade: a later row placing it in another grade is bad. */
function classGradeConflicts(rows: ValidRow[], column: LocatedColumn | undefined): RowError[] {
  const seen = new Map<string, { grade: number; line: number }>();
  const errors: RowError[] = [];
  for (const row of rows) {
    const r = row.registry;
    if (!r || !column) continue;
    const key = `${r.school.id}\u0000${r.className}`;
    const first = seen.get(key);
    if (!first) seen.set(key, { grade: r.grade, line: row.line });
    else if (first.grade !== r.grade) {
      errors.push({
        line: row.line,
        column: column.header,
        reason: `班级“${r.className}”在第${first.line}行是${CHINESE_DIGITS[first.grade - 1]}年级，与本行年级不一致`,
      });
    }
  }
  return errors;
}

// ─────────────────────────────── cells ───────────────────────────────

const FORMULA_START = /^[=+\-@]/;
const PLAIN_NEGATIVE_NUMBER = /^-\d+(\.\d+)?$/;
const INVISIBLE = /[\u200b-\u200d\u2060]/g;

/**
 * Every cell: trimmed, and refused when a spreadsheet opening an export of it would run it as a formula,
 * or when it holds what the database cannot store as typed (NUL and other control characters, which an
 * XLSX cell can carry as `_x0000_`; broken UTF-16) — see api/domain/text.ts.
 */
const cell = z
  .string()
  .transform((v) => v.replace(INVISIBLE, '').trim())
  .refine((v) => !FORMULA_START.test(v) || PLAIN_NEGATIVE_NUMBER.test(v), {
    message: '以“=”“+”“-”或“@”开头，可能是公式：为防止公式注入不予导入，请删除开头的符号（Excel公式请改为数值）',
    abort: true,
  })
  .superRefine((v, ctx) => {
    const problem = textProblem(v, true);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, abort: true });
  });

function required<T>(inner: z.ZodType<T, string>) {
  return cell.refine((v) => v !== '', { message: '不能为空', abort: true }).pipe(inner);
}

/** An optional column: absent from the file or an empty cell both mean "not given". */
function optional<T>(inner: z.ZodType<T, string>) {
  return cell
    .transform((v) => (v === '' ? undefined : v))
    .pipe(inner.optional())
    .optional();
}

const text = (max: number) => z.string().max(max, `最多${max}字`);

/** A name is one line: the line breaks and tabs a cell may hold (an address may) are refused in it. */
const nameField = text(50).check(storable());

/** The name of a guardian listed by phone only. */
export const UNNAMED_GUARDIAN = '未登记';

// ─────────────────────────────── values ───────────────────────────────

interface PartialDate {
  y: number;
  m: number;
  d?: number;
}

const FULL_DATES = [
  /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$/,
  /^(\d{4})(\d{2})(\d{2})$/,
  /^(\d{4})年(\d{1,2})月(\d{1,2})日?$/,
];
/** 出生年月: year and month only. */
const MONTH_DATES = [/^(\d{4})[-/.](\d{1,2})$/, /^(\d{4})(\d{2})$/, /^(\d{4})年(\d{1,2})月?$/];

const dateField = z.string().transform((raw, ctx): PartialDate => {
  const v = raw.normalize('NFKC').replace(/\s+(?=\d{1,2}:)/, ' ');
  for (const re of FULL_DATES) {
    const m = re.exec(v);
    if (!m) continue;
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const date = new Date(Date.UTC(y, mo - 1, d));
    if (date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d) return { y, m: mo, d };
    ctx.addIssue({ code: 'custom', message: `日期“${raw}”不存在` });
    return z.NEVER;
  }
  for (const re of MONTH_DATES) {
    const m = re.exec(v);
    if (m && Number(m[2]) >= 1 && Number(m[2]) <= 12) return { y: Number(m[1]), m: Number(m[2]) };
  }
  ctx.addIssue({ code: 'custom', message: `日期“${raw}”无法识别，请写成如2015-03-12` });
  return z.NEVER;
});

/** A full calendar day (a change of status happens on a day, not in a month). */
const dayField = dateField.transform((d, ctx): Date => {
  if (d.d === undefined) {
    ctx.addIssue({ code: 'custom', message: '变动日期须精确到日，如2026-09-01' });
    return z.NEVER;
  }
  return new Date(Date.UTC(d.y, d.m - 1, d.d));
});

const genderField = z.string().transform((v, ctx): Gender => {
  if (v === '男' || v === '男性') return 'MALE';
  if (v === '女' || v === '女性') return 'FEMALE';
  ctx.addIssue({ code: 'custom', message: `性别应为“男”或“女”，实为“${v}”` });
  return z.NEVER;
});

const MOBILE = /^1[3-9]\d{9}$/;
/** Area code optional (local numbers are often written without it), extension allowed. */
const FIXED_LINE = /^(0\d{2,3}-?)?[2-9]\d{6,7}(-\d{1,6})?$/;

const phoneField = z.string().transform((raw, ctx) => {
  const v = raw.normalize('NFKC').replace(/\s+/g, '');
  if (MOBILE.test(v) || FIXED_LINE.test(v)) return v;
  ctx.addIssue({ code: 'custom', message: '电话应为11位手机号或固定电话（如0632-5512345）' });
  return z.NEVER;
});

const SCIENTIFIC = /^\d(\.\d+)?E\+?\d+$/i;

function idField(today: Date) {
  return z.string().transform((raw, ctx): IdFacts => {
    const v = raw.normalize('NFKC').replace(/\s+/g, '');
    if (SCIENTIFIC.test(v)) {
      ctx.addIssue({
        code: 'custom',
        message: '身份证号被表格软件存成了数字（科学计数法），后几位已丢失：请把该列设为“文本”格式后重新填写',
      });
      return z.NEVER;
    }
    const r = checkIdNumber(v, today);
    if (!r.ok) {
      ctx.addIssue({ code: 'custom', message: r.reason });
      return z.NEVER;
    }
    return r.facts;
  });
}

function townField(ctx: RowContext) {
  const byKey = new Map<string, TownRef>();
  for (const t of ctx.towns) {
    byKey.set(t.code, t);
    // Statistical division codes are 12 digits: town 370481001 is 370481001000.
    byKey.set(`${t.code}000`, t);
    byKey.set(t.name, t);
    if (ctx.countyName) byKey.set(`${ctx.countyName}${t.name}`, t);
  }
  return z.string().transform((raw, issues): TownRef => {
    const town = byKey.get(raw.normalize('NFKC').replace(/\s+/g, ''));
    if (town) return town;
    issues.addIssue({ code: 'custom', message: `“${raw}”不是本县（市）的镇（街道）` });
    return z.NEVER;
  });
}

const DISABILITY_CATEGORIES = ['视力', '听力', '言语', '肢体', '智力', '精神', '多重'];
const CHINESE_DIGITS = ['一', '二', '三', '四', '五', '六', '七', '八', '九'];

const disabilityCategoryField = z.string().transform((v, ctx) => {
  const base = v.replace(/残疾$/, '');
  if (DISABILITY_CATEGORIES.includes(base)) return `${base}残疾`;
  ctx.addIssue({ code: 'custom', message: `残疾类别应为${DISABILITY_CATEGORIES.join('、')}之一，实为“${v}”` });
  return z.NEVER;
});

const disabilityLevelField = z.string().transform((v, ctx) => {
  const m = /^([1-4一二三四])级?$/.exec(v.normalize('NFKC'));
  if (m) return `${/\d/.test(m[1]!) ? CHINESE_DIGITS[Number(m[1]) - 1] : m[1]}级`;
  ctx.addIssue({ code: 'custom', message: `残疾等级应为一级至四级，实为“${v}”` });
  return z.NEVER;
});

const certificateField = z
  .string()
  .transform((v) => v.normalize('NFKC').replace(/\s+/g, '').toUpperCase())
  .pipe(z.string().regex(/^[0-9A-Z]{1,30}$/, '残疾证号应为字母和数字，最多30位'));

const WELFARE_CATEGORIES: Record<string, VulnerabilityFlag> = {
  孤儿: 'ORPHAN',
  事实无人抚养: 'NO_CAREGIVER',
  事实无人抚养儿童: 'NO_CAREGIVER',
  困境: 'IN_DIFFICULTY',
  困境儿童: 'IN_DIFFICULTY',
};

const childCategoryField = z.string().transform((v, ctx) => {
  const parts = v.split(/[、,，;；/\s]+/).filter(Boolean);
  const flags = new Set<VulnerabilityFlag>();
  for (const p of parts) {
    const flag = WELFARE_CATEGORIES[p];
    if (!flag) {
      ctx.addIssue({ code: 'custom', message: `儿童类别应为孤儿、事实无人抚养或困境儿童，实为“${p}”` });
      return z.NEVER;
    }
    flags.add(flag);
  }
  return { text: v, flags: [...flags] };
});

const studentNumberField = z
  .string()
  .transform(normalizeCode)
  .pipe(z.string().regex(/^[0-9A-Z]{6,32}$/, '学籍号应为6–32位字母和数字'));

function schoolField(ctx: RowContext) {
  return z.string().transform((raw, issues): SchoolRef => {
    const code = raw.normalize('NFKC').replace(/\s+/g, '');
    if (!/^\d{10}$/.test(code)) {
      issues.addIssue({ code: 'custom', message: '学校标识码应为10位数字' });
      return z.NEVER;
    }
    const school = ctx.schools.get(code);
    if (school) return school;
    issues.addIssue({ code: 'custom', message: `学校标识码${code}不是本县（市）登记的学校` });
    return z.NEVER;
  });
}

const gradeField = z.string().transform((raw, ctx) => {
  const v = raw.normalize('NFKC').replace(/\s+/g, '').replace(/^小学/, '');
  let grade: number | undefined;
  const digits = /^(\d)(年级)?$/.exec(v);
  const chinese = /^([一二三四五六七八九])年级$/.exec(v);
  const middle = /^初([一二三])$/.exec(v);
  if (digits) grade = Number(digits[1]);
  else if (chinese) grade = CHINESE_DIGITS.indexOf(chinese[1]!) + 1;
  else if (middle) grade = CHINESE_DIGITS.indexOf(middle[1]!) + 7;
  if (grade !== undefined && grade >= 1 && grade <= 9) return grade;
  ctx.addIssue({ code: 'custom', message: `年级应为1–9（或一年级…九年级、初一…初三），实为“${raw}”` });
  return z.NEVER;
});

const STATUSES: Record<string, RegistryStatus> = {
  在籍: 'ENROLLED',
  转学: 'TRANSFERRED',
  休学: 'SUSPENDED',
  辍学: 'DROPPED_OUT',
  毕业: 'GRADUATED',
};

const statusField = z.string().transform((v, ctx): RegistryStatus => {
  const status = STATUSES[v];
  if (status) return status;
  ctx.addIssue({ code: 'custom', message: `学籍状态应为${Object.keys(STATUSES).join('、')}之一，实为“${v}”` });
  return z.NEVER;
});

/** "2班", "(2)", "（2）班" → 六年级(2)班; a name without a grade gets the row's grade in front of it. */
export function canonicalClassName(raw: string, grade: number): string {
  const v = raw.normalize('NFKC').replace(/\s+/g, '');
  const numbered = /^\(?(\d{1,2})\)?班?$/.exec(v);
  const gradeName = `${CHINESE_DIGITS[grade - 1]}年级`;
  if (numbered) return `${gradeName}(${Number(numbered[1])})班`;
  return /年级|初[一二三]/.test(v) ? v : `${gradeName}${v}`;
}

// ─────────────────────────────── rows ───────────────────────────────

function formatDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

interface PersonFields {
  idNumber: IdFacts;
  birthDate?: PartialDate;
  gender?: Gender;
}

/** The checks across columns: stated birth date and gender against the ID, and the age range. */
function personChecks<T extends PersonFields>(format: KindFormat, year: number) {
  const { min, max } = format.ages;
  const check = (row: T, ctx: z.RefinementCtx) => {
    const id = row.idNumber;
    const b = row.birthDate;
    const idBirth = {
      y: id.birthDate.getUTCFullYear(),
      m: id.birthDate.getUTCMonth() + 1,
      d: id.birthDate.getUTCDate(),
    };
    if (b && (b.y !== idBirth.y || b.m !== idBirth.m || (b.d !== undefined && b.d !== idBirth.d))) {
      ctx.addIssue({
        code: 'custom',
        path: ['birthDate'],
        message: `与身份证号中的出生日期${formatDate(id.birthDate)}不一致`,
      });
    }
    if (row.gender && row.gender !== id.gender) {
      ctx.addIssue({
        code: 'custom',
        path: ['gender'],
        message: `与身份证号不一致（第17位表示${id.gender === 'MALE' ? '男' : '女'}）`,
      });
    }
    const age = ageOn(id.birthDate, new Date(Date.UTC(year, 7, 31)));
    if (age < min || age > max) {
      ctx.addIssue({
        code: 'custom',
        path: ['idNumber'],
        message: `出生于${formatDate(id.birthDate)}，${year}年8月31日为${age}周岁，不在${min}–${max}周岁范围内`,
      });
    }
  };
  return [check, whenClean('idNumber', 'birthDate', 'gender')] as const;
}

/**
 * A cross-column check runs whenever the columns it reads are good (zod would skip it after any issue),
 * so a row's other problems are reported together with it.
 */
function whenClean(...columns: ColumnKey[]) {
  return {
    when: (payload: z.core.ParsePayload) => !payload.issues.some((i) => columns.includes(i.path?.[0] as ColumnKey)),
  };
}

function rowSchema(
  format: KindFormat,
  ctx: RowContext,
): z.ZodType<Omit<ValidRow, 'line'>, Partial<Record<ColumnKey, string>>> {
  const today = ctx.today ?? new Date();
  const person = {
    name: required(nameField),
    idNumber: required(idField(today)),
  };
  const town = required(townField(ctx));
  const child = (r: { idNumber: IdFacts; name: string }) => ({
    idNumber: r.idNumber.idNumber,
    name: r.name,
    gender: r.idNumber.gender,
    birthDate: r.idNumber.birthDate,
  });

  switch (format.importKind) {
    case 'HOUSEHOLD':
      return z
        .object({
          ...person,
          gender: optional(genderField),
          birthDate: optional(dateField),
          town,
          householdAddress: optional(text(200)),
          residenceAddress: optional(text(200)),
          guardianName: optional(nameField),
          guardianRelation: optional(text(20)),
          guardianPhone: optional(phoneField),
        })
        .superRefine(...personChecks(format, ctx.year))
        .transform((r) => ({
          ...child(r),
          town: r.town,
          flags: [],
          householdAddress: r.householdAddress,
          residenceAddress: r.residenceAddress,
          // Many 公安 lists carry only a 联系电话: the household's contact is kept, its name marked unknown.
          guardian:
            r.guardianName || r.guardianPhone
              ? {
                  name: r.guardianName ?? UNNAMED_GUARDIAN,
                  relation: r.guardianRelation ?? '监护人',
                  phone: r.guardianPhone,
                }
              : undefined,
        }));
    case 'POVERTY':
      return z
        .object({ ...person, town, supportCategory: required(text(50)) })
        .superRefine(...personChecks(format, ctx.year))
        .transform((r) => ({
          ...child(r),
          town: r.town,
          category: r.supportCategory,
          flags: ['REGISTERED_POOR' as const],
        }));
    case 'DISABILITY':
      return z
        .object({
          ...person,
          town,
          disabilityCategory: required(disabilityCategoryField),
          disabilityLevel: optional(disabilityLevelField),
          disabilityCertificate: optional(certificateField),
        })
        .superRefine(...personChecks(format, ctx.year))
        .transform((r) => ({
          ...child(r),
          town: r.town,
          category: r.disabilityLevel ? `${r.disabilityCategory} ${r.disabilityLevel}` : r.disabilityCategory,
          flags: ['DISABLED' as const],
        }));
    case 'WELFARE':
      return z
        .object({ ...person, town, childCategory: required(childCategoryField) })
        .superRefine(...personChecks(format, ctx.year))
        .transform((r) => ({
          ...child(r),
          town: r.town,
          category: r.childCategory.text,
          flags: r.childCategory.flags,
        }));
    case 'REGISTRY':
      return z
        .object({
          ...person,
          gender: optional(genderField),
          studentNumber: required(studentNumberField),
          schoolCode: required(schoolField(ctx)),
          grade: required(gradeField),
          className: required(text(50)),
          status: required(statusField),
          changeDate: optional(dayField),
        })
        .superRefine(...personChecks(format, ctx.year))
        .transform((r) => ({
          ...child(r),
          flags: [],
          registry: {
            studentNumber: r.studentNumber,
            school: r.schoolCode,
            grade: r.grade,
            className: canonicalClassName(r.className, r.grade),
            status: r.status,
            changeDate: r.changeDate,
          },
        }));
  }
}
