import { describe, expect, it } from 'vitest';
import { AppError } from '../../api/errors.js';
import { IMPORT_FORMATS, type KindParam, matchHeader, normalizeHeader } from '../../api/imports/formats.js';
import type { TableRow } from '../../api/imports/read-table.js';
import { canonicalClassName, type RowContext, type RowError, validateRows } from '../../api/imports/rows.js';
import {
  child,
  HOUSEHOLD_HEADER,
  householdRow,
  makeId,
  REGISTRY_HEADER,
  withBadCheckDigit,
} from '../fixtures/imports/lists.js';

const YEAR = 2026;
const ctx: RowContext = {
  year: YEAR,
  countyName: '滕州市',
  towns: [
    { id: 4, code: '370481001', name: '荆河街道' },
    { id: 5, code: '370481002', name: '龙泉街道' },
  ],
  schools: new Map([['3137048101', { id: 1, code: '3137048101', regionCode: '370481001' }]]),
  today: new Date(Date.UTC(2026, 10, 22)),
};

/** Rows as a file gives them: line 1 is the first row. */
function table(...rows: string[][]): TableRow[] {
  return rows.map((cells, i) => ({ line: i + 1, cells }));
}

function validate(kind: KindParam, rows: TableRow[]) {
  return validateRows(IMPORT_FORMATS[kind], rows, ctx);
}

function rejectionOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected a rejection');
}

/** The errors of a one-row household file whose row is `row`. */
function householdErrors(row: string[]): RowError[] {
  return validate('household', table(HOUSEHOLD_HEADER, row)).errors;
}

describe('headers', () => {
  it('accepts the departments’ variants: aliases, spaces, required markers, full-width brackets', () => {
    const c = child(YEAR);
    const file = validate(
      'household',
      table(
        ['* 姓名', '公民身份号码', '户籍所在镇（街道）', '联系电话', '备注', '序号'],
        [c.name, c.id, '荆河街道', '13912345678', '随便写', '1'],
      ),
    );
    expect(file.errors).toEqual([]);
    expect(file.rows).toHaveLength(1);
    expect(file.rows[0]).toMatchObject({ idNumber: c.id, guardian: { name: '未登记', phone: '13912345678' } });
    expect(file.headers).toMatchObject({ idNumber: '公民身份号码', guardianPhone: '联系电话' });
  });

  it('rejects the file when a required column is missing, naming it', () => {
    const err = rejectionOf(() => validate('poverty', table(['姓名', '身份证号', '户籍所在镇街'], ['张三', 'x', 'y'])));
    expect(err.code).toBe('IMPORT_REJECTED');
    expect(err.message).toContain('帮扶类别');
    expect(err.details).toEqual({
      errors: [{ line: 1, column: '帮扶类别', reason: expect.stringContaining('缺少必填列“帮扶类别”') }],
    });
  });

  it('rejects two columns meaning the same thing', () => {
    const err = rejectionOf(() =>
      validate(
        'welfare',
        table(['姓名', '身份证号', '公民身份号码', '户籍所在镇街', '儿童类别'], ['a', 'b', 'c', 'd', 'e']),
      ),
    );
    expect((err.details as { errors: RowError[] }).errors[0]!.reason).toContain('“身份证号”和“公民身份号码”');
  });

  it('finds the header below a title row and keeps the file’s line numbers', () => {
    const c = child(YEAR);
    const file = validate(
      'household',
      table(['2026年适龄儿童户籍名单'], HOUSEHOLD_HEADER, householdRow(c, '荆河街道'), householdRow(c, '荆河街道')),
    );
    expect(file.headerLine).toBe(2);
    expect(file.rows.map((r) => r.line)).toEqual([3]);
    expect(file.errors).toEqual([{ line: 4, column: '身份证号', reason: '身份证号与第3行重复' }]);
  });

  it('rejects an empty file and a file with only a header', () => {
    expect(rejectionOf(() => validate('household', [])).code).toBe('IMPORT_REJECTED');
    expect(rejectionOf(() => validate('household', table(HOUSEHOLD_HEADER))).message).toContain('没有数据行');
  });

  it('normalises headers the same way for the table and the file', () => {
    expect(normalizeHeader(' 户籍所在镇（街道）* ')).toBe('户籍所在镇(街道)');
    expect(matchHeader(IMPORT_FORMATS.registry, REGISTRY_HEADER).missing).toEqual([]);
  });
});

