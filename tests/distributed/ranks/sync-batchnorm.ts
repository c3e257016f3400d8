/**
 * Rank script (run by tests/distributed/distributed.test.ts under mpirun): SyncBatchNorm. N
 * ranks at per-rank batch B/N, with every batch norm synchronized, against one process with
 * plain batch norms at batch B, computed on every rank: weights and running statistics after
 * an explicit loop (eager: the sums reduced at once) and after Model.fit (the traced step cut
 * around each reduction). Also: Model.fit of an unwrapped model refuses, by name. Prints one
 * line `RESULT {json}` per rank.
 */
import {
  BatchNorm1d,
  BatchNorm2d,
  Conv2d,
  DistributedDataParallel,
  Flatten,
  Linear,
  Model,
  ReLU,
  SGD,
  Sequential,
  SyncBatchNorm,
  crossEntropy,
  distributed,
  manualSeed,
  randint,
  randn,
  takeRows,
  type Module,
} from '../../../src/index.js';

const B = 24; // global batch (divides by 2 and 3 ranks)
const STEPS = 4;
const { rank, size } = await distributed.init({ timeoutMs: 30_000 });
const per = B / size;
const x = randn([B * STEPS, 2, 6, 6], { seed: 21 })
  .mul(3)
  .add(5); // offset data
const y = randint(0, 3, [B * STEPS], { seed: 22 });

/** Conv + 2-D norm + relu (fused by Sequential), conv + norm, then a 1-D norm on [N, C]. */
function net(sync: boolean): Module {
  manualSeed(31);
  const n = new Sequential(
    new Conv2d(2, 4, 3, { padding: 1, bias: false }),
    new BatchNorm2d(4),
    new ReLU(),
    new Conv2d(4, 4, 3, { padding: 1 }),
    new BatchNorm2d(4, { momentum: 0.3 }),
    new Flatten(),
    new Linear(4 * 36, 8),
    new BatchNorm1d(8),
    new ReLU(),
    new Linear(8, 3),
  );
  return sync ? SyncBatchNorm.convert(n) : n;
}

function maxDiff(a: Module, b: Module): { weights: number; buffers: number } {
  const diff = (xs: Float32Array[], ys: Float32Array[]): number => {
    let m = 0;
    for (let i = 0; i < xs.length; i++)
      for (let j = 0; j < xs[i].length; j++) m = Math.max(m, Math.abs(xs[i][j] - ys[i][j]));
    return m;
  };
  const data = (m: Module, what: 'p' | 'b'): Float32Array[] =>
    (what === 'p' ? m.parameters() : m.namedBuffers().map(([, t]) => t)).map((t) => t.data as Float32Array);
  return { weights: diff(data(a, 'p'), data(b, 'p')), buffers: diff(data(a, 'b'), data(b, 'b')) };
}

/** A checksum of the running statistics, gathered: identical on every rank? */
async function buffersAgree(m: Module): Promise<boolean> {
  let sum = 0;
  for (const [, t] of m.namedBuffers())
    for (let j = 0; j < t.size; j++) sum = (sum * 31 + t.data[j] * (1 + (j % 5))) % 1e9;
  const all = await distributed.allgather(new Float64Array([sum]));
  return Array.from(all).every((v) => v === sum);
}

const rowsOf = (start: number, count: number, stride = 1): Int32Array =>
  Int32Array.from({ length: count }, (_, i) => start + i * stride);

// ---- explicit loop ----------------------------------------------------------------------------
const ref = net(false);
const refOpt = new SGD(ref.parameters(), { lr: 0.05, momentum: 0.9 });
for (let b = 0; b < STEPS; b++) {
  refOpt.zeroGrad();
  const idx = rowsOf(b * B, B);
  crossEntropy(ref.forward(takeRows(x, idx)), takeRows(y, idx)).backward();
  refOpt.step();
}
async function explicitLoop(sync: boolean): Promise<Module> {
  const local = net(sync);
  const ddp = await DistributedDataParallel.create(local);
  const opt = new SGD(local.parameters(), { lr: 0.05, momentum: 0.9 });
  for (let b = 0; b < STEPS; b++) {
    opt.zeroGrad();
    const idx = rowsOf(b * B + rank, per, size);
    crossEntropy(ddp.forward(takeRows(x, idx)), takeRows(y, idx)).backward();
    await ddp.synchronize();
    opt.step();
  }
  ddp.detach();
  return local;
}
const synced = await explicitLoop(true);
const explicit = { ...maxDiff(synced, ref), agree: await buffersAgree(synced) };
// The same loop with per-rank batch norms: what the synchronization changes (so the check above can fail).
const perRank = { ...maxDiff(await explicitLoop(false), ref) };

// ---- Model.fit of a wrapped model on this rank's shard, against one process at batch B -------
const refModel = new Model(net(false));
refModel.compile({
  optimizer: new SGD(refModel.module.parameters(), { lr: 0.05, momentum: 0.5 }),
  loss: 'sparseCategoricalCrossentropy',
});
await refModel.fit(x, y, { epochs: 2, batchSize: B, shuffle: false, verbose: 0 });
const shard = rowsOf(rank, (B * STEPS) / size, size);
const m1 = new Model(net(true));
m1.compile({
  optimizer: new SGD(m1.module.parameters(), { lr: 0.05, momentum: 0.5 }),
  loss: 'sparseCategoricalCrossentropy',
});
const ddp1 = await DistributedDataParallel.create(m1);
await m1.fit(takeRows(x, shard), takeRows(y, shard), { epochs: 2, batchSize: per, shuffle: false, verbose: 0 });
const fit = { ...maxDiff(m1.module, refModel.module), agree: await buffersAgree(m1.module), steps: ddp1.stats.steps };
ddp1.detach();

// ---- Model.fit without the wrapper: refused before any step, naming the layer ----------------
let unwrapped = '';
const m2 = new Model(net(true));
m2.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
try {
  await m2.fit(takeRows(x, shard), takeRows(y, shard), { epochs: 1, batchSize: per, verbose: 0 });
} catch (e) {
  unwrapped = (e as Error).message;
}

console.log(`RESULT ${JSON.stringify({ rank, size, explicit, perRank, fit, unwrapped })}`);
await distributed.finalize();
