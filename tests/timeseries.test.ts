/**
 * Time-series tools against worked examples: windows written out by hand, the chronological
 * split checked for leakage window by window, scaling statistics recomputed in float64 from
 * the training rows only, the naive forecast and error metrics, gap filling, and the shipped
 * CO2 and sunspot series read back with the counts their READMEs state.
 */
import { describe, expect, it } from 'vitest';
import {
  MinMaxScaler,
  StandardScaler,
  chronologicalSplit,
  interpolateMissing,
  inverseScaleColumns,
  mae,
  makeWindows,
  naiveForecast,
  readCo2,
  readSunspots,
  rmse,
  scaleSeries,
  tensor,
  windowsToTensors,
} from '../src/index.js';

const CO2 = new URL('../data/co2/co2.csv', import.meta.url).pathname;
const SUNSPOTS = new URL('../data/sunspots/sunspots.csv', import.meta.url).pathname;

describe('makeWindows', () => {
  it('cuts a univariate series into lookback inputs and the next value', () => {
    const w = makeWindows([1, 2, 3, 4, 5], { lookback: 2 });
    expect(w.inputShape).toEqual([3, 2, 1]);
    expect(Array.from(w.inputs)).toEqual([1, 2, 2, 3, 3, 4]);
    expect(w.targetShape).toEqual([3, 1, 1]);
    expect(Array.from(w.targets)).toEqual([3, 4, 5]);
    expect(Array.from(w.starts)).toEqual([0, 1, 2]);
  });

  it('handles several features, target columns, horizon and stride', () => {
    // Row t = [t, 10t, 100t], t = 0..6.
    const rows = Array.from({ length: 7 }, (_, t) => [t, 10 * t, 100 * t]);
    const w = makeWindows(rows, { lookback: 2, horizon: 2, stride: 2, targetColumns: [2, 0] });
    // Windows start at 0 and 2 (a third at 4 would need rows up to 7).
    expect(w.inputShape).toEqual([2, 2, 3]);
    expect(Array.from(w.inputs)).toEqual([0, 0, 0, 1, 10, 100, 2, 20, 200, 3, 30, 300]);
    expect(w.targetShape).toEqual([2, 2, 2]);
    expect(Array.from(w.targets)).toEqual([200, 2, 300, 3, 400, 4, 500, 5]);
    expect(w.targetColumns).toEqual([2, 0]);
    const { x, y } = windowsToTensors(w);
    expect(x.shape).toEqual([2, 2, 3]);
    expect(y.shape).toEqual([2, 2, 2]);
  });

  it('windows only the given range, and accepts tensors and typed arrays', () => {
    const series = Float32Array.from({ length: 10 }, (_, t) => t);
    const w = makeWindows(series, { lookback: 3, range: { start: 4, end: 8 } });
    expect(Array.from(w.starts)).toEqual([4]);
    expect(Array.from(w.targets)).toEqual([7]);
    const t = makeWindows(tensor([[1], [2], [3]]), { lookback: 1, horizon: 2 });
    expect(Array.from(t.targets)).toEqual([2, 3]);
    expect(makeWindows(tensor([5, 6]), { lookback: 1 }).targetShape).toEqual([1, 1, 1]);
  });

  it('gives clear errors for bad arguments', () => {
    const s = [1, 2, 3, 4];
    expect(() => makeWindows(s, { lookback: 0 })).toThrow(/lookback must be a positive integer, got 0/);
    expect(() => makeWindows(s, { lookback: -2 })).toThrow(/lookback/);
    expect(() => makeWindows(s, { lookback: 1.5 })).toThrow(/lookback/);
    expect(() => makeWindows(s, {} as never)).toThrow(/lookback must be a positive integer, got undefined/);
    expect(() => makeWindows(s, { lookback: 1, horizon: 0 })).toThrow(/horizon/);
    expect(() => makeWindows(s, { lookback: 1, stride: 0 })).toThrow(/stride/);
    expect(() => makeWindows(s, { lookback: 3, horizon: 2 })).toThrow(
      /4 rows are too few for lookback 3 \+ horizon 2; need at least 5/,
    );
    expect(() => makeWindows(s, { lookback: 2, range: { start: 2, end: 4 } })).toThrow(/too few .* in the range/);
    expect(() => makeWindows(s, { lookback: 1, range: { start: 0, end: 9 } })).toThrow(/range \[0, 9\)/);
    expect(() => makeWindows([1, NaN, 3], { lookback: 1 })).toThrow(
      /row 1, column 0 is NaN; fill missing values first/,
    );
    expect(() =>
      makeWindows(
        [
          [1, 2],
          [3, Infinity],
        ],
        { lookback: 1 },
      ),
    ).toThrow(/row 1, column 1 is Infinity/);
    expect(() => makeWindows([[1, 2], [3]], { lookback: 1 })).toThrow(/row 1 has 1 values, expected 2/);
    expect(() => makeWindows([[1], [2]], { lookback: 1, targetColumns: [1] })).toThrow(
      /targetColumns\[0\] = 1 is outside/,
    );
    expect(() => makeWindows([[1], [2]], { lookback: 1, targetColumns: [0, 0] })).toThrow(/repeats column 0/);
    expect(() => makeWindows([[1], [2]], { lookback: 1, targetColumns: [] })).toThrow(/empty/);
    expect(() => makeWindows(['a', 'b'] as never, { lookback: 1 })).toThrow(/value 0 is string/);
    expect(() => makeWindows(tensor([1, 2], { dtype: 'int32' }), { lookback: 1 })).toThrow(/float32 tensor/);
  });
});

