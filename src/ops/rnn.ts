/**
 * Sequence ops with autograd: one recurrent layer direction over a whole sequence (LSTM, GRU,
 * tanh/ReLU RNN) as one native call forward and one backward through time; embedding lookups;
 * valid lengths of padded token batches; pooling over valid steps.
 *
 * Layouts follow PyTorch: sequences are time-major [T, N, F] for the recurrent kernels; gate
 * blocks are LSTM (i, f, g, o) and GRU (r, z, n), with GRU's reset gate applied to the hidden
 * projection, n = tanh(W_in x + b_in + r * (W_hn h + b_hn)). PyTorch's weight_ih_l0 etc. load
 * unchanged. Keras stores LSTM kernels as [input, 4H] in (i, f, c, o) order, i.e. the same
 * gate order transposed; its GRU (reset_after=True) is (z, r, h): swap the first two blocks.
 *
 * Lengths: row r of a padded batch is valid for steps [0, lengths[r]) (post-padding). Past
 * its length a row keeps its state, outputs zeros and receives no gradient, so padding
 * changes neither results nor gradients. The reverse direction starts each row at its own
 * last valid step (as PyTorch's packed sequences).
 */
import { record } from '../autograd/engine.js';
import { native, RnnMode as RnnCode, SequencePoolMode as PoolCode, type RnnDims } from '../native/binding.js';
import { kernels } from '../native/executor.js';
import { shapeToString } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkOptionKeys, optionKeys } from '../options.js';
import { row, sliceRows } from './layout.js';
import { assertTensor, floatData } from './util.js';

/**
 * The recurrent cell rnnDirection runs: 'lstm' (4 gate blocks), 'gru' (3), or a plain RNN with
 * tanh or ReLU ('rnnTanh', 'rnnRelu': 1).
 *
 * @example
 * ```ts
 * import { randn, rnnDirection, type RnnMode } from 'axon-nn';
 * const mode: RnnMode = 'gru';
 * const weights = { wIh: randn([3 * 8, 4]), wHh: randn([3 * 8, 8]), bIh: null, bHh: null };
 * const { hn } = rnnDirection(mode, randn([5, 2, 4]), weights); // hn: [2, 8]
 * ```
 */
export type RnnMode = 'lstm' | 'gru' | 'rnnTanh' | 'rnnRelu';
const MODE_CODE: Record<RnnMode, RnnCode> = {
  lstm: RnnCode.Lstm,
  gru: RnnCode.Gru,
  rnnTanh: RnnCode.RnnTanh,
  rnnRelu: RnnCode.RnnRelu,
};
const GATES: Record<RnnMode, number> = { lstm: 4, gru: 3, rnnTanh: 1, rnnRelu: 1 };

/** Gate blocks per hidden unit: 4 (LSTM), 3 (GRU), 1 (RNN). */
export function gateCount(mode: RnnMode): number {
  return GATES[mode];
}

/**
 * One direction's weights in PyTorch's layout (weight_ih_l0, weight_hh_l0, bias_ih_l0,
 * bias_hh_l0), G gate blocks (4 LSTM, 3 GRU, 1 RNN) of H rows each.
 *
 * @example
 * ```ts
 * import { randn, rnnDirection, zeros, type RnnDirectionWeights } from 'axon-nn';
 * const H = 8;
 * const weights: RnnDirectionWeights = {
 *   wIh: randn([4 * H, 3]),
 *   wHh: randn([4 * H, H]),
 *   bIh: zeros([4 * H]),
 *   bHh: null,
 * };
 * const { output } = rnnDirection('lstm', randn([10, 2, 3]), weights); // [10, 2, 8]
 * ```
 */
export interface RnnDirectionWeights {
  /** Input-to-hidden weights [G*H, I]. */
  wIh: Tensor;
  /** Hidden-to-hidden weights [G*H, H]. */
  wHh: Tensor;
  /** Input-to-hidden bias [G*H], or null for none. */
  bIh: Tensor | null;
  /** Hidden-to-hidden bias [G*H], or null for none. */
  bHh: Tensor | null;
}

