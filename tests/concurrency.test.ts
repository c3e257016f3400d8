/**
 * Concurrent inference without a process-wide lock (issue 16): many predicts at once on one
 * model and on several, mixed batch sizes, a fit running beside them, cancellation of
 * predict and evaluate, and the addon loading in many worker_threads at once. Every result
 * is compared bitwise with the same call run alone: concurrency may change the order work
 * runs in, never its bits.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runExample } from './run-example.js';
import {
  AbortError,
  Conv2d,
  Flatten,
  Linear,
  Model,
  ReLU,
  Sequential,
  Tensor,
  exportOnnxBytes,
  loadOnnx,
  type Module,
} from '../src/index.js';

function filled(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    d[i] = s / 2 ** 32 - 0.5;
  }
  return new Tensor(d, shape);
}

function labels(n: number, classes: number, seed: number): Tensor {
  const d = new Int32Array(n);
  for (let i = 0; i < n; i++) d[i] = (i * 7 + seed) % classes;
  return new Tensor(d, [n]);
}

function mlp(seed: number): Sequential {
  return new Sequential(
    new Linear(32, 64, { activation: 'relu', init: { seed } }),
    new Linear(64, 48, { activation: 'tanh', init: { seed: seed + 1 } }),
    new Linear(48, 10, { init: { seed: seed + 2 } }),
  );
}

function cnn(seed: number): Sequential {
  return new Sequential(
    new Conv2d(1, 4, 3, { padding: 1, init: { seed } }),
    new ReLU(),
    new Flatten(),
    new Linear(4 * 8 * 8, 10, { init: { seed: seed + 1 } }),
  );
}

const bits = (t: Tensor): Uint32Array => new Uint32Array((t.data as Float32Array).slice().buffer);

function expectBitwise(got: Tensor, want: Tensor, what: string): void {
  expect(got.shape, what).toEqual(want.shape);
  const a = bits(got);
  const b = bits(want);
  let first = -1;
  for (let i = 0; i < a.length && first < 0; i++) if (a[i] !== b[i]) first = i;
  expect(first, `${what}: first differing element`).toBe(-1);
}

const params = (m: Module): Float32Array[] => m.parameters().map((p) => Float32Array.from(p.data as Float32Array));

describe('concurrent predicts', () => {
  it('thousands at once on one model, mixed batch sizes, equal bitwise to the same calls run one at a time', async () => {
    const model = new Model(mlp(3));
    // Everything through the thread pool, so the calls really overlap there.
    model.syncSeconds = 0;
    const sizes = [1, 2, 7, 64, 65, 300, 1, 1, 33];
    const inputs = Array.from({ length: 2000 }, (_, i) => filled([sizes[i % sizes.length], 32], i + 1));
    const batchSize = 128;
    const together = await Promise.all(inputs.map((x) => model.predict(x, { batchSize })));
    // They did overlap: a shape had several recorded forwards replaying at once.
    const cache = (model as unknown as { inference: { entries: Map<string, { replicas: unknown[] }> } }).inference
      .entries;
    expect(Math.max(...[...cache.values()].map((e) => e.replicas.length))).toBeGreaterThan(1);
    for (let i = 0; i < inputs.length; i += 37) {
      const alone = await model.predict(inputs[i], { batchSize });
      expectBitwise(together[i], alone, `request ${i} (${inputs[i].shape[0]} rows)`);
    }
    // predictSync (the JS thread) gives the same bits as the pool for one batch.
    for (const i of [0, 3, 8]) expectBitwise(model.predictSync(inputs[i]), together[i], `predictSync ${i}`);
  }, 120_000);

  it('two models predict while a third trains: the predictions and the trained weights equal solo runs', async () => {
    const a = new Model(mlp(11));
    const b = new Model(cnn(21));
    a.syncSeconds = 0;
    b.syncSeconds = 0;
    const xa = Array.from({ length: 40 }, (_, i) => filled([1 + (i % 5) * 20, 32], 100 + i));
    const xb = Array.from({ length: 40 }, (_, i) => filled([1 + (i % 3) * 9, 1, 8, 8], 200 + i));
    const soloA: Tensor[] = [];
    for (const x of xa) soloA.push(await a.predict(x));
    const soloB: Tensor[] = [];
    for (const x of xb) soloB.push(await b.predict(x));

    const trainX = filled([512, 32], 7);
    const trainY = labels(512, 10, 3);
    const fitOnce = async (): Promise<Float32Array[]> => {
      const m = new Model(mlp(31)).compile({ optimizer: 'adam', loss: 'crossEntropy' });
      await m.fit(trainX, trainY, { epochs: 3, batchSize: 32, seed: 5, verbose: 0 });
      return params(m.module);
    };
    const trainedAlone = await fitOnce();

    const [trainedBeside, gotA, gotB] = await Promise.all([
      fitOnce(),
      Promise.all(xa.map((x) => a.predict(x))),
      Promise.all(xb.map((x) => b.predict(x))),
    ]);
    xa.forEach((_, i) => expectBitwise(gotA[i], soloA[i], `model A request ${i}`));
    xb.forEach((_, i) => expectBitwise(gotB[i], soloB[i], `model B request ${i}`));
    expect(trainedBeside.length).toBe(trainedAlone.length);
    trainedAlone.forEach((w, i) =>
      expectBitwise(new Tensor(trainedBeside[i], [w.length]), new Tensor(w, [w.length]), `parameter ${i}`),
    );
  }, 120_000);

  it('a request waiting for a replica gets its own answer even when its shape is evicted before it resumes', async () => {
    const model = new Model(mlp(91));
    const cache = (
      model as unknown as {
        inference: { entries: Map<string, { bytes: number; replicas: unknown[]; waiting: unknown[] }> };
      }
    ).inference;
    const MB = 2 ** 20;
    const xw = filled([128, 32], 2);
    const want = model.predictSync(xw); // records the [128, 32] entry
    const entry = [...cache.entries.values()][0];
    entry.bytes = 100 * MB; // memory pressure (the cache holds 256 MB): a third replica does not fit
    const p1 = model.predict(filled([128, 32], 3), { offload: true });
    const p2 = model.predict(filled([128, 32], 4), { offload: true });
    const waiting = model.predict(xw, { offload: true });
    await new Promise((r) => setImmediate(r));
    expect(entry.waiting.length).toBe(1);
    entry.bytes = 50 * MB; // eased: predictSync records a replica and hands it to the waiter
    const other = model.predictSync(filled([128, 32], 5));
    entry.bytes = 200 * MB; // pressure again: a new shape evicts the entry before the waiter resumes
    model.predictSync(filled([3, 32], 6));
    const got = await waiting;
    await Promise.all([p1, p2]);
    expectBitwise(got, want, 'the waiting request');
    expect(bits(got)).not.toEqual(bits(other));
  });

  it('offload: a cheap request on the thread pool gives the same bits as the synchronous path', async () => {
    const model = new Model(mlp(81));
    const x = filled([3, 32], 4);
    const sync = model.predictSync(x);
    expectBitwise(await model.predict(x, { offload: true }), sync, 'offloaded predict');
    await expect(model.predict(x, { offload: 1 as never })).rejects.toThrow(
      /predict: options.offload must be a boolean, got number/,
    );
  });

  it('a predict issued after fit sees the trained weights; predicts issued before it do not wait for each other', async () => {
    const model = new Model(mlp(41)).compile({ optimizer: 'sgd', loss: 'crossEntropy', learningRate: 0.5 });
    model.syncSeconds = 0;
    const x = filled([4, 32], 9);
    const before = model.predictSync(x);
    const early = model.predict(x);
    const fit = model.fit(filled([64, 32], 1), labels(64, 10, 1), { epochs: 1, batchSize: 8, verbose: 0 });
    const late = model.predict(x);
    expectBitwise(await early, before, 'predict issued before fit');
    await fit;
    const after = model.predictSync(x);
    expectBitwise(await late, after, 'predict issued after fit');
    expect(bits(after)).not.toEqual(bits(before));
  });
});

describe('concurrent ONNX session runs', () => {
  it('many runs at once of one shape replay their own recordings: same bits as runSync, runSync beside them, release during them', async () => {
    const { bytes } = exportOnnxBytes(new Model(mlp(71)), { inputShape: [32], dynamicBatch: true });
    const session = await loadOnnx(bytes);
    const name = session.inputs[0].name;
    const out = session.outputs[0].name;
    // 5000 rows: estimated above the synchronous threshold, so each run goes to the thread pool.
    const inputs = Array.from({ length: 24 }, (_, i) => filled([5000, 32], 300 + i));
    const alone = inputs.map((x) => session.runSync({ [name]: x })[out]);
    const running = inputs.map((x) => session.run({ [name]: x }));
    const entries = (session as unknown as { entries: Map<string, { replicas: unknown[] }> }).entries;
    expect([...entries.values()][0].replicas.length).toBeGreaterThan(1);
    // A synchronous run while the others are in flight takes a recording of its own...
    expectBitwise(session.runSync({ [name]: inputs[0] })[out], alone[0], 'runSync beside runs');
    // ...and release() leaves the running ones to finish on theirs.
    session.release();
    const together = await Promise.all(running);
    together.forEach((o, i) => expectBitwise(o[out], alone[i], `run ${i}`));
    expect(session.recordings().length).toBe(0);
    expectBitwise((await session.run({ [name]: inputs[3] }))[out], alone[3], 'a run after release');
  }, 60_000);
});

describe('OnnxSession recordings are bounded by memory', () => {
  it('a new input signature evicts the oldest when all replicas would hold more than 256 MB', async () => {
    const { bytes } = exportOnnxBytes(new Model(mlp(72)), { inputShape: [32], dynamicBatch: true });
    const session = await loadOnnx(bytes);
    const name = session.inputs[0].name;
    const entries = (session as unknown as { entries: Map<string, { bytes: number }> }).entries;
    session.runSync({ [name]: filled([1, 32], 1) });
    session.runSync({ [name]: filled([2, 32], 2) });
    expect(session.recordings().length).toBe(2);
    [...entries.values()][0].bytes = 256 * 2 ** 20; // as if the first signature held all 256 MB
    session.runSync({ [name]: filled([3, 32], 3) });
    expect(session.recordings().map((r) => r.signature)).toEqual(['float32:2,32', 'float32:3,32']);
  });
});

describe('cancellation', () => {
  it('predict: an aborted signal rejects at once, while queued behind a fit, and between batches of a large input', async () => {
    const model = new Model(mlp(51)).compile({ optimizer: 'sgd', loss: 'crossEntropy' });
    const x = filled([8, 32], 3);
    const gone = new AbortController();
    gone.abort();
    await expect(model.predict(x, { signal: gone.signal })).rejects.toBeInstanceOf(AbortError);

    // Queued behind a fit: rejected when aborted, long before the fit ends.
    const fit = model.fit(filled([4096, 32], 2), labels(4096, 10, 2), { epochs: 3, batchSize: 8, verbose: 0 });
    const queued = new AbortController();
    const waiting = model.predict(x, { signal: queued.signal });
    let fitDone = false;
    void fit.then(() => (fitDone = true));
    setTimeout(() => queued.abort(), 5);
    await expect(waiting).rejects.toThrow(/predict: aborted/);
    expect(fitDone).toBe(false);
    await fit;

    // A large input stops between batches; the model keeps working afterwards.
    const big = filled([200_000, 32], 4);
    const stop = new AbortController();
    const running = model.predict(big, { batchSize: 64, signal: stop.signal });
    setTimeout(() => stop.abort(), 2);
    await expect(running).rejects.toBeInstanceOf(AbortError);
    expectBitwise(await model.predict(x), model.predictSync(x), 'predict after an abort');
  }, 60_000);

  it('evaluate takes a signal too, and both refuse a signal that is not an AbortSignal', async () => {
    const model = new Model(mlp(61)).compile({ optimizer: 'sgd', loss: 'crossEntropy', metrics: ['accuracy'] });
    const x = filled([100_000, 32], 5);
    const y = labels(100_000, 10, 5);
    const stop = new AbortController();
    const running = model.evaluate(x, y, { batchSize: 16, signal: stop.signal });
    setTimeout(() => stop.abort(), 2);
    await expect(running).rejects.toThrow(/evaluate: aborted/);
    const logs = await model.evaluate(x.slice(0, 64), y.slice(0, 64));
    expect(Number.isFinite(logs.loss)).toBe(true);
    await expect(model.predict(x, { signal: 5 as never })).rejects.toThrow(
      /predict: options.signal must be an AbortSignal, got number/,
    );
    await expect(model.evaluate(x, y, { signal: {} as never })).rejects.toThrow(
      /evaluate: options.signal must be an AbortSignal, got object/,
    );
    await expect(model.fit(x, y, { signal: 'x' as never })).rejects.toThrow(
      /fit: options.signal must be an AbortSignal/,
    );
  }, 60_000);
});

describe('worker_threads', () => {
  it('the addon loads in 16 workers at once; each predicts the same bits as the main thread', () => {
    const child = fileURLToPath(new URL('./fixtures/workers-load-child.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', child, '16'], { encoding: 'utf8', timeout: 110_000 });
    const why = `status ${r.status}, signal ${r.signal}\n${r.stderr.slice(-4000)}`;
    expect(r.signal, why).toBeNull();
    expect(r.status, why).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { workers: number; equal: number };
    expect(summary).toEqual({ workers: 16, equal: 16 });
  }, 120_000);

  it('examples/workers.ts serves from the main thread, a shared worker and a model per worker with the same answers', () => {
    const r = runExample('examples/workers.ts', ['--requests', '600', '--concurrency', '16'], { timeout: 110_000 });
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    for (const line of ['main thread + batcher', 'one shared inference worker', 'a model per worker (2 workers)'])
      expect(r.stdout).toMatch(new RegExp(`${line.replace(/[()+]/g, '\\$&')} +\\d+ requests/s`));
  }, 120_000);
});
