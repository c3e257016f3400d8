/**
 * The data pipeline against independent references: DataLoader batches checked sample by
 * sample (datasets whose values are their own indices), the IDX reader against the shipped
 * Fashion-MNIST subset decoded here by hand with node:zlib and against hostile files, CSV
 * parsing, splits, the preprocessing transforms recomputed in JS (float64), and the SVG plot.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DataLoader,
  Dataset,
  GeneratorDataset,
  LabelEncoder,
  MinMaxScaler,
  Normalizer,
  OneHotEncoder,
  StandardScaler,
  Tensor,
  TensorDataset,
  csvColumn,
  csvColumns,
  historyToHtml,
  historyToSvg,
  kFold,
  parseCsv,
  parseIdx,
  readCsv,
  readIdx,
  trainTestSplit,
  type Batch,
} from '../src/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'axon-data-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// ---- helpers ------------------------------------------------------------------------------------

/** n samples: x row i = [i, -i, 0.5 i], y = 1000 + i (int32), so every value names its sample. */
function indexed(n: number): TensorDataset {
  const x = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) x.set([i, -i, 0.5 * i], 3 * i);
  return new TensorDataset(
    new Tensor(x, [n, 3]),
    new Tensor(
      Int32Array.from({ length: n }, (_, i) => 1000 + i),
      [n],
    ),
  );
}

/** The sample indices of a batch of an `indexed` dataset, checking x and y rows agree. */
function idsOf([x, y]: Batch): number[] {
  const rows = x.shape[0];
  expect(x.shape).toEqual([rows, 3]);
  const ids: number[] = [];
  for (let r = 0; r < rows; r++) {
    const i = x.data[3 * r];
    expect([x.data[3 * r + 1], x.data[3 * r + 2]]).toEqual([-i, 0.5 * i]);
    if (y) expect(y.data[r]).toBe(1000 + i);
    ids.push(i);
  }
  if (y) expect(y.shape).toEqual([rows]);
  return ids;
}

/** One epoch of sync iteration as lists of sample indices. */
const epochSync = (dl: DataLoader): number[][] => [...dl].map(idsOf);