/**
 * rnnDirection()'s options: initial states, valid lengths and direction.
 *
 * @example
 * ```ts
 * import { randn, rnnDirection, tensor, type RnnDirectionOptions } from 'axon-nn';
 * const weights = { wIh: randn([8, 3]), wHh: randn([8, 8]), bIh: null, bHh: null };
 * const lengths = tensor([5, 3], { dtype: 'int32' });
 * const options: RnnDirectionOptions = { h0: randn([2, 8]), lengths, reverse: true };
 * const { output } = rnnDirection('rnnTanh', randn([5, 2, 3]), weights, options); // [5, 2, 8]
 * ```
 */
export interface RnnDirectionOptions {
  /** Initial hidden state [N, H] (zeros when absent). */
  h0?: Tensor | null;
  /** Initial LSTM cell state [N, H]. */
  c0?: Tensor | null;
  /** Valid steps per batch row, int32 [N]. */
  lengths?: Tensor | null;
  /** Process t = T-1 .. 0 (the backward half of a bidirectional layer). */
  reverse?: boolean;
}
const RNN_DIRECTION_KEYS = optionKeys<RnnDirectionOptions>({ h0: true, c0: true, lengths: true, reverse: true });

/**
 * What rnnDirection returns: the per-step outputs and the final states, all views of one
 * buffer so their gradients flow back through a single backward call.
 *
 * @example
 * ```ts
 * import { randn, rnnDirection, type RnnDirectionResult } from 'axon-nn';
 * const weights = { wIh: randn([16, 3]), wHh: randn([16, 4]), bIh: null, bHh: null };
 * const result: RnnDirectionResult = rnnDirection('lstm', randn([6, 2, 3]), weights);
 * const last = result.hn; // [2, 4]; result.cn is [2, 4] too (LSTM only)
 * ```
 */
export interface RnnDirectionResult {
  /** [T, N, H]; zeros at padded steps. */
  output: Tensor;
  /** Final hidden state [N, H] (for each row, the state after its last valid step). */
  hn: Tensor;
  /** Final LSTM cell state [N, H]; null for GRU and RNN. */
  cn: Tensor | null;
}

/** Checks an int32 lengths tensor [n] (values are checked natively when the op runs). */
export function checkLengths(op: string, lengths: Tensor, n: number): Int32Array {
  assertTensor(op, lengths, 'lengths');
  if (lengths.dtype !== 'int32' || lengths.ndim !== 1 || lengths.shape[0] !== n)
    throw new RangeError(
      `${op}: lengths must be an int32 tensor [${n}] (one per sequence), got ${lengths.dtype} ${shapeToString(lengths.shape)}`,
    );
  return lengths.data as Int32Array;
}

/**
 * One recurrent layer in one direction over x [T, N, I] (time-major). Forward and backward
 * through time are one native call each; the output, final hidden state and (LSTM) final cell
 * state share one packed buffer [T + 1 (+1), N, H] whose rows they view, so the backward gets
 * all their gradients in one tensor.
 * @throws RangeError when a shape does not fit the mode (weights [G*H, I] and [G*H, H], biases
 *   [G*H], h0 / c0 [N, H], lengths int32 [N]), or c0 is given for a GRU or RNN.
 * @example
 * ```ts
 * import { randn, rnnDirection, zeros } from 'axon-nn';
 * const x = randn([12, 4, 10]); // 12 steps, batch 4, 10 features
 * const H = 16;
 * const wIh = randn([4 * H, 10], { std: 0.1 });
 * const wHh = randn([4 * H, H], { std: 0.1 });
 * const weights = { wIh, wHh, bIh: zeros([4 * H]), bHh: zeros([4 * H]) };
 * const { output, hn, cn } = rnnDirection('lstm', x, weights); // [12, 4, 16], [4, 16], [4, 16]
 * ```
 */
