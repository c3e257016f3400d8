/**
 * Analytic gradients against central finite differences (src/autograd/gradcheck.ts: float32
 * forward, float64 loss and differences, defaults atol 1e-4 / rtol 1e-3) for every
 * differentiable op, plus the autograd engine's behaviour. Runs once per SIMD level.
 *
 * Finite differences need smooth neighbourhoods: inputs are kept >= 0.05 away from kinks (relu
 * at 0, clamp bounds, maximum/minimum ties, the max of a reduction) since the step is 1e-3.
 */
import { describe, expect, it } from 'vitest';
import * as ax from '../../src/index.js';
import { Tensor, gradcheck, type GradcheckOptions, type LinearActivation } from '../../src/index.js';
import { record } from '../../src/autograd/engine.js';
import { awayFromZero, f32, matmulRef, numelOf, permuteRef, rng, toRef, uniform } from './reference.js';

function check(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], label = 'gradcheck', opts?: GradcheckOptions): void {
  for (const x of inputs) if (!x.requiresGrad && x.dtype === 'float32') x.setRequiresGrad();
  const r = gradcheck(fn, inputs, opts);
  expect(r.ok, `${label}: ${JSON.stringify(r)}`).toBe(true);
}

const g = (t: Tensor): Tensor => t.setRequiresGrad();

/** Distinct values at least 0.05 apart (a shuffled grid), so max/min have no near-ties. */
function distinct(shape: number[], seed: number): Tensor {
  const n = numelOf(shape);
  const r = rng(seed);
  const v = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.05 + 0.01 * r());
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [v[i], v[j]] = [v[j], v[i]];
  }
  return new Tensor(Float32Array.from(v), shape);
}

/** b = a + offset with |offset| in [0.1, 1]: no ties between a and b. */
function apart(a: Tensor, seed: number): Tensor {
  const o = awayFromZero(a.shape, seed, 0.1, 1);
  return new Tensor(
    Float32Array.from(a.data, (v, i) => v + o.data[i]),
    a.shape,
  );
}

describe('gradcheck itself', () => {
  it('detects a wrong gradient', () => {
    // y = 2x, but the recorded backward claims 3g.
    const bad = (x: Tensor): Tensor =>
      record(
        ax.noGrad(() => x.mul(2)),
        'bad',
        [x],
        (grad) => [ax.noGrad(() => grad.mul(3))],
      );
    const r = gradcheck(bad, [g(uniform([5], 1))]);
    expect(r.ok).toBe(false);
    expect(r.failure?.analytic).toBeCloseTo(1.5 * (r.failure?.numeric ?? NaN), 4);
  });
});

