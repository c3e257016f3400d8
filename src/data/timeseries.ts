/**
 * Time-series preparation for sequence models: sliding windows (lookback steps in, horizon
 * steps out) over a (T, F) series, a chronological train/test split that leaks no target,
 * scaling fitted on the training rows only, the naive last-value forecast with RMSE/MAE to
 * compare against, and loaders for the shipped series (data/co2, data/sunspots). Not a
 * forecasting model and no resampling beyond the CO2 monthly means.
 * Tests: `npx vitest run tests/timeseries.test.ts`.
 */
import { csvColumn, csvColumns, readCsv } from './csv.js';
import { MinMaxScaler, StandardScaler } from './preprocessing.js';
import { Tensor } from '../tensor/tensor.js';
import { shapeToString } from '../tensor/shape.js';
import { checkOptionKeys, optionKeys } from '../options.js';

/**
 * A series of T steps and F features: a float32 tensor (T) or (T, F), rows of steps
 * (`[[f0, f1], ...]`, T x F), or flat values (one feature; T values). Every value must be finite.
 *
 * @example
 * ```ts
 * import { makeWindows, type SeriesLike } from 'axon-nn';
 * const weather: SeriesLike = [[12.1, 0.8], [13.4, 0.7], [11.9, 0.9], [12.6, 0.6]]; // T = 4, F = 2
 * const w = makeWindows(weather, { lookback: 2, targetColumns: [0] }); // inputShape [2, 2, 2]
 * ```
 */
export type SeriesLike = Tensor | Float32Array | Float64Array | readonly number[] | readonly (readonly number[])[];

/**
 * Rows [start, end) of a series, as chronologicalSplit returns them and makeWindows and
 * scaleSeries take them.
 *
 * @example
 * ```ts
 * import { makeWindows, type RowRange } from 'axon-nn';
 * const firstSix: RowRange = { start: 0, end: 6 };
 * const w = makeWindows([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { lookback: 3, range: firstSix }); // 3 windows
 * ```
 */
export interface RowRange {
  /** First row (inclusive). */
  start: number;
  /** Row after the last (exclusive). */
  end: number;
}

interface Matrix {
  data: Float32Array;
  T: number;
  F: number;
}

/** The series as a row-major float32 (T, F) block; NaN or infinite values throw naming row and column. */
function toMatrix(op: string, series: SeriesLike): Matrix {
  let data: Float32Array;
  let T: number;
  let F: number;
  if (series instanceof Tensor) {
    if (series.dtype !== 'float32' || (series.ndim !== 1 && series.ndim !== 2))
      throw new TypeError(`${op}: expected a float32 tensor (T) or (T, F), got ${series.dtype} ${shapeToString(series.shape)}`);
    data = series.data as Float32Array;
    T = series.shape[0];
    F = series.ndim === 2 ? series.shape[1] : 1;
  } else if (series instanceof Float32Array || series instanceof Float64Array) {
    data = series instanceof Float32Array ? series : Float32Array.from(series);
    T = series.length;
    F = 1;
  } else if (Array.isArray(series)) {
    T = series.length;
    if (T > 0 && Array.isArray(series[0])) {
      const rows = series as readonly (readonly number[])[];
      F = rows[0].length;
      data = new Float32Array(T * F);
      rows.forEach((row, t) => {
        if (!Array.isArray(row) || row.length !== F)
          throw new RangeError(
            `${op}: row ${t} has ${Array.isArray(row) ? row.length : 'no'} values, expected ${F} (as row 0)`,
          );
        for (let j = 0; j < F; j++) {
          if (typeof row[j] !== 'number') throw new TypeError(`${op}: row ${t}, column ${j} is ${typeof row[j]}, not a number`);
          data[t * F + j] = row[j];
        }
      });
    } else {
      F = 1;
      const flat = series as readonly unknown[];
      flat.forEach((v, t) => {
        if (typeof v !== 'number') throw new TypeError(`${op}: value ${t} is ${typeof v}, not a number`);
      });
      data = Float32Array.from(flat as readonly number[]);
    }
  } else {
    throw new TypeError(`${op}: expected a series (tensor, Float32Array or array of rows), got ${typeof series}`);
  }
  if (F < 1) throw new RangeError(`${op}: the series has no features (rows are empty)`);
  for (let i = 0; i < data.length; i++)
    if (!Number.isFinite(data[i]))
      throw new RangeError(
        `${op}: row ${Math.floor(i / F)}, column ${i % F} is ${data[i]}; fill missing values first (interpolateMissing)`,
      );
  return { data, T, F };
}

