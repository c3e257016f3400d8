/**
 * Sharding data across ranks. DistributedSampler gives each rank its share of a dataset's
 * indices per epoch, as PyTorch's does: one seeded permutation shared by all ranks (seed +
 * epoch), padded by repeating its start or cut to a multiple of the rank count, then rank r
 * takes positions r, r + size, r + 2 size, ... Every rank thus has the same number of samples,
 * hence the same number of batches (every step is a collective: unequal counts would hang),
 * and batch b of all ranks together is batch b of one process with the global batch size.
 */
import { DataLoader, Dataset, type Batch } from '../data/dataset.js';
import { identityIndices, takeRows } from '../data/rows.js';
import { Generator } from '../tensor/random.js';
import { shapeToString } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { rank as worldRank, size as worldSize } from './comm.js';
import { checkOptionKeys, intOption, optionKeys } from '../options.js';

/**
 * Options of {@link DistributedSampler}: which rank of how many (default: this process's place
 * in the MPI job), shuffling and its seed, and padding or dropping the uneven tail.
 *
 * @example
 * ```ts
 * import { DistributedSampler, distributed } from 'axon-nn';
 * const options: distributed.DistributedSamplerOptions = { rank: 1, size: 4, shuffle: false };
 * const sampler = new DistributedSampler(10, options);
 * console.log(sampler.indices()); // Int32Array [1, 5, 9]
 * ```
 */
export interface DistributedSamplerOptions {
  /** Default: this process's rank (distributed.rank()). */
  rank?: number;
  /** Default: the number of processes (distributed.size()). */
  size?: number;
  /** Permute the samples every epoch (default true). */
  shuffle?: boolean;
  /** Seed of the permutations; must be equal on every rank (default 0, as PyTorch). */
  seed?: number;
  /** Drop the tail that does not divide evenly across ranks instead of padding it by
   * repeating samples from the start of the permutation (default false: pad). */
  dropLast?: boolean;
}
const SAMPLER_KEYS = optionKeys<DistributedSamplerOptions>({
  rank: true,
  size: true,
  shuffle: true,
  seed: true,
  dropLast: true,
});

/**
 * Indices of this rank's samples per epoch, as PyTorch's `DistributedSampler`: one permutation
 * of `seed + epoch` shared by all ranks, padded by repeating its start (or cut, with dropLast)
 * to a multiple of the rank count; rank r takes positions r, r + size, r + 2 size, ... Every
 * rank gets the same number of samples. Works without MPI when rank and size are given.
 * @throws RangeError when length, rank, size or seed is out of range, or dropLast leaves a rank
 *   no sample.
 *
 * @example
 * ```ts
 * import { DistributedSampler } from 'axon-nn';
 * const sampler = new DistributedSampler(10, { rank: 3, size: 4, shuffle: false });
 * console.log(sampler.numSamples, sampler.indices()); // 3 Int32Array [3, 7, 1] (1 pads the tail)
 * sampler.setEpoch(1); // with shuffle (the default), each epoch draws a new permutation
 * ```
 */
export class DistributedSampler {
  /** This sampler's rank, 0 to size - 1. */
  readonly rank: number;
  /** Number of ranks sharing the dataset. */
  readonly size: number;
  /** Whether each epoch's order is a seeded permutation (else 0, 1, 2, ...). */
  readonly shuffle: boolean;
  /** Base seed of the permutations; epoch e uses seed + e. */
  readonly seed: number;
  /** Whether the tail that does not divide evenly is dropped instead of padded. */
  readonly dropLast: boolean;
  /** Samples per rank per epoch (equal on every rank). */
  readonly numSamples: number;
  /** numSamples x size: the samples one epoch covers across ranks (padding included). */
  readonly totalSize: number;
  /** The epoch whose permutation indices() returns (set it with setEpoch). */
  epoch = 0;

