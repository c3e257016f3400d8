/**
 * The safetensors format (https://huggingface.co/docs/safetensors): an 8-byte little-endian
 * header length N, N bytes of JSON mapping tensor names to { dtype, shape, data_offsets }
 * (plus an optional "__metadata__" object of string values), then the raw little-endian data.
 * Files written here open in PyTorch's and Hugging Face's tooling and vice versa.
 *
 * Reading treats the bytes as hostile. Before any tensor is built every rule is checked, each
 * with its own error: the header length against the file size and a cap, the JSON, known
 * dtypes, shapes of non-negative integers, element counts matching byte ranges (no overflow),
 * offsets inside the data section, tensors neither overlapping nor leaving gaps. Allocations
 * are bounded by the file: a decoded tensor takes at most four times the bytes it occupies
 * (U8, I8 and BOOL widen to int32, F16 and BF16 to float32).
 */
import { createHash } from 'node:crypto';
import { Tensor } from '../tensor/tensor.js';

/**
 * Header JSON larger than this (100 MiB) is refused by decodeSafetensors before it is read, as
 * the format's reference reader does.
 *
 * @example
 * ```ts
 * import { decodeSafetensors, MAX_HEADER_BYTES } from 'axon-nn';
 * const hostile = new Uint8Array(16);
 * new DataView(hostile.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES) + 1n, true);
 * try {
 *   decodeSafetensors(hostile);
 * } catch (e) {
 *   console.log((e as Error).message); // safetensors: header too large: 104857601 bytes (the limit is 104857600)
 * }
 * ```
 */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

const DTYPES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/**
 * What decodeSafetensors throws for bytes that break a rule of the format; the message names
 * the source, the rule broken and the detail (file names are cut short, never echoed whole).
 *
 * @example
 * ```ts
 * import { decodeSafetensors, SafetensorsError } from 'axon-nn';
 * try {
 *   decodeSafetensors(new Uint8Array(4), 'weights.safetensors');
 * } catch (e) {
 *   if (e instanceof SafetensorsError) console.log(e.message); // weights.safetensors: file too short: 4 bytes, ...
 * }
 * ```
 */
export class SafetensorsError extends Error {
  /** Always 'SafetensorsError'. */
  override name = 'SafetensorsError';
}

/**
 * A decoded safetensors file: decodeSafetensors's result.
 *
 * @example
 * ```ts
 * import { decodeSafetensors, encodeSafetensors, tensor, type SafetensorsContent } from 'axon-nn';
 * const file = encodeSafetensors({ bias: tensor([0.5, -0.5]) }, { source: 'demo' });
 * const content: SafetensorsContent = decodeSafetensors(file);
 * console.log([...content.tensors.keys()], content.metadata); // ['bias'] { source: 'demo' }
 * console.log(content.dataSection.length); // 8 (two float32 values)
 * ```
 */
export interface SafetensorsContent {
  /** The tensors by name: float dtypes as float32, integer and bool dtypes as int32. */
  tensors: Map<string, Tensor>;
  /** The `__metadata__` string entries (empty when the file has none). */
  metadata: Record<string, string>;
  /** The raw data section (every tensor's bytes, in file order): what checksums cover. */
  dataSection: Uint8Array;
}

/** A name from the file, quoted and cut short: error messages must not echo megabytes. */
function q(name: string): string {
  return name.length > 80 ? `${JSON.stringify(name.slice(0, 80))}...` : JSON.stringify(name);
}

function fail(source: string, rule: string, detail: string): never {
  throw new SafetensorsError(`${source}: ${rule}: ${detail}`);
}

/**
 * Serialises float32 and int32 tensors (as F32 and I32, names sorted as the reference writer
 * does) and string metadata into safetensors bytes, which PyTorch's and Hugging Face's
 * tooling read.
 *
 * @throws TypeError for a value that is not a Tensor or metadata that is not a string;
 *   RangeError for a tensor named "__metadata__" or one whose data is not exactly its elements.
 * @example
 * ```ts
 * import { encodeSafetensors, randn, zeros } from 'axon-nn';
 * import { writeFileSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * const bytes = encodeSafetensors({ 'fc.weight': randn([4, 3]), 'fc.bias': zeros([4]) }, { note: 'demo' });
 * writeFileSync(`${tmpdir()}/fc.safetensors`, bytes); // safetensors.torch.load_file reads it
 * ```
 */
