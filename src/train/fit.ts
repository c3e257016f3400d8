/**
 * fit's one training loop, over a batch source: epochs, then runs of recorded steps replayed
 * on the thread pool, callbacks between runs, the non-finite-loss check, aborts, metrics and
 * validation. Where the batches come from is the source's business: TensorBatches gathers
 * shuffled rows out of in-memory tensors inside the recorded step (many steps per replay);
 * LoaderBatches copies each batch a DataLoader yields into a step recorded per batch size
 * (one step per replay). Model (src/train/model.ts) parses fit's options and builds both.
 */
import { TensorDataset, type Batch, type DataLoader } from '../data/dataset.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Generator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { enumOption } from '../options.js';
import { TerminateOnNaN, type Callback, type Logs, type TrainingContext } from './callbacks.js';
import { locateNonFinite } from './diagnose.js';
import type { Accumulators, Metric } from './metrics.js';
import { MAX_CHUNK, NON_FINITE_STOP, resetAccumulators, type StepProgram } from './step.js';

/**
 * Model.fit's options (Keras's fit arguments, camelCased). Bad values throw (fit rejects): a
 * RangeError for an out-of-range number, a TypeError for an unknown key. batchSize, shuffle,
 * seed, classWeight and validationSplit are refused with a DataLoader, which decides those itself.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, EarlyStopping, randn, randint, type FitOptions } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(8, 3)));
 * model.compile({ optimizer: 'adam', loss: 'crossEntropy', metrics: ['accuracy'] });
 * const stopper = new EarlyStopping({ patience: 2 });
 * const options: FitOptions = { epochs: 5, batchSize: 16, validationSplit: 0.2, seed: 42, verbose: 0, callbacks: [stopper] };
 * const history = await model.fit(randn([100, 8]), randint(0, 3, [100]), options);
 * ```
 */
export interface FitOptions {
  /** The epoch to train up to (default 1): epochs initialEpoch .. epochs - 1 run. */
  epochs?: number;
  /** Rows per batch (default 32; an epoch's last batch may be smaller). */
  batchSize?: number;
  /** Shuffle the sample order every epoch (default true). */
  shuffle?: boolean;
  /** Hold out the last fraction of the samples (before shuffling) for validation. */
  validationSplit?: number;
  /** Data evaluated after every epoch for the val_ logs (used instead of validationSplit). */
  validationData?: [Tensor, Tensor] | TensorDataset;
  /** Callbacks run during training, in order; fit adds its History after them. */
  callbacks?: Callback[];
  /** Per-class loss weights (cross-entropy losses): PyTorch's `weight` semantics. */
  classWeight?: Record<number, number> | number[];
  /** The epoch to start at (0-based, default 0; below epochs), to resume a run: a checkpoint's fit cursor continues its shuffling. */
  initialEpoch?: number;
  /** Cancels training between batches; fit then rejects with an AbortError and the model
   * holds the weights after the last completed batch. */
  signal?: AbortSignal;
  /** 0: silent, 1: progress display (default; fit over tensors only, a DataLoader fit shows none). */
  verbose?: 0 | 1;
  /** Seed of the shuffling (default: drawn from the global generator). */
  seed?: number;
  /**
   * What a NaN or infinite training loss does. 'stop' (the default, unless a TerminateOnNaN
   * callback is given): fit rejects with a NonFiniteLossError naming the epoch, the batch and
   * the first input, parameter or layer output that went non-finite; that batch's update is
   * not applied. 'warn': one process warning with the same diagnosis, training goes on.
   * 'ignore': nothing (Keras's and PyTorch's behaviour).
   */
  onNonFinite?: 'stop' | 'warn' | 'ignore';
}

export const FIT_OPTION_KEYS = [
  'epochs',
  'batchSize',
  'shuffle',
  'validationSplit',
  'validationData',
  'callbacks',
  'classWeight',
  'initialEpoch',
  'signal',
  'verbose',
  'seed',
  'onNonFinite',
] as const satisfies readonly (keyof FitOptions)[];

