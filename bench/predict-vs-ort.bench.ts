/**
 * Model.predict on networks built from our layers, side by side with onnxruntime-node running
 * the same architectures from ONNX files (tests/fixtures/onnx/torch, exported from PyTorch) in
 * one process: the 784-256-128-10 MLP and the Fashion CNN at batch 1 and 64, 1 and 2 threads.
 * Each cell times `await model.predict(new Tensor(x, dims))` against `await session.run(feeds)`
 * including the feed's creation (../shared/BENCH-NOTES.md), medians over 5 interleaved rounds of
 * 200 calls per engine after 50 warm-ups each. This is issue 16's inference-plan table.
 *
 *   node tools/test-peers.mjs    # onnxruntime-node into tests/peers (npm test does it too)
 *   npx tsx bench/predict-vs-ort.bench.ts
 */
import { join } from 'node:path';
import { Conv2d, Flatten, Linear, MaxPool2d, Model, Sequential, Tensor, setNumThreads } from '../src/index.js';
import { ort } from '../tests/peers/ort.js';

const FIXTURES = join(import.meta.dirname, '../tests/fixtures/onnx/torch');

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function data(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37));
}

const builders: Record<string, () => Model> = {
  mlp: () =>
    new Model(
      new Sequential(
        new Linear(784, 256, { activation: 'relu' }),
        new Linear(256, 128, { activation: 'relu' }),
        new Linear(128, 10),
      ),
    ),
  fashion_cnn: () =>
    new Model(
      new Sequential(
        new Conv2d(1, 32, 3, { padding: 1, activation: 'relu' }),
        new MaxPool2d(2),
        new Conv2d(32, 64, 3, { padding: 1, activation: 'relu' }),
        new MaxPool2d(2),
        new Flatten(),
        new Linear(3136, 128, { activation: 'relu' }),
        new Linear(128, 10),
      ),
    ),
};

async function cell(model: string, sample: number[], batch: number, threads: number): Promise<void> {
  setNumThreads(threads);
  const ours = builders[model]();
  const theirs = await ort.InferenceSession.create(join(FIXTURES, model, 'model.onnx'), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const dims = [batch, ...sample];
  const x = data(dims.reduce((a, b) => a * b, 1));
  const runOurs = (): Promise<unknown> => ours.predict(new Tensor(x, dims));
  const runTheirs = (): Promise<unknown> => theirs.run({ input: new ort.Tensor('float32', x, dims) });
  for (let i = 0; i < 50; i++) {
    await runOurs();
    await runTheirs();
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let round = 0; round < 5; round++)
    for (const [run, into] of [
      [runOurs, a],
      [runTheirs, b],
    ] as const)
      for (let i = 0; i < 200; i++) {
        const t0 = process.hrtime.bigint();
        await run();
        into.push(Number(process.hrtime.bigint() - t0) / 1000);
      }
  const ma = median(a);
  const mb = median(b);
  console.log(`| ${model} | ${batch} | ${threads} | ${ma.toFixed(1)} | ${mb.toFixed(1)} | ${(ma / mb).toFixed(2)} |`);
  await theirs.release();
}

console.log('| model | batch | threads | axon-nn predict us | onnxruntime-node us | ratio |');
console.log('|---|---|---|---|---|---|');
for (const threads of [1, 2])
  for (const batch of [1, 64]) {
    await cell('mlp', [784], batch, threads);
    await cell('fashion_cnn', [1, 28, 28], batch, threads);
  }
