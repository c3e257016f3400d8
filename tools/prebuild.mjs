#!/usr/bin/env node
// Builds the prebuilt N-API binary into prebuilds/<platform>-<arch>/ with prebuildify
// (stripped), as shipped in the npm package. One binary serves every CPU of an architecture:
// the SIMD level is chosen at load. Uses the Node headers installed beside this node when there
// are any (Debian's nodejs-dev: /usr/include/node), so no download is needed.
//   node tools/prebuild.mjs                 this machine's platform and architecture
//   node tools/prebuild.mjs --arch arm64    cross-compiled for linux-arm64 from x64 with
//                                           Debian's g++-aarch64-linux-gnu
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeGypCommand } from './node-gyp.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const arch = argv.includes('--arch') ? argv[argv.indexOf('--arch') + 1] : process.arch;
const env = { ...process.env };
const headers = join(dirname(process.execPath), '..');
if (!env.npm_config_nodedir && existsSync(join(headers, 'include', 'node', 'node_api.h')))
  env.npm_config_nodedir = headers;

// prebuildify spawns node-gyp itself: its script (executable, with a shebang) or the command.
const gyp = nodeGypCommand();
if (!env.PREBUILD_NODE_GYP && gyp) env.PREBUILD_NODE_GYP = gyp[gyp.length - 1];

const args = ['--napi', '--strip', '-t', process.versions.node];
if (arch !== process.arch) {
  if (!(process.platform === 'linux' && arch === 'arm64'))
    throw new Error(`prebuild: cross-compiling to ${process.platform}-${arch} is not set up (only linux-arm64)`);
  const triple = 'aarch64-linux-gnu';
  Object.assign(env, { CC: `${triple}-gcc`, CXX: `${triple}-g++`, LINK: `${triple}-g++`, AR: `${triple}-ar` });
  args.push('--arch', 'arm64', '--strip-bin', `${triple}-strip`);
}
const r = spawnSync(process.execPath, [join(root, 'node_modules', 'prebuildify', 'bin.js'), ...args], {
  cwd: root,
  env,
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
