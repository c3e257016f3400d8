/**
 * Pooling with padding beyond half the kernel (ONNX's pads: each side up to the window's extent
 * - 1) and max pooling's indices (per plane, and global as ONNX MaxPool's Indices), against a
 * naive float64 reference written here from the definitions; gradient checks over the wider
 * padding; a recorded program's replay rewriting the indices. Runs once per SIMD level.
 */
import { describe, expect, it } from 'vitest';
import { native } from '../../src/native/binding.js';
import { AvgPool2d, MaxPool2d, Tensor, gradcheck, type GradcheckOptions } from '../../src/index.js';
import { avgPool2d, maxPool2d, maxPool2dWithIndices, type Pool2dOptions } from '../../src/ops/pool.js';
import { trace } from '../../src/train/trace.js';
import { rng } from './reference.js';

type Pads = [number, number, number, number];
interface Geometry {
  shape: [number, number, number, number];
  k: [number, number];
  s: [number, number];
  pads: Pads; // top, left, bottom, right
  d: [number, number];
  ceil: boolean;
}

/** The output size of one axis: PyTorch's and ONNX's rule, ceil mode's last window starting
 * inside the input or the leading padding. */
function outSize(n: number, k: number, s: number, a: number, b: number, d: number, ceil: boolean): number {
  const span = n + a + b - d * (k - 1) - 1;
  if (span < 0) return 0;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= n + a) out--;
  return out;
}

interface NaivePool {
  outShape: number[];
  max: number[];
  /** h * W + w within the plane; -1 for a window without an input element. */
  plane: number[];
  global: number[];
  globalColumnMajor: number[];
  avgIncludePad: number[];
  avgExcludePad: number[];
  emptyWindow: boolean;
}

/** Every window tap by tap, in float64: max (first maximum in scan order), its positions, and
 * the means (counting the padding: the window's taps inside the padded input). */
function naivePool(x: Float32Array, g: Geometry): NaivePool {
  const [n, c, h, w] = g.shape;
  const [t, l, b, r] = g.pads;
  const oh = outSize(h, g.k[0], g.s[0], t, b, g.d[0], g.ceil);
  const ow = outSize(w, g.k[1], g.s[1], l, r, g.d[1], g.ceil);
  const res: NaivePool = {
    outShape: [n, c, oh, ow],
    max: [],
    plane: [],
    global: [],
    globalColumnMajor: [],
    avgIncludePad: [],
    avgExcludePad: [],
    emptyWindow: false,
  };
  for (let p = 0; p < n * c; p++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        let best = -Infinity;
        let at = -1;
        let sum = 0;
        let inside = 0;
        let padded = 0;
        for (let u = 0; u < g.k[0]; u++)
          for (let v = 0; v < g.k[1]; v++) {
            const ih = i * g.s[0] - t + u * g.d[0];
            const iw = j * g.s[1] - l + v * g.d[1];
            if (ih < h + b && iw < w + r) padded++;
            if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
            const val = x[(p * h + ih) * w + iw];
            sum += val;
            inside++;
            if (at < 0 || val > best) [best, at] = [val, ih * w + iw];
          }
        if (at < 0) res.emptyWindow = true;
        res.max.push(best);
        res.plane.push(at);
        res.global.push(p * h * w + at);
        res.globalColumnMajor.push(p * h * w + (at % w) * h + Math.floor(at / w));
        res.avgIncludePad.push(sum / padded);
        res.avgExcludePad.push(sum / inside);
      }
  return res;
}

const options = (g: Geometry, countIncludePad?: boolean): Pool2dOptions => ({
  stride: g.s,
  padding: g.pads,
  dilation: g.d[0] === 1 && g.d[1] === 1 ? undefined : g.d,
  ceilMode: g.ceil,
  countIncludePad,
});

/** Values spaced 0.25 apart (exact in float32), shuffled: no ties within 0.25. */
function distinct(shape: number[], seed: number): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const r = rng(seed);
  const v = Array.from({ length: size }, (_, i) => (i - size / 2) * 0.25);
  for (let i = size - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [v[i], v[j]] = [v[j], v[i]];
  }
  return new Tensor(Float32Array.from(v), shape);
}

function close(actual: ArrayLike<number>, want: number[], what: string, tol = 1e-5): void {
  expect(actual.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++)
    if (!(Math.abs(actual[i] - want[i]) <= tol * (1 + Math.abs(want[i]))))
      expect(actual[i], `${what}: element ${i}`).toBe(want[i]);
}

