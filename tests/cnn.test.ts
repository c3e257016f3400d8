/**
 * Convolutional networks end to end: a small CNN learns a synthetic pattern through Model.fit
 * (the recorded-step path, so every conv/pool/norm op must replay), BatchNorm running
 * statistics move during fit and are used by predict, and every conv layer type saves and
 * loads with bitwise-identical predictions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AdaptiveAvgPool2d,
  AvgPool2d,
  BatchNorm1d,
  BatchNorm2d,
  Conv1d,
  Conv2d,
  ConvTranspose2d,
  Dropout,
  Flatten,
  GlobalAvgPool2d,
  LayerNorm,
  Linear,
  MaxPool2d,
  Model,
  Module,
  ReLU,
  Sequential,
  Tensor,
  loadModel,
  manualSeed,
  noGrad,
  randn,
  saveModel,
  serializeModule,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'axon-cnn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 12x12 images holding a horizontal (class 0) or vertical (class 1) bar of length 5 at a
 * random place, plus noise: translation-invariant, so a conv + pool net gets it easily. */
function bars(n: number, seed: number): [Tensor, Tensor] {
  let s = seed >>> 0;
  const rnd = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  const x = new Float32Array(n * 144);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const cls = i % 2;
    y[i] = cls;
    for (let p = 0; p < 144; p++) x[i * 144 + p] = 0.3 * (rnd() - 0.5);
    const r = Math.floor(rnd() * (cls ? 8 : 12));
    const c = Math.floor(rnd() * (cls ? 12 : 8));
    for (let t = 0; t < 5; t++) x[i * 144 + (cls ? (r + t) * 12 + c : r * 12 + c + t)] += 1;
  }
  return [new Tensor(x, [n, 1, 12, 12]), new Tensor(y, [n])];
}

const forward = (m: Module, x: Tensor): Float32Array => {
  m.eval();
  return noGrad(() => m.forward(x)).data as Float32Array;
};

describe('CNN training', () => {
  it('learns bars with conv, batch norm, pooling and dropout through fit; predict uses the running stats', async () => {
    manualSeed(1);
    const bn = new BatchNorm2d(8);
    const net = new Sequential(
      new Conv2d(1, 8, 3, { padding: 1 }),
      bn,
      new ReLU(),
      new MaxPool2d(2),
      new Conv2d(8, 16, 3, { padding: 'same', activation: 'relu' }),
      new GlobalAvgPool2d(),
      new Dropout(0.1),
      new Linear(16, 2),
    );
    const model = new Model(net).compile({
      optimizer: 'adam',
      learningRate: 0.01,
      loss: 'crossEntropy',
      metrics: ['accuracy'],
    });
    const [x, y] = bars(256, 7);
    const [xt, yt] = bars(200, 99);
    const before = Float32Array.from(bn.buffer('running_mean').data);
    const h = await model.fit(x, y, { epochs: 12, batchSize: 32, verbose: 0, seed: 3 });
    expect(h.history.loss.at(-1)).toBeLessThan(h.history.loss[0]);
    const acc = (await model.evaluate(xt, yt)).accuracy;
    expect(acc).toBeGreaterThanOrEqual(0.95);
    // The running statistics moved during the replayed steps, and eval-mode predict uses them.
    expect(Array.from(bn.buffer('running_mean').data)).not.toEqual(Array.from(before));
    const p = await model.predict(xt.slice(0, 8));
    expect(Array.from(p.data)).toEqual(Array.from(forward(net, xt.slice(0, 8))));
  });
});

describe('conv layers in model files', () => {
  it('every conv, pooling and normalisation layer round-trips with identical predictions', async () => {
    manualSeed(5);
    const image = new Sequential(
      new Conv2d(3, 6, [3, 2], { stride: [2, 1], padding: [1, 0, 1, 1], dilation: 1, activation: 'tanh' }),
      new BatchNorm2d(6, { momentum: 0.2, eps: 1e-4 }),
      new MaxPool2d(2, { stride: 1, padding: 1, ceilMode: true }),
      new Conv2d(6, 6, 3, { groups: 3, padding: 'same', bias: false }),
      new AvgPool2d(2, { countIncludePad: false }),
      new ConvTranspose2d(6, 4, 2, { stride: 2, outputPadding: 1 }),
      new AdaptiveAvgPool2d([3, 3]),
      new LayerNorm([3, 3]),
      new Flatten(),
      new BatchNorm1d(36),
      new Linear(36, 5),
    );
    const x = randn([4, 3, 11, 9]);
    // Move the batch-norm statistics away from their initial values first.
    image.train();
    noGrad(() => image.forward(x));
    await saveModel(image, join(dir, 'cnn.axon'));
    const loaded = await loadModel(join(dir, 'cnn.axon'));
    expect(serializeModule(loaded)).toEqual(serializeModule(image));
    expect(Array.from(forward(loaded, x))).toEqual(Array.from(forward(image, x)));
    const seq = new Sequential(
      new Conv1d(3, 5, 3, { padding: 'same', stride: 1 }),
      new ReLU(),
      new Conv1d(5, 2, 2, { dilation: 2 }),
    );
    await saveModel(seq, join(dir, 'conv1d.axon'));
    const x1 = randn([2, 3, 10]);
    expect(Array.from(forward(await loadModel(join(dir, 'conv1d.axon')), x1))).toEqual(Array.from(forward(seq, x1)));
  });
});
