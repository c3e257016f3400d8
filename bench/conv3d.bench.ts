/**
 * 3-D convolution (src/ops/conv3d.ts: 2-D convolutions per depth tap) against PyTorch 1.13's
 * Conv3d on the same shapes: forward, and forward + backward (input, weight and bias
 * gradients), milliseconds per call, rounds interleaved with the peer, ratios of medians.
 *
 *   npx tsx bench/conv3d.bench.ts [--threads 1] [--rounds 3]
 */
import { parseArgs } from 'node:util';
import { Conv3d, getNumThreads, noGrad, randn, setNumThreads } from '../src/index.js';
import { runTorchPeer } from './torch-peer.js';

const { values } = parseArgs({
  options: { threads: { type: 'string', default: '1' }, rounds: { type: 'string', default: '3' } },
});
const threads = Number(values.threads);
setNumThreads(threads);
const ROUNDS = Number(values.rounds);
const REPS = 10;

interface Case {
  name: string;
  shape: [number, number, number, number, number];
  cout: number;
  k: number;
  stride: number;
}
const CASES: Case[] = [
  { name: 'video stem 3->32, 3x3x3', shape: [4, 3, 8, 56, 56], cout: 32, k: 3, stride: 1 },
  { name: 'mid 32->64, 3x3x3', shape: [4, 32, 8, 28, 28], cout: 64, k: 3, stride: 1 },
  { name: 'strided 64->64, 3x3x3 s2', shape: [4, 64, 8, 28, 28], cout: 64, k: 3, stride: 2 },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timed(fn: () => void): number {
  for (let i = 0; i < 2; i++) fn();
  const t: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

console.log(`conv3d vs PyTorch, ${getNumThreads()} thread(s), ${ROUNDS} interleaved rounds`);
console.log(
  '| layer | input | ours fwd ms | torch fwd ms | fwd ratio | ours fwd+bwd ms | torch fwd+bwd ms | train ratio |',
);
console.log('|---|---|---:|---:|---:|---:|---:|---:|');
for (const c of CASES) {
  const conv = new Conv3d(c.shape[1], c.cout, c.k, { padding: Math.floor(c.k / 2), stride: c.stride });
  const x = randn(c.shape, { seed: 1 }).setRequiresGrad();
  const ours = { fwd: [] as number[], train: [] as number[] };
  const torch = { fwd: [] as number[], train: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    ours.fwd.push(timed(() => noGrad(() => conv.forward(x))));
    ours.train.push(
      timed(() => {
        conv.zeroGrad();
        x.grad = null;
        conv.forward(x).sum().backward();
      }),
    );
    const p = runTorchPeer<{ forwardMs: number; trainMs: number }>(
      'torch_conv3d.py',
      [
        '--shape',
        c.shape.join(','),
        '--cout',
        String(c.cout),
        '--k',
        String(c.k),
        '--stride',
        String(c.stride),
        '--threads',
        String(threads),
      ],
      threads,
    );
    torch.fwd.push(p.forwardMs);
    torch.train.push(p.trainMs);
  }
  const [of, tf, ot, tt] = [median(ours.fwd), median(torch.fwd), median(ours.train), median(torch.train)];
  console.log(
    `| ${c.name} | [${c.shape.join(',')}] | ${of.toFixed(1)} | ${tf.toFixed(1)} | ${(of / tf).toFixed(2)} | ${ot.toFixed(1)} | ${tt.toFixed(1)} | ${(ot / tt).toFixed(2)} |`,
  );
}
