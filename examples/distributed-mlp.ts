/**
 * Data-parallel training of the Fashion-MNIST MLP on MPI: every rank holds the model, trains
 * on its shard of each batch, and gradients are averaged across ranks while backward runs.
 * Only rank 0 prints progress and writes the checkpoint. See docs/DISTRIBUTED.md.
 *
 *   npm run build:mpi
 *   mpirun -np 2 npx tsx examples/distributed-mlp.ts [--data DIR] [--epochs 3] [--loop]
 *
 * --loop trains with an explicit loop (forward, backward, await ddp.synchronize(), step)
 * instead of fit.
 */
import { parseArgs } from 'node:util';
import {
  Adam,
  DistributedDataParallel,
  Linear,
  Model,
  ModelCheckpoint,
  Sequential,
  crossEntropy,
  distributed,
  distributedLoader,
  manualSeed,
} from 'axon-nn';
import { loadFashionMnist } from './fashion-data.js';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: 'subset' },
    epochs: { type: 'string', default: '3' },
    loop: { type: 'boolean', default: false },
  },
});
const { rank, size, localSize, threads, library } = await distributed.init();
if (rank === 0) console.log(`${size} ranks (${localSize} on this node, ${threads} threads each), ${library}`);
const data = await loadFashionMnist(args.data === 'subset' ? undefined : args.data);
const epochs = Number(args.epochs);
const batchPerRank = Math.max(1, Math.floor(64 / size)); // global batch 64 whatever the rank count

manualSeed(3); // every rank builds the same model; create() also copies rank 0's weights
const net = new Sequential(
  new Linear(784, 256, { activation: 'relu' }),
  new Linear(256, 128, { activation: 'relu' }),
  new Linear(128, 10),
);

if (!args.loop) {
  const model = new Model(net).compile({
    optimizer: 'adam',
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
  });
  const ddp = await DistributedDataParallel.create(model);
  await ddp.fit(data.xTrain, data.yTrain, {
    epochs,
    batchSize: batchPerRank,
    validationData: [data.xTest, data.yTest],
    callbacks: [new ModelCheckpoint({ filepath: 'demo-output/distributed-{epoch}.axon', keepLast: 1 })],
  });
} else {
  const ddp = await DistributedDataParallel.create(net);
  const opt = new Adam(net.parameters(), { lr: 1e-3 });
  const loader = distributedLoader(data.xTrain, data.yTrain, { batchSize: batchPerRank, seed: 1 });
  for (let epoch = 0; epoch < epochs; epoch++) {
    const sums = new Float64Array(2); // loss x batches, batches: reduced so rank 0 prints the global mean
    const t0 = performance.now();
    for (const [x, y] of loader) {
      opt.zeroGrad();
      const loss = crossEntropy(ddp.forward(x), y!);
      loss.backward(); // buckets start reducing as their gradients complete
      await ddp.synchronize(); // averaged gradients in every .grad
      opt.step();
      sums[0] += loss.item();
      sums[1] += 1;
    }
    await distributed.allreduce(sums, 'sum');
    if (rank === 0)
      console.log(
        `epoch ${epoch + 1}/${epochs} - ${((performance.now() - t0) / 1000).toFixed(2)}s - loss ${(sums[0] / sums[1]).toFixed(4)}`,
      );
  }
}
