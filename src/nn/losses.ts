/**
 * Loss functions (PyTorch's names, arguments and formulas; `reduction` is 'mean' | 'sum' |
 * 'none'). Cross-entropy and the binary cross-entropies run as fused, numerically stable
 * native kernels (log-softmax and NLL in one pass: finite at logits of +-1e4); the regression
 * losses are compositions of elementwise ops. Each has a function and a class form (the class
 * holds its options, for compile() and configs).
 */
import { abs, add, minimum, mul, square, sub } from '../ops/elementwise.js';
import { binaryCrossEntropyElements, binaryCrossEntropyWithLogitsElements, crossEntropyRows } from '../ops/loss.js';
import { mean, sum } from '../ops/reduce.js';
import { assertTensor, floatData } from '../ops/util.js';
import { shapeToString, shapesEqual } from '../tensor/shape.js';
import { Tensor, isRecordingOnly } from '../tensor/tensor.js';
import { checkOptionKeys, optionKeys } from '../options.js';

/**
 * How a loss combines its per-element (or per-sample) terms: 'mean' (the default everywhere),
 * 'sum', or 'none' (the unreduced terms, in the input's shape), as PyTorch's `reduction`.
 *
 * @example
 * ```ts
 * import { mseLoss, tensor, type Reduction } from 'axon-nn';
 * const reduction: Reduction = 'none';
 * const perElement = mseLoss(tensor([1, 2, 3]), tensor([1, 2, 5]), { reduction }); // [0, 0, 4]
 * ```
 */
export type Reduction = 'mean' | 'sum' | 'none';

/**
 * {@link mseLoss}'s and {@link l1Loss}'s options (and their class forms'). Unknown keys throw.
 *
 * @example
 * ```ts
 * import { mseLoss, tensor, type ReductionOptions } from 'axon-nn';
 * const options: ReductionOptions = { reduction: 'sum' };
 * const loss = mseLoss(tensor([1, 2, 3]), tensor([1, 2, 5]), options); // 4
 * ```
 */
export interface ReductionOptions {
  /** 'mean' (default), 'sum' or 'none'. */
  reduction?: Reduction;
}
const REDUCTION_KEYS = optionKeys<ReductionOptions>({ reduction: true });
/**
 * {@link huberLoss}'s options: the reduction and delta.
 *
 * @example
 * ```ts
 * import { huberLoss, tensor, type HuberOptions } from 'axon-nn';
 * const options: HuberOptions = { delta: 2 };
 * const loss = huberLoss(tensor([1, 2, 3]), tensor([1, 2, 5]), options); // (0 + 0 + 2) / 3
 * ```
 */
export interface HuberOptions extends ReductionOptions {
  /** Where the loss turns from quadratic to linear (default 1, > 0). */
  delta?: number;
}
const HUBER_KEYS = optionKeys<HuberOptions>({ reduction: true, delta: true });
/**
 * {@link smoothL1Loss}'s options: the reduction and beta.
 *
 * @example
 * ```ts
 * import { smoothL1Loss, tensor, type SmoothL1Options } from 'axon-nn';
 * const options: SmoothL1Options = { beta: 0.5 };
 * const loss = smoothL1Loss(tensor([1, 2, 3]), tensor([1, 2, 5]), options); // (2 - 0.25) / 3
 * ```
 */
export interface SmoothL1Options extends ReductionOptions {
  /** Where the loss turns from quadratic to linear (default 1, >= 0; 0 is the L1 loss). */
  beta?: number;
}
const SMOOTH_L1_KEYS = optionKeys<SmoothL1Options>({ reduction: true, beta: true });
/**
 * {@link binaryCrossEntropy}'s options: the reduction and per-element weights.
 *
 * @example
 * ```ts
 * import { binaryCrossEntropy, tensor, type BCEOptions } from 'axon-nn';
 * const options: BCEOptions = { weight: tensor([1, 3]), reduction: 'sum' };
 * const loss = binaryCrossEntropy(tensor([0.9, 0.2]), tensor([1, 0]), options);
 * ```
 */
