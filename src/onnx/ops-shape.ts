/**
 * Layout and shape ONNX operators: Reshape, Flatten, Transpose, Squeeze/Unsqueeze, Concat,
 * Split, Slice, Gather, Expand, Tile, Pad, Shape, Size, ConstantOfShape, Constant, Range,
 * Identity-like Dropout. Float data moves through our ops (views where the layout allows);
 * integer data known at load moves on the host, exactly.
 */
import { add, cast as castTensor, less, mul, where } from '../ops/elementwise.js';
import { embedding } from '../ops/rnn.js';
import { concat, expand, index, permute, reshape } from '../ops/layout.js';
import { Tensor } from '../tensor/tensor.js';
import type { OpContext, OpImpl } from './context.js';
import { concatHost, expandHost, gatherHost, sizeOf, sliceHost, transposeHost, type HostArray } from './host.js';
import { elemTypeOf, isFloatType } from './proto.js';
import { dynIntValue, floatValue, hostValue, int32Tensor, intValue, Value } from './value.js';

/** The same data with a new shape (a view for tensors). */
function withShape(c: OpContext, v: Value, shape: number[]): Value {
  if (sizeOf(shape) !== v.size)
    throw c.error(`cannot reshape [${v.shape.join(',')}] (${v.size} elements) to [${shape.join(',')}]`);
  if (v.tensor)
    return v.isFloat ? floatValue(reshape(v.tensor, shape), v.type) : dynIntValue(v.type, reshape(v.tensor, shape));
  return intValue(v.type, shape, v.ints as Float64Array);
}

const reshapeOp: OpImpl = (c) => {
  const x = c.input(0, 'data');
  let target: number[];
  if (c.opset < 5) target = c.ints('shape') ?? [];
  else target = Array.from(c.knownInts(1, 'shape').data);
  const allowZero = c.int('allowzero', 0) === 1;
  const dims = target.map((d, i) => {
    if (d === 0 && !allowZero) {
      if (i >= x.shape.length)
        throw c.error(`shape[${i}] = 0 copies a dimension the input [${x.shape.join(',')}] lacks`);
      return x.shape[i];
    }
    return d;
  });
  const inferred = dims.indexOf(-1);
  if (inferred !== dims.lastIndexOf(-1)) throw c.error(`shape [${target.join(',')}] has more than one -1`);
  if (dims.some((d) => d < -1 || !Number.isSafeInteger(d))) throw c.error(`shape [${target.join(',')}] is invalid`);
  if (inferred >= 0) {
    const known = dims.reduce((a, d, i) => (i === inferred ? a : a * d), 1);
    if (known === 0 || x.size % known !== 0)
      throw c.error(`cannot reshape [${x.shape.join(',')}] to [${target.join(',')}]`);
    dims[inferred] = x.size / known;
  }
  return [withShape(c, x, dims)];
};

const flattenOp: OpImpl = (c) => {
  const x = c.input(0, 'input');
  const r = x.shape.length;
  const a = c.int('axis', 1);
  if (!Number.isInteger(a) || a < -r || a > r) throw c.error(`axis ${a} is out of range for rank ${r}`);
  const axis = a < 0 ? a + r : a;
  const outer = sizeOf(x.shape.slice(0, axis));
  return [withShape(c, x, [outer, sizeOf(x.shape.slice(axis))])];
};

function axesOf(c: OpContext, attrUntil: number, inputIndex: number): number[] | null {
  if (c.opset < attrUntil) return c.ints('axes');
  const v = c.optional(inputIndex);
  return v ? Array.from(c.knownInts(inputIndex, 'axes').data) : null;
}

const squeezeOp: OpImpl = (c) => {
  const x = c.input(0, 'data');
  const r = x.shape.length;
  const axes = axesOf(c, 13, 1);
  const drop = new Set(
    axes === null ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : axes.map((a) => c.axis(a, r, 'axes')),
  );
  for (const a of drop) if (x.shape[a] !== 1) throw c.error(`axis ${a} of [${x.shape.join(',')}] is not 1`);
  return [
    withShape(
      c,
      x,
      x.shape.filter((_, i) => !drop.has(i)),
    ),
  ];
};

