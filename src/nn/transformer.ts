/**
 * Attention and transformer layers with PyTorch's names, shapes and semantics, so a state dict
 * saved from torch.nn.MultiheadAttention / TransformerEncoderLayer / TransformerDecoderLayer /
 * TransformerEncoder / TransformerDecoder loads unchanged (`in_proj_weight`,
 * `out_proj.weight`, `self_attn.*`, `linear1.*`, `norm1.*`, `layers.0.*`, ...). Sequences are
 * [length, batch, features] unless `batchFirst` (PyTorch's default), or [length, features]
 * unbatched. Attention runs on the fused kernel (scaledDotProductAttention): no
 * length x length buffer unless attention weights are asked for.
 *
 * Masks follow PyTorch's layers: a float mask is added to the scores; an int32 mask (PyTorch's
 * bool) hides where it is nonzero (`attnMask`, `keyPaddingMask`). Note that the functional
 * scaledDotProductAttention takes PyTorch 2's opposite convention (nonzero = may attend), as
 * PyTorch does.
 */
import { softmax } from '../ops/activation.js';
import { fusedAttention } from '../ops/attention.js';
import { add, mul } from '../ops/elementwise.js';
import { matmul, linear } from '../ops/linalg.js';
import { layerNorm } from '../ops/norm.js';
import { permute, reshape, row, sliceRows, transpose } from '../ops/layout.js';
import { mean } from '../ops/reduce.js';
import { RANDOM_OPTION_KEYS, type RandomOptions, seededOnce } from '../tensor/random.js';
import { shapeToString } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkOptionKeys, optionKeys } from '../options.js';
import { additiveMask, dropout, dropoutState } from './functional.js';
import { glorotUniform, normal } from './init.js';
import { LayerNorm } from './conv-layers.js';
import { Linear } from './layers.js';
import { Module, Parameter } from './module.js';
import { reserveValues } from './budget.js';

// ---- options ---------------------------------------------------------------------------------

/**
 * {@link MultiheadAttention}'s options (PyTorch's keyword arguments; add_bias_kv and
 * add_zero_attn are not supported).
 *
 * @example
 * ```ts
 * import { MultiheadAttention, type MultiheadAttentionOptions } from 'axon-nn';
 * const options: MultiheadAttentionOptions = { batchFirst: true, dropout: 0.1, init: { seed: 0 } };
 * const mha = new MultiheadAttention(64, 8, options);
 * ```
 */
export interface MultiheadAttentionOptions {
  /** Dropout on the attention weights in training (default 0). */
  dropout?: number;
  /** Biases on the input and output projections (default true). */
  bias?: boolean;
  /** Features of the keys (default embedDim); with vdim != embedDim the projections are separate. */
  kdim?: number;
  /** Features of the values (default embedDim). */
  vdim?: number;
  /** Inputs and outputs are [batch, length, features] (default false: [length, batch, features]). */
  batchFirst?: boolean;
  /** Seed or generator for the initial weights and the dropout stream. */
  init?: RandomOptions;
}
const MHA_KEYS = optionKeys<MultiheadAttentionOptions>({
  dropout: true,
  bias: true,
  kdim: true,
  vdim: true,
  batchFirst: true,
  init: true,
});

/**
 * The masks and switches of {@link MultiheadAttention.attend} (PyTorch's forward arguments).
 *
 * @example
 * ```ts
 * import { MultiheadAttention, randn, tensor, type AttendOptions } from 'axon-nn';
 * const mha = new MultiheadAttention(8, 2, { batchFirst: true });
 * const x = randn([2, 3, 8]);
 * const options: AttendOptions = { keyPaddingMask: tensor([[0, 0, 1], [0, 0, 0]], { dtype: 'int32' }) };
 * const { output } = mha.attend(x, x, x, options); // batch row 0 ignores its third key
 * ```
 */
export interface AttendOptions {
  /** `[batch, lk]` (or `[lk]` unbatched): int32 nonzero = ignore that key; float added to the scores. */
  keyPaddingMask?: Tensor | null;
  /** `[lq, lk]` or `[batch*heads, lq, lk]`: int32 nonzero = hidden; float added to the scores. */
  attnMask?: Tensor | null;
  /** Hide key j from query i when j > i (PyTorch's is_causal, here without needing attnMask). */
  isCausal?: boolean;
  /** Also return the attention weights (computed by the materialised path). Default false. */
  needWeights?: boolean;
  /** With needWeights, average the weights over heads (default true). */
  averageAttnWeights?: boolean;
}
const ATTEND_KEYS = optionKeys<AttendOptions>({
  keyPaddingMask: true,
  attnMask: true,
  isCausal: true,
  needWeights: true,
  averageAttnWeights: true,
});

/**
 * What {@link MultiheadAttention.attend} returns: the output, and the weights when asked for
 * ([batch, lq, lk] averaged over heads, or [batch, heads, lq, lk]).
 *
 * @example
 * ```ts
 * import { MultiheadAttention, randn, type AttendResult } from 'axon-nn';
 * const mha = new MultiheadAttention(8, 2);
 * const x = randn([5, 1, 8]); // [length, batch, features]
 * const r: AttendResult = mha.attend(x, x, x, { needWeights: true });
 * console.log(r.weights?.shape); // [1, 5, 5]
 * ```
 */
export interface AttendResult {
  /** Shaped as the query, with embedDim features. */
  output: Tensor;
  /** The attention weights, or null without needWeights. */
  weights: Tensor | null;
}

function positiveInt(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
    throw new RangeError(`${op}: ${name} must be a positive integer, got ${String(v)}`);
  return v;
}
function probability(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0 && v < 1))
    throw new RangeError(`${op}: ${name} must be in [0, 1), got ${String(v)}`);
  return v;
}
function boolOption(op: string, name: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new TypeError(`${op}: ${name} must be a boolean, got ${typeof v}`);
  return v;
}

// ---- MultiheadAttention ------------------------------------------------------------------

