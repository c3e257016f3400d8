/**
 * The Model API (compile / fit / evaluate / predict) against independent references: the
 * explicit eager loop (opt.zeroGrad(); loss = lossFn(module.forward(xb), yb); loss.backward();
 * opt.step()) over the same batches, which a traced-and-replayed fit must match bit for bit;
 * metrics recomputed in JS from known predictions; callbacks observed from the outside.
 * Datasets are generated here, deterministically (plus 2000 Fashion-MNIST images once).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  Adagrad,
  RMSprop,
  Adam,
  CSVLogger,
  DataLoader,
  Dataset,
  Dropout,
  EarlyStopping,
  Flatten,
  Generator,
  Identity,
  JSONLogger,
  LearningRateScheduler,
  Linear,
  Model,
  Parameter,
  ReduceLROnPlateauCallback,
  SGD,
  Sequential,
  StepLR,
  Tensor,
  TensorDataset,
  Tanh,
  TerminateOnNaN,
  clipGradNorm,
  crossEntropy,
  metrics,
  mseLoss,
  noGrad,
  readIdx,
  type Batch,
  type Callback,
  type Logs,
  type Metric,
  type Module,
  type Optimizer,
  type TrainingContext,
} from '../src/index.js';

// ---- helpers ------------------------------------------------------------------------------------

type Opt = Optimizer<{ lr: number }>;
type LossFn = (out: Tensor, target: Tensor) => Tensor;
const ce: LossFn = (o, t) => crossEntropy(o, t);

/** Gaussian features and uniform labels: (n, features) float32, (n) int32. */
function randomData(n: number, features: number, classes: number, seed: number): { x: Tensor; y: Tensor } {
  const g = new Generator(seed);
  const x = new Tensor(
    Float32Array.from({ length: n * features }, () => g.nextNormal()),
    [n, features],
  );
  const y = new Tensor(
    Int32Array.from({ length: n }, () => g.nextInt(classes)),
    [n],
  );
  return { x, y };
}

/** The 3-arm spiral (CS231n): perClass points per arm, radius 0..1, angle noise sd 0.2. */
function spiral(perClass: number, seed: number): { x: Tensor; y: Tensor } {
  const g = new Generator(seed);
  const n = perClass * 3;
  const xs = new Float32Array(n * 2);
  const ys = new Int32Array(n);
  for (let c = 0; c < 3; c++)
    for (let i = 0; i < perClass; i++) {
      const k = c * perClass + i;
      const r = i / (perClass - 1);
      const t = c * 4 + (4 * i) / (perClass - 1) + 0.2 * g.nextNormal();
      xs[2 * k] = r * Math.sin(t);
      xs[2 * k + 1] = r * Math.cos(t);
      ys[k] = c;
    }
  return { x: new Tensor(xs, [n, 2]), y: new Tensor(ys, [n]) };
}

/** An MLP whose weights and dropout stream depend only on `seed` (two calls build identical twins). */
function mlp(inF: number, hidden: number, out: number, seed: number, dropout = 0): Sequential {
  const layers: Module[] = [new Linear(inF, hidden, { activation: 'relu', init: { seed } })];
  if (dropout > 0) layers.push(new Dropout(dropout, { seed: seed + 1000 }));
  layers.push(new Linear(hidden, hidden, { activation: 'tanh', init: { seed: seed + 1 } }));
  if (dropout > 0) layers.push(new Dropout(dropout, { seed: seed + 2000 }));
  layers.push(new Linear(hidden, out, { init: { seed: seed + 2 } }));
  return new Sequential(...layers);
}

const snapshot = (m: Module): Float32Array[] => m.parameters().map((p) => Float32Array.from(p.data as Float32Array));

function bitwiseEqual(a: Float32Array[], b: Float32Array[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((w, i) =>
    Buffer.from(w.buffer, w.byteOffset, w.byteLength).equals(
      Buffer.from(b[i].buffer, b[i].byteOffset, b[i].byteLength),
    ),
  );
}

function expectBitwise(a: Float32Array[], b: Float32Array[]): void {
  expect(a.length).toBe(b.length);
  a.forEach((w, i) => {
    if (!bitwiseEqual([w], [b[i]])) {
      let max = 0;
      for (let k = 0; k < w.length; k++) max = Math.max(max, Math.abs(w[k] - b[i][k]));
      expect.fail(`parameter ${i} differs (max |diff| ${max})`);
    }
  });
}

/** Rows `idx` of t, copied in JS (independent of the native gather). */
function rowsOf(t: Tensor, idx: ArrayLike<number>): Tensor {
  const row = t.size / t.shape[0];
  const out = t.dtype === 'int32' ? new Int32Array(idx.length * row) : new Float32Array(idx.length * row);
  for (let i = 0; i < idx.length; i++) for (let j = 0; j < row; j++) out[i * row + j] = t.data[idx[i] * row + j];
  return new Tensor(out, [idx.length, ...t.shape.slice(1)]);
}

function argmaxRow(d: ArrayLike<number>, r: number, c: number): number {
  let best = 0;
  for (let j = 1; j < c; j++) if (d[r * c + j] > d[r * c + best]) best = j;
  return best;
}

interface EagerLog {
  /** Loss of every step, in order (float32 values as numbers). */
  losses: number[];
  /** Per epoch: rows whose training-mode output argmax was the label, and rows seen. */
  correct: number[];
  rows: number[];
  /** Per epoch: sum of loss * rows / rows (fit's epoch loss, same order of float64 ops). */
  epochLoss: number[];
}

/**
 * The explicit loop over batches of `batchSize` in `orderFor(epoch)` (identity by default),
 * stopping after `maxSteps` steps if given; `lrFor(epoch, stepInEpoch)` may set the lr first.
 */
function eagerFit(
  module: Module,
  opt: Opt,
  lossFn: LossFn,
  x: Tensor,
  y: Tensor,
  o: {
    batchSize: number;
    epochs: number;
    orderFor?: (epoch: number) => ArrayLike<number>;
    maxSteps?: number;
    beforeStep?: (epoch: number, step: number) => void;
    afterStep?: (epoch: number, step: number) => void;
  },
): EagerLog {
  const n = x.shape[0];
  const log: EagerLog = { losses: [], correct: [], rows: [], epochLoss: [] };
  let steps = 0;
  module.train();
  for (let e = 0; e < o.epochs; e++) {
    const order = o.orderFor ? o.orderFor(e) : Array.from({ length: n }, (_, i) => i);
    let correct = 0;
    let lossSum = 0;
    let seen = 0;
    for (let s = 0, b = 0; s < n; s += o.batchSize, b++) {
      if (o.maxSteps !== undefined && steps >= o.maxSteps) return log;
      const idx = Array.from(order).slice(s, Math.min(n, s + o.batchSize));
      const xb = rowsOf(x, idx);
      const yb = rowsOf(y, idx);
      o.beforeStep?.(e, b);
      opt.zeroGrad();
      const out = module.forward(xb);
      const c = out.shape[1];
      if (yb.dtype === 'int32')
        for (let r = 0; r < idx.length; r++) if (argmaxRow(out.data, r, c) === yb.data[r]) correct++;
      const loss = lossFn(out, yb);
      loss.backward();
      opt.step();
      const l = loss.item();
      log.losses.push(l);
      lossSum += l * idx.length;
      seen += idx.length;
      steps++;
      o.afterStep?.(e, b);
    }
    log.correct.push(correct);
    log.rows.push(seen);
    log.epochLoss.push(lossSum / seen);
  }
  return log;
}

/** Outputs of `module` in eval mode with no gradients, restoring the mode. */
function eagerPredict(module: Module, x: Tensor): Tensor {
  const was = module.training;
  module.eval();
  try {
    return noGrad(() => module.forward(x));
  } finally {
    module.train(was);
  }
}

/** A callback recording every hook as a string. */
function recorder(events: string[], withBatchBegin = false): Callback {
  const cb: Callback = {
    onTrainBegin: () => void events.push('trainBegin'),
    onTrainEnd: () => void events.push('trainEnd'),
    onEpochBegin: (e) => void events.push(`epochBegin ${e}`),
    onEpochEnd: (e) => void events.push(`epochEnd ${e}`),
    onBatchEnd: (b) => void events.push(`batchEnd ${b}`),
  };
  if (withBatchBegin) cb.onBatchBegin = (b) => void events.push(`batchBegin ${b}`);
  return cb;
}

/** A metric whose value per epoch comes from a script (to drive EarlyStopping and friends). */
function scripted(name: string, values: number[]): Metric & { calls: number } {
  const m = {
    name,
    needs: 'confusion' as const,
    calls: 0,
    compute: () => values[Math.min(m.calls++, values.length - 1)],
  };
  return m;
}

/** A metric that captures the confusion matrix of the last compute. */
function confusionProbe(): Metric & { matrix: number[][] | null } {
  const m = {
    name: 'cm',
    needs: 'confusion' as const,
    matrix: null as number[][] | null,
    compute: (acc: Parameters<Metric['compute']>[0]) => {
      m.matrix = metrics.confusionMatrix(acc);
      return 0;
    },
  };
  return m;
}

const tmp = mkdtempSync(join(tmpdir(), 'axon-model-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// ---- fit on small problems ----------------------------------------------------------------------

describe('fit learns', () => {
  it('a 2-32-32-3 MLP on a 3-arm spiral reaches >= 0.95 training accuracy (history, evaluate, predict agree)', async () => {
    const { x, y } = spiral(100, 2024);
    const module = mlp(2, 32, 3, 11);
    const model = new Model(module).compile({
      optimizer: 'adam',
      learningRate: 0.02,
      loss: 'crossEntropy',
      metrics: ['accuracy'],
    });
    const before = await model.evaluate(x, y);
    const h = await model.fit(x, y, { epochs: 60, batchSize: 30, verbose: 0, seed: 3 });
    expect(before.accuracy).toBeLessThan(0.7);
    expect(h.epoch).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(h.history.loss).toHaveLength(60);
    expect(h.history.accuracy).toHaveLength(60);
    expect(h.history.loss[59]).toBeLessThan(h.history.loss[0] / 3);
    const ev = await model.evaluate(x, y);
    const out = await model.predict(x);
    let right = 0;
    for (let r = 0; r < 300; r++) if (argmaxRow(out.data, r, 3) === y.data[r]) right++;
    expect(ev.accuracy).toBe(right / 300);
    expect(ev.accuracy).toBeGreaterThanOrEqual(0.95);
  });

  it('2-class Gaussian blobs with one sigmoid-free logit (BCE with logits) reach >= 0.97 accuracy', async () => {
    const g = new Generator(4);
    const n = 400;
    const xs = new Float32Array(n * 2);
    const ys = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const c = i % 2;
      xs[2 * i] = (c ? 1.5 : -1.5) + 0.6 * g.nextNormal();
      xs[2 * i + 1] = (c ? -1 : 1) + 0.6 * g.nextNormal();
      ys[i] = c;
    }
    const x = new Tensor(xs, [n, 2]);
    const y = new Tensor(ys, [n, 1]);
    const model = new Model(new Linear(2, 1, { init: { seed: 1 } })).compile({
      optimizer: 'sgd',
      learningRate: 0.5,
      loss: 'binaryCrossentropyWithLogits',
      metrics: ['accuracy'],
    });
    const h = await model.fit(x, y, { epochs: 10, batchSize: 40, verbose: 0, seed: 1 });
    const logits = await model.predict(x);
    let right = 0;
    for (let i = 0; i < n; i++) if ((logits.data[i] > 0 ? 1 : 0) === ys[i]) right++;
    expect(right / n).toBeGreaterThanOrEqual(0.97);
    expect((await model.evaluate(x, y)).accuracy).toBe(right / n);
    expect(h.history.accuracy[9]).toBeGreaterThan(0.9);
  });

  it('2000 Fashion-MNIST images, 1 epoch of a 784-64-10 MLP: test accuracy >= 0.6 on the 2000 test images', async () => {
    const dir = 'data/fashion-mnist-subset';
    const x = await readIdx(`${dir}/train-images-idx3-ubyte.gz`, { scale: 1 / 255 });
    const y = await readIdx(`${dir}/train-labels-idx1-ubyte.gz`);
    const xt = await readIdx(`${dir}/t10k-images-idx3-ubyte.gz`, { scale: 1 / 255 });
    const yt = await readIdx(`${dir}/t10k-labels-idx1-ubyte.gz`);
    const module = new Sequential(
      new Flatten(),
      new Linear(784, 64, { activation: 'relu', init: { seed: 1 } }),
      new Linear(64, 10, { init: { seed: 2 } }),
    );
    const model = new Model(module).compile({ optimizer: 'adam', loss: 'crossEntropy', metrics: ['accuracy'] });
    const h = await model.fit(x.slice(0, 2000), y.slice(0, 2000), { epochs: 1, batchSize: 32, verbose: 0, seed: 1 });
    expect(h.history.accuracy[0]).toBeGreaterThan(0.4);
    const ev = await model.evaluate(xt, yt, { batchSize: 500 });
    expect(ev.accuracy).toBeGreaterThanOrEqual(0.6);
    // predict of the 2000 test images agrees with evaluate's count
    const out = await model.predict(xt);
    let right = 0;
    for (let r = 0; r < 2000; r++) if (argmaxRow(out.data, r, 10) === yt.data[r]) right++;
    expect(right / 2000).toBe(ev.accuracy);
  });
});

// ---- fit == the eager loop, bit for bit -----------------------------------------------------------

describe('fit replays exactly the eager loop', () => {
  const cases: [string, (p: Parameter[]) => Opt][] = [
    ['Adam', (p) => new Adam(p, { lr: 0.01 })],
    ['SGD with momentum', (p) => new SGD(p, { lr: 0.05, momentum: 0.9 })],
    [
      'SGD with Nesterov momentum and weight decay',
      (p) => new SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }),
    ],
    ['Adagrad', (p) => new Adagrad(p, { lr: 0.05 })],
    ['RMSprop centered with momentum', (p) => new RMSprop(p, { lr: 0.01, momentum: 0.5, centered: true })],
  ];
  for (const [name, makeOpt] of cases)
    for (const n of [96, 101])
      it(`${name}, dropout, shuffle false, N=${n}, batch 16 (${n % 16 ? 'with a remainder batch of ' + (n % 16) : 'no remainder'}), 3 epochs`, async () => {
        const { x, y } = randomData(n, 6, 4, 7);
        const a = mlp(6, 24, 4, 5, 0.3);
        const b = mlp(6, 24, 4, 5, 0.3);
        expectBitwise(snapshot(a), snapshot(b));
        const optA = makeOpt(a.parameters());
        const model = new Model(a).compile({ optimizer: optA, loss: 'crossEntropy', metrics: ['accuracy'] });
        const batchLogs: number[] = [];
        const h = await model.fit(x, y, {
          epochs: 3,
          batchSize: 16,
          shuffle: false,
          verbose: 0,
          seed: 1,
          callbacks: [{ onBatchEnd: (_b, logs) => void batchLogs.push(logs.loss) }],
        });
        const optB = makeOpt(b.parameters());
        const ref = eagerFit(b, optB, ce, x, y, { batchSize: 16, epochs: 3 });
        expectBitwise(snapshot(a), snapshot(b));
        // It trained (the dropout masks and the updates were replayed, not skipped).
        expect(bitwiseEqual(snapshot(a), snapshot(mlp(6, 24, 4, 5, 0.3)))).toBe(false);
        // Epoch loss and training accuracy from the same forward passes.
        expect(h.history.loss).toEqual(ref.epochLoss);
        expect(h.history.accuracy).toEqual(ref.correct.map((c, i) => c / ref.rows[i]));
        // Per-batch running mean of the loss.
        const steps = Math.ceil(n / 16);
        expect(batchLogs).toHaveLength(3 * steps);
        for (let e = 0; e < 3; e++) {
          let sum = 0;
          let seen = 0;
          for (let s = 0; s < steps; s++) {
            const rows = Math.min(16, n - s * 16);
            sum += ref.losses[e * steps + s] * rows;
            seen += rows;
            expect(batchLogs[e * steps + s]).toBe(sum / seen);
          }
        }
        // The optimizer counted every replayed step.
        for (const p of a.parameters()) expect(optA.state.get(p)?.step).toBe(3 * steps);
        // A second fit continues from there, as more eager steps do.
        await model.fit(x, y, { epochs: 1, batchSize: 16, shuffle: false, verbose: 0 });
        eagerFit(b, optB, ce, x, y, { batchSize: 16, epochs: 1 });
        expectBitwise(snapshot(a), snapshot(b));
      });

  it('shuffle true with a seed: the per-epoch Fisher-Yates order of Generator(seed), continued across epochs', async () => {
    const n = 50;
    const { x, y } = randomData(n, 5, 3, 8);
    const a = mlp(5, 16, 3, 9);
    const b = mlp(5, 16, 3, 9);
    const model = new Model(a).compile({ optimizer: new Adam(a.parameters(), { lr: 0.01 }), loss: 'crossEntropy' });
    await model.fit(x, y, { epochs: 3, batchSize: 8, shuffle: true, seed: 42, verbose: 0 });
    const g = new Generator(42);
    const order = Array.from({ length: n }, (_, i) => i);
    eagerFit(b, new Adam(b.parameters(), { lr: 0.01 }), ce, x, y, {
      batchSize: 8,
      epochs: 3,
      orderFor: () => {
        for (let i = n - 1; i > 0; i--) {
          const j = g.nextInt(i + 1);
          [order[i], order[j]] = [order[j], order[i]];
        }
        return order;
      },
    });
    expectBitwise(snapshot(a), snapshot(b));
  });

  it('a custom loss function and clipNorm are traced into the step too', async () => {
    const { x, y } = randomData(64, 4, 3, 12);
    const a = mlp(4, 16, 3, 13);
    const b = mlp(4, 16, 3, 13);
    const lossFn: LossFn = (o, t) => crossEntropy(o, t, { labelSmoothing: 0.1 });
    const model = new Model(a).compile({
      optimizer: new SGD(a.parameters(), { lr: 0.5 }),
      loss: lossFn,
      clipNorm: 0.1,
    });
    await model.fit(x, y, { epochs: 2, batchSize: 16, shuffle: false, verbose: 0 });
    const optB = new SGD(b.parameters(), { lr: 0.5 });
    // eager reference with clipping: norm of all gradients scaled to <= 0.1
    b.train();
    for (let e = 0; e < 2; e++)
      for (let s = 0; s < 64; s += 16) {
        optB.zeroGrad();
        const loss = lossFn(b.forward(x.slice(s, s + 16)), y.slice(s, s + 16));
        loss.backward();
        clipGradNorm(b.parameters(), 0.1);
        optB.step();
      }
    expectBitwise(snapshot(a), snapshot(b));
  });
});

