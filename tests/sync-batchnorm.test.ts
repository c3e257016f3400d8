/**
 * SyncBatchNorm on one process (the N-rank equivalence runs under mpirun in
 * tests/distributed): a plain batch norm there; convert(); model files, ONNX export; and the
 * cross-replica path of batchNorm (syncStatistics) against the batch it stands for.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BatchNorm1d,
  BatchNorm2d,
  Conv2d,
  ReLU,
  SGD,
  Sequential,
  SyncBatchNorm,
  Tensor,
  batchNorm,
  crossEntropy,
  exportOnnxBytes,
  loadModel,
  loadOnnxSync,
  manualSeed,
  noGrad,
  ones,
  randint,
  randn,
  saveModel,
  zeros,
  type Module,
} from '../src/index.js';

function net(): Sequential {
  manualSeed(3);
  return new Sequential(
    new Conv2d(2, 4, 3, { padding: 1, bias: false }),
    new BatchNorm2d(4, { momentum: 0.2 }),
    new ReLU(),
    new Conv2d(4, 3, 1),
    new BatchNorm2d(3, { affine: false }),
  );
}

const values = (m: Module): number[] => [
  ...m.parameters().flatMap((p) => Array.from(p.data)),
  ...m.namedBuffers().flatMap(([, b]) => Array.from(b.data)),
];

/** Copies of x's rows stacked `times` times along axis 0. */
function repeatRows(x: Tensor, times: number): Tensor {
  const data = new Float32Array(x.size * times);
  for (let k = 0; k < times; k++) data.set(x.data as Float32Array, k * x.size);
  return new Tensor(data, [x.shape[0] * times, ...x.shape.slice(1)]);
}

