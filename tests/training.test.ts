/**
 * End-to-end training: XOR and a 3-class spiral under every optimizer (with minibatches, an LR
 * schedule and gradient clipping in some cases), bitwise determinism for a fixed seed and
 * thread count, and the effect of weight regularisation. Thresholds are stated per test; the
 * datasets are generated here, deterministically.
 */
import { describe, expect, it } from 'vitest';
import {
  Adagrad,
  Adam,
  AdamW,
  CosineAnnealingLR,
  Dropout,
  Generator,
  Linear,
  RMSprop,
  SGD,
  Sequential,
  StepLR,
  Tensor,
  binaryCrossEntropyWithLogits,
  clipGradNorm,
  crossEntropy,
  getNumThreads,
  l2,
  manualSeed,
  mseLoss,
  noGrad,
  setNumThreads,
  tensor,
  type Module,
} from '../src/index.js';

type Opt = { zeroGrad(): void; step(): void };
type LossFn = (out: Tensor, target: Tensor) => Tensor;

/** The explicit loop, full batch; returns the last loss. */
function fit(model: Module, opt: Opt, lossFn: LossFn, x: Tensor, y: Tensor, steps: number): number {
  let last = NaN;
  for (let s = 0; s < steps; s++) {
    opt.zeroGrad();
    const loss = lossFn(model.forward(x), y);
    loss.backward();
    opt.step();
    last = loss.item();
  }
  return last;
}

// ---- XOR --------------------------------------------------------------------------------------

const XOR_X = tensor([
  [0, 0],
  [0, 1],
  [1, 0],
  [1, 1],
]);
const XOR_Y = tensor([[0], [1], [1], [0]]);
const XOR_STEPS = 500;
// Final full-batch loss after XOR_STEPS steps must be below this (reached: at most 6.1e-4, RMSprop).
const XOR_MAX_LOSS = 5e-3;

describe('XOR with a 2-4-1 tanh network', () => {
  const cases: [string, (p: Tensor[]) => Opt, LossFn, boolean][] = [
    ['SGD(momentum 0.9, lr 0.1) + MSE', (p) => new SGD(p, { lr: 0.1, momentum: 0.9 }), (o, t) => mseLoss(o, t), false],
    ['Adam(lr 0.05) + MSE', (p) => new Adam(p, { lr: 0.05 }), (o, t) => mseLoss(o, t), false],
    ['AdamW(lr 0.05) + MSE', (p) => new AdamW(p, { lr: 0.05 }), (o, t) => mseLoss(o, t), false],
    ['RMSprop(lr 0.01) + MSE', (p) => new RMSprop(p, { lr: 0.01 }), (o, t) => mseLoss(o, t), false],
    ['Adagrad(lr 0.3) + MSE', (p) => new Adagrad(p, { lr: 0.3 }), (o, t) => mseLoss(o, t), false],
    [
      'Adam(lr 0.05) + BCE with logits',
      (p) => new Adam(p, { lr: 0.05 }),
      (o, t) => binaryCrossEntropyWithLogits(o, t),
      true,
    ],
  ];
  for (const [name, makeOpt, lossFn, logits] of cases)
    it(`${name}: loss < ${XOR_MAX_LOSS} after ${XOR_STEPS} steps, all 4 predictions right`, () => {
      manualSeed(1);
      const model = new Sequential(new Linear(2, 4, { activation: 'tanh' }), new Linear(4, 1));
      const opt = makeOpt(model.parameters());
      const first = lossFn(model.forward(XOR_X), XOR_Y).item();
      const loss = fit(model, opt, lossFn, XOR_X, XOR_Y, XOR_STEPS);
      expect(first).toBeGreaterThan(0.1); // it did start untrained
      expect(loss).toBeLessThan(XOR_MAX_LOSS);
      const out = noGrad(() => model.forward(XOR_X)).data;
      const threshold = logits ? 0 : 0.5;
      expect(Array.from(out, (v) => (v > threshold ? 1 : 0))).toEqual([0, 1, 1, 0]);
    });
});

// ---- spiral -----------------------------------------------------------------------------------

