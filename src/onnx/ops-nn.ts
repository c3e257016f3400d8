/**
 * Neural-network ONNX operators on our kernels: Gemm, MatMul, Conv, ConvTranspose, the pools,
 * the normalisations, Softmax/LogSoftmax, the reductions, ArgMax/ArgMin and the recurrent
 * layers (LSTM, GRU, RNN). Options our kernels lack are refused by name, never ignored.
 */
import { leakyRelu, logSoftmax, relu, softmax } from '../ops/activation.js';
import { sigmoid, tanh } from '../ops/activations.gen.js';
import { conv2d, convTranspose2d } from '../ops/conv.js';
import { avgPool3d, conv3d, convTranspose3d, maxPool3d, type Pool3dOptions, type Triple } from '../ops/conv3d.js';
import { abs, add, cast as castTensor, div, exp, less, log, mul, reciprocal, sqrt, sub } from '../ops/elementwise.js';
import { fusedAttention } from '../ops/attention.js';
import { concat, index, permute, reshape, squeeze, unsqueeze } from '../ops/layout.js';
import { linear, matmul } from '../ops/linalg.js';
import { batchNorm, layerNorm } from '../ops/norm.js';
import { avgPool2d, maxPool2d, maxPool2dWithIndices } from '../ops/pool.js';
import { embedding } from '../ops/rnn.js';
import { argmax, argmin, max, mean, min, sum } from '../ops/reduce.js';
import { Tensor } from '../tensor/tensor.js';
import type { OpContext, OpImpl } from './context.js';
import { reduceHost, sizeOf } from './host.js';
import { dynIntValue, floatValue, intValue, type Value } from './value.js';

type Pads6 = [number, number, number, number, number, number];
/** A 3-entry attribute (checked by spatial()) as conv3d's per-axis triple. */
const triple3 = (v: number[]): Triple => [v[0], v[1], v[2]];
/** ONNX's 6 pads (begin d, h, w, end d, h, w), as conv3d takes them. */
const pads6 = (p: number[]): Pads6 => [p[0], p[1], p[2], p[3], p[4], p[5]];

function transposed(t: Tensor): Tensor {
  return permute(t, [1, 0]);
}

const gemm: OpImpl = (c) => {
  const a = c.floatInput(0, 'A');
  const b = c.floatInput(1, 'B');
  const cv = c.optional(2);
  const bias = cv ? c.floatInput(2, 'C') : null;
  const transA = c.int('transA', 0) === 1;
  const transB = c.int('transB', 0) === 1;
  const alpha = c.float('alpha', 1);
  const beta = c.float('beta', 1);
  if (a.ndim !== 2 || b.ndim !== 2) throw c.error(`A and B must be matrices, got [${a.shape}] and [${b.shape}]`);
  const A = transA ? transposed(a) : a;
  const n = transB ? b.shape[0] : b.shape[1];
  // The dense layer's form (x W^T + b): one GEMM with the bias in its epilogue.
  const act = activationOf(c);
  if (transB && alpha === 1 && (bias === null || (beta === 1 && bias.size === n && bias.shape[bias.ndim - 1] === n)))
    return [floatValue(linear(A, b, bias === null ? null : reshape(bias, [n]), act.activation, act.activationParam))];
  let y = matmul(A, transB ? transposed(b) : b);
  if (alpha !== 1) y = mul(y, alpha);
  if (bias !== null && beta !== 0) y = add(y, beta === 1 ? bias : mul(bias, beta));
  return [floatValue(applyActivation(y, act))];
};

/** Spatial attributes of Conv/ConvTranspose/pools for `nd` spatial axes (1, 2 or 3). */
interface Spatial {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** [begin..., end...] */
  pads: number[];
}

