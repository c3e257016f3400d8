/** Row gathering: the copy every batch, split and shuffle is made of (one native call). */
import { kernels } from '../native/executor.js';
import { shapeToString } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

/** A new tensor holding rows `indices[start .. start+count)` of t (first axis), any dtype. */
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
