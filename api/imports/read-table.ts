/**
 * Turns an uploaded file into rows of text cells, numbered as the department sees them (the first row of
 * the file or sheet is line 1). The format is decided by content, never by the file name: a zip is XLSX,
 * anything else must be CSV text in UTF-8 (with or without BOM) or GBK.
 */
import zlib from 'node:zlib';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import { AppError } from '../errors.js';

export interface TableRow {
  line: number;
  cells: string[];
}

export type FileFormat = 'xlsx' | 'csv-utf8' | 'csv-gbk';

export interface Table {
  format: FileFormat;
  /** Non-empty rows only; blank rows keep their line numbers by being skipped, not removed. */
  rows: TableRow[];
}

/**
 * A zip whose entries unpack to more than this is refused before exceljs opens it (zip bombs): exceljs
 * holds the whole workbook in memory, about ten times its unpacked size (a 70,000-row list unpacks to
 * 32 MB).
 */
export const MAX_XLSX_UNPACKED_BYTES = 100 * 1024 * 1024;

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export async function readTable(bytes: Buffer): Promise<Table> {
  if (isZip(bytes)) return { format: 'xlsx', rows: await readXlsx(bytes) };
  const { text, format } = decodeText(bytes);
  return { format, rows: readCsv(text) };
}

function isZip(bytes: Buffer): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/** UTF-8 when the bytes are valid UTF-8, else GBK; binary content (NUL bytes, undecodable) is refused. */
export function decodeText(bytes: Buffer): { text: string; format: 'csv-utf8' | 'csv-gbk' } {
  const body = bytes.subarray(0, 3).equals(UTF8_BOM) ? bytes.subarray(3) : bytes;
  if (body.length === 0 || body.includes(0)) throw new AppError('UNSUPPORTED_FILE');
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(body), format: 'csv-utf8' };
  } catch {
    // GB18030 decodes every GBK (and GB2312) file the same way and more besides.
    const text = iconv.decode(body, 'gb18030');
    if (text.includes('\uFFFD')) throw new AppError('UNSUPPORTED_FILE');
    return { text, format: 'csv-gbk' };
  }
}

function readCsv(text: string): TableRow[] {
  let records: string[][];
  try {
    // Blank lines stay records so that record n is line n, as a spreadsheet program numbers them.
    records = parse(text, { relax_quotes: true, relax_column_count: true, skip_empty_lines: false });
  } catch (err) {
    const line = (err as { lines?: number }).lines;
    throw new AppError('IMPORT_REJECTED', {
      errors: [{ line: line ?? 1, reason: 'CSV格式错误（引号未闭合或不成对），请用表格软件重新另存为CSV' }],
    });
  }
  return records.flatMap((cells, i) => (isBlank(cells) ? [] : [{ line: i + 1, cells }]));
}

async function readXlsx(bytes: Buffer): Promise<TableRow[]> {
  // The sizes the archive declares refuse an honest large file at once; they prove nothing about a
  // hostile one (a 1 MB file declaring a 4 KB sheet inflated to 1 GB inside exceljs), so the bytes that
  // really come out are counted too, and inflating stops at the limit.
  const declared = zipUnpackedSize(bytes);
  if (declared === undefined) throw new AppError('UNSUPPORTED_FILE');
  if (declared > MAX_XLSX_UNPACKED_BYTES) throw new AppError('XLSX_TOO_LARGE');
  const inflated = await zipInflatedSize(bytes, MAX_XLSX_UNPACKED_BYTES);
  if (inflated === undefined) throw new AppError('UNSUPPORTED_FILE');
  if (inflated > MAX_XLSX_UNPACKED_BYTES) throw new AppError('XLSX_TOO_LARGE');
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(bytes as unknown as ExcelJS.Buffer);
  } catch {
    throw new AppError('UNSUPPORTED_FILE');
  }
  const sheet = workbook.worksheets[0];
  if (!sheet) throw new AppError('UNSUPPORTED_FILE');
  const rows: TableRow[] = [];
  sheet.eachRow({ includeEmpty: false }, (row, line) => {
    // row.values is 1-based and sparse: column A is index 1.
    const values = row.values as ExcelJS.CellValue[];
    const cells = Array.from({ length: Math.max(values.length - 1, 0) }, (_, i) => cellText(values[i + 1]));
    if (!isBlank(cells)) rows.push({ line, cells });
  });
  return rows;
}

/**
 * A cell as the text the department typed. Formulas come back as "=…" so that the formula check refuses
 * them; an integer too long for a double (an ID number stored as a number: its last digits are already
 * lost) comes back in scientific notation, which the ID check explains.
 */