/** The classic 3-arm spiral (CS231n): 100 points per class, radius 0..1, angle noise sd 0.2. */
function spiral(perClass = 100, classes = 3, seed = 2024): { x: Tensor; y: Tensor } {
  const g = new Generator(seed);
  const xs = new Float32Array(perClass * classes * 2);
  const ys = new Int32Array(perClass * classes);
  for (let c = 0; c < classes; c++)
    for (let i = 0; i < perClass; i++) {
      const k = c * perClass + i;
      const r = i / (perClass - 1);
      const t = c * 4 + (4 * i) / (perClass - 1) + 0.2 * g.nextNormal();
      xs[2 * k] = r * Math.sin(t);
      xs[2 * k + 1] = r * Math.cos(t);
      ys[k] = c;
    }
  return { x: new Tensor(xs, [perClass * classes, 2]), y: new Tensor(ys, [perClass * classes]) };
}

/** Fraction of rows whose arg-max logit is the label (computed in JS). */
function accuracy(model: Module, x: Tensor, y: Tensor): number {
  const out = noGrad(() => model.forward(x));
  const k = out.shape[1];
  let right = 0;
  for (let r = 0; r < y.size; r++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (out.data[r * k + c] > out.data[r * k + best]) best = c;
    if (best === y.data[r]) right++;
  }
  return right / y.size;
}

const mlp = (): Sequential =>
  new Sequential(
    new Linear(2, 32, { activation: 'relu' }),
    new Linear(32, 32, { activation: 'relu' }),
    new Linear(32, 3),
  );
const ce: LossFn = (o, t) => crossEntropy(o, t);
// Training accuracy threshold on the 300 spiral points (reached: 0.983 minibatch Adam, 0.993 the others).
const SPIRAL_MIN_ACC = 0.95;