function spatial(c: OpContext, inShape: readonly number[], kernel: number[]): Spatial {
  const nd = kernel.length;
  const strides = c.ints('strides') ?? new Array<number>(nd).fill(1);
  const dilations = c.ints('dilations') ?? new Array<number>(nd).fill(1);
  let pads = c.ints('pads') ?? new Array<number>(2 * nd).fill(0);
  if (strides.length !== nd || dilations.length !== nd || pads.length !== 2 * nd)
    throw c.error(`strides, dilations and pads must have ${nd}, ${nd} and ${2 * nd} entries`);
  if (
    [...strides, ...dilations].some((v) => !Number.isInteger(v) || v < 1) ||
    pads.some((v) => !Number.isInteger(v) || v < 0)
  )
    throw c.error(`invalid strides [${strides}], dilations [${dilations}] or pads [${pads}]`);
  const autoPad = c.string('auto_pad', 'NOTSET');
  if (autoPad === 'VALID') pads = new Array<number>(2 * nd).fill(0);
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = new Array<number>(2 * nd).fill(0);
    for (let i = 0; i < nd; i++) {
      const n = inShape[i];
      const out = Math.ceil(n / strides[i]);
      const total = Math.max((out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - n, 0);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[i + nd] = total - pads[i];
    }
  } else if (autoPad !== 'NOTSET')
    throw c.error(`auto_pad '${autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`);
  return { kernel, strides, dilations, pads };
}

/** Lifts a 1-D (N, C, L) input to 2-D (N, C, 1, L) so the 2-D kernels serve it. */
function as2d(x: Tensor): Tensor {
  return x.ndim === 3 ? unsqueeze(x, 2) : x;
}
/** A 1-D attribute lifted to (height, width): height gets `fill` (1 for sizes, 0 for pads). */
function pairOf(s: number[], fill = 1): [number, number] {
  return s.length === 1 ? [fill, s[0]] : [s[0], s[1]];
}
function pads4(p: number[]): [number, number, number, number] {
  return p.length === 2 ? [0, p[0], 0, p[1]] : [p[0], p[1], p[2], p[3]];
}

function checkRank(c: OpContext, x: Tensor, name = 'X'): void {
  if (x.ndim < 3 || x.ndim > 5)
    throw c.error(
      `input '${name}' must be [N, C, L], [N, C, H, W] or [N, C, D, H, W] (1-D, 2-D or 3-D), got [${x.shape.join(',')}]`,
    );
}

const conv: OpImpl = (c) => {
  const x = c.floatInput(0, 'X');
  const w = c.floatInput(1, 'W');
  checkRank(c, x);
  const bias = c.optional(2) ? c.floatInput(2, 'B') : null;
  const kernel = c.ints('kernel_shape') ?? w.shape.slice(2);
  if (w.ndim !== x.ndim || kernel.some((k, i) => k !== w.shape[2 + i]))
    throw c.error(`weight [${w.shape}] does not match input [${x.shape}] and kernel_shape [${kernel}]`);
  const s = spatial(c, x.shape.slice(2), kernel);
  if (x.ndim === 5) {
    const y3 = conv3d(x, w, bias, {
      stride: triple3(s.strides),
      dilation: triple3(s.dilations),
      padding: pads6(s.pads),
      groups: c.int('group', 1),
    });
    return [floatValue(applyActivation(y3, activationOf(c)))];
  }
  const y = conv2d(as2d(x), as2d(w), bias, {
    stride: pairOf(s.strides),
    dilation: pairOf(s.dilations),
    padding: pads4(s.pads),
    groups: c.int('group', 1),
    ...activationOf(c),
  });
  return [floatValue(x.ndim === 3 ? squeeze(y, 2) : y)];
};

function applyActivation(t: Tensor, act: ReturnType<typeof activationOf>): Tensor {
  switch (act.activation) {
    case 'relu':
      return relu(t);
    case 'sigmoid':
      return sigmoid(t);
    case 'tanh':
      return tanh(t);
    case 'leakyRelu':
      return leakyRelu(t, act.activationParam);
    default:
      return t;
  }
}

