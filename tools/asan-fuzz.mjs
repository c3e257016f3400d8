#!/usr/bin/env node
// Builds the addon with AddressSanitizer + UndefinedBehaviorSanitizer in build-asan/ and runs
// the binding fuzz test against it, so an argument check that lets an out-of-bounds access
// through fails loudly instead of reading neighbouring memory quietly.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve('.');
const dir = join(root, 'build-asan');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
for (const f of ['binding.gyp', 'package.json', 'native']) cpSync(join(root, f), join(dir, f), { recursive: true });
if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));

function run(cmd, args, opts) {
  console.log(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const gcc = (lib) => spawnSync('gcc', [`-print-file-name=${lib}`], { encoding: 'utf8' }).stdout.trim();
const san = '-fsanitize=address,undefined -fno-omit-frame-pointer';
// npm runs node-gyp with the user's npm config (nodedir etc.), as `npm install` does.
run('npm', ['run', 'build:native', '--silent'], {
  cwd: dir,
  env: { ...process.env, CXXFLAGS: san, LDFLAGS: '-fsanitize=address,undefined' },
});
run('npx', ['vitest', 'run', 'tests/fuzz-binding.test.ts'], {
  env: {
    ...process.env,
    AXON_NATIVE_PATH: join(dir, 'build', 'Release', 'axon_native.node'),
    LD_PRELOAD: `${gcc('libasan.so')}:${gcc('libubsan.so')}`,
    // Node itself is not built with ASan; its allocations look like leaks.
    ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1',
    UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
  },
});