describe('chronologicalSplit', () => {
  it('holds out the end and starts the test range lookback rows early', () => {
    expect(chronologicalSplit(100, { testSize: 20, lookback: 12 })).toEqual({
      train: { start: 0, end: 80 },
      test: { start: 68, end: 100 },
      testTargetsStart: 80,
    });
    expect(chronologicalSplit(100, { testFraction: 0.25, gap: 5, lookback: 3, horizon: 2 })).toEqual({
      train: { start: 0, end: 70 },
      test: { start: 72, end: 100 },
      testTargetsStart: 75,
    });
    expect(chronologicalSplit(10).train.end).toBe(8);
  });

  it('leaks no target: training windows end before the test period, test targets never overlap training', () => {
    const T = 60;
    const series = Float32Array.from({ length: T }, (_, t) => t); // the value is the row index
    const lookback = 6;
    const horizon = 3;
    const split = chronologicalSplit(T, { testSize: 15, gap: 2, lookback, horizon });
    const train = makeWindows(series, { lookback, horizon, range: split.train });
    const test = makeWindows(series, { lookback, horizon, range: split.test });
    expect(Math.max(...train.inputs, ...train.targets)).toBeLessThan(split.train.end);
    expect(Math.min(...test.targets)).toBe(split.testTargetsStart);
    expect(Math.min(...test.targets)).toBeGreaterThanOrEqual(split.train.end + 2);
    expect(Math.max(...test.targets)).toBe(T - 1);
    // Every held-out row is a target of some test window.
    expect(new Set(test.targets).size).toBe(15);
  });

  it('rejects sizes that leave no window', () => {
    expect(() => chronologicalSplit(100, { testSize: 10, testFraction: 0.1 })).toThrow(/not both/);
    expect(() => chronologicalSplit(100, { testFraction: 1 })).toThrow(/testFraction must be in \(0, 1\)/);
    expect(() => chronologicalSplit(100, { testSize: 0 })).toThrow(/testSize must be a positive integer/);
    expect(() => chronologicalSplit(100, { testSize: 95, lookback: 5 })).toThrow(
      /5 training rows .* cannot hold one window/,
    );
    expect(() => chronologicalSplit(100, { testSize: 2, horizon: 3 })).toThrow(
      /2 held-out rows cannot hold one horizon of 3/,
    );
    expect(() => chronologicalSplit(100, { gap: -1 })).toThrow(/gap/);
    expect(() => chronologicalSplit(1)).toThrow(/length must be an integer >= 2/);
  });
});

describe('scaling fitted on the training rows only', () => {
  const rows = [
    [1, 10],
    [2, 20],
    [3, 60],
    [100, 1000],
  ];

  it('StandardScaler statistics come from fitRange, and every row is transformed', () => {
    const { scaled, scaler } = scaleSeries(rows, { fitRange: { start: 0, end: 3 } });
    const mean0 = 2;
    const std0 = Math.sqrt(2 / 3);
    const mean1 = 30;
    const std1 = Math.sqrt((400 + 100 + 900) / 3);
    expect(Array.from(scaler.mean!)).toEqual([mean0, mean1]);
    expect(scaler.std![0]).toBeCloseTo(std0, 12);
    expect(scaler.std![1]).toBeCloseTo(std1, 12);
    expect(scaled.shape).toEqual([4, 2]);
    expect(scaled.data[6]).toBeCloseTo((100 - mean0) / std0, 4);
    expect(scaled.data[7]).toBeCloseTo((1000 - mean1) / std1, 4);
    // Back to the original units for the predicted columns only.
    const back = inverseScaleColumns(scaler, Float32Array.of(scaled.data[7], scaled.data[5]), [1]);
    expect(back[0]).toBeCloseTo(1000, 2);
    expect(back[1]).toBeCloseTo(60, 3);
  });

  it('works with a MinMaxScaler too', () => {
    const { scaled, scaler } = scaleSeries(rows, { fitRange: { start: 0, end: 2 }, scaler: new MinMaxScaler([-1, 1]) });
    expect(Array.from(scaled.data.slice(0, 4))).toEqual([-1, -1, 1, 1]);
    expect(scaled.data[4]).toBeCloseTo(3, 6); // (3 - 1) / (2 - 1) * 2 - 1
    const back = inverseScaleColumns(scaler, Float32Array.of(3, -1), [0, 1]);
    expect(Array.from(back)).toEqual([3, 10]);
  });

  it('rejects an empty fit range, NaN and unfitted scalers', () => {
    expect(() => scaleSeries(rows, { fitRange: { start: 2, end: 2 } })).toThrow(/fitRange \[2, 2\) is empty/);
    expect(() => scaleSeries([1, NaN])).toThrow(/row 1, column 0 is NaN/);
    expect(() => inverseScaleColumns(new StandardScaler(), Float32Array.of(1), [0])).toThrow(/not fitted/);
    const { scaler } = scaleSeries(rows);
    expect(() => inverseScaleColumns(scaler, Float32Array.of(1), [2])).toThrow(/column 2 is outside/);
    expect(() => inverseScaleColumns(scaler, Float32Array.of(1, 2, 3), [0, 1])).toThrow(/not a whole number/);
  });
});

