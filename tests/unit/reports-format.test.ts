import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { contentDisposition } from '../../api/routes/shared.js';
import { csvField, neutraliseFormula, rate, type ReportTable, toCsv, toXlsx } from '../../api/reports/format.js';

describe('rate', () => {
  it('is a percentage with two decimals', () => {
    expect(rate(277, 282)).toBe(98.23);
    expect(rate(1, 3)).toBe(33.33);
    expect(rate(5, 5)).toBe(100);
  });

  it('is null, not 0 or Infinity, when there is nothing to divide by', () => {
    expect(rate(0, 0)).toBeNull();
    expect(rate(3, 0)).toBeNull();
    expect(rate(3, -1)).toBeNull();
  });

  it('is 0 when the numerator is 0 and the denominator is not', () => {
    expect(rate(0, 40)).toBe(0);
  });
});

describe('CSV cells', () => {
  it('quotes commas, quotes and line breaks (RFC 4180)', () => {
    expect(csvField('城关镇')).toBe('城关镇');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('他说"好"')).toBe('"他说""好"""');
    expect(csvField('一\n二')).toBe('"一\n二"');
  });

  it('writes numbers as they are and null as an empty cell', () => {
    expect(csvField(0)).toBe('0');
    expect(csvField(98.23)).toBe('98.23');
    expect(csvField(null)).toBe('');
  });

  it('neutralises text a spreadsheet would run as a formula: = + - @ tab CR', () => {
    for (const text of ['=1+1', '+86 138', '-2', '@SUM(A1)', '\t=1', '\r=1']) {
      expect(neutraliseFormula(text)).toBe(`'${text}`);
    }
    expect(neutraliseFormula('城关镇=1')).toBe('城关镇=1');
    expect(csvField('=HYPERLINK("http://x","点我")')).toBe('"\'=HYPERLINK(""http://x"",""点我"")"');
  });

  it('leaves negative numbers alone: only text is neutralised', () => {
    expect(csvField(-3)).toBe('-3');
  });
});

const table: ReportTable = {
  sheetName: '辍学情况统计表2026-10',
  headers: ['镇街', '在籍学生数', '辍学率（%）'],
  rows: [
    ['荆河街道', 120, 1.67],
    ['=cmd', 0, null],
  ],
  percentColumns: [2],
};

describe('toCsv', () => {
  it('starts with a UTF-8 byte-order mark and ends every row with CRLF', () => {
    const bytes = toCsv(table);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.subarray(3).toString('utf8')).toBe("镇街,在籍学生数,辍学率（%）\r\n荆河街道,120,1.67\r\n'=cmd,0,\r\n");
  });
});

describe('toXlsx', () => {
  it('writes typed cells that read back as the same table', async () => {
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load((await toXlsx(table)) as unknown as ExcelJS.Buffer);
    const sheet = workbook.worksheets[0]!;
    expect(sheet.name).toBe('辍学情况统计表2026-10');
    expect(sheet.getRow(1).values).toEqual([undefined, '镇街', '在籍学生数', '辍学率（%）']);
    expect(sheet.getRow(2).values).toEqual([undefined, '荆河街道', 120, 1.67]);
    // A text cell stays text: exceljs writes no formula for it.
    expect(sheet.getCell('A3').type).toBe(ExcelJS.ValueType.String);
    expect(sheet.getCell('C2').numFmt).toBe('0.00');
  });

  it('cuts the sheet name to what Excel accepts', async () => {
    const workbook = new ExcelJS.Workbook();
    const renamed = await toXlsx({ ...table, sheetName: 'a/b:c'.padEnd(40, 'x') });
    await workbook.xlsx.load(renamed as unknown as ExcelJS.Buffer);
    expect(workbook.worksheets[0]!.name).toBe('a b c'.padEnd(31, 'x'));
  });
});

describe('contentDisposition', () => {
  it('names the file in Chinese with RFC 5987 and gives an ASCII fallback', () => {
    const header = contentDisposition('巩固率与入学率-370481-2026.csv', 'retention-370481-2026.csv');
    expect(header).toBe(
      'attachment; filename="retention-370481-2026.csv"; filename*=UTF-8\'\'%E5%B7%A9%E5%9B%BA%E7%8E%87%E4%B8%8E%E5%85%A5%E5%AD%A6%E7%8E%87-370481-2026.csv',
    );
    const encoded = /filename\*=UTF-8''(.+)$/.exec(header)![1]!;
    expect(decodeURIComponent(encoded)).toBe('巩固率与入学率-370481-2026.csv');
  });

  it("percent-encodes the characters RFC 5987 forbids but encodeURIComponent keeps: ' ( ) *", () => {
    expect(contentDisposition("表(一)'*.csv", 'x.csv')).toContain(
      "filename*=UTF-8''%E8%A1%A8%28%E4%B8%80%29%27%2A.csv",
    );
  });

  it('keeps quotes and non-ASCII out of the fallback name', () => {
    expect(contentDisposition('a.csv', 'a"b\\表.csv')).toMatch(/^attachment; filename="a_b__\.csv";/);
  });
});
