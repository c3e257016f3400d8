/**
 * Preprocessing fitted on training data and applied to new data, each serialisable to JSON
 * (toJSON / fromJSON) so a deployed model scales its inputs exactly as in training:
 * StandardScaler (z-score), MinMaxScaler, Normalizer (L2 rows), OneHotEncoder (and its
 * inverse), LabelEncoder (strings or numbers to class indices). Feature statistics are per
 * column of a (samples, features) tensor, computed in float64.
 */
import { Tensor } from '../tensor/tensor.js';
import { shapeToString } from '../tensor/shape.js';
import { checkOptionKeys, optionKeys } from '../options.js';

function check2d(op: string, x: Tensor): [number, number] {
  if (!(x instanceof Tensor) || x.dtype !== 'float32' || x.ndim !== 2)
    throw new TypeError(`${op}: expected a float32 tensor (samples, features), got ${x instanceof Tensor ? `${x.dtype} ${shapeToString(x.shape)}` : typeof x}`);
  return [x.shape[0], x.shape[1]];
}

function checkFitted(op: string, v: unknown, features: number, x: Tensor): void {
  if (!v) throw new Error(`${op}: call fit() first`);
  if (x.shape[1] !== features) throw new RangeError(`${op}: fitted on ${features} features, got ${shapeToString(x.shape)}`);
}

/**
 * StandardScaler's options.
 *
 * @example
 * ```ts
 * import { StandardScaler, rand, type StandardScalerOptions } from 'axon-nn';
 * const options: StandardScalerOptions = { over: 'all' }; // one mean and std for every pixel
 * const images = new StandardScaler(options).fitTransform(rand([32, 784]));
 * ```
 */
export interface StandardScalerOptions {
  /**
   * 'feature' (default): one mean and std per column. 'all': one mean and std over every
   * value, as images are normalised (per-pixel statistics would blow up the near-constant
   * border pixels).
   */
  over?: 'feature' | 'all';
}
const STANDARD_SCALER_KEYS = optionKeys<StandardScalerOptions>({ over: true });

/**
 * Standardises features to (x - mean) / std, with mean and population std per column of a
 * float32 (samples, features) tensor (or over all values), fitted on training data.
 * Constant features get std 1, as in scikit-learn. Serialisable with toJSON / fromJSON.
 *
 * @throws RangeError for an `over` other than 'feature' or 'all'.
 * @example
 * ```ts
 * import { StandardScaler, tensor } from 'axon-nn';
 * const scaler = new StandardScaler().fit(tensor([[1, 10], [3, 30]]));
 * console.log(scaler.transform(tensor([[2, 40]])).toArray()); // [[0, 2]]
 * const restored = StandardScaler.fromJSON(JSON.parse(JSON.stringify(scaler)));
 * ```
 */
export class StandardScaler {
  /** 'feature': statistics per column; 'all': one mean and std over every value. */
  readonly over: 'feature' | 'all';
  /** Fitted means (one per feature, or one for 'all'); null before fit. */
  mean: Float64Array | null = null;
  /** Fitted standard deviations (zeros replaced by 1); null before fit. */
  std: Float64Array | null = null;

  constructor(options: StandardScalerOptions = {}) {
    checkOptionKeys('StandardScaler', options, STANDARD_SCALER_KEYS);
    const over = options.over ?? 'feature';
    if (over !== 'feature' && over !== 'all') throw new RangeError(`StandardScaler: over must be 'feature' or 'all', got ${String(over)}`);
    this.over = over;
  }

  /** Number of columns the statistics cover (1 when over all values). */
  private get width(): number {
    return this.mean?.length ?? 0;
  }

