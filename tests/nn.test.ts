/**
 * nn: Module discovery and state, Linear against a plain-JS float64 reference, the activation
 * modules, Flatten/Identity/Sequential, Dropout statistics and determinism, initialiser
 * statistics against their formulas, and regularizers. Every expectation is computed here in
 * plain JS (float64) from the tensors' raw data, never by running the library op again.
 */
import { describe, expect, it } from 'vitest';
import {
  Adam,
  AdamW,
  Dropout,
  ELU,
  Flatten,
  GELU,
  Generator,
  Identity,
  LeakyReLU,
  Linear,
  LogSoftmax,
  Module,
  Parameter,
  ReLU,
  SELU,
  SGD,
  Sequential,
  SiLU,
  Sigmoid,
  Softmax,
  Softplus,
  Tanh,
  Tensor,
  dropout,
  elu,
  gelu,
  gradcheck,
  init,
  l1,
  l1l2,
  l2,
  leakyRelu,
  linear,
  logSoftmax,
  manualSeed,
  mseLoss,
  noGrad,
  ones,
  randn,
  relu,
  selu,
  sigmoid,
  silu,
  softmax,
  softplus,
  tanh,
  tensor,
  zeros,
  type LinearActivation,
  TABLE_ACTIVATION_LAYERS,
  type TableActivation,
} from '../src/index.js';

// ---- plain-JS references ------------------------------------------------------------------

/** erf to ~1e-13: Maclaurin series below 3, asymptotic erfc above. */
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = x;
    let s = x;
    for (let n = 1; n < 80; n++) {
      term *= (-x * x) / n;
      s += term / (2 * n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * s;
  }
  const z = 1 / (2 * x * x);
  const erfc = (Math.exp(-x * x) / (ax * Math.sqrt(Math.PI))) * (1 - z + 3 * z * z - 15 * z ** 3 + 105 * z ** 4);
  return Math.sign(x) * (1 - erfc);
}
const phi = (x: number): number => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
const Phi = (x: number): number => 0.5 * (1 + erf(x / Math.SQRT2));

const SELU_SCALE = 1.0507009873554805;
const SELU_ALPHA = 1.6732632423543772;
const refAct: Record<LinearActivation, (z: number, p: number) => number> = {
  none: (z) => z,
  relu: (z) => Math.max(z, 0),
  leakyRelu: (z, p) => (z > 0 ? z : p * z),
  elu: (z, p) => (z > 0 ? z : p * Math.expm1(z)),
  sigmoid: (z) => 1 / (1 + Math.exp(-z)),
  tanh: (z) => Math.tanh(z),
  gelu: (z) => z * Phi(z),
  geluTanh: (z) => 0.5 * z * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z ** 3))),
  silu: (z) => z / (1 + Math.exp(-z)),
  softplus: (z, b) => (b * z > 20 ? z : Math.log1p(Math.exp(b * z)) / b),
  selu: (z) => SELU_SCALE * (z > 0 ? z : SELU_ALPHA * Math.expm1(z)),
  hardswish: (z) => (z * Math.min(Math.max(z + 3, 0), 6)) / 6,
  mish: (z) => z * Math.tanh(Math.log1p(Math.exp(z))),
};

/** act(x W^T + b) in float64 from the raw float32 data. x is (rows, in), W (out, in). */
function linearRef(
  x: ArrayLike<number>,
  rows: number,
  w: ArrayLike<number>,
  b: ArrayLike<number> | null,
  outF: number,
  inF: number,
  act: (z: number) => number = (z) => z,
): Float64Array {
  const y = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < outF; o++) {
      let s = b ? b[o] : 0;
      for (let i = 0; i < inF; i++) s += x[r * inF + i] * w[o * inF + i];
      y[r * outF + o] = act(s);
    }
  return y;
}

/** |got - want| <= atol + rtol |want| elementwise, with a useful message. */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol = 0): void {
  expect(got.length).toBe(want.length);
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]) - rtol * Math.abs(want[i]);
    if (!(err <= atol) && (worst < 0 || err > worstErr)) {
      worst = i;
      worstErr = err;
    }
  }
  if (worst >= 0) expect.fail(`element ${worst}: got ${got[worst]}, want ${want[worst]} (atol ${atol}, rtol ${rtol})`);
}

function stats(d: ArrayLike<number>): { mean: number; std: number; min: number; max: number } {
  let s = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < d.length; i++) {
    s += d[i];
    if (d[i] < min) min = d[i];
    if (d[i] > max) max = d[i];
  }
  const mean = s / d.length;
  let v = 0;
  for (let i = 0; i < d.length; i++) v += (d[i] - mean) ** 2;
  return { mean, std: Math.sqrt(v / d.length), min, max };
}

const bits = (t: Tensor): number[] => Array.from(t.data);
const copy = (t: Tensor): Float32Array => Float32Array.from(t.data);

// ---- Module ---------------------------------------------------------------------------------

class Encoder extends Module {
  fc1: Linear;
  fc2: Linear;
  constructor() {
    super();
    this.fc1 = new Linear(4, 8, { activation: 'relu' });
    this.fc2 = new Linear(8, 3);
  }
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.fc1.forward(x));
  }
}

class AutoEncoder extends Module {
  encoder: Encoder;
  blocks: Module[];
  scale: Parameter;
  decoder: Linear;
  constructor() {
    super();
    this.encoder = new Encoder();
    this.blocks = [new Linear(3, 3, { activation: 'tanh' }), new Identity(), new Linear(3, 3, { bias: false })];
    this.scale = new Parameter(ones([1]));
    this.decoder = new Linear(3, 4);
    this.registerBuffer('steps', zeros([2]));
  }
  forward(x: Tensor): Tensor {
    let h = this.encoder.forward(x);
    for (const b of this.blocks) h = b.forward(h);
    return this.decoder.forward(h.mul(this.scale));
  }
}

const AE_PARAMS = [
  'scale',
  'encoder.fc1.weight',
  'encoder.fc1.bias',
  'encoder.fc2.weight',
  'encoder.fc2.bias',
  'blocks.0.weight',
  'blocks.0.bias',
  'blocks.2.weight',
  'decoder.weight',
  'decoder.bias',
];

