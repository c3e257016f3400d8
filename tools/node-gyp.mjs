// Where node-gyp is, for the scripts that build native code (install.mjs, build-mpi.mjs,
// prebuild.mjs): npm's own when run from an npm script (npm_config_node_gyp), else one on PATH,
// else the copy bundled with the npm beside this node (`npx node-gyp` is refused here).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The command that runs node-gyp, as [program, ...leading args], or null when there is none. */
export function nodeGypCommand() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return [process.execPath, fromNpm];
  if (spawnSync('node-gyp', ['--version'], { stdio: 'ignore' }).status === 0) return ['node-gyp'];
  const bundled = join(
    dirname(process.execPath),
    '..',
    'lib',
    'node_modules',
    'npm',
    'node_modules',
    'node-gyp',
    'bin',
    'node-gyp.js',
  );
  return existsSync(bundled) ? [process.execPath, bundled] : null;
}