/** An activation fused into this node at load (graph.ts, fuseForInference). */
function activationOf(c: OpContext): {
  activation?: 'relu' | 'sigmoid' | 'tanh' | 'leakyRelu';
  activationParam?: number;
} {
  const a = c.node.attrs.get('axon_activation');
  if (!a || a.kind !== 'string') return {};
  const p = c.node.attrs.get('axon_activation_param');
  return { activation: a.value as 'relu', activationParam: p && p.kind === 'float' ? p.value : undefined };
}

const convTranspose: OpImpl = (c) => {
  const x = c.floatInput(0, 'X');
  const w = c.floatInput(1, 'W');
  checkRank(c, x);
  const bias = c.optional(2) ? c.floatInput(2, 'B') : null;
  const nd = x.ndim - 2;
  const kernel = c.ints('kernel_shape') ?? w.shape.slice(2);
  const group = c.int('group', 1);
  const strides = c.ints('strides') ?? new Array<number>(nd).fill(1);
  const dilations = c.ints('dilations') ?? new Array<number>(nd).fill(1);
  const outPad = [...(c.ints('output_padding') ?? new Array<number>(nd).fill(0))];
  let pads = c.ints('pads') ?? new Array<number>(2 * nd).fill(0);
  const full = x.shape.slice(2).map((n, i) => (n - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1);
  const outShape = c.ints('output_shape');
  const autoPad = c.string('auto_pad', 'NOTSET');
  if (outShape || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const target = outShape ? outShape.slice(-nd) : x.shape.slice(2).map((n, i) => n * strides[i]);
    pads = new Array<number>(2 * nd).fill(0);
    for (let i = 0; i < nd; i++) {
      const total = full[i] + outPad[i] - target[i];
      if (total < 0) {
        // A larger output_shape extends the end like output_padding (zeros plus the bias).
        outPad[i] -= total;
        continue;
      }
      const half = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? half : total - half;
      pads[i + nd] = total - pads[i];
    }
  } else if (autoPad === 'VALID') pads = new Array<number>(2 * nd).fill(0);
  if (nd === 3) {
    // The full output, extended by output_padding (or a larger output_shape), cropped per side.
    let y3 = convTranspose3d(x, w, null, { stride: triple3(strides), dilation: triple3(dilations), groups: group });
    for (let i = 0; i < 3; i++) y3 = growAxis(y3, 2 + i, outPad[i]);
    y3 = index(y3, [null, null, ...[0, 1, 2].map((i): [number, number] => [pads[i], y3.shape[2 + i] - pads[3 + i]])]);
    if (bias) y3 = add(y3, reshape(bias, [bias.size, 1, 1, 1]));
    return [floatValue(y3)];
  }
  const x2 = as2d(x);
  const w2 = as2d(w);
  const p4 = pads4(pads);
  const op2 = pairOf(outPad, 0);
  const s2 = pairOf(strides);
  const d2 = pairOf(dilations);
  let y: Tensor;
  if (p4[0] === p4[2] && p4[1] === p4[3] && op2[0] < Math.max(s2[0], d2[0]) && op2[1] < Math.max(s2[1], d2[1]))
    y = convTranspose2d(x2, w2, bias, {
      stride: s2,
      dilation: d2,
      padding: [p4[0], p4[1]],
      outputPadding: op2,
      groups: group,
    });
  else {
    // Asymmetric pads: the full output, extended by output_padding, cropped per side.
    y = convTranspose2d(x2, w2, null, { stride: s2, dilation: d2, groups: group });
    const [, , fh, fw] = y.shape;
    y = growAxis(growAxis(y, 2, op2[0]), 3, op2[1]);
    y = index(y, [null, null, [p4[0], fh + op2[0] - p4[2]], [p4[1], fw + op2[1] - p4[3]]]);
    if (bias) y = add(y, reshape(bias, [bias.size, 1, 1]));
  }
  return [floatValue(x.ndim === 3 ? squeeze(y, 2) : y)];
};

/** t with k zeros appended along `axis` (output_padding's extra positions). */
function growAxis(t: Tensor, axis: number, k: number): Tensor {
  if (k <= 0) return t;
  const shape = [...t.shape];
  shape[axis] = k;
  return concat([t, new Tensor(new Float32Array(sizeOf(shape)), shape)], axis);
}

/** A 3-D pool's kernel and options from the node's attributes. */
function pool3dCommon(c: OpContext, x: Tensor): { k: Triple; opts: Pool3dOptions } {
  const kernel = c.ints('kernel_shape');
  if (!kernel || kernel.length !== 3) throw c.error('kernel_shape must have 3 entries');
  const s = spatial(c, x.shape.slice(2), kernel);
  return {
    k: triple3(kernel),
    opts: {
      stride: triple3(s.strides),
      padding: pads6(s.pads),
      dilation: s.dilations.some((d) => d !== 1) ? triple3(s.dilations) : undefined,
      ceilMode: c.int('ceil_mode', 0) === 1,
    },
  };
}

function poolCommon(c: OpContext, x: Tensor): { k: [number, number]; opts: Parameters<typeof maxPool2d>[2] } {
  checkRank(c, x);
  const kernel = c.ints('kernel_shape');
  if (!kernel || kernel.length !== x.ndim - 2) throw c.error(`kernel_shape must have ${x.ndim - 2} entries`);
  const s = spatial(c, x.shape.slice(2), kernel);
  return {
    k: pairOf(kernel),
    opts: {
      stride: pairOf(s.strides),
      padding: pads4(s.pads),
      dilation: s.dilations.some((d) => d !== 1) ? pairOf(s.dilations) : undefined,
      ceilMode: c.int('ceil_mode', 0) === 1,
    },
  };
}

const maxPool: OpImpl = (c) => {
  // Integer inputs (8-bit images, opset 12) pool their float32 values, exact below 2^24, and
  // come back as their own type: a maximum only picks values.
  const input = c.input(0, 'X');
  const x = input.isFloat
    ? c.floatInput(0, 'X')
    : input.ints
      ? new Tensor(Float32Array.from(input.ints), input.shape)
      : castTensor(input.tensor as Tensor, 'float32');
  const out = (t: Tensor): Value => (input.isFloat ? floatValue(t) : dynIntValue(input.type, castTensor(t, 'int32')));
  if (x.ndim === 5) {
    if (c.node.outputs.length > 1 && c.node.outputs[1])
      throw c.error('the Indices output of a 3-D MaxPool is not supported (only 1-D and 2-D)');
    const p = pool3dCommon(c, x);
    return [out(maxPool3d(x, p.k, p.opts))];
  }
  const { k, opts } = poolCommon(c, x);
  const flat = (t: Tensor): Tensor => (x.ndim === 3 ? squeeze(t, 2) : t);
  if (!(c.node.outputs.length > 1 && c.node.outputs[1])) return [out(flat(maxPool2d(as2d(x), k, opts)))];
  // Indices: flat positions in the whole input, NCHW (storage_order 0) or NCWH (1); a 1-D
  // pool's [N, C, 1, L] lift leaves them the same.
  const columnMajor = c.int('storage_order', 0) === 1;
  const r = maxPool2dWithIndices(as2d(x), k, { ...opts, indices: columnMajor ? 'globalColumnMajor' : 'global' });
  return [out(flat(r.values)), dynIntValue('int64', flat(r.indices))];
};

const avgPool: OpImpl = (c) => {
  const x = c.floatInput(0, 'X');
  if (x.ndim === 5) {
    checkRank(c, x);
    const p = pool3dCommon(c, x);
    if (p.opts.dilation) throw c.error('dilations are not supported for average pooling');
    return [
      floatValue(
        avgPool3d(x, p.k, { ...p.opts, dilation: undefined, countIncludePad: c.int('count_include_pad', 0) === 1 }),
      ),
    ];
  }
  const { k, opts } = poolCommon(c, x);
  if (opts?.dilation) throw c.error('dilations are not supported for average pooling');
  const y = avgPool2d(as2d(x), k, {
    ...opts,
    dilation: undefined,
    countIncludePad: c.int('count_include_pad', 0) === 1,
  });
  return [floatValue(x.ndim === 3 ? squeeze(y, 2) : y)];
};

function globalPool(f: typeof mean): OpImpl {
  return (c) => {
    const x = c.floatInput(0, 'X');
    if (x.ndim < 3) throw c.error(`input must have spatial axes, got [${x.shape}]`);
    const axes = Array.from({ length: x.ndim - 2 }, (_, i) => i + 2);
    return [floatValue(f(x, axes, true))];
  };
}

/**
 * BatchNormalization with training_mode = 1 (opset 14+): Y from the batch's mean and biased
 * variance, and the running statistics as ONNX updates them, input * momentum + batch * (1 -
 * momentum), the variance biased too (ONNX's ReduceVar; PyTorch's running variance is unbiased,
 * so the norm kernel's own update does not serve).
 */
function batchNormTraining(c: OpContext, x: Tensor): Value[] {
  if (x.ndim < 2) throw c.error(`input must be [N, C, ...], got [${x.shape}]`);
  const momentum = c.float('momentum', 0.9);
  const y = batchNorm(x, {
    weight: c.floatInput(1, 'scale'),
    bias: c.floatInput(2, 'B'),
    training: true,
    eps: c.float('epsilon', 1e-5),
  });
  const channels = x.shape[1];
  const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const batchMean = mean(x, axes, true);
  const centered = sub(x, batchMean);
  const batchVar = reshape(mean(mul(centered, centered), axes), [channels]);
  const blend = (old: Tensor, now: Tensor): Tensor => add(mul(old, momentum), mul(now, 1 - momentum));
  return [
    floatValue(y),
    floatValue(blend(c.floatInput(3, 'input_mean'), reshape(batchMean, [channels]))),
    floatValue(blend(c.floatInput(4, 'input_var'), batchVar)),
  ];
}

const batchNormOp: OpImpl = (c) => {
  const x = c.floatInput(0, 'X');
  if (c.int('training_mode', 0) === 1) return batchNormTraining(c, x);
  if (c.opset < 9 && c.int('spatial', 1) !== 1) throw c.error('spatial = 0 is not supported');
  const y = batchNorm(x, {
    weight: c.floatInput(1, 'scale'),
    bias: c.floatInput(2, 'B'),
    runningMean: c.floatInput(3, 'input_mean'),
    runningVar: c.floatInput(4, 'input_var'),
    training: false,
    eps: c.float('epsilon', 1e-5),
  });
  return [floatValue(y)];
};

const instanceNorm: OpImpl = (c) => {
  const x = c.floatInput(0, 'input');
  const scale = c.floatInput(1, 'scale');
  const b = c.floatInput(2, 'B');
  if (x.ndim < 3) throw c.error(`input must be [N, C, ...], got [${x.shape}]`);
  const [n, ch] = x.shape;
  const rest = sizeOf(x.shape.slice(2));
  const y = reshape(layerNorm(reshape(x, [n * ch, rest]), [rest], null, null, c.float('epsilon', 1e-5)), x.shape);
  const perC = [ch, ...x.shape.slice(2).map(() => 1)];
  return [floatValue(add(mul(y, reshape(scale, perC)), reshape(b, perC)))];
};

const layerNormOp: OpImpl = (c) => {
  const x = c.floatInput(0, 'X');
  const axis = c.axis(c.int('axis', -1), x.ndim);
  const shape = x.shape.slice(axis);
  const eps = c.float('epsilon', 1e-5);
  const norm = (t: Tensor | null): Tensor | null => (t === null || t.ndim === shape.length ? t : reshape(t, shape));
  const scale = norm(c.floatInput(1, 'Scale'));
  const bias = norm(c.optional(2) ? c.floatInput(2, 'B') : null);
  const out: Value[] = [floatValue(layerNorm(x, shape, scale, bias, eps))];
  if (c.node.outputs.length > 1 && c.node.outputs.slice(1).some(Boolean)) {
    // The saved statistics, as ONNX declares them (kept axes of extent 1).
    const axes = shape.map((_, i) => axis + i);
    const m = mean(x, axes, true);
    const d = sub(x, m);
    out.push(floatValue(m), floatValue(reciprocal(sqrt(add(mean(mul(d, d), axes, true), eps)))));
  }
  return out;
};

/** One-hot of the first maximum along the normalised axis (or, before opset 13, over the 2-D
 * coercion's second axis): the argmax's row of an identity matrix, through the gather kernel. */
const hardmax: OpImpl = (c) => {
  const x = c.floatInput(0, 'input');
  const old = c.opset < 13;
  const axis = c.axis(c.int('axis', old ? 1 : -1), x.ndim);
  const rows = old ? reshape(x, [sizeOf(x.shape.slice(0, axis)), sizeOf(x.shape.slice(axis))]) : x;
  const ax = old ? 1 : axis;
  const n = rows.shape[ax];
  const last = ax === rows.ndim - 1;
  const moved = last ? rows : permute(rows, [...rows.shape.keys()].filter((i) => i !== ax).concat(ax));
  const idx = argmax(moved, moved.ndim - 1);
  const eye = c.fold(
    [],
    `eye${n}`,
    () =>
      new Tensor(
        Float32Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0)),
        [n, n],
      ),
  );
  let y = embedding(idx, eye);
  if (!last) {
    // y is [..., n] with the axis last: put it back.
    const perm = [...moved.shape.keys()];
    perm.splice(ax, 0, perm.pop() as number);
    y = permute(y, perm);
  }
  return [floatValue(old ? reshape(y, x.shape) : y)];
};

