/**
 * axon-nn: neural networks for Node.js on native SIMD kernels.
 *
 * @example
 * import { tensor, randn, matmul } from 'axon-nn';
 * const x = randn([64, 784], { seed: 1 });
 * const w = randn([10, 784]).mul(0.01).setRequiresGrad();
 * const loss = matmul(x, w.T).relu().mean();
 * loss.backward();
 */
export { Tensor, type DType, type NestedArray, type TensorData } from './tensor/tensor.js';
export {
  tensor,
  zeros,
  ones,
  full,
  zerosLike,
  onesLike,
  fullLike,
  arange,
  linspace,
  eye,
  rand,
  randn,
  randint,
  type CreateOptions,
} from './tensor/creation.js';
export { Generator, manualSeed, defaultGenerator, type GeneratorState, type RandomOptions } from './tensor/random.js';
export { type Shape, broadcastShapes, numel } from './tensor/shape.js';
export {
  add,
  sub,
  mul,
  div,
  pow,
  maximum,
  minimum,
  clamp,
  neg,
  exp,
  log,
  sqrt,
  abs,
  square,
  reciprocal,
} from './ops/elementwise.js';
export {
  relu,
  leakyRelu,
  elu,
  selu,
  sigmoid,
  tanh,
  gelu,
  softplus,
  silu,
  softmax,
  logSoftmax,
  type GeluOptions,
} from './ops/activation.js';
export { sum, mean, max, min, argmax, argmin } from './ops/reduce.js';
export { matmul, linear, type LinearActivation } from './ops/linalg.js';
export {
  reshape,
  flatten,
  squeeze,
  unsqueeze,
  permute,
  transpose,
  index,
  expand,
  concat,
  stack,
  type IndexSpec,
} from './ops/layout.js';
export { noGrad, isGradEnabled, setGradEnabled, type BackwardOptions } from './autograd/engine.js';
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './autograd/gradcheck.js';
export { profile, startProfiling, stopProfiling, ProfileReport, type ProfileRow } from './profiler.js';
export { backendInfo, setNumThreads, getNumThreads, type BackendInfo } from './backend.js';
