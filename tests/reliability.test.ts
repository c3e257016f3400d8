/**
 * Reliability of the Model API under careless or hostile use: calls on one model run one at
 * a time in call order (overlapping fits, saves during fit), checks that recorded steps run
 * on every replay (labels out of range), untrusted files (non-regular checkpoint paths, model
 * files whose forward would need gigabytes), cost-based synchronous predict, non-finite
 * losses reported where they start, and the sync/async predict paths agreeing.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AdaptiveAvgPool2d,
  Conv2d,
  Flatten,
  Generator,
  LSTM,
  Linear,
  Model,
  NonFiniteLossError,
  Sequential,
  Tensor,
  crossEntropy,
  loadCheckpoint,
  saveCheckpoint,
  type Module,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'axon-reliability-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function data(n: number, features: number, classes: number, seed: number): { x: Tensor; y: Tensor } {
  const g = new Generator(seed);
  return {
    x: new Tensor(
      Float32Array.from({ length: n * features }, () => g.nextNormal()),
      [n, features],
    ),
    y: new Tensor(
      Int32Array.from({ length: n }, () => g.nextInt(classes)),
      [n],
    ),
  };
}

function mlp(inF: number, hidden: number, out: number, seed: number): Sequential {
  return new Sequential(
    new Linear(inF, hidden, { activation: 'relu', init: { seed } }),
    new Linear(hidden, out, { init: { seed: seed + 1 } }),
  );
}

const weights = (m: Module): Float32Array[] => m.parameters().map((p) => Float32Array.from(p.data as Float32Array));

function expectSameWeights(a: Module, b: Module): void {
  const wa = weights(a);
  const wb = weights(b);
  expect(wa.length).toBe(wb.length);
  wa.forEach((w, i) => expect(Buffer.from(w.buffer).equals(Buffer.from(wb[i].buffer))).toBe(true));
}

/** Whether p settles before the thread pool could possibly have answered. */
async function settlesSynchronously(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return settled;
}