export function rnnDirection(
  mode: RnnMode,
  x: Tensor,
  weights: RnnDirectionWeights,
  options: RnnDirectionOptions = {},
): RnnDirectionResult {
  const op = mode;
  checkOptionKeys('rnnDirection', options, RNN_DIRECTION_KEYS);
  const xd = floatData(op, x);
  if (!(mode in MODE_CODE)) throw new RangeError(`rnn: unknown mode '${String(mode)}'`);
  if (x.ndim !== 3)
    throw new RangeError(`${op}: input must be [steps, batch, features], got ${shapeToString(x.shape)}`);
  const [T, N, I] = x.shape;
  const { wIh, wHh, bIh, bHh } = weights;
  const G = GATES[mode];
  const wi = floatData(op, wIh, 'weight_ih');
  const wh = floatData(op, wHh, 'weight_hh');
  if (wIh.ndim !== 2 || wHh.ndim !== 2 || wIh.shape[0] % G !== 0)
    throw new RangeError(
      `${op}: weight_ih must be [${G}*hidden, input] and weight_hh [${G}*hidden, hidden], got ${shapeToString(wIh.shape)} and ${shapeToString(wHh.shape)}`,
    );
  const H = wIh.shape[0] / G;
  if (wIh.shape[1] !== I)
    throw new RangeError(
      `${op}: input ${shapeToString(x.shape)} has ${I} features but weight_ih ${shapeToString(wIh.shape)} expects ${wIh.shape[1]}`,
    );
  if (wHh.shape[0] !== G * H || wHh.shape[1] !== H)
    throw new RangeError(`${op}: weight_hh must be [${G * H}, ${H}], got ${shapeToString(wHh.shape)}`);
  for (const [b, name] of [
    [bIh, 'bias_ih'],
    [bHh, 'bias_hh'],
  ] as const)
    if (b !== null && floatData(op, b, name) && (b.ndim !== 1 || b.shape[0] !== G * H))
      throw new RangeError(`${op}: ${name} must be [${G * H}], got ${shapeToString(b.shape)}`);
  const h0 = options.h0 ?? null;
  const c0 = mode === 'lstm' ? (options.c0 ?? null) : null;
  if (options.c0 && mode !== 'lstm') throw new RangeError(`${op}: only an LSTM has a cell state (c0)`);
  for (const [s, name] of [
    [h0, 'h0'],
    [c0, 'c0'],
  ] as const)
    if (s !== null && floatData(op, s, name) && (s.ndim !== 2 || s.shape[0] !== N || s.shape[1] !== H))
      throw new RangeError(`${op}: ${name} must be [${N}, ${H}] (batch, hidden), got ${shapeToString(s.shape)}`);
  const lengths = options.lengths ? checkLengths(op, options.lengths, N) : null;
  const dims: RnnDims = { mode: MODE_CODE[mode], steps: T, batch: N, input: I, hidden: H, reverse: !!options.reverse };
  const [wsSize, scratchSize] = native.rnnSizes(dims);
  const extra = mode === 'lstm' ? 2 : 1;
  const TNH = T * N * H;
  const NH = N * H;
  const packed = Tensor.empty([T + extra, N, H]);
  const pd = packed.data as Float32Array;
  const workspace = Tensor.empty([wsSize]).data as Float32Array;
  kernels.rnn(
    xd,
    wi,
    wh,
    bIh ? (bIh.data as Float32Array) : null,
    bHh ? (bHh.data as Float32Array) : null,
    h0 ? (h0.data as Float32Array) : null,
    c0 ? (c0.data as Float32Array) : null,
    lengths,
    dims,
    pd.subarray(0, TNH),
    pd.subarray(TNH, TNH + NH),
    mode === 'lstm' ? pd.subarray(TNH + NH, TNH + 2 * NH) : null,
    workspace,
  );
  const out = record(packed, op, [x, wIh, wHh, bIh, bHh, h0, c0], (g) => {
    const gd = g.data as Float32Array;
    const grad = (t: Tensor | null): Tensor | null => (t && t.requiresGrad ? Tensor.empty(t.shape) : null);
    const dx = grad(x);
    const dwi = grad(wIh);
    const dwh = grad(wHh);
    const dbi = grad(bIh);
    const dbh = grad(bHh);
    const dh0 = h0 && h0.requiresGrad ? Tensor.empty(h0.shape) : null;
    const dc0 = c0 && c0.requiresGrad ? Tensor.empty(c0.shape) : null;
    const f = (t: Tensor | null): Float32Array | null => (t ? (t.data as Float32Array) : null);
    kernels.rnnBackward(
      xd,
      wi,
      wh,
      lengths,
      workspace,
      dims,
      gd.subarray(0, TNH),
      gd.subarray(TNH, TNH + NH),
      mode === 'lstm' ? gd.subarray(TNH + NH, TNH + 2 * NH) : null,
      f(dx),
      f(dwi),
      f(dwh),
      f(dbi),
      f(dbh),
      f(dh0),
      f(dc0),
      Tensor.empty([scratchSize]).data as Float32Array,
    );
    return [dx, dwi, dwh, dbi, dbh, dh0, dc0];
  });
  return {
    output: sliceRows(out, 0, T),
    hn: row(out, T),
    cn: mode === 'lstm' ? row(out, T + 1) : null,
  };
}