function positiveInt(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1)
    throw new RangeError(`${op}: ${name} must be a positive integer, got ${String(v)}`);
  return v;
}

function checkRange(op: string, range: RowRange | undefined, T: number): RowRange {
  if (range === undefined) return { start: 0, end: T };
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end > T || start > end)
    throw new RangeError(`${op}: range [${String(start)}, ${String(end)}) is not inside the series' ${T} rows`);
  return { start, end };
}

/**
 * makeWindows's options; lookback is required. Unknown keys throw.
 *
 * @example
 * ```ts
 * import { makeWindows, type WindowOptions } from 'axon-nn';
 * const options: WindowOptions = { lookback: 3, horizon: 2, stride: 2 };
 * const w = makeWindows([1, 2, 3, 4, 5, 6, 7, 8, 9], options);
 * console.log(w.inputShape, w.targetShape, w.starts); // [3, 3, 1] [3, 2, 1] Int32Array [0, 2, 4]
 * ```
 */
export interface WindowOptions {
  /** Input steps per window (L). */
  lookback: number;
  /** Target steps per window, the ones right after the inputs (H; default 1). */
  horizon?: number;
  /** Steps between the starts of consecutive windows (default 1). */
  stride?: number;
  /** Columns to predict (default all F). */
  targetColumns?: readonly number[];
  /** Only rows [start, end) are windowed (inputs and targets alike), e.g. `split.train`. */
  range?: RowRange;
}
const WINDOW_KEYS = optionKeys<WindowOptions>({
  lookback: true,
  horizon: true,
  stride: true,
  targetColumns: true,
  range: true,
});

/**
 * Sliding windows: inputs (N, L, F) and the following targets (N, H, K), float32, row-major.
 * makeWindows's result; windowsToTensors wraps it as tensors.
 *
 * @example
 * ```ts
 * import { makeWindows, naiveForecast, rmse, type Windows } from 'axon-nn';
 * const w: Windows = makeWindows([3, 5, 4, 6, 5, 7], { lookback: 2 });
 * console.log(w.targets, rmse(naiveForecast(w), w.targets)); // Float32Array [4, 6, 5, 7] 1.58... (sqrt(2.5))
 * ```
 */
export interface Windows {
  /** Input values, row-major (N, L, F). */
  inputs: Float32Array;
  /** The inputs' shape (N, L, F): windows, lookback steps, features. */
  inputShape: [number, number, number];
  /** Target values, row-major (N, H, K). */
  targets: Float32Array;
  /** The targets' shape (N, H, K): windows, horizon steps, target columns. */
  targetShape: [number, number, number];
  /** Series row of each window's first input step; its targets start at starts[i] + lookback. */
  starts: Int32Array;
  /** L, input steps per window. */
  lookback: number;
  /** H, target steps per window. */
  horizon: number;
  /** The series columns the targets hold, in order (K of them). */
  targetColumns: number[];
}

/**
 * Cuts a (T, F) series into windows: window i reads rows s .. s+L-1 as input and rows
 * s+L .. s+L+H-1 of the target columns as target, s = start + i*stride; N = floor((rows - L - H)
 * / stride) + 1 windows fit.
 *
 * @param series (T, F) values, all finite.
 * @param options lookback L, horizon H, stride, targetColumns, range.
 * @returns inputs (N, L, F) and targets (N, H, K) with their shapes and each window's start row.
 * @throws RangeError for lookback/horizon/stride that are not positive integers, a series (or
 *   range) shorter than lookback + horizon, a target column outside [0, F) or repeated, or a
 *   NaN/infinite value (naming row and column).
 * @example
 * ```ts
 * import { makeWindows } from 'axon-nn';
 * const w = makeWindows([1, 2, 3, 4, 5], { lookback: 2, horizon: 1 });
 * console.log(w.inputs, w.inputShape); // Float32Array [1, 2, 2, 3, 3, 4] [3, 2, 1]
 * console.log(w.targets, w.targetShape); // Float32Array [3, 4, 5] [3, 1, 1]
 * ```
 */
