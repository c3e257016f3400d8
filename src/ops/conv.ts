/**
 * Convolution, pooling and normalisation ops with autograd, NCHW as PyTorch (weights
 * [Cout, Cin/groups, kH, kW]). Each forward is one native kernel; each backward one or two.
 * Geometry is checked here (clear errors naming the op and the shapes) and again natively.
 *
 * Conv1d runs as conv2d on [N, C, 1, L]; ConvTranspose2d's forward is conv2d's data gradient
 * (its weight [Cin, Cout/groups, kH, kW] is the mirrored convolution's), so the three conv
 * kernels serve all five directions.
 */
import { record } from '../autograd/engine.js';
import { native, BinaryCode, UnaryCode } from '../native/binding.js';
import { numel, shapeToString } from '../tensor/shape.js';
import { Tensor, reserveActivation } from '../tensor/tensor.js';
import { unaryOp } from './elementwise.js';
import { activationPlan, type LinearActivation } from './linalg.js';
import { reshape } from './layout.js';
import { checkOptionKeys, numberOption, optionKeys } from '../options.js';
import { floatData, isReluMasked, isReluOutput, markReluMasked, markReluOutput } from './util.js';

export type Pair = number | readonly [number, number];
/** 'valid' (none), 'same' (output size ceil(in / stride), extra on the bottom/right as
 * TensorFlow), a number or [h, w] (both sides), or [top, left, bottom, right]. */
export type Padding = 'valid' | 'same' | number | readonly [number, number] | readonly [number, number, number, number];

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Padding;
  dilation?: Pair;
  groups?: number;
  /** Activation applied to the output, fused into the kernel's store where possible. */
  activation?: LinearActivation;
  activationParam?: number;
}
const CONV2D_KEYS = optionKeys<Conv2dOptions>({
  stride: true,
  padding: true,
  dilation: true,
  groups: true,
  activation: true,
  activationParam: true,
});

function pair(op: string, v: Pair | undefined, name: string, fallback: number, min = 1): [number, number] {
  const p: [number, number] = v === undefined ? [fallback, fallback] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!p.every((x) => Number.isInteger(x) && x >= min))
    throw new RangeError(
      `${op}: ${name} must be ${min === 0 ? 'non-negative' : 'positive'} integers, got ${JSON.stringify(v)}`,
    );
  return p;
}

/** [top, left, bottom, right] for `padding` on an input h x w. */
export function resolvePadding(
  op: string,
  padding: Padding | undefined,
  h: number,
  w: number,
  kernel: [number, number],
  stride: [number, number],
  dilation: [number, number],
): [number, number, number, number] {
  if (padding === undefined || padding === 'valid') return [0, 0, 0, 0];
  if (padding === 'same') {
    const side = (n: number, k: number, s: number, d: number): [number, number] => {
      const out = Math.ceil(n / s);
      const total = Math.max((out - 1) * s + d * (k - 1) + 1 - n, 0);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    };
    const [t, b] = side(h, kernel[0], stride[0], dilation[0]);
    const [l, r] = side(w, kernel[1], stride[1], dilation[1]);
    return [t, l, b, r];
  }
  const p =
    typeof padding === 'number'
      ? [padding, padding, padding, padding]
      : padding.length === 2
        ? [padding[0], padding[1], padding[0], padding[1]]
        : [...padding];
  if (p.length !== 4 || !p.every((x) => Number.isInteger(x) && x >= 0))
    throw new RangeError(
      `${op}: padding must be 'valid', 'same', a non-negative integer, [h, w] or [top, left, bottom, right], got ${JSON.stringify(padding)}`,
    );
  return p as [number, number, number, number];
}

/** The checked geometry array the native conv ops take, and the output shape. */
export interface ConvPlan {
  geometry: number[];
  outShape: number[];
}

