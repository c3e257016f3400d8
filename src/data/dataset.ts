/**
 * Datasets and the DataLoader. A TensorDataset holds whole tensors (features, and targets if
 * any) whose first axis indexes samples; the DataLoader cuts it into batches (shuffled per
 * epoch with a seeded generator, optional drop-last, an optional per-batch map) with one
 * native row-gather per tensor per batch. Iterated with `for await`, it gathers the next batch
 * on a libuv thread while the current one is in use (prefetch). Generator-backed datasets
 * (`Dataset.fromGenerator`) stream batches they build themselves.
 */
import { native } from '../native/binding.js';
import { Generator, pickGenerator, type GeneratorState, type RandomOptions } from '../tensor/random.js';
import { shapeToString } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { identityIndices, takeRows } from './rows.js';
import { checkOptionKeys, optionKeys } from '../options.js';

/**
 * One batch as `[x, y]`: the inputs and the targets (null for a dataset without targets), both
 * with the batch on the first axis. What a DataLoader yields and a generator dataset produces.
 *
 * @example
 * ```ts
 * import { DataLoader, Dataset, randn, type Batch } from 'axon-nn';
 * function* batches(): Generator<Batch> {
 *   for (let i = 0; i < 3; i++) yield [randn([8, 4]), randn([8, 1])];
 * }
 * for (const [x, y] of new DataLoader(Dataset.fromGenerator(batches))) console.log(x.shape, y?.shape);
 * ```
 */
export type Batch = [Tensor, Tensor | null];

/**
 * Samples held as whole tensors: x (N, ...) and optionally y (N, ...), indexed by their first
 * axis. Any dtype (float32 features, int32 class labels).
 *
 * @throws TypeError when x or y is not a Tensor; RangeError when x is 0-d or y has a different
 *   number of samples.
 * @example
 * ```ts
 * import { TensorDataset, randn, randint } from 'axon-nn';
 * const ds = new TensorDataset(randn([100, 4]), randint(0, 3, [100]));
 * const [x0, y0] = ds.get(0); // x0 shape [4], y0 shape []
 * const firstTen = ds.subset(Int32Array.from({ length: 10 }, (_, i) => i));
 * ```
 */
export class TensorDataset {
  /** Number of samples (x's first dimension). */
  readonly length: number;
  constructor(
    /** The inputs, samples on the first axis. */
    readonly x: Tensor,
    /** The targets (same number of samples as x), or null. */
    readonly y: Tensor | null = null,
  ) {
    if (!(x instanceof Tensor)) throw new TypeError('TensorDataset: x must be a Tensor');
    if (x.ndim === 0) throw new RangeError('TensorDataset: x must have a sample axis, got a 0-d tensor');
    if (y !== null) {
      if (!(y instanceof Tensor)) throw new TypeError('TensorDataset: y must be a Tensor or null');
      if (y.ndim === 0 || y.shape[0] !== x.shape[0])
        throw new RangeError(
          `TensorDataset: x has ${x.shape[0]} samples (${shapeToString(x.shape)}) but y has ${y.ndim ? y.shape[0] : 0} (${shapeToString(y.shape)})`,
        );
    }
    this.length = x.shape[0];
  }

  /** Sample i as [x_i, y_i], copies without the sample axis; RangeError outside [0, length). */
  get(i: number): Batch {
    if (!Number.isInteger(i) || i < 0 || i >= this.length)
      throw new RangeError(`TensorDataset.get: index ${i} out of range for ${this.length} samples`);
    const idx = Int32Array.of(i);
    return [takeRows(this.x, idx).reshape(this.x.shape.slice(1)), this.y ? takeRows(this.y, idx).reshape(this.y.shape.slice(1)) : null];
  }

  /** The samples at `indices` (in that order, repeats allowed) as a new dataset of copies. */
  subset(indices: Int32Array): TensorDataset {
    return new TensorDataset(takeRows(this.x, indices), this.y ? takeRows(this.y, indices) : null);
  }
}

