/**
 * Rank script (run by tests/distributed/distributed.test.ts under mpirun): data-parallel
 * training on N ranks at per-rank batch B/N against one process at batch B, computed on every
 * rank, for the explicit loop, Model.fit on shards, ddp.fit with the sampler, and buffer
 * averaging. Prints one line `RESULT {json}` per rank.
 */
import {
  BatchNorm1d,
  DistributedDataParallel,
  Linear,
  Model,
  ReLU,
  SGD,
  Sequential,
  crossEntropy,
  distributed,
  distributedLoader,
  manualSeed,
  randint,
  randn,
  takeRows,
  type Module,
} from '../../../src/index.js';

const B = 48; // global batch (divides by 2, 3 and 4 ranks)
const STEPS = 6;
const info = await distributed.init({ timeoutMs: 30_000 });
const { rank, size } = info;
const per = B / size;
const x = randn([B * STEPS, 12], { seed: 7 });
const y = randint(0, 5, [B * STEPS], { seed: 8 });

function mlp(): Module {
  manualSeed(11);
  return new Sequential(
    new Linear(12, 24, { activation: 'relu' }),
    new Linear(24, 16, { activation: 'relu' }),
    new Linear(16, 5),
  );
}

function maxDiff(a: Module, b: Module): number {
  const pa = a.parameters();
  const pb = b.parameters();
  let m = 0;
  for (let i = 0; i < pa.length; i++)
    for (let j = 0; j < pa[i].size; j++) m = Math.max(m, Math.abs(pa[i].data[j] - pb[i].data[j]));
  return m;
}

/** Rows of global batch b that this rank trains on: bB + r, bB + r + N, ... */
function rankRows(b: number): Int32Array {
  const idx = new Int32Array(per);
  for (let j = 0; j < per; j++) idx[j] = b * B + rank + j * size;
  return idx;
}

function rowsOf(start: number, count: number): Int32Array {
  return Int32Array.from({ length: count }, (_, i) => start + i);
}

// ---- explicit loop ----------------------------------------------------------------------------
const ref = mlp();
const refOpt = new SGD(ref.parameters(), { lr: 0.1, momentum: 0.9 });
for (let b = 0; b < STEPS; b++) {
  refOpt.zeroGrad();
  const idx = rowsOf(b * B, B);
  crossEntropy(ref.forward(takeRows(x, idx)), takeRows(y, idx)).backward();
  refOpt.step();
}
const local = mlp();
// A different start on other ranks: create() must copy rank 0's weights everywhere.
if (rank !== 0) for (const p of local.parameters()) p.data.fill(0.5);
// Tiny buckets: several reductions per step, started during backward.
const ddp = await DistributedDataParallel.create(local, { firstBucketCapMB: 0.001, bucketCapMB: 0.002 });
const opt = new SGD(local.parameters(), { lr: 0.1, momentum: 0.9 });
for (let b = 0; b < STEPS; b++) {
  opt.zeroGrad();
  const idx = rankRows(b);
  crossEntropy(ddp.forward(takeRows(x, idx)), takeRows(y, idx)).backward();
  await ddp.synchronize();
  opt.step();
}
const explicit = { diff: maxDiff(local, ref), buckets: ddp.bucketSizes().length, reductions: ddp.stats.reductions };
ddp.detach();

// ---- the same loop with bf16 gradients on the wire: close to the exact run, identical on
// every rank (the weights' checksums compared through an allgather)
const compressed = mlp();
const ddpBf16 = await DistributedDataParallel.create(compressed, {
  firstBucketCapMB: 0.001,
  bucketCapMB: 0.002,
  gradientCompression: 'bf16',
});
const optBf16 = new SGD(compressed.parameters(), { lr: 0.1, momentum: 0.9 });
for (let b = 0; b < STEPS; b++) {
  optBf16.zeroGrad();
  const idx = rankRows(b);
  crossEntropy(ddpBf16.forward(takeRows(x, idx)), takeRows(y, idx)).backward();
  await ddpBf16.synchronize();
  optBf16.step();
}
ddpBf16.detach();
let checksum = 0;
for (const p of compressed.parameters())
  for (let j = 0; j < p.size; j++) checksum = (checksum * 31 + p.data[j] * (1 + (j % 7))) % 1e9;
const sums = await distributed.allgather(new Float64Array([checksum]));
const bf16 = { diff: maxDiff(compressed, ref), identical: Array.from(sums).every((v) => v === checksum) };