export function convPlan(
  op: string,
  xShape: readonly number[],
  wShape: readonly number[],
  options: Conv2dOptions,
): ConvPlan {
  if (xShape.length !== 4) throw new RangeError(`${op}: input must be [N, C, H, W], got ${shapeToString(xShape)}`);
  if (wShape.length !== 4)
    throw new RangeError(`${op}: weight must be [Cout, Cin/groups, kH, kW], got ${shapeToString(wShape)}`);
  const [n, cin, h, w] = xShape;
  const [cout, cinG, kh, kw] = wShape;
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1)
    throw new RangeError(`${op}: groups must be a positive integer, got ${groups}`);
  if (cin % groups !== 0 || cout % groups !== 0)
    throw new RangeError(`${op}: in channels ${cin} and out channels ${cout} must be divisible by groups ${groups}`);
  if (cinG * groups !== cin)
    throw new RangeError(
      `${op}: input ${shapeToString(xShape)} has ${cin} channels but weight ${shapeToString(wShape)} expects ${cinG * groups} (${cinG} per group x ${groups} groups)`,
    );
  if (kh < 1 || kw < 1 || cout < 1)
    throw new RangeError(`${op}: weight ${shapeToString(wShape)} has an empty kernel or no output channels`);
  const stride = pair(op, options.stride, 'stride', 1);
  const dilation = pair(op, options.dilation, 'dilation', 1);
  const [pt, pl, pb, pr] = resolvePadding(op, options.padding, h, w, [kh, kw], stride, dilation);
  const eh = dilation[0] * (kh - 1) + 1;
  const ew = dilation[1] * (kw - 1) + 1;
  if (eh > h + pt + pb || ew > w + pl + pr)
    throw new RangeError(
      `${op}: kernel ${kh}x${kw} (dilation ${dilation[0]}x${dilation[1]}) is larger than the padded input ${h + pt + pb}x${w + pl + pr} (input ${shapeToString(xShape)})`,
    );
  const oh = Math.floor((h + pt + pb - eh) / stride[0]) + 1;
  const ow = Math.floor((w + pl + pr - ew) / stride[1]) + 1;
  return {
    geometry: [n, cin, h, w, cout, kh, kw, stride[0], stride[1], pt, pl, pb, pr, dilation[0], dilation[1], groups],
    outShape: [n, cout, oh, ow],
  };
}

/**
 * 2-D convolution (PyTorch's F.conv2d) with an optional fused activation: x [N, Cin, H, W],
 * weight [Cout, Cin/groups, kH, kW], bias [Cout] or null.
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: Conv2dOptions = {}): Tensor {
  checkOptionKeys('conv2d', options, CONV2D_KEYS);
  const xd = floatData('conv2d', x, 'input');
  const wd = floatData('conv2d', weight, 'weight');
  const bd = bias === null ? null : floatData('conv2d', bias, 'bias');
  const plan = convPlan('conv2d', x.shape, weight.shape, options);
  if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== weight.shape[0]))
    throw new RangeError(`conv2d: bias must be [${weight.shape[0]}], got ${shapeToString(bias.shape)}`);
  const act = activationPlan('conv2d', options.activation ?? 'none', options.activationParam);
  const fused = act.fused ?? UnaryCode.Identity;
  const out = Tensor.output(plan.outShape);
  const yd = out.data as Float32Array;
  if (yd.length > 0) native.conv2d(xd, wd, bd, plan.geometry, fused, act.param, yd);
  const y = record(out, 'conv2d', [x, weight, bias], (g) => {
    let gd = g.data as Float32Array;
    if (fused !== UnaryCode.Identity && !(fused === UnaryCode.Relu && isReluMasked(g))) {
      // Overwritten whole by the kernel: not re-zeroed when a recorded step replays.
      const pre = Tensor.output(out.shape).data as Float32Array;
      native.unaryBackward(fused, yd, yd, gd, pre, act.param, true);
      gd = pre;
    }
    const dx = x.requiresGrad ? Tensor.empty(x.shape) : null;
    if (dx && dx.size > 0 && gd.length > 0) native.conv2dBackwardData(gd, wd, plan.geometry, dx.data as Float32Array);
    const dw = weight.requiresGrad ? Tensor.empty(weight.shape) : null;
    const db = bias?.requiresGrad ? Tensor.empty(bias.shape) : null;
    if ((dw || db) && gd.length > 0)
      native.conv2dBackwardWeight(
        xd,
        gd,
        plan.geometry,
        (dw ?? Tensor.empty(weight.shape)).data as Float32Array,
        db ? (db.data as Float32Array) : null,
      );
    return [dx, dw, db];
  });
  if (fused === UnaryCode.Relu) markReluOutput(y);
  return act.separate === null ? y : unaryOp(options.activation as string, act.separate, y, act.param);
}

export interface Conv1dOptions {
  stride?: number;
  padding?: 'valid' | 'same' | number | readonly [number, number];
  dilation?: number;
  groups?: number;
  activation?: LinearActivation;
  activationParam?: number;
}
const CONV1D_KEYS = optionKeys<Conv1dOptions>({
  stride: true,
  padding: true,
  dilation: true,
  groups: true,
  activation: true,
  activationParam: true,
});

/** 1-D convolution: x [N, Cin, L], weight [Cout, Cin/groups, k]; runs as conv2d with H = 1. */
export function conv1d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: Conv1dOptions = {}): Tensor {
  checkOptionKeys('conv1d', options, CONV1D_KEYS);
  if (x.ndim !== 3) throw new RangeError(`conv1d: input must be [N, C, L], got ${shapeToString(x.shape)}`);
  if (weight.ndim !== 3)
    throw new RangeError(`conv1d: weight must be [Cout, Cin/groups, k], got ${shapeToString(weight.shape)}`);
  const p = options.padding;
  const padding: Padding =
    p === undefined || p === 'valid'
      ? 'valid'
      : p === 'same'
        ? 'same'
        : typeof p === 'number'
          ? [0, p, 0, p]
          : [0, p[0], 0, p[1]];
  const y = conv2d(
    reshape(x, [x.shape[0], x.shape[1], 1, x.shape[2]]),
    reshape(weight, [...weight.shape.slice(0, 2), 1, weight.shape[2]]),
    bias,
    {
      stride: [1, options.stride ?? 1],
      dilation: [1, options.dilation ?? 1],
      padding,
      groups: options.groups,
      activation: options.activation,
      activationParam: options.activationParam,
    },
  );
  return reshape(y, [y.shape[0], y.shape[1], y.shape[3]]);
}

