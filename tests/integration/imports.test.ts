/**
 * Department-list and register imports through the HTTP API of the running system: multipart upload,
 * all or nothing, idempotent re-import, encodings and formats, jurisdiction.
 */
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPrisma } from '../../infra/db/prisma.js';
import {
  child,
  HOUSEHOLD_HEADER,
  householdRow,
  REGISTRY_HEADER,
  toCsv,
  toXlsx,
  withBadCheckDigit,
} from '../fixtures/imports/lists.js';
import { api, loginAs } from './helpers.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
const YEAR = 2026;
/** Keeps this run's ID numbers apart from any earlier run against the same database. */
const SALT = Math.floor(Math.random() * 400);
const kid = () => child(YEAR, SALT);

interface ImportAnswer {
  batch: { id: number; kind: string; year: number; rowCount: number; regionCode: string; fileName: string };
  created: number;
  updated: number;
  duplicate: boolean;
}
interface Rejection {
  error: { code: string; message: string; details?: { errors: { line: number; column?: string; reason: string }[] } };
}

let bureau: string;

async function upload<T = ImportAnswer>(
  kind: string,
  bytes: Buffer | string,
  opts: { token?: string; fileName?: string; year?: number } = {},
): Promise<{ status: number; body: T }> {
  const form = new FormData();
  form.append('year', String(opts.year ?? YEAR));
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  form.append('file', new Blob([new Uint8Array(data)]), opts.fileName ?? '名单.csv');
  const res = await fetch(`${inject('apiUrl')}/api/imports/${kind}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${opts.token ?? bureau}` },
    body: form,
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** What an import writes, to prove a refused one wrote nothing. */
async function footprint() {
  const [batches, entries, children, guardians, audits] = await Promise.all([
    prisma.importBatch.count(),
    prisma.departmentListEntry.count(),
    prisma.child.count(),
    prisma.guardian.count(),
    prisma.auditEvent.count({ where: { action: 'IMPORT' } }),
  ]);
  return { batches, entries, children, guardians, audits };
}

beforeAll(async () => {
  bureau = await loginAs('bureau');
  // A neighbouring county with a town, so a list can name a real town that is not the bureau's.
  const city = await prisma.region.findFirstOrThrow({ where: { level: 'CITY', code: '3704' } });
  const county = await prisma.region.upsert({
    where: { code: '370402' },
    update: {},
    create: { code: '370402', name: '市中区', level: 'COUNTY', parentId: city.id },
  });
  await prisma.region.upsert({
    where: { code: '370402001' },
    update: {},
    create: { code: '370402001', name: '中心街道', level: 'TOWN', parentId: county.id },
  });
});

afterAll(async () => {
  await prisma.$disconnect();
});

describe('POST /api/imports/:kind', () => {
  const good = [kid(), kid(), kid()];
  const goodFile = toCsv([
    HOUSEHOLD_HEADER,
    householdRow(good[0]!, '荆河街道'),
    householdRow(good[1]!, '370481002'),
    householdRow(good[2]!, '荆河街道', { 监护人姓名: '王建国', 监护人电话: '0632-5512345' }),
  ]);

  it('imports a good household list: children, list entries, guardians, audit', async () => {
    const res = await upload('household', goodFile, { fileName: '2026年公安适龄儿童名单.csv' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      batch: {
        kind: 'HOUSEHOLD',
        year: YEAR,
        rowCount: 3,
        regionCode: '370481',
        fileName: '2026年公安适龄儿童名单.csv',
      },
      created: 3,
      updated: 0,
      duplicate: false,
    });
    const batchId = res.body.batch.id;
    const entries = await prisma.departmentListEntry.findMany({ where: { batchId }, orderBy: { lineNumber: 'asc' } });
    expect(entries.map((e) => [e.lineNumber, e.regionCode, e.kind, e.year])).toEqual([
      [2, '370481001', 'HOUSEHOLD', YEAR],
      [3, '370481002', 'HOUSEHOLD', YEAR],
      [4, '370481001', 'HOUSEHOLD', YEAR],
    ]);
    const third = await prisma.child.findUniqueOrThrow({
      where: { idNumber: good[2]!.id },
      include: { guardians: true },
    });
    expect(third).toMatchObject({ name: good[2]!.name, gender: good[2]!.gender, regionCode: '370481001' });
    expect(third.birthDate.toISOString().slice(0, 10)).toBe(good[2]!.birth);
    expect(third.guardians).toEqual([expect.objectContaining({ name: '王建国', phone: '0632-5512345' })]);
    const auditRow = await prisma.auditEvent.findFirstOrThrow({
      where: { action: 'IMPORT', entityId: String(batchId) },
    });
    expect(auditRow).toMatchObject({
      entity: 'ImportBatch',
      details: expect.objectContaining({ kind: 'HOUSEHOLD', rows: 3 }),
    });
    // No personal data in the audit details.
    expect(JSON.stringify(auditRow.details)).not.toContain(good[0]!.id);
  });

  it('answers a re-import of the same bytes with the earlier batch and writes nothing', async () => {
    const before = await footprint();
    const res = await upload('household', goodFile, { fileName: '改了名字.csv' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ duplicate: true, created: 0, updated: 0, batch: { rowCount: 3 } });
    expect(res.body.batch.fileName).toBe('2026年公安适龄儿童名单.csv');
    expect(await footprint()).toEqual(before);
  });

  it('imports identical uploads sent at once only once', async () => {
    const file = toCsv([HOUSEHOLD_HEADER, ...Array.from({ length: 50 }, () => householdRow(kid(), '龙泉街道'))]);
    const answers = await Promise.all([
      upload('household', file),
      upload('household', file),
      upload('household', file),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 201]);
    expect(new Set(answers.map((a) => a.body.batch.id)).size).toBe(1);
    expect(await prisma.departmentListEntry.count({ where: { batchId: answers[0]!.body.batch.id } })).toBe(50);
  });

  it('rejects a file with bad rows as a whole, listing every bad line, and writes nothing', async () => {
    const dup = kid();
    const wrongId = kid();
    const wrongGender = kid();
    const before = await footprint();
    const res = await upload<Rejection>(
      'household',
      toCsv([
        HOUSEHOLD_HEADER,
        householdRow(kid(), '荆河街道'),
        householdRow({ ...wrongId, id: withBadCheckDigit(wrongId.id) }, '荆河街道'),
        householdRow(dup, '荆河街道'),
        householdRow(kid(), '荆河街道', { 出生日期: '2009-05-01' }),
        householdRow(wrongGender, '荆河街道', { 性别: wrongGender.gender === 'MALE' ? '女' : '男' }),
        householdRow(kid(), '荆河街道', { 现居住地址: '=HYPERLINK("http://evil")' }),
        householdRow(kid(), '荆河街道', { 监护人电话: '12345' }),
        householdRow(dup, '龙泉街道'),
      ]),
    );
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('IMPORT_REJECTED');
    expect(res.body.error.details!.errors.map((e) => [e.line, e.column])).toEqual([
      [3, '身份证号'],
      [5, '出生日期'],
      [6, '性别'],
      [7, '现居住地址'],
      [8, '监护人电话'],
      [9, '身份证号'],
    ]);
    expect(res.body.error.details!.errors.at(-1)!.reason).toBe('身份证号与第4行重复');
    expect(await footprint()).toEqual(before);
    expect(await prisma.child.count({ where: { idNumber: dup.id } })).toBe(0);
  });

  it('rejects a row naming a town outside the bureau’s county', async () => {
    const before = await footprint();
    const res = await upload<Rejection>(
      'household',
      toCsv([
        HOUSEHOLD_HEADER,
        householdRow(kid(), '荆河街道'),
        householdRow(kid(), '中心街道'),
        householdRow(kid(), '370402001'),
      ]),
    );
    expect(res.status).toBe(422);
    expect(res.body.error.details!.errors).toEqual([
      { line: 3, column: '户籍所在镇街', reason: '“中心街道”不是本县（市）的镇（街道）' },
      { line: 4, column: '户籍所在镇街', reason: '“370402001”不是本县（市）的镇（街道）' },
    ]);
    expect(await footprint()).toEqual(before);
  });

  it('rejects a file missing a required column, naming it', async () => {
    const c = kid();
    const res = await upload<Rejection>(
      'poverty',
      toCsv([
        ['姓名', '身份证号', '户籍所在镇街'],
        [c.name, c.id, '荆河街道'],
      ]),
    );
    expect(res.status).toBe(422);
    expect(res.body.error.message).toContain('帮扶类别');
  });

  it('reads a GBK-encoded CSV (Excel on a Chinese Windows)', async () => {
    const c = { ...kid(), name: '欧阳喆' };
    const res = await upload('household', iconv.encode(toCsv([HOUSEHOLD_HEADER, householdRow(c, '龙泉街道')]), 'gbk'));
    expect(res.status).toBe(201);
    const stored = await prisma.child.findUniqueOrThrow({ where: { idNumber: c.id } });
    expect(stored.name).toBe('欧阳喆');
    expect(stored.householdAddress).toBe('龙泉街道幸福路1号');
  });

  it('reads an XLSX workbook, whatever the file is called', async () => {
    const c = kid();
    const bytes = await toXlsx([
      ['2026年残疾儿童名单'],
      ['姓名', '公民身份号码', '户籍所在镇街', '残疾类别', '残疾等级'],
      [c.name, c.id, '荆河街道', '听力', '三级'],
    ]);
    const res = await upload('disability', bytes, { fileName: 'list.csv' });
    expect(res.status).toBe(201);
    const entry = await prisma.departmentListEntry.findFirstOrThrow({ where: { batchId: res.body.batch.id } });
    expect(entry).toMatchObject({ lineNumber: 3, kind: 'DISABILITY', category: '听力残疾 三级' });
    const stored = await prisma.child.findUniqueOrThrow({ where: { idNumber: c.id } });
    expect(stored.flags).toEqual(['DISABLED']);
  });

  it('adds a list’s flag to a known child and keeps the others', async () => {
    const c = good[0]!;
    const poverty = await upload(
      'poverty',
      toCsv([
        ['姓名', '身份证号', '户籍所在镇街', '帮扶类别'],
        [c.name, c.id, '荆河街道', '监测户'],
      ]),
    );
    expect(poverty.body).toMatchObject({ created: 0, updated: 1 });
    const welfare = await upload(
      'welfare',
      toCsv([
        ['姓名', '身份证号', '户籍所在镇街', '儿童类别'],
        [c.name, c.id, '荆河街道', '孤儿'],
      ]),
    );
    expect(welfare.status).toBe(201);
    const stored = await prisma.child.findUniqueOrThrow({ where: { idNumber: c.id } });
    expect(stored.flags).toEqual(['REGISTERED_POOR', 'ORPHAN']);
  });

  it('imports a register: class, registry record and the child’s placement', async () => {
    const school = await prisma.school.findFirstOrThrow({
      where: { regionCode: { startsWith: '370481' }, kind: 'PRIMARY' },
    });
    const c = good[1]!;
    const res = await upload(
      'registry',
      toCsv([REGISTRY_HEADER, [`G${c.id}`, c.name, '', c.id, school.code, '4', '（9）班', '在籍']]),
    );
    expect(res.status).toBe(201);
    const stored = await prisma.child.findUniqueOrThrow({
      where: { idNumber: c.id },
      include: { registry: { include: { class: true } } },
    });
    expect(stored.studentNumber).toBe(`G${c.id}`);
    expect(stored.currentSchoolId).toBe(school.id);
    expect(stored.registry).toEqual([
      expect.objectContaining({
        schoolYear: YEAR,
        schoolId: school.id,
        grade: 4,
        status: 'ENROLLED',
        batchId: res.body.batch.id,
      }),
    ]);
    expect(stored.registry[0]!.class).toMatchObject({ name: '四年级(9)班', grade: 4, id: stored.currentClassId });
  });

  it('dates every change of a register status: on the import day, or on the day the register names', async () => {
    const school = await prisma.school.findFirstOrThrow({
      where: { regionCode: { startsWith: '370481' }, kind: 'PRIMARY' },
    });
    const c = good[2]!;
    const row = (status: string, date: string) => [
      `G${c.id}`,
      c.name,
      '',
      c.id,
      school.code,
      '4',
      '（9）班',
      status,
      date,
    ];
    const header = [...REGISTRY_HEADER, '变动日期'];
    const changes = async () => {
      const child = await prisma.child.findUniqueOrThrow({ where: { idNumber: c.id } });
      return prisma.registryChange.findMany({
        where: { record: { childId: child.id, schoolYear: YEAR } },
        orderBy: { id: 'asc' },
      });
    };
    expect((await upload('registry', toCsv([header, row('在籍', '')]))).status).toBe(201);
    expect(await changes()).toEqual([]); // enrolment is the record itself
    expect((await upload('registry', toCsv([header, row('休学', '')]))).status).toBe(201);
    expect((await upload('registry', toCsv([header, row('在籍', '2026-11-20')]))).status).toBe(201);
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
    expect((await changes()).map((ch) => [ch.kind, ch.date.toISOString().slice(0, 10)])).toEqual([
      ['SUSPEND', today],
      ['RESUME', '2026-11-20'],
    ]);
    const bad = await upload<Rejection>('registry', toCsv([header, row('转学', '2026-10')]));
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body)).toContain('精确到日');
    expect(await changes()).toHaveLength(2);
  });

  it('refuses other roles, anonymous callers, non-files and oversized files', async () => {
    const before = await footprint();
    const town = await loginAs('town-370481001');
    expect((await upload<Rejection>('household', goodFile + '\r\n', { token: town })).status).toBe(403);
    const anonymous = await fetch(`${inject('apiUrl')}/api/imports/household`, {
      method: 'POST',
      body: new FormData(),
    });
    expect(anonymous.status).toBe(401);
    const pdf = await upload<Rejection>('household', Buffer.from('%PDF-1.7\n\u0000\u0001'));
    expect([pdf.status, pdf.body.error.code]).toEqual([415, 'UNSUPPORTED_FILE']);
    const huge = await upload<Rejection>('household', Buffer.alloc(50 * 1024 * 1024 + 1, 0x41));
    expect([huge.status, huge.body.error.code]).toEqual([413, 'FILE_TOO_LARGE']);
    expect(huge.body.error.message).toContain('50 MB');
    const unknownKind = await upload<Rejection>('tax', goodFile);
    expect(unknownKind.status).toBe(400);
    expect(await footprint()).toEqual(before);
  });
});