/**
 * A NaN or infinite loss stopped fit (see FitOptions.onNonFinite). The message names the first
 * input, parameter or layer output that went non-finite, and whether the failing batch's
 * update was applied (in a single-process fit it was not).
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, NonFiniteLossError, tensor } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(2, 1)));
 * model.compile({ optimizer: 'sgd', loss: 'mse' });
 * try {
 *   await model.fit(tensor([[1, 2], [NaN, 0]]), tensor([[1], [0]]), { verbose: 0 });
 * } catch (e) {
 *   if (e instanceof NonFiniteLossError) console.log(e.epoch, e.batch); // 0 0
 * }
 * ```
 */
export class NonFiniteLossError extends Error {
  /** Always 'NonFiniteLossError'. */
  override name = 'NonFiniteLossError';
  constructor(
    message: string,
    /** The epoch of the non-finite loss (0-based). */
    readonly epoch: number,
    /** The batch of the non-finite loss within its epoch (0-based). */
    readonly batch: number,
  ) {
    super(message);
  }
}

/**
 * What fit, evaluate and predict reject with when their `signal` aborts (named 'AbortError',
 * as the DOM's). After an aborted fit, the model holds the weights of the last completed batch.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, AbortError, randn } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(4, 1)));
 * model.compile({ optimizer: 'adam', loss: 'mse' });
 * try {
 *   await model.fit(randn([64, 4]), randn([64, 1]), { epochs: 100_000, verbose: 0, signal: AbortSignal.timeout(50) });
 * } catch (e) {
 *   if (e instanceof AbortError) console.log(e.message); // e.g. "fit: aborted at epoch 420, batch 2"
 * }
 * ```
 */
export class AbortError extends Error {
  /** Always 'AbortError'. */
  override name = 'AbortError';
}

/** Refuses a `signal` option that is not an AbortSignal (it would be silently ignored). */
export function checkSignal(op: string, signal: unknown): asserts signal is AbortSignal | undefined {
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw new TypeError(
      `${op}: options.signal must be an AbortSignal, got ${signal === null ? 'null' : typeof signal}`,
    );
}

/**
 * work's result, or an AbortError as soon as signal aborts (work keeps running to its end in
 * the background, its outcome dropped).
 */
export function abortable<T>(op: string, work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(new AbortError(`${op}: aborted`));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AbortError(`${op}: aborted`));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
}

/**
 * Model.predict's options.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, randn, type PredictOptions } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(4, 2)));
 * const options: PredictOptions = { batchSize: 1024, offload: true };
 * const out = await model.predict(randn([4096, 4]), options); // shape [4096, 2]
 * ```
 */
export interface PredictOptions {
  /** Rows per forward on the thread pool (default 256). */
  batchSize?: number;
  /** Rejects the call with an AbortError once aborted (see Model.predict). */
  signal?: AbortSignal;
  /**
   * Run on the thread pool even when the request is cheap enough for the synchronous path:
   * the JS thread stays free for other work (a server parsing the next requests) at the cost
   * of a thread hop (about 27 us). The outputs are the same bits either way.
   */
  offload?: boolean;
}

/**
 * Model.evaluate's options.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, randn, type EvaluateOptions } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(4, 1))).compile({ optimizer: 'adam', loss: 'mse' });
 * const options: EvaluateOptions = { batchSize: 256, signal: AbortSignal.timeout(10_000) };
 * const { loss } = await model.evaluate(randn([1000, 4]), randn([1000, 1]), options);
 * ```
 */
export interface EvaluateOptions {
  /** Rows per step (default 32). */
  batchSize?: number;
  /** Stops between batches and rejects with an AbortError. */
  signal?: AbortSignal;
}

