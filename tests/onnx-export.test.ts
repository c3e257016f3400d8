/**
 * ONNX export: every exportable layer type, in small models with seeded weights, odd sizes and
 * non-trivial BatchNorm statistics, written with exportOnnx and run in onnxruntime-node and in
 * our own loadOnnx at two batch sizes, each compared with the model's eval-mode forward
 * (|got - want| <= 1e-5 (1 + |want|)); then the errors for what cannot be exported.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AdaptiveAvgPool2d,
  AvgPool2d,
  AvgPool3d,
  BatchNorm1d,
  BatchNorm2d,
  BatchNorm3d,
  Conv3d,
  ConvTranspose3d,
  MaxPool3d,
  Conv1d,
  Conv2d,
  ConvTranspose2d,
  Dropout,
  ELU,
  Embedding,
  Flatten,
  GELU,
  GlobalAvgPool2d,
  GRU,
  Hardswish,
  Identity,
  LastStep,
  LayerNorm,
  LeakyReLU,
  Linear,
  LogSoftmax,
  LSTM,
  MaxPool2d,
  MeanOverTime,
  Mish,
  Model,
  Module,
  MultiheadAttention,
  PositionalEmbedding,
  SinusoidalPositionalEncoding,
  TransformerDecoderLayer,
  TransformerEncoder,
  TransformerEncoderLayer,
  Normalize,
  RandomCrop,
  RandomHorizontalFlip,
  ReLU,
  SELU,
  Sequential,
  Sigmoid,
  SiLU,
  SimpleRNN,
  Softmax,
  Softplus,
  Tanh,
  Tensor,
  TimeDistributed,
  exportOnnx,
  exportOnnxBytes,
  loadOnnx,
  noGrad,
  type OnnxExportOptions,
} from '../src/index.js';
import type { LinearActivation } from '../src/ops/linalg.js';
import { onnxType } from '../src/onnx/proto.js';
import { ort } from './peers/ort.js';

const DIR = mkdtempSync(join(tmpdir(), 'axon-onnx-export-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));
let fileCount = 0;

/** A deterministic stream in [-1, 1). */
function stream(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

/** Seeded weights everywhere (scaled so activations stay in a useful range), positive BN
 * variances and non-zero means. */
function seedWeights(m: Module, seed = 7, scale = 0.6): Module {
  const r = stream(seed);
  for (const [, p] of m.namedParameters()) {
    const d = p.data as Float32Array;
    for (let i = 0; i < d.length; i++) d[i] = r() * scale;
  }
  for (const [name, b] of m.namedBuffers()) {
    const d = b.data as Float32Array;
    for (let i = 0; i < d.length; i++) d[i] = name.endsWith('running_var') ? 0.3 + Math.abs(r()) * 1.7 : r() * 0.8;
  }
  return m.eval();
}

function floats(shape: number[], seed: number, scale = 2): Tensor {
  const r = stream(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(
    Float32Array.from({ length: n }, () => r() * scale),
    shape,
  );
}

function tokens(shape: number[], vocab: number, seed: number, pad?: { id: number; lengths: number[] }): Tensor {
  const r = stream(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Int32Array.from({ length: n }, () => Math.floor(((r() + 1) / 2) * vocab) % vocab);
  if (pad) {
    const [rows, steps] = shape;
    for (let i = 0; i < rows; i++)
      for (let t = 0; t < steps; t++) {
        const len = pad.lengths[i % pad.lengths.length];
        // (Padding tokens inside a row stay: a row's length ends at its last non-padding token.)
        if (t >= len) data[i * steps + t] = pad.id;
      }
  }
  return new Tensor(data, shape);
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, tol = 1e-5): void {
  expect(got.length, `${what}: size`).toBe(want.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i]));
    if (!(err <= worst)) {
      worst = Number.isNaN(err) ? Infinity : err;
      at = i;
    }
  }
  expect(worst, `${what}: worst error at ${at}: got ${got[at]}, want ${want[at]}`).toBeLessThanOrEqual(tol);
}

interface CheckOptions extends OnnxExportOptions {
  /** The input for a batch size. */
  input: (batch: number) => Tensor;
  /** Batch sizes to run (default [2, 5]). */
  batches?: number[];
}

/**
 * Exports `model`, runs the file in onnxruntime-node and in loadOnnx at every batch size, and
 * compares both with model.forward. Returns the file's path.
 */