describe('3-class spiral with a 2-32-32-3 ReLU MLP + cross-entropy', () => {
  const { x, y } = spiral();

  it('the dataset is what the formula says', () => {
    expect(x.shape).toEqual([300, 2]);
    expect(Array.from(y.data.slice(98, 102))).toEqual([0, 0, 1, 1]);
    // The last point of each arm has radius 1; the first sits at the origin.
    for (const k of [99, 199, 299]) expect(Math.hypot(x.data[2 * k], x.data[2 * k + 1])).toBeCloseTo(1, 6);
    expect(Math.hypot(x.data[0], x.data[1])).toBe(0);
  });

  it(`SGD(momentum 0.9) with StepLR: accuracy >= ${SPIRAL_MIN_ACC} in 400 full-batch steps`, () => {
    manualSeed(1);
    const model = mlp();
    const opt = new SGD(model.parameters(), { lr: 0.2, momentum: 0.9 });
    const sched = new StepLR(opt, 150, 0.5);
    for (let s = 0; s < 400; s++) {
      opt.zeroGrad();
      const loss = ce(model.forward(x), y);
      loss.backward();
      opt.step();
      sched.step();
    }
    expect(opt.paramGroups[0].lr).toBeCloseTo(0.2 * 0.25, 12); // 400 steps: two halvings
    expect(accuracy(model, x, y)).toBeGreaterThanOrEqual(SPIRAL_MIN_ACC);
  });

  it(`Adam on shuffled minibatches of 50: accuracy >= ${SPIRAL_MIN_ACC} after 40 epochs (240 steps)`, () => {
    manualSeed(2);
    const model = mlp();
    const opt = new Adam(model.parameters(), { lr: 0.01 });
    const g = new Generator(5);
    const order = Array.from({ length: 300 }, (_, i) => i);
    let steps = 0;
    for (let epoch = 0; epoch < 40; epoch++) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = g.nextInt(i + 1);
        [order[i], order[j]] = [order[j], order[i]];
      }
      for (let b = 0; b < 300; b += 50) {
        const idx = order.slice(b, b + 50);
        const xb = new Tensor(Float32Array.from(idx.flatMap((k) => [x.data[2 * k], x.data[2 * k + 1]])), [50, 2]);
        const yb = new Tensor(
          Int32Array.from(idx, (k) => y.data[k]),
          [50],
        );
        opt.zeroGrad();
        const loss = ce(model.forward(xb), yb);
        loss.backward();
        opt.step();
        steps++;
      }
    }
    expect(steps).toBe(240);
    expect(accuracy(model, x, y)).toBeGreaterThanOrEqual(SPIRAL_MIN_ACC);
  });

  it(`AdamW with CosineAnnealingLR: accuracy >= ${SPIRAL_MIN_ACC} in 400 steps, lr annealed to etaMin`, () => {
    manualSeed(3);
    const model = mlp();
    const opt = new AdamW(model.parameters(), { lr: 0.02, weightDecay: 1e-3 });
    const sched = new CosineAnnealingLR(opt, { tMax: 400, etaMin: 1e-4 });
    const lrs: number[] = [];
    for (let s = 0; s < 400; s++) {
      opt.zeroGrad();
      const loss = ce(model.forward(x), y);
      loss.backward();
      opt.step();
      sched.step();
      lrs.push(opt.paramGroups[0].lr);
    }
    expect(lrs[199]).toBeCloseTo(1e-4 + (0.02 - 1e-4) / 2, 10); // halfway down the cosine
    expect(lrs[399]).toBeCloseTo(1e-4, 12);
    expect(accuracy(model, x, y)).toBeGreaterThanOrEqual(SPIRAL_MIN_ACC);
  });

  it(`RMSprop with clipGradNorm(0.25): accuracy >= ${SPIRAL_MIN_ACC} in 400 steps`, () => {
    manualSeed(4);
    const model = mlp();
    const params = model.parameters();
    const opt = new RMSprop(params, { lr: 0.005 });
    let clipped = 0;
    for (let s = 0; s < 400; s++) {
      opt.zeroGrad();
      const loss = ce(model.forward(x), y);
      loss.backward();
      // Global gradient norms here run ~0.03..0.7 (median ~0.19), so 0.25 clips a good share.
      const norm = clipGradNorm(params, 0.25);
      if (norm > 0.25) {
        clipped++;
        // After clipping the global norm is 0.25 (checked in JS over the raw gradients).
        let sq = 0;
        for (const p of params) for (const v of p.grad?.data ?? []) sq += v * v;
        expect(Math.abs(Math.sqrt(sq) - 0.25)).toBeLessThan(1e-5);
      }
      opt.step();
    }
    expect(clipped).toBeGreaterThan(50); // clipping really happened (147 of 400 steps)
    expect(accuracy(model, x, y)).toBeGreaterThanOrEqual(SPIRAL_MIN_ACC);
  });

  it(`Adagrad(lr 0.1): accuracy >= ${SPIRAL_MIN_ACC} in 400 full-batch steps`, () => {
    manualSeed(5);
    const model = mlp();
    const before = accuracy(model, x, y);
    const loss = fit(model, new Adagrad(model.parameters(), { lr: 0.1 }), ce, x, y, 400);
    expect(before).toBeLessThan(0.7);
    expect(loss).toBeLessThan(0.2);
    expect(accuracy(model, x, y)).toBeGreaterThanOrEqual(SPIRAL_MIN_ACC);
  });
});

// ---- determinism ------------------------------------------------------------------------------

