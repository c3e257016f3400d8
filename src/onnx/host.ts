/**
 * Exact arithmetic on small integer tensors known at load (shapes, axes, indices), in plain
 * JavaScript over Float64Array: the shape subgraphs exporters emit run here once per input
 * shape, never as kernels.
 */
import { broadcastShapes } from '../tensor/shape.js';

export interface HostArray {
  shape: readonly number[];
  data: Float64Array;
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/** numpy broadcasting of two shapes (the tensors' rule; a mismatch throws naming op). */
export const broadcast = broadcastShapes;

/** Index into `shape` (broadcast to `out`) for each flat output position. */
function broadcastIndex(shape: readonly number[], out: readonly number[]): Int32Array {
  const n = sizeOf(out);
  const idx = new Int32Array(n);
  const s = strides(shape);
  const off = out.length - shape.length;
  const os = strides(out);
  for (let i = 0; i < n; i++) {
    let src = 0;
    for (let d = 0; d < shape.length; d++) {
      const coord = Math.floor(i / os[d + off]) % out[d + off];
      if (shape[d] !== 1) src += coord * s[d];
    }
    idx[i] = src;
  }
  return idx;
}

export function binaryHost(op: string, a: HostArray, b: HostArray, f: (x: number, y: number) => number): HostArray {
  const shape = broadcast(op, a.shape, b.shape);
  const ia = broadcastIndex(a.shape, shape);
  const ib = broadcastIndex(b.shape, shape);
  const data = new Float64Array(ia.length);
  for (let i = 0; i < data.length; i++) data[i] = f(a.data[ia[i]], b.data[ib[i]]);
  return { shape, data };
}

export function expandHost(op: string, a: HostArray, to: readonly number[]): HostArray {
  const shape = broadcast(op, a.shape, to);
  const ia = broadcastIndex(a.shape, shape);
  return { shape, data: Float64Array.from(ia, (i) => a.data[i]) };
}

export function transposeHost(a: HostArray, perm: readonly number[]): HostArray {
  const shape = perm.map((p) => a.shape[p]);
  const s = strides(a.shape);
  const os = strides(shape);
  const n = a.data.length;
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let src = 0;
    for (let d = 0; d < shape.length; d++) src += (Math.floor(i / os[d]) % shape[d]) * s[perm[d]];
    data[i] = a.data[src];
  }
  return { shape, data };
}

/** Elements at `index` along `axis` (Gather). Indices already normalised to [0, n). */
export function gatherHost(a: HostArray, axis: number, index: HostArray): HostArray {
  const outer = sizeOf(a.shape.slice(0, axis));
  const inner = sizeOf(a.shape.slice(axis + 1));
  const n = a.shape[axis];
  const shape = [...a.shape.slice(0, axis), ...index.shape, ...a.shape.slice(axis + 1)];
  const data = new Float64Array(sizeOf(shape));
  let k = 0;
  for (let o = 0; o < outer; o++)
    for (const j of index.data) for (let i = 0; i < inner; i++) data[k++] = a.data[(o * n + j) * inner + i];
  return { shape, data };
}

export function concatHost(parts: readonly HostArray[], axis: number): HostArray {
  const first = parts[0].shape;
  const total = parts.reduce((s, p) => s + p.shape[axis], 0);
  const shape = [...first.slice(0, axis), total, ...first.slice(axis + 1)];
  const outer = sizeOf(first.slice(0, axis));
  const data = new Float64Array(sizeOf(shape));
  let k = 0;
  for (let o = 0; o < outer; o++)
    for (const p of parts) {
      const chunk = sizeOf(p.shape.slice(axis));
      data.set(p.data.subarray(o * chunk, (o + 1) * chunk), k);
      k += chunk;
    }
  return { shape, data };
}

/** Strided slice: per axis start and step, out extents given. */
export function sliceHost(a: HostArray, starts: number[], steps: number[], outShape: number[]): HostArray {
  const s = strides(a.shape);
  const os = strides(outShape);
  const data = new Float64Array(sizeOf(outShape));
  for (let i = 0; i < data.length; i++) {
    let src = 0;
    for (let d = 0; d < outShape.length; d++)
      src += (starts[d] + (Math.floor(i / os[d]) % outShape[d]) * steps[d]) * s[d];
    data[i] = a.data[src];
  }
  return { shape: outShape, data };
}

/** Reduces over `axes` (sorted, normalised) with f from `init`. */
export function reduceHost(
  a: HostArray,
  axes: readonly number[],
  keep: boolean,
  init: number,
  f: (acc: number, x: number) => number,
): HostArray {
  const outFull = a.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const idx = new Int32Array(a.data.length);
  const os = strides(outFull);
  const s = strides(a.shape);
  for (let i = 0; i < a.data.length; i++) {
    let o = 0;
    for (let d = 0; d < a.shape.length; d++) {
      const c = Math.floor(i / s[d]) % a.shape[d];
      if (!axes.includes(d)) o += c * os[d];
    }
    idx[i] = o;
  }
  const data = new Float64Array(sizeOf(outFull)).fill(init);
  for (let i = 0; i < a.data.length; i++) data[idx[i]] = f(data[idx[i]], a.data[i]);
  return { shape: keep ? outFull : a.shape.filter((_, i) => !axes.includes(i)), data };
}