const unsqueezeOp: OpImpl = (c) => {
  const x = c.input(0, 'data');
  const axes = axesOf(c, 13, 1);
  if (!axes) throw c.error('axes are required');
  const r = x.shape.length + axes.length;
  const norm = axes.map((a) => c.axis(a, r, 'axes'));
  if (new Set(norm).size !== norm.length) throw c.error(`axes [${axes.join(',')}] repeat an axis`);
  const shape: number[] = [];
  let k = 0;
  for (let i = 0; i < r; i++) shape.push(norm.includes(i) ? 1 : x.shape[k++]);
  return [withShape(c, x, shape)];
};

const transposeOp: OpImpl = (c) => {
  const x = c.input(0, 'data');
  const r = x.shape.length;
  const perm = c.ints('perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
  const p = perm.map((a) => c.axis(a, r, 'perm'));
  if (p.length !== r || new Set(p).size !== r)
    throw c.error(`perm [${perm.join(',')}] is not a permutation of ${r} axes`);
  if (x.isFloat) return [floatValue(permute(x.tensor as Tensor, p), x.type)];
  if (x.tensor) return [dynIntValue(x.type, permute(x.tensor, p))];
  const h = transposeHost(c.knownInts(0, 'data'), p);
  return [intValue(x.type, h.shape, h.data)];
};

const concatOp: OpImpl = (c) => {
  const parts = c.inputs.map((v, i) => {
    if (!v) throw c.error(`input ${i} is missing`);
    return v;
  });
  const r = parts[0].shape.length;
  const axis = c.axis(c.int('axis', 0), r);
  for (const [i, p] of parts.entries())
    if (p.shape.length !== r || p.shape.some((d, j) => j !== axis && d !== parts[0].shape[j]))
      throw c.error(
        `input ${i} [${p.shape.join(',')}] does not match input 0 [${parts[0].shape.join(',')}] off axis ${axis}`,
      );
  const live = parts.filter((p) => p.size > 0);
  if (parts[0].isFloat) {
    if (live.length === 0)
      return [floatValue(new Tensor(new Float32Array(0), concatShape(parts, axis)), parts[0].type)];
    return [
      floatValue(
        live.length === 1
          ? (live[0].tensor as Tensor)
          : concat(
              live.map((p) => p.tensor as Tensor),
              axis,
            ),
        parts[0].type,
      ),
    ];
  }
  const h = concatHost(
    parts.map((_, i) => c.knownInts(i, `input ${i}`)),
    axis,
  );
  return [intValue(parts[0].type, h.shape, h.data)];
};

function concatShape(parts: Value[], axis: number): number[] {
  const s = [...parts[0].shape];
  s[axis] = parts.reduce((a, p) => a + p.shape[axis], 0);
  return s;
}

/** Slices one tensor or host array by per-axis [start, end, step] (already resolved). */
function sliceValue(c: OpContext, x: Value, specs: [number, number, number][]): Value {
  if (x.tensor) {
    const t = index(x.tensor, specs);
    return x.isFloat ? floatValue(t, x.type) : dynIntValue(x.type, t);
  }
  const starts: number[] = [];
  const steps: number[] = [];
  const shape: number[] = [];
  specs.forEach(([s, e, st], d) => {
    const n = x.shape[d];
    let start: number;
    let end: number;
    if (st > 0) {
      start = s < 0 ? Math.max(s + n, 0) : Math.min(s, n);
      end = e < 0 ? Math.max(e + n, 0) : Math.min(e, n);
    } else {
      start = s < 0 ? Math.max(s + n, -1) : Math.min(s, n - 1);
      end = e < 0 ? Math.max(e + n, -1) : Math.min(e, n - 1);
    }
    const len = Math.max(0, Math.ceil((end - start) / st));
    starts.push(len === 0 ? 0 : start);
    steps.push(st);
    shape.push(len);
  });
  const h = sliceHost({ shape: x.shape, data: x.ints as Float64Array }, starts, steps, shape);
  return intValue(x.type, h.shape, h.data);
}

const sliceOp: OpImpl = (c) => {
  const x = c.input(0, 'data');
  const r = x.shape.length;
  let starts: number[];
  let ends: number[];
  let axes: number[] | null;
  let steps: number[] | null = null;
  if (c.opset < 10) {
    starts = c.ints('starts') ?? [];
    ends = c.ints('ends') ?? [];
    axes = c.ints('axes');
  } else {
    starts = Array.from(c.knownInts(1, 'starts').data);
    ends = Array.from(c.knownInts(2, 'ends').data);
    axes = c.optional(3) ? Array.from(c.knownInts(3, 'axes').data) : null;
    steps = c.optional(4) ? Array.from(c.knownInts(4, 'steps').data) : null;
  }
  axes ??= starts.map((_, i) => i);
  if (ends.length !== starts.length || axes.length !== starts.length || (steps && steps.length !== starts.length))
    throw c.error('starts, ends, axes and steps must have one length');
  const specs: [number, number, number][] = x.shape.map((n) => [0, n, 1]);
  const seen = new Set<number>();
  axes.forEach((a, i) => {
    const ax = c.axis(a, r, 'axes');
    if (seen.has(ax)) throw c.error(`axes repeat axis ${ax}`);
    seen.add(ax);
    const step = steps ? steps[i] : 1;
    if (!Number.isInteger(step) || step === 0) throw c.error(`steps[${i}] must be a non-zero integer, got ${step}`);
    specs[ax] = [starts[i], ends[i], step];
  });
  return [sliceValue(c, x, specs)];
};

const splitOp: OpImpl = (c) => {
  const x = c.input(0, 'input');
  const r = x.shape.length;
  const axis = c.axis(c.int('axis', 0), r);
  const n = x.shape[axis];
  let sizes: number[] | null =
    c.opset < 13 ? c.ints('split') : c.optional(1) ? Array.from(c.knownInts(1, 'split').data) : null;
  const outputs = c.node.outputs.length;
  if (!sizes) {
    const parts = c.has('num_outputs') ? c.int('num_outputs', outputs) : outputs;
    const each = Math.ceil(n / parts);
    sizes = Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(each, n - i * each)));
  }
  if (sizes.length !== outputs || sizes.reduce((a, b) => a + b, 0) !== n || sizes.some((s) => s < 0))
    throw c.error(`split sizes [${sizes.join(',')}] do not divide axis ${axis} of extent ${n} into ${outputs} outputs`);
  let at = 0;
  return sizes.map((s) => {
    const specs: [number, number, number][] = x.shape.map((d) => [0, d, 1]);
    specs[axis] = [at, at + s, 1];
    at += s;
    return sliceValue(c, x, specs);
  });
};