describe('household rows', () => {
  it('turns a good row into the child, town, addresses and guardian', () => {
    const c = child(YEAR);
    const file = validate('household', table(HOUSEHOLD_HEADER, householdRow(c, '龙泉街道')));
    expect(file.errors).toEqual([]);
    expect(file.rows[0]).toEqual({
      line: 2,
      idNumber: c.id,
      name: c.name,
      gender: c.gender,
      birthDate: new Date(`${c.birth}T00:00:00Z`),
      town: ctx.towns[1],
      flags: [],
      householdAddress: '龙泉街道幸福路1号',
      residenceAddress: '龙泉街道幸福小区2号楼',
      guardian: { name: `${c.name}家长`, relation: '监护人', phone: '13800138000' },
    });
  });

  it('resolves a town by name, code, 12-digit statistical code or with the county name in front', () => {
    for (const town of ['荆河街道', '370481001', '370481001000', '滕州市荆河街道', ' 荆河街道 ']) {
      const file = validate('household', table(HOUSEHOLD_HEADER, householdRow(child(YEAR), town)));
      expect(file.errors).toEqual([]);
      expect(file.rows[0]!.town!.code).toBe('370481001');
    }
  });

  it('refuses a town outside the county', () => {
    expect(householdErrors(householdRow(child(YEAR), '中心街道'))).toEqual([
      { line: 2, column: '户籍所在镇街', reason: '“中心街道”不是本县（市）的镇（街道）' },
    ]);
  });

  it('explains a bad check digit, a wrong length and an ID stored in scientific notation', () => {
    const c = child(YEAR);
    expect(householdErrors(householdRow({ ...c, id: withBadCheckDigit(c.id) }, '荆河街道'))).toEqual([
      { line: 2, column: '身份证号', reason: '身份证号校验位不正确，请核对号码' },
    ]);
    expect(householdErrors(householdRow({ ...c, id: c.id.slice(0, 15) }, '荆河街道'))[0]!.reason).toBe(
      '身份证号应为18位，实为15位',
    );
    expect(householdErrors(householdRow({ ...c, id: '3.70481E+17' }, '荆河街道'))[0]!.reason).toContain('科学计数法');
  });

  it('accepts a lower-case x and full-width digits in the ID number', () => {
    let id = makeId('2016-03-01', 0, 'MALE');
    for (let s = 1; !id.endsWith('X'); s++) id = makeId('2016-03-01', s, 'MALE');
    const wide = [...id.toLowerCase()].map((ch) =>
      /\d/.test(ch) ? String.fromCharCode(ch.charCodeAt(0) + 0xfee0) : ch,
    );
    const file = validate(
      'household',
      table(
        HOUSEHOLD_HEADER,
        householdRow({ ...child(YEAR), id: wide.join(''), birth: '2016-03-01', gender: 'MALE' }, '荆河街道'),
      ),
    );
    expect(file.errors).toEqual([]);
    expect(file.rows[0]!.idNumber).toBe(id);
  });

  it('checks the birth date: it must exist, be readable and equal the ID’s', () => {
    const c = child(YEAR);
    expect(householdErrors(householdRow(c, '荆河街道', { 出生日期: '2016-02-30' }))).toEqual([
      { line: 2, column: '出生日期', reason: '日期“2016-02-30”不存在' },
    ]);
    expect(householdErrors(householdRow(c, '荆河街道', { 出生日期: '去年春天' }))[0]!.reason).toContain('无法识别');
    expect(householdErrors(householdRow(c, '荆河街道', { 出生日期: '2015-06-01' }))).toEqual([
      { line: 2, column: '出生日期', reason: `与身份证号中的出生日期${c.birth}不一致` },
    ]);
    const [y, m, d] = c.birth.split('-');
    for (const written of [
      `${y}/${Number(m)}/${Number(d)}`,
      `${y}${m}${d}`,
      `${y}年${Number(m)}月${Number(d)}日`,
      `${y}-${m}`,
      `${c.birth} 00:00:00`,
    ]) {
      expect(householdErrors(householdRow(c, '荆河街道', { 出生日期: written }))).toEqual([]);
    }
  });

  it('checks the gender against the 17th digit', () => {
    const c = child(YEAR);
    const wrong = c.gender === 'MALE' ? '女' : '男';
    expect(householdErrors(householdRow(c, '荆河街道', { 性别: wrong }))).toEqual([
      { line: 2, column: '性别', reason: `与身份证号不一致（第17位表示${c.gender === 'MALE' ? '男' : '女'}）` },
    ]);
    expect(householdErrors(householdRow(c, '荆河街道', { 性别: '未知' }))[0]!.reason).toBe(
      '性别应为“男”或“女”，实为“未知”',
    );
  });

  it('checks the age on 31 August of the list year: 6–14', () => {
    const young = { ...child(YEAR), birth: '2020-09-01', gender: 'MALE' as const };
    young.id = makeId(young.birth, 1, 'MALE');
    const old = { ...child(YEAR), birth: '2011-08-31', gender: 'MALE' as const };
    old.id = makeId(old.birth, 1, 'MALE');
    const edge = { ...child(YEAR), birth: '2020-08-31', gender: 'MALE' as const };
    edge.id = makeId(edge.birth, 1, 'MALE');
    expect(householdErrors(householdRow(young, '荆河街道'))).toEqual([
      { line: 2, column: '身份证号', reason: '出生于2020-09-01，2026年8月31日为5周岁，不在6–14周岁范围内' },
    ]);
    expect(householdErrors(householdRow(old, '荆河街道'))[0]!.reason).toContain('为15周岁');
    expect(householdErrors(householdRow(edge, '荆河街道'))).toEqual([]);
  });

  it('refuses cells a spreadsheet would run as formulas, but not a plain negative number', () => {
    for (const cell of ['=1+2', '+8613800138000', '-2+3', '@SUM(A1)', ' =HYPERLINK("x")']) {
      expect(householdErrors(householdRow(child(YEAR), '荆河街道', { 户籍地址: cell }))).toEqual([
        { line: 2, column: '户籍地址', reason: expect.stringContaining('公式注入') },
      ]);
    }
    expect(householdErrors(householdRow(child(YEAR), '荆河街道', { 户籍地址: '-5' }))).toEqual([]);
  });

  it('checks phones: mobile or fixed line', () => {
    for (const phone of ['13800138000', '0632-5512345', '06325512345', '5512345', '138 0013 8000']) {
      expect(householdErrors(householdRow(child(YEAR), '荆河街道', { 监护人电话: phone }))).toEqual([]);
    }
    for (const phone of ['12345', '1380013800', '23800138000', '电话']) {
      expect(householdErrors(householdRow(child(YEAR), '荆河街道', { 监护人电话: phone }))).toEqual([
        { line: 2, column: '监护人电话', reason: '电话应为11位手机号或固定电话（如0632-5512345）' },
      ]);
    }
  });

  it('keeps a guardian listed by phone only, and needs the required columns filled', () => {
    const [row] = validate(
      'household',
      table(HOUSEHOLD_HEADER, householdRow(child(YEAR), '荆河街道', { 监护人姓名: '' })),
    ).rows;
    expect(row!.guardian).toEqual({ name: '未登记', relation: '监护人', phone: '13800138000' });
    const [none] = validate(
      'household',
      table(HOUSEHOLD_HEADER, householdRow(child(YEAR), '荆河街道', { 监护人姓名: '', 监护人电话: '' })),
    ).rows;
    expect(none!.guardian).toBeUndefined();
    expect(householdErrors(householdRow(child(YEAR), '荆河街道', { 姓名: '  ' }))).toEqual([
      { line: 2, column: '姓名', reason: '不能为空' },
    ]);
  });

  it('lists every bad row, in line order, with several problems of one row together', () => {
    const dup = child(YEAR);
    const c = child(YEAR);
    const file = validate(
      'household',
      table(
        HOUSEHOLD_HEADER,
        householdRow(dup, '荆河街道'),
        householdRow(child(YEAR), '北京'),
        householdRow(child(YEAR), '荆河街道'),
        householdRow(c, '北京', { 性别: c.gender === 'MALE' ? '女' : '男', 监护人电话: '1' }),
        householdRow(dup, '龙泉街道'),
      ),
    );
    expect(file.rows.map((r) => r.line)).toEqual([2, 4]);
    expect(file.errors.map((e) => [e.line, e.column])).toEqual([
      [3, '户籍所在镇街'],
      [5, '性别'],
      [5, '户籍所在镇街'],
      [5, '监护人电话'],
      [6, '身份证号'],
    ]);
    expect(file.errors.at(-1)!.reason).toBe('身份证号与第2行重复');
  });
});