// ---- Model.fit on this rank's shard, no shuffling (the tensor fit: steps replayed in chunks)
const refModel = new Model(mlp());
refModel.compile({
  optimizer: new SGD(refModel.module.parameters(), { lr: 0.05, momentum: 0.5 }),
  loss: 'sparseCategoricalCrossentropy',
});
await refModel.fit(x, y, { epochs: 2, batchSize: B, shuffle: false, verbose: 0 });
const shardIdx = new Int32Array((B * STEPS) / size);
for (let i = 0; i < shardIdx.length; i++) shardIdx[i] = rank + i * size;
const m1 = new Model(mlp());
m1.compile({
  optimizer: new SGD(m1.module.parameters(), { lr: 0.05, momentum: 0.5 }),
  loss: 'sparseCategoricalCrossentropy',
});
const ddp1 = await DistributedDataParallel.create(m1, { firstBucketCapMB: 0.001, bucketCapMB: 0.002 });
await m1.fit(takeRows(x, shardIdx), takeRows(y, shardIdx), { epochs: 2, batchSize: per, shuffle: false, verbose: 0 });
const fitShards = { diff: maxDiff(m1.module, refModel.module), steps: ddp1.stats.steps };
ddp1.detach();

// ---- ddp.fit: sampler shuffling per epoch, metrics reduced across ranks ----------------------
const refLoader = distributedLoader(x, y, { rank: 0, size: 1, batchSize: B, seed: 5 });
const m2ref = new Model(mlp());
m2ref.compile({
  optimizer: new SGD(m2ref.module.parameters(), { lr: 0.05 }),
  loss: 'sparseCategoricalCrossentropy',
  metrics: ['accuracy'],
});
const hRef = await m2ref.fit(refLoader, null, { epochs: 3 });
const m2 = new Model(mlp());
m2.compile({
  optimizer: new SGD(m2.module.parameters(), { lr: 0.05 }),
  loss: 'sparseCategoricalCrossentropy',
  metrics: ['accuracy'],
});
const ddp2 = await DistributedDataParallel.create(m2, { firstBucketCapMB: 0.001 });
const h = await ddp2.fit(x, y, { epochs: 3, batchSize: per, seed: 5, verbose: 0 });
const lossDiff = Math.max(...h.history.loss.map((l, i) => Math.abs(l - hRef.history.loss[i])));
const accDiff = Math.max(...h.history.accuracy.map((a, i) => Math.abs(a - hRef.history.accuracy[i])));
const ddpFit = { diff: maxDiff(m2.module, m2ref.module), lossDiff, accDiff, loss: h.history.loss };
ddp2.detach();

// ---- a parameter no rank computes a gradient for is not stepped (momentum, Adam) -------------
class WithUnused extends Sequential {
  readonly spare = new Linear(5, 5);
}
async function unusedMoves(useFit: boolean): Promise<number> {
  manualSeed(4);
  const net = new WithUnused(new Linear(12, 8, { activation: 'relu' }), new Linear(8, 5));
  const before = Float32Array.from(net.spare.weight.data as Float32Array);
  if (useFit) {
    const m = new Model(net).compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', learningRate: 0.05 });
    const d = await DistributedDataParallel.create(m);
    await d.fit(x, y, { epochs: 1, batchSize: per, seed: 1, verbose: 0 });
    d.detach();
  } else {
    const d = await DistributedDataParallel.create(net);
    const o = new SGD(net.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 0.1 });
    for (let b = 0; b < STEPS; b++) {
      o.zeroGrad();
      const idx = rankRows(b);
      crossEntropy(d.forward(takeRows(x, idx)), takeRows(y, idx)).backward();
      await d.synchronize();
      if (net.spare.weight.grad !== null) return Infinity; // must stay null
      o.step();
    }
    d.detach();
  }
  let moved = 0;
  const after = net.spare.weight.data;
  for (let i = 0; i < before.length; i++) moved = Math.max(moved, Math.abs(after[i] - before[i]));
  return moved;
}
const unused = { loop: await unusedMoves(false), fit: await unusedMoves(true) };

// ---- buffers: BatchNorm running statistics, local vs averaged ---------------------------------
async function bnSpread(buffers: 'local' | 'average'): Promise<number> {
  manualSeed(2);
  const net = new Sequential(new Linear(12, 8), new BatchNorm1d(8), new ReLU(), new Linear(8, 5));
  const m = new Model(net).compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy', learningRate: 0.05 });
  const d = await DistributedDataParallel.create(m, { buffers });
  await d.fit(x, y, { epochs: 1, batchSize: per, seed: 1, verbose: 0 });
  d.detach();
  const mean = net.namedBuffers().find(([n]) => n.endsWith('running_mean'))![1];
  const all = await distributed.allgather(mean.data as Float32Array);
  let spread = 0;
  for (let r = 1; r < size; r++)
    for (let j = 0; j < mean.size; j++) spread = Math.max(spread, Math.abs(all[r * mean.size + j] - all[j]));
  return spread;
}
const bn = { local: await bnSpread('local'), average: await bnSpread('average') };

console.log(
  `RESULT ${JSON.stringify({ rank, size, threads: info.threads, localSize: info.localSize, explicit, bf16, fitShards, ddpFit, bn, unused })}`,
);