const gatherOp: OpImpl = (c) => {
  const x = c.input(0, 'data');
  const idx = c.input(1, 'indices');
  const r = x.shape.length;
  const axis = c.axis(c.int('axis', 0), r);
  const n = x.shape[axis];
  if (idx.ints) {
    for (const v of idx.ints)
      if (!(v >= -n && v < n)) throw c.error(`index ${v} is out of range for axis ${axis} of extent ${n}`);
    const norm: HostArray = { shape: idx.shape, data: idx.ints.map((v) => (v < 0 ? v + n : v)) };
    if (!x.isFloat) {
      const h = gatherHost(c.knownInts(0, 'data'), axis, norm);
      return [intValue(x.type, h.shape, h.data)];
    }
    return [
      floatValue(gatherFloat(x.tensor as Tensor, axis, new Tensor(Int32Array.from(norm.data), norm.shape)), x.type),
    ];
  }
  if (!x.isFloat) throw c.error('integer data gathered with indices computed from input data is not supported');
  return [
    floatValue(gatherFloat(x.tensor as Tensor, axis, wrapNegative(int32Tensor(idx, c.what, 'indices'), n)), x.type),
  ];
};

/**
 * Indices computed at run time with negative ones counted from the end (ONNX allows [-n, n)):
 * i + n where i < 0, through float32 (exact for any extent below 2^24). Anything still outside
 * [0, n) is refused by the gather kernel when it runs, naming the index.
 */
function wrapNegative(idx: Tensor, n: number): Tensor {
  const f = castTensor(idx, 'float32');
  return castTensor(add(f, mul(less(f, 0), n)), 'int32');
}

/** Gather along `axis` of float data: rows of a [V, rest] view, through the embedding kernel
 * (which checks every index when it runs). */