/**
 * A dataset that yields whole batches from a user generator function, called again at the
 * start of every epoch. Usually made with `Dataset.fromGenerator`; its size is unknown, so a
 * DataLoader over it has no `numBatches`, and an async generator needs `for await`.
 *
 * @throws TypeError when make is not a function.
 * @example
 * ```ts
 * import { DataLoader, GeneratorDataset, randn } from 'axon-nn';
 * const ds = new GeneratorDataset(async function* () {
 *   for (let i = 0; i < 4; i++) yield [randn([16, 8]), randn([16, 1])];
 * });
 * for await (const [x, y] of new DataLoader(ds)) console.log(x.shape, y?.shape);
 * ```
 */
export class GeneratorDataset {
  constructor(
    /** Called once per epoch; returns the epoch's batches (sync or async iterable). */
    readonly make: () => Iterable<Batch> | AsyncIterable<Batch>,
  ) {
    if (typeof make !== 'function') throw new TypeError('Dataset.fromGenerator: expected a function returning an iterable');
  }
}

/**
 * Factory functions for the two dataset kinds: `fromTensors` (a TensorDataset) and
 * `fromGenerator` (a GeneratorDataset).
 *
 * @example
 * ```ts
 * import { Dataset, DataLoader, randn } from 'axon-nn';
 * const train = Dataset.fromTensors(randn([64, 4]), randn([64, 1]));
 * const loader = new DataLoader(train, { batchSize: 16, shuffle: true, seed: 0 });
 * ```
 */
export const Dataset = {
  /** Samples held as whole tensors (same as `new TensorDataset(x, y)`). */
  fromTensors: (x: Tensor, y: Tensor | null = null): TensorDataset => new TensorDataset(x, y),
  /** Batches from a generator function (called once per epoch). */
  fromGenerator: (make: () => Iterable<Batch> | AsyncIterable<Batch>): GeneratorDataset => new GeneratorDataset(make),
};

/** Largest batchSize a loader takes (its sample order is int32). */
const MAX_BATCH_SIZE = 2 ** 31 - 1;

/**
 * DataLoader's options. `seed` or `generator` (from RandomOptions) fixes the shuffling; without
 * them the loader seeds a private generator from the global one.
 *
 * @example
 * ```ts
 * import { DataLoader, TensorDataset, randn, type DataLoaderOptions } from 'axon-nn';
 * const options: DataLoaderOptions = { batchSize: 64, shuffle: true, dropLast: true, seed: 42 };
 * const loader = new DataLoader(new TensorDataset(randn([1000, 10]), randn([1000, 1])), options);
 * console.log(loader.numBatches); // 15
 * ```
 */
export interface DataLoaderOptions extends RandomOptions {
  /** Samples per batch (default 32); a positive integer. */
  batchSize?: number;
  /** Reshuffle every epoch (default false). */
  shuffle?: boolean;
  /** Drop the last incomplete batch (default false). */
  dropLast?: boolean;
  /** Applied to each batch after gathering; its result is what the loader yields. */
  map?: (x: Tensor, y: Tensor | null) => Batch;
}
const DATA_LOADER_KEYS = optionKeys<DataLoaderOptions>({
  batchSize: true,
  shuffle: true,
  dropLast: true,
  map: true,
  seed: true,
  generator: true,
});

/**
 * Where a DataLoader stands, as `state()` returns it and `setState()` takes it (plain JSON
 * values). saveCheckpoint stores it for every loader it is given.
 *
 * @example
 * ```ts
 * import { DataLoader, TensorDataset, randn, type DataLoaderState } from 'axon-nn';
 * const loader = new DataLoader(new TensorDataset(randn([100, 4])), { batchSize: 10, shuffle: true, seed: 1 });
 * loader[Symbol.iterator]().next(); // take one batch
 * const saved: DataLoaderState = JSON.parse(JSON.stringify(loader.state()));
 * const resumed = new DataLoader(new TensorDataset(randn([100, 4])), { batchSize: 10, shuffle: true });
 * resumed.setState(saved); // continues at batch 1 of epoch 0, in the same order
 * ```
 */
export interface DataLoaderState {
  /** Epochs completed. */
  epoch: number;
  /** Next batch index within the epoch. */
  position: number;
  /** The current epoch's sample order, or null when no epoch is under way. */
  order: number[] | null;
  /** The shuffling generator's state. */
  generator: GeneratorState;
}