const deepPadding: Geometry[] = [
  { shape: [2, 3, 4, 4], k: [3, 3], s: [1, 1], pads: [2, 2, 2, 2], d: [1, 1], ceil: false },
  { shape: [1, 2, 5, 7], k: [3, 3], s: [2, 2], pads: [2, 1, 0, 2], d: [1, 1], ceil: true },
  { shape: [2, 1, 9, 10], k: [4, 4], s: [3, 3], pads: [3, 0, 3, 2], d: [1, 1], ceil: true },
  { shape: [1, 1, 1, 1], k: [3, 3], s: [1, 1], pads: [2, 2, 2, 2], d: [1, 1], ceil: false },
  { shape: [2, 2, 1, 3], k: [3, 2], s: [2, 1], pads: [2, 1, 2, 1], d: [1, 1], ceil: true },
  { shape: [1, 3, 6, 6], k: [2, 2], s: [2, 2], pads: [1, 1, 1, 1], d: [1, 1], ceil: false },
  { shape: [1, 2, 8, 8], k: [2, 2], s: [2, 2], pads: [0, 0, 1, 1], d: [1, 1], ceil: false },
  { shape: [1, 2, 7, 9], k: [2, 2], s: [2, 2], pads: [0, 0, 1, 1], d: [1, 1], ceil: true },
  { shape: [2, 1, 5, 6], k: [5, 3], s: [1, 2], pads: [4, 2, 4, 1], d: [1, 1], ceil: true },
  { shape: [1, 1, 13, 11], k: [7, 7], s: [4, 3], pads: [6, 5, 6, 6], d: [1, 1], ceil: true },
];
const dilated: Geometry[] = [
  { shape: [1, 2, 5, 6], k: [3, 3], s: [1, 2], pads: [4, 3, 4, 2], d: [2, 2], ceil: false },
  { shape: [2, 1, 2, 9], k: [3, 3], s: [3, 1], pads: [3, 0, 5, 0], d: [3, 1], ceil: false },
  { shape: [1, 2, 7, 8], k: [3, 2], s: [2, 3], pads: [5, 3, 1, 4], d: [3, 4], ceil: true },
];
const label = (g: Geometry): string =>
  `${g.shape.join('x')} k${g.k} s${g.s} p${g.pads} d${g.d}${g.ceil ? ' ceil' : ''}`;

