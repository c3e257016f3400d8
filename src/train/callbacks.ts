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

/**
 * The named numbers a callback receives: at an epoch's end 'loss', the compiled metrics and
 * their 'val_' forms (plus 'lr' when a schedule callback adds it); after a batch, the epoch's
 * running mean 'loss'. Keys are metric names, as in Keras's logs dict.
 *
 * @example
 * ```ts
 * import { lambdaCallback, type Logs } from 'axon-nn';
 * const printer = lambdaCallback({
 *   onEpochEnd: (epoch: number, logs: Logs) => console.log(`epoch ${epoch + 1}: loss ${logs.loss.toFixed(4)}`),
 * });
 * ```
 */
export type Logs = Record<string, number>;

/**
 * What a callback can reach while training, handed to its setContext before the first epoch:
 * the run's sizes, the learning rate, stopping, and weight snapshots.
 *
 * @example
 * ```ts
 * import { lambdaCallback, type TrainingContext } from 'axon-nn';
 * let ctx: TrainingContext | null = null;
 * const halveEachEpoch = lambdaCallback({
 *   setContext: (c) => (ctx = c),
 *   onEpochEnd: () => {
 *     if (ctx) ctx.lr /= 2;
 *   },
 * });
 * ```
 */
export interface TrainingContext {
  /** Set to true to stop after the current epoch (EarlyStopping does). */
  stopTraining: boolean;
  /** The epoch count the fit runs to (its `epochs` option). */
  epochs: number;
  /** Batches per epoch (NaN when a DataLoader's dataset has no known length). */
  stepsPerEpoch: number;
  /** Rows per batch. */
  batchSize: number;
  /** Training samples per epoch (NaN when unknown). */
  samples: number;
  /** Current learning rate of the first parameter group; setting it changes every group. */
  lr: number;
  /** Copy of all weights (for restoring later). */
  snapshotWeights(): Float32Array[];
  /** Copies a snapshotWeights() result back into the model's parameters. */
  restoreWeights(snapshot: Float32Array[]): void;
  /** The Model being trained (ModelCheckpoint saves it). */
  model?: Model;
}

/**
 * A training callback (Keras's hooks and names): any object with some of these optional
 * methods, given to fit in `callbacks`. Async hooks are awaited; a hook that throws makes fit
 * reject. Epoch and batch numbers are 0-based.
 *
 * @example
 * ```ts
 * import type { Callback, Logs, TrainingContext } from 'axon-nn';
 * class StopBelow implements Callback {
 *   private ctx: TrainingContext | null = null;
 *   constructor(private readonly threshold: number) {}
 *   setContext(ctx: TrainingContext): void {
 *     this.ctx = ctx;
 *   }
 *   onEpochEnd(_epoch: number, logs: Logs): void {
 *     if (this.ctx && logs.loss < this.threshold) this.ctx.stopTraining = true; // ends fit after this epoch
 *   }
 * }
 * ```
 */
