/**
 * Training callbacks (Keras's hooks and names). Any object with some of onTrainBegin/End,
 * onEpochBegin/End and onBatchBegin/End is a callback; async hooks are awaited. fit runs
 * batches in native chunks and calls onBatchEnd for each batch of a chunk after it finishes;
 * a callback with onBatchBegin (or `needsEveryBatch`) makes fit run one batch per chunk so
 * the hook really runs before its batch.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import type { LRScheduler } from '../optim/schedulers.js';
import { checkOptionKeys, enumOption, intOption, numberOption, optionKeys } from '../options.js';
import type { Model } from './model.js';

export type Logs = Record<string, number>;

/** What a callback can reach while training. */
export interface TrainingContext {
  /** Set to true to stop after the current epoch (EarlyStopping does). */
  stopTraining: boolean;
  epochs: number;
  stepsPerEpoch: number;
  batchSize: number;
  samples: number;
  /** Current learning rate of the first parameter group; setting it changes every group. */
  lr: number;
  /** Copy of all weights (for restoring later). */
  snapshotWeights(): Float32Array[];
  restoreWeights(snapshot: Float32Array[]): void;
  /** The Model being trained (ModelCheckpoint saves it). */
  model?: Model;
}

export interface Callback {
  /** Run batches one at a time so per-batch hooks see each batch before the next starts. */
  readonly needsEveryBatch?: boolean;
  setContext?(ctx: TrainingContext): void;
  onTrainBegin?(logs: Logs): void | Promise<void>;
  onTrainEnd?(logs: Logs): void | Promise<void>;
  onEpochBegin?(epoch: number, logs: Logs): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: Logs): void | Promise<void>;
  onBatchBegin?(batch: number, logs: Logs): void | Promise<void>;
  onBatchEnd?(batch: number, logs: Logs): void | Promise<void>;
}
const CALLBACK_KEYS = optionKeys<Callback>({
  needsEveryBatch: true,
  setContext: true,
  onTrainBegin: true,
  onTrainEnd: true,
  onEpochBegin: true,
  onEpochEnd: true,
  onBatchBegin: true,
  onBatchEnd: true,
});
const MODES = ['auto', 'min', 'max'] as const;

/** Per-epoch logs of a fit: history.history.loss[e], history.history.val_accuracy[e], ... */
export class History implements Callback {
  readonly epoch: number[] = [];
  readonly history: Record<string, number[]> = {};
  onEpochEnd(epoch: number, logs: Logs): void {
    this.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) (this.history[k] ??= []).push(v);
  }
}

function monitorOption(op: string, monitor: unknown): string {
  if (monitor === undefined) return 'val_loss';
  if (typeof monitor !== 'string' || monitor === '')
    throw new TypeError(`${op}: monitor must be a metric name, got ${JSON.stringify(monitor)}`);
  return monitor;
}

function resolveMode(monitor: string, mode: 'auto' | 'min' | 'max'): 'min' | 'max' {
  if (mode !== 'auto') return mode;
  return /acc|precision|recall|f1|r2|auc/.test(monitor) ? 'max' : 'min';
}

export interface EarlyStoppingOptions {
  monitor?: string;
  /** Improvements smaller than this do not count. */
  minDelta?: number;
  /** Epochs without improvement before stopping. */
  patience?: number;
  mode?: 'auto' | 'min' | 'max';
  /** Stop unless the metric beats this. */
  baseline?: number;
  /** Put back the weights of the best epoch when stopping (or at the end). */
  restoreBestWeights?: boolean;
}
const EARLY_STOPPING_KEYS = optionKeys<EarlyStoppingOptions>({
  monitor: true,
  minDelta: true,
  patience: true,
  mode: true,
  baseline: true,
  restoreBestWeights: true,
});

/** Stops training when a monitored metric stops improving (Keras's EarlyStopping). */
export class EarlyStopping implements Callback {
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly mode: 'min' | 'max';
  readonly baseline: number | undefined;
  readonly restoreBestWeights: boolean;
  best = NaN;
  bestEpoch = -1;
  wait = 0;
  stoppedEpoch = -1;
  private ctx: TrainingContext | null = null;
  private bestWeights: Float32Array[] | null = null;