/**
 * embedding()'s options: the padding token, max-norm renormalisation and the output layout.
 *
 * @example
 * ```ts
 * import { embedding, randn, tensor, type EmbeddingOptions } from 'axon-nn';
 * const options: EmbeddingOptions = { paddingIdx: 0, timeMajor: true };
 * const tokens = tensor([[4, 2, 0], [1, 0, 0]], { dtype: 'int32' });
 * const vectors = embedding(tokens, randn([10, 8]), options); // [3, 2, 8]
 * ```
 */
export interface EmbeddingOptions {
  /** Token whose vector gets no gradient (PyTorch's padding_idx); -1 or absent: none. */
  paddingIdx?: number;
  /** Renormalise looked-up rows to this norm first (in place, as PyTorch's max_norm). */
  maxNorm?: number;
  /** The p of the max-norm (default 2). */
  normType?: number;
  /** For tokens [N, T]: output [T, N, E] (what the recurrent kernels read) instead of [N, T, E]. */
  timeMajor?: boolean;
}
const EMBEDDING_KEYS = optionKeys<EmbeddingOptions>({
  paddingIdx: true,
  maxNorm: true,
  normType: true,
  timeMajor: true,
});

/**
 * Looks up rows of weight [V, E] for int32 token ids of any shape: output tokens.shape + [E]
 * (or [T, N, E] with timeMajor). The gradient is scattered into weight's rows (none for
 * paddingIdx). With maxNorm the looked-up rows of weight are renormalised in place first.
 * @throws TypeError for tokens that are not int32; RangeError for a weight that is not 2-D or
 *   a paddingIdx outside the vocabulary (out-of-range token ids are refused when the kernel runs).
 * @example
 * ```ts
 * import { embedding, randn, tensor } from 'axon-nn';
 * const table = randn([1000, 32]).setRequiresGrad();
 * const tokens = tensor([[5, 17, 2], [9, 0, 0]], { dtype: 'int32' });
 * const vectors = embedding(tokens, table); // [2, 3, 32]
 * ```
 */
