/**
 * `axon-nn bench <suite>`: our kernels, through the public API, side by side with OpenBLAS and
 * oneDNN when their libraries are found at run time (src/cli/peers.ts). Each case warms every
 * contender up, sizes its repetitions to about 50 ms, then times rounds in alternation (ours,
 * peer, ours, peer, ...) so the machine's noise hits all alike, and reports medians and the
 * ratio of medians (ours / peer: above 1, ours is faster). With several threads it pauses after
 * each timing until the library just timed has parked its spinning workers (OpenBLAS's spin for
 * up to ~0.13 s, see ../shared/BENCH-NOTES.md).
 *
 * Kernel suites (gemm, conv, elementwise): "ours" is the op traced once (trace) and replayed
 * natively on the same buffers (Program.run), as Model.fit runs its steps, and the peers write
 * into buffers allocated once: kernel against kernel. "ours eager" calls the op from JS each
 * time, which allocates a fresh output (a new Float32Array, whose first touch page-faults):
 * what a script calling the ops one by one sees.
 *
 * Suites:
 *   gemm         sgemm, square 256..2048 and MLP layer shapes; OpenBLAS cblas_sgemm
 *   conv         3x3 convolutions of ResNet / CNN shapes, forward; oneDNN (on the layout it
 *                picks, reorders not timed) and OpenBLAS as im2col + sgemm
 *   elementwise  add, relu, exp, sigmoid on 1M floats, GB/s; oneDNN eltwise / binary
 *   rnn          an LSTM / GRU training step (forward + backward) through the public layers;
 *                OpenBLAS timing only the step's matrix products (a lower bound, not a framework)
 *   mlp          one Model.fit epoch of a 784-256-128-10 MLP (Adam, batch 64); OpenBLAS timing
 *                only the epoch's matrix products (likewise a lower bound)
 */
import {
  GRU,
  LSTM,
  Linear,
  Model,
  Sequential,
  add,
  backendInfo,
  conv2d,
  exp,
  getNumThreads,
  linear,
  matmul,
  mseLoss,
  randint,
  randn,
  relu,
  setNumThreads,
  sigmoid,
  trace,
  type Tensor,
} from '../index.js';
import { native, type PeerConvGeometry } from '../native/binding.js';
import { findPeer, peerEnvironmentNotes, peerJson, setPeerThreads, type PeerName, type PeerStatus } from './peers.js';

export const SUITES = ['gemm', 'conv', 'elementwise', 'rnn', 'mlp'] as const;
export type Suite = (typeof SUITES)[number];

export interface BenchOptions {
  suite: Suite;
  /** Threads for our pool and the peers'; null keeps our pool's count (and gives the peers the same). */
  threads: number | null;
  rounds: number;
  /** Tiny shapes, no pauses and one repetition: for tests. */
  quick: boolean;
  json: boolean;
}

/** One side of a comparison. */
interface Contender {
  key: string;
  label: string;
  /** ours (the reference of every ratio, first), ours eager (shown, no ratio), or a peer. */
  role: 'ours' | 'eager' | 'peer';
  /** The peer library it needs (null: ours). */
  peer: PeerName | null;
  /** Runs `reps` calls; returns the seconds of one (timed here, or natively by the peer). */
  run(reps: number): number | Promise<number>;
  /** The last call's output, to compare with ours (undefined: not comparable). */
  output?(): Float32Array | undefined;
  /** Pause before timing the next contender, in ms, when running on several threads. */
  settleMs: number;
  /** Extra facts for the JSON report (e.g. oneDNN's implementation name). */
  extra?(): Record<string, unknown>;
  /** Fixed repetitions (an epoch); otherwise sized to ~50 ms. */
  reps?: number;
}

interface Case {
  name: string;
  unit: string;
  /** Units of work per call (FLOP, bytes, sequences, samples) and the divisor for display. */
  work: number;
  scale: number;
  contenders: Contender[];
  /** Extra facts for the JSON report. */
  info?: Record<string, unknown>;
}

