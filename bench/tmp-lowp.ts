import { setNumThreads, randn, linear, noGrad } from '../src/index.js';
import { kernels } from '../src/native/executor.js';
import { UnaryCode } from '../src/native/binding.js';
setNumThreads(Number(process.argv[2] ?? 1));
for (const [m, n, k] of [[128, 3072, 768], [128, 768, 3072], [128, 2304, 768], [2048, 3072, 768]]) {
  const x = randn([m, k], { seed: 1 }); const w = randn([n, k], { seed: 2 });
  const y = new Float32Array(m * n);
  const res: string[] = [];
  for (const fmt of [0, 1]) {
    const words = ((n + 31) >> 5) * 32 * (fmt === 0 ? (k + 1) >> 1 : (k + 3) >> 2);
    const packed = new Int32Array(words), scales = new Float32Array(n), colsum = new Int32Array(n);
    kernels.lowpPack(fmt, w.data as Float32Array, n, k, packed, scales, colsum);
    for (let i = 0; i < 3; i++) kernels.lowpLinear(fmt, x.data as Float32Array, m, n, k, packed, scales, colsum, null, UnaryCode.Identity, 0, y);
    const reps = 10; const t0 = performance.now();
    for (let i = 0; i < reps; i++) kernels.lowpLinear(fmt, x.data as Float32Array, m, n, k, packed, scales, colsum, null, UnaryCode.Identity, 0, y);
    const ms = (performance.now() - t0) / reps; res.push(`${fmt ? 'int8' : 'bf16'} ${(2 * m * n * k / ms / 1e6).toFixed(0)} GFLOP/s`);
  }
  noGrad(() => linear(x, w)); const t0 = performance.now(); for (let i = 0; i < 10; i++) noGrad(() => linear(x, w)); const ms = (performance.now() - t0) / 10;
  console.log(m, n, k, res.join(', '), `fp32 ${(2 * m * n * k / ms / 1e6).toFixed(0)} GFLOP/s`);
}