/**
 * Batches over a dataset, in order or shuffled (a new permutation every epoch, from a seeded
 * private generator). Iterate with `for` or, to gather the next batch on a worker thread while
 * the current one is used, with `for await`; each full pass is one epoch.
 *
 * @throws TypeError for a dataset of another kind or an unknown option; RangeError for a
 *   batchSize that is not a positive integer or an empty TensorDataset.
 * @example
 * ```ts
 * import { DataLoader, TensorDataset, randn } from 'axon-nn';
 * const loader = new DataLoader(new TensorDataset(randn([100, 4]), randn([100, 1])), { batchSize: 32, shuffle: true });
 * for await (const [x, y] of loader) console.log(x.shape, y?.shape); // [32, 4] [32, 1] ... last [4, 4] [4, 1]
 * ```
 */
export class DataLoader implements Iterable<Batch>, AsyncIterable<Batch> {
  /** Samples per batch (the last batch may be smaller unless dropLast). */
  readonly batchSize: number;
  /** Whether each epoch uses a new random order. */
  readonly shuffle: boolean;
  /** Whether the last incomplete batch is skipped. */
  readonly dropLast: boolean;
  private readonly generator: Generator;
  private readonly mapFn: DataLoaderOptions['map'];
  /** Epochs completed so far (the index of the epoch being iterated). */
  epoch = 0;
  /** Next batch index in the current epoch (for resuming). */
  position = 0;
  private order: Int32Array | null = null;

  constructor(
    /** The dataset batches are taken from. */
    readonly dataset: TensorDataset | GeneratorDataset,
    options: DataLoaderOptions = {},
  ) {
    if (!(dataset instanceof TensorDataset) && !(dataset instanceof GeneratorDataset))
      throw new TypeError('DataLoader: dataset must be a TensorDataset or a GeneratorDataset');
    checkOptionKeys('DataLoader', options, DATA_LOADER_KEYS);
    this.batchSize = options.batchSize ?? 32;
    if (!Number.isInteger(this.batchSize) || this.batchSize <= 0)
      throw new RangeError(`DataLoader: batchSize must be a positive integer, got ${this.batchSize}`);
    if (this.batchSize > MAX_BATCH_SIZE)
      throw new RangeError(`DataLoader: batchSize must be at most ${MAX_BATCH_SIZE}, got ${this.batchSize}`);
    if (options.map !== undefined && typeof options.map !== 'function')
      throw new TypeError(`DataLoader: map must be a function, got ${typeof options.map}`);
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    // A private generator: shuffling does not disturb other users of the global stream.
    this.generator = options.generator ?? new Generator(options.seed ?? pickGenerator().nextUint32());
    this.mapFn = options.map;
    if (dataset instanceof TensorDataset && dataset.length === 0) throw new RangeError('DataLoader: the dataset is empty');
  }

