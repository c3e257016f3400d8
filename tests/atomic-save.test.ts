/**
 * Crash-safe saves: a process killed (SIGKILL) at any point while it saves a model leaves the
 * previous file loadable and valid, and its temporary file is removed by the next save.
 *
 * The crash test bundles a tiny child script with esbuild (the child runs under plain `node`,
 * importing writeFileAtomic from src/io/atomic.ts) that saves two pre-encoded model files of
 * about 2 MB each, alternately, to one path, forever. The parent kills it at a random moment
 * (seeded), 200 times, and after each kill loads the path with decodeModelFile +
 * moduleFromContent: it must be exactly one of the two versions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Generator,
  Linear,
  ReLU,
  Sequential,
  decodeModelFile,
  encodeModel,
  moduleFromContent,
  writeFileAtomic,
  type Module,
} from '../src/index.js';

const KILLS = 200;
const dirs: string[] = [];
const children = new Set<ChildProcess>();

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'axon-atomic-'));
  dirs.push(d);
  return d;
}

/** The temporaries writeFileAtomic makes for `file`: `.<basename>.tmp-<pid>-<random>`. */
const tempsOf = (dir: string, file: string): string[] => readdirSync(dir).filter((n) => n.startsWith(`.${file}.tmp-`));

function startNode(args: string[]): ChildProcess {
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function killAndReap(child: ChildProcess): Promise<void> {
  const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, 'exit');
  child.kill('SIGKILL');
  await exited; // reaped: its pid no longer exists (a zombie would still answer kill(pid, 0))
}

/** Resolves when the writer prints 'ready'; rejects if it exits first (instead of hanging). */
function ready(child: ChildProcess): Promise<void> {
  return new Promise((done, fail) => {
    const stdout = child.stdout as NodeJS.ReadableStream;
    const onData = (): void => {
      child.off('exit', onExit);
      done();
    };
    const onExit = (code: number | null, signal: string | null): void => {
      stdout.off('data', onData);
      fail(new Error(`the writer exited (${code ?? signal}) before it was ready`));
    };
    stdout.once('data', onData);
    child.once('exit', onExit);
  });
}

/** A pid that no longer exists: a child that ran and was reaped. */
async function deadPid(): Promise<number> {
  const child = startNode(['-e', '0']);
  await once(child, 'exit');
  return child.pid as number;
}

