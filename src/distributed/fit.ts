/**
 * Model.fit for data-parallel training: each rank trains on its DistributedSampler shard of
 * every epoch (reshuffled across ranks per epoch), gradients averaged by the DDP-traced step;
 * epoch metrics are averaged across ranks before any callback sees them; checkpoints, logs and
 * progress are written by rank 0 only; validation is sharded and its metrics reduced too.
 */
import type { Callback, History } from '../train/callbacks.js';
import type { FitOptions, Model } from '../train/model.js';
import { shapeToString } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { hiddenShare, isMainProcess, size as worldSize } from './comm.js';
import { DistributedProgress, MetricReducer, isWriter, rankZeroOnly } from './callbacks.js';
import { distributedLoader, shardRows } from './sampler.js';
import { checkOptionKeys } from '../options.js';
import type { DdpStats } from './ddp.js';

/**
 * Options of {@link DistributedDataParallel.fit} and {@link fitDistributed}: Model.fit's
 * options (without classWeight) with batchSize per rank, a seed shared by all ranks, and how an
 * uneven split across ranks is handled. classWeight and onNonFinite are not taken (refused
 * by name when passed anyway).
 *
 * @example
 * ```ts
 * import { distributed, DistributedDataParallel, Model, Linear, randn, type DistributedFitOptions } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * await distributed.init();
 * const model = new Model(new Linear(16, 1)).compile({ optimizer: 'adam', loss: 'mse' });
 * const ddp = await DistributedDataParallel.create(model);
 * const options: DistributedFitOptions = { epochs: 5, batchSize: 16, validationSplit: 0.2, seed: 7 };
 * await ddp.fit(randn([1000, 16], { seed: 1 }), randn([1000, 1], { seed: 2 }), options);
 * ```
 */
export interface DistributedFitOptions extends Omit<
  FitOptions,
  'validationData' | 'classWeight' | 'seed' | 'onNonFinite'
> {
  /** Samples per batch on each rank (global batch: this times the number of ranks). */
  batchSize?: number;
  /** Seed of the per-epoch permutation, equal on every rank (default 0). It does not seed weight initialization. */
  seed?: number;
  /** Drop the samples that do not divide evenly across ranks instead of padding by repeats. */
  dropLast?: boolean;
  /** Drop each rank's last, smaller batch of an epoch. */
  dropLastBatch?: boolean;
  /** Validation inputs and targets, the whole set on every rank: each rank evaluates its shard
   * (shardRows) and the metrics are reduced. */
  validationData?: [Tensor, Tensor];
}
/**
 * The options fitDistributed honours. Not exhaustive over the type on purpose: a FitOptions
 * key it does not forward to fit (onNonFinite, when FitOptions has it) is refused by name
 * rather than silently ignored. (classWeight, omitted from the type, gets its own message.)
 */
const DISTRIBUTED_FIT_KEYS = [
  'epochs',
  'batchSize',
  'shuffle',
  'validationSplit',
  'validationData',
  'callbacks',
  'initialEpoch',
  'signal',
  'verbose',
  'seed',
  'dropLast',
  'dropLastBatch',
] as const satisfies readonly (keyof DistributedFitOptions)[];

/**
 * What fitDistributed uses of a DistributedDataParallel (declared here, so fit.ts does not
 * import ddp.ts, which imports it): a DistributedDataParallel is one.
 *
 * @example
 * ```ts
 * import { distributed, DistributedDataParallel, Model, Linear } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * await distributed.init();
 * const model = new Model(new Linear(4, 1)).compile({ optimizer: 'sgd', loss: 'mse' });
 * const target: distributed.DistributedFitTarget = await DistributedDataParallel.create(model);
 * console.log(target.model === model); // true
 * ```
 */
export interface DistributedFitTarget {
  /** The wrapped Model; null when a Module is wrapped. */
  readonly model: Model | null;
  /** Where the time went (DistributedDataParallel.stats); fit reports each epoch's hidden share from it. */
  readonly stats?: DdpStats;
}

/** Per epoch: the share of the comm thread's allreduce time that backward hid, into
 * stats.epochHiddenShares, and printed by rank 0 when verbose. */
class HiddenShareReporter implements Callback {
  private exposed0 = 0;
  private busy0 = 0;
  constructor(
    private readonly stats: DdpStats,
    private readonly print: boolean,
  ) {}
  onEpochBegin(): void {
    this.exposed0 = this.stats.exposedMs;
    this.busy0 = this.stats.allreduceMs;
  }
  onEpochEnd(epoch: number): void {
    const busy = this.stats.allreduceMs - this.busy0;
    const exposed = this.stats.exposedMs - this.exposed0;
    const share = hiddenShare(exposed, busy);
    this.stats.epochHiddenShares.push(share);
    if (this.print)
      process.stdout.write(
        `epoch ${epoch + 1}: allreduce ${busy.toFixed(0)} ms on the comm thread, ${(100 * share).toFixed(0)} % hidden behind backward\n`,
      );
  }
}

