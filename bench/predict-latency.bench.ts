/**
 * predict() under a backend service's load: latency at batch 1 and 64 (median of 1000 calls,
 * the 784-256-128-10 MLP), and how long the event loop is held while a costly predict runs
 * (an LSTM over 64x200 steps, a conv net on 64x3x96x96; a 1 ms setInterval measures the worst
 * delay past its period), plus which path predict() picks for a few models next to their real
 * synchronous time on this CPU. Runs against whatever tree it is started in, so a before/after
 * comparison runs it in both trees back to back.
 *
 *   npx tsx bench/predict-latency.bench.ts
 */
import {
  AdaptiveAvgPool2d,
  Conv2d,
  Flatten,
  LSTM,
  Linear,
  Model,
  Sequential,
  Tensor,
  getNumThreads,
} from '../src/index.js';

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function filled(shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(
    Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37)),
    shape,
  );
}

async function latency(model: Model, rows: number): Promise<number> {
  const x = filled([rows, 784]);
  for (let i = 0; i < 200; i++) await model.predict(x);
  const times: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const t0 = process.hrtime.bigint();
    await model.predict(x);
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  return median(times);
}

/** Worst delay (ms) of a 1 ms interval timer past its period while `work` runs, and its time. */
async function eventLoopHold(work: () => Promise<unknown>): Promise<{ worst: number; total: number }> {
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 1);
    last = now;
  }, 1);
  await new Promise((r) => setTimeout(r, 20));
  last = performance.now();
  worst = 0;
  const t0 = performance.now();
  await work();
  const total = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 5));
  clearInterval(timer);
  return { worst, total };
}

const mlp = new Model(
  new Sequential(
    new Linear(784, 256, { activation: 'relu' }),
    new Linear(256, 128, { activation: 'relu' }),
    new Linear(128, 10),
  ),
);
console.log(`threads ${getNumThreads()}`);
console.log(
  `MLP predict median: batch 1 ${(await latency(mlp, 1)).toFixed(1)} us, batch 64 ${(await latency(mlp, 64)).toFixed(1)} us`,
);

const lstm = new Model(new Sequential(new LSTM(16, 32, { batchFirst: true })));
const seq = filled([64, 200, 16]);
await lstm.predict(seq);
for (let i = 0; i < 3; i++) {
  const r = await eventLoopHold(() => lstm.predict(seq));
  console.log(
    `LSTM 64x200x16 -> 32: predict ${r.total.toFixed(1)} ms, worst event-loop delay ${r.worst.toFixed(2)} ms`,
  );
}
const conv = new Model(
  new Sequential(new Conv2d(3, 16, 3, { padding: 1, activation: 'relu' }), new AdaptiveAvgPool2d(1), new Flatten()),
);
const img = filled([64, 3, 96, 96]);
await conv.predict(img);
for (let i = 0; i < 3; i++) {
  const r = await eventLoopHold(() => conv.predict(img));
  console.log(
    `Conv 64x3x96x96 -> 16: predict ${r.total.toFixed(1)} ms, worst event-loop delay ${r.worst.toFixed(2)} ms`,
  );
}

// The synchronous path's choice (model.syncSeconds against estimateSeconds) next to the time
// each forward really takes synchronously here.
const cases: [string, () => Model, number[]][] = [
  ['MLP 784-256-128-10, 1 row', () => mlpModel(), [1, 784]],
  ['MLP 784-256-128-10, 64 rows', () => mlpModel(), [64, 784]],
  ['LSTM 64->128 over 8x20', () => new Model(new Sequential(new LSTM(64, 128, { batchFirst: true }))), [8, 20, 64]],
  ['LSTM 16->32 over 64x200', () => new Model(new Sequential(new LSTM(16, 32, { batchFirst: true }))), [64, 200, 16]],
  ['conv 1->32->64 3x3, 1x28x28', () => convNet(), [1, 1, 28, 28]],
  ['conv 1->32->64 3x3, 8x28x28', () => convNet(), [8, 1, 28, 28]],
];
function mlpModel(): Model {
  return new Model(
    new Sequential(
      new Linear(784, 256, { activation: 'relu' }),
      new Linear(256, 128, { activation: 'relu' }),
      new Linear(128, 10),
    ),
  );
}
function convNet(): Model {
  return new Model(
    new Sequential(
      new Conv2d(1, 32, 3, { padding: 1, activation: 'relu' }),
      new Conv2d(32, 64, 3, { padding: 1, activation: 'relu' }),
      new AdaptiveAvgPool2d(1),
      new Flatten(),
    ),
  );
}
for (const [name, make, shape] of cases) {
  const m = make();
  const x = filled(shape);
  m.predictSync(x);
  const times: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t0 = process.hrtime.bigint();
    m.predictSync(x);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  let settled = false;
  const p = m.predict(x).then(() => (settled = true));
  await Promise.resolve();
  const sync = settled;
  await p;
  console.log(
    `${name}: predictSync median ${median(times).toFixed(3)} ms; predict() ${sync ? 'synchronous' : 'on the pool'}`,
  );
}