describe('one call at a time per model', () => {
  it('a second fit issued while the first awaits a callback runs after it (same weights as one after the other)', async () => {
    const { x, y } = data(96, 6, 4, 1);
    const slowLogger = { onEpochEnd: () => new Promise<void>((r) => setTimeout(r, 5)) };
    const events: string[] = [];
    const tag = (name: string) => ({ onEpochBegin: (e: number) => void events.push(`${name}${e}`) });
    const a = new Model(mlp(6, 12, 4, 2)).compile({ optimizer: 'adam', loss: 'crossEntropy' });
    const first = a.fit(x, y, { epochs: 3, batchSize: 16, verbose: 0, seed: 3, callbacks: [slowLogger, tag('A')] });
    const second = a.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0, seed: 4, callbacks: [slowLogger, tag('B')] });
    await Promise.all([first, second]);
    expect(events).toEqual(['A0', 'A1', 'A2', 'B0', 'B1']);

    const b = new Model(mlp(6, 12, 4, 2)).compile({ optimizer: 'adam', loss: 'crossEntropy' });
    await b.fit(x, y, { epochs: 3, batchSize: 16, verbose: 0, seed: 3 });
    await b.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0, seed: 4 });
    expectSameWeights(a.module, b.module);
  });

  it('fit from inside its own callback is refused; evaluate and save from a callback run at once', async () => {
    const { x, y } = data(64, 5, 3, 5);
    const model = new Model(mlp(5, 8, 3, 6)).compile({ optimizer: 'sgd', loss: 'crossEntropy' });
    const seen: string[] = [];
    await model.fit(x, y, {
      epochs: 2,
      batchSize: 16,
      verbose: 0,
      callbacks: [
        {
          onEpochEnd: async (epoch) => {
            await expect(model.fit(x, y, { verbose: 0 })).rejects.toThrow(
              /fit: called from inside this model's running fit/,
            );
            const logs = await model.evaluate(x, y);
            seen.push(`eval${epoch}:${Number.isFinite(logs.loss)}`);
            await model.save(join(dir, `inside-${epoch}.axon`));
            seen.push(`save${epoch}`);
          },
        },
      ],
    });
    expect(seen).toEqual(['eval0:true', 'save0', 'eval1:true', 'save1']);
    await Model.load(join(dir, 'inside-1.axon'));
  });

  it('saves on a 15 ms timer during a fit all load, and the last equals the trained weights', async () => {
    const { x, y } = data(2000, 20, 5, 7);
    const model = new Model(mlp(20, 64, 5, 8)).compile({ optimizer: 'adam', loss: 'crossEntropy' });
    const saves: Promise<void>[] = [];
    let k = 0;
    const timer = setInterval(() => saves.push(model.save(join(dir, `timer-${k++}.axon`))), 15);
    await model.fit(x, y, { epochs: 40, batchSize: 32, verbose: 0 });
    // One more save issued right away, plus those still queued.
    saves.push(model.save(join(dir, `timer-${k++}.axon`)));
    clearInterval(timer);
    await Promise.all(saves);
    expect(saves.length).toBeGreaterThan(1);
    for (let i = 0; i < k; i++) {
      const loaded = await Model.load(join(dir, `timer-${i}.axon`));
      expectSameWeights(loaded.module, model.module); // queued behind the fit: its final weights
    }
    // A checkpoint saved concurrently with a fit is also taken after it.
    const fitting = model.fit(x, y, { epochs: 1, batchSize: 32, verbose: 0 });
    const ckpt = saveCheckpoint(join(dir, 'during.ckpt'), { model });
    await Promise.all([fitting, ckpt]);
    const other = new Model(mlp(20, 64, 5, 99)).compile({ optimizer: 'adam', loss: 'crossEntropy' });
    await loadCheckpoint(join(dir, 'during.ckpt'), { model: other });
    expectSameWeights(other.module, model.module);
  });

  it('predictSync and compile refuse while another caller’s fit runs', async () => {
    const { x, y } = data(256, 6, 3, 9);
    const model = new Model(mlp(6, 8, 3, 10)).compile({ optimizer: 'sgd', loss: 'crossEntropy' });
    const fitting = model.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0 });
    expect(() => model.predictSync(x.slice(0, 2))).toThrow(
      /predictSync: the model is busy \(.*\); await it or use predict\(\)/,
    );
    expect(() => model.compile({ optimizer: 'adam', loss: 'crossEntropy' })).toThrow(/compile: the model is busy/);
    await fitting;
    expect(model.predictSync(x.slice(0, 2)).shape).toEqual([2, 3]);
  });
});

describe('checks on every replay', () => {
  it('a loss function with class weights and a label of 2e9 rejects naming the label (no crash); 1000 too', async () => {
    const { x, y } = data(64, 4, 3, 11);
    const weight = new Tensor(new Float32Array([1, 2, 3]), [3]);
    for (const bad of [2_000_000_000, 1000, -5]) {
      const labels = Int32Array.from(y.data);
      labels[37] = bad;
      const model = new Model(mlp(4, 8, 3, 12)).compile({
        optimizer: 'sgd',
        loss: (p, t) => crossEntropy(p, t, { weight }),
      });
      await expect(model.fit(x, new Tensor(labels, [64]), { epochs: 1, batchSize: 16, verbose: 0 })).rejects.toThrow(
        new RegExp(`${bad}`),
      );
    }
  });
});

