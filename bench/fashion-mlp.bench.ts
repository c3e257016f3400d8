/**
 * Fashion-MNIST MLP (784-256-128-10 ReLU, Adam 1e-3, batch 64): accuracy after 5 epochs
 * (plain and tuned recipes, three seeds, each beside PyTorch on the same recipe),
 * seconds per epoch side by side with PyTorch and TensorFlow.js, the event loop's worst delay
 * during an epoch and during a 20,000-row predict, and predict latency at batch 1 and 64
 * against PyTorch and onnxruntime-node. Needs Debian's dataset-fashion-mnist (full set).
 *
 *   npm run bench -- fashion-mlp            (installs the peers in bench/ first)
 *   npx tsx bench/fashion-mlp.bench.ts [--rounds 3] [--skip-tfjs] [--skip-accuracy]
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTorchPeer } from './torch-peer.js';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  LearningRateScheduler,
  Linear,
  Model,
  StandardScaler,
  Sequential,
  Tensor,
  getNumThreads,
  manualSeed,
  readIdx,
  setNumThreads,
  type Parameter,
} from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    data: { type: 'string', default: '/usr/share/datasets/fashion-mnist' },
    'skip-tfjs': { type: 'boolean', default: false },
    'skip-accuracy': { type: 'boolean', default: false },
    'skip-torch': { type: 'boolean', default: false },
  },
});
const rounds = Number(args.rounds);
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1];

const xTrain = (await readIdx(join(args.data, 'train-images-idx3-ubyte.gz'), { scale: 1 / 255 })).reshape([-1, 784]);
const yTrain = await readIdx(join(args.data, 'train-labels-idx1-ubyte.gz'));
const xTest = (await readIdx(join(args.data, 't10k-images-idx3-ubyte.gz'), { scale: 1 / 255 })).reshape([-1, 784]);
const yTest = await readIdx(join(args.data, 't10k-labels-idx1-ubyte.gz'));

function makeModel(seed: number): Model {
  manualSeed(seed);
  const m = new Model(
    new Sequential(
      new Linear(784, 256, { activation: 'relu' }),
      new Linear(256, 128, { activation: 'relu' }),
      new Linear(128, 10),
    ),
  );
  return m.compile({
    optimizer: 'adam',
    learningRate: 1e-3,
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
  });
}

function torch(
  mode: 'train' | 'predict' | 'accuracy',
  threads: number,
  extra: string[] = [],
): Record<string, number | number[]> {
  // PyTorch at its best (../shared/BENCH-NOTES.md): without the malloc tunables its epoch time
  // swings between ~1 s and ~4.5 s as glibc returns and re-faults its buffers.
  const peerArgs = ['--mode', mode, '--threads', String(threads), '--data', args.data, ...extra];
  return runTorchPeer('torch_mlp.py', peerArgs, threads);
}

/** Worst delay of a 10 ms interval timer (and the histogram's max) while fn runs. */
async function worstTimerDelay(fn: () => Promise<unknown>): Promise<{ intervalMs: number; histogramMs: number }> {
  let worst = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 10);
    last = now;
  }, 10);
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  try {
    await fn();
  } finally {
    clearInterval(timer);
    h.disable();
  }
  return { intervalMs: Math.max(0, worst), histogramMs: h.max / 1e6 };
}

const initialThreads = getNumThreads();
const lines: string[] = [];
const out = (s: string): void => {
  console.log(s);
  lines.push(s);
};