export function makeWindows(series: SeriesLike, options: WindowOptions): Windows {
  const op = 'makeWindows';
  if (options === null || typeof options !== 'object') throw new TypeError(`${op}: options with lookback are required`);
  checkOptionKeys(op, options, WINDOW_KEYS);
  const L = positiveInt(op, 'lookback', options.lookback);
  const H = positiveInt(op, 'horizon', options.horizon ?? 1);
  const stride = positiveInt(op, 'stride', options.stride ?? 1);
  const { data, T, F } = toMatrix(op, series);
  const { start, end } = checkRange(op, options.range, T);
  const cols = options.targetColumns ? [...options.targetColumns] : Array.from({ length: F }, (_, j) => j);
  if (cols.length === 0) throw new RangeError(`${op}: targetColumns is empty`);
  cols.forEach((c, i) => {
    if (!Number.isInteger(c) || c < 0 || c >= F)
      throw new RangeError(`${op}: targetColumns[${i}] = ${String(c)} is outside the series' ${F} columns`);
    if (cols.indexOf(c) !== i) throw new RangeError(`${op}: targetColumns repeats column ${c}`);
  });
  const rows = end - start;
  if (rows < L + H)
    throw new RangeError(
      `${op}: ${rows} rows are too few for lookback ${L} + horizon ${H}; need at least ${L + H}` +
        (options.range ? ' in the range' : ''),
    );
  const N = Math.floor((rows - L - H) / stride) + 1;
  const K = cols.length;
  const inputs = new Float32Array(N * L * F);
  const targets = new Float32Array(N * H * K);
  const starts = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    const s = start + i * stride;
    starts[i] = s;
    inputs.set(data.subarray(s * F, (s + L) * F), i * L * F);
    for (let h = 0; h < H; h++)
      for (let k = 0; k < K; k++) targets[(i * H + h) * K + k] = data[(s + L + h) * F + cols[k]];
  }
  return {
    inputs,
    inputShape: [N, L, F],
    targets,
    targetShape: [N, H, K],
    starts,
    lookback: L,
    horizon: H,
    targetColumns: cols,
  };
}

/**
 * Wraps windows as float32 tensors without copying: x (N, L, F), y (N, H, K), ready for a
 * recurrent model and a TensorDataset.
 *
 * @example
 * ```ts
 * import { makeWindows, windowsToTensors, TensorDataset } from 'axon-nn';
 * const series = Array.from({ length: 50 }, (_, t) => Math.sin(t / 5));
 * const { x, y } = windowsToTensors(makeWindows(series, { lookback: 10, horizon: 2 }));
 * const dataset = new TensorDataset(x, y); // x [39, 10, 1], y [39, 2, 1]
 * ```
 */
export function windowsToTensors(w: Windows): {
  /** Inputs, float32 (N, L, F). */
  x: Tensor;
  /** Targets, float32 (N, H, K). */
  y: Tensor;
} {
  return { x: new Tensor(w.inputs, w.inputShape), y: new Tensor(w.targets, w.targetShape) };
}

/**
 * chronologicalSplit's options: give testSize or testFraction (not both). Unknown keys throw.
 *
 * @example
 * ```ts
 * import { chronologicalSplit, type ChronologicalSplitOptions } from 'axon-nn';
 * const options: ChronologicalSplitOptions = { testFraction: 0.25, gap: 2, lookback: 4 };
 * const split = chronologicalSplit(40, options); // train [0, 28), test [26, 40), targets from 30
 * ```
 */
export interface ChronologicalSplitOptions {
  /** Held-out steps at the end of the series (a count). Give this or testFraction. */
  testSize?: number;
  /** Held-out fraction of the series in (0, 1) (default 0.2 when testSize is not given). */
  testFraction?: number;
  /** Steps dropped between the training and the held-out period (default 0), an embargo against autocorrelation. */
  gap?: number;
  /** Lookback of the windows that will be cut (default 0): the test range then starts early by this much. */
  lookback?: number;
  /** Horizon of the windows (default 1): both parts must fit at least one window. */
  horizon?: number;
}
const CHRONOLOGICAL_SPLIT_KEYS = optionKeys<ChronologicalSplitOptions>({
  testSize: true,
  testFraction: true,
  gap: true,
  lookback: true,
  horizon: true,
});

/**
 * chronologicalSplit's result: the row ranges to cut training and test windows from.
 *
 * @example
 * ```ts
 * import { chronologicalSplit, makeWindows, type ChronologicalSplit } from 'axon-nn';
 * const series = Array.from({ length: 100 }, (_, t) => t % 12);
 * const split: ChronologicalSplit = chronologicalSplit(series.length, { testSize: 20, lookback: 12 });
 * const train = makeWindows(series, { lookback: 12, range: split.train });
 * const test = makeWindows(series, { lookback: 12, range: split.test }); // first target: row 80
 * ```
 */