describe('untrusted files', () => {
  it('loadCheckpoint refuses /dev/zero, a FIFO and a directory at once', async () => {
    const model = new Model(mlp(4, 8, 3, 13)).compile({ optimizer: 'sgd', loss: 'crossEntropy' });
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    for (const path of ['/dev/zero', fifo, dir])
      await expect(loadCheckpoint(path, { model })).rejects.toThrow(/not a regular file|EISDIR/);
    await expect(loadCheckpoint(join(dir, 'x'), { model }, { maxbytes: 5 } as never)).rejects.toThrow(
      /loadCheckpoint: unknown option 'maxbytes' \(did you mean 'maxBytes'\?\)/,
    );
  });

  it('a model file whose conv padding needs gigabytes is refused at load for its declared input, and at predict without one', async () => {
    const hostile = (): Module =>
      new Sequential(
        new Conv2d(1, 16, 3, { padding: 3000 }),
        new AdaptiveAvgPool2d(1),
        new Flatten(),
        new Linear(16, 2),
      );
    const declared = new Model(hostile());
    declared.inputSpec = { shape: [1, 8, 8], dtype: 'float32' };
    await declared.save(join(dir, 'hostile.axon'));
    const t0 = performance.now();
    await expect(Model.load(join(dir, 'hostile.axon'))).rejects.toThrow(
      /hostile\.axon: for the input \(batch, 1, 8, 8\): Model\.load: the forward pass needs more than 1\.0 GiB of activations/,
    );
    // Trusted: raise the budget and the same file loads.
    await Model.load(join(dir, 'hostile.axon'), { maxActivationBytes: 2 ** 34, maxFlops: 1e13 });

    await new Model(hostile()).save(join(dir, 'hostile-undeclared.axon'));
    const model = await Model.load(join(dir, 'hostile-undeclared.axon'));
    const x = new Tensor(new Float32Array(2 * 64), [2, 1, 8, 8]);
    await expect(model.predict(x)).rejects.toThrow(/predict: the forward pass needs more than 2\.0 GiB of activations/);
    expect(() => model.predictSync(x)).toThrow(/predictSync: the forward pass needs more than/);
    await expect(model.predict(x, { batchSize: 1 })).rejects.toThrow(/predict: the forward pass needs more than/);
    expect(performance.now() - t0).toBeLessThan(20_000); // refused, not run (running takes minutes)
  });

  it('FLOPs are budgeted too', async () => {
    const model = new Model(new Sequential(new Linear(1000, 1000), new Linear(1000, 1000)));
    model.limits.maxFlops = 1e6;
    await expect(model.predict(new Tensor(new Float32Array(1000), [1, 1000]))).rejects.toThrow(
      /predict: the forward pass needs 4\.\d\de\+6 FLOPs per sample, more than model\.limits\.maxFlops = 1\.00e\+6/,
    );
  });

  it('save to a path in a missing directory names the target, not the temporary file', async () => {
    const model = new Model(mlp(4, 8, 3, 14));
    const target = join(dir, 'no-such-dir', 'm.axon');
    const err = (await model.save(target).catch((e) => e)) as NodeJS.ErrnoException;
    expect(err.message).toBe(
      `cannot save ${target}: the directory ${join(dir, 'no-such-dir')} does not exist (ENOENT)`,
    );
    expect(err.code).toBe('ENOENT');
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const err2 = (await model.save(join(file, 'm.axon')).catch((e) => e)) as Error;
    expect(err2.message).toBe(`cannot save ${join(file, 'm.axon')}: ${file} is not a directory (ENOTDIR)`);
    expect(err2.message).not.toMatch(/\.tmp-/);
  });
});