  constructor(
    /** Number of samples in the dataset. */
    readonly length: number,
    options: DistributedSamplerOptions = {},
  ) {
    checkOptionKeys('DistributedSampler', options, SAMPLER_KEYS);
    this.size = options.size ?? worldSize();
    this.rank = options.rank ?? worldRank();
    if (!Number.isInteger(length) || length < 1)
      throw new RangeError(`DistributedSampler: length must be a positive integer, got ${length}`);
    if (!Number.isInteger(this.size) || this.size < 1)
      throw new RangeError(`DistributedSampler: size must be a positive integer, got ${this.size}`);
    if (!Number.isInteger(this.rank) || this.rank < 0 || this.rank >= this.size)
      throw new RangeError(`DistributedSampler: rank must be in [0, ${this.size}), got ${this.rank}`);
    this.shuffle = options.shuffle ?? true;
    this.seed = options.seed ?? 0;
    if (!Number.isInteger(this.seed))
      throw new RangeError(`DistributedSampler: seed must be an integer, got ${this.seed}`);
    this.dropLast = options.dropLast ?? false;
    this.numSamples = this.dropLast ? Math.floor(length / this.size) : Math.ceil(length / this.size);
    if (this.numSamples === 0)
      throw new RangeError(
        `DistributedSampler: ${length} samples cannot give each of ${this.size} ranks one with dropLast; pad instead (dropLast: false)`,
      );
    this.totalSize = this.numSamples * this.size;
  }

  /** Chooses the epoch whose permutation indices() returns (call it before each epoch). */
  setEpoch(epoch: number): void {
    if (!Number.isInteger(epoch) || epoch < 0)
      throw new RangeError(`DistributedSampler.setEpoch: epoch must be a non-negative integer, got ${epoch}`);
    this.epoch = epoch;
  }

  /** The whole epoch's order across ranks (length totalSize), identical on every rank. */
  globalOrder(): Int32Array {
    const n = this.length;
    const perm = identityIndices(n);
    if (this.shuffle) {
      const g = new Generator(this.seed + this.epoch);
      for (let i = n - 1; i > 0; i--) {
        const j = g.nextInt(i + 1);
        const t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
      }
    }
    if (this.totalSize <= n) return perm.subarray(0, this.totalSize);
    const out = new Int32Array(this.totalSize);
    for (let i = 0; i < this.totalSize; i++) out[i] = perm[i % n];
    return out;
  }

  /** This rank's sample indices for the current epoch (length numSamples). */
  indices(): Int32Array {
    const all = this.globalOrder();
    const out = new Int32Array(this.numSamples);
    for (let i = 0; i < this.numSamples; i++) out[i] = all[this.rank + i * this.size];
    return out;
  }
}

/**
 * Rows r, r + size, r + 2 size, ... of x (no padding, so ranks may get one row more or less):
 * rank r's share of evaluation data. rank and size default to this process's (0 and 1 without
 * MPI).
 * @throws TypeError when x is not a tensor with a sample axis; RangeError on a bad rank or size.
 *
 * @example
 * ```ts
 * import { distributed, arange } from 'axon-nn';
 * const x = arange(0, 5);
 * console.log(distributed.shardRows(x, 1, 2).toArray()); // [1, 3]
 * ```
 */
export function shardRows(x: Tensor, rank = worldRank(), size = worldSize()): Tensor {
  if (!(x instanceof Tensor) || x.ndim === 0) throw new TypeError('shardRows: expected a Tensor with a sample axis');
  if (!Number.isInteger(size) || size < 1 || !Number.isInteger(rank) || rank < 0 || rank >= size)
    throw new RangeError(`shardRows: rank ${rank} of ${size} is not a valid rank`);
  const n = x.shape[0];
  const count = Math.max(0, Math.ceil((n - rank) / size));
  const idx = new Int32Array(count);
  for (let i = 0; i < count; i++) idx[i] = rank + i * size;
  return takeRows(x, idx);
}

/**
 * Options of {@link distributedLoader}: the sampler's options plus the per-rank batch size, the
 * last smaller batch, and the first epoch.
 *
 * @example
 * ```ts
 * import { distributedLoader, distributed, randn } from 'axon-nn';
 * const options: distributed.DistributedLoaderOptions = { batchSize: 16, seed: 1, dropLastBatch: true };
 * const loader = distributedLoader(randn([100, 8]), randn([100, 1]), options);
 * console.log(loader.batchesPerEpoch); // 6 without MPI (100 rows, one rank)
 * ```
 */
