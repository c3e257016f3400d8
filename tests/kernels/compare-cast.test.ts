/**
 * The comparisons (greater, greaterEqual, less, lessEqual, equal, notEqual: float32 1 / 0 with
 * broadcasting, IEEE NaN rules, no gradient), the int32 <-> float32 cast (nearest / truncation,
 * its run-time check on NaN and out-of-range values, also under a recorded program's replay),
 * and argmax / argmin with selectLast (ONNX select_last_index). References are computed here
 * in float64 JS; every result is exact. This suite runs once per SIMD level.
 */
import { describe, expect, it } from 'vitest';
import * as ax from '../../src/index.js';
import { Tensor, trace } from '../../src/index.js';
import { native } from '../../src/native/binding.js';
import { binaryRef, expectExact, f32, makeRef, numelOf, rng, stridesOf, toRef, type Ref } from './reference.js';

const SIZES = [1, 3, 17, 33, 127, 513, 1000];

type Compare = (a: Tensor | number, b: Tensor | number) => Tensor;
const COMPARISONS: { name: string; fn: Compare; method: keyof Tensor; ref: (a: number, b: number) => boolean }[] = [
  { name: 'greater', fn: ax.greater, method: 'greater', ref: (a, b) => a > b },
  { name: 'greaterEqual', fn: ax.greaterEqual, method: 'greaterEqual', ref: (a, b) => a >= b },
  { name: 'less', fn: ax.less, method: 'less', ref: (a, b) => a < b },
  { name: 'lessEqual', fn: ax.lessEqual, method: 'lessEqual', ref: (a, b) => a <= b },
  { name: 'equal', fn: ax.equal, method: 'equal', ref: (a, b) => a === b },
  { name: 'notEqual', fn: ax.notEqual, method: 'notEqual', ref: (a, b) => a !== b },
];
const as01 = (f: (a: number, b: number) => boolean) => (a: number, b: number) => (f(a, b) ? 1 : 0);

/** Small integers (many ties), with -0 for some zeros and NaN / +-Infinity sprinkled in. */
function awkward(shape: readonly number[], seed: number): Tensor {
  const r = rng(seed);
  const d = new Float32Array(numelOf(shape));
  for (let i = 0; i < d.length; i++) {
    const u = r();
    d[i] = u < 0.06 ? NaN : u < 0.08 ? Infinity : u < 0.1 ? -Infinity : Math.floor(r() * 5) - 2 || (r() < 0.5 ? -0 : 0);
  }
  return new Tensor(d, shape);
}

/** The result's data as raw bits: +1.0f and +0.0f exactly (no -0, no NaN). */
function expectMask(t: Tensor, want: Ref, label: string): void {
  expect(t.dtype, label).toBe('float32');
  expectExact(t, want, label);
  for (const v of t.data) if (v === 0) expect(Object.is(v, -0), `${label}: -0 in the result`).toBe(false);
}

