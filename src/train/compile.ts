/**
 * What compile() chooses, by name: the losses (with the kind of targets each needs, which
 * decides how fit checks labels and counts metrics) and the optimizers with their defaults.
 */
import {
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  crossEntropy,
  huberLoss,
  l1Loss,
  mseLoss,
  smoothL1Loss,
} from '../nn/losses.js';
import type { Parameter } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import { Adagrad, Adam, AdamW, RMSprop, SGD } from '../optim/optimizers.js';
import { describeValue, unknownNameMessage } from '../options.js';
import { shapeToString } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import type { Metric, MetricName } from './metrics.js';

/**
 * The loss names compile() takes (Keras's spellings and ours), for checking a name that comes
 * from outside, such as a command line.
 *
 * @example
 * ```ts
 * import { LOSS_NAMES, type LossName } from 'axon-nn';
 * const isLossName = (s: string): s is LossName => (LOSS_NAMES as readonly string[]).includes(s);
 * console.log(isLossName('huber'), isLossName('hinge')); // true false
 * ```
 */
export const LOSS_NAMES = [
  'crossEntropy',
  'sparseCategoricalCrossentropy',
  'categoricalCrossentropy',
  'binaryCrossentropy',
  'binaryCrossentropyWithLogits',
  'mse',
  'meanSquaredError',
  'mae',
  'meanAbsoluteError',
  'huber',
  'smoothL1',
] as const;
/**
 * A loss compile() knows by name. 'crossEntropy' / 'sparseCategoricalCrossentropy' take logits
 * and int32 class labels, 'categoricalCrossentropy' logits and one-hot (or soft) targets,
 * 'binaryCrossentropy' probabilities, 'binaryCrossentropyWithLogits' logits; 'mse', 'mae'
 * (and their long names), 'huber' and 'smoothL1' are regression losses. An unknown name throws
 * a RangeError.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, type LossName } from 'axon-nn';
 * const loss: LossName = 'binaryCrossentropyWithLogits';
 * const model = new Model(new Sequential(new Linear(8, 1))).compile({ optimizer: 'adam', loss });
 * ```
 */
export type LossName = (typeof LOSS_NAMES)[number];
/**
 * A custom loss for compile(): (prediction, target) => a scalar tensor, built from
 * differentiable tensor ops (fit records it into its training step, so it must not read
 * tensor values in JS).
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, randn, type LossFunction } from 'axon-nn';
 * const meanFourthPower: LossFunction = (prediction, target) => prediction.sub(target).square().square().mean();
 * const model = new Model(new Sequential(new Linear(4, 1))).compile({ optimizer: 'adam', loss: meanFourthPower });
 * await model.fit(randn([32, 4]), randn([32, 1]), { epochs: 1, verbose: 0 });
 * ```
 */
export type LossFunction = (prediction: Tensor, target: Tensor) => Tensor;
/**
 * The optimizer names compile() takes.
 *
 * @example
 * ```ts
 * import { OPTIMIZER_NAMES } from 'axon-nn';
 * console.log(OPTIMIZER_NAMES.join(', ')); // sgd, adam, adamw, rmsprop, adagrad
 * ```
 */
export const OPTIMIZER_NAMES = ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad'] as const;
/**
 * An optimizer compile() builds by name over the model's trainable parameters: 'sgd'
 * ({@link SGD} with Keras's lr 0.01), 'adam', 'adamw', 'rmsprop' (with Keras's lr 1e-3) or
 * 'adagrad', otherwise with the class's defaults. An unknown name throws a RangeError.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, type OptimizerName } from 'axon-nn';
 * const optimizer: OptimizerName = 'adamw';
 * const model = new Model(new Sequential(new Linear(4, 1))).compile({ optimizer, learningRate: 3e-4, loss: 'mse' });
 * ```
 */
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/**
 * Model.compile's options (Keras's compile): the optimizer, the loss and the metrics. Bad
 * values throw (an unknown key or type a TypeError, an unknown name a RangeError).
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, metrics, type CompileOptions } from 'axon-nn';
 * const options: CompileOptions = {
 *   optimizer: 'sgd',
 *   learningRate: 0.05,
 *   loss: 'crossEntropy',
 *   metrics: ['accuracy', metrics.topKAccuracy(3)],
 *   clipNorm: 1,
 * };
 * const model = new Model(new Sequential(new Linear(16, 10))).compile(options);
 * ```
 */