async function epochAsync(dl: DataLoader): Promise<number[][]> {
  const out: number[][] = [];
  for await (const b of dl) out.push(idsOf(b));
  return out;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const sorted = (a: number[]): number[] => [...a].sort((p, q) => p - q);

// ---- DataLoader ---------------------------------------------------------------------------------

describe('DataLoader', () => {
  it('in order: batches of batchSize cover every sample once, the last one short (23 samples, 5 per batch)', () => {
    const dl = new DataLoader(indexed(23), { batchSize: 5 });
    expect(dl.numBatches).toBe(5);
    const ep = epochSync(dl);
    expect(ep.map((b) => b.length)).toEqual([5, 5, 5, 5, 3]);
    expect(ep.flat()).toEqual(range(23));
    expect(dl.epoch).toBe(1);
    // a second epoch is the same (no shuffle)
    expect(epochSync(dl)).toEqual(ep);
    expect(dl.epoch).toBe(2);
  });

  it('shuffle with a seed: a permutation per epoch, different across epochs, reproducible across loaders', () => {
    const a = new DataLoader(indexed(50), { batchSize: 8, shuffle: true, seed: 7 });
    const b = new DataLoader(indexed(50), { batchSize: 8, shuffle: true, seed: 7 });
    const c = new DataLoader(indexed(50), { batchSize: 8, shuffle: true, seed: 8 });
    const epochsA = [epochSync(a), epochSync(a), epochSync(a)];
    const epochsB = [epochSync(b), epochSync(b), epochSync(b)];
    expect(epochsB).toEqual(epochsA);
    for (const ep of epochsA) {
      expect(ep.map((x) => x.length)).toEqual([8, 8, 8, 8, 8, 8, 2]);
      expect(sorted(ep.flat())).toEqual(range(50));
      expect(ep.flat()).not.toEqual(range(50));
    }
    expect(epochsA[1].flat()).not.toEqual(epochsA[0].flat());
    expect(epochsA[2].flat()).not.toEqual(epochsA[1].flat());
    expect(epochSync(c).flat()).not.toEqual(epochsA[0].flat());
  });

  it('dropLast drops the short batch (and with shuffle, which samples are dropped varies)', () => {
    const dl = new DataLoader(indexed(23), { batchSize: 5, dropLast: true });
    expect(dl.numBatches).toBe(4);
    const ep = epochSync(dl);
    expect(ep.flat()).toEqual(range(20));
    const sh = new DataLoader(indexed(23), { batchSize: 5, dropLast: true, shuffle: true, seed: 3 });
    const dropped = new Set<string>();
    for (let e = 0; e < 5; e++) {
      const flat = epochSync(sh).flat();
      expect(flat).toHaveLength(20);
      expect(new Set(flat).size).toBe(20);
      dropped.add(JSON.stringify(range(23).filter((i) => !flat.includes(i))));
    }
    expect(dropped.size).toBeGreaterThan(1);
    // batch larger than the dataset
    expect(new DataLoader(indexed(3), { batchSize: 5, dropLast: true }).numBatches).toBe(0);
    expect([...new DataLoader(indexed(3), { batchSize: 5, dropLast: true })]).toEqual([]);
    expect(epochSync(new DataLoader(indexed(3), { batchSize: 5 }))).toEqual([[0, 1, 2]]);
  });

  it('map is applied to every batch (sync and async)', async () => {
    const seen: number[] = [];
    const map = (x: Tensor, y: Tensor | null): Batch => {
      seen.push(x.shape[0]);
      return [x.mul(2), y];
    };
    const dl = new DataLoader(indexed(12), { batchSize: 5, map });
    const batches = [...dl];
    expect(seen).toEqual([5, 5, 2]);
    expect(Array.from(batches[2][0].data)).toEqual([20, -20, 10, 22, -22, 11]);
    const asyncBatches: Batch[] = [];
    for await (const b of dl) asyncBatches.push(b);
    expect(seen).toEqual([5, 5, 2, 5, 5, 2]);
    expect(Array.from(asyncBatches[0][0].data.slice(0, 6))).toEqual([0, -0, 0, 2, -2, 1]);
  });

  it('a dataset without targets yields null y', () => {
    const ds = new TensorDataset(indexed(7).x);
    const b = [...new DataLoader(ds, { batchSize: 4 })];
    expect(b.map(([x, y]) => [x.shape[0], y])).toEqual([
      [4, null],
      [3, null],
    ]);
  });

  it('for-await (prefetching) yields the same batches as sync iteration for the same seed, epoch after epoch', async () => {
    const sync = new DataLoader(indexed(37), { batchSize: 6, shuffle: true, seed: 11 });
    const asy = new DataLoader(indexed(37), { batchSize: 6, shuffle: true, seed: 11 });
    for (let e = 0; e < 3; e++) {
      const s = epochSync(sync);
      const a = await epochAsync(asy);
      expect(a).toEqual(s);
      expect(sorted(a.flat())).toEqual(range(37));
    }
    expect(asy.epoch).toBe(3);
    // int32 features and multi-axis samples come through the async gather unchanged
    const xi = new Tensor(Int32Array.from(range(5 * 2 * 2)), [5, 2, 2]);
    const dl = new DataLoader(new TensorDataset(xi), { batchSize: 2, shuffle: true, seed: 1 });
    const syncRows: number[][] = [
      ...new DataLoader(new TensorDataset(xi), { batchSize: 2, shuffle: true, seed: 1 }),
    ].map(([x]) => Array.from(x.data));
    const asyncRows: number[][] = [];
    for await (const [x] of dl) {
      expect(x.dtype).toBe('int32');
      expect(x.shape.slice(1)).toEqual([2, 2]);
      asyncRows.push(Array.from(x.data));
    }
    expect(asyncRows).toEqual(syncRows);
    expect(sorted(asyncRows.flat())).toEqual(range(20));
  });

  it('state() / setState() resume mid-epoch identically (through JSON, into a loader with another seed)', async () => {
    const a = new DataLoader(indexed(40), { batchSize: 6, shuffle: true, seed: 21 });
    epochSync(a); // epoch 0
    const head: number[][] = [];
    for (const b of a) {
      head.push(idsOf(b));
      if (head.length === 3) break;
    }
    const saved = JSON.parse(JSON.stringify(a.state()));
    expect(saved.epoch).toBe(1);
    expect(saved.position).toBe(3);
    // A continues: the rest of epoch 1, then epoch 2
    const restA = epochSync(a);
    const nextA = epochSync(a);
    expect(sorted([...head, ...restA].flat())).toEqual(range(40));
    // B from another seed, restored, replays exactly that
    const b = new DataLoader(indexed(40), { batchSize: 6, shuffle: true, seed: 999 });
    b.setState(saved);
    expect(epochSync(b)).toEqual(restA);
    expect(epochSync(b)).toEqual(nextA);
    // and with for-await
    const c = new DataLoader(indexed(40), { batchSize: 6, shuffle: true, seed: 5 });
    c.setState(saved);
    expect(await epochAsync(c)).toEqual(restA);
    expect(await epochAsync(c)).toEqual(nextA);
    // a state taken between epochs resumes the next epoch's shuffle
    const d = new DataLoader(indexed(40), { batchSize: 6, shuffle: true, seed: 21 });
    epochSync(d);
    epochSync(d);
    const between = d.state();
    expect(between.position).toBe(0);
    expect(between.order).toBeNull();
    const e = new DataLoader(indexed(40), { batchSize: 6, shuffle: true, seed: 0 });
    e.setState(between);
    expect(epochSync(e)).toEqual(nextA);
  });

  it('state() inside a for-await loop resumes the same way', async () => {
    const a = new DataLoader(indexed(30), { batchSize: 4, shuffle: true, seed: 31 });
    const head: number[][] = [];
    let saved = a.state();
    for await (const b of a) {
      head.push(idsOf(b));
      if (head.length === 2) {
        saved = JSON.parse(JSON.stringify(a.state()));
        break;
      }
    }
    const rest = await epochAsync(a);
    expect(sorted([...head, ...rest].flat())).toEqual(range(30));
    const b = new DataLoader(indexed(30), { batchSize: 4, shuffle: true, seed: 1 });
    b.setState(saved);
    expect(epochSync(b)).toEqual(rest);
  });

  it('generator datasets: batches from the generator, restarted per epoch, map applied; async generators need for-await', async () => {
    let calls = 0;
    const gen = Dataset.fromGenerator(function* () {
      calls++;
      for (let i = 0; i < 3; i++)
        yield [new Tensor(new Float32Array([i, i]), [1, 2]), new Tensor(Int32Array.of(i), [1])];
    });
    expect(gen).toBeInstanceOf(GeneratorDataset);
    const dl = new DataLoader(gen, { map: (x, y) => [x.add(10), y] });
    expect([...dl].map(([x, y]) => [Array.from(x.data), Array.from(y!.data)])).toEqual([
      [[10, 10], [0]],
      [[11, 11], [1]],
      [[12, 12], [2]],
    ]);
    const again: number[] = [];
    for await (const [x] of dl) again.push(x.data[0]);
    expect(again).toEqual([10, 11, 12]);
    expect(calls).toBe(2);
    expect(dl.epoch).toBe(2);
    expect(() => dl.numBatches).toThrow('DataLoader.numBatches: unknown for generator datasets');

    const asyncGen = new DataLoader(
      Dataset.fromGenerator(async function* () {
        for (let i = 0; i < 2; i++) yield [new Tensor(new Float32Array([i]), [1, 1]), null] as Batch;
      }),
    );
    const got: number[] = [];
    for await (const [x] of asyncGen) got.push(x.data[0]);
    expect(got).toEqual([0, 1]);
    expect(() => [...asyncGen]).toThrow('DataLoader: this generator is async; iterate with for await');
    expect(() => Dataset.fromGenerator(42 as never)).toThrow(TypeError);
  });

  it('TensorDataset and DataLoader errors; get and subset', () => {
    const ds = indexed(6);
    const [x2, y2] = ds.get(2);
    expect(x2.shape).toEqual([3]);
    expect(Array.from(x2.data)).toEqual([2, -2, 1]);
    expect(y2!.shape).toEqual([]);
    expect(y2!.data[0]).toBe(1002);
    (x2.data as Float32Array)[0] = 99; // a copy
    expect(ds.x.data[6]).toBe(2);
    const sub = ds.subset(Int32Array.of(5, 0, 5));
    expect(sub.length).toBe(3);
    expect(idsOf([sub.x, sub.y])).toEqual([5, 0, 5]);
    expect(() => ds.get(6)).toThrow('TensorDataset.get: index 6 out of range for 6 samples');
    expect(() => ds.get(-1)).toThrow(/out of range/);
    expect(() => ds.get(1.5)).toThrow(/out of range/);
    expect(() => new TensorDataset([1, 2] as never)).toThrow('TensorDataset: x must be a Tensor');
    expect(() => new TensorDataset(new Tensor(new Float32Array([1]), []))).toThrow(/sample axis/);
    expect(() => new TensorDataset(ds.x, new Tensor(new Int32Array(5), [5]))).toThrow(
      'TensorDataset: x has 6 samples ([6,3]) but y has 5 ([5])',
    );
    expect(() => new TensorDataset(ds.x, 'y' as never)).toThrow('TensorDataset: y must be a Tensor or null');
    expect(() => new DataLoader(ds, { batchSize: 0 })).toThrow(
      'DataLoader: batchSize must be a positive integer, got 0',
    );
    expect(() => new DataLoader(ds, { batchSize: 2.5 })).toThrow(/batchSize must be a positive integer/);
    expect(() => new DataLoader({} as never)).toThrow(
      'DataLoader: dataset must be a TensorDataset or a GeneratorDataset',
    );
    expect(() => new DataLoader(new TensorDataset(new Tensor(new Float32Array(0), [0, 3])))).toThrow(
      'DataLoader: the dataset is empty',
    );
  });
});

// ---- IDX ----------------------------------------------------------------------------------------

/** An IDX file: magic 0 0, type, rank, big-endian u32 dims, then `body`. */
function idxBytes(type: number, dims: number[], body: Uint8Array | number[]): Uint8Array {
  const head = new Uint8Array(4 + 4 * dims.length);
  const v = new DataView(head.buffer);
  head.set([0, 0, type, dims.length]);
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

describe('IDX reader', () => {
  const dir = 'data/fashion-mnist-subset';
  const rawImages = gunzipSync(readFileSync(`${dir}/train-images-idx3-ubyte.gz`));
  const rawLabels = gunzipSync(readFileSync(`${dir}/train-labels-idx1-ubyte.gz`));

  it('the shipped subset: 10000 x 28 x 28 images, labels in 0..9, pixel sums decoded by hand', async () => {
    // header checked by hand
    expect(Array.from(rawImages.subarray(0, 4))).toEqual([0, 0, 8, 3]);
    expect(rawImages.readUInt32BE(4)).toBe(10000);
    expect(rawImages.length).toBe(16 + 10000 * 784);
    const images = await readIdx(`${dir}/train-images-idx3-ubyte.gz`);
    const labels = await readIdx(`${dir}/train-labels-idx1-ubyte.gz`);
    expect(images.shape).toEqual([10000, 28, 28]);
    expect(images.dtype).toBe('int32');
    expect(labels.shape).toEqual([10000]);
    expect(labels.dtype).toBe('int32');
    const counts = new Array<number>(10).fill(0);
    for (const l of labels.data) counts[l]++;
    expect(counts.reduce((s, c) => s + c, 0)).toBe(10000);
    for (const c of counts) expect(c).toBeGreaterThan(500); // every class well represented
    for (let i = 0; i < 10000; i += 997) expect(labels.data[i]).toBe(rawLabels[8 + i]);
    for (const i of [0, 1, 4321, 9999]) {
      let want = 0;
      for (let k = 0; k < 784; k++) want += rawImages[16 + i * 784 + k];
      let got = 0;
      for (let k = 0; k < 784; k++) got += images.data[i * 784 + k];
      expect(got).toBe(want);
      expect(want).toBeGreaterThan(0);
    }
    // a pixel by position: image 1, row 14, column 14
    expect(images.data[784 + 14 * 28 + 14]).toBe(rawImages[16 + 784 + 14 * 28 + 14]);
    // scaled to float32
    const scaled = await readIdx(`${dir}/train-images-idx3-ubyte.gz`, { scale: 1 / 255 });
    expect(scaled.dtype).toBe('float32');
    let max = 0;
    for (let k = 0; k < 784 * 10; k++) {
      expect(scaled.data[k]).toBe(Math.fround(rawImages[16 + k] * (1 / 255)));
      max = Math.max(max, scaled.data[k]);
    }
    expect(max).toBeLessThanOrEqual(1);
    const t10k = await readIdx(`${dir}/t10k-labels-idx1-ubyte.gz`);
    expect(t10k.shape).toEqual([2000]);
  });

  it('plain (gunzipped) and gzip inputs decode the same', () => {
    const plain = parseIdx(rawLabels);
    const gz = parseIdx(readFileSync(`${dir}/train-labels-idx1-ubyte.gz`));
    expect(plain.shape).toEqual([10000]);
    expect(Buffer.from(plain.data.buffer).equals(Buffer.from(gz.data.buffer))).toBe(true);
    const plainFile = join(tmp, 'labels-idx1-ubyte');
    writeFileSync(plainFile, rawLabels);
    return readIdx(plainFile).then((t) =>
      expect(Array.from(t.data.slice(0, 50))).toEqual(Array.from(rawLabels.subarray(8, 58))),
    );
  });

  it('every element type, big-endian, with the dtype and scale options', () => {
    const be = (bytes: number, set: (v: DataView, o: number, x: number) => void, vals: number[]): number[] => {
      const b = new Uint8Array(bytes * vals.length);
      const v = new DataView(b.buffer);
      vals.forEach((x, i) => set(v, i * bytes, x));
      return Array.from(b);
    };
    const i8 = parseIdx(idxBytes(0x09, [4], [0x00, 0x7f, 0x80, 0xff]));
    expect(Array.from(i8.data)).toEqual([0, 127, -128, -1]);
    const i16 = parseIdx(
      idxBytes(
        0x0b,
        [3],
        be(2, (v, o, x) => v.setInt16(o, x, false), [1, -2, 30000]),
      ),
    );
    expect(Array.from(i16.data)).toEqual([1, -2, 30000]);
    const i32 = parseIdx(
      idxBytes(
        0x0c,
        [2, 1],
        be(4, (v, o, x) => v.setInt32(o, x, false), [-5, 2 ** 30]),
      ),
    );
    expect(i32.shape).toEqual([2, 1]);
    expect(Array.from(i32.data)).toEqual([-5, 2 ** 30]);
    const f32 = parseIdx(
      idxBytes(
        0x0d,
        [2],
        be(4, (v, o, x) => v.setFloat32(o, x, false), [1.5, -0.25]),
      ),
    );
    expect(f32.dtype).toBe('float32');
    expect(Array.from(f32.data)).toEqual([1.5, -0.25]);
    const f64 = parseIdx(
      idxBytes(
        0x0e,
        [2],
        be(8, (v, o, x) => v.setFloat64(o, x, false), [0.1, -3]),
      ),
    );
    expect(Array.from(f64.data)).toEqual([Math.fround(0.1), -3]);
    const u8 = idxBytes(0x08, [3], [0, 128, 255]);
    expect(parseIdx(u8, { dtype: 'float32' }).dtype).toBe('float32');
    expect(Array.from(parseIdx(u8, { scale: 2 }).data)).toEqual([0, 256, 510]);
    expect(Array.from(parseIdx(u8).data)).toEqual([0, 128, 255]);
  });

  it('hostile headers give clear errors naming the source', () => {
    const src = { source: 'evil.idx' };
    expect(() => parseIdx(new Uint8Array([0, 0]), src)).toThrow('evil.idx: 2 bytes is too short for an IDX header');
    expect(() => parseIdx(new Uint8Array([0, 0, 8, 3, 0, 0, 0, 1]), src)).toThrow(
      'evil.idx: truncated header (8 bytes, needs 16)',
    );
    expect(() =>
      parseIdx(
        idxBytes(8, [1], [1]).map((b, i) => (i === 1 ? 8 : b)),
        src,
      ),
    ).toThrow('evil.idx: bad magic bytes 0, 8 (expected 0, 0)');
    expect(() => parseIdx(new Uint8Array([0x50, 0x4b, 3, 4, 0, 0]))).toThrow('IDX data: bad magic bytes 80, 75');
    expect(() => parseIdx(idxBytes(0x0a, [1], [1]), src)).toThrow('evil.idx: unknown element type 0xa');
    expect(() => parseIdx(idxBytes(0x07, [1], [1]), src)).toThrow('unknown element type 0x7');
    expect(() => parseIdx(new Uint8Array([0, 0, 8, 0, 1]), src)).toThrow('evil.idx: rank 0 is outside 1..8');
    expect(() => parseIdx(idxBytes(8, new Array(9).fill(1), [1]), src)).toThrow('evil.idx: rank 9 is outside 1..8');
    // product of dims vs data length: shorter and longer
    expect(() => parseIdx(idxBytes(8, [2, 3], [1, 2, 3, 4, 5]), src)).toThrow(
      'evil.idx: 17 bytes but the header [2, 3] of uint8 needs exactly 18',
    );
    expect(() => parseIdx(idxBytes(8, [2, 3], [1, 2, 3, 4, 5, 6, 7]), src)).toThrow(
      'evil.idx: 19 bytes but the header [2, 3] of uint8 needs exactly 18',
    );
    expect(() => parseIdx(idxBytes(0x0c, [2], [0, 0, 0, 1, 0, 0, 0]), src)).toThrow(
      'evil.idx: 15 bytes but the header [2] of int32 needs exactly 16',
    );
    expect(parseIdx(idxBytes(8, [2, 3], [1, 2, 3, 4, 5, 6])).shape).toEqual([2, 3]);
  });

  it('huge dimensions throw at once, before any allocation', () => {
    const t0 = performance.now();
    expect(() => parseIdx(idxBytes(0x0e, [0xffffffff, 0xffffffff, 0xffffffff], []))).toThrow(
      /exceed the 1073741824-byte limit/,
    );
    expect(() => parseIdx(idxBytes(0x08, [60000, 28, 28], [1, 2, 3]), { maxBytes: 1 << 20 })).toThrow(
      'IDX data: dimensions [60000,28] exceed the 1048576-byte limit',
    );
    // within the limit but with no data behind it: the length check, not an allocation
    expect(() => parseIdx(idxBytes(0x0d, [1 << 27], [0, 0, 0, 0]))).toThrow(/needs exactly 536870920/);
    expect(performance.now() - t0).toBeLessThan(200);
  });

  it('a gzip bomb is capped by maxBytes; corrupt gzip is reported', () => {
    const n = 16 << 20; // 16 MiB of zeros, ~16 KiB compressed
    const bomb = gzipSync(idxBytes(8, [n], new Uint8Array(n)));
    expect(bomb.length).toBeLessThan(100_000);
    const t0 = performance.now();
    expect(() => parseIdx(bomb, { maxBytes: 1 << 20, source: 'bomb.gz' })).toThrow(
      /^bomb.gz: cannot decompress gzip data \(/,
    );
    expect(performance.now() - t0).toBeLessThan(1000);
    // under a large enough cap it is a valid file
    expect(parseIdx(bomb, { maxBytes: n + 64 }).shape).toEqual([n]);
    const truncated = bomb.subarray(0, bomb.length >> 1);
    expect(() => parseIdx(truncated, { source: 'cut.gz' })).toThrow(/^cut.gz: cannot decompress gzip data/);
  });

  it('readIdx of a missing file rejects', async () => {
    await expect(readIdx(join(tmp, 'nope.idx'))).rejects.toThrow(/ENOENT/);
  });
});

// ---- CSV ----------------------------------------------------------------------------------------

describe('CSV', () => {
  it('with a header, numeric columns to float32, string columns as strings', () => {
    const t = parseCsv('a,b,name\n1,2.5,x\n-3,4e2,"y"\n\n');
    expect(t.columns).toEqual(['a', 'b', 'name']);
    expect(t.rows).toEqual([
      ['1', '2.5', 'x'],
      ['-3', '4e2', 'y'],
    ]);
    const m = csvColumns(t, ['b', 'a']);
    expect(m.shape).toEqual([2, 2]);
    expect(m.dtype).toBe('float32');
    expect(Array.from(m.data)).toEqual([2.5, 1, 400, -3]);
    expect(csvColumn(t, 'name')).toEqual(['x', 'y']);
  });

  it('without a header: columns c0, c1, ...; every line is data', () => {
    const t = parseCsv('1,2\n3,4\n', { header: false });
    expect(t.columns).toEqual(['c0', 'c1']);
    expect(Array.from(csvColumns(t, ['c0', 'c1']).data)).toEqual([1, 2, 3, 4]);
  });

  it('quoted fields with commas, quotes and newlines; delimiter, comments and trimming', () => {
    const t = parseCsv('name,city,n\n"Smith, John","say ""hi""",1\n"multi\nline", plain ,2\n');
    expect(t.rows).toEqual([
      ['Smith, John', 'say "hi"', '1'],
      ['multi\nline', 'plain', '2'],
    ]);
    const s = parseCsv('# comment\na;b\n1;2\n# another\n3;4\n', { delimiter: ';', comment: '#' });
    expect(s.columns).toEqual(['a', 'b']);
    expect(s.rows).toEqual([
      ['1', '2'],
      ['3', '4'],
    ]);
  });

  it('a ragged row throws naming the line', () => {
    expect(() => parseCsv('a,b\n1,2\n3,4,5\n')).toThrow(/^parseCsv: .*Invalid Record Length.*line 3/);
    expect(() => parseCsv('a,b\n1\n')).toThrow(/^parseCsv: .*line 2/);
  });

  it('a non-numeric cell throws naming its row and column; NaN is accepted literally', () => {
    const t = parseCsv('a,b\n1,2\n3,x\n');
    expect(() => csvColumns(t, ['a', 'b'])).toThrow("CSV row 2, column 'b': 'x' is not a number");
    expect(Array.from(csvColumns(t, ['a']).data)).toEqual([1, 3]);
    const e = parseCsv('a,b\n1,\n');
    expect(() => csvColumns(e, ['b'])).toThrow("CSV row 1, column 'b': '' is not a number");
    const n = parseCsv('a\nNaN\n2\n');
    const v = csvColumns(n, ['a']).data;
    expect(Number.isNaN(v[0])).toBe(true);
    expect(v[1]).toBe(2);
  });

  it('unknown columns, empty input; readCsv from a file', async () => {
    const t = parseCsv('a,b\n1,2\n');
    expect(() => csvColumns(t, ['a', 'z'])).toThrow("CSV has no column 'z' (columns: a, b)");
    expect(() => csvColumn(t, 'q')).toThrow("CSV has no column 'q'");
    expect(() => parseCsv('')).toThrow('parseCsv: the CSV is empty');
    expect(() => parseCsv('\n\n')).toThrow('parseCsv: the CSV is empty');
    const f = join(tmp, 't.csv');
    writeFileSync(f, 'x,y\n0.5,1\n1.5,0\n');
    const r = await readCsv(f);
    expect(Array.from(csvColumns(r, ['x', 'y']).data)).toEqual([0.5, 1, 1.5, 0]);
    await expect(readCsv(join(tmp, 'missing.csv'))).rejects.toThrow(/ENOENT/);
  });
});

// ---- splits -------------------------------------------------------------------------------------

describe('trainTestSplit and kFold', () => {
  const n = 20;
  const x = new Tensor(
    Float32Array.from({ length: n * 2 }, (_, k) => (k % 2 ? -Math.floor(k / 2) : Math.floor(k / 2))),
    [n, 2],
  );
  const y = new Tensor(
    Int32Array.from({ length: n }, (_, i) => 100 + i),
    [n],
  );
  const ids = (t: Tensor): number[] => Array.from({ length: t.shape[0] }, (_, r) => t.data[2 * r]);

  it('sizes (fraction or count), rows kept aligned, nothing lost or duplicated', () => {
    const s = trainTestSplit(x, y, { testSize: 0.25, seed: 1 });
    expect(s.xTrain.shape).toEqual([15, 2]);
    expect(s.xTest.shape).toEqual([5, 2]);
    expect(s.yTrain!.shape).toEqual([15]);
    expect(s.yTest!.shape).toEqual([5]);
    const all = [...ids(s.xTrain), ...ids(s.xTest)];
    expect(sorted(all)).toEqual(range(n));
    for (const [xs, ys] of [
      [s.xTrain, s.yTrain!],
      [s.xTest, s.yTest!],
    ])
      ids(xs).forEach((i, r) => {
        expect(ys.data[r]).toBe(100 + i);
        expect(xs.data[2 * r + 1]).toBe(-i);
      });
    expect(ids(s.xTrain)).not.toEqual(range(15)); // shuffled
    const c = trainTestSplit(x, null, { testSize: 7, seed: 1 });
    expect(c.xTest.shape[0]).toBe(7);
    expect(c.yTrain).toBeNull();
    expect(trainTestSplit(x, y, { seed: 2 }).xTest.shape[0]).toBe(5); // default 0.25
    expect(trainTestSplit(x, y, { testSize: 0.33, seed: 2 }).xTest.shape[0]).toBe(7); // round(6.6)
  });

  it('shuffle false keeps the order (the test part is the tail); a seed reproduces a shuffle', () => {
    const s = trainTestSplit(x, y, { testSize: 0.3, shuffle: false });
    expect(ids(s.xTrain)).toEqual(range(14));
    expect(ids(s.xTest)).toEqual([14, 15, 16, 17, 18, 19]);
    expect(Array.from(s.yTest!.data)).toEqual([114, 115, 116, 117, 118, 119]);
    const a = trainTestSplit(x, y, { seed: 9 });
    const b = trainTestSplit(x, y, { seed: 9 });
    const c = trainTestSplit(x, y, { seed: 10 });
    expect(ids(b.xTest)).toEqual(ids(a.xTest));
    expect(ids(c.xTrain)).not.toEqual(ids(a.xTrain));
  });

  it('bad sizes throw', () => {
    expect(() => trainTestSplit(x, y, { testSize: 21 })).toThrow('trainTestSplit: testSize 21 does not fit 20 samples');
    expect(() => trainTestSplit(x, y, { testSize: 2.5 })).toThrow(/testSize 2.5 does not fit/);
    expect(() => trainTestSplit(x, y, { testSize: -0.1 })).toThrow(/does not fit/);
    expect(() => trainTestSplit(x, y.slice(0, 5))).toThrow('trainTestSplit: x has 20 samples, y 5');
  });

  it('kFold: every sample in exactly one test fold, train = the rest, sizes within one', () => {
    for (const [m, k] of [
      [20, 5],
      [23, 4],
      [7, 7],
    ]) {
      const folds = kFold(m, k, { seed: 3 });
      expect(folds).toHaveLength(k);
      const tests = folds.flatMap((f) => Array.from(f.test));
      expect(sorted(tests)).toEqual(range(m));
      const sizes = folds.map((f) => f.test.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      for (const f of folds) {
        expect(sorted([...f.train, ...f.test])).toEqual(range(m));
        expect(f.train.length + f.test.length).toBe(m);
      }
    }
    const ordered = kFold(10, 3, { shuffle: false });
    expect(ordered.map((f) => Array.from(f.test))).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7, 8, 9],
    ]);
    expect(Array.from(ordered[1].train)).toEqual([0, 1, 2, 6, 7, 8, 9]);
    expect(kFold(30, 3, { seed: 4 }).map((f) => Array.from(f.test))).toEqual(
      kFold(30, 3, { seed: 4 }).map((f) => Array.from(f.test)),
    );
    expect(kFold(30, 3, { seed: 4 })[0].test).not.toEqual(kFold(30, 3, { seed: 5 })[0].test);
    expect(() => kFold(10, 1)).toThrow('kFold: k must be an integer in [2, 10], got 1');
    expect(() => kFold(3, 4)).toThrow(/got 4/);
  });
});

// ---- preprocessing ------------------------------------------------------------------------------

describe('preprocessing', () => {
  // 6 samples x 3 features; feature 2 is constant.
  const rows = [
    [1, 100, 7],
    [2, 300, 7],
    [4, -50, 7],
    [8, 0, 7],
    [-3, 20, 7],
    [0.5, 1e3, 7],
  ];
  const x = new Tensor(Float32Array.from(rows.flat()), [6, 3]);
  const col = (j: number): number[] => rows.map((r) => Math.fround(r[j]));
  const close = (a: ArrayLike<number>, b: number[], tol = 1e-6): void => {
    expect(a.length).toBe(b.length);
    for (let i = 0; i < b.length; i++)
      expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i])));
  };

  it('StandardScaler: population mean / std per column, std 1 for constant columns, exact inverse', () => {
    const s = new StandardScaler().fit(x);
    for (let j = 0; j < 3; j++) {
      const c = col(j);
      const mean = c.reduce((a, v) => a + v, 0) / c.length;
      const std = Math.sqrt(c.reduce((a, v) => a + (v - mean) ** 2, 0) / c.length);
      expect(s.mean![j]).toBeCloseTo(mean, 10);
      expect(s.std![j]).toBeCloseTo(std > 0 ? std : 1, 10);
    }
    const z = s.transform(x);
    const want: number[] = [];
    for (let i = 0; i < 6; i++) for (let j = 0; j < 3; j++) want.push((rows[i][j] - s.mean![j]) / s.std![j]);
    close(z.data, want);
    // transformed columns have mean 0 and std 1 (0 for the constant one)
    for (let j = 0; j < 2; j++) {
      const c = Array.from({ length: 6 }, (_, i) => z.data[3 * i + j]);
      expect(c.reduce((a, v) => a + v, 0) / 6).toBeCloseTo(0, 5);
      expect(Math.sqrt(c.reduce((a, v) => a + v * v, 0) / 6)).toBeCloseTo(1, 5);
    }
    for (let i = 0; i < 6; i++) expect(z.data[3 * i + 2]).toBe(0);
    close(s.inverseTransform(z).data, rows.flat(), 1e-5);
    close(new StandardScaler().fitTransform(x).data, Array.from(z.data));
    // numerically stable for a large offset
    const off = new Tensor(Float32Array.from([1e6 + 1, 1e6 + 2, 1e6 + 3, 1e6 + 4]), [4, 1]);
    expect(new StandardScaler().fit(off).std![0]).toBeCloseTo(Math.sqrt(1.25), 9);
  });

  it("StandardScaler({ over: 'all' }): one mean and std over every value, any width, JSON round trip", () => {
    const s = new StandardScaler({ over: 'all' }).fit(x);
    const all = rows.flat();
    const mean = all.reduce((a, v) => a + v, 0) / all.length;
    const std = Math.sqrt(all.reduce((a, v) => a + (v - mean) ** 2, 0) / all.length);
    expect(s.mean!.length).toBe(1);
    expect(s.mean![0]).toBeCloseTo(mean, 10);
    expect(s.std![0]).toBeCloseTo(std, 10);
    const z = s.transform(x);
    close(
      z.data,
      all.map((v) => (v - mean) / std),
    );
    close(s.inverseTransform(z).data, all, 1e-5);
    // statistics over all values apply to any number of columns
    const wide = new Tensor(Float32Array.from([mean, mean + std, mean - std, mean]), [1, 4]);
    close(s.transform(wide).data, [0, 1, -1, 0]);
    const back = StandardScaler.fromJSON(JSON.parse(JSON.stringify(s)));
    expect(back.over).toBe('all');
    close(back.transform(x).data, Array.from(z.data));
    expect(() => new StandardScaler({ over: 'rows' as 'all' })).toThrow(
      "StandardScaler: over must be 'feature' or 'all', got rows",
    );
    expect(() => StandardScaler.fromJSON({ type: 'StandardScaler', over: 'all', mean: [0, 1], std: [1, 1] })).toThrow(
      'exactly one mean',
    );
    expect(() => StandardScaler.fromJSON({ type: 'StandardScaler', mean: [0], std: [0] })).toThrow(
      'std finite and positive',
    );
  });

  it('MinMaxScaler: to [0, 1] and to a custom range; constant columns map to the range start', () => {
    const s = new MinMaxScaler().fit(x);
    const want: number[] = [];
    for (let i = 0; i < 6; i++)
      for (let j = 0; j < 3; j++) {
        const c = col(j);
        const lo = Math.min(...c);
        const hi = Math.max(...c);
        want.push(hi > lo ? (rows[i][j] - lo) / (hi - lo) : 0);
      }
    close(s.transform(x).data, want);
    const r = new MinMaxScaler([-1, 1]).fit(x).transform(x);
    close(
      r.data,
      want.map((v, k) => (k % 3 === 2 ? -1 : -1 + 2 * v)),
    );
    // values outside the training range extrapolate linearly
    const out = s.transform(new Tensor(Float32Array.from([16, 2100, 7]), [1, 3]));
    close(out.data, [(16 + 3) / 11, (2100 + 50) / 1050, 0]);
    expect(() => new MinMaxScaler([1, 1])).toThrow(/must be increasing/);
  });

  it('Normalizer: unit L2 rows, zero rows stay zero', () => {
    const t = new Tensor(Float32Array.from([3, 4, 0, 0, 0, 0, 1, 1, 1]), [3, 3]);
    const out = new Normalizer().transform(t);
    close(out.data, [0.6, 0.8, 0, 0, 0, 0, 1 / Math.sqrt(3), 1 / Math.sqrt(3), 1 / Math.sqrt(3)]);
    const norms = new Normalizer().transform(x);
    for (let i = 0; i < 6; i++) {
      let s = 0;
      for (let j = 0; j < 3; j++) s += norms.data[3 * i + j] ** 2;
      expect(Math.sqrt(s)).toBeCloseTo(1, 6);
    }
    expect(Normalizer.fromJSON().transform(t).data).toEqual(out.data);
    expect(new Normalizer().toJSON()).toEqual({ type: 'Normalizer' });
  });

  it('toJSON / fromJSON round trips (through JSON text) give bit-identical transforms', () => {
    const probe = new Tensor(Float32Array.from([0.3, 12, 7, -2, 5000, 6.5]), [2, 3]);
    const ss = new StandardScaler().fit(x);
    const ss2 = StandardScaler.fromJSON(JSON.parse(JSON.stringify(ss)));
    expect(Buffer.from(ss2.transform(probe).data.buffer).equals(Buffer.from(ss.transform(probe).data.buffer))).toBe(
      true,
    );
    expect(Array.from(ss2.inverseTransform(probe).data)).toEqual(Array.from(ss.inverseTransform(probe).data));
    const mm = new MinMaxScaler([-2, 3]).fit(x);
    const mm2 = MinMaxScaler.fromJSON(JSON.parse(JSON.stringify(mm)));
    expect(mm2.range).toEqual([-2, 3]);
    expect(Buffer.from(mm2.transform(probe).data.buffer).equals(Buffer.from(mm.transform(probe).data.buffer))).toBe(
      true,
    );
    expect(() => StandardScaler.fromJSON({ type: 'MinMaxScaler', mean: [], std: [] })).toThrow(
      'StandardScaler.fromJSON: not a StandardScaler',
    );
    expect(() => MinMaxScaler.fromJSON({ type: 'MinMaxScaler', range: [0, 1], min: [1], max: [] })).toThrow(
      /not a MinMaxScaler/,
    );
    for (const [min, max] of [
      [[2], [1]],
      [[NaN], [1]],
      [[0], [Infinity]],
    ])
      expect(() => MinMaxScaler.fromJSON({ type: 'MinMaxScaler', range: [0, 1], min, max })).toThrow(
        'MinMaxScaler.fromJSON: min and max must be finite with min <= max in every feature',
      );
    expect(() => new StandardScaler().toJSON()).toThrow('StandardScaler.toJSON: not fitted');
  });

  it('scaler errors: not fitted, wrong feature count, wrong dtype or rank, no samples', () => {
    expect(() => new StandardScaler().transform(x)).toThrow('StandardScaler.transform: call fit() first');
    expect(() => new MinMaxScaler().transform(x)).toThrow('MinMaxScaler.transform: call fit() first');
    const s = new StandardScaler().fit(x);
    expect(() => s.transform(new Tensor(new Float32Array(4), [2, 2]))).toThrow(
      'StandardScaler.transform: fitted on 3 features, got [2,2]',
    );
    expect(() => s.transform(new Tensor(new Int32Array(6), [2, 3]))).toThrow(
      /expected a float32 tensor \(samples, features\), got int32 \[2,3\]/,
    );
    expect(() => s.transform(new Tensor(new Float32Array(6), [6]))).toThrow(/got float32 \[6\]/);
    expect(() => new StandardScaler().fit(new Tensor(new Float32Array(0), [0, 3]))).toThrow(
      'StandardScaler.fit: no samples',
    );
    expect(() => new MinMaxScaler().fit(new Tensor(new Float32Array(0), [0, 3]))).toThrow(
      'MinMaxScaler.fit: no samples',
    );
  });

  it('LabelEncoder: sorted classes for strings and numbers, inverse, unseen label error, JSON', () => {
    const e = new LabelEncoder();
    const labels = ['cat', 'dog', 'ant', 'dog', 'cat'];
    const t = e.fitTransform(labels);
    expect(e.classes).toEqual(['ant', 'cat', 'dog']);
    expect(t.dtype).toBe('int32');
    expect(Array.from(t.data)).toEqual([1, 2, 0, 2, 1]);
    expect(e.inverseTransform(t)).toEqual(labels);
    expect(() => e.transform(['cat', 'emu'])).toThrow(
      'LabelEncoder.transform: label "emu" (row 1) was not seen in fit',
    );
    expect(() => e.inverseTransform(new Tensor(Int32Array.of(3), [1]))).toThrow(
      'LabelEncoder.inverseTransform: index 3 is outside 3 classes',
    );
    const n = new LabelEncoder().fit([10, 2, 33, 2]);
    expect(n.classes).toEqual([2, 10, 33]); // numeric order, not string order
    expect(Array.from(n.transform([33, 2]).data)).toEqual([2, 0]);
    expect(() => n.transform(['2'])).toThrow(/label "2"/); // '2' is not 2
    const back = LabelEncoder.fromJSON(JSON.parse(JSON.stringify(e)));
    expect(Array.from(back.transform(labels).data)).toEqual([1, 2, 0, 2, 1]);
    expect(() => new LabelEncoder().transform(['a'])).toThrow('LabelEncoder.transform: call fit() first');
    expect(() => new LabelEncoder().fit([])).toThrow(/non-empty/);
    expect(() => LabelEncoder.fromJSON({ type: 'x', classes: [] })).toThrow(/not a LabelEncoder/);
  });

  it('OneHotEncoder: transform, inverse (argmax), out-of-range error, fit, JSON', () => {
    const idx = new Tensor(Int32Array.of(2, 0, 3, 2), [4]);
    const enc = new OneHotEncoder(4);
    const oh = enc.transform(idx);
    expect(oh.shape).toEqual([4, 4]);
    expect(oh.toArray()).toEqual([
      [0, 0, 1, 0],
      [1, 0, 0, 0],
      [0, 0, 0, 1],
      [0, 0, 1, 0],
    ]);
    expect(Array.from(enc.inverseTransform(oh).data)).toEqual([2, 0, 3, 2]);
    const soft = new Tensor(Float32Array.from([0.1, 0.7, 0.2, 0, 0.5, 0.2, 0.2, 0.1]), [2, 4]);
    expect(Array.from(enc.inverseTransform(soft).data)).toEqual([1, 0]);
    expect(() => enc.transform(new Tensor(Int32Array.of(0, 4), [2]))).toThrow(
      'OneHotEncoder.transform: index 4 at row 1 is outside [0, 4)',
    );
    expect(() => enc.transform(new Tensor(Int32Array.of(-1), [1]))).toThrow(/index -1 at row 0/);
    expect(() => enc.transform(new Tensor(Float32Array.of(1), [1]))).toThrow(/expected int32 class indices/);
    const fitted = new OneHotEncoder().fit(idx);
    expect(fitted.numClasses).toBe(4);
    expect(() => new OneHotEncoder().fit(new Tensor(Int32Array.of(1, -2), [2]))).toThrow(
      'OneHotEncoder.fit: class indices must be >= 0, got -2 at row 1',
    );
    expect(() => new OneHotEncoder().fit(new Tensor(new Int32Array(0), [0]))).toThrow(
      'OneHotEncoder.fit: needs at least one class index, got none',
    );
    expect(() => new OneHotEncoder().transform(idx)).toThrow(/numClasses unknown/);
    const back = OneHotEncoder.fromJSON(JSON.parse(JSON.stringify(fitted)));
    expect(back.transform(idx).toArray()).toEqual(oh.toArray());
    expect(() => OneHotEncoder.fromJSON({ type: 'OneHotEncoder', numClasses: 0 })).toThrow(/not a OneHotEncoder/);
  });
});

