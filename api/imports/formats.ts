/**
 * What each department's list looks like: the columns by their Chinese headers as the departments export
 * them, the variants we accept, and which are required. One table, used by the importer and shown to the
 * console (GET /api/imports/formats), so the two never disagree.
 */
import type { ImportKind } from '../../generated/prisma/client.js';

export type ColumnKey =
  | 'name'
  | 'gender'
  | 'idNumber'
  | 'birthDate'
  | 'town'
  | 'householdAddress'
  | 'residenceAddress'
  | 'guardianName'
  | 'guardianRelation'
  | 'guardianPhone'
  | 'supportCategory'
  | 'disabilityCategory'
  | 'disabilityLevel'
  | 'disabilityCertificate'
  | 'childCategory'
  | 'studentNumber'
  | 'schoolCode'
  | 'grade'
  | 'className'
  | 'status'
  | 'changeDate';

export interface ColumnDef {
  key: ColumnKey;
  header: string;
  aliases: string[];
  required: boolean;
  /** The rule a value must meet, as shown to the department. */
  rule: string;
}

export interface KindFormat {
  /** The path segment: POST /api/imports/:kind. */
  kind: KindParam;
  importKind: ImportKind;
  label: string;
  department: string;
  /** Age on 31 August of the year, inclusive. */
  ages: { min: number; max: number };
  columns: ColumnDef[];
}

export const KIND_PARAMS = {
  household: 'HOUSEHOLD',
  poverty: 'POVERTY',
  disability: 'DISABILITY',
  welfare: 'WELFARE',
  registry: 'REGISTRY',
} as const satisfies Record<string, ImportKind>;

export type KindParam = keyof typeof KIND_PARAMS;

const col = (key: ColumnKey, header: string, required: boolean, rule: string, aliases: string[] = []): ColumnDef => ({
  key,
  header,
  aliases,
  required,
  rule,
});

const NAME = col('name', '姓名', true, '不能为空，最多50字', ['儿童姓名', '学生姓名']);
const GENDER = col('gender', '性别', false, '“男”或“女”，须与身份证号第17位一致');
const ID_NUMBER = col('idNumber', '身份证号', true, '18位，校验位正确；同一文件内不得重复', [
  '公民身份号码',
  '身份证号码',
  '身份证件号码',
  '证件号码',
  '身份证',
]);
const BIRTH_DATE = col(
  'birthDate',
  '出生日期',
  false,
  '如2015-03-12、2015/3/12、20150312或2015年3月12日，须与身份证号中的出生日期一致',
  ['出生年月日', '出生年月'],
);
const TOWN = col('town', '户籍所在镇街', true, '本县（市）的镇（街道）名称或区划代码', [
  '户籍所在镇(街道)',
  '户籍所在乡镇',
  '户籍所在乡镇(街道)',
  '户籍镇街',
  '所在镇街',
  '乡镇(街道)',
  '镇(街道)',
  '镇街',
]);