export function embedding(tokens: Tensor, weight: Tensor, options: EmbeddingOptions = {}): Tensor {
  const op = 'embedding';
  checkOptionKeys(op, options, EMBEDDING_KEYS);
  assertTensor(op, tokens, 'tokens');
  if (tokens.dtype !== 'int32')
    throw new TypeError(`${op}: tokens must be an int32 tensor of token ids, got ${tokens.dtype}`);
  const wd = floatData(op, weight, 'weight');
  if (weight.ndim !== 2) throw new RangeError(`${op}: weight must be [vocab, dim], got ${shapeToString(weight.shape)}`);
  const [V, E] = weight.shape;
  const pad = options.paddingIdx ?? -1;
  if (!Number.isInteger(pad) || pad < -1 || pad >= V)
    throw new RangeError(`${op}: paddingIdx ${pad} is outside the vocabulary of ${V}`);
  const timeMajor = !!options.timeMajor;
  if (timeMajor && tokens.ndim !== 2)
    throw new RangeError(`${op}: timeMajor needs tokens [batch, steps], got ${shapeToString(tokens.shape)}`);
  const rows = tokens.ndim === 2 ? tokens.shape[0] : 1;
  const steps = tokens.ndim === 2 ? tokens.shape[1] : tokens.size;
  const td = tokens.data as Int32Array;
  if (options.maxNorm !== undefined) {
    if (!(options.maxNorm > 0)) throw new RangeError(`${op}: maxNorm must be > 0, got ${options.maxNorm}`);
    kernels.embeddingRenorm(wd, E, td, options.maxNorm, options.normType ?? 2);
  }
  const shape = timeMajor ? [tokens.shape[1], tokens.shape[0], E] : [...tokens.shape, E];
  const out = Tensor.empty(shape);
  const dims = { rows, steps, timeMajor };
  kernels.embedding(wd, E, td, dims, out.data as Float32Array);
  return record(out, op, [weight], (g) => {
    const dw = Tensor.empty(weight.shape);
    kernels.embeddingBackward(g.data as Float32Array, E, td, dims, pad, dw.data as Float32Array);
    return [dw];
  });
}

/**
 * The valid lengths of post-padded token rows [N, T] as int32 [N]: 1 + the position of the
 * last token that is not `pad` (default 0), 0 for an all-padding row.
 * @throws RangeError when tokens is not an int32 [N, T] tensor.
 * @example
 * ```ts
 * import { sequenceLengths, tensor } from 'axon-nn';
 * const tokens = tensor([[5, 3, 0, 0], [7, 0, 4, 0], [0, 0, 0, 0]], { dtype: 'int32' });
 * const lengths = sequenceLengths(tokens); // int32 [2, 3, 0]
 * ```
 */
export function sequenceLengths(tokens: Tensor, pad = 0): Tensor {
  assertTensor('sequenceLengths', tokens, 'tokens');
  if (tokens.dtype !== 'int32' || tokens.ndim !== 2)
    throw new RangeError(
      `sequenceLengths: tokens must be int32 [batch, steps], got ${tokens.dtype} ${shapeToString(tokens.shape)}`,
    );
  const out = new Tensor(new Int32Array(tokens.shape[0]), [tokens.shape[0]]);
  kernels.sequenceLengths(tokens.data as Int32Array, tokens.shape[0], tokens.shape[1], pad, out.data as Int32Array);
  return out;
}

/**
 * How sequencePool reduces the steps: 'last' (the last valid step) or 'mean' (the mean of the
 * valid steps).
 *
 * @example
 * ```ts
 * import { randn, sequencePool, type SequencePoolMode } from 'axon-nn';
 * const mode: SequencePoolMode = 'mean';
 * const pooled = sequencePool(randn([4, 10, 32]), mode); // [4, 32]
 * ```
 */
export type SequencePoolMode = 'last' | 'mean';

/**
 * sequencePool's options.
 *
 * @example
 * ```ts
 * import { randn, sequencePool, tensor, type SequencePoolOptions } from 'axon-nn';
 * const options: SequencePoolOptions = { lengths: tensor([10, 4], { dtype: 'int32' }), timeMajor: true };
 * const last = sequencePool(randn([10, 2, 16]), 'last', options); // [2, 16]
 * ```
 */
