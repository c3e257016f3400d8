/**
 * Feeds and results at the session's boundary: input metadata, feeds checked against the
 * declared inputs (names, types, shapes, symbolic dimensions agreeing), the runner's input
 * Values (integer inputs that steer shapes keyed by value), and computed values copied out.
 */
import { Tensor } from '../tensor/tensor.js';
import { isFloatType, OnnxError, type ElemType, type NodeInfo, type ValueInfo } from './proto.js';
import { dynIntValue, floatValue, intValue, type Value } from './value.js';

/**
 * A graph input or output as {@link OnnxSession.inputs} and `outputs` list it: its name, ONNX
 * element type and shape, with symbolic dimensions as their names.
 *
 * @example
 * ```ts
 * import { exportOnnxBytes, loadOnnxSync, Linear, type OnnxValueMetadata } from 'axon-nn';
 * const session = loadOnnxSync(exportOnnxBytes(new Linear(16, 4), { inputShape: [16] }).bytes);
 * const [input]: OnnxValueMetadata[] = session.inputs;
 * console.log(input.name, input.dtype, input.shape); // input float32 ['batch', 16]
 * ```
 */
export interface OnnxValueMetadata {
  /** The value's name in the graph (the key in feeds and results). */
  name: string;
  /** ONNX element type; float types run as float32, integer types as int32 tensors. */
  dtype: ElemType;
  /** Declared dimensions: numbers, symbolic names such as 'batch' ('?' when unnamed), or null
   * when the file declares no shape. */
  shape: (number | string)[] | null;
}

/**
 * A feed given as raw data, shaped like onnxruntime-node's Tensor.
 * Float inputs take float arrays (Float64Array is converted to float32), integer inputs take
 * integer arrays, converted to int32 (a value outside int32 is an OnnxError).
 *
 * @example
 * ```ts
 * import { exportOnnxBytes, loadOnnxSync, Linear, type OnnxTensorLike } from 'axon-nn';
 * const session = loadOnnxSync(exportOnnxBytes(new Linear(3, 2), { inputShape: [3] }).bytes);
 * const feed: OnnxTensorLike = { data: new Float32Array([1, 2, 3, 4, 5, 6]), dims: [2, 3] };
 * console.log(session.runSync({ input: feed }).output.shape); // [2, 2]
 * ```
 */
export interface OnnxTensorLike {
  /** The values in row-major order; their count must equal the product of dims. */
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Int16Array | Uint16Array;
  /** The shape. */
  dims: readonly number[];
}
/**
 * A run's inputs by graph input name, as onnxruntime-node's feeds: axon Tensors (float32 for
 * float inputs, int32 for integer ones) or {@link OnnxTensorLike} raw data. Every input must
 * be fed; a name that is not an input is an OnnxError.
 *
 * @example
 * ```ts
 * import { exportOnnxBytes, loadOnnxSync, Linear, tensor, type OnnxFeeds } from 'axon-nn';
 * const session = loadOnnxSync(exportOnnxBytes(new Linear(2, 1), { inputShape: [2] }).bytes);
 * const feeds: OnnxFeeds = { input: tensor([[1, 2], [3, 4]]) };
 * const { output } = await session.run(feeds);
 * ```
 */
export type OnnxFeeds = Record<string, Tensor | OnnxTensorLike>;

export function meta(v: ValueInfo): OnnxValueMetadata {
  return { name: v.name, dtype: v.type, shape: v.shape ? [...v.shape] : null };
}

/** A copy of a computed value as a Tensor (integers as int32). */
export function valueToTensor(v: Value, name: string): Tensor {
  if (v.tensor) return new Tensor(v.tensor.data.slice(), v.tensor.shape);
  const ints = v.ints as Float64Array;
  const out = new Int32Array(ints.length);
  for (let i = 0; i < ints.length; i++) {
    if (!(ints[i] >= -(2 ** 31) && ints[i] < 2 ** 31))
      throw new OnnxError(`output '${name}' holds ${ints[i]}, outside int32 (integer outputs are returned as int32)`);
    out[i] = ints[i];
  }
  return new Tensor(out, v.shape);
}

/** Feeds checked against the declared inputs, as float32 or int32 tensors, in input order. */
export function checkInputs(what: string, inputs: readonly OnnxValueMetadata[], feeds: OnnxFeeds): Tensor[] {
  const symbols = new Map<string, number>();
  return inputs.map((decl) => {
    const f = feeds[decl.name];
    if (f === undefined) throw new OnnxError(`${what}: input '${decl.name}' is missing`);
    const t = toTensor(what, decl, f);
    if (decl.shape) {
      if (decl.shape.length !== t.ndim)
        throw new OnnxError(
          `${what}: input '${decl.name}' must have shape [${decl.shape.join(',')}], got [${t.shape.join(',')}]`,
        );
      decl.shape.forEach((d, i) => {
        const got = t.shape[i];
        if (typeof d === 'number') {
          if (d !== got)
            throw new OnnxError(
              `${what}: input '${decl.name}' must have shape [${decl.shape?.join(',')}], got [${t.shape.join(',')}]`,
            );
        } else if (d !== '?') {
          const seen = symbols.get(d);
          if (seen !== undefined && seen !== got)
            throw new OnnxError(`${what}: dimension '${d}' is ${seen} in one input and ${got} in input '${decl.name}'`);
          symbols.set(d, got);
        }
      });
    }
    return t;
  });
}