/**
 * Multi-head attention (torch.nn.MultiheadAttention): project query, key and value, attend per
 * head, project back. Parameters as PyTorch's: `in_proj_weight` [3E, E] and `in_proj_bias`
 * when key and value have embedDim features, else `q_proj_weight`, `k_proj_weight`,
 * `v_proj_weight` (and `in_proj_bias`); `out_proj` a Linear(E, E). `forward(q, k?, v?)`
 * returns the output; {@link MultiheadAttention.attend} also takes masks and returns weights.
 * @throws RangeError when embedDim is not a multiple of numHeads, or for a bad option.
 *
 * @example
 * ```ts
 * import { MultiheadAttention, randn } from 'axon-nn';
 * const mha = new MultiheadAttention(32, 4, { batchFirst: true });
 * const x = randn([2, 10, 32]);
 * const y = mha.forward(x); // self-attention, [2, 10, 32]
 * const memory = randn([2, 7, 32]);
 * const z = mha.forward(x, memory, memory); // cross-attention, [2, 10, 32]
 * ```
 */
export class MultiheadAttention extends Module {
  /** Features of the query and the output (E). */
  readonly embedDim: number;
  /** Number of heads; each attends over embedDim / numHeads features. */
  readonly numHeads: number;
  /** embedDim / numHeads. */
  readonly headDim: number;
  /** Features of the keys. */
  readonly kdim: number;
  /** Features of the values. */
  readonly vdim: number;
  /** Dropout probability on the attention weights in training. */
  readonly dropoutP: number;
  /** Inputs and outputs are [batch, length, features] rather than [length, batch, features]. */
  readonly batchFirst: boolean;
  /** [3E, E] when key and value have embedDim features, else null. */
  in_proj_weight: Parameter | null;
  /** [E, E], [E, kdim], [E, vdim] with kdim or vdim != embedDim, else null. */
  q_proj_weight: Parameter | null;
  /** [E, kdim] with separate projections, else null. */
  k_proj_weight: Parameter | null;
  /** [E, vdim] with separate projections, else null. */
  v_proj_weight: Parameter | null;
  /** [3E] or null without bias. */
  in_proj_bias: Parameter | null;
  /** The output projection, Linear(E, E). */
  out_proj: Linear;
  /** The dropout stream of the attention weights. */
  readonly rngState: Float64Array;

  constructor(embedDim: number, numHeads: number, options: MultiheadAttentionOptions = {}) {
    super();
    const op = 'MultiheadAttention';
    checkOptionKeys(op, options, MHA_KEYS);
    if (options.init !== undefined) checkOptionKeys(`${op}: init`, options.init, RANDOM_OPTION_KEYS);
    this.embedDim = positiveInt(op, 'embedDim', embedDim);
    this.numHeads = positiveInt(op, 'numHeads', numHeads);
    if (embedDim % numHeads !== 0)
      throw new RangeError(`${op}: embedDim ${embedDim} must be divisible by numHeads ${numHeads}`);
    this.headDim = embedDim / numHeads;
    this.kdim = options.kdim === undefined ? embedDim : positiveInt(op, 'kdim', options.kdim);
    this.vdim = options.vdim === undefined ? embedDim : positiveInt(op, 'vdim', options.vdim);
    this.dropoutP = probability(op, 'dropout', options.dropout ?? 0);
    this.batchFirst = boolOption(op, 'batchFirst', options.batchFirst, false);
    const bias = boolOption(op, 'bias', options.bias, true);
    const random = seededOnce(options.init);
    const e = embedDim;
    const xavier = glorotUniform();
    if (this.kdim === e && this.vdim === e) {
      this.in_proj_weight = new Parameter(xavier.create([3 * e, e], random));
      this.q_proj_weight = this.k_proj_weight = this.v_proj_weight = null;
    } else {
      this.in_proj_weight = null;
      this.q_proj_weight = new Parameter(xavier.create([e, e], random));
      this.k_proj_weight = new Parameter(xavier.create([e, this.kdim], random));
      this.v_proj_weight = new Parameter(xavier.create([e, this.vdim], random));
    }
    // The weights are budgeted by their initialiser; the zero bias is allocated here.
    reserveValues(op, bias ? 3 * e : 0);
    this.in_proj_bias = bias ? new Parameter(new Tensor(new Float32Array(3 * e), [3 * e])) : null;
    this.out_proj = new Linear(e, e, { bias, init: random });
    if (this.out_proj.bias) (this.out_proj.bias.data as Float32Array).fill(0);
    this.rngState = dropoutState(random);
  }

  /** Attention of query over key (default query) and value (default key): the output only. */
  forward(query: Tensor, key?: Tensor, value?: Tensor): Tensor {
    return this.attend(query, key ?? query, value ?? key ?? query).output;
  }

