/**
 * IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed. The reader treats
 * the file as untrusted: magic bytes, element type, rank, dimensions and the exact data length
 * are checked before anything is allocated, and decompression is capped.
 *
 * Layout: 0x00 0x00, type (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64),
 * rank, rank big-endian u32 dimensions, then the data big-endian.
 */
import { gunzipSync } from 'node:zlib';
import { readFileChecked } from './files.js';
import { Tensor } from '../tensor/tensor.js';
import { checkOptionKeys, enumOption, intOption, numberOption, optionKeys } from '../options.js';

const TYPES: Record<number, { name: string; size: number }> = {
  0x08: { name: 'uint8', size: 1 },
  0x09: { name: 'int8', size: 1 },
  0x0b: { name: 'int16', size: 2 },
  0x0c: { name: 'int32', size: 4 },
  0x0d: { name: 'float32', size: 4 },
  0x0e: { name: 'float64', size: 8 },
};

/** Default cap on decompressed size (1 GiB). */
const MAX_BYTES = 1 << 30;

/**
 * parseIdx's and readIdx's options. Unknown keys throw.
 *
 * @example
 * ```ts
 * import { parseIdx, type IdxOptions } from 'axon-nn';
 * const pixels: IdxOptions = { scale: 1 / 255, source: 'images.idx' };
 * const file = Uint8Array.of(0, 0, 0x08, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 255); // one 1x2 uint8 image
 * const x = parseIdx(file, pixels); // float32 [1, 2]: [[0, 1]]
 * ```
 */
export interface IdxOptions {
  /**
   * Result dtype. Default: 'int32' for integer element types without `scale` (labels),
   * 'float32' otherwise. With 'int32', `scale` is ignored and float values are truncated.
   */
  dtype?: 'float32' | 'int32';
  /** Multiply float results by this (e.g. 1/255 for pixels). */
  scale?: number;
  /** Refuse files that decompress to more than this many bytes (default 1 GiB). */
  maxBytes?: number;
  /** Name used in errors. */
  source?: string;
}
const IDX_KEYS = optionKeys<IdxOptions>({ dtype: true, scale: true, maxBytes: true, source: true });

function checkIdxOptions(op: string, options: IdxOptions): void {
  checkOptionKeys(op, options, IDX_KEYS);
  enumOption(op, 'dtype', options.dtype, 'float32', ['float32', 'int32']);
  numberOption(op, 'scale', options.scale, 1, -Number.MAX_VALUE, Number.MAX_VALUE);
  intOption(op, 'maxBytes', options.maxBytes, MAX_BYTES, 0, Number.MAX_SAFE_INTEGER);
  if (options.source !== undefined && typeof options.source !== 'string')
    throw new TypeError(`${op}: source must be a string, got ${typeof options.source}`);
}

/**
 * Decodes an IDX file held in memory, plain or gzip-compressed (detected by its magic bytes),
 * into a tensor of the shape its header gives. Every header field and the exact data length
 * are checked before anything is allocated.
 *
 * @throws Error naming `source` for bad magic bytes, an unknown element type, a rank outside
 *   1..8, a length that does not match the header, data over maxBytes (default 1 GiB, also the
 *   cap on decompression) or broken gzip data; TypeError/RangeError for a bad option.
 * @example
 * ```ts
 * import { parseIdx } from 'axon-nn';
 * // magic 0 0, type 0x08 (uint8), rank 1, dimension 3, then the labels 7, 2, 1
 * const labels = parseIdx(Uint8Array.of(0, 0, 0x08, 1, 0, 0, 0, 3, 7, 2, 1));
 * console.log(labels.dtype, labels.toArray()); // int32 [7, 2, 1]
 * ```
 */
export function parseIdx(input: Uint8Array, options: IdxOptions = {}): Tensor {
  checkIdxOptions('parseIdx', options);
  const src = options.source ?? 'IDX data';
  const maxBytes = options.maxBytes ?? MAX_BYTES;
  let buf = input;
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf, { maxOutputLength: maxBytes });
    } catch (e) {
      throw new Error(`${src}: cannot decompress gzip data (${(e as Error).message})`);
    }
  }
  if (buf.length < 4) throw new Error(`${src}: ${buf.length} bytes is too short for an IDX header`);
  if (buf[0] !== 0 || buf[1] !== 0) throw new Error(`${src}: bad magic bytes ${buf[0]}, ${buf[1]} (expected 0, 0)`);
  const type = TYPES[buf[2]];
  if (!type) throw new Error(`${src}: unknown element type 0x${buf[2].toString(16)}`);
  const rank = buf[3];
  if (rank < 1 || rank > 8) throw new Error(`${src}: rank ${rank} is outside 1..8`);
  const header = 4 + 4 * rank;
  if (buf.length < header) throw new Error(`${src}: truncated header (${buf.length} bytes, needs ${header})`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const shape: number[] = [];
  let count = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    shape.push(d);
    count *= d;
    if (count * type.size > maxBytes) throw new Error(`${src}: dimensions ${JSON.stringify(shape)} exceed the ${maxBytes}-byte limit`);
  }
  const expected = header + count * type.size;
  if (buf.length !== expected)
    throw new Error(`${src}: ${buf.length} bytes but the header [${shape.join(', ')}] of ${type.name} needs exactly ${expected}`);
  const isInt = type.name !== 'float32' && type.name !== 'float64';
  const dtype = options.dtype ?? (isInt && options.scale === undefined ? 'int32' : 'float32');
  const out = dtype === 'int32' ? new Int32Array(count) : new Float32Array(count);
  const scale = options.scale ?? 1;
  for (let i = 0; i < count; i++) {
    const at = header + i * type.size;
    let v: number;
    switch (type.name) {
      case 'uint8':
        v = buf[at];
        break;
      case 'int8':
        v = view.getInt8(at);
        break;
      case 'int16':
        v = view.getInt16(at, false);
        break;
      case 'int32':
        v = view.getInt32(at, false);
        break;
      case 'float32':
        v = view.getFloat32(at, false);
        break;
      default:
        v = view.getFloat64(at, false);
    }
    out[i] = dtype === 'int32' ? v : v * scale;
  }
  return new Tensor(out, shape);
}

/**
 * Reads an IDX file (.gz or plain) from disk and decodes it as parseIdx does. The path must
 * name a regular file no larger than maxBytes (default 1 GiB); errors name the path.
 *
 * @throws what parseIdx throws, an Error for a refused file, or the system error (ENOENT, ...).
 * @example
 * ```ts
 * import { readIdx } from 'axon-nn';
 * import { writeFileSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { gzipSync } from 'node:zlib';
 * const header = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2]; // uint8, rank 3, [2, 2, 2]
 * const path = `${tmpdir()}/images-idx3-ubyte.gz`;
 * writeFileSync(path, gzipSync(Uint8Array.from([...header, 0, 255, 128, 64, 1, 2, 3, 4])));
 * const images = await readIdx(path, { scale: 1 / 255 }); // float32 [2, 2, 2]
 * ```
 */
export async function readIdx(path: string, options: IdxOptions = {}): Promise<Tensor> {
  checkIdxOptions('readIdx', options);
  // The file itself within maxBytes too (and a regular file: not /dev/zero or a pipe).
  const data = await readFileChecked(path, options.maxBytes ?? MAX_BYTES);
  return parseIdx(data, { source: path, ...options });
}
