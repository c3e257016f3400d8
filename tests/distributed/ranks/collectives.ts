/**
 * Rank script (tests/distributed/distributed.test.ts, 2 ranks): the collectives' results and
 * argument errors, and rank-aware checkpoints: only rank 0 writes (ModelCheckpoint inside
 * ddp.fit), and every rank resuming from rank 0's file ends with the weights of a run that
 * never stopped. argv[2]: a scratch directory. Prints `RESULT {json}` per rank.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  DistributedDataParallel,
  Linear,
  Model,
  ModelCheckpoint,
  Sequential,
  distributed,
  loadCheckpoint,
  manualSeed,
  randint,
  randn,
  tensor,
} from '../../../src/index.js';

const dir = process.argv[2];
const { rank, size } = await distributed.init({ timeoutMs: 20_000 });

// ---- collectives --------------------------------------------------------------------------
const s = tensor([rank + 1, 10 * (rank + 1)]);
await distributed.allreduce(s, 'sum');
const mx = new Float32Array([rank, -rank]);
await distributed.allreduce(mx, 'max');
const mean = new Float64Array([rank]);
await distributed.allreduce(mean, 'mean');
const b = new Int32Array([rank === 0 ? 42 : -1, rank === 0 ? 7 : -1]);
await distributed.broadcast(b, 0);
const g = await distributed.allgather(tensor([rank, rank]));
await distributed.barrier();
const errors: string[] = [];
for (const bad of [
  () => distributed.allreduce(new Int32Array(2) as unknown as Float32Array),
  () => distributed.allreduce(new Float32Array(2), 'prod' as 'sum'),
  () => distributed.broadcast(new Float32Array(2), size),
  () => distributed.barrier({ timeoutMs: -1 }),
])
  try {
    await bad();
    errors.push('no error');
  } catch (e) {
    errors.push((e as Error).message);
  }

// ---- rank-aware checkpoints and resume -------------------------------------------------------
const x = randn([64, 6], { seed: 1 });
const y = randint(0, 3, [64], { seed: 2 });
async function makeModel(): Promise<{ model: Model; ddp: DistributedDataParallel }> {
  manualSeed(4);
  const model = new Model(new Sequential(new Linear(6, 10, { activation: 'relu' }), new Linear(10, 3)));
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', learningRate: 0.01 });
  return { model, ddp: await DistributedDataParallel.create(model) };
}
const full = await makeModel();
const ckpt = new ModelCheckpoint({ filepath: join(dir, `ck-r${rank}-{epoch}.axon`) });
await full.ddp.fit(x, y, { epochs: 3, batchSize: 8, seed: 9, verbose: 0, callbacks: [ckpt] });
full.ddp.detach();
await distributed.barrier(); // rank 0's files are complete before anyone reads them
const resumed = await makeModel();
await loadCheckpoint(join(dir, 'ck-r0-1.axon'), { model: resumed.model });
await resumed.ddp.fit(x, y, { epochs: 3, initialEpoch: 1, batchSize: 8, seed: 9, verbose: 0 });
let resumeDiff = 0;
const pf = full.model.module.parameters();
const pr = resumed.model.module.parameters();
for (let i = 0; i < pf.length; i++)
  for (let j = 0; j < pf[i].size; j++) resumeDiff = Math.max(resumeDiff, Math.abs(pf[i].data[j] - pr[i].data[j]));

console.log(
  `RESULT ${JSON.stringify({
    rank,
    sum: Array.from(s.data),
    max: Array.from(mx),
    mean: mean[0],
    bcast: Array.from(b),
    gather: { shape: g.shape, data: Array.from(g.data) },
    errors,
    wroteOwnFiles: [1, 2, 3].map((e) => existsSync(join(dir, `ck-r${rank}-${e}.axon`))),
    resumeDiff,
  })}`,
);
