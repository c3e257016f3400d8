/**
 * Scaled dot-product attention on the fused native kernel (native/kernels/cpu/attention.cpp):
 * softmax(scale q k^T + mask) v per head, tiled with an online softmax, so neither the forward
 * nor the backward holds an lq x lk matrix. The public, option-checking entry is
 * `scaledDotProductAttention` (src/nn/functional.ts), which also picks the dropout stream;
 * this module checks shapes, lays the mask out as strides the kernel reads, and records the
 * backward.
 */
import { record } from '../autograd/engine.js';
import { kernels } from '../native/executor.js';
import { numel, shapeToString, shapesEqual } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { add, mul } from './elementwise.js';
import { expand, transpose } from './layout.js';
import { matmul } from './linalg.js';
import { softmax } from './activation.js';
import { floatData } from './util.js';

/** What {@link fusedAttention} needs besides q, k, v (all already checked by the caller). */
export interface FusedAttentionParams {
  /** Multiplies q k^T (PyTorch's default is 1 / sqrt(d)). */
  scale: number;
  /** Key j hidden from query i when j > i (top-left aligned). */
  causal: boolean;
  /** Additive float mask broadcastable to [...lead, lq, lk], or null. */
  mask: Tensor | null;
  /** Probability of dropping an attention weight (0 for none). */
  dropout: number;
  /** The dropout stream [seedHigh, seedLow, counter] (read only when dropout > 0). */
  state: Float64Array;
}

/** A mask as the kernel reads it: the data and the strides of (batch, head, query), key stride 1. */
interface MaskLayout {
  data: Float32Array;
  strideB: number;
  strideH: number;
  strideQ: number;
}

// A state the kernel never draws from (dropout 0): one shared, never written.
const UNUSED_STATE = new Float64Array(3);

/**
 * The strides of `mask` broadcast to [...lead, lq, lk], with the leading axes flattened to
 * (batch, head) as the kernel sees them (head = the last leading axis). A mask whose layout no
 * such strides express (broadcast along the keys, or a broadcast batch axis between full ones)
 * is expanded to the full shape first.
 */
function maskLayout(op: string, mask: Tensor, lead: readonly number[], lq: number, lk: number): MaskLayout {
  const full = [...lead, lq, lk];
  const r = full.length;
  if (mask.ndim > r)
    throw new RangeError(
      `${op}: mask ${shapeToString(mask.shape)} has more axes than [...batch, lq, lk] ${shapeToString(full)}`,
    );
  const ms = [...Array<number>(r - mask.ndim).fill(1), ...mask.shape];
  for (let i = 0; i < r; i++)
    if (ms[i] !== full[i] && ms[i] !== 1)
      throw new RangeError(
        `${op}: mask ${shapeToString(mask.shape)} does not broadcast to [...batch, lq, lk] ${shapeToString(full)}`,
      );
  // Contiguous strides of the mask, 0 along broadcast axes.
  const st = new Array<number>(r).fill(0);
  for (let i = r - 1, s = 1; i >= 0; i--) {
    st[i] = ms[i] === full[i] && full[i] !== 1 ? s : 0;
    s *= ms[i];
  }
  const layout = (data: Float32Array, s: readonly number[]): MaskLayout | null => {
    if (lk > 1 && s[r - 1] !== 1) return null;
    const strideQ = s[r - 2];
    const strideH = r >= 3 ? s[r - 3] : 0;
    // Flattened batch axes 0..r-4: element offset must be b * strideB for the flat index b.
    let strideB = 0;
    let inner = 1;
    for (let i = r - 4; i >= 0; i--) {
      if (full[i] !== 1) {
        if (strideB === 0 && s[i] !== 0) strideB = s[i] / inner;
        if (s[i] !== strideB * inner) return null;
      }
      inner *= full[i];
    }
    return { data, strideB, strideH, strideQ };
  };
  const direct = layout(mask.data as Float32Array, st);
  if (direct) return direct;
  const expanded = expand(mask, full);
  const contiguous = new Array<number>(r);
  for (let i = r - 1, s = 1; i >= 0; i--) {
    contiguous[i] = full[i] === 1 ? 0 : s;
    s *= full[i];
  }
  const laid = layout(expanded.data as Float32Array, contiguous);
  if (!laid) throw new Error(`${op}: internal error laying out mask ${shapeToString(mask.shape)}`);
  return laid;
}

