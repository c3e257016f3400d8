/**
 * Runs a script from examples/ the way `npx tsx examples/x.ts` does, but on the sources: the
 * examples import 'axon-nn' as a user's code does, and the package's `axon-source` export
 * condition resolves that to src/ rather than the compiled dist/ (which may be stale here).
 */
import { spawnSync, type SpawnSyncOptionsWithStringEncoding, type SpawnSyncReturns } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// tsx's loader by path, so a run from another working directory (one the example may write
// files into) finds it.
const tsxLoader = pathToFileURL(
  join(fileURLToPath(new URL('..', import.meta.url)), 'node_modules/tsx/dist/loader.mjs'),
);

/** node's arguments before the script: tsx, and the condition that selects the sources. */
export const EXAMPLE_NODE_ARGS = ['--conditions=axon-source', '--import', tsxLoader.href];

export function runExample(
  script: string,
  args: string[] = [],
  options: Partial<SpawnSyncOptionsWithStringEncoding> = {},
): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [...EXAMPLE_NODE_ARGS, script, ...args], {
    encoding: 'utf8',
    timeout: 180_000,
    ...options,
  });
}
