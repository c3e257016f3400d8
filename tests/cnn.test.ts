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
  RandomCrop,
  RandomHorizontalFlip,
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

describe('augmentation layers', () => {
  const img = (): Tensor =>
    new Tensor(
      Float32Array.from({ length: 2 * 2 * 4 * 5 }, (_, i) => i + 1),
      [2, 2, 4, 5],
    );

  it('RandomHorizontalFlip mirrors with probability p in training, never in evaluation', () => {
    const x = img();
    const always = new RandomHorizontalFlip(1);
    const y = always.forward(x);
    for (let p = 0; p < 4; p++)
      for (let r = 0; r < 4; r++)
        for (let c = 0; c < 5; c++) expect(y.data[(p * 4 + r) * 5 + c]).toBe(x.data[(p * 4 + r) * 5 + (4 - c)]);
    expect(new RandomHorizontalFlip(0).forward(x)).toBe(x);
    always.eval();
    expect(always.forward(x)).toBe(x);
    // p = 0.5 over many samples flips about half, differently on each call.
    manualSeed(3);
    const half = new RandomHorizontalFlip(0.5);
    const many = new Tensor(
      Float32Array.from({ length: 400 * 2 }, (_, i) => i % 2),
      [400, 1, 1, 2],
    );
    const flips = (t: Tensor): number =>
      Array.from({ length: 400 }, (_, i) => (t.data[2 * i] === 1 ? 1 : 0) as number).reduce((a, b) => a + b, 0);
    const f1 = flips(half.forward(many));
    const f2 = flips(half.forward(many));
    expect(f1).toBeGreaterThan(150);
    expect(f1).toBeLessThan(250);
    expect(f1).not.toBe(f2);
  });

  it('RandomCrop takes a window of the zero-padded image in training and the centre in evaluation', () => {
    manualSeed(9);
    const x = img();
    const crop = new RandomCrop([4, 5], { padding: 2 });
    const offsets = new Set<string>();
    for (let call = 0; call < 20; call++) {
      const y = crop.forward(x);
      expect(y.shape).toEqual([2, 2, 4, 5]);
      for (let n = 0; n < 2; n++) {
        // Find the offset that explains this sample (both channels must agree).
        let found = '';
        for (let dy = -2; dy <= 2 && !found; dy++)
          for (let dx = -2; dx <= 2 && !found; dx++) {
            let ok = true;
            for (let ch = 0; ch < 2 && ok; ch++)
              for (let r = 0; r < 4 && ok; r++)
                for (let c = 0; c < 5 && ok; c++) {
                  const sr = r + dy,
                    sc = c + dx;
                  const want = sr >= 0 && sr < 4 && sc >= 0 && sc < 5 ? x.data[((n * 2 + ch) * 4 + sr) * 5 + sc] : 0;
                  ok = y.data[((n * 2 + ch) * 4 + r) * 5 + c] === want;
                }
            if (ok) found = `${dy},${dx}`;
          }
        expect(found).not.toBe('');
        offsets.add(found);
      }
    }
    expect(offsets.size).toBeGreaterThan(8);
    crop.eval();
    expect(crop.forward(x)).toBe(x);
    const centre = new RandomCrop(2).eval().forward(x);
    expect(Array.from(centre.data.subarray(0, 4))).toEqual([7, 8, 12, 13]);
    expect(() => new RandomCrop(9).forward(x)).toThrow('RandomCrop: crop 9x9 is larger than the padded image 4x5');
  });

  it('inside fit: the augmented step replays with fresh crops and flips each batch', async () => {
    manualSeed(2);
    const net = new Sequential(
      new RandomCrop(12, { padding: 1 }),
      new RandomHorizontalFlip(),
      new Conv2d(1, 4, 3, { activation: 'relu' }),
      new GlobalAvgPool2d(),
      new Linear(4, 2),
    );
    const model = new Model(net).compile({
      optimizer: 'adam',
      learningRate: 0.02,
      loss: 'crossEntropy',
      metrics: ['accuracy'],
    });
    const [x, y] = bars(128, 5);
    const before = Float64Array.from((net.layers[0] as RandomCrop).rngState);
    await model.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0, seed: 1 });
    // 8 batches x 2 epochs: the stream advanced once per replayed step.
    expect((net.layers[0] as RandomCrop).rngState[2] - before[2]).toBe(16);
    expect((net.layers[1] as RandomHorizontalFlip).rngState[2]).toBe(16);
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
