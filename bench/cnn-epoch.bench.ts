/**
 * A synthetic stand-in for the Fashion-MNIST CNN epoch that needs no dataset or peers: the
 * same network (conv 1->32 3x3, relu, max pool, conv 32->64 3x3, relu, max pool, dense 3136->128
 * relu, dense 128->10) fit on 6,400 random 28x28 images with Adam, batch 64, one epoch per fit
 * call; prints the minimum and every epoch. Used to compare two trees back to back (run it in
 * each, alternately: the machine drifts by several percent between runs).
 *
 *   EPOCHS=6 npx tsx bench/cnn-epoch.bench.ts
 */
import { Conv2d, Flatten, Generator, Linear, MaxPool2d, Model, ReLU, Sequential, Tensor } from '../src/index.js';

const g = new Generator(3);
const n = 6400;
const x = new Tensor(
  Float32Array.from({ length: n * 784 }, () => g.nextNormal()),
  [n, 1, 28, 28],
);
const y = new Tensor(
  Int32Array.from({ length: n }, () => g.nextInt(10)),
  [n],
);
const model = new Model(
  new Sequential(
    new Conv2d(1, 32, 3, { padding: 1 }),
    new ReLU(),
    new MaxPool2d(2),
    new Conv2d(32, 64, 3, { padding: 1 }),
    new ReLU(),
    new MaxPool2d(2),
    new Flatten(),
    new Linear(64 * 7 * 7, 128, { activation: 'relu' }),
    new Linear(128, 10),
  ),
);
model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
const epochs = Number(process.env.EPOCHS) || 3;
const times: number[] = [];
for (let e = 0; e < epochs; e++) {
  const t0 = performance.now();
  await model.fit(x, y, { epochs: 1, batchSize: 64, shuffle: false, verbose: 0 });
  times.push(performance.now() - t0);
}
console.log(`CNN epoch min ${Math.min(...times).toFixed(0)} ms (${times.map((t) => t.toFixed(0)).join(', ')})`);