describe('elementwise gradients', () => {
  it('binary ops, same shape', () => {
    const a = uniform([3, 5], 1, -2, 2);
    const b = awayFromZero([3, 5], 2, 0.5, 2);
    check((x, y) => ax.add(x, y), [g(a), g(b)], 'add');
    check((x, y) => ax.sub(x, y), [a, b], 'sub');
    check((x, y) => ax.mul(x, y), [a, b], 'mul');
    check((x, y) => ax.div(x, y), [a, b], 'div');
    const base = uniform([3, 5], 3, 0.5, 2);
    check((x, y) => ax.pow(x, y), [g(base), g(uniform([3, 5], 4, -2, 2))], 'pow');
    const c = apart(a, 5);
    check((x, y) => ax.maximum(x, y), [a, g(c)], 'maximum');
    check((x, y) => ax.minimum(x, y), [a, c], 'minimum');
  });

  const PAIRS: [number[], number[]][] = [
    [
      [4, 1, 3],
      [5, 1],
    ],
    [[3], [2, 3]],
    [[2, 3], [3]],
    [[], [2, 3]],
    [
      [2, 1],
      [1, 3],
    ],
    [
      [2, 3, 1, 2],
      [3, 4, 1],
    ],
  ];
  for (const [sa, sb] of PAIRS) {
    it(`broadcasting [${sa}] (op) [${sb}]: gradients summed back to each input's shape`, () => {
      // both bounded away from 0: each is a divisor in one of the orders
      const a = g(awayFromZero(sa, 10 + sa.length, 0.5, 2));
      const b = g(awayFromZero(sb, 20 + sb.length, 0.5, 2));
      for (const [name, f] of [
        ['add', ax.add],
        ['sub', ax.sub],
        ['mul', ax.mul],
        ['div', ax.div],
      ] as const) {
        check((x, y) => f(x, y), [a, b], `${name} [${sa}] [${sb}]`);
        check((x, y) => f(y, x), [a, b], `${name} [${sb}] [${sa}]`);
      }
      // the gradient has the input's own shape
      ax.mul(a, b).sum().backward();
      expect(a.grad?.shape).toEqual(sa);
      expect(b.grad?.shape).toEqual(sb);
      const pa = g(uniform(sa, 30, 0.5, 2));
      check((x, y) => ax.pow(x, y), [pa, g(uniform(sb, 31, -2, 2))], `pow [${sa}] [${sb}]`);
      // maximum/minimum against a broadcast operand: values on disjoint ranges (no ties).
      const lo = g(uniform(sa, 32, -2, -1));
      const hi = g(uniform(sb, 33, 1, 2));
      check((x, y) => ax.maximum(x, y), [lo, hi], `maximum [${sa}] [${sb}]`);
      check((x, y) => ax.minimum(y, x), [lo, hi], `minimum [${sb}] [${sa}]`);
      // interleaved values, either side winning (these seeds have no pair within 1e-3)
      const m1 = g(uniform(sa, 36, -1, 1));
      const m2 = g(uniform(sb, 37, -1, 1));
      check((x, y) => ax.maximum(x, y), [m1, m2], `maximum mixed [${sa}] [${sb}]`);
      check((x, y) => ax.minimum(x, y), [m1, m2], `minimum mixed [${sa}] [${sb}]`);
    });
  }

  it('only the inputs that require grad get gradients', () => {
    const a = g(uniform([2, 3], 1));
    const b = uniform([3], 2);
    ax.mul(a, b).sum().backward();
    expect(a.grad).not.toBeNull();
    expect(b.grad).toBeNull();
    check((x) => ax.mul(x, b), [a], 'mul with a constant tensor');
    check((x) => ax.div(b, x), [g(awayFromZero([2, 3], 3, 0.5, 2))], 'constant / x');
  });

  it('scalar operands on either side', () => {
    const x = g(awayFromZero([7], 1, 0.3, 2));
    const p = g(uniform([7], 2, 0.3, 2));
    const cases: [string, (t: Tensor) => Tensor, Tensor][] = [
      ['x + 2', (t) => ax.add(t, 2), x],
      ['2 + x', (t) => ax.add(2, t), x],
      ['x - 2', (t) => ax.sub(t, 2), x],
      ['2 - x', (t) => ax.sub(2, t), x],
      ['x * -3', (t) => ax.mul(t, -3), x],
      ['-3 * x', (t) => ax.mul(-3, t), x],
      ['x / 4', (t) => ax.div(t, 4), x],
      ['4 / x', (t) => ax.div(4, t), x],
      ['x ^ 3', (t) => ax.pow(t, 3), x],
      ['x ^ 2', (t) => t.pow(2), x],
      ['x ^ -1', (t) => ax.pow(t, -1), x],
      ['p ^ 2.5', (t) => ax.pow(t, 2.5), p],
      ['p ^ 0.5', (t) => ax.pow(t, 0.5), p],
      ['p ^ -1.5', (t) => ax.pow(t, -1.5), p],
      ['2 ^ x', (t) => ax.pow(2, t), x],
      ['0.5 ^ x', (t) => ax.pow(0.5, t), x],
      ['maximum(x, 0.1)', (t) => ax.maximum(t, 0.1), x],
      ['maximum(0.1, x)', (t) => ax.maximum(0.1, t), x],
      ['minimum(x, 0.1)', (t) => ax.minimum(t, 0.1), x],
      ['minimum(0.1, x)', (t) => ax.minimum(0.1, t), x],
    ];
    for (const [name, f, input] of cases) check(f, [input], name);
    // x^0 is constant: zero gradient
    const z = g(uniform([3], 3));
    ax.pow(z, 0).sum().backward();
    expect(Array.from(z.grad?.data ?? [])).toEqual([0, 0, 0]);
  });

  it('clamp', () => {
    const x = g(f32([-2, -1.2, -0.5, 0, 0.3, 0.9, 1.1, 3]));
    check((t) => ax.clamp(t, -1, 1), [x], 'clamp both');
    check((t) => ax.clamp(t, 0.1, null), [x], 'clamp min');
    check((t) => t.clamp(null, 0.5), [x], 'clamp max');
    check((t) => ax.clamp(t, null, null), [x], 'clamp none');
    // exact: 1 inside, 0 outside
    x.zeroGrad();
    ax.clamp(x, -1, 1).sum().backward();
    expect(Array.from(x.grad?.data ?? [])).toEqual([0, 0, 1, 1, 1, 1, 0, 0]);
  });

  it('unary math', () => {
    const x = g(uniform([11], 1, -2, 2));
    const pos = g(uniform([11], 2, 0.2, 3));
    const nz = g(awayFromZero([11], 3, 0.2, 2));
    check((t) => ax.neg(t), [x], 'neg');
    check((t) => ax.exp(t), [x], 'exp');
    check((t) => ax.log(t), [pos], 'log');
    check((t) => ax.sqrt(t), [pos], 'sqrt');
    check((t) => ax.abs(t), [nz], 'abs');
    check((t) => ax.square(t), [x], 'square');
    check((t) => ax.reciprocal(t), [nz], 'reciprocal');
    check((t) => ax.erf(t), [x], 'erf');
    check((t) => t.exp().log().sqrt().mul(t), [pos], 'composite');
  });

  it('where: x and y, broadcast, numbers, composed (cond fixed, no gradient)', () => {
    // cond is captured, not an input: a finite-difference step would flip a 0 mask to true.
    const cond = (shape: number[], seed: number): Tensor => ax.greater(uniform(shape, seed), 0);
    const c = cond([3, 5], 1);
    check((x, y) => ax.where(c, x, y), [g(uniform([3, 5], 2)), g(uniform([3, 5], 3))], 'where same shape');
    const cb = cond([4, 1, 3], 4);
    check((x, y) => ax.where(cb, x, y), [g(uniform([2, 1], 5)), g(uniform([3], 6))], 'where [4,1,3] [2,1] [3]');
    // -inf where masked, then exp (a masked softmax's numerator): a finite loss, exact zeros
    check((y) => ax.where(cb, -Infinity, y).exp(), [g(uniform([2, 3], 7))], 'exp(where(c, -inf, y))');
    check((x) => ax.where(c, x, 0.5), [g(uniform([5], 8))], 'where(c, x, 0.5)');
    check((x) => x.where(c, x.mul(x)), [g(uniform([3, 5], 9))], 'x.where(c, x * x): x on both sides');
    // an int32 condition, and NaN conditions (true)
    const ci = new Tensor(Int32Array.from([0, 3, 0, -1, 1, 0]), [6]);
    check((x, y) => ax.where(ci, x, y), [g(uniform([6], 10)), g(uniform([1], 11))], 'where int32 cond');
    const cn = f32([NaN, 0, -0, NaN, 1, 0]);
    check((x, y) => ax.where(cn, x, y).exp(), [g(uniform([6], 12)), g(uniform([6], 13))], 'where NaN cond');
  });
});