describe('pooling with padding up to the window extent - 1', () => {
  it('max and average pooling match the definition (both count_include_pad rules, ceil mode)', () => {
    let seed = 1;
    for (const g of [...deepPadding, ...dilated]) {
      const x = distinct(g.shape, seed++);
      const want = naivePool(x.data as Float32Array, g);
      expect(want.emptyWindow, label(g)).toBe(false);
      const y = maxPool2d(x, g.k, options(g));
      expect(y.shape, label(g)).toEqual(want.outShape);
      close(y.data, want.max, `max ${label(g)}`, 0);
      if (g.d[0] !== 1 || g.d[1] !== 1) continue;
      close(avgPool2d(x, g.k, options(g, true)).data, want.avgIncludePad, `avg incl ${label(g)}`);
      close(avgPool2d(x, g.k, options(g, false)).data, want.avgExcludePad, `avg excl ${label(g)}`);
    }
  });

  it('the divisor counting the padding is the window within the padded input (ONNX count_include_pad=1)', () => {
    // One value 9, a 3x3 window, padding 2 all round: every window lies in the 5x5 padded input.
    const one = new Tensor(Float32Array.from([9]), [1, 1, 1, 1]);
    expect(Array.from(avgPool2d(one, 3, { stride: 1, padding: 2 }).data)).toEqual(new Array(9).fill(1));
    expect(Array.from(avgPool2d(one, 3, { stride: 1, padding: 2, countIncludePad: false }).data)).toEqual(
      new Array(9).fill(9),
    );
    // Ceil mode: [3, 5] pooled 1x3 / 2 with left padding 2: windows at -2 and 0; the second
    // reaches past the padded input [-2, 2) and counts only its 2 positions inside it.
    const two = new Tensor(Float32Array.from([3, 5]), [1, 1, 1, 2]);
    const y = avgPool2d(two, [1, 3], { stride: [1, 2], padding: [0, 2, 0, 0], ceilMode: true });
    expect(Array.from(y.data)).toEqual([1, 4]);
  });

  it('random geometries: the result matches the definition, or the error says which rule failed', () => {
    const r = rng(77);
    const ri = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
    const seen = { tooMuchPadding: 0, doesNotFit: 0, emptyWindow: 0, checked: 0 };
    for (let trial = 0; trial < 600; trial++) {
      const k: [number, number] = [ri(1, 4), ri(1, 4)];
      const d: [number, number] = [ri(1, 3), ri(1, 3)];
      const extent = [d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1];
      // Each side up to the extent - 1 (allowed); one side a whole extent in about 1 of 6.
      const pads: Pads = [ri(0, extent[0] - 1), ri(0, extent[1] - 1), ri(0, extent[0] - 1), ri(0, extent[1] - 1)];
      if (r() < 1 / 6) {
        const side = ri(0, 3);
        pads[side] = extent[side % 2];
      }
      const g: Geometry = {
        shape: [1, ri(1, 2), ri(1, 7), ri(1, 7)],
        k,
        s: [ri(1, 3), ri(1, 3)],
        pads,
        d,
        ceil: r() < 0.5,
      };
      const x = distinct(g.shape, trial);
      const want = naivePool(x.data as Float32Array, g);
      const run = (): Tensor => maxPool2d(x, g.k, options(g));
      if (Math.max(g.pads[0], g.pads[2]) >= extent[0] || Math.max(g.pads[1], g.pads[3]) >= extent[1]) {
        expect(run, label(g)).toThrow(/maxPool2d: padding .* must be less than the window extent/);
        seen.tooMuchPadding++;
      } else if (want.outShape[2] < 1 || want.outShape[3] < 1) {
        expect(run, label(g)).toThrow(/does not fit input/);
        seen.doesNotFit++;
      } else if (want.emptyWindow) {
        seen.emptyWindow++;
        expect(run, label(g)).toThrow(
          /maxPool2d: with dilation .* the window of output (row|column) \d+ holds no element/,
        );
        // The binding refuses it too (a caller skipping the TS checks).
        const geometry = {
          planes: g.shape[0] * g.shape[1],
          h: g.shape[2],
          w: g.shape[3],
          kH: g.k[0],
          kW: g.k[1],
          strideH: g.s[0],
          strideW: g.s[1],
          padTop: g.pads[0],
          padLeft: g.pads[1],
          padBottom: g.pads[2],
          padRight: g.pads[3],
          dilH: g.d[0],
          dilW: g.d[1],
          ceilMode: g.ceil,
          countIncludePad: true,
        };
        const size = want.max.length;
        expect(
          () => native.maxPool2d(x.data as Float32Array, geometry, new Float32Array(size), new Int32Array(size)),
          label(g),
        ).toThrow(/maxPool2d: the window of output (row|column) \d+ holds no input position/);
      } else {
        const { values, indices } = maxPool2dWithIndices(x, g.k, { ...options(g), indices: 'global' });
        close(values.data, want.max, `max ${label(g)}`, 0);
        expect(Array.from(indices.data), label(g)).toEqual(want.global);
        seen.checked++;
      }
    }
    // Every branch is exercised (the counts are fixed by the seed).
    expect(seen.tooMuchPadding, JSON.stringify(seen)).toBeGreaterThan(50);
    expect(seen.doesNotFit, JSON.stringify(seen)).toBeGreaterThan(5);
    expect(seen.emptyWindow, JSON.stringify(seen)).toBeGreaterThan(5);
    expect(seen.checked, JSON.stringify(seen)).toBeGreaterThan(300);
  });

  it('gradients over windows deep in the padding', () => {
    const opts: GradcheckOptions = { eps: 1e-2, atol: 2e-3, rtol: 2e-3 };
    const x = distinct([2, 2, 5, 6], 5).setRequiresGrad();
    const fns: [string, (a: Tensor) => Tensor][] = [
      ['max k3 p2', (a) => maxPool2d(a, 3, { stride: 1, padding: 2 })],
      ['max asym ceil', (a) => maxPool2d(a, 3, { stride: 2, padding: [2, 1, 0, 2], ceilMode: true })],
      ['max k2 s2 p1', (a) => maxPool2d(a, 2, { padding: 1 })],
      ['max dilated', (a) => maxPool2d(a, 3, { stride: [1, 2], padding: [4, 3, 4, 2], dilation: 2 })],
      ['max with indices', (a) => maxPool2dWithIndices(a, 4, { stride: 3, padding: 3, indices: 'global' }).values],
      ['avg k3 p2', (a) => avgPool2d(a, 3, { stride: 1, padding: 2 })],
      ['avg k3 p2 excl', (a) => avgPool2d(a, 3, { stride: 1, padding: 2, countIncludePad: false })],
      ['avg k4 ceil', (a) => avgPool2d(a, 4, { stride: 3, padding: [3, 0, 3, 2], ceilMode: true })],
      [
        'avg k4 ceil excl',
        (a) => avgPool2d(a, 4, { stride: 3, padding: [3, 0, 3, 2], ceilMode: true, countIncludePad: false }),
      ],
    ];
    for (const [name, f] of fns) {
      const res = gradcheck(f, [x], opts);
      expect(res.ok, `${name}: ${JSON.stringify(res)}`).toBe(true);
    }
  });

  it("errors: padding reaching a whole window, a window of padding only; the layers keep PyTorch's half-kernel rule", () => {
    const x = distinct([1, 1, 4, 4], 3);
    expect(() => maxPool2d(x, 3, { padding: 3 })).toThrow(
      'maxPool2d: padding [3,3] must be less than the window extent [3,3] on each side (kernel [3,3], dilation [1,1]), so every window overlaps the input',
    );
    expect(() => avgPool2d(x, [2, 3], { padding: [0, 0, 2, 0] })).toThrow(
      'avgPool2d: padding [0,0,2,0] must be less than the window extent [2,3] on each side',
    );
    // Dilation 3 over a 2-row input: the window of output row 0 (rows -4, -1, 2) misses it.
    expect(() =>
      maxPool2d(distinct([1, 1, 2, 4], 4), [3, 1], { stride: 1, padding: [4, 0], dilation: [3, 1] }),
    ).toThrow(
      'maxPool2d: with dilation [3,1] and padding [4,0], the window of output row 0 holds no element of input [1,1,2,4]',
    );
    // The ops allow what the layers refuse.
    expect(maxPool2d(x, 3, { padding: 2 }).shape).toEqual([1, 1, 2, 2]);
    expect(() => new MaxPool2d(3, { padding: 2 }).forward(x)).toThrow(
      'MaxPool2d: padding [2,2] must be at most half the kernel [3,3]',
    );
    expect(() => new AvgPool2d([2, 4], { padding: [1, 3] }).forward(x)).toThrow(
      'AvgPool2d: padding [1,3] must be at most half the kernel [2,4]',
    );
    expect(new MaxPool2d(3, { padding: 1 }).forward(x).shape).toEqual([1, 1, 2, 2]);
    expect(new AvgPool2d([2, 4], { padding: [1, 2] }).forward(x).shape).toEqual([1, 1, 3, 2]);
  });
});

