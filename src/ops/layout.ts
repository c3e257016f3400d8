/**
 * Shape and layout ops: reshape/flatten/squeeze/unsqueeze (zero-copy views), row slicing
 * (zero-copy), transpose/permute, general strided indexing, expand, concat and stack
 * (copies, in native/kernels/cpu/layout.cpp). They accept int32 tensors too (labels,
 * indices); gradients flow for float32.
 */
import { record } from '../autograd/engine.js';
import { kernels } from '../native/executor.js';
import { broadcastShapes, normalizeAxis, numel, shapeToString, shapesEqual } from '../tensor/shape.js';
import { Tensor, reserveActivation, type TensorData } from '../tensor/tensor.js';
import { assertTensor, rawBroadcastTo, sumTo } from './util.js';

/**
 * The same data viewed with a new shape holding as many elements (zero-copy: the result shares
 * x's memory); one entry may be -1, inferred from the others. Works for int32 too. Throws a
 * RangeError when the element counts differ or more than one entry is -1.
 * @example
 * ```ts
 * import { arange, reshape } from 'axon-nn';
 * const x = arange(6);
 * const m = reshape(x, [2, 3]); // [[0, 1, 2], [3, 4, 5]]
 * const col = reshape(x, [-1, 1]); // shape [6, 1]
 * ```
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  assertTensor('reshape', x);
  const dims = [...shape];
  const inferred = dims.indexOf(-1);
  if (inferred !== dims.lastIndexOf(-1))
    throw new RangeError(`reshape: only one dimension can be -1, got ${shapeToString(shape)}`);
  if (inferred >= 0) {
    const known = numel(dims.filter((_, i) => i !== inferred));
    if (known === 0 || x.size % known !== 0)
      throw new RangeError(
        `reshape: cannot reshape ${shapeToString(x.shape)} (${x.size} elements) to ${shapeToString(shape)}`,
      );
    dims[inferred] = x.size / known;
  }
  for (const d of dims)
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`reshape: invalid shape ${shapeToString(shape)}`);
  if (numel(dims) !== x.size)
    throw new RangeError(
      `reshape: cannot reshape ${shapeToString(x.shape)} (${x.size} elements) to ${shapeToString(dims)} (${numel(dims)} elements)`,
    );
  const out = new Tensor(x.data, dims);
  return record(out, 'reshape', [x], (g) => [new Tensor(g.data, x.shape)]);
}

/**
 * Merges axes startDim..endDim (inclusive; default all, negatives count from the end) into one,
 * zero-copy. A 0-d tensor becomes shape [1].
 * @example
 * ```ts
 * import { flatten, randn } from 'axon-nn';
 * const images = randn([8, 3, 32, 32]);
 * const rows = flatten(images, 1); // [8, 3072]
 * const all = flatten(images); // [24576]
 * ```
 */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  assertTensor('flatten', x);
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeAxis('flatten', startDim, x.ndim);
  const e = normalizeAxis('flatten', endDim, x.ndim);
  if (s > e) throw new RangeError(`flatten: startDim ${startDim} comes after endDim ${endDim}`);
  const merged = numel(x.shape.slice(s, e + 1));
  return reshape(x, [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)]);
}

/**
 * Removes every axis of extent 1, or only `axis` when given (left unchanged when that axis is
 * not 1, as PyTorch). Zero-copy.
 * @example
 * ```ts
 * import { squeeze, zeros } from 'axon-nn';
 * const x = zeros([2, 1, 3, 1]);
 * const a = squeeze(x); // [2, 3]
 * const b = squeeze(x, 1); // [2, 3, 1]
 * ```
 */
export function squeeze(x: Tensor, axis?: number): Tensor {
  assertTensor('squeeze', x);
  if (axis === undefined)
    return reshape(
      x,
      x.shape.filter((d) => d !== 1),
    );
  const a = normalizeAxis('squeeze', axis, x.ndim);
  if (x.shape[a] !== 1) return reshape(x, x.shape);
  return reshape(
    x,
    x.shape.filter((_, i) => i !== a),
  );
}

/**
 * Inserts an axis of extent 1 at `axis` (in [-ndim-1, ndim]; -1 appends it). Zero-copy.
 * @example
 * ```ts
 * import { tensor, unsqueeze } from 'axon-nn';
 * const v = tensor([1, 2, 3]);
 * const row = unsqueeze(v, 0); // [1, 3]
 * const col = unsqueeze(v, -1); // [3, 1]
 * ```
 */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  assertTensor('unsqueeze', x);
  const a = normalizeAxis('unsqueeze', axis, x.ndim + 1);
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