/** Steps to replay: `steps` steps of `sp` from row `startRow` of the source's order. */
export interface StepRun {
  sp: StepProgram;
  startRow: number;
  steps: number;
  /** Rows per step. */
  rows: number;
}

/** Where fit's batches come from. */
export interface BatchSource {
  /** Samples and steps per epoch (NaN when unknown: generator datasets). */
  readonly samples: number;
  readonly stepsPerEpoch: number;
  readonly batchSize: number;
  beginEpoch(epoch: number): void;
  /** The next steps to replay (at most maxSteps), or null at the end of the epoch. */
  next(maxSteps: number): Promise<StepRun | null>;
  /** `ran` steps of the last run completed. */
  advance(ran: number): void;
  /** The input rows of step i of run (a diagnosis re-runs them). */
  batchRows(run: StepRun, i: number): Tensor;
}

/** In-memory tensors: the order is shuffled per epoch and the recorded steps gather rows. */
export class TensorBatches implements BatchSource {
  readonly samples: number;
  readonly stepsPerEpoch: number;
  private readonly fullSteps: number;
  private done = 0;

  constructor(
    private readonly x: Tensor,
    readonly batchSize: number,
    private readonly order: Int32Array,
    private readonly shuffle: Generator | null,
    /** Steps over full batches and over the last, smaller one (null when there is none). */
    private readonly full: StepProgram | null,
    private readonly rest: StepProgram | null,
  ) {
    this.samples = x.shape[0];
    this.fullSteps = Math.floor(this.samples / batchSize);
    this.stepsPerEpoch = this.fullSteps + (rest ? 1 : 0);
  }

  beginEpoch(): void {
    if (this.shuffle) shuffleInPlace(this.order, this.shuffle);
    this.done = 0;
  }

  async next(maxSteps: number): Promise<StepRun | null> {
    if (this.full && this.done < this.fullSteps)
      return {
        sp: this.full,
        startRow: this.done * this.batchSize,
        steps: Math.min(maxSteps, this.fullSteps - this.done),
        rows: this.batchSize,
      };
    if (this.rest && this.done === this.fullSteps)
      return { sp: this.rest, startRow: this.fullSteps * this.batchSize, steps: 1, rows: this.rest.rows };
    return null;
  }

  advance(ran: number): void {
    this.done += ran;
  }

  batchRows(run: StepRun, i: number): Tensor {
    const start = run.startRow + i * run.rows;
    const n = Math.min(run.rows, this.order.length - start);
    const width = this.x.size / this.x.shape[0];
    const out = new Tensor(this.x.dtype === 'int32' ? new Int32Array(n * width) : new Float32Array(n * width), [
      n,
      ...this.x.shape.slice(1),
    ]);
    for (let r = 0; r < n; r++) {
      const row = this.order[start + r];
      out.data.set(this.x.data.subarray(row * width, (row + 1) * width), r * width);
    }
    return out;
  }
}

/** The model-side work LoaderBatches needs: checking a batch and recording a step for it. */
export interface LoaderSteps {
  /** Checks a batch (shapes, dtypes, label range); throws naming what is wrong. */
  check(x: Tensor, y: Tensor): void;
  /** Records a training step over `rows` rows read from x and y (in order). */
  record(x: Tensor, y: Tensor, rows: number): StepProgram;
}

/** A DataLoader: each batch is copied into a step recorded once per batch size. */
export class LoaderBatches implements BatchSource {
  readonly samples: number;
  readonly stepsPerEpoch: number;
  readonly batchSize: number;
  private iterator: AsyncIterator<Batch> | null = null;
  private readonly programs = new Map<number, { sp: StepProgram; x: Tensor; y: Tensor }>();

  constructor(
    private readonly loader: DataLoader,
    private readonly steps: LoaderSteps,
  ) {
    const tensors = loader.dataset instanceof TensorDataset ? loader.dataset : null;
    this.samples = tensors ? tensors.length : NaN;
    this.stepsPerEpoch = tensors ? loader.numBatches : NaN;
    this.batchSize = loader.batchSize;
  }