// 1. Accuracy after 5 epochs on all 60k, three seeds, two recipes, each side by side with
// PyTorch on the same recipe: 'plain' (pixels / 255, constant lr 1e-3) and 'tuned' (pixels
// z-scored with the training set's mean and std, lr 1e-3 cosine-decayed per epoch).
if (!args['skip-accuracy']) {
  const scaler = new StandardScaler({ over: 'all' }).fit(xTrain);
  const xTrainStd = scaler.transform(xTrain);
  const xTestStd = scaler.transform(xTest);
  const cosine = (epoch: number): number => (1e-3 * (1 + Math.cos((Math.PI * epoch) / 5))) / 2;
  out('\n## accuracy: 5 epochs on 60k, test accuracy (%) per seed\n');
  out('| recipe | axon seeds 1/2/3 | axon mean | PyTorch seeds 1/2/3 | PyTorch mean | axon s (5 epochs) |');
  out('|---|---:|---:|---:|---:|---:|');
  for (const recipe of ['plain', 'tuned'] as const) {
    const ours: number[] = [];
    const theirs: number[] = [];
    let seconds = 0;
    for (const seed of [1, 2, 3]) {
      const m = makeModel(seed);
      const t0 = performance.now();
      await m.fit(recipe === 'tuned' ? xTrainStd : xTrain, yTrain, {
        epochs: 5,
        batchSize: 64,
        verbose: 0,
        seed,
        callbacks: recipe === 'tuned' ? [new LearningRateScheduler(cosine)] : [],
      });
      seconds += (performance.now() - t0) / 1000;
      ours.push(100 * (await m.evaluate(recipe === 'tuned' ? xTestStd : xTest, yTest, { batchSize: 1000 })).accuracy);
      if (!args['skip-torch']) {
        const flags = [
          '--epochs',
          '5',
          '--seed',
          String(seed),
          ...(recipe === 'tuned' ? ['--standardize', '--cosine'] : []),
        ];
        theirs.push(100 * (torch('accuracy', 1, flags).test_accuracy as number));
      }
    }
    const mean = (v: number[]): string => (v.length ? (v.reduce((a, b) => a + b, 0) / v.length).toFixed(2) : '-');
    const list = (v: number[]): string => (v.length ? v.map((a) => a.toFixed(2)).join(' / ') : '-');
    out(
      `| ${recipe} | ${list(ours)} | ${mean(ours)} | ${list(theirs)} | ${mean(theirs)} | ${(seconds / 3).toFixed(2)} |`,
    );
  }
}

// 2. Seconds per epoch, axon and PyTorch alternating.
out('\n| threads | axon s/epoch | PyTorch s/epoch | PyTorch / axon | axon GFLOP/s (85 GFLOP/epoch) |');
out('|---:|---:|---:|---:|---:|');
for (const threads of [1, 2]) {
  setNumThreads(threads);
  const m = makeModel(7);
  await m.fit(xTrain.slice(0, 6400), yTrain.slice(0, 6400), { epochs: 1, batchSize: 64, verbose: 0 }); // warm-up
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    await m.fit(xTrain, yTrain, { epochs: 1, batchSize: 64, verbose: 0, seed: r });
    ours.push((performance.now() - t0) / 1000);
    if (!args['skip-torch']) theirs.push((torch('train', threads).epoch_seconds as number[])[0]);
  }
  const a = median(ours);
  const b = theirs.length ? median(theirs) : NaN;
  out(`| ${threads} | ${a.toFixed(3)} | ${b.toFixed(3)} | ${(b / a).toFixed(2)} | ${(85 / a).toFixed(0)} |`);
}
setNumThreads(initialThreads);

