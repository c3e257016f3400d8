/**
 * Attention and transformer layers against PyTorch 1.13 (tests/fixtures/torch-transformer.json,
 * from tools/torch_transformer_reference.py): outputs, attention weights and the gradients of
 * every input and parameter, with PyTorch's state dicts loaded unchanged. Then the fused
 * attention's own behaviour (fully masked queries, mask broadcasting, errors), model files,
 * and training through Model.fit (a recorded and replayed step, dropout included).
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  LayerNorm,
  Linear,
  MeanOverTime,
  Model,
  Module,
  MultiheadAttention,
  PositionalEmbedding,
  Sequential,
  SinusoidalPositionalEncoding,
  Tensor,
  TransformerDecoder,
  TransformerDecoderLayer,
  TransformerEncoder,
  TransformerEncoderLayer,
  deserializeModule,
  loadModel,
  matmul,
  randn,
  saveModel,
  scaledDotProductAttention,
  serializeModule,
  softmax,
  tensor,
} from '../src/index.js';

interface Json {
  shape: number[];
  data: number[];
}
interface TorchCase {
  name: string;
  config: Record<string, number | boolean | string>;
  params: Record<string, Json>;
  inputs: Record<string, Json>;
  masks: Record<string, Json & { bool: boolean }>;
  call: Record<string, boolean>;
  output: Json;
  upstream: Json;
  inputGrads: Record<string, Json>;
  paramGrads: Record<string, Json>;
  weights?: Json;
}
const fixture = JSON.parse(readFileSync('tests/fixtures/torch-transformer.json', 'utf8')) as { cases: TorchCase[] };
const byName = (n: string): TorchCase => {
  const c = fixture.cases.find((x) => x.name === n);
  if (!c) throw new Error(`fixture has no case ${n}`);
  return c;
};

const f32 = (j: Json): Tensor => new Tensor(Float32Array.from(j.data), j.shape);
const mask = (j: Json & { bool: boolean }): Tensor =>
  j.bool ? new Tensor(Int32Array.from(j.data), j.shape) : new Tensor(Float32Array.from(j.data), j.shape);

function expectClose(got: Tensor | null | undefined, want: Json, what: string, tol = 2e-4): void {
  expect(got, `${what}: missing`).toBeTruthy();
  const g = got as Tensor;
  expect(g.shape, what).toEqual(want.shape);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.data.length; i++) {
    const err = Math.abs((g.data[i] as number) - want.data[i]) / (tol + tol * Math.abs(want.data[i]));
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  expect(worst, `${what}: element ${at} is ${g.data[at]}, PyTorch ${want.data[at]}`).toBeLessThanOrEqual(1);
}

/** Loads the case's parameters, runs `run` on its inputs, checks the output and every gradient. */
function checkCase(
  c: TorchCase,
  module: Module,
  run: (inputs: Record<string, Tensor>) => Tensor | { output: Tensor; weights: Tensor | null },
): void {
  const state: Record<string, Tensor> = {};
  for (const [n, j] of Object.entries(c.params)) state[n] = f32(j);
  const names = module.namedParameters().map(([n]) => n);
  expect(names.sort()).toEqual(Object.keys(c.params).sort());
  module.loadStateDict(state);
  const inputs: Record<string, Tensor> = {};
  for (const [n, j] of Object.entries(c.inputs)) inputs[n] = f32(j).setRequiresGrad();
  const r = run(inputs);
  const out = r instanceof Tensor ? r : r.output;
  expectClose(out, c.output, `${c.name} output`);
  if (c.weights) expectClose((r as { weights: Tensor | null }).weights, c.weights, `${c.name} weights`);
  out.mul(f32(c.upstream)).sum().backward();
  for (const [n, j] of Object.entries(c.inputGrads)) expectClose(inputs[n].grad, j, `${c.name} d${n}`, 5e-4);
  const params = new Map(module.namedParameters());
  for (const [n, j] of Object.entries(c.paramGrads)) expectClose(params.get(n)?.grad, j, `${c.name} d ${n}`, 5e-4);
}