describe('activation gradients', () => {
  const x = (): Tensor => g(awayFromZero([4, 6], 7, 0.05, 3));
  const cases: [string, (t: Tensor) => Tensor][] = [
    ['relu', ax.relu],
    ['leakyRelu', (t) => ax.leakyRelu(t)],
    ['leakyRelu(0.2)', (t) => t.leakyRelu(0.2)],
    ['leakyRelu(-0.5)', (t) => ax.leakyRelu(t, -0.5)],
    ['elu', (t) => ax.elu(t)],
    ['elu(0.5)', (t) => t.elu(0.5)],
    ['gelu', (t) => ax.gelu(t)],
    ['gelu tanh', (t) => ax.gelu(t, { approximate: 'tanh' })],
    ['softplus', (t) => ax.softplus(t)],
    ['softplus(2)', (t) => t.softplus(2)],
    ['softplus(0.5)', (t) => ax.softplus(t, 0.5)],
    // Every parameter-free activation of the op table (selu, sigmoid, tanh, silu, hardswish,
    // mish, ...); |x| < 3 keeps hardswish off its kinks at +-3.
    ...Object.keys(ax.TABLE_ACTIVATIONS).map((name): [string, (t: Tensor) => Tensor] => [
      name,
      (t) => (ax as unknown as Record<string, (t: Tensor) => Tensor>)[name](t),
    ]),
  ];
  for (const [name, f] of cases) it(name, () => check(f, [x()], name));

  it('softmax / logSoftmax on inner and outer axes', () => {
    const t = g(uniform([3, 4, 5], 1, -2, 2));
    for (const axis of [0, 1, 2, -1]) {
      check((v) => ax.softmax(v, axis), [t], `softmax ${axis}`);
      check((v) => ax.logSoftmax(v, axis), [t], `logSoftmax ${axis}`);
    }
    check((v) => v.softmax(), [g(uniform([17], 2, -3, 3))], 'softmax 1-D');
  });
});

