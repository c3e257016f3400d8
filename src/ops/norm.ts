/**
 * Normalisation ops with autograd: batch normalisation over axis 1 (F.batch_norm) and layer
 * normalisation over the trailing axes (F.layer_norm). Each forward is one native kernel;
 * each backward one.
 */
import { record } from '../autograd/engine.js';
import { kernels } from '../native/executor.js';
import { numel, shapeToString } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkOptionKeys, numberOption, optionKeys } from '../options.js';
import { floatData } from './util.js';

export interface BatchNormOptions {
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  weight?: Tensor | null;
  bias?: Tensor | null;
  /** Batch statistics (and update the running ones) when true; running statistics when false. */
  training?: boolean;
  momentum?: number;
  eps?: number;
}
const BATCH_NORM_KEYS = optionKeys<BatchNormOptions>({
  runningMean: true,
  runningVar: true,
  weight: true,
  bias: true,
  training: true,
  momentum: true,
  eps: true,
});

/** Batch normalisation over axis 1 of [N, C], [N, C, L] or [N, C, H, W] (F.batch_norm). */
export function batchNorm(x: Tensor, options: BatchNormOptions = {}): Tensor {
  const op = 'batchNorm';
  checkOptionKeys(op, options, BATCH_NORM_KEYS);
  numberOption(op, 'eps', options.eps, 1e-5, Number.MIN_VALUE, Number.MAX_VALUE);
  numberOption(op, 'momentum', options.momentum, 0.1, 0, 1);
  const xd = floatData(op, x);
  if (x.ndim < 2) throw new RangeError(`${op}: input must be [N, C, ...], got ${shapeToString(x.shape)}`);
  const [n, c] = x.shape;
  const s = numel(x.shape.slice(2));
  const vec = (t: Tensor | null | undefined, name: string): Float32Array | null => {
    if (!t) return null;
    const d = floatData(op, t, name);
    if (t.size !== c)
      throw new RangeError(
        `${op}: ${name} must have ${c} values (one per channel of ${shapeToString(x.shape)}), got ${shapeToString(t.shape)}`,
      );
    return d;
  };
  const gamma = vec(options.weight, 'weight');
  const beta = vec(options.bias, 'bias');
  const rm = vec(options.runningMean, 'runningMean');
  const rv = vec(options.runningVar, 'runningVar');
  const training = options.training ?? true;
  if (training && n * s < 2)
    throw new RangeError(`${op}: training needs more than one value per channel, got input ${shapeToString(x.shape)}`);
  const out = Tensor.empty(x.shape);
  const saveMean = new Float32Array(c);
  const saveInvstd = new Float32Array(c);
  const dims = { n, c, s };
  kernels.batchNorm(
    xd,
    gamma,
    beta,
    rm,
    rv,
    dims,
    options.eps ?? 1e-5,
    options.momentum ?? 0.1,
    training,
    out.data as Float32Array,
    saveMean,
    saveInvstd,
  );
  const weight = options.weight ?? null;
  const bias = options.bias ?? null;
  return record(out, op, [x, weight, bias], (g) => {
    const dx = x.requiresGrad ? Tensor.empty(x.shape) : null;
    const dg = weight?.requiresGrad ? Tensor.empty(weight.shape) : null;
    const db = bias?.requiresGrad ? Tensor.empty(bias.shape) : null;
    kernels.batchNormBackward(
      xd,
      g.data as Float32Array,
      gamma,
      saveMean,
      saveInvstd,
      dims,
      training,
      dx ? (dx.data as Float32Array) : null,
      dg ? (dg.data as Float32Array) : null,
      db ? (db.data as Float32Array) : null,
    );
    return [dx, dg, db];
  });
}

/** Layer normalisation over the trailing axes `normalizedShape` (F.layer_norm). */
export function layerNorm(
  x: Tensor,
  normalizedShape: readonly number[],
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  eps = 1e-5,
): Tensor {
  const op = 'layerNorm';
  const xd = floatData(op, x);
  const k = normalizedShape.length;
  if (k === 0 || k > x.ndim || !normalizedShape.every((d, i) => d === x.shape[x.ndim - k + i]))
    throw new RangeError(
      `${op}: normalizedShape ${shapeToString(normalizedShape)} must be the trailing axes of ${shapeToString(x.shape)}`,
    );
  const d = numel(normalizedShape);
  const rows = d === 0 ? 0 : x.size / d;
  const vec = (t: Tensor | null, name: string): Float32Array | null => {
    if (!t) return null;
    const v = floatData(op, t, name);
    if (t.size !== d)
      throw new RangeError(
        `${op}: ${name} must have shape ${shapeToString(normalizedShape)}, got ${shapeToString(t.shape)}`,
      );
    return v;
  };
  const gamma = vec(weight, 'weight');
  const beta = vec(bias, 'bias');
  const out = Tensor.empty(x.shape);
  const saveMean = new Float32Array(rows);
  const saveInvstd = new Float32Array(rows);
  if (d > 0) kernels.layerNorm(xd, gamma, beta, rows, d, eps, out.data as Float32Array, saveMean, saveInvstd);
  return record(out, op, [x, weight, bias], (g) => {
    const dx = x.requiresGrad ? Tensor.empty(x.shape) : null;
    const dg = weight?.requiresGrad ? Tensor.empty(weight.shape) : null;
    const db = bias?.requiresGrad ? Tensor.empty(bias.shape) : null;
    if (d > 0)
      kernels.layerNormBackward(
        xd,
        g.data as Float32Array,
        gamma,
        saveMean,
        saveInvstd,
        rows,
        d,
        dx ? (dx.data as Float32Array) : null,
        dg ? (dg.data as Float32Array) : null,
        db ? (db.data as Float32Array) : null,
      );
    return [dx, dg, db];
  });
}
