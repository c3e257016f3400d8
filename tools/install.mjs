#!/usr/bin/env node
// npm's install step for axon-nn (package.json "install"). Uses the prebuilt binary for this
// platform (prebuilds/<platform>-<arch>/, made by tools/prebuild.mjs with prebuildify and
// found by node-gyp-build, the same lookup the library does at load) after checking that it
// loads here; builds from source with node-gyp only when none matches or it does not load
// (another libc, an older glibc). With neither a prebuild nor a C++ toolchain it stops with
// one message naming what to install, not a Python traceback.
//   AXON_BUILD_FROM_SOURCE=1 (or npm install --build-from-source): always build.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeGypCommand } from './node-gyp.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const target = `${process.platform}-${process.arch} (Node ${process.versions.node}, N-API ${process.versions.napi})`;

function usablePrebuild() {
  let path;
  try {
    path = require('node-gyp-build').path(root);
  } catch {
    return null; // none for this platform
  }
  // Load it in a child: a binary that needs a newer glibc or libstdc++ fails here, not later.
  const probe = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path)})`], { encoding: 'utf8' });
  if (probe.status === 0) return path;
  console.warn(`axon-nn: the prebuilt binary ${path} does not load here:\n${probe.stderr.trim()}`);
  return null;
}

function onPath(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

const fromSource = process.env.AXON_BUILD_FROM_SOURCE === '1' || process.env.npm_config_build_from_source === 'true';
if (!fromSource) {
  const prebuilt = usablePrebuild();
  if (prebuilt) {
    console.log(`axon-nn: using the prebuilt binary for ${target}`);
    process.exit(0);
  }
}

const missing = [];
if (!onPath('python3') && !onPath('python')) missing.push('python3');
if (!onPath('make')) missing.push('make');
if (!onPath('c++') && !onPath('g++') && !onPath('clang++')) missing.push('a C++17 compiler (g++ or clang++)');
const gyp = nodeGypCommand();
if (!gyp) missing.push('node-gyp (npm install -g node-gyp)');
if (missing.length > 0) {
  console.error(
    `axon-nn: there is no prebuilt binary for ${target}${fromSource ? ' in use (building from source was asked for)' : ''}, ` +
      `and building one needs ${missing.join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not on PATH.\n` +
      '  Debian/Ubuntu: sudo apt-get install python3 make g++\n' +
      '  Fedora: sudo dnf install python3 make gcc-c++    Alpine: apk add python3 make g++\n' +
      '  macOS: xcode-select --install    Windows: the "Desktop development with C++" workload of Visual Studio\n' +
      'then run `npm rebuild axon-nn`.',
  );
  process.exit(1);
}
console.log(`axon-nn: no usable prebuilt binary for ${target}; building from source with node-gyp`);
const r = spawnSync(gyp[0], [...gyp.slice(1), 'rebuild', '-j', 'max'], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
