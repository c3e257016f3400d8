/**
 * Reading ONNX files: protobuf decoding with protobufjs over the vendored onnx.proto schema
 * (schema.gen.ts), then conversion of the decoded messages into plain, checked structures.
 * A model file is untrusted input: every count, dimension and byte range is checked, and the
 * bytes an initializer needs are counted against a budget before anything is allocated.
 */
import { readFileSync, statSync, openSync, readSync, closeSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import protobuf from 'protobufjs';
import { ONNX_SCHEMA } from './schema.gen.js';

/**
 * Element types of ONNX tensors (TensorProto.DataType), by their ONNX Runtime names. Exported
 * from the package as `OnnxElemType`. Float types run as float32 tensors; integer and bool
 * types as int32 tensors; string and complex types are not supported.
 *
 * @example
 * ```ts
 * import { loadOnnx, type OnnxElemType } from 'axon-nn';
 * const session = await loadOnnx('model.onnx');
 * const integer: OnnxElemType[] = ['int64', 'int32', 'int16', 'int8', 'uint8', 'bool'];
 * const tokenInputs = session.inputs.filter((i) => integer.includes(i.dtype)).map((i) => i.name);
 * ```
 */
export type ElemType =
  | 'float32'
  | 'uint8'
  | 'int8'
  | 'uint16'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'string'
  | 'bool'
  | 'float16'
  | 'float64'
  | 'uint32'
  | 'uint64'
  | 'complex64'
  | 'complex128'
  | 'bfloat16';

const ELEM_TYPES: Record<number, ElemType> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
};
const ELEM_CODES = Object.fromEntries(Object.entries(ELEM_TYPES).map(([k, v]) => [v, Number(k)])) as Record<
  ElemType,
  number
>;

export function elemTypeOf(code: number, what: string): ElemType {
  const t = ELEM_TYPES[code];
  if (!t) throw new OnnxError(`${what}: unknown element type ${code}`);
  return t;
}
export function elemCode(type: ElemType): number {
  return ELEM_CODES[type];
}

/** Floating types run as float32 tensors; the others (integers, bool) as exact host numbers
 * when known at load and as int32 tensors at run time. */
export function isFloatType(t: ElemType): boolean {
  return t === 'float32' || t === 'float64' || t === 'float16' || t === 'bfloat16';
}
export function isIntType(t: ElemType): boolean {
  return t !== 'string' && t !== 'complex64' && t !== 'complex128' && !isFloatType(t);
}

/** Bytes per element of a supported element type in raw_data. */
const ELEM_BYTES: Partial<Record<ElemType, number>> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  uint64: 8,
  bool: 1,
};

/**
 * An error in a model file or in how it is used (an unsupported operator, a bad feed, a budget
 * exceeded): the message names what and where. `name` is 'OnnxError'.
 *
 * @example
 * ```ts
 * import { loadOnnxSync, OnnxError } from 'axon-nn';
 * try {
 *   loadOnnxSync(new Uint8Array([1, 2, 3]));
 * } catch (e) {
 *   if (e instanceof OnnxError) console.error(e.message); // loadOnnx: not a valid ONNX model (...)
 * }
 * ```
 */
export class OnnxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxError';
  }
}

/**
 * Budgets applied while reading a model file, which is untrusted input: a file over any of them
 * fails with an OnnxError before the memory is allocated. Exported from the package as
 * `OnnxReadLimits`; pass a part of it as {@link OnnxLoadOptions.readLimits}.
 *
 * @example
 * ```ts
 * import { loadOnnx, type OnnxReadLimits } from 'axon-nn';
 * const readLimits: Partial<OnnxReadLimits> = { maxTensorBytes: 64 * 2 ** 20, maxNodes: 10_000 };
 * const session = await loadOnnx('upload.onnx', { readLimits });
 * ```
 */
export interface ReadLimits {
  /** Bytes of tensor data (initializers, Constant values) a model may hold (default 4 GiB). */
  maxTensorBytes: number;
  /** Nodes a graph may have (default 1,000,000). */
  maxNodes: number;
  /** Dimensions of one tensor (default 8). */
  maxRank: number;
}
export const DEFAULT_READ_LIMITS: ReadLimits = { maxTensorBytes: 4 * 2 ** 30, maxNodes: 1_000_000, maxRank: 8 };

