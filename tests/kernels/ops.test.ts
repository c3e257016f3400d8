/**
 * Forward values of every op against float64 references computed in this file (see
 * reference.ts), on sizes that exercise SIMD tails and thread splits (1, 3, 17, 33, 127, 513,
 * 1000). This suite runs once per SIMD level.
 *
 * Tolerances (|got - expected| <= atol + rtol |expected|):
 * - RTOL_EXACT = 1e-6 for + - * / sqrt, reciprocal: IEEE float32 rounds these correctly
 *   (error <= 2^-24 ~ 6e-8 relative), so 1e-6 leaves ~16x headroom but still catches any wrong
 *   formula, lane or tail element.
 * - RTOL_TRANSCENDENTAL = 1e-6 for exp/log/tanh/sigmoid/gelu/...: the vectorised polynomial
 *   approximations are good to a few ulp (measured <= 5e-7 relative on all SIMD levels);
 *   atol = 1e-30 only absorbs results that underflow float32. Activations add
 *   conditionAtol (4 ulp of the input times |x f'(x)|): where f is ill-conditioned (the far
 *   negative tail of gelu-tanh, e^x for x ~ -80) a float32 intermediate such as gelu-tanh's
 *   u(x) cannot be rounded more finely than that; elsewhere the term is negligible.
 * - pow with a non-trivial exponent is exp(b log|a|): the error of log|a| (~ulp of b log|a|)
 *   is amplified by exp, so the bound grows with |b log a|.
 * - Reductions: atol 1e-6 * sum|x| per output (divided by r for mean). Float32 accumulation
 *   of r random-signed terms errs by ~eps sqrt(r) times the partial sums, ~1e-8 sum|x| here
 *   (the worst case, r eps sum|x|, needs adversarial data); a missing, doubled or misplaced
 *   element (~sum|x| / r >= 1e-3 sum|x|) is far outside it.
 * - matmul/linear: sqrt(K) * 1e-6 * sum_k |a_ik b_kj|, the usual float32 dot-product bound.
 * - max/min/argmax/argmin and layout ops only select or move values: exact.
 */
import { describe, expect, it } from 'vitest';
import * as ax from '../../src/index.js';
import { Tensor, type LinearActivation } from '../../src/index.js';
import {
  awayFromZero,
  binaryRef,
  conditionAtol,
  eluRef,
  erf,
  expandRef,
  expectClose,
  expectExact,
  f32,
  geluErfRef,
  geluTanhRef,
  leakyReluRef,
  makeRef,
  mapRef,
  matmulRef,
  maxOf,
  meanOf,
  minOf,
  numelOf,
  permuteRef,
  reduceRef,
  rng,
  seluRef,
  sigmoidRef,
  siluRef,
  softplusRef,
  stridesOf,
  sumOf,
  toRef,
  uniform,
  type Ref,
} from './reference.js';

const SIZES = [1, 3, 17, 33, 127, 513, 1000];
const RTOL_EXACT = 1e-6;
const RTOL_TRANSCENDENTAL = 1e-6;
const TINY = 1e-30;

describe('reference self-check', () => {
  it('erf matches published values', () => {
    // Abramowitz & Stegun table values, to 1e-15.
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 14);
    expect(erf(1)).toBeCloseTo(0.8427007929497149, 14);
    expect(erf(-2)).toBeCloseTo(-0.9953222650189527, 14);
    expect(erf(3)).toBeCloseTo(0.9999779095030014, 14);
  });
});

// ---- binary elementwise ----------------------------------------------------------------------

type BinFn = (a: Tensor | number, b: Tensor | number) => Tensor;
const BINARY: { name: string; fn: BinFn; ref: (x: number, y: number) => number; exact?: boolean }[] = [
  { name: 'add', fn: ax.add, ref: (x, y) => x + y },
  { name: 'sub', fn: ax.sub, ref: (x, y) => x - y },
  { name: 'mul', fn: ax.mul, ref: (x, y) => x * y },
  { name: 'div', fn: ax.div, ref: (x, y) => x / y },
  { name: 'maximum', fn: ax.maximum, ref: (x, y) => Math.max(x, y), exact: true },
  { name: 'minimum', fn: ax.minimum, ref: (x, y) => Math.min(x, y), exact: true },
];

/** pow's tolerance: exp(b log a) carries log's absolute error times |b|, relative in the result. */
function powTol(a: Ref, b: Ref): { rtol: number; atol: Float64Array } {
  const out = binaryRef(a, b, (x, y) => Math.abs(y * Math.log(Math.abs(x))) * 4 * 2 ** -24 * Math.abs(x ** y));
  return { rtol: RTOL_TRANSCENDENTAL, atol: out.data };
}

describe('binary ops, same shape, awkward sizes', () => {
  for (const n of SIZES) {
    it(`add/sub/mul/div/maximum/minimum/pow on [${n}]`, () => {
      const a = uniform([n], n, -4, 4);
      const b = awayFromZero([n], n + 1, 0.25, 4);
      for (const op of BINARY) {
        const want = binaryRef(toRef(a), toRef(b), op.ref);
        if (op.exact) expectExact(op.fn(a, b), want, op.name);
        else expectClose(op.fn(a, b), want, { rtol: RTOL_EXACT }, op.name);
      }
      const base = uniform([n], n + 2, 0.05, 5);
      const expo = uniform([n], n + 3, -3, 3);
      expectClose(
        ax.pow(base, expo),
        binaryRef(toRef(base), toRef(expo), (x, y) => x ** y),
        powTol(toRef(base), toRef(expo)),
        'pow',
      );
    });
  }

  it('tensor methods agree with the reference', () => {
    const a = uniform([33], 1, -3, 3);
    const b = awayFromZero([33], 2);
    const A = toRef(a);
    const B = toRef(b);
    expectClose(
      a.add(b),
      binaryRef(A, B, (x, y) => x + y),
      { rtol: RTOL_EXACT },
    );
    expectClose(
      a.sub(b),
      binaryRef(A, B, (x, y) => x - y),
      { rtol: RTOL_EXACT },
    );
    expectClose(
      a.mul(b),
      binaryRef(A, B, (x, y) => x * y),
      { rtol: RTOL_EXACT },
    );
    expectClose(
      a.div(b),
      binaryRef(A, B, (x, y) => x / y),
      { rtol: RTOL_EXACT },
    );
    expectExact(a.maximum(b), binaryRef(A, B, Math.max));
    expectExact(a.minimum(b), binaryRef(A, B, Math.min));
    expectClose(
      b.abs().pow(a),
      binaryRef(mapRef(B, Math.abs), A, (x, y) => x ** y),
      powTol(mapRef(B, Math.abs), A),
    );
  });

  it('pow: negative bases, integer exponents, zeros', () => {
    const a = f32([-2, -2, -2, 0, 0, 2, -8, 3, -1.5]);
    const b = f32([3, 2, 0.5, -1, 0, 0.5, 1 / 3, -2, 4]);
    // Math.pow semantics: a negative base with a fractional exponent is NaN.
    expectClose(ax.pow(a, b), [-8, 4, NaN, Infinity, 1, Math.SQRT2, NaN, 1 / 9, 5.0625], {
      rtol: RTOL_TRANSCENDENTAL,
    });
  });

  it('maximum/minimum propagate NaN from either side', () => {
    const a = f32([NaN, 1, 2, -3]);
    const b = f32([1, NaN, 2, 4]);
    expectExact(ax.maximum(a, b), [NaN, NaN, 2, 4]);
    expectExact(ax.minimum(a, b), [NaN, NaN, 2, -3]);
    expectExact(ax.maximum(a, 0), [NaN, 1, 2, 0]);
    expectExact(ax.minimum(0, a), [NaN, 0, 0, -3]);
  });

  it('division by zero and infinity follows IEEE', () => {
    expectExact(ax.div(f32([1, -1, 0, 1]), f32([0, 0, 0, Infinity])), [Infinity, -Infinity, NaN, 0]);
  });
});

