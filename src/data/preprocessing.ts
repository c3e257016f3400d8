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

export interface StandardScalerOptions {
  /**
   * 'feature' (default): one mean and std per column. 'all': one mean and std over every
   * value, as images are normalised (per-pixel statistics would blow up the near-constant
   * border pixels).
   */
  over?: 'feature' | 'all';
}
const STANDARD_SCALER_KEYS = optionKeys<StandardScalerOptions>({ over: true });

/** (x - mean) / std per feature (or over all values); constant features get std 1 (as scikit-learn). */
export class StandardScaler {
  readonly over: 'feature' | 'all';
  mean: Float64Array | null = null;
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

  transform(x: Tensor): Tensor {
    const [n, f] = this.checkReady('StandardScaler.transform', x);
    const out = new Float32Array(n * f);
    const w = this.width;
    const mean = this.mean!;
    const std = this.std!;
    for (let i = 0; i < n * f; i++) out[i] = (x.data[i] - mean[i % w]) / std[i % w];
    return new Tensor(out, [n, f]);
  }

  inverseTransform(x: Tensor): Tensor {
    const [n, f] = this.checkReady('StandardScaler.inverseTransform', x);
    const out = new Float32Array(n * f);
    const w = this.width;
    const mean = this.mean!;
    const std = this.std!;
    for (let i = 0; i < n * f; i++) out[i] = x.data[i] * std[i % w] + mean[i % w];
    return new Tensor(out, [n, f]);
  }

  fitTransform(x: Tensor): Tensor {
    return this.fit(x).transform(x);
  }

  toJSON(): { type: 'StandardScaler'; over: 'feature' | 'all'; mean: number[]; std: number[] } {
    if (!this.mean || !this.std) throw new Error('StandardScaler.toJSON: not fitted');
    return { type: 'StandardScaler', over: this.over, mean: Array.from(this.mean), std: Array.from(this.std) };
  }

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

/** Scales each feature to [min, max] (default [0, 1]) from the training range. */
export class MinMaxScaler {
  dataMin: Float64Array | null = null;
  dataMax: Float64Array | null = null;
  constructor(readonly range: [number, number] = [0, 1]) {
    if (!Array.isArray(range) || range.length !== 2 || !range.every(Number.isFinite) || !(range[1] > range[0]))
      throw new RangeError(`MinMaxScaler: range ${JSON.stringify(range)} must be increasing finite numbers [min, max]`);
  }

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

  toJSON(): { type: 'MinMaxScaler'; range: [number, number]; min: number[]; max: number[] } {
    if (!this.dataMin || !this.dataMax) throw new Error('MinMaxScaler.toJSON: not fitted');
    return { type: 'MinMaxScaler', range: this.range, min: Array.from(this.dataMin), max: Array.from(this.dataMax) };
  }

  static fromJSON(j: { type: string; range: [number, number]; min: number[]; max: number[] }): MinMaxScaler {
    if (j?.type !== 'MinMaxScaler' || !Array.isArray(j.min) || !Array.isArray(j.max) || j.min.length !== j.max.length)
      throw new TypeError('MinMaxScaler.fromJSON: not a MinMaxScaler');
    const s = new MinMaxScaler(j.range);
    s.dataMin = Float64Array.from(j.min);
    s.dataMax = Float64Array.from(j.max);
    return s;
  }
}

/** Scales each row to unit L2 norm (rows of zeros stay zero). Stateless. */
export class Normalizer {
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
  toJSON(): { type: 'Normalizer' } {
    return { type: 'Normalizer' };
  }
  static fromJSON(): Normalizer {
    return new Normalizer();
  }
}

/** Maps labels (strings or numbers) to class indices 0..k-1 in sorted order, and back. */
export class LabelEncoder {
  classes: (string | number)[] | null = null;

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

  fitTransform(labels: readonly (string | number)[]): Tensor {
    return this.fit(labels).transform(labels);
  }

  inverseTransform(indices: Tensor): (string | number)[] {
    if (!this.classes) throw new Error('LabelEncoder.inverseTransform: call fit() first');
    return Array.from(indices.data, (k) => {
      const c = this.classes![k];
      if (c === undefined) throw new RangeError(`LabelEncoder.inverseTransform: index ${k} is outside ${this.classes!.length} classes`);
      return c;
    });
  }

  toJSON(): { type: 'LabelEncoder'; classes: (string | number)[] } {
    if (!this.classes) throw new Error('LabelEncoder.toJSON: not fitted');
    return { type: 'LabelEncoder', classes: this.classes };
  }

  static fromJSON(j: { type: string; classes: (string | number)[] }): LabelEncoder {
    if (j?.type !== 'LabelEncoder' || !Array.isArray(j.classes)) throw new TypeError('LabelEncoder.fromJSON: not a LabelEncoder');
    const e = new LabelEncoder();
    e.classes = [...j.classes];
    return e;
  }
}

/** int32 class indices (N) <-> one-hot float32 (N, numClasses). */
export class OneHotEncoder {
  constructor(public numClasses: number | null = null) {
    if (numClasses !== null && (!Number.isInteger(numClasses) || numClasses < 1 || numClasses > 2 ** 31 - 1))
      throw new RangeError(`OneHotEncoder: numClasses must be a positive integer or null, got ${numClasses}`);
  }

  fit(indices: Tensor): this {
    if (!(indices instanceof Tensor) || indices.dtype !== 'int32' || indices.ndim !== 1)
      throw new TypeError('OneHotEncoder.fit: expected int32 class indices (N)');
    let max = -1;
    for (const v of indices.data) max = Math.max(max, v);
    this.numClasses = max + 1;
    return this;
  }

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

  toJSON(): { type: 'OneHotEncoder'; numClasses: number } {
    if (!this.numClasses) throw new Error('OneHotEncoder.toJSON: not fitted');
    return { type: 'OneHotEncoder', numClasses: this.numClasses };
  }

  static fromJSON(j: { type: string; numClasses: number }): OneHotEncoder {
    if (j?.type !== 'OneHotEncoder' || !Number.isInteger(j.numClasses) || j.numClasses < 1)
      throw new TypeError('OneHotEncoder.fromJSON: not a OneHotEncoder');
    return new OneHotEncoder(j.numClasses);
  }
}