// ---- fit options ----------------------------------------------------------------------------------

describe('fit options', () => {
  it('validationSplit holds out the LAST fraction (before shuffling) and reports val_ metrics on it', async () => {
    const n = 100;
    const { x, y } = randomData(n, 4, 3, 21);
    const module = mlp(4, 16, 3, 22);
    const model = new Model(module).compile({ optimizer: 'adam', loss: 'crossEntropy', metrics: ['accuracy'] });
    let ctx: TrainingContext | null = null;
    let batches = 0;
    const h = await model.fit(x, y, {
      epochs: 3,
      batchSize: 16,
      validationSplit: 0.25,
      shuffle: true,
      seed: 5,
      verbose: 0,
      callbacks: [{ setContext: (c) => void (ctx = c), onBatchEnd: () => void batches++ }],
    });
    // 75 training samples: 5 batches of 16 (one of 11) per epoch.
    expect(ctx!.samples).toBe(75);
    expect(ctx!.stepsPerEpoch).toBe(5);
    expect(batches).toBe(15);
    expect(Object.keys(h.history).sort()).toEqual(['accuracy', 'loss', 'val_accuracy', 'val_loss']);
    for (const k of Object.keys(h.history)) expect(h.history[k]).toHaveLength(3);
    // The last epoch's val_ values are those of evaluate on the last 25 rows, now.
    const last = await model.evaluate(x.slice(75), y.slice(75), { batchSize: 16 });
    expect(h.history.val_loss[2]).toBe(last.loss);
    expect(h.history.val_accuracy[2]).toBe(last.accuracy);
    const first = await model.evaluate(x.slice(0, 25), y.slice(0, 25), { batchSize: 16 });
    expect(first.loss).not.toBe(last.loss);
    // val_accuracy is a multiple of 1/25.
    for (const v of h.history.val_accuracy) expect(Math.abs(v * 25 - Math.round(v * 25))).toBeLessThan(1e-9);
    // And the training part is the first 75 rows: the eager loop over them matches.
    const b = mlp(4, 16, 3, 22);
    const a2 = mlp(4, 16, 3, 22);
    const m2 = new Model(a2).compile({ optimizer: new Adam(a2.parameters()), loss: 'crossEntropy' });
    await m2.fit(x, y, { epochs: 2, batchSize: 16, validationSplit: 0.25, shuffle: false, verbose: 0 });
    eagerFit(b, new Adam(b.parameters()), ce, x.slice(0, 75), y.slice(0, 75), { batchSize: 16, epochs: 2 });
    expectBitwise(snapshot(a2), snapshot(b));
  });

  it('validationData (tensors) gives val_loss / val_accuracy per epoch equal to evaluate at that epoch', async () => {
    const { x, y } = randomData(80, 4, 3, 23);
    const v = randomData(30, 4, 3, 24);
    const model = new Model(mlp(4, 16, 3, 25)).compile({
      optimizer: 'adam',
      loss: 'crossEntropy',
      metrics: ['accuracy'],
    });
    const seen: Logs[] = [];
    const h = await model.fit(x, y, {
      epochs: 3,
      batchSize: 20,
      validationData: [v.x, v.y],
      verbose: 0,
      seed: 1,
      callbacks: [{ onEpochEnd: async () => void seen.push(await evalInline()) }],
    });
    // evaluate cannot be awaited inside fit (it queues behind it), so compute eagerly instead.
    function evalInline(): Promise<Logs> {
      const out = eagerPredict(model.module, v.x);
      let right = 0;
      for (let r = 0; r < 30; r++) if (argmaxRow(out.data, r, 3) === v.y.data[r]) right++;
      return Promise.resolve({ loss: crossEntropy(out, v.y).item(), accuracy: right / 30 });
    }
    expect(h.history.val_loss).toHaveLength(3);
    for (let e = 0; e < 3; e++) {
      expect(h.history.val_accuracy[e]).toBe(seen[e].accuracy);
      expect(h.history.val_loss[e]).toBeCloseTo(seen[e].loss, 5);
    }
  });

  it('shuffle: a seed makes it reproducible, different seeds differ, shuffle false ignores the seed', async () => {
    const { x, y } = randomData(64, 4, 3, 26);
    const run = async (shuffle: boolean, seed: number): Promise<Float32Array[]> => {
      const m = mlp(4, 8, 3, 27);
      await new Model(m)
        .compile({ optimizer: new SGD(m.parameters(), { lr: 0.1 }), loss: 'crossEntropy' })
        .fit(x, y, { epochs: 2, batchSize: 8, shuffle, seed, verbose: 0 });
      return snapshot(m);
    };
    expectBitwise(await run(true, 1), await run(true, 1));
    expect(bitwiseEqual(await run(true, 1), await run(true, 2))).toBe(false);
    expectBitwise(await run(false, 1), await run(false, 2));
    expect(bitwiseEqual(await run(true, 1), await run(false, 1))).toBe(false);
  });

  it('initialEpoch: epochs initialEpoch..epochs-1 run, as numbered in callbacks and history', async () => {
    const { x, y } = randomData(40, 4, 3, 28);
    const a = mlp(4, 8, 3, 29);
    const b = mlp(4, 8, 3, 29);
    const events: string[] = [];
    const h = await new Model(a).compile({ optimizer: new Adam(a.parameters()), loss: 'crossEntropy' }).fit(x, y, {
      epochs: 5,
      initialEpoch: 3,
      batchSize: 10,
      shuffle: false,
      verbose: 0,
      callbacks: [recorder(events)],
    });
    expect(h.epoch).toEqual([3, 4]);
    expect(h.history.loss).toHaveLength(2);
    expect(events.filter((e) => e.startsWith('epochBegin'))).toEqual(['epochBegin 3', 'epochBegin 4']);
    eagerFit(b, new Adam(b.parameters()), ce, x, y, { batchSize: 10, epochs: 2 });
    expectBitwise(snapshot(a), snapshot(b));
  });

  it('verbose 0 prints nothing; the default prints one line per epoch', async () => {
    const { x, y } = randomData(32, 4, 3, 30);
    const model = new Model(mlp(4, 8, 3, 31)).compile({
      optimizer: 'sgd',
      loss: 'crossEntropy',
      metrics: ['accuracy'],
    });
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      await model.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0 });
      expect(written.join('')).toBe('');
      await model.fit(x, y, { epochs: 2, batchSize: 8 });
    } finally {
      spy.mockRestore();
    }
    const text = written.join('');
    expect(text).toMatch(/Epoch 1\/2/);
    expect(text).toMatch(/Epoch 2\/2/);
    expect(text).toMatch(/loss: \d/);
    expect(text).toMatch(/accuracy: \d/);
  });

  it('a TensorDataset works as x (and as validationData)', async () => {
    const { x, y } = randomData(48, 4, 3, 32);
    const a = mlp(4, 8, 3, 33);
    const b = mlp(4, 8, 3, 33);
    const h = await new Model(a)
      .compile({ optimizer: new Adam(a.parameters()), loss: 'crossEntropy' })
      .fit(new TensorDataset(x, y), null, {
        epochs: 2,
        batchSize: 12,
        shuffle: false,
        verbose: 0,
        validationData: new TensorDataset(x.slice(0, 10), y.slice(0, 10)),
      });
    expect(h.history.val_loss).toHaveLength(2);
    eagerFit(b, new Adam(b.parameters()), ce, x, y, { batchSize: 12, epochs: 2 });
    expectBitwise(snapshot(a), snapshot(b));
  });
});

