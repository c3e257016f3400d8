/**
 * Convolution ops with autograd, NCHW as PyTorch (weights
 * [Cout, Cin/groups, kH, kW]). Each forward is one native kernel; each backward one or two.
 * Geometry is checked here (clear errors naming the op and the shapes) and again natively.
 *
 * Conv1d runs as conv2d on [N, C, 1, L]; ConvTranspose2d's forward is conv2d's data gradient
 * (its weight [Cin, Cout/groups, kH, kW] is the mirrored convolution's), so the three conv
 * kernels serve all five directions.
 */
import { record, type BackwardFusion } from '../autograd/engine.js';
import { BinaryCode, UnaryCode, type ConvGeometry } from '../native/binding.js';
import { kernels } from '../native/executor.js';
import { shapeToString } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { unaryOp } from './elementwise.js';
import { activationPlan, type LinearActivation } from './linalg.js';
import { reshape } from './layout.js';
import { checkOptionKeys, optionKeys } from '../options.js';
import { floatData } from './util.js';

/**
 * A 2-D size such as a kernel size, stride or dilation: one number for both axes, or
 * [height, width].
 *
 * @example
 * ```ts
 * import { maxPool2d, randn, type Pair } from 'axon-nn';
 * const window: Pair = [2, 3];
 * const y = maxPool2d(randn([1, 4, 8, 9]), window); // [1, 4, 4, 3]
 * ```
 */
export type Pair = number | readonly [number, number];
/**
 * A convolution's padding: 'valid' (none), 'same' (output size ceil(in / stride), extra on the
 * bottom/right as TensorFlow), a number or [h, w] (both sides), or [top, left, bottom, right].
 *
 * @example
 * ```ts
 * import { conv2d, randn, type Padding } from 'axon-nn';
 * const padding: Padding = 'same';
 * const y = conv2d(randn([1, 3, 28, 28]), randn([16, 3, 5, 5]), null, { padding }); // [1, 16, 28, 28]
 * ```
 */
export type Padding = 'valid' | 'same' | number | readonly [number, number] | readonly [number, number, number, number];

/**
 * conv2d()'s options: the geometry (stride, padding, dilation, groups) and an activation fused
 * into the output. Unknown keys are refused with a TypeError.
 *
 * @example
 * ```ts
 * import { conv2d, randn, type Conv2dOptions } from 'axon-nn';
 * const options: Conv2dOptions = { stride: 2, padding: 1, activation: 'relu' };
 * const y = conv2d(randn([4, 3, 32, 32]), randn([8, 3, 3, 3]), null, options); // [4, 8, 16, 16]
 * ```
 */
