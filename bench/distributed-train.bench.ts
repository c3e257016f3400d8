/**
 * Data-parallel epoch time of the Fashion-MNIST MLP (784-256-128-10, as bench/fashion-mlp) or
 * CNN (as bench/fashion-cnn, without BatchNorm) through ddp.fit, and how much of the gradient
 * allreduce time backward hides. The global batch is fixed (--batch, default 64), split over
 * the ranks, so 1 rank x 2 threads and 2 ranks x 1 thread do the same work per epoch:
 *   mpirun --allow-run-as-root -np 1 npx tsx bench/distributed-train.bench.ts --threads 2
 *   mpirun --allow-run-as-root -np 2 npx tsx bench/distributed-train.bench.ts --threads 1
 * Options: --model mlp|cnn, --epochs 3, --data DIR (default: Debian's full set, else the
 * subset), --rows N (first N training rows), --bucket-mb auto|MB, --first-bucket-mb 1, --compression
 * none|bf16 (gradients on the wire; the report adds the test-set accuracy to compare), --norm
 * none|batch|sync (the CNN with a BatchNorm2d, or a SyncBatchNorm, between each conv and its
 * relu: what synchronizing the statistics costs per step).
 * Hidden share = 1 - (time waiting for reductions after backward) / (the same reductions run
 * alone, measured after training): 100 % means communication cost nothing.
 */
import { parseArgs } from 'node:util';
import {
  BatchNorm2d,
  Conv2d,
  DistributedDataParallel,
  Flatten,
  Linear,
  MaxPool2d,
  Model,
  ReLU,
  Sequential,
  SyncBatchNorm,
  distributed,
  manualSeed,
  type Module,
} from '../src/index.js';
import { loadFashionMnist } from '../examples/fashion-data.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'mlp' },
    threads: { type: 'string', default: '1' },
    epochs: { type: 'string', default: '3' },
    batch: { type: 'string', default: '64' },
    rows: { type: 'string' },
    data: { type: 'string' },
    'bucket-mb': { type: 'string', default: 'auto' },
    'first-bucket-mb': { type: 'string', default: '1' },
    compression: { type: 'string', default: 'none' },
    norm: { type: 'string', default: 'none' },
  },
});
const info = await distributed.init({ threads: Number(args.threads) });
const { rank, size } = info;
const data = await loadFashionMnist(args.data);
const rows = args.rows ? Math.min(Number(args.rows), data.xTrain.shape[0]) : data.xTrain.shape[0];
const cnn = args.model === 'cnn';
const x = data.xTrain.slice(0, rows).reshape(cnn ? [-1, 1, 28, 28] : [-1, 784]);
const y = data.yTrain.slice(0, rows);
const globalBatch = Number(args.batch);
if (globalBatch % size !== 0) throw new RangeError(`--batch ${globalBatch} must divide by the ${size} ranks`);

manualSeed(1);
const norm = args.norm;
if (!['none', 'batch', 'sync'].includes(norm)) throw new RangeError(`--norm must be none, batch or sync, got ${norm}`);
/** A conv and its relu, with the chosen norm between them. */
const convBlock = (cIn: number, cOut: number): Module[] =>
  norm === 'none'
    ? [new Conv2d(cIn, cOut, 5, { padding: 2, activation: 'relu' })]
    : [
        new Conv2d(cIn, cOut, 5, { padding: 2, bias: false }),
        norm === 'sync' ? new SyncBatchNorm(cOut) : new BatchNorm2d(cOut),
        new ReLU(),
      ];
const net = cnn
  ? new Sequential(
      ...convBlock(1, 32),
      new MaxPool2d(2),
      ...convBlock(32, 64),
      new MaxPool2d(2),
      new Flatten(),
      new Linear(3136, 1024, { activation: 'relu' }),
      new Linear(1024, 10),
    )
  : new Sequential(
      new Linear(784, 256, { activation: 'relu' }),
      new Linear(256, 128, { activation: 'relu' }),
      new Linear(128, 10),
    );
const model = new Model(net).compile({
  optimizer: 'adam',
  learningRate: 1e-3,
  loss: 'sparseCategoricalCrossentropy',
  metrics: ['accuracy'],
});
const compression = args.compression as 'none' | 'bf16';
const ddp = await DistributedDataParallel.create(model, {
  bucketCapMB: args['bucket-mb'] === 'auto' ? 'auto' : Number(args['bucket-mb']),
  firstBucketCapMB: Number(args['first-bucket-mb']),
  gradientCompression: compression,
});
const epochs = Number(args.epochs);
const epochSeconds: number[] = [];
let t0 = 0;
const history = await ddp.fit(x, y, {
  epochs,
  batchSize: globalBatch / size,
  verbose: 0,
  callbacks: [
    { onEpochBegin: () => void (t0 = performance.now()) },
    { onEpochEnd: () => void epochSeconds.push((performance.now() - t0) / 1000) },
  ],
});
const steps = ddp.stats.steps;
const exposedPerStep = ddp.stats.exposedMs / Math.max(steps, 1);
// The same reductions with nothing to overlap: every bucket back to back, 50 times.
const buckets = ddp.bucketSizes().map((n) => new Float32Array(n));
const reps = 50;
await distributed.barrier();
const c0 = performance.now();
for (let i = 0; i < reps; i++) await Promise.all(buckets.map((b) => distributed.allreduce(b, 'mean', { compression })));
const alonePerStep = (performance.now() - c0) / reps;
const times = new Float64Array([...epochSeconds, exposedPerStep, alonePerStep]);
await distributed.allreduce(times, 'max'); // the slowest rank sets the pace
const xTest = data.xTest.reshape(cnn ? [-1, 1, 28, 28] : [-1, 784]);
const testAccuracy = (await model.evaluate(xTest, data.yTest, { batchSize: 500 })).accuracy;
if (rank === 0) {
  const median = [...times.subarray(0, epochs)].sort((a, b) => a - b)[Math.floor(epochs / 2)];
  const exposed = times[epochs];
  const alone = times[epochs + 1];
  console.log(
    JSON.stringify({
      model: args.model,
      norm,
      ranks: size,
      threadsPerRank: info.threads,
      globalBatch,
      rows,
      epochs: Array.from(times.subarray(0, epochs), (s) => Number(s.toFixed(3))),
      medianEpochSeconds: Number(median.toFixed(3)),
      bucketCapMB: ddp.bucketCapMB,
      buckets: ddp.bucketSizes(),
      epochHiddenShares: ddp.stats.epochHiddenShares,
      allreduceAloneMsPerStep: Number(alone.toFixed(3)),
      exposedMsPerStep: Number(exposed.toFixed(3)),
      hiddenShare: size > 1 ? Number(Math.max(0, 1 - exposed / alone).toFixed(3)) : null,
      finalLoss: history.history.loss.at(-1),
      finalAccuracy: history.history.accuracy.at(-1),
      compression,
      testAccuracy,
    }),
  );
}