export interface ConvTranspose2dOptions {
  stride?: Pair;
  /** Removed from each side of the full output (PyTorch's padding): a number or [h, w]. */
  padding?: Pair;
  /** Added to the bottom/right of the output size (PyTorch's output_padding). */
  outputPadding?: Pair;
  dilation?: Pair;
  groups?: number;
}
const CONV_TRANSPOSE2D_KEYS = optionKeys<ConvTranspose2dOptions>({
  stride: true,
  padding: true,
  outputPadding: true,
  dilation: true,
  groups: true,
});

/**
 * Transposed convolution (PyTorch's F.conv_transpose2d): x [N, Cin, H, W], weight
 * [Cin, Cout/groups, kH, kW], output [N, Cout, (H-1)s - 2p + d(k-1) + op + 1, ...].
 */
export function convTranspose2d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  options: ConvTranspose2dOptions = {},
): Tensor {
  const op = 'convTranspose2d';
  checkOptionKeys(op, options, CONV_TRANSPOSE2D_KEYS);
  const xd = floatData(op, x, 'input');
  const wd = floatData(op, weight, 'weight');
  const bd = bias === null ? null : floatData(op, bias, 'bias');
  if (x.ndim !== 4) throw new RangeError(`${op}: input must be [N, C, H, W], got ${shapeToString(x.shape)}`);
  if (weight.ndim !== 4)
    throw new RangeError(`${op}: weight must be [Cin, Cout/groups, kH, kW], got ${shapeToString(weight.shape)}`);
  const groups = options.groups ?? 1;
  const [n, cin, h, w] = x.shape;
  const [wcin, coutG, kh, kw] = weight.shape;
  if (wcin !== cin)
    throw new RangeError(
      `${op}: input ${shapeToString(x.shape)} has ${cin} channels, weight ${shapeToString(weight.shape)} expects ${wcin}`,
    );
  const stride = pair(op, options.stride, 'stride', 1);
  const padding = pair(op, options.padding, 'padding', 0, 0);
  const outPad = pair(op, options.outputPadding, 'outputPadding', 0, 0);
  const dilation = pair(op, options.dilation, 'dilation', 1);
  if (outPad[0] >= Math.max(stride[0], dilation[0]) || outPad[1] >= Math.max(stride[1], dilation[1]))
    throw new RangeError(`${op}: outputPadding ${JSON.stringify(outPad)} must be smaller than stride or dilation`);
  const cout = coutG * groups;
  const oh = (h - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kh - 1) + outPad[0] + 1;
  const ow = (w - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kw - 1) + outPad[1] + 1;
  if (oh < 1 || ow < 1)
    throw new RangeError(`${op}: the output would be ${oh}x${ow} for input ${shapeToString(x.shape)}`);
  if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== cout))
    throw new RangeError(`${op}: bias must be [${cout}], got ${shapeToString(bias.shape)}`);
  // The mirrored convolution: input = our output (cout channels), output = our input. Rows
  // and columns past the last window (output_padding beyond padding) receive nothing: the
  // mirrored input is the output cropped by them, and they stay zero (plus the bias).
  const cropH = Math.max(0, outPad[0] - padding[0]);
  const cropW = Math.max(0, outPad[1] - padding[1]);
  const ohc = oh - cropH;
  const owc = ow - cropW;
  const mirror = convPlan(op, [n, cout, ohc, owc], [cin, coutG, kh, kw], {
    stride,
    dilation,
    groups,
    padding: [padding[0], padding[1], padding[0] - outPad[0] + cropH, padding[1] - outPad[1] + cropW],
  });
  if (mirror.outShape[2] !== h || mirror.outShape[3] !== w)
    throw new RangeError(`${op}: padding ${JSON.stringify(padding)} is too large for input ${shapeToString(x.shape)}`);
  const cropped = cropH > 0 || cropW > 0;
  const cShape = [n, cout, ohc, owc];
  const out = Tensor.empty([n, cout, oh, ow]);
  const yd = out.data as Float32Array;
  const zero4 = [0, 0, 0, 0];
  const one4 = [1, 1, 1, 1];
  if (yd.length > 0 && xd.length > 0) {
    if (!cropped) native.conv2dBackwardData(xd, wd, mirror.geometry, yd);
    else {
      // Kernel calls only (a recorded step replays native calls, not JS loops).
      const tmp = Tensor.empty(cShape).data as Float32Array;
      native.conv2dBackwardData(xd, wd, mirror.geometry, tmp);
      native.sliceBackward(tmp, cShape, zero4, one4, out.shape, yd);
    }
  }
  if (bd && yd.length > 0) native.binary(BinaryCode.Add, yd, out.shape, bd, [1, cout, 1, 1], yd, out.shape);
  return record(out, op, [x, weight, bias], (g) => {
    let gd = g.data as Float32Array;
    const full = gd;
    if (cropped) {
      const c = Tensor.output(cShape).data as Float32Array;
      native.sliceCopy(gd, out.shape, zero4, one4, cShape, c);
      gd = c;
    }
    const dx = x.requiresGrad ? Tensor.output(x.shape) : null;
    if (dx && dx.size > 0) native.conv2d(gd, wd, null, mirror.geometry, UnaryCode.Identity, 0, dx.data as Float32Array);
    const dw = weight.requiresGrad ? Tensor.empty(weight.shape) : null;
    if (dw && gd.length > 0) native.conv2dBackwardWeight(gd, xd, mirror.geometry, dw.data as Float32Array, null);
    const db = bias?.requiresGrad ? Tensor.output(bias.shape) : null;
    if (db && full.length > 0) native.sumToShape(full, out.shape, db.data as Float32Array, [1, cout, 1, 1]);
    return [dx, dw, db];
  });
}