// ---- fit over a DataLoader ------------------------------------------------------------------------

describe('fit over a DataLoader', () => {
  const { x, y } = randomData(50, 4, 3, 120);

  it('equals the eager loop over the same batches (shuffled, seeded; remainder batch of 2), with metrics', async () => {
    const a = mlp(4, 16, 3, 121, 0.2);
    const b = mlp(4, 16, 3, 121, 0.2);
    const model = new Model(a).compile({
      optimizer: new Adam(a.parameters(), { lr: 0.01 }),
      loss: 'crossEntropy',
      metrics: ['accuracy'],
    });
    const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 16, shuffle: true, seed: 4 });
    const events: string[] = [];
    const h = await model.fit(loader, null, { epochs: 3, callbacks: [recorder(events, true)] });
    // the batches the loader gives for that seed, replayed eagerly
    const twin = new DataLoader(new TensorDataset(x, y), { batchSize: 16, shuffle: true, seed: 4 });
    const optB = new Adam(b.parameters(), { lr: 0.01 });
    b.train();
    const epochLoss: number[] = [];
    const acc: number[] = [];
    for (let e = 0; e < 3; e++) {
      let sum = 0;
      let right = 0;
      for (const [xb, yb] of twin) {
        optB.zeroGrad();
        const out = b.forward(xb);
        for (let r = 0; r < xb.shape[0]; r++) if (argmaxRow(out.data, r, 3) === yb!.data[r]) right++;
        const loss = crossEntropy(out, yb!);
        loss.backward();
        optB.step();
        sum += loss.item() * xb.shape[0];
      }
      epochLoss.push(sum / 50);
      acc.push(right / 50);
    }
    expectBitwise(snapshot(a), snapshot(b));
    expect(h.history.loss).toEqual(epochLoss);
    expect(h.history.accuracy).toEqual(acc);
    const expected = ['trainBegin'];
    for (let e = 0; e < 3; e++)
      expected.push(
        `epochBegin ${e}`,
        ...[0, 1, 2, 3].flatMap((k) => [`batchBegin ${k}`, `batchEnd ${k}`]),
        `epochEnd ${e}`,
      );
    expected.push('trainEnd');
    expect(events).toEqual(expected);
  });

  it('callbacks get the training context: EarlyStopping stops, LearningRateScheduler sets the lr', async () => {
    const lin = new Linear(4, 3, { init: { seed: 1 } });
    const opt = new SGD(lin.parameters(), { lr: 0.1 });
    const model = new Model(lin).compile({
      optimizer: opt,
      loss: 'crossEntropy',
      metrics: [scripted('score', [3, 2, 2, 2, 2, 2])],
    });
    let ctx: TrainingContext | null = null;
    const h = await model.fit(new DataLoader(new TensorDataset(x, y), { batchSize: 16 }), null, {
      epochs: 6,
      callbacks: [
        new EarlyStopping({ monitor: 'score', patience: 1 }),
        new LearningRateScheduler((e) => 0.1 / (e + 1)),
        { setContext: (c) => void (ctx = c) },
      ],
    });
    expect(h.epoch).toEqual([0, 1, 2, 3]);
    expect(h.history.lr).toEqual([0.1, 0.05, 0.1 / 3, 0.025]);
    expect(opt.paramGroups[0].lr).toBe(0.025);
    expect(ctx!.stepsPerEpoch).toBe(4);
    expect(ctx!.samples).toBe(50);
    expect(ctx!.batchSize).toBe(16);
    // the stop does not leak into the next fit
    const h2 = await model.fit(new DataLoader(new TensorDataset(x, y), { batchSize: 16 }), null, { epochs: 2 });
    expect(h2.epoch).toEqual([0, 1]);
    const h3 = await model.fit(x, y, { epochs: 2, verbose: 0 });
    expect(h3.epoch).toEqual([0, 1]);
  });

  it('a stop by EarlyStopping in a tensor fit does not leak into a following DataLoader fit', async () => {
    const model = new Model(mlp(4, 8, 3, 122)).compile({
      optimizer: 'sgd',
      loss: 'crossEntropy',
      metrics: [scripted('score', [1, 2])],
    });
    const h = await model.fit(x, y, { epochs: 5, verbose: 0, callbacks: [new EarlyStopping({ monitor: 'score' })] });
    expect(h.epoch).toEqual([0, 1]);
    const h2 = await model.fit(new DataLoader(new TensorDataset(x, y), { batchSize: 10 }), null, { epochs: 3 });
    expect(h2.epoch).toEqual([0, 1, 2]);
  });

  it('validationData is evaluated per epoch; validationSplit is refused', async () => {
    const v = randomData(20, 4, 3, 123);
    const model = new Model(mlp(4, 8, 3, 124)).compile({
      optimizer: 'adam',
      loss: 'crossEntropy',
      metrics: ['accuracy'],
    });
    const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 16 });
    const h = await model.fit(loader, null, { epochs: 2, validationData: [v.x, v.y] });
    expect(h.history.val_loss).toHaveLength(2);
    const ev = await model.evaluate(v.x, v.y, { batchSize: 16 });
    expect(h.history.val_loss[1]).toBe(ev.loss);
    expect(h.history.val_accuracy[1]).toBe(ev.accuracy);
    await expect(model.fit(loader, null, { validationSplit: 0.2 })).rejects.toThrow(
      /^fit: validationSplit needs tensors/,
    );
  });

  it('labels outside the class range are refused before they reach the recorded step', async () => {
    const bad = Int32Array.from(y.data as Int32Array);
    bad[37] = 12;
    const model = new Model(mlp(4, 8, 3, 125)).compile({ optimizer: 'sgd', loss: 'crossEntropy' });
    await expect(
      model.fit(new DataLoader(new TensorDataset(x, new Tensor(bad, [50])), { batchSize: 16 }), null, {}),
    ).rejects.toThrow("fit: label 12 at sample 5 is outside the model's 3 classes [0, 2]");
    const noTargets = new DataLoader(new TensorDataset(x), { batchSize: 16 });
    await expect(model.fit(noTargets, null, {})).rejects.toThrow('fit: the DataLoader yields no targets');
  });

  it('a generator dataset streams batches; AbortSignal stops it with an AbortError', async () => {
    const gen = Dataset.fromGenerator(function* () {
      for (let s = 0; s < 50; s += 10) yield [x.slice(s, s + 10), y.slice(s, s + 10)] as Batch;
    });
    const a = mlp(4, 8, 3, 126);
    const b = mlp(4, 8, 3, 126);
    await new Model(a)
      .compile({ optimizer: new SGD(a.parameters(), { lr: 0.1 }), loss: 'crossEntropy' })
      .fit(new DataLoader(gen), null, { epochs: 2 });
    eagerFit(b, new SGD(b.parameters(), { lr: 0.1 }), ce, x, y, { batchSize: 10, epochs: 2 });
    expectBitwise(snapshot(a), snapshot(b));
    const ac = new AbortController();
    const model = new Model(mlp(4, 8, 3, 127)).compile({ optimizer: 'sgd', loss: 'crossEntropy' });
    const err = await model
      .fit(new DataLoader(gen), null, {
        epochs: 100,
        signal: ac.signal,
        callbacks: [{ onBatchEnd: (k) => void (k === 2 && ac.abort()) }],
      })
      .catch((e: Error) => e);
    expect((err as Error).name).toBe('AbortError');
    expect((err as Error).message).toBe('fit: aborted at epoch 1, batch 3');
    await expect(model.fit(gen as never, null, {})).rejects.toThrow('fit: wrap generator datasets in a DataLoader');
  });
});

// ---- evaluate / predict ---------------------------------------------------------------------------