  /** Computes mean and std from x (float32, samples x features); TypeError otherwise, RangeError for no rows. */
  fit(x: Tensor): this {
    const [n, f0] = check2d('StandardScaler.fit', x);
    if (n === 0) throw new RangeError('StandardScaler.fit: no samples');
    // Over all values: view the data as one column of n*f samples.
    const [rows, f] = this.over === 'all' ? [n * f0, 1] : [n, f0];
    const mean = new Float64Array(f);
    const m2 = new Float64Array(f);
    // Welford's update: stable for large offsets.
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < f; j++) {
        const v = x.data[i * f + j];
        const d = v - mean[j];
        mean[j] += d / (i + 1);
        m2[j] += d * (v - mean[j]);
      }
    this.mean = mean;
    this.std = m2.map((v) => {
      const s = Math.sqrt(v / rows);
      return s > 0 ? s : 1;
    });
    return this;
  }

  private checkReady(op: string, x: Tensor): [number, number] {
    const [n, f] = check2d(op, x);
    if (!this.mean) throw new Error(`${op}: call fit() first`);
    if (this.over === 'feature') checkFitted(op, this.mean, this.width, x);
    return [n, f];
  }

  /** (x - mean) / std as a new float32 tensor; throws before fit or (over 'feature') for a different feature count. */
  transform(x: Tensor): Tensor {
    const [n, f] = this.checkReady('StandardScaler.transform', x);
    const out = new Float32Array(n * f);
    const w = this.width;
    const mean = this.mean!;
    const std = this.std!;
    for (let i = 0; i < n * f; i++) out[i] = (x.data[i] - mean[i % w]) / std[i % w];
    return new Tensor(out, [n, f]);
  }

  /** x * std + mean: scaled values back to the original units. */
  inverseTransform(x: Tensor): Tensor {
    const [n, f] = this.checkReady('StandardScaler.inverseTransform', x);
    const out = new Float32Array(n * f);
    const w = this.width;
    const mean = this.mean!;
    const std = this.std!;
    for (let i = 0; i < n * f; i++) out[i] = x.data[i] * std[i % w] + mean[i % w];
    return new Tensor(out, [n, f]);
  }

  /** fit(x), then transform(x). */
  fitTransform(x: Tensor): Tensor {
    return this.fit(x).transform(x);
  }

  /** The fitted statistics as plain JSON (used by JSON.stringify); throws before fit. */
  toJSON(): {
    /** Always 'StandardScaler'. */
    type: 'StandardScaler';
    /** The scaler's `over` setting. */
    over: 'feature' | 'all';
    /** The fitted means. */
    mean: number[];
    /** The fitted standard deviations. */
    std: number[];
  } {
    if (!this.mean || !this.std) throw new Error('StandardScaler.toJSON: not fitted');
    return { type: 'StandardScaler', over: this.over, mean: Array.from(this.mean), std: Array.from(this.std) };
  }

  /** A fitted scaler from toJSON's output; TypeError unless means are finite and stds finite and positive. */
  static fromJSON(j: { type: string; over?: 'feature' | 'all'; mean: number[]; std: number[] }): StandardScaler {
    if (j?.type !== 'StandardScaler' || !Array.isArray(j.mean) || !Array.isArray(j.std) || j.mean.length !== j.std.length)
      throw new TypeError('StandardScaler.fromJSON: not a StandardScaler');
    if (j.over === 'all' && j.mean.length !== 1) throw new TypeError('StandardScaler.fromJSON: over "all" needs exactly one mean and std');
    if (!j.mean.every(Number.isFinite) || !j.std.every((v) => Number.isFinite(v) && v > 0))
      throw new TypeError('StandardScaler.fromJSON: mean must be finite and std finite and positive');
    const s = new StandardScaler({ over: j.over ?? 'feature' });
    s.mean = Float64Array.from(j.mean);
    s.std = Float64Array.from(j.std);
    return s;
  }
}

/**
 * Scales each feature of a float32 (samples, features) tensor linearly so that its training
 * minimum maps to `range[0]` and its maximum to `range[1]` (default [0, 1]). New data outside
 * the training range is not clipped; a constant feature maps to range[0].
 *
 * @throws RangeError unless range is two increasing finite numbers.
 * @example
 * ```ts
 * import { MinMaxScaler, tensor } from 'axon-nn';
 * const scaler = new MinMaxScaler([-1, 1]).fit(tensor([[0], [10]]));
 * console.log(scaler.transform(tensor([[5], [20]])).toArray()); // [[0], [3]]
 * ```
 */
