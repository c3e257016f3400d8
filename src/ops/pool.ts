/**
 * Pooling ops with autograd over the last two axes of [N, C, H, W] or [C, H, W], as PyTorch's
 * F.max_pool2d, F.avg_pool2d and F.adaptive_avg_pool2d. Each forward is one native kernel;
 * each backward one. Geometry is checked here (clear errors naming the op and the shapes) and
 * again natively.
 */
import { record } from '../autograd/engine.js';
import type { PoolGeometry } from '../native/binding.js';
import { kernels } from '../native/executor.js';
import { numel, shapeToString } from '../tensor/shape.js';
import { Tensor, reserveActivation } from '../tensor/tensor.js';
import { pair, type Pair } from './conv.js';
import { reshape } from './layout.js';
import { checkOptionKeys, enumOption, optionKeys } from '../options.js';
import { floatData } from './util.js';

/**
 * The pooling functions' options (maxPool2d, avgPool2d): stride, padding, dilation and the
 * rounding of the output size. Unknown keys are refused with a TypeError.
 *
 * @example
 * ```ts
 * import { maxPool2d, randn, type Pool2dOptions } from 'axon-nn';
 * const options: Pool2dOptions = { stride: 2, padding: 1 };
 * const y = maxPool2d(randn([1, 8, 32, 32]), 3, options); // [1, 8, 16, 16]
 * ```
 */
export interface Pool2dOptions {
  /** Default: the kernel size. */
  stride?: Pair;
  /** Zero (max: -inf) padding: [h, w] on both sides, or [top, left, bottom, right] (ONNX's
   * asymmetric pads); each side less than the window's extent (dilation * (kernel - 1) + 1),
   * so every window overlaps the input. (The layers MaxPool2d/AvgPool2d keep PyTorch's rule,
   * at most half the kernel.) */
  padding?: Pair | readonly [number, number, number, number];
  /** Spacing between window taps: a number or [h, w] (default 1; max pooling only). */
  dilation?: Pair;
  /** Round the output size up instead of down (default false), as PyTorch's ceil_mode. */
  ceilMode?: boolean;
  /** Average pooling: divide by the whole window including padding (default true, PyTorch). */
  countIncludePad?: boolean;
}
const POOL2D_KEYS = optionKeys<Pool2dOptions>({
  stride: true,
  padding: true,
  dilation: true,
  ceilMode: true,
  countIncludePad: true,
});

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * The first output along one axis whose dilated window holds no input position (its taps step
 * over the input), or -1; as the binding's check (native/binding/ops_conv.cpp). With each
 * side's padding below the extent every window's span overlaps the input; one starting at -q
 * has its first tap at or after 0 at (-q) mod dil, so only dil > n can fail, only windows
 * starting before 0, and their residues repeat every dil / gcd(stride, dil) outputs.
 */
function taplessOutput(n: number, stride: number, padA: number, dil: number, out: number): number {
  if (dil <= n) return -1;
  const last = Math.min(out, Math.ceil(padA / stride), dil / gcd(stride, dil), n + 1);
  for (let o = 0; o < last; o++) if ((dil - ((padA - o * stride) % dil)) % dil >= n) return o;
  return -1;
}

/**
 * Output extent of a pooling axis: floor-or-ceil((n + padBegin + padEnd - dil (k - 1) - 1) /
 * stride) + 1, 0 when the window does not fit; with ceilMode a last window must start inside
 * the input or the leading padding (PyTorch's rule).
 */
