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
import { checkOptionKeys, optionKeys } from '../options.js';
import { floatData } from './util.js';

export interface Pool2dOptions {
  /** Default: the kernel size. */
  stride?: Pair;
  /** Zero (max: -inf) padding: [h, w] on both sides, or [top, left, bottom, right] (ONNX's
   * asymmetric pads); each side at most half the kernel. */
  padding?: Pair | readonly [number, number, number, number];
  dilation?: Pair;
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
  if (2 * Math.max(p[0], p[2]) > k[0] || 2 * Math.max(p[1], p[3]) > k[1])
    throw new RangeError(
      `${op}: padding ${JSON.stringify(p[0] === p[2] && p[1] === p[3] ? [p[0], p[1]] : p)} must be at most half the kernel ${JSON.stringify(k)}`,
    );
  const size = (n: number, kk: number, ss: number, pa: number, pb: number, dd: number): number => {
    const span = n + pa + pb - dd * (kk - 1) - 1;
    if (span < 0) return 0;
    let out = (options.ceilMode ? Math.ceil(span / ss) : Math.floor(span / ss)) + 1;
    if (options.ceilMode && (out - 1) * ss >= n + pa) out--;
    return out;
  };
  const oh = size(h, k[0], s[0], p[0], p[2], d[0]);
  const ow = size(w, k[1], s[1], p[1], p[3], d[1]);
  if (oh < 1 || ow < 1)
    throw new RangeError(
      `${op}: window ${k[0]}x${k[1]} does not fit input ${shapeToString(x.shape)} with padding ${JSON.stringify(p)}`,
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

/** Max pooling over the last two axes (PyTorch's F.max_pool2d). */
export function maxPool2d(x: Tensor, kernelSize: Pair, options: Pool2dOptions = {}): Tensor {
  checkOptionKeys('maxPool2d', options, POOL2D_KEYS);
  const xd = floatData('maxPool2d', x);
  const plan = poolPlan('maxPool2d', x, kernelSize, options);
  const out = Tensor.empty(plan.outShape);
  // The argmax indices are kept for the backward (int32, one per output).
  reserveActivation(out.size);
  const index = new Int32Array(out.size);
  if (out.size > 0) kernels.maxPool2d(xd, plan.geometry, out.data as Float32Array, index);
  return record(
    out,
    'maxPool2d',
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
}

/** Average pooling over the last two axes (PyTorch's F.avg_pool2d). */
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

/** Adaptive average pooling to outputSize over the last two axes (F.adaptive_avg_pool2d). */
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

/** Mean over the spatial axes: [N, C, H, W] -> [N, C] (global average pooling). */
export function globalAvgPool2d(x: Tensor): Tensor {
  if (x.ndim !== 4) throw new RangeError(`globalAvgPool2d: input must be [N, C, H, W], got ${shapeToString(x.shape)}`);
  const y = adaptiveAvgPool2d(x, 1);
  return reshape(y, [x.shape[0], x.shape[1]]);
}