describe('comparisons', () => {
  for (const n of SIZES) {
    it(`same shape [${n}], every op, functions and methods`, () => {
      const a = awkward([n], n);
      const b = awkward([n], n + 1000);
      // ties wherever i % 3 == 0
      for (let i = 0; i < n; i += 3) b.data[i] = a.data[i];
      const A = toRef(a);
      const B = toRef(b);
      for (const op of COMPARISONS) {
        const want = binaryRef(A, B, as01(op.ref));
        expectMask(op.fn(a, b), want, op.name);
        const m = (a[op.method] as unknown as (o: Tensor) => Tensor).call(a, b);
        expectMask(m, want, `${op.name} method`);
        expectMask(op.fn(b, a), binaryRef(B, A, as01(op.ref)), `${op.name} swapped`);
      }
    });
  }

  it('IEEE special cases: NaN compares false (notEqual true), -0 == +0, infinities', () => {
    const a = f32([NaN, 1, NaN, 0, -0, Infinity, -Infinity, Infinity, 3.5]);
    const b = f32([1, NaN, NaN, -0, 0, Infinity, Infinity, 3.4e38, 3.5]);
    expectExact(ax.greater(a, b), [0, 0, 0, 0, 0, 0, 0, 1, 0], 'greater');
    expectExact(ax.greaterEqual(a, b), [0, 0, 0, 1, 1, 1, 0, 1, 1], 'greaterEqual');
    expectExact(ax.less(a, b), [0, 0, 0, 0, 0, 0, 1, 0, 0], 'less');
    expectExact(ax.lessEqual(a, b), [0, 0, 0, 1, 1, 1, 1, 0, 1], 'lessEqual');
    expectExact(ax.equal(a, b), [0, 0, 0, 1, 1, 1, 0, 0, 1], 'equal');
    expectExact(ax.notEqual(a, b), [1, 1, 1, 0, 0, 0, 1, 1, 0], 'notEqual');
  });

  const PAIRS: [number[], number[]][] = [
    [
      [4, 1, 3],
      [5, 1],
    ],
    [[3], [2, 3]],
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
      [513, 1],
      [513, 3],
    ],
    [
      [2, 1, 3, 1],
      [1, 4, 1, 5],
    ],
    [
      [0, 3],
      [1, 3],
    ],
    [[3, 0, 2], [2]],
  ];
  for (const [sa, sb] of PAIRS) {
    it(`broadcasting [${sa}] (op) [${sb}], both orders`, () => {
      const a = awkward(sa, numelOf(sa) + 7);
      const b = awkward(sb, numelOf(sb) + 11);
      const A = toRef(a);
      const B = toRef(b);
      for (const op of COMPARISONS) {
        expectMask(op.fn(a, b), binaryRef(A, B, as01(op.ref)), `${op.name} [${sa}] [${sb}]`);
        expectMask(op.fn(b, a), binaryRef(B, A, as01(op.ref)), `${op.name} [${sb}] [${sa}]`);
      }
    });
  }

  it('numbers on either side, NaN and infinite numbers included', () => {
    const x = awkward([127], 3);
    const X = toRef(x);
    for (const op of COMPARISONS)
      for (const s of [0, -0, 1, -2, 0.5, NaN, Infinity, -Infinity]) {
        const sRef = makeRef([], () => s);
        expectMask(op.fn(x, s), binaryRef(X, sRef, as01(op.ref)), `${op.name}(x, ${s})`);
        expectMask(op.fn(s, x), binaryRef(sRef, X, as01(op.ref)), `${op.name}(${s}, x)`);
      }
    // equal to NaN is all 0, notEqual all 1, whatever x holds
    expect(Array.from(ax.equal(x, NaN).data).every((v) => v === 0)).toBe(true);
    expect(Array.from(ax.notEqual(NaN, x).data).every((v) => v === 1)).toBe(true);
    // a number is rounded to float32 first, as the tensor's elements are
    expectExact(ax.equal(f32([0.1]), 0.1), [1], 'equal(0.1f, 0.1)');
  });

  it('results do not require grad; a mask still passes gradients through mul', () => {
    const x = f32([-2, -0.5, 0, 0.5, 3]).setRequiresGrad();
    for (const op of COMPARISONS) {
      const y = op.fn(x, 0);
      expect(y.requiresGrad, op.name).toBe(false);
      expect(y.gradFn, op.name).toBe(null);
    }
    // relu written with a mask: d/dx sum(x * (x > 0)) = (x > 0)
    ax.sum(ax.mul(x, ax.greater(x, 0))).backward();
    expectExact(x.grad!, [0, 0, 0, 1, 1], 'grad through the mask');
  });

  it('argument errors name the op', () => {
    const i = new Tensor(new Int32Array([1, 2]), [2]);
    expect(() => ax.greater(i, 1)).toThrow(/greater: first operand must be float32/);
    expect(() => ax.less(1, i)).toThrow(/less: second operand must be float32/);
    expect(() => ax.equal(1 as unknown as Tensor, 2)).toThrow(TypeError);
    expect(() => ax.notEqual(f32([1, 2]), f32([1, 2, 3]))).toThrow(/notEqual/);
  });
});

