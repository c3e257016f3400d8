/**
 * Metrics, computed from accumulators that native ops fill during training and evaluation
 * (a confusion matrix, top-k counts, regression sums), so they cost nothing in JS per batch
 * and a recorded step replays them. Classification metrics come from the confusion matrix
 * (rows = true class, columns = predicted); precision / recall / F1 average per class
 * ('macro', default for more than two classes), over all decisions ('micro'), weighted by
 * class support ('weighted'), or for the positive class ('binary', default for one output).
 * Give compile() their names or the Metric objects these functions make.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, metrics } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(8, 3)));
 * model.compile({ optimizer: 'adam', loss: 'crossEntropy', metrics: ['accuracy', metrics.f1({ average: 'weighted' })] });
 * ```
 *
 * @module
 */

import { checkOptionKeys, enumOption, optionKeys, unknownNameMessage } from '../options.js';

/**
 * How precision, recall and F1 combine per-class scores: 'macro' (plain mean over classes),
 * 'micro' (over all decisions pooled), 'weighted' (mean weighted by each class's true count)
 * or 'binary' (class 1 only, the positive class of a one-output model).
 *
 * @example
 * ```ts
 * import { metrics } from 'axon-nn';
 * const average: metrics.Average = 'micro';
 * const recall = metrics.recall({ average });
 * ```
 */
export type Average = 'macro' | 'micro' | 'weighted' | 'binary';
const AVERAGES: readonly Average[] = ['macro', 'micro', 'weighted', 'binary'];

/**
 * precision's, recall's and f1's options.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, metrics } from 'axon-nn';
 * const options: metrics.AverageOptions = { average: 'macro' };
 * const model = new Model(new Sequential(new Linear(8, 4)));
 * model.compile({ optimizer: 'adam', loss: 'crossEntropy', metrics: [metrics.precision(options), metrics.recall(options)] });
 * ```
 */
export interface AverageOptions {
  /** How per-class scores combine (default: 'binary' for one output, else 'macro'). */
  average?: Average;
}
const AVERAGE_KEYS = optionKeys<AverageOptions>({ average: true });

/** The checked `average` (undefined: chosen from the class count when computed). */
function averageOption(op: string, options: AverageOptions): Average | undefined {
  checkOptionKeys(op, options, AVERAGE_KEYS);
  const a = options?.average;
  return a === undefined ? undefined : enumOption(op, 'average', a, 'macro', AVERAGES);
}

/**
 * The counts fit and evaluate collect natively over an epoch for the compiled metrics, which a
 * Metric's compute() turns into a number. Only what some metric `needs` is collected (the
 * others stay null or empty).
 *
 * @example
 * ```ts
 * import { metrics, type Metric } from 'axon-nn';
 * // The epoch's mean target value, from the regression sums [count, SSE, SAE, sum y, sum y^2].
 * const meanTarget: Metric = {
 *   name: 'mean_target',
 *   needs: 'regression',
 *   compute: (acc: metrics.Accumulators) => (acc.regression ? acc.regression[3] / acc.regression[0] : NaN),
 * };
 * ```
 */
export interface Accumulators {
  /** max(c, 2)^2 counts, row = label. */
  confusion: Float64Array | null;
  /** The model's output width c (1 for a single binary output). */
  classes: number;
  /** Per k: [rows whose label is among the k highest scores, rows]. */
  topK: Map<number, Float64Array>;
  /** [count, sum squared error, sum absolute error, sum target, sum target^2], over output values. */
  regression: Float64Array | null;
}

/**
 * A metric compile() takes: which counts it needs collected during the epoch and how it turns
 * them into a number. The built-in ones come from this namespace's functions; a custom one is a
 * plain object.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, metrics, type Metric } from 'axon-nn';
 * // Recall of class 0, read off the confusion matrix fit collects.
 * const recall0: Metric = {
 *   name: 'recall_0',
 *   needs: 'confusion',
 *   compute: (acc) => {
 *     const [row] = metrics.confusionMatrix(acc);
 *     return row[0] / Math.max(1, row.reduce((a, b) => a + b, 0));
 *   },
 * };
 * new Model(new Sequential(new Linear(8, 3))).compile({ optimizer: 'adam', loss: 'crossEntropy', metrics: [recall0] });
 * ```
 */
