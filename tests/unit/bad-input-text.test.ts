/**
 * Bad input, without a server (issue 8): what text the records accept (api/domain/text.ts) and what a
 * spreadsheet download makes of hostile text (api/reports/format.ts) — property-based with fast-check.
 */
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { plainText, multilineText, textProblem } from '../../api/domain/text.js';
import { csvField, neutraliseFormula, toCsv, toXlsx } from '../../api/reports/format.js';

/** Any code point, lone surrogates included, and the usual troublemakers. */
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\ud800',
    '\udc00x',
    '\u202e',
    '\u2066',
    '\u200b',
    '\ufeff',
    '\ufffd',
    '\n',
    '\t',
  ),
);

/** What a spreadsheet program would run as a formula when it opens or re-reads the cell. */
const FORMULA_LIKE = /^\s*[=+\-@]|^[\t\r\n]/;

describe('textProblem: what the records accept is what PostgreSQL stores, exactly', () => {
  it('accepts only text that survives UTF-8 and PostgreSQL unchanged', () => {
    fc.assert(
      fc.property(anyText, fc.boolean(), (text, multiline) => {
        if (textProblem(text, multiline) !== undefined) return;
        expect(text.includes('\u0000')).toBe(false);
        expect(text.isWellFormed()).toBe(true);
        expect(Buffer.from(text, 'utf8').toString('utf8')).toBe(text);
        expect(text).not.toMatch(/[\u202a-\u202e\u2066-\u2069\u200b\u2060\ufeff\ufffd]/);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses NUL, lone surrogates and direction overrides wherever they sit', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 10 }),
        fc.constantFrom(
          '\u0000',
          '\ud800',
          '\udfff',
          '\u202e',
          '\u2067',
          '\u0007',
          '\u007f',
          '\u0085',
          '\ufffd',
          '\u200b',
        ),
        fc.string({ unit: 'grapheme', maxLength: 10 }),
        fc.boolean(),
        (before, bad, after, multiline) => {
          expect(textProblem(before + bad + after, multiline)).toBeDefined();
        },
      ),
    );
  });

  it('keeps line breaks and tabs for multi-line fields only', () => {
    expect(textProblem('第一行\n第二行\t完', true)).toBeUndefined();
    expect(textProblem('第一行\n第二行', false)).toBeDefined();
    expect(textProblem('👨‍👩‍👧‍👦 ئۇيغۇرچە 𠀀 e\u0301', false)).toBeUndefined();
  });

  it('plainText and multilineText parse to the trimmed input or fail', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const single = plainText(50).safeParse(text);
        if (single.success) expect(single.data).toBe(text.trim());
        else expect(textProblem(text.trim()) !== undefined || text.trim().length > 50).toBe(true);
        const multi = multilineText(50).safeParse(text);
        if (multi.success) expect(multi.data).toBe(text.trim());
      }),
      { numRuns: 1000 },
    );
    expect(plainText(10, 1).safeParse('   ').success).toBe(false);
  });
});

describe('downloads: hostile text leaves as text, never as a formula', () => {
  it('every CSV field reads back as the neutralised text, and none starts like a formula', () => {
    fc.assert(
      fc.property(
        fc.oneof(anyText, fc.constantFrom("=cmd|' /C calc'!A0", '+1', '-1+1', '@SUM(1)', ' =1', '\n=1')),
        (text) => {
          const wellFormed = text.toWellFormed();
          const cell = (parse(csvField(wellFormed), { relax_quotes: true }) as string[][])[0]?.[0] ?? '';
          expect(cell).toBe(neutraliseFormula(wellFormed));
          if (FORMULA_LIKE.test(wellFormed)) expect(cell).toBe(`'${wellFormed}`);
          expect(cell).not.toMatch(FORMULA_LIKE);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('the whole CSV table and the XLSX sheet carry hostile names neutralised, numbers untouched', async () => {
    const hostile = ["=cmd|' /C calc'!A0", '+86 138', '-2+3', '@SUM(1)', '\t=1', ' =1'];
    const table = { sheetName: '表', headers: ['名称', '数'], rows: hostile.map((h, i) => [h, -(i + 1)]) };
    const rows = parse(
      toCsv(table)
        .toString('utf8')
        .replace(/^\uFEFF/, ''),
    ) as string[][];
    expect(rows.slice(1).map((r) => r[0])).toEqual(hostile.map((h) => `'${h}`));
    expect(rows.slice(1).map((r) => r[1])).toEqual(hostile.map((_, i) => String(-(i + 1))));

    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load((await toXlsx(table)) as unknown as ExcelJS.Buffer);
    const sheet = workbook.worksheets[0]!;
    hostile.forEach((h, i) => {
      const name = sheet.getCell(i + 2, 1);
      expect(name.type).toBe(ExcelJS.ValueType.String);
      expect(name.value).toBe(`'${h}`);
      expect(sheet.getCell(i + 2, 2).value).toBe(-(i + 1));
    });
  });
});