describe('cast', () => {
  it('int32 -> float32: exact below 2^24, nearest-even above', () => {
    const vals = [0, 1, -1, 16777215, 16777216, 16777217, 16777218, 16777219, -16777217, 2147483647, -2147483648];
    const want = [0, 1, -1, 16777215, 16777216, 16777216, 16777218, 16777220, -16777216, 2147483648, -2147483648];
    const x = new Tensor(Int32Array.from(vals), [vals.length]);
    const y = ax.cast(x, 'float32');
    expect(y.dtype).toBe('float32');
    expectExact(y, want, 'cast to float32');
    expect(Array.from(want, (v) => Math.fround(v))).toEqual(want);
  });

  it('int32 -> float32 on awkward sizes and shapes', () => {
    for (const n of SIZES) {
      const r = rng(n);
      const d = Int32Array.from({ length: n }, () => Math.floor((r() - 0.5) * 2 ** (1 + Math.floor(r() * 32))));
      const shape = n % 2 ? [n] : [n / 2, 2];
      const y = new Tensor(d, shape).cast('float32');
      expect(y.shape).toEqual(shape);
      expectExact(
        y,
        Array.from(d, (v) => Math.fround(v)),
        `n=${n}`,
      );
    }
  });

  it('float32 -> int32 truncates toward zero (ONNX Cast, C)', () => {
    const vals = [0, -0, 0.5, -0.5, 0.9999999, -0.9999999, 1.5, -1.5, 2.5, -2.5, -7.99, 1e-30, 16777217, 123456.789];
    const x = f32(vals);
    const y = ax.cast(x, 'int32');
    expect(y.dtype).toBe('int32');
    expect(Array.from(y.data)).toEqual(Array.from(x.data, (v) => Math.trunc(v) + 0));
    // the int32 limits: the largest float below 2^31, and -2^31 itself
    expect(Array.from(ax.cast(f32([2147483520, -2147483648]), 'int32').data)).toEqual([2147483520, -2147483648]);
    for (const n of SIZES) {
      const r = rng(n + 5);
      const d = Float32Array.from({ length: n }, () => (r() - 0.5) * 2 ** (1 + Math.floor(r() * 31)));
      const t = new Tensor(d, [n]);
      expect(Array.from(t.cast('int32').data), `n=${n}`).toEqual(Array.from(d, (v) => Math.trunc(v) + 0));
    }
  });

  it('float32 -> int32: NaN or a value outside int32 is a RangeError naming the op and element', () => {
    expect(() => ax.cast(f32([1, 2, 3, NaN]), 'int32')).toThrow(
      new RangeError('castFloat32ToInt32: element 3 is NaN, which has no int32 value'),
    );
    expect(() => ax.cast(f32([2147483648]), 'int32')).toThrow(
      /castFloat32ToInt32: element 0 = 2.14748365e\+09 is outside the int32 range \[-2147483648, 2147483647\]/,
    );
    expect(() => ax.cast(f32([0, -2147483904]), 'int32')).toThrow(/element 1 = -2.1474839e\+09 is outside/);
    expect(() => ax.cast(f32([Infinity]), 'int32')).toThrow(/element 0 = inf is outside/);
    expect(() => ax.cast(f32([0, 0, -Infinity]), 'int32')).toThrow(/element 2 = -inf is outside/);
    // deep in a long tensor
    const long = new Float32Array(1000);
    long[999] = 3e9;
    expect(() => ax.cast(new Tensor(long, [10, 100]), 'int32')).toThrow(/element 999 = 3e\+09/);
  });

  it('to its own dtype returns x itself; no gradient across dtypes', () => {
    const x = f32([1.5, -2]).setRequiresGrad();
    expect(ax.cast(x, 'float32')).toBe(x);
    const i = new Tensor(new Int32Array([3]), [1]);
    expect(i.cast('int32')).toBe(i);
    const y = ax.cast(x, 'int32');
    expect(y.requiresGrad).toBe(false);
    expect(ax.cast(y, 'float32').requiresGrad).toBe(false);
    expect(() => ax.cast(x, 'float64' as 'float32')).toThrow(
      new TypeError(`cast: dtype must be 'float32' or 'int32', got "float64"`),
    );
    expect(() => ax.cast([1] as unknown as Tensor, 'int32')).toThrow(TypeError);
  });

  it('a recorded program checks the data on every replay (native Program)', () => {
    const x = new Float32Array([1.5, -2.5, 7]);
    const y = new Int32Array(3);
    const program = new native.Program(new Float64Array(4));
    program.record('castFloat32ToInt32', [x, y], true);
    expect(Array.from(y)).toEqual([1, -2, 7]);
    x[1] = 40.9;
    expect(program.run(1)).toBe(1);
    expect(Array.from(y)).toEqual([1, 40, 7]);
    x[2] = NaN;
    expect(() => program.run(1)).toThrow(
      new RangeError('castFloat32ToInt32: element 2 is NaN, which has no int32 value'),
    );
    x[2] = -5e9;
    expect(() => program.run(1)).toThrow(/castFloat32ToInt32: element 2 = -5e\+09 is outside the int32 range/);
    x[2] = -3.5;
    expect(program.run(1)).toBe(1);
    expect(Array.from(y)).toEqual([1, 40, -3]);
  });

  it('a traced cast replays on new data, and refuses NaN when replayed', () => {
    const x = f32([0.5, 2.5, -9.75, 100]);
    const { program, value } = trace(() => ax.cast(ax.mul(x, 2), 'int32').cast('float32'), { execute: true });
    expectExact(value, [1, 5, -19, 200], 'traced');
    x.data.set([1.25, -1.25, 3e8, 0]);
    program.run(1);
    expectExact(value, [2, -2, 6e8, 0], 'replayed');
    x.data[3] = NaN;
    expect(() => program.run(1)).toThrow(/castFloat32ToInt32: element 3 is NaN/);
    x.data[3] = 1.2e9; // 2.4e9 after the mul: outside int32
    expect(() => program.run(1)).toThrow(/castFloat32ToInt32: element 3 = 2.4e\+09 is outside/);
  });
});