export interface Metric {
  /** Key in logs and history ('accuracy', 'val_accuracy', ...). */
  readonly name: string;
  /** The counts it reads: the confusion matrix, top-k hit counts, or regression sums. */
  readonly needs: 'confusion' | 'regression' | 'topK';
  /** For needs 'topK': the k whose hits are counted (default 5). */
  readonly k?: number;
  /** The metric's value from the epoch's counts. */
  compute(acc: Accumulators): number;
}

function confusionOf(acc: Accumulators, name: string): { m: Float64Array; c: number } {
  if (!acc.confusion) throw new Error(`metric ${name}: no classification counts were collected`);
  return { m: acc.confusion, c: Math.round(Math.sqrt(acc.confusion.length)) };
}

function perClass(
  acc: Accumulators,
  name: string,
): { tp: number[]; predicted: number[]; actual: number[]; total: number } {
  const { m, c } = confusionOf(acc, name);
  const tp: number[] = [];
  const predicted = new Array<number>(c).fill(0);
  const actual = new Array<number>(c).fill(0);
  let total = 0;
  for (let i = 0; i < c; i++)
    for (let j = 0; j < c; j++) {
      const v = m[i * c + j];
      actual[i] += v;
      predicted[j] += v;
      total += v;
    }
  for (let i = 0; i < c; i++) tp.push(m[i * c + i]);
  return { tp, predicted, actual, total };
}

const ratio = (a: number, b: number): number => (b > 0 ? a / b : 0);

function averaged(
  acc: Accumulators,
  name: string,
  average: Average | undefined,
  score: (tp: number, pred: number, act: number) => number,
): number {
  const { tp, predicted, actual, total } = perClass(acc, name);
  const avg = average ?? (acc.classes <= 1 ? 'binary' : 'macro');
  if (avg === 'binary') return score(tp[1], predicted[1], actual[1]);
  if (avg === 'micro') {
    const t = tp.reduce((s, v) => s + v, 0);
    return score(t, total, total);
  }
  let sum = 0;
  let weight = 0;
  for (let i = 0; i < tp.length; i++) {
    const w = avg === 'weighted' ? actual[i] : 1;
    sum += w * score(tp[i], predicted[i], actual[i]);
    weight += w;
  }
  return ratio(sum, weight);
}

/**
 * Fraction of rows whose prediction matches the label: the argmax of several outputs, or for
 * one output a probability above 0.5 (a logit above 0 with 'binaryCrossentropyWithLogits').
 * `name` is its key in the logs (default 'accuracy').
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, metrics } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(8, 3)));
 * model.compile({ optimizer: 'adam', loss: 'crossEntropy', metrics: [metrics.accuracy('acc')] }); // logs 'acc', 'val_acc'
 * ```
 */
export function accuracy(name = 'accuracy'): Metric {
  return {
    name,
    needs: 'confusion',
    compute: (acc) => {
      const { tp, total } = perClass(acc, name);
      return ratio(
        tp.reduce((s, v) => s + v, 0),
        total,
      );
    },
  };
}

/**
 * Fraction of rows whose label is among the k highest scores (sparse int32 labels), logged as
 * `top{k}Accuracy`. Throws a RangeError unless k is a positive integer.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, metrics } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(32, 100)));
 * model.compile({ optimizer: 'adam', loss: 'crossEntropy', metrics: ['accuracy', metrics.topKAccuracy(3)] }); // logs 'top3Accuracy'
 * ```
 */