// ---- plot ---------------------------------------------------------------------------------------

describe('historyToSvg / historyToHtml', () => {
  const history = {
    epoch: [0, 1, 2, 3],
    history: {
      loss: [1.2, 0.8, 0.6, 0.55],
      accuracy: [0.5, 0.7, 0.8, 0.82],
      val_loss: [1.3, 0.9, 0.8, 0.85],
      val_accuracy: [0.45, 0.65, 0.7, 0.69],
      lr: [0.1, 0.1, 0.05, 0.05],
    },
  };

  /** Loose well-formedness: balanced tags, one root. */
  function checkSvg(svg: string): void {
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<svg\b/g)).toHaveLength(1);
    const stack: string[] = [];
    for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
      const [, close, name, self] = m;
      if (self) continue;
      if (close) expect(stack.pop()).toBe(name);
      else stack.push(name);
    }
    expect(stack).toEqual([]);
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  }

  it('one panel per metric, a polyline per series, the names and the validation legend', () => {
    const svg = historyToSvg(history, { title: 'Run <1> & "friends"' });
    checkSvg(svg);
    expect(svg.match(/<polyline /g)).toHaveLength(4); // loss, val_loss, accuracy, val_accuracy
    expect(svg).toContain('>loss<');
    expect(svg).toContain('>accuracy<');
    expect(svg).toContain('validation');
    expect(svg).toContain('training');
    expect(svg).not.toContain('>lr<'); // the lr is not a panel
    expect(svg).toContain('Run &lt;1&gt; &amp; &quot;friends&quot;');
    // every point of every series is drawn: 4 series x 4 epochs
    expect(svg.match(/<circle /g)).toHaveLength(16);
    // each polyline has one point per epoch, inside the viewBox
    const [, w, h] = /viewBox="0 0 (\d+) (\d+)"/.exec(svg)!.map(Number);
    for (const m of svg.matchAll(/<polyline points="([^"]+)"/g)) {
      const pts = m[1].split(' ').map((p) => p.split(',').map(Number));
      expect(pts).toHaveLength(4);
      for (const [px, py] of pts) {
        expect(px).toBeGreaterThanOrEqual(0);
        expect(px).toBeLessThanOrEqual(w);
        expect(py).toBeGreaterThanOrEqual(0);
        expect(py).toBeLessThanOrEqual(h);
      }
      // x increases with the epoch
      for (let i = 1; i < pts.length; i++) expect(pts[i][0]).toBeGreaterThan(pts[i - 1][0]);
    }
  });

  it('a higher value is drawn higher up (SVG y grows downwards)', () => {
    const svg = historyToSvg({ epoch: [0, 1], history: { loss: [2, 1] } });
    const pts = /<polyline points="([^"]+)"/
      .exec(svg)![1]
      .split(' ')
      .map((p) => p.split(',').map(Number));
    expect(pts[0][1]).toBeLessThan(pts[1][1]);
    expect(svg).not.toContain('validation');
  });

  it('non-finite values are skipped, constant and huge nearly-equal series still render (no hang)', () => {
    checkSvg(historyToSvg({ epoch: [0, 1, 2], history: { loss: [1, NaN, 0.5] } }));
    checkSvg(historyToSvg({ epoch: [0, 1, 2], history: { loss: [0.3, 0.3, 0.3] } }));
    checkSvg(historyToSvg({ epoch: [0, 1, 2], history: { loss: [0, 0, 0] } }));
    const t0 = performance.now();
    checkSvg(historyToSvg({ epoch: [0, 1], history: { loss: [1e20, 1e20 + 16384] } }));
    expect(performance.now() - t0).toBeLessThan(500);
    // a single epoch: points, no line
    const one = historyToSvg({ epoch: [0], history: { loss: [0.7] } });
    checkSvg(one);
    expect(one).not.toContain('<polyline');
    expect(one.match(/<circle /g)).toHaveLength(1);
  });

  it('historyToHtml embeds the SVG and the final values; a history without metrics throws', () => {
    const html = historyToHtml(history, { title: 'My run' });
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<title>My run</title>');
    expect(html).toContain(historyToSvg(history, { title: 'My run' }));
    expect(html).toContain('<td>val_accuracy</td><td>0.69000</td>');
    expect(html).toContain('<td>loss</td><td>0.55000</td>');
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    expect(() => historyToSvg({ epoch: [], history: {} })).toThrow('historyToSvg: the history has no metrics');
    expect(() => historyToSvg({ epoch: [0], history: { lr: [0.1], val_loss: [1] } })).toThrow(/no metrics/);
    expect(() => historyToHtml({ epoch: [], history: {} })).toThrow(/no metrics/);
  });
});
