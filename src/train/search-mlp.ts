/**
 * A ready-made objective for the searches in search.ts: trains an MLP classifier per trial,
 * with early stopping on a validation split, and reports its best validation score.
 *
 * mlpObjective seeds its weights, dropout masks and shuffling, so a trial with the same
 * parameters reaches the same score (for a given kernel thread count), and trainMlp gives
 * that trial's trained model back.
 */
import { Dropout, Linear, Sequential } from '../nn/layers.js';
import type { Module } from '../nn/module.js';
import { l2 } from '../nn/regularizers.js';
import { LINEAR_ACTIVATIONS, type LinearActivation } from '../ops/linalg.js';
import { Generator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { checkOptionKeys, numberOption, optionKeys } from '../options.js';
import { EarlyStopping, type Logs } from './callbacks.js';
import { Model, type OptimizerName } from './model.js';
import { describe, type Params } from './search-space.js';
import { positiveInt, type Budget, type Objective, type TrialResult } from './search.js';

/**
 * The parameters mlpObjective reads; any it is not given take the defaults (MLP_DEFAULTS).
 *
 * @example
 * ```ts
 * import { mlpModel, type MlpParams } from 'axon-nn';
 * const params: MlpParams = { layers: 2, units: 64, activation: 'gelu', dropout: 0.1, l2: 1e-4, batchSize: 32, optimizer: 'adamw' };
 * const model = mlpModel({ ...params }, { inputFeatures: 20, classes: 4 });
 * ```
 */
export interface MlpParams {
  /** Hidden layers (0: a linear classifier). */
  layers: number;
  /** Width of each hidden layer. */
  units: number;
  /** Activation of the hidden layers (a Linear layer's `activation`, e.g. 'relu', 'gelu', 'tanh'). */
  activation: LinearActivation;
  /** Dropout rate after each hidden layer (none when 0). */
  dropout: number;
  /** L2 factor on every weight matrix (Keras's l2: λ Σ w²). */
  l2: number;
  /** Learning rate (default: the optimizer's own). */
  lr?: number;
  /** Rows per training batch. */
  batchSize: number;
  /** The optimizer by compile() name. */
  optimizer: OptimizerName;
}

/**
 * The values MlpParams take when neither the trial nor `defaults` gives them: one hidden layer
 * of 64 relu units, no dropout or L2, batches of 32, Adam at its default lr.
 *
 * @example
 * ```ts
 * import { MLP_DEFAULTS } from 'axon-nn';
 * console.log(MLP_DEFAULTS.units, MLP_DEFAULTS.optimizer); // 64 adam
 * ```
 */
export const MLP_DEFAULTS: Readonly<MlpParams> = {
  layers: 1,
  units: 64,
  activation: 'relu',
  dropout: 0,
  l2: 0,
  batchSize: 32,
  optimizer: 'adam',
};

const ACTIVATIONS: readonly LinearActivation[] = LINEAR_ACTIVATIONS;
const OPTIMIZERS: readonly OptimizerName[] = ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad'];

/**
 * Reads and checks MlpParams out of a trial's params, over `defaults` and MLP_DEFAULTS, naming
 * the parameter at fault: a RangeError for an unknown name or a bad value.
 *
 * @example
 * ```ts
 * import { mlpParams } from 'axon-nn';
 * console.log(mlpParams({ units: 128, lr: 3e-4 }, { optimizer: 'adamw' }));
 * // { layers: 1, units: 128, activation: 'relu', dropout: 0, l2: 0, batchSize: 32, optimizer: 'adamw', lr: 0.0003 }
 * ```
 */
export function mlpParams(params: Params, defaults: Partial<MlpParams> = {}): MlpParams {
  const op = 'mlpObjective';
  const known = new Set<string>([...Object.keys(MLP_DEFAULTS), 'lr']);
  for (const k of Object.keys(params))
    if (!known.has(k)) throw new RangeError(`${op}: unknown parameter '${k}' (it reads ${[...known].join(', ')})`);
  const p = { ...MLP_DEFAULTS, ...defaults, ...params } as Record<string, unknown>;
  const int = (k: string, min: number): number => {
    const v = p[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
      throw new RangeError(`${op}: ${k} must be an integer >= ${min}, got ${describe(v)}`);
    return v;
  };
  const out: MlpParams = {
    layers: int('layers', 0),
    units: int('units', 1),
    activation: p.activation as LinearActivation,
    dropout: p.dropout as number,
    l2: p.l2 as number,
    batchSize: int('batchSize', 1),
    optimizer: p.optimizer as OptimizerName,
  };
  if (!ACTIVATIONS.includes(out.activation))
    throw new RangeError(`${op}: activation must be one of ${ACTIVATIONS.join(', ')}, got ${describe(out.activation)}`);
  if (!OPTIMIZERS.includes(out.optimizer))
    throw new RangeError(`${op}: optimizer must be one of ${OPTIMIZERS.join(', ')}, got ${describe(out.optimizer)}`);
  if (typeof out.dropout !== 'number' || !(out.dropout >= 0 && out.dropout < 1))
    throw new RangeError(`${op}: dropout must be in [0, 1), got ${describe(out.dropout)}`);
  if (typeof out.l2 !== 'number' || !(out.l2 >= 0 && Number.isFinite(out.l2)))
    throw new RangeError(`${op}: l2 must be a finite number >= 0, got ${describe(out.l2)}`);
  if (p.lr !== undefined) {
    if (typeof p.lr !== 'number' || !(p.lr > 0 && Number.isFinite(p.lr)))
      throw new RangeError(`${op}: lr must be a finite number > 0, got ${describe(p.lr)}`);
    out.lr = p.lr;
  }
  return out;
}

/**
 * The data and training setup of mlpObjective and trainMlp. Bad values throw a TypeError or
 * RangeError naming the option.
 *
 * @example
 * ```ts
 * import { mlpObjective, randn, randint, type MlpObjectiveOptions } from 'axon-nn';
 * const options: MlpObjectiveOptions = {
 *   x: randn([200, 10]),
 *   y: randint(0, 4, [200]),
 *   classes: 4,
 *   validationSplit: 0.25,
 *   patience: 2,
 *   maxEpochs: 20,
 *   defaults: { batchSize: 64 },
 * };
 * const objective = mlpObjective(options);
 * ```
 */
export interface MlpObjectiveOptions {
  /** Inputs (N, features) and int32 class labels (N). */
  x: Tensor;
  /** The int32 class labels (N), in [0, classes). */
  y: Tensor;
  /** Input width (default: x's row size). */
  inputFeatures?: number;
  /** Number of classes (the model's output logits). */
  classes: number;
  /** Fraction held out for validation: the last rows, as fit does (default 0.2). */
  validationSplit?: number;
  /** Explicit validation data, used instead of validationSplit. */
  validationData?: [Tensor, Tensor];
  /** Epochs without improvement before early stopping (default 3). */
  patience?: number;
  /** The score and early-stopping metric (default 'val_accuracy'). */
  monitor?: 'val_accuracy' | 'val_loss';
  /** The budget when a search passes none (grid/random `epochs`, halving `maxEpochs`). */
  maxEpochs?: number;
  /** Seeds the weights, dropout masks and shuffling of every trial (default 0). */
  seed?: number;
  /** Values for MlpParams the space does not declare. */
  defaults?: Partial<MlpParams>;
}
const MLP_OBJECTIVE_KEYS = optionKeys<MlpObjectiveOptions>({
  x: true,
  y: true,
  inputFeatures: true,
  classes: true,
  validationSplit: true,
  validationData: true,
  patience: true,
  monitor: true,
  maxEpochs: true,
  seed: true,
  defaults: true,
});

/**
 * mlpModel's options.
 *
 * @example
 * ```ts
 * import { mlpModel, type MlpModelOptions } from 'axon-nn';
 * const options: MlpModelOptions = { inputFeatures: 784, classes: 10, seed: 3, defaults: { units: 256 } };
 * const model = mlpModel({ layers: 2, dropout: 0.2 }, options);
 * ```
 */
export interface MlpModelOptions {
  /** Input width. */
  inputFeatures: number;
  /** Output logits (classes). */
  classes: number;
  /** Seeds the weights and dropout masks (default 0). */
  seed?: number;
  /** Values for MlpParams the params do not give. */
  defaults?: Partial<MlpParams>;
}
const MLP_MODEL_KEYS = optionKeys<MlpModelOptions>({ inputFeatures: true, classes: true, seed: true, defaults: true });

/** The MlpObjectiveOptions checks shared by mlpObjective (when built) and trainMlp. */
function checkMlpOptions(op: string, options: MlpObjectiveOptions): void {
  if (!options || typeof options !== 'object') throw new TypeError(`${op}: expected { x, y, classes, ... }`);
  checkOptionKeys(op, options, MLP_OBJECTIVE_KEYS);
  if (options.inputFeatures !== undefined) positiveInt(op, 'inputFeatures', options.inputFeatures);
  numberOption(op, 'validationSplit', options.validationSplit, 0.2, 0, 0.999999);
  if (options.seed !== undefined && (typeof options.seed !== 'number' || !Number.isFinite(options.seed)))
    throw new RangeError(`${op}: seed must be a finite number, got ${describe(options.seed)}`);
}

/**
 * The MLP a set of params describes, compiled for sparse cross-entropy with accuracy:
 * `layers` hidden Linear(units, activation) layers with l2(factor) weight penalties and
 * Dropout after each when dropout > 0, then Linear(units, classes) producing logits.
 * Weights and dropout masks come from a generator seeded with `seed`, not the global one, so
 * building a trial's model neither depends on nor disturbs the caller's random stream.
 * Throws a RangeError or TypeError for bad options or params.
 *
 * @example
 * ```ts
 * import { mlpModel, randn, randint } from 'axon-nn';
 * const model = mlpModel({ layers: 2, units: 32, dropout: 0.1 }, { inputFeatures: 4, classes: 3, seed: 1 });
 * await model.fit(randn([32, 4]), randint(0, 3, [32]), { epochs: 1, verbose: 0 });
 * ```
 */
export function mlpModel(params: Params, options: MlpModelOptions): Model {
  if (!options || typeof options !== 'object') throw new TypeError('mlpModel: expected { inputFeatures, classes }');
  checkOptionKeys('mlpModel', options, MLP_MODEL_KEYS);
  positiveInt('mlpModel', 'inputFeatures', options.inputFeatures);
  positiveInt('mlpModel', 'classes', options.classes);
  const p = mlpParams(params, options.defaults);
  const g = new Generator(options.seed ?? 0);
  const reg = p.l2 > 0 ? l2(p.l2) : null;
  const layers: Module[] = [];
  let width = options.inputFeatures;
  for (let i = 0; i < p.layers; i++) {
    layers.push(
      new Linear(width, p.units, { activation: p.activation, weightRegularizer: reg, init: { generator: g } }),
    );
    if (p.dropout > 0) layers.push(new Dropout(p.dropout, { generator: g }));
    width = p.units;
  }
  layers.push(new Linear(width, options.classes, { weightRegularizer: reg, init: { generator: g } }));
  return new Model(new Sequential(...layers)).compile({
    optimizer: p.optimizer,
    learningRate: p.lr,
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
  });
}

/**
 * Trains the MLP of `params` for up to `epochs` with early stopping on the monitored
 * validation metric (restoring the best epoch's weights) and returns the model with its
 * trial result: the best epoch's score and logs (those of the weights kept) and the epochs run.
 * mlpObjective is this without the model; call it again with a trial's params and budget to get
 * that trial's trained model back (same seed, same weights).
 *
 * @example
 * ```ts
 * import { randomSearch, mlpObjective, trainMlp, choice, randn, randint, type MlpObjectiveOptions } from 'axon-nn';
 * const options: MlpObjectiveOptions = { x: randn([120, 4]), y: randint(0, 3, [120]), classes: 3, maxEpochs: 3 };
 * const search = await randomSearch({ units: choice([8, 32]) }, mlpObjective(options), { trials: 2, seed: 0 });
 * const best = search.best!;
 * const { model, result } = await trainMlp(best.params, options, best.budget); // result.score === best.score
 * ```
 */
export async function trainMlp(
  params: Params,
  options: MlpObjectiveOptions,
  epochs: number,
): Promise<{
  /** The trained model, holding the best epoch's weights. */
  model: Model;
  /** The trial's score, epochs run and logs. */
  result: TrialResult;
}> {
  const op = 'mlpObjective';
  checkMlpOptions('trainMlp', options);
  const { x, y } = options;
  if (!(x instanceof Tensor) || !(y instanceof Tensor) || x.ndim === 0)
    throw new TypeError(`${op}: x and y must be Tensors with a batch axis`);
  const inputFeatures = options.inputFeatures ?? x.size / x.shape[0];
  const monitor = options.monitor ?? 'val_accuracy';
  if (monitor !== 'val_accuracy' && monitor !== 'val_loss')
    throw new RangeError(`${op}: monitor must be 'val_accuracy' or 'val_loss', got ${describe(monitor)}`);
  const seed = options.seed ?? 0;
  const p = mlpParams(params, options.defaults);
  const model = mlpModel(params, { inputFeatures, classes: options.classes, seed, defaults: options.defaults });
  const stopper = new EarlyStopping({ monitor, patience: options.patience ?? 3, restoreBestWeights: true });
  const history = await model.fit(x, y, {
    epochs,
    batchSize: p.batchSize,
    ...(options.validationData
      ? { validationData: options.validationData }
      : { validationSplit: options.validationSplit ?? 0.2 }),
    callbacks: [stopper],
    verbose: 0,
    seed,
  });
  const ran = history.epoch.length;
  const at = stopper.bestEpoch >= 0 ? history.epoch.indexOf(stopper.bestEpoch) : ran - 1;
  const logs: Logs = {};
  for (const [k, series] of Object.entries(history.history)) logs[k] = series[at];
  return { model, result: { score: logs[monitor] ?? NaN, epochs: ran, logs } };
}

/**
 * An objective that trains an MLP classifier per trial (see mlpModel and trainMlp). It reads
 * the params layers, units, activation, dropout, l2, lr, batchSize and optimizer, and rejects
 * any other name, since a misspelt parameter would otherwise be searched without effect. Its
 * score is the best epoch's `monitor` value ('val_accuracy' by default).
 *
 * @example
 * ```ts
 * import { randomSearch, mlpObjective, intRange, logUniform, randn, randint } from 'axon-nn';
 * const objective = mlpObjective({ x: randn([120, 4]), y: randint(0, 3, [120]), classes: 3, maxEpochs: 3 });
 * const result = await randomSearch({ layers: intRange(0, 2), lr: logUniform(1e-3, 1e-1) }, objective, { trials: 3, seed: 0 });
 * console.log(result.monitor); // val_accuracy
 * ```
 */
export function mlpObjective(options: MlpObjectiveOptions): Objective {
  const op = 'mlpObjective';
  checkMlpOptions(op, options);
  if (!(options.x instanceof Tensor) || !(options.y instanceof Tensor) || options.x.ndim === 0)
    throw new TypeError(`${op}: x and y must be Tensors with a batch axis`);
  positiveInt(op, 'classes', options.classes);
  if (options.monitor !== undefined && options.monitor !== 'val_accuracy' && options.monitor !== 'val_loss')
    throw new RangeError(`${op}: monitor must be 'val_accuracy' or 'val_loss', got ${describe(options.monitor)}`);
  if (options.maxEpochs !== undefined) positiveInt(op, 'maxEpochs', options.maxEpochs);
  if (options.patience !== undefined && !(Number.isInteger(options.patience) && options.patience >= 0))
    throw new RangeError(`${op}: patience must be a non-negative integer, got ${describe(options.patience)}`);
  if (options.defaults) mlpParams({}, options.defaults);
  const monitor = options.monitor ?? 'val_accuracy';
  const objective = async (params: Params, budget: Budget): Promise<TrialResult> =>
    (await trainMlp(params, options, budget.epochs)).result;
  return Object.assign(objective, { monitor, maxEpochs: options.maxEpochs });
}