describe('reduction gradients', () => {
  const x = g(uniform([3, 4, 5], 1, -2, 2));
  const d = g(distinct([3, 4, 5], 2));
  const axesList: (number | number[] | undefined)[] = [
    undefined,
    0,
    1,
    2,
    -1,
    [0, 1],
    [1, 2],
    [0, 2],
    [-1, 0],
    [0, 1, 2],
  ];
  for (const axis of axesList)
    for (const keep of [false, true])
      it(`sum/mean/max/min over ${JSON.stringify(axis)} keepDims=${keep}`, () => {
        check((t) => ax.sum(t, axis, keep), [x], 'sum');
        check((t) => t.mean(axis, keep), [x], 'mean');
        check((t) => ax.max(t, axis, keep), [d], 'max');
        check((t) => t.min(axis, keep), [d], 'min');
      });

  it('max sends the gradient to the maximal element only', () => {
    const t = g(f32([1, 5, 3, 2]));
    ax.max(t).backward();
    expect(Array.from(t.grad?.data ?? [])).toEqual([0, 1, 0, 0]);
  });
});

describe('matmul gradients', () => {
  const cases: [number[], number[]][] = [
    [[5], [5]],
    [[4], [4, 3]],
    [[3, 4], [4]],
    [
      [3, 4],
      [4, 5],
    ],
    [
      [2, 3, 4],
      [2, 4, 5],
    ],
    [
      [2, 3, 4],
      [4, 5],
    ],
    [
      [3, 4],
      [2, 4, 5],
    ],
    [
      [2, 1, 3, 4],
      [5, 4, 2],
    ],
    [
      [1, 3, 4],
      [3, 4, 2],
    ],
    [[4], [2, 4, 3]],
    [[2, 3, 4], [4]],
  ];
  for (const [sa, sb] of cases)
    it(`[${sa}] x [${sb}]`, () => {
      const a = g(uniform(sa, sa.length, -1, 1));
      const b = g(uniform(sb, 10 + sb.length, -1, 1));
      check((p, q) => ax.matmul(p, q), [a, b], `matmul [${sa}] x [${sb}]`);
      check((p) => ax.matmul(p, b.detach()), [a], 'left only');
      check((q) => ax.matmul(a.detach(), q), [b], 'right only');
    });

  it('transposed operand through .T', () => {
    check((p, q) => p.matmul(q.T), [g(uniform([3, 4], 1)), g(uniform([5, 4], 2))], 'a b^T');
  });
});

describe('linear gradients', () => {
  const ACTS: [LinearActivation, number | undefined][] = [
    ['none', undefined],
    ['relu', undefined],
    ['leakyRelu', undefined],
    ['leakyRelu', 0.2],
    ['leakyRelu', -0.3],
    ['elu', undefined],
    ['elu', 0.5],
    ['elu', -0.5],
    ['sigmoid', undefined],
    ['tanh', undefined],
    ['gelu', undefined],
    ['geluTanh', undefined],
    ['silu', undefined],
    ['softplus', undefined],
    ['softplus', 2],
    ['selu', undefined],
  ];

  /** Inputs whose pre-activations stay >= 0.05 from 0 (relu-type kinks), trying seeds in order. */
  function inputs(xShape: number[], outF: number, withBias: boolean): Tensor[] {
    const inF = xShape[xShape.length - 1];
    for (let seed = 1; ; seed++) {
      const x = uniform(xShape, seed, -1, 1);
      const w = uniform([outF, inF], seed + 100, -1, 1);
      const b = uniform([outF], seed + 200, -0.5, 0.5);
      const { out } = matmulRef({ data: toRef(x).data, shape: [x.size / inF, inF] }, permuteRef(toRef(w), [1, 0]));
      const pre = out.data.map((v, i) => v + (withBias ? b.data[i % outF] : 0));
      if (pre.every((v) => Math.abs(v) > 0.05)) return withBias ? [g(x), g(w), g(b)] : [g(x), g(w)];
    }
  }

  for (const [act, param] of ACTS)
    it(`${act}${param === undefined ? '' : `(${param})`}`, () => {
      for (const withBias of [true, false])
        for (const [xs, outF] of [
          [[3, 4], 5],
          [[2, 2, 3], 2],
        ] as [number[], number][]) {
          const ins = inputs(xs, outF, withBias);
          const f = (x: Tensor, w: Tensor, b?: Tensor): Tensor =>
            param === undefined ? ax.linear(x, w, b ?? null, act) : ax.linear(x, w, b ?? null, act, param);
          check(f, ins, `linear ${act} bias=${withBias} x[${xs}]`);
        }
    });
});

