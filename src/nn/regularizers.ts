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

/**
 * {@link l1l2}'s options: the two factors (default 0.01 each; finite and >= 0).
 *
 * @example
 * ```ts
 * import { Linear, l1l2, type L1L2Options } from 'axon-nn';
 * const options: L1L2Options = { l1: 1e-5, l2: 1e-4 };
 * const layer = new Linear(64, 32, { weightRegularizer: l1l2(options) });
 * ```
 */
export interface L1L2Options {
  /** Factor of the sum of absolute values (default 0.01). */
  l1?: number;
  /** Factor of the sum of squares (default 0.01). */
  l2?: number;
}
const L1L2_KEYS = optionKeys<L1L2Options>({ l1: true, l2: true });

/**
 * A weight or activity penalty, as {@link l1}, {@link l2} and {@link l1l2} make: layers take
 * one as weightRegularizer / biasRegularizer / activityRegularizer, and a model's
 * regularizationLoss() sums them. Its name and config are saved with the layer's config.
 *
 * @example
 * ```ts
 * import { Linear, l2, randn, type Regularizer } from 'axon-nn';
 * const reg: Regularizer = l2(1e-4);
 * const layer = new Linear(8, 4, { weightRegularizer: reg });
 * const penalty = reg.penalty(layer.weight); // scalar tensor, differentiable
 * ```
 */
export interface Regularizer {
  /** Which penalty: 'l1', 'l2' or 'l1l2'. */
  readonly name: 'l1' | 'l2' | 'l1l2';
  /** Its factors. */
  readonly config: {
    /** Factor of the sum of absolute values (l1 and l1l2). */
    l1?: number;
    /** Factor of the sum of squares (l2 and l1l2). */
    l2?: number;
  };
  /** The penalty of one tensor, a scalar tensor recorded for autograd. */
  penalty(t: Tensor): Tensor;
}

function checkFactor(name: string, v: number): void {
  if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`${name}: factor must be a finite number >= 0, got ${v}`);
}

/**
 * The L1 penalty λ Σ|w| (Keras's default λ = 0.01), which pushes weights to exactly zero.
 * Throws a RangeError for a negative or non-finite factor.
 *
 * @example
 * ```ts
 * import { l1, tensor } from 'axon-nn';
 * const p = l1().penalty(tensor([1, -2])); // 0.01 * 3 = 0.03
 * ```
 */
export function l1(factor = 0.01): Regularizer {
  checkFactor('l1', factor);
  return { name: 'l1', config: { l1: factor }, penalty: (t) => mul(sum(abs(t)), factor) };
}

/**
 * The L2 penalty λ Σ w² (Keras's convention and default λ = 0.01; no 1/2 factor). Throws a
 * RangeError for a negative or non-finite factor.
 *
 * @example
 * ```ts
 * import { Linear, l2, randn } from 'axon-nn';
 * const fc = new Linear(4, 2, { weightRegularizer: l2(1e-3) });
 * const loss = fc.forward(randn([3, 4])).square().mean().add(fc.regularizationLoss()!);
 * ```
 */
export function l2(factor = 0.01): Regularizer {
  checkFactor('l2', factor);
  return { name: 'l2', config: { l2: factor }, penalty: (t) => mul(sum(square(t)), factor) };
}

/**
 * Both penalties: l1 Σ|w| + l2 Σ w² (each factor 0.01 unless given; Keras's L1L2). Unknown
 * option keys or a negative factor throw.
 *
 * @example
 * ```ts
 * import { l1l2, tensor } from 'axon-nn';
 * const p = l1l2({ l1: 0.1, l2: 0.1 }).penalty(tensor([1, -2])); // 0.1 * 3 + 0.1 * 5 = 0.8
 * ```
 */
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