async function check(model: Module | Model, opts: CheckOptions): Promise<string> {
  const { input, batches = [2, 5], ...exportOptions } = opts;
  const module = model instanceof Model ? model.module : model;
  module.eval();
  const path = join(DIR, `m${fileCount++}.onnx`);
  const info = await exportOnnx(model, path, exportOptions);
  const bytes = readFileSync(path);
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const ours = await loadOnnx(path);
  for (const batch of batches) {
    const x = input(batch);
    const want = noGrad(() => module.forward(x));
    expect(want.shape.length).toBe(info.output.shape.length);
    const feed =
      x.dtype === 'int32'
        ? new ort.Tensor(
            'int64',
            BigInt64Array.from(x.data as Int32Array, (v) => BigInt(v)),
            x.shape as number[],
          )
        : new ort.Tensor('float32', x.data as Float32Array, x.shape as number[]);
    const res = await session.run({ [info.input.name]: feed });
    const o = res[info.output.name];
    expect(o.dims.map(Number), 'onnxruntime output shape').toEqual([...want.shape]);
    expectClose(o.data as Float32Array, want.data as Float32Array, `onnxruntime, batch ${batch}`);
    const mine = ours.runSync({ [info.input.name]: x })[info.output.name];
    expect([...mine.shape], 'loadOnnx output shape').toEqual([...want.shape]);
    expectClose(mine.data as Float32Array, want.data as Float32Array, `loadOnnx, batch ${batch}`);
  }
  ours.release();
  await session.release();
  return path;
}

const img =
  (c: number, h: number, w: number, seed = 3) =>
  (n: number) =>
    floats([n, c, h, w], seed + n);
const vec =
  (shape: number[], seed = 5, scale = 2) =>
  (n: number) =>
    floats([n, ...shape], seed + n, scale);

describe('dense layers and activations', () => {
  const acts: [LinearActivation, number | undefined][] = [
    ['none', undefined],
    ['relu', undefined],
    ['leakyRelu', 0.2],
    ['leakyRelu', -0.3],
    ['elu', 0.7],
    ['elu', -0.5],
    ['gelu', undefined],
    ['geluTanh', undefined],
    ['softplus', undefined],
    ['softplus', 2.5],
    ['selu', undefined],
    ['sigmoid', undefined],
    ['tanh', undefined],
    ['silu', undefined],
    ['hardswish', undefined],
    ['mish', undefined],
  ];
  for (const [activation, activationParam] of acts)
    it(`Linear with activation ${activation}${activationParam !== undefined ? ` (${activationParam})` : ''}`, async () => {
      const m = seedWeights(new Sequential(new Linear(7, 5, { activation, activationParam })), 11, 1.2);
      await check(m, { inputShape: [7], input: vec([7]) });
    });
  it('Linear without bias, on a [batch, steps, features] input', async () => {
    const m = seedWeights(new Sequential(new Linear(7, 3, { bias: false }), new Linear(3, 4, { activation: 'tanh' })));
    await check(m, { inputShape: [4, 7], input: vec([4, 7]) });
  });
  it('names initializers by the module parameter names', () => {
    const m = seedWeights(new Sequential(new Linear(3, 4), new BatchNorm1d(4), new Linear(4, 2)));
    const { info } = exportOnnxBytes(m, { inputShape: [3] });
    expect(info.initializers).toEqual(
      expect.arrayContaining([
        '0.weight',
        '0.bias',
        '1.weight',
        '1.bias',
        '1.running_mean',
        '1.running_var',
        '2.weight',
        '2.bias',
      ]),
    );
    expect(info.input).toEqual({ name: 'input', dtype: 'float32', shape: ['batch', 3] });
    expect(info.output).toEqual({ name: 'output', dtype: 'float32', shape: ['batch', 2] });
    expect(info.opTypes).toEqual(['BatchNormalization', 'Gemm']);
  });
  it('exports the evaluation forward whatever the mode, leaving the mode and weights as they were', () => {
    const m = seedWeights(new Sequential(new Linear(3, 4), new Dropout(0.5), new BatchNorm1d(4)));
    const evalBytes = exportOnnxBytes(m, { inputShape: [3] }).bytes;
    m.train();
    const stats = Float32Array.from(m.namedBuffers()[0][1].data as Float32Array);
    expect(Array.from(exportOnnxBytes(m, { inputShape: [3] }).bytes)).toEqual(Array.from(evalBytes));
    expect(m.modules().every((x) => x.training)).toBe(true);
    expect(Array.from(m.namedBuffers()[0][1].data)).toEqual(Array.from(stats));
  });
  it('names recurrent initializers after the layer, gate-reordered per layer', () => {
    const m = new Sequential(
      new Embedding(5, 3, { maxNorm: 1 }),
      new LSTM(3, 2, { numLayers: 2, bidirectional: true, batchFirst: true }),
    );
    const { info } = exportOnnxBytes(m, { inputShape: [4] });
    expect(info.initializers).toEqual(
      expect.arrayContaining(['0.weight', '1.W_l0', '1.R_l0', '1.B_l0', '1.W_l1', '1.R_l1', '1.B_l1']),
    );
    expect(info.opTypes).toEqual(expect.arrayContaining(['Gather', 'LSTM']));
  });
  it('writes a tied parameter once, under its first name', () => {
    const a = new Linear(4, 4);
    const b = new Linear(4, 4);
    b.weight = a.weight;
    const m = seedWeights(new Sequential(a, new ReLU(), b));
    const { info } = exportOnnxBytes(m, { inputShape: [4] });
    expect(info.initializers.filter((n) => n.endsWith('weight'))).toEqual(['0.weight']);
  });

  const layers: [string, () => Module, number[]?][] = [
    ['ReLU', () => new ReLU()],
    ['LeakyReLU', () => new LeakyReLU(0.15)],
    ['ELU', () => new ELU(0.6)],
    ['GELU', () => new GELU()],
    ['GELU tanh', () => new GELU('tanh')],
    ['Softplus', () => new Softplus()],
    ['Softplus beta 3', () => new Softplus(3)],
    ['Softmax', () => new Softmax()],
    ['Softmax axis 1', () => new Softmax(1)],
    ['LogSoftmax', () => new LogSoftmax()],
    ['LogSoftmax axis -2', () => new LogSoftmax(-2)],
    ['SELU', () => new SELU()],
    ['Sigmoid', () => new Sigmoid()],
    ['Tanh', () => new Tanh()],
    ['SiLU', () => new SiLU()],
    ['Hardswish', () => new Hardswish()],
    ['Mish', () => new Mish()],
    ['Identity', () => new Identity()],
    ['Dropout', () => new Dropout(0.4)],
  ];
  for (const [name, make] of layers)
    it(`${name} layer (opsets 13 and 17)`, async () => {
      for (const opset of [13, 17]) {
        // Values spread over [-5, 5) so every branch of every activation is hit.
        const m = new Sequential(new Linear(6, 5), make(), new Linear(5, 3));
        seedWeights(m, 21, 0.9);
        await check(m, { inputShape: [3, 6], input: vec([3, 6], 9, 5), opset });
      }
    });
  it('a lone activation layer (the graph is one node between input and output)', async () => {
    await check(new Tanh(), { inputShape: [3, 2], input: vec([3, 2]) });
    await check(new Identity(), { inputShape: [3], input: vec([3]) });
  });
});