  constructor(options: EarlyStoppingOptions = {}) {
    const op = 'EarlyStopping';
    checkOptionKeys(op, options, EARLY_STOPPING_KEYS);
    this.monitor = monitorOption(op, options.monitor);
    this.minDelta = Math.abs(numberOption(op, 'minDelta', options.minDelta, 0, -Number.MAX_VALUE, Number.MAX_VALUE));
    this.patience = options.patience ?? 0;
    if (!Number.isInteger(this.patience) || this.patience < 0)
      throw new RangeError(`EarlyStopping: patience must be a non-negative integer, got ${this.patience}`);
    this.mode = resolveMode(this.monitor, enumOption(op, 'mode', options.mode, 'auto', MODES));
    if (options.baseline !== undefined && (typeof options.baseline !== 'number' || Number.isNaN(options.baseline)))
      throw new RangeError(`EarlyStopping: baseline must be a number, got ${String(options.baseline)}`);
    this.baseline = options.baseline;
    this.restoreBestWeights = options.restoreBestWeights ?? false;
  }
  setContext(ctx: TrainingContext): void {
    this.ctx = ctx;
  }
  onTrainBegin(): void {
    this.best = this.baseline ?? (this.mode === 'min' ? Infinity : -Infinity);
    this.wait = 0;
    this.bestEpoch = -1;
    this.stoppedEpoch = -1;
    this.bestWeights = null;
  }
  private improved(v: number): boolean {
    return this.mode === 'min' ? v < this.best - this.minDelta : v > this.best + this.minDelta;
  }
  onEpochEnd(epoch: number, logs: Logs): void {
    const v = logs[this.monitor];
    if (v === undefined)
      throw new Error(
        `EarlyStopping: metric '${this.monitor}' is not in the logs (have: ${Object.keys(logs).join(', ')})`,
      );
    if (this.improved(v)) {
      this.best = v;
      this.bestEpoch = epoch;
      this.wait = 0;
      if (this.restoreBestWeights && this.ctx) this.bestWeights = this.ctx.snapshotWeights();
      return;
    }
    this.wait += 1;
    if (this.wait > this.patience && this.ctx) {
      this.stoppedEpoch = epoch;
      this.ctx.stopTraining = true;
    }
  }
  onTrainEnd(): void {
    if (this.restoreBestWeights && this.bestWeights && this.ctx) this.ctx.restoreWeights(this.bestWeights);
  }
}

/**
 * Sets the learning rate from a schedule: a function (epoch, lr) => lr called at each epoch's
 * start, or an LRScheduler stepped at each epoch's end ('epoch') or after every batch ('batch').
 */
export class LearningRateScheduler implements Callback {
  readonly needsEveryBatch: boolean;
  private ctx: TrainingContext | null = null;
  constructor(
    readonly schedule: ((epoch: number, lr: number) => number) | LRScheduler,
    readonly interval: 'epoch' | 'batch' = 'epoch',
  ) {
    if (typeof schedule !== 'function' && typeof (schedule as LRScheduler)?.step !== 'function')
      throw new TypeError('LearningRateScheduler: expected a function (epoch, lr) => lr or an LRScheduler');
    enumOption('LearningRateScheduler', 'interval', interval, 'epoch', ['epoch', 'batch'] as const);
    this.needsEveryBatch = interval === 'batch';
  }
  setContext(ctx: TrainingContext): void {
    this.ctx = ctx;
  }
  onEpochBegin(epoch: number): void {
    if (typeof this.schedule === 'function' && this.ctx) {
      const lr = this.schedule(epoch, this.ctx.lr);
      if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0)
        throw new RangeError(`LearningRateScheduler: the schedule returned ${lr} for epoch ${epoch}`);
      this.ctx.lr = lr;
    }
  }
  onBatchEnd(): void {
    if (typeof this.schedule !== 'function' && this.interval === 'batch') this.schedule.step();
  }
  onEpochEnd(_epoch: number, logs: Logs): void {
    if (typeof this.schedule !== 'function' && this.interval === 'epoch') this.schedule.step();
    if (this.ctx) logs.lr = this.ctx.lr;
  }
}

export interface PlateauCallbackOptions {
  monitor?: string;
  factor?: number;
  patience?: number;
  mode?: 'auto' | 'min' | 'max';
  minDelta?: number;
  cooldown?: number;
  minLr?: number;
}
const PLATEAU_CALLBACK_KEYS = optionKeys<PlateauCallbackOptions>({
  monitor: true,
  factor: true,
  patience: true,
  mode: true,
  minDelta: true,
  cooldown: true,
  minLr: true,
});

