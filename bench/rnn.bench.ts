/**
 * LSTM and GRU training throughput (sequences per second; seq 50, batch 32, input 32, hidden
 * 128, batch-first input, linear head on the final hidden state, MSE, SGD) at 1 and 2 threads,
 * side by side with PyTorch on the same model and shapes (bench/peers/torch_rnn.py, run with
 * the fair settings of ../shared/BENCH-NOTES.md). Rounds interleave ours and PyTorch's (A B A
 * B ...) and the table reports medians and the ratio of medians.
 *
 *   npm run bench -- rnn
 *   npx tsx bench/rnn.bench.ts [--rounds 5] [--threads 1,2] [--modes lstm,gru] [--skip-torch]
 */
import { runTorchPeer } from './torch-peer.js';
import { parseArgs } from 'node:util';
import { GRU, LSTM, Linear, Model, Sequential, manualSeed, randn, setNumThreads } from '../src/index.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    threads: { type: 'string', default: '1,2' },
    modes: { type: 'string', default: 'lstm,gru' },
    batches: { type: 'string', default: '100' },
    'skip-torch': { type: 'boolean', default: false },
  },
});
const SEQ = 50;
const BATCH = 32;
const INPUT = 32;
const HIDDEN = 128;
const batches = Number(args.batches);
const rounds = Number(args.rounds);
const n = BATCH * batches;

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function torchRound(mode: string, threads: number): number {
  const peerArgs = ['--mode', mode, '--threads', String(threads), '--batches', String(batches)];
  return runTorchPeer<{ seqPerSec: number[] }>('torch_rnn.py', peerArgs, threads, 'inherit').seqPerSec[0];
}

manualSeed(0);
const x = randn([n, SEQ, INPUT]);
const y = randn([n, 1]);
console.log(
  `seq ${SEQ}, batch ${BATCH}, input ${INPUT}, hidden ${HIDDEN}; ${batches} batches per round, ${rounds} rounds`,
);
console.log('| model | threads | axon-nn seq/s | PyTorch seq/s | ratio |');
console.log('|---|---|---|---|---|');
for (const mode of args.modes.split(',')) {
  for (const threads of args.threads.split(',').map(Number)) {
    setNumThreads(threads);
    const layer =
      mode === 'lstm'
        ? new LSTM(INPUT, HIDDEN, { batchFirst: true, returnSequences: false })
        : new GRU(INPUT, HIDDEN, { batchFirst: true, returnSequences: false });
    const model = new Model(new Sequential(layer, new Linear(HIDDEN, 1))).compile({
      optimizer: 'sgd',
      learningRate: 0.01,
      loss: 'mse',
    });
    await model.fit(x, y, { epochs: 1, batchSize: BATCH, verbose: 0, shuffle: false }); // warm-up and trace
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      await model.fit(x, y, { epochs: 1, batchSize: BATCH, verbose: 0, shuffle: false });
      ours.push(n / ((performance.now() - t0) / 1000));
      if (!args['skip-torch']) theirs.push(torchRound(mode, threads));
    }
    const a = median(ours);
    const b = theirs.length ? median(theirs) : NaN;
    console.log(
      `| ${mode.toUpperCase()} | ${threads} | ${a.toFixed(0)} (${ours.map((v) => v.toFixed(0)).join(', ')}) | ${
        theirs.length ? `${b.toFixed(0)} (${theirs.map((v) => v.toFixed(0)).join(', ')})` : '-'
      } | ${theirs.length ? (a / b).toFixed(2) + 'x' : '-'} |`,
    );
  }
}