// ---- pooling ----------------------------------------------------------------------------------

export interface Pool2dOptions {
  /** Default: the kernel size. */
  stride?: Pair;
  /** Zero (max: -inf) padding on both sides, at most half the kernel. */
  padding?: Pair;
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
): { geometry: number[]; outShape: number[] } {
  if (x.ndim !== 4 && x.ndim !== 3)
    throw new RangeError(`${op}: input must be [N, C, H, W] or [C, H, W], got ${shapeToString(x.shape)}`);
  const k = pair(op, kernel, 'kernelSize', 1);
  const s = pair(op, options.stride ?? k, 'stride', 1);
  const p = pair(op, options.padding, 'padding', 0, 0);
  const d = pair(op, options.dilation, 'dilation', 1);
  const [h, w] = x.shape.slice(-2);
  if (2 * p[0] > k[0] || 2 * p[1] > k[1])
    throw new RangeError(`${op}: padding ${JSON.stringify(p)} must be at most half the kernel ${JSON.stringify(k)}`);
  const size = (n: number, kk: number, ss: number, pp: number, dd: number): number => {
    const span = n + 2 * pp - dd * (kk - 1) - 1;
    if (span < 0) return 0;
    let out = (options.ceilMode ? Math.ceil(span / ss) : Math.floor(span / ss)) + 1;
    if (options.ceilMode && (out - 1) * ss >= n + pp) out--;
    return out;
  };
  const oh = size(h, k[0], s[0], p[0], d[0]);
  const ow = size(w, k[1], s[1], p[1], d[1]);
  if (oh < 1 || ow < 1)
    throw new RangeError(
      `${op}: window ${k[0]}x${k[1]} does not fit input ${shapeToString(x.shape)} with padding ${JSON.stringify(p)}`,
    );
  const planes = numel(x.shape.slice(0, -2));
  return {
    geometry: [
      planes,
      h,
      w,
      k[0],
      k[1],
      s[0],
      s[1],
      p[0],
      p[1],
      p[0],
      p[1],
      d[0],
      d[1],
      options.ceilMode ? 1 : 0,
      (options.countIncludePad ?? true) ? 1 : 0,
    ],
    outShape: [...x.shape.slice(0, -2), oh, ow],
  };
}