// 3. TensorFlow.js (cpu and wasm backends), timed over a few hundred batches, scaled to an epoch.
if (!args['skip-tfjs']) {
  const tf = await import('@tensorflow/tfjs');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(join(here, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist') + '/');
  for (const [backend, batches] of [
    ['wasm', 200],
    ['cpu', 20],
  ] as const) {
    await tf.setBackend(backend);
    await tf.ready();
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu' }),
        tf.layers.dense({ units: 128, activation: 'relu' }),
        tf.layers.dense({ units: 10 }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(1e-3), loss: (yt, yp) => tf.losses.softmaxCrossEntropy(yt, yp) });
    const n = batches * 64;
    const xs = tf.tensor2d(xTrain.data.subarray(0, n * 784) as Float32Array, [n, 784]);
    const ys = tf.oneHot(tf.tensor1d(Array.from(yTrain.data.subarray(0, n)), 'int32'), 10);
    await model.fit(xs.slice(0, 640), ys.slice(0, 640), { epochs: 1, batchSize: 64, verbose: 0 });
    const lag = await worstTimerDelay(async () => {
      const t0 = performance.now();
      await model.fit(xs, ys, { epochs: 1, batchSize: 64, verbose: 0 });
      const perEpoch = ((performance.now() - t0) / 1000 / batches) * 938;
      out(`\ntfjs-${backend}: ${perEpoch.toFixed(1)} s/epoch (timed over ${batches} batches, 1 thread)`);
    });
    out(`tfjs-${backend}: worst 10 ms-timer delay during that fit ${lag.intervalMs.toFixed(1)} ms`);
    tf.dispose([xs, ys]);
    model.dispose();
  }
}

// 4. The event loop while we train a full epoch and predict 20,000 rows.
{
  const m = makeModel(3);
  await m.fit(xTrain.slice(0, 6400), yTrain.slice(0, 6400), { epochs: 1, batchSize: 64, verbose: 0 });
  const fitLag = await worstTimerDelay(() => m.fit(xTrain, yTrain, { epochs: 1, batchSize: 64, verbose: 0 }));
  const rows = xTrain.slice(0, 20000);
  await m.predict(rows.slice(0, 2000));
  const predLag = await worstTimerDelay(() => m.predict(rows));
  out(
    `\n## event loop: worst 10 ms-timer delay ${fitLag.intervalMs.toFixed(2)} ms during a 60k epoch (histogram max ${fitLag.histogramMs.toFixed(2)} ms), ${predLag.intervalMs.toFixed(2)} ms during a 20,000-row predict (histogram max ${predLag.histogramMs.toFixed(2)} ms)`,
  );
}

// 5. Predict latency at batch 1 and 64: building the input tensor and reading the output.
{
  const m = makeModel(5);
  const ort = await import('onnxruntime-node');
  const onnx = (await import('onnx-proto')).default.onnx;
  const params = m.module.parameters() as Parameter[];
  const init = (name: string, t: Tensor, transpose: boolean) => {
    const [r, c] = t.shape.length === 2 ? t.shape : [t.shape[0], 1];
    const data = new Float32Array(t.size);
    if (transpose) for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) data[j * r + i] = t.data[i * c + j];
    else data.set(t.data);
    return onnx.TensorProto.create({
      name,
      dataType: 1,
      dims: transpose ? [c, r] : [r],
      rawData: new Uint8Array(data.buffer),
    });
  };
  const nodes = [];
  const inits = [];
  let prev = 'X';
  for (let l = 0; l < 3; l++) {
    inits.push(init(`W${l}`, params[2 * l], true), init(`B${l}`, params[2 * l + 1], false));
    nodes.push(onnx.NodeProto.create({ opType: 'MatMul', input: [prev, `W${l}`], output: [`M${l}`] }));
    nodes.push(onnx.NodeProto.create({ opType: 'Add', input: [`M${l}`, `B${l}`], output: [l < 2 ? `A${l}` : 'Y'] }));
    if (l < 2) nodes.push(onnx.NodeProto.create({ opType: 'Relu', input: [`A${l}`], output: [`R${l}`] }));
    prev = `R${l}`;
  }
  const vi = (name: string, dims: (number | string)[]) =>
    onnx.ValueInfoProto.create({
      name,
      type: {
        tensorType: {
          elemType: 1,
          shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
        },
      },
    });
  const graph = onnx.GraphProto.create({
    name: 'mlp',
    node: nodes,
    initializer: inits,
    input: [vi('X', ['N', 784])],
    output: [vi('Y', ['N', 10])],
  });
  const bytes = onnx.ModelProto.encode(
    onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ version: 17 }], graph }),
  ).finish();
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: getNumThreads(),
    executionMode: 'sequential',
  });
  out('\n| batch | axon µs | PyTorch µs | onnxruntime-node µs | (median of 1000, input built and output read) |');
  out('|---:|---:|---:|---:|---|');
  const tp = args['skip-torch'] ? {} : torch('predict', getNumThreads());
  for (const batch of [1, 64]) {
    const src = new Float32Array(batch * 784).map(() => Math.random());
    const dst = new Float32Array(batch * 10);
    const timeIt = async (fn: () => Promise<void> | void): Promise<number> => {
      for (let i = 0; i < 200; i++) await fn();
      const lat: number[] = [];
      for (let i = 0; i < 1000; i++) {
        const t0 = performance.now();
        await fn();
        lat.push((performance.now() - t0) * 1000);
      }
      return median(lat);
    };
    const axonUs = await timeIt(async () => {
      const y = await m.predict(new Tensor(src.slice(), [batch, 784]));
      dst.set(y.data);
    });
    const ortUs = await timeIt(async () => {
      const r = await session.run({ X: new ort.Tensor('float32', src.slice(), [batch, 784]) });
      dst.set(r.Y.data as Float32Array);
    });
    out(
      `| ${batch} | ${axonUs.toFixed(1)} | ${(tp[`batch${batch}_us`] as number)?.toFixed(1) ?? 'n/a'} | ${ortUs.toFixed(1)} | |`,
    );
  }
}
