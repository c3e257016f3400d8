/**
 * CSV tables (parsed by csv-parse, a well-kept parser that handles quoting and escapes) and
 * their conversion to tensors: numeric feature columns to float32, a target column to
 * float32 (regression) or, through a label encoding, int32 classes.
 */
import { readFileChecked } from './files.js';
import { parse } from 'csv-parse/sync';
import { Tensor } from '../tensor/tensor.js';
import { checkOptionKeys, intOption, optionKeys } from '../options.js';

export interface CsvTable {
  columns: string[];
  rows: string[][];
}

export interface CsvOptions {
  /** The first row names the columns (default true); otherwise columns are c0, c1, ... */
  header?: boolean;
  delimiter?: string;
  /** Lines starting with this are skipped. */
  comment?: string;
  /** Larger files (readCsv) and texts (parseCsv, counted in characters) are refused (default
   * 256 MiB). */
  maxBytes?: number;
}
const CSV_KEYS = optionKeys<CsvOptions>({ header: true, delimiter: true, comment: true, maxBytes: true });
/** Text files (CSV, TSV) larger than this are refused unless a caller raises it. */
export const MAX_TEXT_BYTES = 256 * 2 ** 20;

function checkCsvOptions(op: string, options: CsvOptions): void {
  checkOptionKeys(op, options, CSV_KEYS);
  if (options.header !== undefined && typeof options.header !== 'boolean')
    throw new TypeError(`${op}: header must be a boolean, got ${JSON.stringify(options.header)}`);
  for (const key of ['delimiter', 'comment'] as const)
    if (options[key] !== undefined && (typeof options[key] !== 'string' || options[key] === ''))
      throw new TypeError(`${op}: ${key} must be a non-empty string, got ${JSON.stringify(options[key])}`);
}

/** Parses CSV text into column names and string cells (every row must have every column). */
export function parseCsv(text: string, options: CsvOptions = {}): CsvTable {
  checkCsvOptions('parseCsv', options);
  const limit = intOption('parseCsv', 'maxBytes', options.maxBytes, MAX_TEXT_BYTES, 0, 2 ** 31);
  if (text.length > limit) throw new RangeError(`parseCsv: ${text.length} characters is more than maxBytes = ${limit}`);
  let records: string[][];
  try {
    records = parse(text, {
      delimiter: options.delimiter ?? ',',
      comment: options.comment,
      skip_empty_lines: true,
      trim: true,
      relax_column_count: false,
    }) as string[][];
  } catch (e) {
    throw new Error(`parseCsv: ${(e as Error).message}`);
  }
  if (records.length === 0) throw new Error('parseCsv: the CSV is empty');
  const header = options.header ?? true;
  const columns = header ? records[0] : records[0].map((_, i) => `c${i}`);
  return { columns, rows: header ? records.slice(1) : records };
}

export async function readCsv(path: string, options: CsvOptions = {}): Promise<CsvTable> {
  checkCsvOptions('readCsv', options);
  const bytes = await readFileChecked(path, intOption('readCsv', 'maxBytes', options.maxBytes, MAX_TEXT_BYTES, 0, 2 ** 31));
  return parseCsv(bytes.toString('utf8'), options);
}

function columnIndex(table: CsvTable, name: string): number {
  const i = table.columns.indexOf(name);
  if (i < 0) throw new RangeError(`CSV has no column '${name}' (columns: ${table.columns.join(', ')})`);
  return i;
}

/** A float32 tensor (rows, columns) of the named numeric columns; a non-number throws naming the cell. */
export function csvColumns(table: CsvTable, names: string[]): Tensor {
  const idx = names.map((n) => columnIndex(table, n));
  const out = new Float32Array(table.rows.length * idx.length);
  table.rows.forEach((row, r) =>
    idx.forEach((c, j) => {
      const cell = row[c];
      const v = cell === '' ? NaN : Number(cell);
      if (Number.isNaN(v) && cell !== 'NaN')
        throw new RangeError(`CSV row ${r + 1}, column '${table.columns[c]}': '${cell}' is not a number`);
      out[r * idx.length + j] = v;
    }),
  );
  return new Tensor(out, [table.rows.length, idx.length]);
}

/** The string cells of one column. */
export function csvColumn(table: CsvTable, name: string): string[] {
  const c = columnIndex(table, name);
  return table.rows.map((r) => r[c]);
}
