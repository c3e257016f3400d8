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

export interface RnnDirectionWeights {
  /** [G*H, I] */
  wIh: Tensor;
  /** [G*H, H] */
  wHh: Tensor;
  /** [G*H] or null */
  bIh: Tensor | null;
  bHh: Tensor | null;
}

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

/** Looks up rows of weight [V, E] for int32 tokens of any shape: output tokens.shape + [E]. */
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

/** Valid lengths of post-padded token rows [N, T]: 1 + the position of the last token != pad. */
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

export type SequencePoolMode = 'last' | 'mean';

/** sequencePool's options. */
export interface SequencePoolOptions {
  /** Valid steps per row, int32 [N] (default: all steps). */
  lengths?: Tensor | null;
  /** x is [T, N, F] instead of [N, T, F] (default false). */
  timeMajor?: boolean;
}
const SEQUENCE_POOL_KEYS = optionKeys<SequencePoolOptions>({ lengths: true, timeMajor: true });
/** withLengths's options. */
export interface WithLengthsOptions {
  /** x is [T, N, ..] instead of [N, T, ..] (default false). */
  timeMajor?: boolean;
}
const WITH_LENGTHS_KEYS = optionKeys<WithLengthsOptions>({ timeMajor: true });

/**
 * Pools a sequence over its valid steps: the last valid one or their mean. x is [N, T, F]
 * (or [T, N, F] with timeMajor); lengths int32 [N] or null (all steps valid). Output [N, F].
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

/** Lengths attached to a padded batch, with the layout they index: [N, T, ..] or [T, N, ..]. */
export interface AttachedLengths {
  lengths: Tensor;
  timeMajor: boolean;
}

const attached = new WeakMap<Tensor, AttachedLengths>();

/**
 * Marks x (a padded batch of sequences) with its valid lengths (int32 [N]) so the sequence
 * layers downstream (LSTM, GRU, SimpleRNN, LastStep, MeanOverTime) mask padded steps without
 * an extra argument. `timeMajor` says whether x is [T, N, ..] (default false: [N, T, ..], an
 * Embedding's output); a layer reading the other layout refuses it with a clear error rather
 * than masking the wrong axis. Embedding with a paddingIdx does this itself. Returns x.
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

/** The lengths attached to x by withLengths (or an Embedding with paddingIdx), if any. */
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