function toTensor(what: string, decl: OnnxValueMetadata, f: Tensor | OnnxTensorLike): Tensor {
  const float = isFloatType(decl.dtype);
  if (f instanceof Tensor) {
    if (float !== (f.dtype === 'float32'))
      throw new OnnxError(`${what}: input '${decl.name}' is ${decl.dtype}, got a ${f.dtype} Tensor`);
    return f;
  }
  if (!f || typeof f !== 'object' || !ArrayBuffer.isView(f.data) || !Array.isArray(f.dims))
    throw new OnnxError(`${what}: input '${decl.name}' must be a Tensor or { data, dims }`);
  const dims = f.dims.map(Number);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0))
    throw new OnnxError(`${what}: input '${decl.name}' has invalid dims [${f.dims.join(',')}]`);
  const size = dims.reduce((a, b) => a * b, 1);
  if (f.data.length !== size)
    throw new OnnxError(
      `${what}: input '${decl.name}' has ${f.data.length} values for dims [${dims.join(',')}] (${size})`,
    );
  if (float) {
    if (f.data instanceof BigInt64Array || f.data instanceof Int32Array)
      throw new OnnxError(`${what}: input '${decl.name}' is ${decl.dtype}, got integer data`);
    return new Tensor(f.data instanceof Float32Array ? f.data : Float32Array.from(f.data as Float64Array), dims);
  }
  if (f.data instanceof Float32Array || f.data instanceof Float64Array)
    throw new OnnxError(`${what}: input '${decl.name}' is ${decl.dtype}, got floating data`);
  const out = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    const v = Number(f.data[i]);
    if (!(v >= -(2 ** 31) && v < 2 ** 31))
      throw new OnnxError(`${what}: input '${decl.name}' holds ${v} at ${i}, outside int32`);
    out[i] = v;
  }
  return new Tensor(out, dims);
}

/** Ops that read an integer input as data at run time (indices, lengths): such inputs are not
 * value-keyed. */
const DATA_INT_USES: Record<string, number[]> = { Gather: [1], LSTM: [4], GRU: [4], RNN: [4] };
const MAX_KEYED_ELEMENTS = 64;

/** The recurrent cells that run step by step (ops-recurrent.ts) take sequence_lens known. */
function stepwiseRecurrent(n: NodeInfo): boolean {
  const a = n.attrs.get('linear_before_reset');
  return (n.opType === 'GRU' && !(a && a.kind === 'int' && a.value === 1)) || (n.opType === 'LSTM' && !!n.inputs[7]);
}

export function valueKeyedInputs(inputs: readonly OnnxValueMetadata[], nodes: readonly NodeInfo[]): Set<string> {
  const keyed = new Set<string>();
  for (const decl of inputs) {
    if (isFloatType(decl.dtype)) {
      // Floats steer shapes as Range's bounds, OneHot's depth and Resize's roi and scales.
      const users = nodes.filter((n) => n.inputs.includes(decl.name));
      const steers = (n: NodeInfo): boolean =>
        n.opType === 'Range' ||
        (n.opType === 'OneHot' && n.inputs.indexOf(decl.name) === 1) ||
        ((n.opType === 'Resize' || n.opType === 'Upsample') && n.inputs.indexOf(decl.name) >= 1);
      if (users.length > 0 && users.every(steers)) keyed.add(decl.name);
      continue;
    }
    const asData = nodes.some(
      (n) => !stepwiseRecurrent(n) && (DATA_INT_USES[n.opType] ?? []).some((k) => n.inputs[k] === decl.name),
    );
    if (!asData) keyed.add(decl.name);
  }
  return keyed;
}

/**
 * The runner's feeds: float and data-integer inputs as run-time values over the recording's
 * buffers; value-keyed integer inputs as known values (from `actual`, the caller's data, whose
 * values are part of the recording's key).
 */
export function feedValues(
  inputs: readonly OnnxValueMetadata[],
  tensors: Tensor[],
  keyed: ReadonlySet<string> = new Set(),
  actual: Tensor[] = tensors,
): Map<string, Value> {
  return new Map(
    inputs.map((decl, i) => {
      const byValue = keyed.has(decl.name) && actual[i].size <= MAX_KEYED_ELEMENTS;
      if (isFloatType(decl.dtype)) {
        const v = floatValue(byValue ? new Tensor(actual[i].data.slice(), actual[i].shape) : tensors[i], decl.dtype);
        v.known = byValue;
        return [decl.name, v];
      }
      if (byValue) {
        const v = intValue(decl.dtype, actual[i].shape, Float64Array.from(actual[i].data));
        v.known = true;
        return [decl.name, v];
      }
      return [decl.name, dynIntValue(decl.dtype, tensors[i])];
    }),
  );
}
