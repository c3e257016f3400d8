/**
 * where(cond, x, y) (ONNX Where, torch.where) on the native `select` / `selectBackward` ops:
 * exact selection (the unselected operand's inf / NaN never leaks, values arrive bit for bit),
 * C truthiness of cond (NaN true, +-0 false), NumPy broadcasting of all three, numbers on
 * either side, int32 conditions, gradients routed (and summed back to each operand's shape)
 * without leaking the upstream gradient's NaN, and a recorded program replaying forward and
 * backward on new data. References are computed here in JS; every result is exact. The
 * float64-style gradient checks are in gradients.test.ts. This suite runs once per SIMD level.
 */
import { describe, expect, it } from 'vitest';
import * as ax from '../../src/index.js';
import { Tensor, trace } from '../../src/index.js';
import { native } from '../../src/native/binding.js';
import { expectExact, f32, makeRef, numelOf, rng, toRef, uniform, unravel, type Ref } from './reference.js';

const SIZES = [0, 1, 3, 7, 16, 17, 33, 127, 513, 1000, 70001];

/** The raw bits of a float32 tensor. */
const bits = (t: Tensor): number[] => Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.size));

/** C truthiness, as the kernel: non-zero is true, NaN included. */
const truthy = (c: number): boolean => c !== 0 || Number.isNaN(c);

/** Conditions of every kind: +-0, 1/0 masks, NaN, +-inf, subnormals, other non-zeros. */
function conditions(n: number, seed: number): Tensor {
  const r = rng(seed);
  const kinds = [0, -0, 1, NaN, Infinity, -Infinity, 1.4e-45, -1.4e-45, -1, 0.5, 1e30];
  return new Tensor(
    Float32Array.from({ length: n }, () => (r() < 0.5 ? (r() < 0.5 ? 1 : 0) : kinds[Math.floor(r() * kinds.length)])),
    [n],
  );
}

/** Ordinary values with inf, -inf, NaNs with payloads (via their bits), -0 and extremes mixed in. */
function operand(n: number, seed: number): Tensor {
  const r = rng(seed);
  const t = new Tensor(new Float32Array(n), [n]);
  const u = new Uint32Array(t.data.buffer, t.data.byteOffset, n);
  const specials = [0x7f800000, 0xff800000, 0x7fc00000, 0x7fc01234, 0xffc00abc, 0x80000000, 0x00000001, 0xff7fffff];
  for (let i = 0; i < n; i++) {
    if (r() < 0.3) u[i] = specials[Math.floor(r() * specials.length)];
    else t.data[i] = (r() - 0.5) * 200;
  }
  return t;
}

/** where's reference over a broadcast shape: ordinary JS values (NaN compared as NaN). */
function whereRef(c: Ref, x: Ref, y: Ref): Ref {
  const at = (a: Ref, idx: number[]): number => {
    const off = idx.length - a.shape.length;
    let flat = 0;
    for (let d = 0; d < a.shape.length; d++) flat = flat * a.shape[d] + (a.shape[d] === 1 ? 0 : idx[d + off]);
    return a.data[flat];
  };
  const rank = Math.max(c.shape.length, x.shape.length, y.shape.length);
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) {
    const dims = [c, x, y].map((a) => (i < rank - a.shape.length ? 1 : a.shape[i - (rank - a.shape.length)]));
    shape.push(dims.find((d) => d !== 1) ?? 1);
  }
  return makeRef(shape, (idx) => (truthy(at(c, idx)) ? at(x, idx) : at(y, idx)));
}

const scalarRef = (v: number): Ref => ({ data: Float64Array.of(Math.fround(v)), shape: [] });

