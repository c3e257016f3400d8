/**
 * ONNX export, the graph builder: values with static shapes (the batch axis symbolic), the
 * protobuf-shaped objects ModelProto.fromObject takes (attributes, tensors), and GraphBuilder
 * (nodes, initializers, constants, fresh names). The layer emitters (export-layers.ts) use it.
 */
import type { Tensor } from '../tensor/tensor.js';
import { OnnxError } from './proto.js';

// ---- values and dimensions ---------------------------------------------------------------

/** A dimension: a number, or a symbolic one ('batch', or 'batch*5' after a merge). */
export type Dim = number | string;

/** Valid lengths of a padded token batch (withLengths semantics: 1 + the last position holding
 * a non-padding token), as an Embedding with a paddingIdx attaches them, and which layout the
 * carrying value has. */
export interface SeqLengths {
  /** Float lengths [N] (the pooling masks use them). */
  name: string;
  /** [N, T]: position + 1 where the token is not padding, else 0 (its maximum is the length). */
  scores: string;
  timeMajor: boolean;
  /** The int32 lengths the recurrent nodes take (made once, on first use). */
  int32: string | null;
}

/** A value of the graph being built: its name, static shape and element type. */
export interface GraphValue {
  name: string;
  dims: Dim[];
  dtype: 'float32' | 'int64';
  /** Sequence lengths attached to this value (withLengths semantics), if any. */
  lengths: SeqLengths | null;
}

export const dimsToString = (dims: readonly Dim[]): string => `[${dims.join(', ')}]`;

export function product(dims: readonly Dim[]): Dim {
  let n = 1;
  const syms: string[] = [];
  for (const d of dims) {
    if (typeof d === 'number') n *= d;
    else syms.push(d);
  }
  if (syms.length === 0) return n;
  return n === 1 ? syms.join('*') : `${syms.join('*')}*${n}`;
}

// ---- protobuf-shaped objects (ModelProto.fromObject takes these) --------------------------

const ATTR = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;
export const DTYPE = { float32: 1, int32: 6, int64: 7 } as const;

export type Attr =
  | { type: typeof ATTR.FLOAT; f: number }
  | { type: typeof ATTR.INT; i: number }
  | { type: typeof ATTR.STRING; s: Uint8Array }
  | { type: typeof ATTR.FLOATS; floats: number[] }
  | { type: typeof ATTR.INTS; ints: number[] }
  | { type: typeof ATTR.STRINGS; strings: Uint8Array[] };

const text = new TextEncoder();
export const aInt = (i: number): Attr => ({ type: ATTR.INT, i });
export const aInts = (ints: readonly number[]): Attr => ({ type: ATTR.INTS, ints: [...ints] });
export const aFloat = (f: number): Attr => ({ type: ATTR.FLOAT, f });
export const aStr = (s: string): Attr => ({ type: ATTR.STRING, s: text.encode(s) });
export const aStrs = (s: readonly string[]): Attr => ({ type: ATTR.STRINGS, strings: s.map((v) => text.encode(v)) });

interface NodeObject {
  name: string;
  op_type: string;
  input: string[];
  output: string[];
  attribute: (Attr & { name: string })[];
}

interface TensorObject {
  name: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Little-endian bytes of a typed array (ONNX raw_data). */
function rawBytes(data: Float32Array | Int32Array | BigInt64Array): Uint8Array {
  if (littleEndian) return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  const w = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float32Array) view.setFloat32(i * w, data[i], true);
    else if (data instanceof Int32Array) view.setInt32(i * w, data[i], true);
    else view.setBigInt64(i * w, data[i], true);
  }
  return out;
}

// ---- the graph builder -------------------------------------------------------------------

interface GraphOptions {
  opset: number;
  /** Names of the root module's parameters and buffers (tensors map to their first name). */
  tensorNames: Map<Tensor, string>;
}

export class GraphBuilder {
  readonly nodes: NodeObject[] = [];
  readonly initializers: TensorObject[] = [];
  private readonly used = new Set<string>();
  private readonly tensorInit = new Map<Tensor, string>();
  private readonly constCache = new Map<string, string>();
  readonly opset: number;
  private readonly tensorNames: Map<Tensor, string>;
  /** Bytes of initializer data so far. */
  tensorBytes = 0;

  constructor(options: GraphOptions) {
    this.opset = options.opset;
    this.tensorNames = options.tensorNames;
    // Parameter and buffer names are the module's own: nothing generated may take them.
    for (const name of this.tensorNames.values()) this.used.add(name);
  }

  /** Reserves a name (the input's) so nothing else takes it. */
  reserve(name: string): void {
    this.used.add(name);
  }

