/**
 * Helpers shared by the op modules: argument checks that produce `op: ...` errors, and raw
 * (unrecorded) native calls used inside backward closures.
 */
import { BinaryCode } from '../native/binding.js';
import { kernels } from '../native/executor.js';
import { numel, padShape, shapeToString, shapesEqual, type Shape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

export function assertTensor(op: string, value: unknown, name = 'input'): asserts value is Tensor {
  if (!(value instanceof Tensor))
    throw new TypeError(`${op}: ${name} must be a Tensor, got ${value === null ? 'null' : typeof value}`);
}

/** The float32 data of a tensor argument; throws for int32 tensors and non-tensors. */
export function floatData(op: string, t: unknown, name = 'input'): Float32Array {
  assertTensor(op, t, name);
  if (t.dtype !== 'float32')
    throw new TypeError(`${op}: ${name} must be float32, got int32 (convert with .toType('float32'))`);
  return t.data as Float32Array;
}

export function assertNumber(op: string, v: unknown, name: string): asserts v is number {
  if (typeof v !== 'number') throw new TypeError(`${op}: ${name} must be a number, got ${typeof v}`);
}

export function assertFinite(op: string, v: unknown, name: string): asserts v is number {
  assertNumber(op, v, name);
  if (!Number.isFinite(v)) throw new RangeError(`${op}: ${name} must be finite, got ${v}`);
}

/** Sums `g` down to `shape` (the gradient of broadcasting); returns g itself when equal. */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const out = Tensor.empty(shape);
  kernels.sumToShape(g.data as Float32Array, g.shape, out.data as Float32Array, padShape(shape, g.ndim));
  return out;
}

/** Unrecorded broadcasting binary op (for backward closures). */
export function rawBinary(code: BinaryCode, a: Tensor, b: Tensor, outShape: Shape): Tensor {
  const out = Tensor.empty(outShape);
  const r = outShape.length;
  kernels.binary(
    code,
    a.data as Float32Array,
    padShape(a.shape, r),
    b.data as Float32Array,
    padShape(b.shape, r),
    out.data as Float32Array,
    outShape,
  );
  return out;
}

/**
 * Unrecorded copy of x broadcast to `shape` (which x must broadcast to). The native binary
 * kernel requires its output shape to be the broadcast of its two operands' shapes, so x is
 * multiplied by ones spanning exactly the axes it is expanded along (x * 1 keeps -0 and NaN).
 */
export function rawBroadcastTo(x: Tensor, shape: Shape): Tensor {
  const xs = padShape(x.shape, shape.length);
  const onesShape = shape.map((d, i) => (xs[i] === 1 ? d : 1));
  const ones = new Tensor(new Float32Array(numel(onesShape)).fill(1), onesShape);
  return rawBinary(BinaryCode.Mul, x, ones, shape);
}

/** Unrecorded x (op) s. */
export function rawScalar(code: BinaryCode, x: Tensor, s: number, scalarFirst = false): Tensor {
  const out = Tensor.empty(x.shape);
  kernels.binaryScalar(code, x.data as Float32Array, s, scalarFirst, out.data as Float32Array);
  return out;
}

export function describe(t: Tensor): string {
  return shapeToString(t.shape);
}
