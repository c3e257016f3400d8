#!/usr/bin/env node
// The C++ beyond linux-x64 + g++, checked from this Linux x64 machine (run by .ci/run after
// tools/arm64-check.mjs; docs/PLATFORMS.md says what is and is not covered):
//   1. Windows x64: the kernels, runtime and native tests cross-compiled with mingw-w64
//      (tools/mingw-toolchain.cmake, build-mingw/) and, when Wine is installed, run under it
//      on every SIMD level the tests cover that this CPU has; the N-API binding compiled too
//      (not linked: there is no node.lib here).
//   2. Clang, macOS's compiler, on Linux (build-clang/): the native tests built with
//      -std=c++17 -pedantic-errors (no GNU extensions) and run; the binding compiled too.
//   3. binding.gyp: gyp generates the macOS (make-mac, what node-gyp uses there) and Windows
//      (msvs) projects, and the xcode_settings / msvs_settings must land in them.
// Needs: apt-get install g++-mingw-w64-x86-64-posix clang cmake ninja-build, and wine64 to
// run the Windows tests (without it they are only compiled).
//   node tools/portability-check.mjs
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const quiet = { stdio: ['ignore', 'ignore', 'inherit'] };

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) {
    console.error(`portability check: ${cmd} ${args.join(' ')} failed (${r.status ?? r.signal})`);
    process.exit(1);
  }
  return r;
}

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

const started = performance.now();
let phase = performance.now();
function seconds(since) {
  return ((performance.now() - since) / 1000).toFixed(0);
}
function lap() {
  const s = seconds(phase);
  phase = performance.now();
  return `${s} s`;
}

// Node's and node-addon-api's headers, for the compile-only binding check (the same Node the
// npm build uses: `npm config get nodedir`, else the headers beside this node).
const nodeIncludes = [require('node-addon-api').include_dir];
for (const dir of [
  process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
  join(dirname(process.execPath), '..', 'include', 'node'),
]) {
  if (dir && existsSync(join(dir, 'node_api.h'))) {
    nodeIncludes.push(dir);
    break;
  }
}
const bindingTarget = nodeIncludes.length === 2 ? ['axon_binding_objects'] : [];
if (bindingTarget.length === 0) console.log('portability: no Node headers (node_api.h) found: binding not compiled');

// Both builds: ISO C++17 with no GNU extensions (MSVC has none of them), and no VLAs.
const strict = ['-DCMAKE_CXX_EXTENSIONS=OFF', '-DCMAKE_CXX_FLAGS=-pedantic-errors -Werror=vla'];
function cmakeBuild(dir, extra, env = process.env) {
  run(
    'cmake',
    [
      '-S',
      root,
      '-B',
      dir,
      '-G',
      'Ninja',
      '-DCMAKE_BUILD_TYPE=Release',
      '-DAXON_BENCH=OFF',
      `-DAXON_NODE_INCLUDE_DIRS=${nodeIncludes.join(';')}`,
      ...strict,
      ...extra,
    ],
    { ...quiet, env },
  );
  run('cmake', ['--build', dir, '-j', '2', '--target', 'axon_native_tests', ...bindingTarget], { ...quiet, env });
}

// Runs the test binary once per level; a level this CPU lacks is skipped by the binary itself.
function runTests(label, cmd, args, env = process.env) {
  for (const isa of ['scalar', 'avx2', 'avx512']) {
    const t0 = performance.now();
    const r = spawnSync(cmd, [...args, '--isa', isa], { cwd: root, encoding: 'utf8', env });
    const lines = (r.stdout ?? '').trim().split('\n');
    const summary = lines.find((l) => l.startsWith('SKIP')) ?? lines.at(-1);
    console.log(`${label} (${isa}): ${summary} in ${seconds(t0)} s`);
    if (r.status !== 0) {
      console.error(
        lines.filter((l) => l.startsWith('FAIL')).join('\n') + (r.stderr ?? '') + (r.error ? String(r.error) : ''),
      );
      process.exit(1);
    }
  }
}

