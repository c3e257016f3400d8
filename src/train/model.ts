/**
 * Model: the Keras-like API around any Module. compile() picks an optimizer, a loss and
 * metrics; fit/evaluate/predict run the work off the main thread, one call at a time per model
 * (monitor.ts).
 *
 * How: fit records one training step (step.ts: batch gather, forward, loss, backward,
 * clipping, optimizer update, loss logging, metric counting) into a native Program without
 * running it, then replays it in runs of batches on a libuv thread (fit.ts, the one training
 * loop). The step's buffers are allocated once and reused for every batch; JS runs only
 * between runs (callbacks, progress), so the event loop stays responsive and a training step
 * pays no per-op JS or binding cost. evaluate replays a recorded evaluation step the same way;
 * predict replays recorded forwards cached per input shape (inference.ts), synchronously when
 * the estimated work is small (budget.ts), else on the thread pool. Model files: io/.
 */
import type { NativeProgram } from '../native/binding.js';
import { Module, type Parameter } from '../nn/module.js';
import { Linear } from '../nn/layers.js';
import { MultiheadAttention } from '../nn/transformer.js';
import { lowpNative, prepareWeight, withPreparedWeights, type PreparedWeight } from '../ops/linalg.js';
import type { Optimizer } from '../optim/optimizer.js';
import { TensorDataset, DataLoader, GeneratorDataset } from '../data/dataset.js';
import { identityIndices } from '../data/rows.js';
import { Generator, pickGenerator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import {
  checkLabelRange,
  checkSamples,
  lossFromName,
  optimizerFromName,
  type CompileOptions,
  type LossName,
  type LossSpec,
} from './compile.js';
import { History, type Callback, type Logs } from './callbacks.js';
import { getMetric, type Accumulators, type Metric } from './metrics.js';
import { ProgressBar } from './progress.js';
import { DEFAULT_LIMITS, probeOutput, type ForwardLimits } from './budget.js';
import { InferenceCache, type PredictEntry } from './inference.js';
import { layerName, selectParameters } from './select.js';
import {
  AbortError,
  abortable,
  checkSignal,
  type EvaluateOptions,
  type PredictOptions,
  FIT_OPTION_KEYS,
  LoaderBatches,
  TensorBatches,
  classWeightVector,
  holdOut,
  nonFiniteModeOf,
  reportNonFinite,
  runFit,
  trainingContext,
  type FitHost,
  type FitOptions,
} from './fit.js';
import { MAX_CHUNK, accumulators, replay, traceStep, type StepContext, type StepProgram } from './step.js';
import type { FitCursor } from '../io/checkpoint.js';
import {
  ModelFileError,
  loadModelFile,
  loadWeights,
  parseInputSpec,
  saveModel,
  saveWeights,
  type InputSpec,
  type LoadWeightsOptions,
  type ReadOptions,
} from '../io/model-file.js';
import { checkOptionKeys, intOption, numberOption } from '../options.js';
import { Monitor } from './monitor.js';
import type { LoadReport } from '../nn/module.js';
import { summarize, type SummaryOptions } from '../nn/summary.js';

export { NonFiniteLossError, AbortError, type FitOptions, type PredictOptions, type EvaluateOptions } from './fit.js';

/**
 * Options of Model.load: a file's size limit, the input to budget for, and the budgets.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, type ModelLoadOptions } from 'axon-nn';
 * await new Model(new Sequential(new Linear(784, 10))).save('mlp.axon');
 * const options: ModelLoadOptions = { maxBytes: 64 * 2 ** 20, inputShape: [784], maxFlops: 1e8 };
 * const model = await Model.load('mlp.axon', options);
 * ```
 */
export interface ModelLoadOptions extends ReadOptions, Partial<ForwardLimits> {
  /** One sample's input shape (no batch axis) to check the forward's cost for at load; default:
   * the shape the file declares (saved by Model.save once the model has seen an input). */
  inputShape?: readonly number[];
  /** dtype of that input (default float32). */
  inputDtype?: 'float32' | 'int32';
}

export type { ForwardLimits } from './budget.js';

export type { CompileOptions, LossFunction, LossName, OptimizerName } from './compile.js';

/** Largest batchSize fit, evaluate and predict take. */
const MAX_BATCH = 1 << 24;

/**
 * {@link Model.prepareInference}'s options: the precision, and held-out data to measure what
 * it costs (and refuse it when it costs too much).
 *
 * @example
 * ```ts
 * import { type PrepareInferenceOptions, randn, tensor } from 'axon-nn';
 * const options: PrepareInferenceOptions = {
 *   precision: 'int8',
 *   validation: { x: randn([100, 4]), y: tensor(new Int32Array(100)), maxAccuracyDrop: 0.005 },
 * };
 * ```
 */
export interface PrepareInferenceOptions {
  /** 'bf16' or 'int8' for the dense layers' products; 'float32' undoes a preparation. */
  precision: 'bf16' | 'int8' | 'float32';
  /**
   * Evaluated before and after (needs compile() with an accuracy metric, or only the loss is
   * compared): the preparation is refused, and the model left in float32, when accuracy drops by
   * more than maxAccuracyDrop (default 0.01, one point).
   */
  validation?: {
    /** Held-out inputs. */
    x: Tensor;
    /** Their labels (as evaluate takes them). */
    y: Tensor;
    /** The largest accepted fall in accuracy, as a fraction (default 0.01). */
    maxAccuracyDrop?: number;
  };
}

/**
 * What {@link Model.prepareInference} did: how many weights it converted, whether this CPU runs
 * the precision on its own instructions, and the held-out figures before and after.
 *
 * @example
 * ```ts
 * import { Linear, Model, type InferencePreparation } from 'axon-nn';
 * const model = new Model(new Linear(16, 4));
 * const report: InferencePreparation = await model.prepareInference({ precision: 'bf16' });
 * console.log(report.weights, report.native); // 1 true (on a CPU with AVX512-BF16)
 * ```
 */
export interface InferencePreparation {
  /** The precision now in effect. */
  precision: 'bf16' | 'int8' | 'float32';
  /** Weight matrices converted (Linear layers and attention projections). */
  weights: number;
  /** Their parameters, in millions. */
  millions: number;
  /** True when the CPU runs it on AVX512-BF16 / VNNI; false: the float fallback (same rounding, no speed-up). */
  native: boolean;
  /** evaluate() on the validation data in float32, when given. */
  before?: Logs;
  /** ... and after preparing. */
  after?: Logs;
}

/** The prepared weights of a model, and samples of the floats they came from. */
interface Prepared {
  precision: 'bf16' | 'int8';
  weights: Map<Tensor, PreparedWeight>;
  samples: Map<Tensor, Float32Array>;
}
// Weights are compared by 64 evenly spread values: an optimizer step or a weight load changes
// them all, and a full pass per predict would cost a few percent of a forward.
const FINGERPRINT_SAMPLES = 64;
function fingerprint(t: Tensor): Float32Array {
  const d = t.data as Float32Array;
  const step = Math.max(1, Math.floor(d.length / FINGERPRINT_SAMPLES));
  const out = new Float32Array(Math.min(FINGERPRINT_SAMPLES, d.length));
  for (let i = 0; i < out.length; i++) out[i] = d[i * step];
  return out;
}
function sameBits(a: Float32Array, b: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/**
 * The Keras-like model API around any Module: compile() picks the optimizer, loss and
 * metrics; fit, evaluate and predict run the work off the main thread, one call at a time per
 * model in call order (predicts may overlap each other). Also fine-tuning (freeze, replaceLayer),
 * model files (save, Model.load) and summary(). Throws a TypeError when given no Module.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, ReLU, randn, randint } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(4, 16), new ReLU(), new Linear(16, 3)));
 * model.compile({ optimizer: 'adam', loss: 'crossEntropy', metrics: ['accuracy'] });
 * const x = randn([64, 4]);
 * const y = randint(0, 3, [64]);
 * await model.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0 });
 * const { loss, accuracy } = await model.evaluate(x, y);
 * const logits = await model.predict(x); // shape [64, 3]
 * ```
 */
export class Model {
  /** The optimizer compile() set (null before compile). */
  optimizer: Optimizer<{
    /** The learning rate. */
    lr: number;
  }> | null = null;
  private lossSpec: LossSpec | null = null;
  private compileOptions: CompileOptions | null = null;
  /** The compiled metrics, in order (empty before compile); their names are the logs' keys. */
  metrics: Metric[] = [];
  /** Set by callbacks (EarlyStopping) to end fit after the current epoch. */
  stopTraining = false;
  /**
   * predict() runs synchronously on the calling thread when nothing is queued on the model,
   * the input has at most syncRows rows and its recorded forward is estimated
   * (estimateSeconds) at no more than syncSeconds; anything else runs on the thread pool, so
   * the event loop is not held longer than about that.
   */
  syncRows = 64;
  /** The longest estimated forward, in seconds, that predict() runs synchronously (default 1e-3; see syncRows). */
  syncSeconds = 1e-3;
  /** Per-sample budgets of a forward pass (see ForwardLimits). */
  readonly limits: ForwardLimits = { ...DEFAULT_LIMITS };
  /** fit, evaluate, predict, saves and weight loads, one at a time in call order. */
  private readonly monitor = new Monitor();
  /** Recorded forwards per input shape, for predict. */
  private readonly inference: InferenceCache;
  /** One sample's input, once fit or predict has seen one (Model.save stores it). */
  inputSpec: InputSpec | null = null;
  /** Where the last fit on tensors stands: the next epoch, its sample order and shuffling
   * generator (live objects; a checkpoint copies them). */
  private cursor: { nextEpoch: number; order: Int32Array; generator: Generator } | null = null;
  /** A cursor restored from a checkpoint, used by the next fit that starts at its epoch. */
  private resumeCursor: FitCursor | null = null;
  /**
   * Makes the program a training step is traced into; null: a plain native Program.
   * Data-parallel training (src/distributed) sets one that cuts the step where gradient
   * buckets are complete and reduces them across processes between the pieces.
   * @internal
   */
  stepProgramFactory: ((regs: Float64Array) => NativeProgram) | null = null;

  constructor(
    /** The wrapped Module: its layers and parameters. */
    readonly module: Module,
  ) {
    if (!(module instanceof Module)) throw new TypeError('Model: expected a Module');
    this.inference = new InferenceCache(module, this.limits);
    this.inference.recordScope = (fn) => withPreparedWeights(this.prepared?.weights ?? null, fn);
  }

  /** Reduced-precision weights predict and evaluate use (prepareInference), or null. */
  private prepared: Prepared | null = null;

  /**
   * Converts the dense products of inference (every Linear, and attention's projections) to
   * bf16 or int8 once, for predict and evaluate; training is unaffected and stays float32.
   * bf16 rounds weights and activations to bfloat16 and sums in float32 (AVX512-BF16); int8
   * quantises each weight row and, per call, each activation row to 8 bits and sums exactly
   * (AVX512-VNNI): about 2x and 3x float32's speed on those products, with the error measured
   * on `validation` (and the preparation refused past maxAccuracyDrop). A CPU without the
   * instructions gets the same rounding through float32 (`native: false`). When the weights
   * change afterwards (fit, a weight load, a manual step), the next predict converts them again.
   * @throws RangeError for an unknown precision, non-finite weights (int8), or an accuracy drop past the limit.
   */
  prepareInference(options: PrepareInferenceOptions): Promise<InferencePreparation> {
    return this.monitor.run('prepareInference', () => this.prepareImpl(options));
  }

  private async prepareImpl(options: PrepareInferenceOptions): Promise<InferencePreparation> {
    checkOptionKeys('prepareInference', options, ['precision', 'validation']);
    const precision = options.precision;
    if (precision !== 'bf16' && precision !== 'int8' && precision !== 'float32')
      throw new RangeError(`prepareInference: precision must be 'bf16', 'int8' or 'float32', got ${String(precision)}`);
    const v = options.validation;
    if (v !== undefined) checkOptionKeys('prepareInference: validation', v, ['x', 'y', 'maxAccuracyDrop']);
    const maxDrop = numberOption('prepareInference', 'validation.maxAccuracyDrop', v?.maxAccuracyDrop, 0.01, 0, 1);
    const previous = this.prepared;
    this.prepared = null;
    this.inference.clear();
    const before = v ? await this.evaluateImpl(v.x, v.y, 64) : undefined;
    this.prepared = precision === 'float32' ? null : this.convertWeights(precision);
    this.inference.clear();
    const after = v ? await this.evaluateImpl(v.x, v.y, 64) : undefined;
    if (before && after && before.accuracy !== undefined && after.accuracy !== undefined) {
      const drop = before.accuracy - after.accuracy;
      if (drop > maxDrop) {
        this.prepared = previous;
        this.inference.clear();
        throw new RangeError(
          `prepareInference: ${precision} drops validation accuracy from ${(before.accuracy * 100).toFixed(2)}% to ${(after.accuracy * 100).toFixed(2)}% (more than maxAccuracyDrop ${maxDrop}); the model is unchanged`,
        );
      }
    }
    const weights = this.prepared ? [...this.prepared.weights.keys()] : [];
    return {
      precision,
      weights: weights.length,
      millions: weights.reduce((a, w) => a + w.size, 0) / 1e6,
      native: precision === 'float32' ? true : lowpNative(precision),
      ...(before ? { before } : {}),
      ...(after ? { after } : {}),
    };
  }

  /** Every weight a prepared forward multiplies by: Linear weights and attention's input projections. */
  private convertWeights(precision: 'bf16' | 'int8'): Prepared {
    const targets: Tensor[] = [];
    for (const m of this.module.modules()) {
      if (m instanceof Linear) targets.push(m.weight);
      if (m instanceof MultiheadAttention)
        for (const w of [m.in_proj_weight, m.q_proj_weight, m.k_proj_weight, m.v_proj_weight]) if (w) targets.push(w);
    }
    const weights = new Map<Tensor, PreparedWeight>();
    const samples = new Map<Tensor, Float32Array>();
    for (const t of targets) {
      if (weights.has(t) || t.size === 0) continue;
      weights.set(t, prepareWeight(t, precision));
      samples.set(t, fingerprint(t));
    }
    return { precision, weights, samples };
  }

  /** Converts again when a prepared weight's values changed since (training, a load). */
  private refreshPrepared(): void {
    const p = this.prepared;
    if (!p) return;
    for (const [t, s] of p.samples)
      if (!sameBits(fingerprint(t), s)) {
        this.prepared = this.convertWeights(p.precision);
        this.inference.clear();
        return;
      }
  }

  /** fn with the prepared weights (if any) in scope. */
  private lowp<T>(fn: () => T): T {
    return withPreparedWeights(this.prepared?.weights ?? null, fn);
  }

  /** Chooses the optimizer, loss and metrics (Keras's compile). */
  compile(options: CompileOptions): this {
    if (!options || typeof options !== 'object') throw new TypeError('compile: expected { optimizer, loss, metrics? }');
    checkOptionKeys('compile', options, ['optimizer', 'loss', 'metrics', 'learningRate', 'clipNorm']);
    this.checkIdle('compile');
    const params = this.module.trainableParameters();
    this.optimizer =
      typeof options.optimizer === 'string'
        ? optimizerFromName(options.optimizer, params, options.learningRate)
        : options.optimizer;
    if (!this.optimizer || typeof (this.optimizer as { step?: unknown }).step !== 'function')
      throw new TypeError('compile: optimizer must be an Optimizer or one of sgd, adam, adamw, rmsprop, adagrad');
    if (options.clipNorm !== undefined && !(options.clipNorm > 0))
      throw new RangeError(`compile: clipNorm must be > 0, got ${options.clipNorm}`);
    this.compileOptions = options;
    this.lossSpec =
      typeof options.loss === 'function'
        ? { fn: options.loss, kind: 'custom', name: options.loss.name || 'loss' }
        : lossFromName(options.loss, null);
    this.metrics = (options.metrics ?? []).map((m) => {
      try {
        return getMetric(m);
      } catch (e) {
        throw new RangeError(`compile: ${(e as Error).message}`);
      }
    });
    const names = new Set<string>();
    for (const m of this.metrics) {
      if (names.has(m.name)) throw new RangeError(`compile: metric '${m.name}' is listed twice`);
      names.add(m.name);
    }
    this.dropPredictCache();
    return this;
  }

  /** Synchronous changes to the model may not land in the middle of another caller's fit. */
  private checkIdle(op: string, hint = 'await it first'): void {
    if ((this.monitor.busy && !this.monitor.holdsHere()) || this.monitor.replaying)
      throw new Error(`${op}: the model is busy (${this.monitor.current ?? 'a queued call'}); ${hint}`);
  }

  /** Releases every recorded predict program and its buffers now (not at garbage collection). */
  private dropPredictCache(): void {
    this.inference.clear();
  }

  /**
   * Runs `work` when no other fit, evaluate, predict, save or weight load of this model is
   * running, and keeps them out until it settles (calls run one at a time, in call order). A
   * call from inside the running call (a fit callback) runs at once. saveCheckpoint and
   * loadCheckpoint use it; so may a caller editing weights by hand.
   */
  exclusive<T>(op: string, work: () => Promise<T>): Promise<T> {
    return this.monitor.run(op, work);
  }

  private probeOutput(what: string, sample: readonly number[], dtype: 'float32' | 'int32'): Tensor {
    return probeOutput(this.module, this.limits, what, sample, dtype);
  }

  /** Remembers the input shape of the last forward that was recorded successfully. */
  private noteInput(x: { shape: readonly number[]; dtype: 'float32' | 'int32' }): void {
    this.inputSpec = { shape: x.shape.slice(1), dtype: x.dtype };
  }

  private requireCompiled(op: string): { optimizer: Optimizer<{ lr: number }>; loss: LossSpec } {
    if (!this.optimizer || !this.lossSpec) throw new Error(`${op}: call compile({ optimizer, loss }) first`);
    return { optimizer: this.optimizer, loss: this.lossSpec };
  }

  // ---- data checks ------------------------------------------------------------------------

  private checkXY(op: string, x: Tensor, y: Tensor | null): void {
    checkSamples(op, this.lossSpec, x, y);
  }

  private checkLabels(op: string, y: Tensor, classes: number): void {
    checkLabelRange(op, this.lossSpec, y, classes);
  }

  // ---- recorded steps (src/train/step.ts) --------------------------------------------------

  private stepContext(): StepContext {
    return {
      module: this.module,
      limits: this.limits,
      metrics: this.metrics,
      lossKind: this.lossSpec?.kind ?? 'custom',
      clipNorm: this.compileOptions?.clipNorm,
      stopOnNonFinite: this.nonFiniteMode === 'stop',
      stepProgramFactory: this.stepProgramFactory,
      compiled: (op) => this.requireCompiled(op),
    };
  }

  private traceStep(
    mode: 'train' | 'eval' | 'predict',
    x: Tensor,
    y: Tensor | null,
    order: Int32Array,
    rows: number,
    acc: Accumulators,
    putOutput: Tensor | null = null,
  ): StepProgram {
    return traceStep(this.stepContext(), mode, x, y, order, rows, acc, putOutput);
  }

  private replay(
    sp: StepProgram,
    start: number,
    steps: number,
    chunk: () => number,
    onChunk: (first: number, losses: Float32Array) => Promise<boolean>,
    signal?: AbortSignal,
  ): Promise<number> {
    return replay(sp, start, steps, chunk, onChunk, (p) => this.monitor.awaitReplay(p), signal);
  }

  /** Output width of the module for inputs shaped like x (recorded, not run; budgeted). */
  private outputWidth(op: string, x: Tensor): number {
    return this.probeOutput(op, x.shape.slice(1), x.dtype).size;
  }

  // ---- running programs ---------------------------------------------------------------------

  // ---- fit ----------------------------------------------------------------------------------

  /**
   * Trains the model. Resolves to the History (per-epoch loss, metrics and their val_ forms).
   * @throws (rejects) on bad input, a failing callback, TerminateOnNaN, or an AbortError.
   */
  fit(x: Tensor | TensorDataset | DataLoader, y: Tensor | null = null, options: FitOptions = {}): Promise<History> {
    try {
      checkOptionKeys('fit', options, FIT_OPTION_KEYS);
      if (this.monitor.holdsHere())
        throw new Error(
          `fit: called from inside this model's running ${this.monitor.current ?? 'call'} (a callback?); start it after that call settles`,
        );
    } catch (e) {
      return Promise.reject(e);
    }
    return this.monitor.run('fit', () => this.fitImpl(x, y, options));
  }

  /** How this fit treats a non-finite loss (see FitOptions.onNonFinite). */
  private nonFiniteMode: 'stop' | 'warn' | 'ignore' = 'stop';

  private setNonFiniteMode(options: FitOptions): void {
    this.nonFiniteMode = nonFiniteModeOf(options);
  }

  private async fitImpl(
    xIn: Tensor | TensorDataset | DataLoader,
    yIn: Tensor | null,
    options: FitOptions,
  ): Promise<History> {
    const { optimizer } = this.requireCompiled('fit');
    this.checkOptimizerCoversTrainable();
    this.setNonFiniteMode(options);
    if (xIn instanceof DataLoader || xIn instanceof GeneratorDataset) return this.fitLoader(xIn as DataLoader, options);
    let x: Tensor;
    let y: Tensor | null;
    if (xIn instanceof TensorDataset) [x, y] = [xIn.x, xIn.y];
    else [x, y] = [xIn, yIn];
    if (y === null) throw new TypeError('fit: targets y are required');
    this.checkXY('fit', x, y);
    const epochs = options.epochs ?? 1;
    const batchSize = options.batchSize ?? 32;
    const initialEpoch = options.initialEpoch ?? 0;
    if (!Number.isInteger(epochs) || epochs < 1)
      throw new RangeError(`fit: epochs must be a positive integer, got ${epochs}`);
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new RangeError(`fit: batchSize must be a positive integer, got ${batchSize}`);
    if (batchSize > MAX_BATCH) throw new RangeError(`fit: batchSize must be at most ${MAX_BATCH}, got ${batchSize}`);
    if (!Number.isInteger(initialEpoch) || initialEpoch < 0 || initialEpoch >= epochs)
      throw new RangeError(`fit: initialEpoch must be an integer in [0, ${epochs}), got ${initialEpoch}`);
    checkSignal('fit', options.signal);
    if (options.signal?.aborted) throw new AbortError('fit: aborted before it started');
    const { xTrain, yTrain, val } = holdOut(x, y, options, (op, a, b) => this.checkXY(op, a, b));
    const classes = this.outputWidth('fit', xTrain);
    this.noteInput(xTrain);
    let savedLoss: LossSpec | null = null;
    this.checkLabels('fit', yTrain, classes);
    if (val) this.checkLabels('fit (validation)', val[1], classes);
    if (options.classWeight !== undefined) {
      const cw = classWeightVector(options.classWeight, classes);
      const kind = this.lossSpec?.kind;
      if (kind !== 'sparse' && kind !== 'categorical') throw new Error('fit: classWeight needs a cross-entropy loss');
      savedLoss = this.lossSpec;
      this.lossSpec = lossFromName(this.lossSpec!.name as LossName, new Tensor(cw, [classes]));
    }
    const nTrain = xTrain.shape[0];
    const fullSteps = Math.floor(nTrain / batchSize);
    const rest = nTrain - fullSteps * batchSize;
    const order = identityIndices(nTrain);
    const shuffle = options.shuffle ?? true;
    // Resuming from a checkpoint: continue its order and shuffling stream, so the epochs after
    // initialEpoch see the batches an uninterrupted fit would have.
    const resume = this.resumeCursor;
    this.resumeCursor = null;
    let gen: Generator;
    // In the same process, a fit starting where the last one ended (initialEpoch = its next
    // epoch, the same samples, no new seed) continues its live order and shuffling stream.
    const live = this.cursor;
    if (resume && resume.nextEpoch === initialEpoch && resume.order.length === nTrain) {
      gen = new Generator().setState(resume.generator);
      order.set(resume.order);
    } else if (
      !resume &&
      live &&
      initialEpoch > 0 &&
      live.nextEpoch === initialEpoch &&
      live.order.length === nTrain &&
      options.seed === undefined
    ) {
      gen = live.generator;
      order.set(live.order);
    } else {
      gen = new Generator(options.seed ?? pickGenerator().nextUint32());
    }
    this.cursor = { nextEpoch: initialEpoch, order, generator: gen };
    const acc = accumulators();
    const source = new TensorBatches(
      xTrain,
      batchSize,
      order,
      shuffle ? gen : null,
      fullSteps > 0 ? this.traceStep('train', xTrain, yTrain, order, batchSize, acc) : null,
      rest > 0 ? this.traceStep('train', xTrain, yTrain, order, rest, acc) : null,
    );
    const history = new History();
    // History last (as Keras): it records what the other callbacks added to the logs (lr).
    const callbacks: Callback[] = [
      ...(options.verbose === 0 ? [] : [new ProgressBar()]),
      ...(options.callbacks ?? []),
      history,
    ];
    const host = this.fitHost(optimizer);
    try {
      await runFit(
        host,
        source,
        { epochs, initialEpoch, callbacks, acc, validation: val, signal: options.signal },
        trainingContext(host, source, epochs, this),
      );
    } finally {
      if (savedLoss) this.lossSpec = savedLoss;
    }
    return history;
  }

  /** What the shared fit loop (src/train/fit.ts) needs of this model. */
  private fitHost(optimizer: Optimizer<{ lr: number }>): FitHost {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const model = this;
    return {
      module: this.module,
      optimizer,
      metrics: this.metrics,
      get stopTraining() {
        return model.stopTraining;
      },
      set stopTraining(v: boolean) {
        model.stopTraining = v;
      },
      awaitReplay: (p) => this.monitor.awaitReplay(p),
      reportNonFinite: (value, epoch, batch, rows, updated, state) =>
        reportNonFinite(this.nonFiniteMode, this.module, value, epoch, batch, rows, updated, state),
      evaluate: (x, y, batchSize) => this.evaluateImpl(x, y, batchSize),
      epochDone: (epoch) => {
        if (this.cursor) this.cursor.nextEpoch = epoch + 1;
      },
    };
  }

  /** fit over a DataLoader or generator dataset: each batch is copied into the step's buffers
   * and one traced step runs per batch (prefetching the next batch meanwhile). */
  private async fitLoader(loader: DataLoader, options: FitOptions): Promise<History> {
    const { optimizer } = this.requireCompiled('fit');
    if (!(loader instanceof DataLoader)) throw new TypeError('fit: wrap generator datasets in a DataLoader');
    const epochs = intOption('fit', 'epochs', options.epochs, 1, 1, Number.MAX_SAFE_INTEGER);
    const initialEpoch = intOption('fit', 'initialEpoch', options.initialEpoch, 0, 0, epochs - 1);
    if (options.validationSplit !== undefined)
      throw new RangeError('fit: validationSplit needs tensors; pass validationData with a DataLoader');
    // Options a DataLoader decides itself, or that need the whole dataset up front, would be
    // silently ignored here: refuse them by name.
    for (const key of ['batchSize', 'shuffle', 'seed', 'classWeight'] as const)
      if (options[key] !== undefined)
        throw new RangeError(
          `fit: ${key} is not taken with a DataLoader (${key === 'classWeight' ? 'pass a loss function with class weights' : `the DataLoader's own ${key === 'seed' ? 'generator' : key} applies`})`,
        );
    checkSignal('fit', options.signal);
    if (options.signal?.aborted) throw new AbortError('fit: aborted before it started');
    let val: [Tensor, Tensor] | null = null;
    if (options.validationData) {
      const vd = options.validationData;
      val = vd instanceof TensorDataset ? [vd.x, vd.y as Tensor] : vd;
      this.checkXY('fit (validationData)', val[0], val[1]);
    }
    const acc = accumulators();
    let classes = -1;
    const source = new LoaderBatches(loader, {
      check: (xb, yb) => {
        this.checkXY('fit', xb, yb);
        if (classes < 0) {
          classes = this.outputWidth('fit', xb);
          this.noteInput(xb);
        }
        this.checkLabels('fit', yb, classes);
      },
      record: (x, y, rows) => this.traceStep('train', x, y, identityIndices(rows), rows, acc),
    });
    const history = new History();
    const callbacks: Callback[] = [...(options.callbacks ?? []), history];
    const host = this.fitHost(optimizer);
    await runFit(
      host,
      source,
      { epochs, initialEpoch, callbacks, acc, validation: val, signal: options.signal },
      trainingContext(host, source, epochs, this),
    );
    return history;
  }

  // ---- evaluate / predict -------------------------------------------------------------------

  /** Loss and metrics over (x, y), batched, off the main thread. */
  evaluate(x: Tensor, y: Tensor, options: EvaluateOptions = {}): Promise<Logs> {
    let batchSize: number;
    try {
      checkOptionKeys('evaluate', options, ['batchSize', 'signal']);
      batchSize = this.batchSizeOption('evaluate', options.batchSize, 32);
      checkSignal('evaluate', options.signal);
      if (options.signal?.aborted) throw new AbortError('evaluate: aborted before it started');
    } catch (e) {
      return Promise.reject(e);
    }
    const signal = options.signal;
    const work = this.monitor.run('evaluate', () => this.evaluateImpl(x, y, batchSize, signal));
    return signal ? abortable('evaluate', work, signal) : work;
  }

  private batchSizeOption(op: string, value: unknown, fallback: number): number {
    if (value === undefined) return fallback;
    if (!(typeof value === 'number' && Number.isInteger(value) && value >= 1))
      throw new RangeError(`${op}: batchSize must be a positive integer, got ${String(value)}`);
    if (value > MAX_BATCH) throw new RangeError(`${op}: batchSize must be at most ${MAX_BATCH}, got ${value}`);
    return value;
  }

  private async evaluateImpl(x: Tensor, y: Tensor, batchSize: number, signal?: AbortSignal): Promise<Logs> {
    if (signal?.aborted) throw new AbortError('evaluate: aborted before it started');
    this.requireCompiled('evaluate');
    this.refreshPrepared();
    this.checkXY('evaluate', x, y);
    const n = x.shape[0];
    this.checkLabels('evaluate', y, this.outputWidth('evaluate', x));
    const order = identityIndices(n);
    const acc = accumulators();
    const full = Math.floor(n / batchSize);
    const rest = n - full * batchSize;
    let lossSum = 0;
    const collect = (rows: number) => async (_f: number, losses: Float32Array) => {
      for (const l of losses) lossSum += l * rows;
      return true;
    };
    if (full > 0) {
      const sp = this.lowp(() => this.traceStep('eval', x, y, order, batchSize, acc));
      await this.replay(sp, 0, full, () => MAX_CHUNK, collect(batchSize), signal);
    }
    if (rest > 0 && !signal?.aborted) {
      const sp = this.lowp(() => this.traceStep('eval', x, y, order, rest, acc));
      await this.replay(sp, full * batchSize, 1, () => 1, collect(rest), signal);
    }
    if (signal?.aborted) throw new AbortError('evaluate: aborted');
    const logs: Logs = { loss: lossSum / n };
    for (const m of this.metrics) logs[m.name] = m.compute(acc);
    return logs;
  }

  /**
   * The model's outputs for x (evaluation mode, no gradients). A cheap request (see syncRows
   * and syncSeconds) runs synchronously on this thread through a cached recorded forward; any
   * other in batches on the thread pool. Predicts run concurrently with each other (each
   * request replays its own copy of the recorded forward) and after the fit, evaluate, save or
   * weight load issued before them. Both paths give bitwise the same outputs, and the same
   * errors. 0 rows give an empty [0, ...] tensor. `signal` rejects the call with an AbortError
   * at once when aborted; a forward already running finishes in the background first (a large
   * input stops between batches).
   * @throws (rejects) on bad options, a non-tensor, or a forward beyond model.limits.
   */
  predict(x: Tensor, options: PredictOptions = {}): Promise<Tensor> {
    let batchSize: number;
    try {
      checkOptionKeys('predict', options, ['batchSize', 'signal', 'offload']);
      batchSize = this.batchSizeOption('predict', options.batchSize, 256);
      if (options.offload !== undefined && typeof options.offload !== 'boolean')
        throw new TypeError(`predict: options.offload must be a boolean, got ${typeof options.offload}`);
      checkSignal('predict', options.signal);
      if (options.signal?.aborted) throw new AbortError('predict: aborted before it started');
      this.checkPredictInput('predict', x);
      if (!this.monitor.exclusiveBusy) this.refreshPrepared();
      // The sync path only when no exclusive call is queued (a predict issued after fit() or
      // evaluate() must see the weights they leave, whatever its size), and only when the pool
      // path would run it as one batch too (a GEMM's blocking depends on the rows, so the same
      // rows in one batch or in several can differ in the last bits).
      if (!options.offload && !this.monitor.exclusiveBusy && x.shape[0] <= this.syncRows && x.shape[0] <= batchSize) {
        const entry = this.inference.entry(x, 'predict', this.syncSeconds);
        const out = entry && this.inference.tryRun(entry, x, 'predict');
        if (out) {
          this.noteInput(x);
          return Promise.resolve(out);
        }
      }
    } catch (e) {
      return Promise.reject(e);
    }
    const signal = options.signal;
    const work = this.monitor.run('predict', () => this.predictImpl(x, batchSize, signal), 'shared');
    return signal ? abortable('predict', work, signal) : work;
  }

  private checkPredictInput(op: string, x: unknown): asserts x is Tensor {
    if (!(x instanceof Tensor)) throw new TypeError(`${op}: x must be a Tensor`);
    if (x.ndim === 0) throw new RangeError(`${op}: x needs a batch axis, got a scalar`);
  }

  /**
   * Synchronous predict through a recorded forward cached per input shape: copy in, replay,
   * copy out. It blocks the calling thread for the forward's duration, whatever it costs
   * (predict() chooses by cost); budgets (model.limits) still apply. It may run while async
   * predicts are in flight, not while a fit, evaluate or weight load is queued or running.
   */
  predictSync(x: Tensor): Tensor {
    this.checkPredictInput('predictSync', x);
    // Also from inside fit's callbacks while a chunk replays (a timer a callback started): the
    // pool thread is writing the weights this would read.
    if ((this.monitor.exclusiveBusy && !this.monitor.holdsHere()) || this.monitor.replaying)
      throw new Error(
        `predictSync: the model is busy (${this.monitor.current ?? 'a queued call'}); await it or use predict()`,
      );
    this.refreshPrepared();
    const out = this.inference.run(this.inference.entry(x, 'predictSync') as PredictEntry, x, 'predictSync');
    this.noteInput(x);
    return out;
  }

  /**
   * predict on the thread pool. One batch: through the cached recorded forward of the
   * synchronous path (copy in, replay, copy out; the same bits). More: a step that gathers
   * each batch's rows out of x and puts its outputs into place, recorded for this call and
   * replayed over all batches in a few thread-pool calls (a hop per batch would cost more).
   */
  private async predictImpl(x: Tensor, batchSize: number, signal?: AbortSignal): Promise<Tensor> {
    if (signal?.aborted) throw new AbortError('predict: aborted before it started');
    this.refreshPrepared();
    const n = x.shape[0];
    if (n === 0) {
      const probe = this.probeOutput('predict', x.shape.slice(1), x.dtype);
      return new Tensor(new Float32Array(0), [0, ...probe.shape.slice(1)]);
    }
    if (n <= batchSize) {
      const entry = this.inference.entry(x, 'predict') as PredictEntry;
      const out = await this.inference.runAsync(entry, x, 'predict', signal);
      this.noteInput(x);
      return out;
    }
    const probe = this.probeOutput('predict', x.shape.slice(1), x.dtype);
    const out = new Tensor(new Float32Array(n * probe.size), [n, ...probe.shape.slice(1)]);
    const order = identityIndices(n);
    const acc = accumulators();
    const full = Math.floor(n / batchSize);
    const rest = n - full * batchSize;
    const none = async (): Promise<boolean> => true;
    const readOnly = (p: Promise<number>): Promise<number> => this.monitor.awaitReplay(p, false);
    const fullStep = this.lowp(() => this.traceStep('predict', x, null, order, batchSize, acc, out));
    try {
      await replay(fullStep, 0, full, () => 64, none, readOnly, signal);
    } finally {
      fullStep.program.clear();
    }
    if (rest > 0 && !signal?.aborted) {
      const restStep = this.lowp(() => this.traceStep('predict', x, null, order, rest, acc, out));
      try {
        await replay(restStep, full * batchSize, 1, () => 1, none, readOnly, signal);
      } finally {
        restStep.program.clear();
      }
    }
    if (signal?.aborted) throw new AbortError('predict: aborted');
    this.noteInput(x);
    return out;
  }

  /**
   * A trainable parameter the optimizer does not hold would silently never train (a head
   * replaced or layers unfrozen after compile): refuse, naming it.
   */
  private checkOptimizerCoversTrainable(): void {
    const held = new Set(this.optimizer?.paramGroups.flatMap((g) => g.params) ?? []);
    for (const [name, p] of this.module.namedParameters())
      if (p.requiresGrad && !held.has(p))
        throw new Error(
          `fit: trainable parameter '${name}' is not in the optimizer (compile again after replacing layers or unfreezing)`,
        );
  }

  // ---- fine-tuning ----------------------------------------------------------------------------

  /**
   * Stops training the selected parts: a dotted module name ('0', 'encoder.fc1'), a parameter
   * name ('0.bias'), or an index into a Sequential's layers (negative counts from the end).
   * No selector freezes everything. Frozen parameters get no gradient, so no optimizer moves
   * them (not even through momentum or weight decay).
   */
  freeze(...selectors: (string | number)[]): this {
    for (const p of this.select('freeze', selectors)) p.trainable = false;
    return this;
  }

  /** Trains the selected parts again (see freeze); compile afterwards if the optimizer was
   * built without them. */
  unfreeze(...selectors: (string | number)[]): this {
    for (const p of this.select('unfreeze', selectors)) p.trainable = true;
    return this;
  }

  /** The parameters of the selected parts (see freeze), e.g. for optimizer parameter groups. */
  parametersOf(...selectors: (string | number)[]): Parameter[] {
    return this.select('parametersOf', selectors);
  }

  private select(op: string, selectors: (string | number)[]): Parameter[] {
    return selectParameters(this.module, op, selectors);
  }

  /**
   * Replaces a submodule by dotted name or Sequential index (a new head for transfer
   * learning). Recompile afterwards: the optimizer holds the old parameters.
   */
  replaceLayer(selector: string | number, layer: Module): this {
    this.checkIdle('replaceLayer');
    if (!(layer instanceof Module)) throw new TypeError('replaceLayer: expected a Module');
    const path = typeof selector === 'number' ? layerName(this.module, 'replaceLayer', selector) : selector;
    this.module.setSubmodule(path, layer);
    this.dropPredictCache();
    return this;
  }

  // ---- files ----------------------------------------------------------------------------------

  /** Saves architecture and weights (and the input shape the model has seen) atomically, once
   * the calls queued before it have settled: the file is one consistent snapshot. */
  save(path: string, options: { metadata?: Record<string, string> } = {}): Promise<void> {
    try {
      checkOptionKeys('save', options, ['metadata']);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.monitor.run('save', () => saveModel(this.module, path, { ...options, input: this.inputSpec }));
  }

  /**
   * A Model around the module saved at path (compile it before training). The file is
   * untrusted: besides the reader's checks, the forward pass for one sample of the input the
   * file declares (or options.inputShape) is recorded, not run, and refused when it needs more
   * than maxActivationBytes of activations or maxFlops (defaults: model.limits). The limits
   * stay with the model and apply to every later input shape too.
   * @throws ModelFileError naming the file and what is wrong.
   */
  static async load(path: string, options: ModelLoadOptions = {}): Promise<Model> {
    checkOptionKeys('Model.load', options, ['maxBytes', 'inputShape', 'inputDtype', 'maxActivationBytes', 'maxFlops']);
    const limits: Partial<ForwardLimits> = {};
    if (options.maxActivationBytes !== undefined)
      limits.maxActivationBytes = numberOption(
        'Model.load',
        'maxActivationBytes',
        options.maxActivationBytes,
        0,
        1,
        2 ** 53,
      );
    if (options.maxFlops !== undefined)
      limits.maxFlops = numberOption('Model.load', 'maxFlops', options.maxFlops, 0, 1, Number.MAX_VALUE);
    let declared: InputSpec | null = null;
    if (options.inputShape !== undefined) {
      declared = parseInputSpec({ shape: options.inputShape, dtype: options.inputDtype ?? 'float32' });
      if (!declared)
        throw new RangeError(
          `Model.load: inputShape must be positive integers (one sample, no batch axis) and inputDtype 'float32' or 'int32', got ${JSON.stringify(options.inputShape)} / ${JSON.stringify(options.inputDtype)}`,
        );
    }
    const { module, input } = await loadModelFile(path, { maxBytes: options.maxBytes });
    const model = new Model(module);
    Object.assign(model.limits, limits);
    const spec = declared ?? input;
    if (spec) {
      try {
        model.probeOutput('Model.load', spec.shape, spec.dtype);
      } catch (e) {
        throw new ModelFileError(`${path}: for the input (batch, ${spec.shape.join(', ')}): ${(e as Error).message}`);
      }
      model.inputSpec = spec;
    }
    return model;
  }

  /**
   * Saves the weights only (parameters and buffers by name, no architecture) atomically, once
   * the calls queued before it have settled; loadWeights reads them back.
   */
  saveWeights(path: string, options: { metadata?: Record<string, string> } = {}): Promise<void> {
    try {
      checkOptionKeys('saveWeights', options, ['metadata']);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.monitor.run('saveWeights', () => saveWeights(this.module, path, options));
  }

  /** Copies weights in by name (see loadWeights in io/model-file), after the queued calls. */
  loadWeights(path: string, options: LoadWeightsOptions = {}): Promise<LoadReport> {
    try {
      checkOptionKeys('loadWeights', options, ['maxBytes', 'strict', 'rename']);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.monitor.run('loadWeights', async () => {
      const report = await loadWeights(this.module, path, options);
      this.dropPredictCache();
      return report;
    });
  }

  /** The fit cursor a checkpoint saves (null before any fit on tensors). */
  fitCursor(): FitCursor | null {
    const c = this.cursor;
    return c ? { nextEpoch: c.nextEpoch, order: c.order.slice(), generator: c.generator.getState() } : null;
  }

  /** The cursor a next fit would resume from (loadCheckpoint's undo uses it). */
  pendingFitCursor(): FitCursor | null {
    return this.resumeCursor;
  }
  /** Puts back a cursor pendingFitCursor() returned (loadCheckpoint's undo when a restore fails). */
  restorePendingFitCursor(cursor: FitCursor | null): void {
    this.resumeCursor = cursor;
  }

  /** Restores a checkpoint's fit cursor: the next fit with initialEpoch = cursor.nextEpoch
   * continues that run's order and shuffling. */
  setFitCursor(cursor: FitCursor): void {
    this.resumeCursor = {
      nextEpoch: cursor.nextEpoch,
      order: cursor.order.slice(),
      generator: { ...cursor.generator },
    };
    this.dropPredictCache();
  }

  /**
   * A table of every layer (output shape for `inputShape`, parameters, trainable), the totals,
   * parameter memory and forward FLOPs per sample. Without inputShape, shapes and FLOPs are
   * left out. See nn/summary.
   */
  summary(inputShape?: readonly number[], options: Omit<SummaryOptions, 'inputShape'> = {}): string {
    return summarize(this.module, { ...options, inputShape }).toString();
  }

  /** Numbers of parameters: total, trainable, frozen. */
  countParameters(): {
    /** Values in all parameters. */
    total: number;
    /** Values in parameters that train. */
    trainable: number;
    /** Values in frozen parameters. */
    frozen: number;
  } {
    let total = 0;
    let trainable = 0;
    for (const p of this.module.parameters()) {
      total += p.size;
      if (p.requiresGrad) trainable += p.size;
    }
    return { total, trainable, frozen: total - trainable };
  }
}
