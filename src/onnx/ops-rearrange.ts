/**
 * Rearranging ONNX operators built from layout ops and known matrices: DepthToSpace and
 * SpaceToDepth (pixel shuffle: a reshape, a transpose, a reshape), OneHot (rows of an
 * identity-like table through the gather kernel), CumSum (a GEMM with a triangular 0/1 matrix
 * along the axis, built once per shape).
 */
import { add, cast as castTensor, greaterEqual, less, mul, sub, where } from '../ops/elementwise.js';
import { index, permute, reshape } from '../ops/layout.js';
import { matmul } from '../ops/linalg.js';
import { embedding } from '../ops/rnn.js';
import { Tensor } from '../tensor/tensor.js';
import type { OpImpl } from './context.js';
import { floatValue, int32Tensor } from './value.js';

const depthToSpace: OpImpl = (c) => {
  const x = c.floatInput(0, 'input');
  if (x.ndim !== 4) throw c.error(`input must be [N, C, H, W], got [${x.shape.join(',')}]`);
  const b = c.int('blocksize', 0);
  const [n, ch, h, w] = x.shape;
  if (!(b >= 1) || ch % (b * b) !== 0) throw c.error(`blocksize ${b} must divide the ${ch} channels as b^2`);
  const cc = ch / (b * b);
  const dcr = c.string('mode', 'DCR') === 'DCR';
  const split = dcr ? reshape(x, [n, b, b, cc, h, w]) : reshape(x, [n, cc, b, b, h, w]);
  const t = dcr ? permute(split, [0, 3, 4, 1, 5, 2]) : permute(split, [0, 1, 4, 2, 5, 3]);
  return [floatValue(reshape(t, [n, cc, h * b, w * b]))];
};

const spaceToDepth: OpImpl = (c) => {
  const x = c.floatInput(0, 'input');
  if (x.ndim !== 4) throw c.error(`input must be [N, C, H, W], got [${x.shape.join(',')}]`);
  const b = c.int('blocksize', 0);
  const [n, ch, h, w] = x.shape;
  if (!(b >= 1) || h % b !== 0 || w % b !== 0) throw c.error(`blocksize ${b} must divide H ${h} and W ${w}`);
  const t = permute(reshape(x, [n, ch, h / b, b, w / b, b]), [0, 3, 5, 1, 2, 4]);
  return [floatValue(reshape(t, [n, ch * b * b, h / b, w / b]))];
};

/** OneHot(indices, depth, values [off, on], axis): negative indices count from the end; an
 * index outside [-depth, depth) gives an all-off row (ONNX). */
const oneHot: OpImpl = (c) => {
  const idx = c.input(0, 'indices');
  const depth = c.knownInts(1, 'depth').data[0];
  if (!Number.isSafeInteger(depth) || depth < 1 || depth > 2 ** 24) throw c.error(`depth ${depth} is invalid`);
  const values = c.input(2, 'values');
  if (values.size !== 2) throw c.error(`values must be [off, on], got [${values.shape.join(',')}]`);
  const r = idx.shape.length + 1;
  const axis = c.axis(c.int('axis', -1), r);
  // Row depth of the table is all `off`, rows 0..depth-1 one-hot.
  const table = new Float32Array((depth + 1) * depth);
  for (let i = 0; i < depth; i++) table[i * depth + i] = 1;
  const i = idx.isFloat ? (idx.tensor as Tensor) : castTensor(int32Tensor(idx, c.what, 'indices'), 'float32');
  const wrapped = add(i, mul(less(i, 0), depth));
  // Outside [0, depth): the off row.
  const inside = mul(less(wrapped, depth), greaterEqual(wrapped, 0));
  const row = castTensor(where(inside, wrapped, depth), 'int32');
  const hot = embedding(row, new Tensor(table, [depth + 1, depth]));
  const v = values.isFloat ? (values.tensor as Tensor) : castTensor(int32Tensor(values, c.what, 'values'), 'float32');
  const offT = index(v, [0]);
  const onT = index(v, [1]);
  let y = add(mul(hot, sub(onT, offT)), offT);
  if (axis !== r - 1) {
    const perm = [...Array(r - 1).keys()];
    perm.splice(axis, 0, r - 1);
    y = permute(y, perm);
  }
  return [floatValue(y)];
};

/** CumSum along axis (exclusive, reverse): x times a triangular 0/1 matrix. */
const cumSum: OpImpl = (c) => {
  const x = c.floatInput(0, 'x');
  const axis = c.axis(c.knownInts(1, 'axis').data[0], x.ndim);
  const exclusive = c.int('exclusive', 0) === 1;
  const reverse = c.int('reverse', 0) === 1;
  const n = x.shape[axis];
  // M[i][j] = 1 when input i counts towards output j.
  const m = new Float32Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const counts = reverse ? (exclusive ? i > j : i >= j) : exclusive ? i < j : i <= j;
      if (counts) m[i * n + j] = 1;
    }
  const last = x.ndim - 1;
  const perm = [...x.shape.keys()];
  perm.splice(axis, 1);
  perm.push(axis);
  const moved = axis === last ? x : permute(x, perm);
  const out = matmul(moved, new Tensor(m, [n, n]));
  return [
    floatValue(
      axis === last
        ? out
        : permute(
            out,
            perm.map((_, i) => perm.indexOf(i)),
          ),
    ),
  ];
};

export const REARRANGE_OPS: Record<string, OpImpl> = {
  DepthToSpace: depthToSpace,
  SpaceToDepth: spaceToDepth,
  OneHot: oneHot,
  CumSum: cumSum,
};
