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

/**
 * batchNorm()'s options: the running statistics, the affine parameters and the mode. Every
 * tensor is float32 with one value per channel; unknown keys are refused with a TypeError.
 *
 * @example
 * ```ts
 * import { batchNorm, ones, randn, zeros, type BatchNormOptions } from 'axon-nn';
 * const options: BatchNormOptions = { runningMean: zeros([16]), runningVar: ones([16]), training: false };
 * const y = batchNorm(randn([4, 16, 8, 8]), options); // normalised with the running statistics
 * ```
 */
export interface BatchNormOptions {
  /** Per-channel running mean [C]; updated in place when training. Absent in evaluation: 0. */
  runningMean?: Tensor | null;
  /** Per-channel running (unbiased) variance [C]; updated in place when training. Absent in evaluation: 1. */
  runningVar?: Tensor | null;
  /** Per-channel scale gamma [C] (default none: 1). */
  weight?: Tensor | null;
  /** Per-channel shift beta [C] (default none: 0). */
  bias?: Tensor | null;
  /** Batch statistics (and update the running ones) when true (default); running statistics when false. */
  training?: boolean;
  /** Running-statistics update: running = (1 - momentum) * running + momentum * batch (default 0.1, in [0, 1]). */
  momentum?: number;
  /** Added to the variance before the square root (default 1e-5; must be positive). */
  eps?: number;
  /**
   * A tensor of x's shape added after the norm, before the activation: a residual block's
   * `relu(bn(conv(x)) + shortcut)` as one pass over the activations (default none).
   */
  residual?: Tensor | null;
  /** An activation fused after the norm (and the residual add): 'relu' or 'none' (default). */
  activation?: 'relu' | 'none';
  /**
   * Cross-replica batch norm (what SyncBatchNorm passes; training only): called with this
   * batch's per-channel sums, first the statistics' (`[sum x, sum x²]` per channel, then the
   * count) and in the backward the gradient's (`[sum g, sum g (x - mean)]`, then the count), as
   * a Float64Array it must replace in place with the sum over every replica before the next
   * kernel reads it. The norm then uses the statistics of all the replicas' batches together;
   * weight and bias gradients stay this replica's (data parallelism averages them).
   */
  syncStatistics?: ((sums: Float64Array) => void) | null;
}
const BATCH_NORM_KEYS = optionKeys<BatchNormOptions>({
  runningMean: true,
  runningVar: true,
  weight: true,
  bias: true,
  training: true,
  momentum: true,
  eps: true,
  residual: true,
  activation: true,
  syncStatistics: true,
});

