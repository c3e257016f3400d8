/**
 * Convolution, pooling and normalisation through the public ops, on every SIMD level (this
 * directory runs once per level): outputs and input gradients against PyTorch's
 * (tests/fixtures/torch-conv.json, from tools/torch_conv_reference.py), finite-difference
 * gradient checks of every op and layer, thread counts 1 and 2, and clear errors for
 * impossible geometry.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { UnaryCode, native } from '../../src/native/binding.js';
import {
  AdaptiveAvgPool2d,
  AvgPool2d,
  BatchNorm1d,
  BatchNorm2d,
  ReLU,
  Sequential,
  Conv1d,
  Conv2d,
  ConvTranspose2d,
  GlobalAvgPool2d,
  LayerNorm,
  MaxPool2d,
  Tensor,
  adaptiveAvgPool2d,
  avgPool2d,
  batchNorm,
  conv1d,
  conv2d,
  convTranspose2d,
  getConvAlgorithm,
  getNumThreads,
  globalAvgPool2d,
  gradcheck,
  layerNorm,
  manualSeed,
  maxPool2d,
  noGrad,
  randn,
  profile,
  relu,
  setConvAlgorithm,
  setNumThreads,
  type ConvAlgorithm,
} from '../../src/index.js';

interface Case {
  name: string;
  inputs: { shape: number[]; data: number[] }[];
  out: { shape: number[]; data: number[] };
  upstream: number[];
  grads: number[][];
}
const fixture = JSON.parse(readFileSync('tests/fixtures/torch-conv.json', 'utf8')) as {
  cases: Case[];
  batch_norm_running: { mean: number[]; var: number[] };
};

const ops: Record<string, (...t: Tensor[]) => Tensor> = {
  conv2d: (a, w, b) => conv2d(a, w, b),
  conv2d_stride2_pad1: (a, w, b) => conv2d(a, w, b, { stride: 2, padding: 1 }),
  conv2d_dilation2_pad2: (a, w) => conv2d(a, w, null, { padding: 2, dilation: 2 }),
  conv2d_groups2: (a, w, b) => conv2d(a, w, b, { padding: 1, groups: 2 }),
  conv2d_depthwise: (a, w) => conv2d(a, w, null, { padding: 1, groups: 4 }),
  conv2d_same_5x5: (a, w) => conv2d(a, w, null, { padding: 'same' }),
  conv1d_stride2: (a, w, b) => conv1d(a, w, b, { stride: 2, padding: 1 }),
  conv_transpose2d: (a, w, b) => convTranspose2d(a, w, b, { stride: 2, padding: 1, outputPadding: 1 }),
  conv_transpose2d_groups: (a, w) => convTranspose2d(a, w, null, { groups: 2 }),
  max_pool2d: (a) => maxPool2d(a, 2),
  max_pool2d_ceil_pad: (a) => maxPool2d(a, 3, { stride: 2, padding: 1, ceilMode: true }),
  max_pool2d_dilation: (a) => maxPool2d(a, 2, { stride: 1, dilation: 2 }),
  avg_pool2d: (a) => avgPool2d(a, 3, { stride: 2, padding: 1 }),
  avg_pool2d_no_pad_count_ceil: (a) =>
    avgPool2d(a, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }),
  adaptive_avg_pool2d: (a) => adaptiveAvgPool2d(a, [4, 3]),
  batch_norm_train: (a, w, b) => batchNorm(a, { weight: w, bias: b, training: true }),
  batch_norm_relu_train: (a, w, b) => batchNorm(a, { weight: w, bias: b, training: true, activation: 'relu' }),
  batch_norm_add_relu_train: (a, w, b, res) =>
    batchNorm(a, { weight: w, bias: b, training: true, residual: res, activation: 'relu' }),
  layer_norm: (a, w, b) => layerNorm(a, [9, 8], w, b),
};

const initialThreads = getNumThreads();
afterAll(() => setNumThreads(initialThreads));

function close(actual: ArrayLike<number>, want: number[], what: string, atol = 2e-5, rtol = 2e-5): void {
  expect(actual.length, what).toBe(want.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const r = Math.abs(actual[i] - want[i]) / (atol + rtol * Math.abs(want[i]));
    if (r > worst) [worst, at] = [r, i];
  }
  expect(worst, `${what}: element ${at} is ${actual[at]}, PyTorch ${want[at]}`).toBeLessThanOrEqual(1);
}

describe('against PyTorch', () => {
  for (const threads of [1, 2])
    for (const c of fixture.cases)
      it(`${c.name} (${threads} thread${threads > 1 ? 's' : ''})`, () => {
        setNumThreads(threads);
        const fn = ops[c.name];
        expect(fn, `no op for ${c.name}`).toBeDefined();
        const inputs = c.inputs.map((t) => new Tensor(Float32Array.from(t.data), t.shape).setRequiresGrad());
        const out = fn(...inputs);
        expect(out.shape).toEqual(c.out.shape);
        // Tolerances scale with the reduction length (K multiply-adds in float32).
        close(out.data, c.out.data, `${c.name} output`, 1e-4, 1e-4);
        out.backward(new Tensor(Float32Array.from(c.upstream), out.shape));
        inputs.forEach((t, i) => close(t.grad?.data ?? [], c.grads[i], `${c.name} gradient of input ${i}`, 2e-4, 2e-4));
      });

  it('batch norm running statistics after three steps (momentum 0.1, unbiased variance)', () => {
    const bn = new BatchNorm2d(4);
    for (let s = 0; s < 3; s++) {
      const n = 3 * 4 * 5 * 5;
      const x = new Tensor(
        Float32Array.from({ length: n }, (_, i) => Math.sin((0.3 + 0.1 * s) * i + s) + 0.3 * Math.cos(0.37 * i)),
        [3, 4, 5, 5],
      );
      bn.forward(x);
    }
    close(bn.buffer('running_mean').data, fixture.batch_norm_running.mean, 'running_mean', 1e-6, 1e-5);
    close(bn.buffer('running_var').data, fixture.batch_norm_running.var, 'running_var', 1e-6, 1e-5);
    // Evaluation uses them: y = (x - mean) / sqrt(var + eps)
    bn.eval();
    const x = randn([2, 4, 3, 3], { seed: 3 });
    const y = noGrad(() => bn.forward(x));
    const m = bn.buffer('running_mean').data;
    const v = bn.buffer('running_var').data;
    for (let i = 0; i < x.size; i++) {
      const c = Math.floor(i / 9) % 4;
      expect(y.data[i]).toBeCloseTo((x.data[i] - m[c]) / Math.sqrt(v[c] + 1e-5), 5);
    }
  });
});

describe('finite-difference gradient checks', () => {
  // Linear ops are exact under any step, so a large step (1e-2) keeps float32 rounding noise
  // in the forward far below the tolerance; kinked ones (max, relu) use inputs away from ties.
  const opts = { eps: 1e-2, atol: 2e-3, rtol: 2e-3, maxElements: 60 };
  const r = (shape: number[], seed: number): Tensor => randn(shape, { seed }).setRequiresGrad();

  it('conv2d: stride, asymmetric padding, dilation, groups, depthwise, 1x1, fused tanh', () => {
    const x = r([2, 4, 9, 7], 1);
    const cases: [Tensor, Parameters<typeof conv2d>[3]][] = [
      [r([3, 4, 3, 2], 2), { stride: [2, 1], padding: [1, 0, 2, 1] }],
      [r([4, 4, 3, 3], 3), { dilation: [2, 1], padding: 'same' }],
      [r([6, 2, 3, 3], 4), { groups: 2, stride: 3, padding: 1 }],
      [r([4, 1, 3, 3], 5), { groups: 4, padding: 1 }],
      [r([5, 4, 1, 1], 6), {}],
      [r([3, 4, 3, 3], 7), { activation: 'tanh', padding: 1 }],
    ];
    for (const [w, o] of cases) {
      const b = r([w.shape[0]], 8);
      const res = gradcheck((a, ww, bb) => conv2d(a, ww, bb, o), [x, w, b], opts);
      expect(res.ok, `${JSON.stringify(o)}: ratio ${res.worstRatio}`).toBe(true);
    }
  });

  it('conv2d under each algorithm: Winograd 3x3 and 5x5 (odd sizes, asymmetric padding) and the implicit GEMM', () => {
    // Linear in every input, so a step of 0.1 is exact but for rounding, which Winograd's
    // transforms make a little larger than the direct sum's (the fused activations' backward
    // does not depend on the algorithm; the native tests hold their forward to the reference).
    const linear = { ...opts, eps: 0.1 };
    const x = r([2, 5, 9, 7], 11);
    const cases: [Tensor, Parameters<typeof conv2d>[3]][] = [
      [r([6, 5, 3, 3], 12), { padding: [1, 0, 2, 1] }],
      [r([3, 5, 5, 5], 13), { padding: 'same' }],
      [r([4, 5, 3, 3], 14), {}],
    ];
    try {
      for (const algorithm of ['winograd', 'gemm'] as const) {
        setConvAlgorithm(algorithm);
        for (const [w, o] of cases) {
          const b = r([w.shape[0]], 15);
          const res = gradcheck((a, ww, bb) => conv2d(a, ww, bb, o), [x, w, b], linear);
          expect(res.ok, `${algorithm} ${JSON.stringify(o)}: ratio ${res.worstRatio}`).toBe(true);
        }
      }
    } finally {
      setConvAlgorithm('auto');
    }
  });

  it('conv1d and convTranspose2d', () => {
    expect(
      gradcheck(
        (a, w) => conv1d(a, w, null, { padding: 'same', dilation: 2 }),
        [r([2, 3, 13], 1), r([4, 3, 3], 2)],
        opts,
      ).ok,
    ).toBe(true);
    const res = gradcheck(
      (a, w, b) => convTranspose2d(a, w, b, { stride: [2, 3], padding: [1, 0], outputPadding: [1, 2], dilation: 1 }),
      [r([2, 3, 4, 5], 3), r([3, 2, 3, 3], 4), r([2], 5)],
      opts,
    );
    expect(res.ok, `ratio ${res.worstRatio}`).toBe(true);
  });

  it('pooling, global pooling and normalisation', () => {
    // Distinct values spaced well beyond the step keep max pooling away from ties.
    const n = 2 * 3 * 7 * 6;
    const perm = Float32Array.from({ length: n }, (_, i) => ((i * 37) % n) * 0.1);
    const x = new Tensor(perm, [2, 3, 7, 6]).setRequiresGrad();
    for (const f of [
      (a: Tensor) => maxPool2d(a, 3, { stride: 2, padding: 1, ceilMode: true }),
      (a: Tensor) => maxPool2d(a, 2, { dilation: 2, stride: 1 }),
      (a: Tensor) => avgPool2d(a, 3, { stride: 2, padding: 1, countIncludePad: false }),
      (a: Tensor) => adaptiveAvgPool2d(a, [3, 4]),
      (a: Tensor) => globalAvgPool2d(a),
    ])
      expect(gradcheck(f, [x], opts).ok).toBe(true);
    const xs = r([4, 3, 5, 2], 9);
    const bn = gradcheck((a, g, b) => batchNorm(a, { weight: g, bias: b }), [xs, r([3], 10), r([3], 11)], {
      ...opts,
      eps: 1e-3,
      atol: 5e-3,
      rtol: 5e-3,
    });
    expect(bn.ok, `batch norm ratio ${bn.worstRatio}`).toBe(true);
    const bnAdd = gradcheck(
      (a, g, b, res) => batchNorm(a, { weight: g, bias: b, residual: res }),
      [xs, r([3], 10), r([3], 11), r([4, 3, 5, 2], 14)],
      { ...opts, eps: 1e-3, atol: 5e-3, rtol: 5e-3 },
    );
    expect(bnAdd.ok, `batch norm + residual ratio ${bnAdd.worstRatio}`).toBe(true);
    // The cross-replica path (statistics and gradient sums from separate kernels, then the
    // norm from the summed ones) on one replica: the same function, so the same gradients.
    const bnSync = gradcheck(
      (a, g, b, res) =>
        batchNorm(a, { weight: g, bias: b, residual: res, activation: 'relu', syncStatistics: () => {} }),
      [xs, r([3], 10), r([3], 11), r([4, 3, 5, 2], 14)],
      { ...opts, eps: 1e-3, atol: 5e-3, rtol: 5e-3 },
    );
    expect(bnSync.ok, `synchronized batch norm ratio ${bnSync.worstRatio}`).toBe(true);
    const ln = gradcheck((a, g, b) => layerNorm(a, [5, 2], g, b), [xs, r([5, 2], 12), r([5, 2], 13)], {
      ...opts,
      eps: 1e-3,
      atol: 5e-3,
      rtol: 5e-3,
    });
    expect(ln.ok, `layer norm ratio ${ln.worstRatio}`).toBe(true);
  });

  it('every layer', () => {
    manualSeed(4);
    const layers: [string, { forward(x: Tensor): Tensor; parameters(): Tensor[] }, number[]][] = [
      ['Conv2d', new Conv2d(3, 4, 3, { padding: 1, stride: 2 }), [2, 3, 6, 5]],
      ['Conv1d', new Conv1d(3, 2, 3, { padding: 1 }), [2, 3, 8]],
      ['ConvTranspose2d', new ConvTranspose2d(3, 2, 2, { stride: 2 }), [1, 3, 3, 4]],
      ['AvgPool2d', new AvgPool2d(2), [1, 2, 4, 6]],
      ['AdaptiveAvgPool2d', new AdaptiveAvgPool2d([2, 3]), [1, 2, 5, 7]],
      ['GlobalAvgPool2d', new GlobalAvgPool2d(), [2, 3, 4, 4]],
      ['BatchNorm1d', new BatchNorm1d(3), [5, 3]],
      ['BatchNorm2d', new BatchNorm2d(2), [3, 2, 3, 3]],
      ['LayerNorm', new LayerNorm([4]), [3, 4]],
    ];
    for (const [name, layer, shape] of layers) {
      const x = r(shape, 20);
      const params = layer.parameters();
      const res = gradcheck(
        (a, ...ps) => {
          void ps;
          return layer.forward(a);
        },
        [x, ...params],
        { ...opts, eps: name.startsWith('Batch') || name === 'LayerNorm' ? 1e-3 : 1e-2, atol: 5e-3, rtol: 5e-3 },
      );
      expect(res.ok, `${name}: ratio ${res.worstRatio}`).toBe(true);
    }
    const mp = new MaxPool2d(2);
    expect(mp.forward(randn([1, 1, 4, 4])).shape).toEqual([1, 1, 2, 2]);
  });
});

describe('geometry and errors', () => {
  it('output shapes follow PyTorch', () => {
    expect(new Conv2d(3, 8, 3, { stride: 2, padding: 1 }).outputShape([4, 3, 32, 32])).toEqual([4, 8, 16, 16]);
    expect(new Conv2d(3, 8, [3, 5], { padding: 'same' }).outputShape([1, 3, 7, 9])).toEqual([1, 8, 7, 9]);
    expect(new Conv2d(3, 8, 3, { padding: 'same', stride: 2 }).outputShape([1, 3, 7, 9])).toEqual([1, 8, 4, 5]);
    expect(conv2d(randn([1, 2, 5, 5]), randn([3, 2, 5, 5])).shape).toEqual([1, 3, 1, 1]); // kernel = input
    expect(convTranspose2d(randn([1, 4, 5, 5]), randn([4, 2, 4, 4]), null, { stride: 2, padding: 1 }).shape).toEqual([
      1, 2, 10, 10,
    ]);
    expect(maxPool2d(randn([1, 1, 5, 5]), 2, { ceilMode: true }).shape).toEqual([1, 1, 3, 3]);
    expect(maxPool2d(randn([1, 1, 5, 5]), 2).shape).toEqual([1, 1, 2, 2]);
  });

  it('setConvAlgorithm: the profiler names the algorithm that ran, the results agree, a bad name is refused', () => {
    expect(getConvAlgorithm()).toBe('auto');
    const x = randn([2, 32, 13, 11], { seed: 21 });
    const w = randn([24, 32, 5, 5], { seed: 22 }).mul(0.05);
    const run = (algorithm: ConvAlgorithm): { y: Float32Array; shapes: string } => {
      setConvAlgorithm(algorithm);
      try {
        const report = profile(() => noGrad(() => conv2d(x, w, null, { padding: 2 })));
        const y = noGrad(() => conv2d(x, w, null, { padding: 2 })).data as Float32Array;
        return { y, shapes: report.rows().find((row) => row.op === 'conv2d')?.shapes ?? '' };
      } finally {
        setConvAlgorithm('auto');
      }
    };
    const auto = run('auto');
    const gemm = run('gemm');
    const winograd = run('winograd');
    expect(auto.shapes).toBe('N2 32->24 13x11 k5x5 s1 winograd-f2x2-5x5');
    expect(gemm.shapes).toMatch(/ implicit-gemm$/);
    expect(winograd.shapes).toMatch(/ winograd-f2x2-5x5$/);
    close(winograd.y, Array.from(gemm.y), 'winograd vs implicit GEMM', 1e-4, 1e-4);
    expect(() => setConvAlgorithm('fft' as ConvAlgorithm)).toThrow(
      /setConvAlgorithm: expected one of auto, gemm, winograd, got fft/,
    );
    expect(() => native.setConvAlgorithm(3)).toThrow(/setConvAlgorithm/);
    expect(getConvAlgorithm()).toBe('auto');
  });

  it('a max pool after a relu applies the relu gradient itself: same gradients, one pass fewer', () => {
    const x = randn([2, 3, 10, 9], { seed: 31 }).setRequiresGrad();
    const w = randn([8, 3, 3, 3], { seed: 32 }).setRequiresGrad();
    const b = randn([8], { seed: 33 }).mul(0.5).setRequiresGrad();
    const upstream = randn([2, 8, 5, 4], { seed: 34 });
    type Net = (x: Tensor, w: Tensor, b: Tensor) => Tensor;
    const run = (net: Net): { grads: Float32Array[]; reluPasses: number } => {
      for (const t of [x, w, b]) t.grad = null;
      const report = profile(() => net(x, w, b).mul(upstream).sum().backward());
      const reluPasses = report.rows().filter((row) => row.op === 'unaryBackward').length;
      return { grads: [x, w, b].map((t) => t.grad?.data as Float32Array), reluPasses };
    };
    const fused: Net = (a, ww, bb) => maxPool2d(conv2d(a, ww, bb, { padding: 1, activation: 'relu' }), 2);
    const reluOp: Net = (a, ww, bb) => maxPool2d(relu(conv2d(a, ww, bb, { padding: 1 })), 2);
    // The relu output also feeds a second consumer: the pool's gradient is summed with that
    // one, so the relu's backward must run.
    const shared: Net = (a, ww, bb) => {
      const y = conv2d(a, ww, bb, { padding: 1, activation: 'relu' });
      return maxPool2d(y, 2).add(maxPool2d(y.mul(0.5), 2));
    };
    const sharedPlain: Net = (a, ww, bb) => {
      const y = relu(conv2d(a, ww, bb, { padding: 1 }).add(0));
      return maxPool2d(y.add(0), 2).add(maxPool2d(y.mul(0.5), 2));
    };
    // The reference: the relu's gradient taken by its own kernel (an add between the relu and
    // the pool hides that the pool's input is a relu's output).
    const plain: Net = (a, ww, bb) => maxPool2d(relu(conv2d(a, ww, bb, { padding: 1 })).add(0), 2);
    const want = run(plain);
    expect(want.reluPasses).toBe(1);
    for (const [name, net] of [
      ['fused', fused],
      ['relu op', reluOp],
    ] as const) {
      const got = run(net);
      expect(got.reluPasses, name).toBe(0);
      got.grads.forEach((g, i) => close(g, Array.from(want.grads[i]), `${name} grad ${i}`, 1e-6, 1e-6));
    }
    const got = run(shared);
    expect(got.reluPasses).toBe(1);
    const ref = run(sharedPlain);
    got.grads.forEach((g, i) => close(g, Array.from(ref.grads[i]), `shared grad ${i}`, 1e-5, 1e-5));
  });

  it('batch norm with its relu and residual add fused: the same values and gradients as the separate ops, in one pass each way', () => {
    const x = randn([4, 6, 5, 7], { seed: 41 }).mul(2).add(3).setRequiresGrad();
    const shortcut = randn([4, 6, 5, 7], { seed: 42 }).setRequiresGrad();
    const upstream = randn([4, 6, 5, 7], { seed: 43 });
    const grads = (net: (bn: BatchNorm2d) => Tensor): { y: Float32Array; g: Float32Array[]; ops: string[] } => {
      manualSeed(5);
      const bn = new BatchNorm2d(6);
      bn.weight?.data.set([0.5, 1, 1.5, 2, 0.7, 1.2]);
      bn.bias?.data.set([0.1, -0.2, 0.3, 0, -0.1, 0.2]);
      x.grad = null;
      shortcut.grad = null;
      let y: Tensor | null = null;
      const report = profile(() => {
        y = net(bn);
        y.mul(upstream).sum().backward();
      });
      const out = y as unknown as Tensor;
      const params = [bn.weight, bn.bias] as Tensor[];
      return {
        y: out.data as Float32Array,
        g: [x, shortcut, ...params].map((t) => (t.grad?.data as Float32Array) ?? new Float32Array(0)),
        ops: report.rows().map((row) => row.op),
      };
    };
    const plain = grads((bn) => relu(bn.forward(x).add(shortcut)));
    const fused = grads((bn) => bn.forwardFused(x, { residual: shortcut, activation: 'relu' }));
    close(fused.y, Array.from(plain.y), 'fused output', 1e-5, 1e-5);
    fused.g.forEach((g, i) => close(g, Array.from(plain.g[i]), `fused gradient ${i}`, 1e-4, 1e-4));
    // no relu pass either way, and no add but the loss's multiply by the upstream
    expect(fused.ops.filter((op) => op === 'unary' || op === 'unaryBackward' || op === 'binary')).toEqual(['binary']);
    // (the report's rows are ordered by time, not by call)
    expect(fused.ops.filter((op) => op.startsWith('batchNorm')).sort()).toEqual(['batchNorm', 'batchNormBackward']);
    // Sequential fuses a norm and the ReLU after it in training as well.
    const seqPlain = grads((bn) => relu(bn.forward(x)));
    const seq = grads((bn) => new Sequential(bn, new ReLU()).forward(x));
    close(seq.y, Array.from(seqPlain.y), 'Sequential output', 1e-5, 1e-5);
    close(seq.g[0], Array.from(seqPlain.g[0]), 'Sequential input gradient', 1e-4, 1e-4);
    expect(seq.ops.filter((op) => op === 'unary' || op === 'unaryBackward')).toEqual([]);
    // Refused: a residual of another shape, an unknown activation, an unknown key.
    const bn = new BatchNorm2d(6);
    expect(() => bn.forwardFused(x, { residual: randn([4, 6, 5, 6]) })).toThrow(
      "batchNorm: residual must have the input's shape [4,6,5,7], got [4,6,5,6]",
    );
    expect(() => bn.forwardFused(x, { activation: 'gelu' as never })).toThrow(
      "batchNorm: activation must be 'relu' or 'none', got gelu",
    );
    expect(() => bn.forwardFused(x, { shortcut } as never)).toThrow(
      /BatchNorm2d.forwardFused: unknown option 'shortcut'/,
    );
  });

  it('impossible geometry and bad inputs give clear errors naming the op and the shapes', () => {
    expect(() => conv2d(randn([1, 3, 2, 2]), randn([4, 3, 3, 3]))).toThrow(
      'conv2d: kernel 3x3 (dilation 1x1) is larger than the padded input 2x2 (input [1,3,2,2])',
    );
    expect(() => conv2d(randn([1, 3, 8, 8]), randn([4, 2, 3, 3]))).toThrow(
      /conv2d: input \[1,3,8,8\] has 3 channels but weight \[4,2,3,3\] expects 2/,
    );
    expect(() => new Conv2d(3, 4, 3, { groups: 2 })).toThrow(
      'Conv2d: inChannels 3 and outChannels 4 must be divisible by groups 2',
    );
    expect(() => new Conv2d(3, 4, 0)).toThrow('Conv2d: kernelSize must be positive integers');
    expect(() => new Conv2d(3, 4, 3, { stride: 0 })).toThrow('Conv2d: stride must be positive integers');
    expect(() => new Conv2d(3, 4, 3).forward(randn([1, 2, 8, 8]))).toThrow(
      'Conv2d(3, 4): input must be [N, 3, H, W], got [1,2,8,8]',
    );
    expect(() => conv2d(randn([1, 3, 8, 8]), randn([4, 3, 3, 3]), null, { padding: [1, 2, 3] as never })).toThrow(
      "conv2d: padding must be 'valid', 'same'",
    );
    expect(() => maxPool2d(randn([1, 1, 4, 4]), 3, { padding: 3 })).toThrow(
      'maxPool2d: padding [3,3] must be less than the window extent [3,3] on each side (kernel [3,3], dilation [1,1]), so every window overlaps the input',
    );
    expect(() => new MaxPool2d(3, { padding: 2 }).forward(randn([1, 1, 4, 4]))).toThrow(
      'MaxPool2d: padding [2,2] must be at most half the kernel [3,3]',
    );
    expect(() => maxPool2d(randn([1, 1, 2, 2]), 3)).toThrow(/maxPool2d: window 3x3 does not fit input \[1,1,2,2\]/);
    expect(() => new BatchNorm2d(3).forward(randn([2, 4, 3, 3]))).toThrow(
      'BatchNorm2d(3): input must be [N, C, H, W] with C = 3, got [2,4,3,3]',
    );
    expect(() => batchNorm(randn([1, 3]), {})).toThrow(
      'batchNorm: training needs more than one value per channel, got input [1,3]',
    );
    expect(() => layerNorm(randn([2, 5]), [4])).toThrow(
      'layerNorm: normalizedShape [4] must be the trailing axes of [2,5]',
    );
    expect(() =>
      convTranspose2d(randn([1, 2, 3, 3]), randn([2, 2, 3, 3]), null, { stride: 2, outputPadding: 2 }),
    ).toThrow('convTranspose2d: outputPadding [2,2] must be smaller than stride or dilation');
  });

  it('NaN in the input propagates through max pooling (never silently dropped)', () => {
    const x = new Tensor(Float32Array.from([1, NaN, 3, 4]), [1, 1, 2, 2]);
    expect(Number.isNaN(maxPool2d(x, 2).data[0])).toBe(true);
  });

  it("the gradients' overwrite flag: replaces what the buffer held, and a non-boolean is refused by name", () => {
    // maxPool2dBackward on a 2x4 plane pooled 2x2 / 2: argmax positions 5 and 2.
    const geometry = {
      planes: 1,
      h: 2,
      w: 4,
      kH: 2,
      kW: 2,
      strideH: 2,
      strideW: 2,
      padTop: 0,
      padLeft: 0,
      padBottom: 0,
      padRight: 0,
      dilH: 1,
      dilW: 1,
      ceilMode: false,
      countIncludePad: true,
    };
    const index = Int32Array.from([5, 2]);
    const dy = Float32Array.from([1.5, -2]);
    const dx = new Float32Array(8).fill(NaN);
    native.maxPool2dBackward(index, dy, geometry, dx, true);
    expect(Array.from(dx)).toEqual([0, 0, -2, 0, 0, 1.5, 0, 0]);
    const acc = new Float32Array(8).fill(1);
    native.maxPool2dBackward(index, dy, geometry, acc); // default: accumulate
    expect(Array.from(acc)).toEqual([1, 1, -1, 1, 1, 2.5, 1, 1]);
    expect(() => native.maxPool2dBackward(index, dy, geometry, dx, 'yes' as never)).toThrow(
      /overwrite.*must be a boolean/,
    );
    // The geometry is a named object: the old positional array and unknown fields are refused.
    expect(() => native.maxPool2dBackward(index, dy, [1, 2, 4, 2, 2, 2, 2] as never, dx)).toThrow(
      "maxPool2dBackward: argument 'geometry' must be an object with named fields",
    );
    expect(() => native.maxPool2dBackward(index, dy, { ...geometry, ceil: true } as never, dx)).toThrow(
      "maxPool2dBackward: 'geometry' has an unknown field 'ceil'",
    );
    // reluMask (the pooled output of a relu's output): dy passes where it is > 0.
    native.maxPool2dBackward(index, dy, geometry, dx, true, Float32Array.from([0, 4]));
    expect(Array.from(dx)).toEqual([0, 0, -2, 0, 0, 0, 0, 0]);
    expect(() => native.maxPool2dBackward(index, dy, geometry, dx, true, new Float32Array(3))).toThrow(
      /maxPool2dBackward: .*reluMask/,
    );
    // An index outside the plane is refused by the kernel, by name, whatever the mode.
    for (const overwrite of [true, false])
      expect(() => native.maxPool2dBackward(Int32Array.from([5, 8]), dy, geometry, dx, overwrite)).toThrow(
        'maxPool2dBackward: index[1] = 8 is outside the 2x4 plane',
      );
    // unaryBackward (relu): dx = dy where y > 0, whatever dx held.
    const y = Float32Array.from([0, 2, 0, 3]);
    const g = Float32Array.from([5, 6, 7, 8]);
    const out = new Float32Array(4).fill(NaN);
    native.unaryBackward(UnaryCode.Relu, y, y, g, out, 0, true);
    expect(Array.from(out)).toEqual([0, 6, 0, 8]);
    expect(() => native.unaryBackward(UnaryCode.Relu, y, y, g, out, 0, 1 as never)).toThrow(
      /overwrite.*must be a boolean/,
    );
  });
});