function newData(x: Tensor, n: number): TensorData {
  reserveActivation(n);
  return x.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
}

/**
 * Reorders the axes, a copy: out.shape[i] = x.shape[perm[i]]. `perm` lists every axis once
 * (negatives allowed); a RangeError otherwise. Works for int32 too.
 * @example
 * ```ts
 * import { permute, randn } from 'axon-nn';
 * const nhwc = randn([8, 32, 32, 3]);
 * const nchw = permute(nhwc, [0, 3, 1, 2]); // [8, 3, 32, 32]
 * ```
 */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  assertTensor('permute', x);
  if (perm.length !== x.ndim)
    throw new RangeError(
      `permute: perm ${shapeToString(perm)} must list each of the ${x.ndim} axes of ${shapeToString(x.shape)} once`,
    );
  const p = perm.map((a) => normalizeAxis('permute', a, x.ndim));
  if (new Set(p).size !== p.length) throw new RangeError(`permute: perm ${shapeToString(perm)} repeats an axis`);
  const outShape = p.map((a) => x.shape[a]);
  const out = new Tensor(newData(x, x.size), outShape);
  kernels.permute(x.data, x.shape, p, out.data);
  const inverse = new Array<number>(p.length);
  p.forEach((a, i) => (inverse[a] = i));
  return record(out, 'permute', [x], (g) => {
    const dx = Tensor.empty(x.shape);
    kernels.permute(g.data, g.shape, inverse, dx.data);
    return [dx];
  });
}

/**
 * Swaps two axes (default: the last two), a copy. A 1-D tensor with the default axes, or a 0-d
 * tensor, is returned as a view unchanged.
 * @example
 * ```ts
 * import { randn, transpose } from 'axon-nn';
 * const q = randn([2, 5, 16]);
 * const k = transpose(q); // [2, 16, 5]
 * const swapped = transpose(q, 0, 1); // [5, 2, 16]
 * ```
 */
export function transpose(x: Tensor, axis0 = -2, axis1 = -1): Tensor {
  assertTensor('transpose', x);
  if (x.ndim < 2) {
    if (x.ndim === 0 || (axis0 === -2 && axis1 === -1)) return reshape(x, x.shape);
  }
  const a = normalizeAxis('transpose', axis0, x.ndim);
  const b = normalizeAxis('transpose', axis1, x.ndim);
  const perm = x.shape.map((_, i) => i);
  perm[a] = b;
  perm[b] = a;
  return permute(x, perm);
}

function rowsView(x: Tensor, start: number, end: number, shape: number[]): Tensor {
  const inner = x.ndim > 0 ? x.size / Math.max(x.shape[0], 1) : 1;
  const data = x.data.subarray(start * inner, end * inner);
  const out = new Tensor(data, shape);
  return record(out, 'slice', [x], (g) => {
    const dx = Tensor.empty(x.shape);
    // A kernel call (not TypedArray.set), so a recorded step replays it.
    if (g.size) kernels.copy(g.data, (dx.data as Float32Array).subarray(start * inner, start * inner + g.size));
    return [dx];
  });
}

/** Rows [start, end) of the first axis, sharing memory. Negative indices count from the end. */
export function sliceRows(x: Tensor, start: number, end?: number): Tensor {
  assertTensor('slice', x);
  if (x.ndim === 0) throw new RangeError('slice: cannot slice a 0-d tensor');
  const n = x.shape[0];
  const norm = (v: number): number => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
  if (!Number.isInteger(start) || (end !== undefined && !Number.isInteger(end)))
    throw new TypeError(`slice: start and end must be integers, got ${start}, ${end}`);
  const s = norm(start);
  const e = Math.max(s, end === undefined ? n : norm(end));
  return rowsView(x, s, e, [e - s, ...x.shape.slice(1)]);
}

/** Row i of the first axis, with that axis removed, sharing memory. */
export function row(x: Tensor, i: number): Tensor {
  assertTensor('row', x);
  if (x.ndim === 0) throw new RangeError('row: a 0-d tensor has no rows');
  const n = x.shape[0];
  if (!Number.isInteger(i) || i < -n || i >= n)
    throw new RangeError(`row: index ${i} is out of range for ${n} rows (shape ${shapeToString(x.shape)})`);
  const k = i < 0 ? i + n : i;
  return rowsView(x, k, k + 1, x.shape.slice(1));
}