export function gatherFloat(x: Tensor, axis: number, idx: Tensor): Tensor {
  const moved = axis === 0 ? x : permute(x, [axis, ...x.shape.map((_, i) => i).filter((i) => i !== axis)]);
  const rest = moved.shape.slice(1);
  const rows = embedding(idx.ndim === 0 ? reshape(idx, [1]) : idx, reshape(moved, [moved.shape[0], sizeOf(rest)]));
  const out = reshape(rows, [...idx.shape, ...rest]);
  if (axis === 0) return out;
  // out is [...idx, ...x without axis (in moved order)]: move the idx axes back to `axis`.
  const k = idx.shape.length;
  const before = Array.from({ length: axis }, (_, i) => k + i);
  const idxAxes = Array.from({ length: k }, (_, i) => i);
  const after = Array.from({ length: x.ndim - 1 - axis }, (_, i) => k + axis + i);
  return permute(out, [...before, ...idxAxes, ...after]);
}

const expandOp: OpImpl = (c) => {
  const x = c.input(0, 'input');
  const shape = Array.from(c.knownInts(1, 'shape').data);
  if (x.isFloat) {
    const n = Math.max(shape.length, x.shape.length);
    const target = Array.from({ length: n }, (_, i) => {
      const a = x.shape[x.shape.length - n + i] ?? 1;
      const b = shape[shape.length - n + i] ?? 1;
      return b === 1 ? a : b;
    });
    return [floatValue(expand(x.tensor as Tensor, target), x.type)];
  }
  const h = expandHost(c.what, c.knownInts(0, 'input'), shape);
  return [intValue(x.type, h.shape, h.data)];
};

const tileOp: OpImpl = (c) => {
  const x = c.input(0, 'input');
  const reps = Array.from(c.knownInts(1, 'repeats').data);
  if (reps.length !== x.shape.length) throw c.error(`repeats has ${reps.length} entries for rank ${x.shape.length}`);
  if (x.isFloat) {
    let t = x.tensor as Tensor;
    reps.forEach((k, axis) => {
      if (k !== 1)
        t = concat(
          Array.from({ length: k }, () => t),
          axis,
        );
    });
    return [floatValue(t, x.type)];
  }
  let h = c.knownInts(0, 'input');
  reps.forEach((k, axis) => {
    if (k !== 1)
      h = concatHost(
        Array.from({ length: k }, () => h),
        axis,
      );
  });
  return [intValue(x.type, h.shape, h.data)];
};

const padOp: OpImpl = (c) => {
  const x = c.input(0, 'data');
  const r = x.shape.length;
  const mode = c.string('mode', 'constant');
  let pads: number[];
  let value = 0;
  // A constant_value computed from input data: pad with zeros, then add it where padded.
  let runValue: Tensor | null = null;
  let axes: number[] | null = null;
  if (c.opset < 11) {
    pads = c.ints('pads') ?? c.ints('paddings') ?? [];
    value = c.float('value', 0);
  } else {
    pads = Array.from(c.knownInts(1, 'pads').data);
    const cv = c.optional(2);
    if (cv && cv.isFloat && !cv.known && mode === 'constant') runValue = c.floatInput(2, 'constant_value');
    else if (cv) value = c.knownInts(2, 'constant_value').data[0] ?? 0;
    if (c.optional(3)) axes = Array.from(c.knownInts(3, 'axes').data).map((a) => c.axis(a, r, 'axes'));
  }
  axes ??= Array.from({ length: r }, (_, i) => i);
  if (pads.length !== 2 * axes.length) throw c.error(`pads has ${pads.length} entries for ${axes.length} axes`);
  // Integers pad as int32 words (the layout kernels move 4-byte words without arithmetic).
  let t = x.isFloat || x.tensor ? (x.tensor as Tensor) : knownAsInt32(c, x);
  if (!x.isFloat && runValue) throw c.error('constant_value computed from input data pads only floating tensors');
  axes.forEach((axis, i) => {
    const before = pads[i];
    const after = pads[i + axes.length];
    t = padAxis(c, t, axis, before, after, mode, value);
  });
  if (runValue) {
    let inside = new Tensor(new Float32Array(x.size), x.shape);
    axes.forEach((axis, i) => (inside = padAxis(c, inside, axis, pads[i], pads[i + axes.length], 'constant', 1)));
    // inside is 0 on the input's elements and 1 on the padding.
    t = add(t, mul(inside, reshape(runValue, [])));
  }
  return [x.isFloat ? floatValue(t, x.type) : dynIntValue(x.type, t)];
};