  /** PyTorch's forward: masks, causal, and the attention weights when asked for. */
  attend(query: Tensor, key: Tensor, value: Tensor, options: AttendOptions = {}): AttendResult {
    const op = 'MultiheadAttention';
    checkOptionKeys(`${op}.attend`, options, ATTEND_KEYS);
    for (const [t, n] of [
      [query, 'query'],
      [key, 'key'],
      [value, 'value'],
    ] as const)
      if (!(t instanceof Tensor)) throw new TypeError(`${op}: ${n} must be a Tensor`);
    const batched = query.ndim === 3;
    if (!batched && query.ndim !== 2)
      throw new RangeError(
        `${op}: query must be [length, batch, features], [batch, length, features] or [length, features], got ${shapeToString(query.shape)}`,
      );
    if (key.ndim !== query.ndim || value.ndim !== query.ndim)
      throw new RangeError(
        `${op}: query ${shapeToString(query.shape)}, key ${shapeToString(key.shape)} and value ${shapeToString(value.shape)} need the same rank`,
      );
    const E = this.embedDim;
    const H = this.numHeads;
    const Dh = this.headDim;
    const feat = (t: Tensor): number => t.shape[t.ndim - 1];
    if (feat(query) !== E || feat(key) !== this.kdim || feat(value) !== this.vdim)
      throw new RangeError(
        `${op}(${E}, ${H}): query, key, value must end in ${E}, ${this.kdim}, ${this.vdim} features; got ${shapeToString(query.shape)}, ${shapeToString(key.shape)}, ${shapeToString(value.shape)}`,
      );
    // Everything below is batch-first: [N, L, E]. Unbatched inputs gain a batch of 1.
    const bf = (t: Tensor): Tensor =>
      !batched ? reshape(t, [1, ...t.shape]) : this.batchFirst ? t : transpose(t, 0, 1);
    const q3 = bf(query);
    const k3 = bf(key);
    const v3 = bf(value);
    const N = q3.shape[0];
    const Lq = q3.shape[1];
    const Lk = k3.shape[1];
    if (k3.shape[0] !== N || v3.shape[0] !== N || v3.shape[1] !== Lk)
      throw new RangeError(
        `${op}: key ${shapeToString(key.shape)} and value ${shapeToString(value.shape)} must match the query's batch ${N} and each other's length`,
      );
    const isCausal = boolOption(op, 'isCausal', options.isCausal, false);
    const mask = this.combinedMask(options, batched, N, Lq, Lk);
    const p = this.training ? this.dropoutP : 0;

    const bq = this.in_proj_bias ? sliceRows(this.in_proj_bias, 0, E) : null;
    const bk = this.in_proj_bias ? sliceRows(this.in_proj_bias, E, 2 * E) : null;
    const bv = this.in_proj_bias ? sliceRows(this.in_proj_bias, 2 * E) : null;
    let q: Tensor;
    let k: Tensor;
    let v: Tensor;
    const heads = (t: Tensor, L: number): Tensor => permute(reshape(t, [N, L, H, Dh]), [0, 2, 1, 3]);
    if (this.in_proj_weight && query === key && key === value) {
      // Self-attention: one GEMM for the three projections, one permute into [3, N, H, L, Dh].
      const qkv = linear(q3, this.in_proj_weight, this.in_proj_bias);
      const split = permute(reshape(qkv, [N, Lq, 3, H, Dh]), [2, 0, 3, 1, 4]);
      q = row(split, 0);
      k = row(split, 1);
      v = row(split, 2);
    } else {
      const w = this.in_proj_weight;
      const wq = w ? sliceRows(w, 0, E) : (this.q_proj_weight as Parameter);
      const wk = w ? sliceRows(w, E, 2 * E) : (this.k_proj_weight as Parameter);
      const wv = w ? sliceRows(w, 2 * E) : (this.v_proj_weight as Parameter);
      q = heads(linear(q3, wq, bq), Lq);
      k = heads(linear(k3, wk, bk), Lk);
      v = heads(linear(v3, wv, bv), Lk);
    }
    const scale = 1 / Math.sqrt(Dh);
    let o: Tensor;
    let weights: Tensor | null = null;
    if (options.needWeights) {
      // Materialised: the weights are the product asked for. As PyTorch, after dropout.
      let scores = mul(matmul(q, transpose(k, -2, -1)), scale);
      if (mask) scores = add(scores, mask);
      if (isCausal) scores = add(scores, causalMask(Lq, Lk));
      let wts = softmax(scores, -1);
      if (p > 0) wts = dropout(wts, p, true, { state: this.rngState });
      o = matmul(wts, v);
      const averaged = boolOption(op, 'averageAttnWeights', options.averageAttnWeights, true);
      weights = averaged ? mean(wts, 1) : wts;
      if (!batched) weights = row(weights, 0);
    } else {
      o = fusedAttention(op, q, k, v, { scale, causal: isCausal, mask, dropout: p, state: this.rngState });
    }
    // [N, H, Lq, Dh] -> [N, Lq, E] (-> [Lq, N, E]) -> out_proj.
    const merged = reshape(permute(o, [0, 2, 1, 3]), [N, Lq, E]);
    const out = this.out_proj.forward(merged);
    const output = !batched ? reshape(out, [Lq, E]) : this.batchFirst ? out : transpose(out, 0, 1);
    return { output, weights };
  }

  /** attnMask and keyPaddingMask as one additive mask broadcastable to [N, H, Lq, Lk], or null. */
  private combinedMask(options: AttendOptions, batched: boolean, N: number, Lq: number, Lk: number): Tensor | null {
    const op = 'MultiheadAttention';
    const H = this.numHeads;
    let mask: Tensor | null = null;
    if (options.attnMask) {
      const m = additiveMask(op, options.attnMask, 'nonzero', 'attnMask');
      if (m.ndim === 2 && m.shape[0] === Lq && m.shape[1] === Lk) mask = m;
      else if (m.ndim === 3 && m.shape[0] === N * H && m.shape[1] === Lq && m.shape[2] === Lk)
        mask = reshape(m, [N, H, Lq, Lk]);
      else
        throw new RangeError(
          `${op}: attnMask must be [${Lq}, ${Lk}] or [${N * H}, ${Lq}, ${Lk}] (batch*heads, lq, lk), got ${shapeToString(m.shape)}`,
        );
    }
    if (options.keyPaddingMask) {
      const m = additiveMask(op, options.keyPaddingMask, 'nonzero', 'keyPaddingMask');
      const want = batched ? [N, Lk] : [Lk];
      if (m.ndim !== want.length || m.shape.some((d, i) => d !== want[i]))
        throw new RangeError(
          `${op}: keyPaddingMask must be ${shapeToString(want)} (batch, lk), got ${shapeToString(m.shape)}`,
        );
      const kpm = reshape(m, [N, 1, 1, Lk]);
      mask = mask ? add(mask, kpm) : kpm;
    }
    return mask;
  }