export interface BCEOptions extends ReductionOptions {
  /** Multiplies each element's loss (broadcast against the input). */
  weight?: Tensor | null;
}
const BCE_KEYS = optionKeys<BCEOptions>({ reduction: true, weight: true });
/**
 * {@link binaryCrossEntropyWithLogits}'s options: BCEOptions plus posWeight, to weigh the
 * positives of each class (PyTorch's pos_weight: negatives / positives balances them).
 *
 * @example
 * ```ts
 * import { binaryCrossEntropyWithLogits, tensor, type BCEWithLogitsOptions } from 'axon-nn';
 * const options: BCEWithLogitsOptions = { posWeight: tensor([3, 1]) };
 * const loss = binaryCrossEntropyWithLogits(tensor([[2, -1]]), tensor([[1, 0]]), options);
 * ```
 */
export interface BCEWithLogitsOptions extends BCEOptions {
  /** Per-class (last axis) weight of the positive term. */
  posWeight?: Tensor | null;
}
const BCE_LOGITS_KEYS = optionKeys<BCEWithLogitsOptions>({ reduction: true, weight: true, posWeight: true });

function checkReduction(op: string, r: unknown): Reduction {
  if (r !== 'mean' && r !== 'sum' && r !== 'none')
    throw new RangeError(`${op}: reduction must be 'mean', 'sum' or 'none', got ${String(r)}`);
  return r;
}

function reduce(t: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return t;
  return reduction === 'sum' ? sum(t) : mean(t);
}

function sameShape(op: string, input: Tensor, target: Tensor): void {
  assertTensor(op, input, 'input');
  assertTensor(op, target, 'target');
  if (!shapesEqual(input.shape, target.shape))
    throw new RangeError(
      `${op}: input ${shapeToString(input.shape)} and target ${shapeToString(target.shape)} must have the same shape`,
    );
}

/**
 * Mean squared error: (input - target)^2, reduced (PyTorch's F.mse_loss, Keras's MSE). Input
 * and target must have the same shape (a RangeError otherwise; no broadcasting).
 *
 * @example
 * ```ts
 * import { mseLoss, tensor } from 'axon-nn';
 * const loss = mseLoss(tensor([1, 2, 3]), tensor([1, 2, 5])); // 4 / 3
 * ```
 */
export function mseLoss(input: Tensor, target: Tensor, options: ReductionOptions = {}): Tensor {
  checkOptionKeys('mseLoss', options, REDUCTION_KEYS);
  sameShape('mseLoss', input, target);
  return reduce(square(sub(input, target)), checkReduction('mseLoss', options.reduction ?? 'mean'));
}

/**
 * Mean absolute error: |input - target|, reduced (PyTorch's F.l1_loss, Keras's MAE). Input and
 * target must have the same shape.
 *
 * @example
 * ```ts
 * import { l1Loss, tensor } from 'axon-nn';
 * const loss = l1Loss(tensor([1, 2, 3]), tensor([1, 2, 5])); // 2 / 3
 * ```
 */
export function l1Loss(input: Tensor, target: Tensor, options: ReductionOptions = {}): Tensor {
  checkOptionKeys('l1Loss', options, REDUCTION_KEYS);
  sameShape('l1Loss', input, target);
  return reduce(abs(sub(input, target)), checkReduction('l1Loss', options.reduction ?? 'mean'));
}

// Huber elementwise, written branch-free: with a = |d| and m = min(a, delta),
// 0.5 m^2 + delta (a - m) is 0.5 d^2 inside the band and delta (a - 0.5 delta) outside.
function huberTerms(input: Tensor, target: Tensor, delta: number): Tensor {
  const a = abs(sub(input, target));
  const m = minimum(a, delta);
  return add(mul(square(m), 0.5), mul(sub(a, m), delta));
}