const layerOptions = (cfg: TorchCase['config']) => ({
  dimFeedforward: cfg.dimFeedforward as number,
  dropout: 0,
  activation: cfg.activation as 'relu' | 'gelu',
  batchFirst: cfg.batchFirst as boolean,
  normFirst: cfg.normFirst as boolean,
});

describe('transformer layers match PyTorch 1.13 (outputs, weights, every gradient)', () => {
  it('MultiheadAttention, self-attention, sequence-first, key padding (bool) + float attnMask, averaged weights', () => {
    const c = byName('mha_self');
    const m = new MultiheadAttention(c.config.embedDim as number, c.config.numHeads as number);
    checkCase(c, m, ({ x }) =>
      m.attend(x, x, x, {
        keyPaddingMask: mask(c.masks.keyPaddingMask),
        attnMask: mask(c.masks.attnMask),
        needWeights: true,
      }),
    );
  });

  it('MultiheadAttention, self-attention through the fused kernel gives the same output and gradients', () => {
    const c = { ...byName('mha_self'), weights: undefined };
    const m = new MultiheadAttention(c.config.embedDim as number, c.config.numHeads as number);
    checkCase(
      c,
      m,
      ({ x }) =>
        m.attend(x, x, x, { keyPaddingMask: mask(c.masks.keyPaddingMask), attnMask: mask(c.masks.attnMask) }).output,
    );
  });

  it('MultiheadAttention, cross-attention, batch-first, kdim/vdim (separate projections), bool attnMask', () => {
    const c = byName('mha_cross');
    const m = new MultiheadAttention(8, 2, { kdim: 6, vdim: 5, batchFirst: true });
    checkCase(
      c,
      m,
      ({ query, key, value }) => m.attend(query, key, value, { attnMask: mask(c.masks.attnMask) }).output,
    );
  });

  it('TransformerEncoderLayer, post-norm, relu, sequence-first, key padding', () => {
    const c = byName('encoder_post_relu');
    const layer = new TransformerEncoderLayer(16, 4, layerOptions(c.config));
    checkCase(c, layer, ({ src }) => layer.call(src, { srcKeyPaddingMask: mask(c.masks.srcKeyPaddingMask) }));
  });

  it('TransformerEncoderLayer, pre-norm, gelu, batch-first, causal as a mask and as isCausal', () => {
    const c = byName('encoder_pre_gelu_causal');
    const a = new TransformerEncoderLayer(16, 4, layerOptions(c.config));
    checkCase(c, a, ({ src }) => a.call(src, { mask: mask(c.masks.mask) }));
    const b = new TransformerEncoderLayer(16, 4, layerOptions(c.config));
    checkCase(c, b, ({ src }) => b.call(src, { isCausal: true }));
  });

  it('TransformerDecoderLayer, post-norm, causal target, memory key padding', () => {
    const c = byName('decoder_post');
    const a = new TransformerDecoderLayer(16, 2, layerOptions(c.config));
    checkCase(c, a, ({ tgt, memory }) =>
      a.call(tgt, memory, { tgtMask: mask(c.masks.tgtMask), memoryKeyPaddingMask: mask(c.masks.memoryKeyPaddingMask) }),
    );
    const b = new TransformerDecoderLayer(16, 2, layerOptions(c.config));
    checkCase(c, b, ({ tgt, memory }) =>
      b.call(tgt, memory, { tgtIsCausal: true, memoryKeyPaddingMask: mask(c.masks.memoryKeyPaddingMask) }),
    );
  });

  it('TransformerEncoder: two layers and a final norm (layers.0.*, layers.1.*, norm.*)', () => {
    const c = byName('encoder_stack');
    const stack = new TransformerEncoder(new TransformerEncoderLayer(16, 4, layerOptions(c.config)), 2, {
      norm: new LayerNorm(16),
    });
    checkCase(c, stack, ({ src }) => stack.forward(src));
  });
});