interface Measured {
  seconds: number;
  value: number;
  samples: number[];
  reps: number;
}

interface CaseResult {
  case: string;
  unit: string;
  work: number;
  ours: Measured;
  eager?: Measured;
  peers: Record<string, Measured & { label: string; ratio: number; maxRelDiff?: number; [k: string]: unknown }>;
  info?: Record<string, unknown>;
}

const SETTLE_MS = { ours: 5, openblas: 200, onednn: 50 };
const TARGET_SECONDS = 0.05;

const median = (v: readonly number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const f32 = (t: Tensor): Float32Array => t.data as Float32Array;

/** max |a - b| over max |b|: the difference relative to the output's scale. */
export function maxRelDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= diff)) diff = d; // NaN propagates
    const m = Math.abs(b[i]);
    if (m > scale) scale = m;
  }
  return scale > 0 ? diff / scale : diff;
}

/** A contender timed here: `call` runs once and returns its output. */
function timedContender(
  key: string,
  label: string,
  role: Contender['role'],
  peer: PeerName | null,
  call: () => Float32Array | Tensor | void,
): Contender {
  let last: Float32Array | undefined;
  return {
    key,
    label,
    role,
    peer,
    settleMs: peer ? SETTLE_MS[peer] : SETTLE_MS.ours,
    run(reps) {
      const t0 = performance.now();
      let r: Float32Array | Tensor | void = undefined;
      for (let i = 0; i < reps; i++) r = call();
      const s = (performance.now() - t0) / 1000 / reps;
      last = r === undefined ? undefined : r instanceof Float32Array ? r : f32(r);
      return s;
    },
    output: () => last,
  };
}

/** Ours: `op` traced once, then replayed natively on the same buffers. */
function tracedContender(op: () => Tensor): Contender {
  const { program, value } = trace(op, { execute: true });
  return {
    key: 'ours',
    label: 'ours',
    role: 'ours',
    peer: null,
    settleMs: SETTLE_MS.ours,
    run(reps) {
      const t0 = performance.now();
      program.run(reps);
      return (performance.now() - t0) / 1000 / reps;
    },
    output: () => f32(value),
  };
}

/** Ours traced, ours eager, and the peers (given as [key, label, library, call]). */
function kernelContenders(
  op: () => Tensor,
  peers: [string, string, PeerName, () => Float32Array | void][],
): Contender[] {
  return [
    tracedContender(op),
    timedContender('ours-eager', 'ours eager', 'eager', null, op),
    ...peers.map(([key, label, peer, call]) => timedContender(key, label, 'peer', peer, call)),
  ];
}

// ---- OpenBLAS: lists of matrix products -------------------------------------------------------

interface GemmShape {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  count: number;
}

const gemmFlops = (list: readonly GemmShape[]): number => list.reduce((s, g) => s + 2 * g.m * g.n * g.k * g.count, 0);

/** OpenBLAS running only the matrix products of a step or epoch, on buffers allocated once. */
function gemmListContender(list: readonly GemmShape[], calls = 1): Contender {
  const buffers = list.map((g) => ({
    g,
    a: randn([g.m * g.k], { seed: 1 }).data as Float32Array,
    b: randn([g.k * g.n], { seed: 2 }).data as Float32Array,
    c: new Float32Array(g.m * g.n),
  }));
  return {
    key: 'openblas-gemms',
    label: 'OpenBLAS GEMMs only',
    role: 'peer',
    peer: 'openblas',
    settleMs: SETTLE_MS.openblas,
    run(reps) {
      const t0 = performance.now();
      for (let r = 0; r < reps * calls; r++)
        for (const { g, a, b, c } of buffers)
          for (let i = 0; i < g.count; i++) native.peerSgemm(g.transA, g.transB, g.m, g.n, g.k, a, b, c);
      return (performance.now() - t0) / 1000 / reps;
    },
    extra: () => ({ gemmGflop: (gemmFlops(list) * calls) / 1e9 }),
  };
}

