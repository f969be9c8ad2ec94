/**
 * Statutory reports leave the system as JSON (the console), CSV or XLSX (the county's spreadsheets):
 * every report is first flattened into one table of typed cells, then written in the requested format.
 */
import ExcelJS from 'exceljs';
import { z } from 'zod';
import { contentDisposition } from '../routes/shared.js';

export const reportFormat = z.enum(['json', 'csv', 'xlsx']).default('json');
export type ReportFormat = z.infer<typeof reportFormat>;

/** A number stays a number in the spreadsheet; null is an empty cell (e.g. a rate with no denominator). */
export type Cell = string | number | null;

export interface ReportTable {
  /** Worksheet name (Excel allows at most 31 characters and none of []:*?/\). */
  sheetName: string;
  headers: string[];
  rows: Cell[][];
  /** Columns holding percentages, shown with two decimals in XLSX. */
  percentColumns?: number[];
}

export interface ReportFile {
  body: Buffer;
  contentType: string;
  contentDisposition: string;
}

const UTF8_BOM = '\uFEFF';
export const XLSX_MIME = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const SHEET_NAME_MAX = 31;

/** Percentage with two decimals, or null when there is nothing to divide by (shown as an empty cell). */
export function rate(numerator: number, denominator: number): number | null {
  if (denominator <= 0) return null;
  return Math.round((numerator / denominator) * 10_000) / 100;
}

/**
 * A text cell a spreadsheet would take for a formula (=, +, -, @, also behind leading white space, and
 * tab/CR/LF which some programs strip before looking) is prefixed with an apostrophe: a town or school
 * name must never run as a formula on the bureau's machine (OWASP "CSV injection").
 */
export function neutraliseFormula(text: string): string {
  return /^\s*[=+\-@]|^[\t\r\n]/.test(text) ? `'${text}` : text;
}

/** One CSV field (RFC 4180): quoted when it holds a comma, quote or line break; numbers as they are. */
export function csvField(cell: Cell): string {
  if (cell === null) return '';
  if (typeof cell === 'number') return String(cell);
  const text = neutraliseFormula(cell);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** UTF-8 with a byte-order mark: without it Excel reads the Chinese headers as GBK and garbles them. */
export function toCsv(table: ReportTable): Buffer {
  const lines = [table.headers, ...table.rows].map((row) => row.map(csvField).join(','));
  return Buffer.from(UTF8_BOM + lines.join('\r\n') + '\r\n', 'utf8');
}

/**
 * Typed cells, so nothing in a string cell is evaluated as a formula when the file is opened. Text that
 * looks like a formula is still neutralised as in CSV: Excel re-reads a cell as a formula once someone
 * edits it, and a workbook saved again as CSV would carry it raw.
 */
export async function toXlsx(table: ReportTable): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet(table.sheetName.replace(/[[\]:*?/\\]/g, ' ').slice(0, SHEET_NAME_MAX));
  sheet.addRow(table.headers.map(neutraliseFormula)).font = { bold: true };
  for (const row of table.rows) sheet.addRow(row.map((c) => (typeof c === 'string' ? neutraliseFormula(c) : c)));
  for (const col of table.percentColumns ?? []) sheet.getColumn(col + 1).numFmt = '0.00';
  sheet.views = [{ state: 'frozen', ySplit: 1 }];
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

/** The report as a download: `<name>.<csv|xlsx>`. */
export async function renderReport(
  table: ReportTable,
  format: Exclude<ReportFormat, 'json'>,
  fileName: string,
  asciiFallback: string,
): Promise<ReportFile> {
  const body = format === 'csv' ? toCsv(table) : await toXlsx(table);
  return {
    body,
    contentType: format === 'csv' ? 'text/csv; charset=utf-8' : XLSX_MIME,
    contentDisposition: contentDisposition(`${fileName}.${format}`, `${asciiFallback}.${format}`),
  };
}
