/**
 * The dropout kernel behind src/nn/functional.ts's dropout (which checks the arguments and
 * picks the random stream): one native call draws the mask from a counter-based generator and
 * applies it; the backward multiplies by the same mask.
 */
import { record } from '../autograd/engine.js';
import { BinaryCode } from '../native/binding.js';
import { kernels } from '../native/executor.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * Inverted dropout of x (its float data `xd`) with probability p in (0, 1], advancing the mask
 * stream `state` ([seedHigh, seedLow, counter]). Recorded as 'dropout'.
 */
export function dropoutMasked(x: Tensor, xd: Float32Array, p: number, state: Float64Array): Tensor {
  const out = Tensor.empty(x.shape);
  const mask = Tensor.empty(x.shape).data as Float32Array;
  kernels.dropout(xd, out.data as Float32Array, mask, p, state);
  return record(out, 'dropout', [x], (grad) => {
    const dx = Tensor.empty(x.shape);
    kernels.binary(BinaryCode.Mul, grad.data as Float32Array, x.shape, mask, x.shape, dx.data as Float32Array, x.shape);
    return [dx];
  });
}
