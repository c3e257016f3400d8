/**
 * The fused loss kernels behind src/nn/losses.ts, which checks the arguments and then calls
 * these: each is one native call forward and one backward, recorded for autograd, so a
 * recorded training step replays the whole loss.
 */
import { record } from '../autograd/engine.js';
import { kernels } from '../native/executor.js';
import { Tensor } from '../tensor/tensor.js';

/** crossEntropyRows' targets and options (already checked by the caller). */
export interface CrossEntropyRowsArgs {
  /** Class index per row (int32), or null with `probs`. */
  indices: Int32Array | null;
  /** Class probabilities, row-major (n, c), or null with `indices`. */
  probs: Float32Array | null;
  /** One weight per class, or null. */
  weight: Float32Array | null;
  labelSmoothing: number;
  ignoreIndex: number;
  reduction: 'none' | 'mean' | 'sum';
  /** The output's shape: [] when reduced, else one value per row in the caller's layout. */
  outShape: readonly number[];
}

/**
 * Cross-entropy of logit rows (n, c) in one native call: the rows, the reduction and its
 * denominator (the summed target weights for 'mean'). Recorded as 'crossEntropy'.
 */
export function crossEntropyRows(rows: Tensor, args: CrossEntropyRowsArgs): Tensor {
  const [n, c] = rows.shape;
  const { indices: idx, probs: prob, weight: wd, labelSmoothing: eps, ignoreIndex } = args;
  const code = args.reduction === 'none' ? 0 : args.reduction === 'mean' ? 1 : 2;
  const out = Tensor.empty(args.outShape);
  const lse = Tensor.empty([n]).data as Float32Array;
  const scratch = Tensor.empty([n]).data as Float32Array;
  const x = rows.data as Float32Array;
  kernels.crossEntropy(x, n, c, idx, prob, wd, eps, ignoreIndex, code, out.data as Float32Array, lse, scratch);
  return record(out, 'crossEntropy', [rows], (g) => {
    const dlogits = Tensor.empty(rows.shape);
    kernels.crossEntropyBackward(
      x,
      n,
      c,
      idx,
      prob,
      wd,
      eps,
      ignoreIndex,
      code,
      lse,
      g.data as Float32Array,
      dlogits.data as Float32Array,
      scratch,
    );
    return [dlogits];
  });
}

/**
 * Elementwise binary cross-entropy of probabilities `p` (input's data) against `t` (logs
 * clamped at -100), unreduced. Recorded as 'binaryCrossEntropy'.
 */
export function binaryCrossEntropyElements(input: Tensor, p: Float32Array, t: Float32Array): Tensor {
  const loss = Tensor.empty(input.shape);
  kernels.bce(p, t, loss.data as Float32Array);
  return record(loss, 'binaryCrossEntropy', [input], (g) => {
    const dp = Tensor.empty(input.shape);
    kernels.bceBackward(p, t, g.data as Float32Array, dp.data as Float32Array);
    return [dp];
  });
}

/**
 * Elementwise binary cross-entropy on logits `x` (logits' data) against `t`, sigmoid folded in;
 * posWeight (c entries, or null with c = 1) scales the positive term per class of the last
 * axis. Unreduced; recorded as 'binaryCrossEntropyWithLogits'.
 */
export function binaryCrossEntropyWithLogitsElements(
  logits: Tensor,
  x: Float32Array,
  t: Float32Array,
  posWeight: Float32Array | null,
  c: number,
): Tensor {
  const loss = Tensor.empty(logits.shape);
  kernels.bceLogits(x, t, posWeight, c, loss.data as Float32Array);
  return record(loss, 'binaryCrossEntropyWithLogits', [logits], (g) => {
    const dx = Tensor.empty(logits.shape);
    kernels.bceLogitsBackward(x, t, posWeight, c, g.data as Float32Array, dx.data as Float32Array);
    return [dx];
  });
}
