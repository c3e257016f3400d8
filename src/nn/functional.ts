/**
 * Stateless layer functions that need more than an elementwise kernel: dropout and scaled
 * dot-product attention (both draw from a random stream). (The rest of the functional API is
 * the ops in src/ops and the losses in losses.ts.)
 */
import { fusedAttention } from '../ops/attention.js';
import { dropoutMasked } from '../ops/dropout.js';
import { add, div, mul, sqrt, sub } from '../ops/elementwise.js';
import { reshape } from '../ops/layout.js';
import type { NormFold } from './module.js';
import { assertTensor, floatData } from '../ops/util.js';
import { pickGenerator, type RandomOptions } from '../tensor/random.js';
import { checkOptionKeys, optionKeys } from '../options.js';

/**
 * {@link dropout}'s options: a seed or generator for the mask, or a module's own mask stream.
 *
 * @example
 * ```ts
 * import { dropout, ones, type DropoutOptions } from 'axon-nn';
 * const options: DropoutOptions = { seed: 0 };
 * const y = dropout(ones([2, 4]), 0.5, true, options); // the same mask on every run
 * ```
 */
export interface DropoutOptions extends RandomOptions {
  /** A mask stream from dropoutState, advanced by each call (a Dropout module's own). */
  state?: Float64Array;
}
const DROPOUT_KEYS = optionKeys<DropoutOptions>({ seed: true, generator: true, state: true });
import { Tensor } from '../tensor/tensor.js';

/** A dropout random stream: [seedHigh, seedLow, counter], advanced by each native call. */
export function dropoutState(options?: RandomOptions): Float64Array {
  const g = pickGenerator(options);
  return new Float64Array([g.nextUint32(), g.nextUint32(), 0]);
}

/**
 * Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1-p), so
 * evaluation needs no rescaling; identity when not training. The mask comes from a native
 * counter-based generator whose seed is drawn from the JS generator (global, per-call seed, or
 * given), so it honours manualSeed and does not depend on the thread count. A Dropout module
 * passes its own `state`, so successive calls (and replays of a recorded step) differ.
 * Throws a RangeError for p outside [0, 1] (PyTorch's F.dropout).
 *
 * @example
 * ```ts
 * import { dropout, ones } from 'axon-nn';
 * const y = dropout(ones([2, 4]), 0.5, true, { seed: 0 }); // each element 0 or 2
 * const same = dropout(ones([2, 4]), 0.5, false); // not training: the input itself
 * ```
 */
export function dropout(x: Tensor, p = 0.5, training = true, options?: DropoutOptions): Tensor {
  checkOptionKeys('dropout', options, DROPOUT_KEYS);
  const xd = floatData('dropout', x);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout: p must be in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
  const state = options?.state ?? dropoutState(options);
  return dropoutMasked(x, xd, p, state);
}

/**
 * A layer's weight and bias with the evaluation-mode batch norm after it folded in:
 * scale = gamma / sqrt(var + eps), w' = w * scale (per output channel, the weight's axis 0),
 * b' = (b - mean) * scale + beta. Built from ops, so a recorded forward recomputes them on
 * every replay from the current parameters and running statistics.
 */
export function foldNorm(weight: Tensor, bias: Tensor | null, norm: NormFold): { weight: Tensor; bias: Tensor } {
  const scale = norm.weight
    ? div(norm.weight, sqrt(add(norm.runningVar, norm.eps)))
    : div(1, sqrt(add(norm.runningVar, norm.eps)));
  const perRow = [norm.features, ...weight.shape.slice(1).map(() => 1)];
  const w = mul(weight, reshape(scale, perRow));
  const centred = bias ? sub(bias, norm.runningMean) : mul(norm.runningMean, -1);
  const b = norm.bias ? add(mul(centred, scale), norm.bias) : mul(centred, scale);
  return { weight: w, bias: b };
}

/**
 * Whether folding pays for a layer with this output shape: the fold rewrites the weights on
 * every forward (a replay reads the current parameters), and saves the norm's and the
 * activation's passes over the output. So fold when the output is larger than the weights: a
 * batch of 64 through the Fashion CNN, not its batch-1 dense layer (401k weights for 128
 * outputs). Measured (Zen 4): with every layer folded, batch 1 went from 71 to 79 us and batch
 * 64 from 2436 to 1986 us.
 */
export function foldPays(outputShape: readonly number[], weight: Tensor): boolean {
  return outputShape.reduce((a, b) => a * b, 1) > weight.size;
}