describe('convolution, pooling and normalisation layers', () => {
  const convs: [string, () => Module, number[]][] = [
    ['stride 2, padding 1', () => new Conv2d(3, 5, 3, { stride: 2, padding: 1 }), [3, 9, 7]],
    [
      'dilation 2, groups 2',
      () => new Conv2d(4, 6, [3, 2], { dilation: [2, 1], groups: 2, padding: [2, 1] }),
      [4, 9, 8],
    ],
    ["'same', stride 2 (asymmetric)", () => new Conv2d(3, 4, [4, 3], { padding: 'same', stride: 2 }), [3, 9, 8]],
    ["'same', dilation 2", () => new Conv2d(2, 3, 3, { padding: 'same', dilation: 2 }), [2, 7, 6]],
    ['per-side padding [t, l, b, r]', () => new Conv2d(2, 3, 3, { padding: [1, 0, 2, 1] }), [2, 6, 7]],
    ['depthwise, no bias', () => new Conv2d(4, 4, 3, { groups: 4, bias: false }), [4, 6, 6]],
    ['fused relu', () => new Conv2d(3, 4, 3, { activation: 'relu' }), [3, 7, 7]],
    ['fused gelu (separate)', () => new Conv2d(3, 4, 3, { activation: 'gelu', padding: 1 }), [3, 7, 7]],
    ['fused leakyRelu 0.1', () => new Conv2d(3, 4, 1, { activation: 'leakyRelu', activationParam: 0.1 }), [3, 5, 5]],
  ];
  for (const [name, make, shape] of convs)
    it(`Conv2d ${name}`, async () => {
      const m = seedWeights(new Sequential(make()), 13, 0.5);
      await check(m, { inputShape: shape, input: img(shape[0], shape[1], shape[2]) });
    });

  const conv1ds: [string, () => Module][] = [
    ['padding 2, stride 2', () => new Conv1d(3, 5, 4, { padding: 2, stride: 2 })],
    ["'same'", () => new Conv1d(3, 4, 4, { padding: 'same' })],
    ['[left, right], dilation, groups', () => new Conv1d(4, 6, 3, { padding: [2, 1], dilation: 2, groups: 2 })],
    ['fused tanh', () => new Conv1d(3, 2, 3, { activation: 'tanh' })],
    ['fused silu', () => new Conv1d(3, 2, 3, { activation: 'silu', stride: 3 })],
  ];
  for (const [name, make] of conv1ds)
    it(`Conv1d ${name}`, async () => {
      const layer = make() as Conv1d;
      const m = seedWeights(new Sequential(layer), 17, 0.5);
      await check(m, { inputShape: [layer.inChannels, 11], input: vec([layer.inChannels, 11]) });
    });

  const transposed: [string, () => ConvTranspose2d][] = [
    [
      'stride 2, padding 1, outputPadding 1',
      () => new ConvTranspose2d(3, 4, 3, { stride: 2, padding: 1, outputPadding: 1 }),
    ],
    [
      'outputPadding beyond padding',
      () => new ConvTranspose2d(2, 3, [3, 2], { stride: [2, 3], outputPadding: [1, 2] }),
    ],
    [
      'groups 2, dilation 2',
      () => new ConvTranspose2d(4, 6, 3, { groups: 2, dilation: 2, stride: 2, padding: [1, 2] }),
    ],
    ['no bias', () => new ConvTranspose2d(3, 2, 2, { stride: 2, bias: false })],
  ];
  for (const [name, make] of transposed)
    it(`ConvTranspose2d ${name}`, async () => {
      const layer = make();
      const m = seedWeights(new Sequential(layer), 19, 0.5);
      await check(m, { inputShape: [layer.inChannels, 5, 4], input: img(layer.inChannels, 5, 4) });
    });

  // 3-D layers: a [C, D, H, W] volume, checked in onnxruntime-node and our importer.
  const volumes: [string, () => Module, number[]][] = [
    [
      'Conv3d stride, six pads, groups',
      () => new Conv3d(4, 6, [3, 2, 3], { stride: [2, 1, 1], padding: [1, 0, 1, 0, 1, 1], groups: 2 }),
      [4, 5, 6, 5],
    ],
    ['Conv3d dilation, no bias', () => new Conv3d(2, 3, 2, { dilation: [1, 2, 1], bias: false }), [2, 4, 6, 5]],
    [
      'ConvTranspose3d stride 2, padding 1, outputPadding',
      () => new ConvTranspose3d(3, 2, 3, { stride: 2, padding: 1, outputPadding: [1, 0, 1] }),
      [3, 3, 4, 3],
    ],
    ['MaxPool3d ceilMode, padding', () => new MaxPool3d(3, { stride: 2, padding: 1, ceilMode: true }), [2, 5, 6, 7]],
    [
      'AvgPool3d no countIncludePad',
      () => new AvgPool3d([2, 3, 2], { stride: [1, 2, 2], padding: [1, 1, 0], countIncludePad: false }),
      [2, 4, 7, 6],
    ],
    ['BatchNorm3d', () => new BatchNorm3d(2), [2, 3, 4, 5]],
  ];
  for (const [name, make, shape] of volumes)
    it(`${name}`, async () => {
      const m = seedWeights(new Sequential(make()), 23, 0.5);
      await check(m, { inputShape: shape, input: vec(shape) });
    });

  const pools: [string, () => Module, number[]][] = [
    ['MaxPool2d 2', () => new MaxPool2d(2), [3, 8, 7]],
    ['MaxPool2d 3, stride 2, ceilMode', () => new MaxPool2d(3, { stride: 2, ceilMode: true }), [2, 8, 9]],
    ['MaxPool2d ceilMode, padding 1', () => new MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true }), [2, 8, 6]],
    ['MaxPool2d dilation 2, padding [1, 0]', () => new MaxPool2d([3, 2], { dilation: 2, padding: [1, 0] }), [2, 9, 8]],
    ['AvgPool2d countIncludePad', () => new AvgPool2d(3, { stride: 2, padding: 1 }), [2, 7, 8]],
    [
      'AvgPool2d no countIncludePad',
      () => new AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }),
      [2, 7, 8],
    ],
    ['AvgPool2d ceilMode', () => new AvgPool2d([2, 3], { stride: 2, ceilMode: true }), [2, 7, 8]],
    [
      'AvgPool2d ceilMode, padding, no countIncludePad',
      () => new AvgPool2d(3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }),
      [2, 8, 6],
    ],
    [
      'AvgPool2d ceilMode, padding, countIncludePad',
      () => new AvgPool2d(3, { stride: 2, padding: 1, ceilMode: true }),
      [2, 8, 6],
    ],
    ['GlobalAvgPool2d', () => new GlobalAvgPool2d(), [3, 5, 7]],
    ['AdaptiveAvgPool2d (even bins)', () => new AdaptiveAvgPool2d([2, 3]), [3, 6, 9]],
    ['AdaptiveAvgPool2d (uneven bins)', () => new AdaptiveAvgPool2d([3, 4]), [2, 7, 9]],
  ];
  for (const [name, make, shape] of pools)
    it(name, async () => {
      await check(new Sequential(make()), { inputShape: shape, input: img(shape[0], shape[1], shape[2], 23) });
    });

  it('BatchNorm2d with running statistics and eps 1e-3', async () => {
    const m = seedWeights(new Sequential(new Conv2d(3, 5, 3), new BatchNorm2d(5, { eps: 1e-3 }), new ReLU()), 29);
    await check(m, { inputShape: [3, 6, 5], input: img(3, 6, 5) });
  });
  it('BatchNorm1d on [N, C] and [N, C, L], affine and not', async () => {
    const a = seedWeights(new Sequential(new Linear(4, 6), new BatchNorm1d(6)), 31);
    await check(a, { inputShape: [4], input: vec([4]) });
    const b = seedWeights(new Sequential(new BatchNorm1d(3, { affine: false })), 37);
    await check(b, { inputShape: [3, 7], input: vec([3, 7]) });
  });
  it('BatchNorm without running statistics (batch statistics in evaluation), opsets 13 and 18', async () => {
    for (const opset of [13, 18]) {
      const m = seedWeights(new Sequential(new BatchNorm2d(3, { trackRunningStats: false })), 41);
      await check(m, { inputShape: [3, 4, 5], input: img(3, 4, 5), opset });
    }
  });
  for (const opset of [13, 16, 17, 18])
    it(`LayerNorm at opset ${opset}${opset < 17 ? ' (decomposed)' : ''}`, async () => {
      const a = seedWeights(new Sequential(new LayerNorm(6, { eps: 1e-4 })), 43);
      await check(a, { inputShape: [3, 6], input: vec([3, 6], 5, 3), opset });
      const b = seedWeights(new Sequential(new LayerNorm([3, 4])), 47);
      await check(b, { inputShape: [2, 3, 4], input: vec([2, 3, 4]), opset });
      const c = new Sequential(new LayerNorm(5, { elementwiseAffine: false }));
      await check(c, { inputShape: [5], input: vec([5]), opset });
    });
  it('Flatten: default, a middle range, and with the batch axis', async () => {
    const shape = [3, 4, 5];
    await check(new Sequential(new Flatten()), { inputShape: shape, input: img(3, 4, 5) });
    await check(new Sequential(new Flatten(2, 3)), { inputShape: shape, input: img(3, 4, 5) });
    await check(new Sequential(new Flatten(0, 1)), { inputShape: shape, input: img(3, 4, 5) });
  });
  it('Normalize, RandomCrop (centre crop) and RandomHorizontalFlip in evaluation', async () => {
    const m = new Sequential(
      new Normalize([0.5, -0.2, 0.1], [0.3, 1.5, 0.8]),
      new RandomCrop([5, 4]),
      new RandomHorizontalFlip(),
      new RandomCrop(4, { padding: 2 }),
    );
    await check(m, { inputShape: [3, 8, 7], input: img(3, 8, 7) });
  });
  it('a small CNN with nested Sequentials, in a Model', async () => {
    const net = new Sequential(
      new Sequential(new Conv2d(1, 4, 3, { padding: 1 }), new BatchNorm2d(4), new ReLU()),
      new Sequential(
        new MaxPool2d(2),
        new Sequential(new Conv2d(4, 6, 3, { activation: 'relu' }), new Dropout(0.3)),
        new Flatten(),
        new Sequential(new Linear(6 * 3 * 2, 10, { activation: 'relu' }), new Linear(10, 3), new Softmax()),
      ),
    );
    seedWeights(net, 53, 0.5);
    await check(new Model(net), { inputShape: [1, 11, 9], input: img(1, 11, 9) });
  });
});