  override getConfig(): Record<string, unknown> {
    return {
      embedDim: this.embedDim,
      numHeads: this.numHeads,
      dropout: this.dropoutP,
      bias: this.in_proj_bias !== null,
      kdim: this.kdim,
      vdim: this.vdim,
      batchFirst: this.batchFirst,
    };
  }
  override extraRepr(): string {
    return `embedDim=${this.embedDim}, numHeads=${this.numHeads}, batchFirst=${this.batchFirst}`;
  }
}

/** An additive [lq, lk] mask hiding key j from query i when j > i. */
function causalMask(lq: number, lk: number): Tensor {
  const m = new Float32Array(lq * lk);
  for (let i = 0; i < lq; i++) for (let j = i + 1; j < lk; j++) m[i * lk + j] = -Infinity;
  return new Tensor(m, [lq, lk]);
}

// ---- encoder and decoder layers ---------------------------------------------------------------

/**
 * The options of {@link TransformerEncoderLayer} and {@link TransformerDecoderLayer} (PyTorch's
 * keyword arguments).
 *
 * @example
 * ```ts
 * import { TransformerEncoderLayer, type TransformerLayerOptions } from 'axon-nn';
 * const options: TransformerLayerOptions = { dimFeedforward: 256, activation: 'gelu', batchFirst: true, normFirst: true };
 * const layer = new TransformerEncoderLayer(64, 4, options);
 * ```
 */
export interface TransformerLayerOptions {
  /** Hidden size of the feed-forward block (default 2048). */
  dimFeedforward?: number;
  /** Dropout after attention, in the feed-forward block and on the attention weights (default 0.1). */
  dropout?: number;
  /** The feed-forward activation (default 'relu'). */
  activation?: 'relu' | 'gelu';
  /** LayerNorm's eps (default 1e-5). */
  layerNormEps?: number;
  /** [batch, length, features] (default false: [length, batch, features]). */
  batchFirst?: boolean;
  /** Normalise before each block (pre-norm) instead of after (default false). */
  normFirst?: boolean;
  /** Biases in the linear layers and the norms (default true). */
  bias?: boolean;
  /** Seed or generator for the initial weights and the dropout streams. */
  init?: RandomOptions;
}
const LAYER_KEYS = optionKeys<TransformerLayerOptions>({
  dimFeedforward: true,
  dropout: true,
  activation: true,
  layerNormEps: true,
  batchFirst: true,
  normFirst: true,
  bias: true,
  init: true,
});

/**
 * {@link TransformerLayerOptions} with every default filled in: what a layer's `settings` and
 * `getConfig()` hold.
 *
 * @example
 * ```ts
 * import { TransformerEncoderLayer, type TransformerLayerSettings } from 'axon-nn';
 * const s: Readonly<TransformerLayerSettings> = new TransformerEncoderLayer(32, 4).settings;
 * console.log(s.dimFeedforward); // 2048
 * ```
 */
export interface TransformerLayerSettings {
  /** Hidden size of the feed-forward block. */
  dimFeedforward: number;
  /** Dropout probability of every dropout site. */
  dropout: number;
  /** The feed-forward activation. */
  activation: 'relu' | 'gelu';
  /** LayerNorm's eps. */
  layerNormEps: number;
  /** [batch, length, features] layout. */
  batchFirst: boolean;
  /** Pre-norm. */
  normFirst: boolean;
  /** Biases in the linear layers and norms. */
  bias: boolean;
}
function layerSettings(
  op: string,
  dModel: number,
  nhead: number,
  o: TransformerLayerOptions,
): TransformerLayerSettings {
  checkOptionKeys(op, o, LAYER_KEYS);
  positiveInt(op, 'dModel', dModel);
  positiveInt(op, 'nhead', nhead);
  const activation = o.activation ?? 'relu';
  if (activation !== 'relu' && activation !== 'gelu')
    throw new RangeError(`${op}: activation must be 'relu' or 'gelu', got ${String(activation)}`);
  const eps = o.layerNormEps ?? 1e-5;
  if (typeof eps !== 'number' || !(eps > 0 && eps < Infinity))
    throw new RangeError(`${op}: layerNormEps must be > 0 and finite, got ${String(eps)}`);
  return {
    dimFeedforward: positiveInt(op, 'dimFeedforward', o.dimFeedforward ?? 2048),
    dropout: probability(op, 'dropout', o.dropout ?? 0.1),
    activation,
    layerNormEps: eps,
    batchFirst: boolOption(op, 'batchFirst', o.batchFirst, false),
    normFirst: boolOption(op, 'normFirst', o.normFirst, false),
    bias: boolOption(op, 'bias', o.bias, true),
  };
}

/** A dropout module-less stream: the layers keep one per dropout site, as PyTorch's modules. */
class DropoutSite {
  readonly state: Float64Array;
  constructor(
    readonly p: number,
    random: RandomOptions | undefined,
  ) {
    this.state = dropoutState(random);
  }
  apply(x: Tensor, training: boolean): Tensor {
    return dropout(x, this.p, training, { state: this.state });
  }
}

/**
 * The feed-forward block both layers share: linear2(dropout(act(linear1(x)))), the activation
 * fused into linear1's GEMM.
 */
function feedForward(
  x: Tensor,
  l1: Linear,
  l2: Linear,
  act: 'relu' | 'gelu',
  drop: DropoutSite,
  training: boolean,
): Tensor {
  const h = linear(x, l1.weight, l1.bias, act);
  return l2.forward(drop.apply(h, training));
}

function norm(x: Tensor, n: LayerNorm): Tensor {
  return layerNorm(x, n.normalizedShape, n.weight, n.bias, n.options.eps ?? 1e-5);
}

/**
 * The options of {@link TransformerEncoderLayer.call} (PyTorch's src_mask,
 * src_key_padding_mask, is_causal).
 *
 * @example
 * ```ts
 * import { TransformerEncoderLayer, randn, type EncoderCallOptions } from 'axon-nn';
 * const layer = new TransformerEncoderLayer(16, 2, { batchFirst: true, dimFeedforward: 32 });
 * const options: EncoderCallOptions = { isCausal: true };
 * const y = layer.call(randn([2, 5, 16]), options); // [2, 5, 16]
 * ```
 */
