/**
 * Metrics, computed from accumulators that native ops fill during training and evaluation
 * (a confusion matrix, top-k counts, regression sums), so they cost nothing in JS per batch
 * and a recorded step replays them. Classification metrics come from the confusion matrix
 * (rows = true class, columns = predicted); precision / recall / F1 average per class
 * ('macro', default for more than two classes), over all decisions ('micro'), weighted by
 * class support ('weighted'), or for the positive class ('binary', default for one output).
 */

import { checkOptionKeys, enumOption, optionKeys, unknownNameMessage } from '../options.js';

export type Average = 'macro' | 'micro' | 'weighted' | 'binary';
const AVERAGES: readonly Average[] = ['macro', 'micro', 'weighted', 'binary'];

/** precision's, recall's and f1's options. */
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

export interface Accumulators {
  /** max(c, 2)^2 counts, row = label. */
  confusion: Float64Array | null;
  classes: number;
  topK: Map<number, Float64Array>;
  /** [count, sum squared error, sum absolute error, sum target, sum target^2] */
  regression: Float64Array | null;
}

export interface Metric {
  /** Key in logs and history ('accuracy', 'val_accuracy', ...). */
  readonly name: string;
  readonly needs: 'confusion' | 'regression' | 'topK';
  readonly k?: number;
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

/** Fraction of rows whose prediction (argmax, or probability > threshold for one output) matches. */
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

/** Fraction of rows whose label is among the k highest scores (sparse integer labels). */
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

export function precision(options: AverageOptions = {}): Metric {
  const average = averageOption('precision', options);
  return {
    name: 'precision',
    needs: 'confusion',
    compute: (acc) => averaged(acc, 'precision', average, (tp, p) => ratio(tp, p)),
  };
}

export function recall(options: AverageOptions = {}): Metric {
  const average = averageOption('recall', options);
  return {
    name: 'recall',
    needs: 'confusion',
    compute: (acc) => averaged(acc, 'recall', average, (tp, _p, a) => ratio(tp, a)),
  };
}

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

export function mse(): Metric {
  return { name: 'mse', needs: 'regression', compute: (acc) => regression(acc, 'mse')[0] };
}
export function mae(): Metric {
  return { name: 'mae', needs: 'regression', compute: (acc) => regression(acc, 'mae')[1] };
}
/** Coefficient of determination, 1 - SSE / SST. */
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

/** The confusion matrix as rows (true class) of counts per predicted class. */
export function confusionMatrix(acc: Accumulators): number[][] {
  const { m, c } = confusionOf(acc, 'confusionMatrix');
  return Array.from({ length: c }, (_, i) => Array.from(m.subarray(i * c, (i + 1) * c)));
}

/** The metric names compile() takes (Keras's names are accepted). */
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
export type MetricName = (typeof METRIC_NAMES)[number];

/** A metric by name (Keras's names are accepted). */
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