describe('sequence layers', () => {
  it('Embedding + LSTM (batch first, last state) + Linear: int64 token input', async () => {
    const m = seedWeights(
      new Sequential(
        new Embedding(13, 5),
        new LSTM(5, 7, { batchFirst: true, returnSequences: false }),
        new Linear(7, 3),
      ),
      59,
    );
    const path = await check(m, { inputShape: [6], input: (n) => tokens([n, 6], 13, 60 + n) });
    const s = await ort.InferenceSession.create(path);
    expect(s.inputNames).toEqual(['input']);
    await s.release();
  });
  it('Embedding with maxNorm (rows renormalised as the layer does)', async () => {
    const m = seedWeights(new Sequential(new Embedding(9, 4, { maxNorm: 0.5 }), new Flatten()), 61, 1.5);
    const { info } = exportOnnxBytes(m, { inputShape: [5] });
    expect(info.input.dtype).toBe('int64');
    // The layer renormalises rows in place on lookup; the export must not touch the weights.
    const before = Float32Array.from(m.namedParameters()[0][1].data as Float32Array);
    await exportOnnx(m, join(DIR, 'maxnorm.onnx'), { inputShape: [5] });
    expect(Array.from(m.namedParameters()[0][1].data)).toEqual(Array.from(before));
    await check(m, { inputShape: [5], input: (n) => tokens([n, 5], 9, 62 + n) });
  });
  it('Embedding on a [batch] input (one token per sample)', async () => {
    const m = seedWeights(new Sequential(new Embedding(7, 3), new Linear(3, 2)), 63);
    await check(m, { inputShape: [], input: (n) => tokens([n], 7, 64 + n) });
  });
  it('LSTM: time-major sequences (the input is [steps, batch, features])', async () => {
    const m = seedWeights(new Sequential(new LSTM(4, 5)), 67);
    const path = await check(m, { inputShape: [6, 4], input: (n) => floats([6, n, 4], 68 + n) });
    const s = await ort.InferenceSession.create(path);
    await s.release();
  });
  it('LSTM: bidirectional, 2 layers, batch first, sequences', async () => {
    const m = seedWeights(new Sequential(new LSTM(3, 4, { bidirectional: true, numLayers: 2, batchFirst: true })), 71);
    await check(m, { inputShape: [5, 3], input: vec([5, 3]) });
  });
  it('LSTM: bidirectional, last state, no bias', async () => {
    const m = seedWeights(
      new Sequential(new LSTM(3, 4, { bidirectional: true, batchFirst: true, returnSequences: false, bias: false })),
      73,
    );
    await check(m, { inputShape: [5, 3], input: vec([5, 3]) });
  });
  it('GRU: time-major, 2 layers, and bidirectional batch-first last state', async () => {
    const a = seedWeights(new Sequential(new GRU(4, 6, { numLayers: 2 })), 79);
    await check(a, { inputShape: [7, 4], input: (n) => floats([7, n, 4], 80 + n) });
    const b = seedWeights(
      new Sequential(
        new GRU(4, 3, { bidirectional: true, batchFirst: true, returnSequences: false }),
        new Linear(6, 2),
      ),
      83,
    );
    await check(b, { inputShape: [5, 4], input: vec([5, 4]) });
  });
  it('SimpleRNN: tanh and relu, stacked and bidirectional', async () => {
    const a = seedWeights(new Sequential(new SimpleRNN(3, 5, { batchFirst: true, numLayers: 2 })), 89);
    await check(a, { inputShape: [6, 3], input: vec([6, 3]) });
    const b = seedWeights(
      new Sequential(new SimpleRNN(3, 4, { nonlinearity: 'relu', bidirectional: true, batchFirst: true })),
      97,
    );
    await check(b, { inputShape: [6, 3], input: vec([6, 3]) });
    const c = seedWeights(new Sequential(new SimpleRNN(3, 4, { returnSequences: false, bias: false })), 101);
    await check(c, { inputShape: [6, 3], input: (n) => floats([6, n, 3], 102 + n) });
  });
  it('LastStep, MeanOverTime (batch-major and time-major) and TimeDistributed', async () => {
    for (const opset of [13, 18]) {
      await check(new Sequential(new LastStep()), { inputShape: [5, 3], input: vec([5, 3]), opset });
      await check(new Sequential(new MeanOverTime()), { inputShape: [5, 3], input: vec([5, 3]), opset });
      await check(new Sequential(new LastStep({ timeMajor: true })), {
        inputShape: [5, 3],
        input: (n) => floats([5, n, 3], 103 + n),
        opset,
      });
      await check(new Sequential(new MeanOverTime({ timeMajor: true })), {
        inputShape: [5, 3],
        input: (n) => floats([5, n, 3], 103 + n),
        opset,
      });
    }
    const td = seedWeights(
      new Sequential(new TimeDistributed(new Sequential(new Linear(3, 4), new GELU())), new LastStep()),
      107,
    );
    await check(td, { inputShape: [5, 3], input: vec([5, 3]) });
    const tdConv = seedWeights(new Sequential(new TimeDistributed(new Conv2d(1, 2, 3)), new Flatten(2)), 109);
    await check(tdConv, { inputShape: [4, 1, 5, 5], input: vec([4, 1, 5, 5]) });
  });
  it('TimeDistributed(Embedding) on [batch, steps, tokens] ids', async () => {
    const m = seedWeights(
      new Sequential(new TimeDistributed(new Embedding(9, 3)), new Flatten(2), new LSTM(6, 4, { batchFirst: true })),
      139,
    );
    await check(m, { inputShape: [4, 2], input: (n) => tokens([n, 4, 2], 9, 140 + n) });
  });
  it('a text classifier: Embedding, stacked bidirectional GRU, LayerNorm, MeanOverTime', async () => {
    const m = seedWeights(
      new Sequential(
        new Embedding(20, 6),
        new GRU(6, 5, { batchFirst: true, bidirectional: true, numLayers: 2 }),
        new LayerNorm(10),
        new MeanOverTime(),
        new Linear(10, 4),
        new LogSoftmax(),
      ),
      113,
    );
    await check(m, { inputShape: [7], input: (n) => tokens([n, 7], 20, 114 + n) });
  });

  // Padded token batches: the Embedding's paddingIdx attaches each row's valid length, and the
  // recurrent layers and sequence pooling honour it (ONNX sequence_lens, masks). Rows of every
  // length, 0 included, and padding tokens inside rows.
  const padded = (n: number) => tokens([n, 8], 11, 120 + n, { id: 0, lengths: [8, 3, 5, 0, 1, 6] });
  // The int32 sequence_lens come from ArgMax through Cast(int64 -> int32), computed at run time.
  it('padded batches: Embedding(paddingIdx) + LSTM (batch first, last state)', async () => {
    const m = seedWeights(
      new Sequential(
        new Embedding(11, 4, { paddingIdx: 0 }),
        new LSTM(4, 5, { batchFirst: true, returnSequences: false, bidirectional: true }),
      ),
      127,
    );
    for (const opset of [13, 17, 18]) await check(m, { inputShape: [8], input: padded, opset });
  });
  it('padded batches: Embedding(paddingIdx) + 2-layer GRU sequences + LastStep and MeanOverTime', async () => {
    for (const pool of [new LastStep(), new MeanOverTime()]) {
      const m = seedWeights(
        new Sequential(
          new Embedding(11, 4, { paddingIdx: 0 }),
          new Dropout(0.2),
          new GRU(4, 3, { batchFirst: true, numLayers: 2, bidirectional: true }),
          pool,
        ),
        131,
      );
      await check(m, { inputShape: [8], input: padded });
    }
  });
  it('padded batches: Embedding(paddingIdx) + MeanOverTime (masks only, no recurrent layer)', async () => {
    for (const pool of [new MeanOverTime(), new LastStep()]) {
      const m = seedWeights(new Sequential(new Embedding(11, 4, { paddingIdx: 0 }), pool), 137);
      for (const opset of [13, 18]) await check(m, { inputShape: [8], input: padded, opset });
    }
  });
});