  beginEpoch(): void {
    this.iterator = (this.loader as AsyncIterable<Batch>)[Symbol.asyncIterator]();
  }

  async next(): Promise<StepRun | null> {
    const item = await (this.iterator as AsyncIterator<Batch>).next();
    if (item.done) return null;
    const [xb, yb] = item.value;
    if (!yb) throw new TypeError('fit: the DataLoader yields no targets');
    // A recorded step re-checks labels natively, but a clear error before it runs is better.
    this.steps.check(xb, yb);
    const rows = xb.shape[0];
    let entry = this.programs.get(rows);
    if (!entry) {
      const x = new Tensor(xb.dtype === 'int32' ? new Int32Array(xb.size) : new Float32Array(xb.size), xb.shape);
      const y = new Tensor(yb.dtype === 'int32' ? new Int32Array(yb.size) : new Float32Array(yb.size), yb.shape);
      entry = { sp: this.steps.record(x, y, rows), x, y };
      this.programs.set(rows, entry);
    }
    entry.x.data.set(xb.data);
    entry.y.data.set(yb.data);
    return { sp: entry.sp, startRow: 0, steps: 1, rows };
  }

  advance(): void {}

  batchRows(run: StepRun): Tensor {
    for (const e of this.programs.values()) if (e.sp === run.sp) return e.x;
    throw new Error('fit: no batch for that step');
  }
}

/** The model-side work the loop needs. */
export interface FitHost {
  readonly module: Module;
  readonly optimizer: Optimizer<{ lr: number }>;
  readonly metrics: Metric[];
  /** Model.stopTraining (callbacks set it to end fit). */
  stopTraining: boolean;
  awaitReplay(replay: Promise<number>): Promise<number>;
  /** Reports a non-finite loss per fit's onNonFinite: throws, warns or nothing. */
  reportNonFinite(
    value: number,
    epoch: number,
    batch: number,
    rows: () => Tensor,
    updated: boolean,
    state: { warned: boolean },
  ): void;
  evaluate(x: Tensor, y: Tensor, batchSize: number): Promise<Logs>;
  /** An epoch completed (the fit cursor moves on). */
  epochDone(epoch: number): void;
}

export interface FitPlan {
  epochs: number;
  initialEpoch: number;
  /** History last. */
  callbacks: Callback[];
  acc: Accumulators;
  validation: [Tensor, Tensor] | null;
  signal?: AbortSignal;
}

/** The context callbacks see (setContext), for any source. */
export function trainingContext(host: FitHost, source: BatchSource, epochs: number, model: unknown): TrainingContext {
  const { optimizer, module } = host;
  return {
    stopTraining: false,
    epochs,
    stepsPerEpoch: source.stepsPerEpoch,
    batchSize: source.batchSize,
    samples: source.samples,
    get lr() {
      return optimizer.paramGroups[0].lr;
    },
    set lr(v: number) {
      for (const g of optimizer.paramGroups) g.lr = v;
    },
    snapshotWeights: () => module.parameters().map((p) => (p.data as Float32Array).slice()),
    restoreWeights: (s) => module.parameters().forEach((p, i) => p.data.set(s[i])),
    model: model as TrainingContext['model'],
  };
}