/**
 * Batch normalisation over axis 1 of [N, C], [N, C, L] or [N, C, H, W] (PyTorch's
 * F.batch_norm): (x - mean) / sqrt(var + eps) * weight + bias per channel, then (options) a
 * residual added and a relu, fused into the same pass forward and backward. Training (the
 * default) uses the batch's statistics and updates the running ones if given.
 * @throws RangeError for an input under 2-D, a per-channel tensor of the wrong size, or training
 *   with one value per channel.
 * @example
 * ```ts
 * import { batchNorm, ones, randn, zeros } from 'axon-nn';
 * const x = randn([32, 16, 8, 8]);
 * const runningMean = zeros([16]);
 * const runningVar = ones([16]);
 * const y = batchNorm(x, { runningMean, runningVar, training: true }); // updates both in place
 * ```
 */
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
  const activation = options.activation ?? 'none';
  if (activation !== 'relu' && activation !== 'none')
    throw new RangeError(`${op}: activation must be 'relu' or 'none', got ${String(activation)}`);
  const relu = activation === 'relu';
  const residual = options.residual ?? null;
  const rd = residual ? floatData(op, residual, 'residual') : null;
  if (residual && !(residual.ndim === x.ndim && residual.shape.every((d, i) => d === x.shape[i])))
    throw new RangeError(
      `${op}: residual must have the input's shape ${shapeToString(x.shape)}, got ${shapeToString(residual.shape)}`,
    );
  const sync = options.syncStatistics ?? null;
  if (sync !== null && typeof sync !== 'function')
    throw new TypeError(`${op}: syncStatistics must be a function or null, got ${typeof sync}`);
  if (sync && !training)
    throw new RangeError(`${op}: syncStatistics is for training (evaluation uses the running statistics)`);
  // Across replicas the count is the union's, checked by the kernel when it runs.
  if (training && n * s < 2 && !sync)
    throw new RangeError(`${op}: training needs more than one value per channel, got input ${shapeToString(x.shape)}`);
  const out = Tensor.empty(x.shape);
  const saveMean = new Float32Array(c);
  const saveInvstd = new Float32Array(c);
  const dims = { n, c, s };
  let stats: Float64Array | null = null;
  if (sync) {
    stats = new Float64Array(2 * c + 1);
    // The count is known now (a traced step records the kernels before they ever run, and the
    // norm's check reads the count at recording as at every replay).
    stats[2 * c] = n * s;
    kernels.batchNormStats(xd, dims, stats);
    sync(stats);
  }
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
    rd,
    relu,
    stats,
  );
  const weight = options.weight ?? null;
  const bias = options.bias ?? null;
  const yd = out.data as Float32Array;
  return record(out, op, [x, weight, bias, residual], (g) => {
    const dx = x.requiresGrad ? Tensor.empty(x.shape) : null;
    const dg = weight?.requiresGrad ? Tensor.empty(weight.shape) : null;
    const db = bias?.requiresGrad ? Tensor.empty(bias.shape) : null;
    const dr = residual?.requiresGrad ? Tensor.empty(residual.shape) : null;
    let gradStats: Float64Array | null = null;
    if (sync) {
      // This replica's sums and parameter gradients, then dx from every replica's sums.
      gradStats = new Float64Array(2 * c + 1);
      gradStats[2 * c] = n * s;
      kernels.batchNormGradStats(
        xd,
        g.data as Float32Array,
        saveMean,
        saveInvstd,
        dims,
        gradStats,
        dg ? (dg.data as Float32Array) : null,
        db ? (db.data as Float32Array) : null,
        relu ? yd : null,
        relu,
      );
      sync(gradStats);
    }
    // One pass per channel for the whole fused group: the relu's gate, the norm's gradient
    // written over dx (fresh, so no zero-fill first), the residual's gradient alongside.
    kernels.batchNormBackward(
      xd,
      g.data as Float32Array,
      gamma,
      saveMean,
      saveInvstd,
      dims,
      training,
      dx ? (dx.data as Float32Array) : null,
      sync ? null : dg ? (dg.data as Float32Array) : null,
      sync ? null : db ? (db.data as Float32Array) : null,
      relu ? yd : null,
      dr ? (dr.data as Float32Array) : null,
      relu,
      true,
      gradStats,
    );
    return [dx, dg, db, dr];
  });
}

/**
 * Layer normalisation over the trailing axes `normalizedShape` (PyTorch's F.layer_norm): each
 * slice is normalised by its own mean and (biased) variance plus eps, then scaled by weight
 * and shifted by bias (each of shape `normalizedShape`, or null).
 * @throws RangeError when normalizedShape is not the trailing extents of x, or weight / bias
 *   holds another number of elements.
 * @example
 * ```ts
 * import { layerNorm, ones, randn, zeros } from 'axon-nn';
 * const tokens = randn([2, 10, 64]);
 * const gamma = ones([64], { requiresGrad: true });
 * const beta = zeros([64], { requiresGrad: true });
 * const y = layerNorm(tokens, [64], gamma, beta); // [2, 10, 64]
 * ```
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: readonly number[],
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  eps = 1e-5,
): Tensor {
  const op = 'layerNorm';
  const xd = floatData(op, x);
  numberOption(op, 'eps', eps, 1e-5, Number.MIN_VALUE, Number.MAX_VALUE);
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
    if (t.ndim !== k || !t.shape.every((s, i) => s === normalizedShape[i]))
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
