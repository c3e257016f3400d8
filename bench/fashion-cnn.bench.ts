/**
 * The classic two-conv Fashion-MNIST CNN (conv 5x5 32, pool, conv 5x5 64, pool, dense 1024,
 * dropout 0.4, dense 10; Adam 1e-3, batch 64): seconds per epoch at 1 and 2 threads side by
 * side with PyTorch (out of the box and with glibc's malloc tunables), minor page faults per
 * epoch (the allocation cost the issue asks to show), the share of kernel time per op, and
 * the test accuracy after 3 epochs (and with batch norm). Needs the full dataset.
 *
 *   npm run bench -- fashion-cnn
 *   npx tsx bench/fashion-cnn.bench.ts [--skip-accuracy] [--skip-torch] [--threads 1,2]
 */
import { join } from 'node:path';
import { runTorchPeer } from './torch-peer.js';
import { parseArgs } from 'node:util';
import {
  BatchNorm2d,
  Conv2d,
  Dropout,
  Flatten,
  LearningRateScheduler,
  Linear,
  MaxPool2d,
  Model,
  Normalize,
  ReLU,
  Sequential,
  getNumThreads,
  manualSeed,
  profile,
  readIdx,
  setNumThreads,
  type Module,
} from '../src/index.js';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: '/usr/share/datasets/fashion-mnist' },
    threads: { type: 'string', default: '1,2' },
    'skip-accuracy': { type: 'boolean', default: false },
    'skip-torch': { type: 'boolean', default: false },
  },
});
const xTrain = (await readIdx(join(args.data, 'train-images-idx3-ubyte.gz'), { scale: 1 / 255 })).reshape([
  -1, 1, 28, 28,
]);
const yTrain = await readIdx(join(args.data, 'train-labels-idx1-ubyte.gz'));
const xTest = (await readIdx(join(args.data, 't10k-images-idx3-ubyte.gz'), { scale: 1 / 255 })).reshape([
  -1, 1, 28, 28,
]);
const yTest = await readIdx(join(args.data, 't10k-labels-idx1-ubyte.gz'));

/** bn: batch norm after each conv; tuned: inputs standardised by the training set's pixel
 * mean/std (Normalize, inside the model) and a per-epoch cosine learning rate from 1e-3. */
function cnn(bn: boolean, tuned = false): Model {
  const block = (cin: number, cout: number): Module[] =>
    bn
      ? [new Conv2d(cin, cout, 5, { padding: 2, bias: false }), new BatchNorm2d(cout), new ReLU(), new MaxPool2d(2)]
      : [new Conv2d(cin, cout, 5, { padding: 2, activation: 'relu' }), new MaxPool2d(2)];
  return new Model(
    new Sequential(
      ...(tuned ? [new Normalize([0.286], [0.353])] : []),
      ...block(1, 32),
      ...block(32, 64),
      new Flatten(),
      new Linear(3136, 1024, { activation: 'relu' }),
      new Dropout(0.4),
      new Linear(1024, 10),
    ),
  ).compile({ optimizer: 'adam', learningRate: 1e-3, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
}

function torch(
  threads: number,
  tuned: boolean,
  epochs: number,
): { epoch_seconds: number[]; minor_faults: number[]; test_accuracy: number } {
  const peerArgs = ['--threads', String(threads), '--epochs', String(epochs), '--data', args.data];
  return runTorchPeer('torch_cnn.py', peerArgs, threads, tuned ? 'tuned' : 'default');
}

const out = (s: string): void => console.log(s);
const initial = getNumThreads();

out(
  '| threads | axon s/epoch | axon minor faults/epoch | PyTorch tuned s/epoch | PyTorch tuned faults | PyTorch out-of-box s/epoch | PyTorch out-of-box faults | tuned PyTorch / axon |',
);
out('|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const threads of args.threads.split(',').map(Number)) {
  setNumThreads(threads);
  manualSeed(1);
  const m = cnn(false);
  await m.fit(xTrain.slice(0, 1280), yTrain.slice(0, 1280), { epochs: 1, batchSize: 64, verbose: 0 }); // warm-up
  const f0 = process.resourceUsage().minorPageFault;
  const t0 = performance.now();
  await m.fit(xTrain, yTrain, { epochs: 1, batchSize: 64, verbose: 0, seed: 1 });
  const axon = (performance.now() - t0) / 1000;
  const faults = process.resourceUsage().minorPageFault - f0;
  const tuned = args['skip-torch'] ? null : torch(threads, true, 1);
  const raw = args['skip-torch'] ? null : torch(threads, false, 1);
  const f = (v: number | undefined, d = 1): string => (v === undefined ? '-' : v.toFixed(d));
  out(
    `| ${threads} | ${axon.toFixed(1)} | ${faults.toLocaleString('en-US')} | ${f(tuned?.epoch_seconds[0])} | ${tuned?.minor_faults[0].toLocaleString('en-US') ?? '-'} | ${f(raw?.epoch_seconds[0])} | ${raw?.minor_faults[0].toLocaleString('en-US') ?? '-'} | ${tuned ? (tuned.epoch_seconds[0] / axon).toFixed(2) : '-'} |`,
  );
}

// Where an epoch's time goes (2 threads): kernel time by op, and the rest (JS between chunks).
setNumThreads(Math.min(2, initial));
{
  manualSeed(1);
  const m = cnn(false);
  const n = 64 * 200;
  const t0 = performance.now();
  const report = await profile(() =>
    m.fit(xTrain.slice(0, n), yTrain.slice(0, n), { epochs: 1, batchSize: 64, verbose: 0 }),
  );
  const total = performance.now() - t0;
  out(
    `\n## 200 steps at ${getNumThreads()} threads: ${total.toFixed(0)} ms, kernels ${report.totalMs().toFixed(0)} ms (${((100 * report.totalMs()) / total).toFixed(1)}%)\n`,
  );
  out('```');
  out(report.table(14));
  out('```');
}

if (!args['skip-accuracy']) {
  out('\n| net | axon test accuracy after 3 epochs | seconds |');
  out('|---|---:|---:|');
  for (const [bn, tuned] of [
    [false, false],
    [false, true],
    [true, false],
  ] as const) {
    manualSeed(1);
    const m = cnn(bn, tuned);
    const t0 = performance.now();
    const callbacks = tuned
      ? [new LearningRateScheduler((e: number) => 1e-3 * 0.5 * (1 + Math.cos((Math.PI * e) / 3)))]
      : [];
    await m.fit(xTrain, yTrain, { epochs: 3, batchSize: 64, verbose: 0, seed: 1, callbacks });
    const acc = (await m.evaluate(xTest, yTest, { batchSize: 500 })).accuracy;
    const name = bn ? 'CNN + batch norm' : tuned ? 'CNN, standardised input + cosine lr' : 'CNN';
    out(`| ${name} | ${(100 * acc).toFixed(2)}% | ${((performance.now() - t0) / 1000).toFixed(0)} |`);
  }
  if (!args['skip-torch'])
    out(`| PyTorch CNN (tuned, 3 epochs, 2 threads) | ${(100 * torch(2, true, 3).test_accuracy).toFixed(2)}% | |`);
}
setNumThreads(initial);