describe('argmax / argmin with selectLast', () => {
  const argRef = (x: Ref, axis: number, isMax: boolean, last: boolean, keep: boolean): Ref => {
    // The ONNX reference: the first index of the reversed axis, mapped back.
    const st = stridesOf(x.shape);
    const r = x.shape[axis];
    const outShapeKeep = x.shape.map((d, i) => (i === axis ? 1 : d));
    const out = makeRef(outShapeKeep, (idx) => {
      const base = idx.reduce((s, v, d) => s + v * st[d], 0);
      const at = (k: number): number => x.data[base + (last ? r - 1 - k : k) * st[axis]];
      let best = 0;
      for (let k = 1; k < r; k++) {
        const b = at(best);
        const v = at(k);
        if (Number.isNaN(b)) break;
        if (Number.isNaN(v) || (isMax ? v > b : v < b)) best = k;
      }
      return last ? r - 1 - best : best;
    });
    return keep ? out : { data: out.data, shape: x.shape.filter((_, i) => i !== axis) };
  };

  it('every axis of a 3-D tensor with ties (and a few NaN), keepDims, both flags', () => {
    const r = rng(9);
    const shape = [5, 17, 33];
    const x = new Tensor(
      Float32Array.from({ length: numelOf(shape) }, () => (r() < 0.01 ? NaN : Math.floor(r() * 4))),
      shape,
    );
    const X = toRef(x);
    for (const a of [0, 1, 2, -1])
      for (const keep of [false, true])
        for (const last of [false, true]) {
          const axis = a < 0 ? a + 3 : a;
          const label = `axis ${a} keep ${keep} last ${last}`;
          const am = ax.argmax(x, a, keep, last);
          expect(am.dtype).toBe('int32');
          expectExact(am, argRef(X, axis, true, last, keep), `argmax ${label}`);
          expectExact(x.argmin(a, keep, last), argRef(X, axis, false, last, keep), `argmin ${label}`);
        }
  });

  it('flattened, hand-checked ties and NaN', () => {
    expect(ax.argmax(f32([1, 3, 3, 2]), undefined, false, true).item()).toBe(2);
    expect(ax.argmax(f32([1, 3, 3, 2])).item()).toBe(1); // default unchanged: the first
    expect(ax.argmin(f32([2, 0, 5, 0]), undefined, false, true).item()).toBe(3);
    expect(ax.argmin(f32([0, -0, 0]), undefined, false, true).item()).toBe(2); // -0 == +0
    expect(ax.argmax(f32([-Infinity, -Infinity]), undefined, false, true).item()).toBe(1);
    expect(ax.argmax(f32([1, NaN, 3, NaN, 0]), undefined, false, true).item()).toBe(3); // the last NaN
    expect(ax.argmin(f32([1, NaN, 3, NaN, 0]), undefined, false, true).item()).toBe(3);
    expect(ax.argmax(f32([1, NaN, 3, NaN, 0])).item()).toBe(1);
    const long = new Float32Array(1000);
    long[3] = 5;
    long[517] = 5;
    expect(ax.argmax(new Tensor(long, [10, 100]), undefined, true, true).shape).toEqual([1, 1]);
    expect(ax.argmax(new Tensor(long, [10, 100]), undefined, false, true).item()).toBe(517);
    expect(ax.argmin(new Tensor(long, [1000]), 0, false, true).item()).toBe(999);
    expectExact(ax.argmax(f32([2, 2, 1, 7, 7, 7], [2, 3]), 1, false, true), [1, 2]);
    expect(() => ax.argmax(f32([1]), 0, false, 1 as unknown as boolean)).toThrow(
      /argmax: selectLast must be a boolean/,
    );
  });
});