export function poolOutputSize(
  n: number,
  k: number,
  stride: number,
  padBegin: number,
  padEnd: number,
  dilation: number,
  ceilMode: boolean,
): number {
  const span = n + padBegin + padEnd - dilation * (k - 1) - 1;
  if (span < 0) return 0;
  let out = (ceilMode ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  if (ceilMode && (out - 1) * stride >= n + padBegin) out--;
  return out;
}

function poolPlan(
  op: string,
  x: Tensor,
  kernel: Pair,
  options: Pool2dOptions,
): { geometry: PoolGeometry; outShape: number[] } {
  if (x.ndim !== 4 && x.ndim !== 3)
    throw new RangeError(`${op}: input must be [N, C, H, W] or [C, H, W], got ${shapeToString(x.shape)}`);
  const k = pair(op, kernel, 'kernelSize', 1);
  const s = pair(op, options.stride ?? k, 'stride', 1);
  const pad = options.padding;
  // [top, left, bottom, right]
  const p: [number, number, number, number] =
    Array.isArray(pad) && pad.length === 4
      ? [pad[0], pad[1], pad[2], pad[3]]
      : (() => {
          const q = pair(op, pad as Pair | undefined, 'padding', 0, 0);
          return [q[0], q[1], q[0], q[1]];
        })();
  if (!p.every((v) => Number.isInteger(v) && v >= 0))
    throw new RangeError(`${op}: padding must be non-negative integers, got ${JSON.stringify(pad)}`);
  const d = pair(op, options.dilation, 'dilation', 1);
  const [h, w] = x.shape.slice(-2);
  const extent = [d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1];
  const padText = JSON.stringify(p[0] === p[2] && p[1] === p[3] ? [p[0], p[1]] : p);
  if (Math.max(p[0], p[2]) >= extent[0] || Math.max(p[1], p[3]) >= extent[1])
    throw new RangeError(
      `${op}: padding ${padText} must be less than the window extent ${JSON.stringify(extent)} on each side (kernel ${JSON.stringify(k)}, dilation ${JSON.stringify(d)}), so every window overlaps the input`,
    );
  const ceil = Boolean(options.ceilMode);
  const oh = poolOutputSize(h, k[0], s[0], p[0], p[2], d[0], ceil);
  const ow = poolOutputSize(w, k[1], s[1], p[1], p[3], d[1], ceil);
  if (oh < 1 || ow < 1)
    throw new RangeError(
      `${op}: window ${k[0]}x${k[1]} does not fit input ${shapeToString(x.shape)} with padding ${JSON.stringify(p)}`,
    );
  const row = taplessOutput(h, s[0], p[0], d[0], oh);
  const col = taplessOutput(w, s[1], p[1], d[1], ow);
  if (row >= 0 || col >= 0)
    throw new RangeError(
      `${op}: with dilation ${JSON.stringify(d)} and padding ${padText}, the window of output ${row >= 0 ? `row ${row}` : `column ${col}`} holds no element of input ${shapeToString(x.shape)}`,
    );
  const planes = numel(x.shape.slice(0, -2));
  return {
    geometry: {
      planes,
      h,
      w,
      kH: k[0],
      kW: k[1],
      strideH: s[0],
      strideW: s[1],
      padTop: p[0],
      padLeft: p[1],
      padBottom: p[2],
      padRight: p[3],
      dilH: d[0],
      dilW: d[1],
      ceilMode: Boolean(options.ceilMode),
      countIncludePad: Boolean(options.countIncludePad ?? true),
    },
    outShape: [...x.shape.slice(0, -2), oh, ow],
  };
}

/**
 * Which indices maxPool2dWithIndices returns (each the position of its window's maximum):
 * 'plane' (within each [H, W] plane), 'global' (over the whole input, row-major) or
 * 'globalColumnMajor' (ONNX's storage_order 1).
 *
 * @example
 * ```ts
 * import { maxPool2dWithIndices, randn, type MaxPoolIndexForm } from 'axon-nn';
 * const form: MaxPoolIndexForm = 'global';
 * const { indices } = maxPool2dWithIndices(randn([2, 3, 8, 8]), 2, { indices: form }); // int32 [2, 3, 4, 4]
 * ```
 */
export type MaxPoolIndexForm = 'plane' | 'global' | 'globalColumnMajor';

/**
 * maxPool2dWithIndices()'s options: those of maxPool2d plus the form of the returned indices.
 *
 * @example
 * ```ts
 * import { maxPool2dWithIndices, randn, type MaxPool2dWithIndicesOptions } from 'axon-nn';
 * const options: MaxPool2dWithIndicesOptions = { stride: 2, indices: 'plane' };
 * const { values, indices } = maxPool2dWithIndices(randn([1, 1, 4, 4]), 2, options); // both [1, 1, 2, 2]
 * ```
 */
export interface MaxPool2dWithIndicesOptions extends Pool2dOptions {
  /**
   * 'plane' (default, PyTorch's return_indices): h * W + w within each (N, C) plane.
   * 'global': ((n * C + c) * H + h) * W + w over the whole input, ONNX MaxPool's Indices with
   * storage_order 0 (int32 here: the input must have fewer than 2^31 elements).
   * 'globalColumnMajor': ((n * C + c) * W + w) * H + h, ONNX's storage_order 1.
   */
  indices?: MaxPoolIndexForm;
}
const MAX_POOL_INDICES_KEYS = optionKeys<MaxPool2dWithIndicesOptions>({
  stride: true,
  padding: true,
  dilation: true,
  ceilMode: true,
  countIncludePad: true,
  indices: true,
});
const INDEX_FORMS: readonly MaxPoolIndexForm[] = ['plane', 'global', 'globalColumnMajor'];

/** The forward (and its recorded backward) of maxPool2d and maxPool2dWithIndices: values, the
 * per-plane argmax the backward reads, and the global indices when asked. */
function maxPoolForward(
  op: string,
  x: Tensor,
  kernelSize: Pair,
  options: Pool2dOptions,
  form: MaxPoolIndexForm,
): { values: Tensor; index: Int32Array; global: Int32Array | null } {
  const xd = floatData(op, x);
  const plan = poolPlan(op, x, kernelSize, options);
  if (form !== 'plane' && x.size > 2 ** 31 - 1)
    throw new RangeError(
      `${op}: global indices of input ${shapeToString(x.shape)} do not fit int32 (more than 2^31 - 1 elements)`,
    );
  const out = Tensor.empty(plan.outShape);
  // The argmax indices are kept for the backward (int32, one per output).
  reserveActivation(out.size);
  const index = new Int32Array(out.size);
  let global: Int32Array | null = null;
  if (form !== 'plane') {
    reserveActivation(out.size);
    global = new Int32Array(out.size);
  }
  // One kernel call writes all of them (recordable: a replay rewrites every buffer).
  if (out.size > 0)
    kernels.maxPool2d(xd, plan.geometry, out.data as Float32Array, index, global, form === 'globalColumnMajor');
  const values = record(
    out,
    op,
    [x],
    (g, fusion) => {
      const dx = Tensor.empty(x.shape);
      // Fused with the relu before it (engine.ts): the pooled maxima say where it passes gradient.
      const reluMask = fusion.maskRelu ? (out.data as Float32Array) : null;
      if (g.size > 0)
        kernels.maxPool2dBackward(
          index,
          g.data as Float32Array,
          plan.geometry,
          dx.data as Float32Array,
          false,
          reluMask,
        );
      return [dx];
    },
    { masksRelu: true },
  );
  return { values, index, global };
}

/**
 * Max pooling over the last two axes of [N, C, H, W] or [C, H, W] (PyTorch's F.max_pool2d):
 * each output is its window's maximum (NaN wins), with padding as -inf. `kernelSize` is a
 * number or [kH, kW]; the stride defaults to it.
 * @throws RangeError when the window does not fit the (padded) input or padding is too large.
 * @example
 * ```ts
 * import { maxPool2d, randn } from 'axon-nn';
 * const x = randn([8, 16, 28, 28]);
 * const y = maxPool2d(x, 2); // [8, 16, 14, 14]
 * ```
 */
export function maxPool2d(x: Tensor, kernelSize: Pair, options: Pool2dOptions = {}): Tensor {
  checkOptionKeys('maxPool2d', options, POOL2D_KEYS);
  return maxPoolForward('maxPool2d', x, kernelSize, options, 'plane').values;
}

/**
 * Max pooling that also returns where each maximum came from (F.max_pool2d with
 * return_indices; ONNX MaxPool's second output with `indices: 'global'`). `values` is
 * maxPool2d's result, with its gradient; `indices` is an int32 tensor of the same shape, no
 * gradient. A NaN in a window wins (the first one) and its position is returned. With
 * 'plane' the indices are the buffer the backward reads (as PyTorch's saved indices): change
 * them and the gradient changes (positions outside their plane are refused when it runs).
 * @example
 * ```ts
 * import { maxPool2dWithIndices, tensor } from 'axon-nn';
 * const x = tensor([1, 5, 2, 0, 3, 4, 8, 6, 7, 9, 1, 2, 0, 1, 3, 2], [1, 1, 4, 4]);
 * const { values, indices } = maxPool2dWithIndices(x, 2);
 * // values [[5, 8], [9, 3]], indices [[1, 6], [9, 14]] (h * 4 + w)
 * ```
 */
export function maxPool2dWithIndices(
  x: Tensor,
  kernelSize: Pair,
  options: MaxPool2dWithIndicesOptions = {},
): {
  /** The pooled maxima, as maxPool2d returns them (with their gradient). */
  values: Tensor;
  /** int32, the shape of `values`: where each maximum came from, in the form `options.indices` asks. */
  indices: Tensor;
} {
  checkOptionKeys('maxPool2dWithIndices', options, MAX_POOL_INDICES_KEYS);
  const form = enumOption('maxPool2dWithIndices', 'indices', options.indices, 'plane', INDEX_FORMS);
  const { values, index, global } = maxPoolForward('maxPool2dWithIndices', x, kernelSize, options, form);
  return { values, indices: new Tensor(global ?? index, values.shape) };
}

/**
 * Average pooling over the last two axes of [N, C, H, W] or [C, H, W] (PyTorch's
 * F.avg_pool2d); padded positions count in the divisor unless `countIncludePad: false`.
 * @throws RangeError when a `dilation` is given, or the window does not fit the input.
 * @example
 * ```ts
 * import { avgPool2d, randn } from 'axon-nn';
 * const x = randn([2, 4, 9, 9]);
 * const y = avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false }); // [2, 4, 5, 5]
 * ```
 */
export function avgPool2d(x: Tensor, kernelSize: Pair, options: Pool2dOptions = {}): Tensor {
  checkOptionKeys('avgPool2d', options, POOL2D_KEYS);
  const xd = floatData('avgPool2d', x);
  if (options.dilation !== undefined) throw new RangeError('avgPool2d: average pooling has no dilation');
  const plan = poolPlan('avgPool2d', x, kernelSize, options);
  const out = Tensor.empty(plan.outShape);
  if (out.size > 0) kernels.avgPool2d(xd, plan.geometry, out.data as Float32Array);
  return record(out, 'avgPool2d', [x], (g) => {
    const dx = Tensor.empty(x.shape);
    if (g.size > 0) kernels.avgPool2dBackward(g.data as Float32Array, plan.geometry, dx.data as Float32Array);
    return [dx];
  });
}

/**
 * Adaptive average pooling over the last two axes to `outputSize` (a number or [h, w]),
 * whatever the input size, as PyTorch's F.adaptive_avg_pool2d: window i spans
 * [floor(i * H / h), ceil((i + 1) * H / h)). Throws a RangeError for an empty input.
 * @example
 * ```ts
 * import { adaptiveAvgPool2d, randn } from 'axon-nn';
 * const features = randn([2, 512, 13, 17]);
 * const pooled = adaptiveAvgPool2d(features, [7, 7]); // [2, 512, 7, 7]
 * ```
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor {
  const xd = floatData('adaptiveAvgPool2d', x);
  if (x.ndim < 2) throw new RangeError(`adaptiveAvgPool2d: input needs at least 2 axes, got ${shapeToString(x.shape)}`);
  const [oh, ow] = pair('adaptiveAvgPool2d', outputSize, 'outputSize', 1);
  const [h, w] = x.shape.slice(-2);
  if (h < 1 || w < 1) throw new RangeError(`adaptiveAvgPool2d: input ${shapeToString(x.shape)} is empty`);
  const planes = numel(x.shape.slice(0, -2));
  const geometry = { planes, h, w, outH: oh, outW: ow };
  const out = Tensor.empty([...x.shape.slice(0, -2), oh, ow]);
  if (out.size > 0) kernels.adaptiveAvgPool2d(xd, geometry, out.data as Float32Array);
  return record(out, 'adaptiveAvgPool2d', [x], (g) => {
    const dx = Tensor.empty(x.shape);
    if (g.size > 0) kernels.adaptiveAvgPool2dBackward(g.data as Float32Array, geometry, dx.data as Float32Array);
    return [dx];
  });
}

/**
 * The mean over the spatial axes, [N, C, H, W] -> [N, C] (global average pooling, the usual
 * head of a CNN). Throws a RangeError for an input that is not 4-D.
 * @example
 * ```ts
 * import { globalAvgPool2d, randn } from 'axon-nn';
 * const features = randn([8, 64, 7, 7]);
 * const pooled = globalAvgPool2d(features); // [8, 64]
 * ```
 */
export function globalAvgPool2d(x: Tensor): Tensor {
  if (x.ndim !== 4) throw new RangeError(`globalAvgPool2d: input must be [N, C, H, W], got ${shapeToString(x.shape)}`);
  const y = adaptiveAvgPool2d(x, 1);
  return reshape(y, [x.shape[0], x.shape[1]]);
}
