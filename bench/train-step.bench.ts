/**
 * One training step (forward, backward, Adam update) of a 784-256-128-10 ReLU MLP at batch 64,
 * written as the explicit PyTorch-style loop. Reports time per step at 1 and 2 threads and the
 * share spent outside the native kernels (JS, binding, allocation), from the kernel profiler's
 * summed kernel time against wall time.
 *
 *   npx tsx bench/train-step.bench.ts
 */
import {
  Adam,
  Linear,
  Sequential,
  crossEntropy,
  randint,
  randn,
  setNumThreads,
  getNumThreads,
  startProfiling,
  stopProfiling,
} from '../src/index.js';

const batch = 64;
const model = new Sequential(
  new Linear(784, 256, { activation: 'relu' }),
  new Linear(256, 128, { activation: 'relu' }),
  new Linear(128, 10),
);
const opt = new Adam(model.parameters(), { lr: 1e-3 });
const x = randn([batch, 784], { seed: 1 });
const y = randint(0, 10, [batch], { seed: 2 });

function step(): void {
  opt.zeroGrad();
  const loss = crossEntropy(model.forward(x), y);
  loss.backward();
  opt.step();
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[s.length >> 1];
}

const initial = getNumThreads();
console.log('| threads | us per step (median of 9 x 200) | kernel share | outside kernels |');
console.log('|---:|---:|---:|---:|');
for (const threads of [1, 2]) {
  setNumThreads(threads);
  for (let i = 0; i < 100; i++) step(); // warm up: allocations, caches, the thread pool
  const times: number[] = [];
  for (let r = 0; r < 9; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) step();
    times.push(((performance.now() - t0) * 1000) / 200);
  }
  startProfiling();
  const t0 = performance.now();
  for (let i = 0; i < 200; i++) step();
  const wallMs = performance.now() - t0;
  const report = stopProfiling();
  const kernelShare = report.totalMs() / wallMs;
  console.log(
    `| ${threads} | ${median(times).toFixed(1)} | ${(100 * kernelShare).toFixed(1)}% | ${(100 * (1 - kernelShare)).toFixed(1)}% |`,
  );
  if (threads === 1) console.log('\nkernel profile, 1 thread, 200 steps:\n' + report.table(12) + '\n');
}
setNumThreads(initial);