  /** Batches per epoch (tensor datasets only; a generator dataset throws). */
  get numBatches(): number {
    if (!(this.dataset instanceof TensorDataset)) throw new Error('DataLoader.numBatches: unknown for generator datasets');
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The sample order of the epoch being iterated (or about to start). */
  private epochOrder(): Int32Array {
    if (this.order && this.position > 0) return this.order;
    const n = (this.dataset as TensorDataset).length;
    const order = identityIndices(n);
    if (this.shuffle) {
      for (let i = n - 1; i > 0; i--) {
        const j = this.generator.nextInt(i + 1);
        const t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
    }
    this.order = order;
    return order;
  }

  private batchAt(order: Int32Array, b: number): Batch {
    const ds = this.dataset as TensorDataset;
    const start = b * this.batchSize;
    const count = Math.min(this.batchSize, ds.length - start);
    const x = takeRows(ds.x, order, start, count);
    const y = ds.y ? takeRows(ds.y, order, start, count) : null;
    return this.mapFn ? this.mapFn(x, y) : [x, y];
  }

  private finishEpoch(): void {
    this.epoch += 1;
    this.position = 0;
    this.order = null;
  }

  /** One epoch of batches, gathered on the calling thread; an async generator dataset throws. */
  *[Symbol.iterator](): Iterator<Batch> {
    if (this.dataset instanceof GeneratorDataset) {
      const it = this.dataset.make();
      if (!(Symbol.iterator in it)) throw new TypeError('DataLoader: this generator is async; iterate with for await');
      for (const [x, y] of it as Iterable<Batch>) yield this.mapFn ? this.mapFn(x, y) : [x, y];
      this.finishEpoch();
      return;
    }
    const order = this.epochOrder();
    const nb = this.numBatches;
    for (; this.position < nb; ) {
      const batch = this.batchAt(order, this.position);
      this.position += 1;
      yield batch;
    }
    this.finishEpoch();
  }

  /** One epoch of batches; with a tensor dataset the next batch is gathered off the main thread meanwhile. */
  async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
    if (this.dataset instanceof GeneratorDataset) {
      for await (const [x, y] of this.dataset.make() as AsyncIterable<Batch>) yield this.mapFn ? this.mapFn(x, y) : [x, y];
      this.finishEpoch();
      return;
    }
    const ds = this.dataset;
    const order = this.epochOrder();
    const nb = this.numBatches;
    // Gathers batch b off the main thread; the promise resolves to its tensors.
    const fetch = async (b: number): Promise<Batch> => {
      const start = b * this.batchSize;
      const count = Math.min(this.batchSize, ds.length - start);
      const gather = async (t: Tensor): Promise<Tensor> => {
        const rowSize = t.size / Math.max(t.shape[0], 1);
        const out = new Tensor(t.dtype === 'int32' ? new Int32Array(count * rowSize) : new Float32Array(count * rowSize), [count, ...t.shape.slice(1)]);
        if (count > 0 && rowSize > 0) await native.gatherRowsAsync(t.data, rowSize, order, start, count, out.data);
        return out;
      };
      const [x, y] = await Promise.all([gather(ds.x), ds.y ? gather(ds.y) : Promise.resolve(null)]);
      return this.mapFn ? this.mapFn(x, y) : [x, y];
    };
    let next = this.position < nb ? fetch(this.position) : null;
    while (next) {
      const current = await next;
      this.position += 1;
      next = this.position < nb ? fetch(this.position) : null; // prefetch while the caller works
      yield current;
    }
    this.finishEpoch();
  }

  /** Where the loader is (epoch, batch, order, generator), for checkpoints. */
  state(): DataLoaderState {
    return {
      epoch: this.epoch,
      position: this.position,
      order: this.order && this.position > 0 ? Array.from(this.order) : null,
      generator: this.generator.getState(),
    };
  }

  /** Restores a `state()`; everything is checked (and errors thrown) before anything changes. */
  setState(s: DataLoaderState): void {
    if (!s || !Number.isSafeInteger(s.epoch) || s.epoch < 0 || !Number.isSafeInteger(s.position) || s.position < 0)
      throw new RangeError('DataLoader.setState: epoch and position must be non-negative integers');
    let order: Int32Array | null = null;
    if (s.order) {
      if (!(this.dataset instanceof TensorDataset))
        throw new TypeError('DataLoader.setState: a sample order needs a tensor dataset');
      const n = this.dataset.length;
      if (s.order.length !== n)
        throw new RangeError(`DataLoader.setState: the order has ${s.order.length} entries, the dataset ${n} samples`);
      order = Int32Array.from(s.order);
      const seen = new Uint8Array(n);
      for (const i of order) {
        if (!(i >= 0 && i < n) || seen[i]) throw new RangeError('DataLoader.setState: the order is not a permutation of the samples');
        seen[i] = 1;
      }
    }
    if (this.dataset instanceof TensorDataset && s.position > this.numBatches)
      throw new RangeError(`DataLoader.setState: position ${s.position} is past the ${this.numBatches} batches of an epoch`);
    const probe = new Generator().setState(s.generator); // throws on a bad state, before any change
    this.epoch = s.epoch;
    this.position = s.position;
    this.order = order;
    this.generator.setState(probe.getState());
  }
}