describe('poverty, disability and welfare rows', () => {
  it('sets the list’s flag and keeps its category as written', () => {
    const c = child(YEAR);
    const poverty = validate(
      'poverty',
      table(['姓名', '身份证号', '户籍所在镇街', '帮扶类别'], [c.name, c.id, '荆河街道', '脱贫户']),
    );
    expect(poverty.rows[0]).toMatchObject({ flags: ['REGISTERED_POOR'], category: '脱贫户', town: ctx.towns[0] });
    const disability = validate(
      'disability',
      table(
        ['姓名', '身份证号', '户籍所在镇街', '残疾类别', '残疾等级', '残疾证号'],
        [c.name, c.id, '荆河街道', '肢体', '2', `${c.id}42`],
      ),
    );
    expect(disability.rows[0]).toMatchObject({ flags: ['DISABLED'], category: '肢体残疾 二级' });
    const welfare = validate(
      'welfare',
      table(['姓名', '身份证号', '户籍所在镇街', '儿童类别'], [c.name, c.id, '荆河街道', '孤儿、困境儿童']),
    );
    expect(welfare.rows[0]).toMatchObject({ flags: ['ORPHAN', 'IN_DIFFICULTY'], category: '孤儿、困境儿童' });
  });

  it('refuses categories outside the lists', () => {
    const c = child(YEAR);
    const disability = validate(
      'disability',
      table(['姓名', '身份证号', '户籍所在镇街', '残疾类别', '残疾等级'], [c.name, c.id, '荆河街道', '近视', '五级']),
    );
    expect(disability.errors.map((e) => e.column)).toEqual(['残疾类别', '残疾等级']);
    const welfare = validate(
      'welfare',
      table(['姓名', '身份证号', '户籍所在镇街', '儿童类别'], [c.name, c.id, '荆河街道', '留守儿童']),
    );
    expect(welfare.errors[0]!.reason).toContain('实为“留守儿童”');
  });
});

