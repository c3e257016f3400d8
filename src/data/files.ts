/**
 * Reading whole files we do not trust (datasets, model files, checkpoints): the path must name
 * a regular file of at most maxBytes. The checks run on the opened handle (no window between a
 * stat and the read), the open does not block on a FIFO, and the read stops at the size fstat
 * gave: /dev/zero, a pipe or a file that grows while it is read cannot make us read without end.
 */
import { constants, open } from 'node:fs/promises';

/** Why readFileChecked refused a file it opened. */
export type RefusedFile = 'not a regular file' | 'too large' | 'shrank';

/**
 * The file's bytes. `fail` makes the error for a refused file (io/ passes ModelFileError),
 * given the message and the reason.
 * @throws for a non-regular file, one over maxBytes, one that shrinks while read, or what
 * open() throws (ENOENT, EACCES, ...).
 */
export async function readFileChecked(
  path: string,
  maxBytes: number,
  fail: (message: string, reason: RefusedFile) => Error = (m) => new Error(m),
): Promise<Buffer> {
  if (typeof path !== 'string' || path === '') throw new TypeError(`read: path must be a non-empty string`);
  if (!(Number.isSafeInteger(maxBytes) && maxBytes >= 0))
    throw new RangeError(`read: maxBytes must be a non-negative integer, got ${maxBytes}`);
  const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = await fh.stat();
    if (!info.isFile()) {
      const kind = info.isDirectory()
        ? 'a directory'
        : info.isFIFO()
          ? 'a pipe'
          : info.isCharacterDevice() || info.isBlockDevice()
            ? 'a device'
            : info.isSocket()
              ? 'a socket'
              : 'something else';
      throw fail(`${path}: not a regular file (${kind})`, 'not a regular file');
    }
    if (info.size > maxBytes)
      throw fail(
        `${path}: ${info.size} bytes is more than the ${maxBytes}-byte limit (pass maxBytes to allow it)`,
        'too large',
      );
    const out = Buffer.allocUnsafe(info.size);
    let off = 0;
    while (off < out.length) {
      const { bytesRead } = await fh.read(out, off, out.length - off, off);
      if (bytesRead === 0) throw fail(`${path}: the file shrank while it was read`, 'shrank');
      off += bytesRead;
    }
    return out;
  } finally {
    await fh.close();
  }
}
