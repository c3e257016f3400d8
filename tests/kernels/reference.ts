/**
 * Independent float64 reference implementations for the kernel tests. Nothing here calls the
 * library's ops: inputs are read out of tensors as float64 and every expected value is
 * computed with plain JS arithmetic and Math.*, so a test compares the native float32 result
 * with a value that cannot share its bugs.
 */
import { expect } from 'vitest';
import { Tensor } from '../../src/index.js';

/** A float64 N-D array in row-major order. */
export interface Ref {
  data: Float64Array;
  shape: number[];
}

export function numelOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let k = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = k;
    k *= shape[i];
  }
  return s;
}

/** Multi-index of flat position i. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

export function toRef(t: Tensor): Ref {
  return { data: Float64Array.from(t.data), shape: [...t.shape] };
}

export function makeRef(shape: readonly number[], f: (idx: number[], flat: number) => number): Ref {
  const n = numelOf(shape);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = f(unravel(i, shape), i);
  return { data, shape: [...shape] };
}

/** mulberry32: a tiny PRNG independent of the library's generator. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A float32 tensor of uniform values in [lo, hi), from the test's own PRNG. */
export function uniform(shape: readonly number[], seed: number, lo = -1, hi = 1): Tensor {
  const r = rng(seed);
  const d = new Float32Array(numelOf(shape));
  for (let i = 0; i < d.length; i++) d[i] = lo + (hi - lo) * r();
  return new Tensor(d, shape);
}

/** Values bounded away from zero: |v| in [lo, hi) with random signs. */
export function awayFromZero(shape: readonly number[], seed: number, lo = 0.2, hi = 2): Tensor {
  const r = rng(seed);
  const d = new Float32Array(numelOf(shape));
  for (let i = 0; i < d.length; i++) d[i] = (r() < 0.5 ? -1 : 1) * (lo + (hi - lo) * r());
  return new Tensor(d, shape);
}

/** A float32 tensor holding exactly the given values (rounded once to float32). */
export function f32(values: readonly number[], shape: readonly number[] = [values.length]): Tensor {
  return new Tensor(Float32Array.from(values), shape);
}

export function mapRef(a: Ref, f: (x: number) => number): Ref {
  return { data: a.data.map((v) => f(v)), shape: [...a.shape] };
}

/**
 * Per-element absolute tolerance for rounding the *input* of f by `ulps` float32 ulps:
 * ulps * 2^-24 * |x f'(x)| (f' by a float64 central difference). A float32 kernel that rounds
 * an intermediate such as gelu-tanh's u(x) once cannot do better than this where f is
 * ill-conditioned (far tails), and elsewhere the term is negligible.
 */
export function conditionAtol(x: Ref, f: (v: number) => number, ulps = 4): Float64Array {
  return x.data.map((v) => {
    if (v === 0 || !Number.isFinite(v)) return 0;
    const h = 1e-6;
    const d = (f(v * (1 + h)) - f(v * (1 - h))) / (2 * h); // ~ x f'(x)
    return ulps * 2 ** -24 * Math.abs(d) + 1e-30;
  });
}