export interface ChronologicalSplit {
  /** Rows for fitting scalers and cutting training windows: [0, testTargetsStart - gap). */
  train: RowRange;
  /** Rows for cutting test windows: the held-out period, preceded by `lookback` rows of context. */
  test: RowRange;
  /** First row that may be a test target. */
  testTargetsStart: number;
}

/**
 * Splits a series of `length` steps in time order: training rows first, held-out rows last.
 *
 * Why no target leaks: training windows are cut from `train` only, so none of their inputs or
 * targets lies past `train.end`. Test windows are cut from `test`, which starts `lookback`
 * rows before the held-out period so its first window's first target is `testTargetsStart`;
 * their inputs may include the last training rows, which a forecaster legitimately knows at
 * that time, but no test target is ever a training row. (Cutting windows from the whole series
 * and then splitting the windows would leak: the training windows at the boundary would have
 * held-out rows as targets.) Fit scalers on `train` only (`scaleSeries`).
 *
 * @param length T, the number of steps.
 * @throws RangeError when both or neither size is valid, or a part cannot hold one window.
 * @example
 * ```ts
 * import { chronologicalSplit } from 'axon-nn';
 * const split = chronologicalSplit(100, { testSize: 20, lookback: 12 });
 * console.log(split); // { train: { start: 0, end: 80 }, test: { start: 68, end: 100 }, testTargetsStart: 80 }
 * ```
 */
export function chronologicalSplit(length: number, options: ChronologicalSplitOptions = {}): ChronologicalSplit {
  const op = 'chronologicalSplit';
  if (!Number.isSafeInteger(length) || length < 2)
    throw new RangeError(`${op}: length must be an integer >= 2, got ${String(length)}`);
  checkOptionKeys(op, options, CHRONOLOGICAL_SPLIT_KEYS);
  const { testSize, testFraction } = options;
  if (testSize !== undefined && testFraction !== undefined)
    throw new RangeError(`${op}: give testSize or testFraction, not both`);
  let nTest: number;
  if (testSize !== undefined) {
    if (!Number.isSafeInteger(testSize) || testSize < 1)
      throw new RangeError(`${op}: testSize must be a positive integer, got ${String(testSize)}`);
    nTest = testSize;
  } else {
    const f = testFraction ?? 0.2;
    if (typeof f !== 'number' || !(f > 0 && f < 1))
      throw new RangeError(`${op}: testFraction must be in (0, 1), got ${String(f)}`);
    nTest = Math.max(1, Math.round(length * f));
  }
  const gap = options.gap ?? 0;
  if (!Number.isSafeInteger(gap) || gap < 0) throw new RangeError(`${op}: gap must be a non-negative integer, got ${String(gap)}`);
  const lookback = options.lookback ?? 0;
  if (!Number.isSafeInteger(lookback) || lookback < 0)
    throw new RangeError(`${op}: lookback must be a non-negative integer, got ${String(lookback)}`);
  const horizon = positiveInt(op, 'horizon', options.horizon ?? 1);
  const trainEnd = length - nTest - gap;
  if (trainEnd < lookback + horizon)
    throw new RangeError(
      `${op}: ${Math.max(trainEnd, 0)} training rows (length ${length} - test ${nTest} - gap ${gap}) cannot hold one window of lookback ${lookback} + horizon ${horizon}`,
    );
  if (nTest < horizon) throw new RangeError(`${op}: ${nTest} held-out rows cannot hold one horizon of ${horizon}`);
  const testTargetsStart = trainEnd + gap;
  return { train: { start: 0, end: trainEnd }, test: { start: testTargetsStart - lookback, end: length }, testTargetsStart };
}

/**
 * The scalers scaleSeries fits and inverseScaleColumns inverts: a StandardScaler or a MinMaxScaler.
 *
 * @example
 * ```ts
 * import { MinMaxScaler, scaleSeries, type SeriesScaler } from 'axon-nn';
 * const scaler: SeriesScaler = new MinMaxScaler();
 * const { scaled } = scaleSeries([2, 4, 6, 8], { scaler });
 * console.log(scaled.toArray()); // [[0], [0.333...], [0.666...], [1]]
 * ```
 */
export type SeriesScaler = StandardScaler | MinMaxScaler;

