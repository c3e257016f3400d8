#!/usr/bin/env node
// `npm run bench [gemm|elementwise|...]`: builds the native benchmarks (CMake, build-native/)
// and runs them, then the TypeScript benchmarks in bench/*.bench.ts. Peers run side by side in
// the same process; OpenBLAS runs with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset (they force
// its slower AVX2 kernel on this machine; see ../shared/BENCH-NOTES.md). Do not run other jobs
// while benchmarking: the figures are only meaningful on an idle machine.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const only = process.argv.slice(2);
const want = (name) => only.length === 0 || only.includes(name);

function run(cmd, args, env = process.env) {
  console.log(`\n$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const peerEnv = { ...process.env };
delete peerEnv.OPENBLAS_CORETYPE;
delete peerEnv.OPENBLAS_L2_SIZE;

// The peers (TensorFlow.js, onnxruntime-node) are bench/'s own dev dependencies, not the engine's.
if (readdirSync('bench').some((f) => f.endsWith('.bench.ts')) && !existsSync('bench/node_modules')) {
  run('npm', ['install', '--prefix', 'bench', '--no-audit', '--no-fund'], {
    ...process.env,
    ONNXRUNTIME_NODE_INSTALL: 'skip',
  });
}

if (want('gemm') || want('elementwise') || want('conv')) {
  const haveNinja = spawnSync('ninja', ['--version'], { stdio: 'ignore' }).status === 0;
  run('cmake', [
    '-S',
    '.',
    '-B',
    'build-native',
    ...(haveNinja ? ['-G', 'Ninja'] : []),
    '-DCMAKE_BUILD_TYPE=Release',
    '-DAXON_BENCH=ON',
  ]);
  run('cmake', [
    '--build',
    'build-native',
    '--parallel',
    '--target',
    'axon_gemm_bench',
    'axon_elementwise_bench',
    'axon_conv_bench',
  ]);
}
if (want('gemm')) run('./build-native/axon_gemm_bench', [], peerEnv);
if (want('elementwise')) run('./build-native/axon_elementwise_bench', [], peerEnv);
// oneDNN (OpenMP) reads its thread count at start-up: one process per thread count.
if (want('conv'))
  for (const t of ['1', '2'])
    run('./build-native/axon_conv_bench', ['--threads', t], { ...peerEnv, OMP_NUM_THREADS: t, AXON_NUM_THREADS: t });

for (const file of readdirSync('bench')
  .filter((f) => f.endsWith('.bench.ts'))
  .sort()) {
  const name = file.replace(/\.bench\.ts$/, '');
  // The MPI benchmarks need several ranks: they run under mpirun (docs/DISTRIBUTED.md).
  if (/^(allreduce|distributed)/.test(name)) {
    if (only.includes(name)) run('mpirun', ['--allow-run-as-root', '-np', '2', 'npx', 'tsx', `bench/${file}`], peerEnv);
    else console.log(`\n(skipping bench/${file}: run it under mpirun, e.g. \`npm run bench -- ${name}\`)`);
    continue;
  }
  if (want(name)) run('npx', ['tsx', `bench/${file}`], peerEnv);
}