export interface SequencePoolOptions {
  /** Valid steps per row, int32 [N] (default: all steps). */
  lengths?: Tensor | null;
  /** x is [T, N, F] instead of [N, T, F] (default false). */
  timeMajor?: boolean;
}
const SEQUENCE_POOL_KEYS = optionKeys<SequencePoolOptions>({ lengths: true, timeMajor: true });
/**
 * withLengths's options.
 *
 * @example
 * ```ts
 * import { randn, tensor, withLengths, type WithLengthsOptions } from 'axon-nn';
 * const options: WithLengthsOptions = { timeMajor: true };
 * const x = withLengths(randn([7, 2, 16]), tensor([7, 3], { dtype: 'int32' }), options);
 * ```
 */
export interface WithLengthsOptions {
  /** x is [T, N, ..] instead of [N, T, ..] (default false). */
  timeMajor?: boolean;
}
const WITH_LENGTHS_KEYS = optionKeys<WithLengthsOptions>({ timeMajor: true });

/**
 * Pools a sequence over its valid steps: the last valid one or their mean. x is [N, T, F]
 * (or [T, N, F] with timeMajor); lengths int32 [N] or null (all steps valid). Output [N, F].
 * @throws RangeError for a mode other than 'last' / 'mean', an input that is not 3-D or lengths
 *   that are not int32 [N].
 * @example
 * ```ts
 * import { randn, sequencePool, tensor } from 'axon-nn';
 * const states = randn([2, 5, 8]); // [batch, steps, features]
 * const lengths = tensor([5, 2], { dtype: 'int32' });
 * const last = sequencePool(states, 'last', { lengths }); // row 1 takes step 1: [2, 8]
 * const avg = sequencePool(states, 'mean', { lengths }); // row 1 averages steps 0 and 1
 * ```
 */
export function sequencePool(x: Tensor, mode: SequencePoolMode, options: SequencePoolOptions = {}): Tensor {
  checkOptionKeys('sequencePool', options, SEQUENCE_POOL_KEYS);
  if (mode !== 'last' && mode !== 'mean')
    throw new RangeError(`sequencePool: mode must be 'last' or 'mean', got ${String(mode)}`);
  const op = mode === 'last' ? 'lastStep' : 'meanOverTime';
  const xd = floatData(op, x);
  if (x.ndim !== 3)
    throw new RangeError(
      `${op}: input must be ${options.timeMajor ? '[steps, batch, features]' : '[batch, steps, features]'}, got ${shapeToString(x.shape)}`,
    );
  const timeMajor = !!options.timeMajor;
  const [T, N] = timeMajor ? [x.shape[0], x.shape[1]] : [x.shape[1], x.shape[0]];
  const F = x.shape[2];
  const lengths = options.lengths ? checkLengths(op, options.lengths, N) : null;
  const dims = { steps: T, batch: N, dim: F, timeMajor, mode: mode === 'last' ? PoolCode.Last : PoolCode.Mean };
  const out = Tensor.empty([N, F]);
  kernels.sequencePool(xd, dims, lengths, out.data as Float32Array);
  return record(out, op, [x], (g) => {
    const dx = Tensor.empty(x.shape);
    kernels.sequencePoolBackward(g.data as Float32Array, dims, lengths, dx.data as Float32Array);
    return [dx];
  });
}

// ---- lengths carried with a tensor -------------------------------------------------------

/**
 * Lengths attached to a padded batch, with the layout they index: [N, T, ..] or [T, N, ..]
 * (what withLengths records).
 *
 * @example
 * ```ts
 * import { tensor, withLengths, zeros, type AttachedLengths } from 'axon-nn';
 * const info: AttachedLengths = { lengths: tensor([3, 1], { dtype: 'int32' }), timeMajor: false };
 * const x = withLengths(zeros([2, 3, 8]), info.lengths, { timeMajor: info.timeMajor });
 * ```
 */