/** Multiplies the lr by `factor` after `patience` epochs without improvement (Keras's ReduceLROnPlateau). */
export class ReduceLROnPlateauCallback implements Callback {
  readonly monitor: string;
  private readonly o: Required<Omit<PlateauCallbackOptions, 'monitor'>> & { mode: 'min' | 'max' };
  private best = NaN;
  private wait = 0;
  private cooldownLeft = 0;
  private ctx: TrainingContext | null = null;
  constructor(options: PlateauCallbackOptions = {}) {
    const op = 'ReduceLROnPlateauCallback';
    checkOptionKeys(op, options, PLATEAU_CALLBACK_KEYS);
    this.monitor = monitorOption(op, options.monitor);
    this.o = {
      factor: options.factor ?? 0.1,
      patience: intOption(op, 'patience', options.patience, 10, 0, Number.MAX_SAFE_INTEGER),
      mode: resolveMode(this.monitor, enumOption(op, 'mode', options.mode, 'auto', MODES)),
      minDelta: numberOption(op, 'minDelta', options.minDelta, 1e-4, 0, Number.MAX_VALUE),
      cooldown: intOption(op, 'cooldown', options.cooldown, 0, 0, Number.MAX_SAFE_INTEGER),
      minLr: numberOption(op, 'minLr', options.minLr, 0, 0, Number.MAX_VALUE),
    };
    if (!(this.o.factor > 0 && this.o.factor < 1))
      throw new RangeError(`ReduceLROnPlateau: factor must be in (0, 1), got ${this.o.factor}`);
  }
  setContext(ctx: TrainingContext): void {
    this.ctx = ctx;
  }
  onTrainBegin(): void {
    this.best = this.o.mode === 'min' ? Infinity : -Infinity;
    this.wait = 0;
    this.cooldownLeft = 0;
  }
  onEpochEnd(_epoch: number, logs: Logs): void {
    const v = logs[this.monitor];
    if (v === undefined) throw new Error(`ReduceLROnPlateau: metric '${this.monitor}' is not in the logs`);
    const better = this.o.mode === 'min' ? v < this.best - this.o.minDelta : v > this.best + this.o.minDelta;
    if (this.cooldownLeft > 0) this.cooldownLeft--;
    if (better) {
      this.best = v;
      this.wait = 0;
    } else if (this.cooldownLeft === 0 && ++this.wait >= this.o.patience && this.ctx) {
      this.ctx.lr = Math.max(this.ctx.lr * this.o.factor, this.o.minLr);
      this.cooldownLeft = this.o.cooldown;
      this.wait = 0;
    }
    if (this.ctx) logs.lr = this.ctx.lr;
  }
}

/** Stops training with an error naming the epoch, batch and loss when the loss is NaN or infinite. */
export class TerminateOnNaN implements Callback {
  private epoch = 0;
  onEpochBegin(epoch: number): void {
    this.epoch = epoch;
  }
  onBatchEnd(batch: number, logs: Logs): void {
    if (!Number.isFinite(logs.loss))
      throw new Error(`TerminateOnNaN: the loss became ${logs.loss} at epoch ${this.epoch + 1}, batch ${batch + 1}`);
  }
}

/** Appends each epoch's logs to a CSV file (header written on the first epoch). */
export class CSVLogger implements Callback {
  private columns: string[] | null = null;
  constructor(
    readonly path: string,
    readonly separator = ',',
  ) {}
  onTrainBegin(): void {
    this.columns = null;
    writeFileSync(this.path, '');
  }
  onEpochEnd(epoch: number, logs: Logs): void {
    if (!this.columns) {
      this.columns = Object.keys(logs);
      appendFileSync(this.path, ['epoch', ...this.columns].join(this.separator) + '\n');
    }
    appendFileSync(this.path, [epoch, ...this.columns.map((c) => logs[c] ?? '')].join(this.separator) + '\n');
  }
}

/** Rewrites a JSON file with the whole history after each epoch. */
export class JSONLogger implements Callback {
  private rows: (Logs & { epoch: number })[] = [];
  constructor(readonly path: string) {}
  onTrainBegin(): void {
    this.rows = [];
  }
  onEpochEnd(epoch: number, logs: Logs): void {
    this.rows.push({ epoch, ...logs });
    writeFileSync(this.path, JSON.stringify(this.rows, null, 2) + '\n');
  }
}

/** Wraps plain hook functions as a callback. */
export function lambdaCallback(hooks: Omit<Callback, 'needsEveryBatch'> & { needsEveryBatch?: boolean }): Callback {
  checkOptionKeys('lambdaCallback', hooks, CALLBACK_KEYS);
  for (const [k, v] of Object.entries(hooks))
    if (k !== 'needsEveryBatch' && v !== undefined && typeof v !== 'function')
      throw new TypeError(`lambdaCallback: ${k} must be a function, got ${typeof v}`);
  return hooks;
}