/**
 * scaleSeries's options. Unknown keys throw.
 *
 * @example
 * ```ts
 * import { MinMaxScaler, scaleSeries, type ScaleSeriesOptions } from 'axon-nn';
 * const options: ScaleSeriesOptions<MinMaxScaler> = { fitRange: { start: 0, end: 3 }, scaler: new MinMaxScaler() };
 * const { scaled, scaler } = scaleSeries([1, 2, 3, 10], options);
 * console.log(scaled.toArray(), scaler.dataMax); // [[0], [0.5], [1], [4.5]] Float64Array [3]
 * ```
 */
export interface ScaleSeriesOptions<S extends SeriesScaler = StandardScaler> {
  /** Rows the statistics come from (default all). */
  fitRange?: RowRange;
  /** The scaler to fit (default a new StandardScaler). */
  scaler?: S;
}
const SCALE_SERIES_KEYS = optionKeys<ScaleSeriesOptions>({ fitRange: true, scaler: true });
/**
 * readCo2's options. Unknown keys throw.
 *
 * @example
 * ```ts
 * import { readCo2, type Co2Options } from 'axon-nn';
 * import { writeFileSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * const path = `${tmpdir()}/co2.csv`;
 * writeFileSync(path, 'date,co2\n19580329,316.1\n19580405,\n19580412,317.6\n');
 * const options: Co2Options = { frequency: 'weekly' };
 * const { values, filled } = await readCo2(path, options); // values [316.1, 316.85, 317.6], filled [1]
 * ```
 */
export interface Co2Options {
  /** 'monthly' (default) or 'weekly'. */
  frequency?: 'monthly' | 'weekly';
}
const CO2_KEYS = optionKeys<Co2Options>({ frequency: true });

/**
 * Scales a (T, F) series with statistics of the rows in `fitRange` only (the training part),
 * so nothing about the held-out period reaches the inputs.
 *
 * @param options fitRange (default all rows: only right when there is no held-out part) and
 *   scaler (default a new StandardScaler, per column).
 * @returns the scaled series as a float32 (T, F) tensor and the fitted scaler (to invert predictions).
 * @throws RangeError for an empty or out-of-bounds fitRange or a NaN in the series.
 * @example
 * ```ts
 * import { chronologicalSplit, scaleSeries } from 'axon-nn';
 * const series = Array.from({ length: 120 }, (_, t) => [t, Math.cos(t / 6)]); // T = 120, F = 2
 * const split = chronologicalSplit(series.length, { testFraction: 0.2, lookback: 24 });
 * const { scaled, scaler } = scaleSeries(series, { fitRange: split.train }); // scaled [120, 2]
 * ```
 */
export function scaleSeries<S extends SeriesScaler = StandardScaler>(
  series: SeriesLike,
  options: ScaleSeriesOptions<S> = {},
): {
  /** The whole series scaled, float32 (T, F). */
  scaled: Tensor;
  /** The fitted scaler, to invert predictions with inverseScaleColumns. */
  scaler: S;
} {
  const op = 'scaleSeries';
  checkOptionKeys(op, options, SCALE_SERIES_KEYS);
  const { data, T, F } = toMatrix(op, series);
  const { start, end } = checkRange(op, options.fitRange, T);
  if (end <= start) throw new RangeError(`${op}: fitRange [${start}, ${end}) is empty`);
  const scaler = options.scaler ?? (new StandardScaler() as S);
  if (!(scaler instanceof StandardScaler) && !(scaler instanceof MinMaxScaler))
    throw new TypeError(`${op}: scaler must be a StandardScaler or a MinMaxScaler`);
  const all = new Tensor(data, [T, F]);
  scaler.fit(new Tensor(data.subarray(start * F, end * F), [end - start, F]));
  return { scaled: scaler.transform(all), scaler };
}

/**
 * Maps scaled values of some columns back to the original units, e.g. predictions (N, H, K)
 * of `targetColumns` when the scaler was fitted on all F columns. The last axis of `values`
 * runs over `columns`.
 *
 * @throws Error when the scaler is not fitted; RangeError for a column it does not cover or a
 *   length that is not a multiple of columns.length; TypeError for non-float32 values.
 * @example
 * ```ts
 * import { scaleSeries, inverseScaleColumns } from 'axon-nn';
 * const { scaler } = scaleSeries([[10, 100], [20, 300]]); // column means 15 and 200, stds 5 and 100
 * const predictions = Float32Array.of(1, -1); // scaled values of column 1
 * console.log(inverseScaleColumns(scaler, predictions, [1])); // Float32Array [300, 100]
 * ```
 */