describe('evaluate and predict', () => {
  const { x, y } = randomData(1000, 8, 5, 40);
  const module = mlp(8, 32, 5, 41, 0.5); // dropout must be off in eval / predict

  it('evaluate: loss is the eager mean loss, accuracy the JS argmax count (batch 64, remainder 40)', async () => {
    const model = new Model(module).compile({ optimizer: 'adam', loss: 'crossEntropy', metrics: ['accuracy'] });
    const ev = await model.evaluate(x, y, { batchSize: 64 });
    const out = eagerPredict(module, x);
    const loss = crossEntropy(out, y).item();
    let right = 0;
    for (let r = 0; r < 1000; r++) if (argmaxRow(out.data, r, 5) === y.data[r]) right++;
    expect(ev.loss).toBeCloseTo(loss, 5);
    expect(Math.abs(ev.loss - loss) / loss).toBeLessThan(1e-5);
    expect(ev.accuracy).toBe(right / 1000);
    // the default batch size (32) gives the same up to float rounding
    const ev32 = await model.evaluate(x, y);
    expect(ev32.accuracy).toBe(ev.accuracy);
    expect(ev32.loss).toBeCloseTo(ev.loss, 5);
    // the module is back in training mode
    expect(module.training).toBe(true);
  });

  it('predict, sync path (<= syncRows rows): equals the eager eval-mode forward', async () => {
    const model = new Model(module).compile({ optimizer: 'adam', loss: 'crossEntropy' });
    for (const rows of [1, 7, model.syncRows]) {
      const xs = x.slice(0, rows);
      const out = await model.predict(xs);
      expect(out.shape).toEqual([rows, 5]);
      expectBitwise([out.data as Float32Array], [eagerPredict(module, xs).data as Float32Array]);
      expectBitwise([model.predictSync(xs).data as Float32Array], [out.data as Float32Array]);
    }
  });

  it('predict, async path (1000 rows, batch 64: 15 full batches and one of 40): equals the eager forward', async () => {
    const model = new Model(module).compile({ optimizer: 'adam', loss: 'crossEntropy' });
    const out = await model.predict(x, { batchSize: 64 });
    expect(out.shape).toEqual([1000, 5]);
    // per batch of the same size, bit for bit
    for (let s = 0; s < 1000; s += 64) {
      const ref = eagerPredict(module, x.slice(s, Math.min(1000, s + 64)));
      expectBitwise([(out.data as Float32Array).slice(s * 5, s * 5 + ref.size)], [ref.data as Float32Array]);
    }
    // and the whole-batch forward up to float rounding
    const whole = eagerPredict(module, x).data;
    let max = 0;
    for (let i = 0; i < whole.length; i++) max = Math.max(max, Math.abs(whole[i] - out.data[i]));
    expect(max).toBeLessThan(1e-5);
    // default batch size too
    const out256 = await model.predict(x);
    for (let i = 0; i < whole.length; i++) max = Math.max(max, Math.abs(whole[i] - out256.data[i]));
    expect(max).toBeLessThan(1e-5);
  });

  it('predictSync reuses its recorded program, sees in-place weight changes, and re-records when a parameter is replaced', async () => {
    const lin = new Linear(8, 3, { init: { seed: 3 } });
    const model = new Model(new Sequential(lin)).compile({ optimizer: 'sgd', loss: 'mse' });
    const cache = (model as unknown as { inference: { entries: Map<string, { program: unknown }> } }).inference.entries;
    const xs = x.slice(0, 10);
    const first = model.predictSync(xs);
    expect(cache.size).toBe(1);
    const program = [...cache.values()][0].program;
    const second = model.predictSync(x.slice(10, 20));
    expect([...cache.values()][0].program).toBe(program); // same shape: same program
    expectBitwise([second.data as Float32Array], [eagerPredict(lin, x.slice(10, 20)).data as Float32Array]);
    // in-place change of the weights: the same program reads the new values
    (lin.weight.data as Float32Array)[0] += 1;
    const third = model.predictSync(xs);
    expect([...cache.values()][0].program).toBe(program);
    expectBitwise([third.data as Float32Array], [eagerPredict(lin, xs).data as Float32Array]);
    expect(third.data[0]).toBeCloseTo(first.data[0] + xs.data[0], 5);
    // replacing the parameter: a new recording that reads the new tensor
    lin.weight = new Parameter(new Tensor(new Float32Array(24).fill(0.5), [3, 8]));
    const fourth = model.predictSync(xs);
    expect([...cache.values()][0].program).not.toBe(program);
    expectBitwise([fourth.data as Float32Array], [eagerPredict(lin, xs).data as Float32Array]);
    // a result is a copy, not a view of the program's output buffer
    const keep = Float32Array.from(fourth.data as Float32Array);
    model.predictSync(x.slice(20, 30));
    expectBitwise([fourth.data as Float32Array], [keep]);
  });

  it('re-records when a layer in a Sequential, a parameter buffer or a module field is replaced', () => {
    const seq = new Sequential(new Linear(8, 6, { init: { seed: 4 } }), new Linear(6, 3, { init: { seed: 5 } }));
    const model = new Model(seq);
    const xs = x.slice(0, 5);
    model.predictSync(xs);
    // a layer swapped inside the container's array
    const head = new Linear(6, 3, { init: { seed: 6 } });
    (seq as unknown as { layers: Module[] }).layers[1] = head;
    expectBitwise([model.predictSync(xs).data as Float32Array], [eagerPredict(seq, xs).data as Float32Array]);
    // a parameter's buffer replaced (not written in place)
    (head.bias as unknown as { data: Float32Array }).data = new Float32Array(3).fill(2);
    expectBitwise([model.predictSync(xs).data as Float32Array], [eagerPredict(seq, xs).data as Float32Array]);
    // a layer without parameters swapped, and one appended
    (seq as unknown as { layers: Module[] }).layers.splice(1, 0, new Tanh());
    expectBitwise([model.predictSync(xs).data as Float32Array], [eagerPredict(seq, xs).data as Float32Array]);
    seq.add(new Tanh());
    expectBitwise([model.predictSync(xs).data as Float32Array], [eagerPredict(seq, xs).data as Float32Array]);
    // a new field on a module: the tree changed, so the forward is recorded again
    (head as unknown as { note: object }).note = {};
    expectBitwise([model.predictSync(xs).data as Float32Array], [eagerPredict(seq, xs).data as Float32Array]);
  });

  it('concurrent predicts and an evaluate (Promise.all) all return correct results', async () => {
    const model = new Model(module).compile({ optimizer: 'adam', loss: 'crossEntropy', metrics: ['accuracy'] });
    const inputs = [x.slice(0, 10), x, x.slice(100, 165), x.slice(0, 64), x.slice(500, 1000), x.slice(3, 300)];
    const [ev, ...outs] = await Promise.all([
      model.evaluate(x, y, { batchSize: 100 }),
      ...inputs.map((t, i) => model.predict(t, { batchSize: 32 + i })),
    ]);
    inputs.forEach((t, i) => {
      const ref = eagerPredict(module, t).data;
      const out = outs[i].data;
      expect(out.length).toBe(ref.length);
      let max = 0;
      for (let k = 0; k < ref.length; k++) max = Math.max(max, Math.abs(ref[k] - out[k]));
      expect(max).toBeLessThan(1e-5);
    });
    const ref = eagerPredict(module, x);
    let right = 0;
    for (let r = 0; r < 1000; r++) if (argmaxRow(ref.data, r, 5) === y.data[r]) right++;
    expect(ev.accuracy).toBe(right / 1000);
  });

  it('predict issued during fit waits for it and sees the trained weights', async () => {
    const { x: tx, y: ty } = randomData(64, 8, 5, 42);
    const m = mlp(8, 16, 5, 43);
    const model = new Model(m).compile({ optimizer: 'adam', loss: 'crossEntropy' });
    const fitting = model.fit(tx, ty, { epochs: 3, batchSize: 8, verbose: 0 });
    const p = model.predict(tx.slice(0, 5)); // small, but the model is training: queued
    await fitting;
    const out = await p;
    expectBitwise([out.data as Float32Array], [eagerPredict(m, tx.slice(0, 5)).data as Float32Array]);
  });
});

// ---- callbacks ------------------------------------------------------------------------------------

describe('callbacks', () => {
  const { x, y } = randomData(50, 4, 3, 50);

  it('fire in order with onBatchEnd once per batch (50 rows, batch 16: 4 batches), and see the context', async () => {
    const events: string[] = [];
    let ctx: TrainingContext | null = null;
    const model = new Model(mlp(4, 8, 3, 51)).compile({ optimizer: 'adam', loss: 'crossEntropy' });
    await model.fit(x, y, {
      epochs: 2,
      batchSize: 16,
      verbose: 0,
      callbacks: [recorder(events), { setContext: (c) => void (ctx = c) }],
    });
    const expected = ['trainBegin'];
    for (let e = 0; e < 2; e++)
      expected.push(`epochBegin ${e}`, ...[0, 1, 2, 3].map((b) => `batchEnd ${b}`), `epochEnd ${e}`);
    expected.push('trainEnd');
    expect(events).toEqual(expected);
    expect(ctx!.epochs).toBe(2);
    expect(ctx!.stepsPerEpoch).toBe(4);
    expect(ctx!.batchSize).toBe(16);
    expect(ctx!.samples).toBe(50);
  });

  it('with onBatchBegin, begin and end strictly alternate with matching indices', async () => {
    const events: string[] = [];
    const model = new Model(mlp(4, 8, 3, 52)).compile({ optimizer: 'adam', loss: 'crossEntropy' });
    await model.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0, callbacks: [recorder(events, true)] });
    const expected = ['trainBegin'];
    for (let e = 0; e < 2; e++)
      expected.push(
        `epochBegin ${e}`,
        ...[0, 1, 2, 3].flatMap((b) => [`batchBegin ${b}`, `batchEnd ${b}`]),
        `epochEnd ${e}`,
      );
    expected.push('trainEnd');
    expect(events).toEqual(expected);
  });

  it('onBatchBegin runs before its batch: weights seen there are those after the previous batch', async () => {
    const a = mlp(4, 8, 3, 53);
    const b = mlp(4, 8, 3, 53);
    const seen: Float32Array[][] = [];
    await new Model(a).compile({ optimizer: new SGD(a.parameters(), { lr: 0.1 }), loss: 'crossEntropy' }).fit(x, y, {
      epochs: 1,
      batchSize: 16,
      shuffle: false,
      verbose: 0,
      callbacks: [{ onBatchBegin: () => void seen.push(snapshot(a)) }],
    });
    const ref: Float32Array[][] = [];
    eagerFit(b, new SGD(b.parameters(), { lr: 0.1 }), ce, x, y, {
      batchSize: 16,
      epochs: 1,
      beforeStep: () => void ref.push(snapshot(b)),
    });
    expect(seen).toHaveLength(4);
    seen.forEach((s, i) => expectBitwise(s, ref[i]));
  });

  it('async hooks are awaited: no hook starts before the previous one finished, fit resolves after onTrainEnd', async () => {
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    let inFlight = 0;
    let maxInFlight = 0;
    const events: string[] = [];
    const wrap =
      (name: string) =>
      async (i?: unknown): Promise<void> => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await sleep(2);
        events.push(typeof i === 'number' ? `${name} ${i}` : name);
        inFlight--;
      };
    const model = new Model(mlp(4, 8, 3, 54)).compile({ optimizer: 'adam', loss: 'crossEntropy' });
    let ended = false;
    await model.fit(x, y, {
      epochs: 2,
      batchSize: 25,
      verbose: 0,
      callbacks: [
        {
          onTrainBegin: wrap('trainBegin'),
          onEpochBegin: wrap('epochBegin'),
          onBatchEnd: wrap('batchEnd'),
          onEpochEnd: wrap('epochEnd'),
          onTrainEnd: async () => {
            await sleep(20);
            ended = true;
          },
        },
      ],
    });
    expect(ended).toBe(true);
    expect(maxInFlight).toBe(1);
    expect(events).toEqual([
      'trainBegin',
      'epochBegin 0',
      'batchEnd 0',
      'batchEnd 1',
      'epochEnd 0',
      'epochBegin 1',
      'batchEnd 0',
      'batchEnd 1',
      'epochEnd 1',
    ]);
  });

  it('a callback may await evaluate and predict on the model being trained (no deadlock)', async () => {
    const { x, y } = randomData(64, 6, 3, 11);
    const model = new Model(mlp(6, 8, 3, 1)).compile({
      optimizer: 'adam',
      loss: 'crossEntropy',
      metrics: ['accuracy'],
    });
    const seen: number[] = [];
    await model.fit(x, y, {
      epochs: 2,
      batchSize: 16,
      verbose: 0,
      callbacks: [
        {
          onEpochEnd: async () => {
            const logs = await model.evaluate(x, y, { batchSize: 32 });
            const p = await model.predict(x);
            seen.push(logs.loss, p.shape[0]);
          },
        },
      ],
    });
    expect(seen).toHaveLength(4);
    expect(seen[1]).toBe(64);
    expect(Number.isFinite(seen[0])).toBe(true);
  });

  it('a throwing callback rejects fit, and the model can be used again afterwards', async () => {
    const model = new Model(mlp(4, 8, 3, 55)).compile({ optimizer: 'adam', loss: 'crossEntropy' });
    await expect(
      model.fit(x, y, {
        epochs: 3,
        batchSize: 16,
        verbose: 0,
        callbacks: [
          {
            onEpochEnd: (e) => {
              if (e === 1) throw new Error('boom at 1');
            },
          },
        ],
      }),
    ).rejects.toThrow('boom at 1');
    expect(model.predictSync(x.slice(0, 3)).shape).toEqual([3, 3]);
    const h = await model.fit(x, y, { epochs: 1, batchSize: 16, verbose: 0 });
    expect(h.history.loss).toHaveLength(1);
  });
});