/** NumPy broadcasting of two shapes (written independently of src/tensor/shape.ts). */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da !== db && da !== 1 && db !== 1) throw new Error(`reference: cannot broadcast [${a}] and [${b}]`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Element of `a` at a multi-index of the broadcast output shape. */
function atBroadcast(a: Ref, idx: number[]): number {
  const off = idx.length - a.shape.length;
  let flat = 0;
  for (let d = 0; d < a.shape.length; d++) flat = flat * a.shape[d] + (a.shape[d] === 1 ? 0 : idx[d + off]);
  return a.data[flat];
}

export function binaryRef(a: Ref, b: Ref, f: (x: number, y: number) => number): Ref {
  const shape = broadcastShape(a.shape, b.shape);
  return makeRef(shape, (idx) => f(atBroadcast(a, idx), atBroadcast(b, idx)));
}

export function expandRef(a: Ref, shape: readonly number[]): Ref {
  return makeRef(shape, (idx) => atBroadcast(a, idx));
}

/** Reduces over `axes` (non-negative) with `f` over the collected values. */
export function reduceRef(a: Ref, axes: readonly number[], keepDims: boolean, f: (vals: number[]) => number): Ref {
  const outShapeKeep = a.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const groups: number[][] = Array.from({ length: numelOf(outShapeKeep) }, () => []);
  for (let i = 0; i < a.data.length; i++) {
    const idx = unravel(i, a.shape);
    let flat = 0;
    for (let d = 0; d < a.shape.length; d++) flat = flat * outShapeKeep[d] + (axes.includes(d) ? 0 : idx[d]);
    groups[flat].push(a.data[i]);
  }
  const shape = keepDims ? outShapeKeep : a.shape.filter((_, i) => !axes.includes(i));
  return { data: Float64Array.from(groups.map(f)), shape };
}

export const sumOf = (v: number[]): number => v.reduce((s, x) => s + x, 0);
export const meanOf = (v: number[]): number => sumOf(v) / v.length;
export const maxOf = (v: number[]): number => v.reduce((m, x) => (Number.isNaN(m) || x > m || Number.isNaN(x) ? x : m));
export const minOf = (v: number[]): number => v.reduce((m, x) => (Number.isNaN(m) || x < m || Number.isNaN(x) ? x : m));

export function permuteRef(a: Ref, perm: readonly number[]): Ref {
  const shape = perm.map((p) => a.shape[p]);
  const st = stridesOf(a.shape);
  return makeRef(shape, (idx) => {
    let flat = 0;
    for (let d = 0; d < perm.length; d++) flat += idx[d] * st[perm[d]];
    return a.data[flat];
  });
}

/**
 * 2-D (or batched, broadcasting) product in float64. Also returns `scale`: sum_k |a_ik b_kj|
 * per output element, the natural magnitude for a rounding-error bound.
 */
export function matmulRef(a: Ref, b: Ref): { out: Ref; scale: Float64Array } {
  const m = a.shape[a.shape.length - 2];
  const k = a.shape[a.shape.length - 1];
  const n = b.shape[b.shape.length - 1];
  if (b.shape[b.shape.length - 2] !== k) throw new Error('reference matmul: inner dims');
  const batch = broadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const aE = expandRef(a, [...batch, m, k]);
  const bE = expandRef(b, [...batch, k, n]);
  const nb = numelOf(batch);
  const out = new Float64Array(nb * m * n);
  const scale = new Float64Array(nb * m * n);
  for (let p = 0; p < nb; p++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        let sa = 0;
        for (let q = 0; q < k; q++) {
          const v = aE.data[p * m * k + i * k + q] * bE.data[p * k * n + q * n + j];
          s += v;
          sa += Math.abs(v);
        }
        out[p * m * n + i * n + j] = s;
        scale[p * m * n + i * n + j] = sa;
      }
  return { out: { data: out, shape: [...batch, m, n] }, scale };
}

// ---- special functions ---------------------------------------------------------------------

/** erf by its Maclaurin series (|z| < 2.5: at most ~2 digits of cancellation). */
function erfSeries(z: number): number {
  let term = z;
  let sum = z;
  const z2 = z * z;
  for (let n = 1; n < 200; n++) {
    term *= -z2 / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** erfc(z) for z >= 2.5 by its continued fraction, evaluated bottom-up. */
function erfcContinuedFraction(z: number): number {
  // erfc z = e^{-z^2}/sqrt(pi) * 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + ...))))
  let f = z;
  for (let n = 120; n >= 1; n--) f = z + n / 2 / f;
  return Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
}

export function erfc(z: number): number {
  if (Number.isNaN(z)) return NaN;
  if (z < 0) return 2 - erfc(-z);
  if (z < 2.5) return 1 - erfSeries(z);
  return erfcContinuedFraction(z);
}

export function erf(z: number): number {
  if (Math.abs(z) < 2.5) return erfSeries(z);
  return z > 0 ? 1 - erfc(z) : erfc(-z) - 1;
}

/** Standard normal CDF without cancellation in either tail. */
export const normalCdf = (x: number): number => 0.5 * erfc(-x / Math.SQRT2);

export const sigmoidRef = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
export const SELU_ALPHA = 1.6732632423543772;
export const SELU_SCALE = 1.0507009873554805;
export const geluErfRef = (x: number): number => x * normalCdf(x);
/** 0.5 x (1 + tanh u) written as x sigmoid(2u), which is the same function without cancellation. */
export const geluTanhRef = (x: number): number =>
  x * sigmoidRef(2 * Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x));
export const softplusRef = (x: number, beta = 1): number =>
  beta * x > 20 ? x : (Math.max(beta * x, 0) + Math.log1p(Math.exp(-Math.abs(beta * x)))) / beta;
export const eluRef = (x: number, alpha = 1): number => (x > 0 ? x : alpha * Math.expm1(x));
export const seluRef = (x: number): number => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x));
export const siluRef = (x: number): number => x * sigmoidRef(x);
export const leakyReluRef = (x: number, slope = 0.01): number => (x > 0 ? x : slope * x);

// ---- comparison ----------------------------------------------------------------------------

export interface Tol {
  /** Relative tolerance (of |expected|). */
  rtol?: number;
  /** Absolute tolerance, or one per element. */
  atol?: number | ArrayLike<number>;
}

/**
 * Asserts `actual` has `expected`'s shape and every element satisfies
 * |actual - expected| <= atol + rtol |expected| (NaN must match NaN, infinities must match).
 */
export function expectClose(actual: Tensor, expected: Ref | readonly number[], tol: Tol = {}, label = 'values'): void {
  const exp: Ref = Array.isArray(expected)
    ? { data: Float64Array.from(expected as number[]), shape: [...actual.shape] }
    : (expected as Ref);
  expect(actual.shape, `${label}: shape`).toEqual(exp.shape);
  const rtol = tol.rtol ?? 1e-6;
  const atolOf = (i: number): number =>
    typeof tol.atol === 'number' ? tol.atol : tol.atol === undefined ? 0 : tol.atol[i];
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < exp.data.length; i++) {
    const a = actual.data[i];
    const e = exp.data[i];
    let ok: boolean;
    if (Number.isNaN(e) || Number.isNaN(a)) ok = Number.isNaN(e) && Number.isNaN(a);
    else if (!Number.isFinite(e) || !Number.isFinite(a)) ok = a === e;
    else ok = Math.abs(a - e) <= atolOf(i) + rtol * Math.abs(e);
    if (!ok) {
      count++;
      if (bad.length < 5) bad.push(`[${unravel(i, exp.shape).join(',')}]: got ${a}, expected ${e}`);
    }
  }
  expect(bad, `${label}: ${count} of ${exp.data.length} elements out of tolerance`).toEqual([]);
}

/** Exact equality of data and shape (for layout ops, which only move values). */
export function expectExact(actual: Tensor, expected: Ref | readonly number[], label = 'values'): void {
  const exp: Ref = Array.isArray(expected)
    ? { data: Float64Array.from(expected as number[]), shape: [...actual.shape] }
    : (expected as Ref);
  expect(actual.shape, `${label}: shape`).toEqual(exp.shape);
  expect(Array.from(actual.data), label).toEqual(Array.from(exp.data));
}