describe('attention and transformer layers (eval forwards: MatMul / Softmax / Transpose nodes)', () => {
  it('MultiheadAttention self-attention, batch first, packed and separate-weight projections', async () => {
    const a = seedWeights(new Sequential(new MultiheadAttention(8, 2, { batchFirst: true })), 91, 0.4);
    await check(a, { inputShape: [5, 8], input: vec([5, 8], 92, 1) });
    const b = seedWeights(new Sequential(new MultiheadAttention(6, 3, { batchFirst: true, bias: false })), 93, 0.4);
    await check(b, { inputShape: [4, 6], input: vec([4, 6], 94, 1) });
  });
  it('a transformer classifier: positions, a 2-layer encoder (post-norm, relu) with a final norm, mean pooling', async () => {
    const m = seedWeights(
      new Sequential(
        new Linear(3, 8),
        new PositionalEmbedding(10, 8, { batchFirst: true }),
        new TransformerEncoder(new TransformerEncoderLayer(8, 2, { dimFeedforward: 12, batchFirst: true }), 2, {
          norm: new LayerNorm(8),
        }),
        new MeanOverTime({ timeMajor: false }),
        new Linear(8, 2),
      ),
      95,
      0.4,
    );
    await check(m, { inputShape: [6, 3], input: vec([6, 3], 96, 1) });
  });
  it('pre-norm gelu encoder layers and sinusoidal positions, sequence first (the input is [steps, batch, features])', async () => {
    const m = seedWeights(
      new Sequential(
        new SinusoidalPositionalEncoding(8, { maxLength: 20 }),
        new TransformerEncoderLayer(8, 4, { dimFeedforward: 16, activation: 'gelu', normFirst: true }),
      ),
      97,
      0.4,
    );
    await check(m, { inputShape: [7, 8], batchAxis: 1, input: (n) => floats([7, n, 8], 98 + n, 1) });
  });
  it('refuses what has no export: a decoder, cross-attention weights of other widths', () => {
    const dec = new Sequential(new TransformerDecoderLayer(8, 2));
    expect(() => exportOnnxBytes(dec, { inputShape: [4, 8] })).toThrow(/TransformerDecoderLayer\) has no ONNX export/);
    const cross = new Sequential(new MultiheadAttention(8, 2, { kdim: 4, batchFirst: true }));
    expect(() => exportOnnxBytes(cross, { inputShape: [4, 8] })).toThrow(/kdim = vdim = embedDim/);
  });
});