/**
 * Huber: 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), d = input - target (PyTorch's
 * F.huber_loss, Keras's Huber; delta default 1, > 0). Input and target must have the same shape.
 *
 * @example
 * ```ts
 * import { huberLoss, tensor } from 'axon-nn';
 * const loss = huberLoss(tensor([1, 2, 3]), tensor([1, 2, 5])); // (0 + 0 + 1.5) / 3 = 0.5
 * ```
 */
export function huberLoss(input: Tensor, target: Tensor, options: HuberOptions = {}): Tensor {
  checkOptionKeys('huberLoss', options, HUBER_KEYS);
  sameShape('huberLoss', input, target);
  const delta = options.delta ?? 1;
  if (!(typeof delta === 'number' && delta > 0 && delta < Infinity))
    throw new RangeError(`huberLoss: delta must be > 0 and finite, got ${delta}`);
  return reduce(huberTerms(input, target, delta), checkReduction('huberLoss', options.reduction ?? 'mean'));
}

/**
 * Smooth L1: 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (= huber / beta; PyTorch's
 * F.smooth_l1_loss, beta default 1; beta 0 is the L1 loss).
 *
 * @example
 * ```ts
 * import { smoothL1Loss, tensor } from 'axon-nn';
 * const loss = smoothL1Loss(tensor([1, 2, 3]), tensor([1, 2, 5])); // (0 + 0 + 1.5) / 3 = 0.5
 * ```
 */
export function smoothL1Loss(input: Tensor, target: Tensor, options: SmoothL1Options = {}): Tensor {
  checkOptionKeys('smoothL1Loss', options, SMOOTH_L1_KEYS);
  sameShape('smoothL1Loss', input, target);
  const beta = options.beta ?? 1;
  if (!(typeof beta === 'number' && beta >= 0 && beta < Infinity))
    throw new RangeError(`smoothL1Loss: beta must be >= 0 and finite, got ${beta}`);
  if (beta === 0) return l1Loss(input, target, { reduction: options.reduction });
  return reduce(
    mul(huberTerms(input, target, beta), 1 / beta),
    checkReduction('smoothL1Loss', options.reduction ?? 'mean'),
  );
}

/**
 * {@link crossEntropy}'s options (PyTorch's F.cross_entropy arguments). Unknown keys throw.
 *
 * @example
 * ```ts
 * import { crossEntropy, randn, tensor, type CrossEntropyOptions } from 'axon-nn';
 * const options: CrossEntropyOptions = { labelSmoothing: 0.1, ignoreIndex: -1 };
 * const loss = crossEntropy(randn([2, 3]), tensor([0, -1], { dtype: 'int32' }), options); // row 1 ignored
 * ```
 */
export interface CrossEntropyOptions {
  /** Per-class weights (C). */
  weight?: Tensor | null;
  /** Index targets equal to this are skipped (PyTorch's default -100). */
  ignoreIndex?: number;
  /** 'mean' (default), 'sum' or 'none' (one loss per sample). */
  reduction?: Reduction;
  /** Mixes the target with the uniform distribution: (1 - e) y + e / C. */
  labelSmoothing?: number;
}
const CROSS_ENTROPY_KEYS = optionKeys<CrossEntropyOptions>({
  weight: true,
  ignoreIndex: true,
  reduction: true,
  labelSmoothing: true,
});
/**
 * {@link nllLoss}'s options: cross-entropy's without label smoothing.
 *
 * @example
 * ```ts
 * import { logSoftmax, nllLoss, randn, tensor, type NLLOptions } from 'axon-nn';
 * const options: NLLOptions = { weight: tensor([1, 2, 1]), reduction: 'mean' };
 * const loss = nllLoss(logSoftmax(randn([4, 3]), 1), tensor([0, 1, 2, 1], { dtype: 'int32' }), options);
 * ```
 */
export type NLLOptions = Omit<CrossEntropyOptions, 'labelSmoothing'>;
const NLL_KEYS = optionKeys<NLLOptions>({ weight: true, ignoreIndex: true, reduction: true });

