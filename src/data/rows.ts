/** Row gathering: the copy every batch, split and shuffle is made of (one native call). */
import { kernels } from '../native/executor.js';
import { shapeToString } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * A new tensor holding the rows `indices[start .. start+count)` of t (along its first axis),
 * gathered in one native call; any dtype, the result has t's dtype.
 *
 * @throws RangeError for a 0-d tensor, an index outside [0, t.shape[0]) or a range past the
 *   end of `indices`.
 * @example
 * ```ts
 * import { takeRows, tensor } from 'axon-nn';
 * const t = tensor([[1, 2], [3, 4], [5, 6]]);
 * console.log(takeRows(t, Int32Array.of(2, 0)).toArray()); // [[5, 6], [1, 2]]
 * ```
 */
export function takeRows(t: Tensor, indices: Int32Array, start = 0, count = indices.length - start): Tensor {
  if (t.ndim === 0) throw new RangeError(`takeRows: a 0-d tensor has no rows (shape ${shapeToString(t.shape)})`);
  const rowSize = t.size / Math.max(t.shape[0], 1);
  const shape = [count, ...t.shape.slice(1)];
  const data = t.dtype === 'int32' ? new Int32Array(count * rowSize) : new Float32Array(count * rowSize);
  if (count > 0 && rowSize > 0) kernels.gatherRows(t.data, rowSize, indices, start, count, data);
  return new Tensor(data, shape);
}

/** 0..n-1 as an Int32Array. */
export function identityIndices(n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}