export function inverseScaleColumns(
  scaler: SeriesScaler,
  values: Float32Array | Tensor,
  columns: readonly number[],
): Float32Array {
  const op = 'inverseScaleColumns';
  const v = values instanceof Tensor ? values.data : values;
  if (!(v instanceof Float32Array)) throw new TypeError(`${op}: values must be float32`);
  const K = columns.length;
  if (K === 0 || v.length % K !== 0)
    throw new RangeError(`${op}: ${v.length} values are not a whole number of rows of ${K} columns`);
  // Per column: original = scaled * a + b.
  const a = new Float64Array(K);
  const b = new Float64Array(K);
  if (scaler instanceof StandardScaler) {
    if (!scaler.mean || !scaler.std) throw new Error(`${op}: the scaler is not fitted`);
    columns.forEach((c, k) => {
      const j = scaler.over === 'all' ? 0 : c;
      if (!Number.isInteger(c) || c < 0 || (scaler.over === 'feature' && c >= scaler.mean!.length))
        throw new RangeError(`${op}: column ${String(c)} is outside the scaler's ${scaler.mean!.length} columns`);
      a[k] = scaler.std![j];
      b[k] = scaler.mean![j];
    });
  } else if (scaler instanceof MinMaxScaler) {
    if (!scaler.dataMin || !scaler.dataMax) throw new Error(`${op}: the scaler is not fitted`);
    const [lo, hi] = scaler.range;
    columns.forEach((c, k) => {
      if (!Number.isInteger(c) || c < 0 || c >= scaler.dataMin!.length)
        throw new RangeError(`${op}: column ${String(c)} is outside the scaler's ${scaler.dataMin!.length} columns`);
      const span = scaler.dataMax![c] - scaler.dataMin![c];
      a[k] = span / (hi - lo);
      b[k] = scaler.dataMin![c] - lo * a[k];
    });
  } else {
    throw new TypeError(`${op}: scaler must be a StandardScaler or a MinMaxScaler`);
  }
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] * a[i % K] + b[i % K];
  return out;
}

/**
 * The naive forecast: each window's last input value of every target column, repeated over
 * the horizon. The baseline a forecaster has to beat (on a random walk it is optimal).
 *
 * @returns float32 (N, H, K), laid out as `w.targets`.
 * @example
 * ```ts
 * import { makeWindows, naiveForecast, mae } from 'axon-nn';
 * const w = makeWindows([1, 2, 4, 7, 11], { lookback: 2, horizon: 2 });
 * const baseline = naiveForecast(w); // Float32Array [2, 2, 4, 4]: each window's last input, twice
 * console.log(mae(baseline, w.targets)); // 4.25 (targets [4, 7, 7, 11])
 * ```
 */
export function naiveForecast(w: Windows): Float32Array {
  const [N, L, F] = w.inputShape;
  const [, H, K] = w.targetShape;
  const out = new Float32Array(N * H * K);
  for (let i = 0; i < N; i++)
    for (let k = 0; k < K; k++) {
      const last = w.inputs[(i * L + L - 1) * F + w.targetColumns[k]];
      for (let h = 0; h < H; h++) out[(i * H + h) * K + k] = last;
    }
  return out;
}

function pairs(op: string, pred: ArrayLike<number> | Tensor, target: ArrayLike<number> | Tensor): [ArrayLike<number>, ArrayLike<number>] {
  const p = pred instanceof Tensor ? pred.data : pred;
  const t = target instanceof Tensor ? target.data : target;
  if (p === null || t === null || typeof p !== 'object' || typeof t !== 'object' || typeof p.length !== 'number' || typeof t.length !== 'number')
    throw new TypeError(`${op}: expected two arrays of numbers`);
  if (p.length !== t.length) throw new RangeError(`${op}: ${p.length} predictions for ${t.length} targets`);
  if (p.length === 0) throw new RangeError(`${op}: no values`);
  for (let i = 0; i < p.length; i++)
    if (!Number.isFinite(p[i]) || !Number.isFinite(t[i]))
      throw new RangeError(`${op}: value ${i} is not finite (prediction ${p[i]}, target ${t[i]})`);
  return [p, t];
}

/**
 * Root mean squared error over all values (arrays or tensors, compared element by element), in float64.
 *
 * @throws RangeError for unequal lengths, no values or a non-finite value; TypeError for non-arrays.
 * @example
 * ```ts
 * import { rmse } from 'axon-nn';
 * console.log(rmse([1, 2, 3], [1, 2, 6])); // 1.7320508075688772 (sqrt(3))
 * ```
 */