describe('maxPool2dWithIndices', () => {
  it('per-plane, global and column-major indices match the definition', () => {
    let seed = 40;
    for (const g of [...deepPadding, ...dilated]) {
      const x = distinct(g.shape, seed++);
      const want = naivePool(x.data as Float32Array, g);
      const plane = maxPool2dWithIndices(x, g.k, options(g));
      expect(plane.indices.dtype).toBe('int32');
      expect(plane.indices.shape).toEqual(want.outShape);
      expect(Array.from(plane.indices.data), label(g)).toEqual(want.plane);
      close(plane.values.data, want.max, `values ${label(g)}`, 0);
      const global = maxPool2dWithIndices(x, g.k, { ...options(g), indices: 'global' });
      expect(Array.from(global.indices.data), label(g)).toEqual(want.global);
      // The global index addresses the maximum in the flattened input.
      global.indices.data.forEach((at, o) => expect(x.data[at]).toBe(global.values.data[o]));
      const column = maxPool2dWithIndices(x, g.k, { ...options(g), indices: 'globalColumnMajor' });
      expect(Array.from(column.indices.data), label(g)).toEqual(want.globalColumnMajor);
    }
  });

  it('a [C, H, W] input, ties (the first in scan order) and NaN (the first wins)', () => {
    const x = new Tensor(Float32Array.from([1, 7, 7, 2, 7, 0, NaN, 3, NaN, 4, 5, 6]), [2, 2, 3]);
    const { values, indices } = maxPool2dWithIndices(x, 2, { stride: 1, indices: 'global' });
    expect(values.shape).toEqual([2, 1, 2]);
    // Plane 0 [[1, 7, 7], [2, 7, 0]]: both windows' first 7 is at 1. Plane 1 [[NaN, 3, NaN],
    // [4, 5, 6]]: each window's first NaN.
    expect(Array.from(indices.data)).toEqual([1, 1, 6, 8]);
    expect(values.data[0]).toBe(7);
    expect(Number.isNaN(values.data[2]) && Number.isNaN(values.data[3])).toBe(true);
    const plane = maxPool2dWithIndices(x, 2, { stride: 1 });
    expect(Array.from(plane.indices.data)).toEqual([1, 1, 0, 2]);
  });

  it('values carry the gradient of maxPool2d; the options are checked by name', () => {
    const x = distinct([1, 2, 4, 5], 9).setRequiresGrad();
    const up = distinct([1, 2, 3, 4], 10);
    maxPool2d(x, 3, { stride: 2, padding: 2 }).mul(up).sum().backward();
    const want = Array.from(x.grad?.data ?? []);
    x.grad = null;
    maxPool2dWithIndices(x, 3, { stride: 2, padding: 2, indices: 'global' }).values.mul(up).sum().backward();
    expect(Array.from((x.grad as Tensor | null)?.data ?? [])).toEqual(want);
    expect(() => maxPool2dWithIndices(x, 2, { indices: 'int64' as never })).toThrow(
      "maxPool2dWithIndices: indices must be one of 'plane', 'global', 'globalColumnMajor', got \"int64\"",
    );
    expect(() => maxPool2dWithIndices(x, 2, { index: 'global' } as never)).toThrow(/maxPool2dWithIndices: .*index/);
    expect(() => maxPool2dWithIndices(x, 2, { padding: 2 })).toThrow(
      /maxPool2dWithIndices: padding \[2,2\] must be less than the window extent \[2,2\]/,
    );
  });

  it('a recorded program rewrites the global indices on every replay (no JS pass over the data)', () => {
    const x = distinct([2, 3, 5, 4], 11);
    const traced = trace(() => maxPool2dWithIndices(x, 3, { stride: 2, padding: 2, indices: 'global' }), {
      execute: true,
    });
    const { values, indices } = traced.value;
    const check = (): void => {
      const want = naivePool(x.data as Float32Array, {
        shape: [2, 3, 5, 4],
        k: [3, 3],
        s: [2, 2],
        pads: [2, 2, 2, 2],
        d: [1, 1],
        ceil: false,
      });
      expect(Array.from(indices.data)).toEqual(want.global);
      close(values.data, want.max, 'replayed values', 0);
    };
    check();
    // New data in place (the program reads x's buffer): the replay moves the maxima.
    const fresh = distinct([2, 3, 5, 4], 12);
    (x.data as Float32Array).set(fresh.data as Float32Array);
    indices.data.fill(-1);
    expect(traced.program.run(1)).toBe(1);
    check();
  });

  it('the binding: globalIndex is optional, its length and disjointness are checked', () => {
    const geometry = {
      planes: 2,
      h: 3,
      w: 3,
      kH: 2,
      kW: 2,
      strideH: 1,
      strideW: 1,
      padTop: 1,
      padLeft: 1,
      padBottom: 1,
      padRight: 1,
      dilH: 1,
      dilW: 1,
      ceilMode: false,
      countIncludePad: true,
    };
    const x = Float32Array.from({ length: 18 }, (_, i) => (i * 7) % 18);
    const y = new Float32Array(32);
    const index = new Int32Array(32);
    const global = new Int32Array(32);
    native.maxPool2d(x, geometry, y, index, global);
    expect(Array.from(global.slice(16))).toEqual(Array.from(index.slice(16), (v) => v + 9));
    native.maxPool2d(x, geometry, y, index, global, true);
    expect(Array.from(global.slice(0, 16))).toEqual(
      Array.from(index.slice(0, 16), (v) => (v % 3) * 3 + Math.floor(v / 3)),
    );
    expect(() => native.maxPool2d(x, geometry, y, index, new Int32Array(31))).toThrow(/globalIndex/);
    expect(() => native.maxPool2d(x, geometry, y, index, index)).toThrow(/globalIndex/);
  });
});