describe('binary ops with broadcasting', () => {
  const PAIRS: [number[], number[]][] = [
    [
      [4, 1, 3],
      [5, 1],
    ],
    [[3], [2, 3]],
    [[2, 3], [3]],
    [
      [2, 1],
      [1, 3],
    ],
    [[], [2, 3]],
    [[2, 3], []],
    [[1], [17]],
    [
      [33, 1],
      [1, 127],
    ],
    [
      [2, 3, 4, 5],
      [3, 1, 5],
    ],
    [
      [5, 1, 1],
      [1, 1, 7],
    ],
    [
      [1, 1],
      [3, 1, 1],
    ],
    [[127, 33], [33]],
    [
      [513, 1],
      [513, 3],
    ],
    [
      [3, 1, 17],
      [3, 5, 1],
    ],
    [
      [2, 1, 3, 1],
      [1, 4, 1, 5],
    ],
    // zero-element results
    [
      [0, 3],
      [1, 3],
    ],
    [
      [2, 0],
      [2, 1],
    ],
    [[0], []],
    [[3, 0, 2], [2]],
  ];
  for (const [sa, sb] of PAIRS) {
    it(`[${sa}] (op) [${sb}]`, () => {
      const a = uniform(sa, numelOf(sa) + 7, -3, 3);
      const b = awayFromZero(sb, numelOf(sb) + 11, 0.5, 3);
      const A = toRef(a);
      const B = toRef(b);
      for (const op of BINARY) {
        const want = binaryRef(A, B, op.ref);
        if (op.exact) expectExact(op.fn(a, b), want, op.name);
        else expectClose(op.fn(a, b), want, { rtol: RTOL_EXACT }, op.name);
        // and with the operands swapped
        const want2 = binaryRef(B, A, op.ref);
        if (op.exact) expectExact(op.fn(b, a), want2, `${op.name} swapped`);
        else if (op.name !== 'div') expectClose(op.fn(b, a), want2, { rtol: RTOL_EXACT }, `${op.name} swapped`);
      }
      const base = mapRef(B, Math.abs);
      expectClose(
        ax.pow(b.abs(), a),
        binaryRef(base, A, (x, y) => x ** y),
        powTol(base, A),
        'pow',
      );
    });
  }

  it('scalar numbers on either side', () => {
    const x = awayFromZero([127], 5, 0.3, 3);
    const X = toRef(x);
    const cases: [string, Tensor, (v: number) => number, number?][] = [
      ['x + 2.5', ax.add(x, 2.5), (v) => v + 2.5],
      ['2.5 + x', ax.add(2.5, x), (v) => 2.5 + v],
      ['x - 1.25', ax.sub(x, 1.25), (v) => v - 1.25],
      ['3 - x', ax.sub(3, x), (v) => 3 - v],
      ['x * -0.75', ax.mul(x, -0.75), (v) => v * -0.75],
      ['-0.75 * x', ax.mul(-0.75, x), (v) => -0.75 * v],
      ['x / 3', ax.div(x, 3), (v) => v / 3],
      ['3 / x', ax.div(3, x), (v) => 3 / v],
      ['max(x, 0.5)', ax.maximum(x, 0.5), (v) => Math.max(v, 0.5)],
      ['max(0.5, x)', ax.maximum(0.5, x), (v) => Math.max(0.5, v)],
      ['min(x, -0.25)', ax.minimum(x, -0.25), (v) => Math.min(v, -0.25)],
      ['min(-0.25, x)', ax.minimum(-0.25, x), (v) => Math.min(-0.25, v)],
      ['x.add(1)', x.add(1), (v) => v + 1],
      ['x.sub(1)', x.sub(1), (v) => v - 1],
      ['x.mul(2)', x.mul(2), (v) => v * 2],
      ['x.div(4)', x.div(4), (v) => v / 4],
      ['x^2', ax.pow(x, 2), (v) => v ** 2],
      ['x^3', ax.pow(x, 3), (v) => v ** 3],
      ['x^-2', ax.pow(x, -2), (v) => v ** -2],
      ['x^-1', ax.pow(x, -1), (v) => v ** -1],
      ['|x|^0.5', ax.pow(x.abs(), 0.5), (v) => Math.abs(v) ** 0.5],
      ['|x|^1.7', ax.pow(x.abs(), 1.7), (v) => Math.abs(v) ** 1.7, 1.7],
      ['x^0', ax.pow(x, 0), () => 1],
      ['2^x', ax.pow(2, x), (v) => 2 ** v, 1],
      ['0.5^x', ax.pow(0.5, x), (v) => 0.5 ** v, 1],
      ['x.pow(2)', x.pow(2), (v) => v * v],
    ];
    for (const [name, got, f, powScale] of cases) {
      // exp-log pow: |log| of at most ~2 times the exponent, amplified as in powTol.
      const rtol = powScale === undefined ? RTOL_EXACT : RTOL_TRANSCENDENTAL + 8 * powScale * 2 * 2 ** -24;
      expectClose(got, mapRef(X, f), { rtol }, name);
    }
  });

  it('pow with exponent 2, 0.5 or -1 is correctly rounded (as square, sqrt, reciprocal)', () => {
    const x = uniform([513], 12, -100, 100);
    const X = toRef(x);
    expectExact(
      ax.pow(x, 2),
      mapRef(X, (v) => Math.fround(v * v)),
      'x^2',
    );
    expectExact(
      ax.pow(x.abs(), 0.5),
      mapRef(X, (v) => Math.fround(Math.sqrt(Math.abs(v)))),
      'x^0.5',
    );
    expectExact(
      ax.pow(x, -1),
      mapRef(X, (v) => Math.fround(1 / v)),
      'x^-1',
    );
    expectExact(ax.pow(x, 1), X, 'x^1');
  });

  it('a 0-d tensor broadcasts like a number', () => {
    const x = uniform([3, 17], 9);
    const s = f32([1.5], []);
    expectClose(
      ax.mul(x, s),
      mapRef(toRef(x), (v) => v * 1.5),
      { rtol: RTOL_EXACT },
    );
    expectClose(
      ax.sub(s, x),
      mapRef(toRef(x), (v) => 1.5 - v),
      { rtol: RTOL_EXACT },
    );
    const r = ax.add(s, f32([2], []));
    expect(r.shape).toEqual([]);
    expect(r.item()).toBe(3.5);
  });
});

