import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../api/errors.js';
import {
  cellText,
  decodeText,
  MAX_XLSX_UNPACKED_BYTES,
  readTable,
  zipUnpackedSize,
} from '../../api/imports/read-table.js';
import { toCsv, toXlsx } from '../fixtures/imports/lists.js';
import { zipBomb } from '../fixtures/imports/zip-bomb.js';

const CSV = toCsv([
  ['姓名', '身份证号', '户籍所在镇街'],
  ['张小明', '370481201601010011', '荆河街道'],
  ['李小红', '370481201602020022', '龙泉街道'],
]);

async function rejection(p: Promise<unknown> | (() => unknown)): Promise<AppError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected a rejection');
}

describe('decoding CSV', () => {
  it('reads UTF-8', async () => {
    const table = await readTable(Buffer.from(CSV, 'utf8'));
    expect(table.format).toBe('csv-utf8');
    expect(table.rows.map((r) => r.cells)).toEqual([
      ['姓名', '身份证号', '户籍所在镇街'],
      ['张小明', '370481201601010011', '荆河街道'],
      ['李小红', '370481201602020022', '龙泉街道'],
    ]);
  });

  it('drops a UTF-8 byte order mark (Excel’s “CSV UTF-8”)', async () => {
    const table = await readTable(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(CSV, 'utf8')]));
    expect(table.format).toBe('csv-utf8');
    expect(table.rows[0]!.cells[0]).toBe('姓名');
  });

  it('reads GBK (Excel’s plain “CSV” on a Chinese Windows)', async () => {
    const table = await readTable(iconv.encode(CSV, 'gbk'));
    expect(table.format).toBe('csv-gbk');
    expect(table.rows[2]!.cells).toEqual(['李小红', '370481201602020022', '龙泉街道']);
  });

  it('reads GBK text that happens to contain rarer characters (GB18030 superset)', () => {
    expect(decodeText(iconv.encode('姓名\r\n喆,堃,昇\r\n', 'gbk')).text).toBe('姓名\r\n喆,堃,昇\r\n');
  });

  it('refuses binary content: NUL bytes, an empty file, bytes that are neither UTF-8 nor GBK', async () => {
    for (const bytes of [
      Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0x00, 0x00]), // legacy .xls (OLE2)
      Buffer.from('%PDF-1.7\n\u0000binary'),
      Buffer.alloc(0),
      Buffer.from([0xff, 0xff, 0xff, 0x81, 0x30]),
    ]) {
      expect((await rejection(readTable(bytes))).code).toBe('UNSUPPORTED_FILE');
    }
  });

  it('numbers lines as a spreadsheet does: blank lines are skipped but counted, quoted newlines stay in one row', async () => {
    const text = '姓名,备注\r\n\r\n张三,"两行\r\n备注"\r\n ,\r\n李四,x\r\n';
    const table = await readTable(Buffer.from(text));
    expect(table.rows.map((r) => [r.line, r.cells[0]])).toEqual([
      [1, '姓名'],
      [3, '张三'],
      [5, '李四'],
    ]);
    expect(table.rows[1]!.cells[1]).toBe('两行\r\n备注');
  });

  it('tolerates stray quotes and ragged rows', async () => {
    const table = await readTable(Buffer.from('班级,姓名\n六年级6"班,王五,多余\n七年级\n'));
    expect(table.rows.map((r) => r.cells)).toEqual([['班级', '姓名'], ['六年级6"班', '王五', '多余'], ['七年级']]);
  });

  it('rejects an unclosed quote as a bad file, naming the line', async () => {
    const err = await rejection(readTable(Buffer.from('姓名,备注\n张三,"没有结束\n')));
    expect(err.code).toBe('IMPORT_REJECTED');
    expect((err.details as { errors: { line: number }[] }).errors[0]!.line).toBeGreaterThanOrEqual(2);
  });
});