/** Integers known at load as int32 data, refusing any outside int32. */
function knownAsInt32(c: OpContext, x: Value): Tensor {
  const ints = c.knownValues(x, 'data').data;
  for (const v of ints)
    if (!(v >= -(2 ** 31) && v < 2 ** 31)) throw c.error(`integer ${v} is outside int32 and cannot be padded`);
  return new Tensor(Int32Array.from(ints), x.shape);
}

/** Pads (or crops, for negative pads) one axis. */
function padAxis(
  c: OpContext,
  t: Tensor,
  axis: number,
  before: number,
  after: number,
  mode: string,
  value: number,
): Tensor {
  const n = t.shape[axis];
  const slice = (s: number, e: number, step = 1): Tensor => {
    const specs: [number, number, number][] = t.shape.map((d) => [0, d, 1]);
    specs[axis] = [s, e, step];
    return index(t, specs);
  };
  if (before < 0) return padAxis(c, slice(-before, n), axis, 0, after, mode, value);
  if (after < 0) return padAxis(c, slice(0, n + after), axis, before, 0, mode, value);
  if (before === 0 && after === 0) return t;
  const parts: Tensor[] = [];
  const fill = (k: number): Tensor => {
    const shape = [...t.shape];
    shape[axis] = k;
    const size = sizeOf(shape);
    return new Tensor(
      t.dtype === 'int32' ? new Int32Array(size).fill(value) : new Float32Array(size).fill(value),
      shape,
    );
  };
  if (mode === 'constant') {
    if (before) parts.push(fill(before));
    parts.push(t);
    if (after) parts.push(fill(after));
  } else if (mode === 'edge') {
    if (n === 0) throw c.error(`edge padding of an empty axis ${axis}`);
    for (let i = 0; i < before; i++) parts.push(slice(0, 1));
    parts.push(t);
    for (let i = 0; i < after; i++) parts.push(slice(n - 1, n));
  } else if (mode === 'reflect') {
    if (before >= n || after >= n)
      throw c.error(`reflect padding ${before}/${after} needs an axis longer than the pad, axis ${axis} has ${n}`);
    if (before) parts.push(slice(before, 0, -1));
    parts.push(t);
    if (after) parts.push(slice(n - 2, n - 2 - after, -1));
  } else throw c.error(`mode '${mode}' is not supported (constant, reflect, edge)`);
  return concat(parts, axis);
}

const shapeOp: OpImpl = (c) => {
  const x = c.input(0, 'data');
  const r = x.shape.length;
  const clampAxis = (a: number): number => Math.min(Math.max(a < 0 ? a + r : a, 0), r);
  const start = clampAxis(c.int('start', 0));
  const end = c.has('end') ? clampAxis(c.int('end', r)) : r;
  const dims = x.shape.slice(start, Math.max(start, end));
  return [intValue('int64', [dims.length], Float64Array.from(dims))];
};

const constantOp: OpImpl = (c) => {
  const attr = [...c.node.attrs.entries()][0];
  if (!attr) throw c.error('has no value attribute');
  const [name, a] = attr;
  if (a.kind === 'tensor') return [hostValue(a.value)];
  if (name === 'value_float' && a.kind === 'float') return [floatValue(new Tensor(Float32Array.of(a.value), []))];
  if (name === 'value_floats' && a.kind === 'floats')
    return [floatValue(new Tensor(Float32Array.from(a.value), [a.value.length]))];
  if (name === 'value_int' && a.kind === 'int') return [intValue('int64', [], Float64Array.of(a.value))];
  if (name === 'value_ints' && a.kind === 'ints')
    return [intValue('int64', [a.value.length], Float64Array.from(a.value))];
  throw c.error(`attribute '${name}' (${a.kind}) is not supported`);
};