afterAll(async () => {
  await Promise.all([...children].map((c) => killAndReap(c)));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('replaces the content and leaves no temporary file', async () => {
    const dir = tempDir();
    const path = join(dir, 'model.safetensors');
    await writeFileAtomic(path, Buffer.from('first version'));
    expect(readFileSync(path, 'utf8')).toBe('first version');
    await writeFileAtomic(path, Buffer.from('second'));
    expect(readFileSync(path, 'utf8')).toBe('second');
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
    // An empty file, and a view into a larger buffer (only the view's bytes are written).
    await writeFileAtomic(path, new Uint8Array(0));
    expect(statSync(path).size).toBe(0);
    const big = Buffer.from('0123456789');
    await writeFileAtomic(path, big.subarray(3, 7));
    expect(readFileSync(path, 'utf8')).toBe('3456');
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
  });

  it('concurrent saves to one path each use their own temporary file', async () => {
    const dir = tempDir();
    const path = join(dir, 'm.bin');
    const contents = Array.from({ length: 8 }, (_, i) => Buffer.alloc(64 * 1024 + i, 97 + i));
    await Promise.all(contents.map((c) => writeFileAtomic(path, c)));
    const final = readFileSync(path);
    expect(contents.some((c) => c.equals(final))).toBe(true);
    expect(readdirSync(dir)).toEqual(['m.bin']);
  });

  it('removes its temporary file when the rename fails (the target is a directory)', async () => {
    const dir = tempDir();
    const path = join(dir, 'taken');
    mkdirSync(path);
    writeFileSync(join(path, 'inside'), 'keep me');
    const err = (await writeFileAtomic(path, Buffer.from('data')).catch((e: unknown) => e)) as NodeJS.ErrnoException;
    expect(err).toBeInstanceOf(Error);
    expect(['EISDIR', 'ENOTEMPTY', 'EEXIST']).toContain(err.code);
    expect(readdirSync(dir)).toEqual(['taken']);
    expect(readFileSync(join(path, 'inside'), 'utf8')).toBe('keep me');
  });

  it('fails with ENOENT when the directory does not exist, creating nothing', async () => {
    const dir = tempDir();
    const err = (await writeFileAtomic(join(dir, 'missing', 'm.bin'), Buffer.from('x')).catch(
      (e: unknown) => e,
    )) as NodeJS.ErrnoException;
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('ENOENT');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('removes the temporaries of dead writers only', async () => {
    const dir = tempDir();
    const file = 'm.bin';
    const dead = await deadPid();
    const sleeper = startNode(['-e', 'setTimeout(() => {}, 60000)']);
    const live = sleeper.pid as number;
    const planted = {
      dead: `.${file}.tmp-${dead}-0a1b2c3d4e5f`,
      live: `.${file}.tmp-${live}-0a1b2c3d4e5f`,
      mine: `.${file}.tmp-${process.pid}-0a1b2c3d4e5f`,
      malformed: `.${file}.tmp-notapid-0a1b2c3d4e5f`,
      otherFile: `.other.bin.tmp-${dead}-0a1b2c3d4e5f`,
      similar: `.${file}.tmpx-${dead}`,
    };
    for (const name of Object.values(planted)) writeFileSync(join(dir, name), 'partial');
    try {
      await writeFileAtomic(join(dir, file), Buffer.from('new'));
      const left = readdirSync(dir).sort();
      const expected = [file, planted.live, planted.mine, planted.malformed, planted.otherFile, planted.similar].sort();
      expect(left).toEqual(expected);
    } finally {
      await killAndReap(sleeper);
    }
  });
});

// ---- the crash test --------------------------------------------------------------------------------

/** A model of about 2 MB, its weights drawn from `seed`. */
function makeModel(seed: number): Sequential {
  return new Sequential(
    new Linear(256, 1024, { activation: 'relu', init: { seed } }),
    new ReLU(),
    new Linear(1024, 256, { init: { seed: seed + 1 } }),
  );
}

/** Each parameter's bytes, by name. */
function weightBytes(m: Module): Map<string, Buffer> {
  return new Map(
    Object.entries(m.stateDict()).map(([name, t]) => [
      name,
      Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
    ]),
  );
}

const sameWeights = (x: Map<string, Buffer>, y: Map<string, Buffer>): boolean =>
  x.size === y.size && [...x].every(([name, bytes]) => y.get(name)?.equals(bytes) === true);

const CHILD_SOURCE = `
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from './src/io/atomic.ts';

const [target, a, b] = process.argv.slice(2);
const versions = [readFileSync(a), readFileSync(b)];
// Never outlive the test: stop when the parent closes stdin (it died) or after 30 s.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
const deadline = Date.now() + 30_000;
process.stdout.write('ready\\n');
for (let i = 1; Date.now() < deadline; i++) await writeFileAtomic(target, versions[i % 2]);
process.exit(0);
`;

describe('a writer killed mid-save', () => {
  let dir = '';
  let childScript = '';
  const version: { bytes: Buffer; path: string; weights: Map<string, Buffer> }[] = [];

  beforeAll(async () => {
    dir = tempDir();
    childScript = join(dir, 'writer.mjs');
    await build({
      stdin: {
        contents: CHILD_SOURCE,
        resolveDir: fileURLToPath(new URL('..', import.meta.url)),
        sourcefile: 'writer.ts',
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: childScript,
      logLevel: 'silent',
    });
    for (const seed of [1, 2]) {
      const m = makeModel(seed);
      const bytes = Buffer.from(encodeModel(m));
      const path = join(dir, `version-${seed}.bin`);
      writeFileSync(path, bytes);
      version.push({ bytes, path, weights: weightBytes(m) });
    }
  }, 60_000);

  it(`${KILLS} SIGKILLs at random points: the file always loads as one of the two versions`, async () => {
    const [a, b] = version;
    expect(a.bytes.length).toBeGreaterThan(2_000_000);
    expect(sameWeights(a.weights, b.weights)).toBe(false);
    const target = join(dir, 'model.safetensors');
    const file = basename(target);
    await writeFileAtomic(target, a.bytes); // the file exists before the first kill
    const g = new Generator(20260611);
    const seen = { a: 0, b: 0 };
    let midWrite = 0;
    let notWaited = 0;
    let lastPid = 0;
    /** The file as read after kill k: exactly one version, and it loads with that version's weights. */
    const verify = (bytes: Buffer, k: number): void => {
      const which = bytes.equals(a.bytes) ? 'a' : bytes.equals(b.bytes) ? 'b' : null;
      expect(which, `after kill ${k + 1} the file is neither version (${bytes.length} bytes)`).not.toBeNull();
      seen[which as 'a' | 'b']++;
      const m = moduleFromContent(decodeModelFile(bytes, target), target);
      const expected = version[which === 'a' ? 0 : 1].weights;
      expect(sameWeights(weightBytes(m), expected), `weights after kill ${k + 1}`).toBe(true);
    };
    // The previous file is read right after each kill and verified while the next child starts
    // up (node's start-up is most of the time per kill), unless that would delay the kill.
    let pending: (() => void) | null = null;
    const runPending = (): void => {
      const p = pending;
      pending = null;
      p?.();
    };
    const started = performance.now();
    for (let k = 0; k < KILLS; k++) {
      const child = startNode([childScript, target, a.path, b.path]);
      lastPid = child.pid as number;
      const r = g.nextFloat();
      if (r < 0.2) {
        // Right after spawn (before the child has run any code), or after a delay counted from
        // the spawn, whatever the child is doing by then.
        notWaited++;
        if (r >= 0.1) await new Promise((done) => setTimeout(done, 150 * g.nextFloat()));
      } else {
        runPending();
        await ready(child); // its first save starts now
        // 0 to 40 ms, denser near 0 (one save of 2 MB, with its fsyncs, takes a few to tens of ms)
        await new Promise((done) => setTimeout(done, 40 * g.nextFloat() ** 2));
      }
      await killAndReap(child);
      if (tempsOf(dir, file).some((n) => n.startsWith(`.${file}.tmp-${child.pid}-`))) midWrite++;
      runPending();
      const bytes = readFileSync(target);
      pending = () => verify(bytes, k);
    }
    runPending();
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `${KILLS} kills in ${seconds.toFixed(1)} s: file was version A ${seen.a} times, B ${seen.b} times; ` +
        `${midWrite} kills left a temporary file (killed mid-save), ${notWaited} without waiting for the child to be ready`,
    );
    // The kills landed while saves were in progress, and saves completed between kills.
    expect(seen.a).toBeGreaterThan(0);
    expect(seen.b).toBeGreaterThan(0);
    expect(midWrite).toBeGreaterThan(KILLS / 10);

    // Leftovers from the dead writers (plus one planted for the last, dead, child) are
    // removed by the next save; the temporary of a live writer is not.
    writeFileSync(join(dir, `.${file}.tmp-${lastPid}-feedfacecafe`), 'partial');
    const sleeper = startNode(['-e', 'setTimeout(() => {}, 60000)']);
    const liveTemp = `.${file}.tmp-${sleeper.pid}-0123456789ab`;
    writeFileSync(join(dir, liveTemp), 'partial');
    try {
      expect(tempsOf(dir, file).length).toBeGreaterThan(1);
      await writeFileAtomic(target, b.bytes);
      expect(tempsOf(dir, file)).toEqual([liveTemp]);
    } finally {
      await killAndReap(sleeper);
    }
    expect(readFileSync(target).equals(b.bytes)).toBe(true);
    await writeFileAtomic(target, a.bytes); // the sleeper is dead now: its temporary goes too
    expect(tempsOf(dir, file)).toEqual([]);
  }, 120_000);
});