export class MinMaxScaler {
  /** Per-feature training minimum; null before fit. */
  dataMin: Float64Array | null = null;
  /** Per-feature training maximum; null before fit. */
  dataMax: Float64Array | null = null;
  constructor(
    /** The target interval [min, max]. */
    readonly range: [number, number] = [0, 1],
  ) {
    if (!Array.isArray(range) || range.length !== 2 || !range.every(Number.isFinite) || !(range[1] > range[0]))
      throw new RangeError(`MinMaxScaler: range ${JSON.stringify(range)} must be increasing finite numbers [min, max]`);
  }

  /** Records each feature's minimum and maximum; TypeError unless float32 2-D, RangeError for no rows. */
  fit(x: Tensor): this {
    const [n, f] = check2d('MinMaxScaler.fit', x);
    if (n === 0) throw new RangeError('MinMaxScaler.fit: no samples');
    const lo = new Float64Array(f).fill(Infinity);
    const hi = new Float64Array(f).fill(-Infinity);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < f; j++) {
        const v = x.data[i * f + j];
        if (v < lo[j]) lo[j] = v;
        if (v > hi[j]) hi[j] = v;
      }
    this.dataMin = lo;
    this.dataMax = hi;
    return this;
  }

  /** x scaled into the range, as a new float32 tensor; throws before fit or for a different feature count. */
  transform(x: Tensor): Tensor {
    const [n, f] = check2d('MinMaxScaler.transform', x);
    checkFitted('MinMaxScaler.transform', this.dataMin, this.dataMin?.length ?? 0, x);
    const [a, b] = this.range;
    const out = new Float32Array(n * f);
    for (let j = 0; j < f; j++) {
      const span = this.dataMax![j] - this.dataMin![j];
      const scale = span > 0 ? (b - a) / span : 0;
      for (let i = 0; i < n; i++) out[i * f + j] = a + (x.data[i * f + j] - this.dataMin![j]) * scale;
    }
    return new Tensor(out, [n, f]);
  }

  /** fit(x), then transform(x). */
  fitTransform(x: Tensor): Tensor {
    return this.fit(x).transform(x);
  }

  /** Back to the original units (constant features map back to their value). */
  inverseTransform(x: Tensor): Tensor {
    const [n, f] = check2d('MinMaxScaler.inverseTransform', x);
    checkFitted('MinMaxScaler.inverseTransform', this.dataMin, this.dataMin?.length ?? 0, x);
    const [a, b] = this.range;
    const out = new Float32Array(n * f);
    for (let j = 0; j < f; j++) {
      const span = this.dataMax![j] - this.dataMin![j];
      for (let i = 0; i < n; i++) out[i * f + j] = this.dataMin![j] + ((x.data[i * f + j] - a) * span) / (b - a);
    }
    return new Tensor(out, [n, f]);
  }

  /** The range and fitted extremes as plain JSON (used by JSON.stringify); throws before fit. */
  toJSON(): {
    /** Always 'MinMaxScaler'. */
    type: 'MinMaxScaler';
    /** The target interval. */
    range: [number, number];
    /** Per-feature training minimum. */
    min: number[];
    /** Per-feature training maximum. */
    max: number[];
  } {
    if (!this.dataMin || !this.dataMax) throw new Error('MinMaxScaler.toJSON: not fitted');
    return { type: 'MinMaxScaler', range: this.range, min: Array.from(this.dataMin), max: Array.from(this.dataMax) };
  }

  /** A fitted scaler from toJSON's output; TypeError when j is not one, RangeError for a bad range. */
  static fromJSON(j: { type: string; range: [number, number]; min: number[]; max: number[] }): MinMaxScaler {
    if (j?.type !== 'MinMaxScaler' || !Array.isArray(j.min) || !Array.isArray(j.max) || j.min.length !== j.max.length)
      throw new TypeError('MinMaxScaler.fromJSON: not a MinMaxScaler');
    if (!j.min.every((v, i) => Number.isFinite(v) && Number.isFinite(j.max[i]) && v <= j.max[i]))
      throw new TypeError('MinMaxScaler.fromJSON: min and max must be finite with min <= max in every feature');
    const s = new MinMaxScaler(j.range);
    s.dataMin = Float64Array.from(j.min);
    s.dataMax = Float64Array.from(j.max);
    return s;
  }
}