describe('naive forecast and errors', () => {
  it('repeats the last input value of each target column over the horizon', () => {
    const rows = Array.from({ length: 6 }, (_, t) => [t, -t]);
    const w = makeWindows(rows, { lookback: 2, horizon: 2, targetColumns: [1] });
    expect(Array.from(naiveForecast(w))).toEqual([-1, -1, -2, -2, -3, -3]);
    expect(Array.from(w.targets)).toEqual([-2, -3, -3, -4, -4, -5]);
    // Errors of 1 and 2 at each window.
    expect(mae(naiveForecast(w), w.targets)).toBe(1.5);
    expect(rmse(naiveForecast(w), w.targets)).toBeCloseTo(Math.sqrt(2.5), 12);
  });

  it('rmse and mae check their inputs', () => {
    expect(rmse([0, 0], [3, 4])).toBeCloseTo(Math.sqrt(12.5), 12);
    expect(mae(tensor([1, 2]), [2, 4])).toBe(1.5);
    expect(() => rmse([1], [1, 2])).toThrow(/1 predictions for 2 targets/);
    expect(() => mae([], [])).toThrow(/no values/);
    expect(() => rmse([NaN], [1])).toThrow(/value 0 is not finite/);
  });
});

describe('missing values and the shipped series', () => {
  it('interpolates interior gaps linearly and extends the ends', () => {
    const r = interpolateMissing([NaN, 2, NaN, NaN, 8, NaN]);
    expect(Array.from(r.values)).toEqual([2, 2, 4, 6, 8, 8]);
    expect(Array.from(r.filled)).toEqual([0, 2, 3, 5]);
    expect(Array.from(interpolateMissing([1, 2]).filled)).toEqual([]);
    expect(() => interpolateMissing([NaN, NaN])).toThrow(/all 2 values are missing/);
    expect(() => interpolateMissing([1, Infinity])).toThrow(/value 1 is Infinity/);
  });

  it('reads Mauna Loa CO2 as 526 monthly means with 5 months interpolated', async () => {
    const m = await readCo2(CO2);
    expect(m.values.length).toBe(526);
    expect(m.time[0]).toBe('1958-03');
    expect(m.time[525]).toBe('2001-12');
    expect(m.filled.length).toBe(5);
    expect(m.values[0]).toBeCloseTo(316.1, 4); // March 1958 has one week: 19580329, 316.1
    // December 2001: weeks 1, 8, 15, 22, 29 -> 370.3, 370.8, 371.2, 371.3, 371.5 in the file.
    expect(m.values[525]).toBeCloseTo(371.02, 4);
    // Months without any valid week: June and October 1958, February to April 1964.
    expect(Array.from(m.filled, (k) => m.time[k])).toEqual(['1958-06', '1958-10', '1964-02', '1964-03', '1964-04']);
    // February to April 1964 lie on the line from January to May 1964.
    const jan = m.time.indexOf('1964-01');
    expect(m.values[jan + 2]).toBeCloseTo((m.values[jan] + m.values[jan + 4]) / 2, 3);
    expect(Math.min(...m.values)).toBeGreaterThan(310);
    expect(Math.max(...m.values)).toBeLessThan(375);
    for (const k of m.filled) expect(Number.isFinite(m.values[k])).toBe(true);
    const w = await readCo2(CO2, { frequency: 'weekly' });
    expect(w.values.length).toBe(2284);
    expect(w.filled.length).toBe(59);
    expect(w.time[0]).toBe('1958-03-29');
    await expect(readCo2(CO2, { frequency: 'daily' as never })).rejects.toThrow(/frequency/);
  });

  it('reads the yearly sunspot numbers, 1700-2008', async () => {
    const s = await readSunspots(SUNSPOTS);
    expect(s.values.length).toBe(309);
    expect(s.time[0]).toBe('1700');
    expect(s.time[308]).toBe('2008');
    expect(s.values[0]).toBe(5);
    expect(s.values[308]).toBeCloseTo(2.9, 5);
    // A held-out comparison end to end: the naive forecast has a finite error on the test years.
    const split = chronologicalSplit(309, { testSize: 40, lookback: 10 });
    const test = makeWindows(s.values, { lookback: 10, range: split.test });
    expect(test.inputShape[0]).toBe(40);
    expect(rmse(naiveForecast(test), test.targets)).toBeGreaterThan(0);
  });
});