describe('reading XLSX', () => {
  it('decides by content: a workbook named .csv is read as XLSX, and the first sheet counts', async () => {
    const workbook = new ExcelJS.Workbook();
    workbook.addWorksheet('名单').addRows([
      ['姓名', '身份证号'],
      ['张小明', '370481201601010011'],
    ]);
    workbook.addWorksheet('说明').addRow(['不导入']);
    const table = await readTable(Buffer.from(await workbook.xlsx.writeBuffer()));
    expect(table.format).toBe('xlsx');
    expect(table.rows).toEqual([
      { line: 1, cells: ['姓名', '身份证号'] },
      { line: 2, cells: ['张小明', '370481201601010011'] },
    ]);
  });

  it('keeps sheet row numbers across blank rows and a title row', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('名单');
    sheet.getCell('A1').value = '2026年适龄儿童名单';
    sheet.getRow(3).values = ['姓名', '身份证号'];
    sheet.getRow(5).values = ['张小明', '370481201601010011'];
    const table = await readTable(Buffer.from(await workbook.xlsx.writeBuffer()));
    expect(table.rows.map((r) => r.line)).toEqual([1, 3, 5]);
  });

  it('turns cells into the text the department typed', async () => {
    const bytes = await toXlsx([
      [
        new Date(Date.UTC(2016, 0, 8)),
        42,
        Number('370481201601010011'), // an ID number stored as a number: its last digits are already lost
        { formula: 'HYPERLINK("http://x")', result: 'x' },
        { richText: [{ text: '荆河' }, { text: '街道' }] },
        { text: '链接', hyperlink: 'http://example.com' },
        true,
        -3,
      ],
    ]);
    const [row] = (await readTable(bytes)).rows;
    expect(row!.cells).toEqual([
      '2016-01-08',
      '42',
      '3.7048120160101e+17',
      '=HYPERLINK("http://x")',
      '荆河街道',
      '链接',
      'TRUE',
      '-3',
    ]);
    expect(cellText({ error: '#N/A' })).toBe('#N/A');
    expect(cellText(null)).toBe('');
  });

  it('refuses a zip that is not a workbook, and a zip that would unpack to too much', async () => {
    expect((await rejection(readTable(Buffer.from('PK\u0003\u0004 not really a zip')))).code).toBe('UNSUPPORTED_FILE');
    const workbook = await toXlsx([['a']]);
    expect(zipUnpackedSize(workbook)).toBeGreaterThan(0);
    // Claim 4 GB unpacked for the first entry of the central directory.
    const bomb = Buffer.from(workbook);
    const entry = bomb.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    bomb.writeUInt32LE(0xfffffffe, entry + 24);
    expect((await rejection(readTable(bomb))).code).toBe('XLSX_TOO_LARGE');
  });

  it('counts the bytes a zip really inflates, not the sizes it declares, and stops at the limit with memory bounded', async () => {
    const GB = 1024 ** 3;
    const bomb = await zipBomb(GB, 4096);
    expect(bomb.length).toBeLessThan(2 * 1024 ** 2);
    expect(zipUnpackedSize(bomb)).toBe(4096);
    const peakBefore = process.resourceUsage().maxRSS * 1024;
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 5);
    const started = performance.now();
    const error = await rejection(readTable(bomb));
    const ms = performance.now() - started;
    clearInterval(sampler);
    const grewTo = Math.max(rssPeak, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
    const grew = grewTo - Math.max(rssBefore, peakBefore);
    console.log(
      `zip bomb (${bomb.length} bytes, declares 4 KB, inflates to 1 GB): refused in ${Math.round(ms)} ms, rss +${Math.round(grew / 1024 ** 2)} MB`,
    );
    expect(error.code).toBe('XLSX_TOO_LARGE');
    expect(error.status).toBe(413);
    expect(error.message).toMatch(/解压后超过/);
    // Well under what it inflates to (1 GB), and under the limit (100 MB) itself: inflating stops there,
    // and each chunk is dropped once counted.
    expect(grew).toBeLessThan(MAX_XLSX_UNPACKED_BYTES);
    expect(ms).toBeLessThan(5_000);
  }, 60_000);
});