export function cellText(v: ExcelJS.CellValue): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isInteger(v) && !Number.isSafeInteger(v) ? v.toExponential() : String(v);
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  if ('formula' in v || 'sharedFormula' in v)
    return `=${v.formula ?? (v as ExcelJS.CellSharedFormulaValue).sharedFormula}`;
  if ('richText' in v) return v.richText.map((r) => r.text).join('');
  if ('hyperlink' in v) return typeof v.text === 'string' ? v.text : cellText(v.text as ExcelJS.CellValue);
  if ('error' in v) return v.error;
  return '';
}

function isBlank(cells: string[]): boolean {
  return cells.every((c) => c.trim() === '');
}

/**
 * Sum of the entries' unpacked sizes from the zip's central directory; undefined when the directory is
 * not readable (not a zip we can open). ZIP64 entries count as too large: an XLSX of a county's lists
 * never needs them.
 */
export function zipUnpackedSize(bytes: Buffer): number | undefined {
  const EOCD = 0x06054b50;
  const ENTRY = 0x02014b50;
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (bytes.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return undefined;
  const entries = bytes.readUInt16LE(eocd + 10);
  let at = bytes.readUInt32LE(eocd + 16);
  let total = 0;
  for (let n = 0; n < entries; n++) {
    if (at + 46 > bytes.length || bytes.readUInt32LE(at) !== ENTRY) return undefined;
    const size = bytes.readUInt32LE(at + 24);
    if (size === 0xffffffff) return Infinity;
    total += size;
    at += 46 + bytes.readUInt16LE(at + 28) + bytes.readUInt16LE(at + 30) + bytes.readUInt16LE(at + 32);
  }
  return total;
}

/** Where the central directory starts and how many entries it lists; undefined when it cannot be found. */
function centralDirectory(bytes: Buffer): { at: number; entries: number } | undefined {
  const EOCD = 0x06054b50;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (bytes.readUInt32LE(i) === EOCD) return { at: bytes.readUInt32LE(i + 16), entries: bytes.readUInt16LE(i + 10) };
  }
  return undefined;
}

/**
 * What the zip's entries really unpack to, inflated entry by entry in 64 KB chunks that are counted and
 * dropped (garbage at once, never kept), and inflating stops as soon as the total passes `limit` (the
 * result is then just above it): whatever the archive claims, at most `limit` bytes are ever inflated. Every entry the central directory lists is counted,
 * however many share their data. Undefined for what we would not read: an entry outside the file,
 * encrypted, or compressed other than stored or deflate, or a broken deflate stream.
 */
export async function zipInflatedSize(bytes: Buffer, limit: number): Promise<number | undefined> {
  const ENTRY = 0x02014b50;
  const LOCAL = 0x04034b50;
  const dir = centralDirectory(bytes);
  if (!dir) return undefined;
  let at = dir.at;
  let total = 0;
  for (let n = 0; n < dir.entries; n++) {
    if (at + 46 > bytes.length || bytes.readUInt32LE(at) !== ENTRY) return undefined;
    const flags = bytes.readUInt16LE(at + 8);
    const method = bytes.readUInt16LE(at + 10);
    const compressed = bytes.readUInt32LE(at + 20);
    const local = bytes.readUInt32LE(at + 42);
    at += 46 + bytes.readUInt16LE(at + 28) + bytes.readUInt16LE(at + 30) + bytes.readUInt16LE(at + 32);
    if (flags & 1 || local + 30 > bytes.length || bytes.readUInt32LE(local) !== LOCAL) return undefined;
    const start = local + 30 + bytes.readUInt16LE(local + 26) + bytes.readUInt16LE(local + 28);
    if (start + compressed > bytes.length) return undefined;
    const data = bytes.subarray(start, start + compressed);
    if (method === 0) total += data.length;
    else if (method === 8) {
      const out = await inflatedLength(data, limit - total);
      if (out === undefined) return undefined;
      total += out;
    } else return undefined;
    if (total > limit) return total;
  }
  return total;
}

/** Bytes a raw deflate stream inflates to, counting up to just past `budget`; undefined if it is broken. */
function inflatedLength(data: Buffer, budget: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const inflate = zlib.createInflateRaw({ chunkSize: 64 * 1024 });
    let count = 0;
    let settled = false;
    const settle = (v: number | undefined) => {
      if (settled) return;
      settled = true;
      inflate.destroy();
      resolve(v);
    };
    inflate.on('data', (chunk: Buffer) => {
      count += chunk.length;
      if (count > budget) settle(count);
    });
    inflate.on('end', () => settle(count));
    inflate.on('error', () => settle(undefined));
    inflate.end(data);
  });
}