export interface EncoderCallOptions {
  /** `[L, L]` or `[batch*heads, L, L]`: int32 nonzero = hidden, float added. */
  mask?: Tensor | null;
  /** `[batch, L]`: int32 nonzero = padding (ignored as a key). */
  srcKeyPaddingMask?: Tensor | null;
  /** Each position attends only to itself and earlier ones. */
  isCausal?: boolean;
}
const ENCODER_CALL_KEYS = optionKeys<EncoderCallOptions>({ mask: true, srcKeyPaddingMask: true, isCausal: true });

/**
 * One transformer encoder layer (torch.nn.TransformerEncoderLayer): self-attention and a
 * feed-forward block, each with dropout, a residual and LayerNorm, after (default) or before
 * (`normFirst`) each block. Submodules `self_attn`, `linear1`, `linear2`, `norm1`, `norm2` as
 * PyTorch's.
 *
 * @example
 * ```ts
 * import { TransformerEncoderLayer, randn } from 'axon-nn';
 * const layer = new TransformerEncoderLayer(64, 4, { dimFeedforward: 128, batchFirst: true });
 * const y = layer.forward(randn([8, 20, 64])); // [8, 20, 64]
 * ```
 */
export class TransformerEncoderLayer extends Module {
  /** Features of each position. */
  readonly dModel: number;
  /** Attention heads. */
  readonly nhead: number;
  /** The options, defaults filled in. */
  readonly settings: Readonly<TransformerLayerSettings>;
  /** Self-attention. */
  self_attn: MultiheadAttention;
  /** Feed-forward, dModel to dimFeedforward (the activation fused in). */
  linear1: Linear;
  /** Feed-forward, dimFeedforward to dModel. */
  linear2: Linear;
  /** Around the attention block. */
  norm1: LayerNorm;
  /** Around the feed-forward block. */
  norm2: LayerNorm;
  private readonly dropSites: DropoutSite[];

  constructor(dModel: number, nhead: number, options: TransformerLayerOptions = {}) {
    super();
    const s = layerSettings('TransformerEncoderLayer', dModel, nhead, options);
    this.dModel = dModel;
    this.nhead = nhead;
    this.settings = s;
    const random = seededOnce(options.init);
    this.self_attn = new MultiheadAttention(dModel, nhead, {
      dropout: s.dropout,
      bias: s.bias,
      batchFirst: true,
      init: random,
    });
    this.linear1 = new Linear(dModel, s.dimFeedforward, { bias: s.bias, init: random });
    this.linear2 = new Linear(s.dimFeedforward, dModel, { bias: s.bias, init: random });
    this.norm1 = new LayerNorm(dModel, { eps: s.layerNormEps, elementwiseAffine: true });
    this.norm2 = new LayerNorm(dModel, { eps: s.layerNormEps, elementwiseAffine: true });
    if (!s.bias) this.norm1.bias = this.norm2.bias = null;
    this.dropSites = [0, 1, 2].map(() => new DropoutSite(s.dropout, random));
  }

  /** The layer over src ([L, N, E], or [N, L, E] with batchFirst, or [L, E]). */
  forward(src: Tensor): Tensor {
    return this.call(src);
  }

  /** forward with PyTorch's masks. */
  call(src: Tensor, options: EncoderCallOptions = {}): Tensor {
    checkOptionKeys('TransformerEncoderLayer.call', options, ENCODER_CALL_KEYS);
    const s = this.settings;
    // The attention runs batch-first; a sequence-first input is transposed once here.
    const x0 = s.batchFirst || src.ndim !== 3 ? src : transpose(src, 0, 1);
    const attend = (x: Tensor): Tensor =>
      this.self_attn.attend(x, x, x, {
        attnMask: options.mask ?? null,
        keyPaddingMask: options.srcKeyPaddingMask ?? null,
        isCausal: options.isCausal ?? false,
      }).output;
    const [drop1, drop2, dropFf] = this.dropSites;
    const t = this.training;
    let x = x0;
    if (s.normFirst) {
      x = add(x, drop1.apply(attend(norm(x, this.norm1)), t));
      x = add(x, drop2.apply(feedForward(norm(x, this.norm2), this.linear1, this.linear2, s.activation, dropFf, t), t));
    } else {
      x = norm(add(x, drop1.apply(attend(x), t)), this.norm1);
      x = norm(add(x, drop2.apply(feedForward(x, this.linear1, this.linear2, s.activation, dropFf, t), t)), this.norm2);
    }
    return s.batchFirst || src.ndim !== 3 ? x : transpose(x, 0, 1);
  }

  override getConfig(): Record<string, unknown> {
    return { dModel: this.dModel, nhead: this.nhead, ...this.settings };
  }
  override extraRepr(): string {
    return `dModel=${this.dModel}, nhead=${this.nhead}, dimFeedforward=${this.settings.dimFeedforward}, activation=${this.settings.activation}, normFirst=${this.settings.normFirst}`;
  }
}

/**
 * The options of {@link TransformerDecoderLayer.call} (PyTorch's tgt_mask, memory_mask,
 * tgt_key_padding_mask, memory_key_padding_mask, tgt_is_causal, memory_is_causal).
 *
 * @example
 * ```ts
 * import { type DecoderCallOptions } from 'axon-nn';
 * const options: DecoderCallOptions = { tgtIsCausal: true };
 * ```
 */
export interface DecoderCallOptions {
  /** The target self-attention's mask, `[T, T]` or `[batch*heads, T, T]` (int32 nonzero = hidden). */
  tgtMask?: Tensor | null;
  /** The cross-attention's mask, `[T, S]` or `[batch*heads, T, S]`. */
  memoryMask?: Tensor | null;
  /** `[batch, T]`: int32 nonzero = padding in the target. */
  tgtKeyPaddingMask?: Tensor | null;
  /** `[batch, S]`: int32 nonzero = padding in the memory. */
  memoryKeyPaddingMask?: Tensor | null;
  /** Target position t attends only to positions up to t. */
  tgtIsCausal?: boolean;
  /** The same over the memory (rarely wanted). */
  memoryIsCausal?: boolean;
}
const DECODER_CALL_KEYS = optionKeys<DecoderCallOptions>({
  tgtMask: true,
  memoryMask: true,
  tgtKeyPaddingMask: true,
  memoryKeyPaddingMask: true,
  tgtIsCausal: true,
  memoryIsCausal: true,
});