describe('predict', () => {
  it('chooses the synchronous path by cost, not rows: an LSTM over 64x200 steps and a conv net go to the pool', async () => {
    const small = new Model(mlp(8, 16, 4, 15));
    expect(await settlesSynchronously(small.predict(new Tensor(new Float32Array(8 * 8), [8, 8])))).toBe(true);

    const rnn = new Model(new Sequential(new LSTM(16, 32, { batchFirst: true })));
    const seq = new Tensor(new Float32Array(64 * 200 * 16), [64, 200, 16]);
    const p = rnn.predict(seq);
    expect(await settlesSynchronously(p)).toBe(false);
    await p;

    const conv = new Model(
      new Sequential(new Conv2d(3, 16, 3, { padding: 1 }), new AdaptiveAvgPool2d(1), new Flatten()),
    );
    const img = new Tensor(new Float32Array(64 * 3 * 96 * 96), [64, 3, 96, 96]);
    const q = conv.predict(img);
    expect(await settlesSynchronously(q)).toBe(false);
    const viaPool = await q;
    // Cached by the pool path (and by predictSync): still not run synchronously by predict().
    conv.predictSync(img);
    const again = conv.predict(img);
    expect(await settlesSynchronously(again)).toBe(false);
    await again;
    // Same bits as the synchronous replay of the same forward.
    expect(Buffer.from(conv.predictSync(img).data.buffer).equals(Buffer.from(viaPool.data.buffer))).toBe(true);
  });

  it('0 rows give an empty tensor on both paths; bad batchSize and unknown keys are refused on both', async () => {
    const model = new Model(mlp(5, 8, 3, 16));
    const empty = new Tensor(new Float32Array(0), [0, 5]);
    expect((await model.predict(empty)).shape).toEqual([0, 3]);
    expect(model.predictSync(empty).shape).toEqual([0, 3]);
    model.syncRows = -1; // force the pool path
    expect((await model.predict(empty)).shape).toEqual([0, 3]);
    model.syncRows = 64;
    const x = new Tensor(new Float32Array(10), [2, 5]);
    for (const bad of [0, -1, 1.5, 1e9, NaN])
      await expect(model.predict(x, { batchSize: bad })).rejects.toThrow(/predict: batchSize must be/);
    await expect(model.predict(x, { batchsize: 8 } as never)).rejects.toThrow(
      "predict: unknown option 'batchsize' (did you mean 'batchSize'?)",
    );
    await expect(model.evaluate(x, new Tensor(new Int32Array(2), [2]), { batchSize: 0 })).rejects.toThrow(
      /evaluate: batchSize/,
    );
    await expect(model.fit(x, x, { epoch: 3 } as never)).rejects.toThrow(
      /fit: unknown option 'epoch' \(did you mean 'epochs'\?\)/,
    );
  });

  it('evicting a cached shape releases its recorded program at once', () => {
    const model = new Model(mlp(4, 8, 3, 17));
    const cache = (model as unknown as { inference: { entries: Map<string, { program: { length: number } }> } })
      .inference.entries;
    model.predictSync(new Tensor(new Float32Array(4), [1, 4]));
    const first = [...cache.values()][0].program;
    expect(first.length).toBeGreaterThan(0);
    for (let rows = 2; rows <= 80; rows++) model.predictSync(new Tensor(new Float32Array(rows * 4), [rows, 4]));
    expect(cache.size).toBeLessThanOrEqual(64);
    expect(first.length).toBe(0);
  });
});

