/**
 * A synthetic stand-in for the Fashion-MNIST MLP figures that needs no dataset or peers: one
 * epoch of fit over 60,000 random 784-feature rows (784-256-128-10, Adam, batch 64; median and
 * min of 7) and a 20,000-row predict (median of 5). Used to compare two trees back to back
 * (run it in each; the machine is noisy, so alternate and compare the minima).
 *
 *   npx tsx bench/epoch-and-large-predict.bench.ts
 */
import { Generator, Linear, Model, Sequential, Tensor } from '../src/index.js';

const g = new Generator(1);
const n = 60000;
const x = new Tensor(
  Float32Array.from({ length: n * 784 }, () => g.nextNormal()),
  [n, 784],
);
const y = new Tensor(
  Int32Array.from({ length: n }, () => g.nextInt(10)),
  [n],
);
const model = new Model(
  new Sequential(
    new Linear(784, 256, { activation: 'relu' }),
    new Linear(256, 128, { activation: 'relu' }),
    new Linear(128, 10),
  ),
);
model.compile({ optimizer: 'adam', loss: 'crossEntropy' });
await model.fit(x.slice(0, 6400), y.slice(0, 6400), { epochs: 1, batchSize: 64, verbose: 0 });
const fits: number[] = [];
for (let i = 0; i < 7; i++) {
  const t0 = performance.now();
  await model.fit(x, y, { epochs: 1, batchSize: 64, verbose: 0 });
  fits.push(performance.now() - t0);
}
const xp = x.slice(0, 20000);
await model.predict(xp);
const preds: number[] = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  await model.predict(xp);
  preds.push(performance.now() - t0);
}
const med = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
console.log(
  `epoch (60k rows, batch 64): median ${med(fits).toFixed(0)} ms, min ${Math.min(...fits).toFixed(0)} ms; predict of 20,000 rows: median ${med(preds).toFixed(1)} ms`,
);