describe('clamp', () => {
  for (const n of [1, 17, 1000]) {
    it(`clamp on [${n}]`, () => {
      const x = uniform([n], 40 + n, -3, 3);
      const X = toRef(x);
      expectExact(
        ax.clamp(x, -1, 1.5),
        mapRef(X, (v) => Math.min(Math.max(v, -1), 1.5)),
        'both',
      );
      expectExact(
        ax.clamp(x, 0, null),
        mapRef(X, (v) => Math.max(v, 0)),
        'min only',
      );
      expectExact(
        x.clamp(null, -0.5),
        mapRef(X, (v) => Math.min(v, -0.5)),
        'max only',
      );
      const same = ax.clamp(x, null, null);
      expectExact(same, X, 'no bounds');
      expect(same.data).not.toBe(x.data);
    });
  }
  it('clamp keeps NaN and handles min == max', () => {
    expectExact(ax.clamp(f32([NaN, -5, 0.5, 5]), -1, 1), [NaN, -1, 0.5, 1]);
    expectExact(ax.clamp(f32([-5, 0.5, 5]), 2, 2), [2, 2, 2]);
  });
});

// ---- unary math --------------------------------------------------------------------------------

describe('unary math ops', () => {
  const UNARY: { name: string; fn: (x: Tensor) => Tensor; ref: (v: number) => number; lo: number; hi: number }[] = [
    { name: 'neg', fn: ax.neg, ref: (v) => -v, lo: -5, hi: 5 },
    { name: 'exp', fn: ax.exp, ref: Math.exp, lo: -80, hi: 80 },
    { name: 'log', fn: ax.log, ref: Math.log, lo: 1e-6, hi: 1e6 },
    { name: 'sqrt', fn: ax.sqrt, ref: Math.sqrt, lo: 0, hi: 1e4 },
    { name: 'abs', fn: ax.abs, ref: Math.abs, lo: -5, hi: 5 },
    { name: 'square', fn: ax.square, ref: (v) => v * v, lo: -50, hi: 50 },
    { name: 'reciprocal', fn: ax.reciprocal, ref: (v) => 1 / v, lo: 0.001, hi: 100 },
  ];
  for (const n of SIZES) {
    it(`neg/exp/log/sqrt/abs/square/reciprocal on [${n}]`, () => {
      for (const op of UNARY) {
        const x = uniform([n], n * 7 + op.name.length, op.lo, op.hi);
        expectClose(op.fn(x), mapRef(toRef(x), op.ref), { rtol: RTOL_TRANSCENDENTAL, atol: TINY }, op.name);
      }
      // reciprocal of negatives too
      const x = awayFromZero([n], n + 99, 0.01, 10);
      expectClose(
        ax.reciprocal(x),
        mapRef(toRef(x), (v) => 1 / v),
        { rtol: RTOL_EXACT },
        'reciprocal +-',
      );
    });
  }

  it('log near 1 keeps relative accuracy', () => {
    const x = f32([1.0001, 0.9999, 1 + 2 ** -20, 1 - 2 ** -20, 1.5, 0.5]);
    expectClose(ax.log(x), mapRef(toRef(x), Math.log), { rtol: RTOL_TRANSCENDENTAL });
  });

  it('special values follow IEEE / Math.*', () => {
    expectExact(ax.exp(f32([-Infinity, Infinity, NaN, 0, 89, -104])), [0, Infinity, NaN, 1, Infinity, 0]);
    expectExact(ax.log(f32([0, -1, Infinity, NaN, 1])), [-Infinity, NaN, Infinity, NaN, 0]);
    expectExact(ax.sqrt(f32([0, -1, Infinity, 4])), [0, NaN, Infinity, 2]);
    expectExact(ax.reciprocal(f32([0, -0, Infinity, 4])), [Infinity, -Infinity, 0, 0.25]);
    expectExact(ax.abs(f32([-0, -3, NaN, -Infinity])), [0, 3, NaN, Infinity]);
    expect(Object.is(ax.abs(f32([-0])).data[0], 0)).toBe(true);
    expectExact(ax.neg(f32([0, Infinity, NaN])), [-0, -Infinity, NaN]);
  });

  it('methods match the functions', () => {
    const x = uniform([17], 3, 0.1, 4);
    const X = toRef(x);
    const tol = { rtol: RTOL_TRANSCENDENTAL };
    expectClose(
      x.neg(),
      mapRef(X, (v) => -v),
      tol,
    );
    expectClose(x.exp(), mapRef(X, Math.exp), tol);
    expectClose(x.log(), mapRef(X, Math.log), tol);
    expectClose(x.sqrt(), mapRef(X, Math.sqrt), tol);
    expectClose(x.neg().abs(), X, tol);
    expectClose(
      x.square(),
      mapRef(X, (v) => v * v),
      tol,
    );
    expectClose(
      x.reciprocal(),
      mapRef(X, (v) => 1 / v),
      tol,
    );
  });
});

// ---- activations -------------------------------------------------------------------------------

describe('activations', () => {
  const ACT: { name: string; fn: (x: Tensor) => Tensor; ref: (v: number) => number }[] = [
    { name: 'relu', fn: ax.relu, ref: (v) => Math.max(0, v) },
    { name: 'leakyRelu()', fn: (x) => ax.leakyRelu(x), ref: (v) => leakyReluRef(v, 0.01) },
    { name: 'leakyRelu(0.2)', fn: (x) => x.leakyRelu(0.2), ref: (v) => leakyReluRef(v, 0.2) },
    { name: 'leakyRelu(-0.5)', fn: (x) => ax.leakyRelu(x, -0.5), ref: (v) => leakyReluRef(v, -0.5) },
    { name: 'elu()', fn: (x) => ax.elu(x), ref: (v) => eluRef(v, 1) },
    { name: 'elu(0.5)', fn: (x) => x.elu(0.5), ref: (v) => eluRef(v, 0.5) },
    { name: 'selu', fn: ax.selu, ref: seluRef },
    { name: 'sigmoid', fn: ax.sigmoid, ref: sigmoidRef },
    { name: 'tanh', fn: ax.tanh, ref: Math.tanh },
    { name: 'gelu', fn: (x) => ax.gelu(x), ref: geluErfRef },
    { name: "gelu 'none'", fn: (x) => x.gelu({ approximate: 'none' }), ref: geluErfRef },
    { name: "gelu 'tanh'", fn: (x) => ax.gelu(x, { approximate: 'tanh' }), ref: geluTanhRef },
    { name: 'softplus()', fn: (x) => ax.softplus(x), ref: (v) => softplusRef(v, 1) },
    { name: 'softplus(2)', fn: (x) => x.softplus(2), ref: (v) => softplusRef(v, 2) },
    { name: 'softplus(0.5)', fn: (x) => ax.softplus(x, 0.5), ref: (v) => softplusRef(v, 0.5) },
    { name: 'silu', fn: ax.silu, ref: siluRef },
  ];
  for (const n of SIZES) {
    it(`all activations on [${n}]`, () => {
      const x = uniform([n], 1000 + n, -12, 12);
      for (const a of ACT)
        expectClose(
          a.fn(x),
          mapRef(toRef(x), a.ref),
          { rtol: RTOL_TRANSCENDENTAL, atol: conditionAtol(toRef(x), a.ref) },
          a.name,
        );
    });
  }

  it('small inputs keep relative accuracy (no cancellation near 0)', () => {
    const x = uniform([257], 77, -1e-3, 1e-3);
    // No condition term here: near 0 every activation is well conditioned.
    for (const a of ACT)
      expectClose(a.fn(x), mapRef(toRef(x), a.ref), { rtol: RTOL_TRANSCENDENTAL, atol: TINY }, a.name);
  });

  it('far tails: sigmoid, softplus and gelu do not cancel to garbage', () => {
    // e^x for x in [-80, -15] is far below 1: 1 + e^x rounding must not swallow it. The
    // condition term (|x| ulps of e^x) is the most a float32 exp can be held to.
    const x = uniform([300], 5, -80, -15);
    const X = toRef(x);
    const sp = (v: number): number => softplusRef(v);
    expectClose(
      ax.sigmoid(x),
      mapRef(X, sigmoidRef),
      { rtol: RTOL_TRANSCENDENTAL, atol: conditionAtol(X, sigmoidRef) },
      'sigmoid',
    );
    expectClose(ax.softplus(x), mapRef(X, sp), { rtol: RTOL_TRANSCENDENTAL, atol: conditionAtol(X, sp) }, 'softplus');
    const g = toRef(uniform([300], 6, -9, -4));
    const gT = new Tensor(Float32Array.from(g.data), g.shape);
    expectClose(
      ax.gelu(gT),
      mapRef(g, geluErfRef),
      { rtol: RTOL_TRANSCENDENTAL, atol: conditionAtol(g, geluErfRef) },
      'gelu',
    );
    expectClose(
      ax.gelu(gT, { approximate: 'tanh' }),
      mapRef(g, geluTanhRef),
      { rtol: RTOL_TRANSCENDENTAL, atol: conditionAtol(g, geluTanhRef) },
      'gelu tanh',
    );
  });

  it('softplus switches to x above the threshold beta x > 20', () => {
    const x = f32([19.9, 20.01, 25, 100]);
    expectExact(ax.softplus(x), [softplusRef(Math.fround(19.9)), Math.fround(20.01), 25, 100].map(Math.fround));
    // beta 2: threshold at x = 10
    expectExact(ax.softplus(f32([10.5, 50]), 2), [10.5, 50]);
  });

  it('special values', () => {
    expectExact(ax.relu(f32([NaN, -1, 0, 2])), [NaN, 0, 0, 2]);
    expectExact(ax.sigmoid(f32([-Infinity, Infinity, NaN])), [0, 1, NaN]);
    expectExact(ax.tanh(f32([-Infinity, Infinity, NaN, 20, -20])), [-1, 1, NaN, 1, -1]);
    expectExact(ax.softplus(f32([-Infinity, Infinity, NaN])), [0, Infinity, NaN]);
    expectExact(ax.gelu(f32([20, -20, NaN, Infinity])), [20, -0, NaN, Infinity]);
    expectExact(ax.gelu(f32([20, NaN, Infinity]), { approximate: 'tanh' }), [20, NaN, Infinity]);
  });
});