describe('scaledDotProductAttention', () => {
  const composed = (q: Tensor, k: Tensor, v: Tensor, m?: Tensor): Tensor => {
    let s = matmul(q, k.transpose(-2, -1)).mul(1 / Math.sqrt(q.shape[q.ndim - 1]));
    if (m) s = s.add(m);
    return matmul(softmax(s, -1), v);
  };
  const maxDiff = (a: Tensor, b: Tensor): number => {
    let d = 0;
    for (let i = 0; i < a.size; i++) d = Math.max(d, Math.abs((a.data[i] as number) - (b.data[i] as number)));
    return d;
  };

  it('broadcasts masks of every rank the kernel reads by strides, and expands the rest', () => {
    const q = randn([2, 3, 70, 8], { seed: 1 });
    const k = randn([2, 3, 90, 8], { seed: 2 });
    const v = randn([2, 3, 90, 5], { seed: 3 });
    for (const shape of [
      [90],
      [70, 90],
      [3, 1, 90],
      [2, 1, 1, 90],
      [2, 3, 70, 90],
      [1, 3, 70, 90],
      [70, 1],
      [2, 1, 70, 1],
    ]) {
      const m = randn(shape, { seed: 4 });
      const got = scaledDotProductAttention(q, k, v, { mask: m });
      expect(maxDiff(got, composed(q, k, v, m)), `mask ${JSON.stringify(shape)}`).toBeLessThan(1e-5);
    }
  });

  it('an int32 mask is PyTorch 2 SDPA boolean: nonzero may attend', () => {
    const q = randn([1, 6, 4], { seed: 5 });
    const keep = tensor([[1, 1, 0, 1, 0, 1]], { dtype: 'int32' });
    const additive = new Tensor(Float32Array.from([0, 0, -Infinity, 0, -Infinity, 0]), [1, 6]);
    expect(maxDiff(scaledDotProductAttention(q, q, q, { mask: keep }), composed(q, q, q, additive))).toBeLessThan(1e-6);
  });

  it('a query that sees no key gets zeros and zero gradients, never NaN', () => {
    const q = randn([1, 3, 4], { seed: 6 }).setRequiresGrad();
    const k = randn([1, 5, 4], { seed: 7 }).setRequiresGrad();
    const v = randn([1, 5, 2], { seed: 8 }).setRequiresGrad();
    const m = new Float32Array(15);
    for (let j = 0; j < 5; j++) m[5 + j] = -Infinity; // query 1 sees nothing
    const y = scaledDotProductAttention(q, k, v, { mask: new Tensor(m, [3, 5]) });
    expect(Array.from(y.data.slice(2, 4))).toEqual([0, 0]);
    y.sum().backward();
    for (const t of [q, k, v]) expect(Array.from(t.grad?.data ?? []).every(Number.isFinite)).toBe(true);
    expect(Array.from(q.grad?.data.slice(4, 8) ?? [])).toEqual([0, 0, 0, 0]);
  });

  it('dropout: deterministic from its state, the expected share dropped, training-time only through layers', () => {
    const q = randn([1, 2, 64, 16], { seed: 9 });
    const v = randn([1, 2, 64, 16], { seed: 10 });
    const state = new Float64Array([1, 2, 0]);
    const a = scaledDotProductAttention(q, q, v, { dropout: 0.5, state: Float64Array.from(state) });
    const b = scaledDotProductAttention(q, q, v, { dropout: 0.5, state: Float64Array.from(state) });
    expect(maxDiff(a, b)).toBe(0);
    expect(maxDiff(a, scaledDotProductAttention(q, q, v))).toBeGreaterThan(0.01);
    // Identity values: each output row is the sum of its kept weights x 2, whose mean is 1.
    const eye = Tensor.empty([1, 2, 64, 64]);
    for (let h = 0; h < 2; h++) for (let i = 0; i < 64; i++) eye.data[h * 4096 + i * 65] = 1;
    const w = scaledDotProductAttention(q, q, eye, { dropout: 0.5, seed: 3 });
    let total = 0;
    for (let i = 0; i < w.size; i++) total += w.data[i] as number;
    expect(total / 128).toBeGreaterThan(0.85);
    expect(total / 128).toBeLessThan(1.15);
    const mha = new MultiheadAttention(16, 2, { dropout: 0.5, batchFirst: true });
    const x = randn([1, 5, 16], { seed: 11 });
    mha.eval();
    expect(maxDiff(mha.forward(x), mha.forward(x))).toBe(0);
  });

  it('rejects bad shapes and options with the op, the argument and the shapes', () => {
    const q = randn([2, 4, 8]);
    expect(() => scaledDotProductAttention(q, randn([2, 4, 6]), randn([2, 4, 8]))).toThrow(
      /scaledDotProductAttention: query and key need the same feature size.*query \[2,4,8\], key \[2,4,6\]/,
    );
    expect(() => scaledDotProductAttention(q, q, randn([2, 5, 8]))).toThrow(/key and value need the same length/);
    expect(() => scaledDotProductAttention(q, q, randn([3, 4, 8]))).toThrow(/same leading/);
    expect(() => scaledDotProductAttention(q, q, q, { mask: randn([3, 4]) })).toThrow(
      /mask \[3,4\] does not broadcast to .*\[2,4,4\]/,
    );
    expect(() => scaledDotProductAttention(q, q, q, { dropout: 1 })).toThrow(/dropout must be in \[0, 1\)/);
    expect(() => scaledDotProductAttention(q, q, q, { casual: true } as never)).toThrow(/casual/);
    expect(() => new MultiheadAttention(10, 3)).toThrow(/embedDim 10 must be divisible by numHeads 3/);
    const mha = new MultiheadAttention(8, 2);
    expect(() => mha.forward(randn([3, 2, 6]))).toThrow(/must end in 8, 8, 8 features/);
    expect(() =>
      mha.attend(randn([3, 2, 8]), randn([3, 2, 8]), randn([3, 2, 8]), { keyPaddingMask: randn([3, 2]) }),
    ).toThrow(/keyPaddingMask must be \[2,3\]/);
  });

  it('a mask that requires grad gets its gradient (the composed path)', () => {
    const q = randn([2, 3, 4], { seed: 12 });
    const bias = randn([3, 3], { seed: 13 }).setRequiresGrad();
    scaledDotProductAttention(q, q, q, { mask: bias }).sum().backward();
    expect(bias.grad?.shape).toEqual([3, 3]);
    expect(() => scaledDotProductAttention(q, q, q, { mask: bias, causal: true })).toThrow(
      /does not take dropout or causal/,
    );
  });
});

