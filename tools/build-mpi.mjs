#!/usr/bin/env node
// Builds the optional MPI addon (native/mpi -> native/mpi/build/Release/axon_mpi.node) when
// pkg-config finds Open MPI (ompi-c) or MPICH; otherwise says so and exits 0, so `npm install`
// never fails for lack of MPI. Run by `npm run build:mpi` and after `npm install` (postinstall).
//   node tools/build-mpi.mjs            build if MPI is found
//   node tools/build-mpi.mjs --require  fail (exit 1) when MPI is missing or the build fails
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeGypCommand } from './node-gyp.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const required = process.argv.includes('--require');

function mpiPackage() {
  for (const pc of ['ompi-c', 'mpich']) {
    const r = spawnSync('pkg-config', ['--exists', pc]);
    if (r.status === 0) return pc;
  }
  return null;
}

function skip(reason) {
  const msg = `axon-nn: MPI addon not built: ${reason}`;
  if (required) {
    console.error(msg);
    process.exit(1);
  }
  console.log(`${msg}. Data-parallel training (src/distributed) needs it; the rest of the engine does not.`);
  process.exit(0);
}

const pc = mpiPackage();
if (!pc) skip('pkg-config finds neither ompi-c nor mpich (Debian: apt-get install openmpi-bin libopenmpi-dev)');
const gyp = nodeGypCommand();
if (!gyp) skip('node-gyp was not found (run this through `npm run build:mpi`)');
console.log(`axon-nn: building the MPI addon against ${pc}`);
const [cmd, ...pre] = gyp;
// Run outside npm, node-gyp does not see the user's npm config; pass its nodedir (Node's
// headers) so the build stays offline where one is set, as under `npm install`.
const extra = [];
if (!process.env.npm_config_nodedir) {
  const q = spawnSync('npm', ['config', 'get', 'nodedir'], { encoding: 'utf8' });
  const dir = q.status === 0 ? q.stdout.trim() : '';
  if (dir && dir !== 'undefined' && dir !== 'null') extra.push(`--nodedir=${dir}`);
}
const r = spawnSync(cmd, [...pre, 'rebuild', '--directory', join(root, 'native', 'mpi'), ...extra], {
  stdio: 'inherit',
  cwd: root,
});
if (r.status !== 0) {
  if (required) process.exit(r.status ?? 1);
  console.log('axon-nn: the MPI addon failed to build (see above); the engine works without it.');
}
