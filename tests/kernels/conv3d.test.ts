/**
 * 3-D convolution, transposed convolution and pooling (src/ops/conv3d.ts) against naive
 * float64 loops written here from the definitions, on awkward sizes with strides, asymmetric
 * padding, dilation, groups and ceil mode; gradients by finite differences.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AvgPool3d,
  BatchNorm3d,
  Conv3d,
  ConvTranspose3d,
  Flatten,
  Linear,
  MaxPool3d,
  Model,
  ReLU,
  Sequential,
  SyncBatchNorm,
  Tensor,
  avgPool3d,
  conv3d,
  convTranspose3d,
  gradcheck,
  loadModel,
  manualSeed,
  maxPool3d,
  noGrad,
  randint,
  randn,
  saveModel,
} from '../../src/index.js';

type Six = [number, number, number, number, number, number];
const at5 = (s: readonly number[], a: number, b: number, c: number, d: number, e: number): number =>
  (((a * s[1] + b) * s[2] + c) * s[3] + d) * s[4] + e;

function refConv3d(
  x: Tensor,
  w: Tensor,
  b: Tensor | null,
  stride: number[],
  pads: Six,
  dil: number[],
  groups: number,
): { shape: number[]; data: Float64Array } {
  const [n, cin, d, h, wd] = x.shape;
  const [cout, cpg, kd, kh, kw] = w.shape;
  const out = [0, 1, 2].map(
    (i) => Math.floor(([d, h, wd][i] + pads[i] + pads[3 + i] - dil[i] * ([kd, kh, kw][i] - 1) - 1) / stride[i]) + 1,
  );
  const shape = [n, cout, ...out];
  const y = new Float64Array(shape.reduce((a, v) => a * v, 1));
  const opg = cout / groups;
  for (let s = 0; s < n; s++)
    for (let o = 0; o < cout; o++)
      for (let z = 0; z < out[0]; z++)
        for (let r = 0; r < out[1]; r++)
          for (let q = 0; q < out[2]; q++) {
            let acc = b ? b.data[o] : 0;
            const g = Math.floor(o / opg);
            for (let ci = 0; ci < cpg; ci++)
              for (let a = 0; a < kd; a++)
                for (let bb = 0; bb < kh; bb++)
                  for (let c = 0; c < kw; c++) {
                    const iz = z * stride[0] + a * dil[0] - pads[0];
                    const ir = r * stride[1] + bb * dil[1] - pads[1];
                    const iq = q * stride[2] + c * dil[2] - pads[2];
                    if (iz < 0 || iz >= d || ir < 0 || ir >= h || iq < 0 || iq >= wd) continue;
                    acc += x.data[at5(x.shape, s, g * cpg + ci, iz, ir, iq)] * w.data[at5(w.shape, o, ci, a, bb, c)];
                  }
            y[at5(shape, s, o, z, r, q)] = acc;
          }
  void cin;
  return { shape, data: y };
}

function refConvT3d(
  x: Tensor,
  w: Tensor,
  b: Tensor | null,
  stride: number[],
  pads: Six,
  dil: number[],
  outPad: number[],
  groups: number,
): { shape: number[]; data: Float64Array } {
  const [n, cin, ...sp] = x.shape;
  const [, cpg, ...k] = w.shape;
  const cout = cpg * groups;
  const ipg = cin / groups;
  const out = [0, 1, 2].map(
    (i) => (sp[i] - 1) * stride[i] + (k[i] - 1) * dil[i] + 1 + outPad[i] - pads[i] - pads[3 + i],
  );
  const shape = [n, cout, ...out];
  const y = new Float64Array(shape.reduce((a, v) => a * v, 1));
  for (let s = 0; s < n; s++)
    for (let o = 0; o < cout; o++) {
      const g = Math.floor(o / cpg);
      for (let z = 0; z < out[0]; z++)
        for (let r = 0; r < out[1]; r++)
          for (let q = 0; q < out[2]; q++) y[at5(shape, s, o, z, r, q)] = b ? b.data[o] : 0;
      for (let ci = g * ipg; ci < (g + 1) * ipg; ci++)
        for (let iz = 0; iz < sp[0]; iz++)
          for (let ir = 0; ir < sp[1]; ir++)
            for (let iq = 0; iq < sp[2]; iq++)
              for (let a = 0; a < k[0]; a++)
                for (let bb = 0; bb < k[1]; bb++)
                  for (let c = 0; c < k[2]; c++) {
                    const z = iz * stride[0] + a * dil[0] - pads[0];
                    const r = ir * stride[1] + bb * dil[1] - pads[1];
                    const q = iq * stride[2] + c * dil[2] - pads[2];
                    if (z < 0 || z >= out[0] || r < 0 || r >= out[1] || q < 0 || q >= out[2]) continue;
                    y[at5(shape, s, o, z, r, q)] +=
                      x.data[at5(x.shape, s, ci, iz, ir, iq)] * w.data[at5(w.shape, ci, o - g * cpg, a, bb, c)];
                  }
    }
  return { shape, data: y };
}

function refPool3d(
  x: Tensor,
  k: number[],
  stride: number[],
  pads: Six,
  dil: number[],
  ceil: boolean,
  kind: 'max' | 'avg',
  includePad: boolean,
): { shape: number[]; data: Float64Array } {
  const [n, c, ...sp] = x.shape;
  const out = [0, 1, 2].map((i) => {
    const span = sp[i] + pads[i] + pads[3 + i] - dil[i] * (k[i] - 1) - 1;
    let o = (ceil ? Math.ceil(span / stride[i]) : Math.floor(span / stride[i])) + 1;
    if (ceil && (o - 1) * stride[i] >= sp[i] + pads[i]) o--;
    return o;
  });
  const shape = [n, c, ...out];
  const y = new Float64Array(shape.reduce((a, v) => a * v, 1));
  for (let s = 0; s < n; s++)
    for (let ch = 0; ch < c; ch++)
      for (let z = 0; z < out[0]; z++)
        for (let r = 0; r < out[1]; r++)
          for (let q = 0; q < out[2]; q++) {
            let best = -Infinity;
            let sum = 0;
            let count = 0;
            for (let a = 0; a < k[0]; a++)
              for (let bb = 0; bb < k[1]; bb++)
                for (let cc = 0; cc < k[2]; cc++) {
                  const p = [
                    z * stride[0] + a * dil[0] - pads[0],
                    r * stride[1] + bb * dil[1] - pads[1],
                    q * stride[2] + cc * dil[2] - pads[2],
                  ];
                  const inside = p.every((v, i) => v >= 0 && v < sp[i]);
                  const inPadded = p.every((v, i) => v >= -pads[i] && v < sp[i] + pads[3 + i]);
                  if (inside) {
                    const v = x.data[at5(x.shape, s, ch, p[0], p[1], p[2])];
                    best = Math.max(best, v);
                    sum += v;
                  }
                  if (includePad ? inPadded : inside) count++;
                }
            y[at5(shape, s, ch, z, r, q)] = kind === 'max' ? best : sum / count;
          }
  return { shape, data: y };
}

function expectClose(got: Tensor, want: { shape: number[]; data: Float64Array }, tol = 2e-5): void {
  expect(got.shape).toEqual(want.shape);
  let worst = 0;
  for (let i = 0; i < want.data.length; i++)
    worst = Math.max(worst, Math.abs(got.data[i] - want.data[i]) / (1 + Math.abs(want.data[i])));
  expect(worst).toBeLessThan(tol);
}

describe('3-D convolution and pooling', () => {
  it('conv3d against the definition: strides, asymmetric pads, dilation, groups, awkward sizes', () => {
    const cases: {
      x: number[];
      w: number[];
      stride: number[];
      pads: Six;
      dil: number[];
      groups: number;
      bias: boolean;
    }[] = [
      {
        x: [2, 3, 5, 6, 7],
        w: [4, 3, 3, 3, 3],
        stride: [1, 1, 1],
        pads: [1, 1, 1, 1, 1, 1],
        dil: [1, 1, 1],
        groups: 1,
        bias: true,
      },
      {
        x: [1, 4, 7, 5, 6],
        w: [6, 2, 2, 3, 1],
        stride: [2, 1, 2],
        pads: [0, 2, 1, 1, 0, 0],
        dil: [2, 1, 1],
        groups: 2,
        bias: false,
      },
      {
        x: [3, 1, 4, 4, 4],
        w: [2, 1, 1, 1, 1],
        stride: [1, 2, 1],
        pads: [0, 0, 0, 0, 0, 0],
        dil: [1, 1, 1],
        groups: 1,
        bias: true,
      },
    ];
    let seed = 1;
    for (const c of cases) {
      const x = randn(c.x, { seed: seed++ });
      const w = randn(c.w, { seed: seed++ });
      const b = c.bias ? randn([c.w[0]], { seed: seed++ }) : null;
      const y = conv3d(x, w, b, {
        stride: c.stride as never,
        padding: c.pads,
        dilation: c.dil as never,
        groups: c.groups,
      });
      expectClose(y, refConv3d(x, w, b, c.stride, c.pads, c.dil, c.groups));
    }
  });

  it('convTranspose3d against the definition: stride, padding, output padding, dilation, groups', () => {
    const cases: {
      x: number[];
      w: number[];
      stride: number[];
      pads: Six;
      dil: number[];
      outPad: number[];
      groups: number;
    }[] = [
      {
        x: [2, 3, 3, 4, 2],
        w: [3, 2, 3, 3, 3],
        stride: [2, 2, 2],
        pads: [1, 1, 1, 1, 1, 1],
        dil: [1, 1, 1],
        outPad: [1, 0, 1],
        groups: 1,
      },
      {
        x: [1, 4, 2, 3, 3],
        w: [4, 1, 2, 2, 3],
        stride: [1, 3, 2],
        pads: [0, 1, 0, 1, 0, 2],
        dil: [2, 1, 1],
        outPad: [1, 2, 0],
        groups: 2,
      },
    ];
    let seed = 20;
    for (const c of cases) {
      const x = randn(c.x, { seed: seed++ });
      const w = randn(c.w, { seed: seed++ });
      const b = randn([c.w[1] * c.groups], { seed: seed++ });
      const y = convTranspose3d(x, w, b, {
        stride: c.stride as never,
        padding: c.pads,
        dilation: c.dil as never,
        outputPadding: c.outPad as never,
        groups: c.groups,
      });
      expectClose(y, refConvT3d(x, w, b, c.stride, c.pads, c.dil, c.outPad, c.groups));
    }
  });

  it('maxPool3d and avgPool3d against the definition: padding, ceil mode, dilation, countIncludePad', () => {
    const x = randn([2, 3, 7, 6, 5], { seed: 40 });
    const cases: { k: number[]; stride: number[]; pads: Six; dil: number[]; ceil: boolean; include: boolean }[] = [
      { k: [2, 2, 2], stride: [2, 2, 2], pads: [0, 0, 0, 0, 0, 0], dil: [1, 1, 1], ceil: false, include: true },
      { k: [3, 3, 2], stride: [2, 2, 2], pads: [1, 1, 0, 1, 0, 1], dil: [1, 1, 1], ceil: true, include: false },
      { k: [3, 2, 3], stride: [2, 1, 2], pads: [1, 1, 1, 1, 1, 1], dil: [1, 1, 1], ceil: true, include: true },
    ];
    for (const c of cases) {
      const o = { stride: c.stride as never, padding: c.pads, ceilMode: c.ceil };
      expectClose(maxPool3d(x, c.k as never, o), refPool3d(x, c.k, c.stride, c.pads, c.dil, c.ceil, 'max', false));
      expectClose(
        avgPool3d(x, c.k as never, { ...o, countIncludePad: c.include }),
        refPool3d(x, c.k, c.stride, c.pads, c.dil, c.ceil, 'avg', c.include),
      );
    }
    const dilated = maxPool3d(x, 2, { stride: 1, dilation: [2, 1, 2] });
    expectClose(dilated, refPool3d(x, [2, 2, 2], [1, 1, 1], [0, 0, 0, 0, 0, 0], [2, 1, 2], false, 'max', false));
  });

  it('gradients by finite differences', () => {
    const opts = { eps: 1e-2, atol: 5e-3, rtol: 5e-3 };
    const x = randn([2, 2, 4, 3, 4], { seed: 50 }).setRequiresGrad();
    const w = randn([3, 1, 2, 2, 3], { seed: 51 }).setRequiresGrad();
    const b = randn([3], { seed: 52 }).setRequiresGrad();
    const conv = gradcheck(
      (a, ww, bb) => conv3d(a, ww, bb, { padding: [1, 0, 1, 0, 1, 1], stride: [1, 2, 1], groups: 1 }),
      [x, randn([3, 2, 2, 2, 3], { seed: 53 }).setRequiresGrad(), b],
      opts,
    );
    expect(conv.ok, `conv3d ratio ${conv.worstRatio}`).toBe(true);
    const wt = randn([2, 3, 2, 2, 3], { seed: 54 }).setRequiresGrad();
    const convT = gradcheck(
      (a, ww, bb) => convTranspose3d(a, ww, bb, { stride: 2, padding: 1, outputPadding: [1, 0, 1] }),
      [x, wt, b],
      opts,
    );
    expect(convT.ok, `convTranspose3d ratio ${convT.worstRatio}`).toBe(true);
    // Distinct values spaced beyond the step keep max pooling away from ties.
    const n = x.size;
    const spread = new Tensor(
      Float32Array.from({ length: n }, (_, i) => ((i * 37) % n) * 0.1),
      x.shape,
    ).setRequiresGrad();
    expect(gradcheck((a) => maxPool3d(a, 2, { stride: 1, padding: 1 }), [spread], opts).ok).toBe(true);
    expect(
      gradcheck((a) => avgPool3d(a, [2, 3, 2], { stride: 1, padding: [1, 1, 0], countIncludePad: false }), [x], opts)
        .ok,
    ).toBe(true);
    void w;
  });

  it('bad arguments give errors naming the op and the shapes', () => {
    expect(() => conv3d(randn([1, 2, 3, 3]), randn([1, 2, 1, 1, 1]))).toThrow(
      'conv3d: input must be [N, C, D, H, W], got [1,2,3,3]',
    );
    expect(() => conv3d(randn([1, 2, 2, 5, 5]), randn([1, 2, 3, 1, 1]))).toThrow(
      'conv3d: kernel depth 3 (dilation 1) is larger than the padded input depth 2 (input [1,2,2,5,5])',
    );
    expect(() => conv3d(randn([1, 2, 2, 5, 5]), randn([1, 2, 1, 1, 1]), null, { stride: [1, 0, 1] })).toThrow(
      /conv3d: stride must be positive integers \(one, or \[d, h, w\]\), got \[1,0,1\]/,
    );
    expect(() => conv3d(randn([1, 4, 3, 3, 3]), randn([2, 3, 1, 1, 1]))).toThrow(
      'conv3d: input [1,4,3,3,3] has 4 channels but weight [2,3,1,1,1] with groups 1 expects 3 (and output channels divisible by groups)',
    );
    expect(() => maxPool3d(randn([1, 1, 4, 4, 4]), 2, { padding: 2 })).toThrow(
      /maxPool3d: padding .* must be at most half the kernel/,
    );
    expect(() => avgPool3d(randn([1, 1, 4, 4, 4]), 2, { dilation: 2 })).toThrow(
      'avgPool3d: average pooling has no dilation',
    );
    expect(() => convTranspose3d(randn([1, 2, 2, 2, 2]), randn([2, 1, 2, 2, 2]), null, { outputPadding: 1 })).toThrow(
      /convTranspose3d: outputPadding \[1,1,1\] must be smaller than stride or dilation/,
    );
  });

  it('layers: PyTorch weight layouts and initial bounds, the ops they wrap, training, model files', async () => {
    manualSeed(7);
    const conv = new Conv3d(4, 6, [3, 2, 3], { groups: 2, padding: [1, 0, 1] });
    expect(conv.weight.shape).toEqual([6, 2, 3, 2, 3]);
    const bound = 1 / Math.sqrt(2 * 3 * 2 * 3); // kaiming uniform with a = sqrt(5): 1 / sqrt(fanIn)
    expect(Math.max(...Array.from(conv.weight.data, Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...Array.from(conv.weight.data, Math.abs))).toBeGreaterThan(0.8 * bound);
    expect(Math.max(...Array.from(conv.bias!.data, Math.abs))).toBeLessThanOrEqual(bound);
    const x = randn([2, 4, 5, 4, 6], { seed: 60 });
    const want = conv3d(x, conv.weight, conv.bias, { groups: 2, padding: [1, 0, 1] });
    expect(Array.from(conv.forward(x).data)).toEqual(Array.from(want.data));
    const up = new ConvTranspose3d(6, 2, 2, { stride: 2 });
    expect(up.weight.shape).toEqual([6, 2, 2, 2, 2]);
    expect(up.forward(conv.forward(x)).shape).toEqual([2, 2, 10, 6, 12]);

    // A small volumetric classifier trains through fit and survives a model file.
    const net = new Sequential(
      new Conv3d(1, 4, 3, { padding: 1, bias: false }),
      new BatchNorm3d(4),
      new ReLU(),
      new MaxPool3d([1, 2, 2]),
      new AvgPool3d(2, { ceilMode: true }),
      new Flatten(),
      new Linear(4 * 2 * 2 * 2, 3),
    );
    const model = new Model(net).compile({
      optimizer: 'adam',
      learningRate: 0.01,
      loss: 'sparseCategoricalCrossentropy',
    });
    const xs = randn([24, 1, 4, 8, 8], { seed: 61 });
    const ys = randint(0, 3, [24], { seed: 62 });
    const h = await model.fit(xs, ys, { epochs: 4, batchSize: 8, verbose: 0 });
    expect(h.history.loss.at(-1)!).toBeLessThan(h.history.loss[0]);
    net.eval();
    const before = noGrad(() => net.forward(xs)).data;
    const dir = mkdtempSync(join(tmpdir(), 'axon-conv3d-'));
    try {
      await saveModel(net, join(dir, 'v.axon'));
      const loaded = await loadModel(join(dir, 'v.axon'));
      loaded.eval();
      expect(Array.from(noGrad(() => loaded.forward(xs)).data)).toEqual(Array.from(before));
      expect(String(loaded)).toMatch(/Conv3d\(1, 4, kernelSize=3x3x3\)[\s\S]*BatchNorm3d\(4\)[\s\S]*MaxPool3d/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // BatchNorm3d converts to SyncBatchNorm like the 1-D and 2-D norms.
    SyncBatchNorm.convert(net);
    expect(net.modules().filter((m) => m instanceof SyncBatchNorm).length).toBe(1);

    expect(() => new Conv3d(3, 4, [3, 3] as never)).toThrow(
      /Conv3d: kernelSize must be positive integers \(one, or \[d, h, w\]\)/,
    );
    expect(() => new Conv3d(3, 4, 3, { groups: 2 })).toThrow(
      'Conv3d: inChannels 3 and outChannels 4 must be divisible by groups 2',
    );
    expect(() => new Conv3d(3, 4, 3).forward(randn([1, 3, 8, 8]))).toThrow(
      'Conv3d(3, 4): input must be [N, 3, D, H, W], got [1,3,8,8]',
    );
    expect(() => new ConvTranspose3d(3, 4, 3, { outputPadding: -1 as never })).toThrow(
      /outputPadding must be non-negative/,
    );
    expect(() => new AvgPool3d(2, { dilation: 2 })).toThrow('AvgPool3d: average pooling has no dilation');
    expect(() => new BatchNorm3d(4).forward(randn([2, 4, 3, 3]))).toThrow(
      'BatchNorm3d(4): input must be [N, C, D, H, W] with C = 4, got [2,4,3,3]',
    );
  });
});