// ---- the suites -------------------------------------------------------------------------------

function gemmCases(quick: boolean): Case[] {
  // [label, m, n, k, NT]: NT is a dense layer's X W^T (linear), NN a plain matmul.
  const shapes: [string, number, number, number, boolean][] = quick
    ? [
        ['square 64 (NN)', 64, 64, 64, false],
        ['mlp 8x16x32 (NT, linear)', 8, 16, 32, true],
      ]
    : [
        ['square 256 (NN)', 256, 256, 256, false],
        ['square 512 (NN)', 512, 512, 512, false],
        ['square 1024 (NN)', 1024, 1024, 1024, false],
        ['square 2048 (NN)', 2048, 2048, 2048, false],
        ['mlp 64x256x784 (NT, linear)', 64, 256, 784, true],
        ['mlp 64x128x256 (NT, linear)', 64, 128, 256, true],
        ['mlp 64x256x128 (NN, input grad)', 64, 256, 128, false],
        ['net 64x1024x1024 (NT, linear)', 64, 1024, 1024, true],
      ];
  return shapes.map(([name, m, n, k, nt]) => {
    const a = randn([m, k], { seed: 1 });
    const b = nt ? randn([n, k], { seed: 2 }) : randn([k, n], { seed: 2 });
    const [ad, bd] = [f32(a), f32(b)];
    const c = new Float32Array(m * n);
    return {
      name,
      unit: 'GFLOP/s',
      work: 2 * m * n * k,
      scale: 1e9,
      info: { m, n, k, transB: nt },
      contenders: kernelContenders(nt ? () => linear(a, b) : () => matmul(a, b), [
        [
          'openblas',
          'OpenBLAS',
          'openblas',
          () => {
            native.peerSgemm(false, nt, m, n, k, ad, bd, c);
            return c;
          },
        ],
      ]),
    };
  });
}

function convCases(quick: boolean): Case[] {
  // [label, N, Cin, Cout, H(=W), stride]: 3x3, padding 1.
  const shapes: [string, number, number, number, number, number][] = quick
    ? [['tiny N2 3->4 8x8', 2, 3, 4, 8, 1]]
    : [
        ['resnet conv2 N8 64->64 56x56', 8, 64, 64, 56, 1],
        ['resnet conv3 N8 128->128 28x28', 8, 128, 128, 28, 1],
        ['resnet conv4 N8 256->256 14x14', 8, 256, 256, 14, 1],
        ['resnet conv5 N8 512->512 7x7', 8, 512, 512, 7, 1],
        ['resnet down N8 64->128 56x56 s2', 8, 64, 128, 56, 2],
        ['cnn N64 32->64 14x14', 64, 32, 64, 14, 1],
      ];
  return shapes.map(([name, n, cin, cout, hw, stride]) => {
    const g: PeerConvGeometry = { n, cin, cout, h: hw, w: hw, kh: 3, kw: 3, stride, pad: 1 };
    const oh = Math.floor((hw + 2 - 3) / stride) + 1;
    const x = randn([n, cin, hw, hw], { seed: 1 });
    const w = randn([cout, cin, 3, 3], { seed: 2 }).mul(0.1);
    const b = randn([cout], { seed: 3 });
    const [xd, wd, bd] = [f32(x), f32(w), f32(b)];
    const ySize = n * cout * oh * oh;
    const yDnnl = new Float32Array(ySize);
    const yIm2col = new Float32Array(ySize);
    let dnnlExtra: Record<string, unknown> = {};
    const dnnl: Contender = {
      key: 'onednn',
      label: 'oneDNN',
      role: 'peer',
      peer: 'onednn',
      settleMs: SETTLE_MS.onednn,
      run(reps) {
        const r = native.peerDnnlConv2d(g, xd, wd, bd, yDnnl, reps);
        dnnlExtra = { impl: r.impl, reorderSeconds: r.reorderSeconds };
        return r.seconds;
      },
      output: () => yDnnl,
      extra: () => dnnlExtra,
    };
    const [ours, eager, im2col] = kernelContenders(
      () => conv2d(x, w, b, { padding: 1, stride }),
      [
        [
          'openblas-im2col',
          'OpenBLAS im2col',
          'openblas',
          () => {
            native.peerConv2dIm2col(g, xd, wd, bd, yIm2col);
            return yIm2col;
          },
        ],
      ],
    );
    return {
      name,
      unit: 'GFLOP/s',
      work: 2 * n * cout * oh * oh * cin * 9,
      scale: 1e9,
      info: { ...g },
      contenders: [ours, eager, dnnl, im2col],
    };
  });
}