/**
 * Cross-entropy of logits (N, C) — or (N, C, d...) with C on axis 1 — against class indices
 * (int32, (N) or (N, d...)) or class probabilities (float, same shape as the logits). With
 * class weights, 'mean' divides by the summed weights of the targets, as PyTorch does.
 * Keras's SparseCategoricalCrossentropy(from_logits=true) is the index form. Throws a
 * RangeError for mismatched shapes; pass logits, not probabilities.
 *
 * @example
 * ```ts
 * import { crossEntropy, tensor } from 'axon-nn';
 * const logits = tensor([[2, 0, 0], [0, 2, 0]]);
 * const labels = tensor([0, 1], { dtype: 'int32' });
 * const loss = crossEntropy(logits, labels); // 0.2395
 * ```
 */
export function crossEntropy(logits: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  checkOptionKeys(op, options, CROSS_ENTROPY_KEYS);
  floatData(op, logits, 'logits');
  assertTensor(op, target, 'target');
  const reduction = checkReduction(op, options.reduction ?? 'mean');
  const eps = options.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) throw new RangeError(`${op}: labelSmoothing must be in [0, 1], got ${eps}`);
  const ignoreIndex = options.ignoreIndex ?? -100;
  if (!Number.isInteger(ignoreIndex)) throw new RangeError(`${op}: ignoreIndex must be an integer, got ${ignoreIndex}`);
  if (logits.ndim < 1) throw new RangeError(`${op}: logits must be (N, C), got ${shapeToString(logits.shape)}`);
  // (N, C, d...) -> rows of C: move the class axis last.
  let rows = logits.ndim === 1 ? logits.reshape([1, logits.shape[0]]) : logits;
  let tgt = target;
  const indexTargets = target.dtype === 'int32';
  if (logits.ndim > 2) {
    const perm = [0, ...Array.from({ length: logits.ndim - 2 }, (_, i) => i + 2), 1];
    rows = rows.permute(perm);
    if (!indexTargets) tgt = tgt.permute(perm);
  }
  const c = rows.shape[rows.ndim - 1];
  rows = rows.reshape([-1, c]);
  if (indexTargets) {
    const expected = logits.ndim === 1 ? [] : [logits.shape[0], ...logits.shape.slice(2)];
    if (!shapesEqual(target.shape, expected) && !(logits.ndim === 1 && target.size === 1))
      throw new RangeError(
        `${op}: index targets must have shape ${shapeToString(expected)} for logits ${shapeToString(logits.shape)}, got ${shapeToString(target.shape)}`,
      );
  } else {
    if (!shapesEqual(target.shape, logits.shape))
      throw new RangeError(
        `${op}: probability targets must have the logits' shape ${shapeToString(logits.shape)}, got ${shapeToString(target.shape)} (pass class indices as an int32 tensor)`,
      );
    if (target.requiresGrad) throw new Error(`${op}: gradients with respect to probability targets are not supported`);
  }
  const weight = options.weight ?? null;
  if (weight !== null) {
    floatData(op, weight, 'weight');
    if (weight.ndim !== 1 || weight.shape[0] !== c)
      throw new RangeError(`${op}: weight must have one entry per class (${c}), got ${shapeToString(weight.shape)}`);
  }
  // (N, C, d...) -> one output per row in the target's layout; [] when reduced.
  const outShape =
    reduction !== 'none' ? [] : indexTargets ? [...target.shape] : [logits.shape[0], ...logits.shape.slice(2)];
  return crossEntropyRows(rows, {
    indices: indexTargets ? (tgt.data as Int32Array) : null,
    probs: indexTargets ? null : (tgt.reshape([-1, c]).data as Float32Array),
    weight: weight ? (weight.data as Float32Array) : null,
    labelSmoothing: eps,
    ignoreIndex,
    reduction,
    outShape,
  });
}

/**
 * Negative log-likelihood of log-probabilities (N, C) against class indices (int32, (N)), as
 * PyTorch's F.nll_loss: pair it with logSoftmax (crossEntropy does both, fused). It cannot be
 * part of a recorded training step (fit with a loss function); use crossEntropy there.
 *
 * @example
 * ```ts
 * import { logSoftmax, nllLoss, tensor } from 'axon-nn';
 * const logProbs = logSoftmax(tensor([[2, 0, 0], [0, 2, 0]]), 1);
 * const loss = nllLoss(logProbs, tensor([0, 1], { dtype: 'int32' })); // 0.2395
 * ```
 */
