/**
 * Allreduce bandwidth against message size (1 KB ... 64 MB by default) through axon's MPI
 * addon: in-place float32 sum, as gradient buckets are reduced. Prints, on rank 0, the median
 * time per call and the bus bandwidth 2(N-1)/N x bytes / time (NCCL's definition: what each
 * link carries in a ring allreduce). Run on 2 local ranks:
 *   mpirun --allow-run-as-root -np 2 npx tsx bench/allreduce.bench.ts [--max-mb 64] [--reps 20]
 * With --link-gbit R (the link's line rate, e.g. across tools/netns-cluster.mjs nodes) it adds
 * the ring model, 2(N-1)/N x bytes / R + 2(N-1) x 12 us (docs/DISTRIBUTED.md), and measured /
 * model. --compression bf16 sends bfloat16 (the model then counts half the bytes).
 */
import { parseArgs } from 'node:util';
import { distributed } from '../src/index.js';

const { values: args } = parseArgs({
  options: {
    'max-mb': { type: 'string', default: '64' },
    'min-kb': { type: 'string', default: '1' },
    reps: { type: 'string', default: '20' },
    'link-gbit': { type: 'string' },
    compression: { type: 'string', default: 'none' },
  },
});
const { rank, size, library } = await distributed.init({ threads: 1 });
const maxBytes = Number(args['max-mb']) * 2 ** 20;
const reps = Number(args.reps);
const linkGbit = args['link-gbit'] ? Number(args['link-gbit']) : 0;
const compression = args.compression as 'none' | 'bf16';
const rows: string[] = [];
for (let bytes = Number(args['min-kb']) * 1024; bytes <= maxBytes; bytes *= 4) {
  const buf = new Float32Array(Math.max(1, Math.floor(bytes / 4)));
  for (let i = 0; i < 3; i++) await distributed.allreduce(buf, 'sum', { compression }); // first calls set up paths
  const times: number[] = [];
  // Fewer repetitions for big messages keep the run short; the median needs only a few.
  const n = bytes >= 16 * 2 ** 20 ? Math.max(3, Math.ceil(reps / 4)) : reps;
  for (let i = 0; i < n; i++) {
    await distributed.barrier();
    const t0 = performance.now();
    await distributed.allreduce(buf, 'sum', { compression });
    times.push(performance.now() - t0);
  }
  // Every rank's median, then the slowest: a collective is as fast as its slowest rank.
  times.sort((a, b) => a - b);
  const med = new Float64Array([times[Math.floor(times.length / 2)]]);
  await distributed.allreduce(med, 'max');
  const ms = med[0];
  const busGBs = (((2 * (size - 1)) / size) * buf.byteLength) / (ms / 1000) / 1e9;
  const label = buf.byteLength >= 2 ** 20 ? `${buf.byteLength / 2 ** 20} MB` : `${buf.byteLength / 1024} KB`;
  const fmt = (t: number): string => (t < 1 ? (t * 1000).toFixed(1) + ' µs' : t.toFixed(3) + ' ms');
  const model =
    linkGbit > 0
      ? ((((2 * (size - 1)) / size) * buf.byteLength * (compression === 'bf16' ? 0.5 : 1)) / ((linkGbit * 1e9) / 8)) *
          1000 +
        2 * (size - 1) * 0.012
      : 0;
  rows.push(
    `| ${label} | ${fmt(ms)} | ${busGBs.toFixed(2)} |` +
      (linkGbit > 0 ? ` ${fmt(model)} | ${(ms / model).toFixed(2)} |` : ''),
  );
}
if (rank === 0) {
  console.log(`allreduce (float32 sum, in place), ${size} ranks, ${library}; median of up to ${reps} calls`);
  console.log(
    linkGbit > 0
      ? `| message | time | bus bandwidth GB/s | ring model at ${linkGbit} Gbit/s | measured / model |\n|---:|---:|---:|---:|---:|`
      : '| message | time | bus bandwidth GB/s |\n|---:|---:|---:|',
  );
  console.log(rows.join('\n'));
}