export function encodeSafetensors(
  tensors: Record<string, Tensor> | Map<string, Tensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const entries = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))].sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  // No prototype: a tensor named "__proto__" must become a key, not replace the prototype.
  const header = Object.create(null) as Record<string, unknown>;
  for (const [k, v] of Object.entries(metadata))
    if (typeof v !== 'string') throw new TypeError(`encodeSafetensors: metadata '${k}' must be a string`);
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new RangeError('encodeSafetensors: "__metadata__" is reserved');
    if (!(t instanceof Tensor)) throw new TypeError(`encodeSafetensors: ${q(name)} is not a Tensor`);
    const bytes = t.size * 4;
    if (t.data.byteLength !== bytes)
      throw new RangeError(`encodeSafetensors: ${q(name)} views ${t.data.length} values for ${t.size} elements`);
    header[name] = {
      dtype: t.dtype === 'int32' ? 'I32' : 'F32',
      shape: [...t.shape],
      data_offsets: [offset, offset + bytes],
    };
    offset += bytes;
  }
  // Pad the header with spaces to a multiple of 8 so the data section is 8-byte aligned.
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let at = 8 + headerBytes.length;
  for (const [, t] of entries) {
    // Typed arrays are little-endian on every platform Node runs on that we build for.
    const src = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    src.copy(out, at);
    at += src.length;
  }
  return out;
}

function toFloat32(dtype: string, bytes: Uint8Array, count: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    switch (dtype) {
      case 'F32':
        out[i] = view.getFloat32(i * 4, true);
        break;
      case 'F64':
        out[i] = view.getFloat64(i * 8, true);
        break;
      case 'F16': {
        const h = view.getUint16(i * 2, true);
        const s = h & 0x8000 ? -1 : 1;
        const e = (h >> 10) & 0x1f;
        const f = h & 0x3ff;
        out[i] =
          e === 0
            ? s * 2 ** -14 * (f / 1024)
            : e === 31
              ? f
                ? NaN
                : s * Infinity
              : s * 2 ** (e - 15) * (1 + f / 1024);
        break;
      }
      case 'BF16': {
        const u = new Uint32Array(1);
        u[0] = view.getUint16(i * 2, true) << 16;
        out[i] = new Float32Array(u.buffer)[0];
        break;
      }
    }
  }
  return out;
}

function toInt32(dtype: string, bytes: Uint8Array, count: number, name: string, source: string): Int32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    let v: number;
    switch (dtype) {
      case 'I32':
        v = view.getInt32(i * 4, true);
        break;
      case 'I64': {
        const big = view.getBigInt64(i * 8, true);
        if (big > 2147483647n || big < -2147483648n)
          fail(source, 'value out of range', `${q(name)} element ${i} does not fit in int32`);
        v = Number(big);
        break;
      }
      case 'I16':
        v = view.getInt16(i * 2, true);
        break;
      case 'I8':
        v = view.getInt8(i);
        break;
      default:
        v = view.getUint8(i);
    }
    out[i] = v;
  }
  return out;
}

/**
 * Parses a safetensors file held in memory, treating the bytes as hostile: every rule of the
 * format is checked before any tensor is built. Floating dtypes (F64, F32, F16, BF16) become
 * float32 tensors, integer and bool dtypes int32 (I64 values must fit).
 *
 * @param source the name errors start with (a path, say).
 * @throws SafetensorsError naming the broken rule; TypeError when file is not a Uint8Array.
 * @example
 * ```ts
 * import { decodeSafetensors, encodeSafetensors, tensor } from 'axon-nn';
 * const bytes = encodeSafetensors({ w: tensor([[1, 2], [3, 4]]) });
 * const { tensors } = decodeSafetensors(bytes, 'w.safetensors');
 * console.log(tensors.get('w')?.toArray()); // [[1, 2], [3, 4]]
 * ```
 */
