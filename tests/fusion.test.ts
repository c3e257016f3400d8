/**
 * The engine's one backward fusion (src/autograd/engine.ts, BackwardFusion): a max pool that is
 * the only consumer of a relu's output applies the relu's gradient itself, and the relu's
 * backward is skipped. The gradients must be exactly those of the unfused graph, and the fusion
 * must not happen when the relu output has another consumer or retains its gradient. And the
 * inference fold: Sequential folds an evaluation-mode batch norm into the Linear or convolution
 * before it when no gradient is recorded.
 */
import { describe, expect, it } from 'vitest';
import {
  BatchNorm1d,
  BatchNorm2d,
  Conv2d,
  Flatten,
  Linear,
  MaxPool2d,
  Model,
  ReLU,
  Sequential,
  Tensor,
  conv2d,
  maxPool2d,
  noGrad,
  randn,
  relu,
  startProfiling,
  stopProfiling,
  summarize,
} from '../src/index.js';

function backwardOps(fn: () => Tensor): string[] {
  const y = fn();
  startProfiling();
  y.sum().backward();
  return stopProfiling().records.map((r) => r.op);
}

describe('relu -> max pool backward fusion', () => {
  const make = (): { x: Tensor; w: Tensor } => ({
    x: randn([2, 3, 8, 8], { seed: 1 }).setRequiresGrad(),
    w: randn([4, 3, 3, 3], { seed: 2 }).setRequiresGrad(),
  });

  it('skips the relu backward and gives the unfused gradients', () => {
    const a = make();
    const fusedOps = backwardOps(() => maxPool2d(relu(a.x), 2));
    expect(fusedOps).not.toContain('unaryBackward');
    // The same graph with the relu output also feeding a zero-weighted second consumer: no
    // fusion, and the gradient is the same.
    const b = make();
    const unfusedOps = backwardOps(() => {
      const r = relu(b.x);
      return maxPool2d(r, 2).add(r.mul(0).sum());
    });
    expect(unfusedOps).toContain('unaryBackward');
    expect(Array.from(a.x.grad?.data ?? [])).toEqual(Array.from(b.x.grad?.data ?? []));
  });

  it('folds a convolution fused relu too, and not when the relu output retains its grad', () => {
    const a = make();
    const ops = backwardOps(() => maxPool2d(conv2d(a.x, a.w, null, { padding: 1, activation: 'relu' }), 2));
    expect(ops).not.toContain('unaryBackward');
    const b = make();
    const retained = backwardOps(() => {
      const r = conv2d(b.x, b.w, null, { padding: 1, activation: 'relu' });
      r.retainGrad();
      return maxPool2d(r, 2);
    });
    expect(retained).toContain('unaryBackward');
    expect(Array.from(a.w.grad?.data ?? [])).toEqual(Array.from(b.w.grad?.data ?? []));
    expect(Array.from(a.x.grad?.data ?? [])).toEqual(Array.from(b.x.grad?.data ?? []));
  });
});

