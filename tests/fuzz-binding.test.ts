/**
 * Throws 10,000+ random, partly invalid argument sets at every exported native function: the
 * process must never crash, and every rejected call must surface as a thrown Error (or a
 * rejected promise for the Async variants). Each case starts from a valid argument list for
 * the function (so mutations reach the deep checks: lengths off by one, overlapping buffers,
 * shapes that do not broadcast) and then mutates a few arguments or the argument count.
 */
import { describe, expect, it } from 'vitest';
import { native, type ConvGeometry, type PoolGeometry } from '../src/native/binding.js';
import { Generator } from '../src/tensor/random.js';

type Kind =
  'f32' | 'f32?' | 'f64' | 'i32' | 'i32?' | 'words' | 'int' | 'num' | 'bool' | 'shape' | 'list' | 'struct' | 'inputs';
interface Case {
  args: unknown[];
  kinds: Kind[];
}

const g = new Generator(20261129);
const ri = (lo: number, hi: number): number => lo + g.nextInt(hi - lo + 1);
const pick = <T>(xs: readonly T[]): T => xs[g.nextInt(xs.length)];
const f32 = (n: number): Float32Array => Float32Array.from({ length: n }, () => g.nextFloat() * 4 - 2);
const shape = (maxRank = 3): number[] => Array.from({ length: ri(0, maxRank) }, () => ri(1, 4));
const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

function gemmCase(batched: boolean): Case {
  const [m, n, k] = [ri(0, 6), ri(0, 6), ri(0, 6)];
  const ta = g.nextFloat() < 0.5;
  const tb = g.nextFloat() < 0.5;
  const lda = (ta ? m : k) + ri(0, 2) || 1;
  const ldb = (tb ? k : n) + ri(0, 2) || 1;
  const ldc = n + ri(0, 2) || 1;
  const aRows = ta ? k : m;
  const bRows = tb ? n : k;
  const batch = batched ? ri(0, 3) : 1;
  const sa = aRows * lda;
  const sb = bRows * ldb;
  const sc = m * ldc;
  const biasMode = ri(0, 2);
  const bias = biasMode === 0 ? null : f32((biasMode === 1 ? n : m) * Math.max(batch, 1));
  if (!batched)
    return {
      args: [ta, tb, m, n, k, 1, f32(sa), lda, f32(sb), ldb, 0.5, f32(sc), ldc, bias, biasMode, ri(0, 18), 0.1],
      kinds: [
        'bool',
        'bool',
        'int',
        'int',
        'int',
        'num',
        'f32',
        'int',
        'f32',
        'int',
        'num',
        'f32',
        'int',
        'f32?',
        'int',
        'int',
        'num',
      ],
    };
  return {
    args: [
      batch,
      ta,
      tb,
      m,
      n,
      k,
      1,
      f32(sa * batch),
      sa,
      lda,
      f32(sb * batch),
      sb,
      ldb,
      0,
      f32(sc * batch),
      sc,
      ldc,
      bias,
      biasMode,
      biasMode === 1 ? n : m,
      ri(0, 18),
      0,
    ],
    kinds: [
      'int',
      'bool',
      'bool',
      'int',
      'int',
      'int',
      'num',
      'f32',
      'int',
      'int',
      'f32',
      'int',
      'int',
      'num',
      'f32',
      'int',
      'int',
      'f32?',
      'int',
      'int',
      'int',
      'num',
    ],
  };
}