export function decodeSafetensors(file: Uint8Array, source = 'safetensors'): SafetensorsContent {
  if (!(file instanceof Uint8Array))
    throw new TypeError(`${source}: expected the file's bytes (a Buffer or Uint8Array)`);
  if (file.length < 8) fail(source, 'file too short', `${file.length} bytes, the 8-byte header length is missing`);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES))
    fail(source, 'header too large', `${n64} bytes (the limit is ${MAX_HEADER_BYTES})`);
  const n = Number(n64);
  if (8 + n > file.length)
    fail(
      source,
      'header length past end of file',
      `header says ${n} bytes, the file has ${file.length - 8} after the length`,
    );
  if (n < 2) fail(source, 'header too short', `${n} bytes cannot hold a JSON object`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(file.subarray(8, 8 + n)));
  } catch (e) {
    fail(source, 'malformed header', `not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    fail(source, 'malformed header', 'the header is not a JSON object');
  const dataStart = 8 + n;
  const dataLength = file.length - dataStart;
  const metadata = Object.create(null) as Record<string, string>;
  const spans: { name: string; begin: number; end: number; dtype: string; shape: number[]; count: number }[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
        fail(source, 'bad metadata', '"__metadata__" must be an object');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(source, 'bad metadata', `"__metadata__.${k}" must be a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      fail(source, 'bad tensor entry', `${q(name)} is not an object`);
    const { dtype, shape, data_offsets: offsets } = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string' || !(dtype in DTYPES))
      fail(source, 'unknown dtype', `${q(name)} has dtype ${JSON.stringify(dtype)?.slice(0, 40)}`);
    if (!Array.isArray(shape) || shape.length > 8 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      fail(
        source,
        'bad shape',
        `${q(name)} has shape ${JSON.stringify(shape)?.slice(0, 120)} (at most 8 non-negative integers)`,
      );
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0))
      fail(source, 'bad data_offsets', `${q(name)} has data_offsets ${JSON.stringify(offsets)?.slice(0, 120)}`);
    const [begin, end] = offsets as number[];
    if (end < begin) fail(source, 'bad data_offsets', `${q(name)} ends (${end}) before it begins (${begin})`);
    if (end > dataLength)
      fail(source, 'data_offsets out of bounds', `${q(name)} ends at ${end}, the data section has ${dataLength} bytes`);
    // Element count times dtype size must equal the byte span; computed without overflow.
    // Exact when it matters: any zero dimension makes the count 0; otherwise stop once the
    // product passes the data size (it can then only mismatch the span).
    let count = (shape as number[]).includes(0) ? 0 : 1;
    if (count)
      for (const d of shape as number[]) {
        count *= d;
        if (count > dataLength) break;
      }
    if (count * DTYPES[dtype] !== end - begin)
      fail(
        source,
        'shape does not match byte range',
        `${q(name)} is ${dtype} ${JSON.stringify(shape)} but spans ${end - begin} bytes`,
      );
    spans.push({ name, begin, end, dtype, shape: shape as number[], count });
  }
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const s of spans) {
    if (s.begin < cursor)
      fail(
        source,
        'overlapping tensors',
        `${q(s.name)} starts at ${s.begin}, inside the previous tensor (which ends at ${cursor})`,
      );
    if (s.begin > cursor)
      fail(source, 'gap in data section', `bytes ${cursor}..${s.begin} before ${q(s.name)} belong to no tensor`);
    cursor = s.end;
  }
  if (cursor !== dataLength)
    fail(source, 'trailing bytes', `the data section has ${dataLength} bytes but the tensors cover ${cursor}`);
  const tensors = new Map<string, Tensor>();
  for (const s of spans) {
    const bytes = file.subarray(dataStart + s.begin, dataStart + s.end);
    const data =
      s.dtype.startsWith('F') || s.dtype === 'BF16'
        ? toFloat32(s.dtype, bytes, s.count)
        : toInt32(s.dtype, bytes, s.count, s.name, source);
    tensors.set(s.name, new Tensor(data, s.shape));
  }
  return { tensors, metadata, dataSection: file.subarray(dataStart) };
}

/**
 * SHA-256 of the bytes as 64 lowercase hex digits, e.g. to record or compare a saved file's
 * digest.
 *
 * @example
 * ```ts
 * import { sha256 } from 'axon-nn';
 * const digest = sha256(new TextEncoder().encode('abc'));
 * console.log(digest); // ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
 * ```
 */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