describe("attention gradients (the fused kernel's backward)", () => {
  const sdpa = ax.scaledDotProductAttention;
  it('q, k, v: cross lengths, dv != d, two heads', () => {
    check(
      (q, k, v) => sdpa(q, k, v),
      [uniform([2, 2, 5, 3], 61), uniform([2, 2, 7, 3], 62), uniform([2, 2, 7, 4], 63)],
      'sdpa',
    );
  });
  it('causal, and a float mask broadcast over heads with a -inf key', () => {
    const m = uniform([1, 1, 6, 6], 64);
    (m.data as Float32Array)[3] = -Infinity;
    check(
      (q, k, v) => sdpa(q, k, v, { causal: true, mask: m }),
      [uniform([1, 2, 6, 4], 65), uniform([1, 2, 6, 4], 66), uniform([1, 2, 6, 4], 67)],
      'sdpa causal mask',
    );
  });
  it("dropout: the backward redraws the forward's decisions", () => {
    const state = new Float64Array([7, 9, 0]);
    check(
      (q, k, v) => sdpa(q, k, v, { dropout: 0.3, state: Float64Array.from(state) }),
      [uniform([1, 1, 8, 4], 68), uniform([1, 1, 9, 4], 69), uniform([1, 1, 9, 3], 70)],
      'sdpa dropout',
    );
  });
  it('longer than one key block (129 keys), scale given', () => {
    check(
      (q, k, v) => sdpa(q, k, v, { scale: 0.3 }),
      [uniform([1, 1, 3, 2], 71), uniform([1, 1, 129, 2], 72), uniform([1, 1, 129, 2], 73)],
      'sdpa long',
      {
        maxElements: 40,
      },
    );
  });
});

describe('layout gradients', () => {
  const x = g(uniform([3, 4, 5], 1, -2, 2));
  it('reshape / flatten / squeeze / unsqueeze', () => {
    check((t) => ax.reshape(t, [4, -1]).mul(uniform([4, 15], 2)), [x], 'reshape');
    check((t) => t.flatten(1).mul(uniform([3, 20], 3)), [x], 'flatten');
    const y = g(uniform([1, 3, 1, 2], 4));
    check((t) => t.squeeze().mul(uniform([3, 2], 5)), [y], 'squeeze');
    check((t) => ax.unsqueeze(t, 1).mul(uniform([3, 1, 4, 5], 6)), [x], 'unsqueeze');
  });
  it('permute / transpose', () => {
    check((t) => ax.permute(t, [2, 0, 1]), [x], 'permute');
    check((t) => t.permute(1, 2, 0).mul(uniform([4, 5, 3], 7)), [x], 'permute method');
    check((t) => ax.transpose(t, 0, 2), [x], 'transpose');
    check((t) => t.transpose(), [x], 'transpose default');
    check((t) => t.T, [g(uniform([3, 4], 8))], '.T');
  });
  it('index with integers, steps and negative steps', () => {
    check((t) => ax.index(t, [1, [null, null, -2], [1, 4]]), [x], 'index 1');
    check((t) => t.index([-1, -4, -1], null, -2), [x], 'index 2');
    check((t) => t.index([null, null, 2], [3, 0, -1]), [x], 'index 3');
    // the same element picked twice through two index calls accumulates
    check((t) => ax.add(t.index(0), t.index([0, 1]).squeeze(0)), [x], 'index twice');
  });
  it('slice / row', () => {
    check((t) => t.slice(1, 3), [x], 'slice');
    check((t) => t.slice(-1), [x], 'slice negative');
    check((t) => t.row(2), [x], 'row');
    check((t) => ax.add(t.row(0), t.row(-1)), [x], 'two rows');
  });
  it('expand', () => {
    check((t) => ax.expand(t, [2, 3, 4]), [g(uniform([3, 1], 9))], 'expand [3,1]');
    check((t) => t.expand(4, 3), [g(uniform([3], 10))], 'expand [3]');
    check((t) => ax.expand(t, [2, 2]), [g(f32([1.5], []))], 'expand 0-d');
  });
  it('concat / stack', () => {
    const a = g(uniform([2, 3], 11));
    const b = g(uniform([1, 3], 12));
    const c = g(uniform([2, 2], 13));
    check((p, q) => ax.concat([p, q], 0), [a, b], 'concat 0');
    check((p, q) => ax.concat([p, q, p], -1), [a, c], 'concat -1');
    const constant = uniform([2, 3], 17);
    check((q) => ax.concat([constant, q]), [b], 'concat with a constant');
    check((p, q) => ax.stack([p, q, p], 1), [a, g(uniform([2, 3], 14))], 'stack 1');
    check((p, q) => ax.stack([p, q], 0), [a, g(uniform([2, 3], 15))], 'stack 0');
    check((p, q) => ax.stack([p, q], -1), [a, g(uniform([2, 3], 16))], 'stack -1');
  });
  it('a small network: linear -> gelu -> logSoftmax -> mean', () => {
    const w1 = g(uniform([6, 4], 20, -0.5, 0.5));
    const w2 = g(uniform([3, 6], 21, -0.5, 0.5));
    const input = g(uniform([5, 4], 22));
    check(
      (inp, a, b) =>
        ax
          .linear(ax.linear(inp, a, null, 'tanh'), b)
          .logSoftmax()
          .mean(),
      [input, w1, w2],
      'network',
    );
  });
});