/**
 * One transformer decoder layer (torch.nn.TransformerDecoderLayer): self-attention over the
 * target, attention over the encoder's memory, and a feed-forward block, each with dropout,
 * residual and LayerNorm. Submodules `self_attn`, `multihead_attn`, `linear1`, `linear2`,
 * `norm1`..`norm3`. `forward(tgt, memory)`; masks through {@link TransformerDecoderLayer.call}.
 *
 * @example
 * ```ts
 * import { TransformerDecoderLayer, randn } from 'axon-nn';
 * const layer = new TransformerDecoderLayer(32, 4, { dimFeedforward: 64, batchFirst: true });
 * const y = layer.call(randn([2, 6, 32]), randn([2, 9, 32]), { tgtIsCausal: true }); // [2, 6, 32]
 * ```
 */
export class TransformerDecoderLayer extends Module {
  /** Features of each position. */
  readonly dModel: number;
  /** Attention heads. */
  readonly nhead: number;
  /** The options, defaults filled in. */
  readonly settings: Readonly<TransformerLayerSettings>;
  /** Self-attention over the target. */
  self_attn: MultiheadAttention;
  /** Attention from the target over the memory. */
  multihead_attn: MultiheadAttention;
  /** Feed-forward, dModel to dimFeedforward (the activation fused in). */
  linear1: Linear;
  /** Feed-forward, dimFeedforward to dModel. */
  linear2: Linear;
  /** Around the self-attention block. */
  norm1: LayerNorm;
  /** Around the cross-attention block. */
  norm2: LayerNorm;
  /** Around the feed-forward block. */
  norm3: LayerNorm;
  private readonly dropSites: DropoutSite[];

  constructor(dModel: number, nhead: number, options: TransformerLayerOptions = {}) {
    super();
    const s = layerSettings('TransformerDecoderLayer', dModel, nhead, options);
    this.dModel = dModel;
    this.nhead = nhead;
    this.settings = s;
    const random = seededOnce(options.init);
    const mha = (): MultiheadAttention =>
      new MultiheadAttention(dModel, nhead, { dropout: s.dropout, bias: s.bias, batchFirst: true, init: random });
    this.self_attn = mha();
    this.multihead_attn = mha();
    this.linear1 = new Linear(dModel, s.dimFeedforward, { bias: s.bias, init: random });
    this.linear2 = new Linear(s.dimFeedforward, dModel, { bias: s.bias, init: random });
    this.norm1 = new LayerNorm(dModel, { eps: s.layerNormEps });
    this.norm2 = new LayerNorm(dModel, { eps: s.layerNormEps });
    this.norm3 = new LayerNorm(dModel, { eps: s.layerNormEps });
    if (!s.bias) this.norm1.bias = this.norm2.bias = this.norm3.bias = null;
    this.dropSites = [0, 1, 2, 3].map(() => new DropoutSite(s.dropout, random));
  }

  /** The layer over tgt given the encoder's memory (same layout rules as the encoder layer). */
  forward(tgt: Tensor, memory?: Tensor): Tensor {
    if (!memory) throw new TypeError('TransformerDecoderLayer: forward(tgt, memory) needs the memory');
    return this.call(tgt, memory);
  }

  /** forward with PyTorch's masks. */
  call(tgt: Tensor, memory: Tensor, options: DecoderCallOptions = {}): Tensor {
    checkOptionKeys('TransformerDecoderLayer.call', options, DECODER_CALL_KEYS);
    const s = this.settings;
    const seqFirst = !s.batchFirst && tgt.ndim === 3;
    const x0 = seqFirst ? transpose(tgt, 0, 1) : tgt;
    const mem = seqFirst && memory.ndim === 3 ? transpose(memory, 0, 1) : memory;
    const selfAttend = (x: Tensor): Tensor =>
      this.self_attn.attend(x, x, x, {
        attnMask: options.tgtMask ?? null,
        keyPaddingMask: options.tgtKeyPaddingMask ?? null,
        isCausal: options.tgtIsCausal ?? false,
      }).output;
    const crossAttend = (x: Tensor): Tensor =>
      this.multihead_attn.attend(x, mem, mem, {
        attnMask: options.memoryMask ?? null,
        keyPaddingMask: options.memoryKeyPaddingMask ?? null,
        isCausal: options.memoryIsCausal ?? false,
      }).output;
    const [d1, d2, d3, dff] = this.dropSites;
    const t = this.training;
    let x = x0;
    if (s.normFirst) {
      x = add(x, d1.apply(selfAttend(norm(x, this.norm1)), t));
      x = add(x, d2.apply(crossAttend(norm(x, this.norm2)), t));
      x = add(x, d3.apply(feedForward(norm(x, this.norm3), this.linear1, this.linear2, s.activation, dff, t), t));
    } else {
      x = norm(add(x, d1.apply(selfAttend(x), t)), this.norm1);
      x = norm(add(x, d2.apply(crossAttend(x), t)), this.norm2);
      x = norm(add(x, d3.apply(feedForward(x, this.linear1, this.linear2, s.activation, dff, t), t)), this.norm3);
    }
    return seqFirst ? transpose(x, 0, 1) : x;
  }

  override getConfig(): Record<string, unknown> {
    return { dModel: this.dModel, nhead: this.nhead, ...this.settings };
  }
  override extraRepr(): string {
    return `dModel=${this.dModel}, nhead=${this.nhead}, dimFeedforward=${this.settings.dimFeedforward}, normFirst=${this.settings.normFirst}`;
  }
}