describe('where: exact selection', () => {
  for (const n of SIZES) {
    it(`same shape [${n}]: every element bit for bit from the operand cond selects`, () => {
      const c = conditions(n, n + 1);
      const x = operand(n, n + 2);
      const y = operand(n, n + 3);
      const out = ax.where(c, x, y);
      expect(out.shape).toEqual([n]);
      expect(out.dtype).toBe('float32');
      const cb = Array.from(c.data);
      const xb = bits(x);
      const yb = bits(y);
      const want = cb.map((v, i) => (truthy(v) ? xb[i] : yb[i]));
      expect(bits(out)).toEqual(want);
      // the method form: x.where(cond, y)
      expect(bits(x.where(c, y))).toEqual(want);
    });
  }

  it('hand-checked: the unselected inf / NaN stays out; NaN and -inf conditions are true, -0 false', () => {
    const c = f32([1, 0, 1, 0, -0, NaN, -Infinity, 0, 1e-45, -2]);
    const x = f32([2, NaN, 5, -Infinity, 9, 6, 1.5, Infinity, -0, 0.25]);
    const y = f32([Infinity, -3, NaN, 4, 8, 7, -Infinity, -Infinity, 1, NaN]);
    const out = ax.where(c, x, y);
    expectExact(out, [2, -3, 5, 4, 8, 6, 1.5, -Infinity, -0, 0.25], 'where');
    // What the arithmetic blend x * c + y * (1 - c) would give instead: NaN wherever an
    // unselected operand is inf or NaN.
    const blend = ax.add(ax.mul(x, ax.greater(c, 0)), ax.mul(y, ax.sub(1, ax.greater(c, 0))));
    expect(Number.isNaN(blend.data[0])).toBe(true);
  });

  it('a masked softmax: where(mask, scores, -Infinity) gives exact zeros where masked', () => {
    const scores = f32([1, 2, 3, 4, 5, 6], [2, 3]);
    const mask = ax.greater(f32([1, 0, 1], [3]), 0); // broadcast over the rows
    const p = ax.softmax(ax.where(mask, scores, -Infinity), -1);
    const e = (a: number, b: number): number => Math.exp(a) / (Math.exp(a) + Math.exp(b));
    const got = Array.from(p.data);
    expect(got[1]).toBe(0);
    expect(got[4]).toBe(0);
    expect(got[0]).toBeCloseTo(e(1, 3), 6);
    expect(got[5]).toBeCloseTo(e(6, 4), 6);
  });

  it('an int32 condition is cast (any non-zero is true)', () => {
    const c = new Tensor(Int32Array.from([0, 1, -7, 0, 2147483647, -2147483648]), [6]);
    const out = ax.where(c, f32([1, 2, 3, 4, 5, 6]), f32([-1, -2, -3, -4, -5, -6]));
    expectExact(out, [-1, 2, 3, -4, 5, 6], 'int32 cond');
  });

  it('out of the comparisons: where(x > 0, x, 0) is relu', () => {
    const x = uniform([5, 33], 4, -2, 2);
    expectExact(ax.where(ax.greater(x, 0), x, 0), toRef(ax.relu(x)), 'where(x > 0, x, 0)');
  });
});

describe('where: broadcasting and numbers', () => {
  const SHAPES: number[][][] = [
    [[2, 1, 3], [4, 1], [3]],
    [[], [2, 3], [1]],
    [[5], [2, 5], []],
    [
      [2, 3],
      [2, 3],
      [2, 3],
    ],
    [[1], [1], [4, 1, 2]],
    [
      [3, 1, 1],
      [1, 4, 1],
      [1, 1, 5],
    ],
    [
      [2, 1, 17],
      [2, 33, 1],
      [33, 17],
    ],
    [[0, 3], [1, 3], [3]],
  ];
  for (const [sc, sx, sy] of SHAPES) {
    it(`cond [${sc}], x [${sx}], y [${sy}]`, () => {
      const c = conditions(numelOf(sc), 7).reshape(sc);
      const x = operand(numelOf(sx), 8).reshape(sx);
      const y = operand(numelOf(sy), 9).reshape(sy);
      const want = whereRef(toRef(c), toRef(x), toRef(y));
      expectExact(ax.where(c, x, y), want, 'where');
      // every permutation of the roles of x and y (cond swapped for its negation)
      const notC = ax.equal(c, 0);
      expectExact(ax.where(notC, y, x), want, 'where(!cond, y, x)');
    });
  }

  it('numbers for x, y or both, rounded to float32; inf and NaN numbers', () => {
    const c = conditions(37, 3).reshape([37, 1]);
    const x = operand(37 * 3, 4).reshape([37, 3]);
    const C = toRef(c);
    const X = toRef(x);
    for (const s of [0.1, -Infinity, Infinity, NaN, 1e40, -0]) {
      expectExact(ax.where(c, x, s), whereRef(C, X, scalarRef(s)), `where(c, x, ${s})`);
      expectExact(ax.where(c, s, x), whereRef(C, scalarRef(s), X), `where(c, ${s}, x)`);
    }
    const both = ax.where(c, 1, -Infinity);
    expectExact(both, whereRef(C, scalarRef(1), scalarRef(-Infinity)), 'where(c, 1, -inf)');
    expect(both.shape).toEqual([37, 1]);
    expect(both.requiresGrad).toBe(false);
    // a 0-d condition selects whole operands
    expectExact(ax.where(f32([1], []), x, 5), toRef(x), '0-d true');
    expectExact(ax.where(f32([0], []), x, 5), new Array<number>(x.size).fill(5), '0-d false');
  });

  it('argument errors name the op', () => {
    const x = f32([1, 2, 3]);
    expect(() => ax.where([1] as unknown as Tensor, x, x)).toThrow(
      new TypeError('where: cond must be a Tensor, got object'),
    );
    expect(() => ax.where(x, 'a' as unknown as number, x)).toThrow(
      new TypeError('where: x must be a Tensor or a number, got string'),
    );
    expect(() => ax.where(x, x, null as unknown as number)).toThrow(
      new TypeError('where: y must be a Tensor or a number, got null'),
    );
    expect(() => ax.where(x, new Tensor(Int32Array.from([1, 2, 3]), [3]), x)).toThrow(/where: x must be float32/);
    expect(() => ax.where(x, f32([1, 2]), x)).toThrow(RangeError);
    expect(() => ax.where(f32([1, 0], [2, 1]), f32([1, 2, 3, 4], [4]), x)).toThrow(RangeError);
  });
});