describe('batch dimension', () => {
  it('runs a dynamic-batch file at several batch sizes', async () => {
    const m = seedWeights(new Sequential(new Conv2d(2, 3, 3, { padding: 1 }), new Flatten(), new Linear(3 * 4 * 4, 2)));
    await check(m, { inputShape: [2, 4, 4], input: img(2, 4, 4), batches: [1, 3, 8] });
  });
  it('fixes the batch with dynamicBatch: false', async () => {
    const m = seedWeights(new Sequential(new Linear(3, 2)));
    const path = await check(m, { inputShape: [3], dynamicBatch: false, batchSize: 4, input: vec([3]), batches: [4] });
    const s = await ort.InferenceSession.create(path);
    await expect(s.run({ input: new ort.Tensor('float32', new Float32Array(6), [2, 3]) })).rejects.toThrow();
    await s.release();
    const { info } = exportOnnxBytes(m, { inputShape: [3], dynamicBatch: false });
    expect(info.input.shape).toEqual([1, 3]);
  });
  it('takes a Model and its input spec', async () => {
    const net = seedWeights(new Sequential(new Linear(3, 2)));
    const model = new Model(net);
    model.inputSpec = { shape: [3], dtype: 'float32' };
    const { info } = exportOnnxBytes(model);
    expect(info.input.shape).toEqual(['batch', 3]);
  });
});