describe('softmax and logSoftmax', () => {
  const softmaxRef = (x: Ref, axis: number, log: boolean): Ref => {
    const st = stridesOf(x.shape);
    return makeRef(x.shape, (idx) => {
      const vals: number[] = [];
      const base = idx.reduce((s, v, d) => s + v * st[d], 0) - idx[axis] * st[axis];
      for (let j = 0; j < x.shape[axis]; j++) vals.push(x.data[base + j * st[axis]]);
      const m = Math.max(...vals);
      const z = vals.reduce((s, v) => s + Math.exp(v - m), 0);
      const v = x.data[base + idx[axis] * st[axis]];
      return log ? v - m - Math.log(z) : Math.exp(v - m) / z;
    });
  };

  for (const shape of [
    [3, 17, 33],
    [2, 1, 5],
    [4, 127, 3],
  ]) {
    it(`every axis of [${shape}]`, () => {
      const x = uniform(shape, numelOf(shape), -8, 8);
      const X = toRef(x);
      for (const axis of [0, 1, 2, -1, -2, -3]) {
        const a = axis < 0 ? axis + 3 : axis;
        // exp of (x - max) carries a few ulp; the normalising sum adds ~ulp per term.
        expectClose(ax.softmax(x, axis), softmaxRef(X, a, false), { rtol: 2e-6, atol: TINY }, `softmax ${axis}`);
        // log-softmax values are O(10): absolute error ~ ulp of the largest term.
        expectClose(ax.logSoftmax(x, axis), softmaxRef(X, a, true), { rtol: 1e-6, atol: 2e-6 }, `logSoftmax ${axis}`);
      }
      expectClose(x.softmax(), softmaxRef(X, 2, false), { rtol: 2e-6, atol: TINY }, 'default axis');
      expectClose(x.logSoftmax(), softmaxRef(X, 2, true), { rtol: 1e-6, atol: 2e-6 }, 'default axis');
    });
  }

  it('rows sum to one on long rows', () => {
    for (const n of SIZES) {
      const s = ax.softmax(uniform([2, n], n, -5, 5));
      for (let r = 0; r < 2; r++) {
        let t = 0;
        for (let j = 0; j < n; j++) t += s.data[r * n + j];
        expect(Math.abs(t - 1)).toBeLessThan(1e-5);
      }
    }
  });

  it('is stable for large inputs', () => {
    const big = ax.softmax(f32([1000, 1001]));
    expect(Array.from(big.data).every(Number.isFinite)).toBe(true);
    expectClose(big, [1 / (1 + Math.E), Math.E / (1 + Math.E)], { rtol: 1e-6 });
    expectClose(big, Array.from(ax.softmax(f32([0, 1])).data), { rtol: 1e-6 });
    const ls = ax.logSoftmax(f32([1e4, -1e4]));
    expect(Array.from(ls.data).every(Number.isFinite)).toBe(true);
    expectClose(ls, [0, -2e4], { rtol: 1e-6 });
    const ls2 = ax.logSoftmax(f32([-1e4, -1e4 + 1]));
    expectClose(ls2, [-Math.log1p(Math.E), 1 - Math.log1p(Math.E)], { rtol: 1e-6, atol: 1e-6 });
    expectExact(ax.softmax(f32([-Infinity, 0])), [0, 1]);
  });

  it('0-d and single-element axes', () => {
    expect(ax.softmax(f32([3], [])).item()).toBe(1);
    expect(ax.logSoftmax(f32([3], [])).item()).toBe(0);
    expectExact(ax.softmax(uniform([4, 1], 1), 1), [1, 1, 1, 1]);
  });
});

// ---- reductions ---------------------------------------------------------------------------------