const constantOfShapeOp: OpImpl = (c) => {
  const shape = Array.from(c.knownInts(0, 'input').data);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw c.error(`shape [${shape.join(',')}] is invalid`);
  const a = c.rawAttr('value');
  const n = sizeOf(shape);
  if (n > 2 ** 28) throw c.error(`shape [${shape.join(',')}] has more than 2^28 elements`);
  if (!a) return [floatValue(new Tensor(new Float32Array(n), shape))];
  if (a.kind !== 'tensor') throw c.error("attribute 'value' must be a tensor");
  const v = a.value;
  if (v.f32) return [floatValue(new Tensor(new Float32Array(n).fill(v.f32[0] ?? 0), shape), v.type)];
  return [intValue(v.type, shape, new Float64Array(n).fill(v.ints?.[0] ?? 0))];
};

const rangeOp: OpImpl = (c) => {
  const [start, limit, delta] = [0, 1, 2].map((i) => c.knownInts(i, ['start', 'limit', 'delta'][i]).data[0]);
  if (delta === 0) throw c.error('delta is 0');
  const n = Math.max(Math.ceil((limit - start) / delta), 0);
  if (n > 2 ** 28) throw c.error(`${n} elements is too many`);
  const data = Float64Array.from({ length: n }, (_, i) => start + i * delta);
  const x = c.input(0, 'start');
  if (x.isFloat) return [floatValue(new Tensor(Float32Array.from(data), [n]), x.type)];
  return [intValue(x.type, [n], data)];
};

const dropoutOp: OpImpl = (c) => {
  const x = c.input(0, 'data');
  if (c.opset >= 12 && c.optional(2)) {
    const training = c.knownInts(2, 'training_mode').data[0];
    // Training with ratio 0 keeps every value (and says so in the mask); any other ratio
    // draws random masks no other runtime can reproduce.
    if (training) {
      const r = c.optional(1);
      const ratio = !r ? 0.5 : r.known ? c.knownValues(r, 'ratio').data[0] : null;
      if (ratio !== 0)
        throw c.error(
          `training_mode = true runs only with a ratio of 0 known at load (other ratios draw random masks), got ${ratio === null ? 'a ratio computed from input data' : ratio}`,
        );
    }
  }
  const out: Value[] = [x];
  if (c.node.outputs.length > 1) out.push(intValue('bool', x.shape, new Float64Array(x.size).fill(1)));
  return out;
};

/**
 * out[p] = x[p with its `axis` coordinate replaced by index[p]] (numpy's take_along_axis), one
 * flat gather over x viewed axis-first as [n, rest]: row index * rest + the column of p's other
 * coordinates. `index` is float32 holding integers in [0, n): anything outside lands outside x
 * (or on a negative row), so the gather kernel refuses it when it runs. index's shape must
 * have x's rank and fit x off the axis.
 */
export function takeAlongAxis(x: Tensor, index: Tensor, axis: number): Tensor {
  const r = x.ndim;
  const n = x.shape[axis];
  const rest = x.size / Math.max(n, 1);
  const others = x.shape.map((_, i) => i).filter((i) => i !== axis);
  const otherStrides = others.map((_, k) => others.slice(k + 1).reduce((a, i) => a * x.shape[i], 1));
  const count = index.size;
  const col = new Float32Array(count);
  for (let p = 0; p < count; p++) {
    let rem = p;
    let off = 0;
    for (let d = r - 1; d >= 0; d--) {
      const coord = rem % index.shape[d];
      rem = Math.floor(rem / index.shape[d]);
      const k = others.indexOf(d);
      if (k >= 0) off += coord * otherStrides[k];
    }
    col[p] = off;
  }
  const rows = reshape(axis === 0 ? x : permute(x, [axis, ...others]), [x.size, 1]);
  const flat = castTensor(add(mul(index, rest), new Tensor(col, index.shape)), 'int32');
  return reshape(embedding(flat, rows), [...index.shape]);
}