function elementwiseCases(quick: boolean): Case[] {
  const n = quick ? 4096 : 1 << 20;
  const x = randn([n], { seed: 1 });
  const x2 = randn([n], { seed: 2 });
  const [xd, x2d] = [f32(x), f32(x2)];
  const y = new Float32Array(n);
  const ops: [string, 'add' | 'relu' | 'exp' | 'sigmoid', () => Tensor][] = [
    ['add', 'add', () => add(x, x2)],
    ['relu', 'relu', () => relu(x)],
    ['exp', 'exp', () => exp(x)],
    ['sigmoid', 'sigmoid', () => sigmoid(x)],
  ];
  const label = quick ? `${n}` : '1M';
  return ops.map(([name, op, ours]) => ({
    name: `${name} ${label}`,
    unit: 'GB/s',
    work: (op === 'add' ? 3 : 2) * 4 * n,
    scale: 1e9,
    info: { elements: n, bytesPerElement: op === 'add' ? 12 : 8 },
    contenders: kernelContenders(ours, [
      [
        'onednn',
        'oneDNN',
        'onednn',
        () => {
          native.peerDnnlEltwise(op, xd, op === 'add' ? x2d : null, y);
          return y;
        },
      ],
    ]),
  }));
}

function rnnCases(quick: boolean): Case[] {
  const [B, T, I, H] = quick ? [2, 3, 4, 5] : [32, 50, 32, 128];
  return (['lstm', 'gru'] as const).map((mode) => {
    const G = mode === 'lstm' ? 4 : 3;
    const layer =
      mode === 'lstm'
        ? new LSTM(I, H, { batchFirst: true, returnSequences: false })
        : new GRU(I, H, { batchFirst: true, returnSequences: false });
    const model = new Sequential(layer, new Linear(H, 1));
    const x = randn([B, T, I], { seed: 1 });
    const y = randn([B, 1], { seed: 2 });
    // The step's matrix products: the input projection of all steps at once, the recurrent
    // product per step, and their backward (input and weight gradients; the recurrent weight
    // gradient batched over the steps).
    const gemms: GemmShape[] = [
      { transA: false, transB: true, m: B * T, n: G * H, k: I, count: 1 },
      { transA: false, transB: true, m: B, n: G * H, k: H, count: T },
      { transA: false, transB: false, m: B * T, n: I, k: G * H, count: 1 },
      { transA: true, transB: false, m: G * H, n: I, k: B * T, count: 1 },
      { transA: false, transB: false, m: B, n: H, k: G * H, count: T },
      { transA: true, transB: false, m: G * H, n: H, k: B * T, count: 1 },
    ];
    return {
      name: `${mode.toUpperCase()} in ${I} hidden ${H} seq ${T} batch ${B}, forward+backward`,
      unit: 'seq/s',
      work: B,
      scale: 1,
      info: { mode, batch: B, steps: T, input: I, hidden: H, gemmGflopPerStep: gemmFlops(gemms) / 1e9 },
      contenders: [
        {
          key: 'ours',
          label: 'ours',
          role: 'ours',
          peer: null,
          settleMs: SETTLE_MS.ours,
          run(reps: number) {
            const t0 = performance.now();
            for (let r = 0; r < reps; r++) {
              model.zeroGrad();
              mseLoss(model.forward(x), y).backward();
            }
            return (performance.now() - t0) / 1000 / reps;
          },
        },
        gemmListContender(gemms),
      ],
    };
  });
}