// 1. Windows x64 with mingw-w64.
const mingw = join(root, 'build-mingw');
cmakeBuild(mingw, [`-DCMAKE_TOOLCHAIN_FILE=${join(root, 'tools', 'mingw-toolchain.cmake')}`]);
console.log(`windows-x64: mingw-w64 build of the native tests${bindingTarget.length ? ' and binding' : ''}: ${lap()}`);
const wine = ['wine64', 'wine'].find(onPath) ?? ['/usr/lib/wine/wine64'].find((p) => existsSync(p));
if (wine) {
  const env = {
    ...process.env,
    WINEPREFIX: join(mingw, 'wine'), // created on first use, a few seconds
    WINEDEBUG: '-all',
    WINEDLLOVERRIDES: 'mscoree,mshtml=', // no Mono / Gecko install prompts
  };
  const exe = join(mingw, 'axon_native_tests.exe');
  runTests('windows-x64 native tests under wine', wine, [exe], env);
  // available_cpus()'s Windows path for a restricted process affinity mask: Wine hands the
  // Linux affinity (taskset) to GetProcessAffinityMask.
  if (onPath('taskset')) {
    const args = ['-c', '0', wine, exe, '--isa', 'scalar', '--filter', 'platform_cpu_identity'];
    const r = spawnSync('taskset', args, { cwd: root, encoding: 'utf8', env });
    if (r.status !== 0 || !/; cpus 1$/m.test(r.stdout ?? '')) {
      console.error(`portability check: under taskset -c 0, expected 'cpus 1':\n${r.stdout}${r.stderr}`);
      process.exit(1);
    }
    console.log('windows-x64: available_cpus() follows the process affinity mask (taskset -c 0: 1)');
  }
  console.log(`windows-x64: wine runs: ${lap()}`);
} else {
  console.log('windows-x64: wine64 not installed: compiled only (apt-get install wine64 to run the tests)');
}

// 2. Clang on Linux.
const clang = join(root, 'build-clang');
cmakeBuild(clang, [], { ...process.env, CXX: 'clang++' });
console.log(`clang: build of the native tests${bindingTarget.length ? ' and binding' : ''}: ${lap()}`);
runTests('clang native tests', join(clang, 'axon_native_tests'), []);
console.log(`clang: test runs: ${lap()}`);