describe('autograd engine', () => {
  it('gradients accumulate across two backward() calls; zeroGrad resets', () => {
    const x = g(f32([1, 2, 3]));
    x.mul(x).sum().backward();
    expect(Array.from(x.grad?.data ?? [])).toEqual([2, 4, 6]);
    x.mul(x).sum().backward();
    expect(Array.from(x.grad?.data ?? [])).toEqual([4, 8, 12]);
    x.zeroGrad();
    expect(x.grad).toBeNull();
    x.mul(3).sum().backward();
    expect(Array.from(x.grad?.data ?? [])).toEqual([3, 3, 3]);
  });

  it('backward with an explicit upstream gradient', () => {
    const x = g(f32([1, 2, 3, 4], [2, 2]));
    const y = x.mul(3);
    y.backward(f32([1, -1, 0.5, 2], [2, 2]));
    expect(x.grad?.toArray()).toEqual([
      [3, -3],
      [1.5, 6],
    ]);
  });

  it('backward on a non-scalar without a gradient fails', () => {
    const y = g(f32([1, 2, 3, 4], [2, 2])).mul(2);
    expect(() => y.backward()).toThrow(/single-element output.*\[2,2\]/);
    expect(() => y.backward(f32([1, 2]))).toThrow('backward: the given gradient has shape [2], the tensor [2,2]');
  });

  it('backward on a leaf sets its gradient to the upstream one', () => {
    const x = g(f32([2], []));
    x.backward();
    expect(x.grad?.item()).toBe(1);
    x.backward();
    expect(x.grad?.item()).toBe(2);
    const v = g(f32([1, 2]));
    v.backward(f32([3, 4]));
    expect(Array.from(v.grad?.data ?? [])).toEqual([3, 4]);
  });

  it('backward on a tensor that does not require grad fails', () => {
    expect(() => f32([1]).mul(2).backward()).toThrow('backward: this tensor does not require grad');
  });

  it('a second backward without retainGraph names the op; retainGraph allows it', () => {
    const x = g(f32([0.5, 1]));
    const y = x.exp().sum();
    y.backward();
    expect(() => y.backward()).toThrow(/trying to backward through 'sum' a second time.*retainGraph: true/);

    const x2 = g(f32([0.5, 1]));
    const y2 = x2.exp().sum();
    y2.backward(undefined, { retainGraph: true });
    y2.backward();
    const e = [Math.exp(0.5), Math.exp(1)];
    expect(x2.grad?.data[0]).toBeCloseTo(2 * e[0], 5);
    expect(x2.grad?.data[1]).toBeCloseTo(2 * e[1], 5);
    expect(() => y2.backward()).toThrow(/a second time/);
  });

  it('noGrad disables recording and restores the previous state', () => {
    const x = g(f32([1, 2]));
    expect(ax.isGradEnabled()).toBe(true);
    const y = ax.noGrad(() => {
      expect(ax.isGradEnabled()).toBe(false);
      return x.mul(2);
    });
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(ax.isGradEnabled()).toBe(true);
    expect(() =>
      ax.noGrad(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(ax.isGradEnabled()).toBe(true);
    expect(ax.setGradEnabled(false)).toBe(true);
    expect(x.add(1).requiresGrad).toBe(false);
    expect(ax.setGradEnabled(true)).toBe(false);
    expect(x.add(1).requiresGrad).toBe(true);
    expect(String(x.add(1))).toContain('grad_fn=<add>');
  });

  it('detach cuts the graph but shares data', () => {
    const x = g(f32([1, 2, 3]));
    const d = x.mul(2).detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.gradFn).toBeNull();
    const x2 = x.detach();
    expect(x2.data).toBe(x.data);
    // z = d * x: only the direct path counts, so dz/dx = d = 2x (not 4x).
    d.mul(x).sum().backward();
    expect(Array.from(x.grad?.data ?? [])).toEqual([2, 4, 6]);
  });

  it('a tensor used twice gets the summed gradient', () => {
    const x = g(f32([1, -2, 3]));
    x.mul(x).sum().backward();
    expect(Array.from(x.grad?.data ?? [])).toEqual([2, -4, 6]);
    const y = g(f32([1, 2]));
    ax.add(y, y.mul(3)).sum().backward();
    expect(Array.from(y.grad?.data ?? [])).toEqual([4, 4]);
    // a diamond through an intermediate: h = exp(z); L = sum(h*h) + sum(h) -> dL/dz = (2h + 1) h
    const z = g(f32([0.1, -0.3]));
    const h = z.exp();
    ax.add(h.mul(h).sum(), h.sum()).backward();
    for (let i = 0; i < 2; i++) {
      const hv = Math.exp(z.data[i]);
      expect(z.grad?.data[i]).toBeCloseTo((2 * hv + 1) * hv, 5);
    }
  });

  it('leaf gradients do not share buffers', () => {
    const a = g(f32([1, 2]));
    const b = g(f32([3, 4]));
    ax.add(a, b).sum().backward();
    expect(a.grad?.data).not.toBe(b.grad?.data);
    a.grad!.data[0] = 100;
    expect(b.grad?.data[0]).toBe(1);
  });

  it('retainGrad keeps the gradient of an intermediate', () => {
    const x = g(f32([1, 2, 3]));
    const h = x.mul(2).retainGrad();
    const k = x.mul(3);
    ax.add(h.square().sum(), k.sum()).backward();
    expect(Array.from(h.grad?.data ?? [])).toEqual([4, 8, 12]); // 2h
    expect(k.grad).toBeNull();
    expect(Array.from(x.grad?.data ?? [])).toEqual([11, 19, 27]); // 8x + 3
    expect(h.isLeaf).toBe(false);
    expect(x.isLeaf).toBe(true);
  });

  it('requiresGrad on int32 throws; turning it off on a non-leaf throws', () => {
    const i = ax.tensor([1, 2], { dtype: 'int32' });
    expect(() => i.setRequiresGrad()).toThrow('setRequiresGrad: only float32 tensors can require grad');
    expect(() => ax.tensor([1, 2], { dtype: 'int32', requiresGrad: true })).toThrow(/only float32/);
    expect(() => ax.zeros([2], { dtype: 'int32', requiresGrad: true })).toThrow(/only float32/);
    const y = g(f32([1])).mul(2);
    expect(() => y.setRequiresGrad(false)).toThrow(/non-leaf/);
    expect(ax.tensor([1], { requiresGrad: true }).requiresGrad).toBe(true);
  });

  it('gradients flow through views into the base', () => {
    const x = g(f32([1, 2, 3, 4, 5, 6], [3, 2]));
    x.slice(1)
      .mul(f32([10, 20], [1, 2]))
      .sum()
      .backward();
    expect(Array.from(x.grad?.data ?? [])).toEqual([0, 0, 10, 20, 10, 20]);
    x.zeroGrad();
    x.reshape(6)
      .mul(f32([1, 2, 3, 4, 5, 6]))
      .sum()
      .backward();
    expect(Array.from(x.grad?.data ?? [])).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