describe('non-finite losses', () => {
  it('stop by default, naming epoch, batch and the input row; the weights are those before that batch', async () => {
    const { x, y } = data(80, 4, 3, 18);
    const xs = Float32Array.from(x.data);
    xs[37 * 4 + 2] = NaN; // row 37: batch 3 (rows 32..47) without shuffling
    const model = new Model(mlp(4, 8, 3, 19)).compile({ optimizer: 'sgd', loss: 'crossEntropy' });
    const reference = new Model(mlp(4, 8, 3, 19)).compile({ optimizer: 'sgd', loss: 'crossEntropy' });
    const err = (await model
      .fit(new Tensor(xs, [80, 4]), y, { epochs: 2, batchSize: 16, shuffle: false, verbose: 0 })
      .catch((e) => e)) as NonFiniteLossError;
    expect(err).toBeInstanceOf(NonFiniteLossError);
    expect(err.message).toBe(
      "fit: the loss became NaN at epoch 1, batch 3; first non-finite value: the input batch holds NaN (batch row 5, element 2). The parameters are those before that batch (running statistics such as BatchNorm's include it).",
    );
    expect([err.epoch, err.batch]).toEqual([0, 2]);
    await reference.fit(x.slice(0, 32), y.slice(0, 32), { epochs: 1, batchSize: 16, shuffle: false, verbose: 0 });
    expectSameWeights(model.module, reference.module);
  });

  it('names the first layer whose output overflowed; warn goes on with one warning; ignore is silent', async () => {
    const { x, y } = data(32, 4, 3, 20);
    const build = (): Model => {
      const net = mlp(4, 8, 3, 21);
      (net.parameters()[2].data as Float32Array).fill(3e38); // second Linear's weight: overflow
      return new Model(net).compile({ optimizer: 'sgd', loss: 'crossEntropy' });
    };
    await expect(build().fit(x, y, { epochs: 1, batchSize: 16, verbose: 0 })).rejects.toThrow(
      /at epoch 1, batch 1; first non-finite value: layer '1' \(Linear\) output \[16,3\] holds (-?Infinity|NaN)/,
    );
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const history = await build().fit(x, y, { epochs: 2, batchSize: 16, verbose: 0, onNonFinite: 'warn' });
      await new Promise((r) => setImmediate(r));
      expect(history.history.loss.length).toBe(2);
      expect(warnings.filter((w) => w.includes('the loss became')).length).toBe(1);
      warnings.length = 0;
      await build().fit(x, y, { epochs: 1, batchSize: 16, verbose: 0, onNonFinite: 'ignore' });
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => w.includes('the loss became')).length).toBe(0);
    } finally {
      process.off('warning', onWarning);
    }
    await expect(build().fit(x, y, { onNonFinite: 'maybe' } as never)).rejects.toThrow(
      /fit: onNonFinite must be one of 'stop', 'warn', 'ignore'/,
    );
  });
});

describe('fit continues its live cursor', () => {
  it('fit(epochs 2) then fit(epochs 4, initialEpoch 2) equals fit(epochs 4), bitwise', async () => {
    const { x, y } = data(100, 5, 3, 22);
    const a = new Model(mlp(5, 8, 3, 23)).compile({ optimizer: 'adam', loss: 'crossEntropy' });
    await a.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0, seed: 5 });
    await a.fit(x, y, { epochs: 4, initialEpoch: 2, batchSize: 16, verbose: 0 });
    const b = new Model(mlp(5, 8, 3, 23)).compile({ optimizer: 'adam', loss: 'crossEntropy' });
    await b.fit(x, y, { epochs: 4, batchSize: 16, verbose: 0, seed: 5 });
    expectSameWeights(a.module, b.module);
  });
});

it('leaves no temporary files behind', () => {
  expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
});

it('the file functions refuse unknown option keys by name', async () => {
  const m = mlp(4, 8, 3, 30);
  const { encodeModel, saveModel, loadModel, saveWeights, loadWeights } = await import('../src/index.js');
  expect(() => encodeModel(m, { metdata: {} } as never)).toThrow(
    /encodeModel: unknown option 'metdata' \(did you mean 'metadata'\?\)/,
  );
  await expect(saveModel(m, join(dir, 'k.axon'), { meta: {} } as never)).rejects.toThrow(
    /saveModel: unknown option 'meta'/,
  );
  await saveWeights(m, join(dir, 'k.safetensors'));
  await expect(loadModel(join(dir, 'k.axon'), { maxbytes: 1 } as never)).rejects.toThrow(
    /loadModel: unknown option 'maxbytes'/,
  );
  await expect(loadWeights(m, join(dir, 'k.safetensors'), { strict: false, renames: {} } as never)).rejects.toThrow(
    /loadWeights: unknown option 'renames' \(did you mean 'rename'\?\)/,
  );
  await expect(saveCheckpoint(join(dir, 'k.ckpt'), { model: m, schedulers: {}, extras: 1 } as never)).rejects.toThrow(
    /saveCheckpoint: unknown option 'extras' \(did you mean 'extra'\?\)/,
  );
  await expect(saveWeights(m, join(dir, 'k2.safetensors'), { architecture: true } as never)).rejects.toThrow(
    /saveWeights: unknown option 'architecture'/,
  );
});