describe('reductions', () => {
  const l1 = (x: Ref, axes: number[], keep: boolean): Float64Array =>
    reduceRef(mapRef(x, Math.abs), axes, keep, sumOf).data;

  const check = (x: Tensor, axis: number | number[] | undefined, keepDims: boolean): void => {
    const X = toRef(x);
    const list = axis === undefined ? X.shape.map((_, i) => i) : Array.isArray(axis) ? axis : [axis];
    const axes = list.map((a) => (a < 0 ? a + X.shape.length : a));
    const label = `axis ${JSON.stringify(axis)} keepDims ${keepDims}`;
    const scale = l1(X, axes, keepDims);
    const r = axes.reduce((p, a) => p * X.shape[a], 1);
    expectClose(
      ax.sum(x, axis, keepDims),
      reduceRef(X, axes, keepDims, sumOf),
      { rtol: 0, atol: scale.map((s) => 1e-6 * s) },
      `sum ${label}`,
    );
    expectClose(
      x.mean(axis, keepDims),
      reduceRef(X, axes, keepDims, meanOf),
      { rtol: 0, atol: scale.map((s) => (1e-6 * s) / r) },
      `mean ${label}`,
    );
    expectExact(ax.max(x, axis, keepDims), reduceRef(X, axes, keepDims, maxOf), `max ${label}`);
    expectExact(x.min(axis, keepDims), reduceRef(X, axes, keepDims, minOf), `min ${label}`);
  };

  it('1-D over awkward lengths', () => {
    for (const n of SIZES) {
      const x = uniform([n], 500 + n, -2, 3);
      check(x, undefined, false);
      check(x, 0, true);
      check(x, -1, false);
    }
  });

  it('single axes of a 3-D tensor, positive and negative, keepDims', () => {
    const x = uniform([7, 33, 17], 3, -5, 5);
    for (const a of [0, 1, 2, -1, -2, -3]) for (const k of [false, true]) check(x, a, k);
  });

  it('axis lists: adjacent, non-adjacent, negative, unsorted, all', () => {
    const x = uniform([3, 5, 4, 6], 8, -5, 5);
    const lists = [
      [0, 1],
      [1, 2],
      [2, 3],
      [0, 2],
      [1, 3],
      [0, 3],
      [-1, 0],
      [3, 1],
      [-3, -1],
      [0, 1, 2],
      [0, 2, 3],
      [0, 1, 2, 3],
      [2],
    ];
    for (const l of lists) for (const k of [false, true]) check(x, l, k);
    check(x, undefined, false);
    check(x, undefined, true);
  });

  it('results have the right shapes', () => {
    const x = uniform([2, 3, 4], 1);
    expect(ax.sum(x).shape).toEqual([]);
    expect(ax.sum(x, undefined, true).shape).toEqual([1, 1, 1]);
    expect(ax.sum(x, [0, 2]).shape).toEqual([3]);
    expect(ax.mean(x, [0, 2], true).shape).toEqual([1, 3, 1]);
    expect(ax.max(x, -1).shape).toEqual([2, 3]);
  });

  it('reductions on 0-d tensors and empty axes', () => {
    expect(ax.sum(f32([2.5], [])).item()).toBe(2.5);
    expect(ax.max(f32([2.5], [])).item()).toBe(2.5);
    expectExact(ax.sum(ax.zeros([2, 0]), 1), [0, 0]);
    expect(ax.sum(ax.zeros([2, 0])).item()).toBe(0);
    expect(ax.sum(ax.zeros([0, 3]), 0).shape).toEqual([3]);
    expect(Number.isNaN(ax.mean(ax.zeros([0])).item())).toBe(true);
  });

  it('max/min propagate NaN', () => {
    expect(Number.isNaN(ax.max(f32([1, NaN, 3])).item())).toBe(true);
    expect(Number.isNaN(ax.min(f32([1, NaN, 3])).item())).toBe(true);
    expectExact(ax.max(f32([1, NaN, 3, 4, 5, 6], [2, 3]), 1), [NaN, 6]);
  });
});

describe('argmax / argmin', () => {
  const argRef = (x: Ref, axis: number, isMax: boolean, keep: boolean): Ref => {
    const st = stridesOf(x.shape);
    const outShapeKeep = x.shape.map((d, i) => (i === axis ? 1 : d));
    const r = makeRef(outShapeKeep, (idx) => {
      const base = idx.reduce((s, v, d) => s + v * st[d], 0);
      let best = 0;
      for (let j = 1; j < x.shape[axis]; j++) {
        const v = x.data[base + j * st[axis]];
        const b = x.data[base + best * st[axis]];
        if (Number.isNaN(b)) break;
        if (Number.isNaN(v) || (isMax ? v > b : v < b)) best = j;
      }
      return best;
    });
    return keep ? r : { data: r.data, shape: x.shape.filter((_, i) => i !== axis) };
  };

  it('every axis of a 3-D tensor with ties', () => {
    // Few distinct values so ties are common: the first index must win.
    const r = rng(4);
    const shape = [5, 17, 33];
    const x = new Tensor(
      Float32Array.from({ length: numelOf(shape) }, () => Math.floor(r() * 4)),
      shape,
    );
    const X = toRef(x);
    for (const a of [0, 1, 2, -1, -3])
      for (const keep of [false, true]) {
        const axis = a < 0 ? a + 3 : a;
        const am = ax.argmax(x, a, keep);
        expect(am.dtype).toBe('int32');
        expectExact(am, argRef(X, axis, true, keep), `argmax ${a} ${keep}`);
        expectExact(x.argmin(a, keep), argRef(X, axis, false, keep), `argmin ${a} ${keep}`);
      }
  });

  it('flattened (no axis) on awkward sizes, ties go to the first index', () => {
    for (const n of SIZES) {
      const x = uniform([n], n, -1, 1);
      const X = toRef(x);
      const flatRef = (isMax: boolean): number => argRef(X, 0, isMax, false).data[0];
      expect(ax.argmax(x).item()).toBe(flatRef(true));
      expect(ax.argmin(x).item()).toBe(flatRef(false));
      expect(ax.argmax(x).shape).toEqual([]);
    }
    expect(ax.argmax(f32([1, 3, 3, 2])).item()).toBe(1);
    expect(ax.argmin(f32([2, 0, 5, 0])).item()).toBe(1);
    expect(ax.argmax(f32([-Infinity, -Infinity])).item()).toBe(0);
    // a tie at the far end of a long vector
    const long = new Float32Array(1000);
    long[517] = 5;
    long[999] = 5;
    expect(ax.argmax(new Tensor(long, [1000])).item()).toBe(517);
    expect(ax.argmax(new Tensor(long, [10, 100]), undefined, true).shape).toEqual([1, 1]);
    expect(ax.argmax(new Tensor(long, [10, 100])).item()).toBe(517);
  });

  it('NaN counts as the extreme (PyTorch)', () => {
    expect(ax.argmax(f32([1, NaN, 3, 3])).item()).toBe(1);
    expect(ax.argmax(f32([3, NaN, NaN])).item()).toBe(1);
    expect(ax.argmin(f32([2, 1, 1, NaN])).item()).toBe(3);
    expectExact(ax.argmax(f32([1, 2, NaN, 7, 8, 9], [2, 3]), 1), [2, 2]);
  });
});

// ---- matmul and linear ---------------------------------------------------------------------------

