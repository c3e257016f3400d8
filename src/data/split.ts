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

export interface SplitOptions extends RandomOptions {
  /** Fraction (0..1) or count of samples for the test part (default 0.25). */
  testSize?: number;
  /** Shuffle before splitting (default true); false keeps the order (chronological splits). */
  shuffle?: boolean;
}
const SPLIT_KEYS = optionKeys<SplitOptions>({ testSize: true, shuffle: true, seed: true, generator: true });

export interface KFoldOptions extends RandomOptions {
  /** Shuffle before cutting the folds (default true). */
  shuffle?: boolean;
}
const KFOLD_KEYS = optionKeys<KFoldOptions>({ shuffle: true, seed: true, generator: true });

/** Splits x (and y) along the first axis into train and test parts. */
export function trainTestSplit(
  x: Tensor,
  y: Tensor | null = null,
  options: SplitOptions = {},
): { xTrain: Tensor; xTest: Tensor; yTrain: Tensor | null; yTest: Tensor | null } {
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

/** k folds of indices: each sample is in exactly one test fold. */
export function kFold(n: number, k: number, options: KFoldOptions = {}): { train: Int32Array; test: Int32Array }[] {
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