describe('review fixes', () => {
  it('a timer a fit callback started queues like any caller once that fit has settled (not refused, not nested)', async () => {
    const { x, y } = data(64, 4, 3, 40);
    const model = new Model(mlp(4, 8, 3, 41)).compile({ optimizer: 'sgd', loss: 'crossEntropy' });
    let later: Promise<unknown> | null = null;
    const order: string[] = [];
    await model.fit(x, y, {
      epochs: 1,
      batchSize: 16,
      verbose: 0,
      callbacks: [
        {
          onTrainEnd: () => {
            later = new Promise((r) => setImmediate(r)).then(async () => {
              order.push('late fit issued');
              await model.fit(x, y, { epochs: 1, batchSize: 16, verbose: 0 });
              order.push('late fit done');
            });
          },
        },
      ],
    });
    // Another caller's fit, issued before the timer fires: the late one must wait for it.
    const other = model.fit(x, y, { epochs: 3, batchSize: 4, verbose: 0 }).then(() => order.push('other fit done'));
    await Promise.all([later, other]);
    expect(order).toEqual(['late fit issued', 'other fit done', 'late fit done']);
  });

  it('predictSync from a timer inside fit callbacks never reads weights mid-replay: busy errors only, same weights', async () => {
    const { x, y } = data(256, 6, 3, 42);
    const probed = new Model(mlp(6, 16, 3, 43)).compile({ optimizer: 'adam', loss: 'crossEntropy' });
    const plain = new Model(mlp(6, 16, 3, 43)).compile({ optimizer: 'adam', loss: 'crossEntropy' });
    const errors: string[] = [];
    let ok = 0;
    await probed.fit(x, y, {
      epochs: 2,
      batchSize: 8,
      verbose: 0,
      seed: 1,
      callbacks: [
        {
          onBatchEnd: () =>
            void setImmediate(() => {
              try {
                probed.predictSync(x.slice(0, 2));
                ok++;
              } catch (e) {
                errors.push((e as Error).message);
              }
            }),
        },
      ],
    });
    await plain.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0, seed: 1 });
    expect(ok + errors.length).toBe(64);
    for (const e of errors) expect(e).toMatch(/predictSync: the model is busy \(fit\)/);
    expectSameWeights(probed.module, plain.module);
  });

  it('predict runs synchronously only when the input fits one batch of batchSize', async () => {
    const model = new Model(mlp(4, 8, 3, 44));
    const x = new Tensor(new Float32Array(40), [10, 4]);
    expect(await settlesSynchronously(model.predict(x))).toBe(true);
    const split = model.predict(x, { batchSize: 4 });
    expect(await settlesSynchronously(split)).toBe(false);
    expect((await split).shape).toEqual([10, 3]);
  });

  it('a failed predict does not change the input shape a later save declares', async () => {
    const model = new Model(mlp(4, 8, 3, 45));
    await model.predict(new Tensor(new Float32Array(8), [2, 4]));
    await expect(model.predict(new Tensor(new Float32Array(10), [2, 5]))).rejects.toThrow();
    expect(model.inputSpec).toEqual({ shape: [4], dtype: 'float32' });
    await model.save(join(dir, 'declared.axon'));
    expect((await Model.load(join(dir, 'declared.axon'))).inputSpec).toEqual({ shape: [4], dtype: 'float32' });
  });

  it('a hostile declared input shape is refused before its sample is allocated', async () => {
    const model = new Model(mlp(4, 8, 3, 46));
    model.inputSpec = { shape: [2 ** 31 - 1], dtype: 'float32' };
    await model.save(join(dir, 'huge-input.axon'));
    await expect(Model.load(join(dir, 'huge-input.axon'))).rejects.toThrow(/needs more than 1\.0 GiB of activations/);
  });

  it('nllLoss inside a recorded training step is refused (it reads targets in JS), not trained on placeholders', async () => {
    const { nllLoss, logSoftmax } = await import('../src/index.js');
    const { x, y } = data(32, 4, 3, 47);
    const model = new Model(mlp(4, 8, 3, 48)).compile({
      optimizer: 'sgd',
      loss: (p, t) => nllLoss(logSoftmax(p, 1), t),
    });
    await expect(model.fit(x, y, { epochs: 1, verbose: 0 })).rejects.toThrow(
      /nllLoss: builds its mask from the targets in JavaScript, so it cannot be part of a recorded training step/,
    );
  });

  it('outputs that overlap the index buffers a kernel checks at run time are refused', async () => {
    const { native } = await import('../src/native/binding.js');
    const buf = new Int32Array(16);
    const src = new Int32Array(32);
    const indices = buf.subarray(0, 4);
    expect(() => native.gatherRows(src, 4, indices, 0, 2, buf.subarray(2, 10))).toThrow(/'dst' .*'indices'|overlap/);
    const logits = new Float32Array(6);
    const shared = new ArrayBuffer(64);
    const target = new Int32Array(shared, 0, 2);
    const out = new Float32Array(shared, 0, 2);
    expect(() =>
      native.crossEntropy(logits, 2, 3, target, null, null, 0, -100, 0, out, new Float32Array(2), new Float32Array(2)),
    ).toThrow(/targetIndex|overlap/);
  });
});