// ---- stacks -------------------------------------------------------------------------------

/**
 * The options of {@link TransformerEncoder} and {@link TransformerDecoder}: a final LayerNorm.
 *
 * @example
 * ```ts
 * import { LayerNorm, TransformerEncoder, TransformerEncoderLayer } from 'axon-nn';
 * const layer = new TransformerEncoderLayer(32, 4, { normFirst: true });
 * const encoder = new TransformerEncoder(layer, 2, { norm: new LayerNorm(32) });
 * ```
 */
export interface TransformerStackOptions {
  /** Applied after the last layer (PyTorch's `norm`), or null. */
  norm?: LayerNorm | null;
}
const STACK_KEYS = optionKeys<TransformerStackOptions>({ norm: true });

/** numLayers copies of `layer` (PyTorch deep-copies it: every copy starts with its weights). */
function clones<T extends TransformerEncoderLayer | TransformerDecoderLayer>(
  op: string,
  layer: T,
  numLayers: number,
  make: () => T,
): T[] {
  positiveInt(op, 'numLayers', numLayers);
  const state = layer.stateDict();
  const out: T[] = [layer];
  for (let i = 1; i < numLayers; i++) {
    const copy = make();
    copy.loadStateDict(state);
    if (!layer.training) copy.eval();
    out.push(copy);
  }
  return out;
}

/**
 * A stack of encoder layers (torch.nn.TransformerEncoder): `layers.0` .. `layers.{n-1}`, copies
 * of `encoderLayer` (the first is the layer itself), and an optional final `norm`.
 *
 * @example
 * ```ts
 * import { TransformerEncoder, TransformerEncoderLayer, randn } from 'axon-nn';
 * const encoder = new TransformerEncoder(new TransformerEncoderLayer(32, 4, { batchFirst: true, dimFeedforward: 64 }), 3);
 * const y = encoder.call(randn([2, 10, 32]), { isCausal: true }); // [2, 10, 32]
 * ```
 */
export class TransformerEncoder extends Module {
  /** The layers, applied in order. */
  layers: TransformerEncoderLayer[];
  /** Applied after the last layer, or null. */
  norm: LayerNorm | null;
  /** How many layers. */
  readonly numLayers: number;
  constructor(encoderLayer: TransformerEncoderLayer, numLayers: number, options: TransformerStackOptions = {}) {
    super();
    checkOptionKeys('TransformerEncoder', options, STACK_KEYS);
    if (!(encoderLayer instanceof TransformerEncoderLayer))
      throw new TypeError('TransformerEncoder: encoderLayer must be a TransformerEncoderLayer');
    const cfg = encoderLayer.settings;
    this.layers = clones(
      'TransformerEncoder',
      encoderLayer,
      numLayers,
      () => new TransformerEncoderLayer(encoderLayer.dModel, encoderLayer.nhead, { ...cfg }),
    );
    this.numLayers = numLayers;
    this.norm = options.norm ?? null;
    if (this.norm !== null && !(this.norm instanceof LayerNorm))
      throw new TypeError('TransformerEncoder: norm must be a LayerNorm or null');
  }
  /** The stack over src. */
  forward(src: Tensor): Tensor {
    return this.call(src);
  }
  /** forward with the masks every layer receives. */
  call(src: Tensor, options: EncoderCallOptions = {}): Tensor {
    let x = src;
    for (const l of this.layers) x = l.call(x, options);
    return this.norm ? this.norm.forward(x) : x;
  }
  override getConfig(): Record<string, unknown> {
    const first = this.layers[0];
    return {
      layer: first.getConfig(),
      numLayers: this.numLayers,
      norm: this.norm ? this.norm.getConfig() : null,
    };
  }
}

/**
 * A stack of decoder layers (torch.nn.TransformerDecoder): `layers.0` .. `layers.{n-1}` and an
 * optional final `norm`; every layer attends to the same memory.
 *
 * @example
 * ```ts
 * import { TransformerDecoder, TransformerDecoderLayer, randn } from 'axon-nn';
 * const decoder = new TransformerDecoder(new TransformerDecoderLayer(16, 2, { batchFirst: true, dimFeedforward: 32 }), 2);
 * const y = decoder.call(randn([1, 4, 16]), randn([1, 7, 16]), { tgtIsCausal: true }); // [1, 4, 16]
 * ```
 */
export class TransformerDecoder extends Module {
  /** The layers, applied in order. */
  layers: TransformerDecoderLayer[];
  /** Applied after the last layer, or null. */
  norm: LayerNorm | null;
  /** How many layers. */
  readonly numLayers: number;
  constructor(decoderLayer: TransformerDecoderLayer, numLayers: number, options: TransformerStackOptions = {}) {
    super();
    checkOptionKeys('TransformerDecoder', options, STACK_KEYS);
    if (!(decoderLayer instanceof TransformerDecoderLayer))
      throw new TypeError('TransformerDecoder: decoderLayer must be a TransformerDecoderLayer');
    const cfg = decoderLayer.settings;
    this.layers = clones(
      'TransformerDecoder',
      decoderLayer,
      numLayers,
      () => new TransformerDecoderLayer(decoderLayer.dModel, decoderLayer.nhead, { ...cfg }),
    );
    this.numLayers = numLayers;
    this.norm = options.norm ?? null;
    if (this.norm !== null && !(this.norm instanceof LayerNorm))
      throw new TypeError('TransformerDecoder: norm must be a LayerNorm or null');
  }
  /** The stack over tgt given memory. */
  forward(tgt: Tensor, memory?: Tensor): Tensor {
    if (!memory) throw new TypeError('TransformerDecoder: forward(tgt, memory) needs the memory');
    return this.call(tgt, memory);
  }
  /** forward with the masks every layer receives. */
  call(tgt: Tensor, memory: Tensor, options: DecoderCallOptions = {}): Tensor {
    let x = tgt;
    for (const l of this.layers) x = l.call(x, memory, options);
    return this.norm ? this.norm.forward(x) : x;
  }
  override getConfig(): Record<string, unknown> {
    return {
      layer: this.layers[0].getConfig(),
      numLayers: this.numLayers,
      norm: this.norm ? this.norm.getConfig() : null,
    };
  }
}