export interface Callback {
  /** Run batches one at a time so per-batch hooks see each batch before the next starts. */
  readonly needsEveryBatch?: boolean;
  /** Receives the training context before the first hook runs (keep it to change the lr or stop training). */
  setContext?(ctx: TrainingContext): void;
  /** Called once before the first epoch, with empty logs. */
  onTrainBegin?(logs: Logs): void | Promise<void>;
  /** Called once after the last epoch (also when training was stopped early; not when fit rejects). */
  onTrainEnd?(logs: Logs): void | Promise<void>;
  /** Called at the start of each epoch. */
  onEpochBegin?(epoch: number, logs: Logs): void | Promise<void>;
  /** Called after each epoch with its loss, metrics and val_ values; entries a callback adds reach History. */
  onEpochEnd?(epoch: number, logs: Logs): void | Promise<void>;
  /** Called before each batch; having it makes fit run one batch per native call (slower). */
  onBatchBegin?(batch: number, logs: Logs): void | Promise<void>;
  /** Called after each batch with the epoch's running mean loss (for a native chunk of batches, once it has run). */
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

/**
 * Per-epoch logs of a fit: history.history.loss[e], history.history.val_accuracy[e], ...
 * (Keras's History). fit makes one, runs it after every other callback, and resolves to it.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, randn } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(4, 1)));
 * model.compile({ optimizer: 'adam', loss: 'mse', metrics: ['mae'] });
 * const history = await model.fit(randn([40, 4]), randn([40, 1]), { epochs: 3, validationSplit: 0.2, verbose: 0 });
 * console.log(history.epoch); // [ 0, 1, 2 ]
 * console.log(Object.keys(history.history)); // [ 'loss', 'mae', 'val_loss', 'val_mae' ]
 * ```
 */
export class History implements Callback {
  /** The epochs recorded (0-based; a resumed fit starts at its initialEpoch). */
  readonly epoch: number[] = [];
  /** Each log key's value per recorded epoch. */
  readonly history: Record<string, number[]> = {};
  /** Appends the epoch and each of its logs. */
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

/**
 * {@link EarlyStopping}'s options (Keras's arguments, camelCased). Bad values throw a
 * RangeError or TypeError, an unknown key a TypeError.
 *
 * @example
 * ```ts
 * import { EarlyStopping, type EarlyStoppingOptions } from 'axon-nn';
 * const options: EarlyStoppingOptions = { monitor: 'val_accuracy', patience: 5, minDelta: 1e-3, restoreBestWeights: true };
 * const stopper = new EarlyStopping(options);
 * ```
 */
export interface EarlyStoppingOptions {
  /** The logs key to watch (default 'val_loss'). */
  monitor?: string;
  /** Improvements smaller than this do not count. */
  minDelta?: number;
  /** Epochs without improvement before stopping (default 0). */
  patience?: number;
  /** 'min', 'max', or 'auto' (default): 'max' when the name contains acc, precision, recall, f1, r2 or auc, else 'min'. */
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

/**
 * Stops training when a monitored metric stops improving (Keras's EarlyStopping): after more
 * than `patience` epochs without an improvement of more than minDelta. fit rejects with an
 * Error when the monitored key is not in an epoch's logs (e.g. 'val_loss' without validation data).
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, EarlyStopping, randn } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(4, 1)));
 * model.compile({ optimizer: 'adam', loss: 'mse' });
 * const stopper = new EarlyStopping({ monitor: 'val_loss', patience: 2, restoreBestWeights: true });
 * await model.fit(randn([64, 4]), randn([64, 1]), { epochs: 20, validationSplit: 0.25, verbose: 0, callbacks: [stopper] });
 * console.log(stopper.bestEpoch, stopper.stoppedEpoch); // stoppedEpoch is -1 when all 20 epochs ran
 * ```
 */
export class EarlyStopping implements Callback {
  /** The logs key watched. */
  readonly monitor: string;
  /** Smallest change that counts as an improvement (absolute). */
  readonly minDelta: number;
  /** Epochs without improvement tolerated. */
  readonly patience: number;
  /** Whether lower ('min') or higher ('max') is better, resolved from 'auto'. */
  readonly mode: 'min' | 'max';
  /** The value to beat, if given. */
  readonly baseline: number | undefined;
  /** Whether the best epoch's weights are put back at the end. */
  readonly restoreBestWeights: boolean;
  /** Best value seen in this fit (the baseline, or ±Infinity, before any improvement). */
  best = NaN;
  /** Epoch of the best value (-1: none yet). */
  bestEpoch = -1;
  /** Epochs since the last improvement. */
  wait = 0;
  /** Epoch at which it stopped training (-1: it did not). */
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
  /** Keeps the context (to stop training and snapshot weights). */
  setContext(ctx: TrainingContext): void {
    this.ctx = ctx;
  }
  /** Resets the state, so one instance can serve several fits. */
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
  /** Compares the monitored value with the best; throws an Error when it is not in the logs. */
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
  /** Puts back the best epoch's weights when restoreBestWeights is set. */
  onTrainEnd(): void {
    if (this.restoreBestWeights && this.bestWeights && this.ctx) this.ctx.restoreWeights(this.bestWeights);
  }
}

/**
 * Sets the learning rate from a schedule (Keras's LearningRateScheduler): a function
 * (epoch, lr) => lr called at each epoch's start, or an LRScheduler stepped at each epoch's
 * end ('epoch') or after every batch ('batch'). Adds the lr to each epoch's logs. Throws a
 * TypeError for another schedule, and fit rejects when a function returns a negative or
 * non-finite lr.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, LearningRateScheduler, randn } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(4, 1)));
 * model.compile({ optimizer: 'sgd', learningRate: 0.1, loss: 'mse' });
 * const decay = new LearningRateScheduler((epoch, lr) => (epoch < 2 ? lr : lr * 0.5));
 * const history = await model.fit(randn([32, 4]), randn([32, 1]), { epochs: 4, verbose: 0, callbacks: [decay] });
 * console.log(history.history.lr); // [ 0.1, 0.1, 0.05, 0.025 ]
 * ```
 */
export class LearningRateScheduler implements Callback {
  readonly needsEveryBatch: boolean;
  private ctx: TrainingContext | null = null;
  constructor(
    /** A function of the epoch and current lr, or an LRScheduler over the compiled optimizer. */
    readonly schedule: ((epoch: number, lr: number) => number) | LRScheduler,
    /** When an LRScheduler steps: after each epoch (default) or after each batch. */
    readonly interval: 'epoch' | 'batch' = 'epoch',
  ) {
    if (typeof schedule !== 'function' && typeof (schedule as LRScheduler)?.step !== 'function')
      throw new TypeError('LearningRateScheduler: expected a function (epoch, lr) => lr or an LRScheduler');
    enumOption('LearningRateScheduler', 'interval', interval, 'epoch', ['epoch', 'batch'] as const);
    this.needsEveryBatch = interval === 'batch';
  }
  /** Keeps the context (to read and set the lr). */
  setContext(ctx: TrainingContext): void {
    this.ctx = ctx;
  }
  /** Applies a function schedule for this epoch. */
  onEpochBegin(epoch: number): void {
    if (typeof this.schedule === 'function' && this.ctx) {
      const lr = this.schedule(epoch, this.ctx.lr);
      if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0)
        throw new RangeError(`LearningRateScheduler: the schedule returned ${lr} for epoch ${epoch}`);
      this.ctx.lr = lr;
    }
  }
  /** Steps an LRScheduler whose interval is 'batch'. */
  onBatchEnd(): void {
    if (typeof this.schedule !== 'function' && this.interval === 'batch') this.schedule.step();
  }
  /** Steps an LRScheduler whose interval is 'epoch', and records the lr in the logs. */
  onEpochEnd(_epoch: number, logs: Logs): void {
    if (typeof this.schedule !== 'function' && this.interval === 'epoch') this.schedule.step();
    if (this.ctx) logs.lr = this.ctx.lr;
  }
}

/**
 * {@link ReduceLROnPlateauCallback}'s options (Keras's ReduceLROnPlateau arguments,
 * camelCased). Bad values throw a RangeError, an unknown key a TypeError.
 *
 * @example
 * ```ts
 * import { ReduceLROnPlateauCallback, type PlateauCallbackOptions } from 'axon-nn';
 * const options: PlateauCallbackOptions = { monitor: 'val_loss', factor: 0.5, patience: 3, minLr: 1e-5 };
 * const plateau = new ReduceLROnPlateauCallback(options);
 * ```
 */
export interface PlateauCallbackOptions {
  /** The logs key to watch (default 'val_loss'). */
  monitor?: string;
  /** Factor the lr is multiplied by, in (0, 1) (default 0.1). */
  factor?: number;
  /** Epochs without improvement before the lr is lowered (default 10). */
  patience?: number;
  /** 'min', 'max', or 'auto' (default): 'max' when the name contains acc, precision, recall, f1, r2 or auc, else 'min'. */
  mode?: 'auto' | 'min' | 'max';
  /** Smallest change that counts as an improvement (absolute; default 1e-4). */
  minDelta?: number;
  /** Epochs to wait after lowering the lr before counting again (default 0). */
  cooldown?: number;
  /** Floor of the lr (default 0). */
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

/**
 * Multiplies the lr by `factor` after `patience` epochs without improvement (Keras's
 * ReduceLROnPlateau), and adds the lr to each epoch's logs. fit rejects with an Error when the
 * monitored key is not in an epoch's logs. For a hand-written loop, see {@link ReduceLROnPlateau}.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, ReduceLROnPlateauCallback, randn } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(4, 1)));
 * model.compile({ optimizer: 'adam', loss: 'mse' });
 * const plateau = new ReduceLROnPlateauCallback({ factor: 0.5, patience: 2 });
 * await model.fit(randn([40, 4]), randn([40, 1]), { epochs: 6, validationSplit: 0.2, verbose: 0, callbacks: [plateau] });
 * ```
 */
export class ReduceLROnPlateauCallback implements Callback {
  /** The logs key watched. */
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
  /** Keeps the context (to read and set the lr). */
  setContext(ctx: TrainingContext): void {
    this.ctx = ctx;
  }
  /** Resets the state, so one instance can serve several fits. */
  onTrainBegin(): void {
    this.best = this.o.mode === 'min' ? Infinity : -Infinity;
    this.wait = 0;
    this.cooldownLeft = 0;
  }
  /** Compares the monitored value with the best and lowers the lr when due; throws an Error when it is not in the logs. */
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

/**
 * Stops training with an error naming the epoch, batch and loss when the loss is NaN or
 * infinite (Keras's TerminateOnNaN). fit's default (onNonFinite: 'stop') already stops with a
 * fuller diagnosis; giving this callback makes that default 'ignore', so fit rejects with this
 * callback's plain Error instead.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, TerminateOnNaN, randn } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(4, 1)));
 * model.compile({ optimizer: 'sgd', loss: 'mse' });
 * await model.fit(randn([32, 4]), randn([32, 1]), { epochs: 2, verbose: 0, callbacks: [new TerminateOnNaN()] });
 * ```
 */
export class TerminateOnNaN implements Callback {
  private epoch = 0;
  /** Notes the epoch for the error message. */
  onEpochBegin(epoch: number): void {
    this.epoch = epoch;
  }
  /** Throws an Error when the running loss is not finite. */
  onBatchEnd(batch: number, logs: Logs): void {
    if (!Number.isFinite(logs.loss))
      throw new Error(`TerminateOnNaN: the loss became ${logs.loss} at epoch ${this.epoch + 1}, batch ${batch + 1}`);
  }
}

/**
 * Appends each epoch's logs to a CSV file (Keras's CSVLogger): the file is emptied when
 * training begins, and the header (epoch, then the first epoch's log keys) written with the
 * first epoch.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, CSVLogger, randn } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(4, 1)));
 * model.compile({ optimizer: 'adam', loss: 'mse' });
 * await model.fit(randn([32, 4]), randn([32, 1]), { epochs: 2, verbose: 0, callbacks: [new CSVLogger('training.csv')] });
 * // training.csv: "epoch,loss" then one row per epoch
 * ```
 */
export class CSVLogger implements Callback {
  private columns: string[] | null = null;
  constructor(
    /** The file written. */
    readonly path: string,
    /** The column separator (default ','). */
    readonly separator = ',',
  ) {}
  /** Empties the file. */
  onTrainBegin(): void {
    this.columns = null;
    writeFileSync(this.path, '');
  }
  /** Appends the epoch's row (after the header, the first time). */
  onEpochEnd(epoch: number, logs: Logs): void {
    if (!this.columns) {
      this.columns = Object.keys(logs);
      appendFileSync(this.path, ['epoch', ...this.columns].join(this.separator) + '\n');
    }
    appendFileSync(this.path, [epoch, ...this.columns.map((c) => logs[c] ?? '')].join(this.separator) + '\n');
  }
}

/**
 * Rewrites a JSON file with the whole history after each epoch: an array of { epoch, ...logs }
 * objects, so the file is valid JSON even while training runs.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, JSONLogger, randn } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(4, 1)));
 * model.compile({ optimizer: 'adam', loss: 'mse' });
 * await model.fit(randn([32, 4]), randn([32, 1]), { epochs: 2, verbose: 0, callbacks: [new JSONLogger('history.json')] });
 * // history.json: [ { "epoch": 0, "loss": ... }, { "epoch": 1, "loss": ... } ]
 * ```
 */
export class JSONLogger implements Callback {
  private rows: (Logs & { epoch: number })[] = [];
  constructor(
    /** The file written. */
    readonly path: string,
  ) {}
  /** Starts a new history (the file is rewritten at the first epoch's end). */
  onTrainBegin(): void {
    this.rows = [];
  }
  /** Adds the epoch's logs and rewrites the file. */
  onEpochEnd(epoch: number, logs: Logs): void {
    this.rows.push({ epoch, ...logs });
    writeFileSync(this.path, JSON.stringify(this.rows, null, 2) + '\n');
  }
}

/**
 * Wraps plain hook functions as a callback (Keras's LambdaCallback). Throws a TypeError for an
 * unknown hook name or a hook that is not a function.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, lambdaCallback, randn } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(4, 1)));
 * model.compile({ optimizer: 'adam', loss: 'mse' });
 * const printer = lambdaCallback({ onEpochEnd: (epoch, logs) => console.log(`epoch ${epoch + 1}: ${logs.loss.toFixed(3)}`) });
 * await model.fit(randn([32, 4]), randn([32, 1]), { epochs: 2, verbose: 0, callbacks: [printer] });
 * ```
 */
export function lambdaCallback(hooks: Omit<Callback, 'needsEveryBatch'> & { needsEveryBatch?: boolean }): Callback {
  checkOptionKeys('lambdaCallback', hooks, CALLBACK_KEYS);
  for (const [k, v] of Object.entries(hooks))
    if (k !== 'needsEveryBatch' && v !== undefined && typeof v !== 'function')
      throw new TypeError(`lambdaCallback: ${k} must be a function, got ${typeof v}`);
  return hooks;
}