it('dataset readers refuse non-regular files and files over their limit, at once', async () => {
  const { readIdx, readCsv, readLabelledTsv } = await import('../src/index.js');
  const fifo = join(dir, 'data-fifo');
  execFileSync('mkfifo', [fifo]);
  for (const path of ['/dev/zero', fifo]) {
    await expect(readIdx(path)).rejects.toThrow(/not a regular file/);
    await expect(readCsv(path)).rejects.toThrow(/not a regular file/);
    await expect(readLabelledTsv(path)).rejects.toThrow(/not a regular file/);
  }
  const csv = join(dir, 'small.csv');
  writeFileSync(csv, 'a,b\n1,2\n3,4\n');
  expect((await readCsv(csv)).rows).toEqual([
    ['1', '2'],
    ['3', '4'],
  ]);
  await expect(readCsv(csv, { maxBytes: 4 })).rejects.toThrow(/12 bytes is more than the 4-byte limit/);
  await expect(readIdx(csv, { maxBytes: 4 })).rejects.toThrow(/more than the 4-byte limit/);
});

it('linear with no input features gives act(bias) on every replay of its recorded forward', async () => {
  const { Module, Parameter, linear } = await import('../src/index.js');
  class NoFeatures extends Module {
    readonly weight = new Parameter(new Tensor(new Float32Array(0), [3, 0]));
    readonly bias = new Parameter(new Tensor(new Float32Array([0, 1, -1]), [3]));
    override forward(x: Tensor): Tensor {
      return linear(x, this.weight, this.bias, 'sigmoid');
    }
  }
  const net = new NoFeatures();
  const model = new Model(net);
  const x = new Tensor(new Float32Array(0), [2, 0]);
  const sig = (v: number): number => 1 / (1 + Math.exp(-v));
  for (const b of [
    [0, 1, -1],
    [2, -3, 0.5],
  ]) {
    net.bias.data.set(b);
    const out = model.predictSync(x); // the second call replays the recording of the first
    for (let r = 0; r < 2; r++) b.forEach((v, j) => expect(out.data[r * 3 + j]).toBeCloseTo(sig(v), 6));
  }
});