// ---- EarlyStopping --------------------------------------------------------------------------------

describe('EarlyStopping', () => {
  const { x, y } = randomData(40, 4, 3, 60);

  async function runWith(
    values: number[],
    es: EarlyStopping,
    epochs = 10,
  ): Promise<{ epochs: number[]; snaps: Float32Array[][]; final: Float32Array[] }> {
    const m = mlp(4, 8, 3, 61);
    const model = new Model(m).compile({
      optimizer: new SGD(m.parameters(), { lr: 0.2 }),
      loss: 'crossEntropy',
      metrics: [scripted('score', values)],
    });
    const snaps: Float32Array[][] = [];
    const h = await model.fit(x, y, {
      epochs,
      batchSize: 10,
      verbose: 0,
      callbacks: [es, { onEpochEnd: () => void snaps.push(snapshot(m)) }],
    });
    return { epochs: h.epoch, snaps, final: snapshot(m) };
  }

  it('patience: stops after `patience` epochs without improvement (mode min from the name)', async () => {
    const es = new EarlyStopping({ monitor: 'score', patience: 2 });
    const r = await runWith([3, 1, 2, 2.5, 4, 0.1, 0.1], es);
    // best at epoch 1; epochs 2, 3 wait; epoch 4 is the third without improvement: stop
    expect(r.epochs).toEqual([0, 1, 2, 3, 4]);
    expect(es.bestEpoch).toBe(1);
    expect(es.best).toBe(1);
    expect(es.stoppedEpoch).toBe(4);
    expectBitwise(r.final, r.snaps[4]); // no restore asked
  });

  it('patience 0 stops at the first epoch without improvement', async () => {
    const es = new EarlyStopping({ monitor: 'score' });
    const r = await runWith([3, 2, 2, 1], es);
    expect(r.epochs).toEqual([0, 1, 2]);
  });

  it('minDelta: smaller improvements do not count', async () => {
    const values = [1, 0.95, 0.9, 0.85, 0.8, 0.75];
    const strict = await runWith(values, new EarlyStopping({ monitor: 'score', patience: 1, minDelta: 0.1 }));
    expect(strict.epochs).toEqual([0, 1, 2]);
    const loose = await runWith(values, new EarlyStopping({ monitor: 'score', patience: 1 }), 6);
    expect(loose.epochs).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('mode max (explicit, and auto for an accuracy-like name)', async () => {
    const r = await runWith([1, 2, 1.5, 3], new EarlyStopping({ monitor: 'score', mode: 'max' }));
    expect(r.epochs).toEqual([0, 1, 2]);
    expect(new EarlyStopping({ monitor: 'val_accuracy' }).mode).toBe('max');
    expect(new EarlyStopping({ monitor: 'val_loss' }).mode).toBe('min');
  });

  it('baseline: stops unless the metric beats it', async () => {
    const r = await runWith([1, 0.9, 0.8, 0.2], new EarlyStopping({ monitor: 'score', patience: 1, baseline: 0.5 }));
    expect(r.epochs).toEqual([0, 1]);
  });

  it('restoreBestWeights puts back the best epoch weights bit for bit (on stop and at the natural end)', async () => {
    const es = new EarlyStopping({ monitor: 'score', patience: 2, restoreBestWeights: true });
    const r = await runWith([3, 1, 2, 2.5, 4], es);
    expect(r.epochs).toEqual([0, 1, 2, 3, 4]);
    expectBitwise(r.final, r.snaps[1]);
    expect(bitwiseEqual(r.final, r.snaps[4])).toBe(false);
    // no stop: training runs out, still restores the best (epoch 2)
    const es2 = new EarlyStopping({ monitor: 'score', patience: 5, restoreBestWeights: true });
    const r2 = await runWith([3, 2, 1, 1.5], es2, 4);
    expect(r2.epochs).toEqual([0, 1, 2, 3]);
    expectBitwise(r2.final, r2.snaps[2]);
  });

  it('a monitor missing from the logs rejects fit naming it', async () => {
    const model = new Model(mlp(4, 8, 3, 62)).compile({ optimizer: 'adam', loss: 'crossEntropy' });
    await expect(model.fit(x, y, { epochs: 2, verbose: 0, callbacks: [new EarlyStopping()] })).rejects.toThrow(
      /EarlyStopping: metric 'val_loss' is not in the logs \(have: loss\)/,
    );
    expect(() => new EarlyStopping({ patience: -1 })).toThrow(/patience/);
  });

  it('monitoring real val_loss on a tiny overfitting net stops before the epoch limit', async () => {
    const t = randomData(30, 4, 3, 63);
    const v = randomData(60, 4, 3, 64); // labels unrelated to the training set: val_loss rises
    const model = new Model(mlp(4, 64, 3, 65)).compile({ optimizer: 'adam', learningRate: 0.05, loss: 'crossEntropy' });
    const es = new EarlyStopping({ patience: 3, restoreBestWeights: true });
    const h2 = await model.fit(t.x, t.y, {
      epochs: 200,
      batchSize: 10,
      verbose: 0,
      validationData: [v.x, v.y],
      callbacks: [es],
    });
    expect(h2.epoch.length).toBeLessThan(200);
    const best = Math.min(...h2.history.val_loss);
    expect(es.best).toBe(best);
    expect(h2.history.val_loss.indexOf(best)).toBe(es.bestEpoch);
  });
});

// ---- learning-rate callbacks ----------------------------------------------------------------------

describe('learning-rate callbacks change the lr used by the replayed steps', () => {
  const { x, y } = randomData(48, 4, 3, 70);

  it('LearningRateScheduler(fn): one full-batch SGD step per epoch moves the weights by lr * grad (lr 0 freezes them)', async () => {
    const lrs = [0.1, 0, 0.05, 0.2];
    const a = mlp(4, 8, 3, 71);
    const model = new Model(a).compile({ optimizer: new SGD(a.parameters(), { lr: 1 }), loss: 'crossEntropy' });
    const snaps: Float32Array[][] = [snapshot(a)];
    const seenLr: number[] = [];
    const h = await model.fit(x, y, {
      epochs: 4,
      batchSize: 48,
      shuffle: false,
      verbose: 0,
      callbacks: [
        new LearningRateScheduler((epoch, lr) => {
          seenLr.push(lr);
          return lrs[epoch];
        }),
        { onEpochEnd: () => void snaps.push(snapshot(a)) },
      ],
    });
    expect(seenLr).toEqual([1, 0.1, 0, 0.05]);
    expect(h.history.lr).toEqual(lrs);
    // epoch 1 ran with lr 0: nothing moved
    expectBitwise(snaps[2], snaps[1]);
    // the same gradient (same start) at lr 0.1 and 0.2 moves twice as far: compare with a twin
    const b = mlp(4, 8, 3, 71);
    const mb = new Model(b).compile({ optimizer: new SGD(b.parameters(), { lr: 1 }), loss: 'crossEntropy' });
    await mb.fit(x, y, {
      epochs: 1,
      batchSize: 48,
      shuffle: false,
      verbose: 0,
      callbacks: [new LearningRateScheduler(() => 0.2)],
    });
    const d1 = snaps[1].map((w, i) => w.map((v, k) => v - snaps[0][i][k]));
    const d2 = snapshot(b).map((w, i) => w.map((v, k) => v - snaps[0][i][k]));
    let s1 = 0;
    let s2 = 0;
    d1.forEach((w, i) => w.forEach((v, k) => ((s1 += Math.abs(v)), (s2 += Math.abs(d2[i][k])))));
    expect(s1).toBeGreaterThan(0);
    expect(s2 / s1).toBeCloseTo(2, 3);
    // and the whole run equals the eager loop with the same lr per epoch
    const c = mlp(4, 8, 3, 71);
    const optC = new SGD(c.parameters(), { lr: 1 });
    eagerFit(c, optC, ce, x, y, {
      batchSize: 48,
      epochs: 4,
      beforeStep: (e) => void (optC.paramGroups[0].lr = lrs[e]),
    });
    expectBitwise(snapshot(a), snapshot(c));
  });

  it('LearningRateScheduler(StepLR, "epoch") equals the eager loop stepping the scheduler per epoch', async () => {
    const a = mlp(4, 8, 3, 72);
    const optA = new SGD(a.parameters(), { lr: 0.4, momentum: 0.5 });
    const h = await new Model(a).compile({ optimizer: optA, loss: 'crossEntropy' }).fit(x, y, {
      epochs: 4,
      batchSize: 16,
      shuffle: false,
      verbose: 0,
      callbacks: [new LearningRateScheduler(new StepLR(optA, 1, 0.5))],
    });
    expect(h.history.lr).toEqual([0.2, 0.1, 0.05, 0.025]);
    expect(optA.paramGroups[0].lr).toBe(0.025);
    const b = mlp(4, 8, 3, 72);
    const optB = new SGD(b.parameters(), { lr: 0.4, momentum: 0.5 });
    const sched = new StepLR(optB, 1, 0.5);
    eagerFit(b, optB, ce, x, y, { batchSize: 16, epochs: 4, afterStep: (_e, s) => void (s === 2 && sched.step()) });
    expectBitwise(snapshot(a), snapshot(b));
  });

  it('LearningRateScheduler(StepLR, "batch") changes the lr between the batches of one epoch (50 rows: remainder batch too)', async () => {
    const { x: x5, y: y5 } = randomData(50, 4, 3, 73);
    const a = mlp(4, 8, 3, 74);
    const optA = new SGD(a.parameters(), { lr: 0.8 });
    const lrSeen: number[] = [];
    await new Model(a).compile({ optimizer: optA, loss: 'crossEntropy' }).fit(x5, y5, {
      epochs: 2,
      batchSize: 16,
      shuffle: false,
      verbose: 0,
      callbacks: [
        new LearningRateScheduler(new StepLR(optA, 1, 0.5), 'batch'),
        { onBatchEnd: () => void lrSeen.push(optA.paramGroups[0].lr) },
      ],
    });
    expect(lrSeen).toEqual([0.4, 0.2, 0.1, 0.05, 0.025, 0.0125, 0.00625, 0.003125]);
    const b = mlp(4, 8, 3, 74);
    const optB = new SGD(b.parameters(), { lr: 0.8 });
    const sched = new StepLR(optB, 1, 0.5);
    eagerFit(b, optB, ce, x5, y5, { batchSize: 16, epochs: 2, afterStep: () => sched.step() });
    expectBitwise(snapshot(a), snapshot(b));
    // with a constant lr the result differs (the schedule really mattered)
    const c = mlp(4, 8, 3, 74);
    eagerFit(c, new SGD(c.parameters(), { lr: 0.8 }), ce, x5, y5, { batchSize: 16, epochs: 2 });
    expect(bitwiseEqual(snapshot(a), snapshot(c))).toBe(false);
  });

  it('LearningRateScheduler rejects a bad schedule value and a non-schedule', async () => {
    const model = new Model(mlp(4, 8, 3, 75)).compile({ optimizer: 'sgd', loss: 'crossEntropy' });
    await expect(
      model.fit(x, y, { epochs: 2, verbose: 0, callbacks: [new LearningRateScheduler(() => NaN)] }),
    ).rejects.toThrow(/LearningRateScheduler: the schedule returned NaN for epoch 0/);
    expect(() => new LearningRateScheduler(42 as unknown as () => number)).toThrow(TypeError);
  });

  it('ReduceLROnPlateauCallback: factor, patience, cooldown and minLr, applied to the next epoch', async () => {
    const values = [1, 1, 1, 0.5, 0.5, 0.5];
    const run = async (
      opts: ConstructorParameters<typeof ReduceLROnPlateauCallback>[0],
    ): Promise<{ lr: number[]; m: Module }> => {
      const m = mlp(4, 8, 3, 76);
      const h = await new Model(m)
        .compile({
          optimizer: new SGD(m.parameters(), { lr: 0.1 }),
          loss: 'crossEntropy',
          metrics: [scripted('score', values)],
        })
        .fit(x, y, {
          epochs: 6,
          batchSize: 16,
          shuffle: false,
          verbose: 0,
          callbacks: [new ReduceLROnPlateauCallback({ monitor: 'score', ...opts })],
        });
      return { lr: h.history.lr, m };
    };
    const basic = await run({ factor: 0.5, patience: 1, minDelta: 0 });
    expect(basic.lr).toEqual([0.1, 0.05, 0.025, 0.025, 0.0125, 0.00625]);
    const patient = await run({ factor: 0.5, patience: 2, minDelta: 0 });
    expect(patient.lr).toEqual([0.1, 0.1, 0.05, 0.05, 0.05, 0.025]);
    const floor = await run({ factor: 0.5, patience: 1, minDelta: 0, minLr: 0.03 });
    expect(floor.lr).toEqual([0.1, 0.05, 0.03, 0.03, 0.03, 0.03]);
    const cool = await run({ factor: 0.5, patience: 1, minDelta: 0, cooldown: 2 });
    // reduce at 1; cooldown counts 2 -> 1 at epoch 2, -> 0 at 3 (improved); epoch 4 reduces
    // again and starts another cooldown, so epoch 5 does not.
    expect(cool.lr).toEqual([0.1, 0.05, 0.05, 0.05, 0.025, 0.025]);
    // the weights equal the eager loop with that lr sequence (lr of epoch e = logged lr of e - 1)
    const b = mlp(4, 8, 3, 76);
    const optB = new SGD(b.parameters(), { lr: 0.1 });
    eagerFit(b, optB, ce, x, y, {
      batchSize: 16,
      epochs: 6,
      beforeStep: (e) => void (optB.paramGroups[0].lr = e === 0 ? 0.1 : basic.lr[e - 1]),
    });
    expectBitwise(snapshot(basic.m), snapshot(b));
    expect(() => new ReduceLROnPlateauCallback({ factor: 1 })).toThrow(/factor/);
  });
});

// ---- TerminateOnNaN, loggers ------------------------------------------------------------------------

describe('TerminateOnNaN and the loggers', () => {
  it('TerminateOnNaN names the epoch and batch of the first NaN loss (a NaN input in row 37, batch 10: batch 4)', async () => {
    const { x, y } = randomData(60, 4, 3, 80);
    const xs = Float32Array.from(x.data as Float32Array);
    xs[37 * 4 + 2] = NaN;
    const model = new Model(mlp(4, 8, 3, 81)).compile({ optimizer: 'sgd', loss: 'crossEntropy' });
    const batches: number[] = [];
    await expect(
      model.fit(new Tensor(xs, [60, 4]), y, {
        epochs: 4,
        initialEpoch: 1,
        batchSize: 10,
        shuffle: false,
        verbose: 0,
        callbacks: [new TerminateOnNaN(), { onBatchEnd: (b) => void batches.push(b) }],
      }),
    ).rejects.toThrow('TerminateOnNaN: the loss became NaN at epoch 2, batch 4');
    expect(batches).toEqual([0, 1, 2]); // the later callback never saw batch 3
  });

  it('TerminateOnNaN stops a diverging regression (SGD lr 1e10) with an error naming epoch and batch', async () => {
    const { x } = randomData(64, 4, 3, 82);
    const y = new Tensor(
      Float32Array.from({ length: 64 }, (_, i) => i % 7),
      [64, 1],
    );
    const model = new Model(new Linear(4, 1, { init: { seed: 83 } })).compile({
      optimizer: 'sgd',
      learningRate: 1e10,
      loss: 'mse',
    });
    const losses: number[] = [];
    const err = await model
      .fit(x, y, {
        epochs: 50,
        batchSize: 8,
        verbose: 0,
        callbacks: [{ onBatchEnd: (_b, l) => void losses.push(l.loss) }, new TerminateOnNaN()],
      })
      .catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const m = /^TerminateOnNaN: the loss became (NaN|Infinity) at epoch (\d+), batch (\d+)$/.exec(
      (err as Error).message,
    );
    expect(m).not.toBeNull();
    // the named batch is the first whose running loss is not finite
    const first = losses.findIndex((l) => !Number.isFinite(l));
    expect(first).toBe(losses.length - 1);
    expect((Number(m![2]) - 1) * 8 + Number(m![3]) - 1).toBe(first);
    expect(String(losses[first])).toBe(m![1]);
  });

  it('CSVLogger writes a header and one row per epoch with the logged values; JSONLogger the whole history', async () => {
    const { x, y } = randomData(40, 4, 3, 84);
    const v = randomData(12, 4, 3, 85);
    const csv = join(tmp, 'log.csv');
    const csvSemi = join(tmp, 'log-semi.csv');
    const json = join(tmp, 'log.json');
    const model = new Model(mlp(4, 8, 3, 86)).compile({
      optimizer: 'adam',
      loss: 'crossEntropy',
      metrics: ['accuracy'],
    });
    const h = await model.fit(x, y, {
      epochs: 3,
      batchSize: 10,
      verbose: 0,
      validationData: [v.x, v.y],
      callbacks: [new CSVLogger(csv), new CSVLogger(csvSemi, ';'), new JSONLogger(json)],
    });
    const lines = readFileSync(csv, 'utf8').split('\n');
    expect(lines[lines.length - 1]).toBe('');
    expect(lines[0]).toBe('epoch,loss,accuracy,val_loss,val_accuracy');
    expect(lines).toHaveLength(5);
    for (let e = 0; e < 3; e++) {
      const cells = lines[e + 1].split(',').map(Number);
      expect(cells).toEqual([
        e,
        h.history.loss[e],
        h.history.accuracy[e],
        h.history.val_loss[e],
        h.history.val_accuracy[e],
      ]);
    }
    expect(readFileSync(csvSemi, 'utf8').split('\n')[0]).toBe('epoch;loss;accuracy;val_loss;val_accuracy');
    const rows = JSON.parse(readFileSync(json, 'utf8')) as Record<string, number>[];
    expect(rows).toHaveLength(3);
    rows.forEach((r, e) => {
      expect(r).toEqual({
        epoch: e,
        loss: h.history.loss[e],
        accuracy: h.history.accuracy[e],
        val_loss: h.history.val_loss[e],
        val_accuracy: h.history.val_accuracy[e],
      });
    });
    // a second fit starts the files over
    await model.fit(x, y, {
      epochs: 1,
      batchSize: 10,
      verbose: 0,
      callbacks: [new CSVLogger(csv), new JSONLogger(json)],
    });
    expect(readFileSync(csv, 'utf8').split('\n')).toHaveLength(3);
    expect(JSON.parse(readFileSync(json, 'utf8'))).toHaveLength(1);
  });
});

// ---- abort ----------------------------------------------------------------------------------------

describe('abort', () => {
  const { x, y } = randomData(256, 16, 4, 90);

  async function abortedRun(
    trigger: (ac: AbortController) => Callback[],
  ): Promise<{ err: Error; steps: number; weights: Float32Array[]; opt: Adam; module: Module }> {
    const module = mlp(16, 64, 4, 91);
    const opt = new Adam(module.parameters(), { lr: 0.01 });
    const model = new Model(module).compile({ optimizer: opt, loss: 'crossEntropy' });
    const ac = new AbortController();
    let steps = 0;
    let err: Error | null = null;
    try {
      await model.fit(x, y, {
        epochs: 10_000,
        batchSize: 8,
        shuffle: false,
        verbose: 0,
        signal: ac.signal,
        callbacks: [{ onBatchEnd: () => void steps++ }, ...trigger(ac)],
      });
    } catch (e) {
      err = e as Error;
    }
    expect(err).not.toBeNull();
    return { err: err as Error, steps, weights: snapshot(module), opt, module };
  }

  function eagerSteps(steps: number): Float32Array[] {
    const b = mlp(16, 64, 4, 91);
    eagerFit(b, new Adam(b.parameters(), { lr: 0.01 }), ce, x, y, {
      batchSize: 8,
      epochs: Math.ceil(steps / 32) + 1,
      maxSteps: steps,
    });
    return snapshot(b);
  }

  it('from a setTimeout: rejects with an AbortError; the weights are those after the completed steps', async () => {
    const r = await abortedRun((ac) => {
      setTimeout(() => ac.abort(), 60);
      return [];
    });
    expect(r.err.name).toBe('AbortError');
    expect(r.err.message).toMatch(/^fit: aborted at epoch \d+, batch \d+$/);
    expect(r.steps).toBeGreaterThan(0);
    for (const w of r.weights) for (const v of w) expect(Number.isFinite(v)).toBe(true);
    expect(bitwiseEqual(r.weights, snapshot(mlp(16, 64, 4, 91)))).toBe(false);
    for (const p of r.module.parameters()) expect(r.opt.state.get(p)?.step).toBe(r.steps);
    expectBitwise(r.weights, eagerSteps(r.steps));
  });

  it('from onBatchEnd (per-batch mode via onBatchBegin): stops right after that batch', async () => {
    const r = await abortedRun((ac) => [
      {
        onBatchBegin: () => undefined,
        onBatchEnd: (b) => {
          if (b === 5) ac.abort();
        },
      },
    ]);
    expect(r.err.name).toBe('AbortError');
    expect(r.steps).toBe(6);
    expectBitwise(r.weights, eagerSteps(6));
  });

  it('from onBatchEnd in chunked mode: stops at the end of the running chunk, weights match the batches reported', async () => {
    let count = 0;
    const r = await abortedRun((ac) => [
      {
        onBatchEnd: () => {
          if (++count === 41) ac.abort();
        },
      },
    ]);
    expect(r.err.name).toBe('AbortError');
    expect(r.steps).toBeGreaterThanOrEqual(41);
    expectBitwise(r.weights, eagerSteps(r.steps));
  });

  it('an already aborted signal rejects before any step', async () => {
    const module = mlp(16, 8, 4, 92);
    const before = snapshot(module);
    const model = new Model(module).compile({ optimizer: 'adam', loss: 'crossEntropy' });
    const err = await model.fit(x, y, { verbose: 0, signal: AbortSignal.abort() }).catch((e: Error) => e);
    expect((err as Error).name).toBe('AbortError');
    expectBitwise(snapshot(module), before);
  });
});

// ---- the event loop stays free --------------------------------------------------------------------

describe('event loop', () => {
  it('a setInterval(10 ms) keeps firing during a fit of 400-step epochs (>= 500 ms)', async () => {
    const { x, y } = randomData(400 * 256, 32, 10, 95);
    const module = new Sequential(
      new Linear(32, 512, { activation: 'relu', init: { seed: 1 } }),
      new Linear(512, 512, { activation: 'relu', init: { seed: 2 } }),
      new Linear(512, 10, { init: { seed: 3 } }),
    );
    const model = new Model(module).compile({ optimizer: 'adam', loss: 'crossEntropy', metrics: ['accuracy'] });
    let ticks = 0;
    let maxDelay = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxDelay = Math.max(maxDelay, now - last - 10);
      last = now;
      ticks++;
    }, 10);
    const t0 = performance.now();
    let batches = 0;
    try {
      // Epochs of 400 steps until at least 500 ms passed (one epoch here; more on a fast machine).
      let ctx: TrainingContext | null = null;
      await model.fit(x, y, {
        epochs: 50,
        batchSize: 256,
        verbose: 0,
        callbacks: [
          {
            setContext: (c) => void (ctx = c),
            onBatchEnd: () => void batches++,
            onEpochEnd: () => void (performance.now() - t0 > 500 && (ctx!.stopTraining = true)),
          },
        ],
      });
    } finally {
      clearInterval(timer);
    }
    const ms = performance.now() - t0;
    console.log(
      `event loop during fit: ${batches} steps in ${ms.toFixed(0)} ms, ${ticks} ticks, max timer delay ${maxDelay.toFixed(1)} ms`,
    );
    expect(batches % 400).toBe(0);
    expect(batches).toBeGreaterThanOrEqual(400);
    expect(ms).toBeGreaterThan(500); // long enough for the timer to matter
    // ~ms / 10 ticks when the loop is free; allow a third of that on a busy 2-core machine
    expect(ticks).toBeGreaterThanOrEqual(Math.floor(ms / 10 / 3));
    expect(maxDelay).toBeLessThan(100);
  });
});