// 3. The gyp projects for macOS and Windows, generated here with node-gyp's gyp and the same
// includes node-gyp passes, for each architecture; then the flags binding.gyp sets are looked
// for in them.
// node-gyp's directory: npm's own when run from an npm script, else the one bundled with npm.
const nodeGyp = [
  process.env.npm_config_node_gyp && join(dirname(process.env.npm_config_node_gyp), '..'),
  join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp'),
].find((d) => d && existsSync(join(d, 'gyp', 'gyp_main.py')));
if (!nodeGyp) {
  console.error('portability check: node-gyp (gyp/gyp_main.py) not found');
  process.exit(1);
}
const gypDir = join(root, 'build-gyp');
rmSync(gypDir, { recursive: true, force: true });
mkdirSync(gypDir, { recursive: true });
// gyp asks xcodebuild for Xcode's version when generating for macOS; this stands in for it.
writeFileSync(join(gypDir, 'xcodebuild'), "#!/bin/sh\nprintf 'Xcode 15.0\\nBuild version 15A240d\\n'\n", {
  mode: 0o755,
});
const gypEnv = {
  ...process.env,
  PATH: `${gypDir}:${process.env.PATH}`,
  LANGUAGE: 'en_US.ISO-8859-1',
  PYTHONCOERCECLOCALE: '0', // else Python sets LC_CTYPE=C.UTF-8 for itself
};
for (const v of ['LC_ALL', 'LC_CTYPE', 'LANG']) delete gypEnv[v];
// A Windows SDK version (gyp reads it from the registry on Windows).
const winSdk = join(gypDir, 'winsdk.gypi');
writeFileSync(winSdk, "{'target_defaults': {'msvs_windows_target_platform_version': '10.0.22621.0'}}");
function generate(format, os, arch) {
  const out = join(gypDir, `${os}-${arch}`);
  const config = join(gypDir, `config-${arch}.gypi`);
  // What node-gyp writes to build/config.gypi: this node's process.config for the target arch.
  const variables = { ...process.config.variables, target_arch: arch, host_arch: arch, standalone_static_library: 1 };
  // gyp files are Python literals: booleans as node-gyp writes them, "true" / "false".
  const gypi = { target_defaults: process.config.target_defaults, variables };
  writeFileSync(
    config,
    JSON.stringify(gypi, (k, v) => (typeof v === 'boolean' ? String(v) : v), 1),
  );
  const nodeDir = join(dirname(process.execPath), '..');
  run(
    'python3',
    [
      join(nodeGyp, 'gyp', 'gyp_main.py'),
      'binding.gyp',
      '-f',
      format,
      '-G',
      'msvs_version=2022',
      `-DOS=${os}`,
      '-I',
      config,
      '-I',
      winSdk,
      '-I',
      join(nodeGyp, 'addon.gypi'),
      '-I',
      join(nodeIncludes[1] ?? join(nodeDir, 'include', 'node'), 'common.gypi'),
      '-Dlibrary=shared_library',
      '-Dvisibility=default',
      `-Dnode_root_dir=${nodeDir}`,
      `-Dnode_gyp_dir=${nodeGyp}`,
      `-Dnode_lib_file=${nodeDir}/$(Configuration)/node.lib`,
      `-Dmodule_root_dir=${root}`,
      '-Dnode_engine=v8',
      '--depth=.',
      '--no-parallel',
      '--generator-output',
      out,
      '-Goutput_dir=.',
    ],
    // gyp's msvs writer writes text to a binary file unless Python's default locale is not
    // UTF-8 (a gyp bug off Windows); LANGUAGE is read by Python's locale.getdefaultlocale()
    // and, unlike LC_ALL, not a locale the shells gyp starts try to load.
    { ...quiet, env: gypEnv },
  );
  return out;
}
const problems = [];
function expect(file, what, needles) {
  const text = readFileSync(file, 'latin1');
  for (const n of needles) if (!text.includes(n)) problems.push(`${what}: no ${JSON.stringify(n)} in ${file}`);
}
function reject(file, what, needles) {
  const text = readFileSync(file, 'latin1');
  for (const n of needles) if (text.includes(n)) problems.push(`${what}: ${JSON.stringify(n)} in ${file}`);
}
const macBase = ['-std=c++17', '-O3', '-fno-math-errno', '-ffp-contract=off', '-mmacosx-version-min=10.15'];
for (const arch of ['x64', 'arm64']) {
  const mac = generate('make-mac', 'mac', arch);
  const isa = arch === 'x64' ? ['scalar', 'avx2', 'avx512'] : ['scalar', 'neon'];
  for (const t of ['axon_native', ...isa.map((i) => `axon_isa_${i}`)]) {
    const mk = join(mac, `${t}.target.mk`);
    expect(mk, `macOS ${arch} ${t}`, macBase);
    reject(mk, `macOS ${arch} ${t}`, ['-fno-exceptions']);
  }
  if (arch === 'x64') {
    expect(join(mac, 'axon_isa_avx2.target.mk'), 'macOS avx2', ['-mavx2', '-mfma', '-mf16c']);
    expect(join(mac, 'axon_isa_avx512.target.mk'), 'macOS avx512', [
      '-mavx512f',
      '-mavx512bw',
      '-mavx512vl',
      '-mavx512dq',
    ]);
    reject(join(mac, 'axon_isa_scalar.target.mk'), 'macOS scalar', ['-mavx']);
  }
  const win = generate('msvs', 'win', arch);
  for (const t of ['axon_native', ...isa.map((i) => `axon_isa_${i}`)]) {
    const proj = join(win, `${t}.vcxproj`);
    expect(proj, `Windows ${arch} ${t}`, [
      '/std:c++17',
      '<ExceptionHandling>Sync</ExceptionHandling>',
      '<FloatingPointModel>Precise</FloatingPointModel>',
      '<Optimization>MaxSpeed</Optimization>',
      '_HAS_EXCEPTIONS=1',
    ]);
    reject(proj, `Windows ${arch} ${t}`, [
      '_HAS_EXCEPTIONS=0',
      '<FloatingPointModel>Strict',
      '<FloatingPointModel>Fast',
      '<Optimization>Full',
    ]);
  }
  if (arch === 'x64') {
    expect(join(win, 'axon_isa_avx2.vcxproj'), 'Windows avx2', ['/arch:AVX2']);
    expect(join(win, 'axon_isa_avx512.vcxproj'), 'Windows avx512', ['/arch:AVX512']);
    reject(join(win, 'axon_isa_scalar.vcxproj'), 'Windows scalar', ['/arch:']);
  }
}
if (problems.length) {
  console.error(`portability check: binding.gyp's macOS / Windows settings:\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(`binding.gyp: macOS (x64, arm64) and Windows (x64, arm64) projects carry its settings: ${lap()}`);
console.log(`portability check passed in ${seconds(started)} s`);