export const IMPORT_FORMATS: Record<KindParam, KindFormat> = {
  household: {
    kind: 'household',
    importKind: 'HOUSEHOLD',
    label: '适龄儿童户籍名单',
    department: '公安',
    ages: { min: 6, max: 14 },
    columns: [
      NAME,
      GENDER,
      ID_NUMBER,
      BIRTH_DATE,
      TOWN,
      col('householdAddress', '户籍地址', false, '最多200字', ['户籍所在地', '户籍详细地址', '户口所在地']),
      col('residenceAddress', '现居住地址', false, '最多200字', ['现住址', '现居住地', '居住地址', '家庭住址']),
      col('guardianName', '监护人姓名', false, '最多50字；只填了电话时记为“未登记”', ['监护人', '家长姓名']),
      col('guardianRelation', '与儿童关系', false, '如父亲、母亲、祖父母，最多20字；空则记为“监护人”', [
        '监护人关系',
        '与监护人关系',
      ]),
      col('guardianPhone', '监护人电话', false, '11位手机号或固定电话（如0632-5512345）', [
        '联系电话',
        '监护人联系电话',
        '家长电话',
        '联系方式',
      ]),
    ],
  },
  poverty: {
    kind: 'poverty',
    importKind: 'POVERTY',
    label: '建档立卡（低收入）家庭儿童名单',
    department: '扶贫（乡村振兴）',
    ages: { min: 6, max: 14 },
    columns: [
      NAME,
      ID_NUMBER,
      TOWN,
      col('supportCategory', '帮扶类别', true, '不能为空，如脱贫户、监测户、低保户，最多50字', [
        '帮扶类型',
        '户类别',
        '户类型',
      ]),
    ],
  },
  disability: {
    kind: 'disability',
    importKind: 'DISABILITY',
    label: '残疾儿童名单',
    department: '残联',
    ages: { min: 6, max: 14 },
    columns: [
      NAME,
      ID_NUMBER,
      TOWN,
      col('disabilityCategory', '残疾类别', true, '视力、听力、言语、肢体、智力、精神或多重（可带“残疾”二字）', [
        '残疾类型',
      ]),
      col('disabilityLevel', '残疾等级', false, '一级至四级（或1–4）', ['残疾级别']),
      col('disabilityCertificate', '残疾证号', false, '字母和数字，最多30位', ['残疾人证号', '残疾证号码']),
    ],
  },
  welfare: {
    kind: 'welfare',
    importKind: 'WELFARE',
    label: '孤儿、事实无人抚养儿童和困境儿童名单',
    department: '民政',
    ages: { min: 6, max: 14 },
    columns: [
      NAME,
      ID_NUMBER,
      TOWN,
      col('childCategory', '儿童类别', true, '孤儿、事实无人抚养或困境儿童；多个用顿号分隔', ['儿童类型', '保障类别']),
    ],
  },
  registry: {
    kind: 'registry',
    importKind: 'REGISTRY',
    label: '学籍名单',
    department: '学校（学籍系统）',
    ages: { min: 5, max: 17 },
    columns: [
      col('studentNumber', '学籍号', true, '字母和数字，6–32位；同一文件内不得重复', ['全国学籍号', '学籍号码']),
      NAME,
      GENDER,
      ID_NUMBER,
      col('schoolCode', '学校标识码', true, '10位，须为本县（市）的学校', ['学校代码', '学校识别码']),
      col('grade', '年级', true, '1–9，或一年级…九年级、初一…初三'),
      col('className', '班级', true, '不能为空，如(2)班或六年级(2)班', ['班级名称', '班号']),
      col('status', '学籍状态', true, '在籍、转学、休学、辍学或毕业', ['学生状态', '在籍状态']),
      col('changeDate', '变动日期', false, '学籍状态变动的日期，如2026-09-01；不填按导入当天记', [
        '学籍变动日期',
        '变动时间',
      ]),
    ],
  },
};

/** Headers compare without spaces, full-width forms, required-markers (*) or a “(必填)” suffix. */
export function normalizeHeader(raw: string): string {
  return raw
    .normalize('NFKC')
    .replace(/\s+/g, '')
    .replace(/[*＊]/g, '')
    .replace(/\(必填\)$/, '');
}

export interface LocatedColumn {
  def: ColumnDef;
  index: number;
  /** The header as the file wrote it (errors name the column the department sees). */
  header: string;
}

export interface HeaderMatch {
  columns: LocatedColumn[];
  missing: ColumnDef[];
  /** Two file columns that mean the same column (e.g. 身份证号 and 公民身份号码): ambiguous. */
  conflicts: { def: ColumnDef; headers: string[] }[];
  /** How many of the kind's columns were recognised. */
  recognised: number;
}

/** Maps a header row onto a kind's columns; unknown columns are ignored. */
export function matchHeader(format: KindFormat, cells: string[]): HeaderMatch {
  const byName = new Map<string, ColumnDef>();
  for (const def of format.columns) {
    for (const name of [def.header, ...def.aliases]) byName.set(normalizeHeader(name), def);
  }
  const found = new Map<ColumnKey, LocatedColumn[]>();
  cells.forEach((cell, index) => {
    const def = byName.get(normalizeHeader(cell));
    if (!def) return;
    const list = found.get(def.key) ?? [];
    list.push({ def, index, header: cell.trim() });
    found.set(def.key, list);
  });
  const columns: LocatedColumn[] = [];
  const conflicts: HeaderMatch['conflicts'] = [];
  for (const [, list] of found) {
    columns.push(list[0]!);
    if (list.length > 1) conflicts.push({ def: list[0]!.def, headers: list.map((c) => c.header) });
  }
  const missing = format.columns.filter((def) => def.required && !found.has(def.key));
  return { columns, missing, conflicts, recognised: found.size };
}