/** A tensor's data read from the file: float types as float32, the rest as exact numbers
 * (int64 beyond 2^53 rounds; INT64_MAX/MIN used as "to the end" stay beyond any extent). */
export interface HostTensor {
  type: ElemType;
  dims: number[];
  f32: Float32Array | null;
  ints: Float64Array | null;
}

export interface ValueInfo {
  name: string;
  type: ElemType;
  /** Each dimension: a number, or its symbolic name (or '?' when unnamed); null when the
   * file gives no shape. */
  shape: (number | string)[] | null;
}

export type AttrValue =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: HostTensor }
  | { kind: 'floats'; value: number[] }
  | { kind: 'ints'; value: number[] }
  | { kind: 'strings'; value: string[] }
  | { kind: 'graph' | 'graphs' | 'sparse' | 'other'; value: null };

export interface NodeInfo {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, AttrValue>;
}

export interface GraphInfo {
  name: string;
  nodes: NodeInfo[];
  initializers: Map<string, HostTensor>;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

export interface ModelInfo {
  irVersion: number;
  producer: string;
  /** Opset per domain ('' is the default domain). */
  opsets: Map<string, number>;
  graph: GraphInfo;
  /** Tensor bytes the model holds. */
  tensorBytes: number;
}

let cachedRoot: protobuf.Root | null = null;
function onnxRoot(): protobuf.Root {
  cachedRoot ??= protobuf.Root.fromJSON(ONNX_SCHEMA as unknown as protobuf.INamespace);
  return cachedRoot;
}
/** The protobufjs message type `onnx.<name>` (ModelProto, TensorProto, ...). */
export function onnxType(name: string): protobuf.Type {
  return onnxRoot().lookupType(`onnx.${name}`);
}

type Long = { low: number; high: number; unsigned?: boolean; toNumber(): number };
type Msg = Record<string, unknown>;

/** An int64 field as a JS number: exact within +-2^53, else the nearest double. */
function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && 'low' in v) return (v as Long).toNumber();
  if (typeof v === 'string') return Number(v);
  return 0;
}
function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Where a model's bytes came from: external-data files are read relative to `dir`. */
interface Source {
  dir: string | null;
  limits: ReadLimits;
  bytesLeft: number;
}

/** Decodes and checks a whole model. */
export function readModel(bytes: Uint8Array, dir: string | null, limits: ReadLimits): ModelInfo {
  let msg: Msg;
  try {
    msg = onnxType('ModelProto').decode(bytes) as unknown as Msg;
  } catch (e) {
    throw new OnnxError(`loadOnnx: not a valid ONNX model (protobuf: ${(e as Error).message})`);
  }
  const src: Source = { dir, limits, bytesLeft: limits.maxTensorBytes };
  const opsets = new Map<string, number>();
  for (const o of arr(msg.opset_import)) {
    const m = o as Msg;
    opsets.set(str(m.domain) === 'ai.onnx' ? '' : str(m.domain), num(m.version));
  }
  if (!msg.graph) throw new OnnxError('loadOnnx: the model has no graph');
  const graph = readGraph(msg.graph as Msg, src);
  return {
    irVersion: num(msg.ir_version),
    producer: `${str(msg.producer_name)} ${str(msg.producer_version)}`.trim(),
    opsets,
    graph,
    tensorBytes: limits.maxTensorBytes - src.bytesLeft,
  };
}

function readGraph(g: Msg, src: Source): GraphInfo {
  const nodesIn = arr(g.node);
  if (nodesIn.length > src.limits.maxNodes)
    throw new OnnxError(`loadOnnx: the graph has ${nodesIn.length} nodes, more than maxNodes = ${src.limits.maxNodes}`);
  const initializers = new Map<string, HostTensor>();
  for (const t of arr(g.initializer)) {
    const m = t as Msg;
    const name = str(m.name);
    if (!name) throw new OnnxError('loadOnnx: an initializer has no name');
    if (initializers.has(name)) throw new OnnxError(`loadOnnx: initializer '${name}' is defined twice`);
    initializers.set(name, readTensor(m, `initializer '${name}'`, src));
  }
  if (arr(g.sparse_initializer).length > 0)
    throw new OnnxError('loadOnnx: sparse initializers are not supported (graph.sparse_initializer)');
  const nodes = nodesIn.map((n, i) => readNode(n as Msg, i, src));
  return {
    name: str(g.name),
    nodes,
    initializers,
    inputs: arr(g.input).map((v) => readValueInfo(v as Msg, 'graph input', src)),
    outputs: arr(g.output).map((v) => readValueInfo(v as Msg, 'graph output', src)),
  };
}