export function topKAccuracy(k = 5): Metric {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`topKAccuracy: k must be a positive integer, got ${k}`);
  const name = `top${k}Accuracy`;
  return {
    name,
    needs: 'topK',
    k,
    compute: (acc) => {
      const c = acc.topK.get(k);
      if (!c) throw new Error(`metric ${name}: no top-k counts were collected`);
      return ratio(c[0], c[1]);
    },
  };
}

/**
 * Precision over the epoch, tp / predicted per class, combined per `average` (default 'binary'
 * for one output, else 'macro'); logged as 'precision'. Throws a RangeError for an unknown average.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, metrics } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(8, 1)));
 * model.compile({ optimizer: 'adam', loss: 'binaryCrossentropyWithLogits', metrics: [metrics.precision()] });
 * ```
 */
export function precision(options: AverageOptions = {}): Metric {
  const average = averageOption('precision', options);
  return {
    name: 'precision',
    needs: 'confusion',
    compute: (acc) => averaged(acc, 'precision', average, (tp, p) => ratio(tp, p)),
  };
}

/**
 * Recall over the epoch, tp / actual per class, combined per `average` (default 'binary' for
 * one output, else 'macro'); logged as 'recall'. Throws a RangeError for an unknown average.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, metrics } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(8, 5)));
 * model.compile({ optimizer: 'adam', loss: 'crossEntropy', metrics: [metrics.recall({ average: 'weighted' })] });
 * ```
 */
export function recall(options: AverageOptions = {}): Metric {
  const average = averageOption('recall', options);
  return {
    name: 'recall',
    needs: 'confusion',
    compute: (acc) => averaged(acc, 'recall', average, (tp, _p, a) => ratio(tp, a)),
  };
}

/**
 * F1 score over the epoch, the harmonic mean of each class's precision and recall, combined per
 * `average` (default 'binary' for one output, else 'macro'); logged as 'f1'. Throws a RangeError
 * for an unknown average.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, metrics } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(8, 5)));
 * model.compile({ optimizer: 'adam', loss: 'crossEntropy', metrics: [metrics.f1({ average: 'macro' })] });
 * ```
 */
export function f1(options: AverageOptions = {}): Metric {
  const average = averageOption('f1', options);
  return {
    name: 'f1',
    needs: 'confusion',
    compute: (acc) =>
      averaged(acc, 'f1', average, (tp, p, a) => {
        const pr = ratio(tp, p);
        const rc = ratio(tp, a);
        return pr + rc > 0 ? (2 * pr * rc) / (pr + rc) : 0;
      }),
  };
}

/**
 * Mean squared error of the outputs against float targets of the same size, over the epoch;
 * logged as 'mse' (also compile's name 'mse').
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, metrics } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(8, 1)));
 * model.compile({ optimizer: 'adam', loss: 'huber', metrics: [metrics.mse(), metrics.mae()] });
 * ```
 */
export function mse(): Metric {
  return { name: 'mse', needs: 'regression', compute: (acc) => regression(acc, 'mse')[0] };
}
/**
 * Mean absolute error of the outputs against float targets of the same size, over the epoch;
 * logged as 'mae' (also compile's name 'mae').
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, metrics } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(8, 1)));
 * model.compile({ optimizer: 'adam', loss: 'mse', metrics: [metrics.mae()] });
 * ```
 */
export function mae(): Metric {
  return { name: 'mae', needs: 'regression', compute: (acc) => regression(acc, 'mae')[1] };
}
/**
 * Coefficient of determination, 1 - SSE / SST, over the epoch, pooled over every output value
 * (0 when the targets are constant); logged as 'r2'.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, metrics } from 'axon-nn';
 * const model = new Model(new Sequential(new Linear(8, 1)));
 * model.compile({ optimizer: 'adam', loss: 'mse', metrics: [metrics.r2()] });
 * ```
 */
export function r2(): Metric {
  return { name: 'r2', needs: 'regression', compute: (acc) => regression(acc, 'r2')[2] };
}