/** Runs the epochs of a fit over `source` (see the file comment). */
export async function runFit(host: FitHost, source: BatchSource, plan: FitPlan, ctx: TrainingContext): Promise<void> {
  const { optimizer } = host;
  const { callbacks, signal } = plan;
  for (const cb of callbacks) cb.setContext?.(ctx);
  const perBatch = callbacks.some((cb) => cb.needsEveryBatch || cb.onBatchBegin);
  const nonFinite = { warned: false };
  host.stopTraining = false;
  let stepSeconds = 0;
  // About 4 ms of work per native call once a step has been timed; a few steps before that,
  // so an early abort or callback does not wait for a long first chunk.
  const chunk = (): number =>
    perBatch ? 1 : stepSeconds === 0 ? 4 : Math.max(1, Math.min(MAX_CHUNK, Math.round(0.004 / stepSeconds)));
  for (const cb of callbacks) await cb.onTrainBegin?.({});
  for (let epoch = plan.initialEpoch; epoch < plan.epochs && !host.stopTraining && !ctx.stopTraining; epoch++) {
    const logs: Logs = {};
    for (const cb of callbacks) await cb.onEpochBegin?.(epoch, logs);
    source.beginEpoch(epoch);
    resetAccumulators(plan.acc);
    let lossSum = 0;
    let seen = 0;
    let batch = 0;
    const t0 = performance.now();
    for (;;) {
      if (signal?.aborted) throw aborted(epoch, batch);
      const run = await source.next(chunk());
      if (!run) break;
      if (perBatch) for (const cb of callbacks) await cb.onBatchBegin?.(batch, {});
      optimizer.syncHyper(); // schedules may have changed the lr since the last run
      const { sp } = run;
      sp.regs.set([run.startRow, 0, run.rows, 0]);
      const abort = (): void => {
        sp.regs[3] = 1;
      };
      signal?.addEventListener('abort', abort, { once: true });
      let ran: number;
      let stoppedAt: number | null = null;
      try {
        ran = await host.awaitReplay(sp.program.runAsync(run.steps));
      } catch (e) {
        if (!NON_FINITE_STOP.test((e as Error).message)) throw e;
        // The steps before the failing one completed (their updates applied); the failing
        // step stopped at its loss, before its update.
        ran = sp.regs[1];
        stoppedAt = ran;
      } finally {
        signal?.removeEventListener('abort', abort);
      }
      // The optimizer's step counts advanced in their native cells, one per replayed step.
      source.advance(ran);
      for (let i = 0; i < ran; i++) {
        const loss = sp.losses[i];
        if (!Number.isFinite(loss))
          host.reportNonFinite(loss, epoch, batch, () => source.batchRows(run, i), true, nonFinite);
        lossSum += loss * run.rows;
        seen += run.rows;
        for (const cb of callbacks) await cb.onBatchEnd?.(batch, { loss: lossSum / seen });
        batch++;
      }
      stepSeconds = (performance.now() - t0) / 1000 / Math.max(batch, 1);
      if (stoppedAt !== null) {
        const value = sp.losses[stoppedAt];
        host.reportNonFinite(value, epoch, batch, () => source.batchRows(run, stoppedAt), false, { warned: false });
      }
      if (host.stopTraining) break;
      if (ran < run.steps) {
        if (signal?.aborted) throw aborted(epoch, batch);
        break;
      }
    }
    logs.loss = seen > 0 ? lossSum / seen : NaN;
    for (const m of host.metrics) logs[m.name] = m.compute(plan.acc);
    if (plan.validation) {
      const v = await host.evaluate(plan.validation[0], plan.validation[1], source.batchSize);
      for (const [k, value] of Object.entries(v)) logs[`val_${k}`] = value;
    }
    host.epochDone(epoch);
    for (const cb of callbacks) await cb.onEpochEnd?.(epoch, logs);
    if (ctx.stopTraining) host.stopTraining = true;
  }
  for (const cb of callbacks) await cb.onTrainEnd?.({});
}

/**
 * The training and validation data: validationData as given, or the last validationSplit
 * fraction of the samples (Keras: before shuffling). `check` checks a validation pair.
 */
