/**
 * Weight and activity penalties added to the loss: l1(λ) = λ Σ|w|, l2(λ) = λ Σ w² (Keras's
 * convention, no 1/2), l1l2. Layers take them as weightRegularizer / biasRegularizer /
 * activityRegularizer; `module.regularizationLoss()` sums every penalty in a model (fit adds
 * it to the loss; an explicit loop adds it itself). Optimizer weight decay is the other route:
 * coupled (SGD/Adam `weightDecay`, the gradient of l2 with λ = wd/2) or decoupled (AdamW).
 */
import { abs, mul, square } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkOptionKeys, optionKeys } from '../options.js';

/** l1l2's options: the two factors (default 0.01 each). */
export interface L1L2Options {
  l1?: number;
  l2?: number;
}
const L1L2_KEYS = optionKeys<L1L2Options>({ l1: true, l2: true });

export interface Regularizer {
  readonly name: 'l1' | 'l2' | 'l1l2';
  readonly config: { l1?: number; l2?: number };
  /** The penalty of one tensor, a scalar tensor recorded for autograd. */
  penalty(t: Tensor): Tensor;
}

function checkFactor(name: string, v: number): void {
  if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`${name}: factor must be a finite number >= 0, got ${v}`);
}

/** λ Σ|w| (Keras default λ = 0.01). */
export function l1(factor = 0.01): Regularizer {
  checkFactor('l1', factor);
  return { name: 'l1', config: { l1: factor }, penalty: (t) => mul(sum(abs(t)), factor) };
}

/** λ Σ w² (Keras default λ = 0.01). */
export function l2(factor = 0.01): Regularizer {
  checkFactor('l2', factor);
  return { name: 'l2', config: { l2: factor }, penalty: (t) => mul(sum(square(t)), factor) };
}

/** l1 Σ|w| + l2 Σ w². */
export function l1l2(options: L1L2Options = {}): Regularizer {
  checkOptionKeys('l1l2', options, L1L2_KEYS);
  const a = options.l1 ?? 0.01;
  const b = options.l2 ?? 0.01;
  checkFactor('l1l2', a);
  checkFactor('l1l2', b);
  return {
    name: 'l1l2',
    config: { l1: a, l2: b },
    penalty: (t) => mul(sum(abs(t)), a).add(mul(sum(square(t)), b)),
  };
}

export function regularizerFromConfig(name: string, config: { l1?: number; l2?: number }): Regularizer {
  if (name === 'l1') return l1(config.l1);
  if (name === 'l2') return l2(config.l2);
  if (name === 'l1l2') return l1l2(config);
  throw new RangeError(`unknown regularizer '${name}'`);
}
