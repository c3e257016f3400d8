/**
 * Time-series forecasting with an LSTM: monthly Mauna Loa CO2 (1958-2001, public domain,
 * data/co2/README.md), the last 20% held out. The model sees the past 24 monthly changes
 * (scaled with statistics of the training months only) and predicts the next month's change;
 * the forecast is the last known value plus that change. Working on changes rather than
 * levels keeps the held-out years, which lie above every training value, inside the range the
 * network was trained on. Compared on the held-out months with the naive forecast (next month =
 * this month), the baseline a forecaster must beat; reports RMSE and MAE of both, in ppm.
 *
 *   npx tsx examples/forecast.ts [--epochs 60] [--seed 1] [--horizon 1]
 */
import { parseArgs } from 'node:util';
import {
  LSTM,
  Linear,
  Model,
  Sequential,
  Tensor,
  chronologicalSplit,
  mae,
  makeWindows,
  manualSeed,
  readCo2,
  rmse,
  scaleSeries,
} from 'axon-nn';

const { values: args } = parseArgs({
  options: {
    epochs: { type: 'string', default: '60' },
    seed: { type: 'string', default: '1' },
    horizon: { type: 'string', default: '1' },
  },
});
const seed = Number(args.seed);
const horizon = Number(args.horizon);
const lookback = 24;
manualSeed(seed);

const co2 = await readCo2(new URL('../data/co2/co2.csv', import.meta.url).pathname);
const level = co2.values;
// Monthly changes: change[t] = level[t+1] - level[t].
const change = Float32Array.from({ length: level.length - 1 }, (_, t) => level[t + 1] - level[t]);
const split = chronologicalSplit(change.length, { testFraction: 0.2, lookback, horizon });
const { scaled, scaler } = scaleSeries(change, { fitRange: split.train });
const [mean, std] = [scaler.mean![0], scaler.std![0]];

const windows = (range: { start: number; end: number }) => makeWindows(scaled, { lookback, horizon, range });
const train = windows(split.train);
const test = windows(split.test);
console.log(
  `CO2 ${co2.time[0]}..${co2.time.at(-1)}: ${level.length} months; ${train.inputShape[0]} training windows, ${test.inputShape[0]} held-out (from ${co2.time[split.testTargetsStart + 1]})`,
);

const net = new Sequential(new LSTM(1, 32, { batchFirst: true, returnSequences: false }), new Linear(32, horizon));
const model = new Model(net).compile({ optimizer: 'adam', learningRate: 5e-3, loss: 'mse' });
const flat = (w: typeof train) => new Tensor(w.targets, [w.targetShape[0], horizon]);
await model.fit(new Tensor(train.inputs, train.inputShape), flat(train), {
  epochs: Number(args.epochs),
  batchSize: 16,
  seed,
  verbose: 0,
});

// Back to ppm: level[t+1+h] = level[t] + sum of the predicted changes up to h.
const pred = (await model.predict(new Tensor(test.inputs, test.inputShape))).data;
const forecast: number[] = [];
const naive: number[] = [];
const actual: number[] = [];
for (let i = 0; i < test.inputShape[0]; i++) {
  // Window i's last input is change[s + lookback - 1] = level[s + lookback] - level[s + lookback - 1].
  const lastKnown = test.starts[i] + lookback;
  let value = level[lastKnown];
  for (let h = 0; h < horizon; h++) {
    value += pred[i * horizon + h] * std + mean;
    forecast.push(value);
    naive.push(level[lastKnown]);
    actual.push(level[lastKnown + 1 + h]);
  }
}
const report = (name: string, p: number[]) =>
  console.log(`  ${name.padEnd(22)} RMSE ${rmse(p, actual).toFixed(3)} ppm   MAE ${mae(p, actual).toFixed(3)} ppm`);
console.log(`held-out forecasts ${horizon} month${horizon > 1 ? 's' : ''} ahead:`);
report('LSTM', forecast);
report('naive (last value)', naive);
