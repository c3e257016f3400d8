/**
 * A CIFAR-style ResNet-20 (3 stages of 16/32/64 channels, 3 basic blocks each, stride-2 3x3
 * convolutions and 1x1 stride-2 convolution + BatchNorm shortcuts, global average pool,
 * linear 10) trained through `fit` with SGD momentum, batch 64 on random 32x32x3 inputs:
 * milliseconds per step side by side with the same net in PyTorch 1.13, rounds interleaved
 * (axon, PyTorch, axon, ...), ratio of medians; then where a step's kernel time goes.
 *
 *   npx tsx bench/resnet.bench.ts [--threads 1,2] [--rounds 3] [--steps 16] [--skip-torch]
 *     [--skip-profile] [--profile-threads 2]
 *     [--unfused: the blocks written with separate relu and add, as a PyTorch user would]
 */
import { runTorchPeer } from './torch-peer.js';
import { parseArgs } from 'node:util';
import {
  BatchNorm2d,
  Conv2d,
  Flatten,
  GlobalAvgPool2d,
  Linear,
  Model,
  Module,
  ReLU,
  SGD,
  Sequential,
  getNumThreads,
  manualSeed,
  profile,
  randint,
  randn,
  relu,
  setNumThreads,
  type Tensor,
} from '../src/index.js';

const { values: args } = parseArgs({
  options: {
    threads: { type: 'string', default: '1,2' },
    rounds: { type: 'string', default: '3' },
    steps: { type: 'string', default: '16' },
    batch: { type: 'string', default: '64' },
    'skip-torch': { type: 'boolean', default: false },
    'skip-profile': { type: 'boolean', default: false },
    unfused: { type: 'boolean', default: false },
    'profile-threads': { type: 'string', default: '2' },
  },
});
const rounds = Number(args.rounds);
const steps = Number(args.steps);
const batch = Number(args.batch);
const unfused = args.unfused;

class BasicBlock extends Module {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  shortcut: Sequential | null;
  constructor(cin: number, cout: number, stride: number) {
    super();
    this.conv1 = new Conv2d(cin, cout, 3, { stride, padding: 1, bias: false });
    this.bn1 = new BatchNorm2d(cout);
    this.conv2 = new Conv2d(cout, cout, 3, { padding: 1, bias: false });
    this.bn2 = new BatchNorm2d(cout);
    this.shortcut =
      stride !== 1 || cin !== cout
        ? new Sequential(new Conv2d(cin, cout, 1, { stride, bias: false }), new BatchNorm2d(cout))
        : null;
  }
  forward(x: Tensor): Tensor {
    if (unfused) {
      const out = this.bn2.forward(this.conv2.forward(relu(this.bn1.forward(this.conv1.forward(x)))));
      return relu(out.add(this.shortcut ? this.shortcut.forward(x) : x));
    }
    // relu(bn1(conv1(x))), then relu(bn2(conv2(.)) + shortcut), each norm fused with what follows it
    const h = this.bn1.forwardFused(this.conv1.forward(x), { activation: 'relu' });
    const residual = this.shortcut ? this.shortcut.forward(x) : x;
    return this.bn2.forwardFused(this.conv2.forward(h), { residual, activation: 'relu' });
  }
}

function resnet20(): Model {
  const layers: Module[] = [new Conv2d(3, 16, 3, { padding: 1, bias: false }), new BatchNorm2d(16), new ReLU()];
  let cin = 16;
  for (const [cout, stride] of [
    [16, 1],
    [32, 2],
    [64, 2],
  ])
    for (let i = 0; i < 3; i++) {
      layers.push(new BasicBlock(cin, cout, i === 0 ? stride : 1));
      cin = cout;
    }
  layers.push(new GlobalAvgPool2d(), new Flatten(), new Linear(64, 10));
  const net = new Sequential(...layers);
  return new Model(net).compile({
    optimizer: new SGD(net.trainableParameters(), { lr: 0.05, momentum: 0.9 }),
    loss: 'sparseCategoricalCrossentropy',
  });
}

function torch(threads: number): number {
  const args = ['--threads', String(threads), '--steps', String(steps), '--batch', String(batch)];
  return runTorchPeer<{ ms_per_step: number[] }>('torch_resnet.py', args, threads).ms_per_step[0];
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1];
const out = (s: string): void => console.log(s);
const initial = getNumThreads();
manualSeed(1);
const x = randn([batch * steps, 3, 32, 32]);
const y = randint(0, 10, [batch * steps]);

out(`ResNet-20 training, batch ${batch}, ${steps} steps per round, ${rounds} rounds interleaved\n`);
out('| threads | axon ms/step | PyTorch ms/step | PyTorch / axon |');
out('|---:|---:|---:|---:|');
for (const threads of args.threads.split(',').map(Number)) {
  setNumThreads(threads);
  manualSeed(1);
  const m = resnet20();
  await m.fit(x.slice(0, batch * 4), y.slice(0, batch * 4), { epochs: 1, batchSize: batch, verbose: 0 }); // warm-up
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    await m.fit(x, y, { epochs: 1, batchSize: batch, verbose: 0, shuffle: false });
    ours.push((performance.now() - t0) / steps);
    if (!args['skip-torch']) theirs.push(torch(threads));
  }
  const a = median(ours);
  const t = theirs.length ? median(theirs) : NaN;
  out(`| ${threads} | ${a.toFixed(1)} | ${t.toFixed(1)} | ${(t / a).toFixed(2)} |`);
}

if (!args['skip-profile']) {
  setNumThreads(Math.min(Number(args['profile-threads']), initial));
  manualSeed(1);
  const m = resnet20();
  await m.fit(x.slice(0, batch * 2), y.slice(0, batch * 2), { epochs: 1, batchSize: batch, verbose: 0 });
  const t0 = performance.now();
  const report = await profile(() => m.fit(x, y, { epochs: 1, batchSize: batch, verbose: 0, shuffle: false }));
  const total = performance.now() - t0;
  out(
    `\n## ${steps} steps at ${getNumThreads()} threads: ${total.toFixed(0)} ms, kernels ${report.totalMs().toFixed(0)} ms (${((100 * report.totalMs()) / total).toFixed(1)}%)\n`,
  );
  out('```');
  out(report.table(30));
  out('```');
}
setNumThreads(initial);