/**
 * One axis of an `index` call: an integer (selects, drops the axis), [start, end, step] as in
 * Python slices (each may be omitted/undefined/null; negatives count from the end), or null for all.
 *
 * @example
 * ```ts
 * import { arange, index, type IndexSpec } from 'axon-nn';
 * const x = arange(12).reshape([3, 4]);
 * const everyOtherColumn: IndexSpec = [null, null, 2];
 * const y = index(x, [null, everyOtherColumn]); // [[0, 2], [4, 6], [8, 10]]
 * ```
 */
export type IndexSpec = number | null | undefined | readonly [(number | null)?, (number | null)?, (number | null)?];

/**
 * General strided indexing (a copy), one {@link IndexSpec} per leading axis; missing specs take
 * the whole axis. An integer spec drops its axis; a negative step reverses. Also `x.index(...specs)`.
 * @throws RangeError for more specs than axes, an index out of range or a zero step.
 * @example
 * ```ts
 * import { arange, index } from 'axon-nn';
 * const x = arange(12).reshape([3, 4]);
 * const secondRow = index(x, [1]); // [4, 5, 6, 7]
 * const lastColumn = index(x, [null, -1]); // [3, 7, 11]
 * const reversedRows = index(x, [[null, null, -1]]); // rows 2, 1, 0
 * ```
 */
export function index(x: Tensor, specs: readonly IndexSpec[]): Tensor {
  assertTensor('index', x);
  if (specs.length > x.ndim)
    throw new RangeError(`index: ${specs.length} specs for a tensor with ${x.ndim} axes (${shapeToString(x.shape)})`);
  const starts: number[] = [];
  const steps: number[] = [];
  const outShape: number[] = [];
  const keep: boolean[] = [];
  for (let d = 0; d < x.ndim; d++) {
    const n = x.shape[d];
    const spec = specs[d];
    if (typeof spec === 'number') {
      if (!Number.isInteger(spec) || spec < -n || spec >= n)
        throw new RangeError(`index: index ${spec} is out of range for axis ${d} of size ${n}`);
      starts.push(spec < 0 ? spec + n : spec);
      steps.push(1);
      outShape.push(1);
      keep.push(false);
      continue;
    }
    const [a, b, c] = spec ?? [];
    const step = c ?? 1;
    if (!Number.isInteger(step) || step === 0)
      throw new RangeError(`index: step must be a non-zero integer, got ${step}`);
    for (const v of [a, b])
      if (v !== undefined && v !== null && !Number.isInteger(v))
        throw new TypeError(`index: slice bounds must be integers, got ${v}`);
    let start: number;
    let end: number;
    if (step > 0) {
      start = a == null ? 0 : a < 0 ? Math.max(a + n, 0) : Math.min(a, n);
      end = b == null ? n : b < 0 ? Math.max(b + n, 0) : Math.min(b, n);
    } else {
      start = a == null ? n - 1 : a < 0 ? Math.max(a + n, -1) : Math.min(a, n - 1);
      end = b == null ? -1 : b < 0 ? Math.max(b + n, -1) : Math.min(b, n - 1);
    }
    const len = Math.max(0, Math.ceil((end - start) / step));
    starts.push(len === 0 ? 0 : start);
    steps.push(step);
    outShape.push(len);
    keep.push(true);
  }
  const out = new Tensor(newData(x, numel(outShape)), outShape);
  kernels.sliceCopy(x.data, x.shape, starts, steps, outShape, out.data);
  const sliced = record(out, 'index', [x], (g) => {
    const dx = Tensor.empty(x.shape);
    kernels.sliceBackward(g.data as Float32Array, outShape, starts, steps, x.shape, dx.data as Float32Array);
    return [dx];
  });
  return keep.every(Boolean)
    ? sliced
    : reshape(
        sliced,
        outShape.filter((_, i) => keep[i]),
      );
}

