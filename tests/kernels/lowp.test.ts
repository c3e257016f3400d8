/**
 * Reduced-precision linear layers through the public path (Model.prepareInference -> predict),
 * on every SIMD level: the AVX-512 level of a CPU with AVX512-BF16 / VNNI runs the
 * microkernels, the other levels the float fallback. Both must compute the method exactly as
 * this file restates it in float64 JS (bf16: round to nearest even; int8: per-channel and
 * per-row scales max|v|/127, round half to even, clamp to +-127), so a model prepared on one
 * machine gives the same answers (to float32 summation order) on another.
 */
import { describe, expect, it } from 'vitest';
import { Linear, Model, Sequential, Tensor, backendInfo, randn, ReLU } from '../../src/index.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function bf16(v: number): number {
  f32[0] = v;
  const u = u32[0];
  u32[0] = ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) << 16;
  return f32[0];
}
const roundHalfEven = (v: number): number => {
  const r = Math.round(v);
  return Math.abs(v - Math.trunc(v)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};
function quantized(row: ArrayLike<number>): number[] {
  let amax = 0;
  for (let i = 0; i < row.length; i++) amax = Math.max(amax, Math.abs(row[i]));
  const scale = Math.fround(Math.fround(amax) / 127);
  return Array.from(row, (v) =>
    scale === 0 ? 0 : Math.max(-127, Math.min(127, roundHalfEven(Math.fround(v / scale)))) * scale,
  );
}

/** y = x W^T + b with the method's rounding, in float64. */
function reference(precision: 'bf16' | 'int8', x: Tensor, w: Tensor, b: Tensor): Float64Array {
  const [m, k] = x.shape;
  const n = w.shape[0];
  const row = (t: Tensor, r: number, len: number): number[] =>
    Array.from(t.data.subarray(r * len, (r + 1) * len) as Float32Array);
  const xs = Array.from({ length: m }, (_, r) =>
    precision === 'bf16' ? row(x, r, k).map(bf16) : quantized(row(x, r, k)),
  );
  const ws = Array.from({ length: n }, (_, j) =>
    precision === 'bf16' ? row(w, j, k).map(bf16) : quantized(row(w, j, k)),
  );
  const y = new Float64Array(m * n);
  for (let r = 0; r < m; r++)
    for (let j = 0; j < n; j++) {
      let acc = b.data[j] as number;
      for (let i = 0; i < k; i++) acc += xs[r][i] * ws[j][i];
      y[r * n + j] = acc;
    }
  return y;
}

describe('prepareInference: bf16 and int8 dense layers', () => {
  for (const precision of ['bf16', 'int8'] as const)
    it(`${precision}: predict computes the method (rows 1..70, awkward widths), native where the CPU has it`, async () => {
      for (const [m, k, n] of [
        [1, 5, 3],
        [7, 33, 65],
        [70, 130, 40],
      ]) {
        const layer = new Linear(k, n, { init: { seed: k } });
        const model = new Model(layer);
        const x = randn([m, k], { seed: n });
        const report = await model.prepareInference({ precision });
        expect(report.weights).toBe(1);
        expect(report.native).toBe(backendInfo().isa === 'avx512' && backendInfo().lowpNative[precision]);
        const y = await model.predict(x);
        const want = reference(precision, x, layer.weight, layer.bias as Tensor);
        for (let i = 0; i < want.length; i++)
          expect(
            Math.abs((y.data[i] as number) - want[i]),
            `${precision} m=${m} k=${k} n=${n} element ${i}`,
          ).toBeLessThan(1e-4 * (1 + Math.abs(want[i])));
      }
    });

  it('an MLP stays close to float32, converts again when its weights change, and float32 undoes it', async () => {
    const net = new Sequential(
      new Linear(64, 128, { init: { seed: 1 } }),
      new ReLU(),
      new Linear(128, 10, { init: { seed: 2 } }),
    );
    const model = new Model(net);
    const x = randn([32, 64], { seed: 3 });
    const exact = await model.predict(x);
    await model.prepareInference({ precision: 'int8' });
    const q = await model.predict(x);
    expect(relativeRms(q, exact)).toBeGreaterThan(0); // the int8 path ran
    expect(relativeRms(q, exact)).toBeLessThan(0.02);
    // New weights (a load, a training step): the next predict converts them again.
    const w = (net.layers[2] as Linear).weight.data as Float32Array;
    for (let i = 0; i < w.length; i++) w[i] *= -1;
    const flipped = await model.predict(x);
    await model.prepareInference({ precision: 'float32' });
    const exactFlipped = model.predictSync(x);
    expect(relativeRms(flipped, exactFlipped)).toBeLessThan(0.02);
    for (let i = 0; i < w.length; i++) w[i] *= -1;
    expect(Array.from((await model.predict(x)).data)).toEqual(Array.from(exact.data));
  });

  it('refuses a preparation that costs more accuracy than allowed, leaving the model in float32', async () => {
    const net = new Sequential(
      new Linear(32, 64, { init: { seed: 4 } }),
      new ReLU(),
      new Linear(64, 10, { init: { seed: 5 } }),
    );
    const model = new Model(net).compile({ optimizer: 'sgd', loss: 'crossEntropy', metrics: ['accuracy'] });
    const x = randn([2000, 32], { seed: 6 });
    // Labels are float32's own predictions: accuracy 1 before, and any near-tie int8 flips costs.
    const logits = await model.predict(x);
    const labels = new Int32Array(2000);
    for (let r = 0; r < 2000; r++) {
      let best = 0;
      for (let c = 1; c < 10; c++)
        if ((logits.data[r * 10 + c] as number) > (logits.data[r * 10 + best] as number)) best = c;
      labels[r] = best;
    }
    const y = new Tensor(labels, [2000]);
    const ok = await model.prepareInference({ precision: 'bf16', validation: { x, y, maxAccuracyDrop: 0.05 } });
    expect(ok.before?.accuracy).toBe(1);
    expect(ok.after?.accuracy).toBeGreaterThan(0.95);
    await expect(
      model.prepareInference({ precision: 'int8', validation: { x, y, maxAccuracyDrop: 0 } }),
    ).rejects.toThrow(
      /prepareInference: int8 drops validation accuracy from 100\.00% to \d+\.\d+% \(more than maxAccuracyDrop 0\); the model is unchanged/,
    );
    // Unchanged: still the bf16 preparation made before.
    expect(relativeRms(await model.predict(x), logits)).toBeLessThan(0.02);
    await model.prepareInference({ precision: 'float32' });
    expect(Array.from((await model.predict(x)).data)).toEqual(Array.from(logits.data));
  });

  it('rejects bad options and non-finite int8 weights by name', async () => {
    const layer = new Linear(4, 2);
    const model = new Model(layer);
    await expect(model.prepareInference({ precision: 'fp8' as never })).rejects.toThrow(
      /precision must be 'bf16', 'int8' or 'float32', got fp8/,
    );
    await expect(model.prepareInference({ precision: 'bf16', calibrate: true } as never)).rejects.toThrow(/calibrate/);
    (layer.weight.data as Float32Array)[3] = NaN;
    await expect(model.prepareInference({ precision: 'int8' })).rejects.toThrow(
      /lowpPack: w\[3\] = nan: int8 quantisation needs finite weights/,
    );
  });
});

/** sqrt(sum (a - b)^2 / sum b^2). */
function relativeRms(a: Tensor, b: Tensor): number {
  let e = 0;
  let s = 0;
  for (let i = 0; i < a.size; i++) {
    e += ((a.data[i] as number) - (b.data[i] as number)) ** 2;
    s += (b.data[i] as number) ** 2;
  }
  return Math.sqrt(e / s);
}