describe('registry rows', () => {
  const row = (c: { id: string; name: string }, over: Partial<Record<string, string>> = {}) => {
    const r: Record<string, string> = {
      学籍号: `G${c.id}`,
      姓名: c.name,
      性别: '',
      身份证号: c.id,
      学校标识码: '3137048101',
      年级: '4',
      班级: '2班',
      学籍状态: '在籍',
      ...over,
    };
    return REGISTRY_HEADER.map((h) => r[h]!);
  };

  it('parses grade, class and status and places the child in a county school', () => {
    const c = child(YEAR);
    const file = validate(
      'registry',
      table(REGISTRY_HEADER, row(c, { 年级: '初一', 班级: '（3）班', 学籍状态: '休学' })),
    );
    expect(file.errors).toEqual([]);
    expect(file.rows[0]!.registry).toEqual({
      studentNumber: `G${c.id}`,
      school: ctx.schools.get('3137048101'),
      grade: 7,
      className: '七年级(3)班',
      status: 'SUSPENDED',
    });
  });

  it('refuses unknown schools, grades, statuses, duplicate 学籍号 and a class in two grades', () => {
    const [a, b, c, d, e] = [child(YEAR), child(YEAR), child(YEAR), child(YEAR), child(YEAR)];
    const file = validate(
      'registry',
      table(
        REGISTRY_HEADER,
        row(a, { 学校标识码: '3137040201' }),
        row(b, { 年级: '十年级' }),
        row(c, { 学籍状态: '在读中' }),
        row(d, { 班级: '实验班', 年级: '五年级' }),
        row(e, { 学籍号: `G${d.id}`, 班级: '五年级实验班', 年级: '6' }),
      ),
    );
    expect(file.errors.map((x) => [x.line, x.column, x.reason])).toEqual([
      [2, '学校标识码', '学校标识码3137040201不是本县（市）登记的学校'],
      [3, '年级', '年级应为1–9（或一年级…九年级、初一…初三），实为“十年级”'],
      [4, '学籍状态', '学籍状态应为在籍、转学、休学、辍学、毕业之一，实为“在读中”'],
      [6, '学籍号', '学籍号与第5行重复'],
      [6, '班级', '班级“五年级实验班”在第5行是五年级，与本行年级不一致'],
    ]);
  });

  it('takes pupils of 5–17', () => {
    const toddler = makeId('2022-01-01', 3, 'FEMALE');
    const file = validate('registry', table(REGISTRY_HEADER, row({ id: toddler, name: '小小' })));
    expect(file.errors[0]!.reason).toContain('不在5–17周岁范围内');
  });

  it('names classes as the seed and the registers do', () => {
    expect(canonicalClassName('2', 6)).toBe('六年级(2)班');
    expect(canonicalClassName('（12）班', 1)).toBe('一年级(12)班');
    expect(canonicalClassName('六年级(2)班', 6)).toBe('六年级(2)班');
    expect(canonicalClassName('火箭班', 9)).toBe('九年级火箭班');
  });
});