export function holdOut(
  x: Tensor,
  y: Tensor,
  options: FitOptions,
  check: (op: string, x: Tensor, y: Tensor) => void,
): { xTrain: Tensor; yTrain: Tensor; val: [Tensor, Tensor] | null } {
  if (options.validationData) {
    const vd = options.validationData;
    const val: [Tensor, Tensor] = vd instanceof TensorDataset ? [vd.x, vd.y as Tensor] : vd;
    check('fit (validationData)', val[0], val[1]);
    return { xTrain: x, yTrain: y, val };
  }
  if (options.validationSplit === undefined) return { xTrain: x, yTrain: y, val: null };
  const f = options.validationSplit;
  if (!(f > 0 && f < 1)) throw new RangeError(`fit: validationSplit must be in (0, 1), got ${f}`);
  const n = x.shape[0];
  const nVal = Math.floor(n * f);
  if (nVal === 0 || nVal === n)
    throw new RangeError(`fit: validationSplit ${f} leaves no training or no validation samples of ${n}`);
  return {
    xTrain: x.slice(0, n - nVal),
    yTrain: y.slice(0, n - nVal),
    val: [x.slice(n - nVal), y.slice(n - nVal)],
  };
}

/** fit's classWeight as one weight per class (1 where not given), checked. */
export function classWeightVector(classWeight: Record<number, number> | number[], classes: number): Float32Array {
  const cw = new Float32Array(classes).fill(1);
  const entries = Array.isArray(classWeight)
    ? classWeight.map((w, i) => [i, w] as const)
    : Object.entries(classWeight).map(([k, w]) => [Number(k), w] as const);
  for (const [k, w] of entries) {
    if (!(Number.isInteger(k) && k >= 0 && k < classes))
      throw new RangeError(`fit: classWeight has class ${k}, outside [0, ${classes})`);
    if (!(w >= 0 && Number.isFinite(w))) throw new RangeError(`fit: classWeight[${k}] must be a finite number >= 0`);
    cw[k] = w;
  }
  return cw;
}

/** fit's onNonFinite: 'stop' by default, 'ignore' when a TerminateOnNaN callback handles it. */
export function nonFiniteModeOf(options: FitOptions): 'stop' | 'warn' | 'ignore' {
  const byCallback = (options.callbacks ?? []).some((cb) => cb instanceof TerminateOnNaN);
  return enumOption('fit', 'onNonFinite', options.onNonFinite, byCallback ? 'ignore' : 'stop', [
    'stop',
    'warn',
    'ignore',
  ]);
}

/**
 * Reports a non-finite loss at (epoch, batch) as `mode` says: throws a NonFiniteLossError
 * ('stop'), warns once per fit ('warn', `state.warned`) or nothing. The diagnosis re-runs the
 * batch (`rows()`) eagerly. `updated`: whether that batch's update has already been applied
 * (it has not when the replay stopped at the loss).
 */
export function reportNonFinite(
  mode: 'stop' | 'warn' | 'ignore',
  module: Module,
  value: number,
  epoch: number,
  batch: number,
  rows: () => Tensor,
  updated: boolean,
  state: { warned: boolean },
): void {
  if (mode === 'ignore' || state.warned) return;
  const message = `fit: the loss became ${value} at epoch ${epoch + 1}, batch ${batch + 1}; first non-finite value: ${locateNonFinite(module, rows())}`;
  if (mode === 'stop')
    throw new NonFiniteLossError(
      `${message}. ${
        updated
          ? "That batch's update was applied (data-parallel steps are checked between steps)."
          : "The parameters are those before that batch (running statistics such as BatchNorm's include it)."
      }`,
      epoch,
      batch,
    );
  state.warned = true;
  process.emitWarning(`${message} (training goes on: onNonFinite is 'warn')`, 'NonFiniteLossWarning');
}

/** The batch named is the one during or after which the abort came (the last one run). */
function aborted(epoch: number, batchesDone: number): AbortError {
  return new AbortError(`fit: aborted at epoch ${epoch + 1}, batch ${Math.max(batchesDone, 1)}`);
}

function shuffleInPlace(order: Int32Array, g: Generator): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = g.nextInt(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
}