/**
 * Scales each row (sample) of a float32 (samples, features) tensor to unit L2 norm; rows of
 * zeros stay zero. Stateless: there is nothing to fit.
 *
 * @example
 * ```ts
 * import { Normalizer, tensor } from 'axon-nn';
 * const unit = new Normalizer().transform(tensor([[3, 4], [0, 0]]));
 * console.log(unit.toArray()); // [[0.6, 0.8], [0, 0]] (up to float32 rounding)
 * ```
 */
export class Normalizer {
  /** Each row divided by its L2 norm, as a new tensor; TypeError for a non-float32 or non-2-D tensor. */
  transform(x: Tensor): Tensor {
    const [n, f] = check2d('Normalizer.transform', x);
    const out = new Float32Array(n * f);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < f; j++) s += x.data[i * f + j] ** 2;
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let j = 0; j < f; j++) out[i * f + j] = x.data[i * f + j] * inv;
    }
    return new Tensor(out, [n, f]);
  }
  /** `{ type: 'Normalizer' }` (there is no state). */
  toJSON(): {
    /** Always 'Normalizer'. */
    type: 'Normalizer';
  } {
    return { type: 'Normalizer' };
  }
  /** A new Normalizer (any argument is ignored). */
  static fromJSON(): Normalizer {
    return new Normalizer();
  }
}

/**
 * Maps labels (strings or numbers) to int32 class indices 0..k-1, classes in sorted order
 * (strings by code unit), and back. Serialisable with toJSON / fromJSON.
 *
 * @example
 * ```ts
 * import { LabelEncoder } from 'axon-nn';
 * const encoder = new LabelEncoder();
 * const y = encoder.fitTransform(['cat', 'dog', 'cat', 'bird']); // int32 [1, 2, 1, 0]
 * console.log(encoder.classes, encoder.inverseTransform(y)); // ['bird', 'cat', 'dog'] ['cat', 'dog', 'cat', 'bird']
 * ```
 */
export class LabelEncoder {
  /** The distinct labels in sorted order (index = class id); null before fit. */
  classes: (string | number)[] | null = null;

  /** Collects the distinct labels; RangeError for an empty or non-array input. */
  fit(labels: readonly (string | number)[]): this {
    if (!Array.isArray(labels) || labels.length === 0) throw new RangeError('LabelEncoder.fit: needs a non-empty array of labels');
    this.classes = [...new Set(labels)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return this;
  }

  /** int32 class indices; an unseen label throws naming it. */
  transform(labels: readonly (string | number)[]): Tensor {
    if (!this.classes) throw new Error('LabelEncoder.transform: call fit() first');
    const index = new Map(this.classes.map((c, i) => [c, i]));
    const out = new Int32Array(labels.length);
    labels.forEach((l, i) => {
      const k = index.get(l);
      if (k === undefined) throw new RangeError(`LabelEncoder.transform: label ${JSON.stringify(l)} (row ${i}) was not seen in fit`);
      out[i] = k;
    });
    return new Tensor(out, [labels.length]);
  }

  /** fit(labels), then transform(labels). */
  fitTransform(labels: readonly (string | number)[]): Tensor {
    return this.fit(labels).transform(labels);
  }

  /** The labels of class indices (e.g. argmax predictions); RangeError for an index outside the classes. */
  inverseTransform(indices: Tensor): (string | number)[] {
    if (!this.classes) throw new Error('LabelEncoder.inverseTransform: call fit() first');
    return Array.from(indices.data, (k) => {
      const c = this.classes![k];
      if (c === undefined) throw new RangeError(`LabelEncoder.inverseTransform: index ${k} is outside ${this.classes!.length} classes`);
      return c;
    });
  }

  /** The classes as plain JSON (used by JSON.stringify); throws before fit. */
  toJSON(): {
    /** Always 'LabelEncoder'. */
    type: 'LabelEncoder';
    /** The sorted classes. */
    classes: (string | number)[];
  } {
    if (!this.classes) throw new Error('LabelEncoder.toJSON: not fitted');
    return { type: 'LabelEncoder', classes: this.classes };
  }

  /** A fitted encoder from toJSON's output; TypeError when j is not one. */
  static fromJSON(j: { type: string; classes: (string | number)[] }): LabelEncoder {
    if (j?.type !== 'LabelEncoder' || !Array.isArray(j.classes)) throw new TypeError('LabelEncoder.fromJSON: not a LabelEncoder');
    const e = new LabelEncoder();
    e.classes = [...j.classes];
    return e;
  }
}

/**
 * Converts int32 class indices (N) to one-hot float32 rows (N, numClasses) and back (argmax).
 * Give numClasses, or fit() to take max index + 1.
 *
 * @throws RangeError when numClasses is not a positive integer or null.
 * @example
 * ```ts
 * import { OneHotEncoder, tensor } from 'axon-nn';
 * const encoder = new OneHotEncoder(3);
 * console.log(encoder.transform(tensor([0, 2], { dtype: 'int32' })).toArray()); // [[1, 0, 0], [0, 0, 1]]
 * console.log(encoder.inverseTransform(tensor([[0.1, 0.7, 0.2]])).toArray()); // [1]
 * ```
 */
export class OneHotEncoder {
  constructor(
    /** Width of the one-hot rows; null until given or fitted. */
    public numClasses: number | null = null,
  ) {
    if (numClasses !== null && (!Number.isInteger(numClasses) || numClasses < 1 || numClasses > 2 ** 31 - 1))
      throw new RangeError(`OneHotEncoder: numClasses must be a positive integer or null, got ${numClasses}`);
  }

