/** Train/test splits and k-fold cross-validation indices (seeded). */
import { Generator, pickGenerator, type RandomOptions } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { identityIndices, takeRows } from './rows.js';
import { checkOptionKeys, optionKeys } from '../options.js';

function shuffled(n: number, g: Generator): Int32Array {
  const order = identityIndices(n);
  for (let i = n - 1; i > 0; i--) {
    const j = g.nextInt(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/**
 * trainTestSplit's options. `seed` or `generator` fixes the shuffle; without them a private
 * generator is seeded from the global one.
 *
 * @example
 * ```ts
 * import { trainTestSplit, randn, type SplitOptions } from 'axon-nn';
 * const options: SplitOptions = { testSize: 0.2, seed: 7 };
 * const { xTrain, xTest } = trainTestSplit(randn([50, 3]), null, options); // [40, 3] and [10, 3]
 * ```
 */
export interface SplitOptions extends RandomOptions {
  /** Fraction (0..1) or count of samples for the test part (default 0.25). */
  testSize?: number;
  /** Shuffle before splitting (default true); false keeps the order (chronological splits). */
  shuffle?: boolean;
}
const SPLIT_KEYS = optionKeys<SplitOptions>({ testSize: true, shuffle: true, seed: true, generator: true });

/**
 * kFold's options. `seed` or `generator` fixes the shuffle; without them a private generator
 * is seeded from the global one.
 *
 * @example
 * ```ts
 * import { kFold, type KFoldOptions } from 'axon-nn';
 * const options: KFoldOptions = { shuffle: false };
 * const folds = kFold(6, 3, options); // test folds [0, 1], [2, 3], [4, 5]
 * ```
 */
export interface KFoldOptions extends RandomOptions {
  /** Shuffle before cutting the folds (default true). */
  shuffle?: boolean;
}
const KFOLD_KEYS = optionKeys<KFoldOptions>({ shuffle: true, seed: true, generator: true });

/**
 * Splits x (and y, row for row) along the first axis into train and test parts, shuffled by
 * default. The parts are copies; the test part holds round(N * testSize) samples for a
 * fraction, or testSize samples for a count of 1 or more.
 *
 * @throws RangeError when x is 0-d, y has a different number of samples, or testSize does not
 *   fit N; TypeError for an unknown option.
 * @example
 * ```ts
 * import { trainTestSplit, randn, randint } from 'axon-nn';
 * const x = randn([100, 4]);
 * const y = randint(0, 2, [100]);
 * const { xTrain, xTest, yTrain, yTest } = trainTestSplit(x, y, { testSize: 0.2, seed: 0 });
 * console.log(xTrain.shape, xTest.shape, yTrain?.shape, yTest?.shape); // [80, 4] [20, 4] [80] [20]
 * ```
 */
export function trainTestSplit(
  x: Tensor,
  y: Tensor | null = null,
  options: SplitOptions = {},
): {
  /** Training inputs. */
  xTrain: Tensor;
  /** Test inputs. */
  xTest: Tensor;
  /** Training targets (null without y). */
  yTrain: Tensor | null;
  /** Test targets (null without y). */
  yTest: Tensor | null;
} {
  checkOptionKeys('trainTestSplit', options, SPLIT_KEYS);
  if (x.ndim === 0) throw new RangeError('trainTestSplit: x needs a sample axis');
  const n = x.shape[0];
  if (y && (y.ndim === 0 || y.shape[0] !== n)) throw new RangeError(`trainTestSplit: x has ${n} samples, y ${y.shape[0] ?? 0}`);
  const ts = options.testSize ?? 0.25;
  if (typeof ts !== 'number' || !(ts >= 0))
    throw new RangeError(`trainTestSplit: testSize ${String(ts)} does not fit ${n} samples (a fraction in [0, 1) or a count)`);
  const nTest = ts < 1 ? Math.round(n * ts) : ts;
  if (!Number.isInteger(nTest) || nTest < 0 || nTest > n)
    throw new RangeError(`trainTestSplit: testSize ${ts} does not fit ${n} samples`);
  const order = options.shuffle ?? true ? shuffled(n, options.seed !== undefined || options.generator ? pickGenerator(options) : new Generator(pickGenerator().nextUint32())) : identityIndices(n);
  const nTrain = n - nTest;
  return {
    xTrain: takeRows(x, order, 0, nTrain),
    xTest: takeRows(x, order, nTrain, nTest),
    yTrain: y ? takeRows(y, order, 0, nTrain) : null,
    yTest: y ? takeRows(y, order, nTrain, nTest) : null,
  };
}

/**
 * k folds of sample indices for cross-validation: each of the n samples is in exactly one
 * test fold, and a fold's train indices are all the others. Fold sizes differ by at most one.
 *
 * @throws RangeError when n is not a non-negative integer or k is not an integer in [2, n].
 * @example
 * ```ts
 * import { kFold, takeRows, randn } from 'axon-nn';
 * const x = randn([10, 4]);
 * for (const { train, test } of kFold(10, 5, { seed: 0 })) {
 *   const xTrain = takeRows(x, train); // [8, 4]
 *   const xVal = takeRows(x, test); // [2, 4]
 * }
 * ```
 */
export function kFold(
  n: number,
  k: number,
  options: KFoldOptions = {},
): {
  /** Indices of the samples to train on (every sample outside the test fold). */
  train: Int32Array;
  /** Indices of this fold's held-out samples. */
  test: Int32Array;
}[] {
  checkOptionKeys('kFold', options, KFOLD_KEYS);
  if (!Number.isInteger(n) || n < 0 || n > 2 ** 31 - 1)
    throw new RangeError(`kFold: n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(k) || k < 2 || k > n) throw new RangeError(`kFold: k must be an integer in [2, ${n}], got ${k}`);
  // Like trainTestSplit: a private generator, seeded from the global one unless given.
  const gen = options.seed !== undefined || options.generator ? pickGenerator(options) : new Generator(pickGenerator().nextUint32());
  const order = (options.shuffle ?? true) ? shuffled(n, gen) : identityIndices(n);
  const folds: { train: Int32Array; test: Int32Array }[] = [];
  for (let f = 0; f < k; f++) {
    const s = Math.floor((n * f) / k);
    const e = Math.floor((n * (f + 1)) / k);
    const test = order.slice(s, e);
    const train = new Int32Array(n - (e - s));
    train.set(order.subarray(0, s), 0);
    train.set(order.subarray(e), s);
    folds.push({ train, test });
  }
  return folds;
}
