/**
 * Rank-aware training callbacks: metrics reduced across ranks so every rank logs, and every
 * EarlyStopping or plateau schedule decides, on the same epoch values; and wrappers that run
 * file- and console-writing callbacks on rank 0 only.
 */
import { CSVLogger, JSONLogger, type Callback, type Logs, type TrainingContext } from '../train/callbacks.js';
import { ModelCheckpoint } from '../train/model-checkpoint.js';
import { ProgressBar, type ProgressStream } from '../train/progress.js';
import { allreduce, isMainProcess } from './comm.js';

/**
 * Averages every rank's epoch logs, weighted by the samples each rank saw: training values by
 * `trainSamples()`, `val_` values by `valSamples()`. Exact for loss and accuracy (means over
 * samples); for precision/recall/F1/R², the sample-weighted mean of the ranks' values. Put it
 * first in the callback list so later callbacks see the reduced values; every rank must run it.
 * `ddp.fit` adds one itself; use it when calling `model.fit` on a distributed loader.
 *
 * @example
 * ```ts
 * import { distributed, distributedLoader, DistributedDataParallel, Model, Linear, randn } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * await distributed.init();
 * const model = new Model(new Linear(8, 1)).compile({ optimizer: 'adam', loss: 'mse' });
 * await DistributedDataParallel.create(model);
 * const loader = distributedLoader(randn([256, 8], { seed: 1 }), randn([256, 1], { seed: 2 }), { batchSize: 32 });
 * const reducer = new distributed.MetricReducer(() => loader.sampler.numSamples);
 * await model.fit(loader, null, { epochs: 2, verbose: 0, callbacks: [reducer] }); // same History on every rank
 * ```
 */
export class MetricReducer implements Callback {
  constructor(
    private readonly trainSamples: () => number,
    private readonly valSamples: () => number = () => 1,
  ) {}

  /** Replaces the epoch's logs in place by their sample-weighted mean over ranks (an allreduce). */
  async onEpochEnd(_epoch: number, logs: Logs): Promise<void> {
    await reduceLogs(logs, this.trainSamples(), this.valSamples());
  }
}

/**
 * Replaces logs' values in place by their sample-weighted mean over ranks (one allreduce):
 * `val_` keys weighted by valWeight, the others by trainWeight (both default 1, a plain mean).
 * Every rank must call it with the same keys.
 * @throws (rejects) before distributed.init(), or when the allreduce fails or times out.
 *
 * @example
 * ```ts
 * import { distributed } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * await distributed.init();
 * const logs = { loss: distributed.rank() === 0 ? 0.5 : 0.7, val_loss: 0.6 };
 * await distributed.reduceLogs(logs, 100, 50); // this rank's training and validation samples
 * console.log(logs.loss); // 0.6 on every rank of 2
 * ```
 */
export async function reduceLogs(logs: Logs, trainWeight = 1, valWeight = 1): Promise<void> {
  const keys = Object.keys(logs).sort();
  const buf = new Float64Array(keys.length + 2);
  keys.forEach((k, i) => {
    const w = k.startsWith('val_') ? valWeight : trainWeight;
    buf[i] = logs[k] * w;
  });
  buf[keys.length] = trainWeight;
  buf[keys.length + 1] = valWeight;
  await allreduce(buf, 'sum');
  keys.forEach((k, i) => {
    logs[k] = buf[i] / buf[k.startsWith('val_') ? keys.length + 1 : keys.length];
  });
}

/**
 * cb on rank 0; an inert callback elsewhere (for callbacks that write files or the console).
 * The rank is read when it is called, so call it after `distributed.init()`: before, every
 * process is rank 0. `ddp.fit` already does this for the callbacks {@link isWriter} names.
 *
 * @example
 * ```ts
 * import { distributed, DistributedDataParallel, Model, Linear, lambdaCallback, randn } from 'axon-nn';
 * // run under: mpirun -np 2 node train.js
 * await distributed.init();
 * const model = new Model(new Linear(8, 1)).compile({ optimizer: 'adam', loss: 'mse' });
 * const ddp = await DistributedDataParallel.create(model);
 * const printer = distributed.rankZeroOnly(lambdaCallback({ onEpochEnd: (e, logs) => console.log(e, logs.loss) }));
 * await ddp.fit(randn([256, 8]), randn([256, 1]), { epochs: 3, verbose: 0, callbacks: [printer] });
 * ```
 */
export function rankZeroOnly(cb: Callback): Callback {
  return isMainProcess() ? cb : {};
}

/**
 * Whether a callback writes (a ModelCheckpoint, CSVLogger, JSONLogger or ProgressBar) and so
 * runs on rank 0 only in `ddp.fit`. Other callbacks, your own included, run on every rank.
 *
 * @example
 * ```ts
 * import { distributed, CSVLogger, EarlyStopping } from 'axon-nn';
 * console.log(distributed.isWriter(new CSVLogger('log.csv'))); // true
 * console.log(distributed.isWriter(new EarlyStopping())); // false
 * ```
 */
export function isWriter(cb: Callback): boolean {
  return (
    cb instanceof ModelCheckpoint || cb instanceof CSVLogger || cb instanceof JSONLogger || cb instanceof ProgressBar
  );
}

/**
 * A ProgressBar that knows the number of batches per epoch (a distributed loader yields them
 * from a generator, whose length fit cannot see). `ddp.fit` shows one on rank 0 unless
 * `verbose: 0`.
 *
 * @example
 * ```ts
 * import { distributed, distributedLoader, Model, Linear, randn } from 'axon-nn';
 * const loader = distributedLoader(randn([256, 8]), randn([256, 1]), { batchSize: 32 });
 * const model = new Model(new Linear(8, 1)).compile({ optimizer: 'adam', loss: 'mse' });
 * const progress = new distributed.DistributedProgress(loader.batchesPerEpoch);
 * await model.fit(loader, null, { epochs: 2, verbose: 0, callbacks: [progress] });
 * ```
 */
export class DistributedProgress implements Callback {
  private readonly bar: ProgressBar;
  constructor(
    private readonly stepsPerEpoch: number,
    stream: ProgressStream = process.stdout,
  ) {
    this.bar = new ProgressBar(stream);
  }
  /** Passes fit's context to the bar, with stepsPerEpoch set to the known batch count. */
  setContext(ctx: TrainingContext): void {
    const steps = this.stepsPerEpoch;
    this.bar.setContext(
      new Proxy(ctx, {
        get: (t, k) => (k === 'stepsPerEpoch' ? steps : (t as unknown as Record<string | symbol, unknown>)[k]),
      }),
    );
  }
  /** Starts the epoch's bar. */
  onEpochBegin(epoch: number): void {
    this.bar.onEpochBegin(epoch);
  }
  /** Advances the bar by one batch. */
  onBatchEnd(batch: number, logs: Logs): void {
    this.bar.onBatchEnd(batch, logs);
  }
  /** Ends the epoch's bar with its logs. */
  onEpochEnd(epoch: number, logs: Logs): void {
    this.bar.onEpochEnd(epoch, logs);
  }
  /** Closes the bar. */
  onTrainEnd(): void {
    this.bar.onTrainEnd();
  }
}