describe('matmul', () => {
  const expectMatmul = (a: Tensor, b: Tensor, label: string): Tensor => {
    // Promote 1-D operands as torch.matmul does, compute in float64, then drop the unit axes.
    const A = toRef(a);
    const B = toRef(b);
    const A2 = a.ndim === 1 ? { data: A.data, shape: [1, A.shape[0]] } : A;
    const B2 = b.ndim === 1 ? { data: B.data, shape: [B.shape[0], 1] } : B;
    const { out, scale } = matmulRef(A2, B2);
    let shape = out.shape;
    if (a.ndim === 1) shape = [...shape.slice(0, -2), shape[shape.length - 1]];
    if (b.ndim === 1) shape = shape.slice(0, -1);
    const k = a.shape[a.ndim - 1];
    const got = ax.matmul(a, b);
    expectClose(
      got,
      { data: out.data, shape },
      { rtol: 0, atol: scale.map((s) => Math.sqrt(Math.max(k, 1)) * 1e-6 * s + TINY) },
      label,
    );
    return got;
  };

  it('1-D . 1-D is a dot product (0-d)', () => {
    for (const n of SIZES) {
      const r = expectMatmul(uniform([n], n), uniform([n], n + 1), `dot ${n}`);
      expect(r.shape).toEqual([]);
    }
  });

  it('1-D . 2-D and 2-D . 1-D', () => {
    expect(expectMatmul(uniform([33], 1), uniform([33, 17], 2), 'vec x mat').shape).toEqual([17]);
    expect(expectMatmul(uniform([17, 33], 3), uniform([33], 4), 'mat x vec').shape).toEqual([17]);
    expectMatmul(uniform([1], 5), uniform([1, 513], 6), '1 x [1,513]');
    expectMatmul(uniform([127, 3], 7), uniform([3], 8), '[127,3] x 3');
  });

  it('2-D . 2-D on awkward shapes', () => {
    const shapes: [number, number, number][] = [
      [1, 1, 1],
      [3, 17, 33],
      [17, 33, 3],
      [33, 1, 127],
      [127, 513, 33],
      [5, 1000, 7],
      [64, 64, 64],
      [65, 63, 129],
    ];
    for (const [m, k, n] of shapes)
      expectMatmul(uniform([m, k], m * k), uniform([k, n], k * n + 1), `[${m},${k}]x[${k},${n}]`);
  });

  it('transposed operands and the method form', () => {
    const a = uniform([33, 17], 1);
    const b = uniform([5, 17], 2);
    const { out } = matmulRef(toRef(a), permuteRef(toRef(b), [1, 0]));
    expectClose(a.matmul(b.T), out, { rtol: 0, atol: Math.sqrt(17) * 1e-6 * 17 });
  });

  it('zero-size dimensions', () => {
    expect(ax.matmul(ax.zeros([0, 3]), ax.zeros([3, 4])).shape).toEqual([0, 4]);
    const z = ax.matmul(ax.ones([3, 0]), ax.ones([0, 4]));
    expectExact(z, new Array(12).fill(0));
    expect(z.shape).toEqual([3, 4]);
  });

  it('batched 3-D . 3-D, 3-D . 2-D, 2-D . 3-D', () => {
    expect(expectMatmul(uniform([4, 17, 33], 1), uniform([4, 33, 5], 2), '3d.3d').shape).toEqual([4, 17, 5]);
    expect(expectMatmul(uniform([4, 17, 33], 3), uniform([33, 5], 4), '3d.2d').shape).toEqual([4, 17, 5]);
    expect(expectMatmul(uniform([17, 33], 5), uniform([4, 33, 5], 6), '2d.3d').shape).toEqual([4, 17, 5]);
    expect(expectMatmul(uniform([3, 1, 127], 7), uniform([3, 127, 1], 8), 'row.col').shape).toEqual([3, 1, 1]);
  });

  it('broadcast batch dimensions', () => {
    expect(expectMatmul(uniform([2, 1, 3, 4], 1), uniform([5, 4, 2], 2), '[2,1,3,4]x[5,4,2]').shape).toEqual([
      2, 5, 3, 2,
    ]);
    expect(expectMatmul(uniform([1, 3, 4], 3), uniform([6, 4, 2], 4), '[1,3,4]x[6,4,2]').shape).toEqual([6, 3, 2]);
    expect(expectMatmul(uniform([6, 3, 4], 5), uniform([1, 4, 2], 6), '[6,3,4]x[1,4,2]').shape).toEqual([6, 3, 2]);
    expect(expectMatmul(uniform([2, 3, 1, 5, 7], 7), uniform([3, 4, 7, 2], 8), '5d x 4d').shape).toEqual([
      2, 3, 4, 5, 2,
    ]);
  });

  it('1-D with batched operands', () => {
    expect(expectMatmul(uniform([4], 1), uniform([2, 4, 3], 2), 'vec x 3d').shape).toEqual([2, 3]);
    expect(expectMatmul(uniform([2, 3, 4], 3), uniform([4], 4), '3d x vec').shape).toEqual([2, 3]);
  });

  it('exact small example', () => {
    const a = f32([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = f32([7, 8, 9, 10, 11, 12], [3, 2]);
    expectExact(ax.matmul(a, b), [58, 64, 139, 154]);
  });
});

describe('linear', () => {
  const ACTS: { name: LinearActivation; param?: number; ref: (v: number) => number }[] = [
    { name: 'none', ref: (v) => v },
    { name: 'relu', ref: (v) => Math.max(0, v) },
    { name: 'leakyRelu', param: 0.1, ref: (v) => leakyReluRef(v, 0.1) },
    { name: 'leakyRelu', param: -0.3, ref: (v) => leakyReluRef(v, -0.3) },
    { name: 'elu', param: 0.7, ref: (v) => eluRef(v, 0.7) },
    { name: 'sigmoid', ref: sigmoidRef },
    { name: 'tanh', ref: Math.tanh },
    { name: 'gelu', ref: geluErfRef },
    { name: 'geluTanh', ref: geluTanhRef },
    { name: 'silu', ref: siluRef },
    { name: 'softplus', param: 2, ref: (v) => softplusRef(v, 2) },
    { name: 'selu', ref: seluRef },
    // Without a parameter each activation takes its usual default (PyTorch's).
    { name: 'leakyRelu', ref: (v) => leakyReluRef(v, 0.01) },
    { name: 'elu', ref: (v) => eluRef(v, 1) },
    { name: 'softplus', ref: (v) => softplusRef(v, 1) },
  ];

  const linearRef = (
    x: Tensor,
    w: Tensor,
    b: Tensor | null,
    f: (v: number) => number,
  ): { want: Ref; atol: Float64Array } => {
    const inF = w.shape[1];
    const X = toRef(x);
    const X2: Ref = { data: X.data, shape: [X.data.length / inF, inF] };
    const { out, scale } = matmulRef(X2, permuteRef(toRef(w), [1, 0]));
    const outF = w.shape[0];
    const pre = out.data.map((v, i) => v + (b ? b.data[i % outF] : 0));
    // Error of the pre-activation (dot-product bound plus the bias add), passed through an
    // activation of slope <= ~1.1.
    const atol = scale.map((s, i) => 1.2 * (Math.sqrt(inF) * 1e-6 * (s + (b ? Math.abs(b.data[i % outF]) : 0))) + TINY);
    return { want: { data: pre.map(f), shape: [...x.shape.slice(0, -1), outF] }, atol };
  };

  for (const act of ACTS) {
    const label = `${act.name}${act.param === undefined ? '' : `(${act.param})`}`;
    it(`activation ${label}, with and without bias`, () => {
      for (const [xs, outF] of [
        [[7, 33], 17],
        [[2, 5, 33], 3],
        [[1, 33], 1],
        [[33], 127],
      ] as [number[], number][]) {
        const x = uniform(xs, numelOf(xs), -2, 2);
        const w = uniform([outF, 33], outF, -0.5, 0.5);
        const b = uniform([outF], outF + 3, -1, 1);
        for (const bias of [b, null]) {
          const { want, atol } = linearRef(x, w, bias, act.ref);
          const got =
            act.param === undefined ? ax.linear(x, w, bias, act.name) : ax.linear(x, w, bias, act.name, act.param);
          expectClose(got, want, { rtol: RTOL_TRANSCENDENTAL, atol }, `${label} x[${xs}] bias=${bias !== null}`);
        }
      }
    });
  }

  it('zero-size batches and features', () => {
    const w = uniform([4, 3], 1);
    const b = f32([0.5, -1, 2, 0]);
    const empty = ax.linear(ax.zeros([0, 3]), w, b, 'relu');
    expect(empty.shape).toEqual([0, 4]);
    // no input features: the product is 0, the output act(bias)
    const noFeatures = ax.linear(ax.zeros([2, 0]), ax.zeros([4, 0]), b, 'relu');
    expectExact(noFeatures, [0.5, 0, 2, 0, 0.5, 0, 2, 0]);
    expectExact(ax.linear(ax.zeros([2, 0]), ax.zeros([4, 0])), new Array(8).fill(0));
  });

  it('defaults: no bias, no activation', () => {
    const x = uniform([4, 3], 1);
    const w = uniform([2, 3], 2);
    const { want, atol } = linearRef(x, w, null, (v) => v);
    expectClose(ax.linear(x, w), want, { rtol: 0, atol });
  });
});

// ---- layout --------------------------------------------------------------------------------------

/** Python slice semantics, written out independently: the indices a[start:stop:step] visits. */
function pySlice(n: number, start: number | null | undefined, stop: number | null | undefined, step = 1): number[] {
  const out: number[] = [];
  if (step > 0) {
    let s = start ?? 0;
    let e = stop ?? n;
    if (s < 0) s = Math.max(s + n, 0);
    if (e < 0) e = Math.max(e + n, 0);
    s = Math.min(s, n);
    e = Math.min(e, n);
    for (let i = s; i < e; i += step) out.push(i);
  } else {
    let s = start ?? n - 1;
    if (s < 0) s += n;
    s = Math.min(s, n - 1);
    let e: number;
    if (stop === null || stop === undefined) e = -1;
    else {
      e = stop < 0 ? stop + n : stop;
      if (e < -1) e = -1;
      e = Math.min(e, n - 1);
    }
    for (let i = s; i > e; i += step) out.push(i);
  }
  return out;
}

describe('layout ops', () => {
  it('pySlice reference matches known Python results', () => {
    expect(pySlice(10, null, null, -2)).toEqual([9, 7, 5, 3, 1]);
    expect(pySlice(10, -1, -11, -3)).toEqual([9, 6, 3, 0]);
    expect(pySlice(5, 1, 100)).toEqual([1, 2, 3, 4]);
    expect(pySlice(5, -100, 2)).toEqual([0, 1]);
    expect(pySlice(5, 3, 1)).toEqual([]);
    expect(pySlice(5, 10, null, -1)).toEqual([4, 3, 2, 1, 0]);
    expect(pySlice(5, 2, -1, -1)).toEqual([]);
  });

  it('reshape, including -1, shares memory', () => {
    const x = uniform([2, 3, 4], 1);
    const y = ax.reshape(x, [4, -1]);
    expect(y.shape).toEqual([4, 6]);
    expectExact(y, Array.from(x.data));
    expect(x.reshape(-1).shape).toEqual([24]);
    expect(x.reshape(2, -1, 2).shape).toEqual([2, 6, 2]);
    expect(x.view([3, 8]).shape).toEqual([3, 8]);
    expect(y.data.buffer).toBe(x.data.buffer);
    y.data[5] = 42;
    expect(x.data[5]).toBe(42);
    expect(ax.reshape(f32([7]), []).shape).toEqual([]);
    expect(ax.reshape(ax.zeros([0, 3]), [3, 0, 5]).shape).toEqual([3, 0, 5]);
  });

  it('flatten', () => {
    const x = uniform([2, 3, 4, 5], 1);
    expect(ax.flatten(x).shape).toEqual([120]);
    expect(x.flatten(1).shape).toEqual([2, 60]);
    expect(x.flatten(0, 1).shape).toEqual([6, 4, 5]);
    expect(x.flatten(-2, -1).shape).toEqual([2, 3, 20]);
    expect(x.flatten(1, 2).shape).toEqual([2, 12, 5]);
    expect(x.flatten(2, 2).shape).toEqual([2, 3, 4, 5]);
    expectExact(x.flatten(1), Array.from(x.data));
    expect(ax.flatten(f32([3], [])).shape).toEqual([1]);
  });

  it('squeeze / unsqueeze', () => {
    const x = uniform([1, 3, 1, 2], 1);
    expect(ax.squeeze(x).shape).toEqual([3, 2]);
    expect(x.squeeze(0).shape).toEqual([3, 1, 2]);
    expect(x.squeeze(1).shape).toEqual([1, 3, 1, 2]);
    expect(x.squeeze(-2).shape).toEqual([1, 3, 2]);
    expectExact(x.squeeze(), Array.from(x.data));
    const y = uniform([3, 2], 2);
    expect(ax.unsqueeze(y, 0).shape).toEqual([1, 3, 2]);
    expect(y.unsqueeze(1).shape).toEqual([3, 1, 2]);
    expect(y.unsqueeze(2).shape).toEqual([3, 2, 1]);
    expect(y.unsqueeze(-1).shape).toEqual([3, 2, 1]);
    expect(y.unsqueeze(-3).shape).toEqual([1, 3, 2]);
    expect(ax.unsqueeze(f32([1], []), 0).shape).toEqual([1]);
    expect(ax.squeeze(f32([1], [1, 1])).shape).toEqual([]);
  });

  it('transpose and permute against an index-mapping reference', () => {
    const x = uniform([2, 3, 4, 5], 1);
    const X = toRef(x);
    for (const perm of [
      [3, 1, 0, 2],
      [0, 1, 2, 3],
      [3, 2, 1, 0],
      [1, 0, 3, 2],
      [-1, 0, 1, 2],
    ]) {
      const p = perm.map((a) => (a < 0 ? a + 4 : a));
      expectExact(ax.permute(x, perm), permuteRef(X, p), `permute ${perm}`);
    }
    expectExact(x.permute(2, 0, 3, 1), permuteRef(X, [2, 0, 3, 1]), 'method varargs');
    expectExact(x.transpose(), permuteRef(X, [0, 1, 3, 2]), 'default transpose');
    expectExact(ax.transpose(x, 0, 2), permuteRef(X, [2, 1, 0, 3]), 'transpose 0 2');
    expectExact(x.transpose(-1, 1), permuteRef(X, [0, 3, 2, 1]), 'transpose -1 1');
    const m = uniform([17, 33], 2);
    expectExact(m.T, permuteRef(toRef(m), [1, 0]), '.T');
    const big = uniform([3, 127, 33], 3);
    // .T reverses every axis (PyTorch, NumPy); a vector stays as it is.
    expectExact(big.T, permuteRef(toRef(big), [2, 1, 0]), '.T of 3-D');
    const v = uniform([5], 4);
    expect(v.T.shape).toEqual([5]);
    expect(Array.from(v.T.data)).toEqual(Array.from(v.data));
    expectExact(ax.permute(big, [2, 0, 1]), permuteRef(toRef(big), [2, 0, 1]), 'awkward permute');
    const ints = ax.tensor([1, 2, 3, 4, 5, 6], { dtype: 'int32', shape: [2, 3] });
    const it = ints.T;
    expect(it.dtype).toBe('int32');
    expect(it.toArray()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    // transpose copies: writing the result does not touch the input
    const t = m.T;
    t.data[0] = 123;
    expect(m.data[0]).not.toBe(123);
  });

  it('index: integers, negatives, steps, negative steps, null', () => {
    const shape = [5, 7, 6];
    const x = new Tensor(
      Float32Array.from({ length: 210 }, (_, i) => i),
      shape,
    );
    const X = toRef(x);
    const st = stridesOf(shape);
    type Spec = ax.IndexSpec;
    const refIndex = (specs: Spec[]): Ref => {
      const lists: number[][] = [];
      const keep: boolean[] = [];
      shape.forEach((n, d) => {
        const s = specs[d];
        if (typeof s === 'number') {
          lists.push([s < 0 ? s + n : s]);
          keep.push(false);
        } else {
          const [a, b, c] = s ?? [];
          lists.push(pySlice(n, a, b, c ?? 1));
          keep.push(true);
        }
      });
      const full = lists.map((l) => l.length);
      const r = makeRef(full, (idx) => X.data[idx.reduce((o, v, d) => o + lists[d][v] * st[d], 0)]);
      return { data: r.data, shape: full.filter((_, d) => keep[d]) };
    };
    const cases: Spec[][] = [
      [1],
      [-1],
      [0, -1, 2],
      [null, 3],
      [[1, 4]],
      [[null, null, 2]],
      [[null, null, -1]],
      [[-1, -6, -2], null, [1, 5, 3]],
      [2, [6, 0, -2], [-2]],
      [null, [-100, 100, 3], -6],
      [[3, 1]],
      [
        [undefined, 2],
        [5, undefined, -2],
      ],
      [[0, 5, 7], 3, [null, null, -5]],
      [4, 6, 5],
      [],
    ];
    for (const specs of cases) {
      const label = `index ${JSON.stringify(specs)}`;
      expectExact(ax.index(x, specs), refIndex(specs), label);
      expectExact(x.index(...specs), refIndex(specs), `${label} (method)`);
    }
    // Random specs against the reference.
    const r = rng(99);
    const pick = (n: number): number | null => (r() < 0.2 ? null : Math.floor(r() * (2 * n + 5)) - n - 2);
    for (let t = 0; t < 200; t++) {
      const specs: Spec[] = shape.map((n) => {
        const u = r();
        if (u < 0.2) return Math.floor(r() * 2 * n) - n;
        if (u < 0.3) return null;
        const step = [1, 2, 3, -1, -2, -4][Math.floor(r() * 6)];
        return [pick(n), pick(n), step];
      });
      expectExact(ax.index(x, specs), refIndex(specs), `index ${JSON.stringify(specs)}`);
    }
  });

  it('index on int32 tensors', () => {
    const x = ax.tensor([0, 1, 2, 3, 4, 5, 6, 7], { dtype: 'int32' });
    const y = x.index([null, null, -3]);
    expect(y.dtype).toBe('int32');
    expect(y.toArray()).toEqual([7, 4, 1]);
  });

  it('slice and row are views sharing memory; clone is not', () => {
    const x = new Tensor(
      Float32Array.from({ length: 12 }, (_, i) => i),
      [4, 3],
    );
    const s = x.slice(1, 3);
    expect(s.shape).toEqual([2, 3]);
    expectExact(s, [3, 4, 5, 6, 7, 8]);
    s.data[0] = -1;
    expect(x.data[3]).toBe(-1);
    const r = x.row(-1);
    expect(r.shape).toEqual([3]);
    expectExact(r, [9, 10, 11]);
    r.data[2] = 100;
    expect(x.data[11]).toBe(100);
    expect(x.row(0).toArray()).toEqual([0, 1, 2]);
    expect(x.slice(-2).shape).toEqual([2, 3]);
    expectExact(x.slice(-2), [6, 7, 8, 9, 10, 100]);
    expect(x.slice(2, 100).shape).toEqual([2, 3]);
    expect(x.slice(3, 1).shape).toEqual([0, 3]);
    expect(x.slice(-100, 1).shape).toEqual([1, 3]);
    const c = x.clone();
    c.data[0] = 55;
    expect(x.data[0]).toBe(0);
    // a slice of a slice still views the original
    const ss = x.slice(1).slice(1, 2);
    ss.data[1] = 77;
    expect(x.data[7]).toBe(77);
  });

  it('expand', () => {
    const cases: [number[], number[]][] = [
      [
        [3, 1],
        [2, 3, 4],
      ],
      [[1], [5]],
      [[], [2, 2]],
      [
        [1, 4],
        [3, 4],
      ],
      [
        [2, 1, 3],
        [2, 5, 3],
      ],
      [[17], [33, 17]],
      [
        [1, 1],
        [0, 3],
      ],
    ];
    for (const [from, to] of cases) {
      const x = uniform(from, numelOf(from) + 5);
      expectExact(ax.expand(x, to), expandRef(toRef(x), to), `expand [${from}] -> [${to}]`);
    }
    expectExact(uniform([3, 1], 1).expand(3, 2), expandRef(toRef(uniform([3, 1], 1)), [3, 2]), 'method');
  });

  it('concat along several axes, including int32 and empty pieces', () => {
    const concatRef = (parts: Ref[], axis: number): Ref => {
      const sizes = parts.map((p) => p.shape[axis]);
      const shape = [...parts[0].shape];
      shape[axis] = sizes.reduce((a, b) => a + b, 0);
      return makeRef(shape, (idx) => {
        let k = idx[axis];
        let p = 0;
        while (k >= sizes[p]) k -= sizes[p++];
        const local = [...idx];
        local[axis] = k;
        return parts[p].data[local.reduce((o, v, d) => o * parts[p].shape[d] + v, 0)];
      });
    };
    const base = [3, 4, 5];
    for (const axis of [0, 1, 2, -1, -2]) {
      const a = axis < 0 ? axis + 3 : axis;
      const parts = [2, 1, 3, 0].map((ext, i) => {
        const s = [...base];
        s[a] = ext;
        return uniform(s, 10 * i + a);
      });
      expectExact(ax.concat(parts, axis), concatRef(parts.map(toRef), a), `concat axis ${axis}`);
    }
    const i1 = ax.tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'int32' },
    );
    const i2 = ax.tensor([[5, 6]], { dtype: 'int32' });
    const c = ax.concat([i1, i2]);
    expect(c.dtype).toBe('int32');
    expect(c.toArray()).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(ax.concat([i1, i1], 1).toArray()).toEqual([
      [1, 2, 1, 2],
      [3, 4, 3, 4],
    ]);
    // a single piece is a copy
    const one = uniform([4], 3);
    const cc = ax.concat([one]);
    expectExact(cc, Array.from(one.data));
    expect(cc.data).not.toBe(one.data);
  });

  it('stack along every new axis, including int32', () => {
    const parts = [0, 1, 2].map((i) => uniform([2, 3], i + 1));
    const P = parts.map(toRef);
    for (const axis of [0, 1, 2, -1, -3]) {
      const a = axis < 0 ? axis + 3 : axis;
      const shape = [2, 3];
      shape.splice(a, 0, 3);
      const want = makeRef(shape, (idx) => {
        const k = idx[a];
        const rest = idx.filter((_, d) => d !== a);
        return P[k].data[rest[0] * 3 + rest[1]];
      });
      expectExact(ax.stack(parts, axis), want, `stack axis ${axis}`);
    }
    const s = ax.stack([ax.tensor([1, 2], { dtype: 'int32' }), ax.tensor([3, 4], { dtype: 'int32' })], 1);
    expect(s.dtype).toBe('int32');
    expect(s.toArray()).toEqual([
      [1, 3],
      [2, 4],
    ]);
    const scalars = ax.stack([f32([1], []), f32([2], []), f32([3], [])]);
    expect(scalars.shape).toEqual([3]);
    expectExact(scalars, [1, 2, 3]);
  });
});