export function nllLoss(logProbs: Tensor, target: Tensor, options: NLLOptions = {}): Tensor {
  checkOptionKeys('nllLoss', options, NLL_KEYS);
  const op = 'nllLoss';
  floatData(op, logProbs, 'input');
  assertTensor(op, target, 'target');
  if (target.dtype !== 'int32') throw new TypeError(`${op}: target must be int32 class indices`);
  if (logProbs.ndim !== 2 || target.ndim !== 1 || target.shape[0] !== logProbs.shape[0])
    throw new RangeError(
      `${op}: expected input (N, C) and target (N), got ${shapeToString(logProbs.shape)} and ${shapeToString(target.shape)}`,
    );
  const [n, c] = logProbs.shape;
  const reduction = checkReduction(op, options.reduction ?? 'mean');
  const ignore = options.ignoreIndex ?? -100;
  const w = options.weight ? (floatData(op, options.weight, 'weight') as Float32Array) : null;
  if (w && w.length !== c) throw new RangeError(`${op}: weight must have ${c} entries, got ${w.length}`);
  // The mask below is built from the target values in JavaScript: inside a recorded step
  // they are placeholders, and every replay would reuse the first batch's mask.
  if (isRecordingOnly())
    throw new Error(
      `${op}: builds its mask from the targets in JavaScript, so it cannot be part of a recorded training step (fit with a loss function); use crossEntropy on the logits instead`,
    );
  const t = target.data as Int32Array;
  const coef = new Float32Array(n * c);
  let denom = 0;
  for (let i = 0; i < n; i++) {
    const y = t[i];
    if (y === ignore) continue;
    if (!(y >= 0 && y < c)) throw new RangeError(`${op}: target ${y} at row ${i} is outside the ${c} classes`);
    const wy = w ? w[y] : 1;
    coef[i * c + y] = -wy;
    denom += wy;
  }
  // loss_i = sum_c coef_ic * logp_ic: a product with a constant mask, so autograd handles it.
  const picked = sum(mul(logProbs, new Tensor(coef, [n, c])), 1);
  if (reduction === 'none') return picked;
  const total = sum(picked);
  return reduction === 'sum' ? total : mul(total, 1 / denom);
}

/**
 * Binary cross-entropy of probabilities in [0, 1] (logs clamped at -100, as PyTorch's
 * F.binary_cross_entropy); target has the input's shape. On raw scores, prefer
 * binaryCrossEntropyWithLogits, which is stable.
 *
 * @example
 * ```ts
 * import { binaryCrossEntropy, tensor } from 'axon-nn';
 * const loss = binaryCrossEntropy(tensor([0.9, 0.2]), tensor([1, 0])); // 0.1643
 * ```
 */
export function binaryCrossEntropy(input: Tensor, target: Tensor, options: BCEOptions = {}): Tensor {
  const op = 'binaryCrossEntropy';
  checkOptionKeys(op, options, BCE_KEYS);
  sameShape(op, input, target);
  const p = floatData(op, input, 'input');
  const t = floatData(op, target, 'target');
  const out = binaryCrossEntropyElements(input, p, t);
  const weighted = options.weight ? mul(out, options.weight) : out;
  return reduce(weighted, checkReduction(op, options.reduction ?? 'mean'));
}

/**
 * Binary cross-entropy on logits (sigmoid folded in, stable for any logit). posWeight (C)
 * multiplies the positive term per class (last axis), as PyTorch's pos_weight. Keras's
 * BinaryCrossentropy(from_logits=true).
 *
 * @example
 * ```ts
 * import { binaryCrossEntropyWithLogits, tensor } from 'axon-nn';
 * const loss = binaryCrossEntropyWithLogits(tensor([2, -1]), tensor([1, 0])); // 0.2201
 * ```
 */