function regression(acc: Accumulators, name: string): [number, number, number] {
  const s = acc.regression;
  if (!s) throw new Error(`metric ${name}: no regression sums were collected`);
  const [n, sse, sae, st, st2] = s;
  const sst = st2 - (st * st) / Math.max(n, 1);
  return [ratio(sse, n), ratio(sae, n), sst > 0 ? 1 - sse / sst : 0];
}

/**
 * The confusion matrix as rows (true class) of counts per predicted class (2 x 2 for one
 * output), for a custom Metric's compute. Throws an Error when no classification counts were
 * collected (no compiled metric needs 'confusion').
 *
 * @example
 * ```ts
 * import { metrics, type Metric } from 'axon-nn';
 * // False positives of a binary classifier per epoch.
 * const falsePositives: Metric = { name: 'fp', needs: 'confusion', compute: (acc) => metrics.confusionMatrix(acc)[0][1] };
 * ```
 */
export function confusionMatrix(acc: Accumulators): number[][] {
  const { m, c } = confusionOf(acc, 'confusionMatrix');
  return Array.from({ length: c }, (_, i) => Array.from(m.subarray(i * c, (i + 1) * c)));
}

/**
 * The metric names compile() takes (Keras's names are accepted).
 *
 * @example
 * ```ts
 * import { metrics } from 'axon-nn';
 * const known = (name: string): boolean => (metrics.METRIC_NAMES as readonly string[]).includes(name);
 * console.log(known('f1'), known('auc')); // true false
 * ```
 */
export const METRIC_NAMES = [
  'accuracy',
  'acc',
  'binaryAccuracy',
  'categoricalAccuracy',
  'sparseCategoricalAccuracy',
  'topKAccuracy',
  'top5Accuracy',
  'precision',
  'recall',
  'f1',
  'mse',
  'mae',
  'r2',
] as const;
/**
 * A metric compile() knows by name: 'accuracy' (also 'acc', 'binaryAccuracy',
 * 'categoricalAccuracy', 'sparseCategoricalAccuracy'), 'topKAccuracy' / 'top5Accuracy' (k = 5),
 * 'precision', 'recall', 'f1', 'mse', 'mae' and 'r2'.
 *
 * @example
 * ```ts
 * import { Model, Sequential, Linear, type MetricName } from 'axon-nn';
 * const names: MetricName[] = ['accuracy', 'precision', 'recall'];
 * new Model(new Sequential(new Linear(8, 1))).compile({ optimizer: 'adam', loss: 'binaryCrossentropyWithLogits', metrics: names });
 * ```
 */
export type MetricName = (typeof METRIC_NAMES)[number];

/**
 * A metric by name (Keras's names are accepted), or the given Metric object itself. Throws a
 * RangeError for an unknown name, a TypeError for anything else.
 *
 * @example
 * ```ts
 * import { metrics } from 'axon-nn';
 * const top5 = metrics.getMetric('top5Accuracy');
 * console.log(top5.name, top5.k); // top5Accuracy 5
 * ```
 */
export function getMetric(spec: MetricName | Metric): Metric {
  if (typeof spec === 'object' && spec && typeof spec.compute === 'function') return spec;
  switch (spec) {
    case 'accuracy':
    case 'acc':
    case 'binaryAccuracy':
    case 'categoricalAccuracy':
    case 'sparseCategoricalAccuracy':
      return accuracy(spec === 'acc' ? 'accuracy' : spec);
    case 'topKAccuracy':
    case 'top5Accuracy':
      return topKAccuracy(5);
    case 'precision':
      return precision();
    case 'recall':
      return recall();
    case 'f1':
      return f1();
    case 'mse':
      return mse();
    case 'mae':
      return mae();
    case 'r2':
      return r2();
  }
  // The caller (compile) adds its name in front.
  const message = unknownNameMessage('', 'metric', spec, METRIC_NAMES);
  if (typeof spec === 'string') throw new RangeError(message);
  throw new TypeError(`${message}, or a Metric object ({ name, needs, compute })`);
}