function softmaxLike(log: boolean): OpImpl {
  const f = log ? logSoftmax : softmax;
  return (c) => {
    const x = c.floatInput(0, 'input');
    if (c.opset >= 13) return [floatValue(f(x, c.axis(c.int('axis', -1), x.ndim)))];
    // Before opset 13: coerced to 2-D at `axis`, normalised over everything after it.
    const axis = c.axis(c.int('axis', 1), x.ndim);
    const flat = reshape(x, [sizeOf(x.shape.slice(0, axis)), sizeOf(x.shape.slice(axis))]);
    return [floatValue(reshape(f(flat, 1), x.shape))];
  };
}

function reduceAxes(c: OpContext, rank: number, inputFrom: number): number[] {
  let axes: number[] | null;
  if (c.opset >= inputFrom) axes = c.optional(1) ? Array.from(c.knownInts(1, 'axes').data) : null;
  else axes = c.ints('axes');
  if (axes !== null && axes.length === 0) axes = null;
  if (axes === null) return c.int('noop_with_empty_axes', 0) === 1 ? [] : Array.from({ length: rank }, (_, i) => i);
  const norm = axes.map((a) => c.axis(a, rank, 'axes'));
  if (new Set(norm).size !== norm.length) throw c.error(`axes [${axes}] repeat an axis`);
  return norm.sort((p, q) => p - q);
}