function readValueInfo(v: Msg, what: string, src: Source): ValueInfo {
  const name = str(v.name);
  const typeMsg = v.type as Msg | undefined;
  const tt = (typeMsg?.tensor_type ?? null) as Msg | null;
  if (!tt) {
    // Sequences, optionals, maps and sparse tensors are refused here rather than read as
    // float32 tensors; a value with no type at all (allowed for outputs) is a tensor.
    const other = typeMsg
      ? ['sequence_type', 'optional_type', 'map_type', 'sparse_tensor_type'].find((k) =>
          Object.prototype.hasOwnProperty.call(typeMsg, k),
        )
      : undefined;
    if (other)
      throw new OnnxError(
        `loadOnnx: ${what} '${name}' has an unsupported type: ${other.replace('_type', '').replace('_', ' ')} (only tensors are supported)`,
      );
    return { name, type: 'float32', shape: null };
  }
  const type = elemTypeOf(num(tt.elem_type) || 1, `${what} '${name}'`);
  const shapeMsg = tt.shape as Msg | undefined;
  if (!shapeMsg) return { name, type, shape: null };
  const dims = arr(shapeMsg.dim);
  if (dims.length > src.limits.maxRank)
    throw new OnnxError(`loadOnnx: ${what} '${name}' has ${dims.length} dimensions (at most ${src.limits.maxRank})`);
  const shape = dims.map((d) => {
    const m = d as Msg;
    // A oneof: protobufjs puts defaults on the prototype, so ask what the message itself holds.
    if (Object.prototype.hasOwnProperty.call(m, 'dim_value')) {
      const n = num(m.dim_value);
      if (!Number.isSafeInteger(n) || n < 0) throw new OnnxError(`loadOnnx: ${what} '${name}' has dimension ${n}`);
      return n;
    }
    return str(m.dim_param) || '?';
  });
  return { name, type, shape };
}

function readNode(n: Msg, index: number, src: Source): NodeInfo {
  const opType = str(n.op_type);
  const name = str(n.name) || `${opType}_${index}`;
  const attrs = new Map<string, AttrValue>();
  for (const a of arr(n.attribute)) {
    const m = a as Msg;
    const an = str(m.name);
    attrs.set(an, readAttr(m, `node '${name}' (${opType}) attribute '${an}'`, src));
  }
  const domain = str(n.domain);
  return {
    name,
    opType,
    domain: domain === 'ai.onnx' ? '' : domain,
    inputs: arr(n.input).map(str),
    outputs: arr(n.output).map(str),
    attrs,
  };
}

// AttributeProto.AttributeType
const ATTR_FLOAT = 1,
  ATTR_INT = 2,
  ATTR_STRING = 3,
  ATTR_TENSOR = 4,
  ATTR_GRAPH = 5,
  ATTR_FLOATS = 6,
  ATTR_INTS = 7,
  ATTR_STRINGS = 8,
  ATTR_SPARSE = 11;

const utf8 = new TextDecoder();
function text(v: unknown): string {
  return v instanceof Uint8Array ? utf8.decode(v) : str(v);
}

function readAttr(a: Msg, what: string, src: Source): AttrValue {
  let type = num(a.type);
  // IR < 3 files may omit `type`: infer it from the field that is set.
  if (type === 0) {
    if (a.t) type = ATTR_TENSOR;
    else if (arr(a.ints).length) type = ATTR_INTS;
    else if (arr(a.floats).length) type = ATTR_FLOATS;
    else if (arr(a.strings).length) type = ATTR_STRINGS;
    else if (a.s !== undefined && text(a.s) !== '') type = ATTR_STRING;
    else if (a.i !== undefined && num(a.i) !== 0) type = ATTR_INT;
    else type = ATTR_FLOAT;
  }
  switch (type) {
    case ATTR_FLOAT:
      return { kind: 'float', value: Number(a.f ?? 0) };
    case ATTR_INT:
      return { kind: 'int', value: num(a.i) };
    case ATTR_STRING:
      return { kind: 'string', value: text(a.s) };
    case ATTR_TENSOR:
      if (!a.t) throw new OnnxError(`loadOnnx: ${what} has no tensor`);
      return { kind: 'tensor', value: readTensor(a.t as Msg, what, src) };
    case ATTR_FLOATS:
      return { kind: 'floats', value: arr(a.floats).map(Number) };
    case ATTR_INTS:
      return { kind: 'ints', value: arr(a.ints).map(num) };
    case ATTR_STRINGS:
      return { kind: 'strings', value: arr(a.strings).map(text) };
    case ATTR_GRAPH:
      return { kind: 'graph', value: null };
    case 10:
      return { kind: 'graphs', value: null };
    case ATTR_SPARSE:
      return { kind: 'sparse', value: null };
    default:
      return { kind: 'other', value: null };
  }
}