describe('Module', () => {
  it('names parameters with dotted paths through Sequential and nested Sequential', () => {
    const m = new Sequential(new Linear(2, 3), new ReLU(), new Sequential(new Linear(3, 3), new Linear(3, 1)));
    expect(m.namedParameters().map(([n]) => n)).toEqual([
      '0.weight',
      '0.bias',
      '2.0.weight',
      '2.0.bias',
      '2.1.weight',
      '2.1.bias',
    ]);
    expect(m.namedParameters().map(([, p]) => p.shape)).toEqual([[3, 2], [3], [3, 3], [3], [1, 3], [1]]);
    const inner = m.at(2) as Sequential;
    expect(m.parameters()[2]).toBe((inner.at(0) as Linear).weight);
  });

  it('discovers fields of a custom subclass, arrays of modules and own Parameters', () => {
    const m = new AutoEncoder();
    // Own parameters come first, then each child in assignment order.
    expect(m.namedParameters().map(([n]) => n)).toEqual(AE_PARAMS);
    expect(m.parameters()).toHaveLength(10);
    expect(m.parameters(false)).toEqual([m.scale]);
    expect(m.parameters()[1]).toBe(m.encoder.fc1.weight);
    expect(m.namedChildren().map(([n]) => n)).toEqual(['encoder', 'blocks.0', 'blocks.1', 'blocks.2', 'decoder']);
    expect(m.children()).toEqual([m.encoder, ...m.blocks, m.decoder]);
    expect(m.namedModules().map(([n]) => n)).toEqual([
      '',
      'encoder',
      'encoder.fc1',
      'encoder.fc2',
      'blocks.0',
      'blocks.1',
      'blocks.2',
      'decoder',
    ]);
    expect(m.modules()).toHaveLength(8);
    expect(m.modules()[0]).toBe(m);
    expect(m.modules()[2]).toBe(m.encoder.fc1);
    // The forward really uses what was discovered: shape (5, 4) in, (5, 4) out.
    expect(m.forward(randn([5, 4], { seed: 1 })).shape).toEqual([5, 4]);
  });

  it('train() and eval() reach every descendant', () => {
    const m = new AutoEncoder();
    expect(m.modules().every((x) => x.training)).toBe(true);
    expect(m.eval()).toBe(m);
    expect(m.modules().map((x) => x.training)).toEqual(new Array(8).fill(false));
    m.encoder.train();
    expect(m.modules().map((x) => x.training)).toEqual([false, true, true, true, false, false, false, false]);
    m.train();
    expect(m.modules().every((x) => x.training)).toBe(true);
    m.train(false);
    expect(m.modules().some((x) => x.training)).toBe(false);
  });

  it('stateDict/loadStateDict round trip: a differently seeded model gives identical outputs after loading', () => {
    manualSeed(1);
    const a = new AutoEncoder();
    manualSeed(2);
    const b = new AutoEncoder();
    const x = randn([6, 4], { seed: 9 });
    expect(bits(b.forward(x))).not.toEqual(bits(a.forward(x)));
    a.buffer('steps').data.set([3, 4]);
    const sd = a.stateDict();
    expect(Object.keys(sd)).toEqual([...AE_PARAMS, 'steps']);
    const bParams = b.parameters();
    const report = b.loadStateDict(sd);
    expect(report).toEqual({ missing: [], unexpected: [], mismatched: [] });
    expect(bits(b.forward(x))).toEqual(bits(a.forward(x)));
    expect(bits(b.buffer('steps'))).toEqual([3, 4]);
    // The parameter objects are kept (optimizers keep working) and own their memory.
    b.parameters().forEach((p, i) => expect(p).toBe(bParams[i]));
    a.decoder.weight.data[0] += 1;
    expect(b.decoder.weight.data[0]).not.toBe(a.decoder.weight.data[0]);
  });

  it('stateDict tensors share memory with the module and carry no autograd history', () => {
    const m = new Linear(2, 2);
    const sd = m.stateDict();
    expect(sd.weight.data).toBe(m.weight.data);
    expect(sd.weight.requiresGrad).toBe(false);
    expect(sd.weight).not.toBe(m.weight);
  });

  it('buffers appear in stateDict with dotted names and load back', () => {
    class WithStats extends Module {
      fc = new Linear(2, 2);
      constructor() {
        super();
        this.registerBuffer('runningMean', tensor([1, 2]));
      }
      forward(x: Tensor): Tensor {
        return this.fc.forward(x);
      }
    }
    const m = new Sequential(new WithStats());
    expect(Object.keys(m.stateDict())).toEqual(['0.fc.weight', '0.fc.bias', '0.runningMean']);
    expect(m.namedBuffers().map(([n, t]) => [n, bits(t)])).toEqual([['0.runningMean', [1, 2]]]);
    const sd = m.stateDict();
    sd['0.runningMean'] = tensor([7, 8]);
    m.loadStateDict(sd);
    expect(bits((m.at(0) as WithStats).buffer('runningMean'))).toEqual([7, 8]);
    expect(() => m.registerBuffer('bad name', zeros([1]))).toThrow("registerBuffer: invalid name 'bad name'");
    expect(() => m.buffer('nope')).toThrow("buffer: no buffer named 'nope'");
  });

  it('strict loadStateDict lists every missing, unexpected and mis-shaped entry and loads nothing', () => {
    const m = new Sequential(new Linear(2, 3), new Linear(3, 1));
    const before = m.parameters().map(copy);
    const sd: Record<string, Tensor> = {
      '0.weight': zeros([2, 3]),
      '0.bias': zeros([3]),
      '1.weight': zeros([1, 3]),
      extra: zeros([1]),
    };
    expect(() => m.loadStateDict(sd)).toThrow(
      'loadStateDict: the state dict does not match the module (missing: 1.bias; unexpected: extra; 0.weight: expected shape [3,2], got [2,3])',
    );
    m.parameters().forEach((p, i) => expect(Array.from(p.data)).toEqual(Array.from(before[i])));
  });

  it('non-strict loadStateDict loads the matching entries and reports the rest', () => {
    const m = new Sequential(new Linear(2, 3), new Linear(3, 1));
    const w0 = copy((m.at(0) as Linear).weight);
    const b1 = copy((m.at(1) as Linear).bias as Parameter);
    const report = m.loadStateDict(
      { '0.weight': zeros([2, 3]), '0.bias': tensor([1, 2, 3]), '1.weight': tensor([[4, 5, 6]]), extra: zeros([1]) },
      { strict: false },
    );
    expect(report).toEqual({
      missing: ['1.bias'],
      unexpected: ['extra'],
      mismatched: [{ name: '0.weight', expected: [3, 2], got: [2, 3] }],
    });
    expect(bits((m.at(0) as Linear).weight)).toEqual(Array.from(w0));
    expect(bits((m.at(0) as Linear).bias as Parameter)).toEqual([1, 2, 3]);
    expect(bits((m.at(1) as Linear).weight)).toEqual([4, 5, 6]);
    expect(bits((m.at(1) as Linear).bias as Parameter)).toEqual(Array.from(b1));
  });

  it('freeze()/unfreeze() and per-parameter trainable', () => {
    const m = new Sequential(new Linear(2, 3), new Linear(3, 1));
    const first = m.at(0) as Linear;
    expect(first.freeze()).toBe(first);
    expect(first.parameters().map((p) => [p.trainable, p.requiresGrad])).toEqual([
      [false, false],
      [false, false],
    ]);
    expect(m.trainableParameters()).toEqual((m.at(1) as Linear).parameters());
    first.unfreeze();
    expect(m.trainableParameters()).toHaveLength(4);
    (m.at(1) as Linear).weight.trainable = false;
    expect(m.trainableParameters()).toEqual([first.weight, first.bias, (m.at(1) as Linear).bias]);
    m.freeze();
    expect(m.trainableParameters()).toEqual([]);
    m.unfreeze();
    expect(m.parameters().every((p) => p.trainable)).toBe(true);
  });

  it('frozen weights stay bitwise unchanged under optimizer steps while unfrozen ones move', () => {
    for (const make of [
      (ps: Parameter[]) => new SGD(ps, { lr: 0.1, momentum: 0.9, weightDecay: 0.01 }),
      (ps: Parameter[]) => new Adam(ps, { lr: 0.05 }),
      (ps: Parameter[]) => new AdamW(ps, { lr: 0.05, weightDecay: 0.1 }),
    ]) {
      manualSeed(3);
      const m = new Sequential(new Linear(2, 4, { activation: 'tanh' }), new Linear(4, 1));
      const x = randn([8, 2], { seed: 4 });
      const y = randn([8, 1], { seed: 5 });
      const opt = make(m.parameters());
      const train = (steps: number): void => {
        for (let s = 0; s < steps; s++) {
          opt.zeroGrad();
          mseLoss(m.forward(x), y).backward();
          opt.step();
        }
      };
      // Frozen from the start: never gets a gradient.
      m.at(1).freeze();
      const frozen1 = m.at(1).parameters().map(copy);
      const live0 = m.at(0).parameters().map(copy);
      train(5);
      m.at(1)
        .parameters()
        .forEach((p, i) => expect(Array.from(p.data)).toEqual(Array.from(frozen1[i])));
      m.at(0)
        .parameters()
        .forEach((p, i) => expect(Array.from(p.data)).not.toEqual(Array.from(live0[i])));
      // Frozen after training (it has optimizer state and a gradient buffer): still no change.
      m.at(1).unfreeze();
      train(3);
      m.at(0).freeze();
      const frozen0 = m.at(0).parameters().map(copy);
      const live1 = m.at(1).parameters().map(copy);
      train(5);
      m.at(0)
        .parameters()
        .forEach((p, i) => expect(Array.from(p.data)).toEqual(Array.from(frozen0[i])));
      m.at(1)
        .parameters()
        .forEach((p, i) => expect(Array.from(p.data)).not.toEqual(Array.from(live1[i])));
    }
  });

  it('zeroGrad drops gradients (default, as PyTorch 2), or zero-fills them in place', () => {
    const m = new Linear(3, 2);
    mseLoss(m.forward(randn([4, 3], { seed: 1 })), zeros([4, 2])).backward();
    const g = m.weight.grad as Tensor;
    expect(g.data.some((v) => v !== 0)).toBe(true);
    m.zeroGrad(false);
    expect(m.weight.grad).toBe(g);
    expect(bits(g)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(bits(m.bias?.grad as Tensor)).toEqual([0, 0]);
    m.zeroGrad();
    expect(m.weight.grad).toBeNull();
    expect(m.bias?.grad).toBeNull();
  });

  it('a fresh gradient becomes .grad uncopied, later contributions add to it', () => {
    const m = new Linear(3, 2);
    const x = randn([4, 3], { seed: 2 });
    // Two uses of the weight: its gradient is the sum of both contributions.
    const loss = mseLoss(m.forward(x), zeros([4, 2])).add(m.weight.square().sum());
    loss.backward();
    const once = new Linear(3, 2);
    once.weight.data.set(m.weight.data);
    if (once.bias && m.bias) once.bias.data.set(m.bias.data);
    mseLoss(once.forward(x), zeros([4, 2])).backward();
    const expected = Array.from(once.weight.grad!.data, (v, i) => v + 2 * m.weight.data[i]);
    Array.from(m.weight.grad!.data).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
  });

  it('toString shows the module tree', () => {
    const m = new Sequential(
      new Linear(4, 8, { activation: 'relu' }),
      new Dropout(0.25),
      new Sequential(new Linear(8, 2, { bias: false }), new LogSoftmax(1)),
    );
    expect(m.toString()).toBe(
      [
        'Sequential(',
        '  (0): Linear(inFeatures=4, outFeatures=8, bias=true, activation=relu)',
        '  (1): Dropout(p=0.25)',
        '  (2): Sequential(',
        '    (0): Linear(inFeatures=8, outFeatures=2, bias=false)',
        '    (1): LogSoftmax(axis=1)',
        '  )',
        ')',
      ].join('\n'),
    );
    expect(new AutoEncoder().toString().split('\n').slice(0, 4)).toEqual([
      'AutoEncoder(',
      '  (encoder): Encoder(',
      '    (fc1): Linear(inFeatures=4, outFeatures=8, bias=true, activation=relu)',
      '    (fc2): Linear(inFeatures=8, outFeatures=3, bias=true)',
    ]);
  });
});

// ---- Linear ---------------------------------------------------------------------------------

// float32 GEMM over 16 features vs the float64 reference: |err| <= 2e-5 + 2e-5 |want|.
const LIN_ATOL = 2e-5;
const LIN_RTOL = 2e-5;

describe('Linear', () => {
  it('computes x W^T + b (checked against float64 JS)', () => {
    const m = new Linear(16, 5, { init: { seed: 11 } });
    const x = randn([7, 16], { seed: 12 });
    const y = m.forward(x);
    expect(y.shape).toEqual([7, 5]);
    expectClose(y.data, linearRef(x.data, 7, m.weight.data, m.bias?.data ?? null, 5, 16), LIN_ATOL, LIN_RTOL);
  });

  const acts: [LinearActivation, number | undefined][] = [
    ['none', undefined],
    ['relu', undefined],
    ['leakyRelu', undefined],
    ['leakyRelu', 0.2],
    ['elu', undefined],
    ['elu', 0.5],
    ['sigmoid', undefined],
    ['tanh', undefined],
    ['gelu', undefined],
    ['geluTanh', undefined],
    ['silu', undefined],
    ['softplus', undefined],
    ['softplus', 2],
    ['selu', undefined],
    ['hardswish', undefined],
    ['mish', undefined],
  ];
  const defaults: Partial<Record<LinearActivation, number>> = { leakyRelu: 0.01, elu: 1, softplus: 1 };
  for (const [act, param] of acts) {
    it(`activation '${act}'${param === undefined ? '' : ` (param ${param})`} matches float64 JS`, () => {
      const m = new Linear(16, 6, { activation: act, activationParam: param, init: { seed: 21 } });
      // Scale the input so the pre-activations span roughly [-3, 3] (both branches of each).
      const x = randn([9, 16], { seed: 22 }).mul(2);
      const p = param ?? defaults[act] ?? 0;
      const want = linearRef(x.data, 9, m.weight.data, m.bias?.data ?? null, 6, 16, (z) => refAct[act](z, p));
      const pre = linearRef(x.data, 9, m.weight.data, m.bias?.data ?? null, 6, 16);
      expect(Math.min(...pre)).toBeLessThan(-0.5);
      expect(Math.max(...pre)).toBeGreaterThan(0.5);
      expectClose(m.forward(x).data, want, LIN_ATOL, LIN_RTOL);
    });
  }

  it('without a bias computes x W^T', () => {
    const m = new Linear(16, 4, { bias: false, init: { seed: 31 } });
    expect(m.bias).toBeNull();
    expect(m.parameters()).toEqual([m.weight]);
    const x = randn([3, 16], { seed: 32 });
    expectClose(m.forward(x).data, linearRef(x.data, 3, m.weight.data, null, 4, 16), LIN_ATOL, LIN_RTOL);
  });

  it('applies to the last axis of rank-3 inputs ([2,3,in])', () => {
    const m = new Linear(16, 5, { activation: 'tanh', init: { seed: 41 } });
    const x = randn([2, 3, 16], { seed: 42 });
    const y = m.forward(x);
    expect(y.shape).toEqual([2, 3, 5]);
    expectClose(
      y.data,
      linearRef(x.data, 6, m.weight.data, m.bias?.data ?? null, 5, 16, Math.tanh),
      LIN_ATOL,
      LIN_RTOL,
    );
    // The gradient of sum(y) w.r.t. the bias sums (1 - y^2) over all 6 rows.
    y.sum().backward();
    const yd = y.data;
    const wantDb = new Float64Array(5);
    for (let r = 0; r < 6; r++) for (let o = 0; o < 5; o++) wantDb[o] += 1 - yd[r * 5 + o] ** 2;
    expectClose(m.bias?.grad?.data ?? [], wantDb, 1e-5, 1e-5);
  });

  it('rejects inputs of the wrong width and invalid constructor arguments', () => {
    expect(() => new Linear(4, 3).forward(zeros([2, 5]))).toThrow('Linear(4, 3): input [2,5] must end in 4 features');
    expect(() => new Linear(4, 3).forward(zeros([4, 1]))).toThrow('Linear(4, 3): input [4,1] must end in 4 features');
    expect(() => new Linear(4, 3).forward(tensor(1))).toThrow('Linear(4, 3): input [] must end in 4 features');
    expect(() => new Linear(0, 3)).toThrow('Linear: inFeatures must be a positive integer, got 0');
    expect(() => new Linear(4, -1)).toThrow('Linear: outFeatures must be a positive integer, got -1');
    expect(() => new Linear(2.5, 3)).toThrow(RangeError);
    expect(() => new Linear(NaN, 3)).toThrow('Linear: inFeatures must be a positive integer, got NaN');
    expect(() => new Linear(4, 3, { weightInit: 'nope' as never })).toThrow('unknown initializer "nope"');
  });

  // Inputs away from the kinks: every pre-activation satisfies |z| > 0.05, far beyond the
  // finite-difference step (eps 1e-3 relative moves z by at most ~1e-2 here). Tolerance: the
  // checker's defaults, |analytic - numeric| <= 1e-4 + 1e-3 |numeric| (worst seen: 0.17 of it).
  for (const act of ['none', 'relu', 'tanh', 'sigmoid', 'gelu', 'leakyRelu'] as LinearActivation[]) {
    it(`gradcheck: weight, bias and input through activation '${act}'`, () => {
      const m = new Linear(5, 4, {
        activation: act,
        activationParam: act === 'leakyRelu' ? 0.1 : undefined,
        init: { seed: 51 },
      });
      let seed = 52;
      let x = randn([3, 5], { seed });
      const kinkFree = (): boolean => {
        const pre = linearRef(x.data, 3, m.weight.data, m.bias?.data ?? null, 4, 5);
        return pre.every((z) => Math.abs(z) > 0.05);
      };
      while (!kinkFree()) x = randn([3, 5], { seed: ++seed });
      x.setRequiresGrad();
      const r = gradcheck((xi) => m.forward(xi), [x, m.weight, m.bias as Parameter]);
      expect(r.failure).toBeUndefined();
      expect(r.ok).toBe(true);
    });
  }

  it('gradcheck would catch a wrong gradient (the checker itself is live)', () => {
    const w = randn([3], { seed: 1 }).setRequiresGrad();
    // d/dw of w*w is 2w; with one factor detached autograd reports w, which must fail.
    const r = gradcheck((t) => t.mul(t.detach()), [w]);
    expect(r.ok).toBe(false);
  });
});

// ---- activation modules, Flatten, Identity, Sequential ----------------------------------------

describe('activation modules', () => {
  const x = randn([4, 6], { seed: 61 }).mul(2);
  const cases: [string, Module, (t: Tensor) => Tensor, (z: number) => number][] = [
    ['ReLU', new ReLU(), relu, (z) => Math.max(z, 0)],
    ['LeakyReLU()', new LeakyReLU(), (t) => leakyRelu(t), (z) => (z > 0 ? z : 0.01 * z)],
    ['LeakyReLU(0.3)', new LeakyReLU(0.3), (t) => leakyRelu(t, 0.3), (z) => (z > 0 ? z : 0.3 * z)],
    ['ELU()', new ELU(), (t) => elu(t), (z) => (z > 0 ? z : Math.expm1(z))],
    ['ELU(0.5)', new ELU(0.5), (t) => elu(t, 0.5), (z) => (z > 0 ? z : 0.5 * Math.expm1(z))],
    ['SELU', new SELU(), selu, (z) => refAct.selu(z, 0)],
    ['GELU()', new GELU(), (t) => gelu(t), (z) => z * Phi(z)],
    ['GELU(tanh)', new GELU('tanh'), (t) => gelu(t, { approximate: 'tanh' }), (z) => refAct.geluTanh(z, 0)],
    ['Sigmoid', new Sigmoid(), sigmoid, (z) => 1 / (1 + Math.exp(-z))],
    ['Tanh', new Tanh(), tanh, Math.tanh],
    ['Softplus()', new Softplus(), (t) => softplus(t), (z) => Math.log1p(Math.exp(z))],
    ['Softplus(3)', new Softplus(3), (t) => softplus(t, 3), (z) => refAct.softplus(z, 3)],
    ['SiLU', new SiLU(), silu, (z) => z / (1 + Math.exp(-z))],
    // Every layer of the op table's activations against its functional form and its float64
    // formula (refAct must have one for each: a new table activation fails to type-check here).
    ...Object.entries(TABLE_ACTIVATION_LAYERS).map(
      ([fn, cls]): [string, Module, (t: Tensor) => Tensor, (z: number) => number] => [
        `${cls.name} (table)`,
        new cls(),
        (t) => (t as unknown as Record<string, () => Tensor>)[fn](),
        (z) => refAct[fn as TableActivation](z, 0),
      ],
    ),
  ];
  for (const [name, mod, fn, ref] of cases)
    it(`${name} equals the functional op and float64 JS`, () => {
      const y = mod.forward(x);
      expect(bits(y)).toEqual(bits(fn(x)));
      expectClose(y.data, Array.from(x.data, ref), 1e-6, 1e-5);
    });

  function softmaxRef(d: ArrayLike<number>, rows: number, cols: number, axis: 0 | 1, log: boolean): Float64Array {
    const out = new Float64Array(rows * cols);
    const [n, len, at] =
      axis === 1
        ? [rows, cols, (a: number, k: number) => a * cols + k]
        : [cols, rows, (a: number, k: number) => k * cols + a];
    for (let a = 0; a < n; a++) {
      let mx = -Infinity;
      for (let k = 0; k < len; k++) mx = Math.max(mx, d[at(a, k)]);
      let s = 0;
      for (let k = 0; k < len; k++) s += Math.exp(d[at(a, k)] - mx);
      for (let k = 0; k < len; k++)
        out[at(a, k)] = log ? d[at(a, k)] - mx - Math.log(s) : Math.exp(d[at(a, k)] - mx) / s;
    }
    return out;
  }
  it('Softmax and LogSoftmax follow their axis', () => {
    expectClose(new Softmax().forward(x).data, softmaxRef(x.data, 4, 6, 1, false), 1e-6, 1e-5);
    expectClose(new Softmax(1).forward(x).data, softmaxRef(x.data, 4, 6, 1, false), 1e-6, 1e-5);
    expectClose(new Softmax(0).forward(x).data, softmaxRef(x.data, 4, 6, 0, false), 1e-6, 1e-5);
    expectClose(new Softmax(-2).forward(x).data, softmaxRef(x.data, 4, 6, 0, false), 1e-6, 1e-5);
    expectClose(new LogSoftmax().forward(x).data, softmaxRef(x.data, 4, 6, 1, true), 1e-5, 1e-5);
    expectClose(new LogSoftmax(0).forward(x).data, softmaxRef(x.data, 4, 6, 0, true), 1e-5, 1e-5);
    expect(bits(new Softmax(0).forward(x))).toEqual(bits(softmax(x, 0)));
    expect(bits(new LogSoftmax(0).forward(x))).toEqual(bits(logSoftmax(x, 0)));
  });

  it('Flatten(startDim, endDim) reshapes without moving data', () => {
    const t = randn([2, 3, 4, 5], { seed: 62 });
    const cases: [Flatten, number[]][] = [
      [new Flatten(), [2, 60]],
      [new Flatten(1, 2), [2, 12, 5]],
      [new Flatten(0, -1), [120]],
      [new Flatten(-3, -2), [2, 12, 5]],
      [new Flatten(2), [2, 3, 20]],
      [new Flatten(0, 1), [6, 4, 5]],
    ];
    for (const [f, shape] of cases) {
      const y = f.forward(t);
      expect(y.shape).toEqual(shape);
      expect(bits(y)).toEqual(bits(t));
    }
  });

  it('Identity returns its input', () => {
    const t = randn([3], { seed: 63 });
    expect(new Identity().forward(t)).toBe(t);
    expect(new Identity().parameters()).toEqual([]);
  });
});

describe('Sequential', () => {
  it('add, at, length, and the forward chain', () => {
    const a = new Linear(3, 4, { activation: 'relu', init: { seed: 71 } });
    const b = new Linear(4, 2, { init: { seed: 72 } });
    const s = new Sequential(a);
    expect(s.length).toBe(1);
    expect(s.add(new Tanh())).toBe(s);
    s.add(b);
    expect(s.length).toBe(3);
    expect(s.at(0)).toBe(a);
    expect(s.at(2)).toBe(b);
    expect(s.at(-1)).toBe(b);
    expect(s.at(-3)).toBe(a);
    expect(() => s.at(3)).toThrow('Sequential.at: index 3 out of range for 3 layers');
    expect(() => s.at(-4)).toThrow('Sequential.at: index -4 out of range for 3 layers');
    expect(() => s.add({} as Module)).toThrow('Sequential.add: expected a Module');
    expect(() => new Sequential(a, 3 as unknown as Module)).toThrow('Sequential: argument 1 is not a Module');

    const x = randn([5, 3], { seed: 73 });
    const h = linearRef(x.data, 5, a.weight.data, a.bias?.data ?? null, 4, 3, (z) => Math.tanh(Math.max(z, 0)));
    const want = linearRef(h, 5, b.weight.data, b.bias?.data ?? null, 2, 4);
    expectClose(s.forward(x).data, want, 1e-5, 1e-5);
    expect(new Sequential().forward(x)).toBe(x);
  });

  it('names nested Sequential children by position', () => {
    const s = new Sequential(
      new Sequential(new Linear(2, 2), new ReLU()),
      new Sequential(new Sequential(new Linear(2, 1))),
    );
    expect(s.namedParameters().map(([n]) => n)).toEqual(['0.0.weight', '0.0.bias', '1.0.0.weight', '1.0.0.bias']);
    expect(s.namedModules().map(([n]) => n)).toEqual(['', '0', '0.0', '0.1', '1', '1.0', '1.0.0']);
  });
});

// ---- Dropout --------------------------------------------------------------------------------

describe('Dropout', () => {
  const N = 100_000;
  it('zeroes a fraction p of the elements and scales the kept ones by exactly 1/(1-p)', () => {
    for (const p of [0.1, 0.3, 0.5, 0.75]) {
      const x = randn([N], { seed: 81 }).add(3); // no zeros in the input
      const y = dropout(x, p, true, { seed: 82 });
      let zeros = 0;
      let worst = 0;
      for (let i = 0; i < N; i++) {
        if (y.data[i] === 0) zeros++;
        // Kept: x / (1 - p) up to float32 rounding of the scale and the product (2^-23 relative).
        else worst = Math.max(worst, Math.abs(y.data[i] * (1 - p) - x.data[i]) / Math.abs(x.data[i]));
      }
      expect(worst).toBeLessThanOrEqual(2 ** -23);
      // Binomial: sd of the fraction is sqrt(p(1-p)/N) <= 0.00158; allow 0.01 (>= 6.3 sd).
      expect(Math.abs(zeros / N - p)).toBeLessThan(0.01);
    }
  });

  it('keeps values exactly x * 1/(1-p) where that is exact in float32 (p = 0.5, 0.75)', () => {
    const x = tensor([1, -2, 3.5, 0.25, 7, -1.5, 2, 4]);
    for (const [p, scale] of [
      [0.5, 2],
      [0.75, 4],
    ]) {
      const y = dropout(x, p, true, { seed: 5 });
      for (let i = 0; i < x.size; i++) expect([0, x.data[i] * scale]).toContain(y.data[i]);
    }
  });

  it('is the identity in eval mode, for p = 0, and with training = false', () => {
    const x = randn([1000], { seed: 83 });
    const d = new Dropout(0.5);
    d.eval();
    expect(d.forward(x)).toBe(x);
    d.train();
    expect(bits(d.forward(x))).not.toEqual(bits(x));
    expect(bits(new Dropout(0).forward(x))).toEqual(bits(x));
    expect(bits(dropout(x, 0.9, false))).toEqual(bits(x));
  });

  it('p = 1 zeroes everything (no NaN)', () => {
    const x = randn([1000], { seed: 84 });
    const y = dropout(x, 1);
    expect(y.data.every((v) => v === 0 && !Object.is(v, NaN))).toBe(true);
    expect(new Dropout(1).forward(x).data.every((v) => v === 0)).toBe(true);
  });

  it('the gradient is the mask (0 or 1/(1-p)) times the upstream gradient', () => {
    const p = 0.4;
    const x = randn([2000], { seed: 85 }).add(5).setRequiresGrad();
    const y = dropout(x, p, true, { seed: 86 });
    const up = randn([2000], { seed: 87 });
    y.backward(up);
    const g = x.grad as Tensor;
    let bad = 0;
    let kept = 0;
    for (let i = 0; i < x.size; i++) {
      const want = y.data[i] !== 0 ? up.data[i] / (1 - p) : 0;
      if (y.data[i] !== 0) kept++;
      if (!(Math.abs(g.data[i] - want) <= Math.abs(want) * 2 ** -22)) bad++;
    }
    expect(bad).toBe(0);
    expect(kept).toBeGreaterThan(1000); // ~1200 of 2000 kept
    expect(kept).toBeLessThan(1400);
  });

  it('same seed gives the same mask; successive calls give different masks; manualSeed reproduces', () => {
    const x = ones([4096]);
    const maskOf = (t: Tensor): string => Array.from(t.data, (v) => (v === 0 ? '0' : '1')).join('');
    expect(maskOf(dropout(x, 0.5, true, { seed: 7 }))).toBe(maskOf(dropout(x, 0.5, true, { seed: 7 })));
    expect(maskOf(dropout(x, 0.5, true, { seed: 7 }))).not.toBe(maskOf(dropout(x, 0.5, true, { seed: 8 })));
    manualSeed(123);
    const a1 = maskOf(dropout(x, 0.5));
    const a2 = maskOf(dropout(x, 0.5));
    expect(a1).not.toBe(a2);
    manualSeed(123);
    expect(maskOf(dropout(x, 0.5))).toBe(a1);
    expect(maskOf(dropout(x, 0.5))).toBe(a2);
    const g1 = new Generator(9);
    const g2 = new Generator(9);
    expect(maskOf(dropout(x, 0.5, true, { generator: g1 }))).toBe(maskOf(dropout(x, 0.5, true, { generator: g2 })));
    // A seeded Dropout layer: a reproducible sequence of masks, not one mask repeated.
    const d1 = new Dropout(0.5, { seed: 11 });
    const d2 = new Dropout(0.5, { seed: 11 });
    const m1 = maskOf(d1.forward(x));
    const m2 = maskOf(d1.forward(x));
    expect(m1).not.toBe(m2);
    expect(maskOf(d2.forward(x))).toBe(m1);
    expect(maskOf(d2.forward(x))).toBe(m2);
    // A Dropout layer without a seed follows manualSeed.
    manualSeed(5);
    const u1 = maskOf(new Dropout(0.5).forward(x));
    manualSeed(5);
    expect(maskOf(new Dropout(0.5).forward(x))).toBe(u1);
  });

  it('rejects p outside [0, 1]', () => {
    const x = ones([3]);
    for (const p of [-0.1, 1.5, NaN]) {
      expect(() => dropout(x, p)).toThrow(`dropout: p must be in [0, 1], got ${p}`);
      expect(() => new Dropout(p)).toThrow(`Dropout: p must be in [0, 1], got ${p}`);
    }
  });
});

// ---- initialisers ---------------------------------------------------------------------------

// Statistics on 262144-element tensors. Tolerances: the sample mean of n draws with sd s is
// within 5 s / sqrt(n) (~0.01 s); the sample sd is within 1.5% (>= 7 of its standard errors).
const SHAPE = [512, 512];
const N_INIT = 512 * 512;
function expectStats(d: ArrayLike<number>, mean: number, std: number): void {
  const s = stats(d);
  expect(Math.abs(s.mean - mean)).toBeLessThan((5 * std) / Math.sqrt(N_INIT) + 1e-7);
  expect(Math.abs(s.std / std - 1)).toBeLessThan(0.015);
}
function expectUniform(d: ArrayLike<number>, low: number, high: number): void {
  const s = stats(d);
  const f = Math.fround;
  expect(s.min).toBeGreaterThanOrEqual(f(low));
  expect(s.max).toBeLessThanOrEqual(f(high));
  // The extremes come within 0.1% of the bounds (P(miss) = 0.999^262144 ~ 0).
  expect(s.min).toBeLessThan(low + 0.001 * (high - low));
  expect(s.max).toBeGreaterThan(high - 0.001 * (high - low));
  expectStats(d, (low + high) / 2, (high - low) / Math.sqrt(12));
}

describe('initialisers', () => {
  it('zeros, ones, constant', () => {
    expect(bits(init.zeros().create([2, 3]))).toEqual([0, 0, 0, 0, 0, 0]);
    const o = init.ones().create([3, 1]);
    expect(o.shape).toEqual([3, 1]);
    expect(bits(o)).toEqual([1, 1, 1]);
    expect(bits(init.constant(-2.5).create([2]))).toEqual([-2.5, -2.5]);
    expect(init.constant(3).config).toEqual({ value: 3 });
    expect(() => init.constant(Infinity)).toThrow('constant: value must be finite, got Infinity');
  });

  it('normal(mean, std)', () => {
    const t = init.normal(0.5, 0.2).create(SHAPE, { seed: 1 });
    expect(t.shape).toEqual(SHAPE);
    expectStats(t.data, 0.5, 0.2);
    expectStats(init.normal().create(SHAPE, { seed: 2 }).data, 0, 0.01);
    expect(() => init.normal(0, -1)).toThrow('normal: std must be a finite number >= 0, got -1');
  });

  it('uniform(low, high)', () => {
    expectUniform(init.uniform(-0.3, 0.7).create(SHAPE, { seed: 3 }).data, -0.3, 0.7);
    expectUniform(init.uniform().create(SHAPE, { seed: 4 }).data, -0.05, 0.05);
    expect(() => init.uniform(1, 0)).toThrow('uniform: high 0 must be >= low 1');
  });

  it('truncatedNormal stays inside mean + [a, b] std and has the truncated moments', () => {
    const check = (mean: number, std: number, a: number, b: number, seed: number): void => {
      const t = init.truncatedNormal(mean, std, a, b).create(SHAPE, { seed });
      const s = stats(t.data);
      expect(s.min).toBeGreaterThanOrEqual(Math.fround(mean + a * std));
      expect(s.max).toBeLessThanOrEqual(Math.fround(mean + b * std));
      const Z = Phi(b) - Phi(a);
      const mu = mean + (std * (phi(a) - phi(b))) / Z;
      const sd = std * Math.sqrt(1 + (a * phi(a) - b * phi(b)) / Z - ((phi(a) - phi(b)) / Z) ** 2);
      expectStats(t.data, mu, sd);
    };
    check(0, 0.05, -2, 2, 5); // sd = 0.05 * 0.8796
    check(1, 2, -1, 3, 6); // asymmetric: the mean shifts up
    expect(() => init.truncatedNormal(0, 1, 2, 1)).toThrow('truncatedNormal: need a < b, got 2, 1');
  });

  it('glorotUniform / glorotNormal use fanIn + fanOut (receptive field included)', () => {
    // Weight (out 256, in 1024): fanIn 1024, fanOut 256.
    const shape = [256, 1024];
    const l = Math.sqrt(6 / (1024 + 256));
    expectUniform(init.glorotUniform().create(shape, { seed: 7 }).data, -l, l);
    expectUniform(init.glorotUniform(2).create(shape, { seed: 8 }).data, -2 * l, 2 * l);
    expectStats(init.glorotNormal().create(shape, { seed: 9 }).data, 0, Math.sqrt(2 / 1280));
    // Conv-like (out 64, in 32, 4, 4): fanIn 512, fanOut 1024.
    const lc = Math.sqrt(6 / (512 + 1024));
    const conv = init.glorotUniform().create([64, 32, 4, 4], { seed: 10 });
    expect(conv.shape).toEqual([64, 32, 4, 4]);
    expectUniform(conv.data, -lc, lc);
  });

  it('heUniform / heNormal in fanIn and fanOut modes', () => {
    const shape = [256, 1024]; // fanIn 1024, fanOut 256
    const b = (fan: number, gain: number): number => gain * Math.sqrt(3 / fan);
    // Default: leakyRelu with a = 0, i.e. gain sqrt(2), fanIn.
    expectUniform(init.heUniform().create(shape, { seed: 11 }).data, -b(1024, Math.SQRT2), b(1024, Math.SQRT2));
    expectUniform(
      init.heUniform({ mode: 'fanOut', nonlinearity: 'relu' }).create(shape, { seed: 12 }).data,
      -b(256, Math.SQRT2),
      b(256, Math.SQRT2),
    );
    const leaky = Math.sqrt(2 / (1 + 0.2 ** 2));
    expectUniform(
      init.heUniform({ a: 0.2, nonlinearity: 'leakyRelu' }).create(shape, { seed: 13 }).data,
      -b(1024, leaky),
      b(1024, leaky),
    );
    expectStats(init.heNormal().create(shape, { seed: 14 }).data, 0, Math.SQRT2 / Math.sqrt(1024));
    expectStats(init.heNormal({ mode: 'fanOut' }).create(shape, { seed: 15 }).data, 0, Math.SQRT2 / Math.sqrt(256));
    expectStats(init.heNormal({ nonlinearity: 'tanh' }).create(shape, { seed: 16 }).data, 0, 5 / 3 / 32);
  });

  it('lecunNormal: N(0, 1/fanIn)', () => {
    expectStats(init.lecunNormal().create([128, 2048], { seed: 17 }).data, 0, 1 / Math.sqrt(2048));
  });

  function gram(d: ArrayLike<number>, rows: number, cols: number, byRows: boolean): Float64Array {
    const n = byRows ? rows : cols;
    const g = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        if (byRows) for (let k = 0; k < cols; k++) s += d[i * cols + k] * d[j * cols + k];
        else for (let k = 0; k < rows; k++) s += d[k * cols + i] * d[k * cols + j];
        g[i * n + j] = s;
      }
    return g;
  }
  const eyeScaled = (n: number, s: number): Float64Array => {
    const e = new Float64Array(n * n);
    for (let i = 0; i < n; i++) e[i * n + i] = s;
    return e;
  };

  it('orthogonal: W W^T = I (rows <= cols), W^T W = I (rows >= cols), times gain^2', () => {
    // float32 storage of float64 orthonormal vectors: entries of the Gram matrix within 1e-5.
    const wide = init.orthogonal().create([32, 96], { seed: 18 });
    expect(wide.shape).toEqual([32, 96]);
    expectClose(gram(wide.data, 32, 96, true), eyeScaled(32, 1), 1e-5);
    const tall = init.orthogonal(2).create([96, 32], { seed: 19 });
    expectClose(gram(tall.data, 96, 32, false), eyeScaled(32, 4), 4e-5);
    const sq = init.orthogonal(0.5).create([48, 48], { seed: 20 });
    expectClose(gram(sq.data, 48, 48, true), eyeScaled(48, 0.25), 1e-5);
    expectClose(gram(sq.data, 48, 48, false), eyeScaled(48, 0.25), 1e-5);
    // More than 2 axes: flattened to (shape[0], rest) = (8, 27).
    const conv = init.orthogonal().create([8, 3, 3, 3], { seed: 21 });
    expect(conv.shape).toEqual([8, 3, 3, 3]);
    expectClose(gram(conv.data, 8, 27, true), eyeScaled(8, 1), 1e-5);
    // Not a trivial matrix: entries are spread (no row is a unit vector).
    expect(Math.max(...Array.from(wide.data, Math.abs))).toBeLessThan(0.8);
    expect(() => init.orthogonal().create([5], { seed: 1 })).toThrow(
      'orthogonal: needs at least 2 dimensions, got [5]',
    );
  });

  it('the same seed gives identical tensors; a different seed a different one; generators continue', () => {
    const makers: init.Initializer[] = [
      init.normal(),
      init.uniform(),
      init.truncatedNormal(),
      init.glorotUniform(),
      init.glorotNormal(),
      init.heUniform(),
      init.heNormal({ mode: 'fanOut' }),
      init.lecunNormal(),
      init.orthogonal(),
    ];
    for (const m of makers) {
      const a = m.create([16, 24], { seed: 42 });
      expect(bits(m.create([16, 24], { seed: 42 }))).toEqual(bits(a));
      expect(bits(m.create([16, 24], { seed: 43 }))).not.toEqual(bits(a));
      const g = new Generator(42);
      expect(bits(m.create([16, 24], { generator: g }))).toEqual(bits(a));
      expect(bits(m.create([16, 24], { generator: g }))).not.toEqual(bits(a));
      manualSeed(42);
      expect(bits(m.create([16, 24]))).toEqual(bits(a));
    }
  });

  it('getInitializer resolves Keras and PyTorch names', () => {
    const names: [init.InitializerName, string][] = [
      ['zeros', 'zeros'],
      ['ones', 'ones'],
      ['normal', 'normal'],
      ['uniform', 'uniform'],
      ['truncatedNormal', 'truncatedNormal'],
      ['glorotUniform', 'glorotUniform'],
      ['xavierUniform', 'glorotUniform'],
      ['glorotNormal', 'glorotNormal'],
      ['xavierNormal', 'glorotNormal'],
      ['heUniform', 'heUniform'],
      ['kaimingUniform', 'heUniform'],
      ['heNormal', 'heNormal'],
      ['kaimingNormal', 'heNormal'],
      ['lecunNormal', 'lecunNormal'],
      ['orthogonal', 'orthogonal'],
    ];
    for (const [n, want] of names) expect(init.getInitializer(n).name).toBe(want);
    // He by name assumes a ReLU: std sqrt(2 / fanIn).
    expectStats(init.getInitializer('kaimingNormal').create([256, 1024], { seed: 22 }).data, 0, Math.sqrt(2 / 1024));
    const custom = init.constant(1);
    expect(init.getInitializer(custom)).toBe(custom);
    expect(() => init.getInitializer('bogus' as init.InitializerName)).toThrow('unknown initializer "bogus"');
  });

  it("Linear's default init is PyTorch's: weight and bias in U(+-1/sqrt(in))", () => {
    const m = new Linear(400, 300, { init: { seed: 23 } });
    const bound = 1 / Math.sqrt(400);
    expectUniform(m.weight.data, -bound, bound);
    const b = stats(m.bias?.data ?? []);
    expect(b.min).toBeGreaterThanOrEqual(-Math.fround(bound));
    expect(b.max).toBeLessThanOrEqual(Math.fround(bound));
    // 300 draws: the extremes pass 0.9 of the bound (P(miss) = 2 * 0.95^300 ~ 4e-7).
    expect(b.min).toBeLessThan(-0.9 * bound);
    expect(b.max).toBeGreaterThan(0.9 * bound);
    // The bias is not a copy of the weight's first draws (one seeded stream for both).
    expect(bits(m.bias as Parameter)).not.toEqual(Array.from(m.weight.data.slice(0, 300)));
    // Seeded: reproducible.
    const m2 = new Linear(400, 300, { init: { seed: 23 } });
    expect(bits(m2.weight)).toEqual(bits(m.weight));
    expect(bits(m2.bias as Parameter)).toEqual(bits(m.bias as Parameter));
  });

  it("Linear with weightInit 'glorotUniform' and biasInit 'zeros' is Keras's Dense", () => {
    const m = new Linear(400, 300, { weightInit: 'glorotUniform', biasInit: 'zeros', init: { seed: 24 } });
    const l = Math.sqrt(6 / 700);
    expectUniform(m.weight.data, -l, l);
    expect(m.bias?.data.every((v) => v === 0)).toBe(true);
    const h = new Linear(512, 512, { weightInit: init.heNormal(), biasInit: init.constant(0.1), init: { seed: 25 } });
    expectStats(h.weight.data, 0, Math.sqrt(2 / 512));
    expect(h.bias?.data.every((v) => v === Math.fround(0.1))).toBe(true);
  });
});