type FloatReduce = (x: Tensor, axes: number[], keep: boolean) => Tensor;
function reduce(
  f: FloatReduce,
  host: ((acc: number, v: number) => number) | null,
  init: number,
  inputFrom = 18,
): OpImpl {
  return (c) => {
    const v = c.input(0, 'data');
    const keep = c.int('keepdims', 1) === 1;
    const axes = reduceAxes(c, v.shape.length, inputFrom);
    if (!v.isFloat) {
      if (!host) throw c.error(`integer input is not supported`);
      const h = reduceHost(c.knownInts(0, 'data'), axes, keep, init, host);
      return [intValue(v.type, h.shape, h.data)];
    }
    const x = v.tensor as Tensor;
    if (axes.length === 0) return [floatValue(f === sum ? x : f(x, [], keep))];
    if (x.ndim === 0) return [floatValue(reshape(f(reshape(x, [1]), [0], false), []))];
    return [floatValue(f(x, axes, keep), v.type)];
  };
}

/** The product as exp(sum log|x|) times the sign: (-1)^(negatives), the parity taken by
 * truncating negatives / 2 through the cast kernel. A zero gives 0 (log 0 = -inf), NaN stays
 * NaN; relative error about 1e-6 per factor. */
const reduceProd: FloatReduce = (x, axes, keep) => {
  const magnitude = exp(sum(log(abs(x)), axes, keep));
  const negatives = sum(less(x, 0), axes, keep);
  const pairs = castTensor(castTensor(mul(negatives, 0.5), 'int32'), 'float32');
  const odd = sub(negatives, mul(pairs, 2));
  return mul(magnitude, sub(1, mul(odd, 2)));
};