describe('SyncBatchNorm', () => {
  it('convert() swaps every BatchNorm1d/2d for one sharing its parameters and statistics', () => {
    const plain = net();
    const keep = plain.parameters();
    const converted = SyncBatchNorm.convert(plain);
    expect(converted).toBe(plain);
    const norms = plain.modules().filter((m) => m instanceof SyncBatchNorm) as SyncBatchNorm[];
    expect(norms.map((m) => [m.numFeatures, m.momentum, m.weight !== null])).toEqual([
      [4, 0.2, true],
      [3, 0.1, false],
    ]);
    expect(plain.modules().some((m) => m instanceof BatchNorm2d)).toBe(false);
    // the same tensors: an optimizer made before converting still trains them
    expect(plain.parameters()).toEqual(keep);
    expect(plain.parameters().every((p, i) => p === keep[i])).toBe(true);
    // a lone norm comes back converted; a SyncBatchNorm stays itself
    const lone = new BatchNorm1d(5, { eps: 1e-3 });
    const one = SyncBatchNorm.convert(lone) as SyncBatchNorm;
    expect(one).toBeInstanceOf(SyncBatchNorm);
    expect(one.eps).toBe(1e-3);
    expect(one.buffer('running_var')).toBe(lone.buffer('running_var'));
    expect(SyncBatchNorm.convert(one)).toBe(one);
  });

  it('on one process trains exactly as the batch norms it replaces (the statistics need no other rank)', () => {
    const x = randn([6, 2, 5, 5], { seed: 1 }).mul(2).add(3);
    const y = randint(0, 3, [6 * 25], { seed: 2 });
    const run = (m: Module): number[] => {
      const opt = new SGD(m.parameters(), { lr: 0.1, momentum: 0.9 });
      for (let step = 0; step < 3; step++) {
        opt.zeroGrad();
        const out = m.forward(x).permute([0, 2, 3, 1]).reshape([-1, 3]);
        crossEntropy(out, y).backward();
        opt.step();
      }
      m.eval();
      return [...values(m), ...Array.from(noGrad(() => m.forward(x)).data)];
    };
    const want = run(net());
    const got = run(SyncBatchNorm.convert(net()));
    expect(Math.max(...got.map((v, i) => Math.abs(v - want[i])))).toBeLessThan(1e-6);
  });

  it('saves and loads as a model file, and exports to ONNX as BatchNormalization', async () => {
    const m = SyncBatchNorm.convert(net());
    m.train();
    noGrad(() => m.forward(randn([4, 2, 5, 5], { seed: 5 })));
    m.eval();
    const dir = mkdtempSync(join(tmpdir(), 'axon-syncbn-'));
    try {
      await saveModel(m, join(dir, 'sync.axon'));
      const loaded = await loadModel(join(dir, 'sync.axon'));
      expect(loaded.modules().filter((l) => l instanceof SyncBatchNorm).length).toBe(2);
      expect(values(loaded)).toEqual(values(m));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const x = randn([2, 2, 5, 5], { seed: 6 });
    const { bytes } = exportOnnxBytes(m, { inputShape: [2, 5, 5] });
    const session = loadOnnxSync(bytes);
    const out = session.runSync({ [session.inputs[0].name]: x });
    const want = noGrad(() => m.forward(x)).data;
    const got = out[session.outputs[0].name].data;
    expect(Math.max(...Array.from(got, (v, i) => Math.abs(v - want[i])))).toBeLessThan(1e-5);
  });

  it('batchNorm syncStatistics: a second replica with the same batch is the batch stacked twice', () => {
    const x = randn([3, 4, 5], { seed: 2 }).mul(4).add(50).setRequiresGrad();
    const w = randn([4], { seed: 3 }).setRequiresGrad();
    const up = randn([3, 4, 5], { seed: 9 });
    const rm = zeros([4]);
    const rv = ones([4]);
    let calls = 0;
    const twice = (sums: Float64Array): void => {
      calls++;
      for (let i = 0; i < sums.length; i++) sums[i] *= 2;
    };
    const y = batchNorm(x, { weight: w, runningMean: rm, runningVar: rv, activation: 'relu', syncStatistics: twice });
    y.mul(up).sum().backward();
    expect(calls).toBe(2); // the statistics, then the gradient sums

    const x2 = repeatRows(x, 2).setRequiresGrad();
    const w2 = new Tensor(Float32Array.from(w.data), [4]).setRequiresGrad();
    const rm2 = zeros([4]);
    const rv2 = ones([4]);
    const y2 = batchNorm(x2, { weight: w2, runningMean: rm2, runningVar: rv2, activation: 'relu' });
    y2.mul(repeatRows(up, 2)).sum().backward();
    const diff = (a: ArrayLike<number>, b: ArrayLike<number>, n = a.length): number =>
      Math.max(...Array.from({ length: n }, (_, i) => Math.abs(a[i] - b[i])));
    expect(diff(y.data, y2.data, y.size)).toBeLessThan(1e-5);
    expect(diff(rv.data, rv2.data)).toBeLessThan(1e-6); // n / (n - 1) of the union's count
    expect(diff(rm.data, rm2.data)).toBeLessThan(1e-5);
    expect(diff(x.grad!.data, x2.grad!.data, x.size)).toBeLessThan(1e-5);
    // the weight's gradient stays this replica's: half the union's
    expect(
      diff(
        Array.from(w.grad!.data, (v) => 2 * v),
        w2.grad!.data,
      ),
    ).toBeLessThan(1e-4);
  });

  it('refuses syncStatistics in evaluation or of the wrong type, and stats with a bad count', () => {
    const x = randn([2, 3, 4]);
    expect(() =>
      batchNorm(x, { training: false, runningMean: zeros([3]), runningVar: ones([3]), syncStatistics: () => {} }),
    ).toThrow('batchNorm: syncStatistics is for training (evaluation uses the running statistics)');
    expect(() => batchNorm(x, { syncStatistics: 3 as never })).toThrow(
      'batchNorm: syncStatistics must be a function or null, got number',
    );
    // A reduction that loses the count (a broken or hostile peer) is refused when the kernel runs.
    expect(() => batchNorm(x, { syncStatistics: (s) => s.fill(0) })).toThrow(
      /batchNorm: stats: the count \(the last value\) must be a positive whole number of values per channel, got 0/,
    );
    expect(() => batchNorm(x, { syncStatistics: (s) => (s[s.length - 1] = NaN) })).toThrow(/positive whole number/);
    // Across replicas one value per channel here is fine: the union's count decides.
    const one = randn([1, 3]);
    expect(() => batchNorm(one, { syncStatistics: (s) => (s[s.length - 1] += 7) })).not.toThrow();
    expect(() => new SyncBatchNorm(0)).toThrow(/SyncBatchNorm: numFeatures/);
    expect(() => new SyncBatchNorm(3).forward(randn([2, 4, 3]))).toThrow(
      'SyncBatchNorm(3): input must be [N, C] or [N, C, L] or [N, C, H, W] or [N, C, D, H, W] with C = 3, got [2,4,3]',
    );
  });
});