// ---- metrics ----------------------------------------------------------------------------------------

/** JS reference for per-class counts from predicted and true classes. */
function jsScores(pred: number[], truth: number[], c: number) {
  const m = Array.from({ length: c }, () => new Array<number>(c).fill(0));
  pred.forEach((p, i) => m[truth[i]][p]++);
  const tp = m.map((r, i) => r[i]);
  const predicted = Array.from({ length: c }, (_, j) => m.reduce((s, r) => s + r[j], 0));
  const actual = m.map((r) => r.reduce((s, v) => s + v, 0));
  const prec = tp.map((t, i) => (predicted[i] ? t / predicted[i] : 0));
  const rec = tp.map((t, i) => (actual[i] ? t / actual[i] : 0));
  const f1 = prec.map((p, i) => (p + rec[i] ? (2 * p * rec[i]) / (p + rec[i]) : 0));
  const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
  const n = pred.length;
  const weighted = (a: number[]): number => a.reduce((s, v, i) => s + v * actual[i], 0) / n;
  return {
    m,
    prec,
    rec,
    f1,
    macro: { p: mean(prec), r: mean(rec), f: mean(f1) },
    weighted: { p: weighted(prec), r: weighted(rec), f: weighted(f1) },
    acc: tp.reduce((s, v) => s + v, 0) / n,
  };
}