export interface DistributedLoaderOptions extends DistributedSamplerOptions {
  /** Samples per batch on this rank (default 32; the global batch is this times the rank count). */
  batchSize?: number;
  /** Drop the last batch of an epoch when smaller than batchSize (default false). */
  dropLastBatch?: boolean;
  /** First epoch (a resumed run passes its initialEpoch; default 0). */
  startEpoch?: number;
}
const LOADER_KEYS = optionKeys<DistributedLoaderOptions>({
  rank: true,
  size: true,
  shuffle: true,
  seed: true,
  dropLast: true,
  batchSize: true,
  dropLastBatch: true,
  startEpoch: true,
});

/**
 * A DataLoader over this rank's shard, reshuffled across ranks every epoch by a
 * DistributedSampler; `model.fit(loader)` trains on it. The sampler advances one epoch per
 * pass over the loader, starting at startEpoch. Rank and size default to this process's.
 * @throws TypeError/RangeError when x or y is not a tensor with matching samples, or an option
 *   is out of range (also when dropLastBatch leaves no batch).
 * @example
 * ```ts
 * import { distributed, distributedLoader, DistributedDataParallel, Linear, SGD, mseLoss, randn } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * await distributed.init();
 * const x = randn([1000, 20], { seed: 1 }); // the same data on every rank
 * const y = randn([1000, 1], { seed: 2 });
 * const net = new Linear(20, 1);
 * const ddp = await DistributedDataParallel.create(net);
 * const opt = new SGD(net.parameters(), { lr: 0.01 });
 * const loader = distributedLoader(x, y, { batchSize: 32, seed: 1 }); // 16 batches of this rank's 500 rows
 * for (const [xb, yb] of loader) {
 *   opt.zeroGrad();
 *   await ddp.backward(mseLoss(ddp.forward(xb), yb!));
 *   opt.step();
 * }
 * ```
 */
export function distributedLoader(
  x: Tensor,
  y: Tensor | null,
  options: DistributedLoaderOptions = {},
): DataLoader & {
  /** The sampler choosing this rank's rows; it advances one epoch per pass over the loader. */
  sampler: DistributedSampler;
  /** Batches each pass yields (equal on every rank). */
  batchesPerEpoch: number;
} {
  checkOptionKeys('distributedLoader', options, LOADER_KEYS);
  if (!(x instanceof Tensor) || x.ndim === 0)
    throw new TypeError('distributedLoader: x must be a Tensor with a sample axis');
  if (y !== null && (!(y instanceof Tensor) || y.ndim === 0 || y.shape[0] !== x.shape[0]))
    throw new RangeError(
      `distributedLoader: y must be null or a Tensor with x's ${x.shape[0]} samples, got ${y instanceof Tensor ? shapeToString(y.shape) : typeof y}`,
    );
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`distributedLoader: batchSize must be a positive integer, got ${batchSize}`);
  const { batchSize: _b, dropLastBatch: _d, startEpoch, ...samplerOptions } = options;
  const sampler = new DistributedSampler(x.shape[0], samplerOptions);
  sampler.setEpoch(intOption('distributedLoader', 'startEpoch', startEpoch, 0, 0, Number.MAX_SAFE_INTEGER));
  const dropLastBatch = options.dropLastBatch ?? false;
  const batchesPerEpoch = dropLastBatch
    ? Math.floor(sampler.numSamples / batchSize)
    : Math.ceil(sampler.numSamples / batchSize);
  if (batchesPerEpoch === 0)
    throw new RangeError(
      `distributedLoader: ${sampler.numSamples} samples per rank make no batch of ${batchSize} with dropLastBatch`,
    );
  let started = false;
  function* epochBatches(): Iterable<Batch> {
    // The first pass uses startEpoch; each later pass the next epoch's permutation.
    if (started) sampler.setEpoch(sampler.epoch + 1);
    started = true;
    const idx = sampler.indices();
    for (let b = 0; b < batchesPerEpoch; b++) {
      const start = b * batchSize;
      const count = Math.min(batchSize, idx.length - start);
      yield [takeRows(x, idx, start, count), y ? takeRows(y, idx, start, count) : null];
    }
  }
  const loader = new DataLoader(Dataset.fromGenerator(epochBatches), { batchSize }) as DataLoader & {
    sampler: DistributedSampler;
    batchesPerEpoch: number;
  };
  loader.sampler = sampler;
  loader.batchesPerEpoch = batchesPerEpoch;
  return loader;
}