export function binaryCrossEntropyWithLogits(
  logits: Tensor,
  target: Tensor,
  options: BCEWithLogitsOptions = {},
): Tensor {
  const op = 'binaryCrossEntropyWithLogits';
  checkOptionKeys(op, options, BCE_LOGITS_KEYS);
  sameShape(op, logits, target);
  const x = floatData(op, logits, 'logits');
  const t = floatData(op, target, 'target');
  const pw = options.posWeight ? floatData(op, options.posWeight, 'posWeight') : null;
  const c = pw ? pw.length : 1;
  if (pw && (logits.ndim === 0 || logits.shape[logits.ndim - 1] !== c))
    throw new RangeError(
      `${op}: posWeight has ${c} entries but the logits' last axis is ${logits.shape[logits.ndim - 1]}`,
    );
  const out = binaryCrossEntropyWithLogitsElements(logits, x, t, pw, c);
  const weighted = options.weight ? mul(out, options.weight) : out;
  return reduce(weighted, checkReduction(op, options.reduction ?? 'mean'));
}

/**
 * A loss as a callable object holding its options (for compile() and configs), as the class
 * forms (MSELoss, CrossEntropyLoss, ...) return: call it with (input, target).
 *
 * @example
 * ```ts
 * import { CrossEntropyLoss, randn, tensor, type Loss } from 'axon-nn';
 * const lossFn: Loss = CrossEntropyLoss({ labelSmoothing: 0.1 });
 * const loss = lossFn(randn([4, 3]), tensor([0, 2, 1, 0], { dtype: 'int32' }));
 * ```
 */
export interface Loss {
  /** The built-in losses: their name as `compile` spells it (`'mse'`, `'crossEntropy'`, ...;
   * NLLLoss, which compile does not take by name: `'nll'`). Other functions: their own name. */
  readonly name: string;
  (input: Tensor, target: Tensor): Tensor;
}

function lossObject(name: string, fn: (i: Tensor, t: Tensor) => Tensor): Loss {
  const loss = (i: Tensor, t: Tensor): Tensor => fn(i, t);
  // A function's `name` is read-only but configurable: error messages and configs read it.
  Object.defineProperty(loss, 'name', { value: name });
  return loss;
}

/** The class forms check their options when built (a typo fails at compile(), not mid-fit). */
function built(op: string, options: unknown, keys: readonly string[]): void {
  checkOptionKeys(op, options, keys);
  const r = (options as { reduction?: unknown } | undefined)?.reduction;
  if (r !== undefined) checkReduction(op, r);
}

/**
 * mseLoss as a {@link Loss} object with its options fixed (PyTorch's nn.MSELoss). Options are
 * checked now: an unknown key or reduction throws here rather than mid-fit.
 *
 * @example
 * ```ts
 * import { MSELoss, tensor } from 'axon-nn';
 * const criterion = MSELoss();
 * const loss = criterion(tensor([1, 2, 3]), tensor([1, 2, 5])); // 4 / 3
 * ```
 */
export const MSELoss = (options: ReductionOptions = {}): Loss => {
  built('MSELoss', options, REDUCTION_KEYS);
  return lossObject('mse', (i, t) => mseLoss(i, t, options));
};
/**
 * l1Loss (mean absolute error) as a {@link Loss} object with its options fixed (nn.L1Loss).
 *
 * @example
 * ```ts
 * import { L1Loss, tensor } from 'axon-nn';
 * const criterion = L1Loss({ reduction: 'sum' });
 * const loss = criterion(tensor([1, 2, 3]), tensor([1, 2, 5])); // 2
 * ```
 */
export const L1Loss = (options: ReductionOptions = {}): Loss => {
  built('L1Loss', options, REDUCTION_KEYS);
  return lossObject('mae', (i, t) => l1Loss(i, t, options));
};
/**
 * huberLoss as a {@link Loss} object with its options fixed (nn.HuberLoss).
 *
 * @example
 * ```ts
 * import { HuberLoss, tensor } from 'axon-nn';
 * const criterion = HuberLoss({ delta: 2 });
 * const loss = criterion(tensor([1, 2, 3]), tensor([1, 2, 5])); // 2 / 3
 * ```
 */