describe('metrics from known predictions (an Identity model: the inputs are the outputs)', () => {
  // 40 rows of 4-class scores with a known argmax, labels chosen so every class has support.
  const g = new Generator(100);
  const n = 40;
  const c = 4;
  const scores = new Float32Array(n * c);
  const truth: number[] = [];
  const pred: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < c; j++) scores[i * c + j] = g.nextFloat();
    pred.push(argmaxRow(scores, i, c));
    truth.push(g.nextFloat() < 0.55 ? pred[i] : g.nextInt(c));
  }
  truth[0] = 3; // class 3 has support even if unlucky
  const x = new Tensor(scores, [n, c]);
  const y = new Tensor(Int32Array.from(truth), [n]);
  const ref = jsScores(pred, truth, c);

  it('accuracy, macro precision / recall / f1 and the confusion matrix', async () => {
    const cm = confusionProbe();
    const model = new Model(new Identity()).compile({
      optimizer: 'sgd',
      loss: 'crossEntropy',
      metrics: ['accuracy', 'precision', 'recall', 'f1', cm],
    });
    const ev = await model.evaluate(x, y, { batchSize: 7 });
    expect(cm.matrix).toEqual(ref.m);
    expect(ev.accuracy).toBeCloseTo(ref.acc, 12);
    expect(ev.precision).toBeCloseTo(ref.macro.p, 12);
    expect(ev.recall).toBeCloseTo(ref.macro.r, 12);
    expect(ev.f1).toBeCloseTo(ref.macro.f, 12);
    expect(ref.acc).toBeGreaterThan(0.3);
    expect(ref.acc).toBeLessThan(0.95);
    // loss: the eager cross-entropy of the same scores
    expect(ev.loss).toBeCloseTo(crossEntropy(x, y).item(), 5);
  });

  it('micro and weighted averages, and binary on a multi-class output (class 1 as positive)', async () => {
    const model = new Model(new Identity()).compile({
      optimizer: 'sgd',
      loss: 'crossEntropy',
      metrics: [
        metrics.precision({ average: 'weighted' }),
        metrics.recall({ average: 'micro' }),
        metrics.f1({ average: 'binary' }),
      ],
    });
    const ev = await model.evaluate(x, y);
    expect(ev.precision).toBeCloseTo(ref.weighted.p, 12);
    expect(ev.recall).toBeCloseTo(ref.acc, 12); // micro recall = accuracy
    expect(ev.f1).toBeCloseTo(ref.f1[1], 12);
  });

  it('binary metrics for one logit (threshold 0) and one probability (threshold 0.5)', async () => {
    const gb = new Generator(101);
    const m = 50;
    const logits = Float32Array.from({ length: m }, () => gb.nextNormal() * 2 + 0.3);
    const labels = Float32Array.from({ length: m }, (_, i) =>
      gb.nextFloat() < 0.75 ? (logits[i] > 0 ? 1 : 0) : gb.nextInt(2),
    );
    const p = Array.from(logits, (v) => (v > 0 ? 1 : 0));
    const t = Array.from(labels);
    const tp = p.filter((v, i) => v === 1 && t[i] === 1).length;
    const fp = p.filter((v, i) => v === 1 && t[i] === 0).length;
    const fn = p.filter((v, i) => v === 0 && t[i] === 1).length;
    const acc = p.filter((v, i) => v === t[i]).length / m;
    const prec = tp / (tp + fp);
    const rec = tp / (tp + fn);
    const f1 = (2 * prec * rec) / (prec + rec);
    const cm = confusionProbe();
    const names = ['accuracy', 'precision', 'recall', 'f1'] as const;
    const logitModel = new Model(new Identity()).compile({
      optimizer: 'sgd',
      loss: 'binaryCrossentropyWithLogits',
      metrics: [...names, cm],
    });
    const ev = await logitModel.evaluate(new Tensor(logits, [m, 1]), new Tensor(labels, [m, 1]), { batchSize: 16 });
    expect(ev.accuracy).toBeCloseTo(acc, 12);
    expect(ev.precision).toBeCloseTo(prec, 12);
    expect(ev.recall).toBeCloseTo(rec, 12);
    expect(ev.f1).toBeCloseTo(f1, 12);
    expect(cm.matrix).toEqual([
      [m - tp - fp - fn, fp],
      [fn, tp],
    ]);
    // the same decisions as probabilities through a sigmoid, thresholded at 0.5
    const probs = logits.map((v) => 1 / (1 + Math.exp(-v)));
    const probModel = new Model(new Identity()).compile({
      optimizer: 'sgd',
      loss: 'binaryCrossentropy',
      metrics: [...names],
    });
    const ev2 = await probModel.evaluate(new Tensor(probs, [m, 1]), new Tensor(labels, [m, 1]));
    for (const k of names) expect(ev2[k]).toBeCloseTo(ev[k], 12);
    // and the loss is the eager BCE: mean of -(t log p + (1-t) log(1-p))
    let bce = 0;
    for (let i = 0; i < m; i++) bce -= t[i] * Math.log(probs[i]) + (1 - t[i]) * Math.log(1 - probs[i]);
    expect(ev2.loss).toBeCloseTo(bce / m, 4);
  });

  it('categorical (one-hot float) targets: accuracy from the argmax of both', async () => {
    const onehot = new Float32Array(n * c);
    truth.forEach((t, i) => (onehot[i * c + t] = 1));
    const model = new Model(new Identity()).compile({
      optimizer: 'sgd',
      loss: 'categoricalCrossentropy',
      metrics: ['accuracy'],
    });
    const ev = await model.evaluate(x, new Tensor(onehot, [n, c]));
    expect(ev.accuracy).toBeCloseTo(ref.acc, 12);
  });

  it('top-k accuracy (k = 2 and top5 on 6 classes) vs a JS ranking', async () => {
    const gk = new Generator(102);
    const m = 60;
    const k6 = 6;
    const s = Float32Array.from({ length: m * k6 }, () => gk.nextFloat());
    const lab = Int32Array.from({ length: m }, () => gk.nextInt(k6));
    const topk = (k: number): number => {
      let hit = 0;
      for (let i = 0; i < m; i++) {
        const above = Array.from(s.subarray(i * k6, (i + 1) * k6)).filter((v) => v > s[i * k6 + lab[i]]).length;
        if (above < k) hit++;
      }
      return hit / m;
    };
    const model = new Model(new Identity()).compile({
      optimizer: 'sgd',
      loss: 'crossEntropy',
      metrics: [metrics.topKAccuracy(2), 'top5Accuracy', metrics.topKAccuracy(1), 'accuracy'],
    });
    const ev = await model.evaluate(new Tensor(s, [m, k6]), new Tensor(lab, [m]), { batchSize: 25 });
    expect(ev.top2Accuracy).toBeCloseTo(topk(2), 12);
    expect(ev.top5Accuracy).toBeCloseTo(topk(5), 12);
    expect(ev.top1Accuracy).toBeCloseTo(ev.accuracy, 12);
    expect(topk(2)).toBeGreaterThan(topk(1));
    expect(() => metrics.topKAccuracy(0)).toThrow(/k must be a positive integer/);
  });

  it('mse / mae / r2 of a regression model vs the JS formulas over its eager predictions', async () => {
    const gr = new Generator(103);
    const m = 90;
    const xs = new Tensor(
      Float32Array.from({ length: m * 3 }, () => gr.nextNormal()),
      [m, 3],
    );
    const ys = new Tensor(
      Float32Array.from({ length: m }, (_, i) => xs.data[3 * i] - 2 * xs.data[3 * i + 2] + 0.5 * gr.nextNormal()),
      [m, 1],
    );
    const module = new Linear(3, 1, { init: { seed: 9 } });
    const model = new Model(module).compile({
      optimizer: 'sgd',
      learningRate: 0.05,
      loss: 'mse',
      metrics: ['mse', 'mae', 'r2'],
    });
    await model.fit(xs, ys, { epochs: 5, batchSize: 10, verbose: 0 });
    const ev = await model.evaluate(xs, ys, { batchSize: 16 });
    const out = eagerPredict(module, xs).data;
    let se = 0;
    let ae = 0;
    let mean = 0;
    for (let i = 0; i < m; i++) mean += ys.data[i] / m;
    let sst = 0;
    for (let i = 0; i < m; i++) {
      se += (out[i] - ys.data[i]) ** 2;
      ae += Math.abs(out[i] - ys.data[i]);
      sst += (ys.data[i] - mean) ** 2;
    }
    expect(ev.mse).toBeCloseTo(se / m, 5);
    expect(ev.mae).toBeCloseTo(ae / m, 5);
    expect(ev.r2).toBeCloseTo(1 - se / sst, 5);
    expect(ev.loss).toBeCloseTo(mseLoss(eagerPredict(module, xs), ys).item(), 5);
    expect(ev.r2).toBeGreaterThan(0.5); // it fit something
  });

  it('getMetric accepts Keras names and rejects unknown ones', () => {
    expect(metrics.getMetric('acc').name).toBe('accuracy');
    expect(metrics.getMetric('sparseCategoricalAccuracy').name).toBe('sparseCategoricalAccuracy');
    expect(metrics.getMetric('top5Accuracy').name).toBe('top5Accuracy');
    expect(() => metrics.getMetric('nope' as never)).toThrow(/unknown metric "nope"/);
  });
});

