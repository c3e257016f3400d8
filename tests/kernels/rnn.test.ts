/**
 * Recurrent layers and sequence ops through the public API, on every SIMD level (this
 * directory runs once per level) and at 1 and 2 threads: LSTM/GRU/RNN outputs, final states
 * and every gradient against PyTorch (tests/fixtures/torch-rnn.json, from
 * tools/torch_rnn_reference.py: gate order, GRU reset placement, multi-layer, bidirectional,
 * batch-first, packed variable lengths, parameter names); finite-difference gradient checks
 * through time of every layer kind; embedding and pooling gradients.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Embedding,
  GRU,
  LSTM,
  SimpleRNN,
  Tensor,
  embedding,
  getNumThreads,
  gradcheck,
  randn,
  rnnDirection,
  sequencePool,
  setNumThreads,
  type RecurrentBase,
} from '../../src/index.js';

interface TorchCase {
  name: string;
  kind: 'lstm' | 'gru' | 'rnn';
  inputSize: number;
  hidden: number;
  layers: number;
  bidirectional: boolean;
  batchFirst: boolean;
  nonlinearity: 'tanh' | 'relu';
  bias: boolean;
  lengths: number[] | null;
  x: { shape: number[]; data: number[] };
  h0: number[] | null;
  c0: number[] | null;
  params: Record<string, { shape: number[]; data: number[] }>;
  out: { shape: number[]; data: number[] };
  hn: number[];
  cn: number[] | null;
  upstream: { out: number[]; hn: number[]; cn: number[] | null };
  grads: { x: number[]; h0: number[] | null; c0: number[] | null; params: Record<string, number[]> };
}
const fixture = JSON.parse(readFileSync('tests/fixtures/torch-rnn.json', 'utf8')) as { cases: TorchCase[] };

function f32(data: number[], shape: readonly number[], grad = false): Tensor {
  const t = new Tensor(Float32Array.from(data), [...shape]);
  return grad ? t.setRequiresGrad() : t;
}

function closeTo(actual: ArrayLike<number>, expected: readonly number[], tol: number, what: string): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  let worst = 0;
  let at = 0;
  for (let i = 0; i < expected.length; i++) {
    const r = Math.abs(actual[i] - expected[i]) / (tol + tol * Math.abs(expected[i]));
    if (r > worst) {
      worst = r;
      at = i;
    }
  }
  expect(worst, `${what}[${at}]: got ${actual[at]}, PyTorch ${expected[at]}`).toBeLessThanOrEqual(1);
}

function build(c: TorchCase): RecurrentBase {
  const options = { numLayers: c.layers, bidirectional: c.bidirectional, batchFirst: c.batchFirst, bias: c.bias };
  if (c.kind === 'lstm') return new LSTM(c.inputSize, c.hidden, options);
  if (c.kind === 'gru') return new GRU(c.inputSize, c.hidden, options);
  return new SimpleRNN(c.inputSize, c.hidden, { ...options, nonlinearity: c.nonlinearity });
}

const initialThreads = getNumThreads();
afterAll(() => setNumThreads(initialThreads));

describe.each([1, 2])('recurrent layers against PyTorch (%i threads)', (threads) => {
  it.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    setNumThreads(threads);
    const layer = build(c);
    // PyTorch's state dict loads by name, unchanged.
    const state: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(c.params)) state[k] = f32(v.data, v.shape);
    const report = layer.loadStateDict(state);
    expect(report.missing ?? []).toEqual([]);
    expect(report.unexpected ?? []).toEqual([]);
    const x = f32(c.x.data, c.x.shape, true);
    const sshape = [c.layers * (c.bidirectional ? 2 : 1), c.x.shape[c.batchFirst ? 0 : 1], c.hidden];
    const h0 = c.h0 ? f32(c.h0, sshape, true) : null;
    const c0 = c.c0 ? f32(c.c0, sshape, true) : null;
    const lengths = c.lengths ? new Tensor(Int32Array.from(c.lengths), [c.lengths.length]) : null;
    const r = layer.run(x, { h0, c0, lengths });
    expect(r.output.shape).toEqual(c.out.shape);
    closeTo(r.output.data, c.out.data, 2e-5, 'output');
    closeTo(r.hn.data, c.hn, 2e-5, 'h_n');
    if (c.cn) closeTo((r.cn as Tensor).data, c.cn, 2e-5, 'c_n');
    let loss = r.output.mul(f32(c.upstream.out, c.out.shape)).sum();
    loss = loss.add(r.hn.mul(f32(c.upstream.hn, r.hn.shape)).sum());
    if (r.cn && c.upstream.cn) loss = loss.add(r.cn.mul(f32(c.upstream.cn, r.cn.shape)).sum());
    loss.backward();
    closeTo(x.grad!.data, c.grads.x, 1e-4, 'dx');
    if (h0) closeTo(h0.grad!.data, c.grads.h0!, 1e-4, 'dh0');
    if (c0) closeTo(c0.grad!.data, c.grads.c0!, 1e-4, 'dc0');
    const params = Object.fromEntries(layer.namedParameters());
    for (const [k, g] of Object.entries(c.grads.params)) closeTo(params[k].grad!.data, g, 1e-4, `d${k}`);
  });
});

describe('gradient checks through time', () => {
  const opts = { eps: 1e-2, atol: 2e-3, rtol: 2e-3, maxElements: 40 };
  const r = (shape: number[], seed: number, scale = 1): Tensor => randn(shape, { seed }).mul(scale).setRequiresGrad();

  it.each(['lstm', 'gru', 'rnnTanh'] as const)(
    '%s cell op: inputs, weights, biases, h0, c0, lengths, reverse',
    (mode) => {
      const G = mode === 'lstm' ? 4 : mode === 'gru' ? 3 : 1;
      const [T, N, I, H] = [4, 3, 3, 5];
      const lengths = new Tensor(Int32Array.from([4, 2, 3]), [3]);
      for (const reverse of [false, true]) {
        const inputs = [
          r([T, N, I], 1),
          r([G * H, I], 2, 0.5),
          r([G * H, H], 3, 0.5),
          r([G * H], 4, 0.3),
          r([G * H], 5, 0.3),
          r([N, H], 6, 0.5),
          ...(mode === 'lstm' ? [r([N, H], 7, 0.5)] : []),
        ];
        const res = gradcheck(
          (x, wi, wh, bi, bh, h0, c0) => {
            const o = rnnDirection(mode, x, { wIh: wi, wHh: wh, bIh: bi, bHh: bh }, { h0, c0, lengths, reverse });
            // Every output feeds the loss: the sequence and both final states.
            const parts = [o.output.sum([0]), o.hn, ...(o.cn ? [o.cn] : [])];
            return parts.reduce((a, b) => a.add(b));
          },
          inputs,
          opts,
        );
        expect(res.ok, `${mode} reverse=${reverse}: ratio ${res.worstRatio} ${JSON.stringify(res.failure)}`).toBe(true);
      }
    },
  );

  it.each([
    [
      'LSTM 2 layers bidirectional batch-first',
      () => new LSTM(3, 4, { numLayers: 2, bidirectional: true, batchFirst: true, init: { seed: 1 } }),
    ],
    ['GRU 2 layers bidirectional', () => new GRU(3, 4, { numLayers: 2, bidirectional: true, init: { seed: 2 } })],
    ['SimpleRNN relu 2 layers', () => new SimpleRNN(3, 4, { numLayers: 2, nonlinearity: 'relu', init: { seed: 3 } })],
    [
      'LSTM last state (returnSequences false)',
      () => new LSTM(3, 4, { bidirectional: true, returnSequences: false, init: { seed: 4 } }),
    ],
  ] as const)('%s: every parameter and the input', (_name, make) => {
    const layer = make();
    const x = r(layer.batchFirst ? [2, 5, 3] : [5, 2, 3], 9);
    const params = layer.parameters();
    const direct = gradcheck((xx) => layer.forward(xx), [x], opts);
    expect(direct.ok, `input: ratio ${direct.worstRatio}`).toBe(true);
    for (const [i, p] of params.entries()) {
      p.setRequiresGrad();
      const g = gradcheck(() => layer.forward(x), [p], { ...opts, maxElements: 12 });
      expect(g.ok, `parameter ${i} ${layer.namedParameters()[i][0]}: ratio ${g.worstRatio}`).toBe(true);
    }
  });

  it('embedding (repeated tokens accumulate, padding gets none) and sequence pooling', () => {
    const w = r([6, 3], 11);
    const tokens = new Tensor(Int32Array.from([1, 2, 1, 0, 5, 1, 0, 0]), [2, 4]);
    // Without paddingIdx every looked-up row gets its full gradient; with it, row 0 gets none
    // (PyTorch's padding_idx), which finite differences cannot see, so it is checked exactly.
    const res = gradcheck((ww) => embedding(tokens, ww), [w], opts);
    expect(res.ok, `ratio ${res.worstRatio}`).toBe(true);
    w.grad = null;
    embedding(tokens, w, { paddingIdx: 0 }).sum().backward();
    const g = w.grad!.data;
    expect(Array.from(g.slice(0, 3))).toEqual([0, 0, 0]); // padding row
    expect(Array.from(g.slice(3, 6))).toEqual([3, 3, 3]); // token 1 three times
    const x = r([2, 4, 3], 12);
    const lengths = new Tensor(Int32Array.from([3, 1]), [2]);
    for (const mode of ['last', 'mean'] as const) {
      const p = gradcheck((xx) => sequencePool(xx, mode, { lengths }), [x], opts);
      expect(p.ok, `${mode}: ratio ${p.worstRatio}`).toBe(true);
    }
    const tm = gradcheck((xx) => sequencePool(xx, 'mean', { lengths, timeMajor: true }), [r([4, 2, 3], 13)], opts);
    expect(tm.ok).toBe(true);
  });

  it.each([1, 2, Infinity])('Embedding max-norm (p = %s) renormalises the rows it looks up, in place', (p) => {
    const norm = (v: ArrayLike<number>): number => {
      const a = Array.from(v, Math.abs);
      return p === Infinity ? Math.max(...a) : a.reduce((s, x) => s + x ** p, 0) ** (1 / p);
    };
    const e = new Embedding(5, 4, { maxNorm: 0.5, normType: p, init: { seed: 3 } });
    const w = e.weight.data;
    const before = [0, 1, 2, 3, 4].map((r) => norm(w.slice(r * 4, r * 4 + 4)));
    expect(before[2]).toBeGreaterThan(0.5);
    expect(before[4]).toBeGreaterThan(0.5);
    const untouched = Array.from(w.slice(0, 4));
    const out = e.forward(new Tensor(Int32Array.from([2, 4, 2]), [3]));
    for (const [i, r] of [2, 4, 2].entries()) {
      expect(norm(out.data.slice(i * 4, i * 4 + 4))).toBeCloseTo(0.5, 4);
      // The weight rows themselves were rescaled, and the output is those rows.
      expect(Array.from(out.data.slice(i * 4, i * 4 + 4))).toEqual(Array.from(w.slice(r * 4, r * 4 + 4)));
    }
    expect(Array.from(w.slice(0, 4))).toEqual(untouched);
  });
});
