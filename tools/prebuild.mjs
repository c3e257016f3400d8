#!/usr/bin/env node
// Builds the prebuilt N-API binary for this platform into prebuilds/<platform>-<arch>/ with
// prebuildify (stripped), as shipped in the npm package. One binary serves every CPU of an
// architecture: the SIMD level is chosen at load. Uses the Node headers installed beside this
// node when there are any (Debian's nodejs-dev: /usr/include/node), so no download is needed.
//   node tools/prebuild.mjs
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env };
const headers = join(dirname(process.execPath), '..');
if (!env.npm_config_nodedir && existsSync(join(headers, 'include', 'node', 'node_api.h')))
  env.npm_config_nodedir = headers;
const bin = join(root, 'node_modules', 'prebuildify', 'bin.js');
const r = spawnSync(process.execPath, [bin, '--napi', '--strip', '-t', process.versions.node], {
  cwd: root,
  env,
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