  /** An unused name starting with `base`. */
  fresh(base: string): string {
    let name = base;
    for (let k = 1; this.used.has(name); k++) name = `${base}_${k}`;
    this.used.add(name);
    return name;
  }

  /** Adds a node; returns its output names (fresh names based on `at` unless given). */
  node(
    op: string,
    inputs: readonly string[],
    at: string,
    attrs: Record<string, Attr> = {},
    outputs: number | readonly string[] = 1,
  ): string[] {
    const base = at ? `${at}/${op}` : op;
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(base)) : [...outputs];
    this.nodes.push({
      name: this.fresh(`node:${base}`),
      op_type: op,
      input: [...inputs],
      output: outs,
      attribute: Object.entries(attrs).map(([name, a]) => ({ name, ...a })),
    });
    return outs;
  }

  /** One-output node. */
  op(op: string, inputs: readonly string[], at: string, attrs: Record<string, Attr> = {}): string {
    return this.node(op, inputs, at, attrs, 1)[0];
  }

  /** A float32 or int64 initializer under a fresh name based on `name` (or exactly `name`,
   * reserved beforehand); the data is copied. */
  initializer(
    name: string,
    data: Float32Array | BigInt64Array | Int32Array,
    dims: readonly number[],
    exact = false,
  ): string {
    const n = exact ? name : this.fresh(name);
    this.tensorBytes += data.byteLength;
    this.initializers.push({
      name: n,
      dims: [...dims],
      data_type: data instanceof Float32Array ? DTYPE.float32 : data instanceof Int32Array ? DTYPE.int32 : DTYPE.int64,
      raw_data: rawBytes(data),
    });
    return n;
  }

  /** A parameter or buffer as an initializer named as the module names it (once per tensor);
   * `data` replaces its values (a copy the layer would compute from them). */
  tensor(t: Tensor, fallbackName: string, data = t.data as Float32Array): string {
    const have = this.tensorInit.get(t);
    if (have) return have;
    const own = this.tensorNames.get(t);
    const name = own ? this.initializer(own, data, t.shape, true) : this.initializer(fallbackName, data, t.shape);
    this.tensorInit.set(t, name);
    return name;
  }

  /** A small float constant (shared between nodes asking for the same values). */
  constF(values: readonly number[], dims: readonly number[] = [values.length], hint = 'const'): string {
    const key = `f|${dims.join(',')}|${values.join(',')}`;
    const have = this.constCache.get(key);
    if (have) return have;
    const name = this.initializer(hint, Float32Array.from(values), dims);
    this.constCache.set(key, name);
    return name;
  }

  /** A small int64 constant (axes, shapes, indices). */
  constI(values: readonly number[], dims: readonly number[] = [values.length], hint = 'const'): string {
    const key = `i|${dims.join(',')}|${values.join(',')}`;
    const have = this.constCache.get(key);
    if (have) return have;
    const name = this.initializer(
      hint,
      BigInt64Array.from(values, (v) => BigInt(v)),
      dims,
    );
    this.constCache.set(key, name);
    return name;
  }

  // -- helpers for ops whose form changed between opsets --

  /** Reduce* over axes (axes as an input from opset 18, and ReduceSum's from 13). */
  reduce(
    op: 'ReduceMean' | 'ReduceSum' | 'ReduceMax',
    x: string,
    axes: number[],
    keepdims: boolean,
    at: string,
  ): string {
    const asInput = op === 'ReduceSum' || this.opset >= 18;
    if (asInput) return this.op(op, [x, this.constI(axes, [axes.length], 'axes')], at, { keepdims: aInt(+keepdims) });
    return this.op(op, [x], at, { axes: aInts(axes), keepdims: aInt(+keepdims) });
  }

  /** Reshape to `dims` (symbolic dimensions become -1; at most one may be). */
  reshape(x: GraphValue, dims: readonly Dim[], at: string): GraphValue {
    const syms = dims.filter((d) => typeof d === 'string');
    if (syms.length > 1)
      throw new OnnxError(`exportOnnx: cannot reshape to ${dimsToString(dims)} (more than one symbolic dimension)`);
    const target = dims.map((d) => (typeof d === 'string' ? -1 : d));
    const name = this.op('Reshape', [x.name, this.constI(target, [target.length], 'shape')], at);
    return { name, dims: [...dims], dtype: x.dtype, lengths: null };
  }

  /** Clip(x, lo, hi) in the input form (opset 11+). */
  clip(x: string, lo: number, hi: number, at: string): string {
    return this.op('Clip', [x, this.constF([lo], [], 'lo'), this.constF([hi], [], 'hi')], at);
  }
}