/** Reads a TensorProto (initializer, Constant value, test data) into host arrays. */
export function readTensor(t: Msg, what: string, src: Source): HostTensor {
  const type = elemTypeOf(num(t.data_type), what);
  const dimsIn = arr(t.dims);
  if (dimsIn.length > src.limits.maxRank)
    throw new OnnxError(`loadOnnx: ${what} has ${dimsIn.length} dimensions (at most ${src.limits.maxRank})`);
  const dims = dimsIn.map(num);
  let count = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new OnnxError(`loadOnnx: ${what} has dimension ${d}`);
    count *= d;
  }
  const elemBytes = ELEM_BYTES[type];
  if (elemBytes === undefined)
    throw new OnnxError(`loadOnnx: ${what} has element type ${type}, which is not supported`);
  // Budget before allocating: what we hold is float32 or float64 per element.
  const held = count * (isFloatType(type) ? 4 : 8);
  if (!Number.isSafeInteger(count) || held > src.bytesLeft)
    throw new OnnxError(
      `loadOnnx: ${what} (${type} [${dims.join(',')}]) needs ${held} bytes, more than the ${src.bytesLeft} left of maxTensorBytes = ${src.limits.maxTensorBytes}`,
    );
  src.bytesLeft -= held;

  let raw: Uint8Array | null = null;
  if (num(t.data_location) === 1) raw = readExternal(t, what, count * elemBytes, src);
  else if (t.raw_data instanceof Uint8Array && t.raw_data.length > 0) raw = t.raw_data;
  const out: HostTensor = { type, dims, f32: null, ints: null };
  if (raw) {
    if (raw.length !== count * elemBytes)
      throw new OnnxError(
        `loadOnnx: ${what} (${type} [${dims.join(',')}]) has ${raw.length} bytes of raw data, expected ${count * elemBytes}`,
      );
    fromRaw(out, raw, count);
    return out;
  }
  // Typed fields.
  const pick = (): unknown[] => {
    if (type === 'float32') return arr(t.float_data);
    if (type === 'float64') return arr(t.double_data);
    if (type === 'int64') return arr(t.int64_data);
    if (type === 'uint32' || type === 'uint64') return arr(t.uint64_data);
    return arr(t.int32_data); // int32, int16, int8, uint16, uint8, bool, float16, bfloat16
  };
  const values = pick();
  if (values.length !== count)
    throw new OnnxError(
      `loadOnnx: ${what} (${type} [${dims.join(',')}]) has ${values.length} values, expected ${count}`,
    );
  if (type === 'float16' || type === 'bfloat16') {
    const f = new Float32Array(count);
    for (let i = 0; i < count; i++)
      f[i] = type === 'float16' ? halfToFloat(num(values[i])) : bf16ToFloat(num(values[i]));
    out.f32 = f;
  } else if (isFloatType(type)) out.f32 = Float32Array.from(values, (v) => Number(v));
  else {
    const ints = Float64Array.from(values, num);
    if (type === 'bool') for (let i = 0; i < count; i++) ints[i] = ints[i] ? 1 : 0;
    out.ints = ints;
  }
  return out;
}