export interface Conv2dOptions {
  /** Step between windows: a number or [h, w] (default 1). */
  stride?: Pair;
  /** Zero padding of the input (default 'valid': none). */
  padding?: Padding;
  /** Spacing between kernel taps: a number or [h, w] (default 1). */
  dilation?: Pair;
  /** Channel groups (default 1); both channel counts must be divisible by it. */
  groups?: number;
  /** Activation applied to the output, fused into the kernel's store where possible. */
  activation?: LinearActivation;
  /** leakyRelu's slope, elu's alpha or softplus's beta (defaults 0.01, 1, 1). */
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

/** A Pair as [height, width], each an integer >= min (pooling uses it too). */
export function pair(op: string, v: Pair | undefined, name: string, fallback: number, min = 1): [number, number] {
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

/** The checked geometry the native conv ops take, and the output shape. */
export interface ConvPlan {
  geometry: ConvGeometry;
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
    geometry: {
      n,
      cIn: cin,
      h,
      w,
      cOut: cout,
      kH: kh,
      kW: kw,
      strideH: stride[0],
      strideW: stride[1],
      padTop: pt,
      padLeft: pl,
      padBottom: pb,
      padRight: pr,
      dilH: dilation[0],
      dilW: dilation[1],
      groups,
    },
    outShape: [n, cout, oh, ow],
  };
}

/**
 * 2-D convolution (PyTorch's F.conv2d) with an optional fused activation: x [N, Cin, H, W],
 * weight [Cout, Cin/groups, kH, kW], bias [Cout] or null; output [N, Cout, outH, outW].
 * @throws RangeError when the shapes, geometry or activation do not fit; TypeError for int32 or
 *   unknown options.
 * @example
 * ```ts
 * import { conv2d, randn, zeros } from 'axon-nn';
 * const x = randn([8, 3, 32, 32]);
 * const weight = randn([16, 3, 3, 3], { std: 0.1 }).setRequiresGrad();
 * const bias = zeros([16], { requiresGrad: true });
 * const y = conv2d(x, weight, bias, { padding: 1 }); // [8, 16, 32, 32]
 * ```
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
  const out = Tensor.empty(plan.outShape);
  const yd = out.data as Float32Array;
  if (yd.length > 0) kernels.conv2d(xd, wd, bd, plan.geometry, fused, act.param, yd);
  const backward = (g: Tensor, fusion: BackwardFusion): (Tensor | null)[] => {
    let gd = g.data as Float32Array;
    // Unless a max pool applied the relu's gradient already (engine.ts).
    if (fused !== UnaryCode.Identity && !fusion.reluApplied) {
      const pre = Tensor.empty(out.shape).data as Float32Array;
      kernels.unaryBackward(fused, yd, yd, gd, pre, act.param);
      gd = pre;
    }
    const dx = x.requiresGrad ? Tensor.empty(x.shape) : null;
    if (dx && dx.size > 0 && gd.length > 0)
      kernels.conv2dBackwardData(gd, wd, plan.geometry, dx.data as Float32Array, true);
    const dw = weight.requiresGrad ? Tensor.empty(weight.shape) : null;
    const db = bias?.requiresGrad ? Tensor.empty(bias.shape) : null;
    if ((dw || db) && gd.length > 0)
      kernels.conv2dBackwardWeight(
        xd,
        gd,
        plan.geometry,
        (dw ?? Tensor.empty(weight.shape)).data as Float32Array,
        db ? (db.data as Float32Array) : null,
      );
    return [dx, dw, db];
  };
  const y = record(out, 'conv2d', [x, weight, bias], backward, { reluOutput: fused === UnaryCode.Relu });
  return act.separate === null ? y : unaryOp(options.activation as string, act.separate, y, act.param);
}

/**
 * conv1d()'s options (exported as `Conv1dFunctionOptions`; the layer's are `Conv1dOptions`):
 * the 1-D geometry and a fused activation.
 *
 * @example
 * ```ts
 * import { conv1d, randn, type Conv1dFunctionOptions } from 'axon-nn';
 * const options: Conv1dFunctionOptions = { padding: 'same', dilation: 2 };
 * const y = conv1d(randn([2, 4, 50]), randn([6, 4, 3]), null, options); // [2, 6, 50]
 * ```
 */
export interface Conv1dOptions {
  /** Step between windows (default 1). */
  stride?: number;
  /** 'valid' (default), 'same', a number for both ends, or [left, right]. */
  padding?: 'valid' | 'same' | number | readonly [number, number];
  /** Spacing between kernel taps (default 1). */
  dilation?: number;
  /** Channel groups (default 1). */
  groups?: number;
  /** Activation applied to the output, fused into the kernel's store where possible. */
  activation?: LinearActivation;
  /** leakyRelu's slope, elu's alpha or softplus's beta (defaults 0.01, 1, 1). */
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

/** A 1-D padding (both sides, or [left, right]) as the conv2d padding of its [N, C, 1, L] lift. */
export function conv1dPadding(p: Conv1dOptions['padding']): Padding {
  if (p === undefined || p === 'valid') return 'valid';
  if (p === 'same') return 'same';
  return typeof p === 'number' ? [0, p, 0, p] : [0, p[0], 0, p[1]];
}

/**
 * 1-D convolution (PyTorch's F.conv1d): x [N, Cin, L], weight [Cout, Cin/groups, k], bias
 * [Cout] or null; output [N, Cout, outL]. Runs as conv2d with H = 1, with the same errors.
 * @example
 * ```ts
 * import { conv1d, randn } from 'axon-nn';
 * const signal = randn([2, 1, 100]);
 * const kernel = randn([4, 1, 5]);
 * const y = conv1d(signal, kernel, null, { stride: 2 }); // [2, 4, 48]
 * ```
 */
export function conv1d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: Conv1dOptions = {}): Tensor {
  checkOptionKeys('conv1d', options, CONV1D_KEYS);
  if (x.ndim !== 3) throw new RangeError(`conv1d: input must be [N, C, L], got ${shapeToString(x.shape)}`);
  if (weight.ndim !== 3)
    throw new RangeError(`conv1d: weight must be [Cout, Cin/groups, k], got ${shapeToString(weight.shape)}`);
  const padding = conv1dPadding(options.padding);
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

/**
 * convTranspose2d()'s options, with PyTorch's meanings (padding removes, outputPadding adds).
 *
 * @example
 * ```ts
 * import { convTranspose2d, randn, type ConvTranspose2dOptions } from 'axon-nn';
 * const options: ConvTranspose2dOptions = { stride: 2, padding: 1, outputPadding: 1 };
 * const y = convTranspose2d(randn([1, 16, 8, 8]), randn([16, 8, 3, 3]), null, options); // [1, 8, 16, 16]
 * ```
 */
export interface ConvTranspose2dOptions {
  /** Upsampling step: a number or [h, w] (default 1). */
  stride?: Pair;
  /** Removed from each side of the full output (PyTorch's padding): a number or [h, w]. */
  padding?: Pair;
  /** Added to the bottom/right of the output size (PyTorch's output_padding). */
  outputPadding?: Pair;
  /** Spacing between kernel taps: a number or [h, w] (default 1). */
  dilation?: Pair;
  /** Channel groups (default 1). */
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
 * [Cin, Cout/groups, kH, kW], bias [Cout] or null, output [N, Cout, (H-1)s - 2p + d(k-1) + op + 1, ...].
 * @throws RangeError when the shapes or geometry do not fit (outputPadding must be smaller than
 *   stride or dilation).
 * @example
 * ```ts
 * import { convTranspose2d, randn } from 'axon-nn';
 * const x = randn([1, 8, 7, 7]);
 * const weight = randn([8, 4, 2, 2]);
 * const up = convTranspose2d(x, weight, null, { stride: 2 }); // [1, 4, 14, 14]
 * ```
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
    if (!cropped) kernels.conv2dBackwardData(xd, wd, mirror.geometry, yd, true);
    else {
      // Kernel calls only (a recorded step replays native calls, not JS loops).
      const tmp = Tensor.empty(cShape).data as Float32Array;
      kernels.conv2dBackwardData(xd, wd, mirror.geometry, tmp, true);
      kernels.sliceBackward(tmp, cShape, zero4, one4, out.shape, yd);
    }
  }
  if (bd && yd.length > 0) kernels.binary(BinaryCode.Add, yd, out.shape, bd, [1, cout, 1, 1], yd, out.shape);
  return record(out, op, [x, weight, bias], (g) => {
    let gd = g.data as Float32Array;
    const full = gd;
    if (cropped) {
      const c = Tensor.empty(cShape).data as Float32Array;
      kernels.sliceCopy(gd, out.shape, zero4, one4, cShape, c);
      gd = c;
    }
    const dx = x.requiresGrad ? Tensor.empty(x.shape) : null;
    if (dx && dx.size > 0)
      kernels.conv2d(gd, wd, null, mirror.geometry, UnaryCode.Identity, 0, dx.data as Float32Array);
    const dw = weight.requiresGrad ? Tensor.empty(weight.shape) : null;
    if (dw && gd.length > 0) kernels.conv2dBackwardWeight(gd, xd, mirror.geometry, dw.data as Float32Array, null);
    const db = bias?.requiresGrad ? Tensor.empty(bias.shape) : null;
    if (db && full.length > 0) kernels.sumToShape(full, out.shape, db.data as Float32Array, [1, cout, 1, 1]);
    return [dx, dw, db];
  });
}