export function rmse(pred: ArrayLike<number> | Tensor, target: ArrayLike<number> | Tensor): number {
  const [p, t] = pairs('rmse', pred, target);
  let s = 0;
  for (let i = 0; i < p.length; i++) s += (p[i] - t[i]) ** 2;
  return Math.sqrt(s / p.length);
}

/**
 * Mean absolute error over all values (arrays or tensors, compared element by element), in float64.
 *
 * @throws RangeError for unequal lengths, no values or a non-finite value; TypeError for non-arrays.
 * @example
 * ```ts
 * import { mae, tensor } from 'axon-nn';
 * console.log(mae(tensor([1, 2, 3]), [2, 2, 1])); // 1
 * ```
 */
export function mae(pred: ArrayLike<number> | Tensor, target: ArrayLike<number> | Tensor): number {
  const [p, t] = pairs('mae', pred, target);
  let s = 0;
  for (let i = 0; i < p.length; i++) s += Math.abs(p[i] - t[i]);
  return s / p.length;
}

/**
 * Fills NaN gaps of a univariate series: linearly between the nearest valid neighbours inside
 * the series, by the nearest valid value at either end.
 *
 * @returns the filled series and the indices that were filled.
 * @throws RangeError when no value is valid or one is infinite; TypeError for a non-number.
 * @example
 * ```ts
 * import { interpolateMissing } from 'axon-nn';
 * const { values, filled } = interpolateMissing([NaN, 2, NaN, NaN, 8, NaN]);
 * console.log(values, filled); // Float32Array [2, 2, 4, 6, 8, 8] Int32Array [0, 2, 3, 5]
 * ```
 */
export function interpolateMissing(values: ArrayLike<number>): {
  /** The series with every gap filled, float32. */
  values: Float32Array;
  /** Indices of the values that were NaN and got filled. */
  filled: Int32Array;
} {
  const n = values.length;
  const out = new Float32Array(n);
  const filled: number[] = [];
  let prev = -1;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== 'number') throw new TypeError(`interpolateMissing: value ${i} is ${typeof v}, not a number`);
    if (Number.isNaN(v)) {
      filled.push(i);
      continue;
    }
    if (!Number.isFinite(v)) throw new RangeError(`interpolateMissing: value ${i} is ${v}`);
    out[i] = v;
    // Fill the gap (prev, i): leading gap by v, interior linearly.
    for (let j = prev + 1; j < i; j++) out[j] = prev < 0 ? v : values[prev] + ((values[i] - values[prev]) * (j - prev)) / (i - prev);
    prev = i;
  }
  if (prev < 0) throw new RangeError(`interpolateMissing: all ${n} values are missing`);
  out.fill(values[prev], prev + 1);
  return { values: out, filled: Int32Array.from(filled) };
}

/**
 * A univariate series read from a shipped CSV (readCo2, readSunspots).
 *
 * @example
 * ```ts
 * import { readSunspots, makeWindows, type LoadedSeries } from 'axon-nn';
 * import { writeFileSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * const path = `${tmpdir()}/sunspots.csv`;
 * writeFileSync(path, '"YEAR","SUNACTIVITY"\n1700,5\n1701,11\n1702,16\n1703,23\n');
 * const series: LoadedSeries = await readSunspots(path);
 * const w = makeWindows(series.values, { lookback: 2 }); // 2 windows; series.time[0] is '1700'
 * ```
 */
export interface LoadedSeries {
  /** Label of each step: 'YYYY-MM' (monthly), 'YYYY-MM-DD' (weekly) or 'YYYY' (yearly). */
  time: string[];
  /** The value of each step, float32, gaps filled. */
  values: Float32Array;
  /** Steps whose value was missing and interpolated. */
  filled: Int32Array;
}