describe('batch norm folded into the layer before it (Sequential, inference)', () => {
  function net(): Sequential {
    return new Sequential(
      new Conv2d(3, 8, 3, { padding: 1, init: { seed: 1 } }),
      new BatchNorm2d(8),
      new ReLU(),
      new MaxPool2d(2),
      new Flatten(),
      new Linear(8 * 4 * 4, 12, { init: { seed: 2 } }),
      new BatchNorm1d(12, { affine: false }),
      new ReLU(),
      new Linear(12, 5, { init: { seed: 3 } }),
      new BatchNorm1d(5),
    );
  }
  /** Running statistics and affine parameters far from the identity. */
  function randomiseNorms(seq: Sequential): void {
    let seed = 10;
    for (const m of seq.modules())
      if (m instanceof BatchNorm1d || m instanceof BatchNorm2d) {
        const c = m.numFeatures;
        m.buffer('running_mean').data.set(randn([c], { seed: seed++ }).data);
        m.buffer('running_var').data.set(randn([c], { seed: seed++ }).data.map((v) => 0.2 + v * v));
        if (m.weight) m.weight.data.set(randn([c], { seed: seed++ }).data);
        if (m.bias) m.bias.data.set(randn([c], { seed: seed++ }).data);
      }
  }
  /** Layer by layer with nothing folded (gradients on, so Sequential takes its plain path). */
  function unfolded(seq: Sequential, x: Tensor): Float32Array {
    let y = x;
    for (const layer of seq.layers) y = layer.forward(y);
    return y.data as Float32Array;
  }

  it('predicts what the unfolded layers compute, with no batch norm or relu op left in the recording', () => {
    const seq = net();
    randomiseNorms(seq);
    const model = new Model(seq);
    seq.eval();
    // 200 rows: every layer's output outweighs its weights, so every norm folds (foldPays).
    const x = randn([200, 3, 8, 8], { seed: 5 });
    const got = model.predictSync(x).data as Float32Array;
    const want = unfolded(seq, x);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
    expect(worst).toBeLessThan(1e-5);
    const cache = (model as unknown as { inference: { entries: Map<string, { program: { ops: string[] } }> } })
      .inference.entries;
    const ops = [...cache.values()][0].program.ops;
    expect(ops.some((op) => /batchNorm/i.test(op))).toBe(false);
    expect(ops).toContain('conv2d');
    // Both relus fused: the only unary ops left are the fold's square roots over channels.
    startProfiling();
    model.predictSync(x);
    const unary = stopProfiling().records.filter((r) => r.op === 'unary');
    expect(unary.map((r) => r.shapes)).toEqual(['sqrt n=8', 'sqrt n=12', 'sqrt n=5']);
    // One row: rewriting the 128 x 12 weights would cost more than the norm's pass over 12
    // outputs, so that norm stays (the convolution's, with 512 outputs, still folds).
    const one = x.slice(0, 1);
    startProfiling();
    const single = model.predictSync(one).data as Float32Array;
    const records = stopProfiling().records;
    expect(records.filter((r) => /batchNorm/i.test(r.op)).length).toBe(2);
    const wantOne = unfolded(seq, one);
    for (let i = 0; i < wantOne.length; i++) expect(single[i]).toBeCloseTo(wantOne[i], 4);
  });

  it('reads the current statistics on every replay, and does not fold in training mode or after an activation', () => {
    const seq = net();
    randomiseNorms(seq);
    const model = new Model(seq);
    const x = randn([2, 3, 8, 8], { seed: 6 });
    model.predictSync(x);
    const bn = seq.layers[1] as BatchNorm2d;
    bn.buffer('running_var').data.fill(4); // in place: the cached recording must see it
    seq.eval();
    const got = model.predictSync(x).data as Float32Array;
    const want = unfolded(seq, x);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 4);
    // A convolution with its own activation keeps its norm separate (the norm follows the relu).
    const after = new Sequential(new Conv2d(3, 4, 3, { activation: 'relu', init: { seed: 7 } }), new BatchNorm2d(4));
    randomiseNorms(after);
    after.eval();
    const out = noGrad(() => after.forward(x)).data as Float32Array;
    const ref = unfolded(after, x);
    expect(Array.from(out)).toEqual(Array.from(ref));
    // Training mode: batch statistics, nothing folded (the running statistics move).
    after.train();
    const before = Float32Array.from(after.layers[1].buffer('running_mean').data as Float32Array);
    noGrad(() => after.forward(x));
    expect(Array.from(after.layers[1].buffer('running_mean').data)).not.toEqual(Array.from(before));
  });

  it("folds only the library's own forwards, and refuses what the norm's forward would refuse", async () => {
    // A subclass that overrides forward is run as written.
    class Doubled extends Linear {
      override forward(x: Tensor): Tensor {
        return super.forward(x).mul(2);
      }
    }
    const seq = new Sequential(new Doubled(4, 300, { init: { seed: 8 } }), new BatchNorm1d(300));
    randomiseNorms(seq);
    seq.eval();
    const x = randn([400, 4], { seed: 9 });
    const got = new Model(seq).predictSync(x).data as Float32Array;
    const want = unfolded(seq, x);
    for (let i = 0; i < want.length; i += 97) expect(got[i]).toBeCloseTo(want[i], 4);
    // A BatchNorm1d after a Conv2d fails in predict as in the eager forward.
    const wrong = new Sequential(new Conv2d(3, 8, 3, { padding: 1, init: { seed: 10 } }), new BatchNorm1d(8));
    wrong.eval();
    await expect(new Model(wrong).predict(randn([4, 3, 8, 8], { seed: 11 }))).rejects.toThrow(
      /BatchNorm1d\(8\): input must be \[N, C\] or \[N, C, L\]/,
    );
    // A summary watches every layer run, so nothing is folded out of its rows.
    const rows = summarize(net(), { inputShape: [3, 8, 8] }).rows;
    expect(rows.filter((r) => r.type === 'BatchNorm2d' || r.type === 'ReLU').every((r) => r.outputShape !== null)).toBe(
      true,
    );
  });
});