export const HuberLoss = (options: HuberOptions = {}): Loss => {
  built('HuberLoss', options, HUBER_KEYS);
  return lossObject('huber', (i, t) => huberLoss(i, t, options));
};
/**
 * smoothL1Loss as a {@link Loss} object with its options fixed (nn.SmoothL1Loss).
 *
 * @example
 * ```ts
 * import { SmoothL1Loss, tensor } from 'axon-nn';
 * const criterion = SmoothL1Loss({ beta: 1 });
 * const loss = criterion(tensor([1, 2, 3]), tensor([1, 2, 5])); // 0.5
 * ```
 */
export const SmoothL1Loss = (options: SmoothL1Options = {}): Loss => {
  built('SmoothL1Loss', options, SMOOTH_L1_KEYS);
  return lossObject('smoothL1', (i, t) => smoothL1Loss(i, t, options));
};
/**
 * crossEntropy as a {@link Loss} object with its options fixed (nn.CrossEntropyLoss): logits
 * and int32 class indices (or class probabilities).
 *
 * @example
 * ```ts
 * import { CrossEntropyLoss, tensor } from 'axon-nn';
 * const criterion = CrossEntropyLoss();
 * const loss = criterion(tensor([[2, 0, 0], [0, 2, 0]]), tensor([0, 1], { dtype: 'int32' })); // 0.2395
 * ```
 */
export const CrossEntropyLoss = (options: CrossEntropyOptions = {}): Loss => {
  built('CrossEntropyLoss', options, CROSS_ENTROPY_KEYS);
  return lossObject('crossEntropy', (i, t) => crossEntropy(i, t, options));
};
/**
 * nllLoss as a {@link Loss} object with its options fixed (nn.NLLLoss): log-probabilities and
 * int32 class indices. Not usable in a recorded training step; prefer CrossEntropyLoss on logits.
 *
 * @example
 * ```ts
 * import { NLLLoss, logSoftmax, tensor } from 'axon-nn';
 * const criterion = NLLLoss();
 * const loss = criterion(logSoftmax(tensor([[2, 0, 0]]), 1), tensor([0], { dtype: 'int32' })); // 0.2395
 * ```
 */
export const NLLLoss = (options: NLLOptions = {}): Loss => {
  built('NLLLoss', options, NLL_KEYS);
  return lossObject('nll', (i, t) => nllLoss(i, t, options));
};
/**
 * binaryCrossEntropy as a {@link Loss} object with its options fixed (nn.BCELoss): probabilities
 * in [0, 1] and 0/1 targets of the same shape.
 *
 * @example
 * ```ts
 * import { BCELoss, tensor } from 'axon-nn';
 * const criterion = BCELoss();
 * const loss = criterion(tensor([0.9, 0.2]), tensor([1, 0])); // 0.1643
 * ```
 */
export const BCELoss = (options: BCEOptions = {}): Loss => {
  built('BCELoss', options, BCE_KEYS);
  return lossObject('binaryCrossentropy', (i, t) => binaryCrossEntropy(i, t, options));
};
/**
 * binaryCrossEntropyWithLogits as a {@link Loss} object with its options fixed
 * (nn.BCEWithLogitsLoss): the stable choice for binary and multi-label classifiers.
 *
 * @example
 * ```ts
 * import { BCEWithLogitsLoss, tensor } from 'axon-nn';
 * const criterion = BCEWithLogitsLoss({ posWeight: tensor([2]) });
 * const loss = criterion(tensor([[2], [-1]]), tensor([[1], [0]]));
 * ```
 */
export const BCEWithLogitsLoss = (options: BCEWithLogitsOptions = {}): Loss => {
  built('BCEWithLogitsLoss', options, BCE_LOGITS_KEYS);
  return lossObject('binaryCrossentropyWithLogits', (i, t) => binaryCrossEntropyWithLogits(i, t, options));
};