export interface AttachedLengths {
  /** Valid steps per sequence, int32 [N]. */
  lengths: Tensor;
  /** True when the batch is [T, N, ..], false for [N, T, ..]. */
  timeMajor: boolean;
}

const attached = new WeakMap<Tensor, AttachedLengths>();

/**
 * Marks x (a padded batch of sequences) with its valid lengths (int32 [N]) so the sequence
 * layers downstream (LSTM, GRU, SimpleRNN, LastStep, MeanOverTime) mask padded steps without
 * an extra argument. `timeMajor` says whether x is [T, N, ..] (default false: [N, T, ..], an
 * Embedding's output); a layer reading the other layout refuses it with a clear error rather
 * than masking the wrong axis. Embedding with a paddingIdx does this itself. Returns x; null
 * lengths remove the mark.
 * @throws RangeError when the lengths are not int32 [N] for x's batch size.
 * @example
 * ```ts
 * import { LSTM, lengthsOf, randn, tensor, withLengths } from 'axon-nn';
 * const padded = randn([2, 6, 16]); // two sequences of 6 and 3 valid steps
 * const x = withLengths(padded, tensor([6, 3], { dtype: 'int32' }));
 * const lengths = lengthsOf(x); // int32 [6, 3]
 * const y = new LSTM(16, 32, { batchFirst: true }).forward(x); // row 1's steps 3..5 are masked
 * ```
 */
export function withLengths(x: Tensor, lengths: Tensor | Int32Array | null, options: WithLengthsOptions = {}): Tensor {
  checkOptionKeys('withLengths', options, WITH_LENGTHS_KEYS);
  if (lengths === null) {
    attached.delete(x);
    return x;
  }
  const t = lengths instanceof Tensor ? lengths : new Tensor(lengths, [lengths.length]);
  if (t.dtype !== 'int32' || t.ndim !== 1)
    throw new RangeError(`withLengths: lengths must be int32 [batch], got ${t.dtype} ${shapeToString(t.shape)}`);
  const timeMajor = options.timeMajor ?? false;
  const batch = x.shape[timeMajor ? 1 : 0];
  if (x.ndim < 2 || t.shape[0] !== batch)
    throw new RangeError(
      `withLengths: ${t.shape[0]} lengths for a ${timeMajor ? 'time-major' : 'batch-major'} input ${shapeToString(x.shape)} with ${batch ?? 0} sequences`,
    );
  attached.set(x, { lengths: t, timeMajor });
  return x;
}

/**
 * The lengths attached to x by withLengths (or an Embedding with paddingIdx), or null.
 *
 * @example
 * ```ts
 * import { lengthsOf, randn, withLengths } from 'axon-nn';
 * const x = withLengths(randn([2, 4, 8]), new Int32Array([4, 2]));
 * const lengths = lengthsOf(x); // int32 tensor [4, 2]
 * const none = lengthsOf(randn([2, 4, 8])); // null
 * ```
 */
export function lengthsOf(x: Tensor): Tensor | null {
  return attached.get(x)?.lengths ?? null;
}

/**
 * The lengths attached to x for a consumer reading `timeMajor` layout; throws naming the
 * option to change when the layouts differ.
 */
export function lengthsFor(op: string, x: Tensor, timeMajor: boolean, option: string): Tensor | null {
  const a = attached.get(x);
  if (!a) return null;
  if (a.timeMajor !== timeMajor)
    throw new RangeError(
      `${op}: the input ${shapeToString(x.shape)} carries sequence lengths for ${a.timeMajor ? 'time-major [steps, batch, ...]' : 'batch-major [batch, steps, ...]'} data but this layer reads ${timeMajor ? 'time-major' : 'batch-major'} input; construct it with ${option}`,
    );
  return a.lengths;
}
