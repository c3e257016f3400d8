#!/usr/bin/env node
// Builds the native kernel tests with CMake and runs them with ctest (every SIMD level this
// CPU has, 1 and 2 threads each). --sanitize builds a separate tree with AddressSanitizer +
// UndefinedBehaviorSanitizer. Usage: node tools/native-tests.mjs [--sanitize] [ctest args...]
import { spawnSync } from 'node:child_process';

const sanitize = process.argv.includes('--sanitize');
const extra = process.argv.slice(2).filter((a) => a !== '--sanitize');
const dir = sanitize ? 'build-native-san' : 'build-native';

function run(cmd, args, env = process.env) {
  console.log(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env });
  if (r.error) {
    console.error(`${cmd}: ${r.error.message}`);
    process.exit(1);
  }
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const haveNinja = spawnSync('ninja', ['--version'], { stdio: 'ignore' }).status === 0;
run('cmake', [
  '-S',
  '.',
  '-B',
  dir,
  ...(haveNinja ? ['-G', 'Ninja'] : []),
  `-DCMAKE_BUILD_TYPE=${sanitize ? 'RelWithDebInfo' : 'Release'}`,
  `-DAXON_SANITIZE=${sanitize ? 'ON' : 'OFF'}`,
  `-DAXON_BENCH=${sanitize ? 'OFF' : 'ON'}`,
]);
run('cmake', ['--build', dir, '--parallel']);
const env = { ...process.env };
if (sanitize) {
  env.ASAN_OPTIONS = 'detect_leaks=1:abort_on_error=1:strict_string_checks=1';
  env.UBSAN_OPTIONS = 'print_stacktrace=1:halt_on_error=1';
}
run('ctest', ['--test-dir', dir, '--output-on-failure', ...extra], env);