/**
 * {@link scaledDotProductAttention}'s options (PyTorch 2's F.scaled_dot_product_attention:
 * attn_mask, dropout_p, is_causal, scale), plus the dropout stream's seed or state.
 *
 * @example
 * ```ts
 * import { type ScaledDotProductAttentionOptions } from 'axon-nn';
 * const options: ScaledDotProductAttentionOptions = { causal: true, dropout: 0.1, seed: 0 };
 * ```
 */
export interface ScaledDotProductAttentionOptions extends RandomOptions {
  /**
   * Broadcastable to [...batch, lq, lk]. float32: added to the scaled scores (-Infinity hides a
   * key). int32: PyTorch's boolean mask, nonzero where the query may attend (0 hides the key).
   */
  mask?: Tensor | null;
  /** Hide key j from query i when j > i (top-left aligned). Default false. */
  causal?: boolean;
  /** Probability of dropping an attention weight, in [0, 1). Default 0. */
  dropout?: number;
  /** Multiplies q k^T; default 1 / sqrt(q's last axis). */
  scale?: number;
  /** A stream from dropoutState, advanced by each call with dropout (a module's own). */
  state?: Float64Array;
}
const SDPA_KEYS = optionKeys<ScaledDotProductAttentionOptions>({
  mask: true,
  causal: true,
  dropout: true,
  scale: true,
  state: true,
  seed: true,
  generator: true,
});

/**
 * An int32 mask as an additive float one: -Infinity where `hidden(value)`, 0 elsewhere. Masks
 * of PyTorch's bool dtype arrive here as int32 (axon-nn's tensors have no bool dtype).
 */
export function additiveMask(op: string, mask: unknown, hiddenWhen: 'zero' | 'nonzero', name = 'mask'): Tensor {
  assertTensor(op, mask, name);
  if (mask.dtype === 'float32') return mask;
  const m = mask.data as Int32Array;
  const out = new Float32Array(m.length);
  for (let i = 0; i < m.length; i++) if ((m[i] !== 0) === (hiddenWhen === 'nonzero')) out[i] = -Infinity;
  return new Tensor(out, mask.shape);
}

/**
 * softmax(scale * q k^T + mask) v over q [..., lq, d], k [..., lk, d], v [..., lk, dv] (the
 * leading axes equal; a 4-D input is [batch, heads, length, features]), giving [..., lq, dv].
 * Runs the fused kernel: tiled with an online softmax, so memory stays O(length x features)
 * at any sequence length, forward and backward. A query that sees no key (its whole row
 * masked) gets zeros, not PyTorch's NaN. A float mask that requires grad is supported by the
 * composed (materialised) path, without dropout or causal.
 * @throws RangeError naming the shapes when q, k, v or the mask do not fit, or an option is out of range.
 *
 * @example
 * ```ts
 * import { randn, scaledDotProductAttention } from 'axon-nn';
 * const q = randn([2, 4, 10, 16]); // batch 2, 4 heads, 10 queries of 16 features
 * const k = randn([2, 4, 12, 16]);
 * const v = randn([2, 4, 12, 8]);
 * const y = scaledDotProductAttention(q, k, v); // [2, 4, 10, 8]
 * const causal = scaledDotProductAttention(q, q, q, { causal: true });
 * ```
 */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: ScaledDotProductAttentionOptions = {},
): Tensor {
  const op = 'scaledDotProductAttention';
  checkOptionKeys(op, options, SDPA_KEYS);
  floatData(op, q, 'query');
  const p = options.dropout ?? 0;
  if (typeof p !== 'number' || !(p >= 0 && p < 1)) throw new RangeError(`${op}: dropout must be in [0, 1), got ${p}`);
  const d = q.shape[q.ndim - 1] ?? 0;
  const scale = options.scale ?? 1 / Math.sqrt(Math.max(d, 1));
  if (typeof scale !== 'number' || !Number.isFinite(scale))
    throw new RangeError(`${op}: scale must be a finite number, got ${scale}`);
  const causal = options.causal ?? false;
  if (typeof causal !== 'boolean') throw new TypeError(`${op}: causal must be a boolean, got ${typeof causal}`);
  const mask = options.mask ? additiveMask(op, options.mask, 'zero') : null;
  const state = p > 0 ? (options.state ?? dropoutState(options)) : new Float64Array(3);
  return fusedAttention(op, q, k, v, { scale, causal, mask, dropout: p, state });
}
