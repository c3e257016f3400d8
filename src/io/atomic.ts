/**
 * Crash-safe file replacement: write a temporary file in the same directory, fsync it, rename
 * it over the destination (atomic on POSIX filesystems), then fsync the directory so the
 * rename itself is durable. A reader sees the old file or the new one, never a mix, even if
 * the process is killed (SIGKILL) at any point. All I/O is asynchronous, so saving a large
 * model does not stall the event loop.
 *
 * A process killed mid-write leaves its temporary file behind; the next save to the same
 * path removes temporaries whose writer process no longer exists.
 */
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

function tempPrefix(path: string): string {
  return `.${basename(path)}.tmp-`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/** Removes temporaries left for `path` by writers that were killed. */
async function removeStaleTemps(path: string): Promise<void> {
  const dir = dirname(path);
  const prefix = tempPrefix(path);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || processAlive(pid)) continue;
    await unlink(join(dir, name)).catch(() => undefined);
  }
}

/**
 * Replaces `path` with `data` atomically and durably: writes a temporary file beside it,
 * fsyncs it, renames it over `path` and fsyncs the directory, so a reader (or a process
 * killed at any point) sees the old file or the new one, never a mix. Temporaries left by
 * killed writers of the same path are removed first.
 *
 * @throws an Error naming `path` (not the temporary file) and what failed, with the system
 * error's `code` and the original error as `cause`.
 * @example
 * ```ts
 * import { writeFileAtomic } from 'axon-nn';
 * import { tmpdir } from 'node:os';
 * const report = JSON.stringify({ epoch: 12, valLoss: 0.31 });
 * await writeFileAtomic(`${tmpdir()}/metrics.json`, new TextEncoder().encode(report));
 * ```
 */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  try {
    await replaceFile(path, data);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const reason =
      err.code === 'EACCES' || err.code === 'EPERM' || err.code === 'EROFS'
        ? `no permission to write in ${dirname(path)}`
        : err.code === 'ENOENT'
          ? `the directory ${dirname(path)} does not exist`
          : err.code === 'ENOTDIR'
            ? `${dirname(path)} is not a directory`
            : err.code === 'ENOSPC'
              ? 'no space left on the device'
              : // Name the target, not our temporary file.
                String(err.message ?? e).replaceAll(/\.[^/'"]*\.tmp-\d+-[0-9a-f]+/g, basename(path));
    const wrapped = new Error(`cannot save ${path}: ${reason} (${err.code ?? 'error'})`, { cause: e });
    (wrapped as NodeJS.ErrnoException).code = err.code;
    throw wrapped;
  }
}

async function replaceFile(path: string, data: Uint8Array): Promise<void> {
  const dir = dirname(path);
  await removeStaleTemps(path);
  const tmp = join(dir, `${tempPrefix(path)}${process.pid}-${randomBytes(6).toString('hex')}`);
  const fh = await open(tmp, 'wx', 0o644);
  try {
    let off = 0;
    while (off < data.length) off += (await fh.write(data, off, data.length - off)).bytesWritten;
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  // Make the rename durable: fsync the directory entry.
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
