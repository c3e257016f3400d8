/**
 * CSV tables (parsed by csv-parse, a well-kept parser that handles quoting and escapes) and
 * their conversion to tensors: numeric feature columns to float32, a target column to
 * float32 (regression) or, through a label encoding, int32 classes.
 */
import { readFileChecked } from './files.js';
import { parse } from 'csv-parse/sync';
import { Tensor } from '../tensor/tensor.js';
import { checkOptionKeys, intOption, optionKeys } from '../options.js';

/**
 * A parsed CSV: column names and rows of string cells (trimmed), as parseCsv and readCsv
 * return it. Turn columns into tensors with csvColumns (numbers) or csvColumn (strings).
 *
 * @example
 * ```ts
 * import { csvColumns, type CsvTable } from 'axon-nn';
 * const table: CsvTable = { columns: ['x', 'y'], rows: [['1', '2'], ['3', '4']] };
 * const xy = csvColumns(table, ['x', 'y']); // float32 [2, 2]
 * ```
 */
export interface CsvTable {
  /** Column names: the header row, or c0, c1, ... without a header. */
  columns: string[];
  /** Data rows (header excluded), one string per column. */
  rows: string[][];
}

/**
 * parseCsv's and readCsv's options. Unknown keys throw.
 *
 * @example
 * ```ts
 * import { parseCsv, type CsvOptions } from 'axon-nn';
 * const options: CsvOptions = { delimiter: ';', comment: '#', header: false };
 * const table = parseCsv('# exported 2024\n1;2\n3;4\n', options); // columns ['c0', 'c1'], 2 rows
 * ```
 */
export interface CsvOptions {
  /** The first row names the columns (default true); otherwise columns are c0, c1, ... */
  header?: boolean;
  /** Cell separator (default ','); a non-empty string. */
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

/**
 * Parses CSV text into column names and string cells. Quoted cells may hold delimiters, quotes
 * and newlines; cells are trimmed and blank lines skipped.
 *
 * @throws Error for malformed CSV (a row with a different number of cells, an unclosed quote)
 *   or an empty text; RangeError for text longer than maxBytes characters; TypeError for a bad option.
 * @example
 * ```ts
 * import { parseCsv } from 'axon-nn';
 * const table = parseCsv('name,score\n"Smith, J",3.5\nLee,4\n');
 * console.log(table.columns, table.rows); // ['name', 'score'] [['Smith, J', '3.5'], ['Lee', '4']]
 * ```
 */
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

/**
 * Reads a UTF-8 CSV file and parses it as parseCsv does. The path must name a regular file of
 * at most maxBytes (default 256 MiB): a directory, device or pipe is refused.
 *
 * @throws what parseCsv throws, an Error for a refused file, or the system error (ENOENT, ...).
 * @example
 * ```ts
 * import { readCsv, csvColumns, csvColumn } from 'axon-nn';
 * import { writeFileSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * const path = `${tmpdir()}/houses.csv`;
 * writeFileSync(path, 'rooms,area,price\n3,70,210\n4,95,280\n2,50,150\n');
 * const table = await readCsv(path);
 * const x = csvColumns(table, ['rooms', 'area']); // float32 [3, 2]
 * const prices = csvColumn(table, 'price'); // ['210', '280', '150']
 * ```
 */
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

/**
 * A float32 tensor (rows, columns) of the named numeric columns, in the order given.
 *
 * @throws RangeError for an unknown column name (listing the columns) or a cell that is not a
 *   number, naming its row and column (an empty cell counts as not a number; the text 'NaN' is NaN).
 * @example
 * ```ts
 * import { parseCsv, csvColumns } from 'axon-nn';
 * const table = parseCsv('a,b,label\n1,2,x\n3,4,y\n');
 * const x = csvColumns(table, ['b', 'a']);
 * console.log(x.shape, x.toArray()); // [2, 2] [[2, 1], [4, 3]]
 * ```
 */
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

/**
 * The string cells of one column, e.g. class labels for a LabelEncoder.
 *
 * @throws RangeError for an unknown column name (listing the columns).
 * @example
 * ```ts
 * import { parseCsv, csvColumn, LabelEncoder } from 'axon-nn';
 * const table = parseCsv('petal,species\n1.4,setosa\n4.7,versicolor\n1.3,setosa\n');
 * const y = new LabelEncoder().fitTransform(csvColumn(table, 'species')); // int32 [0, 1, 0]
 * ```
 */
export function csvColumn(table: CsvTable, name: string): string[] {
  const c = columnIndex(table, name);
  return table.rows.map((r) => r[c]);
}