/** A valid convolution geometry (groups, stride, padding, dilation) and its buffer sizes. */
function convCase(): { geometry: ConvGeometry; nx: number; nw: number; ny: number; cout: number } {
  const groups = ri(1, 2);
  const [n, cin, cout] = [ri(0, 2), groups * ri(1, 3), groups * ri(1, 3)];
  const [kh, kw, sh, sw, dh, dw] = [ri(1, 3), ri(1, 3), ri(1, 2), ri(1, 2), ri(1, 2), ri(1, 2)];
  const [pt, pl, pb, pr] = [ri(0, 2), ri(0, 2), ri(0, 2), ri(0, 2)];
  const h = dh * (kh - 1) + 1 + ri(0, 4);
  const w = dw * (kw - 1) + 1 + ri(0, 4);
  const oh = Math.floor((h + pt + pb - dh * (kh - 1) - 1) / sh) + 1;
  const ow = Math.floor((w + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
  return {
    geometry: {
      n,
      cIn: cin,
      h,
      w,
      cOut: cout,
      kH: kh,
      kW: kw,
      strideH: sh,
      strideW: sw,
      padTop: pt,
      padLeft: pl,
      padBottom: pb,
      padRight: pr,
      dilH: dh,
      dilW: dw,
      groups,
    },
    nx: n * cin * h * w,
    nw: cout * (cin / groups) * kh * kw,
    ny: n * cout * oh * ow,
    cout,
  };
}

/** A valid pooling geometry (window, stride, padding, dilation) and its buffer sizes. */
function poolCase(dilated = true): { geometry: PoolGeometry; nx: number; ny: number; plane: number } {
  const [planes, kh, kw, sh, sw] = [ri(0, 3), ri(1, 3), ri(1, 3), ri(1, 2), ri(1, 2)];
  const [dh, dw] = dilated ? [ri(1, 2), ri(1, 2)] : [1, 1];
  const [ph, pw] = [ri(0, Math.floor(kh / 2)), ri(0, Math.floor(kw / 2))];
  const h = dh * (kh - 1) + 1 + ri(0, 4);
  const w = dw * (kw - 1) + 1 + ri(0, 4);
  const oh = Math.floor((h + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const ow = Math.floor((w + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  return {
    geometry: {
      planes,
      h,
      w,
      kH: kh,
      kW: kw,
      strideH: sh,
      strideW: sw,
      padTop: ph,
      padLeft: pw,
      padBottom: ph,
      padRight: pw,
      dilH: dh,
      dilW: dw,
      ceilMode: false,
      countIncludePad: true,
    },
    nx: planes * h * w,
    ny: planes * oh * ow,
    plane: h * w,
  };
}

/** n int32 values in [0, below). */
function tokens(n: number, below: number): Int32Array {
  return Int32Array.from({ length: n }, () => ri(0, Math.max(below - 1, 0)));
}

function rnnCase(backward: boolean): Case {
  const mode = ri(0, 3);
  const [T, N, I, H] = [ri(0, 3), ri(0, 3), ri(1, 3), ri(1, 3)];
  const G = (mode === 0 ? 4 : mode === 1 ? 3 : 1) * H;
  const dims = { mode, steps: T, batch: N, input: I, hidden: H, reverse: ri(0, 1) === 1 };
  const [ws, scratch] = native.rnnSizes(dims);
  const lstm = mode === 0;
  const lengths = g.nextFloat() < 0.5 ? tokens(N, T + 1) : null;
  if (!backward)
    return {
      args: [
        f32(T * N * I),
        f32(G * I),
        f32(G * H),
        f32(G),
        null,
        f32(N * H),
        lstm ? f32(N * H) : null,
        lengths,
        dims,
        f32(T * N * H),
        f32(N * H),
        lstm ? f32(N * H) : null,
        f32(ws),
      ],
      kinds: ['f32', 'f32', 'f32', 'f32?', 'f32?', 'f32?', 'f32?', 'i32', 'struct', 'f32', 'f32', 'f32?', 'f32'],
    };
  return {
    args: [
      f32(T * N * I),
      f32(G * I),
      f32(G * H),
      lengths,
      f32(ws),
      dims,
      f32(T * N * H),
      f32(N * H),
      lstm ? f32(N * H) : null,
      f32(T * N * I),
      f32(G * I),
      f32(G * H),
      f32(G),
      f32(G),
      f32(N * H),
      lstm ? f32(N * H) : null,
      f32(scratch),
    ],
    kinds: [
      'f32',
      'f32',
      'f32',
      'i32',
      'f32',
      'struct',
      'f32?',
      'f32?',
      'f32?',
      'f32?',
      'f32?',
      'f32?',
      'f32?',
      'f32?',
      'f32?',
      'f32?',
      'f32',
    ],
  };
}

/** sequencePool's dims: a random layout and mode. */
function poolDims(steps: number, batch: number, dim: number): Record<string, unknown> {
  return { steps, batch, dim, timeMajor: ri(0, 1) === 1, mode: ri(0, 1) };
}

function orc(): [number, number, number] {
  return [ri(0, 3), ri(1, 4), ri(0, 3)];
}

const makers: Record<string, () => Case> = {
  gemm: () => gemmCase(false),
  gemmBatched: () => gemmCase(true),
  unary: () => {
    const n = ri(0, 40);
    return { args: [ri(0, 18), f32(n), f32(n), 0.2], kinds: ['int', 'f32', 'f32', 'num'] };
  },
  unaryBackward: () => {
    const n = ri(0, 40);
    return {
      args: [ri(0, 18), f32(n), f32(n), f32(n), f32(n), 0.2, g.nextFloat() < 0.5],
      kinds: ['int', 'f32', 'f32', 'f32', 'f32', 'num', 'bool'],
    };
  },
  binary: () => {
    const s = shape();
    const as = s.map((d) => (g.nextFloat() < 0.3 ? 1 : d));
    const bs = s.map((d) => (g.nextFloat() < 0.3 ? 1 : d));
    const os = s.map((_, i) => Math.max(as[i], bs[i]));
    return {
      args: [ri(0, 6), f32(prod(as)), as, f32(prod(bs)), bs, f32(prod(os)), os],
      kinds: ['int', 'f32', 'shape', 'f32', 'shape', 'f32', 'shape'],
    };
  },
  binaryScalar: () => {
    const n = ri(0, 40);
    return { args: [ri(0, 6), f32(n), 1.5, g.nextFloat() < 0.5, f32(n)], kinds: ['int', 'f32', 'num', 'bool', 'f32'] };
  },
  binaryBackward: () => {
    const n = ri(0, 40);
    return {
      args: [ri(0, 6), f32(n), f32(n), f32(n), f32(n), f32(n), g.nextFloat() < 0.5 ? null : f32(n)],
      kinds: ['int', 'f32', 'f32', 'f32', 'f32', 'f32?', 'f32?'],
    };
  },
  reduce: () => {
    const [o, r, i] = orc();
    return { args: [ri(0, 3), f32(o * r * i), o, r, i, f32(o * i)], kinds: ['int', 'f32', 'int', 'int', 'int', 'f32'] };
  },
  argReduce: () => {
    const [o, r, i] = orc();
    return {
      args: [ri(0, 1), f32(o * r * i), o, r, i, new Int32Array(o * i)],
      kinds: ['int', 'f32', 'int', 'int', 'int', 'i32'],
    };
  },
  reduceBackward: () => {
    const [o, r, i] = orc();
    return {
      args: [ri(0, 3), f32(o * r * i), f32(o * i), f32(o * i), o, r, i, f32(o * r * i)],
      kinds: ['int', 'f32', 'f32', 'f32', 'int', 'int', 'int', 'f32'],
    };
  },
  sumToShape: () => {
    const s = shape();
    const os = s.map((d) => (g.nextFloat() < 0.5 ? 1 : d));
    return { args: [f32(prod(s)), s, f32(prod(os)), os], kinds: ['f32', 'shape', 'f32', 'shape'] };
  },
  softmax: () => {
    const [o, r, i] = orc();
    return {
      args: [f32(o * r * i), f32(o * r * i), o, r, i, g.nextFloat() < 0.5],
      kinds: ['f32', 'f32', 'int', 'int', 'int', 'bool'],
    };
  },
  softmaxBackward: () => {
    const [o, r, i] = orc();
    const n = o * r * i;
    return {
      args: [f32(n), f32(n), f32(n), o, r, i, g.nextFloat() < 0.5],
      kinds: ['f32', 'f32', 'f32', 'int', 'int', 'int', 'bool'],
    };
  },
  permute: () => {
    const s = shape(4);
    const perm = s.map((_, i) => i).sort(() => g.nextFloat() - 0.5);
    return { args: [f32(prod(s)), s, perm, f32(prod(s))], kinds: ['words', 'shape', 'list', 'words'] };
  },
  concat: () => {
    const count = ri(1, 3);
    const outer = ri(0, 3);
    const sizes = Array.from({ length: count }, () => ri(0, 4));
    const inputs = sizes.map((s) => f32(outer * s));
    return {
      args: [inputs, sizes, outer, f32(outer * sizes.reduce((a, b) => a + b, 0))],
      kinds: ['inputs', 'list', 'int', 'words'],
    };
  },
  sliceCopy: () => {
    const s = shape();
    const starts = s.map((d) => ri(0, d - 1));
    const steps = s.map(() => pick([1, 2, -1]));
    const os = s.map((d, i) => (steps[i] > 0 ? Math.ceil((d - starts[i]) / steps[i]) : starts[i] + 1));
    return {
      args: [f32(prod(s)), s, starts, steps, os, f32(prod(os))],
      kinds: ['words', 'shape', 'list', 'list', 'shape', 'words'],
    };
  },
  sliceBackward: () => {
    const s = shape();
    const starts = s.map((d) => ri(0, d - 1));
    const steps = s.map(() => pick([1, 2, -1]));
    const os = s.map((d, i) => (steps[i] > 0 ? Math.ceil((d - starts[i]) / steps[i]) : starts[i] + 1));
    return {
      args: [f32(prod(os)), os, starts, steps, s, f32(prod(s))],
      kinds: ['f32', 'shape', 'list', 'list', 'shape', 'f32'],
    };
  },
  sgdStep: () => {
    const n = ri(0, 40);
    const momentum = pick([0, 0.9]);
    return {
      args: [f32(n), f32(n), f32(n), new Float64Array([0.1, momentum, 0, 0.01, 0, 0, g.nextInt(2)])],
      kinds: ['f32', 'f32', 'f32?', 'f64'],
    };
  },
  adamStep: () => {
    const n = ri(0, 40);
    return {
      args: [
        f32(n),
        f32(n),
        f32(n),
        new Float32Array(n),
        new Float32Array(n),
        new Float64Array([1e-3, 0.9, 0.999, 1e-8, 0, 0, 1, 0, ri(0, 5)]),
      ],
      kinds: ['f32', 'f32', 'f32', 'f32', 'f32?', 'f64'],
    };
  },
  rmspropStep: () => {
    const n = ri(0, 40);
    return {
      args: [f32(n), f32(n), new Float32Array(n), f32(n), f32(n), new Float64Array([0.01, 0.99, 1e-8, 0, 0.9, 1, 0])],
      kinds: ['f32', 'f32', 'f32', 'f32?', 'f32?', 'f64'],
    };
  },
  adagradStep: () => {
    const n = ri(0, 40);
    return {
      args: [f32(n), f32(n), new Float32Array(n), new Float64Array([0.01, 0, 1e-10, 0, 0, ri(0, 3)])],
      kinds: ['f32', 'f32', 'f32', 'f64'],
    };
  },
  clipGradNorm: () => ({
    args: [Array.from({ length: ri(0, 3) }, () => f32(ri(0, 10))), new Float64Array([1, pick([2, Infinity]), 0])],
    kinds: ['inputs', 'f64'],
  }),
  crossEntropy: () => {
    const [n, c] = [ri(0, 5), ri(1, 5)];
    const idx = Int32Array.from({ length: n }, () => ri(0, c - 1));
    const red = ri(0, 2);
    return {
      args: [
        f32(n * c),
        n,
        c,
        idx,
        null,
        g.nextFloat() < 0.5 ? null : f32(c),
        0.1,
        -100,
        red,
        f32(red ? 1 : n),
        f32(n),
        f32(n),
      ],
      kinds: ['f32', 'int', 'int', 'i32', 'f32?', 'f32?', 'num', 'int', 'int', 'f32', 'f32', 'f32'],
    };
  },
  crossEntropyBackward: () => {
    const [n, c] = [ri(0, 5), ri(1, 5)];
    const red = ri(0, 2);
    // Class-index targets (with class weights) half the time, probabilities otherwise.
    const byIndex = g.nextFloat() < 0.5;
    const idx = byIndex ? Int32Array.from({ length: n }, () => ri(0, c - 1)) : null;
    const prob = byIndex ? null : f32(n * c);
    const weight = byIndex ? f32(c) : null;
    return {
      args: [f32(n * c), n, c, idx, prob, weight, 0, -100, red, f32(n), f32(red ? 1 : n), f32(n * c), f32(n)],
      kinds: ['f32', 'int', 'int', 'i32', 'f32?', 'f32?', 'num', 'int', 'int', 'f32', 'f32', 'f32', 'f32'],
    };
  },
  bceLogits: () => {
    const c = ri(1, 4);
    const n = c * ri(0, 4);
    return { args: [f32(n), f32(n), f32(c), c, f32(n)], kinds: ['f32', 'f32', 'f32?', 'int', 'f32'] };
  },
  bceLogitsBackward: () => {
    const n = ri(0, 20);
    return { args: [f32(n), f32(n), null, 1, f32(n), f32(n)], kinds: ['f32', 'f32', 'f32?', 'int', 'f32', 'f32'] };
  },
  bce: () => {
    const n = ri(0, 20);
    return { args: [f32(n), f32(n), f32(n)], kinds: ['f32', 'f32', 'f32'] };
  },
  bceBackward: () => {
    const n = ri(0, 20);
    return { args: [f32(n), f32(n), f32(n), f32(n)], kinds: ['f32', 'f32', 'f32', 'f32'] };
  },
  dropout: () => {
    const n = ri(0, 40);
    return {
      args: [f32(n), f32(n), f32(n), 0.3, new Float64Array([ri(0, 1000), ri(0, 1000), 0])],
      kinds: ['f32', 'f32', 'f32', 'num', 'f64'],
    };
  },
  rnn: () => rnnCase(false),
  rnnBackward: () => rnnCase(true),
  embedding: () => {
    const [V, E, rows, steps] = [ri(1, 5), ri(1, 4), ri(0, 3), ri(0, 4)];
    return {
      args: [f32(V * E), E, tokens(rows * steps, V), { rows, steps, timeMajor: ri(0, 1) === 1 }, f32(rows * steps * E)],
      kinds: ['f32', 'int', 'i32', 'struct', 'f32'],
    };
  },
  embeddingBackward: () => {
    const [V, E, rows, steps] = [ri(1, 5), ri(1, 4), ri(0, 3), ri(0, 4)];
    return {
      args: [
        f32(rows * steps * E),
        E,
        tokens(rows * steps, V),
        { rows, steps, timeMajor: ri(0, 1) === 1 },
        ri(-1, V - 1),
        f32(V * E),
      ],
      kinds: ['f32', 'int', 'i32', 'struct', 'int', 'f32'],
    };
  },
  embeddingRenorm: () => {
    const [V, E] = [ri(1, 5), ri(1, 4)];
    return {
      args: [f32(V * E), E, tokens(ri(0, 6), V), 0.5, pick([1, 2, 3, Infinity])],
      kinds: ['f32', 'int', 'i32', 'num', 'num'],
    };
  },
  sequenceLengths: () => {
    const [rows, steps] = [ri(0, 4), ri(0, 5)];
    return {
      args: [tokens(rows * steps, 3), rows, steps, 0, new Int32Array(rows)],
      kinds: ['i32', 'int', 'int', 'int', 'i32'],
    };
  },
  sequencePool: () => {
    const [T, N, F] = [ri(0, 4), ri(0, 3), ri(1, 3)];
    return {
      args: [f32(T * N * F), poolDims(T, N, F), tokens(N, T + 1), f32(N * F)],
      kinds: ['f32', 'struct', 'i32', 'f32'],
    };
  },
  sequencePoolBackward: () => {
    const [T, N, F] = [ri(0, 4), ri(0, 3), ri(1, 3)];
    return {
      args: [f32(N * F), poolDims(T, N, F), tokens(N, T + 1), f32(T * N * F)],
      kinds: ['f32', 'struct', 'i32', 'f32'],
    };
  },
  conv2d: () => {
    const c = convCase();
    return {
      args: [f32(c.nx), f32(c.nw), f32(c.cout), c.geometry, pick([0, 1, 6]), 0, f32(c.ny)],
      kinds: ['f32', 'f32', 'f32?', 'struct', 'int', 'num', 'f32'],
    };
  },
  conv2dBackwardData: () => {
    const c = convCase();
    return { args: [f32(c.ny), f32(c.nw), c.geometry, f32(c.nx)], kinds: ['f32', 'f32', 'struct', 'f32'] };
  },
  conv2dBackwardWeight: () => {
    const c = convCase();
    return {
      args: [f32(c.nx), f32(c.ny), c.geometry, f32(c.nw), f32(c.cout)],
      kinds: ['f32', 'f32', 'struct', 'f32', 'f32?'],
    };
  },
  maxPool2d: () => {
    const p = poolCase();
    return {
      args: [f32(p.nx), p.geometry, f32(p.ny), new Int32Array(p.ny)],
      kinds: ['f32', 'struct', 'f32', 'i32'],
    };
  },
  maxPool2dBackward: () => {
    const p = poolCase();
    return {
      args: [
        Int32Array.from({ length: p.ny }, () => ri(0, p.plane - 1)),
        f32(p.ny),
        p.geometry,
        f32(p.nx),
        g.nextFloat() < 0.5,
        g.nextFloat() < 0.5 ? f32(p.ny) : null,
      ],
      kinds: ['i32', 'f32', 'struct', 'f32', 'bool', 'f32?'],
    };
  },
  avgPool2d: () => {
    const p = poolCase(false);
    return { args: [f32(p.nx), p.geometry, f32(p.ny)], kinds: ['f32', 'struct', 'f32'] };
  },
  avgPool2dBackward: () => {
    const p = poolCase(false);
    return { args: [f32(p.ny), p.geometry, f32(p.nx)], kinds: ['f32', 'struct', 'f32'] };
  },
  adaptiveAvgPool2d: () => {
    const [planes, h, w, oh, ow] = [ri(0, 3), ri(1, 6), ri(1, 6), ri(1, 4), ri(1, 4)];
    return {
      args: [f32(planes * h * w), { planes, h, w, outH: oh, outW: ow }, f32(planes * oh * ow)],
      kinds: ['f32', 'struct', 'f32'],
    };
  },
  adaptiveAvgPool2dBackward: () => {
    const [planes, h, w, oh, ow] = [ri(0, 3), ri(1, 6), ri(1, 6), ri(1, 4), ri(1, 4)];
    return {
      args: [f32(planes * oh * ow), { planes, h, w, outH: oh, outW: ow }, f32(planes * h * w)],
      kinds: ['f32', 'struct', 'f32'],
    };
  },
  batchNorm: () => {
    const [n, c, sp] = [ri(1, 3), ri(1, 3), ri(2, 4)];
    return {
      args: [
        f32(n * c * sp),
        f32(c),
        f32(c),
        f32(c),
        Float32Array.from({ length: c }, () => 1),
        { n, c, s: sp },
        1e-5,
        0.1,
        g.nextFloat() < 0.5,
        f32(n * c * sp),
        f32(c),
        f32(c),
      ],
      kinds: ['f32', 'f32?', 'f32?', 'f32?', 'f32?', 'struct', 'num', 'num', 'bool', 'f32', 'f32', 'f32'],
    };
  },
  batchNormBackward: () => {
    const [n, c, sp] = [ri(0, 3), ri(1, 3), ri(1, 4)];
    return {
      args: [
        f32(n * c * sp),
        f32(n * c * sp),
        f32(c),
        f32(c),
        f32(c),
        { n, c, s: sp },
        g.nextFloat() < 0.5,
        f32(n * c * sp),
        f32(c),
        f32(c),
      ],
      kinds: ['f32', 'f32', 'f32?', 'f32', 'f32', 'struct', 'bool', 'f32?', 'f32?', 'f32?'],
    };
  },
  layerNorm: () => {
    const [rows, d] = [ri(0, 3), ri(1, 5)];
    return {
      args: [f32(rows * d), f32(d), f32(d), rows, d, 1e-5, f32(rows * d), f32(rows), f32(rows)],
      kinds: ['f32', 'f32?', 'f32?', 'int', 'int', 'num', 'f32', 'f32', 'f32'],
    };
  },
  layerNormBackward: () => {
    const [rows, d] = [ri(0, 3), ri(1, 5)];
    return {
      args: [f32(rows * d), f32(rows * d), f32(d), f32(rows), f32(rows), rows, d, f32(rows * d), f32(d), f32(d)],
      kinds: ['f32', 'f32', 'f32?', 'f32', 'f32', 'int', 'int', 'f32?', 'f32?', 'f32?'],
    };
  },
  randomCropFlip: () => {
    const [n, c, h, w, pad] = [ri(0, 2), ri(1, 2), ri(1, 5), ri(1, 5), ri(0, 2)];
    const [oh, ow] = [ri(1, h + 2 * pad), ri(1, w + 2 * pad)];
    return {
      args: [
        f32(n * c * h * w),
        { n, c, h, w, outH: oh, outW: ow, pad },
        0.5,
        g.nextFloat() < 0.5,
        new Float64Array([1, 2, 0]),
        f32(n * c * oh * ow),
      ],
      kinds: ['f32', 'struct', 'num', 'bool', 'f64', 'f32'],
    };
  },
  gatherRowsAt: () => {
    const [rows, rowSize, srcRows] = [ri(0, 5), ri(1, 4), ri(1, 6)];
    const idx = Int32Array.from({ length: rows + 2 }, () => ri(0, srcRows - 1));
    return {
      args: [f32(srcRows * rowSize), rowSize, idx, new Float64Array([ri(0, 2), 0, rows, 0]), rows, f32(rows * rowSize)],
      kinds: ['words', 'int', 'i32', 'f64', 'int', 'words'],
    };
  },
  putRowsAt: () => {
    const [rows, rowSize, dstRows] = [ri(0, 3), ri(1, 4), ri(3, 6)];
    return {
      args: [
        f32(rows * rowSize),
        rowSize,
        new Float64Array([ri(0, dstRows - rows), 0, rows, 0]),
        f32(dstRows * rowSize),
      ],
      kinds: ['words', 'int', 'f64', 'words'],
    };
  },
  logScalar: () => {
    const slots = ri(1, 4);
    return { args: [f32(1), f32(slots), new Float64Array([0, ri(0, slots - 1), 1, 0])], kinds: ['f32', 'f32', 'f64'] };
  },
  sumSquares: () => ({ args: [f32(ri(0, 40))], kinds: ['f32'] }),
  fill: () => ({ args: [f32(ri(0, 40)), 1.5], kinds: ['words', 'num'] }),
  copy: () => {
    const n = ri(0, 40);
    return { args: [f32(n), f32(n)], kinds: ['words', 'words'] };
  },
  gatherRows: () => {
    const [rows, rowSize, srcRows] = [ri(0, 5), ri(1, 4), ri(1, 6)];
    const idx = Int32Array.from({ length: rows + 2 }, () => ri(0, srcRows - 1));
    return {
      args: [f32(srcRows * rowSize), rowSize, idx, ri(0, 2), rows, f32(rows * rowSize)],
      kinds: ['words', 'int', 'i32', 'int', 'int', 'words'],
    };
  },
  confusionUpdate: () => {
    const [n, c] = [ri(0, 6), ri(1, 4)];
    const cc = Math.max(c, 2);
    // Float labels (one column) a third of the time: the kernel converts them to classes.
    const floats = g.nextFloat() < 0.33;
    return {
      args: [
        f32(n * c),
        n,
        c,
        floats ? null : Int32Array.from({ length: n }, () => ri(-1, cc)),
        floats ? Float32Array.from({ length: n }, () => ri(-1, cc)) : null,
        1,
        0.5,
        new Float64Array(cc * cc),
        new Float64Array(1),
      ],
      kinds: ['f32', 'int', 'int', 'i32?', 'f32?', 'int', 'num', 'f64', 'f64'],
    };
  },
  topKUpdate: () => {
    const [n, c] = [ri(0, 6), ri(1, 5)];
    return {
      args: [f32(n * c), n, c, Int32Array.from({ length: n }, () => ri(-1, c)), ri(1, 3), new Float64Array(2)],
      kinds: ['f32', 'int', 'int', 'i32', 'int', 'f64'],
    };
  },
  regressionUpdate: () => {
    const n = ri(0, 20);
    return { args: [f32(n), f32(n), new Float64Array(5)], kinds: ['f32', 'f32', 'f32'] };
  },
  setNumThreads: () => ({ args: [ri(1, 2)], kinds: ['int'] }),
  setConvAlgorithm: () => ({ args: [ri(0, 2)], kinds: ['int'] }),
  profilerEnable: () => ({ args: [false], kinds: ['bool'] }),
};

/** A wrong value of roughly the right kind, or of another kind entirely. */
function mutate(value: unknown, kind: Kind, others: unknown[]): unknown {
  const junk = [undefined, null, 'x', {}, [], true, Symbol('s'), () => 1, 3n, new Float64Array(3)];
  if (g.nextFloat() < 0.15) return pick(junk);
  switch (kind) {
    case 'int':
    case 'num': {
      const v = typeof value === 'number' ? value : 0;
      return pick([
        NaN,
        Infinity,
        -Infinity,
        -1,
        v + 1,
        v - 1,
        v * 2 + 1,
        0.5,
        2 ** 31,
        2 ** 40 + 1,
        -(2 ** 53),
        1e300,
        0,
        19,
        7,
      ]);
    }
    case 'bool':
      return pick([0, 1, 'true', null]);
    case 'f64': {
      const arr = value instanceof Float64Array ? value : new Float64Array(3);
      return pick([
        new Float64Array(Math.max(0, arr.length - 1)),
        new Float64Array(arr.length + 1),
        Float64Array.from(arr, (v, i) => (i === 0 ? NaN : v)),
        Float64Array.from(arr, (v, i) => (i === arr.length - 1 ? -5 : v)),
        Float64Array.from(arr, () => 1e300),
        new Float32Array(arr.length),
        Float64Array.from(arr, (v, i) => (i === 1 ? 2 ** 60 : v)),
      ]);
    }
    case 'f32':
    case 'f32?':
    case 'words':
    case 'i32':
    case 'i32?': {
      const arr = value instanceof Float32Array || value instanceof Int32Array ? value : new Float32Array(4);
      const other = others.find((o) => o instanceof Float32Array && o !== value) as Float32Array | undefined;
      // Another argument's memory seen as this argument's type (tokens over an output, an
      // output over lengths): overlap checks must hold across element types too.
      const anyOther = others.find((o) => (o instanceof Float32Array || o instanceof Int32Array) && o !== value) as
        Float32Array | Int32Array | undefined;
      const alias = anyOther
        ? new (arr instanceof Int32Array ? Int32Array : Float32Array)(
            anyOther.buffer as ArrayBuffer,
            anyOther.byteOffset,
            Math.min(anyOther.length, Math.max(arr.length, 1)),
          )
        : arr;
      return pick([
        alias,
        alias,
        new Float32Array(Math.max(0, arr.length - 1)),
        new Float32Array(arr.length + 1),
        new Float32Array(0),
        new Int32Array(arr.length),
        new Float32Array(arr.length),
        new Uint8Array(arr.length * 4),
        Array.from(arr),
        arr.subarray(1),
        other ?? arr,
        other ? other.subarray(0, Math.min(other.length, arr.length)) : arr,
        new Float32Array(new SharedArrayBuffer(arr.length * 4)),
      ]);
    }
    case 'shape':
    case 'list': {
      const s = Array.isArray(value) ? (value as number[]) : [];
      return pick([
        [...s, 2],
        s.slice(1),
        s.map((d) => d + 1),
        s.map(() => -1),
        s.map(() => 1.5),
        s.map(() => NaN),
        [2 ** 40, 2 ** 40, 2 ** 40],
        Array.from({ length: 9 }, () => 1),
        s.map(() => 'a'),
        s.map((d) => d * 0),
        [0, 0, 0],
      ]);
    }
    case 'struct': {
      // A field out of range, of the wrong type, missing or unknown, or the whole struct as
      // the positional array it used to be.
      const o = value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
      const keys = Object.keys(o);
      const k = keys.length > 0 ? pick(keys) : 'x';
      const v = typeof o[k] === 'number' ? o[k] : 0;
      const rest = Object.fromEntries(Object.entries(o).filter(([key]) => key !== k));
      return pick([
        { ...o, [k]: -1 },
        { ...o, [k]: v + 1 },
        { ...o, [k]: v - 1 },
        { ...o, [k]: 0 },
        { ...o, [k]: 0.5 },
        { ...o, [k]: NaN },
        { ...o, [k]: 2 ** 31 },
        { ...o, [k]: 2 ** 40 + 1 },
        { ...o, [k]: typeof o[k] === 'boolean' ? 1 : true },
        { ...o, [k]: undefined },
        { ...o, [k]: 'a' },
        rest,
        { ...o, extra: 1 },
        Object.values(o),
      ]);
    }
    case 'inputs': {
      const list = Array.isArray(value) ? (value as unknown[]) : [];
      return pick([[], [new Float32Array(1)], list.concat([new Int32Array(2)]), [null], list.slice(1), 'x']);
    }
  }
}

function makeCase(name: string): unknown[] {
  const base = makers[name]();
  const args = [...base.args];
  const roll = g.nextFloat();
  if (roll < 0.1) return args; // valid call
  if (roll < 0.2) return args.slice(0, g.nextInt(args.length + 1)); // missing arguments
  if (roll < 0.25) return [...args, 1, null]; // extra arguments
  const count = ri(1, 2);
  for (let c = 0; c < count; c++) {
    const i = g.nextInt(args.length);
    args[i] = mutate(args[i], base.kinds[i], args);
  }
  return args;
}

/** A corrupt value for one element of a recorded buffer (labels, indices, registers, state). */
function corrupt(arr: Int32Array | Float32Array | Float64Array): void {
  if (arr.length === 0) return;
  const at = g.nextInt(arr.length);
  if (arr instanceof Int32Array) {
    const v = arr[at];
    const bad = pick([-1, arr.length, 1000, 2_000_000_000, -2147483648, 2147483647, v + 1, v - 1, ri(-3, 12)]);
    if (g.nextFloat() < 0.2) arr.fill(bad);
    else arr[at] = bad;
  } else if (arr instanceof Float64Array) {
    arr[at] = pick([NaN, Infinity, -Infinity, -1, -0.5, 0.5, 1e300, 2 ** 53, 2 ** 60, arr[at] + 1]);
  } else {
    arr[at] = pick([NaN, Infinity, -Infinity, 1e30, -1e30]);
  }
}

/** The typed arrays an argument list passes directly (not inside lists). */
function dataBuffers(args: unknown[]): (Int32Array | Float32Array | Float64Array)[] {
  return args.filter(
    (a): a is Int32Array | Float32Array | Float64Array =>
      a instanceof Int32Array || a instanceof Float32Array || a instanceof Float64Array,
  );
}

describe('recorded programs replayed on corrupted data', () => {
  // Ops whose arguments include data read as indices, counts or state when the op runs (an
  // Int32Array or a Float64Array): derived from the makers' argument kinds.
  const recordable = (name: string): boolean => {
    try {
      new native.Program(new Float64Array(4)).record(name, makers[name]().args, false);
      return true;
    } catch (e) {
      return !(e instanceof TypeError && e.message.includes('unknown op'));
    }
  };
  const indexOps = Object.keys(makers).filter(
    (name) => makers[name]().kinds.some((k) => k === 'i32' || k === 'i32?' || k === 'f64') && recordable(name),
  );

  it('covers the ops with index-like arguments', () => {
    expect(indexOps).toEqual(
      expect.arrayContaining([
        'crossEntropy',
        'crossEntropyBackward',
        'gatherRows',
        'gatherRowsAt',
        'putRowsAt',
        'logScalar',
        'embedding',
        'embeddingBackward',
        'embeddingRenorm',
        'rnn',
        'rnnBackward',
        'sequencePool',
        'sequencePoolBackward',
        'maxPool2dBackward',
        'confusionUpdate',
        'topKUpdate',
        'dropout',
        'randomCropFlip',
        'adamStep',
        'sgdStep',
        'clipGradNorm',
      ]),
    );
  });

  it('either replays or stops with a RangeError naming the op, never crashes', async () => {
    const callable = native as unknown as Record<string, (...a: unknown[]) => unknown>;
    const threads = native.getNumThreads();
    const bad: string[] = [];
    const rejectedBy = new Map<string, number>();
    let runs = 0;
    for (const name of indexOps) {
      for (let c = 0; c < 40; c++) {
        const { args } = makers[name]();
        const program = new native.Program(new Float64Array([0, 0, 0, 0]));
        program.record(name, args, false);
        const buffers = dataBuffers(args);
        for (let round = 0; round < 4; round++) {
          const indexLike = buffers.filter((b) => !(b instanceof Float32Array));
          const target = indexLike.length > 0 && g.nextFloat() < 0.8 ? pick(indexLike) : pick(buffers);
          if (target) corrupt(target);
          runs++;
          // Every third round goes through the async export with the same (corrupted) data.
          const viaAsync = round === 3 && c % 3 === 0 && typeof callable[`${name}Async`] === 'function';
          try {
            if (viaAsync) await callable[`${name}Async`](...args);
            else program.run(1);
          } catch (e) {
            if (!(e instanceof RangeError) || !e.message.startsWith(`${name}: `))
              bad.push(`${name}${viaAsync ? 'Async' : ''}: ${String(e)}`);
            else rejectedBy.set(name, (rejectedBy.get(name) ?? 0) + 1);
          }
        }
        program.clear();
      }
    }
    native.setNumThreads(threads);
    expect(bad).toEqual([]);
    expect(runs).toBeGreaterThan(indexOps.length * 100);
    // The checks fire on replay (not only when the op was recorded) for every op that reads
    // an index, a label, a length or state from a buffer.
    for (const name of [
      'crossEntropy',
      'crossEntropyBackward',
      'gatherRows',
      'gatherRowsAt',
      'embedding',
      'embeddingBackward',
      'sequencePool',
      'maxPool2dBackward',
      'dropout',
      'adamStep',
      'clipGradNorm',
    ])
      expect(rejectedBy.get(name) ?? 0, name).toBeGreaterThan(0);
  });
});

describe('native binding fuzz', () => {
  it('survives 10,000+ random, partly invalid calls with clean JS errors', async () => {
    const names = Object.keys(makers);
    const callable = native as unknown as Record<string, (...a: unknown[]) => unknown>;
    const threads = native.getNumThreads();
    let calls = 0;
    let rejected = 0;
    const badErrors: string[] = [];
    const perFunction = Math.ceil(10_000 / names.length) + 20;
    for (const name of names) {
      for (let c = 0; c < perFunction; c++) {
        const useAsync = c % 5 === 0 && typeof callable[`${name}Async`] === 'function';
        const args = makeCase(name);
        calls++;
        try {
          const r = callable[useAsync ? `${name}Async` : name](...args);
          if (r instanceof Promise) await r;
        } catch (e) {
          rejected++;
          if (!(e instanceof Error)) badErrors.push(`${name}: threw a non-Error ${String(e)}`);
          else if (!e.message.startsWith(`${name}:`) && !/^(\w+): /.test(e.message))
            badErrors.push(`${name}: ${e.message}`);
        }
      }
    }
    native.setNumThreads(threads);
    native.setConvAlgorithm(0);
    native.profilerEnable(false);
    native.profilerTake();
    expect(badErrors).toEqual([]);
    expect(calls).toBeGreaterThanOrEqual(10_000);
    // Most cases are invalid by construction; make sure the fuzzer is not only testing that.
    expect(rejected).toBeGreaterThan(calls * 0.5);
    expect(rejected).toBeLessThan(calls);
  });

  it('starts every function from valid arguments (so mutations reach the deep checks)', () => {
    const callable = native as unknown as Record<string, (...a: unknown[]) => unknown>;
    const threads = native.getNumThreads();
    const failures: string[] = [];
    for (const name of Object.keys(makers))
      for (let c = 0; c < 20; c++) {
        const { args } = makers[name]();
        try {
          callable[name](...args);
        } catch (e) {
          failures.push(`${name}: ${(e as Error).message}`);
          break;
        }
      }
    native.setNumThreads(threads);
    native.setConvAlgorithm(0);
    native.profilerEnable(false);
    expect(failures).toEqual([]);
  });

  it('covers every kernel export', () => {
    const notKernels = new Set([
      'backendInfo',
      'getNumThreads',
      'getConvAlgorithm',
      'profilerTake',
      'rnnSizes',
      'Program',
    ]);
    const missing = Object.keys(native).filter((k) => !k.endsWith('Async') && !(k in makers) && !notKernels.has(k));
    expect(missing).toEqual([]);
  });

  it('names the op and the argument in its errors', () => {
    expect(() =>
      native.gemm(
        false,
        false,
        2,
        2,
        3,
        1,
        new Float32Array(5),
        3,
        new Float32Array(6),
        2,
        0,
        new Float32Array(4),
        2,
        null,
        0,
        0,
        0,
      ),
    ).toThrow("gemm: argument 'a' has 5 elements, needs at least 6");
    expect(() => native.unary(0, new Float32Array(3), new Float32Array(4), 0)).toThrow(
      "unary: argument 'y' has 4 elements, expected 3",
    );
    expect(() => native.permute(new Float32Array(6), [2, 3], [0, 0], new Float32Array(6))).toThrow(
      'permute: perm must be a permutation',
    );
    const buf = new Float32Array(10);
    expect(() =>
      native.gemm(
        false,
        false,
        2,
        2,
        2,
        1,
        buf.subarray(0, 4),
        2,
        buf.subarray(4, 8),
        2,
        0,
        buf.subarray(2, 6),
        2,
        null,
        0,
        0,
        0,
      ),
    ).toThrow("gemm: 'c' and 'a' overlap in memory");
  });
});
