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
 */
export class MetricReducer implements Callback {
  constructor(
    private readonly trainSamples: () => number,
    private readonly valSamples: () => number = () => 1,
  ) {}

  async onEpochEnd(_epoch: number, logs: Logs): Promise<void> {
    await reduceLogs(logs, this.trainSamples(), this.valSamples());
  }
}

/**
 * Replaces logs' values in place by their sample-weighted mean over ranks (one allreduce).
 * Every rank must call it with the same keys.
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

/** cb on rank 0; an inert callback elsewhere (for callbacks that write files or the console). */
export function rankZeroOnly(cb: Callback): Callback {
  return isMainProcess() ? cb : {};
}

/** Whether a callback writes (checkpoints, logs, progress) and so runs on rank 0 only. */
export function isWriter(cb: Callback): boolean {
  return (
    cb instanceof ModelCheckpoint || cb instanceof CSVLogger || cb instanceof JSONLogger || cb instanceof ProgressBar
  );
}

/**
 * A ProgressBar that knows the number of batches per epoch (a distributed loader yields them
 * from a generator, whose length fit cannot see).
 */
export class DistributedProgress implements Callback {
  private readonly bar: ProgressBar;
  constructor(
    private readonly stepsPerEpoch: number,
    stream: ProgressStream = process.stdout,
  ) {
    this.bar = new ProgressBar(stream);
  }
  setContext(ctx: TrainingContext): void {
    const steps = this.stepsPerEpoch;
    this.bar.setContext(
      new Proxy(ctx, {
        get: (t, k) => (k === 'stepsPerEpoch' ? steps : (t as unknown as Record<string | symbol, unknown>)[k]),
      }),
    );
  }
  onEpochBegin(epoch: number): void {
    this.bar.onEpochBegin(epoch);
  }
  onBatchEnd(batch: number, logs: Logs): void {
    this.bar.onBatchEnd(batch, logs);
  }
  onEpochEnd(epoch: number, logs: Logs): void {
    this.bar.onEpochEnd(epoch, logs);
  }
  onTrainEnd(): void {
    this.bar.onTrainEnd();
  }
}
