/**
 * Batch-1 predict latency while other work runs in the same process (issue 16): p50/p99 of
 * 1-row predicts of the 784-256-128-10 MLP when idle, while a 20,000-row predict runs on the
 * same model and on another one, and while another model trains (fit). Each 1-row request is
 * issued after the previous one settles and one event-loop turn, as a server's requests
 * arrive; both of predict's paths are measured: the default (a 1-row request runs
 * synchronously on the JS thread) and the pool path (syncSeconds = 0, as a larger request
 * would). Then 32 models each predicting 500 rows: all at once against one after another.
 * Runs against whatever tree it is started in: a before/after comparison runs it in both.
 *
 *   npx tsx bench/concurrent-latency.bench.ts
 */
import { Linear, Model, Sequential, Tensor, getNumThreads } from '../src/index.js';

function filled(shape: number[], seed = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(
    Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed)),
    shape,
  );
}

function mlp(): Model {
  return new Model(
    new Sequential(
      new Linear(784, 256, { activation: 'relu' }),
      new Linear(256, 128, { activation: 'relu' }),
      new Linear(128, 10),
    ),
  );
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** p50/p99 (microseconds) of `count` 1-row predicts issued one after another. */
async function probe(model: Model, count: number): Promise<{ p50: number; p99: number }> {
  const x = filled([1, 784], 7);
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    await model.predict(x);
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
    await tick();
  }
  times.sort((a, b) => a - b);
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99) };
}

/** Runs `background` in a loop until `foreground` settles. */
async function beside<T>(background: () => Promise<unknown>, foreground: () => Promise<T>): Promise<T> {
  let stop = false;
  const loop = (async () => {
    while (!stop) await background();
  })();
  await tick();
  try {
    return await foreground();
  } finally {
    stop = true;
    await loop;
  }
}

const fmt = (r: { p50: number; p99: number }): string => `p50 ${r.p50.toFixed(0)} us, p99 ${r.p99.toFixed(0)} us`;

console.log(`threads ${getNumThreads()}`);
const big = filled([20_000, 784], 3);
const trainX = filled([4096, 784], 5);
const trainY = new Tensor(
  Int32Array.from({ length: 4096 }, (_, i) => i % 10),
  [4096],
);
const COUNT = 2000;

for (const path of ['sync (default)', 'pool (syncSeconds = 0)']) {
  const served = mlp();
  const other = mlp();
  const trainee = mlp().compile({ optimizer: 'adam', loss: 'crossEntropy' });
  if (path.startsWith('pool')) served.syncSeconds = 0;
  await probe(served, 200); // warm up: record the forwards
  await served.predict(big);
  await other.predict(big);
  console.log(`\n1-row predicts, ${path} path:`);
  console.log(`  idle:                                   ${fmt(await probe(served, COUNT))}`);
  console.log(
    `  beside a 20,000-row predict, same model:  ${fmt(
      await beside(
        () => served.predict(big),
        () => probe(served, COUNT),
      ),
    )}`,
  );
  console.log(
    `  beside a 20,000-row predict, other model: ${fmt(
      await beside(
        () => other.predict(big),
        () => probe(served, COUNT),
      ),
    )}`,
  );
  console.log(
    `  beside a fit of another model:            ${fmt(
      await beside(
        () => trainee.fit(trainX, trainY, { epochs: 1, batchSize: 64, verbose: 0 }),
        () => probe(served, COUNT),
      ),
    )}`,
  );
}

const models = Array.from({ length: 32 }, () => mlp());
const x500 = filled([500, 784], 9);
for (const m of models) await m.predict(x500);
for (let round = 0; round < 3; round++) {
  let t0 = performance.now();
  for (const m of models) await m.predict(x500);
  const sequential = performance.now() - t0;
  t0 = performance.now();
  await Promise.all(models.map((m) => m.predict(x500)));
  const together = performance.now() - t0;
  console.log(
    `\n32 models x 500 rows: one after another ${sequential.toFixed(1)} ms, all at once ${together.toFixed(1)} ms (${(sequential / together).toFixed(2)}x)`,
  );
}
