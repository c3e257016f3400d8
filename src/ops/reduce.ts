/**
 * Reductions along one or more axes (sum, mean, max, min) with their gradients, and
 * argmax/argmin. Reduced axes that are adjacent become one native call over (outer, r, inner);
 * otherwise the tensor is first permuted so they are.
 */
import { record } from '../autograd/engine.js';
import { ArgReduceCode, ReduceCode } from '../native/binding.js';
import { kernels } from '../native/executor.js';
import { normalizeAxis, splitAt } from '../tensor/shape.js';
import { Tensor, reserveActivation } from '../tensor/tensor.js';
import { permute } from './layout.js';
import { floatData } from './util.js';

const NAMES = ['sum', 'mean', 'max', 'min'] as const;

function normalizeAxes(op: string, axis: number | number[] | undefined, ndim: number): number[] {
  if (axis === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const list = Array.isArray(axis) ? axis : [axis];
  if (list.length === 0) throw new RangeError(`${op}: the axis list is empty; omit axis to reduce over all axes`);
  const axes = [...new Set(list.map((a) => normalizeAxis(op, a, ndim)))].sort((a, b) => a - b);
  if (axes.length !== list.length) throw new RangeError(`${op}: axis ${JSON.stringify(axis)} repeats an axis`);
  return axes;
}

function reduceImpl(code: ReduceCode, x: Tensor, axis: number | number[] | undefined, keepDims: boolean): Tensor {
  const op = NAMES[code];
  const xd = floatData(op, x);
  if (x.ndim === 0) return reduceImpl(code, x.reshape([1]), 0, false).reshape([]);
  const axes = normalizeAxes(op, axis, x.ndim);
  const outShape = keepDims
    ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : x.shape.filter((_, i) => !axes.includes(i));
  if ((code === ReduceCode.Max || code === ReduceCode.Min) && axes.some((a) => x.shape[a] === 0))
    throw new RangeError(`${op}: cannot reduce an empty axis of a tensor of shape [${x.shape.join(',')}]`);
  const contiguous = axes.every((a, i) => i === 0 || a === axes[i - 1] + 1);
  if (!contiguous) {
    // Move the reduced axes to the end, then reduce them as one block.
    const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const moved = permute(x, [...kept, ...axes]);
    const tail = Array.from({ length: axes.length }, (_, i) => kept.length + i);
    return reduceImpl(code, moved, tail, false).reshape(outShape);
  }
  const first = axes[0];
  const last = axes[axes.length - 1];
  let outer = 1;
  let r = 1;
  let inner = 1;
  for (let i = 0; i < first; i++) outer *= x.shape[i];
  for (let i = first; i <= last; i++) r *= x.shape[i];
  for (let i = last + 1; i < x.ndim; i++) inner *= x.shape[i];
  const out = Tensor.empty(outShape);
  const yd = out.data as Float32Array;
  kernels.reduce(code, xd, outer, r, inner, yd);
  return record(out, op, [x], (g) => {
    const dx = Tensor.empty(x.shape);
    kernels.reduceBackward(code, xd, yd, g.data as Float32Array, outer, r, inner, dx.data as Float32Array);
    return [dx];
  });
}

/**
 * Sum over `axis`: a number, a list of axes, or all axes when omitted (a 0-d result). Reduced
 * axes are dropped unless `keepDims`, which keeps them with extent 1. Float32 only; a
 * RangeError for an axis out of range, repeated or an empty list.
 * @example
 * ```ts
 * import { sum, tensor } from 'axon-nn';
 * const x = tensor([[1, 2, 3], [4, 5, 6]]);
 * const total = sum(x); // 21, shape []
 * const perColumn = sum(x, 0); // [5, 7, 9]
 * const perRow = sum(x, 1, true); // [[6], [15]], shape [2, 1]
 * ```
 */
export const sum = (x: Tensor, axis?: number | number[], keepDims = false): Tensor =>
  reduceImpl(ReduceCode.Sum, x, axis, keepDims);
/**
 * Mean over `axis` (a number, a list, or all axes when omitted); `keepDims` and errors as
 * {@link sum}.
 * @example
 * ```ts
 * import { mean, randn } from 'axon-nn';
 * const images = randn([8, 3, 32, 32]);
 * const perChannel = mean(images, [0, 2, 3]); // shape [3]
 * ```
 */
export const mean = (x: Tensor, axis?: number | number[], keepDims = false): Tensor =>
  reduceImpl(ReduceCode.Mean, x, axis, keepDims);
/**
 * Maximum over `axis` (a number, a list, or all axes when omitted); NaN if any element is NaN.
 * The gradient goes to the first maximal element. `keepDims` and errors as {@link sum}, and a
 * RangeError for an empty axis.
 * @example
 * ```ts
 * import { max, tensor } from 'axon-nn';
 * const x = tensor([[1, 5, 3], [4, 2, 6]]);
 * const rowMax = max(x, 1); // [5, 6]
 * const overall = max(x).item(); // 6
 * ```
 */
export const max = (x: Tensor, axis?: number | number[], keepDims = false): Tensor =>
  reduceImpl(ReduceCode.Max, x, axis, keepDims);
/**
 * Minimum over `axis` (a number, a list, or all axes when omitted); NaN if any element is NaN;
 * gradient and errors as {@link max}.
 * @example
 * ```ts
 * import { min, tensor } from 'axon-nn';
 * const x = tensor([[1, 5, 3], [4, 2, 6]]);
 * const colMin = min(x, 0); // [1, 2, 3]
 * ```
 */
export const min = (x: Tensor, axis?: number | number[], keepDims = false): Tensor =>
  reduceImpl(ReduceCode.Min, x, axis, keepDims);

function argImpl(
  code: ArgReduceCode,
  x: Tensor,
  axis: number | undefined,
  keepDims: boolean,
  selectLast: boolean,
): Tensor {
  const op = code === ArgReduceCode.ArgMax ? 'argmax' : 'argmin';
  const xd = floatData(op, x);
  if (typeof selectLast !== 'boolean')
    throw new TypeError(`${op}: selectLast must be a boolean, got ${typeof selectLast}`);
  if (x.size === 0) throw new RangeError(`${op}: the tensor is empty`);
  if (axis === undefined) {
    const out = new Tensor(new Int32Array(1), keepDims ? x.shape.map(() => 1) : []);
    kernels.argReduce(code, xd, 1, x.size, 1, out.data as Int32Array, selectLast);
    return out;
  }
  const ax = normalizeAxis(op, axis, x.ndim);
  const [outer, r, inner] = splitAt(x.shape, ax);
  if (r === 0) throw new RangeError(`${op}: axis ${axis} is empty`);
  const outShape = keepDims ? x.shape.map((d, i) => (i === ax ? 1 : d)) : x.shape.filter((_, i) => i !== ax);
  reserveActivation(outer * inner);
  const out = new Tensor(new Int32Array(outer * inner), outShape);
  kernels.argReduce(code, xd, outer, r, inner, out.data as Int32Array, selectLast);
  return out;
}

/**
 * Index of the maximum along `axis` (of the flattened tensor when omitted), int32. Among ties
 * the first index, or the last with `selectLast` (ONNX select_last_index = 1); NaN counts as
 * the maximum (the first, or last, NaN). Float32 input; a RangeError for an empty tensor or axis.
 * @example
 * ```ts
 * import { argmax, tensor } from 'axon-nn';
 * const logits = tensor([[0.1, 2.0, 0.3], [1.5, 0.2, 0.1]]);
 * const predicted = argmax(logits, 1); // int32 [1, 0]
 * const flat = argmax(logits).item(); // 1
 * ```
 */
export const argmax = (x: Tensor, axis?: number, keepDims = false, selectLast = false): Tensor =>
  argImpl(ArgReduceCode.ArgMax, x, axis, keepDims, selectLast);
/**
 * Index of the minimum along `axis` (of the flattened tensor when omitted), int32; ties, NaN
 * and `selectLast` as {@link argmax}.
 * @example
 * ```ts
 * import { argmin, tensor } from 'axon-nn';
 * const distances = tensor([[3, 1, 2], [0, 5, 0]]);
 * const nearest = argmin(distances, 1); // int32 [1, 0]
 * const lastTie = argmin(distances, 1, false, true); // int32 [1, 2]
 * ```
 */
export const argmin = (x: Tensor, axis?: number, keepDims = false, selectLast = false): Tensor =>
  argImpl(ArgReduceCode.ArgMin, x, axis, keepDims, selectLast);
