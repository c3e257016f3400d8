/**
 * The values an ONNX graph computes. Floating tensors (float32, and float64/float16 read as
 * float32) run as float32 Tensors on our ops. Integer and bool tensors are mostly shape
 * arithmetic (Shape -> Gather -> Concat -> Reshape): when they are known at load (they depend
 * only on initializers, constants and input shapes) they are exact host numbers, computed once
 * per input shape; when they depend on input data (token ids, ArgMax) they are int32 Tensors.
 */
import { Tensor } from '../tensor/tensor.js';
import { isFloatType, OnnxError, type ElemType, type HostTensor } from './proto.js';

export class Value {
  /** True when known without the input data (folded once per input shape). */
  known = false;
  constructor(
    readonly type: ElemType,
    readonly shape: readonly number[],
    /** float32 data for floating types; int32 data for integer types computed at run time. */
    readonly tensor: Tensor | null,
    /** Exact values of an integer or bool tensor known at load. */
    readonly ints: Float64Array | null,
  ) {}

  get isFloat(): boolean {
    return isFloatType(this.type);
  }
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

export function floatValue(t: Tensor, type: ElemType = 'float32'): Value {
  return new Value(isFloatType(type) ? type : 'float32', t.shape, t, null);
}

export function intValue(type: ElemType, shape: readonly number[], ints: Float64Array): Value {
  return new Value(type, shape, null, ints);
}

/** An integer value computed at run time (int32 data). */
export function dynIntValue(type: ElemType, t: Tensor): Value {
  return new Value(type, t.shape, t, null);
}

export function hostValue(h: HostTensor): Value {
  if (h.f32) return new Value(isFloatType(h.type) ? h.type : 'float32', h.dims, new Tensor(h.f32, h.dims), null);
  return new Value(h.type, h.dims, null, h.ints);
}

/** An integer value's data as int32 (for index kernels); values must fit. */
export function int32Tensor(v: Value, op: string, name: string): Tensor {
  if (v.tensor && v.tensor.dtype === 'int32') return v.tensor;
  if (!v.ints) throw new OnnxError(`${op}: input '${name}' must be an integer tensor, got ${v.type}`);
  const out = new Int32Array(v.ints.length);
  for (let i = 0; i < out.length; i++) {
    const x = v.ints[i];
    if (!(x >= -(2 ** 31) && x < 2 ** 31))
      throw new OnnxError(`${op}: input '${name}' holds ${x}, outside the int32 range our index kernels take`);
    out[i] = x;
  }
  return new Tensor(out, v.shape);
}
