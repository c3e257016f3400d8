/**
 * Runs a PyTorch peer script (bench/peers/*.py) the fair way ../shared/BENCH-NOTES.md
 * describes: Debian's /usr/bin/python3, OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset,
 * OPENBLAS_NUM_THREADS=1, OMP_NUM_THREADS=threads, and glibc's malloc thresholds raised
 * ('tuned', PyTorch at its best: without them it re-faults its buffers every step), cleared
 * ('default', out of the box) or left as the caller's environment has them ('inherit').
 * Returns the script's last stdout line, parsed as JSON.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const peers = join(dirname(fileURLToPath(import.meta.url)), 'peers');
const MALLOC_TUNED = 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824';

export function runTorchPeer<T>(
  script: string,
  args: string[],
  threads: number,
  malloc: 'tuned' | 'default' | 'inherit' = 'tuned',
): T {
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: String(threads) };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  if (malloc === 'tuned') env.GLIBC_TUNABLES = MALLOC_TUNED;
  else if (malloc === 'default') delete env.GLIBC_TUNABLES;
  const r = spawnSync('/usr/bin/python3', [join(peers, script), ...args], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`PyTorch peer ${script} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as T;
}