const logSumExp: FloatReduce = (x, axes, keep) => {
  const m = max(x, axes, true);
  const y = add(log(sum(exp(sub(x, m)), axes, true)), m);
  return keep
    ? y
    : reshape(
        y,
        x.shape.filter((_, i) => !axes.includes(i)),
      );
};

function argReduce(f: typeof argmax): OpImpl {
  return (c) => {
    const x = c.floatInput(0, 'data');
    const axis = c.axis(c.int('axis', 0), x.ndim);
    return [dynIntValue('int64', f(x, axis, c.int('keepdims', 1) === 1, c.int('select_last_index', 0) === 1))];
  };
}

export const NN_OPS: Record<string, OpImpl> = {
  Gemm: gemm,
  MatMul: (c) => {
    const a = c.floatInput(0, 'A');
    const b = c.floatInput(1, 'B');
    // x W with W a constant matrix (a dense layer, as PyTorch exports Linear on 3-D inputs):
    // x (W^T)^T through linear, W^T folded once. The NT product is our faster GEMM form, and
    // the one OnnxSession.prepareInference converts to bf16/int8.
    if (c.inference && c.input(1, 'B').known && b.ndim === 2 && a.ndim >= 2 && b.shape[0] === a.shape[a.ndim - 1]) {
      const wt = c.fold([b], 'MatMul:B^T', () => transposed(b));
      return [floatValue(linear(a, wt))];
    }
    return [floatValue(matmul(a, b))];
  },
  Conv: conv,
  ConvTranspose: convTranspose,
  MaxPool: maxPool,
  AveragePool: avgPool,
  GlobalAveragePool: globalPool(mean),
  GlobalMaxPool: globalPool(max),
  BatchNormalization: batchNormOp,
  InstanceNormalization: instanceNorm,
  LayerNormalization: layerNormOp,
  Softmax: softmaxLike(false),
  LogSoftmax: softmaxLike(true),
  Hardmax: hardmax,
  ReduceSum: reduce(sum, (a, v) => a + v, 0, 13),
  ReduceMean: reduce(mean, null, 0),
  ReduceMax: reduce(max, Math.max, -Infinity),
  ReduceMin: reduce(min, Math.min, Infinity),
  ReduceProd: reduce(reduceProd, (a, v) => a * v, 1),
  ReduceL1: reduce(
    (x, axes, keep) => sum(abs(x), axes, keep),
    (a, v) => a + Math.abs(v),
    0,
  ),
  ReduceL2: reduce((x, axes, keep) => sqrt(sum(mul(x, x), axes, keep)), null, 0),
  ReduceSumSquare: reduce(
    (x, axes, keep) => sum(mul(x, x), axes, keep),
    (a, v) => a + v * v,
    0,
  ),
  ReduceLogSumExp: reduce(logSumExp, null, 0),
  ReduceLogSum: reduce((x, axes, keep) => log(sum(x, axes, keep)), null, 0),
  ArgMax: argReduce(argmax),
  ArgMin: argReduce(argmin),
};