describe('where: gradients', () => {
  it('dx = g where cond, dy = g elsewhere; a NaN / inf in g reaches only its own side', () => {
    const n = 1000;
    const c = conditions(n, 21);
    const x = uniform([n], 22).setRequiresGrad();
    const y = uniform([n], 23).setRequiresGrad();
    const up = operand(n, 24); // upstream gradient with inf / NaN in it
    ax.where(c, x, y).mul(up).sum().backward();
    const dx = Array.from(x.grad!.data);
    const dy = Array.from(y.grad!.data);
    for (let i = 0; i < n; i++) {
      const g = up.data[i];
      const t = truthy(c.data[i]);
      // into fresh zeros: 0 + g (so a -0 gradient arrives as +0)
      expect(Object.is(dx[i], t ? 0 + g : 0), `dx[${i}]`).toBe(true);
      expect(Object.is(dy[i], t ? 0 : 0 + g), `dy[${i}]`).toBe(true);
    }
  });

  it('broadcast operands: gradients summed back to their own shapes; numbers and cond get none', () => {
    const c = conditions(4 * 3, 31).reshape([4, 1, 3]);
    const x = uniform([2, 1], 32).setRequiresGrad();
    const y = uniform([3], 33).setRequiresGrad();
    const w = uniform([4, 2, 3], 34);
    ax.where(c, x, y).mul(w).sum().backward();
    expect(x.grad!.shape).toEqual([2, 1]);
    expect(y.grad!.shape).toEqual([3]);
    const wantX = [0, 0];
    const wantY = [0, 0, 0];
    for (let i = 0; i < w.size; i++) {
      const [a, b, k] = unravel(i, [4, 2, 3]);
      if (truthy(c.data[a * 3 + k])) wantX[b] += w.data[i];
      else wantY[k] += w.data[i];
    }
    wantX.forEach((v, i) => expect(x.grad!.data[i], `dx[${i}]`).toBeCloseTo(v, 5));
    wantY.forEach((v, i) => expect(y.grad!.data[i], `dy[${i}]`).toBeCloseTo(v, 5));

    const z = uniform([4, 2, 3], 35).setRequiresGrad();
    const cg = ax.greater(uniform([4, 2, 3], 36), 0).setRequiresGrad();
    ax.where(cg, z, -Infinity).sum().backward();
    expect(Array.from(z.grad!.data)).toEqual(Array.from(cg.data));
    expect(cg.grad).toBeNull();
    expect(ax.where(cg, 1, 2).requiresGrad).toBe(false);
  });
});

describe('where: recorded programs', () => {
  it('the native ops replay on new data, out aliasing x or y', () => {
    const c = new Float32Array([1, 0, NaN, -0, 2]);
    const x = new Float32Array([1, 2, 3, 4, 5]);
    const y = new Float32Array([-1, -2, -3, -4, -5]);
    const out = new Float32Array(5);
    const program = new native.Program(new Float64Array(4));
    program.record('select', [c, x, y, out], true);
    expect(Array.from(out)).toEqual([1, -2, 3, -4, 5]);
    c.set([0, 1, 0, 1, 0]);
    x[1] = Infinity;
    y[0] = NaN;
    expect(program.run(1)).toBe(1);
    expect(Array.from(out)).toEqual([NaN, Infinity, -3, 4, -5]);
    native.select(c, x, y, x); // in place over x
    expect(Array.from(x)).toEqual([NaN, Infinity, -3, 4, -5]);
    expect(() => native.select(c, x, y, c)).toThrow(RangeError); // out over cond: refused
    expect(() => native.select(c, x, y.subarray(1), out)).toThrow(RangeError);
  });

  it('a traced forward and backward replay on new data (gradients recomputed, not accumulated)', () => {
    const x = uniform([4, 3], 41).setRequiresGrad();
    const y = uniform([3], 42).setRequiresGrad();
    const src = uniform([4, 3], 43);
    const w = uniform([4, 3], 44);
    const { program, value } = trace(
      () => {
        const out = ax.where(ax.greater(src, 0), x, y);
        out.mul(w).sum().backward();
        return out;
      },
      { execute: true },
    );
    const check = (label: string): void => {
      const want = whereRef(toRef(ax.greater(src, 0)), toRef(x), toRef(y));
      expectExact(value, want, `${label}: forward`);
      const dx = Array.from(w.data, (v, i) => (src.data[i] > 0 ? v : 0));
      const dy = [0, 0, 0];
      w.data.forEach((v, i) => {
        if (!(src.data[i] > 0)) dy[i % 3] += v;
      });
      expectExact(x.grad!, dx, `${label}: dx`);
      for (let k = 0; k < 3; k++) expect(y.grad!.data[k], `${label}: dy[${k}]`).toBeCloseTo(dy[k], 5);
    };
    check('traced');
    src.data.set(uniform([4, 3], 45).data);
    x.data.set(uniform([4, 3], 46).data);
    y.data[1] = Infinity; // only reaches the result where y is selected
    w.data.set(uniform([4, 3], 47).data);
    expect(program.run(1)).toBe(1);
    check('replayed');
    expect(program.run(1)).toBe(1);
    check('replayed twice');
  });
});