describe('determinism', () => {
  /** 100 Adam steps of a 32-128-128-10 MLP with dropout on a 256-row batch; returns the weights. */
  function trainOnce(): Float32Array[] {
    manualSeed(77);
    const model = new Sequential(
      new Linear(32, 128, { activation: 'relu' }),
      new Dropout(0.2),
      new Linear(128, 128, { activation: 'relu' }),
      new Dropout(0.2),
      new Linear(128, 10),
    );
    const g = new Generator(8);
    const x = new Tensor(
      Float32Array.from({ length: 256 * 32 }, () => g.nextNormal()),
      [256, 32],
    );
    const y = new Tensor(
      Int32Array.from({ length: 256 }, () => g.nextInt(10)),
      [256],
    );
    fit(model, new Adam(model.parameters(), { lr: 1e-3 }), ce, x, y, 100);
    return model.parameters().map((p) => Float32Array.from(p.data));
  }
  const expectBitwiseEqual = (a: Float32Array[], b: Float32Array[]): void => {
    expect(a.length).toBe(b.length);
    a.forEach((w, i) => {
      // Compare the bit patterns (Buffer.equals), so -0 vs 0 or NaN payloads would count.
      expect(Buffer.from(w.buffer).equals(Buffer.from(b[i].buffer))).toBe(true);
    });
  };

  it('same seed and thread count give bitwise-identical weights after 100 Adam steps with dropout', () => {
    const prev = getNumThreads();
    const a = trainOnce();
    const b = trainOnce();
    expectBitwiseEqual(a, b);
    expect(getNumThreads()).toBe(prev);
    // It did train: the weights moved from their seeded start.
    manualSeed(77);
    const fresh = new Linear(32, 128).weight.data;
    expect(Buffer.from(fresh.buffer).equals(Buffer.from(a[0].buffer))).toBe(false);
  });

  it('also with setNumThreads(1), restoring the previous count afterwards', () => {
    const prev = getNumThreads();
    try {
      setNumThreads(1);
      expect(getNumThreads()).toBe(1);
      expectBitwiseEqual(trainOnce(), trainOnce());
    } finally {
      setNumThreads(prev);
    }
    expect(getNumThreads()).toBe(prev);
  });
});

// ---- regularisation ---------------------------------------------------------------------------

describe('weight regularisation shrinks the weights', () => {
  const { x, y } = spiral();
  const sqNorm = (m: Module): number => {
    let s = 0;
    for (const [name, p] of m.namedParameters()) if (name.endsWith('weight')) for (const v of p.data) s += v * v;
    return s;
  };

  it('an l2 weightRegularizer (added via regularizationLoss) ends with a smaller weight norm', () => {
    const run = (reg: boolean): { norm: number; acc: number } => {
      manualSeed(6);
      const opts = reg ? { weightRegularizer: l2(1e-3) } : {};
      const model = new Sequential(
        new Linear(2, 32, { activation: 'relu', ...opts }),
        new Linear(32, 32, { activation: 'relu', ...opts }),
        new Linear(32, 3, opts),
      );
      const opt = new Adam(model.parameters(), { lr: 0.01 });
      const lossFn: LossFn = (o, t) => {
        const penalty = model.regularizationLoss();
        return penalty ? ce(o, t).add(penalty) : ce(o, t);
      };
      fit(model, opt, lossFn, x, y, 300);
      return { norm: sqNorm(model), acc: accuracy(model, x, y) };
    };
    const plain = run(false);
    const regd = run(true);
    expect(regd.norm).toBeLessThan(0.8 * plain.norm);
    expect(regd.acc).toBeGreaterThan(0.8); // still learns
  });

  it('AdamW weightDecay ends with a smaller weight norm than Adam without decay', () => {
    const run = (wd: number): number => {
      manualSeed(7);
      const model = mlp();
      fit(model, new AdamW(model.parameters(), { lr: 0.01, weightDecay: wd }), ce, x, y, 300);
      return sqNorm(model);
    };
    const plain = run(0);
    const decayed = run(0.5);
    expect(decayed).toBeLessThan(0.8 * plain);
  });
});

describe('ProgressBar', () => {
  it('draws the live bar on a terminal stream it is given, and only summary lines on another', async () => {
    const { ProgressBar, Model, Sequential, Linear, randn } = await import('../src/index.js');
    const fitWith = async (isTTY: boolean): Promise<string> => {
      let text = '';
      const stream = { isTTY, write: (chunk: string) => ((text += chunk), true) };
      const model = new Model(new Sequential(new Linear(4, 1))).compile({ optimizer: 'sgd', loss: 'mse' });
      await model.fit(randn([64, 4], { seed: 1 }), randn([64, 1], { seed: 2 }), {
        epochs: 1,
        batchSize: 16,
        verbose: 0,
        callbacks: [new ProgressBar(stream)],
      });
      return text;
    };
    const tty = await fitWith(true);
    const plain = await fitWith(false);
    expect(plain).toMatch(/^Epoch 1\/1 - 4 batches - [\d.]+s - loss: [\d.]+\n$/);
    expect(tty).toContain('\u001b['); // the bar's cursor control
    expect(tty).toMatch(/Epoch 1\/1/);
  });
});