/**
 * The nodes fuseForInference (graph.ts) writes, never read from a file. AxonAttention is
 * MatMul(Q, K^T) [scaled] [+ mask] Softmax MatMul(., V) on the fused attention kernel. Inputs
 * Q, the tensor K^T was transposed from (axon_k_perm gives K from it), V, the scale (optional; multiplied or divided by, as the
 * matched node did) and the mask (optional, added). Where the fused kernel cannot take the
 * shapes (broadcast leading axes, a Softmax not over the last axis, a scale that is not one
 * number) it computes exactly what the original nodes did.
 */
export const FUSED_OPS: Record<string, OpImpl> = {
  // MatMul(x, W) + bias [GELU] (graph.ts, matchDense): linear on W^T folded once.
  AxonLinear: (c) => {
    const x = c.floatInput(0, 'A');
    const w = c.floatInput(1, 'B');
    const bias = c.floatInput(2, 'bias');
    if (w.ndim !== 2 || x.ndim < 1 || x.shape[x.ndim - 1] !== w.shape[0] || bias.size !== w.shape[1])
      throw c.error(
        `A ${JSON.stringify(x.shape)}, B ${JSON.stringify(w.shape)} and bias ${JSON.stringify(bias.shape)} do not form a dense layer`,
      );
    const wt = c.fold([w], 'MatMul:B^T', () => transposed(w));
    const a = c.node.attrs.get('axon_activation');
    const activation = a && a.kind === 'string' && a.value === 'gelu' ? 'gelu' : 'none';
    return [floatValue(linear(x, wt, bias, activation))];
  },
  AxonAttention: (c) => {
    const q = c.floatInput(0, 'Q');
    const x = c.floatInput(1, 'K');
    const kPerm = c.ints('axon_k_perm') ?? [];
    if (kPerm.length !== x.ndim || !kPerm.every((a, i) => kPerm.indexOf(a) === i && a >= 0 && a < x.ndim))
      throw c.error(`axon_k_perm [${kPerm.join(',')}] does not permute K's ${x.ndim} axes`);
    const k = kPerm.every((a, i) => a === i) ? x : permute(x, kPerm);
    const v = c.floatInput(2, 'V');
    const s = c.optional(3);
    const m = c.optional(4);
    const scaleOp = c.string('axon_scale_op', 'none');
    const scaleT = s ? c.floatInput(3, 'scale') : null;
    const mask = m ? c.floatInput(4, 'mask') : null;
    const axis = c.int('axon_softmax_axis', -1);
    const r = q.ndim;
    const lastAxis = r >= 2 && (axis === -1 || axis === r - 1);
    const scalar = !scaleT || scaleT.size === 1;
    const sameLead =
      k.ndim === r &&
      v.ndim === r &&
      q.shape.slice(0, -2).every((d, i) => d === k.shape[i] && d === v.shape[i]) &&
      k.shape[r - 1] === q.shape[r - 1] &&
      v.shape[r - 2] === k.shape[r - 2] &&
      q.shape[r - 1] > 0 &&
      v.shape[r - 1] > 0;
    if (lastAxis && scalar && sameLead && !mask?.requiresGrad) {
      const sv = scaleT ? (scaleT.data[0] as number) : 1;
      const scale = scaleOp === 'div' ? 1 / sv : scaleOp === 'mul' ? sv : 1;
      if (Number.isFinite(scale)) {
        try {
          return [
            floatValue(fusedAttention(c.what, q, k, v, { scale, causal: false, mask, dropout: 0, state: NO_STATE })),
          ];
        } catch {
          // A mask that does not broadcast as the kernel reads it: the nodes' own semantics below.
        }
      }
    }
    let scores = matmul(q, permute(k, [...Array.from({ length: k.ndim - 2 }, (_, i) => i), k.ndim - 1, k.ndim - 2]));
    if (scaleT) scores = scaleOp === 'div' ? div(scores, scaleT) : mul(scores, scaleT);
    if (mask) scores = add(scores, mask);
    return [floatValue(matmul(softmax(scores, c.axis(axis, scores.ndim)), v))];
  },
};
const NO_STATE = new Float64Array(3);