async function mlpCases(quick: boolean): Promise<Case[]> {
  const [rows, layers, batch] = quick ? [256, [32, 16, 4], 64] : [60000, [784, 256, 128, 10], 64];
  const x = randn([rows, layers[0]], { seed: 1 });
  const y = randint(0, layers[layers.length - 1], [rows], { seed: 2 });
  const dense: Linear[] = [];
  for (let i = 0; i + 1 < layers.length; i++)
    dense.push(new Linear(layers[i], layers[i + 1], i + 2 < layers.length ? { activation: 'relu' } : {}));
  const model = new Model(new Sequential(...dense)).compile({ optimizer: 'adam', loss: 'crossEntropy' });
  // Warm-up (and the first fit's tracing) on a slice.
  const warm = Math.min(rows, 6400);
  await model.fit(x.slice(0, warm), y.slice(0, warm), { epochs: 1, batchSize: batch, verbose: 0, shuffle: false });
  const batches = Math.ceil(rows / batch);
  // One batch's products: forward X W^T, weight gradient dY^T X, input gradient dY W (not for
  // the first layer). The last, partial batch is counted as a full one.
  const gemms: GemmShape[] = [];
  for (let i = 0; i + 1 < layers.length; i++) {
    const [inF, outF] = [layers[i], layers[i + 1]];
    gemms.push({ transA: false, transB: true, m: batch, n: outF, k: inF, count: 1 });
    gemms.push({ transA: true, transB: false, m: outF, n: inF, k: batch, count: 1 });
    if (i > 0) gemms.push({ transA: false, transB: false, m: batch, n: inF, k: outF, count: 1 });
  }
  return [
    {
      name: `MLP ${layers.join('-')} Adam batch ${batch}, one epoch of ${rows} rows`,
      unit: 'samples/s',
      work: rows,
      scale: 1,
      info: { rows, layers, batch, gemmGflopPerEpoch: (gemmFlops(gemms) * batches) / 1e9 },
      contenders: [
        {
          key: 'ours',
          label: 'ours',
          role: 'ours',
          peer: null,
          settleMs: SETTLE_MS.ours,
          reps: 1,
          async run() {
            const t0 = performance.now();
            await model.fit(x, y, { epochs: 1, batchSize: batch, verbose: 0, shuffle: false });
            return (performance.now() - t0) / 1000;
          },
        },
        { ...gemmListContender(gemms, batches), reps: 1 },
      ],
    },
  ];
}

// ---- running ------------------------------------------------------------------------------------

async function calibrate(c: Contender, quick: boolean): Promise<number> {
  if (c.reps !== undefined) {
    await c.run(c.reps); // warm-up
    return c.reps;
  }
  await c.run(1); // warm-up, and the output to compare
  if (quick) return 1;
  const once = await c.run(1);
  return Math.max(1, Math.min(100_000, Math.round(TARGET_SECONDS / Math.max(once, 1e-7))));
}

