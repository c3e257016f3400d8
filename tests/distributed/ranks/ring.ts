/**
 * Rank script (tests/distributed/distributed.test.ts): allreduce of float32 and float64
 * buffers of sizes from 1 value to past the ring threshold (256 KB) and uneven against the
 * rank count, with every op, against the values each rank computes itself from every rank's
 * inputs; then the ranks compare their results' bits (allgather of a checksum). Prints
 * `RESULT {worst, where, identical, cases}`.
 */
import { distributed } from '../../../src/index.js';

const { rank, size } = await distributed.init({ timeoutMs: 30_000 });
const value = (r: number, i: number): number => Math.sin(i * 0.37 + r * 1.3) * (r + 1) + (i % 7) * 0.25;
let worst = 0;
let where = '';
let cases = 0;
const sums: number[] = [];
// The last size spans several of the ring's 4 MB segments per chunk, more than it posts
// receives for at once (checked at every 97th value; summed only).
const plan: [number, readonly ('sum' | 'mean' | 'max' | 'min')[]][] = [
  ...[1, 2, 5, 1001, 65_536 + 3, 300_007].map(
    (n) => [n, ['sum', 'mean', 'max', 'min'] as const] as [number, readonly ('sum' | 'mean' | 'max' | 'min')[]],
  ),
  [9_000_001, ['sum']],
];
for (const [n, ops] of plan)
  for (const op of ops)
    for (const f64 of [false, true]) {
      const buf = f64 ? new Float64Array(n) : new Float32Array(n);
      for (let i = 0; i < n; i++) buf[i] = value(rank, i);
      await distributed.allreduce(buf, op);
      let check = 0;
      const stride = n > 1_000_000 ? 97 : 1;
      for (let i = 0; i < n; i += stride) {
        const all = Array.from({ length: size }, (_, r) => (f64 ? value(r, i) : Math.fround(value(r, i))));
        const want =
          op === 'max'
            ? Math.max(...all)
            : op === 'min'
              ? Math.min(...all)
              : all.reduce((a, b) => a + b, 0) / (op === 'mean' ? size : 1);
        const err = Math.abs(buf[i] - want) / (1 + Math.abs(want));
        if (err > worst) [worst, where] = [err, `n=${n} ${op} ${f64 ? 'f64' : 'f32'} i=${i}: ${buf[i]} vs ${want}`];
        check = (check * 31 + buf[i] * (1 + (i % 13))) % 1e9;
      }
      sums.push(check);
      cases++;
    }
// bfloat16 on the wire, float32 accumulation: within bf16's rounding of every forwarded partial
// sum (a few 2^-9 relative steps), and the same bits on every rank.
let bf16Worst = 0;
for (const n of [1, 5, 1001, 300_007])
  for (const op of ['sum', 'mean'] as const) {
    const buf = new Float32Array(n);
    for (let i = 0; i < n; i++) buf[i] = value(rank, i);
    await distributed.allreduce(buf, op, { compression: 'bf16' });
    let check = 0;
    for (let i = 0; i < n; i++) {
      let want = 0;
      let scale = 0;
      for (let r = 0; r < size; r++) {
        want += Math.fround(value(r, i));
        scale += Math.abs(value(r, i));
      }
      if (op === 'mean') [want, scale] = [want / size, scale / size];
      bf16Worst = Math.max(bf16Worst, Math.abs(buf[i] - want) / scale);
      check = (check * 31 + buf[i] * (1 + (i % 13))) % 1e9;
    }
    sums.push(check);
  }
const refusals: string[] = [];
for (const bad of [
  () => distributed.allreduce(new Float64Array(4), 'sum', { compression: 'bf16' }),
  () => distributed.allreduce(new Float32Array(4), 'max', { compression: 'bf16' }),
  () => distributed.allreduce(new Float32Array(4), 'sum', { compression: 'fp8' as 'bf16' }),
])
  try {
    await bad();
    refusals.push('no error');
  } catch (e) {
    refusals.push((e as Error).message);
  }
// Every rank must hold the same bits: allgather each rank's checksums and compare.
const mine = new Float64Array(sums);
const all = await distributed.allgather(mine);
let identical = true;
for (let r = 0; r < size; r++)
  for (let j = 0; j < mine.length; j++) identical = identical && all[r * mine.length + j] === mine[j];
console.log(`RESULT ${JSON.stringify({ rank, worst, where, identical, cases, bf16Worst, refusals })}`);
await distributed.finalize();