// ---- positional information ---------------------------------------------------------------

function addPositions(op: string, x: Tensor, table: Tensor, batchFirst: boolean): Tensor {
  const maxLength = table.shape[0];
  const dim = table.shape[1];
  const seqAxis = x.ndim === 3 ? (batchFirst ? 1 : 0) : 0;
  if ((x.ndim !== 2 && x.ndim !== 3) || x.shape[x.ndim - 1] !== dim)
    throw new RangeError(
      `${op}: input must be [batch, length, ${dim}], [length, batch, ${dim}] or [length, ${dim}], got ${shapeToString(x.shape)}`,
    );
  const L = x.shape[seqAxis];
  if (L > maxLength) throw new RangeError(`${op}: sequence length ${L} exceeds maxLength ${maxLength}`);
  const pos = sliceRows(table, 0, L); // [L, dim]
  return add(x, x.ndim === 3 && !batchFirst ? reshape(pos, [L, 1, dim]) : pos);
}

/**
 * Learned positional embeddings (BERT's, GPT-2's): a [maxLength, dim] table whose first L rows
 * are added to a sequence of length L. Parameter `weight`.
 *
 * @example
 * ```ts
 * import { PositionalEmbedding, randn } from 'axon-nn';
 * const pos = new PositionalEmbedding(512, 64, { batchFirst: true });
 * const y = pos.forward(randn([2, 100, 64])); // x + weight[0:100]
 * ```
 */
export class PositionalEmbedding extends Module {
  /** The table, [maxLength, dim]. */
  weight: Parameter;
  /** Inputs are [batch, length, dim] rather than [length, batch, dim]. */
  readonly batchFirst: boolean;
  constructor(
    /** The longest sequence it can encode. */
    readonly maxLength: number,
    /** Features of each position. */
    readonly dim: number,
    options: { batchFirst?: boolean; init?: RandomOptions } = {},
  ) {
    super();
    checkOptionKeys(
      'PositionalEmbedding',
      options,
      optionKeys<{ batchFirst?: boolean; init?: RandomOptions }>({ batchFirst: true, init: true }),
    );
    positiveInt('PositionalEmbedding', 'maxLength', maxLength);
    positiveInt('PositionalEmbedding', 'dim', dim);
    this.batchFirst = boolOption('PositionalEmbedding', 'batchFirst', options.batchFirst, false);
    // N(0, 0.02), BERT's and GPT-2's initialisation of the position table.
    this.weight = new Parameter(normal(0, 0.02).create([maxLength, dim], options.init));
  }
  /** x plus the first L rows of the table. */
  forward(x: Tensor): Tensor {
    return addPositions('PositionalEmbedding', x, this.weight, this.batchFirst);
  }
  override getConfig(): Record<string, unknown> {
    return { maxLength: this.maxLength, dim: this.dim, batchFirst: this.batchFirst };
  }
}

/**
 * Fixed sinusoidal positional encoding ("Attention Is All You Need";
 * pe[p, 2i] = sin(p / 10000^(2i/dim)), pe[p, 2i+1] = cos(...)), added to the input, then
 * optional dropout as in PyTorch's tutorial module. The table is a buffer `pe`, not trained.
 *
 * @example
 * ```ts
 * import { SinusoidalPositionalEncoding, zeros } from 'axon-nn';
 * const pe = new SinusoidalPositionalEncoding(16, { maxLength: 100, batchFirst: true });
 * const y = pe.forward(zeros([1, 10, 16])); // the first 10 rows of the table
 * ```
 */
export class SinusoidalPositionalEncoding extends Module {
  /** The longest sequence it can encode (default 5000). */
  readonly maxLength: number;
  /** Inputs are [batch, length, dim] rather than [length, batch, dim]. */
  readonly batchFirst: boolean;
  /** Dropout after adding the table, in training. */
  readonly dropoutP: number;
  private readonly drop: DropoutSite;
  constructor(
    /** Features of each position. */
    readonly dim: number,
    options: { maxLength?: number; batchFirst?: boolean; dropout?: number; init?: RandomOptions } = {},
  ) {
    super();
    const op = 'SinusoidalPositionalEncoding';
    checkOptionKeys(
      op,
      options,
      optionKeys<typeof options>({ maxLength: true, batchFirst: true, dropout: true, init: true }),
    );
    positiveInt(op, 'dim', dim);
    this.maxLength = positiveInt(op, 'maxLength', options.maxLength ?? 5000);
    this.batchFirst = boolOption(op, 'batchFirst', options.batchFirst, false);
    this.dropoutP = probability(op, 'dropout', options.dropout ?? 0);
    reserveValues(op, this.maxLength * dim);
    const pe = new Float32Array(this.maxLength * dim);
    for (let p = 0; p < this.maxLength; p++)
      for (let i = 0; i < dim; i += 2) {
        const angle = p * Math.exp((-i * Math.log(10000)) / dim);
        pe[p * dim + i] = Math.sin(angle);
        if (i + 1 < dim) pe[p * dim + i + 1] = Math.cos(angle);
      }
    this.registerBuffer('pe', new Tensor(pe, [this.maxLength, dim]));
    this.drop = new DropoutSite(this.dropoutP, options.init);
  }
  /** x plus the table's first L rows, then dropout in training. */
  forward(x: Tensor): Tensor {
    const pe = this.buffer('pe');
    return this.drop.apply(addPositions('SinusoidalPositionalEncoding', x, pe, this.batchFirst), this.training);
  }
  override getConfig(): Record<string, unknown> {
    return { dim: this.dim, maxLength: this.maxLength, batchFirst: this.batchFirst, dropout: this.dropoutP };
  }
}
