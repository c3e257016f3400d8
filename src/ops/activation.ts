/**
 * Activation functions (forward and backward in native/kernels/cpu/activation.cpp) and
 * softmax / log-softmax along an axis (native/kernels/cpu/reduce.cpp, max-subtracted so
 * `softmax([1000, 1001])` is finite).
 */
import { record } from '../autograd/engine.js';
import { UnaryCode } from '../native/binding.js';
import { kernels } from '../native/executor.js';
import { normalizeAxis, splitAt } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { unaryOp } from './elementwise.js';
import { assertFinite, floatData } from './util.js';
import { checkOptionKeys, optionKeys } from '../options.js';

export const relu = (x: Tensor): Tensor => unaryOp('relu', UnaryCode.Relu, x);

/** x for x > 0, negativeSlope * x otherwise (PyTorch default 0.01; Keras LeakyReLU uses 0.3). */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  assertFinite('leakyRelu', negativeSlope, 'negativeSlope');
  return unaryOp('leakyRelu', UnaryCode.LeakyRelu, x, negativeSlope);
}

/** x for x > 0, alpha (e^x - 1) otherwise. */
export function elu(x: Tensor, alpha = 1): Tensor {
  assertFinite('elu', alpha, 'alpha');
  return unaryOp('elu', UnaryCode.Elu, x, alpha);
}

// The parameter-free ones (selu, sigmoid, tanh, silu, hardswish, mish, ...) come from the op
// table (native/optable/enums.mjs), with their layers and Tensor methods.
export * from './activations.gen.js';

export interface GeluOptions {
  /** 'none' (default): x * Phi(x), exact; 'tanh': the tanh approximation (PyTorch's names). */
  approximate?: 'none' | 'tanh';
}
const GELU_KEYS = optionKeys<GeluOptions>({ approximate: true });
export function gelu(x: Tensor, options: GeluOptions = {}): Tensor {
  checkOptionKeys('gelu', options, GELU_KEYS);
  const mode = options.approximate ?? 'none';
  if (mode !== 'none' && mode !== 'tanh')
    throw new RangeError(`gelu: approximate must be 'none' or 'tanh', got ${String(mode)}`);
  return unaryOp('gelu', mode === 'tanh' ? UnaryCode.GeluTanh : UnaryCode.GeluErf, x);
}

/** log(1 + e^(beta x)) / beta; x where beta x > 20 (PyTorch's threshold). */
export function softplus(x: Tensor, beta = 1): Tensor {
  assertFinite('softplus', beta, 'beta');
  if (beta <= 0) throw new RangeError(`softplus: beta must be positive, got ${beta}`);
  return unaryOp('softplus', UnaryCode.Softplus, x, beta);
}

function softmaxImpl(op: string, x: Tensor, axis: number, log: boolean): Tensor {
  const xd = floatData(op, x);
  const ax = normalizeAxis(op, axis, x.ndim);
  const [outer, r, inner] = x.ndim === 0 ? [1, 1, 1] : splitAt(x.shape, ax);
  const out = Tensor.empty(x.shape);
  const yd = out.data as Float32Array;
  kernels.softmax(xd, yd, outer, r, inner, log);
  return record(out, op, [x], (g) => {
    const dx = Tensor.empty(x.shape);
    kernels.softmaxBackward(yd, g.data as Float32Array, dx.data as Float32Array, outer, r, inner, log);
    return [dx];
  });
}

/** e^x / sum(e^x) along `axis` (default: the last). */
export const softmax = (x: Tensor, axis = -1): Tensor => softmaxImpl('softmax', x, axis, false);
/** log(softmax(x)) along `axis`, computed directly (no log of a rounded-to-zero probability). */
export const logSoftmax = (x: Tensor, axis = -1): Tensor => softmaxImpl('logSoftmax', x, axis, true);