// ---- regularizers ---------------------------------------------------------------------------

describe('regularizers', () => {
  const w = tensor([0.5, -2, 3, -0.25]);
  const sumAbs = 0.5 + 2 + 3 + 0.25;
  const sumSq = 0.25 + 4 + 9 + 0.0625;

  it('l1, l2 and l1l2 penalties equal the hand computation', () => {
    expect(l1(0.1).penalty(w).item()).toBeCloseTo(0.1 * sumAbs, 6);
    expect(l2(0.1).penalty(w).item()).toBeCloseTo(0.1 * sumSq, 6);
    expect(l1l2({ l1: 0.1, l2: 0.2 }).penalty(w).item()).toBeCloseTo(0.1 * sumAbs + 0.2 * sumSq, 5);
    // Keras's defaults: 0.01.
    expect(l1().penalty(w).item()).toBeCloseTo(0.01 * sumAbs, 7);
    expect(l2().penalty(w).item()).toBeCloseTo(0.01 * sumSq, 7);
    expect(l1l2().penalty(w).item()).toBeCloseTo(0.01 * (sumAbs + sumSq), 6);
    expect(l1l2({ l1: 0.5 }).config).toEqual({ l1: 0.5, l2: 0.01 });
    expect(() => l2(-1)).toThrow('l2: factor must be a finite number >= 0, got -1');
    expect(() => l1(NaN)).toThrow('l1: factor must be a finite number >= 0, got NaN');
  });

  it('Linear weightRegularizer l2: regularizationLoss() is the penalty and its gradient 2 lambda w', () => {
    const lam = 0.05;
    const m = new Sequential(new Linear(4, 3, { weightRegularizer: l2(lam), init: { seed: 1 } }), new Linear(3, 2));
    const lin = m.at(0) as Linear;
    let want = 0;
    for (const v of lin.weight.data) want += v * v;
    const pen = m.regularizationLoss() as Tensor;
    expect(pen.item()).toBeCloseTo(lam * want, 6);
    pen.backward();
    expectClose(
      lin.weight.grad?.data ?? [],
      Array.from(lin.weight.data, (v) => 2 * lam * v),
      1e-7,
      1e-6,
    );
    expect(lin.bias?.grad).toBeNull();
    expect((m.at(1) as Linear).weight.grad).toBeNull();
  });

  it('Linear weightRegularizer l1 gives lambda sign(w); biasRegularizer adds the bias penalty', () => {
    const lam = 0.03;
    const m = new Linear(5, 4, { weightRegularizer: l1(lam), biasRegularizer: l2(0.5), init: { seed: 2 } });
    let want = 0;
    for (const v of m.weight.data) want += lam * Math.abs(v);
    for (const v of m.bias?.data ?? []) want += 0.5 * v * v;
    const pen = m.regularizationLoss() as Tensor;
    expect(pen.item()).toBeCloseTo(want, 6);
    pen.backward();
    expectClose(
      m.weight.grad?.data ?? [],
      Array.from(m.weight.data, (v) => lam * Math.sign(v)),
      1e-8,
      1e-6,
    );
    expectClose(
      m.bias?.grad?.data ?? [],
      Array.from(m.bias?.data ?? [], (v) => v),
      1e-7,
      1e-6,
    );
    // The penalty adds to the data loss's gradient.
    m.zeroGrad(true);
    const x = randn([3, 5], { seed: 3 });
    const y = m.forward(x);
    y.sum()
      .add(m.regularizationLoss() as Tensor)
      .backward();
    const dwData = new Float64Array(20); // d sum(x W^T) / dW[o, i] = sum_r x[r, i]
    for (let o = 0; o < 4; o++)
      for (let i = 0; i < 5; i++) for (let r = 0; r < 3; r++) dwData[o * 5 + i] += x.data[r * 5 + i];
    expectClose(
      m.weight.grad?.data ?? [],
      Array.from(dwData, (g, k) => g + lam * Math.sign(m.weight.data[k])),
      1e-5,
      1e-5,
    );
    // A frozen parameter's regularizer does not count.
    m.weight.trainable = false;
    let biasOnly = 0;
    for (const v of m.bias?.data ?? []) biasOnly += 0.5 * v * v;
    expect(m.regularizationLoss()?.item()).toBeCloseTo(biasOnly, 6);
  });

  it('a model without regularizers has a null regularizationLoss', () => {
    expect(new Sequential(new Linear(2, 2), new ReLU()).regularizationLoss()).toBeNull();
  });

  it('activityRegularizer is recorded only in training mode (with grad on) and cleared by regularizationLoss()', () => {
    const lam = 0.1;
    const m = new Sequential(new Linear(3, 4, { activityRegularizer: l1(lam), init: { seed: 4 } }));
    const lin = m.at(0) as Linear;
    const x = randn([5, 3], { seed: 5 });
    const y = m.forward(x);
    let want = 0;
    for (const v of y.data) want += lam * Math.abs(v);
    const pen = m.regularizationLoss() as Tensor;
    expect(pen.item()).toBeCloseTo(want, 5);
    expect(m.regularizationLoss()).toBeNull(); // consumed
    // Two forwards accumulate both penalties.
    const y1 = m.forward(x);
    m.forward(x.mul(2));
    let want2 = 0;
    for (const v of y1.data) want2 += lam * Math.abs(v);
    const y2d = linearRef(
      Array.from(x.data, (v) => 2 * v),
      5,
      lin.weight.data,
      lin.bias?.data ?? null,
      4,
      3,
    );
    for (const v of y2d) want2 += lam * Math.abs(v);
    expect(m.regularizationLoss()?.item()).toBeCloseTo(want2, 5);
    // Its gradient reaches the weights: d/dW of lam * sum|x W^T + b|.
    m.forward(x);
    (m.regularizationLoss() as Tensor).backward();
    const dw = new Float64Array(12);
    for (let r = 0; r < 5; r++)
      for (let o = 0; o < 4; o++)
        for (let i = 0; i < 3; i++) dw[o * 3 + i] += lam * Math.sign(y.data[r * 4 + o]) * x.data[r * 3 + i];
    expectClose(lin.weight.grad?.data ?? [], dw, 1e-6, 1e-5);
    // Eval mode and noGrad record nothing.
    m.eval();
    m.forward(x);
    expect(m.regularizationLoss()).toBeNull();
    m.train();
    noGrad(() => m.forward(x));
    expect(m.regularizationLoss()).toBeNull();
  });

  it('AdamW (decoupled) and Adam with weightDecay (coupled) take different, hand-computed steps', () => {
    const lr = 0.1;
    const wd = 0.1;
    const eps = 1e-8;
    const p0 = [1, -2];
    const g = [0.5, 0.5];
    // Adam, first step: m-hat = g', v-hat = g'^2 with g' = g + wd p, so p -= lr g' / (|g'| + eps).
    const adamWant = p0.map((p, i) => {
      const gc = g[i] + wd * p;
      return p - (lr * gc) / (Math.abs(gc) + eps);
    });
    // AdamW: p *= 1 - lr wd, then p -= lr g / (|g| + eps).
    const adamWWant = p0.map((p, i) => p * (1 - lr * wd) - (lr * g[i]) / (Math.abs(g[i]) + eps));
    const pa = tensor(p0).setRequiresGrad();
    const pw = tensor(p0).setRequiresGrad();
    const adam = new Adam([pa], { lr, weightDecay: wd, eps });
    const adamW = new AdamW([pw], { lr, weightDecay: wd, eps });
    pa.grad = tensor(g);
    pw.grad = tensor(g);
    adam.step();
    adamW.step();
    expectClose(pa.data, adamWant, 1e-6);
    expectClose(pw.data, adamWWant, 1e-6);
    // [0.9, -2.1] vs [0.89, -2.08]
    expect(Math.abs(pa.data[1] - pw.data[1])).toBeGreaterThan(0.01);
  });
});

// Keep `linear` (the functional form Linear wraps) honest too: same numbers as the module.
describe('functional linear', () => {
  it('matches the float64 reference with and without bias', () => {
    const x = randn([4, 6], { seed: 91 });
    const w = randn([3, 6], { seed: 92 });
    const b = randn([3], { seed: 93 });
    expectClose(
      linear(x, w, b, 'relu').data,
      linearRef(x.data, 4, w.data, b.data, 3, 6, (z) => Math.max(z, 0)),
      1e-5,
      1e-5,
    );
    expectClose(linear(x, w).data, linearRef(x.data, 4, w.data, null, 3, 6), 1e-5, 1e-5);
  });
});