describe('transformer modules in models', () => {
  const classifier = (): Sequential =>
    new Sequential(
      new Linear(4, 16, { init: { seed: 1 } }),
      new PositionalEmbedding(12, 16, { batchFirst: true, init: { seed: 2 } }),
      new TransformerEncoder(
        new TransformerEncoderLayer(16, 2, { dimFeedforward: 32, dropout: 0.1, batchFirst: true, init: { seed: 3 } }),
        2,
        { norm: new LayerNorm(16) },
      ),
      new MeanOverTime(),
      new Linear(16, 2, { init: { seed: 4 } }),
    );

  it('model files and configs round-trip every transformer module', async () => {
    const net = new Sequential(classifier(), new SinusoidalPositionalEncoding(2, { maxLength: 8, batchFirst: true }));
    const dec = new TransformerDecoder(
      new TransformerDecoderLayer(8, 2, { dimFeedforward: 16, normFirst: true, activation: 'gelu' }),
      2,
    );
    const mha = new MultiheadAttention(8, 4, { kdim: 3, vdim: 5, bias: false, batchFirst: true });
    for (const m of [net, dec, mha]) {
      const copy = deserializeModule(JSON.parse(JSON.stringify(serializeModule(m))));
      expect(copy.namedParameters().map(([n, p]) => [n, p.shape])).toEqual(
        m.namedParameters().map(([n, p]) => [n, p.shape]),
      );
    }
    const dir = mkdtempSync(join(tmpdir(), 'axon-tf-'));
    try {
      const module = classifier();
      const x = randn([3, 12, 4], { seed: 5 });
      module.eval();
      const before = module.forward(x);
      await saveModel(module, join(dir, 'tf.axon'));
      const loaded = await loadModel(join(dir, 'tf.axon'));
      loaded.eval();
      expect(Array.from(loaded.forward(x).data)).toEqual(Array.from(before.data));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('hostile configs are refused with the path and the rule, before allocating', () => {
    const layer = { dModel: 8, nhead: 2, dimFeedforward: 16 };
    const bad: [unknown, RegExp][] = [
      [
        { class: 'MultiheadAttention', config: { embedDim: 10, numHeads: 3 } },
        /embedDim 10 must be divisible by numHeads 3/,
      ],
      [
        { class: 'MultiheadAttention', config: { embedDim: 8, numHeads: 2, dropout: 1 } },
        /dropout must be in \[0, 1\)/,
      ],
      [
        { class: 'TransformerEncoderLayer', config: { ...layer, activation: 'swish' } },
        /activation must be 'relu' or 'gelu'/,
      ],
      [{ class: 'TransformerEncoder', config: { layer, numLayers: 1e6 } }, /numLayers must be in \[1, 1000\]/],
      [
        { class: 'TransformerEncoder', config: { layer: 'x', numLayers: 2 } },
        /config\.layer must be the layer's config object/,
      ],
      [
        { class: 'TransformerDecoder', config: { layer, numLayers: 2, norm: { normalizedShape: [8, 8] } } },
        /config\.normalizedShape must be \[dModel\]/,
      ],
      [{ class: 'PositionalEmbedding', config: { maxLength: 0, dim: 4 } }, /maxLength must be a positive integer/],
    ];
    for (const [spec, msg] of bad) expect(() => deserializeModule(spec)).toThrow(msg);
    // A file claiming a huge model is stopped by the value budget, not by running out of memory.
    const huge = {
      class: 'TransformerEncoder',
      config: { layer: { dModel: 4096, nhead: 8, dimFeedforward: 1 << 20 }, numLayers: 1000 },
    };
    expect(() => deserializeModule(huge, 'model', { maxElements: 1000 })).toThrow(/exceed/);
  });

  it('a transformer classifier learns through Model.fit (recorded steps, attention dropout replayed)', async () => {
    // Class = whether the sum of feature 0 over the first 6 steps exceeds that over the last 6.
    const n = 256;
    const xs = randn([n, 12, 4], { seed: 6 });
    const ys = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let a = 0;
      for (let t = 0; t < 12; t++) a += (t < 6 ? 1 : -1) * (xs.data[(i * 12 + t) * 4] as number);
      ys[i] = a > 0 ? 1 : 0;
    }
    const y = new Tensor(ys, [n]);
    const model = new Model(classifier()).compile({
      optimizer: 'adam',
      learningRate: 3e-3,
      loss: 'crossEntropy',
      metrics: ['accuracy'],
    });
    const h = await model.fit(xs, y, { epochs: 30, batchSize: 32, verbose: 0, seed: 1 });
    expect(h.history.loss[29]).toBeLessThan(h.history.loss[0] * 0.5);
    expect((await model.evaluate(xs, y)).accuracy).toBeGreaterThan(0.9);
  });
});