/**
 * Reads the Mauna Loa CO2 series (data/co2/co2.csv: `date` as YYYYMMDD, weekly `co2` in ppmv,
 * 59 weeks empty). 'monthly' (default): the mean of each calendar month's weekly values, March
 * 1958 to December 2001 (526 months); the 5 months without any value are interpolated
 * linearly. 'weekly': the 2284 weeks as given, empty weeks interpolated linearly.
 *
 * @throws RangeError for a malformed date or CO2 value or dates out of order (naming the row),
 *   or a series with no value at all; what readCsv throws for the file.
 * @example
 * ```ts
 * import { readCo2 } from 'axon-nn';
 * import { writeFileSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * const path = `${tmpdir()}/co2.csv`; // or data/co2/co2.csv from the repository
 * writeFileSync(path, 'date,co2\n19580329,316.1\n19580405,317.3\n19580503,317.5\n19580510,\n19580705,315.9\n');
 * const { time, values, filled } = await readCo2(path);
 * console.log(time); // ['1958-03', '1958-04', '1958-05', '1958-06', '1958-07']
 * console.log(values, filled); // Float32Array [316.1, 317.3, 317.5, 316.7, 315.9] Int32Array [3] (June interpolated)
 * ```
 */
export async function readCo2(path: string, options: Co2Options = {}): Promise<LoadedSeries> {
  const op = 'readCo2';
  checkOptionKeys(op, options, CO2_KEYS);
  const frequency = options.frequency ?? 'monthly';
  if (frequency !== 'monthly' && frequency !== 'weekly')
    throw new RangeError(`${op}: frequency must be 'monthly' or 'weekly', got ${String(frequency)}`);
  const table = await readCsv(path);
  const dates = csvColumn(table, 'date');
  // Empty cells are the missing weeks (csvColumns refuses them, so parse here).
  const co2 = csvColumn(table, 'co2').map((c, r) => {
    const v = c === '' ? NaN : Number(c);
    if (c !== '' && !Number.isFinite(v)) throw new RangeError(`${op}: row ${r + 1}: co2 ${JSON.stringify(c)} is not a number`);
    return v;
  });
  const day = dates.map((d, r) => {
    const m = /^(\d{4})(\d{2})(\d{2})$/.exec(d);
    if (!m || +m[2] < 1 || +m[2] > 12 || +m[3] < 1 || +m[3] > 31)
      throw new RangeError(`${op}: row ${r + 1}: date ${JSON.stringify(d)} is not YYYYMMDD`);
    return [+m[1], +m[2], +m[3]] as const;
  });
  for (let r = 1; r < day.length; r++)
    if (dates[r] <= dates[r - 1]) throw new RangeError(`${op}: row ${r + 1}: dates are not increasing`);
  if (frequency === 'weekly') {
    const { values, filled } = interpolateMissing(co2);
    return { time: day.map(([y, m, d]) => `${y}-${pad2(m)}-${pad2(d)}`), values, filled };
  }
  const first = day[0][0] * 12 + day[0][1] - 1;
  const months = day[day.length - 1][0] * 12 + day[day.length - 1][1] - 1 - first + 1;
  const sum = new Float64Array(months);
  const count = new Int32Array(months);
  day.forEach(([y, m], r) => {
    if (Number.isNaN(co2[r])) return;
    const k = y * 12 + m - 1 - first;
    sum[k] += co2[r];
    count[k]++;
  });
  const means = Array.from(sum, (s, k) => (count[k] > 0 ? s / count[k] : NaN));
  const { values, filled } = interpolateMissing(means);
  const time = means.map((_, k) => `${Math.floor((first + k) / 12)}-${pad2(((first + k) % 12) + 1)}`);
  return { time, values, filled };
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * Reads the yearly sunspot numbers (data/sunspots/sunspots.csv: YEAR, SUNACTIVITY; 1700-2008,
 * no missing values).
 *
 * @throws RangeError for a missing or non-numeric value (naming the row); what readCsv throws for the file.
 * @example
 * ```ts
 * import { readSunspots } from 'axon-nn';
 * import { writeFileSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * const path = `${tmpdir()}/sunspots.csv`; // or data/sunspots/sunspots.csv from the repository
 * writeFileSync(path, '"YEAR","SUNACTIVITY"\n1700,5\n1701,11\n1702,16\n');
 * const { time, values } = await readSunspots(path);
 * console.log(time, values); // ['1700', '1701', '1702'] Float32Array [5, 11, 16]
 * ```
 */
export async function readSunspots(path: string): Promise<LoadedSeries> {
  const table = await readCsv(path);
  const years = csvColumns(table, ['YEAR']).data;
  const values = csvColumns(table, ['SUNACTIVITY']).data as Float32Array;
  values.forEach((v, r) => {
    if (!Number.isFinite(v)) throw new RangeError(`readSunspots: row ${r + 1}: SUNACTIVITY is missing`);
  });
  return { time: Array.from(years, (y) => String(y)), values, filled: new Int32Array(0) };
}