async function runCase(cs: Case, rounds: number, threads: number, quick: boolean): Promise<CaseResult> {
  const reps: number[] = [];
  const diffs = new Map<string, number>();
  for (const c of cs.contenders) reps.push(await calibrate(c, quick));
  const ref = cs.contenders[0].output?.();
  for (const c of cs.contenders.slice(1)) {
    const out = c.output?.();
    if (ref && out && c.role === 'peer') diffs.set(c.key, maxRelDiff(ref, out));
  }
  const samples: number[][] = cs.contenders.map(() => []);
  let previous: Contender | null = null;
  for (let r = 0; r < rounds; r++)
    for (let i = 0; i < cs.contenders.length; i++) {
      const c = cs.contenders[i];
      if (previous && threads > 1 && !quick) await sleep(previous.settleMs);
      samples[i].push(await c.run(reps[i]));
      previous = c;
    }
  const measure = (i: number): Measured => {
    const seconds = median(samples[i]);
    return { seconds, value: cs.work / seconds / cs.scale, samples: samples[i], reps: reps[i] };
  };
  const mine = measure(0);
  const eagerAt = cs.contenders.findIndex((c) => c.role === 'eager');
  const peers: CaseResult['peers'] = {};
  cs.contenders.forEach((c, i) => {
    if (c.role !== 'peer') return;
    const m = measure(i);
    const d = diffs.get(c.key);
    peers[c.key] = {
      label: c.label,
      ...m,
      ratio: mine.value / m.value,
      ...(d !== undefined ? { maxRelDiff: d } : {}),
      ...(c.extra?.() ?? {}),
    };
  });
  return {
    case: cs.name,
    unit: cs.unit,
    work: cs.work,
    ours: mine,
    ...(eagerAt >= 0 ? { eager: measure(eagerAt) } : {}),
    peers,
    ...(cs.info ? { info: cs.info } : {}),
  };
}

const SUITE_PEERS: Record<Suite, PeerName[]> = {
  gemm: ['openblas'],
  conv: ['onednn', 'openblas'],
  elementwise: ['onednn'],
  rnn: ['openblas'],
  mlp: ['openblas'],
};

const KERNEL_NOTE =
  'ours: the op traced once and replayed natively on the same buffers; peers write into buffers allocated once; ours eager: the op called from JS, allocating its output each call';
const SUITE_NOTES: Record<Suite, string[]> = {
  gemm: ['ours: matmul (NN) and linear (NT, a dense layer X W^T); OpenBLAS: cblas_sgemm, row-major'],
  conv: [
    'ours: conv2d (NCHW, algorithm auto), forward with bias; 3x3 kernels, padding 1',
    'GFLOP/s count the direct convolution (2 N Cout OH OW Cin 9) whatever the algorithm: ours runs Winograd F(4x4,3x3) on stride-1 layers (setConvAlgorithm auto), so its figure is an effective rate and may exceed the FMA peak',
    'oneDNN: forward inference, algorithm auto, on the memory layouts it picks (format_tag any); only the convolution is timed (reorders from/to NCHW excluded, in the JSON as reorderSeconds)',
    'OpenBLAS im2col: columns built by one thread, one image at a time, then cblas_sgemm (threaded) per image',
  ],
  elementwise: [
    'GB/s counts 4 bytes per element read and written (add: 12, the others: 8)',
    'oneDNN: eltwise relu / exp / logistic and binary add (forward inference) on plain 1-D buffers',
  ],
  rnn: [
    'ours: zeroGrad, forward, MSE loss and backward through the public layers (LSTM / GRU, batch-first, last step) plus a Linear head',
    'OpenBLAS GEMMs only: just the matrix products of such a step, on preallocated buffers: a lower bound for a BLAS-based implementation, not a framework',
  ],
  mlp: [
    'ours: one Model.fit epoch (shuffle off), after a warm-up fit',
    "OpenBLAS GEMMs only: just the epoch's matrix products (forward, weight and input gradients), on preallocated buffers: a lower bound, not a framework",
  ],
};

const fmt = (v: number): string =>
  !Number.isFinite(v) ? String(v) : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);