/**
 * Broadcasts x to `shape` under NumPy rules (a copy; float32 only). The gradient is summed
 * back to x's shape. Throws a RangeError when x does not broadcast to exactly `shape`.
 * @example
 * ```ts
 * import { expand, tensor } from 'axon-nn';
 * const bias = tensor([1, 2, 3]);
 * const tiled = expand(bias, [2, 3]); // [[1, 2, 3], [1, 2, 3]]
 * ```
 */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  assertTensor('expand', x);
  const target = broadcastShapes('expand', x.shape, shape);
  if (!shapesEqual(target, shape))
    throw new RangeError(`expand: cannot expand ${shapeToString(x.shape)} to ${shapeToString(shape)}`);
  if (x.dtype !== 'float32') throw new TypeError('expand: only float32 tensors');
  const out = rawBroadcastTo(x, target);
  return record(out, 'expand', [x], (g) => [sumTo(g, x.shape)]);
}

/**
 * Joins tensors along an existing axis (default 0), a copy. They must share dtype, rank and
 * every other extent; a RangeError otherwise (and for an empty list or 0-d tensors).
 * @example
 * ```ts
 * import { concat, ones, zeros } from 'axon-nn';
 * const a = zeros([2, 3]);
 * const b = ones([4, 3]);
 * const rows = concat([a, b]); // [6, 3]
 * const cols = concat([a, ones([2, 1])], 1); // [2, 4]
 * ```
 */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0)
    throw new RangeError('concat: needs a non-empty array of tensors');
  tensors.forEach((t, i) => assertTensor('concat', t, `tensors[${i}]`));
  const first = tensors[0];
  if (first.ndim === 0) throw new RangeError('concat: cannot concatenate 0-d tensors (use stack)');
  const ax = normalizeAxis('concat', axis, first.ndim);
  for (let i = 0; i < tensors.length; i++) {
    const t: Tensor = tensors[i];
    if (t.dtype !== first.dtype)
      throw new TypeError(`concat: tensors[${i}] is ${t.dtype}, tensors[0] is ${first.dtype}`);
    if (t.ndim !== first.ndim || t.shape.some((d, j) => j !== ax && d !== first.shape[j]))
      throw new RangeError(
        `concat: tensors[${i}] has shape ${shapeToString(t.shape)}, incompatible with ${shapeToString(first.shape)} along axis ${ax}`,
      );
  }
  let outer = 1;
  for (let j = 0; j < ax; j++) outer *= first.shape[j];
  const inner = numel(first.shape.slice(ax + 1));
  const sizes = tensors.map((t) => t.shape[ax] * inner);
  const outShape = [...first.shape];
  outShape[ax] = tensors.reduce((s, t) => s + t.shape[ax], 0);
  const out = new Tensor(newData(first, numel(outShape)), outShape);
  kernels.concat(
    tensors.map((t) => t.data),
    sizes,
    outer,
    out.data,
  );
  return record(out, 'concat', tensors, (g) => {
    let offset = 0;
    return tensors.map((t) => {
      const begin = offset;
      offset += t.shape[ax];
      if (!t.requiresGrad) return null;
      const starts = outShape.map((_, j) => (j === ax ? begin : 0));
      const dx = Tensor.empty(t.shape);
      if (t.size)
        kernels.sliceCopy(
          g.data,
          outShape,
          starts,
          outShape.map(() => 1),
          t.shape,
          dx.data,
        );
      return dx;
    });
  });
}

/**
 * Joins tensors of equal shape along a new axis (default 0), a copy; a RangeError when the
 * shapes differ or the list is empty.
 * @example
 * ```ts
 * import { randn, stack } from 'axon-nn';
 * const frames = [randn([3, 4]), randn([3, 4])];
 * const batch = stack(frames); // [2, 3, 4]
 * const last = stack(frames, -1); // [3, 4, 2]
 * ```
 */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0)
    throw new RangeError('stack: needs a non-empty array of tensors');
  tensors.forEach((t, i) => assertTensor('stack', t, `tensors[${i}]`));
  const ax = normalizeAxis('stack', axis, tensors[0].ndim + 1);
  for (let i = 0; i < tensors.length; i++) {
    const t: Tensor = tensors[i];
    if (!shapesEqual(t.shape, tensors[0].shape))
      throw new RangeError(
        `stack: tensors[${i}] has shape ${shapeToString(t.shape)}, tensors[0] ${shapeToString(tensors[0].shape)}`,
      );
  }
  return concat(
    tensors.map((t) => unsqueeze(t, ax)),
    ax,
  );
}