/**
 * Trains ddp.model on (x, y), every rank holding the whole dataset: each rank trains on its
 * DistributedSampler shard of every epoch, epoch metrics are averaged across ranks before any
 * callback sees them, checkpoints, logs and progress are written by rank 0 only, and validation
 * is sharded with its metrics reduced too. `ddp.fit(x, y, options)` calls it.
 * @returns the History, with the same (reduced) values on every rank.
 * @throws (rejects) when ddp wraps a Module instead of a Model, x and y disagree, or on bad
 *   options (classWeight and onNonFinite included).
 *
 * @example
 * ```ts
 * import { distributed, DistributedDataParallel, Model, Linear, ModelCheckpoint, randn } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * await distributed.init();
 * const model = new Model(new Linear(16, 1)).compile({ optimizer: 'adam', loss: 'mse' });
 * const ddp = await DistributedDataParallel.create(model);
 * const checkpoint = new ModelCheckpoint({ filepath: 'ckpt-{epoch}.axon' }); // written by rank 0 only
 * const [x, y] = [randn([1000, 16], { seed: 1 }), randn([1000, 1], { seed: 2 })];
 * const history = await distributed.fitDistributed(ddp, x, y, { epochs: 3, callbacks: [checkpoint] });
 * ```
 */
export async function fitDistributed(
  ddp: DistributedFitTarget,
  x: Tensor,
  y: Tensor,
  options: DistributedFitOptions = {},
): Promise<History> {
  const model = ddp.model;
  if (!model) throw new Error('ddp.fit: this DistributedDataParallel wraps a Module; wrap the Model to use fit');
  if (!(x instanceof Tensor) || !(y instanceof Tensor) || x.ndim === 0 || y.ndim === 0 || x.shape[0] !== y.shape[0])
    throw new RangeError(
      `ddp.fit: x and y must be tensors with the same number of samples, got ${x instanceof Tensor ? shapeToString(x.shape) : typeof x} and ${y instanceof Tensor ? shapeToString(y.shape) : typeof y}`,
    );
  if ((options as { classWeight?: unknown }).classWeight !== undefined)
    throw new RangeError('ddp.fit: classWeight is not supported; pass a weighted loss function to compile instead');
  checkOptionKeys('ddp.fit', options, DISTRIBUTED_FIT_KEYS);
  let xTrain = x;
  let yTrain = y;
  let val: [Tensor, Tensor] | null = options.validationData ?? null;
  if (!val && options.validationSplit !== undefined) {
    const f = options.validationSplit;
    if (!(f > 0 && f < 1)) throw new RangeError(`ddp.fit: validationSplit must be in (0, 1), got ${f}`);
    const n = x.shape[0];
    const nVal = Math.floor(n * f);
    if (nVal === 0 || nVal === n)
      throw new RangeError(`ddp.fit: validationSplit ${f} leaves no training or no validation samples of ${n}`);
    xTrain = x.slice(0, n - nVal);
    yTrain = y.slice(0, n - nVal);
    val = [x.slice(n - nVal), y.slice(n - nVal)];
  }
  if (val && val[0].shape[0] < worldSize())
    throw new RangeError(`ddp.fit: ${val[0].shape[0]} validation samples cannot give each of ${worldSize()} ranks one`);
  const valShard: [Tensor, Tensor] | undefined = val ? [shardRows(val[0]), shardRows(val[1])] : undefined;
  const loader = distributedLoader(xTrain, yTrain, {
    batchSize: options.batchSize ?? 32,
    shuffle: options.shuffle ?? true,
    seed: options.seed ?? 0,
    dropLast: options.dropLast,
    dropLastBatch: options.dropLastBatch,
    startEpoch: options.initialEpoch ?? 0,
  });
  const user = (options.callbacks ?? []).map((cb) => (isWriter(cb) ? rankZeroOnly(cb) : cb));
  const callbacks = [
    new MetricReducer(
      () => loader.sampler.numSamples,
      () => (valShard ? valShard[0].shape[0] : 1),
    ),
    ...(options.verbose !== 0 && isMainProcess() ? [new DistributedProgress(loader.batchesPerEpoch)] : []),
    ...(ddp.stats && worldSize() > 1
      ? [new HiddenShareReporter(ddp.stats, options.verbose !== 0 && isMainProcess())]
      : []),
    ...user,
  ];
  return model.fit(loader, null, {
    epochs: options.epochs,
    initialEpoch: options.initialEpoch,
    callbacks,
    validationData: valShard,
    signal: options.signal,
  });
}