/** Runs a suite and prints its table (or JSON); returns the report. */
export async function runBench(
  options: BenchOptions,
  pkg: { name: string; version: string },
): Promise<Record<string, unknown>> {
  const { suite, rounds, quick } = options;
  if (options.threads !== null) setNumThreads(options.threads);
  const threads = getNumThreads();
  const statuses: Record<string, PeerStatus> = {};
  for (const p of SUITE_PEERS[suite]) statuses[p] = findPeer(p);
  const peerThreads = setPeerThreads(threads);
  const kernelSuite = suite === 'gemm' || suite === 'conv' || suite === 'elementwise';
  const notes = [...(kernelSuite ? [KERNEL_NOTE] : []), ...SUITE_NOTES[suite], ...peerEnvironmentNotes()];
  if (statuses.onednn?.found && peerThreads.onednn === null)
    notes.push(
      `oneDNN's thread count cannot be set from here (${statuses.onednn.library?.threading} runtime): it uses its default`,
    );

  const cases =
    suite === 'gemm'
      ? gemmCases(quick)
      : suite === 'conv'
        ? convCases(quick)
        : suite === 'elementwise'
          ? elementwiseCases(quick)
          : suite === 'rnn'
            ? rnnCases(quick)
            : await mlpCases(quick);
  for (const cs of cases) cs.contenders = cs.contenders.filter((c) => c.peer === null || statuses[c.peer]?.found);

  const info = backendInfo();
  const header = [
    `# ${pkg.name} ${pkg.version} bench ${suite}: ${threads} thread${threads === 1 ? '' : 's'}, ${rounds} round${rounds === 1 ? '' : 's'}${quick ? ' (quick)' : ''}; medians; ratio = ours / peer (above 1: ours faster)`,
    // (cpu is absent from an addon built before backendInfo reported it.)
    `# ${info.isa} on ${info.cpu ? `${info.cpu.brand || info.cpu.arch} (${info.cpu.microarchitecture})` : process.arch}`,
    ...Object.values(statuses).map((s) => `# ${s.summary}`),
    `# threads: ours ${threads}${Object.values(statuses)
      .filter((s) => s.found)
      .map((s) => `, ${s.label} ${peerThreads[s.name] ?? 'default (not settable)'}`)
      .join('')}`,
    ...notes.map((n) => `# ${n}`),
  ];
  const columns = cases[0]?.contenders.map((c) => ({ key: c.key, label: c.label, role: c.role })) ?? [];
  const hasEager = columns.some((c) => c.role === 'eager');
  const peerCols = columns.filter((c) => c.role === 'peer');
  if (!options.json) {
    console.log(header.join('\n'));
    const unit = cases[0]?.unit ?? '';
    console.log(
      `| case | ours ${unit} |${hasEager ? ` ours eager ${unit} |` : ''}${peerCols
        .map((c) => ` ${c.label} ${unit} | ours / ${c.label} |`)
        .join('')}`,
    );
    console.log(`|---|---:|${hasEager ? '---:|' : ''}${peerCols.map(() => '---:|---:|').join('')}`);
  }
  const results: CaseResult[] = [];
  for (const cs of cases) {
    const r = await runCase(cs, rounds, threads, quick);
    results.push(r);
    if (!options.json)
      console.log(
        `| ${r.case} | ${fmt(r.ours.value)} |${r.eager ? ` ${fmt(r.eager.value)} |` : ''}${peerCols
          .map((c) => {
            const p = r.peers[c.key];
            return p ? ` ${fmt(p.value)} | ${p.ratio.toFixed(2)} |` : ' - | - |';
          })
          .join('')}`,
      );
  }
  const report = {
    command: 'bench',
    suite,
    package: pkg,
    quick,
    rounds,
    threads: { axon: threads, ...peerThreads },
    isa: info.isa,
    cpu: info.cpu,
    peers: Object.fromEntries(Object.entries(statuses).map(([k, s]) => [k, peerJson(s)])),
    notes,
    columns,
    results,
  };
  if (options.json) console.log(JSON.stringify(report, null, 2));
  return report;
}
