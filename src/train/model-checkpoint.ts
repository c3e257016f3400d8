/**
 * ModelCheckpoint: saves during fit. Every `every` epochs to `filepath` (keeping the newest
 * `keepLast` of those files), and/or to `bestFilepath` whenever the monitored metric improves.
 * By default it writes full checkpoints (weights, optimizer, random streams, fit cursor and
 * the given schedulers: see io/checkpoint), so a run resumes exactly with
 * loadCheckpoint + fit({ initialEpoch }); `weightsOnly` writes model files instead.
 *
 * Paths may hold `{epoch}` (1-based; `{epoch:03d}` zero-pads) and `{name}` / `{name:.4f}` for
 * any value in the epoch's logs (`{val_loss:.4f}`).
 */
import { mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { saveCheckpoint, type Stateful } from '../io/checkpoint.js';
import { checkOptionKeys, enumOption, optionKeys } from '../options.js';
import type { Callback, Logs, TrainingContext } from './callbacks.js';

/**
 * {@link ModelCheckpoint}'s options: give filepath, bestFilepath, or both. Bad values throw a
 * TypeError or RangeError.
 *
 * @example
 * ```ts
 * import { ModelCheckpoint, type ModelCheckpointOptions } from 'axon-nn';
 * const options: ModelCheckpointOptions = { bestFilepath: 'best.axon', monitor: 'val_accuracy', weightsOnly: true };
 * const checkpoint = new ModelCheckpoint(options); // pass in fit's callbacks
 * ```
 */
export interface ModelCheckpointOptions {
  /** Periodic saves (every `every` epochs). */
  filepath?: string;
  /** Saves whenever `monitor` improves. */
  bestFilepath?: string;
  /** Save every this many epochs (default 1). */
  every?: number;
  /** Keep only this many of the periodic files (default: all). */
  keepLast?: number;
  /** The logs key that decides the best saves (default 'val_loss'). */
  monitor?: string;
  /** 'min', 'max', or 'auto' (default): 'max' when the name contains acc, precision, recall, f1, r2 or auc, else 'min'. */
  mode?: 'auto' | 'min' | 'max';
  /** Save model files (architecture + weights) instead of full checkpoints. */
  weightsOnly?: boolean;
  /** Schedulers whose state goes into each checkpoint (restore them with loadCheckpoint). */
  schedulers?: Record<string, Stateful>;
}
const MODEL_CHECKPOINT_KEYS = optionKeys<ModelCheckpointOptions>({
  filepath: true,
  bestFilepath: true,
  every: true,
  keepLast: true,
  monitor: true,
  mode: true,
  weightsOnly: true,
  schedulers: true,
});

/**
 * Expands {epoch}, {epoch:03d}, {name}, {name:.4f} in a path, the way ModelCheckpoint names its
 * files (it passes the 1-based epoch). Throws a RangeError for a placeholder that names no log value.
 *
 * @example
 * ```ts
 * import { formatCheckpointPath } from 'axon-nn';
 * console.log(formatCheckpointPath('ckpt-{epoch:03d}-{val_loss:.3f}.axon', 7, { val_loss: 0.12345 })); // ckpt-007-0.123.axon
 * ```
 */
export function formatCheckpointPath(template: string, epoch: number, logs: Logs): string {
  return template.replace(
    /\{(\w+)(?::(0?)(\d*)([df]?)|:\.(\d+)f)?\}/g,
    (whole, key: string, zero, width, kind, prec) => {
      const v = key === 'epoch' ? epoch : logs[key];
      if (v === undefined)
        throw new RangeError(
          `ModelCheckpoint: '${whole}' in the path names no log value (have: epoch, ${Object.keys(logs).join(', ')})`,
        );
      if (prec !== undefined) return v.toFixed(Number(prec));
      if (kind === 'd' || (zero && width)) return String(Math.trunc(v)).padStart(Number(width || 0), zero ? '0' : ' ');
      return String(v);
    },
  );
}

function resolveMode(monitor: string, mode: 'auto' | 'min' | 'max'): 'min' | 'max' {
  if (mode !== 'auto') return mode;
  return /acc|precision|recall|f1|r2|auc/.test(monitor) ? 'max' : 'min';
}

/**
 * Saves during fit (Keras's ModelCheckpoint): every `every` epochs to `filepath` (keeping the
 * newest `keepLast` of those files), and/or to `bestFilepath` whenever the monitored metric
 * improves. By default the files are full checkpoints (weights, optimizer, random streams, fit
 * cursor and the given schedulers), so loadCheckpoint + fit({ initialEpoch }) resumes exactly;
 * `weightsOnly` writes model files instead. fit rejects when the monitored key is missing.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, ModelCheckpoint, randn } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(4, 1)));
 * model.compile({ optimizer: 'adam', loss: 'mse' });
 * const checkpoint = new ModelCheckpoint({ filepath: 'ckpt-{epoch:02d}.axon', keepLast: 2, bestFilepath: 'best.axon' });
 * await model.fit(randn([40, 4]), randn([40, 1]), { epochs: 3, validationSplit: 0.2, verbose: 0, callbacks: [checkpoint] });
 * console.log(checkpoint.saved); // [ 'ckpt-02.axon', 'ckpt-03.axon' ]
 * ```
 */
export class ModelCheckpoint implements Callback {
  private ctx: TrainingContext | null = null;
  private readonly every: number;
  private readonly keepLast: number;
  private readonly monitor: string;
  private readonly mode: 'min' | 'max';
  /** Best monitored value so far. */
  best: number;
  /** Periodic files written by this callback that still exist, oldest first. */
  readonly saved: string[] = [];
  /** Path of the last best save, if any. */
  bestPath: string | null = null;

  constructor(
    /** The options it was made with. */
    readonly options: ModelCheckpointOptions,
  ) {
    checkOptionKeys('ModelCheckpoint', options, MODEL_CHECKPOINT_KEYS);
    for (const key of ['filepath', 'bestFilepath', 'monitor'] as const)
      if (options?.[key] !== undefined && (typeof options[key] !== 'string' || options[key] === ''))
        throw new TypeError(`ModelCheckpoint: ${key} must be a non-empty string, got ${JSON.stringify(options[key])}`);
    if (!options || (!options.filepath && !options.bestFilepath))
      throw new TypeError('ModelCheckpoint: give filepath (periodic saves) and/or bestFilepath (best by monitor)');
    this.every = options.every ?? 1;
    if (!Number.isInteger(this.every) || this.every < 1)
      throw new RangeError(`ModelCheckpoint: every must be a positive integer, got ${options.every}`);
    this.keepLast = options.keepLast ?? Infinity;
    if (this.keepLast !== Infinity && (!Number.isInteger(this.keepLast) || this.keepLast < 1))
      throw new RangeError(`ModelCheckpoint: keepLast must be a positive integer, got ${options.keepLast}`);
    this.monitor = options.monitor ?? 'val_loss';
    this.mode = resolveMode(
      this.monitor,
      enumOption('ModelCheckpoint', 'mode', options.mode, 'auto', ['auto', 'min', 'max']),
    );
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  /** Keeps the context (the model to save). */
  setContext(ctx: TrainingContext): void {
    this.ctx = ctx;
  }

  private async write(path: string): Promise<void> {
    const model = this.ctx?.model;
    if (!model) throw new Error('ModelCheckpoint: runs inside Model.fit only');
    // As Keras does: the directory of a path like 'runs/exp1/ckpt-{epoch}.axon' is created.
    await mkdir(dirname(path), { recursive: true });
    if (this.options.weightsOnly) await model.save(path);
    else await saveCheckpoint(path, { model, schedulers: this.options.schedulers });
  }

  /** Writes the epoch's periodic and best files as due, and deletes periodic files beyond keepLast. */
  async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    const n = epoch + 1;
    if (this.options.filepath && n % this.every === 0) {
      const path = formatCheckpointPath(this.options.filepath, n, logs);
      await this.write(path);
      const prior = this.saved.indexOf(path);
      if (prior >= 0) this.saved.splice(prior, 1); // same name again: it was overwritten
      this.saved.push(path);
      while (this.saved.length > this.keepLast) {
        const old = this.saved.shift() as string;
        if (old !== this.bestPath) await unlink(old).catch(() => undefined);
      }
    }
    if (this.options.bestFilepath) {
      const v = logs[this.monitor];
      if (v === undefined)
        throw new RangeError(
          `ModelCheckpoint: monitored '${this.monitor}' is not in the logs (${Object.keys(logs).join(', ')})`,
        );
      if (this.mode === 'min' ? v < this.best : v > this.best) {
        this.best = v;
        const path = formatCheckpointPath(this.options.bestFilepath, n, logs);
        await this.write(path);
        this.bestPath = path;
      }
    }
  }
}