describe('GET /api/imports', () => {
  it('lists the county’s batches newest first, react-admin style', async () => {
    const res = await api<{ data: { id: number; kind: string }[]; total: number }>(
      'GET',
      '/api/imports?perPage=2&page=1',
      undefined,
      { token: bureau },
    );
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(2);
    expect(res.body.total).toBeGreaterThanOrEqual(6);
    expect(res.body.data[0]!.id).toBeGreaterThan(res.body.data[1]!.id);
    const households = await api<{ data: { kind: string }[] }>(
      'GET',
      '/api/imports?kind=household&sort=id&order=ASC',
      undefined,
      {
        token: bureau,
      },
    );
    expect(households.body.data.every((b) => b.kind === 'HOUSEHOLD')).toBe(true);
  });

  it('describes the columns of every kind', async () => {
    const res = await api<{ data: { kind: string; columns: { header: string; aliases: string[] }[] }[] }>(
      'GET',
      '/api/imports/formats',
      undefined,
      { token: bureau },
    );
    expect(res.status).toBe(200);
    expect(res.body.data.map((f) => f.kind)).toEqual(['household', 'poverty', 'disability', 'welfare', 'registry']);
    const id = res.body.data[0]!.columns.find((c) => c.header === '身份证号')!;
    expect(id.aliases).toContain('公民身份号码');
  });
});