  /** Sets numClasses to the largest index + 1; TypeError unless indices is a 1-D int32 tensor. */
  fit(indices: Tensor): this {
    if (!(indices instanceof Tensor) || indices.dtype !== 'int32' || indices.ndim !== 1)
      throw new TypeError('OneHotEncoder.fit: expected int32 class indices (N)');
    if (indices.size === 0) throw new RangeError('OneHotEncoder.fit: needs at least one class index, got none');
    let max = -1;
    for (let i = 0; i < indices.size; i++) {
      const v = indices.data[i];
      if (v < 0) throw new RangeError(`OneHotEncoder.fit: class indices must be >= 0, got ${v} at row ${i}`);
      max = Math.max(max, v);
    }
    this.numClasses = max + 1;
    return this;
  }

  /** One-hot float32 (N, numClasses); RangeError for an index outside [0, numClasses). */
  transform(indices: Tensor): Tensor {
    if (!(indices instanceof Tensor) || indices.dtype !== 'int32' || indices.ndim !== 1)
      throw new TypeError('OneHotEncoder.transform: expected int32 class indices (N)');
    const k = this.numClasses;
    if (!k) throw new Error('OneHotEncoder.transform: numClasses unknown; pass it or call fit()');
    const n = indices.size;
    const out = new Float32Array(n * k);
    for (let i = 0; i < n; i++) {
      const c = indices.data[i];
      if (c < 0 || c >= k) throw new RangeError(`OneHotEncoder.transform: index ${c} at row ${i} is outside [0, ${k})`);
      out[i * k + c] = 1;
    }
    return new Tensor(out, [n, k]);
  }

  /** Back to indices: the argmax of each row. */
  inverseTransform(oneHot: Tensor): Tensor {
    const [n, k] = check2d('OneHotEncoder.inverseTransform', oneHot);
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (oneHot.data[i * k + j] > oneHot.data[i * k + best]) best = j;
      out[i] = best;
    }
    return new Tensor(out, [n]);
  }

  /** numClasses as plain JSON (used by JSON.stringify); throws while it is unknown. */
  toJSON(): {
    /** Always 'OneHotEncoder'. */
    type: 'OneHotEncoder';
    /** The one-hot width. */
    numClasses: number;
  } {
    if (!this.numClasses) throw new Error('OneHotEncoder.toJSON: not fitted');
    return { type: 'OneHotEncoder', numClasses: this.numClasses };
  }

  /** An encoder from toJSON's output; TypeError when j is not one. */
  static fromJSON(j: { type: string; numClasses: number }): OneHotEncoder {
    if (j?.type !== 'OneHotEncoder' || !Number.isInteger(j.numClasses) || j.numClasses < 1)
      throw new TypeError('OneHotEncoder.fromJSON: not a OneHotEncoder');
    return new OneHotEncoder(j.numClasses);
  }
}