/** GatherElements: takeAlongAxis with negative indices wrapped (float32: exact below 2^24). */
const gatherElementsOp: OpImpl = (c) => {
  const x = c.input(0, 'data');
  const idx = c.input(1, 'indices');
  const r = x.shape.length;
  const axis = c.axis(c.int('axis', 0), r);
  if (idx.shape.length !== r || idx.shape.some((d, i) => i !== axis && d > x.shape[i]))
    throw c.error(
      `indices [${idx.shape.join(',')}] must have data's rank and fit data [${x.shape.join(',')}] off the axis`,
    );
  if (x.size >= 2 ** 24) throw c.error(`data of ${x.size} elements is too large (at most 2^24)`);
  const n = x.shape[axis];
  if (idx.known) {
    const k = c.knownInts(1, 'indices');
    for (const v of k.data)
      if (!(v >= -n && v < n)) throw c.error(`index ${v} is out of range for axis ${axis} of extent ${n}`);
  }
  if (!x.isFloat) {
    // Known integers, exactly on the host: the same position arithmetic.
    const xd = c.knownInts(0, 'data');
    const k = c.knownInts(1, 'indices');
    const xs = x.shape.map((_, d) => x.shape.slice(d + 1).reduce((a, b) => a * b, 1));
    const out = new Float64Array(k.data.length);
    for (let p = 0; p < out.length; p++) {
      let rem = p;
      let off = 0;
      for (let d = r - 1; d >= 0; d--) {
        const coord = rem % idx.shape[d];
        rem = Math.floor(rem / idx.shape[d]);
        const v = k.data[p];
        off += (d === axis ? (v < 0 ? v + n : v) : coord) * xs[d];
      }
      out[p] = xd.data[off];
    }
    return [intValue(x.type, idx.shape, out)];
  }
  const i = castTensor(int32Tensor(idx, c.what, 'indices'), 'float32');
  return [floatValue(takeAlongAxis(x.tensor as Tensor, add(i, mul(less(i, 0), n)), axis), x.type)];
};

/** Trilu: the upper (j - i >= k) or lower (j - i <= k) triangle of the last two axes, the rest
 * exactly 0 (a select, not a product). */
const triluOp: OpImpl = (c) => {
  const x = c.input(0, 'input');
  const r = x.shape.length;
  if (r < 2) throw c.error(`input must have at least 2 axes, got [${x.shape.join(',')}]`);
  const k = c.optional(1) ? c.knownInts(1, 'k').data[0] : 0;
  const upper = c.int('upper', 1) === 1;
  const [h, w] = x.shape.slice(-2);
  const keep = Float64Array.from({ length: h * w }, (_, p) => {
    const d = (p % w) - Math.floor(p / w);
    return (upper ? d >= k : d <= k) ? 1 : 0;
  });
  if (!x.isFloat) {
    const xd = c.knownInts(0, 'input');
    return [
      intValue(
        x.type,
        x.shape,
        xd.data.map((v, p) => (keep[p % (h * w)] ? v : 0)),
      ),
    ];
  }
  const mask = new Tensor(Float32Array.from(keep), [h, w]);
  return [floatValue(where(mask, x.tensor as Tensor, 0), x.type)];
};

/** EyeLike: ones on the diagonal offset k of a 2-D shape, as input's shape. */
const eyeLikeOp: OpImpl = (c) => {
  const x = c.input(0, 'input');
  if (x.shape.length !== 2) throw c.error(`input must be 2-D, got [${x.shape.join(',')}]`);
  const [h, w] = x.shape;
  const k = c.int('k', 0);
  const data = Float64Array.from({ length: h * w }, (_, p) => ((p % w) - Math.floor(p / w) === k ? 1 : 0));
  const type = c.has('dtype') ? elemTypeOf(c.int('dtype', 1), c.what) : x.type;
  if (isFloatType(type)) return [floatValue(new Tensor(Float32Array.from(data), [h, w]), type)];
  return [intValue(type, [h, w], data)];
};

export const SHAPE_OPS: Record<string, OpImpl> = {
  GatherElements: gatherElementsOp,
  Trilu: triluOp,
  EyeLike: eyeLikeOp,
  Reshape: reshapeOp,
  Flatten: flattenOp,
  Squeeze: squeezeOp,
  Unsqueeze: unsqueezeOp,
  Transpose: transposeOp,
  Concat: concatOp,
  Split: splitOp,
  Slice: sliceOp,
  Gather: gatherOp,
  Expand: expandOp,
  Tile: tileOp,
  Pad: padOp,
  Shape: shapeOp,
  Size: (c) => [intValue('int64', [], Float64Array.of(c.input(0, 'data').size))],
  Constant: constantOp,
  ConstantOfShape: constantOfShapeOp,
  Range: rangeOp,
  Dropout: dropoutOp,
};