export interface CompileOptions {
  /** An optimizer over the model's parameters, or the name of one to build (see OptimizerName). */
  optimizer:
    | Optimizer<{
        /** The learning rate. */
        lr: number;
      }>
    | OptimizerName;
  /** A name, or (prediction, target) => scalar loss. Cross-entropy names take logits. */
  loss: LossName | LossFunction;
  /** Metrics computed each epoch (names or Metric objects); each appears in the logs under its name, which must be unique. */
  metrics?: (MetricName | Metric)[];
  /** Learning rate for a named optimizer (its default otherwise). */
  learningRate?: number;
  /** Clip the global gradient norm to this every step. */
  clipNorm?: number;
}

export type LossKind = 'sparse' | 'categorical' | 'binaryProb' | 'binaryLogits' | 'regression' | 'custom';

export interface LossSpec {
  fn: LossFunction;
  kind: LossKind;
  name: string;
}

export function lossFromName(name: LossName, classWeight: Tensor | null): LossSpec {
  switch (name) {
    case 'crossEntropy':
    case 'sparseCategoricalCrossentropy':
    case 'categoricalCrossentropy':
      return {
        fn: (p, t) => crossEntropy(p, t, { weight: classWeight }),
        kind: name === 'categoricalCrossentropy' ? 'categorical' : 'sparse',
        name,
      };
    case 'binaryCrossentropy':
      return { fn: (p, t) => binaryCrossEntropy(p, t), kind: 'binaryProb', name };
    case 'binaryCrossentropyWithLogits':
      return { fn: (p, t) => binaryCrossEntropyWithLogits(p, t), kind: 'binaryLogits', name };
    case 'mse':
    case 'meanSquaredError':
      return { fn: (p, t) => mseLoss(p, t), kind: 'regression', name };
    case 'mae':
    case 'meanAbsoluteError':
      return { fn: (p, t) => l1Loss(p, t), kind: 'regression', name };
    case 'huber':
      return { fn: (p, t) => huberLoss(p, t), kind: 'regression', name };
    case 'smoothL1':
      return { fn: (p, t) => smoothL1Loss(p, t), kind: 'regression', name };
  }
  if (typeof name !== 'string')
    throw new TypeError(
      `compile: loss must be a loss name or a function (prediction, target) => loss, got ${describeValue(name)}; the valid names are ${LOSS_NAMES.map((n) => `'${n}'`).join(', ')}`,
    );
  throw new RangeError(unknownNameMessage('compile', 'loss', name, LOSS_NAMES));
}

export function optimizerFromName(
  name: OptimizerName,
  params: Parameter[],
  lr: number | undefined,
): Optimizer<{ lr: number }> {
  const o = lr === undefined ? {} : { lr };
  switch (name) {
    case 'sgd':
      return new SGD(params, { lr: 0.01, ...o });
    case 'adam':
      return new Adam(params, o);
    case 'adamw':
      return new AdamW(params, o);
    case 'rmsprop':
      return new RMSprop(params, { lr: 1e-3, ...o });
    case 'adagrad':
      return new Adagrad(params, o);
  }
  throw new RangeError(unknownNameMessage('compile', 'optimizer', name, OPTIMIZER_NAMES));
}

/** Checks x and y for fit or evaluate: tensors, samples along the first axis that match, and
 * targets of the dtype the loss needs. */
export function checkSamples(op: string, loss: LossSpec | null, x: Tensor, y: Tensor | null): void {
  if (!(x instanceof Tensor)) throw new TypeError(`${op}: x must be a Tensor`);
  if (x.ndim === 0 || x.shape[0] === 0) throw new RangeError(`${op}: x is empty (shape ${shapeToString(x.shape)})`);
  if (y === null) return;
  if (!(y instanceof Tensor)) throw new TypeError(`${op}: y must be a Tensor`);
  if (y.ndim === 0 || y.shape[0] !== x.shape[0])
    throw new RangeError(
      `${op}: x has ${x.shape[0]} samples (${shapeToString(x.shape)}) but y has ${y.ndim ? y.shape[0] : 0} (${shapeToString(y.shape)})`,
    );
  if (loss?.kind === 'sparse' && y.dtype !== 'int32')
    throw new TypeError(
      `${op}: the ${loss.name} loss needs int32 class labels, got float32 (use categoricalCrossentropy for one-hot targets)`,
    );
}

/** Class labels of a sparse loss within the model's `classes` outputs (a clear error before any
 * step runs; the recorded steps check them again natively). */
export function checkLabelRange(op: string, loss: LossSpec | null, y: Tensor, classes: number): void {
  if (loss?.kind !== 'sparse' || y.dtype !== 'int32') return;
  const d = y.data;
  for (let i = 0; i < d.length; i++)
    if (d[i] < 0 || d[i] >= classes)
      throw new RangeError(
        `${op}: label ${d[i]} at sample ${i} is outside the model's ${classes} classes [0, ${classes - 1}]`,
      );
}