// ---- bad input --------------------------------------------------------------------------------------

describe('bad input gives clear errors naming the op', () => {
  const { x, y } = randomData(20, 4, 10, 110);
  const fresh = (): Model => new Model(mlp(4, 8, 10, 111)).compile({ optimizer: 'adam', loss: 'crossEntropy' });

  it('fit / evaluate before compile', async () => {
    const model = new Model(mlp(4, 8, 10, 111));
    await expect(model.fit(x, y, { verbose: 0 })).rejects.toThrow('fit: call compile({ optimizer, loss }) first');
    await expect(model.evaluate(x, y)).rejects.toThrow('evaluate: call compile({ optimizer, loss }) first');
    expect(() => new Model({} as Module)).toThrow('Model: expected a Module');
  });

  it('mismatched x / y lengths, missing y, empty x, non-tensors', async () => {
    const model = fresh();
    await expect(model.fit(x, y.slice(0, 19), { verbose: 0 })).rejects.toThrow(
      /^fit: x has 20 samples \(.*\) but y has 19 \(.*\)$/,
    );
    await expect(model.evaluate(x.slice(0, 5), y)).rejects.toThrow(/^evaluate: x has 5 samples .* but y has 20/);
    await expect(model.fit(x, null, { verbose: 0 })).rejects.toThrow('fit: targets y are required');
    const empty = new Tensor(new Float32Array(0), [0, 4]);
    await expect(model.fit(empty, new Tensor(new Int32Array(0), [0]), { verbose: 0 })).rejects.toThrow(
      /^fit: x is empty/,
    );
    expect((await model.predict(empty)).shape).toEqual([0, 10]); // small: the sync path returns no rows
    await expect(model.predict([1, 2] as unknown as Tensor)).rejects.toThrow('predict: x must be a Tensor');
    await expect(model.fit(x, [1] as unknown as Tensor, { verbose: 0 })).rejects.toThrow('fit: y must be a Tensor');
  });

  it('labels outside the class range (fit, validation and evaluate) and float labels with a sparse loss', async () => {
    const model = fresh();
    const bad = Int32Array.from(y.data as Int32Array);
    bad[3] = 12;
    const yb = new Tensor(bad, [20]);
    await expect(model.fit(x, yb, { verbose: 0 })).rejects.toThrow(
      "fit: label 12 at sample 3 is outside the model's 10 classes [0, 9]",
    );
    await expect(model.evaluate(x, yb)).rejects.toThrow(
      "evaluate: label 12 at sample 3 is outside the model's 10 classes",
    );
    await expect(model.fit(x, y, { verbose: 0, validationData: [x, yb] })).rejects.toThrow(
      /^fit \(validation\): label 12 at sample 3/,
    );
    const neg = Int32Array.from(y.data as Int32Array);
    neg[7] = -1;
    await expect(model.fit(x, new Tensor(neg, [20]), { verbose: 0 })).rejects.toThrow(
      /label -1 at sample 7 is outside/,
    );
    await expect(model.fit(x, new Tensor(Float32Array.from(y.data), [20]), { verbose: 0 })).rejects.toThrow(
      /^fit: the crossEntropy loss needs int32 class labels, got float32/,
    );
  });

  it('bad epochs, batchSize, initialEpoch, validationSplit', async () => {
    const model = fresh();
    const fit = (o: object): Promise<unknown> => model.fit(x, y, { verbose: 0, ...o });
    await expect(fit({ epochs: 0 })).rejects.toThrow('fit: epochs must be a positive integer, got 0');
    await expect(fit({ epochs: 1.5 })).rejects.toThrow('fit: epochs must be a positive integer, got 1.5');
    await expect(fit({ batchSize: 0 })).rejects.toThrow('fit: batchSize must be a positive integer, got 0');
    await expect(fit({ batchSize: NaN })).rejects.toThrow('fit: batchSize must be a positive integer, got NaN');
    await expect(fit({ epochs: 2, initialEpoch: 2 })).rejects.toThrow(
      'fit: initialEpoch must be an integer in [0, 2), got 2',
    );
    await expect(fit({ validationSplit: 0 })).rejects.toThrow('fit: validationSplit must be in (0, 1), got 0');
    await expect(fit({ validationSplit: 1 })).rejects.toThrow('fit: validationSplit must be in (0, 1), got 1');
    await expect(fit({ validationSplit: -0.2 })).rejects.toThrow('fit: validationSplit must be in (0, 1)');
    await expect(fit({ validationSplit: 0.01 })).rejects.toThrow(
      'fit: validationSplit 0.01 leaves no training or no validation samples of 20',
    );
    await expect(model.evaluate(x, y, { batchSize: 0 })).rejects.toThrow(
      'evaluate: batchSize must be a positive integer, got 0',
    );
    // Refused on the synchronous path too (it used to be ignored there).
    await expect(model.predict(x.slice(0, 10).reshape([10, 4]), { batchSize: 0 })).rejects.toThrow(
      'predict: batchSize must be a positive integer, got 0',
    );
    model.syncRows = 4;
    await expect(model.predict(x, { batchSize: 0 })).rejects.toThrow(
      'predict: batchSize must be a positive integer, got 0',
    );
  });

  it('unknown loss / optimizer / metric names, duplicate metrics, bad clipNorm, bad classWeight', async () => {
    const m = new Model(mlp(4, 8, 10, 112));
    expect(() => m.compile({ optimizer: 'adam', loss: 'nope' as never })).toThrow('compile: unknown loss "nope"');
    expect(() => m.compile({ optimizer: 'nope' as never, loss: 'mse' })).toThrow('compile: unknown optimizer "nope"');
    expect(() => m.compile({ optimizer: 'adam', loss: 'mse', metrics: ['nope' as never] })).toThrow(
      /^compile: unknown metric "nope"/,
    );
    expect(() => m.compile({ optimizer: 'adam', loss: 'mse', metrics: ['acc', 'accuracy'] })).toThrow(
      "compile: metric 'accuracy' is listed twice",
    );
    expect(() => m.compile({ optimizer: 'adam', loss: 'mse', clipNorm: 0 })).toThrow(
      'compile: clipNorm must be > 0, got 0',
    );
    expect(() => m.compile(undefined as never)).toThrow(/^compile: expected/);
    const model = fresh();
    await expect(model.fit(x, y, { verbose: 0, classWeight: { 10: 2 } })).rejects.toThrow(
      'fit: classWeight has class 10, outside [0, 10)',
    );
    await expect(model.fit(x, y, { verbose: 0, classWeight: [1, -1] })).rejects.toThrow(
      'fit: classWeight[1] must be a finite number >= 0',
    );
  });

  it("targets shaped unlike the output get the loss's shape error (no silent broadcasting)", async () => {
    const yr = new Tensor(
      Float32Array.from({ length: 20 }, (_, i) => i),
      [20],
    );
    const reg = new Model(new Linear(4, 1)).compile({ optimizer: 'sgd', loss: 'mse' });
    await expect(reg.evaluate(x, yr)).rejects.toThrow('mseLoss: input [20,1] and target [20] must have the same shape');
    await expect(reg.fit(x, yr, { verbose: 0, batchSize: 8 })).rejects.toThrow(
      'mseLoss: input [8,1] and target [8] must have the same shape',
    );
  });

  it('a custom loss that is not a scalar, and regression metrics on class labels', async () => {
    const model = new Model(mlp(4, 8, 10, 113)).compile({
      optimizer: 'adam',
      loss: (o, t) => crossEntropy(o, t, { reduction: 'none' }),
    });
    await expect(model.fit(x, y, { verbose: 0, batchSize: 5 })).rejects.toThrow(
      'fit: the loss must be a single value, got shape [5]',
    );
    const reg = new Model(mlp(4, 8, 10, 114)).compile({ optimizer: 'adam', loss: 'crossEntropy', metrics: ['mse'] });
    await expect(reg.fit(x, y, { verbose: 0 })).rejects.toThrow(/^metrics: regression metrics need float targets/);
  });

  it('classWeight reweights the cross-entropy like crossEntropy(..., { weight })', async () => {
    const a = mlp(4, 8, 10, 115);
    const b = mlp(4, 8, 10, 115);
    const w = [2, 1, 1, 0.5, 1, 1, 3, 1, 1, 1];
    await new Model(a)
      .compile({ optimizer: new SGD(a.parameters(), { lr: 0.1 }), loss: 'crossEntropy' })
      .fit(x, y, { epochs: 2, batchSize: 5, shuffle: false, verbose: 0, classWeight: w });
    const wt = new Tensor(Float32Array.from(w), [10]);
    eagerFit(b, new SGD(b.parameters(), { lr: 0.1 }), (o, t) => crossEntropy(o, t, { weight: wt }), x, y, {
      batchSize: 5,
      epochs: 2,
    });
    expectBitwise(snapshot(a), snapshot(b));
  });
});