/**
 * Attention over q [...lead, lq, d], k [...lead, lk, d], v [...lead, lk, dv] (the leading axes
 * equal, flattened to batch x heads): [...lead, lq, dv]. Records 'attention'; the backward
 * rebuilds the weights from the saved log-sum-exp. A mask that requires grad takes the composed
 * path (scores materialised) so its gradient exists.
 */
export function fusedAttention(op: string, q: Tensor, k: Tensor, v: Tensor, p: FusedAttentionParams): Tensor {
  const qd = floatData(op, q, 'query');
  const kd = floatData(op, k, 'key');
  const vd = floatData(op, v, 'value');
  const shapes = `query ${shapeToString(q.shape)}, key ${shapeToString(k.shape)}, value ${shapeToString(v.shape)}`;
  if (q.ndim < 2 || k.ndim !== q.ndim || v.ndim !== q.ndim)
    throw new RangeError(
      `${op}: query, key and value need the same rank, at least 2 ([..., length, features]); got ${shapes}`,
    );
  const lead = q.shape.slice(0, -2);
  if (!shapesEqual(k.shape.slice(0, -2), lead) || !shapesEqual(v.shape.slice(0, -2), lead))
    throw new RangeError(`${op}: query, key and value need the same leading (batch, head) axes; got ${shapes}`);
  const lq = q.shape[q.ndim - 2];
  const d = q.shape[q.ndim - 1];
  const lk = k.shape[k.ndim - 2];
  const dv = v.shape[v.ndim - 1];
  if (k.shape[k.ndim - 1] !== d)
    throw new RangeError(`${op}: query and key need the same feature size (last axis); got ${shapes}`);
  if (v.shape[v.ndim - 2] !== lk)
    throw new RangeError(`${op}: key and value need the same length (axis -2); got ${shapes}`);
  if (d === 0 || dv === 0) throw new RangeError(`${op}: the feature axes must not be empty; got ${shapes}`);
  if (p.mask) floatData(op, p.mask, 'mask');
  const mask = p.mask;
  if (mask?.requiresGrad) return composedAttention(op, q, k, v, p);

  const heads = lead.length > 0 ? lead[lead.length - 1] : 1;
  const batch = heads === 0 ? 0 : numel(lead) / Math.max(heads, 1);
  const m = mask ? maskLayout(op, mask, lead, lq, lk) : null;
  const geometry = {
    batch,
    heads: Math.max(heads, 1),
    lq,
    lk,
    d,
    dv,
    causal: p.causal,
    maskStrideB: m?.strideB ?? 0,
    maskStrideH: m?.strideH ?? 0,
    maskStrideQ: m?.strideQ ?? 0,
  };
  const out = Tensor.empty([...lead, lq, dv]);
  const lse = Tensor.empty([numel(lead), lq]);
  const seedUsed = new Float64Array(2);
  const state = p.dropout > 0 ? p.state : UNUSED_STATE;
  const od = out.data as Float32Array;
  const lsed = lse.data as Float32Array;
  const md = m?.data ?? null;
  kernels.attention(qd, kd, vd, md, geometry, p.scale, p.dropout, state, seedUsed, od, lsed);
  return record(out, 'attention', [q, k, v], (g) => {
    const dq = Tensor.empty(q.shape);
    const dk = Tensor.empty(k.shape);
    const dvT = Tensor.empty(v.shape);
    kernels.attentionBackward(
      qd,
      kd,
      vd,
      md,
      geometry,
      p.scale,
      p.dropout,
      seedUsed,
      od,
      lsed,
      g.data as Float32Array,
      dq.data as Float32Array,
      dk.data as Float32Array,
      dvT.data as Float32Array,
    );
    return [q.requiresGrad ? dq : null, k.requiresGrad ? dk : null, v.requiresGrad ? dvT : null];
  });
}

/**
 * softmax(scale q k^T + mask) v from ops, the lq x lk scores materialised: the path for a
 * mask that needs its own gradient (a learned relative-position bias, say). Dropout and
 * causal need the fused kernel's bookkeeping, so they are refused here rather than ignored.
 */
function composedAttention(op: string, q: Tensor, k: Tensor, v: Tensor, p: FusedAttentionParams): Tensor {
  if (p.dropout > 0 || p.causal)
    throw new RangeError(
      `${op}: a mask that requires grad runs the composed path, which does not take dropout or causal; ` +
        'fold the causal pattern into the mask and apply dropout outside',
    );
  const scores = add(mul(matmul(q, transpose(k, -2, -1)), p.scale), p.mask as Tensor);
  return matmul(softmax(scores, -1), v);
}