function fromRaw(out: HostTensor, raw: Uint8Array, count: number): void {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (out.type) {
    case 'float32':
      // In place when aligned (the file's bytes stay the weights); little-endian hosts only.
      out.f32 =
        raw.byteOffset % 4 === 0
          ? new Float32Array(raw.buffer, raw.byteOffset, count)
          : // A copy (Uint8Array's slice: a Buffer's slice would be a view).
            new Float32Array(Uint8Array.prototype.slice.call(raw).buffer, 0, count);
      return;
    case 'float64': {
      const f = new Float32Array(count);
      for (let i = 0; i < count; i++) f[i] = view.getFloat64(i * 8, true);
      out.f32 = f;
      return;
    }
    case 'float16':
    case 'bfloat16': {
      const f = new Float32Array(count);
      for (let i = 0; i < count; i++) {
        const h = view.getUint16(i * 2, true);
        f[i] = out.type === 'float16' ? halfToFloat(h) : bf16ToFloat(h);
      }
      out.f32 = f;
      return;
    }
  }
  const ints = new Float64Array(count);
  const read: Record<string, (i: number) => number> = {
    int8: (i) => view.getInt8(i),
    uint8: (i) => view.getUint8(i),
    bool: (i) => (view.getUint8(i) ? 1 : 0),
    int16: (i) => view.getInt16(i * 2, true),
    uint16: (i) => view.getUint16(i * 2, true),
    int32: (i) => view.getInt32(i * 4, true),
    uint32: (i) => view.getUint32(i * 4, true),
    int64: (i) => Number(view.getBigInt64(i * 8, true)),
    uint64: (i) => Number(view.getBigUint64(i * 8, true)),
  };
  const r = read[out.type];
  for (let i = 0; i < count; i++) ints[i] = r(i);
  out.ints = ints;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}
function bf16ToFloat(h: number): number {
  const b = new DataView(new ArrayBuffer(4));
  b.setUint32(0, (h & 0xffff) << 16);
  return b.getFloat32(0);
}

/** External data: `location` is a file next to the model (never outside its folder). */
function readExternal(t: Msg, what: string, expected: number, src: Source): Uint8Array {
  if (src.dir === null)
    throw new OnnxError(`loadOnnx: ${what} keeps its data in an external file; load the model from a path, not bytes`);
  const entries = new Map<string, string>();
  for (const e of arr(t.external_data)) entries.set(str((e as Msg).key), str((e as Msg).value));
  const location = entries.get('location');
  if (!location) throw new OnnxError(`loadOnnx: ${what} has external data without a location`);
  if (isAbsolute(location)) throw new OnnxError(`loadOnnx: ${what}: external data location '${location}' is absolute`);
  const base = realpathSync(src.dir);
  let path: string;
  try {
    path = realpathSync(resolve(base, location));
  } catch {
    throw new OnnxError(`loadOnnx: ${what}: external data file '${location}' not found next to the model`);
  }
  const rel = relative(base, path);
  if (rel.startsWith('..') || isAbsolute(rel))
    throw new OnnxError(`loadOnnx: ${what}: external data location '${location}' is outside the model's folder`);
  const offset = Number(entries.get('offset') ?? '0');
  const length = entries.has('length') ? Number(entries.get('length')) : expected;
  const size = statSync(path).size;
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length !== expected)
    throw new OnnxError(
      `loadOnnx: ${what}: external data offset ${entries.get('offset')} / length ${entries.get('length')} do not give ${expected} bytes`,
    );
  if (offset + length > size)
    throw new OnnxError(
      `loadOnnx: ${what}: external data bytes ${offset}..${offset + length} lie past the end of '${location}' (${size} bytes)`,
    );
  const buf = new Uint8Array(length);
  const fd = openSync(path, 'r');
  try {
    let done = 0;
    while (done < length) {
      const n = readSync(fd, buf, done, length - done, offset + done);
      if (n <= 0) throw new OnnxError(`loadOnnx: ${what}: external data file '${location}' ended early`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return buf;
}

/** Reads a TensorProto file (ONNX test data: input_0.pb, output_0.pb). */
export function readTensorFile(path: string, limits: ReadLimits = DEFAULT_READ_LIMITS): HostTensor & { name: string } {
  let msg: Msg;
  try {
    msg = onnxType('TensorProto').decode(readFileSync(path)) as unknown as Msg;
  } catch (e) {
    throw new OnnxError(`readTensorFile: ${path} is not a TensorProto (${(e as Error).message})`);
  }
  const src: Source = { dir: dirname(path), limits, bytesLeft: limits.maxTensorBytes };
  return { ...readTensor(msg, `tensor file ${path}`, src), name: str(msg.name) };
}