/** Max pooling over the last two axes (PyTorch's F.max_pool2d). */
export function maxPool2d(x: Tensor, kernelSize: Pair, options: Pool2dOptions = {}): Tensor {
  checkOptionKeys('maxPool2d', options, POOL2D_KEYS);
  const xd = floatData('maxPool2d', x);
  const plan = poolPlan('maxPool2d', x, kernelSize, options);
  const out = Tensor.output(plan.outShape);
  // The argmax indices are kept for the backward (int32, one per output).
  reserveActivation(out.size);
  const index = new Int32Array(out.size);
  if (out.size > 0) native.maxPool2d(xd, plan.geometry, out.data as Float32Array, index);
  // After a relu, the pooled maxima say where the relu passes gradient (src/ops/util.ts).
  const reluMask = isReluOutput(x) ? (out.data as Float32Array) : null;
  return record(out, 'maxPool2d', [x], (g) => {
    const dx = Tensor.output(x.shape);
    if (g.size > 0)
      native.maxPool2dBackward(index, g.data as Float32Array, plan.geometry, dx.data as Float32Array, true, reluMask);
    if (reluMask) markReluMasked(dx);
    return [dx];
  });
}

/** Average pooling over the last two axes (PyTorch's F.avg_pool2d). */
export function avgPool2d(x: Tensor, kernelSize: Pair, options: Pool2dOptions = {}): Tensor {
  checkOptionKeys('avgPool2d', options, POOL2D_KEYS);
  const xd = floatData('avgPool2d', x);
  if (options.dilation !== undefined) throw new RangeError('avgPool2d: average pooling has no dilation');
  const plan = poolPlan('avgPool2d', x, kernelSize, options);
  const out = Tensor.output(plan.outShape);
  if (out.size > 0) native.avgPool2d(xd, plan.geometry, out.data as Float32Array);
  return record(out, 'avgPool2d', [x], (g) => {
    const dx = Tensor.empty(x.shape);
    if (g.size > 0) native.avgPool2dBackward(g.data as Float32Array, plan.geometry, dx.data as Float32Array);
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
  const geometry = [planes, h, w, oh, ow];
  const out = Tensor.output([...x.shape.slice(0, -2), oh, ow]);
  if (out.size > 0) native.adaptiveAvgPool2d(xd, geometry, out.data as Float32Array);
  return record(out, 'adaptiveAvgPool2d', [x], (g) => {
    const dx = Tensor.empty(x.shape);
    if (g.size > 0) native.adaptiveAvgPool2dBackward(g.data as Float32Array, geometry, dx.data as Float32Array);
    return [dx];
  });
}

/** Mean over the spatial axes: [N, C, H, W] -> [N, C] (global average pooling). */
export function globalAvgPool2d(x: Tensor): Tensor {
  if (x.ndim !== 4) throw new RangeError(`globalAvgPool2d: input must be [N, C, H, W], got ${shapeToString(x.shape)}`);
  const y = adaptiveAvgPool2d(x, 1);
  return reshape(y, [x.shape[0], x.shape[1]]);
}

// ---- normalisation ------------------------------------------------------------------------------

export interface BatchNormOptions {
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  weight?: Tensor | null;
  bias?: Tensor | null;
  /** Batch statistics (and update the running ones) when true; running statistics when false. */
  training?: boolean;
  momentum?: number;
  eps?: number;
}
const BATCH_NORM_KEYS = optionKeys<BatchNormOptions>({
  runningMean: true,
  runningVar: true,
  weight: true,
  bias: true,
  training: true,
  momentum: true,
  eps: true,
});

/** Batch normalisation over axis 1 of [N, C], [N, C, L] or [N, C, H, W] (F.batch_norm). */
export function batchNorm(x: Tensor, options: BatchNormOptions = {}): Tensor {
  const op = 'batchNorm';
  checkOptionKeys(op, options, BATCH_NORM_KEYS);
  numberOption(op, 'eps', options.eps, 1e-5, Number.MIN_VALUE, Number.MAX_VALUE);
  numberOption(op, 'momentum', options.momentum, 0.1, 0, 1);
  const xd = floatData(op, x);
  if (x.ndim < 2) throw new RangeError(`${op}: input must be [N, C, ...], got ${shapeToString(x.shape)}`);
  const [n, c] = x.shape;
  const s = numel(x.shape.slice(2));
  const vec = (t: Tensor | null | undefined, name: string): Float32Array | null => {
    if (!t) return null;
    const d = floatData(op, t, name);
    if (t.size !== c)
      throw new RangeError(
        `${op}: ${name} must have ${c} values (one per channel of ${shapeToString(x.shape)}), got ${shapeToString(t.shape)}`,
      );
    return d;
  };
  const gamma = vec(options.weight, 'weight');
  const beta = vec(options.bias, 'bias');
  const rm = vec(options.runningMean, 'runningMean');
  const rv = vec(options.runningVar, 'runningVar');
  const training = options.training ?? true;
  if (training && n * s < 2)
    throw new RangeError(`${op}: training needs more than one value per channel, got input ${shapeToString(x.shape)}`);
  const out = Tensor.output(x.shape);
  const saveMean = new Float32Array(c);
  const saveInvstd = new Float32Array(c);
  const dims = [n, c, s];
  native.batchNorm(
    xd,
    gamma,
    beta,
    rm,
    rv,
    dims,
    options.eps ?? 1e-5,
    options.momentum ?? 0.1,
    training,
    out.data as Float32Array,
    saveMean,
    saveInvstd,
  );
  const weight = options.weight ?? null;
  const bias = options.bias ?? null;
  return record(out, op, [x, weight, bias], (g) => {
    const dx = x.requiresGrad ? Tensor.empty(x.shape) : null;
    const dg = weight?.requiresGrad ? Tensor.empty(weight.shape) : null;
    const db = bias?.requiresGrad ? Tensor.empty(bias.shape) : null;
    native.batchNormBackward(
      xd,
      g.data as Float32Array,
      gamma,
      saveMean,
      saveInvstd,
      dims,
      training,
      dx ? (dx.data as Float32Array) : null,
      dg ? (dg.data as Float32Array) : null,
      db ? (db.data as Float32Array) : null,
    );
    return [dx, dg, db];
  });
}

/** Layer normalisation over the trailing axes `normalizedShape` (F.layer_norm). */
export function layerNorm(
  x: Tensor,
  normalizedShape: readonly number[],
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  eps = 1e-5,
): Tensor {
  const op = 'layerNorm';
  const xd = floatData(op, x);
  const k = normalizedShape.length;
  if (k === 0 || k > x.ndim || !normalizedShape.every((d, i) => d === x.shape[x.ndim - k + i]))
    throw new RangeError(
      `${op}: normalizedShape ${shapeToString(normalizedShape)} must be the trailing axes of ${shapeToString(x.shape)}`,
    );
  const d = numel(normalizedShape);
  const rows = d === 0 ? 0 : x.size / d;
  const vec = (t: Tensor | null, name: string): Float32Array | null => {
    if (!t) return null;
    const v = floatData(op, t, name);
    if (t.size !== d)
      throw new RangeError(
        `${op}: ${name} must have shape ${shapeToString(normalizedShape)}, got ${shapeToString(t.shape)}`,
      );
    return v;
  };
  const gamma = vec(weight, 'weight');
  const beta = vec(bias, 'bias');
  const out = Tensor.output(x.shape);
  const saveMean = new Float32Array(rows);
  const saveInvstd = new Float32Array(rows);
  if (d > 0) native.layerNorm(xd, gamma, beta, rows, d, eps, out.data as Float32Array, saveMean, saveInvstd);
  return record(out, op, [x, weight, bias], (g) => {
    const dx = x.requiresGrad ? Tensor.empty(x.shape) : null;
    const dg = weight?.requiresGrad ? Tensor.empty(weight.shape) : null;
    const db = bias?.requiresGrad ? Tensor.empty(bias.shape) : null;
    if (d > 0)
      native.layerNormBackward(
        xd,
        g.data as Float32Array,
        gamma,
        saveMean,
        saveInvstd,
        rows,
        d,
        dx ? (dx.data as Float32Array) : null,
        dg ? (dg.data as Float32Array) : null,
        db ? (db.data as Float32Array) : null,
      );
    return [dx, dg, db];
  });
}