describe('files and errors', () => {
  it('writes atomically: no temporary file is left, and the file decodes', async () => {
    const sub = mkdtempSync(join(DIR, 'atomic-'));
    const path = join(sub, 'net.onnx');
    const m = seedWeights(new Sequential(new Linear(3, 2)));
    await exportOnnx(m, path, { inputShape: [3] });
    await exportOnnx(m, path, { inputShape: [3], opset: 13 });
    expect(readdirSync(sub)).toEqual(['net.onnx']);
    const decoded = onnxType('ModelProto').decode(readFileSync(path)) as unknown as {
      opset_import: { version: number }[];
      producer_name: string;
    };
    expect(Number(decoded.opset_import[0].version)).toBe(13);
    expect(decoded.producer_name).toBe('axon-nn');
    await expect(exportOnnx(m, join(sub, 'missing-dir', 'x.onnx'), { inputShape: [3] })).rejects.toThrow(
      /cannot save .*does not exist/,
    );
  });
  it('fails on a layer type without an export, naming its path and type, and writes nothing', async () => {
    class Custom extends Module {
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    const m = new Sequential(new Linear(3, 3), new Sequential(new ReLU(), new Custom()));
    const path = join(DIR, 'never.onnx');
    await expect(exportOnnx(m, path, { inputShape: [3] })).rejects.toThrow(
      /layer '1\.1' \(Custom\) has no ONNX export/,
    );
    expect(existsSync(path)).toBe(false);
    expect(() => exportOnnxBytes(new Custom(), { inputShape: [3] })).toThrow(/the root module \(Custom\)/);
    // A subclass of a known layer that overrides forward computes something else: refused.
    class Doubled extends Linear {
      override forward(x: Tensor): Tensor {
        return super.forward(x).mul(2);
      }
    }
    expect(() => exportOnnxBytes(new Sequential(new Doubled(3, 2)), { inputShape: [3] })).toThrow(
      /layer '0' \(Doubled\) has no ONNX export/,
    );
  });
  it('refuses a bad inputShape with a clear error', () => {
    const m = new Sequential(new Linear(3, 2));
    expect(() => exportOnnxBytes(m, {})).toThrow(/inputShape .* is required/);
    expect(() => exportOnnxBytes(m, { inputShape: [0] })).toThrow(
      /inputShape must be an array of at most 7 positive integers/,
    );
    expect(() => exportOnnxBytes(m, { inputShape: [2.5] })).toThrow(/inputShape must be/);
    expect(() => exportOnnxBytes(m, { inputShape: '3' as unknown as number[] })).toThrow(/inputShape must be/);
    expect(() => exportOnnxBytes(m, { inputShape: [4] })).toThrow(
      /layer '0' \(Linear\): input \[batch, 4\] must end in 3 features/,
    );
    const conv = new Sequential(new Conv2d(3, 4, 3));
    expect(() => exportOnnxBytes(conv, { inputShape: [3, 8] })).toThrow(
      /layer '0' \(Conv2d\): input must be \[N, 3, H, W\]/,
    );
    expect(() => exportOnnxBytes(conv, { inputShape: [3, 2, 2] })).toThrow(
      /layer '0' \(Conv2d\): .*larger than the padded input/,
    );
    const emb = new Sequential(new Linear(3, 3), new Embedding(5, 2));
    expect(() => exportOnnxBytes(emb, { inputShape: [3] })).toThrow(
      /layer '1' \(Embedding\): its input must be the integer token ids/,
    );
    expect(() => exportOnnxBytes(m, { inputShape: [3], inputDtype: 'int32' })).toThrow(
      /integer inputs feed only an Embedding/,
    );
  });
  it('refuses a bad opset and unknown options', () => {
    const m = new Sequential(new Linear(3, 2));
    for (const opset of [12, 19, 17.5, '17' as unknown as number])
      expect(() => exportOnnxBytes(m, { inputShape: [3], opset })).toThrow(/opset must be an integer from 13 to 18/);
    expect(() => exportOnnxBytes(m, { inputShape: [3], opsets: 17 } as OnnxExportOptions)).toThrow(/opsets/);
    expect(() => exportOnnxBytes(m, { inputShape: [3], batchSize: 2 })).toThrow(
      /batchSize applies only with dynamicBatch: false/,
    );
    expect(() => exportOnnxBytes({} as Module, { inputShape: [3] })).toThrow(/expected a Module or a Model/);
  });
  it('refuses a recurrent layer reading the lengths of the other layout', () => {
    const m = new Sequential(new Embedding(5, 3, { paddingIdx: 0 }), new LSTM(3, 2));
    expect(() => exportOnnxBytes(m, { inputShape: [4] })).toThrow(
      /layer '1' \(LSTM\): the input carries sequence lengths/,
    );
  });
});

describe('an imported model exported back', () => {
  it('writes its graph with the fine-tuned weights; onnxruntime and loadOnnx agree with the module', async () => {
    const session = await loadOnnx(join(__dirname, 'fixtures/onnx/torch/cnn_bn/model.onnx'));
    const module = session.toModule().eval();
    // A "fine-tuned" weight: every parameter moved.
    for (const [, p] of module.namedParameters())
      (p.data as Float32Array).forEach((v, i, a) => (a[i] = v * 0.9 + 0.01));
    const path = join(DIR, 'reexported.onnx');
    const info = await exportOnnx(module, path);
    expect(info.opTypes).toContain('BatchNormalization');
    const x = new Tensor(
      Float32Array.from({ length: 2 * 3 * 16 * 16 }, (_, i) => Math.sin(i * 0.1)),
      [2, 3, 16, 16],
    );
    const want = noGrad(() => module.forward(x));
    const theirs = await ort.InferenceSession.create(path);
    const o = (await theirs.run({ input: new ort.Tensor('float32', x.data as Float32Array, [2, 3, 16, 16]) })).output;
    expectClose(o.data as Float32Array, want.data as Float32Array, 'onnxruntime');
    const again = (await loadOnnx(path)).runSync({ input: x }).output;
    expectClose(again.data as Float32Array, want.data as Float32Array, 'loadOnnx');
    // The original session is untouched by the module's new weights.
    const before = session.runSync({ input: x }).output;
    expect(Array.from(before.data)).not.toEqual(Array.from(want.data));
  });
});
