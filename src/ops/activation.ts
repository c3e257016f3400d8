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

/**
 * max(x, 0) elementwise (float32; differentiable, with gradient 0 at 0). Also the Tensor method
 * `x.relu()` and the layer `ReLU`.
 * @example
 * ```ts
 * import { relu, tensor } from 'axon-nn';
 * const y = relu(tensor([-1, 0, 2])); // [0, 0, 2]
 * ```
 */
export const relu = (x: Tensor): Tensor => unaryOp('relu', UnaryCode.Relu, x);

/**
 * x for x > 0, negativeSlope * x otherwise, elementwise (PyTorch's default slope 0.01; Keras's
 * LeakyReLU uses 0.3). Throws a RangeError for a slope that is not finite.
 * @example
 * ```ts
 * import { leakyRelu, tensor } from 'axon-nn';
 * const y = leakyRelu(tensor([-10, 5]), 0.1); // [-1, 5]
 * ```
 */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  assertFinite('leakyRelu', negativeSlope, 'negativeSlope');
  return unaryOp('leakyRelu', UnaryCode.LeakyRelu, x, negativeSlope);
}

/**
 * x for x > 0, alpha * (e^x - 1) otherwise, elementwise (alpha defaults to 1 and must be
 * finite).
 * @example
 * ```ts
 * import { elu, tensor } from 'axon-nn';
 * const y = elu(tensor([-1, 2])); // [-0.6321, 2]
 * ```
 */
export function elu(x: Tensor, alpha = 1): Tensor {
  assertFinite('elu', alpha, 'alpha');
  return unaryOp('elu', UnaryCode.Elu, x, alpha);
}

// The parameter-free ones (selu, sigmoid, tanh, silu, hardswish, mish, ...) come from the op
// table (native/optable/enums.mjs), with their layers and Tensor methods.
export * from './activations.gen.js';

/**
 * gelu()'s options: the exact form or PyTorch's tanh approximation.
 *
 * @example
 * ```ts
 * import { gelu, randn, type GeluOptions } from 'axon-nn';
 * const options: GeluOptions = { approximate: 'tanh' };
 * const y = gelu(randn([4, 8]), options); // the tanh approximation, shape [4, 8]
 * ```
 */
export interface GeluOptions {
  /** 'none' (default): x * Phi(x), exact; 'tanh': the tanh approximation (PyTorch's names). */
  approximate?: 'none' | 'tanh';
}
const GELU_KEYS = optionKeys<GeluOptions>({ approximate: true });
/**
 * The Gaussian error linear unit x * Phi(x) elementwise, where Phi is the standard normal CDF;
 * with `{ approximate: 'tanh' }`, PyTorch's tanh approximation. Throws a RangeError for another
 * `approximate` value.
 * @example
 * ```ts
 * import { gelu, tensor } from 'axon-nn';
 * const x = tensor([-1, 0, 1]);
 * const y = gelu(x); // [-0.1587, 0, 0.8413]
 * const fast = gelu(x, { approximate: 'tanh' });
 * ```
 */
export function gelu(x: Tensor, options: GeluOptions = {}): Tensor {
  checkOptionKeys('gelu', options, GELU_KEYS);
  const mode = options.approximate ?? 'none';
  if (mode !== 'none' && mode !== 'tanh')
    throw new RangeError(`gelu: approximate must be 'none' or 'tanh', got ${String(mode)}`);
  return unaryOp('gelu', mode === 'tanh' ? UnaryCode.GeluTanh : UnaryCode.GeluErf, x);
}

/**
 * log(1 + e^(beta x)) / beta elementwise, a smooth relu; x itself where beta x > 20 (PyTorch's
 * threshold). Throws a RangeError unless beta is finite and positive.
 * @example
 * ```ts
 * import { softplus, tensor } from 'axon-nn';
 * const y = softplus(tensor([0, 30])); // [0.6931, 30]
 * ```
 */
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

/**
 * e^x / sum(e^x) along `axis` (default: the last), computed with the maximum subtracted so
 * large inputs stay finite; each slice along the axis sums to 1.
 * @example
 * ```ts
 * import { softmax, tensor } from 'axon-nn';
 * const logits = tensor([[1, 2, 3], [1000, 1000, 1000]]);
 * const probs = softmax(logits); // row 0: [0.0900, 0.2447, 0.6652]; row 1: 1/3 each
 * ```
 */
export const softmax = (x: Tensor, axis = -1): Tensor => softmaxImpl('softmax', x, axis, false);
/**
 * log(softmax(x)) along `axis` (default: the last), computed directly, so a probability that
 * would round to zero still has a finite log. Pair it with nllLoss for a classifier.
 * @example
 * ```ts
 * import { logSoftmax, tensor } from 'axon-nn';
 * const logits = tensor([[0, 0], [0, -200]]);
 * const logProbs = logSoftmax(logits); // [[-0.6931, -0.6931], [0, -200]]
 * ```
 */
export const logSoftmax = (x: Tensor, axis = -1): Tensor => softmaxImpl('logSoftmax', x, axis, true);
